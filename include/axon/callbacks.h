#pragma once
// The callbacks that come with axon (Keras's names and behaviour).
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "axon/callback.h"
#include "axon/schedules.h"
#include "axon/tensor.h"

namespace axon {

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

  void on_train_begin(const Logs& logs) override { if (train_begin) train_begin(logs); }
  void on_train_end(const Logs& logs) override { if (train_end) train_end(logs); }
  void on_epoch_begin(int epoch, const Logs& logs) override { if (epoch_begin) epoch_begin(epoch, logs); }
  void on_epoch_end(int epoch, const Logs& logs) override { if (epoch_end) epoch_end(epoch, logs); }
  void on_batch_begin(int64_t batch, const Logs& logs) override { if (batch_begin) batch_begin(batch, logs); }
  void on_batch_end(int64_t batch, const Logs& logs) override { if (batch_end) batch_end(batch, logs); }
};

// Keras's progress display. On a terminal (verbose 1): a live bar per epoch with step
// count, ETA, loss and metrics. Otherwise, or with verbose 2: one line per epoch.
// fit() adds one when verbose > 0.
class ProgressBar : public Callback {
 public:
  explicit ProgressBar(std::FILE* out = stdout);
  void on_train_begin(const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_batch_end(int64_t batch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  void draw(int64_t step, const Logs& logs, bool final_line);

  std::FILE* out_;
  bool live_ = false;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace axon
