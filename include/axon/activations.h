#pragma once
// Activations by name ("relu", "softmax", ...) as a function, and as a layer.
#include <functional>
#include <memory>
#include <string>

#include "axon/module.h"

namespace axon {

using ActivationFn = std::function<Variable(const Variable&)>;

// "linear" (identity), "relu", "leaky_relu", "elu", "gelu", "silu" (= "swish"),
// "sigmoid", "tanh", "softmax", "log_softmax". Throws Error naming the allowed ones.
ActivationFn activation(const std::string& name);

class Activation : public Module {
 public:
  explicit Activation(const std::string& name);
  Variable forward(const Variable& x) override { return fn_(x); }
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "Activation"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override { return Config::object().set("activation", name_); }
  static std::shared_ptr<Activation> from_config(const ConfigReader& config);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  ActivationFn fn_;
};

}  // namespace axon
