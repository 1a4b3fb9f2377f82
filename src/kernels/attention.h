#pragma once
// Scaled dot-product attention, fused, in the heads-inside layout that multi-head
// attention's projections produce without a transpose:
//   q (B, Tq, H, D), k (B, Tk, H, D), v (B, Tk, H, Dv) -> out (B, Tq, H, Dv)
//   out[b, i, h] = sum_j p[b, h, i, j] v[b, j, h],
//   p[b, h, i, :] = softmax_j(scale * q[b, i, h] . k[b, j, h]) over the keys query i sees.
// Query i sees key j unless causal and j > i + Tk - Tq (queries are the last Tq steps of
// the keys' sequence, as in incremental decoding), or key_mask[b, j] == 0. A query that
// sees no key gets zeros. With dropout, each probability is zeroed with that rate and the
// rest scaled by 1 / (1 - rate), the choice a hash of (seed, b, h, i, j) so that backward
// recomputes it.
//
// Two ways to run it, chosen by `keep_probabilities`:
//   plain: one block of every query and key per head; p (B, H, Tq, Tk) kept for backward.
//   tiled: blocks of queries and keys with an online softmax (FlashAttention); only the
//     log-sum-exp (B, H, Tq) is kept and backward recomputes each block's p.
#include <cstdint>

#include "axon/tensor.h"

namespace axon::kernels {

struct AttentionSettings {
  double scale = 1;
  bool causal = false;
  Tensor key_mask;  // (B, Tk) of 0/1, or undefined
  double dropout = 0;
  uint64_t seed = 0;
  bool keep_probabilities = false;  // plain instead of tiled
  int64_t block = 64;               // tiled: queries and keys per block
};

struct AttentionSaved {
  Tensor out;            // (B, Tq, H, Dv)
  Tensor log_sum_exp;    // (B, H, Tq); +inf for a query that sees no key
  Tensor probabilities;  // plain only: (B, H, Tq, Tk), before dropout
};

struct AttentionGradients {
  Tensor query, key, value;
};

AttentionSaved attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSettings& settings);
AttentionGradients attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                      const AttentionSaved& saved, const AttentionSettings& settings);

// The reference: the formulas above as loops in double, for tests.
Tensor attention_forward_naive(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionSettings& settings);
AttentionGradients attention_backward_naive(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                            const AttentionSettings& settings);

}  // namespace axon::kernels
