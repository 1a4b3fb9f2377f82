// What every Metric can do by default: refuse what it cannot (weights, combining over
// ranks), naming itself; and the merge of plain counters the built-in metrics share.
#include "axon/metric.h"
#include "classes.h"

namespace axon {

void Metric::update(const Tensor&, const Tensor&, const Tensor&) {
  fail("metric '", name(), "' cannot weight its examples; use it unweighted (without \"weighted_\")");
}

std::vector<double> Metric::state() const {
  fail("metric '", name(), "' cannot be combined over ranks (data-parallel training): give it state() and merge()");
}

void Metric::merge(const std::vector<double>&) { state(); }  // fails the same way

namespace metrics {

void add_counts(const char* what, std::vector<double*> counts, const std::vector<double>& state) {
  if (state.size() != counts.size())
    fail(what, ": a merged state holds ", state.size(), " numbers, expected ", counts.size());
  for (size_t i = 0; i < counts.size(); ++i) *counts[i] += state[i];
}

}  // namespace metrics

}  // namespace axon
