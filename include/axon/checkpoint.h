#pragma once
// Checkpoints: a model file plus everything needed to continue training exactly:
// optimizer state ("optimizer.<slot>.<parameter>" tensors), and in the metadata the
// epochs done, the optimizer's step count, and the state of every random generator
// the model draws from (dropout masks). Written atomically, so a crash at any moment
// leaves either the previous checkpoint or the new one.
//
//   ModelCheckpoint saves during fit(); to resume:
//     int done = restore_checkpoint(model, "ckpt.safetensors");
//     model.fit(x, y, {.epochs = 5, .initial_epoch = done, .seed = same_seed});
#include <memory>
#include <string>

#include "axon/callbacks.h"
#include "axon/model.h"

namespace axon {

// `epochs_done`: completed epochs (the initial_epoch to resume with).
void save_checkpoint(const Model& model, const std::string& path, int epochs_done);
// Restores weights, optimizer state and generators into a model of the same
// architecture, compiled with the same optimizer; returns the epochs done.
int restore_checkpoint(Model& model, const std::string& path);

// Saves a checkpoint (or, with save_weights_only, only the weights) after each epoch,
// or only when `monitor` improves with save_best_only. "{epoch}" in the path is
// replaced by the 1-based epoch number.
class ModelCheckpoint : public Callback {
 public:
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
