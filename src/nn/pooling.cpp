#include "axon/pooling.h"

#include "kernels/pool.h"

namespace axon {

Pool2D::Pool2D(Kind kind, std::array<int64_t, 2> pool_size, std::optional<std::array<int64_t, 2>> strides, Padding padding)
    : kind_(kind), pool_size_(pool_size), strides_(strides.value_or(pool_size)), padding_(std::move(padding)) {
  if (pool_size_[0] < 1 || pool_size_[1] < 1) fail(type_name(), ": pool_size must be >= 1, got (", pool_size_[0], ", ", pool_size_[1], ")");
  if (strides_[0] < 1 || strides_[1] < 1) fail(type_name(), ": strides must be >= 1, got (", strides_[0], ", ", strides_[1], ")");
}

Pool2dOptions Pool2D::window_for(const Shape& input_shape) const {
  if (input_shape.rank() != 4) fail(type_name(), ": input must be (batch, channels, height, width), got ", input_shape);
  const Pool2dOptions options{.size = pool_size_, .stride = strides_, .padding = padding_.resolve(input_shape[2], input_shape[3], pool_size_, strides_, {1, 1})};
  const kernels::Conv2dGeometry g{strides_[0], strides_[1], options.padding[0], options.padding[1], options.padding[2], options.padding[3], 1, 1};
  try {
    kernels::pool2d_output_size(input_shape[2], input_shape[3], pool_size_[0], pool_size_[1], g, type_name().c_str());
  } catch (const Error& e) {
    fail(e.what(), " (input ", input_shape, ")");
  }
  return options;
}

Variable Pool2D::forward(const Variable& x) {
  const Pool2dOptions options = window_for(x.shape());
  return kind_ == Kind::max ? max_pool2d(x, options) : avg_pool2d(x, options);
}

Variable GlobalAveragePool2D::forward(const Variable& x) {
  if (x.rank() != 4) fail("GlobalAveragePool2D: input must be (batch, channels, height, width), got ", x.shape());
  return mean(reshape(x, {x.dim(0), x.dim(1), -1}), 2);
}

}  // namespace axon
