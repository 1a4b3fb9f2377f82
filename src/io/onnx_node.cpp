// OnnxNode and OnnxValue (onnx_node.h): what the importer hands each ONNX node, and the
// helpers the operator tables share.
#include "io/onnx_node.h"

#include <algorithm>
#include <cmath>

#include "axon/checked_math.h"
#include "axon/reshape.h"
#include "axon/time_distributed.h"

namespace axon {

namespace detail {

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string text = "(";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + ")";
}

int64_t dims_product(const std::vector<int64_t>& dims) {
  int64_t total = 1;
  for (int64_t d : dims) total = checked_mul(total, d, "load_onnx: the shape ", dims_text(dims));
  return total;
}

const std::string& input_of(const onnx::NodeProto& node, int k) {
  static const std::string none;
  return k >= 0 && k < node.input_size() ? node.input(k) : none;
}

const std::string& output_of(const onnx::NodeProto& node, int k) {
  static const std::string none;
  return k >= 0 && k < node.output_size() ? node.output(k) : none;
}

int64_t resolve_axis(const OnnxNode& node, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) node.fail("axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

int64_t feature_axis(const OnnxNode& node, int64_t axis, int64_t rank) {
  const int64_t resolved = resolve_axis(node, axis, rank);
  if (resolved == 0) node.fail("it works along the batch axis (axis 0), which axon keeps whole");
  return resolved;
}

std::vector<int64_t> integer_values(const Tensor& t) {
  std::vector<int64_t> values;
  if (t.dtype() == DType::i64 || t.dtype() == DType::i32) {  // exactly: torch writes INT64_MAX for "to the end"
    const Tensor wide = t.to(DType::i64).clone();
    values.assign(wide.data<int64_t>(), wide.data<int64_t>() + wide.numel());
    return values;
  }
  constexpr double kLimit = 4.6e18;  // inside int64, so the conversion is defined
  for (double v : t.to_vector()) values.push_back(static_cast<int64_t>(std::isnan(v) ? 0 : std::clamp(v, -kLimit, kLimit)));
  return values;
}

namespace {

std::vector<int64_t> squeeze_axes(const OnnxNode& node) {
  if (node.opset() < 13) return node.integers("axes", {});
  if (!node.has(1)) return {};
  if (node.value(1).depends_on_batch()) node.fail("its axes depend on the batch size");
  return integer_values(node.constant(1));
}

void check_batch_stays(const OnnxNode& node, bool keep_batch, int64_t axis) {
  if (keep_batch && axis == 0) node.fail("it works along the batch axis (axis 0), which axon keeps whole");
}

}  // namespace

std::vector<int64_t> squeezed_shape(const OnnxNode& node, const std::vector<int64_t>& in, bool keep_batch) {
  const std::vector<int64_t> axes = squeeze_axes(node);
  std::vector<bool> dropped(in.size(), false);
  for (size_t i = keep_batch ? 1 : 0; i < in.size(); ++i) dropped[i] = axes.empty() && in[i] == 1;
  for (int64_t a : axes) {
    const int64_t axis = resolve_axis(node, a, static_cast<int64_t>(in.size()));
    check_batch_stays(node, keep_batch, axis);
    if (in[static_cast<size_t>(axis)] != 1)
      node.fail("axis ", axis, " has size ", in[static_cast<size_t>(axis)], ", not 1");
    dropped[static_cast<size_t>(axis)] = true;
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < in.size(); ++i)
    if (!dropped[i]) dims.push_back(in[i]);
  return dims;
}

std::vector<int64_t> unsqueezed_shape(const OnnxNode& node, const std::vector<int64_t>& in, bool keep_batch) {
  const std::vector<int64_t> axes = squeeze_axes(node);
  const int64_t rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const int64_t axis = resolve_axis(node, a, rank);
    check_batch_stays(node, keep_batch, axis);
    inserted[static_cast<size_t>(axis)] = true;
  }
  std::vector<int64_t> dims;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) dims.push_back(inserted[static_cast<size_t>(i)] ? 1 : in.at(next++));
  return dims;
}

bool OnnxValue::depends_on_batch() const {
  return std::any_of(batch_entries.begin(), batch_entries.end(), [](int64_t k) { return k > 0; });
}

OnnxValue OnnxValue::of(SymbolicTensor t) {
  OnnxValue value;
  value.dims = t.shape().dims();
  value.symbolic = std::move(t);
  return value;
}

OnnxValue OnnxValue::of(Tensor constant, std::vector<int64_t> batch_entries) {
  OnnxValue value;
  value.constant = std::move(constant);
  value.batch_entries = std::move(batch_entries);
  return value;
}

const OnnxValue& OnnxNode::value(size_t k) const {
  if (!has(k)) fail("input ", k, " is missing");
  return *inputs_[k];
}

const Tensor& OnnxNode::constant(size_t k) const {
  const OnnxValue& v = value(k);
  if (!v.is_constant())
    fail("input ", k, " ('", node_.input(static_cast<int>(k)), "') must be a constant (an initializer)");
  return v.constant;
}

SymbolicTensor OnnxNode::tensor(size_t k) {
  if (!has(k)) fail("input ", k, " is missing");
  OnnxValue& v = *inputs_[k];
  if (!v.symbolic)
    fail("input ", k, " ('", node_.input(static_cast<int>(k)),
         "') is a constant; axon computes this operator on a graph tensor only");
  return recorded(v);
}

SymbolicTensor OnnxNode::recorded(OnnxValue& v) {
  std::vector<int64_t> graph_dims = v.dims;  // the graph tensor's shape (steps apart)
  if (v.merged_steps > 0) graph_dims.insert(graph_dims.begin(), v.merged_steps);
  if (v.symbolic->shape().dims() != graph_dims)  // the pending reshape, recorded once
    v.symbolic = (*std::make_shared<Reshape>(graph_dims))(std::vector<SymbolicTensor>{*v.symbolic}).at(0);
  return *v.symbolic;
}

int64_t OnnxNode::rank(size_t k) const {
  const OnnxValue& v = value(k);
  return v.is_constant() ? v.constant.rank() : static_cast<int64_t>(v.dims.size()) + 1;
}

const onnx::AttributeProto* OnnxNode::attribute(const std::string& name) const {
  for (const onnx::AttributeProto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t OnnxNode::integer(const std::string& name, int64_t fallback) const {
  const onnx::AttributeProto* a = attribute(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) fail("attribute ", name, " must be an integer");
  return a->i();
}

double OnnxNode::real(const std::string& name, double fallback) const {
  const onnx::AttributeProto* a = attribute(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) fail("attribute ", name, " must be a float");
  return a->f();
}

std::vector<int64_t> OnnxNode::integers(const std::string& name, std::vector<int64_t> fallback) const {
  const onnx::AttributeProto* a = attribute(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INTS) fail("attribute ", name, " must be a list of integers");
  return {a->ints().begin(), a->ints().end()};
}

std::string OnnxNode::text(const std::string& name, const std::string& fallback) const {
  const onnx::AttributeProto* a = attribute(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING) fail("attribute ", name, " must be a string");
  return a->s();
}

const onnx::TensorProto* OnnxNode::tensor_attribute(const std::string& name) const {
  const onnx::AttributeProto* a = attribute(name);
  if (!a) return nullptr;
  if (a->type() != onnx::AttributeProto::TENSOR) fail("attribute ", name, " must be a tensor");
  return &a->t();
}

SymbolicTensors OnnxNode::call(std::shared_ptr<Module> layer, const std::vector<SymbolicTensor>& inputs) {
  if (merged_steps() == 0) return (*layer)(inputs);
  if (inputs.size() != 1)
    fail("it reads ", inputs.size(), " tensors, one with its steps merged into the batch (TimeDistributed's form); "
         "axon applies one layer at a time to each step");
  auto wrapper = std::make_shared<TimeDistributed>(std::move(layer));  // shared: the graph keeps this very layer
  SymbolicTensors y = (*wrapper)(inputs);
  time_distributed_.insert(y.at(0).node().get());
  return y;
}

int64_t OnnxNode::merged_steps() const {
  int64_t steps = 0;
  bool unmerged = false;
  for (const OnnxValue* v : inputs_) {
    if (!v || !v->symbolic) continue;
    if (v->merged_steps == 0) unmerged = true;
    else if (steps == 0) steps = v->merged_steps;
    else if (v->merged_steps != steps) unmerged = true;
  }
  if (steps > 0 && unmerged)
    fail("it reads a tensor with ", steps, " steps merged into the batch (TimeDistributed's form) with one that has not");
  return steps;
}

void OnnxNode::set_weight(Module& layer, const std::string& name, const Tensor& value) const {
  for (NamedParameter& p : layer.named_parameters()) {
    if (p.name != name) continue;
    if (p.variable.shape() != value.shape())
      fail("the ", name, " is ", value.shape(), " but the layer needs ", p.variable.shape());
    p.variable.value().copy_from(value);
    return;
  }
  fail("the layer has no weight '", name, "'");
}

void OnnxNode::set_output(size_t k, OnnxValue value) {
  if (value.symbolic && value.merged_steps == 0 && time_distributed_.contains(value.symbolic->node().get())) {
    value.merged_steps = merged_steps();  // (batch, steps, dims): the steps leave `dims`
    value.dims.erase(value.dims.begin());
  }
  if (outputs_.size() <= k) outputs_.resize(k + 1);
  outputs_[k] = std::move(value);
}

void OnnxNode::only_first_output() const {
  for (int k = 1; k < node_.output_size(); ++k)
    if (!node_.output(k).empty() && graph_.is_read(node_.output(k)))
      fail("its output ", k, " ('", node_.output(k), "') is not supported");
}

const onnx::NodeProto* OnnxNode::sole_reader(size_t k) const {
  if (static_cast<int>(k) >= node_.output_size()) return nullptr;
  return graph_.sole_reader(node_.output(static_cast<int>(k)));
}

bool OnnxNode::is_read(size_t k) const {
  return static_cast<int>(k) < node_.output_size() && !node_.output(static_cast<int>(k)).empty() &&
         graph_.is_read(node_.output(static_cast<int>(k)));
}

void OnnxNode::absorb(const onnx::NodeProto& reader) { absorbed_.push_back(&reader); }

void OnnxNode::fail_text(const std::string& text) const {
  axon::fail("load_onnx: node '", node_.name(), "' (", node_.op_type(), "): ", text);
}

}  // namespace detail

}  // namespace axon
