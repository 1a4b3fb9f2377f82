#pragma once
// The server's counters in Prometheus text format, by model and version: requests by
// status code, a request latency histogram, a histogram of the batch sizes the batchers
// ran, and (given at each scrape) the rows waiting in each batcher's queue.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace axon::serve {

class ServerMetrics {
 public:
  // version 0: the request named no model that is served ("unknown" model).
  void record_request(const std::string& model, int64_t version, int status, double seconds);
  void record_batch(const std::string& model, int64_t version, int64_t rows);

  struct QueueDepth {
    std::string model;
    int64_t version;
    int64_t rows;
  };
  std::string prometheus(const std::vector<QueueDepth>& queues) const;

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
  using Key = std::pair<std::string, int64_t>;  // model, version

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, int64_t, int>, uint64_t> requests_;
  std::map<Key, Histogram> latency_, batches_;
};

}  // namespace axon::serve
