#pragma once
// Conv2D on NCHW images: y = activation(conv(x, kernel) + bias), kernel
// (filters, channels, kh, kw) as PyTorch lays it out; channels from the first input.
//   Conv2D(32, 3, "relu", {.padding = "same"})
#include <memory>
#include <string>

#include "axon/activations.h"
#include "axon/geometry.h"
#include "axon/weight_options.h"

namespace axon {

class Conv2D : public Module {
 public:
  Conv2D(int64_t filters, Size2 kernel_size, const std::string& activation = "linear", Window window = {},
         WeightOptions options = {});

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Conv2D"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<Conv2D> from_config(const ConfigReader& config);

  int64_t filters() const { return filters_; }
  Size2 kernel_size() const { return kernel_size_; }
  const std::string& activation_name() const { return activation_name_; }
  const Window& window() const { return window_; }
  const WeightOptions& options() const { return options_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }
  // The geometry for an input of this shape (N, C, H, W); throws naming the layer and
  // the shape when the kernel does not fit or the channels differ from the weights'.
  Geometry2D geometry_for(const Shape& input_shape) const;
  Shape output_shape_for(const Shape& input_shape) const;  // (N, filters, OH, OW)

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  int64_t filters_;
  Size2 kernel_size_;
  std::string activation_name_;
  ActivationFn activation_;
  Window window_;
  WeightOptions options_;
  Variable kernel_, bias_;
};

// Shared by the layers that slide a window: Conv1D, Conv2D, the pools.
void write_window(Config& config, const Window& window, bool with_dilation);
Window read_window(const ConfigReader& config, Window defaults = {});

}  // namespace axon
