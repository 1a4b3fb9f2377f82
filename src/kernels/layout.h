#pragma once
// Kernels that move elements without arithmetic: transpose, permute, concat, slice, gather.
#include <vector>

#include "axon/tensor.h"

namespace axon::kernels {

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);  // swaps two axes (copy)
// Output axis i is input axis order[i] (copy); order names each axis once.
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor concat(const std::vector<Tensor>& parts, int64_t axis);
// Elements [start, end) along axis.
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);
// Adds g (shaped like slice(x, axis, start, end)) into a zero tensor of `shape`.
Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t axis, int64_t start);
// Rows `indices` along axis; each index in [0, x.dim(axis)).
Tensor index_select(const Tensor& x, int64_t axis, const std::vector<int64_t>& indices);
// The adjoint of index_select: scatters g back, summing repeated indices.
Tensor index_add(const Tensor& g, const Shape& shape, int64_t axis, const std::vector<int64_t>& indices);

}  // namespace axon::kernels
