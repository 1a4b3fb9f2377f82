#include "axon/optimizers.h"

#include "axon/registry.h"

#include <cmath>

#include "axon/ops.h"

namespace axon {

Optimizer::Optimizer(double learning_rate) : learning_rate_(0) { set_learning_rate(learning_rate); }

void Optimizer::set_parameters(std::vector<Variable> parameters) {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (!parameters[i].defined()) fail(name(), ": parameter ", i, " is undefined");
  parameters_ = std::move(parameters);
  state_.assign(parameters_.size(), {});
  steps_ = 0;
}

void Optimizer::set_learning_rate(double learning_rate) {
  if (!std::isfinite(learning_rate) || learning_rate < 0)
    fail("optimizer: learning_rate must be finite and >= 0, got ", learning_rate);
  learning_rate_ = learning_rate;
}

void Optimizer::step() {
  NoGrad no_grad;
  ++steps_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Variable& p = parameters_[i];
    if (!p.grad().defined()) continue;
    if (p.grad().shape() != p.shape()) fail(name(), ": gradient ", p.grad().shape(), " does not match parameter ", p.shape());
    update(p.value(), p.grad(), state_[i], steps_);
  }
}

void Optimizer::set_step_count(int64_t steps) {
  if (steps < 0) fail(name(), ": step count must be >= 0, got ", steps);
  steps_ = steps;
}

void Optimizer::zero_grad() {
  for (Variable& p : parameters_) p.zero_grad();
}

Tensor& Optimizer::slot(std::map<std::string, Tensor>& slots, const std::string& name, const Tensor& param) {
  auto it = slots.find(name);
  if (it == slots.end()) it = slots.emplace(name, Tensor::zeros(param.shape(), param.dtype())).first;
  return it->second;
}

double Optimizer::check_hyper(const char* optimizer, const char* name, double value, double low, double high) {
  if (!(value >= low && value <= high))  // also rejects NaN
    fail(optimizer, ": ", name, " must be in [", low, ", ", high, "], got ", value);
  return value;
}

std::shared_ptr<Optimizer> optimizer(const std::string& name) {
  const Registry<Optimizer>& registry = Registry<Optimizer>::instance();
  if (!registry.contains(name)) fail("unknown optimizer '", name, "'; expected one of: ", registry.known());
  const Config config = Config::object().set("type", name);
  return registry.create(ConfigReader(config, "optimizer"));
}

Config Optimizer::config() const {
  Config c = Config::object().set("learning_rate", learning_rate());
  for (const auto& [key, value] : hyperparameters()) c.set(key, key == "nesterov" ? Config(value != 0) : Config(value));
  return c;
}

}  // namespace axon
