#include "axon/model.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "axon/callbacks.h"
#include "axon/data_loader.h"
#include "axon/dataset.h"
#include "axon/metric.h"
#include "axon/ops.h"
#include "data_parallel_checks.h"
#include "distributed/replica.h"
#include "gradient_buckets.h"
#include "graph.h"
#include "packed_rows.h"
#include "sample_weights.h"

namespace axon {

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

std::vector<Shape> example_shapes(const std::vector<Tensor>& tensors) {
  std::vector<Shape> shapes;
  for (const Tensor& t : tensors)
    shapes.emplace_back(std::vector<int64_t>(t.shape().dims().begin() + 1, t.shape().dims().end()));
  return shapes;
}

std::vector<Tensor> rows_of(const std::vector<Tensor>& tensors, int64_t begin, int64_t end) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) out.push_back(t.rows(begin, end));
  return out;
}

void check_lists(const char* what, const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  for (const Tensor& t : x) check_xy(what, t, y.empty() ? t : y.front());
  for (const Tensor& t : y) check_xy(what, x.front(), t);
}

}  // namespace

void Model::add_layer(std::shared_ptr<Module> layer) {
  if (layer && layer->name().empty()) {  // Keras's names: dense, dense_1, ...
    std::set<std::string> taken;
    for (const auto& [path, child] : children()) taken.insert(child->name());
    layer->set_name(unique_name(snake_case(layer->type_name()), taken));
  }
  add_module("layers." + std::to_string(children().size()), std::move(layer));
}

std::vector<Shape> Model::input_shapes() const {
  if (!input_shape_) return {};
  return {*input_shape_};
}

void Model::build(const Shape& input_shape) {
  input_shape_ = input_shape;
  std::vector<int64_t> dims = input_shape.dims();
  dims.insert(dims.begin(), 1);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  (*this)(Variable(Tensor::zeros(Shape(dims))));
  if (optimizer_) attach_optimizer();
}

Config Model::config() const {
  Config c = Config::object();
  if (input_shape_) c.set("input_shape", input_shape_->dims());
  return c;
}

void Model::build_from_config(const ConfigReader& c) {
  if (c.has("input_shape")) build(Shape(c.integers("input_shape", 1)));
}

void Model::check_arity(const char* what, const std::vector<Tensor>& x, const std::vector<Tensor>* y) const {
  const size_t inputs = input_count(), outputs = output_count();
  if (x.size() != inputs) fail(what, ": the model takes ", inputs, " inputs, got ", x.size(), " tensors");
  if (y && y->size() != outputs) fail(what, ": the model has ", outputs, " outputs, got ", y->size(), " targets");
  if (x.empty()) fail(what, ": no inputs");
}

std::vector<Variable> Model::run(const std::vector<Tensor>& x) {
  if (x.size() == 1 && output_count() == 1) return {(*this)(Variable(x[0]))};
  std::vector<Variable> inputs;
  for (const Tensor& t : x) inputs.emplace_back(t);
  return (*this)(inputs);
}

void Model::train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight,
                       int64_t global_rows) {
  optimizer_->zero_grad();
  const int64_t rows = x[0].dim(0);
  const std::vector<Variable> y_pred = run(x);
  if (!optimizer_attached_) attach_optimizer();  // the first forward built the weights
  Variable loss = compute_loss(y_pred, y, true, static_cast<double>(rows), sample_weight);
  if (buckets_) {
    // The step's loss is the mean over the global batch: this rank's mean weighs rows / global_rows.
    const double share = static_cast<double>(rows) / static_cast<double>(global_rows);
    loss.backward(Tensor::full(loss.shape(), share, loss.dtype()),
                  [this](const void* leaf, const Tensor&) { buckets_->ready(leaf); });
    buckets_->finish();
  } else {
    loss.backward();
  }
  optimizer_->step();
  update_metrics(y_pred, y, sample_weight);
}

// Like Keras, the reported loss includes the weight penalties here too, so fit's and
// evaluate's losses on the same data agree.
void Model::test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight) {
  const std::vector<Variable> y_pred = run(x);
  compute_loss(y_pred, y, true, static_cast<double>(x[0].dim(0)), sample_weight);
  update_metrics(y_pred, y, sample_weight);
}

History Model::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

History Model::fit(const std::vector<Tensor>& x_in, const std::vector<Tensor>& y, const FitOptions& options) {
  require_compiled("fit");
  check_arity("fit", x_in, &y);
  check_lists("fit", x_in, y);
  check_batch_size("fit", options.batch_size);
  if (options.epochs < 1) fail("fit: epochs must be >= 1, got ", options.epochs);
  if (options.initial_epoch < 0 || options.initial_epoch >= options.epochs)
    fail("fit: initial_epoch must be in [0, epochs), got ", options.initial_epoch, " with epochs ", options.epochs);
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
    fail("fit: validation_split must be in (0, 1) (or 0 for none), got ", options.validation_split);
  if (options.verbose < 0 || options.verbose > 2) fail("fit: verbose must be 0, 1 or 2, got ", options.verbose);
  if (built())  // targets that cannot suit the loss fail now, not at the first batch
    for (size_t k = 0; k < y.size() && k < output_shapes().size(); ++k)
      check_loss_targets(losses_[losses_.size() == 1 ? 0 : k].name, output_shapes()[k], y[k].shape());
  if (options.validation_data && (x_in.size() != 1 || y.size() != 1))
    fail("fit: validation_data is for one input and one output; use validation_split");
  if (!options.augment.empty() && x_in.size() != 1) fail("fit: augment needs a model of one (image) input");

  // Training rows first, validation rows last, as Keras: views, no copies. Sample
  // weights travel with the targets (a last column), so shuffling keeps them together.
  std::vector<Tensor> x;
  for (const Tensor& t : x_in) x.push_back(as_float32(t));
  const int64_t n = x[0].dim(0);
  const Tensor weights = detail::fit_weights(options, y, n);
  const bool weighted = weights.defined();
  if (weighted) require_weightable_losses("fit");
  std::vector<Tensor> y_all = y;
  if (weighted) y_all.push_back(weights.reshape({n, 1}));
  int64_t train_count = n;
  std::vector<Tensor> x_val, y_val;
  Tensor w_val;
  if (options.validation_data) {
    x_val = {as_float32(options.validation_data->first)};
    y_val = {options.validation_data->second};
    check_xy("fit: validation_data", x_val[0], y_val[0]);
  } else if (options.validation_split > 0.0) {
    train_count = static_cast<int64_t>(static_cast<double>(n) * (1.0 - options.validation_split));
    if (train_count == 0 || train_count == n)
      fail("fit: validation_split ", options.validation_split, " of ", n,
           " examples leaves an empty training or validation set");
    x_val = rows_of(x, train_count, n);
    y_val = rows_of(y, train_count, n);
    if (weighted) w_val = weights.rows(train_count, n);
  }
  const std::vector<Tensor> x_train = rows_of(x, 0, train_count), y_train = rows_of(y_all, 0, train_count);
  const std::vector<Shape> x_shapes = example_shapes(x_train), y_shapes = example_shapes(y_train);
  // One tensor a side as it is; several packed into rows (detail::pack_rows).
  const auto side = [](const std::vector<Tensor>& parts) {
    return parts.size() == 1 ? parts[0] : detail::pack_rows(parts);
  };
  const auto unpack = [](const Tensor& batch, const std::vector<Shape>& shapes) {
    return shapes.size() == 1 ? std::vector<Tensor>{batch} : detail::unpack_rows(batch, shapes);
  };
  auto train_set = std::make_shared<TensorDataset>(side(x_train), side(y_train));
  DataLoader loader(train_set, options.batch_size, options.shuffle, options.seed);
  Communicator* ranks = distribution_ ? distribution_->communicator.get() : nullptr;
  if (ranks) {
    loader.shard(ranks->rank(), ranks->size());
    detail::require_same_on_every_rank(
        *ranks, "fit",
        {static_cast<double>(n), static_cast<double>(options.batch_size), static_cast<double>(options.epochs),
         static_cast<double>(options.initial_epoch), static_cast<double>(options.seed >> 32),
         static_cast<double>(options.seed & 0xffffffffu)});
    if (!built()) {  // the weights exist before rank 0's are copied to every rank
      NoGrad no_grad;
      ModeGuard eval(*this, false);
      run(rows_of(x_train, 0, 1));
    }
    start_distributed();
  }
  // Ends the distributed state however fit ends.
  struct StopDistributed {
    Model& model;
    ~StopDistributed() { model.buckets_.reset(); }
  } stop_distributed{*this};
  if (!options.augment.empty()) {
    try {
      loader.set_augmentations(options.augment, options.seed);
    } catch (const Error& e) {
      fail("fit: augment: ", e.what());
    }
  }

  // Distributed, callbacks that print or write files run on rank 0 alone.
  const bool chief = !ranks || ranks->chief();
  std::vector<std::shared_ptr<Callback>> callbacks;
  for (const auto& callback : options.callbacks) {
    if (!callback) fail("fit: a callback is null");
    if (chief || !callback->chief_only()) callbacks.push_back(callback);
  }
  if (options.verbose > 0 && chief) callbacks.push_back(std::make_shared<ProgressBar>());
  const TrainingParams params{.epochs = options.epochs,
                              .initial_epoch = options.initial_epoch,
                              .steps = loader.num_batches(),
                              .samples = loader.size(),
                              .batch_size = options.batch_size * (ranks ? ranks->size() : 1),
                              .verbose = options.verbose};
  for (const auto& callback : callbacks) callback->set_context(this, params);

  const detail::ReplicaScope replicas(ranks);  // synchronized layers find the ranks
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
        const Batch batch = loader.batch(b);
        std::vector<Tensor> targets = unpack(batch.y, y_shapes);
        Tensor batch_weights;
        if (weighted) {
          batch_weights = targets.back().reshape({-1});
          targets.pop_back();
        }
        train_step(unpack(batch.x, x_shapes), targets, batch_weights, loader.global_batch_rows(b));
      } catch (const Error& e) {
        fail("fit: epoch ", epoch + 1, ", batch ", b, ": ", e.what());
      }
      const Logs batch_logs = current_logs();
      if (!warned_nan && !std::isfinite(loss_sums_[0])) {
        std::fprintf(stderr,
                     "fit: the loss became %g at epoch %d, batch %lld (TerminateOnNaN stops training when it does)\n",
                     loss_sums_[0], epoch + 1, static_cast<long long>(b));
        warned_nan = true;
      }
      for (const auto& callback : callbacks) callback->on_batch_end(b, batch_logs);
      if (ranks) stop_training = ranks->allreduce_max(stop_training ? 1.0 : 0.0) > 0.0;  // one rank stops: all do
    }
    if (ranks) {
      combine_over_ranks();
      average_non_trainable();
    }
    Logs logs = current_logs();
    if (!x_val.empty()) {
      const Logs validation = evaluate(x_val, y_val, options.batch_size, 0, w_val);
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

Logs Model::evaluate(const Tensor& x, const Tensor& y, int64_t batch_size, int verbose, const Tensor& sample_weight) {
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, batch_size, verbose, sample_weight);
}

Logs Model::evaluate(const std::vector<Tensor>& x_in, const std::vector<Tensor>& y, int64_t batch_size, int verbose,
                     const Tensor& sample_weight) {
  require_compiled("evaluate");
  check_arity("evaluate", x_in, &y);
  check_lists("evaluate", x_in, y);
  check_batch_size("evaluate", batch_size);
  std::vector<Tensor> x;
  for (const Tensor& t : x_in) x.push_back(as_float32(t));
  const Tensor weights =
      sample_weight.defined() ? detail::checked_weights("evaluate", sample_weight, x[0].dim(0)) : Tensor();
  if (weights.defined()) require_weightable_losses("evaluate");
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  reset_metrics();
  // Distributed, rank r scores the r-th of N contiguous shares of the rows.
  Communicator* ranks = distribution_ ? distribution_->communicator.get() : nullptr;
  const int64_t n = x[0].dim(0), rank = ranks ? ranks->rank() : 0, size = ranks ? ranks->size() : 1;
  if (ranks) detail::require_same_on_every_rank(*ranks, "evaluate", {static_cast<double>(n)});
  const int64_t first = n * rank / size, last = n * (rank + 1) / size;
  for (int64_t start = first; start < last; start += batch_size) {
    const int64_t end = std::min(start + batch_size, last);
    test_step(rows_of(x, start, end), rows_of(y, start, end), weights.defined() ? weights.rows(start, end) : Tensor());
  }
  if (ranks) combine_over_ranks();
  const Logs logs = current_logs();
  if (verbose > 0 && (!ranks || ranks->chief())) std::printf("%s\n", logs.str().c_str());
  return logs;
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  if (!x.defined() || x.rank() < 1) fail("predict: x needs a batch axis");
  std::vector<Tensor> outputs = predict(std::vector<Tensor>{x}, batch_size);
  if (outputs.size() != 1)
    fail("predict: the model has ", outputs.size(), " outputs; call predict with a list of inputs");
  return outputs[0];
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& x_in, int64_t batch_size) {
  check_arity("predict", x_in, nullptr);
  check_batch_size("predict", batch_size);
  std::vector<Tensor> x;
  for (const Tensor& t : x_in) {
    if (!t.defined() || t.rank() < 1) fail("predict: x needs a batch axis");
    if (t.dim(0) != x_in[0].dim(0)) fail("predict: the inputs hold ", x_in[0].dim(0), " and ", t.dim(0), " examples");
    x.push_back(as_float32(t));
  }
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  const int64_t n = x[0].dim(0);
  // A built model of layer calls runs as an inference plan (see train/inference_plan.h).
  auto values = [this](const std::vector<Tensor>& batch) {
    if (built())
      if (const detail::Graph* graph = inference_graph(batch)) return graph->predict(batch);
    std::vector<Tensor> out;
    for (const Variable& v : run(batch)) out.push_back(v.value());
    return out;
  };
  if (n > 0 && n <= batch_size) return values(x);  // one batch: no copy
  std::vector<Tensor> out;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(start + batch_size, n);
    const std::vector<Tensor> y = values(rows_of(x, start, end));
    if (out.empty())
      for (const Tensor& t : y) {
        std::vector<int64_t> dims = t.shape().dims();
        dims[0] = n;
        out.push_back(Tensor::empty(Shape(dims), t.dtype()));
      }
    for (size_t k = 0; k < y.size(); ++k) out[k].rows(start, end).copy_from(y[k]);
  }
  if (out.empty()) fail("predict: no examples (x has shape ", x[0].shape(), ")");
  return out;
}

const detail::Graph* Model::inference_graph(const std::vector<Tensor>&) { return nullptr; }

Logs Model::train_on_batch(const Tensor& x, const Tensor& y) {
  require_compiled("train_on_batch");
  check_xy("train_on_batch", x, y);
  check_arity("train_on_batch", {x}, nullptr);
  ModeGuard training(*this, true);
  reset_metrics();
  train_step({as_float32(x)}, {y});
  return current_logs();
}

Logs Model::test_on_batch(const Tensor& x, const Tensor& y) {
  require_compiled("test_on_batch");
  check_xy("test_on_batch", x, y);
  check_arity("test_on_batch", {x}, nullptr);
  NoGrad no_grad;
  ModeGuard eval(*this, false);
  reset_metrics();
  test_step({as_float32(x)}, {y});
  return current_logs();
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> weights;
  for (const NamedParameter& p : named_parameters()) weights.push_back(p.variable.value().clone());
  return weights;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  std::vector<NamedParameter> params = named_parameters();
  if (weights.size() != params.size())
    fail("set_weights: got ", weights.size(), " tensors for ", params.size(), " parameters");
  for (size_t i = 0; i < params.size(); ++i)
    if (weights[i].shape() != params[i].variable.shape())
      fail("set_weights: '", params[i].name, "' has shape ", params[i].variable.shape(), ", got ", weights[i].shape());
  for (size_t i = 0; i < params.size(); ++i) params[i].variable.value().copy_from(weights[i]);
  weights_replaced();
}

}  // namespace axon
