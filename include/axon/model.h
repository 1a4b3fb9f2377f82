#pragma once
// Model: a Module that trains itself, as Keras's keras.Model. Subclass it, hold layers
// made with add(), and compose them in call():
//
//   class MLP : public axon::Model {
//     axon::Dense& hidden = add(axon::Dense(10, "relu"));
//     axon::Dense& output = add(axon::Dense(10, "softmax"));
//    public:
//     axon::Variable call(const axon::Variable& x) override { return output(hidden(x)); }
//   };
//
// then compile(optimizer, loss, metrics) and fit / evaluate / predict.
#include <concepts>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axon/augmentation.h"
#include "axon/callbacks.h"
#include "axon/data_parallel.h"
#include "axon/logs.h"
#include "axon/losses.h"
#include "axon/module.h"
#include "axon/optimizers.h"

namespace axon {

class Metric;
struct Batch;
namespace detail {
class GradientBuckets;
class Graph;
}  // namespace detail

// What compile() accepts for each argument: a Keras name or a configured object.
struct OptimizerSpec {
  OptimizerSpec(const char* name);
  OptimizerSpec(const std::string& name);
  template <std::derived_from<Optimizer> O>
  OptimizerSpec(std::shared_ptr<O> configured) : optimizer(std::move(configured)) {
    if (!optimizer) fail("compile: optimizer is null");
  }
  template <std::derived_from<Optimizer> O>
  OptimizerSpec(O optimizer) : optimizer(std::make_shared<O>(std::move(optimizer))) {}
  std::shared_ptr<Optimizer> optimizer;
};

struct LossSpec {
  LossSpec(const char* name);
  LossSpec(const std::string& name, bool from_logits = false);
  LossSpec(std::string name, LossFn fn);  // a custom loss and its display name
  std::string name;
  LossFn fn;
  bool from_logits = false;
  bool builtin = true;  // by name: it can take sample weights (weighted_loss)
};

struct MetricSpec {
  MetricSpec(const char* name);
  MetricSpec(const std::string& name);
  MetricSpec(std::shared_ptr<Metric> metric);
  std::shared_ptr<Metric> metric;
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  double validation_split = 0.0;  // the last fraction of x/y, taken before shuffling (as Keras)
  std::optional<std::pair<Tensor, Tensor>> validation_data;  // overrides validation_split
  bool shuffle = true;
  std::vector<std::shared_ptr<Callback>> callbacks;
  int verbose = 1;        // 0 silent; 1 progress bar (one line per epoch when not a terminal); 2 one line per epoch
  uint64_t seed = 0;      // shuffling order
  int initial_epoch = 0;  // epochs before this count as done (resuming)
  Augmentations augment;  // applied to training batches only (see augmentation.h); draws seeded by `seed`
  // Keras's sample_weight: (n,) weights >= 0, one per example (its loss counts w_i
  // times; weighted(...) metrics count it w_i times). Built-in losses only. Also used
  // for the validation_split rows.
  Tensor sample_weight;
  // Keras's class_weight: class index -> weight, for one output of class indices or
  // one-hot rows; a class not listed weighs 1. Not together with sample_weight.
  std::map<int64_t, double> class_weight;
};

class Model : public Module {
 public:
  // The forward computation of a single-input model. x: (batch, ...) -> (batch, ...).
  virtual Variable call(const Variable& x) = 0;
  Variable forward(const Variable& x) override { return call(x); }
  std::string type_name() const override { return "Model"; }
  // A Sequential or functional model exports its graph of layer calls (see onnx.h); a
  // model whose call() is its own code cannot be exported.
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;

  // Builds the weights for inputs of `input_shape` (without the batch axis).
  void build(const Shape& input_shape);
  // A subclassed model's config: its input shape, if known. Registered with
  // AXON_REGISTER(Module, "name", MyModel) and default-constructible, it is saved with
  // save_model and rebuilt by load_model (build_from_config reads the shape back).
  Config config() const override;
  void build_from_config(const ConfigReader& config);
  // The input shape given to build() or to the constructor, if any (the first input's).
  const std::optional<Shape>& input_shape() const { return input_shape_; }
  // Every input's shape (without the batch axis), name and every output's name, in
  // order; a single-input model has one input "input" and one output "output".
  virtual std::vector<Shape> input_shapes() const;
  virtual std::vector<std::string> input_names() const { return {"input"}; }
  virtual std::vector<std::string> output_names() const { return {"output"}; }
  virtual size_t input_count() const { return 1; }  // input_names().size(), without building the names
  virtual size_t output_count() const { return 1; }

  // One loss for every output, or one per output (weighted by loss_weights, default 1).
  // With several outputs the metrics are computed for each output, named
  // "<output>_<metric>", and the logs hold "<output>_loss" beside the total "loss".
  void compile(OptimizerSpec optimizer, LossSpec loss, std::vector<MetricSpec> metrics = {});
  void compile(OptimizerSpec optimizer, std::vector<LossSpec> losses, std::vector<MetricSpec> metrics = {},
               std::vector<double> loss_weights = {});
  // The same with a metric list per output: std::vector<std::vector<MetricSpec>>{{"accuracy"}, {}}
  // computes the accuracy of the first output only.
  void compile(OptimizerSpec optimizer, std::vector<LossSpec> losses,
               std::vector<std::vector<MetricSpec>> metrics_per_output, std::vector<double> loss_weights = {});
  bool compiled() const { return optimizer_ != nullptr; }

  // x: (n, ...) float32; y: targets for the loss ((n,) class indices, (n, k) ...).
  History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {});
  // sample_weight: (n,) weights for the loss and the weighted(...) metrics, as in fit.
  Logs evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32, int verbose = 0,
                const Tensor& sample_weight = {});
  Tensor predict(const Tensor& x, int64_t batch_size = 32);
  Logs train_on_batch(const Tensor& x, const Tensor& y);  // one optimizer step; metrics of this batch
  Logs test_on_batch(const Tensor& x, const Tensor& y);
  // The same for models of several inputs or outputs: one tensor per input, in
  // input_names() order, and one target per output.
  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const FitOptions& options = {});
  Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, int64_t batch_size = 32, int verbose = 0,
                const Tensor& sample_weight = {});
  std::vector<Tensor> predict(const std::vector<Tensor>& x, int64_t batch_size = 32);

  // From now on fit and evaluate run data-parallel over the strategy's ranks (see
  // data_parallel.h); every rank calls them alike.
  void distribute(DataParallel strategy);
  const std::optional<DataParallel>& distribution() const { return distribution_; }

  // A Keras-style table: layer, output shape, parameter count, totals.
  void summary(std::ostream& out) const;
  std::string summary() const;

  // Copies of every parameter, in named_parameters() order, and their restoration.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);

  Optimizer& optimizer() const;
  const std::vector<LossSpec>& losses() const { return losses_; }
  const LossSpec& loss() const { return losses_.at(0); }
  const std::vector<double>& loss_weights() const { return loss_weights_; }
  // The metrics of each output, as compiled (the single list of a one-output model: metrics()).
  const std::vector<std::vector<std::shared_ptr<Metric>>>& output_metrics() const { return output_metrics_; }
  const std::vector<std::shared_ptr<Metric>>& metrics() const { return output_metrics_.at(0); }

  bool stop_training = false;  // callbacks set it to end fit() after the current batch

 protected:
  // Registers a layer as "layers.<n>" and returns a reference that lives as long as
  // the model.
  template <class Layer>
  requires std::derived_from<std::decay_t<Layer>, Module> std::decay_t<Layer>
  &add(Layer&& layer) {
    auto owned = std::make_shared<std::decay_t<Layer>>(std::forward<Layer>(layer));
    add_layer(owned);
    return *owned;
  }
  void add_layer(std::shared_ptr<Module> layer);
  void set_input_shape(const Shape& input_shape) { input_shape_ = input_shape; }

  // One row of summary(): "name (Type)", output shapes, parameters, and for graphs the
  // tensors it reads ("connected to").
  struct SummaryRow {
    std::string layer, output_shape;
    int64_t parameters = 0;
    std::string connected_to;
  };
  virtual void summary_rows(std::vector<SummaryRow>& rows) const;
  static std::string shape_text(const std::vector<Shape>& shapes);
  // The graph of layer calls this model runs on inputs like x, which predict compiles
  // into inference plans; null for a model whose call() is its own code.
  virtual const detail::Graph* inference_graph(const std::vector<Tensor>& x);

 private:
  // The one place a training step happens: zero_grad -> forward -> loss -> backward
  // -> optimizer step -> metrics.
  // sample_weight: (batch,) or undefined. Distributed, x holds this rank's share of a
  // step of `global_rows` rows, and the gradients are summed over the ranks.
  void train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight = {},
                  int64_t global_rows = 0);
  void test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight = {});
  std::vector<Variable> run(const std::vector<Tensor>& x);
  // The weighted sum of the output losses (and the penalties); each output's loss is
  // added to its running mean.
  Variable compute_loss(const std::vector<Variable>& y_pred, const std::vector<Tensor>& y, bool with_regularization,
                        double rows, const Tensor& sample_weight);
  void update_metrics(const std::vector<Variable>& y_pred, const std::vector<Tensor>& y, const Tensor& sample_weight);
  void reset_metrics();
  Logs current_logs(const std::string& prefix = "") const;
  // Data parallelism (data_parallel.cpp): rank 0's weights copied to every rank, the
  // gradient buckets made; the running loss and metrics combined over the
  // ranks; the non-trainable weights (moving statistics) averaged over them.
  void start_distributed();
  void combine_over_ranks();
  void average_non_trainable();
  void require_compiled(const char* what) const;
  void require_weightable_losses(const char* what) const;  // every loss built in (sample weights)
  void attach_optimizer();
  void check_arity(const char* what, const std::vector<Tensor>& x, const std::vector<Tensor>* y) const;

  std::shared_ptr<Optimizer> optimizer_;
  std::vector<LossSpec> losses_{LossSpec("mse")};
  std::vector<double> loss_weights_;
  std::vector<std::vector<std::shared_ptr<Metric>>> output_metrics_{{}};  // [output][metric]
  double loss_count_ = 0.0;
  std::vector<double> loss_sums_;  // running sums: the total, then each output's (several outputs)
  bool optimizer_attached_ = false;
  std::optional<Shape> input_shape_;
  std::optional<DataParallel> distribution_;
  std::shared_ptr<detail::GradientBuckets> buckets_;  // while a distributed fit runs
};

}  // namespace axon
