#include "sample_weights.h"

#include <cmath>

#include "axon/tensor_ops.h"

namespace axon::detail {

Tensor checked_weights(const char* what, const Tensor& weights, int64_t n) {
  if (weights.shape() != Shape{n} && weights.shape() != Shape{n, 1})
    fail(what, ": sample_weight has shape ", weights.shape(), "; expected one weight per example, (", n, ",)");
  for (const double w : weights.to_vector())
    if (!(w >= 0) || !std::isfinite(w)) fail(what, ": sample weights must be finite and >= 0, got ", w);
  return (weights.dtype() == DType::f32 ? weights : weights.to(DType::f32)).reshape({n});
}

Tensor fit_weights(const FitOptions& options, const std::vector<Tensor>& y, int64_t n) {
  if (options.sample_weight.defined() && !options.class_weight.empty())
    fail("fit: give sample_weight or class_weight, not both");
  if (options.sample_weight.defined()) return checked_weights("fit", options.sample_weight, n);
  if (options.class_weight.empty()) return {};
  if (y.size() != 1) fail("fit: class_weight is for a model of one output; give sample_weight instead");
  for (const auto& [label, w] : options.class_weight)
    if (!(w >= 0) || !std::isfinite(w)) fail("fit: class_weight[", label, "] must be finite and >= 0, got ", w);
  const Tensor& labels = y[0];
  const std::vector<double> classes =
      labels.rank() == 2 && labels.dim(1) > 1 ? argmax(labels, 1).to_vector() : labels.to_vector();
  std::vector<float> weights;
  for (const double c : classes) {
    const auto it = options.class_weight.find(static_cast<int64_t>(std::llround(c)));
    weights.push_back(static_cast<float>(it == options.class_weight.end() ? 1.0 : it->second));
  }
  return Tensor::from(weights, {n});
}

}  // namespace axon::detail
