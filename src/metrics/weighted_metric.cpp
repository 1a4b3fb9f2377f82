// weighted(metric): the same metric, given the sample weights of fit and evaluate.
#include "axon/metric.h"

namespace axon {

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
