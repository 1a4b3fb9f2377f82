#pragma once
// Batch normalisation over axis 1 of x (N, C, ...), fused: one pass for the statistics,
// one for y, and two for the backward pass, parallel over channels.
//   y = gamma * (x - mean) * inv_std + beta,  inv_std = 1 / sqrt(variance + epsilon)
#include <functional>
#include <vector>

#include "axon/tensor.h"

namespace axon::kernels {

struct BatchNormForward {
  Tensor y;
  Tensor mean, variance, inv_std;  // (C,): the statistics used (the batch's, or the given ones)
  double count = 0;                // values per channel the batch statistics came from
};

// Synchronised batch normalisation takes its statistics over the batches of several
// processes: this sums per-channel partial sums over all of them, in place.
using SumAcrossReplicas = std::function<void(std::vector<double>& sums)>;
// Training (batch statistics, biased variance) when `mean`/`variance` are undefined;
// otherwise normalises with them. gamma, beta, mean, variance: (C,), x's dtype.
BatchNormForward batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                            const Tensor& variance, double epsilon);
// Training over every replica's batch: the mean, then the variance around it, each from
// sums `across` the replicas (two small exchanges; the variance never cancels).
BatchNormForward batch_norm_across(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                                   const SumAcrossReplicas& across);

struct BatchNormGrads {
  Tensor dx, dgamma, dbeta;
};
// With batch statistics the mean and variance depend on x, which dx accounts for:
//   dx = gamma * inv_std / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),  M values per channel;
// with fixed statistics, dx = gamma * inv_std * dy.
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                   const BatchNormForward& forward, bool batch_statistics);
// The backward pass of batch_norm_across: sum(dy) and sum(dy * xhat) over every replica
// for dx; dgamma and dbeta stay this replica's (the replicas' gradients are summed later).
BatchNormGrads batch_norm_backward_across(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                          const BatchNormForward& forward, const SumAcrossReplicas& across);

}  // namespace axon::kernels
