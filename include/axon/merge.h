#pragma once
// Merge layers for functional models (Keras's names): each takes a list of tensors of
// one shape and returns one. Concatenate joins along `axis` (counted with the batch
// axis, as Keras; -1 is the last), the other axes equal.
//   SymbolicTensor sum = Add()({a, b});
#include <memory>
#include <string>

#include "axon/module.h"

namespace axon {

class Merge : public Module {
 public:
  enum class Op { add, subtract, multiply, average };
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  std::string type_name() const override;
  bool propagates_mask() const override { return true; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;

 protected:
  explicit Merge(Op op) : op_(op) {}
  void create_weights_many(const std::vector<Shape>& input_shapes) override;

 private:
  Op op_;
};

struct Add : Merge {
  Add() : Merge(Op::add) {}
};
struct Subtract : Merge {  // exactly two inputs: a - b
  Subtract() : Merge(Op::subtract) {}
};
struct Multiply : Merge {
  Multiply() : Merge(Op::multiply) {}
};
struct Average : Merge {
  Average() : Merge(Op::average) {}
};

class Concatenate : public Module {
 public:
  explicit Concatenate(int64_t axis = -1) : axis_(axis) {}
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  std::string type_name() const override { return "Concatenate"; }
  bool propagates_mask() const override { return true; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override { return Config::object().set("axis", axis_); }
  static std::shared_ptr<Concatenate> from_config(const ConfigReader& config);
  int64_t axis() const { return axis_; }

 protected:
  void create_weights_many(const std::vector<Shape>& input_shapes) override;

 private:
  int64_t axis_;
};

}  // namespace axon
