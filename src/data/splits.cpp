#include "axon/splits.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "axon/random.h"
#include "kernels/layout.h"

namespace axon {

namespace {

// Example indices grouped by class label, classes in ascending order of label.
std::vector<std::vector<int64_t>> group_by_class(const char* op, const Tensor& labels, int64_t n) {
  if (!labels.defined() || labels.rank() < 1 || labels.dim(0) != n || labels.numel() != n)
    fail(op, ": labels need one value per example (shape (", n, ",)), got ",
         labels.defined() ? labels.shape().str() : "undefined");
  const std::vector<double> values = labels.to_vector();
  std::map<double, std::vector<int64_t>> classes;
  for (int64_t i = 0; i < n; ++i) {
    const double v = values[static_cast<size_t>(i)];
    if (std::isnan(v)) fail(op, ": label ", i, " is NaN");
    classes[v].push_back(i);
  }
  std::vector<std::vector<int64_t>> groups;
  for (auto& [label, members] : classes) groups.push_back(std::move(members));
  return groups;
}

// Reorders v by a fresh permutation from gen.
void shuffle(std::vector<int64_t>& v, Generator& gen) {
  const std::vector<int64_t> order = gen.permutation(static_cast<int64_t>(v.size()));
  std::vector<int64_t> shuffled(v.size());
  for (size_t i = 0; i < v.size(); ++i) shuffled[i] = v[static_cast<size_t>(order[i])];
  v = std::move(shuffled);
}

// Test counts per class summing to n_test, each close to its share count * n_test / n
// (largest remainders get the rounding), keeping at least one example of each class
// for training where possible.
std::vector<int64_t> test_counts(const std::vector<std::vector<int64_t>>& groups, int64_t n, int64_t n_test) {
  const size_t classes = groups.size();
  std::vector<int64_t> counts(classes);
  std::vector<double> fraction(classes);
  int64_t assigned = 0;
  for (size_t c = 0; c < classes; ++c) {
    const double exact = static_cast<double>(groups[c].size()) * static_cast<double>(n_test) / static_cast<double>(n);
    counts[c] = static_cast<int64_t>(std::floor(exact));
    fraction[c] = exact - std::floor(exact);
    assigned += counts[c];
  }
  std::vector<size_t> order(classes);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fraction[a] > fraction[b]; });
  for (int64_t keep = 1; keep >= 0 && assigned < n_test; --keep)
    for (size_t c : order)
      if (assigned < n_test && counts[c] < static_cast<int64_t>(groups[c].size()) - keep) {
        ++counts[c];
        ++assigned;
      }
  return counts;
}

// The fold whose test set is `test` (any order): both lists ascending.
Fold make_fold(int64_t n, std::vector<int64_t> test) {
  std::vector<bool> in_test(static_cast<size_t>(n), false);
  for (int64_t i : test) in_test[static_cast<size_t>(i)] = true;
  Fold fold;
  std::sort(test.begin(), test.end());
  fold.test = std::move(test);
  fold.train.reserve(static_cast<size_t>(n) - fold.test.size());
  for (int64_t i = 0; i < n; ++i)
    if (!in_test[static_cast<size_t>(i)]) fold.train.push_back(i);
  return fold;
}

void check_folds(const char* op, int64_t n, int64_t k) {
  if (k < 2) fail(op, ": k must be at least 2, got ", k);
  if (k > n) fail(op, ": k = ", k, " folds need at least ", k, " examples, got ", n);
}

}  // namespace

TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, double test_size, bool stratify, uint64_t seed) {
  if (!x.defined() || !y.defined() || x.rank() < 1 || y.rank() < 1 || x.dim(0) != y.dim(0))
    fail("train_test_split: x and y need the same number of examples along axis 0, got ",
         x.defined() ? x.shape().str() : "undefined", " and ", y.defined() ? y.shape().str() : "undefined");
  if (!(test_size > 0.0 && test_size < 1.0)) fail("train_test_split: test_size must be in (0, 1), got ", test_size);
  const int64_t n = x.dim(0);
  const auto n_test = static_cast<int64_t>(std::ceil(test_size * static_cast<double>(n)));
  if (n_test >= n) fail("train_test_split: test_size ", test_size, " of ", n, " examples leaves no training examples");

  Generator gen(seed);
  std::vector<int64_t> train, test;
  if (!stratify) {
    const std::vector<int64_t> order = gen.permutation(n);
    test.assign(order.begin(), order.begin() + n_test);
    train.assign(order.begin() + n_test, order.end());
  } else {
    std::vector<std::vector<int64_t>> groups = group_by_class("train_test_split", y, n);
    for (const auto& members : groups)
      if (members.size() < 2)
        fail("train_test_split: stratify needs at least 2 examples of every class; class of example ", members[0],
             " (label ", y.to_vector()[static_cast<size_t>(members[0])], ") has 1");
    const std::vector<int64_t> counts = test_counts(groups, n, n_test);
    for (size_t c = 0; c < groups.size(); ++c) {
      shuffle(groups[c], gen);
      test.insert(test.end(), groups[c].begin(), groups[c].begin() + counts[c]);
      train.insert(train.end(), groups[c].begin() + counts[c], groups[c].end());
    }
    shuffle(test, gen);
    shuffle(train, gen);
  }
  return TrainTestSplit{take_rows(x, train), take_rows(y, train), take_rows(x, test), take_rows(y, test)};
}

std::vector<Fold> k_fold(int64_t n, int64_t k, bool shuffle, uint64_t seed) {
  check_folds("k_fold", n, k);
  std::vector<int64_t> order(static_cast<size_t>(n));
  if (shuffle)
    order = Generator(seed).permutation(n);
  else
    std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<Fold> folds;
  int64_t start = 0;
  for (int64_t f = 0; f < k; ++f) {
    const int64_t size = n / k + (f < n % k ? 1 : 0);
    folds.push_back(make_fold(n, std::vector<int64_t>(order.begin() + start, order.begin() + start + size)));
    start += size;
  }
  return folds;
}

std::vector<Fold> stratified_k_fold(const Tensor& labels, int64_t k, uint64_t seed) {
  const int64_t n = labels.defined() && labels.rank() >= 1 ? labels.dim(0) : 0;
  std::vector<std::vector<int64_t>> groups = group_by_class("stratified_k_fold", labels, n);
  check_folds("stratified_k_fold", n, k);
  // Deal the examples, class after class, to folds 0, 1, ..., k-1, 0, 1, ...: each class
  // is spread evenly, and so is the total.
  Generator gen(seed);
  std::vector<std::vector<int64_t>> tests(static_cast<size_t>(k));
  int64_t position = 0;
  for (auto& members : groups) {
    shuffle(members, gen);
    for (int64_t i : members) tests[static_cast<size_t>(position++ % k)].push_back(i);
  }
  std::vector<Fold> folds;
  for (auto& test : tests) folds.push_back(make_fold(n, std::move(test)));
  return folds;
}

Tensor take_rows(const Tensor& t, const std::vector<int64_t>& indices) {
  if (!t.defined()) fail("take_rows: the tensor is undefined");
  if (t.rank() < 1) fail("take_rows: needs a tensor with rows (rank >= 1), got shape ", t.shape());
  for (size_t k = 0; k < indices.size(); ++k)
    if (indices[k] < 0 || indices[k] >= t.dim(0))
      fail("take_rows: indices[", k, "] = ", indices[k], " is out of range for ", t.dim(0), " rows");
  return kernels::index_select(t, 0, indices);
}

}  // namespace axon
