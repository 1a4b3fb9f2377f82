#pragma once
// Learning-rate schedules: functions of the epoch (0-based) giving the learning rate,
// for LearningRateScheduler.
#include <functional>

namespace axon {

using Schedule = std::function<double(int epoch)>;

// initial * factor^floor(epoch / step_size)
Schedule step_decay(double initial, double factor, int step_size);
// initial * rate^(epoch / decay_epochs)
Schedule exponential_decay(double initial, double rate, double decay_epochs = 1.0);
// Cosine from initial down to initial * alpha over total_epochs, then flat.
Schedule cosine_decay(double initial, int total_epochs, double alpha = 0.0);
// A linear ramp over the first warmup_epochs epochs, (epoch + 1) / (warmup_epochs + 1)
// of after(warmup_epochs), then after(epoch).
Schedule warmup(int warmup_epochs, Schedule after);

}  // namespace axon
