#pragma once
// Module: the base of every layer and model. It owns named parameters and child
// modules, builds its weights on the first input it sees (shape inference), and
// carries a train/eval mode that layers such as Dropout read.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "axon/regularizers.h"
#include "axon/variable.h"

namespace axon {

struct NamedParameter {
  std::string name;  // a stable path: "layers.0.kernel"
  Variable variable;
  bool trainable = true;
  Regularizer regularizer;  // its penalty joins the training loss
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(Module&&) = default;  // so layers can be handed to add() by value
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Builds on the first call (from x's shape), then runs forward.
  Variable operator()(const Variable& x);
  // The two halves of operator() around forward(), for callers that run several modules
  // as one fused op: create the weights on the first input, note the output shape.
  void build_for(const Shape& input_shape);
  void note_output(const Shape& batch_shape);
  virtual Variable forward(const Variable& x) = 0;
  virtual std::string type_name() const = 0;  // "Dense", "Activation", ...

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
  // Output shape of the last call, without the batch axis (empty before any call).
  const Shape& output_shape() const { return output_shape_; }

  void train(bool training = true);  // this module and all its children
  void eval() { train(false); }
  bool training() const { return training_; }
  bool built() const { return built_; }

 protected:
  // Creates the weights once the input shape is known. Called once, before forward.
  virtual void create_weights(const Shape& input_shape) { (void)input_shape; }
  Variable add_weight(const std::string& name, Tensor value, bool trainable = true, Regularizer regularizer = {});
  void add_module(const std::string& name, std::shared_ptr<Module> module);

 private:
  bool built_ = false;
  bool training_ = true;
  Shape output_shape_;
  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace axon
