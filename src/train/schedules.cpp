#include "axon/schedules.h"

#include <cmath>
#include <numbers>

#include "axon/error.h"

namespace axon {

namespace {

void check_rate(const char* schedule, double initial) {
  if (!(initial >= 0) || !std::isfinite(initial))
    fail(schedule, ": initial learning rate must be finite and >= 0, got ", initial);
}

}  // namespace

Schedule step_decay(double initial, double factor, int step_size) {
  check_rate("step_decay", initial);
  if (!(factor > 0) || step_size < 1)
    fail("step_decay: need factor > 0 and step_size >= 1, got ", factor, " and ", step_size);
  return [=](int epoch) { return initial * std::pow(factor, std::floor(epoch / step_size)); };
}

Schedule exponential_decay(double initial, double rate, double decay_epochs) {
  check_rate("exponential_decay", initial);
  if (!(rate > 0) || !(decay_epochs > 0))
    fail("exponential_decay: need rate > 0 and decay_epochs > 0, got ", rate, " and ", decay_epochs);
  return [=](int epoch) { return initial * std::pow(rate, epoch / decay_epochs); };
}

Schedule cosine_decay(double initial, int total_epochs, double alpha) {
  check_rate("cosine_decay", initial);
  if (total_epochs < 1 || !(alpha >= 0 && alpha <= 1))
    fail("cosine_decay: need total_epochs >= 1 and alpha in [0, 1], got ", total_epochs, " and ", alpha);
  return [=](int epoch) {
    const double progress = std::min(1.0, static_cast<double>(epoch) / total_epochs);
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return initial * ((1.0 - alpha) * cosine + alpha);
  };
}

Schedule warmup(int warmup_epochs, Schedule after) {
  if (warmup_epochs < 1 || !after) fail("warmup: need warmup_epochs >= 1 and a schedule to follow");
  return [=](int epoch) {
    if (epoch >= warmup_epochs) return after(epoch);
    return after(warmup_epochs) * static_cast<double>(epoch + 1) / static_cast<double>(warmup_epochs + 1);
  };
}

}  // namespace axon
