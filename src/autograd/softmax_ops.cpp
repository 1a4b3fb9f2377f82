// softmax, log_softmax, and the fused softmax cross-entropy.
#include <cmath>

#include "axon/ops.h"
#include "kernels/reduce.h"

namespace axon {

Variable softmax(const Variable& x, int64_t axis) {
  axis = x.shape().axis(axis, "softmax");
  const Tensor y = kernels::softmax(x.value(), axis);
  // "softmax" is over the last axis (a classifier's output); other axes are "softmax_axis".
  return Variable::make(axis == x.rank() - 1 ? "softmax" : "softmax_axis", y, {x},
                        [y, axis](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::softmax_backward(y, g, axis)};
                        });
}

Variable log_softmax(const Variable& x, int64_t axis) {
  axis = x.shape().axis(axis, "log_softmax");
  const Tensor y = kernels::log_softmax(x.value(), axis);
  return Variable::make("log_softmax", y, {x},
                        [y, axis](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::log_softmax_backward(y, g, axis)};
                        });
}

// loss = mean_i(-log_softmax(logits)[i, label_i]);  dlogits = (softmax - onehot) * g / batch
Variable softmax_cross_entropy(const Variable& logits, const Tensor& labels) {
  if (logits.rank() != 2) fail("softmax_cross_entropy: logits must be (batch, classes), got ", logits.shape());
  const int64_t batch = logits.dim(0), classes = logits.dim(1);
  if (labels.shape() != Shape{batch})
    fail("softmax_cross_entropy: labels ", labels.shape(), " do not match logits ", logits.shape(), " (expected (",
         batch, ",))");
  if (batch == 0) fail("softmax_cross_entropy: empty batch");
  std::vector<int64_t> classes_of(static_cast<size_t>(batch));
  const std::vector<double> label_values = labels.to_vector();
  for (int64_t i = 0; i < batch; ++i) {
    const double label = label_values[static_cast<size_t>(i)];
    if (!(label >= 0 && label < static_cast<double>(classes)) || label != std::floor(label))
      fail("softmax_cross_entropy: label ", label, " at row ", i, " is not a class index in [0, ", classes, ")");
    classes_of[static_cast<size_t>(i)] = static_cast<int64_t>(label);
  }
  const Tensor log_probs = kernels::log_softmax(logits.value(), 1);
  Tensor loss = Tensor::empty(Shape{}, logits.dtype());
  dispatch(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* lp = log_probs.data<T>();
    double total = 0;
    for (int64_t i = 0; i < batch; ++i) total -= lp[i * classes + classes_of[static_cast<size_t>(i)]];
    loss.data<T>()[0] = static_cast<T>(total / static_cast<double>(batch));
  });
  return Variable::make(
      "softmax_cross_entropy", loss, {logits},
      [log_probs, classes_of, batch, classes](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
        Tensor grad = Tensor::empty(log_probs.shape(), log_probs.dtype());
        dispatch(grad.dtype(), [&](auto zero) {
          using T = decltype(zero);
          const T scale = static_cast<T>(g.item() / static_cast<double>(batch));
          const T* lp = log_probs.data<T>();
          T* pg = grad.data<T>();
          for (int64_t i = 0; i < batch * classes; ++i) pg[i] = std::exp(lp[i]) * scale;
          for (int64_t i = 0; i < batch; ++i) pg[i * classes + classes_of[static_cast<size_t>(i)]] -= scale;
        });
        return {grad};
      });
}

}  // namespace axon
