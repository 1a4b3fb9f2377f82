#pragma once
// Conv1D on (N, C, L) sequences, channels first as PyTorch's Conv1d: y = activation(
// conv(x, kernel) + bias), kernel (filters, channels, k). It runs as a Conv2D over
// (N, C, 1, L), on the same kernels. Padding: "valid", "same" (output length
// ceil(L / stride)) or "causal" (all padding on the left, so output t sees inputs <= t,
// as Keras).
#include <optional>
#include <string>

#include "axon/activations.h"
#include "axon/initializers.h"
#include "axon/module.h"
#include "axon/regularizers.h"

namespace axon {

struct Conv1DOptions {
  int64_t strides = 1;
  std::string padding = "valid";
  int64_t dilation = 1;
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::Kind::glorot_uniform;
  Initializer bias_initializer = Initializer::Kind::zeros;
  Regularizer kernel_regularizer = {};
  Regularizer bias_regularizer = {};
  std::optional<uint64_t> seed;
};

class Conv1D : public Module {
 public:
  Conv1D(int64_t filters, int64_t kernel_size, const std::string& activation = "linear", Conv1DOptions options = {});

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Conv1D"; }
  int64_t filters() const { return filters_; }
  int64_t kernel_size() const { return kernel_size_; }
  const std::string& activation_name() const { return activation_name_; }
  const Conv1DOptions& options() const { return options_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  // {left, right} padding and the output length for an input of length `length`; throws
  // naming the layer and `input_shape` when the kernel does not fit.
  std::array<int64_t, 3> geometry(int64_t length, const Shape& input_shape) const;

  int64_t filters_, kernel_size_;
  std::string activation_name_;
  ActivationFn activation_;
  Conv1DOptions options_;
  Variable kernel_, bias_;
};

}  // namespace axon
