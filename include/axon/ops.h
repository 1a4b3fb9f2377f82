#pragma once
// Differentiable ops on Variables. Elementwise binary ops broadcast as NumPy does.
// Each op's backward rule sits beside its forward in src/autograd/.
#include <array>
#include <vector>

#include "axon/geometry.h"
#include "axon/variable.h"

namespace axon {

class Communicator;

// Arithmetic (broadcasting).
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable pow(const Variable& base, const Variable& exponent);  // base > 0 where exponent varies
Variable pow(const Variable& x, double exponent);

Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator-(const Variable& x);
Variable operator+(const Variable& a, double b);
Variable operator-(const Variable& a, double b);
Variable operator*(const Variable& a, double b);
Variable operator/(const Variable& a, double b);
Variable operator+(double a, const Variable& b);
Variable operator-(double a, const Variable& b);
Variable operator*(double a, const Variable& b);
Variable operator/(double a, const Variable& b);

// Elementwise functions.
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable abs(const Variable& x);
Variable square(const Variable& x);
Variable clamp(const Variable& x, double low, double high);

// Activations.
Variable relu(const Variable& x);
Variable leaky_relu(const Variable& x, double negative_slope = 0.01);
Variable elu(const Variable& x, double alpha = 1.0);
Variable gelu(const Variable& x);  // exact: x * Phi(x)
Variable silu(const Variable& x);  // x * sigmoid(x), a.k.a. swish
Variable sigmoid(const Variable& x);
Variable tanh(const Variable& x);
Variable softmax(const Variable& x, int64_t axis = -1);
Variable log_softmax(const Variable& x, int64_t axis = -1);

// Reductions.
Variable sum(const Variable& x);  // -> scalar
Variable sum(const Variable& x, int64_t axis, bool keepdim = false);
Variable mean(const Variable& x);
Variable mean(const Variable& x, int64_t axis, bool keepdim = false);
// The largest element along an axis; its gradient goes to that element (the first of
// equal ones).
Variable max(const Variable& x, int64_t axis, bool keepdim = false);

// Linear algebra. a: (m, k), b: (k, n) -> (m, n).
Variable matmul(const Variable& a, const Variable& b);
// x: (..., in), weight: (in, out), bias: (out,) or undefined -> (..., out). One GEMM.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);

// Shape and layout.
Variable reshape(const Variable& x, const std::vector<int64_t>& dims);  // one dim may be -1
Variable flatten(const Variable& x);                                    // (batch, ...) -> (batch, product of the rest)
Variable transpose(const Variable& x, int64_t dim0 = -2, int64_t dim1 = -1);
Variable concat(const std::vector<Variable>& parts, int64_t axis = 0);
Variable slice(const Variable& x, int64_t axis, int64_t start, int64_t end);
Variable index_select(const Variable& x, int64_t axis, const std::vector<int64_t>& indices);

// Sequences. The LSTM recurrence over every step, fused (recurrent.h's formulas):
// projected (B, T, 4U), every step's x W + b; recurrent_kernel (U, 4U); h0, c0 (B, U)
// -> (B, T, 2U), [h, c] of each step in the order the steps run (from the end with
// reverse).
Variable lstm_sequence(const Variable& projected, const Variable& recurrent_kernel, const Variable& h0,
                       const Variable& c0, bool reverse = false);

// Images, NCHW. g: the window's strides, padding and dilation, resolved (see geometry.h).
// x: (N, C, H, W), weight: (F, C, KH, KW), bias: (F,) or undefined -> (N, F, OH, OW).
// relu: max(y, 0), fused: one pass over y instead of three, and y is the only thing kept.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Geometry2D& g = {},
                bool relu = false);
// Pooling windows of `window` (dilation is ignored); average pooling does not count padding.
Variable max_pool2d(const Variable& x, Size2 window, const Geometry2D& g);
Variable avg_pool2d(const Variable& x, Size2 window, const Geometry2D& g);
// Batch normalisation over axis 1 of x (N, C, ...), one fused op: y = gamma * (x - mean)
// / sqrt(variance + epsilon) + beta. With undefined mean/variance it uses the batch's
// (biased variance), and the gradient flows through them; they are written to *batch
// when given. gamma, beta, mean, variance: (C,). With `across` (data-parallel training)
// the batch statistics are those of every rank's batch together, as is the gradient
// through them: every rank must make the same calls.
struct BatchStatistics {
  Tensor mean, variance;
};
Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& mean,
                    const Tensor& variance, double epsilon, BatchStatistics* batch = nullptr,
                    Communicator* across = nullptr);

// max_pool2d(conv2d(x, weight, bias, conv, relu), pool_window, pool) in one op that never
// holds the convolution's full output: the fusion planner runs Conv2D + MaxPool2D through it.
Variable conv2d_max_pool2d(const Variable& x, const Variable& weight, const Variable& bias, const Geometry2D& conv,
                           bool relu, Size2 pool_window, const Geometry2D& pool);

// Fused, numerically stable mean cross-entropy of softmax(logits) against class
// indices. logits: (batch, classes); labels: (batch,) holding integers in [0, classes).
Variable softmax_cross_entropy(const Variable& logits, const Tensor& labels);

}  // namespace axon
