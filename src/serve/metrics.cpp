#include "metrics.h"

#include <sstream>

namespace axon::serve {

void ServerMetrics::Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  ++counts[i];
  sum += value;
  ++count;
}

ServerMetrics::Histogram ServerMetrics::latency_histogram() {
  Histogram h{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}, {}, 0, 0};
  h.counts.assign(h.bounds.size() + 1, 0);
  return h;
}

ServerMetrics::Histogram ServerMetrics::batch_histogram() {
  Histogram h{{1, 2, 4, 8, 16, 32, 64, 128, 256}, {}, 0, 0};
  h.counts.assign(h.bounds.size() + 1, 0);
  return h;
}

void ServerMetrics::record_request(const std::string& model, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{model, status}];
  latency_.try_emplace(model, latency_histogram()).first->second.observe(seconds);
}

void ServerMetrics::record_batch(const std::string& model, int64_t rows) {
  std::lock_guard lock(mutex_);
  batches_.try_emplace(model, batch_histogram()).first->second.observe(static_cast<double>(rows));
}

std::string ServerMetrics::prometheus() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "# HELP axon_requests_total Requests answered, by model and HTTP status.\n# TYPE axon_requests_total "
         "counter\n";
  for (const auto& [key, n] : requests_)
    out << "axon_requests_total{model=\"" << key.first << "\",code=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP axon_request_errors_total Requests answered with a 4xx or 5xx status.\n# TYPE "
         "axon_request_errors_total counter\n";
  for (const auto& [key, n] : requests_)
    if (key.second >= 400)
      out << "axon_request_errors_total{model=\"" << key.first << "\",code=\"" << key.second << "\"} " << n << "\n";
  auto histogram = [&](const char* name, const char* help, const std::map<std::string, Histogram>& all) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    for (const auto& [model, h] : all) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out << name << "_bucket{model=\"" << model << "\",le=\"" << h.bounds[i] << "\"} " << cumulative << "\n";
      }
      out << name << "_bucket{model=\"" << model << "\",le=\"+Inf\"} " << h.count << "\n";
      out << name << "_sum{model=\"" << model << "\"} " << h.sum << "\n"
          << name << "_count{model=\"" << model << "\"} " << h.count << "\n";
    }
  };
  histogram("axon_request_duration_seconds", "Time from request to response.", latency_);
  histogram("axon_batch_size", "Rows per model forward pass.", batches_);
  return out.str();
}

}  // namespace axon::serve
