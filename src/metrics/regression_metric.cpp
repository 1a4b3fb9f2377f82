#include <cmath>

#include "axon/metric.h"

namespace axon {

RegressionMetric::RegressionMetric(Kind kind) : kind_(kind) {}

std::string RegressionMetric::name() const { return kind_ == Kind::mse ? "mse" : kind_ == Kind::mae ? "mae" : "rmse"; }

void RegressionMetric::update(const Tensor& y_pred, const Tensor& y_true) {
  if (!y_pred.defined() || !y_true.defined() || y_pred.numel() != y_true.numel() || y_pred.rank() < 1 ||
      y_true.dim(0) != y_pred.dim(0))
    fail(name(), ": predictions ", y_pred.shape(), " and targets ", y_true.shape(), " do not match");
  const std::vector<double> p = y_pred.to_vector(), t = y_true.to_vector();
  for (size_t i = 0; i < p.size(); ++i) {
    const double error = p[i] - t[i];
    sum_ += kind_ == Kind::mae ? std::abs(error) : error * error;
  }
  count_ += static_cast<double>(p.size());
}

double RegressionMetric::result() const {
  if (count_ == 0) return 0.0;
  const double mean = sum_ / count_;
  return kind_ == Kind::rmse ? std::sqrt(mean) : mean;
}

}  // namespace axon
