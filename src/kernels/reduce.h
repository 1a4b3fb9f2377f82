#pragma once
// Reductions and the softmax family. An axis reduction views x as (outer, n, inner)
// around the reduced axis of length n.
#include <vector>

#include "axon/tensor.h"

namespace axon::kernels {

Tensor sum_all(const Tensor& x);  // -> scalar (shape ()), accumulated in float64
Tensor sum_axis(const Tensor& x, int64_t axis, bool keepdim);
Tensor sum_axis_naive(const Tensor& x, int64_t axis, bool keepdim);
// Sums x down to `shape`, undoing a broadcast from `shape` to x.shape().
Tensor sum_to(const Tensor& x, const Shape& shape);
// Copies x up to the broadcast shape `shape` (the inverse of sum_to).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

struct MaxResult {
  Tensor values;                 // x's shape without the axis (or with 1 if keepdim)
  std::vector<int64_t> indices;  // argmax along the axis, one per output element
};
MaxResult max_axis(const Tensor& x, int64_t axis, bool keepdim);

Tensor softmax(const Tensor& x, int64_t axis);
// softmax(x, axis) written over x (the inference plan's activation after a Dense).
void softmax_in_place(Tensor& x, int64_t axis);
Tensor log_softmax(const Tensor& x, int64_t axis);
Tensor softmax_naive(const Tensor& x, int64_t axis);
// Given y = softmax(x) (or log_softmax(x)) and g = dL/dy, returns dL/dx.
Tensor softmax_backward(const Tensor& y, const Tensor& g, int64_t axis);
Tensor log_softmax_backward(const Tensor& y, const Tensor& g, int64_t axis);

}  // namespace axon::kernels
