#pragma once
// What `axon train` adds around fit() so that a failed run fails loudly and leaves
// nothing bad on disk: inputs checked before training, training stopped at the first
// NaN/Inf loss, and checkpoints written only while the weights are finite.
#include <memory>
#include <string>

#include "axon/callbacks.h"
#include "axon/tensor.h"

namespace axon::cli {

// Fails "<what>: <count> values are NaN or infinite (the first at row R)" unless every
// value of x is finite.
void check_finite(const Tensor& x, const std::string& what);

// Fails unless a file can be created in the folder of `path` (tries one and removes it),
// so a run is not lost to an unwritable --out after hours of training.
void check_writable(const std::string& path, const std::string& option);

// TerminateOnNaN that remembers: diverged() says whether, and message() where.
class StopOnNonFinite : public Callback {
 public:
  void on_batch_end(int64_t batch, const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override {
    epoch_ = epoch;
    (void)logs;
  }
  bool diverged() const { return !message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  int epoch_ = 0;
  std::string message_;
};

// Passes on_train_begin / on_epoch_end to `inner` (a ModelCheckpoint) only while the
// epoch's loss and every weight are finite, so the last good checkpoint survives.
class WhileFinite : public Callback {
 public:
  explicit WhileFinite(std::shared_ptr<Callback> inner) : inner_(std::move(inner)) {}
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  bool chief_only() const override { return inner_->chief_only(); }

 private:
  std::shared_ptr<Callback> inner_;
};

}  // namespace axon::cli
