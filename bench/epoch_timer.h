#pragma once
// What bench_mlp and bench_cnn share: a callback timing each training epoch, and the
// start of their one-line report, "axon threads=N epoch_seconds=[...] median=...".
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "axon/axon.h"

namespace bench {

class EpochTimer : public axon::Callback {
 public:
  void on_epoch_begin(int, const axon::Logs&) override { start_ = std::chrono::steady_clock::now(); }
  void on_epoch_end(int, const axon::Logs&) override {
    seconds_.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  const std::vector<double>& seconds() const { return seconds_; }

 private:
  std::chrono::steady_clock::time_point start_;
  std::vector<double> seconds_;
};

// Prints "axon threads=N epoch_seconds=[...] median=..." without a newline.
inline void print_epochs(const EpochTimer& timer) {
  std::vector<double> sorted = timer.seconds();
  std::sort(sorted.begin(), sorted.end());
  std::printf("axon threads=%d epoch_seconds=[", axon::num_threads());
  for (size_t i = 0; i < timer.seconds().size(); ++i) std::printf("%s%.3f", i ? "," : "", timer.seconds()[i]);
  std::printf("] median=%.3f", sorted.empty() ? 0.0 : sorted[sorted.size() / 2]);
}

inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace bench
