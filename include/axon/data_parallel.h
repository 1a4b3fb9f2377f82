#pragma once
// Data-parallel training, as PyTorch's DistributedDataParallel and Keras's
// MultiWorkerMirroredStrategy: one model trained by several processes (ranks) at once,
// each on its share of every batch, with the gradients summed over all of them so
// that every rank takes the same optimizer step and the weights stay identical.
//
//   model->compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
//   model->distribute({.communicator = axon::mpi_world()});
//   model->fit(x, y, {.epochs = 3, .batch_size = 64});  // mpirun -np 4 ./train
//
// What a distributed fit does (N ranks, each given the same x, y and options):
// - batch_size is per rank: a step takes the next N * batch_size rows of the epoch's
//   shuffled order (the same order on every rank, from `seed`), rank r the r-th share;
//   over an epoch the ranks' shares are the epoch's rows, each once. The step's loss is
//   the mean over all N * batch_size rows, so N ranks at batch B take the steps one
//   process takes at batch N * B, to float rounding.
// - Gradients are summed in buckets (bucket_bytes) on the communicator's thread, each
//   as soon as the backward pass has finished it, overlapping the rest of the pass.
// - Rank 0's weights are copied to every rank when fit starts (also after a resume).
// - Logs and History hold global figures on every rank: losses and metrics are
//   combined over the ranks (Metric::state/merge) at each epoch's end. (The running
//   figures on_batch_end sees, and the progress bar shows, are each rank's own.) Callbacks that
//   print or write files (chief_only(): ProgressBar, CSVLogger, ModelCheckpoint,
//   HtmlReport) run on rank 0 only; the others run everywhere on the same logs, so
//   EarlyStopping or ReduceLROnPlateau decide alike; stop_training set on any rank
//   stops every rank after that batch.
// - BatchNormalization takes each rank's own batch statistics, or the global batch's
//   when made with synchronized = true; the moving statistics are averaged over the
//   ranks at each epoch's end.
// - evaluate shares its rows among the ranks and combines the figures; predict runs on
//   each rank alone.
// Every rank must make the same calls (fit, evaluate) in the same order: they are
// collectives. A rank that gets no answer within the communicator's timeout ends the job.
#include <cstdint>
#include <memory>

#include "axon/communicator.h"

namespace axon {

struct DataParallel {
  std::shared_ptr<Communicator> communicator;  // the ranks that train together, e.g. mpi_world()
  // Gradients travel in buckets of about this many bytes: smaller ones start summing
  // sooner, larger ones pay the per-message latency fewer times.
  int64_t bucket_bytes = 1 << 20;
};

}  // namespace axon
