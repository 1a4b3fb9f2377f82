#pragma once
// Shared by the callbacks that watch a metric: which direction is better, and whether
// a value improves on the best so far by more than min_delta.
#include <string>

#include "axon/callbacks.h"

namespace axon {

inline bool maximizes(const std::string& monitor, Mode mode) {
  if (mode != Mode::automatic) return mode == Mode::max;
  for (const char* better_high : {"acc", "auc", "precision", "recall", "f1"})
    if (monitor.find(better_high) != std::string::npos) return true;
  return false;
}

inline bool improves(double value, double best, double min_delta, bool maximize) {
  return maximize ? value > best + min_delta : value < best - min_delta;
}

}  // namespace axon
