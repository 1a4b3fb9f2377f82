#include "axon/module.h"

#include <algorithm>

#include "axon/ops.h"

namespace axon {

Variable Module::operator()(const Variable& x) {
  if (!x.defined()) fail(type_name(), ": input is undefined");
  build_for(x.shape());
  Variable y = forward(x);
  note_output(y.shape());
  return y;
}

void Module::build_for(const Shape& input_shape) {
  if (built_) return;
  create_weights(input_shape);
  built_ = true;
}

void Module::note_output(const Shape& batch_shape) {
  const std::vector<int64_t>& dims = batch_shape.dims();
  if (!dims.empty() && !std::equal(dims.begin() + 1, dims.end(), output_shape_.dims().begin(), output_shape_.dims().end()))
    output_shape_ = Shape(std::vector<int64_t>(dims.begin() + 1, dims.end()));
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

int64_t Module::trainable_parameter_count() const {
  int64_t total = 0;
  for (const NamedParameter& p : named_parameters())
    if (p.trainable) total += p.variable.numel();
  return total;
}

Variable Module::regularization_loss() const {
  Variable total;
  for (const NamedParameter& p : named_parameters()) {
    if (!p.regularizer.active()) continue;
    const Variable penalty = p.regularizer(p.variable);
    total = total.defined() ? total + penalty : penalty;
  }
  return total;
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

Variable Module::add_weight(const std::string& name, Tensor value, bool trainable, Regularizer regularizer) {
  for (const NamedParameter& p : parameters_)
    if (p.name == name) fail(type_name(), ": weight '", name, "' added twice");
  Variable variable(std::move(value), trainable);
  parameters_.push_back({name, variable, trainable, regularizer});
  return variable;
}

void Module::add_module(const std::string& name, std::shared_ptr<Module> module) {
  if (!module) fail(type_name(), ": module '", name, "' is null");
  for (const auto& [existing, child] : children_)
    if (existing == name) fail(type_name(), ": module '", name, "' added twice");
  children_.emplace_back(name, std::move(module));
}

}  // namespace axon
