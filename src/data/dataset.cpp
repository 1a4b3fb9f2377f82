#include "axon/dataset.h"

#include <cstring>

#include "kernels/parallel.h"

namespace axon {

namespace {

// The shape of a batch of `count` examples of `example` shape: (count, example...).
Shape batch_shape(int64_t count, const Shape& example) {
  std::vector<int64_t> dims{count};
  dims.insert(dims.end(), example.dims().begin(), example.dims().end());
  return Shape(std::move(dims));
}

// Allocates `out` as float32 when undefined, else checks it has the batch shape.
void prepare_output(const char* op, const char* name, Tensor& out, int64_t count, const Shape& example) {
  const Shape expected = batch_shape(count, example);
  if (!out.defined()) {
    out = Tensor::empty(expected);
    return;
  }
  if (out.shape() != expected)
    fail(op, ": ", name, " has shape ", out.shape(), ", expected ", expected, " for ", count, " examples");
}

void check_index(const char* op, int64_t index, int64_t size) {
  if (index < 0 || index >= size) fail(op, ": index ", index, " is out of range for ", size, " examples");
}

// Copies rows `indices` of src (n, row...) into dst (indices.size(), row...), converting
// the dtype when they differ. Parallel over rows when the batch is big.
void copy_rows(const Tensor& src, const std::vector<int64_t>& indices, Tensor& dst) {
  const int64_t count = static_cast<int64_t>(indices.size());
  if (count == 0) return;
  const int64_t row = src.dim(0) == 0 ? 0 : src.numel() / src.dim(0);
  if (src.dtype() == dst.dtype()) {
    const size_t row_bytes = static_cast<size_t>(row) * dtype_size(src.dtype());
    const auto* s = static_cast<const std::byte*>(src.raw());
    auto* d = static_cast<std::byte*>(dst.raw());
    kernels::parallel_for(count, row, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k)
        std::memcpy(d + static_cast<size_t>(k) * row_bytes,
                    s + static_cast<size_t>(indices[static_cast<size_t>(k)]) * row_bytes, row_bytes);
    });
    return;
  }
  dispatch_any(src.dtype(), [&](auto zero_in) {
    using In = decltype(zero_in);
    dispatch_any(dst.dtype(), [&](auto zero_out) {
      using Out = decltype(zero_out);
      const In* s = src.data<In>();
      Out* d = dst.data<Out>();
      kernels::parallel_for(count, row, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          const In* from = s + indices[static_cast<size_t>(k)] * row;
          Out* to = d + k * row;
          for (int64_t i = 0; i < row; ++i) to[i] = static_cast<Out>(from[i]);
        }
      });
    });
  });
}

// Row i of t (n, ...) as a view of shape (...).
Tensor row_view(const Tensor& t, int64_t i) {
  std::vector<int64_t> dims(t.shape().dims().begin() + 1, t.shape().dims().end());
  return t.rows(i, i + 1).reshape(dims);
}

}  // namespace

void Dataset::gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const {
  const int64_t count = static_cast<int64_t>(indices.size());
  const Shape xs = x_shape(), ys = y_shape();
  prepare_output("Dataset::gather", "x", x, count, xs);
  prepare_output("Dataset::gather", "y", y, count, ys);
  for (int64_t k = 0; k < count; ++k) {
    const Example example = get(indices[static_cast<size_t>(k)]);
    if (example.x.shape() != xs || example.y.shape() != ys)
      fail("Dataset::gather: example ", indices[static_cast<size_t>(k)], " has shapes ", example.x.shape(), " and ",
           example.y.shape(), ", expected ", xs, " and ", ys);
    row_view(x, k).copy_from(example.x);
    row_view(y, k).copy_from(example.y);
  }
}

TensorDataset::TensorDataset(Tensor x, Tensor y) : x_(std::move(x)), y_(std::move(y)) {
  if (!x_.defined() || !y_.defined()) fail("TensorDataset: x and y must be defined tensors");
  if (x_.rank() < 1) fail("TensorDataset: x needs a first (example) axis, got shape ", x_.shape());
  if (y_.rank() < 1) fail("TensorDataset: y needs a first (example) axis, got shape ", y_.shape());
  if (x_.dim(0) != y_.dim(0)) fail("TensorDataset: x has ", x_.dim(0), " examples but y has ", y_.dim(0));
}

Shape TensorDataset::x_shape() const {
  return Shape(std::vector<int64_t>(x_.shape().dims().begin() + 1, x_.shape().dims().end()));
}
Shape TensorDataset::y_shape() const {
  return Shape(std::vector<int64_t>(y_.shape().dims().begin() + 1, y_.shape().dims().end()));
}

Example TensorDataset::get(int64_t index) const {
  check_index("TensorDataset::get", index, size());
  return Example{row_view(x_, index), row_view(y_, index)};
}

void TensorDataset::gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const {
  const int64_t count = static_cast<int64_t>(indices.size());
  for (int64_t i : indices) check_index("TensorDataset::gather", i, size());
  prepare_output("TensorDataset::gather", "x", x, count, x_shape());
  prepare_output("TensorDataset::gather", "y", y, count, y_shape());
  copy_rows(x_, indices, x);
  copy_rows(y_, indices, y);
}

Subset::Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  if (!base_) fail("Subset: the base dataset is null");
  const int64_t n = base_->size();
  for (size_t k = 0; k < indices_.size(); ++k)
    if (indices_[k] < 0 || indices_[k] >= n)
      fail("Subset: indices[", k, "] = ", indices_[k], " is out of range for a dataset of ", n, " examples");
}

Example Subset::get(int64_t index) const {
  check_index("Subset::get", index, size());
  return base_->get(indices_[static_cast<size_t>(index)]);
}

void Subset::gather(const std::vector<int64_t>& indices, Tensor& x, Tensor& y) const {
  std::vector<int64_t> mapped(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    check_index("Subset::gather", indices[k], size());
    mapped[k] = indices_[static_cast<size_t>(indices[k])];
  }
  base_->gather(mapped, x, y);
}

}  // namespace axon
