#pragma once
// Feature scaling and label encoding, as sklearn.preprocessing: fit on the training set,
// then transform training, validation and test sets alike.
#include <cstdint>

#include "axon/tensor.h"

namespace axon {

// Per feature (over axis 0): (x - mean) / scale, scale = the population standard
// deviation; constant features get scale 1, as sklearn. x: (n, features...).
class StandardScaler {
 public:
  void fit(const Tensor& x);                // n >= 1
  Tensor transform(const Tensor& x) const;  // same dtype as x; features must match fit()'s
  Tensor fit_transform(const Tensor& x);
  Tensor inverse_transform(const Tensor& x) const;

  bool fitted() const { return mean_.defined(); }
  const Tensor& mean() const { return mean_; }    // (features...), float64
  const Tensor& scale() const { return scale_; }  // (features...), float64

 private:
  Tensor mean_, scale_;
};

// Per feature: maps [min, max] of the training data to [low, high]. A constant feature
// maps to low (its range counts as 1, as sklearn). x: (n, features...).
class MinMaxScaler {
 public:
  explicit MinMaxScaler(double low = 0.0, double high = 1.0);  // low < high
  void fit(const Tensor& x);
  Tensor transform(const Tensor& x) const;
  Tensor fit_transform(const Tensor& x);

  bool fitted() const { return data_min_.defined(); }
  const Tensor& data_min() const { return data_min_; }  // (features...), float64
  const Tensor& data_max() const { return data_max_; }

 private:
  double low_, high_;
  Tensor data_min_, data_max_;
};

// labels: (n,) of integral values in [0, classes) -> (n, classes) float32 of 0s and 1s.
Tensor one_hot(const Tensor& labels, int64_t classes);

}  // namespace axon
