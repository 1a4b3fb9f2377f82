#pragma once
// Checkpoints: a model file plus everything needed to continue training exactly:
// optimizer state ("optimizer.<slot>.<parameter>" tensors), and in the metadata the
// epochs done, the optimizer's step count, and the state of every random generator
// the model draws from (dropout masks). Written atomically, so a crash at any moment
// leaves either the previous checkpoint or the new one.
//
//   ModelCheckpoint (callbacks.h) saves during fit(); to resume:
//     int done = restore_checkpoint(model, "ckpt.safetensors");
//     model.fit(x, y, {.epochs = 5, .initial_epoch = done, .seed = same_seed});
#include <memory>
#include <string>

#include "axon/model.h"

namespace axon {

// `epochs_done`: completed epochs (the initial_epoch to resume with).
void save_checkpoint(const Model& model, const std::string& path, int epochs_done);
// Restores weights, optimizer state and generators into a model of the same
// architecture, compiled with the same optimizer; returns the epochs done.
int restore_checkpoint(Model& model, const std::string& path);

}  // namespace axon
