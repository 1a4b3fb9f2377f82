#include "classes.h"

#include <cmath>

#include "kernels/reduce.h"

namespace axon::metrics {

std::vector<int64_t> argmax_rows(const Tensor& scores) { return kernels::max_axis(scores, 1, false).indices; }

namespace {

int64_t class_index(const char* metric, double value, int64_t classes, size_t row) {
  if (!(value >= 0 && value < static_cast<double>(classes)) || value != std::floor(value))
    fail(metric, ": label ", value, " at row ", row, " is not a class index in [0, ", classes, ")");
  return static_cast<int64_t>(value);
}

}  // namespace

ClassPairs to_classes(const char* metric, const Tensor& y_pred, const Tensor& y_true, ClassKind kind,
                      double threshold) {
  if (!y_pred.defined() || !y_true.defined() || y_pred.rank() < 1 || y_true.rank() < 1)
    fail(metric, ": predictions and targets need a batch axis");
  const int64_t batch = y_pred.dim(0);
  if (y_true.dim(0) != batch)
    fail(metric, ": predictions ", y_pred.shape(), " and targets ", y_true.shape(), " differ in batch size");
  const int64_t columns = y_pred.rank() == 1 ? 1 : y_pred.numel() / std::max<int64_t>(batch, 1);
  if (y_pred.rank() > 2) fail(metric, ": predictions must be (batch,) or (batch, classes), got ", y_pred.shape());
  const bool targets_are_indices = y_true.numel() == batch;
  if (kind == ClassKind::automatic)
    kind = columns == 1 ? ClassKind::binary : (targets_are_indices ? ClassKind::sparse : ClassKind::categorical);

  ClassPairs pairs;
  const std::vector<double> truth = y_true.to_vector();
  if (kind == ClassKind::binary) {
    if (columns != 1 || !targets_are_indices)
      fail(metric, ": binary classification needs one output column and (batch,) targets, got ", y_pred.shape(),
           " and ", y_true.shape());
    pairs.classes = 2;
    const std::vector<double> scores = y_pred.to_vector();
    for (size_t i = 0; i < scores.size(); ++i) {
      pairs.truth.push_back(class_index(metric, truth[i], 2, i));
      pairs.predicted.push_back(scores[i] > threshold ? 1 : 0);
    }
    return pairs;
  }
  if (y_pred.rank() != 2) fail(metric, ": class scores must be (batch, classes), got ", y_pred.shape());
  pairs.classes = columns;
  pairs.predicted = argmax_rows(y_pred);
  if (kind == ClassKind::sparse) {
    if (!targets_are_indices)
      fail(metric, ": targets ", y_true.shape(), " are not class indices (batch,) for predictions ", y_pred.shape());
    for (size_t i = 0; i < truth.size(); ++i) pairs.truth.push_back(class_index(metric, truth[i], columns, i));
  } else {
    if (y_true.shape() != y_pred.shape())
      fail(metric, ": one-hot targets ", y_true.shape(), " do not match predictions ", y_pred.shape());
    pairs.truth = argmax_rows(y_true);
  }
  return pairs;
}

std::vector<double> example_weights(const char* metric, const Tensor& sample_weight, size_t rows) {
  const auto n = static_cast<int64_t>(rows);
  if (!sample_weight.defined() || (sample_weight.shape() != Shape{n} && sample_weight.shape() != Shape{n, 1}))
    fail(metric, ": sample weights ", sample_weight.defined() ? sample_weight.shape() : Shape{},
         " do not match the batch of ", rows, " (expected (", rows, ",))");
  std::vector<double> w = sample_weight.to_vector();
  for (const double v : w)
    if (!(v >= 0) || !std::isfinite(v)) fail(metric, ": sample weights must be finite and >= 0, got ", v);
  return w;
}

}  // namespace axon::metrics
