#include "axon/data_loader.h"

#include <algorithm>
#include <numeric>

namespace axon {

namespace {

Shape with_rows(int64_t rows, const Shape& example) {
  std::vector<int64_t> dims{rows};
  dims.insert(dims.end(), example.dims().begin(), example.dims().end());
  return Shape(std::move(dims));
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle, uint64_t seed,
                       bool drop_last)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      generator_(seed) {
  if (!dataset_) fail("DataLoader: the dataset is null");
  if (batch_size_ < 1) fail("DataLoader: batch_size must be at least 1, got ", batch_size_);
  const int64_t n = dataset_->size();
  if (n < 1) fail("DataLoader: the dataset is empty");
  if (drop_last_ && n < batch_size_)
    fail("DataLoader: with drop_last, batch_size ", batch_size_, " is larger than the dataset (", n,
         " examples) and leaves no batch");
  const int64_t rows = std::min(batch_size_, n);
  x_buffer_ = Tensor::empty(with_rows(rows, dataset_->x_shape()));
  y_buffer_ = Tensor::empty(with_rows(rows, dataset_->y_shape()));
  batch_indices_.reserve(static_cast<size_t>(rows));
}

void DataLoader::shard(int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks)
    fail("DataLoader::shard: rank ", rank, " is not one of ", ranks, " ranks");
  if (batch_size_ > INT64_MAX / ranks)
    fail("DataLoader::shard: ", ranks, " ranks x batch_size ", batch_size_, " overflows");
  rank_ = rank, ranks_ = ranks;
}

// Sharded, a last step of fewer rows than ranks is left out: every rank's share of
// every step holds a row (a synchronized layer needs every rank in every step).
int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), step = batch_size_ * ranks_;
  return n / step + (!drop_last_ && n % step >= ranks_);  // no n + step - 1: it overflows for huge batches
}

int64_t DataLoader::global_batch_rows(int64_t b) const {
  const int64_t step = batch_size_ * ranks_;
  return std::min(step, size() - b * step);
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size(), step = batch_size_ * ranks_;
  return n / step * step + (num_batches() > n / step ? n % step : 0);
}

void DataLoader::start_epoch() {
  ++epoch_;
  const int64_t n = dataset_->size();
  if (shuffle_) {
    order_ = generator_.permutation(n);
  } else {
    order_.resize(static_cast<size_t>(n));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
}

Batch DataLoader::batch(int64_t b) {
  if (b < 0 || b >= num_batches())
    fail("DataLoader::batch: batch ", b, " is out of range for ", num_batches(), " batches");
  if (order_.empty()) start_epoch();
  // This rank's share of the step's rows [first, first + rows).
  const int64_t first = b * batch_size_ * ranks_, rows = global_batch_rows(b);
  const int64_t begin = first + rows * rank_ / ranks_, end = first + rows * (rank_ + 1) / ranks_;
  batch_indices_.assign(order_.begin() + begin, order_.begin() + end);  // within reserved capacity
  Batch batch{x_buffer_.rows(0, end - begin), y_buffer_.rows(0, end - begin)};
  dataset_->gather(batch_indices_, batch.x, batch.y);
  if (!augmentations_.empty()) {
    Generator generator(augmentation_seed_ ^ (static_cast<uint64_t>(epoch_) * 0x9E3779B97F4A7C15ull) ^
                        (static_cast<uint64_t>(b) * 0xC2B2AE3D27D4EB4Full));
    for (const auto& augmentation : augmentations_) augmentation->apply(batch.x, generator);
  }
  return batch;
}

void DataLoader::set_augmentations(Augmentations augmentations, uint64_t seed) {
  for (const auto& augmentation : augmentations) {
    if (!augmentation) fail("DataLoader: an augmentation is null");
    if (dataset_->x_shape().rank() != 3)
      fail("DataLoader: ", augmentation->name(), " needs images (channels, height, width) per example, got ",
           dataset_->x_shape());
  }
  augmentations_ = std::move(augmentations);
  augmentation_seed_ = seed;
}

}  // namespace axon
