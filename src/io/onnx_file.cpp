// save_onnx: a model as an ONNX ModelProto (Debian's libonnx-dev schema), checked by
// ONNX's checker and shape inference, then written atomically.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <map>
#include <set>

#include "axon/onnx.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/version.h"
#include "io/atomic_file.h"

namespace axon {

namespace {

constexpr int64_t kMinOpset = 13, kMaxOpset = 17;

int32_t onnx_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return onnx::TensorProto::FLOAT;
    case DType::f64:
      return onnx::TensorProto::DOUBLE;
    case DType::i32:
      return onnx::TensorProto::INT32;
    case DType::i64:
      return onnx::TensorProto::INT64;
    case DType::i8:
      return onnx::TensorProto::INT8;
  }
  return onnx::TensorProto::UNDEFINED;
}

// A value's type: float32 with a dynamic batch axis ("batch") before the example shape.
void set_type(onnx::ValueInfoProto& value, const std::string& name, const Shape& example) {
  value.set_name(name);
  auto* tensor = value.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t d : example.dims()) shape->add_dim()->set_dim_value(d);
}

class ProtoGraph : public OnnxGraph {
 public:
  ProtoGraph(onnx::GraphProto& graph, int64_t opset, std::map<const void*, std::string> parameter_names)
      : graph_(graph), opset_(opset), parameter_names_(std::move(parameter_names)) {}

  std::vector<std::string> node(const std::string& op_type, const std::vector<std::string>& inputs,
                                const std::vector<Attribute>& attributes, size_t outputs) override {
    onnx::NodeProto& node = *graph_.add_node();
    node.set_op_type(op_type);
    node.set_name(op_type + "_" + std::to_string(graph_.node_size()));
    for (const std::string& input : inputs) node.add_input(input);
    std::vector<std::string> names;
    for (size_t k = 0; k < outputs; ++k) {
      names.push_back(node.name() + (k ? ":" + std::to_string(k) : ""));
      node.add_output(names.back());
    }
    for (const Attribute& a : attributes) {
      onnx::AttributeProto& attribute = *node.add_attribute();
      attribute.set_name(a.name);
      if (const auto* i = std::get_if<int64_t>(&a.value)) {
        attribute.set_type(onnx::AttributeProto::INT);
        attribute.set_i(*i);
      } else if (const auto* f = std::get_if<double>(&a.value)) {
        attribute.set_type(onnx::AttributeProto::FLOAT);
        attribute.set_f(static_cast<float>(*f));
      } else if (const auto* text = std::get_if<std::string>(&a.value)) {
        attribute.set_type(onnx::AttributeProto::STRING);
        attribute.set_s(*text);
      } else {
        attribute.set_type(onnx::AttributeProto::INTS);
        for (int64_t v : std::get<std::vector<int64_t>>(a.value)) attribute.add_ints(v);
      }
    }
    return names;
  }

  std::string constant(const std::string& hint, const Tensor& value) override {
    return add_initializer(hint + "_" + std::to_string(graph_.initializer_size()), value);
  }

  std::string weight(const Variable& parameter) override {
    const auto it = parameter_names_.find(parameter.identity());
    if (it == parameter_names_.end()) fail("save_onnx: a layer exported a weight that is not the model's");
    if (written_.insert(it->second).second) add_initializer(it->second, parameter.value());  // shared layers: once
    return it->second;
  }

  int64_t opset() const override { return opset_; }

 private:
  std::string add_initializer(const std::string& name, const Tensor& value) {
    onnx::TensorProto& tensor = *graph_.add_initializer();
    tensor.set_name(name);
    tensor.set_data_type(onnx_type(value.dtype()));
    for (int64_t d : value.shape().dims()) tensor.add_dims(d);
    const Tensor contiguous = value.clone();
    tensor.set_raw_data(contiguous.raw(), static_cast<size_t>(value.numel()) * dtype_size(value.dtype()));
    return name;
  }

  onnx::GraphProto& graph_;
  int64_t opset_;
  std::map<const void*, std::string> parameter_names_;
  std::set<std::string> written_;
};

// The model's output shapes (without the batch axis), from one call on zeros in
// inference mode when no call has recorded them yet.
std::vector<Shape> output_shapes_of(Model& model, const std::vector<Shape>& input_shapes) {
  if (model.output_shapes().size() == model.output_count()) return model.output_shapes();
  std::vector<Variable> zeros;
  for (const Shape& shape : input_shapes) {
    std::vector<int64_t> dims{1};
    dims.insert(dims.end(), shape.dims().begin(), shape.dims().end());
    zeros.emplace_back(Tensor::zeros(Shape(dims)));
  }
  NoGrad no_grad;
  const bool training = model.training();
  model.train(false);
  try {
    model(zeros);
  } catch (...) {
    model.train(training);
    throw;
  }
  model.train(training);
  return model.output_shapes();
}

}  // namespace

std::string onnx_activation(OnnxGraph& graph, const std::string& activation, const std::string& x) {
  if (activation == "linear") return x;
  if (activation == "relu") return graph.op("Relu", {x});
  if (activation == "sigmoid") return graph.op("Sigmoid", {x});
  if (activation == "tanh") return graph.op("Tanh", {x});
  if (activation == "softmax") return graph.op("Softmax", {x}, {{"axis", int64_t{-1}}});
  if (activation == "log_softmax") return graph.op("LogSoftmax", {x}, {{"axis", int64_t{-1}}});
  if (activation == "elu") return graph.op("Elu", {x}, {{"alpha", 1.0}});
  if (activation == "leaky_relu") return graph.op("LeakyRelu", {x}, {{"alpha", 0.01}});
  if (activation == "silu" || activation == "swish") return graph.op("Mul", {x, graph.op("Sigmoid", {x})});
  if (activation == "gelu") {  // exact: x * (1 + erf(x / sqrt 2)) / 2
    const std::string root2 = graph.constant("sqrt2", Tensor::scalar(std::sqrt(2.0)));
    const std::string one = graph.constant("one", Tensor::scalar(1.0)),
                      half = graph.constant("half", Tensor::scalar(0.5));
    const std::string phi =
        graph.op("Mul", {graph.op("Add", {graph.op("Erf", {graph.op("Div", {x, root2})}), one}), half});
    return graph.op("Mul", {x, phi});
  }
  fail("save_onnx: the activation '", activation, "' has no ONNX form");
}

void save_onnx(Model& model, const std::string& path, int64_t opset) {
  if (opset < kMinOpset || opset > kMaxOpset)
    fail("save_onnx: opset must be in [", kMinOpset, ", ", kMaxOpset, "], got ", opset);
  if (!model.built()) fail("save_onnx: the model is not built yet; call build(input_shape) or fit() first");
  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("axon");
  proto.set_producer_version(version());
  auto* imported = proto.add_opset_import();
  imported->set_domain("");
  imported->set_version(opset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(model.name().empty() ? model.type_name() : model.name());

  std::map<const void*, std::string> parameter_names;
  for (const NamedParameter& p : model.named_parameters()) parameter_names[p.variable.identity()] = p.name;
  ProtoGraph writer(graph, opset, std::move(parameter_names));
  const std::vector<std::string> input_names = model.input_names(), output_names = model.output_names();
  const std::vector<Shape> input_shapes = model.input_shapes();
  for (size_t i = 0; i < input_names.size(); ++i) set_type(*graph.add_input(), input_names[i], input_shapes.at(i));
  std::vector<std::string> outputs;
  {
    NoGrad no_grad;
    outputs = model.export_onnx(writer, input_names, input_shapes);
  }
  // The model's output names, each the Identity of the tensor that computes it.
  const std::vector<Shape> output_shapes = output_shapes_of(model, input_shapes);
  for (size_t k = 0; k < outputs.size(); ++k) {
    onnx::NodeProto& node = *graph.add_node();
    node.set_op_type("Identity");
    node.set_name("output_" + std::to_string(k));
    node.add_input(outputs[k]);
    node.add_output(output_names.at(k));
    set_type(*graph.add_output(), output_names[k], output_shapes.at(k));
  }
  try {
    onnx::checker::check_model(proto);
    onnx::shape_inference::InferShapes(proto);
  } catch (const std::exception& e) {
    fail("save_onnx: the ONNX checker refused the exported graph: ", e.what());
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) fail("save_onnx: could not serialize the model");
  write_file_atomically(path, bytes);
}

}  // namespace axon
