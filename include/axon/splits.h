#pragma once
// Splitting examples for validation, as sklearn.model_selection: a shuffled (optionally
// stratified) train/test split, k-fold and stratified k-fold index sets, and take_rows
// to apply an index set to a tensor.
#include <cstdint>
#include <vector>

#include "axon/tensor.h"

namespace axon {

struct TrainTestSplit {
  Tensor x_train, y_train, x_test, y_test;
};

// x: (n, ...), y: (n, ...). The test set holds ceil(n * test_size) examples, test_size
// in (0, 1); both sets are shuffled with `seed`. With stratify, y's values are class
// labels (one per example) and each class keeps its proportion in both sets; every
// class needs at least 2 examples.
TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, double test_size = 0.25, bool stratify = false,
                                uint64_t seed = 0);

// Indices of one fold, each list in ascending order.
struct Fold {
  std::vector<int64_t> train, test;
};

// k folds of 0..n-1, 2 <= k <= n; the test sets partition 0..n-1, the first n % k of them
// one larger. Without shuffle fold i tests a contiguous block, as sklearn's KFold.
std::vector<Fold> k_fold(int64_t n, int64_t k, bool shuffle = true, uint64_t seed = 0);

// labels: (n,) class labels. Every class is spread evenly over the k test sets (counts
// differ by at most one), and the test sets' sizes differ by at most one.
std::vector<Fold> stratified_k_fold(const Tensor& labels, int64_t k, uint64_t seed = 0);

// Rows `indices` of t along axis 0 (a copy), each index in [0, t.dim(0)).
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& indices);

}  // namespace axon
