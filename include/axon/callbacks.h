#pragma once
// Callbacks: hooks that fit() calls around epochs and batches, and the ones that come
// with axon (Keras's names and behaviour). A callback acts on training only through
// the model: stop_training, the optimizer's learning rate, and get/set of the weights.
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "axon/logs.h"
#include "axon/schedules.h"
#include "axon/tensor.h"

namespace axon {

class Model;

// What fit() tells its callbacks before training starts.
struct TrainingParams {
  int epochs = 0;         // the last epoch number + 1
  int initial_epoch = 0;  // the first epoch number
  int64_t steps = 0;      // batches per epoch
  int64_t samples = 0;    // examples per epoch
  int64_t batch_size = 0;
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
  // True for a callback that prints or writes files: a data-parallel fit runs it on
  // rank 0 only (see data_parallel.h).
  virtual bool chief_only() const { return false; }

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

// Whether a smaller or larger monitored value is better; auto: larger for names with
// "acc", "auc", "precision", "recall" or "f1", else smaller.
enum class Mode { automatic, min, max };

// Stops training when `monitor` has not improved by more than min_delta for
// `patience` epochs; optionally restores the weights of the best epoch.
class EarlyStopping : public Callback {
 public:
  struct Options {
    std::string monitor = "val_loss";
    double min_delta = 0.0;
    int patience = 0;
    Mode mode = Mode::automatic;
    bool restore_best_weights = false;
    int start_from_epoch = 0;
  };
  explicit EarlyStopping(Options options);
  EarlyStopping() : EarlyStopping(Options{}) {}

  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  int stopped_epoch() const { return stopped_epoch_; }  // -1 if it never stopped
  int best_epoch() const { return best_epoch_; }

 private:
  Options options_;
  bool maximize_ = false;
  double best_ = 0;
  int best_epoch_ = -1, wait_ = 0, stopped_epoch_ = -1;
  std::vector<Tensor> best_weights_;
};

// Multiplies the learning rate by `factor` when `monitor` stalls for `patience` epochs.
class ReduceLROnPlateau : public Callback {
 public:
  struct Options {
    std::string monitor = "val_loss";
    double factor = 0.1;
    int patience = 10;
    Mode mode = Mode::automatic;
    double min_delta = 1e-4;
    int cooldown = 0;
    double min_lr = 0.0;
  };
  explicit ReduceLROnPlateau(Options options);
  ReduceLROnPlateau() : ReduceLROnPlateau(Options{}) {}

  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  Options options_;
  bool maximize_ = false;
  double best_ = 0;
  int wait_ = 0, cooldown_left_ = 0;
  bool seen_ = false;
};

// Sets the learning rate at the start of each epoch from a schedule.
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(Schedule schedule);
  void on_epoch_begin(int epoch, const Logs& logs) override;

 private:
  Schedule schedule_;
};

// Appends one CSV row per epoch (epoch, then every log) to `path`, flushed each epoch
// so a crash loses at most the running epoch.
class CSVLogger : public Callback {
 public:
  bool chief_only() const override { return true; }
  explicit CSVLogger(std::string path, bool append = false, char separator = ',');
  ~CSVLogger() override;
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  std::string path_;
  bool append_;
  char separator_;
  std::FILE* file_ = nullptr;
  std::vector<std::string> columns_;
};

// Stops training as soon as a batch's loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(int64_t batch, const Logs& logs) override;
};

// A callback from lambdas; unset hooks do nothing.
class LambdaCallback : public Callback {
 public:
  std::function<void(const Logs&)> train_begin, train_end;
  std::function<void(int, const Logs&)> epoch_begin, epoch_end;
  std::function<void(int64_t, const Logs&)> batch_begin, batch_end;

  void on_train_begin(const Logs& logs) override {
    if (train_begin) train_begin(logs);
  }
  void on_train_end(const Logs& logs) override {
    if (train_end) train_end(logs);
  }
  void on_epoch_begin(int epoch, const Logs& logs) override {
    if (epoch_begin) epoch_begin(epoch, logs);
  }
  void on_epoch_end(int epoch, const Logs& logs) override {
    if (epoch_end) epoch_end(epoch, logs);
  }
  void on_batch_begin(int64_t batch, const Logs& logs) override {
    if (batch_begin) batch_begin(batch, logs);
  }
  void on_batch_end(int64_t batch, const Logs& logs) override {
    if (batch_end) batch_end(batch, logs);
  }
};

// Keras's progress display. On a terminal (verbose 1): a live bar per epoch with step
// count, ETA, loss and metrics. Otherwise, or with verbose 2: one line per epoch.
// fit() adds one when verbose > 0.
// On a terminal, a bar redrawn in place; elsewhere (a log file, CI) a line every
// `line_seconds` during an epoch (steps, samples, samples/s, running metrics) and one
// line per epoch.
class ProgressBar : public Callback {
 public:
  bool chief_only() const override { return true; }
  explicit ProgressBar(std::FILE* out = stdout, double line_seconds = 5.0);
  void on_train_begin(const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_batch_end(int64_t batch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  void draw(int64_t step, const Logs& logs, bool final_line);

  std::FILE* out_;
  double line_seconds_;
  bool live_ = false;
  int epoch_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

// Saves a checkpoint (or, with save_weights_only, only the weights) after each epoch,
// or only when `monitor` improves with save_best_only. "{epoch}" in the path is
// replaced by the 1-based epoch number.
class ModelCheckpoint : public Callback {
 public:
  bool chief_only() const override { return true; }
  struct Options {
    std::string monitor = "val_loss";
    bool save_best_only = false;
    bool save_weights_only = false;
    Mode mode = Mode::automatic;
  };
  explicit ModelCheckpoint(std::string path, Options options);
  explicit ModelCheckpoint(std::string path) : ModelCheckpoint(std::move(path), Options{}) {}

  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  std::string path_;
  Options options_;
  bool maximize_ = false;
  double best_ = 0;
};

}  // namespace axon
