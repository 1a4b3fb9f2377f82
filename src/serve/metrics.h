#pragma once
// The server's counters in Prometheus text format: requests by model and status code,
// a request latency histogram, and a histogram of the batch sizes the batchers ran.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace axon::serve {

class ServerMetrics {
 public:
  void record_request(const std::string& model, int status, double seconds);
  void record_batch(const std::string& model, int64_t rows);
  std::string prometheus() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // per bound, not cumulative; one more for +Inf
    double sum = 0;
    uint64_t count = 0;
    void observe(double value);
  };
  static Histogram latency_histogram();
  static Histogram batch_histogram();

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_, batches_;
};

}  // namespace axon::serve
