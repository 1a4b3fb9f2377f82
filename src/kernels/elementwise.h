#pragma once
// Elementwise kernels: unary maps with their derivatives, and binary ops with NumPy
// broadcasting. Parallel on the thread pool above kParallelThreshold elements.
#include <vector>

#include "axon/tensor.h"

namespace axon::kernels {

enum class Unary {
  neg,
  exp,
  log,
  sqrt,
  abs,
  square,
  relu,
  leaky_relu,
  elu,
  gelu,
  silu,
  sigmoid,
  tanh,
  clamp,
  pow_scalar,
  sign,
};
// Extra arguments of the parametrised ops: leaky_relu (a = slope), elu (a = alpha),
// clamp (a = low, b = high), pow_scalar (a = exponent).
struct UnaryArgs {
  double a = 0, b = 0;
};

Tensor unary(Unary op, const Tensor& x, UnaryArgs args = {});
// d(loss)/dx given x, y = unary(op, x) and g = d(loss)/dy.
Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& g, UnaryArgs args = {});

enum class Binary { add, sub, mul, div, pow };

Tensor binary(Binary op, const Tensor& a, const Tensor& b);  // broadcasting, parallel
// Strides (in elements) of `shape` laid against the broadcast shape `out`: 0 on
// broadcast axes, so one index walks both.
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out);
Tensor binary_naive(Binary op, const Tensor& a, const Tensor& b);  // reference: one index at a time

// a * s elementwise, for a scalar s.
Tensor scale(const Tensor& a, double s);

}  // namespace axon::kernels
