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

// Linear algebra. a: (m, k), b: (k, n) -> (m, n); batched over leading axes:
// a (..., m, k), b (..., k, n) with the same leading axes, or b (k, n) for all -> (..., m, n).
Variable matmul(const Variable& a, const Variable& b);
// x: (..., in), weight: (in, out), bias: (out,) or undefined -> (..., out). One GEMM.
// relu: max(y, 0) applied in the same op (one pass instead of an op of its own, and
// nothing more kept for backward).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias, bool relu = false);

// Shape and layout.
Variable reshape(const Variable& x, const std::vector<int64_t>& dims);  // one dim may be -1
Variable flatten(const Variable& x);                                    // (batch, ...) -> (batch, product of the rest)
Variable transpose(const Variable& x, int64_t dim0 = -2, int64_t dim1 = -1);
// Axes reordered: output axis i is input axis order[i] (numpy's transpose(x, order)).
Variable permute(const Variable& x, const std::vector<int64_t>& order);
Variable concat(const std::vector<Variable>& parts, int64_t axis = 0);
Variable slice(const Variable& x, int64_t axis, int64_t start, int64_t end);
// numpy's stack (parts of one shape joined along a new axis) and split (x cut along an
// axis into pieces of these sizes, which must add up to its length), made of reshape,
// concat and slice.
Variable stack(const std::vector<Variable>& parts, int64_t axis = 0);
std::vector<Variable> split(const Variable& x, const std::vector<int64_t>& sizes, int64_t axis = 0);
Variable index_select(const Variable& x, int64_t axis, const std::vector<int64_t>& indices);

// Layer normalisation over the last axis, one fused op: (x - mean) / sqrt(variance +
// epsilon) * gamma + beta, biased variance. x (..., F); gamma, beta (F,).
Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, double epsilon);

// Scaled dot-product attention, fused, in the layout multi-head attention's projections
// give: query (B, Tq, H, D), key (B, Tk, H, D), value (B, Tk, H, Dv) -> (B, Tq, H, Dv),
// out[b, i, h] = sum_j softmax_j(scale * query[b, i, h] . key[b, j, h]) value[b, j, h]
// over the keys query i sees. With causal, query i sees keys j <= i + Tk - Tq (the
// queries are the last Tq steps); with key_mask (B, Tk) of 0/1, only keys marked 1. A
// query that sees no key gets zeros. Dropout zeroes probabilities at that rate (scaling
// the rest), drawn from `seed`. Tiled (the default) keeps only a log-sum-exp per query for
// backward, computing in blocks with an online softmax; plain keeps the probabilities
// (B, H, Tq, Tk). Both give the same results (see docs/sequence.md for which is faster).
struct AttentionOptions {
  double scale = 0;  // 0: 1 / sqrt(D)
  bool causal = false;
  Tensor key_mask;
  double dropout = 0;
  uint64_t seed = 0;
  bool plain = false;
  int64_t block = 64;  // tiled: queries and keys per block
};
Variable attention(const Variable& query, const Variable& key, const Variable& value,
                   const AttentionOptions& options = {});

// Sequences. The LSTM recurrence over every step, fused (recurrent.h's formulas):
// projected (B, T, 4U), every step's x W + b; recurrent_kernel (U, 4U); h0, c0 (B, U)
// -> (B, T, 2U), [h, c] of each step in the order the steps run (from the end with
// reverse). mask (B, T) of 0/1 by input step, or undefined: at a step marked 0 (padding)
// h and c carry over unchanged. dropped (B, U), or undefined: recurrent dropout's mask,
// multiplying h where it meets the recurrent kernel at every step.
Variable lstm_sequence(const Variable& projected, const Variable& recurrent_kernel, const Variable& h0,
                       const Variable& c0, bool reverse = false, const Tensor& mask = {}, const Tensor& dropped = {});

// The GRU recurrence (reset_after, recurrent.h's formulas) over every step, fused:
// projected (B, T, 3U), every step's x W + b_in; recurrent_kernel (U, 3U);
// recurrent_bias (3U) or undefined; h0 (B, U) -> (B, T, U), h of each step in the order
// the steps run. mask and dropped as lstm_sequence's.
Variable gru_sequence(const Variable& projected, const Variable& recurrent_kernel, const Variable& recurrent_bias,
                      const Variable& h0, bool reverse = false, const Tensor& mask = {}, const Tensor& dropped = {});

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
