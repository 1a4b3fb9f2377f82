#include "axon/conv1d.h"

#include "axon/checked_math.h"
#include "axon/ops.h"
#include "kernels/conv.h"

namespace axon {

Conv1D::Conv1D(int64_t filters, int64_t kernel_size, const std::string& activation_name, Conv1DOptions options)
    : filters_(filters), kernel_size_(kernel_size), activation_name_(activation_name), activation_(activation(activation_name)), options_(std::move(options)) {
  if (filters < 1) fail("Conv1D: filters must be >= 1, got ", filters);
  if (kernel_size < 1) fail("Conv1D: kernel_size must be >= 1, got ", kernel_size);
  if (options_.strides < 1) fail("Conv1D: strides must be >= 1, got ", options_.strides);
  if (options_.dilation < 1) fail("Conv1D: dilation must be >= 1, got ", options_.dilation);
  if (options_.padding != "valid" && options_.padding != "same" && options_.padding != "causal")
    fail("Conv1D: padding must be \"valid\", \"same\" or \"causal\", got \"", options_.padding, "\"");
}

std::array<int64_t, 3> Conv1D::geometry(int64_t length, const Shape& input_shape) const {
  const int64_t span = checked_mul(kernel_size_ - 1, options_.dilation, "Conv1D: dilated kernel") + 1;
  int64_t left = 0, right = 0;
  if (options_.padding == "causal") {
    left = span - 1;
  } else if (options_.padding == "same") {
    const int64_t out = length / options_.strides + (length % options_.strides != 0);  // ceil without overflow
    const int64_t total = std::max<int64_t>(checked_add((out - 1) * options_.strides, span, "Conv1D: padding") - length, 0);
    left = total / 2, right = total - total / 2;
  }
  const kernels::Conv2dGeometry g{1, options_.strides, 0, 0, left, right, 1, options_.dilation};
  try {
    return {left, right, kernels::conv2d_output_size(1, length, 1, kernel_size_, g, "Conv1D").second};
  } catch (const Error& e) {
    fail(e.what(), " (input ", input_shape, ")");
  }
}

void Conv1D::create_weights(const Shape& input_shape) {
  if (input_shape.rank() != 3) fail("Conv1D: input must be (batch, channels, length), got ", input_shape);
  geometry(input_shape[2], input_shape);
  const int64_t channels = input_shape[1];
  checked_mul(checked_mul(filters_, std::max<int64_t>(channels, 1), "Conv1D: kernel"), kernel_size_, "Conv1D: kernel");  // so fan_in / fan_out below fit too
  Generator seeded(options_.seed.value_or(0));
  Generator& generator = options_.seed ? seeded : global_generator();
  kernel_ = add_weight("kernel", options_.kernel_initializer(Shape{filters_, channels, kernel_size_}, channels * kernel_size_, filters_ * kernel_size_, generator),
                       true, options_.kernel_regularizer);
  if (options_.use_bias)
    bias_ = add_weight("bias", options_.bias_initializer(Shape{filters_}, channels * kernel_size_, filters_ * kernel_size_, generator), true,
                       options_.bias_regularizer);
}

Variable Conv1D::forward(const Variable& x) {
  if (x.rank() != 3) fail("Conv1D: input must be (batch, channels, length), got ", x.shape());
  if (x.dim(1) != kernel_.dim(1)) fail("Conv1D: input ", x.shape(), " has ", x.dim(1), " channels; this layer was built for ", kernel_.dim(1));
  const auto [left, right, length] = geometry(x.dim(2), x.shape());
  const bool relu = activation_name_ == "relu";  // fused into the convolution
  // (N, C, L) as (N, C, 1, L) images, the kernel as (F, C, 1, k)
  const Variable y = conv2d(reshape(x, {x.dim(0), x.dim(1), 1, x.dim(2)}), reshape(kernel_, {filters_, kernel_.dim(1), 1, kernel_size_}), bias_,
                            {.stride = {1, options_.strides}, .padding = {0, 0, left, right}, .dilation = {1, options_.dilation}, .relu = relu});
  const Variable out = reshape(y, {x.dim(0), filters_, length});
  return relu ? out : activation_(out);
}

}  // namespace axon
