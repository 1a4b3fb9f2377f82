// Differentiable attention: the fused kernels of kernels/attention.h.
#include <cmath>

#include "axon/ops.h"
#include "kernels/attention.h"

namespace axon {

Variable attention(const Variable& query, const Variable& key, const Variable& value,
                   const AttentionOptions& options) {
  if (query.rank() != 4) fail("attention: query must be (batch, steps, heads, dim), got ", query.shape());
  kernels::AttentionSettings settings{.scale = options.scale > 0 ? options.scale : 1.0 / std::sqrt(double(query.dim(3))),
                                      .causal = options.causal,
                                      .key_mask = options.key_mask,
                                      .dropout = options.dropout,
                                      .seed = options.seed,
                                      .keep_probabilities = options.plain,
                                      .block = options.block};
  auto saved = std::make_shared<kernels::AttentionSaved>(
      kernels::attention_forward(query.value(), key.value(), value.value(), settings));
  const Tensor q = query.value(), k = key.value(), v = value.value();
  return Variable::make("attention", saved->out, {query, key, value},
                        [saved, q, k, v, settings](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          kernels::AttentionGradients d = kernels::attention_backward(g, q, k, v, *saved, settings);
                          return {d.query, d.key, d.value};
                        });
}

}  // namespace axon
