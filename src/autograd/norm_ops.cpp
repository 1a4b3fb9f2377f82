// batch_norm on the fused kernels of kernels/batch_norm.cpp.
#include "axon/ops.h"
#include "kernels/batch_norm.h"

namespace axon {

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& mean,
                    const Tensor& variance, double epsilon, BatchStatistics* batch) {
  if (mean.defined() != variance.defined()) fail("batch_norm: give both mean and variance, or neither");
  auto forward = std::make_shared<kernels::BatchNormForward>(
      kernels::batch_norm(x.value(), gamma.value(), beta.defined() ? beta.value() : Tensor(), mean, variance, epsilon));
  if (batch) *batch = {forward->mean, forward->variance};
  const bool batch_statistics = !mean.defined();
  const Tensor vx = x.value(), vgamma = gamma.value();
  std::vector<Variable> inputs{x, gamma};
  if (beta.defined()) inputs.push_back(beta);
  return Variable::make(
      "batch_norm", forward->y, inputs,
      [forward, vx, vgamma, batch_statistics](const Tensor& dy, const std::vector<bool>& needs) -> std::vector<Tensor> {
        kernels::BatchNormGrads g = kernels::batch_norm_backward(dy, vx, vgamma, *forward, batch_statistics);
        std::vector<Tensor> grads{std::move(g.dx), std::move(g.dgamma)};
        if (needs.size() > 2) grads.push_back(std::move(g.dbeta));
        return grads;
      });
}

}  // namespace axon
