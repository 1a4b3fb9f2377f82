#pragma once
// Dynamic batching for one model: I/O threads submit requests of a few rows each; one
// worker thread coalesces what is queued (up to max_batch rows, waiting at most
// batch_timeout for more once one request is there), runs a single predict, and hands
// each request its rows of the output. The queue is bounded: a full queue refuses at
// once instead of growing.
//
// A quick model (its last pass under quick_pass: kQuickPass, unless a test says) that is
// idle, with no batch_timeout set, runs the pass on the submitting I/O thread instead,
// once that thread has nothing else ready (idle_work.h): handing requests to the worker
// and being woken back costs two thread switches, a large share of a pass that short,
// while holding up the I/O thread for that long costs its other connections nothing
// they would notice.
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

class Batcher : public std::enable_shared_from_this<Batcher> {
 public:
  static constexpr std::chrono::microseconds kQuickPass{100};

  Batcher(std::shared_ptr<Model> model, int64_t max_batch, std::chrono::microseconds batch_timeout,
          int64_t max_queue_rows, std::function<void(int64_t rows)> on_batch,
          std::chrono::microseconds quick_pass = kQuickPass);
  ~Batcher();  // finishes what is queued, then stops

  // Called once with the request's output rows (one tensor per model output) or the
  // error that stopped its batch: on the batcher's thread, or on the submitting thread
  // when the pass ran there.
  using Done = std::function<void(std::vector<Tensor> outputs, std::exception_ptr error)>;
  // Runs `pass` on the calling thread once it has handled what is already waiting for
  // it (later_on_this_thread). Needs a Batcher owned by a shared_ptr; without either,
  // a quick pass runs inside submit().
  using Later = std::function<void(std::function<void()> pass)>;

  // One tensor of rows per model input (the same rows in each). False, and `done` is
  // never called, when the queue is full or the batcher stops.
  bool submit(std::vector<Tensor> inputs, Done done, const Later& later = nullptr);
  int64_t queued_rows() const;  // waiting, not yet in a forward pass

 private:
  struct Pending {
    std::vector<Tensor> inputs;
    int64_t rows() const { return inputs.front().dim(0); }
    Done done;
  };
  // Takes up to max_batch rows from the queue, waiting at most batch_timeout for more.
  std::vector<Pending> take(std::unique_lock<std::mutex>& lock);
  // With the lock held and no pass running: takes a batch and runs it unlocked.
  void pass(std::unique_lock<std::mutex>& lock);
  // One forward pass, then every done; returns how long the pass took.
  std::chrono::nanoseconds run(std::vector<Pending>& batch);
  void later_pass();  // the pass submit() left to `later`
  void work();        // the worker thread's loop

  std::shared_ptr<Model> model_;
  int64_t max_batch_, max_queue_rows_;
  std::chrono::microseconds batch_timeout_, quick_pass_;
  std::function<void(int64_t)> on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> queue_;
  int64_t queued_rows_ = 0;
  bool stopping_ = false;
  bool running_ = false;  // a forward pass is in progress (one at a time: plans reuse buffers)
  bool promised_ = false;  // a pass is left to `later`: it takes what queues until then
  std::chrono::nanoseconds last_pass_ = std::chrono::nanoseconds::max();  // none yet: unknown, so not quick
  std::thread worker_;
};

}  // namespace axon::serve
