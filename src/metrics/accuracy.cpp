#include "classes.h"

#include <algorithm>

namespace axon {

Accuracy::Accuracy(ClassKind kind, double threshold, std::string name)
    : kind_(kind), threshold_(threshold), name_(std::move(name)) {}

void Accuracy::update(const Tensor& y_pred, const Tensor& y_true) {
  update(y_pred, y_true, Tensor::ones({y_pred.defined() && y_pred.rank() > 0 ? y_pred.dim(0) : 0}));
}

void Accuracy::update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) {
  const metrics::ClassPairs pairs = metrics::to_classes(name_.c_str(), y_pred, y_true, kind_, threshold_);
  const std::vector<double> w = metrics::example_weights(name_.c_str(), sample_weight, pairs.truth.size());
  for (size_t i = 0; i < pairs.truth.size(); ++i) {
    correct_ += w[i] * (pairs.truth[i] == pairs.predicted[i]);
    total_ += w[i];
  }
}

void Accuracy::merge(const std::vector<double>& state) { metrics::add_counts("accuracy", {&correct_, &total_}, state); }

void TopKCategoricalAccuracy::merge(const std::vector<double>& state) {
  metrics::add_counts("top_k_categorical_accuracy", {&hits_, &total_}, state);
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int64_t k) : k_(k) {
  if (k < 1) fail("top_k_categorical_accuracy: k must be >= 1, got ", k);
}

void TopKCategoricalAccuracy::update(const Tensor& y_pred, const Tensor& y_true) {
  update(y_pred, y_true, Tensor::ones({y_pred.rank() > 0 ? y_pred.dim(0) : 0}));
}

void TopKCategoricalAccuracy::update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) {
  const metrics::ClassPairs pairs =
      metrics::to_classes("top_k_categorical_accuracy", y_pred, y_true, ClassKind::automatic, 0.5);
  if (pairs.classes < 2 || y_pred.rank() != 2)
    fail("top_k_categorical_accuracy: needs (batch, classes) scores, got ", y_pred.shape());
  const std::vector<double> scores = y_pred.to_vector();
  const std::vector<double> w =
      metrics::example_weights("top_k_categorical_accuracy", sample_weight, pairs.truth.size());
  const int64_t classes = pairs.classes;
  for (size_t i = 0; i < pairs.truth.size(); ++i) {
    // The true class is in the top k when fewer than k classes score strictly higher.
    const double* row = scores.data() + static_cast<int64_t>(i) * classes;
    const double target = row[pairs.truth[i]];
    hits_ += w[i] * (std::count_if(row, row + classes, [&](double s) { return s > target; }) < k_);
    total_ += w[i];
  }
}

}  // namespace axon
