// load_onnx: an ONNX file as a functional model of axon layers (see onnx.h). The file
// is checked as a whole (size, opset, every tensor, the graph's structure, every
// operator) before the model is built node by node in topological order.
#include "io/onnx_attention_fusion.h"
#include "io/onnx_batch_axis.h"
#include "io/onnx_node.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "axon/checked_math.h"
#include "axon/onnx.h"
#include "axon/regular_file.h"
#include "axon/reshape.h"
#include "io/onnx_tensor.h"
#include "tensor/allocation_limit.h"

namespace axon {

namespace {

using detail::OnnxNode;
using detail::OnnxValue;

constexpr int64_t kMinOpset = 1, kMaxOpset = 17;

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string operator_name(const onnx::NodeProto& node) {
  return is_default_domain(node.domain()) ? node.op_type() : node.domain() + ":" + node.op_type();
}

// An axon layer name from an ONNX one ("/fc1/Gemm" -> "fc1_Gemm"), unique in the model.
std::string layer_name(const std::string& onnx_name, const std::string& type, std::set<std::string>& taken) {
  std::string name;
  for (char c : onnx_name) name += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ? c : '_';
  name.erase(0, name.find_first_not_of("_"));
  return unique_name(name.empty() ? snake_case(type) : name, taken);
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, const OnnxLimits& limits, std::string folder)
      : model_(model), graph_(model.graph()), limits_(limits), folder_(std::move(folder)) {}

  std::shared_ptr<Functional> run() {
    opset_ = default_opset();
    if (graph_.node_size() > limits_.max_nodes)
      fail("load_onnx: ", graph_.node_size(), " nodes, more than the limit of ", limits_.max_nodes);
    read_initializers();
    int64_t weight_bytes = 0;
    for (const auto& [name, value] : values_) weight_bytes += value.constant.numel() * 4;
    const detail::AllocationLimit budget(2 * weight_bytes + limits_.max_build_bytes,
                                         "load_onnx: building the model needs more memory than its weights justify "
                                         "(OnnxLimits::max_build_bytes)");
    read_inputs();
    const std::vector<int> order = topological_order();
    check_operators();
    for (int index : order) import_node(graph_.node(index));
    return make_model();
  }

 private:
  int64_t default_opset() const {
    std::optional<int64_t> opset;
    for (const onnx::OperatorSetIdProto& id : model_.opset_import())
      if (is_default_domain(id.domain())) opset = id.version();
    if (!opset) fail("load_onnx: the model imports no opset of the default ONNX domain");
    if (*opset < kMinOpset || *opset > kMaxOpset)
      fail("load_onnx: opset ", *opset, " is not supported (axon reads opsets ", kMinOpset, " to ", kMaxOpset, ")");
    return *opset;
  }

  void define(const std::string& name, OnnxValue value, const std::string& what) {
    if (name.empty()) fail("load_onnx: ", what, " has no name");
    if (!values_.emplace(name, std::move(value)).second) fail("load_onnx: tensor '", name, "' is defined twice");
  }

  void read_initializers() {
    const detail::OnnxTensorSource source{folder_, limits_.max_tensor_elements};
    for (const onnx::TensorProto& t : graph_.initializer())
      define(t.name(), OnnxValue::of(tensor_from_onnx(t, source, "load_onnx: initializer '" + t.name() + "'")),
             "an initializer");
    if (graph_.sparse_initializer_size() > 0) fail("load_onnx: sparse initializers are not supported");
  }

  // Each input that no initializer gives: float32 (or integer ids), (batch, fixed sizes...).
  void read_inputs() {
    for (const onnx::ValueInfoProto& input : graph_.input()) {
      if (values_.contains(input.name())) continue;  // an initializer listed as an input (IR < 4)
      const std::string what = "load_onnx: input '" + input.name() + "'";
      if (!input.type().has_tensor_type()) fail(what, " is not a tensor");
      const onnx::TypeProto::Tensor& type = input.type().tensor_type();
      // Integer inputs are token ids (an Embedding's): axon's inputs hold them as float32,
      // exact below 2^24.
      if (type.elem_type() != onnx::TensorProto::FLOAT && type.elem_type() != onnx::TensorProto::INT64 &&
          type.elem_type() != onnx::TensorProto::INT32)
        fail(what, " has element type ", detail::onnx_type_name(type.elem_type()),
             "; axon's inputs are FLOAT, or INT64/INT32 token ids");
      if (!type.has_shape() || type.shape().dim_size() == 0) fail(what, " needs a shape with a batch axis first");
      std::vector<int64_t> dims;
      int64_t count = 1;
      for (int i = 1; i < type.shape().dim_size(); ++i) {
        const onnx::TensorShapeProto::Dimension& d = type.shape().dim(i);
        if (!d.has_dim_value())
          fail(what, ": axis ", i, " has no fixed size", d.has_dim_param() ? " ('" + d.dim_param() + "')" : "",
               "; axon needs fixed sizes after the batch axis");
        if (d.dim_value() < 0) fail(what, ": negative dimension ", d.dim_value(), " at axis ", i);
        count = checked_mul(count, d.dim_value(), what, ": the example size");
        dims.push_back(d.dim_value());
      }
      if (count > limits_.max_tensor_elements)
        fail(what, ": ", count, " elements per example, more than the limit of ", limits_.max_tensor_elements);
      const SymbolicTensor x = Input(Shape(dims), input.name());
      inputs_.push_back(x);
      define(input.name(), OnnxValue::of(x), "an input");
    }
  }

  // Every tensor defined once and read only when defined; the nodes in an order where
  // each comes after the nodes it reads (Kahn's algorithm; what is left is a cycle).
  std::vector<int> topological_order() {
    std::map<std::string, int> producer;  // tensor -> node
    for (int n = 0; n < graph_.node_size(); ++n)
      for (const std::string& out : graph_.node(n).output()) {
        if (out.empty()) continue;
        if (values_.contains(out) || !producer.emplace(out, n).second)
          fail("load_onnx: tensor '", out, "' is defined twice (node '", graph_.node(n).name(), "')");
      }
    std::vector<int> waiting(static_cast<size_t>(graph_.node_size()), 0);
    std::vector<std::vector<int>> dependents(static_cast<size_t>(graph_.node_size()));
    for (int n = 0; n < graph_.node_size(); ++n) {
      const onnx::NodeProto& node = graph_.node(n);
      for (const std::string& in : node.input()) {
        if (in.empty() || values_.contains(in)) continue;
        const auto it = producer.find(in);
        if (it == producer.end())
          fail("load_onnx: node '", node.name(), "' (", node.op_type(), ") reads the undefined tensor '", in, "'");
        ++waiting[static_cast<size_t>(n)];
        dependents[static_cast<size_t>(it->second)].push_back(n);
      }
      for (const std::string& in : node.input())
        if (!in.empty()) readers_[in].push_back(&node);  // "" is an optional input left out
    }
    std::vector<int> order;
    for (int n = 0; n < graph_.node_size(); ++n)
      if (waiting[static_cast<size_t>(n)] == 0) order.push_back(n);
    for (size_t i = 0; i < order.size(); ++i)
      for (int d : dependents[static_cast<size_t>(order[i])])
        if (--waiting[static_cast<size_t>(d)] == 0) order.push_back(d);
    if (order.size() != static_cast<size_t>(graph_.node_size())) {
      for (int n = 0; n < graph_.node_size(); ++n)
        if (waiting[static_cast<size_t>(n)] > 0)
          fail("load_onnx: the graph has a cycle through node '", graph_.node(n).name(), "' (",
               graph_.node(n).op_type(), ")");
    }
    for (const onnx::ValueInfoProto& output : graph_.output()) {
      if (!values_.contains(output.name()) && !producer.contains(output.name()))
        fail("load_onnx: output '", output.name(), "' is not computed by the graph");
      graph_outputs_.insert(output.name());
    }
    return order;
  }

  // Every operator known, else one error listing all that are not.
  void check_operators() const {
    std::set<std::string> unsupported;
    for (const onnx::NodeProto& node : graph_.node()) {
      const bool fused = node.domain() == detail::kAxonDomain && node.op_type() == detail::kFusedAttention;
      const bool known = fused || (is_default_domain(node.domain()) &&
                                   (detail::onnx_layer_operators().contains(node.op_type()) ||
                                    detail::onnx_folding_operators().contains(node.op_type())));
      if (!known) unsupported.insert(operator_name(node));
    }
    if (unsupported.empty()) return;
    std::string list;
    for (const std::string& op : unsupported) list += (list.empty() ? "" : ", ") + op;
    fail("load_onnx: the model uses operators axon does not support: ", list);
  }

  const onnx::NodeProto* sole_reader(const std::string& tensor) const {
    const auto it = readers_.find(tensor);
    if (it == readers_.end() || it->second.size() != 1 || graph_outputs_.contains(tensor)) return nullptr;
    return it->second[0];
  }

  void import_node(const onnx::NodeProto& node) {
    if (absorbed_.contains(&node)) return;
    std::vector<OnnxValue*> inputs;
    bool constant = true;
    for (const std::string& in : node.input()) {
      inputs.push_back(in.empty() ? nullptr : &values_.at(in));
      constant = constant && (in.empty() || inputs.back()->is_constant());
    }
    const OnnxNode::Graph around{
        [this](const std::string& t) { return sole_reader(t); },
        [this](const std::string& t) { return readers_.contains(t) || graph_outputs_.contains(t); },
        [this](const std::string& t) -> const OnnxValue* {
          const auto it = values_.find(t);
          return it == values_.end() ? nullptr : &it->second;
        }};
    OnnxNode context(node, opset_, inputs, around, limits_.max_tensor_elements);
    // Before opset 7 arithmetic broadcast a second operand from a given axis on.
    if (opset_ < 7 && context.integer("broadcast", 0) != 0 && context.has_attribute("axis"))
      context.fail("broadcasting from an axis (before opset 7) is not supported");
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k]) continue;
      if (inputs[k]->batch_axis != 0 && !detail::onnx_batch_axis_operators().contains(node.op_type()))
        context.fail("input ", k, " has its batch axis at ONNX axis ", inputs[k]->batch_axis,
                     " (time-major, or a recurrent node's output); axon computes ", node.op_type(),
                     " with the batch axis first");
      if (inputs[k]->steps_reversed && !detail::onnx_recurrent_operator(node.op_type()) && node.op_type() != "Transpose")
        context.fail("input ", k, " has its steps reversed (a Slice with step -1); axon reads such a sequence only "
                     "in a recurrent node (go_backwards)");
      if (inputs[k]->merged_steps > 0 && (detail::onnx_recurrent_operator(node.op_type()) ||
                                          node.op_type() == "Transpose" || node.domain() == detail::kAxonDomain))
        context.fail("input ", k, " has its steps merged into the batch axis (TimeDistributed's form); axon computes ",
                     node.op_type(), " on a batch of whole sequences");
      if (inputs[k]->zeros_per_example && !detail::onnx_batch_axis_operators().contains(node.op_type()))
        context.fail("input ", k, " is a constant of the batch's size; axon takes one only as a recurrent node's "
                     "initial state");
    }
    const auto& folding = detail::onnx_folding_operators();
    const auto& layers = detail::onnx_layer_operators();
    const auto fold = folding.find(node.op_type());
    if (node.domain() == detail::kAxonDomain) {
      detail::fused_attention(context);
    } else if (fold != folding.end() && (constant || !layers.contains(node.op_type()))) {
      fold->second(context);
    } else if (layers.contains(node.op_type())) {
      layers.at(node.op_type())(context);
    } else {
      context.fail("axon computes it only from constants");
    }
    // The outputs: those of this node, or of the last node it absorbed.
    const onnx::NodeProto& last = context.absorbed().empty() ? node : *context.absorbed().back();
    for (const onnx::NodeProto* reader : context.absorbed()) absorbed_.insert(reader);
    for (int k = 0; k < last.output_size(); ++k) {
      if (last.output(k).empty()) continue;
      if (static_cast<size_t>(k) >= context.outputs().size() ||
          (!context.outputs()[k].is_constant() && !context.outputs()[k].symbolic)) {
        if (k == 0 || !readers_.contains(last.output(k))) continue;  // an unused optional output
        context.fail("output ", k, " is not computed");
      }
      OnnxValue value = context.outputs()[k];
      if (value.is_constant() && value.constant.numel() > limits_.max_tensor_elements)
        context.fail("a constant of ", value.constant.numel(), " elements, more than the limit");
      values_.emplace(last.output(k), std::move(value));
    }
  }

  std::shared_ptr<Functional> make_model() {
    std::vector<SymbolicTensor> outputs;
    std::set<std::string> taken;  // the inputs' names, then the outputs' (Functional names the other layers)
    for (const SymbolicTensor& input : inputs_) taken.insert(input.node()->input_name);
    std::set<const Module*> named;
    // Each output's layer takes the output's name; a pending reshape or an input given
    // back as an output is recorded as a layer first.
    std::vector<std::pair<std::shared_ptr<Module>, std::string>> output_layers;
    for (const onnx::ValueInfoProto& output : graph_.output()) {
      OnnxValue& value = values_.at(output.name());
      if (!value.symbolic)
        fail("load_onnx: output '", output.name(), "' is a constant; axon models compute their outputs");
      if (value.batch_axis != 0 || value.steps_reversed)
        fail("load_onnx: output '", output.name(), "' has its batch axis at axis ", value.batch_axis,
             value.steps_reversed ? " and its steps reversed" : "", "; axon models give the batch axis first");
      if (value.merged_steps > 0)
        fail("load_onnx: output '", output.name(), "' has ", value.merged_steps,
             " steps merged into its batch axis; axon models give each example's steps in it");
      if (!value.symbolic->node()->layer || value.symbolic->shape().dims() != value.dims ||
          value.symbolic->index() != 0 || named.contains(value.symbolic->node()->layer.get())) {
        std::shared_ptr<Module> layer = std::make_shared<Reshape>(value.dims);
        value.symbolic = (*layer)(std::vector<SymbolicTensor>{*value.symbolic}).at(0);
      }
      const std::shared_ptr<Module>& layer = value.symbolic->node()->layer;
      named.insert(layer.get());
      output_layers.emplace_back(layer, output.name());
      outputs.push_back(*value.symbolic);
    }
    for (const auto& [layer, name] : output_layers) layer->set_name(layer_name(name, layer->type_name(), taken));
    if (inputs_.empty()) fail("load_onnx: the model has no input that is not an initializer");
    return std::make_shared<Functional>(inputs_, outputs);
  }

  const onnx::ModelProto& model_;
  const onnx::GraphProto& graph_;
  const OnnxLimits& limits_;
  std::string folder_;
  int64_t opset_ = 0;
  std::map<std::string, OnnxValue> values_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
  std::set<std::string> graph_outputs_;
  std::set<const onnx::NodeProto*> absorbed_;
  std::vector<SymbolicTensor> inputs_;
};

std::shared_ptr<Functional> import_model(const std::string& bytes, const OnnxLimits& limits,
                                         const std::string& folder) {
  if (bytes.size() > limits.max_file_bytes)
    fail("load_onnx: ", bytes.size(), " bytes is over the limit of ", limits.max_file_bytes, " bytes");
  onnx::ModelProto model;
  // Protobuf refuses messages nested deeper than 100 levels, so parsing is bounded too.
  if (bytes.empty() || !model.ParseFromString(bytes))
    fail("load_onnx: not a valid ONNX model (the protobuf is empty, truncated, corrupt or nested too deep)");
  if (!model.has_graph()) fail("load_onnx: the model has no graph");
  detail::fuse_attention(*model.mutable_graph(), detail::OnnxTensorSource{folder, limits.max_tensor_elements});
  return Importer(model, limits, folder).run();
}

}  // namespace

std::shared_ptr<Functional> load_onnx(const std::string& path, const OnnxLimits& limits) {
  const std::string bytes = read_regular_file(path, "load_onnx", limits.max_file_bytes);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  try {
    return import_model(bytes, limits, folder.empty() ? "." : folder.string());
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

std::shared_ptr<Functional> load_onnx_bytes(const std::string& bytes, const OnnxLimits& limits) {
  return import_model(bytes, limits, "");
}

std::vector<std::string> onnx_supported_operators() {
  std::vector<std::string> names;
  for (const auto& [name, op] : detail::onnx_layer_operators()) names.push_back(name);
  return names;
}

std::vector<std::string> onnx_folded_operators() {
  std::vector<std::string> names;
  for (const auto& [name, op] : detail::onnx_folding_operators())
    if (!detail::onnx_layer_operators().contains(name)) names.push_back(name);
  return names;
}

}  // namespace axon
