#pragma once
// The largest |a - b| over two tensors of one shape (a test failure if the shapes differ).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "axon/tensor.h"

namespace axon::test_support {

inline double max_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

}  // namespace axon::test_support
