#pragma once
// Post-training int8 quantization for inference.
//
//   auto int8_model = quantize(model);       // Dense -> QuantizedDense, Conv2D -> QuantizedConv2D
//   save_model(*int8_model, "m.int8.safetensors");
//
// Weights: int8, symmetric, one scale per output channel (a Dense unit, a Conv2D filter):
// scale = max |w| / 127, stored beside the int8 "kernel" as "kernel_scale" (float32).
// Activations: quantized at run time, per example row of a Dense input and per image of
// a Conv2D input, to 7-bit unsigned values over the row's own [min, max] (with 0 inside
// it), so no calibration pass fixes a range that later inputs could exceed. Products
// accumulate exactly in int32 (AVX-512 VNNI where the CPU has it, else AVX2; the same
// bits either way), then are scaled back to float32 with the bias and activation. A
// Conv2D kernel shallower than 64 (channels * kh * kw: the first layer of an image
// network) instead runs its int8 weights, dequantized, in float32, where that is the
// faster. Every other layer is kept as it is, in float32. See the int8 section of
// docs/performance.md.
//
// Quantized layers are for inference: they compute no gradients, and fit refuses a model
// that has them trainable (their weights are not trainable parameters).
#include <memory>
#include <string>

#include "axon/activations.h"
#include "axon/geometry.h"
#include "axon/model.h"

namespace axon {

class Pool2D;

namespace detail {
class PackedKernel;
}

// The int8 form of Dense: y = activation(x @ dequant(kernel) + bias), x: (..., in).
class QuantizedDense : public Module {
 public:
  QuantizedDense(int64_t units, const std::string& activation = "linear", bool use_bias = true);

  Variable forward(const Variable& x) override;
  // x @ kernel + bias, then relu when that is the activation (any other is the caller's
  // to apply), for x: (..., in) written into y: (..., units), float32 both; with no
  // allocation once the kernel is packed (a compiled inference plan calls this).
  void forward_into(const Tensor& x, Tensor& y);
  const std::string& activation_name() const { return activation_name_; }
  int64_t units() const { return units_; }
  std::string type_name() const override { return "QuantizedDense"; }
  Config config() const override;
  static std::shared_ptr<QuantizedDense> from_config(const ConfigReader& config);

  const Variable& kernel() const { return kernel_; }              // int8 (in, units)
  const Variable& kernel_scale() const { return kernel_scale_; }  // (units,)
  const Variable& bias() const { return bias_; }

 protected:
  void create_weights(const Shape& input_shape) override;
  void on_weights_replaced() override;

 private:
  int64_t units_;
  std::string activation_name_;
  ActivationFn activation_;
  bool use_bias_;
  Variable kernel_, kernel_scale_, bias_;
  std::shared_ptr<detail::PackedKernel> packed_;  // the kernel laid out for int8_gemm, built on first use
};

// The int8 form of Conv2D on NCHW images: kernel int8 (filters, channels, kh, kw).
class QuantizedConv2D : public Module {
 public:
  QuantizedConv2D(int64_t filters, Size2 kernel_size, const std::string& activation = "linear", Window window = {},
                  bool use_bias = true);

  Variable forward(const Variable& x) override;
  // pool(forward(x)) for a max pool, pooled on the int8 GEMM's output (pixels by
  // filters) while it is in cache: the convolution's output is never laid out whole.
  // The fusion planner's QuantizedConv2D -> MaxPool2D; relu or linear activations only.
  Variable forward_max_pooled(const Variable& x, const Pool2D& pool);
  std::string type_name() const override { return "QuantizedConv2D"; }
  Config config() const override;
  static std::shared_ptr<QuantizedConv2D> from_config(const ConfigReader& config);

  const Variable& kernel() const { return kernel_; }              // int8 (filters, channels, kh, kw)
  const Variable& kernel_scale() const { return kernel_scale_; }  // (filters,)
  const Variable& bias() const { return bias_; }
  const std::string& activation_name() const { return activation_name_; }

 protected:
  void create_weights(const Shape& input_shape) override;
  void on_weights_replaced() override;

 private:
  Tensor convolve(const Variable& x, const Pool2D* pool);  // pool: a max pool, or null

  int64_t filters_;
  Size2 kernel_size_;
  std::string activation_name_;
  ActivationFn activation_;
  Window window_;
  bool use_bias_;
  Variable kernel_, kernel_scale_, bias_;
  std::shared_ptr<detail::PackedKernel> packed_;  // as (kh * kw * channels, filters), built on first use
};

// A copy of `model` with every Dense and Conv2D replaced by its int8 form (weights
// quantized as above); other layers, the graph, the names and the compile settings
// (so evaluate works) carried over. The model must be built. Fails naming a layer
// that cannot be rebuilt from its config.
std::shared_ptr<Model> quantize(const Model& model);

}  // namespace axon
