// weighted(metric): the same metric, given the sample weights of fit and evaluate.
#include "axon/metric.h"
#include "classes.h"

namespace axon {

void Metric::update(const Tensor&, const Tensor&, const Tensor&) {
  fail("metric '", name(), "' cannot weight its examples; use it unweighted (without \"weighted_\")");
}

std::vector<double> Metric::state() const {
  fail("metric '", name(), "' cannot be combined over ranks (data-parallel training): give it state() and merge()");
}

void Metric::merge(const std::vector<double>&) { state(); }

namespace metrics {

void add_counts(const char* what, std::vector<double*> counts, const std::vector<double>& state) {
  if (state.size() != counts.size()) fail(what, ": a merged state holds ", state.size(), " numbers, expected ", counts.size());
  for (size_t i = 0; i < counts.size(); ++i) *counts[i] += state[i];
}

}  // namespace metrics

namespace {

class WeightedMetric : public Metric {
 public:
  explicit WeightedMetric(std::shared_ptr<Metric> metric) : metric_(std::move(metric)) {}
  std::string name() const override { return "weighted_" + metric_->name(); }
  void update(const Tensor& y_pred, const Tensor& y_true) override { metric_->update(y_pred, y_true); }
  void update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) override {
    metric_->update(y_pred, y_true, sample_weight);
  }
  double result() const override { return metric_->result(); }
  void reset() override { metric_->reset(); }
  bool weighted() const override { return true; }
  std::vector<double> state() const override { return metric_->state(); }
  void merge(const std::vector<double>& state) override { metric_->merge(state); }

 private:
  std::shared_ptr<Metric> metric_;
};

}  // namespace

std::shared_ptr<Metric> weighted(std::shared_ptr<Metric> metric) {
  if (!metric) fail("weighted: metric is null");
  if (metric->weighted()) return metric;
  return std::make_shared<WeightedMetric>(std::move(metric));
}

}  // namespace axon
