#pragma once
// Batch normalisation over axis 1 of x (N, C, ...), fused: one pass for the statistics,
// one for y, and two for the backward pass, parallel over channels.
//   y = gamma * (x - mean) * inv_std + beta,  inv_std = 1 / sqrt(variance + epsilon)
#include "axon/tensor.h"

namespace axon::kernels {

struct BatchNormForward {
  Tensor y;
  Tensor mean, variance, inv_std;  // (C,): the statistics used (the batch's, or the given ones)
};
// Training (batch statistics, biased variance) when `mean`/`variance` are undefined;
// otherwise normalises with them. gamma, beta, mean, variance: (C,), x's dtype.
BatchNormForward batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                            const Tensor& variance, double epsilon);

struct BatchNormGrads {
  Tensor dx, dgamma, dbeta;
};
// With batch statistics the mean and variance depend on x, which dx accounts for:
//   dx = gamma * inv_std / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),  M values per channel;
// with fixed statistics, dx = gamma * inv_std * dy.
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                   const BatchNormForward& forward, bool batch_statistics);

}  // namespace axon::kernels
