#pragma once
// Layer normalisation over the last axis, fused: one pass for the statistics and one for
// y, and a backward of two passes that needs only x's mean and 1/deviation per row.
//   x (..., F) viewed as rows (R, F); gamma, beta (F,).
//   y = (x - mean) * inv * gamma + beta, inv = 1 / sqrt(variance + epsilon) (biased variance).
#include "axon/tensor.h"

namespace axon::kernels {

struct LayerNormForward {
  Tensor y;
  Tensor mean, inv;  // (R,) as float64
};

struct LayerNormGradients {
  Tensor x, gamma, beta;
};

LayerNormForward layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon);
LayerNormGradients layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                       const LayerNormForward& saved);

}  // namespace axon::kernels
