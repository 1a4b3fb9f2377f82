#pragma once
// DataLoader: serves a Dataset in batches, in order or shuffled afresh each epoch, as
// torch.utils.data.DataLoader. Batches are filled into two buffers allocated once:
//
//   DataLoader loader(dataset, 128, /*shuffle=*/true, /*seed=*/1);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     loader.start_epoch();
//     for (int64_t b = 0; b < loader.num_batches(); ++b) { Batch batch = loader.batch(b); ... }
//   }
#include <cstdint>
#include <memory>
#include <vector>

#include "axon/augmentation.h"
#include "axon/dataset.h"
#include "axon/random.h"
#include "axon/tensor.h"

namespace axon {

// x: (rows, x_shape...), y: (rows, y_shape...), float32. Views into the loader's buffers:
// valid until the next batch() call on the same loader.
struct Batch {
  Tensor x;
  Tensor y;
};

class DataLoader {
 public:
  // batch_size >= 1; the dataset must hold at least one example (and, with drop_last, at
  // least batch_size). The order depends on `seed` only: the same seed gives the same
  // sequence of epochs.
  DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle = false, uint64_t seed = 0,
             bool drop_last = false);

  // Serves rank `rank` of `ranks` its share of every batch, for data-parallel training:
  // batch b is then rows [b, b + 1) * ranks * batch_size of the epoch's order (the same
  // on every rank with the same seed), split into `ranks` near-equal contiguous shares.
  // A last batch of fewer rows than ranks is left out, so no share is ever empty.
  void shard(int rank, int ranks);

  int64_t num_batches() const;  // ceil(n / (ranks * batch_size)), or floor with drop_last (see shard)
  // The rows batch b holds over all ranks (its own rows without shard()).
  int64_t global_batch_rows(int64_t b) const;
  int64_t size() const;  // examples served per epoch (fewer than the dataset's with drop_last)
  int64_t batch_size() const { return batch_size_; }
  const Dataset& dataset() const { return *dataset_; }

  // Starts a new epoch: a fresh permutation from the loader's own Generator when
  // shuffling, else 0..n-1. batch() starts the first epoch itself if not called.
  void start_epoch();
  // Fills the buffers with batch b in [0, num_batches()) of the current epoch's order.
  // The last batch may be smaller: a view of the first rows of the same buffers.
  Batch batch(int64_t b);

  // Random augmentations applied, in order, to every batch's x from now on (x must be
  // images: (channels, height, width) per example). Their draws come from a Generator
  // seeded by (seed, epoch, batch): the same on every run and on a resumed one.
  void set_augmentations(Augmentations augmentations, uint64_t seed);

 private:
  std::shared_ptr<const Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_;
  bool drop_last_;
  int rank_ = 0, ranks_ = 1;
  Generator generator_;
  Augmentations augmentations_;
  uint64_t augmentation_seed_ = 0;
  int64_t epoch_ = -1;                  // epochs started, minus one
  std::vector<int64_t> order_;          // the current epoch's order; empty before the first epoch
  std::vector<int64_t> batch_indices_;  // scratch, capacity batch_size: reused by every batch
  Tensor x_buffer_, y_buffer_;          // (min(batch_size, n), x_shape...) and (.., y_shape...)
};

}  // namespace axon
