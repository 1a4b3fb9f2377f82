#pragma once
// Module: the base of every layer and model. It owns named parameters and child
// modules, builds its weights on the first input it sees (shape inference), and
// carries a train/eval mode that layers such as Dropout read.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "axon/variable.h"

namespace axon {

struct NamedParameter {
  std::string name;  // a stable path: "layers.0.kernel"
  Variable variable;
  bool trainable = true;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Builds on the first call (from x's shape), then runs forward.
  Variable operator()(const Variable& x);
  virtual Variable forward(const Variable& x) = 0;
  virtual std::string type_name() const = 0;  // "Dense", "Activation", ...

  // Every parameter of this module and its children, depth first, named by path.
  std::vector<NamedParameter> named_parameters() const;
  std::vector<Variable> parameters() const;            // all
  std::vector<Variable> trainable_parameters() const;  // what optimizers update
  int64_t parameter_count() const;

  void train(bool training = true);  // this module and all its children
  void eval() { train(false); }
  bool training() const { return training_; }
  bool built() const { return built_; }

 protected:
  // Creates the weights once the input shape is known. Called once, before forward.
  virtual void build(const Shape& input_shape) { (void)input_shape; }
  Variable add_weight(const std::string& name, Tensor value, bool trainable = true);
  void add_module(const std::string& name, std::shared_ptr<Module> module);

 private:
  bool built_ = false;
  bool training_ = true;
  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace axon
