#pragma once
// OnnxGraph: what a layer writes when a model is exported to ONNX (save_onnx, onnx.h):
// nodes of standard ONNX operators, and initializers for its weights and constants.
// Each layer describes its own export (Module::export_onnx, beside its forward); the
// file format itself lives in src/io/onnx_file.cpp.
//
//   std::vector<std::string> Dense::export_onnx(OnnxGraph& g, const std::vector<std::string>& in, ...) const {
//     std::string y = g.op("MatMul", {in[0], g.weight(kernel_)});
//     ...
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "axon/tensor.h"
#include "axon/variable.h"

namespace axon {

class OnnxGraph {
 public:
  struct Attribute {
    std::string name;
    std::variant<int64_t, double, std::vector<int64_t>, std::string> value;
  };
  virtual ~OnnxGraph() = default;

  // Adds the node op_type(inputs) with attributes; returns the names of its `outputs` outputs.
  virtual std::vector<std::string> node(const std::string& op_type, const std::vector<std::string>& inputs,
                                        const std::vector<Attribute>& attributes = {}, size_t outputs = 1) = 0;
  // A constant (a shape, a scalar) as an initializer; returns its name.
  virtual std::string constant(const std::string& hint, const Tensor& value) = 0;
  // A parameter of the model as an initializer named by its path ("layers.0.kernel").
  virtual std::string weight(const Variable& parameter) = 0;
  virtual int64_t opset() const = 0;

  // A 1-D int64 constant (a shape, axes, slice bounds); returns its name.
  std::string integers(const std::string& hint, const std::vector<int64_t>& values) {
    return constant(hint, Tensor::from(values, Shape{static_cast<int64_t>(values.size())}));
  }

  // The single output of node(...).
  std::string op(const std::string& op_type, const std::vector<std::string>& inputs,
                 const std::vector<Attribute>& attributes = {}) {
    return node(op_type, inputs, attributes).at(0);
  }
};

// Applies the activation named as activation() names them ("relu", "softmax", "linear",
// ...) to x along its last axis; returns the result's name.
std::string onnx_activation(OnnxGraph& graph, const std::string& activation, const std::string& x);

}  // namespace axon
