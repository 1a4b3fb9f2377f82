#pragma once
// LayerNormalization (Keras's layer) over the last axis of each example:
// y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, the mean and (biased)
// variance over the last axis, gamma and beta of its size (gamma starting at 1, beta at
// 0). The same in training and inference; no moving statistics. ONNX: the
// LayerNormalization operator at opset 17, its decomposition below.
#include <memory>
#include <string>
#include <vector>

#include "axon/module.h"

namespace axon {

class LayerNormalization : public Module {
 public:
  explicit LayerNormalization(double epsilon = 1e-3);
  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "LayerNormalization"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override { return Config::object().set("epsilon", epsilon_); }
  static std::shared_ptr<LayerNormalization> from_config(const ConfigReader& config);
  double epsilon() const { return epsilon_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  double epsilon_;
  Variable gamma_, beta_;
};

}  // namespace axon
