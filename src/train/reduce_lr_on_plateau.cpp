#include <cmath>
#include <limits>

#include "axon/model.h"
#include "monitor.h"

namespace axon {

ReduceLROnPlateau::ReduceLROnPlateau(Options options) : options_(std::move(options)) {
  if (!(options_.factor > 0 && options_.factor < 1))
    fail("ReduceLROnPlateau: factor must be in (0, 1), got ", options_.factor);
  if (options_.patience < 0 || options_.cooldown < 0) fail("ReduceLROnPlateau: patience and cooldown must be >= 0");
  if (!(options_.min_lr >= 0)) fail("ReduceLROnPlateau: min_lr must be >= 0, got ", options_.min_lr);
  maximize_ = maximizes(options_.monitor, options_.mode);
}

void ReduceLROnPlateau::on_train_begin(const Logs&) {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  wait_ = 0;
  cooldown_left_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int, const Logs& logs) {
  if (!logs.contains(options_.monitor))
    fail("ReduceLROnPlateau: monitored value '", options_.monitor, "' is not in the logs (", logs.str(), ")");
  const double value = logs.at(options_.monitor);
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    wait_ = 0;
  }
  if (improves(value, best_, options_.min_delta, maximize_)) {
    best_ = value;
    wait_ = 0;
    return;
  }
  if (cooldown_left_ > 0 || ++wait_ < options_.patience) return;
  Optimizer& optimizer = model().optimizer();
  const double reduced = std::max(optimizer.learning_rate() * options_.factor, options_.min_lr);
  if (reduced < optimizer.learning_rate()) optimizer.set_learning_rate(reduced);
  cooldown_left_ = options_.cooldown;
  wait_ = 0;
}

}  // namespace axon
