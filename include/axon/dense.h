#pragma once
// Dense: y = activation(x @ kernel + bias), kernel (in, units), bias (units,).
// `in` is taken from the last axis of the first input.
#include <cstdint>
#include <memory>
#include <string>

#include "axon/activations.h"
#include "axon/weight_options.h"

namespace axon {

class Dense : public Module {
 public:
  explicit Dense(int64_t units, const std::string& activation = "linear", WeightOptions options = {});

  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "Dense"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<Dense> from_config(const ConfigReader& config);

  int64_t units() const { return units_; }
  const std::string& activation_name() const { return activation_name_; }
  const WeightOptions& options() const { return options_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  int64_t units_;
  std::string activation_name_;
  ActivationFn activation_;
  WeightOptions options_;
  Variable kernel_, bias_;
};

}  // namespace axon
