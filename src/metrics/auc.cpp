#include <algorithm>
#include <cmath>

#include "axon/metric.h"

namespace axon {

void AUC::update(const Tensor& y_pred, const Tensor& y_true) {
  if (!y_pred.defined() || !y_true.defined() || y_pred.rank() < 1 || y_pred.numel() != y_pred.dim(0) ||
      y_true.numel() != y_pred.numel())
    fail("auc: needs (batch,) or (batch, 1) scores and as many 0/1 targets, got ", y_pred.shape(), " and ",
         y_true.shape());
  const std::vector<double> scores = y_pred.to_vector(), labels = y_true.to_vector();
  for (size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] != 0.0 && labels[i] != 1.0) fail("auc: target ", labels[i], " at row ", i, " is not 0 or 1");
    scored_.emplace_back(scores[i], labels[i] == 1.0);
  }
}

double AUC::result() const {
  // Mann-Whitney U: the probability that a random positive outscores a random negative,
  // from ranks with ties averaged.
  std::vector<std::pair<double, bool>> sorted = scored_;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double positive_rank_sum = 0, positives = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j].first == sorted[i].first) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (sorted[k].second) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    i = j;
  }
  const double negatives = static_cast<double>(sorted.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.0;
  return (positive_rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives);
}

void AUC::reset() { scored_.clear(); }

std::vector<double> AUC::state() const {
  std::vector<double> state;
  for (const auto& [score, positive] : scored_) state.insert(state.end(), {score, positive ? 1.0 : 0.0});
  return state;
}

void AUC::merge(const std::vector<double>& state) {
  if (state.size() % 2 != 0) fail("auc: a merged state holds an odd count of numbers");
  for (size_t i = 0; i < state.size(); i += 2) scored_.emplace_back(state[i], state[i + 1] != 0.0);
}

}  // namespace axon
