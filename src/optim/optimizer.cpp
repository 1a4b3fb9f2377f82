#include "axon/optimizers.h"

#include "axon/registry.h"

#include <algorithm>
#include <cmath>

#include "axon/ops.h"

namespace axon {

LearningRate::LearningRate(std::shared_ptr<const LearningRateSchedule> schedule_of_step)
    : schedule(std::move(schedule_of_step)) {
  if (!schedule) fail("learning rate: the schedule is null");
}

Optimizer::Optimizer(LearningRate learning_rate) : learning_rate_(0), schedule_(std::move(learning_rate.schedule)) {
  if (schedule_)
    learning_rate_ = (*schedule_)(0);
  else
    set_learning_rate(learning_rate.value);
}

void Optimizer::set_clipping(GradientClipping clipping) {
  for (double v : {clipping.clipnorm, clipping.global_clipnorm, clipping.clipvalue})
    if (!(v >= 0) || !std::isfinite(v)) fail(name(), ": clipping values must be finite and >= 0, got ", v);
  if (clipping.clipnorm > 0 && clipping.global_clipnorm > 0)
    fail(name(), ": give clipnorm or global_clipnorm, not both");
  clipping_ = clipping;
}

LearningRate Optimizer::learning_rate_from(const ConfigReader& c, double fallback) {
  if (!c.has("learning_rate")) return fallback;
  const ConfigReader rate = c.at("learning_rate");
  if (rate.value().kind() == Config::Kind::object)
    return LearningRate(Registry<LearningRateSchedule>::instance().create(rate));
  return rate.as_number(0, INFINITY);
}

void Optimizer::set_parameters(std::vector<Variable> parameters) {
  for (size_t i = 0; i < parameters.size(); ++i)
    if (!parameters[i].defined()) fail(name(), ": parameter ", i, " is undefined");
  parameters_ = std::move(parameters);
  state_.assign(parameters_.size(), {});
  steps_ = 0;
}

void Optimizer::set_learning_rate(double learning_rate) {
  if (schedule_) fail(name(), ": the learning rate follows a schedule; it cannot be set");
  if (!std::isfinite(learning_rate) || learning_rate < 0)
    fail("optimizer: learning_rate must be finite and >= 0, got ", learning_rate);
  learning_rate_ = learning_rate;
}

namespace {

double squared_norm(const Tensor& g) {
  double sum = 0;
  for (double v : g.to_vector()) sum += v * v;
  return sum;
}

// g * scale, clamped to [-clip, clip] when clip > 0: a new tensor (gradients may be shared).
Tensor scaled(const Tensor& g, double scale, double clip) {
  Tensor out = g.clone();
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) {
      double v = p[i] * scale;
      if (clip > 0) v = std::clamp(v, -clip, clip);
      p[i] = static_cast<T>(v);
    }
  });
  return out;
}

}  // namespace

void Optimizer::step() {
  NoGrad no_grad;
  if (schedule_) learning_rate_ = (*schedule_)(steps_);  // the rate of this update: schedule(updates done)
  ++steps_;
  double global_scale = 1.0;
  if (clipping_.global_clipnorm > 0) {
    double total = 0;
    for (const Variable& p : parameters_)
      if (p.grad().defined()) total += squared_norm(p.grad());
    if (std::sqrt(total) > clipping_.global_clipnorm) global_scale = clipping_.global_clipnorm / std::sqrt(total);
  }
  const bool clipping = clipping_.clipnorm > 0 || clipping_.global_clipnorm > 0 || clipping_.clipvalue > 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Variable& p = parameters_[i];
    if (!p.grad().defined()) continue;
    if (p.grad().shape() != p.shape())
      fail(name(), ": gradient ", p.grad().shape(), " does not match parameter ", p.shape());
    if (!clipping) {
      update(p.value(), p.grad(), state_[i], steps_);
      continue;
    }
    double scale = global_scale;
    if (clipping_.clipnorm > 0) {
      const double norm = std::sqrt(squared_norm(p.grad()));
      if (norm > clipping_.clipnorm) scale = clipping_.clipnorm / norm;
    }
    update(p.value(), scaled(p.grad(), scale, clipping_.clipvalue), state_[i], steps_);
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
  Config rate = learning_rate();
  if (schedule_) {
    rate = Config::object().set("type", Registry<LearningRateSchedule>::instance().name_of(*schedule_));
    const Config settings = schedule_->config();
    for (const auto& [key, value] : settings.entries()) rate.set(key, value);
  }
  Config c = Config::object().set("learning_rate", std::move(rate));
  for (const auto& [key, value] : hyperparameters()) c.set(key, key == "nesterov" ? Config(value != 0) : Config(value));
  if (clipping_.clipnorm > 0) c.set("clipnorm", clipping_.clipnorm);
  if (clipping_.global_clipnorm > 0) c.set("global_clipnorm", clipping_.global_clipnorm);
  if (clipping_.clipvalue > 0) c.set("clipvalue", clipping_.clipvalue);
  return c;
}

}  // namespace axon
