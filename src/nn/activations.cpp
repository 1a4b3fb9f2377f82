#include "axon/activations.h"

#include <utility>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "activation", Activation);

namespace {

const std::pair<const char*, Variable (*)(const Variable&)> kActivations[] = {
    {"linear", [](const Variable& x) { return x; }},
    {"relu", [](const Variable& x) { return relu(x); }},
    {"leaky_relu", [](const Variable& x) { return leaky_relu(x); }},
    {"elu", [](const Variable& x) { return elu(x); }},
    {"gelu", [](const Variable& x) { return gelu(x); }},
    {"silu", [](const Variable& x) { return silu(x); }},
    {"swish", [](const Variable& x) { return silu(x); }},
    {"sigmoid", [](const Variable& x) { return sigmoid(x); }},
    {"tanh", [](const Variable& x) { return tanh(x); }},
    {"softmax", [](const Variable& x) { return softmax(x); }},
    {"log_softmax", [](const Variable& x) { return log_softmax(x); }},
};

}  // namespace

ActivationFn activation(const std::string& name) {
  for (const auto& [known, fn] : kActivations)
    if (name == known) return fn;
  std::string allowed;
  for (const auto& entry : kActivations) allowed += std::string(allowed.empty() ? "" : ", ") + entry.first;
  fail("unknown activation '", name, "'; expected one of: ", allowed);
}

Activation::Activation(const std::string& name) : name_(name), fn_(activation(name)) {}

std::shared_ptr<Activation> Activation::from_config(const ConfigReader& c) {
  const ConfigReader name = c.at("activation");
  return name.named([&] { return std::make_shared<Activation>(name.as_string()); });
}

std::vector<std::string> Activation::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                 const std::vector<Shape>& shapes) const {
  (void)shapes;
  return {onnx_activation(graph, name_, inputs[0])};
}

}  // namespace axon
