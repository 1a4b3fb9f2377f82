#pragma once
// Dataset: examples by index, for DataLoader to batch. TensorDataset holds two tensors
// in memory; Subset views another dataset through an index list (splits, k-fold).
#include <cstdint>
#include <memory>
#include <vector>

#include "axon/tensor.h"

namespace axon {

// One example: x without the batch axis, y likewise (a class label has shape ()).
struct Example {
  Tensor x;
  Tensor y;
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;  // throws Error when index is out of [0, size())
  virtual Shape x_shape() const = 0;             // of one example
  virtual Shape y_shape() const = 0;

  // Copies examples `indices` into x: (indices.size(), x_shape...) and y: (indices.size(),
  // y_shape...), in that order. x and y are filled in place (they may be views into
  // larger buffers; any dtype); an undefined x or y is first allocated as float32.
  // The default goes through get(); subclasses override it with something faster.
  virtual void gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const;
};

// In-memory dataset over x: (n, ...) and y: (n, ...) or (n,). get() returns views of
// row i (no copy); gather() copies whole rows with memcpy.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor x, Tensor y);

  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }

  int64_t size() const override { return x_.dim(0); }
  Example get(int64_t index) const override;
  Shape x_shape() const override;
  Shape y_shape() const override;
  void gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const override;

 private:
  Tensor x_, y_;
};

// Example i of a Subset is example indices[i] of `base`. Indices may repeat.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);

  const std::shared_ptr<const Dataset>& base() const { return base_; }
  const std::vector<int64_t>& indices() const { return indices_; }

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Shape x_shape() const override { return base_->x_shape(); }
  Shape y_shape() const override { return base_->y_shape(); }
  void gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace axon
