// The parts of Model that run data-parallel training (see data_parallel.h); the step
// itself is Model::train_step with GradientBuckets.
#include <cmath>
#include <string>

#include "axon/metric.h"
#include "axon/model.h"
#include "data_parallel_checks.h"
#include "gradient_buckets.h"

namespace axon {

namespace detail {

void require_same_on_every_rank(Communicator& ranks, const char* what, std::initializer_list<double> values) {
  const std::vector<std::vector<double>> all = ranks.allgather(std::vector<double>(values));
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) {
      size_t i = 0;
      while (i < all[0].size() && i < all[r].size() && all[0][i] == all[r][i]) ++i;
      fail(what, ": the ranks were not given the same data and options (rank ", r, " differs from rank 0 in value ", i,
           " of ", all[0].size(), ": ", i < all[r].size() ? all[r][i] : NAN, " against ",
           i < all[0].size() ? all[0][i] : NAN, "); every rank must call it alike");
    }
}

}  // namespace detail

namespace {

// Every value of `weights` (float32), back to back, as T: one message for a collective.
template <class T>
std::vector<T> concatenated(const std::vector<Variable>& weights) {
  std::vector<T> flat;
  for (const Variable& w : weights)
    flat.insert(flat.end(), w.value().data<float>(), w.value().data<float>() + w.numel());
  return flat;
}

// The inverse of concatenated(), each value times `scale`.
template <class T>
void write_back(std::vector<Variable>& weights, const std::vector<T>& flat, double scale) {
  size_t at = 0;
  for (Variable& w : weights) {
    float* v = w.value().data<float>();
    for (int64_t i = 0; i < w.numel(); ++i) v[i] = static_cast<float>(flat[at++] * scale);
  }
}

}  // namespace

void Model::distribute(DataParallel strategy) {
  if (!strategy.communicator) fail("distribute: the communicator is null");
  if (strategy.bucket_bytes < 1) fail("distribute: bucket_bytes must be >= 1, got ", strategy.bucket_bytes);
  distribution_ = std::move(strategy);
}

void Model::start_distributed() {
  Communicator& ranks = *distribution_->communicator;
  if (!optimizer_attached_) attach_optimizer();
  // One message: every weight, trainable or not, in named_parameters() order.
  std::vector<Variable> weights = parameters();
  std::vector<float> flat = concatenated<float>(weights);
  detail::require_same_on_every_rank(ranks, "fit",
                                     {static_cast<double>(weights.size()), static_cast<double>(flat.size())});
  ranks.broadcast(flat.data(), flat.size(), 0);
  write_back(weights, flat, 1.0);
  buckets_ = std::make_shared<detail::GradientBuckets>(trainable_parameters(), ranks, distribution_->bucket_bytes);
}

// Every rank's running loss and metric states, gathered; each rank then merges them
// all in rank order, so every rank ends with the same global figures.
void Model::combine_over_ranks() {
  Communicator& ranks = *distribution_->communicator;
  std::vector<double> mine{loss_count_};
  mine.insert(mine.end(), loss_sums_.begin(), loss_sums_.end());
  for (const auto& metrics : output_metrics_)
    for (const auto& metric : metrics) {
      const std::vector<double> state = metric->state();
      mine.push_back(static_cast<double>(state.size()));
      mine.insert(mine.end(), state.begin(), state.end());
    }
  const std::vector<std::vector<double>> all = ranks.allgather(mine);
  reset_metrics();
  for (const std::vector<double>& theirs : all) {
    size_t at = 0;
    loss_count_ += theirs.at(at++);
    for (double& sum : loss_sums_) sum += theirs.at(at++);
    for (const auto& metrics : output_metrics_)
      for (const auto& metric : metrics) {
        const auto length = static_cast<size_t>(theirs.at(at++));
        if (at + length > theirs.size()) fail("combine_over_ranks: a rank sent a short metric state");
        metric->merge(std::vector<double>(theirs.begin() + static_cast<std::ptrdiff_t>(at),
                                          theirs.begin() + static_cast<std::ptrdiff_t>(at + length)));
        at += length;
      }
  }
}

// Sums in double: N equal float values come back exactly (synchronized statistics).
void Model::average_non_trainable() {
  std::vector<Variable> weights;
  for (const NamedParameter& p : named_parameters())
    if (!p.trainable) weights.push_back(p.variable);
  if (weights.empty()) return;
  std::vector<double> flat = concatenated<double>(weights);
  Communicator& ranks = *distribution_->communicator;
  ranks.allreduce_sum(flat.data(), flat.size());
  write_back(weights, flat, 1.0 / ranks.size());
}

}  // namespace axon
