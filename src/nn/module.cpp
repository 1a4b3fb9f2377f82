#include "axon/module.h"

namespace axon {

Variable Module::operator()(const Variable& x) {
  if (!x.defined()) fail(type_name(), ": input is undefined");
  if (!built_) {
    build(x.shape());
    built_ = true;
  }
  return forward(x);
}

std::vector<NamedParameter> Module::named_parameters() const {
  std::vector<NamedParameter> all = parameters_;
  for (const auto& [prefix, child] : children_)
    for (NamedParameter p : child->named_parameters()) {
      p.name = prefix + "." + p.name;
      all.push_back(std::move(p));
    }
  return all;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> all;
  for (const NamedParameter& p : named_parameters()) all.push_back(p.variable);
  return all;
}

std::vector<Variable> Module::trainable_parameters() const {
  std::vector<Variable> all;
  for (const NamedParameter& p : named_parameters())
    if (p.trainable) all.push_back(p.variable);
  return all;
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const NamedParameter& p : named_parameters()) total += p.variable.numel();
  return total;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

Variable Module::add_weight(const std::string& name, Tensor value, bool trainable) {
  for (const NamedParameter& p : parameters_)
    if (p.name == name) fail(type_name(), ": weight '", name, "' added twice");
  Variable variable(std::move(value), trainable);
  parameters_.push_back({name, variable, trainable});
  return variable;
}

void Module::add_module(const std::string& name, std::shared_ptr<Module> module) {
  if (!module) fail(type_name(), ": module '", name, "' is null");
  for (const auto& [existing, child] : children_)
    if (existing == name) fail(type_name(), ": module '", name, "' added twice");
  children_.emplace_back(name, std::move(module));
}

}  // namespace axon
