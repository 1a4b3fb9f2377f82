#include <cmath>

#include "axon/metric.h"
#include "classes.h"

namespace axon {

RegressionMetric::RegressionMetric(Kind kind) : kind_(kind) {}

std::string RegressionMetric::name() const { return kind_ == Kind::mse ? "mse" : kind_ == Kind::mae ? "mae" : "rmse"; }

void RegressionMetric::update(const Tensor& y_pred, const Tensor& y_true) {
  update(y_pred, y_true, Tensor::ones({y_pred.defined() && y_pred.rank() > 0 ? y_pred.dim(0) : 0}));
}

// Every element of example i counts w_i times: the weighted mean of the examples' means.
void RegressionMetric::update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) {
  if (!y_pred.defined() || !y_true.defined() || y_pred.numel() != y_true.numel() || y_pred.rank() < 1 ||
      y_true.dim(0) != y_pred.dim(0))
    fail(name(), ": predictions ", y_pred.shape(), " and targets ", y_true.shape(), " do not match");
  const std::vector<double> p = y_pred.to_vector(), t = y_true.to_vector();
  const size_t rows = static_cast<size_t>(y_pred.dim(0)), per_row = rows ? p.size() / rows : 0;
  const std::vector<double> w = metrics::example_weights(name().c_str(), sample_weight, rows);
  for (size_t i = 0; i < p.size(); ++i) {
    const double error = p[i] - t[i];
    sum_ += w[i / per_row] * (kind_ == Kind::mae ? std::abs(error) : error * error);
  }
  for (size_t r = 0; r < rows; ++r) count_ += w[r] * static_cast<double>(per_row);
}

void RegressionMetric::merge(const std::vector<double>& state) {
  metrics::add_counts("regression metric", {&sum_, &count_}, state);
}

double RegressionMetric::result() const {
  if (count_ == 0) return 0.0;
  const double mean = sum_ / count_;
  return kind_ == Kind::rmse ? std::sqrt(mean) : mean;
}

}  // namespace axon
