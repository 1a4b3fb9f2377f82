// What a model is compiled with (optimizer, losses, metrics) and how it scores a step:
// the weighted sum of the output losses, the running means, the metrics, the logs.
#include <cmath>

#include "axon/losses.h"
#include "axon/metric.h"
#include "axon/model.h"
#include "axon/ops.h"

namespace axon {

OptimizerSpec::OptimizerSpec(const char* name) : optimizer(axon::optimizer(name)) {}
OptimizerSpec::OptimizerSpec(const std::string& name) : optimizer(axon::optimizer(name)) {}

LossSpec::LossSpec(const char* name) : LossSpec(std::string(name)) {}
LossSpec::LossSpec(const std::string& name, bool from_logits)
    : name(name), fn(loss(name, from_logits)), from_logits(from_logits) {}
LossSpec::LossSpec(std::string name, LossFn fn) : name(std::move(name)), fn(std::move(fn)), builtin(false) {
  if (!this->fn) fail("compile: loss '", this->name, "' has no function");
}

MetricSpec::MetricSpec(const char* name) : metric(axon::metric(name)) {}
MetricSpec::MetricSpec(const std::string& name) : metric(axon::metric(name)) {}
MetricSpec::MetricSpec(std::shared_ptr<Metric> metric) : metric(std::move(metric)) {
  if (!this->metric) fail("compile: metric is null");
}

void Model::compile(OptimizerSpec optimizer, LossSpec loss, std::vector<MetricSpec> metrics) {
  compile(std::move(optimizer), std::vector<LossSpec>{std::move(loss)}, std::move(metrics));
}

void Model::compile(OptimizerSpec optimizer, std::vector<LossSpec> losses, std::vector<MetricSpec> metrics,
                    std::vector<double> loss_weights) {
  // One list for every output, as Keras: each further output gets its own copies.
  const size_t outputs = output_count();
  std::vector<std::vector<MetricSpec>> per_output{metrics};
  for (size_t k = 1; k < outputs; ++k) {
    std::vector<MetricSpec> copies;
    for (const MetricSpec& spec : metrics) {
      try {
        copies.emplace_back(axon::metric(spec.metric->name()));
      } catch (const Error&) {
        fail("compile: metric '", spec.metric->name(), "' cannot be computed for each of ", outputs,
             " outputs; give metrics by name or per output");
      }
    }
    per_output.push_back(std::move(copies));
  }
  compile(std::move(optimizer), std::move(losses), std::move(per_output), std::move(loss_weights));
}

void Model::compile(OptimizerSpec optimizer, std::vector<LossSpec> losses,
                    std::vector<std::vector<MetricSpec>> metrics_per_output, std::vector<double> loss_weights) {
  const size_t outputs = output_count();
  if (losses.empty() || (losses.size() != 1 && losses.size() != outputs))
    fail("compile: give one loss for every output or one per output; the model has ", outputs, " outputs, got ",
         losses.size(), " losses");
  if (!loss_weights.empty() && loss_weights.size() != outputs)
    fail("compile: loss_weights holds ", loss_weights.size(), " weights for ", outputs, " outputs");
  for (double w : loss_weights)
    if (!std::isfinite(w) || w < 0) fail("compile: loss weights must be finite and >= 0, got ", w);
  if (metrics_per_output.size() != outputs)
    fail("compile: ", metrics_per_output.size(), " metric lists for ", outputs, " outputs");
  std::vector<std::vector<std::shared_ptr<Metric>>> output_metrics(outputs);
  for (size_t k = 0; k < outputs; ++k)
    for (MetricSpec& spec : metrics_per_output[k]) {
      for (const auto& existing : output_metrics[k])
        if (existing->name() == spec.metric->name()) fail("compile: metric '", existing->name(), "' given twice");
      output_metrics[k].push_back(std::move(spec.metric));
    }
  optimizer_ = std::move(optimizer.optimizer);
  losses_ = std::move(losses);
  loss_weights_ = std::move(loss_weights);
  output_metrics_ = std::move(output_metrics);
  loss_sums_.assign(outputs > 1 ? outputs + 1 : 1, 0.0);
  optimizer_attached_ = false;
  if (!built() && input_shape_) build(*input_shape_);
  if (built()) attach_optimizer();
}

void Model::attach_optimizer() {
  optimizer_->set_parameters(trainable_parameters());
  optimizer_attached_ = true;
}

void Model::require_compiled(const char* what) const {
  if (!optimizer_) fail(what, ": the model is not compiled; call compile(optimizer, loss, metrics) first");
}

Optimizer& Model::optimizer() const {
  require_compiled("optimizer");
  return *optimizer_;
}

void Model::require_weightable_losses(const char* what) const {
  for (const LossSpec& spec : losses_)
    if (!spec.builtin)
      fail(what, ": sample weights need a built-in loss (by name); '", spec.name, "' is a custom function");
}

Variable Model::compute_loss(const std::vector<Variable>& y_pred, const std::vector<Tensor>& y,
                             bool with_regularization, double rows, const Tensor& sample_weight) {
  Variable total;
  for (size_t k = 0; k < y_pred.size(); ++k) {
    const LossSpec& spec = losses_[losses_.size() == 1 ? 0 : k];
    const Tensor& target = y[k].dtype() == y_pred[k].dtype() ? y[k] : y[k].to(y_pred[k].dtype());
    Variable loss = sample_weight.defined()
                        ? weighted_loss(spec.name, spec.from_logits, y_pred[k], target, sample_weight)
                        : spec.fn(y_pred[k], target);
    if (y_pred.size() > 1) loss_sums_[k + 1] += loss.item() * rows;
    if (!loss_weights_.empty()) loss = loss * loss_weights_[k];
    total = total.defined() ? total + loss : loss;
  }
  if (with_regularization) {
    const Variable penalty = regularization_loss();
    if (penalty.defined()) total = total + penalty;
  }
  loss_sums_[0] += total.item() * rows;
  loss_count_ += rows;
  return total;
}

// Sample weights go to the weighted(...) metrics only, as Keras's weighted_metrics.
void Model::update_metrics(const std::vector<Variable>& y_pred, const std::vector<Tensor>& y,
                           const Tensor& sample_weight) {
  for (size_t k = 0; k < y_pred.size(); ++k)
    for (const auto& metric : output_metrics_[k]) {
      if (sample_weight.defined() && metric->weighted())
        metric->update(y_pred[k].value(), y[k], sample_weight);
      else
        metric->update(y_pred[k].value(), y[k]);
    }
}

void Model::reset_metrics() {
  loss_count_ = 0.0;
  std::fill(loss_sums_.begin(), loss_sums_.end(), 0.0);
  for (const auto& metrics : output_metrics_)
    for (const auto& metric : metrics) metric->reset();
}

Logs Model::current_logs(const std::string& prefix) const {
  Logs logs;
  const std::vector<std::string> names = output_metrics_.size() > 1 ? output_names() : std::vector<std::string>{};
  auto mean = [&](double sum) { return loss_count_ > 0 ? sum / loss_count_ : 0.0; };
  logs.set(prefix + "loss", mean(loss_sums_[0]));
  for (size_t k = 0; k + 1 < loss_sums_.size(); ++k) logs.set(prefix + names[k] + "_loss", mean(loss_sums_[k + 1]));
  for (size_t k = 0; k < output_metrics_.size(); ++k)
    for (const auto& metric : output_metrics_[k])
      logs.set(prefix + (output_metrics_.size() > 1 ? names[k] + "_" : "") + metric->name(), metric->result());
  return logs;
}

}  // namespace axon
