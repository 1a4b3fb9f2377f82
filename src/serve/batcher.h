#pragma once
// Dynamic batching for one model: I/O threads submit requests of a few rows each; one
// worker thread coalesces what is queued (up to max_batch rows, waiting at most
// batch_timeout for more once one request is there), runs a single predict, and hands
// each request its rows of the output. The queue is bounded: a full queue refuses at
// once instead of growing.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "axon/model.h"

namespace axon::serve {

class Batcher {
 public:
  Batcher(std::shared_ptr<Model> model, int64_t max_batch, std::chrono::microseconds batch_timeout,
          int64_t max_queue_rows, std::function<void(int64_t rows)> on_batch);
  ~Batcher();  // finishes what is queued, then stops

  // Called once on the batcher's thread with the request's output rows (one tensor per
  // model output) or the error that stopped its batch.
  using Done = std::function<void(std::vector<Tensor> outputs, std::exception_ptr error)>;

  // One tensor of rows per model input (the same rows in each). False, and `done` is
  // never called, when the queue is full or the batcher stops.
  bool submit(std::vector<Tensor> inputs, Done done);
  int64_t queued_rows() const;  // waiting, not yet in a forward pass

 private:
  struct Pending {
    std::vector<Tensor> inputs;
    int64_t rows() const { return inputs.front().dim(0); }
    Done done;
  };
  void run();

  std::shared_ptr<Model> model_;
  int64_t max_batch_, max_queue_rows_;
  std::chrono::microseconds batch_timeout_;
  std::function<void(int64_t)> on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> queue_;
  int64_t queued_rows_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace axon::serve
