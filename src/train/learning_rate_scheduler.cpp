#include <cmath>

#include "axon/callbacks.h"
#include "axon/model.h"

namespace axon {

LearningRateScheduler::LearningRateScheduler(Schedule schedule) : schedule_(std::move(schedule)) {
  if (!schedule_) fail("LearningRateScheduler: schedule is empty");
}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  const double rate = schedule_(epoch);
  if (!std::isfinite(rate) || rate < 0) fail("LearningRateScheduler: schedule gave ", rate, " for epoch ", epoch);
  model().optimizer().set_learning_rate(rate);
}

}  // namespace axon
