#include "axon/model.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "axon/callbacks.h"
#include "axon/data_loader.h"
#include "axon/dataset.h"
#include "axon/metric.h"
#include "axon/ops.h"

namespace axon {

OptimizerSpec::OptimizerSpec(const char* name) : optimizer(axon::optimizer(name)) {}
OptimizerSpec::OptimizerSpec(const std::string& name) : optimizer(axon::optimizer(name)) {}
OptimizerSpec::OptimizerSpec(std::shared_ptr<Optimizer> optimizer) : optimizer(std::move(optimizer)) {
  if (!this->optimizer) fail("compile: optimizer is null");
}

LossSpec::LossSpec(const char* name) : LossSpec(std::string(name)) {}
LossSpec::LossSpec(const std::string& name, bool from_logits) : name(name), fn(loss(name, from_logits)), from_logits(from_logits) {}
LossSpec::LossSpec(std::string name, LossFn fn) : name(std::move(name)), fn(std::move(fn)) {
  if (!this->fn) fail("compile: loss '", this->name, "' has no function");
}

MetricSpec::MetricSpec(const char* name) : metric(axon::metric(name)) {}
MetricSpec::MetricSpec(const std::string& name) : metric(axon::metric(name)) {}
MetricSpec::MetricSpec(std::shared_ptr<Metric> metric) : metric(std::move(metric)) {
  if (!this->metric) fail("compile: metric is null");
}

namespace {

// Runs a scope in eval (or train) mode and restores the mode after.
class ModeGuard {
 public:
  ModeGuard(Module& module, bool training) : module_(module), previous_(module.training()) { module.train(training); }
  ~ModeGuard() { module_.train(previous_); }

 private:
  Module& module_;
  bool previous_;
};

Tensor as_float32(const Tensor& t) { return t.dtype() == DType::f32 ? t : t.to(DType::f32); }

void check_xy(const char* what, const Tensor& x, const Tensor& y) {
  if (!x.defined() || !y.defined()) fail(what, ": x or y is undefined");
  if (x.rank() < 1 || y.rank() < 1) fail(what, ": x ", x.shape(), " and y ", y.shape(), " need a batch axis");
  if (x.dim(0) != y.dim(0)) fail(what, ": x has ", x.dim(0), " examples but y has ", y.dim(0));
  if (x.dim(0) == 0) fail(what, ": no examples (x has shape ", x.shape(), ")");
}

void check_batch_size(const char* what, int64_t batch_size) {
  if (batch_size < 1) fail(what, ": batch_size must be >= 1, got ", batch_size);
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

void Model::add_layer(std::shared_ptr<Module> layer) { add_module("layers." + std::to_string(children().size()), std::move(layer)); }

void Model::build(const Shape& input_shape) {
  input_shape_ = input_shape;
  std::vector<int64_t> dims = input_shape.dims();
  dims.insert(dims.begin(), 1);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  (*this)(Variable(Tensor::zeros(Shape(dims))));
  if (optimizer_) attach_optimizer();
}

void Model::compile(OptimizerSpec optimizer, LossSpec loss, std::vector<MetricSpec> metrics) {
  optimizer_ = std::move(optimizer.optimizer);
  loss_ = std::move(loss);
  metrics_.clear();
  for (MetricSpec& spec : metrics) {
    for (const auto& existing : metrics_)
      if (existing->name() == spec.metric->name()) fail("compile: metric '", existing->name(), "' given twice");
    metrics_.push_back(std::move(spec.metric));
  }
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

Variable Model::compute_loss(const Variable& y_pred, const Tensor& y, bool with_regularization) {
  Variable loss = loss_.fn(y_pred, y.dtype() == y_pred.dtype() ? y : y.to(y_pred.dtype()));
  if (with_regularization) {
    const Variable penalty = regularization_loss();
    if (penalty.defined()) loss = loss + penalty;
  }
  return loss;
}

void Model::train_step(const Batch& batch) {
  optimizer_->zero_grad();
  const Variable y_pred = (*this)(Variable(batch.x));
  if (!optimizer_attached_) attach_optimizer();  // the first forward built the weights
  Variable loss = compute_loss(y_pred, batch.y, true);
  loss.backward();
  optimizer_->step();
  const double n = static_cast<double>(batch.x.dim(0));
  loss_sum_ += loss.item() * n;
  loss_count_ += n;
  for (const auto& metric : metrics_) metric->update(y_pred.value(), batch.y);
}

void Model::test_step(const Batch& batch) {
  const Variable y_pred = (*this)(Variable(batch.x));
  const double n = static_cast<double>(batch.x.dim(0));
  loss_sum_ += compute_loss(y_pred, batch.y, false).item() * n;
  loss_count_ += n;
  for (const auto& metric : metrics_) metric->update(y_pred.value(), batch.y);
}

void Model::reset_metrics() {
  loss_sum_ = loss_count_ = 0.0;
  for (const auto& metric : metrics_) metric->reset();
}

Logs Model::current_logs(const std::string& prefix) const {
  Logs logs;
  logs.set(prefix + "loss", loss_count_ > 0 ? loss_sum_ / loss_count_ : 0.0);
  for (const auto& metric : metrics_) logs.set(prefix + metric->name(), metric->result());
  return logs;
}

History Model::fit(const Tensor& x_in, const Tensor& y, const FitOptions& options) {
  require_compiled("fit");
  check_xy("fit", x_in, y);
  check_batch_size("fit", options.batch_size);
  if (options.epochs < 1) fail("fit: epochs must be >= 1, got ", options.epochs);
  if (options.initial_epoch < 0 || options.initial_epoch >= options.epochs)
    fail("fit: initial_epoch must be in [0, epochs), got ", options.initial_epoch, " with epochs ", options.epochs);
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
    fail("fit: validation_split must be in (0, 1) (or 0 for none), got ", options.validation_split);
  if (options.verbose < 0 || options.verbose > 2) fail("fit: verbose must be 0, 1 or 2, got ", options.verbose);

  // Training rows first, validation rows last, as Keras: views, no copies.
  const Tensor x = as_float32(x_in);
  const int64_t n = x.dim(0);
  int64_t train_count = n;
  Tensor x_val, y_val;
  if (options.validation_data) {
    x_val = as_float32(options.validation_data->first);
    y_val = options.validation_data->second;
    check_xy("fit: validation_data", x_val, y_val);
  } else if (options.validation_split > 0.0) {
    train_count = static_cast<int64_t>(static_cast<double>(n) * (1.0 - options.validation_split));
    if (train_count == 0 || train_count == n)
      fail("fit: validation_split ", options.validation_split, " of ", n, " examples leaves an empty training or validation set");
    x_val = x.rows(train_count, n);
    y_val = y.rows(train_count, n);
  }
  auto train_set = std::make_shared<TensorDataset>(x.rows(0, train_count), y.rows(0, train_count));
  DataLoader loader(train_set, options.batch_size, options.shuffle, options.seed);
  if (!options.augment.empty()) {
    try {
      loader.set_augmentations(options.augment, options.seed);
    } catch (const Error& e) {
      fail("fit: augment: ", e.what());
    }
  }

  std::vector<std::shared_ptr<Callback>> callbacks = options.callbacks;
  if (options.verbose > 0) callbacks.push_back(std::make_shared<ProgressBar>());
  const TrainingParams params{options.epochs, options.initial_epoch, loader.num_batches(), options.verbose};
  for (const auto& callback : callbacks) {
    if (!callback) fail("fit: a callback is null");
    callback->set_context(this, params);
  }

  stop_training = false;
  History history;
  bool warned_nan = false;
  for (int epoch = 0; epoch < options.initial_epoch; ++epoch) loader.start_epoch();  // the orders a resumed run skipped
  for (const auto& callback : callbacks) callback->on_train_begin({});
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    ModeGuard training(*this, true);
    reset_metrics();
    loader.start_epoch();
    for (const auto& callback : callbacks) callback->on_epoch_begin(epoch, {});
    for (int64_t b = 0; b < loader.num_batches() && !stop_training; ++b) {
      for (const auto& callback : callbacks) callback->on_batch_begin(b, {});
      try {
        train_step(loader.batch(b));
      } catch (const Error& e) {
        fail("fit: epoch ", epoch + 1, ", batch ", b, ": ", e.what());
      }
      const Logs batch_logs = current_logs();
      if (!warned_nan && !std::isfinite(loss_sum_)) {
        std::fprintf(stderr, "fit: the loss became %g at epoch %d, batch %lld (TerminateOnNaN stops training when it does)\n",
                     loss_sum_, epoch + 1, static_cast<long long>(b));
        warned_nan = true;
      }
      for (const auto& callback : callbacks) callback->on_batch_end(b, batch_logs);
    }
    Logs logs = current_logs();
    if (x_val.defined()) {
      const Logs validation = evaluate(x_val, y_val, options.batch_size);
      for (const auto& [key, value] : validation.items()) logs.set("val_" + key, value);
    }
    history.epochs.push_back(epoch);
    history.logs.push_back(logs);
    for (const auto& callback : callbacks) callback->on_epoch_end(epoch, logs);
  }
  const Logs last = history.empty() ? Logs{} : history.logs.back();
  for (const auto& callback : callbacks) callback->on_train_end(last);
  return history;
}

Logs Model::evaluate(const Tensor& x_in, const Tensor& y, int64_t batch_size, int verbose) {
  require_compiled("evaluate");
  check_xy("evaluate", x_in, y);
  check_batch_size("evaluate", batch_size);
  const Tensor x = as_float32(x_in);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  reset_metrics();
  for (int64_t start = 0; start < x.dim(0); start += batch_size) {
    const int64_t end = std::min(start + batch_size, x.dim(0));
    test_step(Batch{x.rows(start, end), y.rows(start, end)});
  }
  const Logs logs = current_logs();
  if (verbose > 0) std::printf("%s\n", logs.str().c_str());
  return logs;
}

Tensor Model::predict(const Tensor& x_in, int64_t batch_size) {
  if (!x_in.defined() || x_in.rank() < 1) fail("predict: x needs a batch axis");
  check_batch_size("predict", batch_size);
  const Tensor x = as_float32(x_in);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  if (x.dim(0) > 0 && x.dim(0) <= batch_size) return (*this)(Variable(x)).value();  // one batch: no copy
  Tensor out;
  for (int64_t start = 0; start < x.dim(0); start += batch_size) {
    const int64_t end = std::min(start + batch_size, x.dim(0));
    const Tensor y = (*this)(Variable(x.rows(start, end))).value();
    if (!out.defined()) {
      std::vector<int64_t> dims = y.shape().dims();
      dims[0] = x.dim(0);
      out = Tensor::empty(Shape(dims), y.dtype());
    }
    out.rows(start, end).copy_from(y);
  }
  if (!out.defined()) fail("predict: no examples (x has shape ", x.shape(), ")");
  return out;
}

Logs Model::train_on_batch(const Tensor& x, const Tensor& y) {
  require_compiled("train_on_batch");
  check_xy("train_on_batch", x, y);
  ModeGuard training(*this, true);
  reset_metrics();
  train_step(Batch{as_float32(x), y});
  return current_logs();
}

Logs Model::test_on_batch(const Tensor& x, const Tensor& y) {
  require_compiled("test_on_batch");
  check_xy("test_on_batch", x, y);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  reset_metrics();
  test_step(Batch{as_float32(x), y});
  return current_logs();
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> weights;
  for (const NamedParameter& p : named_parameters()) weights.push_back(p.variable.value().clone());
  return weights;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  std::vector<NamedParameter> params = named_parameters();
  if (weights.size() != params.size()) fail("set_weights: got ", weights.size(), " tensors for ", params.size(), " parameters");
  for (size_t i = 0; i < params.size(); ++i)
    if (weights[i].shape() != params[i].variable.shape())
      fail("set_weights: '", params[i].name, "' has shape ", params[i].variable.shape(), ", got ", weights[i].shape());
  for (size_t i = 0; i < params.size(); ++i) params[i].variable.value().copy_from(weights[i]);
}

void Model::summary(std::ostream& out) const {
  if (!built()) fail("summary: the model is not built yet; call build(input_shape) or fit() first");
  auto shape_text = [](const Module& m) {
    if (m.output_shape().rank() == 0 && !m.built()) return std::string("?");
    std::string text = "(None";
    for (int64_t d : m.output_shape().dims()) text += ", " + std::to_string(d);
    return text + ")";
  };
  const std::string rule(72, '='), thin(72, '_');
  out << "Model: \"" << type_name() << "\"\n" << thin << "\n"
      << std::left << std::setw(34) << "Layer (type)" << std::setw(24) << "Output Shape" << "Param #\n" << rule << "\n";
  for (const auto& [name, child] : children())
    out << std::setw(34) << (name + " (" + child->type_name() + ")") << std::setw(24) << shape_text(*child)
        << with_commas(child->parameter_count()) << "\n";
  const int64_t total = parameter_count(), trainable = trainable_parameter_count();
  out << rule << "\nTotal params: " << with_commas(total) << "\nTrainable params: " << with_commas(trainable)
      << "\nNon-trainable params: " << with_commas(total - trainable) << "\n" << thin << "\n";
}

std::string Model::summary() const {
  std::ostringstream out;
  summary(out);
  return out.str();
}

}  // namespace axon
