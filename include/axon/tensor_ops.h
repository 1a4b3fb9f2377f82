#pragma once
// Plain arithmetic on Tensors, as NumPy and PyTorch tensors do it, for people who write
// their own loops: no graph and no gradients (Variables and ops.h have those).
//   Tensor c = a + b * 2;  Tensor hits = sum(argmax(scores, 1) == labels);
// Binary ops broadcast as NumPy. The result type is the wider operand's, in the order
// int32 < int64 < float32 < float64 (a double scalar keeps the tensor's type, as
// PyTorch); integers divided give float32. Integer math is exact, and fails on
// overflow instead of wrapping. Comparisons give int32 1 (true) or 0 (false).
#include <cstdint>

#include "axon/tensor.h"

namespace axon {

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double b);
Tensor operator!=(const Tensor& a, double b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);

// a: (m, k), b: (k, n) -> (m, n), one GEMM for floats; exact for integers.
Tensor matmul(const Tensor& a, const Tensor& b);

// Reductions over every element (a 0-d tensor) or one axis (negative counts from the
// end; keepdim leaves it as size 1). Sums of integers are int64; means are float
// (float64 for int64, else the input's float type); max and min keep the type.
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int64_t axis, bool keepdim = false);
// Index (int64) of the largest element along `axis`, the first one on ties.
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);

}  // namespace axon
