#include <cmath>
#include <cstdio>
#include <limits>

#include "axon/model.h"
#include "monitor.h"

namespace axon {

EarlyStopping::EarlyStopping(Options options) : options_(std::move(options)) {
  if (options_.patience < 0) fail("EarlyStopping: patience must be >= 0, got ", options_.patience);
  if (!(options_.min_delta >= 0)) fail("EarlyStopping: min_delta must be >= 0, got ", options_.min_delta);
  maximize_ = maximizes(options_.monitor, options_.mode);
}

void EarlyStopping::on_train_begin(const Logs&) {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  best_epoch_ = -1;
  wait_ = 0;
  stopped_epoch_ = -1;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, const Logs& logs) {
  if (!logs.contains(options_.monitor))
    fail("EarlyStopping: monitored value '", options_.monitor, "' is not in the logs (", logs.str(), ")");
  if (epoch < options_.start_from_epoch) return;
  const double value = logs.at(options_.monitor);  // NaN never improves
  if (improves(value, best_, options_.min_delta, maximize_)) {
    best_ = value;
    best_epoch_ = epoch;
    wait_ = 0;
    if (options_.restore_best_weights) best_weights_ = model().get_weights();
    return;
  }
  if (++wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ < 0) return;
  const bool restore = options_.restore_best_weights && !best_weights_.empty();
  if (restore) model().set_weights(best_weights_);
  if (params().verbose > 0) {  // as Keras says it
    std::printf("Epoch %d: early stopping; best %s %.4f at epoch %d%s\n", stopped_epoch_ + 1, options_.monitor.c_str(),
                best_, best_epoch_ + 1, restore ? ", its weights restored" : "");
    std::fflush(stdout);
  }
}

}  // namespace axon
