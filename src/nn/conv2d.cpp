#include "axon/conv2d.h"

#include "axon/checked_math.h"
#include "axon/pooling.h"
#include "kernels/conv.h"

namespace axon {

Padding::Padding(const std::string& mode_name) : mode(mode_name) {
  if (mode != "valid" && mode != "same") fail("padding: expected \"valid\", \"same\" or {top, bottom, left, right}, got \"", mode, "\"");
}

std::array<int64_t, 4> Padding::resolve(int64_t h, int64_t w, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                                        std::array<int64_t, 2> dilation) const {
  if (mode == "explicit") return pads;
  if (mode == "valid") return {0, 0, 0, 0};
  auto total = [](int64_t size, int64_t k, int64_t s, int64_t d) {
    const int64_t out = size / s + (size % s != 0);  // ceil without overflow; the sum below is checked
    return std::max<int64_t>(checked_add((out - 1) * s, checked_mul(k - 1, d, "padding: dilated kernel"), "padding") - size + 1, 0);
  };
  const int64_t ph = total(h, kernel[0], stride[0], dilation[0]), pw = total(w, kernel[1], stride[1], dilation[1]);
  return {ph / 2, ph - ph / 2, pw / 2, pw - pw / 2};  // the odd pixel goes to the bottom / right
}

Conv2D::Conv2D(int64_t filters, std::array<int64_t, 2> kernel_size, const std::string& activation_name, Conv2DOptions options)
    : filters_(filters), kernel_size_(kernel_size), activation_name_(activation_name), activation_(activation(activation_name)), options_(options) {
  if (filters < 1) fail("Conv2D: filters must be >= 1, got ", filters);
  if (kernel_size[0] < 1 || kernel_size[1] < 1) fail("Conv2D: kernel_size must be >= 1, got (", kernel_size[0], ", ", kernel_size[1], ")");
  if (options.strides[0] < 1 || options.strides[1] < 1) fail("Conv2D: strides must be >= 1, got (", options.strides[0], ", ", options.strides[1], ")");
  if (options.dilation[0] < 1 || options.dilation[1] < 1) fail("Conv2D: dilation must be >= 1");
  for (int64_t p : options.padding.pads)
    if (p < 0) fail("Conv2D: padding must be >= 0");
}

std::pair<std::array<int64_t, 4>, std::array<int64_t, 2>> Conv2D::geometry(const Shape& shape) const {
  if (shape.rank() != 4) fail("Conv2D: input must be (batch, channels, height, width), got ", shape);
  const auto pads = options_.padding.resolve(shape[2], shape[3], kernel_size_, options_.strides, options_.dilation);
  kernels::Conv2dGeometry g{options_.strides[0], options_.strides[1], pads[0], pads[1], pads[2], pads[3], options_.dilation[0], options_.dilation[1]};
  try {
    const auto [oh, ow] = kernels::conv2d_output_size(shape[2], shape[3], kernel_size_[0], kernel_size_[1], g, "Conv2D");
    return {pads, {oh, ow}};
  } catch (const Error& e) {
    fail(e.what(), " (input ", shape, ")");
  }
}

void Conv2D::create_weights(const Shape& input_shape) {
  geometry(input_shape);
  const int64_t channels = input_shape[1], taps = checked_mul(kernel_size_[0], kernel_size_[1], "Conv2D: kernel size");
  checked_mul(checked_mul(filters_, std::max<int64_t>(channels, 1), "Conv2D: kernel"), taps, "Conv2D: kernel");  // so fan_in / fan_out below fit too
  Generator seeded(options_.seed.value_or(0));
  Generator& generator = options_.seed ? seeded : global_generator();
  kernel_ = add_weight("kernel", options_.kernel_initializer(Shape{filters_, channels, kernel_size_[0], kernel_size_[1]}, channels * taps, filters_ * taps, generator),
                       true, options_.kernel_regularizer);
  if (options_.use_bias)
    bias_ = add_weight("bias", options_.bias_initializer(Shape{filters_}, channels * taps, filters_ * taps, generator), true, options_.bias_regularizer);
}

Conv2dOptions Conv2D::conv_options(const Shape& input_shape, std::array<int64_t, 2>* output_size) const {
  const auto [pads, size] = geometry(input_shape);
  if (input_shape[1] != kernel_.dim(1))
    fail("Conv2D: input ", input_shape, " has ", input_shape[1], " channels; this layer was built for ", kernel_.dim(1));
  if (output_size) *output_size = size;
  return {.stride = options_.strides, .padding = pads, .dilation = options_.dilation, .relu = activation_name_ == "relu"};
}

Variable Conv2D::forward(const Variable& x) {
  const Conv2dOptions options = conv_options(x.shape());
  const Variable y = conv2d(x, kernel_, bias_, options);
  return options.relu ? y : activation_(y);  // relu is fused into the convolution
}

bool Conv2D::fuses_with(const Module& next) const {
  const auto* pool = dynamic_cast<const Pool2D*>(&next);
  return pool && pool->kind() == Pool2D::Kind::max && (activation_name_ == "relu" || activation_name_ == "linear");
}

Variable Conv2D::forward_max_pooled(const Variable& x, Pool2D& pool) {
  if (!fuses_with(pool)) fail("Conv2D: cannot fuse with ", pool.type_name());
  if (!x.defined()) fail("Conv2D: input is undefined");
  build_for(x.shape());
  std::array<int64_t, 2> size{};
  const Conv2dOptions options = conv_options(x.shape(), &size);
  const Shape conv_shape{x.dim(0), filters_, size[0], size[1]};
  note_output(conv_shape);
  pool.build_for(conv_shape);
  const Variable y = conv2d_max_pool2d(x, kernel_, bias_, options, pool.window_for(conv_shape));
  pool.note_output(y.shape());
  return y;
}

}  // namespace axon
