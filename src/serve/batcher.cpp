#include "batcher.h"

#include <cstring>

namespace axon::serve {

Batcher::Batcher(std::shared_ptr<Model> model, int64_t max_batch, std::chrono::microseconds batch_timeout, int64_t max_queue_rows,
                 std::function<void(int64_t)> on_batch)
    : model_(std::move(model)), max_batch_(max_batch), max_queue_rows_(max_queue_rows), batch_timeout_(batch_timeout),
      on_batch_(std::move(on_batch)), worker_([this] { run(); }) {}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  worker_.join();
}

std::optional<std::future<Tensor>> Batcher::submit(Tensor rows) {
  std::lock_guard lock(mutex_);
  if (stopping_ || queued_rows_ + rows.dim(0) > max_queue_rows_) return std::nullopt;
  queued_rows_ += rows.dim(0);
  queue_.push_back({std::move(rows), {}});
  std::future<Tensor> future = queue_.back().result.get_future();
  ready_.notify_one();
  return future;
}

void Batcher::run() {
  for (;;) {
    std::vector<Pending> batch;
    int64_t rows = 0;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to answer
      // Gather: take what is queued, then wait (briefly) for more while there is room.
      const auto deadline = std::chrono::steady_clock::now() + batch_timeout_;
      for (;;) {
        while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows.dim(0) <= max_batch_)) {
          rows += queue_.front().rows.dim(0);
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (rows >= max_batch_ || stopping_ || !queue_.empty()) break;
        if (!ready_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) break;
      }
      queued_rows_ -= rows;
    }
    // One forward pass for the whole batch, then each request gets its rows back.
    try {
      std::vector<int64_t> dims = batch.front().rows.shape().dims();
      dims[0] = rows;
      Tensor input = Tensor::empty(Shape(dims));
      int64_t at = 0;
      for (const Pending& p : batch) {
        input.rows(at, at + p.rows.dim(0)).copy_from(p.rows);
        at += p.rows.dim(0);
      }
      const Tensor output = model_->predict(input, rows);
      if (on_batch_) on_batch_(rows);
      at = 0;
      for (Pending& p : batch) {
        p.result.set_value(output.rows(at, at + p.rows.dim(0)).clone());
        at += p.rows.dim(0);
      }
    } catch (...) {
      for (Pending& p : batch) {
        try {
          p.result.set_exception(std::current_exception());
        } catch (const std::future_error&) {  // this one was answered before the failure
        }
      }
    }
  }
}

}  // namespace axon::serve
