#pragma once
// Conv1D on (N, C, L) sequences, channels first as PyTorch's Conv1d: y = activation(
// conv(x, kernel) + bias), kernel (filters, channels, k). It runs as a Conv2D over
// (N, C, 1, L), on the same kernels. Padding: "valid", "same" (output length
// ceil(L / stride)), "causal" (all padding on the left, so output t sees inputs <= t,
// as Keras) or explicit {0, 0, left, right} ([left, right] in a spec). The window's
// strides and dilation apply along the length:
//   Conv1D(16, 3, "relu", {.strides = 2, .padding = "causal"})
#include <memory>
#include <string>

#include "axon/activations.h"
#include "axon/geometry.h"
#include "axon/weight_options.h"

namespace axon {

class Conv1D : public Module {
 public:
  Conv1D(int64_t filters, int64_t kernel_size, const std::string& activation = "linear", Window window = {},
         WeightOptions options = {});

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Conv1D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<Conv1D> from_config(const ConfigReader& config);

  int64_t filters() const { return filters_; }
  int64_t kernel_size() const { return kernel_size_; }
  const std::string& activation_name() const { return activation_name_; }
  const Window& window() const { return window_; }
  const WeightOptions& options() const { return options_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  // The geometry over an input of length `length` and the output length; throws naming
  // the layer and `input_shape` when the kernel does not fit.
  std::pair<Geometry2D, int64_t> geometry(int64_t length, const Shape& input_shape) const;

  int64_t filters_, kernel_size_;
  std::string activation_name_;
  ActivationFn activation_;
  Window window_;
  WeightOptions options_;
  Variable kernel_, bias_;
};

}  // namespace axon
