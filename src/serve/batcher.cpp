#include "batcher.h"

#include <cstring>

namespace axon::serve {

Batcher::Batcher(std::shared_ptr<Model> model, int64_t max_batch, std::chrono::microseconds batch_timeout,
                 int64_t max_queue_rows, std::function<void(int64_t)> on_batch)
    : model_(std::move(model)),
      max_batch_(max_batch),
      max_queue_rows_(max_queue_rows),
      batch_timeout_(batch_timeout),
      on_batch_(std::move(on_batch)),
      worker_([this] { run(); }) {}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  worker_.join();
}

bool Batcher::submit(std::vector<Tensor> inputs, Done done) {
  std::lock_guard lock(mutex_);
  const int64_t rows = inputs.front().dim(0);
  if (stopping_ || queued_rows_ + rows > max_queue_rows_) return false;
  queued_rows_ += rows;
  queue_.push_back({std::move(inputs), std::move(done)});
  ready_.notify_one();
  return true;
}

int64_t Batcher::queued_rows() const {
  std::lock_guard lock(mutex_);
  return queued_rows_;
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
        while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows() <= max_batch_)) {
          rows += queue_.front().rows();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (rows >= max_batch_ || stopping_ || !queue_.empty()) break;
        if (!ready_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) break;
      }
      queued_rows_ -= rows;
    }
    // One forward pass for the whole batch, then each request gets its rows back.
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
  }
}

}  // namespace axon::serve
