// batch_norm and layer_norm on the fused kernels of kernels/batch_norm.cpp and kernels/layer_norm.cpp.
#include "axon/communicator.h"
#include "axon/ops.h"
#include "kernels/batch_norm.h"
#include "kernels/layer_norm.h"

namespace axon {

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& mean,
                    const Tensor& variance, double epsilon, BatchStatistics* batch, Communicator* across) {
  if (mean.defined() != variance.defined()) fail("batch_norm: give both mean and variance, or neither");
  const bool batch_statistics = !mean.defined();
  kernels::SumAcrossReplicas sum;
  if (across && batch_statistics)
    sum = [across](std::vector<double>& sums) { across->allreduce_sum(sums.data(), sums.size()); };
  const Tensor vbeta = beta.defined() ? beta.value() : Tensor();
  auto forward = std::make_shared<kernels::BatchNormForward>(
      sum ? kernels::batch_norm_across(x.value(), gamma.value(), vbeta, epsilon, sum)
          : kernels::batch_norm(x.value(), gamma.value(), vbeta, mean, variance, epsilon));
  if (batch) *batch = {forward->mean, forward->variance};
  const Tensor vx = x.value(), vgamma = gamma.value();
  std::vector<Variable> inputs{x, gamma};
  if (beta.defined()) inputs.push_back(beta);
  return Variable::make("batch_norm", forward->y, inputs,
                        [forward, vx, vgamma, batch_statistics, sum](
                            const Tensor& dy, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          kernels::BatchNormGrads g =
                              sum ? kernels::batch_norm_backward_across(dy, vx, vgamma, *forward, sum)
                                  : kernels::batch_norm_backward(dy, vx, vgamma, *forward, batch_statistics);
                          std::vector<Tensor> grads{std::move(g.dx), std::move(g.dgamma)};
                          if (needs.size() > 2) grads.push_back(std::move(g.dbeta));
                          return grads;
                        });
}

Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, double epsilon) {
  auto saved = std::make_shared<kernels::LayerNormForward>(
      kernels::layer_norm(x.value(), gamma.value(), beta.value(), epsilon));
  const Tensor vx = x.value(), vgamma = gamma.value();
  return Variable::make("layer_norm", saved->y, {x, gamma, beta},
                        [saved, vx, vgamma](const Tensor& dy, const std::vector<bool>&) -> std::vector<Tensor> {
                          kernels::LayerNormGradients g = kernels::layer_norm_backward(dy, vx, vgamma, *saved);
                          return {std::move(g.x), std::move(g.gamma), std::move(g.beta)};
                        });
}

}  // namespace axon
