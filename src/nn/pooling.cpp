#include "axon/pooling.h"

#include "kernels/conv.h"

namespace axon {

Pool2D::Pool2D(Kind kind, std::array<int64_t, 2> pool_size, std::optional<std::array<int64_t, 2>> strides, Padding padding)
    : kind_(kind), pool_size_(pool_size), strides_(strides.value_or(pool_size)), padding_(std::move(padding)) {
  if (pool_size_[0] < 1 || pool_size_[1] < 1) fail(type_name(), ": pool_size must be >= 1, got (", pool_size_[0], ", ", pool_size_[1], ")");
  if (strides_[0] < 1 || strides_[1] < 1) fail(type_name(), ": strides must be >= 1, got (", strides_[0], ", ", strides_[1], ")");
}

Variable Pool2D::forward(const Variable& x) {
  if (x.rank() != 4) fail(type_name(), ": input must be (batch, channels, height, width), got ", x.shape());
  const auto pads = padding_.resolve(x.dim(2), x.dim(3), pool_size_, strides_, {1, 1});
  try {
    const Pool2dOptions options{.size = pool_size_, .stride = strides_, .padding = pads};
    return kind_ == Kind::max ? max_pool2d(x, options) : avg_pool2d(x, options);
  } catch (const Error& e) {
    fail(type_name(), ": ", e.what(), " (input ", x.shape(), ")");
  }
}

Variable GlobalAveragePool2D::forward(const Variable& x) {
  if (x.rank() != 4) fail("GlobalAveragePool2D: input must be (batch, channels, height, width), got ", x.shape());
  return mean(reshape(x, {x.dim(0), x.dim(1), -1}), 2);
}

}  // namespace axon
