#include "axon/losses.h"

#include <cmath>
#include <utility>

#include "axon/ops.h"

namespace axon {

namespace {

constexpr double kEpsilon = 1e-7;  // Keras's clipping epsilon for probabilities

// The target as a constant Variable shaped like the prediction. Accepts the same
// shape, or (batch,) against (batch, 1).
Variable target_like(const char* loss, const Variable& prediction, const Tensor& target) {
  if (!target.defined()) fail(loss, ": target is undefined");
  if (prediction.numel() == 0) fail(loss, ": empty batch (prediction shape ", prediction.shape(), ")");
  Tensor t = target.dtype() == prediction.dtype() ? target : target.to(prediction.dtype());
  if (t.shape() == prediction.shape()) return Variable(t);
  if (prediction.rank() == 2 && prediction.dim(1) == 1 && t.shape() == Shape{prediction.dim(0)})
    return Variable(t.reshape({prediction.dim(0), 1}));
  fail(loss, ": target shape ", target.shape(), " does not match prediction shape ", prediction.shape());
}

void check_probability_target(const char* loss, const Tensor& target) {
  for (double v : target.to_vector())
    if (!(v >= 0.0 && v <= 1.0)) fail(loss, ": target value ", v, " is outside [0, 1]");
}

// Class indices (batch,) for a (batch, classes) prediction, as a one-hot constant.
Variable one_hot_labels(const char* loss, const Variable& prediction, const Tensor& labels) {
  if (prediction.rank() != 2) fail(loss, ": prediction must be (batch, classes), got ", prediction.shape());
  const int64_t batch = prediction.dim(0), classes = prediction.dim(1);
  if (labels.shape() != Shape{batch} && labels.shape() != Shape{batch, 1})
    fail(loss, ": labels ", labels.shape(), " do not match prediction ", prediction.shape(), " (expected (", batch,
         ",))");
  Tensor one_hot = Tensor::zeros(prediction.shape(), prediction.dtype());
  const std::vector<double> values = labels.to_vector();
  dispatch(one_hot.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for (int64_t i = 0; i < batch; ++i) {
      const double label = values[static_cast<size_t>(i)];
      if (!(label >= 0 && label < static_cast<double>(classes)) || label != std::floor(label))
        fail(loss, ": label ", label, " at row ", i, " is not a class index in [0, ", classes, ")");
      one_hot.data<T>()[i * classes + static_cast<int64_t>(label)] = T(1);
    }
  });
  return Variable(one_hot);
}

// Probabilities that came out of sigmoid / softmax are scored from the logits they were
// computed from: the same loss, without the clipping that stops gradients of confidently
// wrong predictions, and fused (Keras does the same).
Variable logits_of(const Variable& probabilities, const char* op) {
  return std::string(probabilities.op()) == op ? probabilities.input(0) : Variable();
}

// Each loss's terms: elementwise (regression, binary) or one per example (categorical).
// The loss is their mean; with sample weights, each example's mean times its weight.
Variable squared_error_terms(const Variable& prediction, const Tensor& target) {
  return square(prediction - target_like("mean_squared_error", prediction, target));
}

Variable absolute_error_terms(const Variable& prediction, const Tensor& target) {
  return abs(prediction - target_like("mean_absolute_error", prediction, target));
}

Variable huber_terms(const Variable& prediction, const Tensor& target, double delta) {
  if (!(delta > 0) || !std::isfinite(delta)) fail("huber: delta must be a positive number, got ", delta);
  const Variable error = abs(prediction - target_like("huber", prediction, target));
  const Variable quadratic = clamp(error, 0.0, delta);
  return 0.5 * square(quadratic) + delta * (error - quadratic);
}

Variable binary_crossentropy_terms(const Variable& prediction, const Tensor& target, bool from_logits) {
  if (!from_logits)
    if (const Variable logits = logits_of(prediction, "sigmoid"); logits.defined())
      return binary_crossentropy_terms(logits, target, true);
  const Variable t = target_like("binary_crossentropy", prediction, target);
  check_probability_target("binary_crossentropy", t.value());
  if (from_logits)  // max(x, 0) - x t + log(1 + exp(-|x|)): no overflow for any x
    return relu(prediction) - prediction * t + log(1.0 + exp(-abs(prediction)));
  const Variable p = clamp(prediction, kEpsilon, 1.0 - kEpsilon);
  return -(t * log(p) + (1.0 - t) * log(1.0 - p));
}

Variable categorical_crossentropy_terms(const Variable& prediction, const Tensor& target, bool from_logits) {
  if (!from_logits)
    if (const Variable logits = logits_of(prediction, "softmax"); logits.defined())
      return categorical_crossentropy_terms(logits, target, true);
  if (prediction.rank() != 2)
    fail("categorical_crossentropy: prediction must be (batch, classes), got ", prediction.shape());
  const Variable t = target_like("categorical_crossentropy", prediction, target);
  check_probability_target("categorical_crossentropy", t.value());
  const Variable log_p = from_logits ? log_softmax(prediction, -1)
                                     : log(clamp(prediction / sum(prediction, -1, true), kEpsilon, 1.0 - kEpsilon));
  return -sum(t * log_p, -1);
}

void check_sparse_prediction(const Variable& prediction) {
  if (prediction.rank() == 2 && prediction.dim(1) == 1)
    fail("sparse_categorical_crossentropy: the prediction ", prediction.shape(),
         " has one unit; it needs one unit per class (for a single sigmoid output use binary_crossentropy)");
}

Variable sparse_categorical_crossentropy_terms(const Variable& prediction, const Tensor& target, bool from_logits) {
  check_sparse_prediction(prediction);
  if (!from_logits)
    if (const Variable logits = logits_of(prediction, "softmax"); logits.defined())
      return sparse_categorical_crossentropy_terms(logits, target, true);
  const Variable one_hot = one_hot_labels("sparse_categorical_crossentropy", prediction, target);
  const Variable log_p = from_logits ? log_softmax(prediction, -1) : log(clamp(prediction, kEpsilon, 1.0 - kEpsilon));
  return -sum(one_hot * log_p, -1);
}

}  // namespace

Variable mean_squared_error(const Variable& prediction, const Tensor& target) {
  return mean(squared_error_terms(prediction, target));
}

Variable mean_absolute_error(const Variable& prediction, const Tensor& target) {
  return mean(absolute_error_terms(prediction, target));
}

Variable huber(const Variable& prediction, const Tensor& target, double delta) {
  return mean(huber_terms(prediction, target, delta));
}

Variable binary_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits) {
  return mean(binary_crossentropy_terms(prediction, target, from_logits));
}

Variable categorical_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits) {
  return mean(categorical_crossentropy_terms(prediction, target, from_logits));
}

Variable sparse_categorical_crossentropy(const Variable& prediction, const Tensor& target, bool from_logits) {
  check_sparse_prediction(prediction);
  if (!from_logits)
    if (const Variable logits = logits_of(prediction, "softmax"); logits.defined())
      return sparse_categorical_crossentropy(logits, target, true);
  if (!from_logits) return mean(sparse_categorical_crossentropy_terms(prediction, target, false));
  // One fused op for the common case: softmax and cross-entropy, forward and backward.
  // A prediction per step, (batch, steps, ..., classes) against labels (batch, steps,
  // ...): every position is one row, the mean over all of them (Keras's).
  if (prediction.rank() > 2) {
    const int64_t classes = prediction.dim(-1), rows = prediction.numel() / std::max<int64_t>(classes, 1);
    if (target.numel() != rows)
      fail("sparse_categorical_crossentropy: prediction ", prediction.shape(), " needs one label per position, got ",
           target.shape());
    return softmax_cross_entropy(reshape(prediction, {rows, classes}), target.reshape({rows}));
  }
  return softmax_cross_entropy(prediction, target.rank() == 2 ? target.reshape({-1}) : target);
}

namespace {

// Every built-in loss under its Keras names: its terms, and the loss itself (the mean
// of the terms, or sparse categorical cross-entropy's fused op). The regression losses
// ignore from_logits.
struct BuiltinLoss {
  const char* name;
  Variable (*terms)(const Variable& prediction, const Tensor& target, bool from_logits);
  Variable (*reduced)(const Variable& prediction, const Tensor& target, bool from_logits);
};

constexpr BuiltinLoss kBuiltinLosses[] = {
    {"mse", [](const Variable& p, const Tensor& t, bool) { return squared_error_terms(p, t); },
     [](const Variable& p, const Tensor& t, bool) { return mean_squared_error(p, t); }},
    {"mean_squared_error", [](const Variable& p, const Tensor& t, bool) { return squared_error_terms(p, t); },
     [](const Variable& p, const Tensor& t, bool) { return mean_squared_error(p, t); }},
    {"mae", [](const Variable& p, const Tensor& t, bool) { return absolute_error_terms(p, t); },
     [](const Variable& p, const Tensor& t, bool) { return mean_absolute_error(p, t); }},
    {"mean_absolute_error", [](const Variable& p, const Tensor& t, bool) { return absolute_error_terms(p, t); },
     [](const Variable& p, const Tensor& t, bool) { return mean_absolute_error(p, t); }},
    {"huber", [](const Variable& p, const Tensor& t, bool) { return huber_terms(p, t, 1.0); },
     [](const Variable& p, const Tensor& t, bool) { return huber(p, t); }},
    {"binary_crossentropy", binary_crossentropy_terms, binary_crossentropy},
    {"categorical_crossentropy", categorical_crossentropy_terms, categorical_crossentropy},
    {"sparse_categorical_crossentropy", sparse_categorical_crossentropy_terms, sparse_categorical_crossentropy}};

const BuiltinLoss& builtin_loss(const std::string& name) {
  for (const BuiltinLoss& entry : kBuiltinLosses)
    if (name == entry.name) return entry;
  std::string allowed;
  for (const BuiltinLoss& entry : kBuiltinLosses) allowed += std::string(allowed.empty() ? "" : ", ") + entry.name;
  fail("unknown loss '", name, "'; expected one of: ", allowed);
}

}  // namespace

Variable weighted_loss(const std::string& name, bool from_logits, const Variable& prediction, const Tensor& target,
                       const Tensor& sample_weight) {
  const Variable terms = builtin_loss(name).terms(prediction, target, from_logits);
  // Each example's mean over its own elements, as Keras reduces before it weighs.
  const Variable per_example = terms.rank() == 1 ? terms : mean(flatten(terms), 1);
  if (sample_weight.shape() != Shape{per_example.dim(0)})
    fail(name, ": sample weights ", sample_weight.shape(), " do not match the batch of ", per_example.dim(0));
  const Tensor w = sample_weight.dtype() == per_example.dtype() ? sample_weight : sample_weight.to(per_example.dtype());
  return mean(per_example * Variable(w));
}

LossFn loss(const std::string& name, bool from_logits) {
  const auto reduced = builtin_loss(name).reduced;
  return [reduced, from_logits](const Variable& p, const Tensor& t) { return reduced(p, t, from_logits); };
}

void check_loss_targets(const std::string& name, const Shape& output, const Shape& targets) {
  if (output.rank() != 1 || output[0] < 2 || targets.rank() < 1) return;  // (classes,) outputs only
  const int64_t classes = output[0];
  const bool indices = targets.rank() == 1 || (targets.rank() == 2 && targets[1] == 1);
  if (name == "sparse_categorical_crossentropy" && !indices)
    fail(name, " expects class indices of shape (n,) or (n, 1); got ", targets,
         targets.rank() == 2 && targets[1] == classes ? " - use categorical_crossentropy for one-hot labels" : "");
  if (name == "categorical_crossentropy" && !(targets.rank() == 2 && targets[1] == classes))
    fail(name, " expects one-hot targets of shape (n, ", classes, "); got ", targets,
         indices ? " - use sparse_categorical_crossentropy for class indices" : "");
}

}  // namespace axon
