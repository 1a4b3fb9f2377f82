#include "axon/preprocessing.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace axon {

namespace {

// x: (n, features...) -> (features...).
Shape feature_shape(const char* op, const Tensor& x) {
  if (!x.defined()) fail(op, ": x is undefined");
  if (x.rank() < 1) fail(op, ": x needs an example axis, got shape ", x.shape());
  return Shape(std::vector<int64_t>(x.shape().dims().begin() + 1, x.shape().dims().end()));
}

// Checks x's features against the fitted ones.
void check_features(const char* op, const Tensor& x, const Tensor& fitted, const char* scaler) {
  if (!fitted.defined()) fail(op, ": the ", scaler, " is not fitted; call fit() first");
  const Shape features = feature_shape(op, x);
  if (features != fitted.shape())
    fail(op, ": fitted on features of shape ", fitted.shape(), ", got x of shape ", x.shape());
}

// Calls f(i, value) for every element of x, i = its feature index, in row order.
template <class F>
void for_each_element(const Tensor& x, F&& f) {
  const int64_t n = x.dim(0), features = n == 0 ? 0 : x.numel() / n;
  dispatch(x.dtype(), [&](auto zero) {
    const auto* p = x.data<decltype(zero)>();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < features; ++j) f(j, static_cast<double>(p[r * features + j]));
  });
}

// out[i] = g(feature j, x[i]) for every element, out of x's shape and dtype.
template <class G>
Tensor map_elements(const Tensor& x, G&& g) {
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  const int64_t n = x.dim(0), features = n == 0 ? 0 : x.numel() / n;
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < features; ++j)
        o[r * features + j] = static_cast<T>(g(j, static_cast<double>(in[r * features + j])));
  });
  return out;
}

}  // namespace

void StandardScaler::fit(const Tensor& x) {
  const Shape features = feature_shape("StandardScaler::fit", x);
  const int64_t n = x.dim(0), count = features.numel();
  if (n < 1) fail("StandardScaler::fit: x has no examples");
  // Two passes (mean, then squared deviations) for accuracy; min == max marks a constant
  // feature exactly, where rounding would leave a tiny non-zero variance.
  std::vector<double> sum(static_cast<size_t>(count), 0.0), squares(static_cast<size_t>(count), 0.0);
  std::vector<double> low(static_cast<size_t>(count), INFINITY), high(static_cast<size_t>(count), -INFINITY);
  for_each_element(x, [&](int64_t j, double v) {
    const auto k = static_cast<size_t>(j);
    sum[k] += v;
    low[k] = std::min(low[k], v);
    high[k] = std::max(high[k], v);
  });
  Tensor mean = Tensor::empty(features, DType::f64), scale = Tensor::empty(features, DType::f64);
  double* m = mean.data<double>();
  for (int64_t j = 0; j < count; ++j) m[j] = sum[static_cast<size_t>(j)] / static_cast<double>(n);
  for_each_element(x, [&](int64_t j, double v) { squares[static_cast<size_t>(j)] += (v - m[j]) * (v - m[j]); });
  double* s = scale.data<double>();
  for (int64_t j = 0; j < count; ++j) {
    const auto k = static_cast<size_t>(j);
    const double sd = std::sqrt(squares[k] / static_cast<double>(n));
    s[j] = low[k] == high[k] || sd == 0.0 ? 1.0 : sd;
  }
  mean_ = mean;
  scale_ = scale;
}

Tensor StandardScaler::transform(const Tensor& x) const {
  check_features("StandardScaler::transform", x, mean_, "StandardScaler");
  const double* m = mean_.data<double>();
  const double* s = scale_.data<double>();
  return map_elements(x, [&](int64_t j, double v) { return (v - m[j]) / s[j]; });
}

Tensor StandardScaler::fit_transform(const Tensor& x) {
  fit(x);
  return transform(x);
}

Tensor StandardScaler::inverse_transform(const Tensor& x) const {
  check_features("StandardScaler::inverse_transform", x, mean_, "StandardScaler");
  const double* m = mean_.data<double>();
  const double* s = scale_.data<double>();
  return map_elements(x, [&](int64_t j, double v) { return v * s[j] + m[j]; });
}

MinMaxScaler::MinMaxScaler(double low, double high) : low_(low), high_(high) {
  if (!(low < high)) fail("MinMaxScaler: the range needs low < high, got [", low, ", ", high, "]");
}

void MinMaxScaler::fit(const Tensor& x) {
  const Shape features = feature_shape("MinMaxScaler::fit", x);
  if (x.dim(0) < 1) fail("MinMaxScaler::fit: x has no examples");
  Tensor low = Tensor::full(features, INFINITY, DType::f64), high = Tensor::full(features, -INFINITY, DType::f64);
  double* lo = low.data<double>();
  double* hi = high.data<double>();
  for_each_element(x, [&](int64_t j, double v) {
    lo[j] = std::min(lo[j], v);
    hi[j] = std::max(hi[j], v);
  });
  data_min_ = low;
  data_max_ = high;
}

Tensor MinMaxScaler::transform(const Tensor& x) const {
  check_features("MinMaxScaler::transform", x, data_min_, "MinMaxScaler");
  const double* lo = data_min_.data<double>();
  const double* hi = data_max_.data<double>();
  return map_elements(x, [&](int64_t j, double v) {
    const double range = hi[j] > lo[j] ? hi[j] - lo[j] : 1.0;
    return (v - lo[j]) / range * (high_ - low_) + low_;
  });
}

Tensor MinMaxScaler::fit_transform(const Tensor& x) {
  fit(x);
  return transform(x);
}

Tensor one_hot(const Tensor& labels, int64_t classes) {
  if (!labels.defined()) fail("one_hot: labels are undefined");
  if (labels.rank() != 1) fail("one_hot: labels must have shape (n,), got ", labels.shape());
  if (classes < 1) fail("one_hot: classes must be at least 1, got ", classes);
  const int64_t n = labels.dim(0);
  Tensor out = Tensor::zeros(Shape{n, classes});
  float* o = out.data<float>();
  dispatch_any(labels.dtype(), [&](auto zero) {
    const auto* p = labels.data<decltype(zero)>();
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      if (!(v >= 0 && v < static_cast<double>(classes)) || v != std::floor(v))
        fail("one_hot: labels[", i, "] = ", v, " is not a class index in [0, ", classes, ")");
      o[i * classes + static_cast<int64_t>(v)] = 1.0f;
    }
  });
  return out;
}

}  // namespace axon
