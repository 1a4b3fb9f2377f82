#pragma once
// Module: the base of every layer and model. It owns named parameters and child
// modules, builds its weights on the first input it sees (shape inference), and
// carries a train/eval mode that layers such as Dropout read.
//
// A layer of one input and one output overrides forward(x); one of several inputs or
// outputs (merge layers, recurrent layers with their state) overrides forward_many.
// Either way it is called with values (Variables) in a computation, or with symbolic
// tensors (see functional.h) to record a graph. To be saved in model files it returns
// its settings from config() and registers a from_config (see registry.h).
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "axon/config.h"
#include "axon/random.h"
#include "axon/regularizers.h"
#include "axon/variable.h"

namespace axon {

class SymbolicTensor;
class SymbolicTensors;
class OnnxGraph;

struct NamedParameter {
  std::string name;  // a stable path: "layers.0.kernel"
  Variable variable;
  bool trainable = true;
  Regularizer regularizer;  // its penalty joins the training loss
  bool learnable = true;    // made trainable (a moving statistic is not; set_trainable keeps it so)
};

// A module's non-weight state as text, for checkpoints: the same calls save and load it.
class StateArchive {
 public:
  StateArchive(std::map<std::string, std::string>& values, bool loading, std::string prefix)
      : values_(values), loading_(loading), prefix_(std::move(prefix)) {}
  void generator(const std::string& key, Generator& generator);
  void text(const std::string& key, std::string& value);

 private:
  std::map<std::string, std::string>& values_;
  bool loading_;
  std::string prefix_;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(Module&&) = default;  // so layers can be handed to add() by value
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Calls on values: builds on the first call (from the input shapes), then runs forward.
  Variable operator()(const Variable& x);
  std::vector<Variable> operator()(const std::vector<Variable>& inputs);
  // Calls on symbolic tensors record a node of a functional graph. The layer must be
  // owned by a std::shared_ptr (std::make_shared, or Model::add) to be shared between
  // calls; a temporary (Dense(10)(x)) is rebuilt from its config and owned by the graph.
  SymbolicTensor operator()(const SymbolicTensor& x) &;
  SymbolicTensor operator()(const SymbolicTensor& x) &&;
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& inputs) &;
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& inputs) &&;

  // The computation. The defaults hand one input to the other form, so a layer
  // overrides whichever fits it.
  virtual Variable forward(const Variable& x);
  virtual std::vector<Variable> forward_many(const std::vector<Variable>& inputs);
  virtual std::string type_name() const = 0;  // "Dense", "Activation", ...

  // The settings that rebuild this module through its registered from_config (see
  // registry.h); weights are not settings. Empty for a module without settings.
  virtual Config config() const { return Config::object(); }
  // Writes this layer's computation into an ONNX graph (see onnx_graph.h): `inputs` are
  // the names of its input tensors and `shapes` their shapes without the batch axis;
  // returns the names of its outputs. The default fails, naming the layer.
  virtual std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                               const std::vector<Shape>& shapes) const;
  // Whether this layer's outputs keep its inputs' steps, so that a sequence mask on
  // them (Variable::mask) passes on to the outputs: when true and a (batch, steps, ...)
  // output has none of its own, it gets the product of the inputs' masks that fit it. Keras's
  // supports_masking; false by default.
  virtual bool propagates_mask() const { return false; }
  // Saves or loads the state that is neither a weight nor a setting (a Dropout's
  // generator) through the archive; nothing by default.
  virtual void state(StateArchive& archive) { (void)archive; }
  // Called, on this module and all its children, after their parameter values were
  // replaced in place (set_weights, load_weights, restoring a model file), so that a
  // layer drops what it derived from them (a quantized layer's packed kernel).
  void weights_replaced();

  // Its name in a model ("dense", "dense_1"); a model names unnamed layers when they
  // join it. Parameter paths ("layers.0.kernel") do not depend on it.
  const std::string& name() const { return name_; }
  void set_name(std::string name);

  // Every parameter of this module and its children, depth first, named by path.
  std::vector<NamedParameter> named_parameters() const;
  std::vector<Variable> parameters() const;            // all
  std::vector<Variable> trainable_parameters() const;  // what optimizers update
  int64_t parameter_count() const;
  int64_t trainable_parameter_count() const;
  // Sum of every parameter's regularizer penalty (scalar); undefined when none is set.
  Variable regularization_loss() const;
  // The children, in the order they were added.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // Output shapes of the last call, without the batch axis (empty before any call).
  const Shape& output_shape() const;
  const std::vector<Shape>& output_shapes() const { return output_shapes_; }

  void train(bool training = true);  // this module and all its children
  // Freezes (false) or unfreezes every parameter of this module and its children, as
  // Keras's layer.trainable; optimizers see the change when a model is compiled again.
  void set_trainable(bool trainable);
  void eval() { train(false); }
  bool training() const { return training_; }
  bool built() const { return built_; }

 protected:
  // Creates the weights once the input shape is known (batch axis included). Called
  // once, before the first forward. A layer of several inputs overrides
  // create_weights_many instead.
  virtual void create_weights(const Shape& input_shape) { (void)input_shape; }
  virtual void create_weights_many(const std::vector<Shape>& input_shapes);
  // What weights_replaced() does for this module alone; nothing by default.
  virtual void on_weights_replaced() {}
  Variable add_weight(const std::string& name, Tensor value, bool trainable = true, Regularizer regularizer = {});
  void add_module(const std::string& name, std::shared_ptr<Module> module);
  void mark_built() { built_ = true; }  // for models whose parts were built another way

 private:
  void build_for(const std::vector<Shape>& input_shapes);
  void note_outputs(const std::vector<Variable>& outputs);
  void pass_masks(const std::vector<Variable>& inputs, std::vector<Variable>& outputs) const;
  // This module as a shared_ptr for a graph to own: itself when already shared,
  // else (allow_copy: a temporary) a fresh one from its config.
  std::shared_ptr<Module> owned_for_graph(bool allow_copy);

  bool built_ = false;
  bool training_ = true;
  bool in_default_forward_ = false;  // catches a layer that overrides neither forward
  bool frozen_ = false;              // set_trainable(false): weights made later are frozen too
  std::string name_;
  std::vector<Shape> output_shapes_;
  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Keras's default layer name for a type: "Conv2D" -> "conv2d", "MaxPool2D" -> "max_pool2d".
std::string snake_case(const std::string& type_name);
// The first of base, base_1, base_2, ... not in `taken`, which then holds it too.
std::string unique_name(const std::string& base, std::set<std::string>& taken);

}  // namespace axon
