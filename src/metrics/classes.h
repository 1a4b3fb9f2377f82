#pragma once
// Turns a batch of predictions and targets into (true class, predicted class) pairs,
// the common ground of accuracy, the confusion matrix and precision/recall/F1.
#include <vector>

#include "axon/metric.h"

namespace axon::metrics {

struct ClassPairs {
  std::vector<int64_t> truth, predicted;
  int64_t classes = 0;  // 2 for a one-column (binary) output
};

ClassPairs to_classes(const char* metric, const Tensor& y_pred, const Tensor& y_true, ClassKind kind, double threshold);

// Sample weights (batch,) or (batch, 1) for `rows` examples, each finite and >= 0.
std::vector<double> example_weights(const char* metric, const Tensor& sample_weight, size_t rows);

// Metric::merge of counters: adds state[i] to *counts[i]; fails unless the sizes match.
void add_counts(const char* metric, std::vector<double*> counts, const std::vector<double>& state);

// Argmax of each row of a (batch, classes) tensor, the first index on ties.
std::vector<int64_t> argmax_rows(const Tensor& scores);

}  // namespace axon::metrics
