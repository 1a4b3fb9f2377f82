#include "batcher.h"

#include <algorithm>
#include <cstring>

namespace axon::serve {

Batcher::Batcher(std::shared_ptr<Model> model, int64_t max_batch, std::chrono::microseconds batch_timeout,
                 int64_t max_queue_rows, std::function<void(int64_t)> on_batch, std::chrono::microseconds quick_pass)
    : model_(std::move(model)),
      max_batch_(max_batch),
      max_queue_rows_(max_queue_rows),
      batch_timeout_(batch_timeout),
      quick_pass_(quick_pass),
      on_batch_(std::move(on_batch)),
      worker_([this] { work(); }) {}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  worker_.join();
}

bool Batcher::submit(std::vector<Tensor> inputs, Done done, const Later& later) {
  std::unique_lock lock(mutex_);
  const int64_t rows = inputs.front().dim(0);
  if (stopping_ || queued_rows_ + rows > max_queue_rows_) return false;
  queued_rows_ += rows;
  queue_.push_back({std::move(inputs), std::move(done)});
  if (running_) return true;  // the pass in progress takes it next
  if (promised_) {
    // The promised pass takes it, unless the batch is full now: then it runs here, since a
    // thread that always has more ready (a flood of requests) would never get to it.
    if (queued_rows_ < std::min(max_batch_, max_queue_rows_)) return true;
  } else if (batch_timeout_.count() > 0 || last_pass_ > quick_pass_) {
    ready_.notify_one();
    return true;
  } else if (std::shared_ptr<Batcher> self = later ? weak_from_this().lock() : nullptr) {
    promised_ = true;  // idle and quick: the pass runs on this thread, once it is idle
    lock.unlock();
    later([self] { self->later_pass(); });
    return true;
  }
  pass(lock);
  return true;
}

void Batcher::later_pass() {
  std::unique_lock lock(mutex_);
  promised_ = false;
  if (running_ || queue_.empty()) return;  // a stopping worker took it
  pass(lock);
}

void Batcher::pass(std::unique_lock<std::mutex>& lock) {
  running_ = true;
  std::vector<Pending> batch = take(lock);
  lock.unlock();
  const std::chrono::nanoseconds took = run(batch);
  lock.lock();
  running_ = false;
  last_pass_ = took;
  if (!queue_.empty()) ready_.notify_one();  // the worker takes the rest
}

int64_t Batcher::queued_rows() const {
  std::lock_guard lock(mutex_);
  return queued_rows_;
}

std::vector<Batcher::Pending> Batcher::take(std::unique_lock<std::mutex>& lock) {
  std::vector<Pending> batch;
  int64_t rows = 0;
  // Take what is queued, then wait (at most batch_timeout) for more while there is room.
  const auto deadline = std::chrono::steady_clock::now() + batch_timeout_;
  for (;;) {
    while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows() <= max_batch_)) {
      rows += queue_.front().rows();
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (rows >= max_batch_ || stopping_ || !queue_.empty() || batch_timeout_.count() == 0) break;
    if (!ready_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) break;
  }
  queued_rows_ -= rows;
  return batch;
}

void Batcher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // A pass promised to an I/O thread is left to it, unless stopping: a promise that
    // is never kept (its I/O loop stopped first) ends this batcher.
    ready_.wait(lock, [&] { return (stopping_ || (!queue_.empty() && !promised_)) && !running_; });
    if (queue_.empty()) return;  // stopping, and nothing left to answer
    pass(lock);
  }
}

std::chrono::nanoseconds Batcher::run(std::vector<Pending>& batch) {
  const auto start = std::chrono::steady_clock::now();
  int64_t rows = 0;
  for (const Pending& p : batch) rows += p.rows();
  std::vector<Tensor> outputs;
  std::exception_ptr error;
  try {
    std::vector<Tensor> inputs;  // a batch of one request runs on its own tensors
    for (size_t i = 0; i < batch.front().inputs.size() && batch.size() > 1; ++i) {
      std::vector<int64_t> dims = batch.front().inputs[i].shape().dims();
      dims[0] = rows;
      Tensor input = Tensor::empty(Shape(dims));
      int64_t at = 0;
      for (const Pending& p : batch) {
        input.rows(at, at + p.rows()).copy_from(p.inputs[i]);
        at += p.rows();
      }
      inputs.push_back(std::move(input));
    }
    outputs = model_->predict(batch.size() > 1 ? inputs : batch.front().inputs, rows);
    if (on_batch_) on_batch_(rows);
  } catch (...) {
    error = std::current_exception();
  }
  const auto took = std::chrono::steady_clock::now() - start;
  int64_t at = 0;
  for (Pending& p : batch) {
    std::vector<Tensor> mine;
    if (!error && batch.size() == 1)
      mine = std::move(outputs);
    else if (!error)
      for (const Tensor& output : outputs) mine.push_back(output.rows(at, at + p.rows()).clone());
    p.done(std::move(mine), error);
    at += p.rows();
  }
  return took;
}

}  // namespace axon::serve
