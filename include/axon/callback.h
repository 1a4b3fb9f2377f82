#pragma once
// Callback: hooks that fit() calls around epochs and batches. A callback acts on
// training only through the model: stop_training, the optimizer's learning rate, and
// get/set of the weights.
#include "axon/logs.h"

namespace axon {

class Model;

// What fit() tells its callbacks before training starts.
struct TrainingParams {
  int epochs = 0;         // the last epoch number + 1
  int initial_epoch = 0;  // the first epoch number
  int64_t steps = 0;      // batches per epoch
  int verbose = 0;
};

class Callback {
 public:
  virtual ~Callback() = default;

  virtual void on_train_begin(const Logs& logs) { (void)logs; }
  virtual void on_train_end(const Logs& logs) { (void)logs; }
  virtual void on_epoch_begin(int epoch, const Logs& logs) { (void)epoch, (void)logs; }
  virtual void on_epoch_end(int epoch, const Logs& logs) { (void)epoch, (void)logs; }
  virtual void on_batch_begin(int64_t batch, const Logs& logs) { (void)batch, (void)logs; }
  virtual void on_batch_end(int64_t batch, const Logs& logs) { (void)batch, (void)logs; }

  // Called by fit() before on_train_begin.
  void set_context(Model* model, const TrainingParams& params) {
    model_ = model;
    params_ = params;
  }

 protected:
  Model& model() const;
  const TrainingParams& params() const { return params_; }

 private:
  Model* model_ = nullptr;
  TrainingParams params_;
};

}  // namespace axon
