#pragma once
// Learning rates that follow the optimizer's step, as Keras's LearningRateSchedule
// objects: give one where a learning rate goes, and each update uses schedule(step),
// step = the updates done before it (0 for the first).
//   model.compile(Adam(CosineDecay(1e-3, 10000, 0.0, {.warmup_target = 3e-3, .warmup_steps = 500})), ...);
// They are saved with the optimizer in model files and checkpoints (registered like
// layers, see registry.h). Per-epoch functions for the LearningRateScheduler callback
// are in schedules.h.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "axon/config.h"

namespace axon {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual double operator()(int64_t step) const = 0;
  virtual Config config() const = 0;
};

// initial * rate^(step / decay_steps), the exponent floored with staircase.
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, int64_t decay_steps, double decay_rate, bool staircase = false);
  double operator()(int64_t step) const override;
  Config config() const override;
  static std::shared_ptr<ExponentialDecay> from_config(const ConfigReader& config);

 private:
  double initial_, rate_;
  int64_t decay_steps_;
  bool staircase_;
};

// With warmup_steps > 0, first a line from initial to warmup_target over warmup_steps;
// then a cosine from the peak (warmup_target, or initial without warmup) down to
// peak * alpha over decay_steps, flat after.
struct Warmup {
  std::optional<double> warmup_target;
  int64_t warmup_steps = 0;
};
class CosineDecay : public LearningRateSchedule {
 public:
  CosineDecay(double initial_learning_rate, int64_t decay_steps, double alpha = 0.0, Warmup warmup = {});
  double operator()(int64_t step) const override;
  Config config() const override;
  static std::shared_ptr<CosineDecay> from_config(const ConfigReader& config);

 private:
  double initial_, alpha_;
  int64_t decay_steps_;
  Warmup warmup_;
};

// values[i] while step <= boundaries[i] (values has one more entry than boundaries).
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values);
  double operator()(int64_t step) const override;
  Config config() const override;
  static std::shared_ptr<PiecewiseConstantDecay> from_config(const ConfigReader& config);

 private:
  std::vector<int64_t> boundaries_;
  std::vector<double> values_;
};

}  // namespace axon
