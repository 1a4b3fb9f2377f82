#include "metrics.h"

#include <sstream>

namespace axon::serve {

namespace {

std::string labels(const std::string& model, int64_t version) {
  return "model=\"" + model + "\",version=\"" + (version > 0 ? std::to_string(version) : std::string()) + "\"";
}

}  // namespace

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

void ServerMetrics::record_request(const std::string& model, int64_t version, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{model, version, status}];
  latency_.try_emplace({model, version}, latency_histogram()).first->second.observe(seconds);
}

void ServerMetrics::record_batch(const std::string& model, int64_t version, int64_t rows) {
  std::lock_guard lock(mutex_);
  batches_.try_emplace({model, version}, batch_histogram()).first->second.observe(static_cast<double>(rows));
}

std::string ServerMetrics::prometheus(const std::vector<QueueDepth>& queues) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "# HELP axon_requests_total Requests answered, by model, version and status.\n"
         "# TYPE axon_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [model, version, code] = key;
    out << "axon_requests_total{" << labels(model, version) << ",code=\"" << code << "\"} " << n << "\n";
  }
  out << "# HELP axon_request_errors_total Requests answered with a 4xx or 5xx status.\n"
         "# TYPE axon_request_errors_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [model, version, code] = key;
    if (code >= 400)
      out << "axon_request_errors_total{" << labels(model, version) << ",code=\"" << code << "\"} " << n << "\n";
  }
  auto histogram = [&](const char* name, const char* help, const std::map<Key, Histogram>& all) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    for (const auto& [key, h] : all) {
      const std::string l = labels(key.first, key.second);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out << name << "_bucket{" << l << ",le=\"" << h.bounds[i] << "\"} " << cumulative << "\n";
      }
      out << name << "_bucket{" << l << ",le=\"+Inf\"} " << h.count << "\n";
      out << name << "_sum{" << l << "} " << h.sum << "\n" << name << "_count{" << l << "} " << h.count << "\n";
    }
  };
  histogram("axon_request_duration_seconds", "Time from request to response.", latency_);
  histogram("axon_batch_size", "Rows per model forward pass.", batches_);
  out << "# HELP axon_queue_rows Rows waiting for a forward pass.\n# TYPE axon_queue_rows gauge\n";
  for (const QueueDepth& q : queues) out << "axon_queue_rows{" << labels(q.model, q.version) << "} " << q.rows << "\n";
  return out.str();
}

}  // namespace axon::serve
