#include "axon/quantization.h"
#include "axon/registry.h"
#include "kernels/int8_gemm.h"
#include "quantize/quantized_layer.h"

namespace axon {

AXON_REGISTER(Module, "quantized_dense", QuantizedDense);

QuantizedDense::QuantizedDense(int64_t units, const std::string& activation_name, bool use_bias)
    : units_(units),
      activation_name_(activation_name),
      activation_(activation(activation_name)),
      use_bias_(use_bias),
      packed_(std::make_shared<detail::PackedKernel>()) {
  if (units < 1) fail("QuantizedDense: units must be >= 1, got ", units);
}

Config QuantizedDense::config() const {
  return Config::object().set("units", units_).set("activation", activation_name_).set("use_bias", use_bias_);
}

std::shared_ptr<QuantizedDense> QuantizedDense::from_config(const ConfigReader& c) {
  return std::make_shared<QuantizedDense>(c.integer("units", 1), c.string_or("activation", "linear"),
                                          c.boolean_or("use_bias", true));
}

void QuantizedDense::create_weights(const Shape& input_shape) {
  if (input_shape.rank() < 1 || input_shape[-1] < 1)
    fail("QuantizedDense: input of shape ", input_shape, " has no features on its last axis");
  kernel_ = add_weight("kernel", Tensor::zeros(Shape{input_shape[-1], units_}, DType::i8), false);
  kernel_scale_ = add_weight("kernel_scale", Tensor::ones(Shape{units_}), false);
  if (use_bias_) bias_ = add_weight("bias", Tensor::zeros(Shape{units_}), false);
}

void QuantizedDense::on_weights_replaced() { packed_->reset(); }

Variable QuantizedDense::forward(const Variable& x) {
  const Tensor input = detail::quantized_layer_input(x, "QuantizedDense");
  std::vector<int64_t> dims = input.shape().dims();
  if (!dims.empty()) dims.back() = units_;
  Tensor y = Tensor::empty(Shape(dims));
  forward_into(input, y);
  return activation_name_ == "relu" ? Variable(y) : activation_(Variable(y));
}

void QuantizedDense::forward_into(const Tensor& x, Tensor& y) {
  const int64_t in = kernel_.dim(0);
  if (x.dtype() != DType::f32 || x.rank() < 1 || x.dim(-1) != in)
    fail("QuantizedDense: input ", x.shape(), " (", dtype_name(x.dtype()), ") must be float32 with ", in,
         " features on its last axis");
  const auto packed = packed_->get([&] {  // (in, units) -> the kernels' layout
    return kernels::pack_int8_weights(kernel_.value().data<int8_t>(), kernel_scale_.value().data<float>(), in, units_);
  });
  const bool relu = activation_name_ == "relu";  // fused into the kernel's output pass
  kernels::int8_linear(x.data<float>(), x.numel() / in, in, *packed, use_bias_ ? bias_.value().data<float>() : nullptr,
                       relu, y.data<float>(), units_);
}

}  // namespace axon
