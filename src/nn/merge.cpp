#include "axon/merge.h"

#include <limits>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "add", Add);
AXON_REGISTER(Module, "subtract", Subtract);
AXON_REGISTER(Module, "multiply", Multiply);
AXON_REGISTER(Module, "average", Average);
AXON_REGISTER(Module, "concatenate", Concatenate);

std::string Merge::type_name() const {
  switch (op_) {
    case Op::add:
      return "Add";
    case Op::subtract:
      return "Subtract";
    case Op::multiply:
      return "Multiply";
    case Op::average:
      return "Average";
  }
  return "Merge";
}

void Merge::create_weights_many(const std::vector<Shape>& shapes) {
  if (op_ == Op::subtract ? shapes.size() != 2 : shapes.size() < 2)
    fail(type_name(), ": takes ", op_ == Op::subtract ? "exactly two" : "two or more", " inputs, got ", shapes.size());
  for (const Shape& shape : shapes)
    if (shape != shapes[0]) fail(type_name(), ": inputs must have one shape, got ", shapes[0], " and ", shape);
}

std::vector<Variable> Merge::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.size() < 2) fail(type_name(), ": takes two or more inputs, got ", inputs.size());
  if (op_ == Op::subtract) {
    if (inputs.size() != 2) fail("Subtract: takes exactly two inputs, got ", inputs.size());
    return {inputs[0] - inputs[1]};
  }
  Variable y = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) y = op_ == Op::multiply ? y * inputs[i] : y + inputs[i];
  if (op_ == Op::average) y = y / static_cast<double>(inputs.size());
  return {y};
}

std::shared_ptr<Concatenate> Concatenate::from_config(const ConfigReader& c) {
  return std::make_shared<Concatenate>(c.has("axis") ? c.at("axis").as_integer(std::numeric_limits<int64_t>::min() / 2)
                                                     : -1);
}

void Concatenate::create_weights_many(const std::vector<Shape>& shapes) {
  if (shapes.size() < 2) fail("Concatenate: takes two or more inputs, got ", shapes.size());
  const int64_t axis = shapes[0].axis(axis_, "Concatenate");
  if (axis == 0) fail("Concatenate: cannot join along the batch axis");
  for (const Shape& shape : shapes) {
    bool same = shape.rank() == shapes[0].rank();
    for (int64_t d = 0; same && d < shape.rank(); ++d) same = d == axis || shape[d] == shapes[0][d];
    if (!same) fail("Concatenate: inputs ", shapes[0], " and ", shape, " differ on an axis other than ", axis_);
  }
}

std::vector<Variable> Concatenate::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.size() < 2) fail("Concatenate: takes two or more inputs, got ", inputs.size());
  return {concat(inputs, inputs[0].shape().axis(axis_, "Concatenate"))};
}

std::vector<std::string> Merge::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                            const std::vector<Shape>& shapes) const {
  (void)shapes;
  // Average as a sum times 1/n (what every runtime has; OpenCV 4.6 lacks Mean).
  const char* op = op_ == Op::subtract ? "Sub" : op_ == Op::multiply ? "Mul" : "Add";
  std::string y = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) y = graph.op(op, {y, inputs[i]});
  if (op_ == Op::average)
    y = graph.op("Mul", {y, graph.constant("inverse_count", Tensor::scalar(1.0 / static_cast<double>(inputs.size())))});
  return {y};
}

std::vector<std::string> Concatenate::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                  const std::vector<Shape>& shapes) const {
  std::vector<int64_t> dims{1};
  dims.insert(dims.end(), shapes[0].dims().begin(), shapes[0].dims().end());
  return {graph.op("Concat", inputs, {{"axis", Shape(dims).axis(axis_, "Concatenate")}})};
}

}  // namespace axon
