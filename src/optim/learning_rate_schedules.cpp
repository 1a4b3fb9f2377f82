#include "axon/learning_rate_schedules.h"

#include <cmath>
#include <numbers>

#include "axon/registry.h"

namespace axon {

AXON_REGISTER(LearningRateSchedule, "exponential_decay", ExponentialDecay);
AXON_REGISTER(LearningRateSchedule, "cosine_decay", CosineDecay);
AXON_REGISTER(LearningRateSchedule, "piecewise_constant_decay", PiecewiseConstantDecay);

namespace {

double checked_rate(const char* who, double rate) {
  if (!(rate >= 0) || !std::isfinite(rate)) fail(who, ": learning rates must be finite and >= 0, got ", rate);
  return rate;
}

}  // namespace

ExponentialDecay::ExponentialDecay(double initial, int64_t decay_steps, double decay_rate, bool staircase)
    : initial_(checked_rate("ExponentialDecay", initial)),
      rate_(decay_rate),
      decay_steps_(decay_steps),
      staircase_(staircase) {
  if (decay_steps < 1 || !(decay_rate > 0) || !std::isfinite(decay_rate))
    fail("ExponentialDecay: need decay_steps >= 1 and a finite decay_rate > 0, got ", decay_steps, " and ", decay_rate);
}

double ExponentialDecay::operator()(int64_t step) const {
  double exponent = static_cast<double>(step) / static_cast<double>(decay_steps_);
  if (staircase_) exponent = std::floor(exponent);
  return initial_ * std::pow(rate_, exponent);
}

Config ExponentialDecay::config() const {
  return Config::object()
      .set("initial_learning_rate", initial_)
      .set("decay_steps", decay_steps_)
      .set("decay_rate", rate_)
      .set("staircase", staircase_);
}

std::shared_ptr<ExponentialDecay> ExponentialDecay::from_config(const ConfigReader& c) {
  return std::make_shared<ExponentialDecay>(c.number("initial_learning_rate", 0, INFINITY), c.integer("decay_steps", 1),
                                            c.number("decay_rate", 1e-300, INFINITY), c.boolean_or("staircase", false));
}

CosineDecay::CosineDecay(double initial, int64_t decay_steps, double alpha, Warmup warmup)
    : initial_(checked_rate("CosineDecay", initial)), alpha_(alpha), decay_steps_(decay_steps), warmup_(warmup) {
  if (decay_steps < 1 || !(alpha >= 0 && alpha <= 1))
    fail("CosineDecay: need decay_steps >= 1 and alpha in [0, 1], got ", decay_steps, " and ", alpha);
  if (warmup.warmup_steps < 0) fail("CosineDecay: warmup_steps must be >= 0, got ", warmup.warmup_steps);
  if (warmup.warmup_target) checked_rate("CosineDecay", *warmup.warmup_target);
}

double CosineDecay::operator()(int64_t step) const {
  const double peak = warmup_.warmup_target.value_or(initial_);
  if (warmup_.warmup_target && step < warmup_.warmup_steps)
    return initial_ + (peak - initial_) * static_cast<double>(step) / static_cast<double>(warmup_.warmup_steps);
  const int64_t decay_step = step - (warmup_.warmup_target ? warmup_.warmup_steps : 0);
  const double progress = std::min(1.0, static_cast<double>(decay_step) / static_cast<double>(decay_steps_));
  return peak * ((1.0 - alpha_) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress)) + alpha_);
}

Config CosineDecay::config() const {
  Config c =
      Config::object().set("initial_learning_rate", initial_).set("decay_steps", decay_steps_).set("alpha", alpha_);
  if (warmup_.warmup_target) c.set("warmup_target", *warmup_.warmup_target).set("warmup_steps", warmup_.warmup_steps);
  return c;
}

std::shared_ptr<CosineDecay> CosineDecay::from_config(const ConfigReader& c) {
  Warmup warmup;
  if (c.has("warmup_target")) warmup.warmup_target = c.number("warmup_target", 0, INFINITY);
  warmup.warmup_steps = c.integer_or("warmup_steps", 0, 0);
  return std::make_shared<CosineDecay>(c.number("initial_learning_rate", 0, INFINITY), c.integer("decay_steps", 1),
                                       c.number_or("alpha", 0.0, 0, 1), warmup);
}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  if (values_.size() != boundaries_.size() + 1)
    fail("PiecewiseConstantDecay: needs one more value than boundaries, got ", values_.size(), " values and ",
         boundaries_.size(), " boundaries");
  for (size_t i = 1; i < boundaries_.size(); ++i)
    if (boundaries_[i] <= boundaries_[i - 1]) fail("PiecewiseConstantDecay: boundaries must increase");
  for (double v : values_) checked_rate("PiecewiseConstantDecay", v);
}

double PiecewiseConstantDecay::operator()(int64_t step) const {
  size_t i = 0;
  while (i < boundaries_.size() && step > boundaries_[i]) ++i;
  return values_[i];
}

Config PiecewiseConstantDecay::config() const {
  Config values = Config::list();
  for (double v : values_) values.push(v);
  return Config::object().set("boundaries", boundaries_).set("values", std::move(values));
}

std::shared_ptr<PiecewiseConstantDecay> PiecewiseConstantDecay::from_config(const ConfigReader& c) {
  const ConfigReader list = c.at("values");
  std::vector<double> values;
  for (size_t i = 0; i < list.size(); ++i) values.push_back(list.element(i).as_number(0, INFINITY));
  const std::vector<int64_t> boundaries = c.integers("boundaries", 0);
  return c.named([&] { return std::make_shared<PiecewiseConstantDecay>(boundaries, values); });
}

}  // namespace axon
