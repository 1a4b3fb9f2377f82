#pragma once
// What load_onnx (src/io/onnx_import.cpp) hands each ONNX node while it builds the
// functional model (defined in onnx_node.cpp), and the tables of operators
// (onnx_operators.cpp for those that become layers, onnx_folding.cpp for those computed
// while loading).
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "axon/functional.h"
#include "axon/module.h"
#include "axon/tensor.h"

namespace axon::detail {

// A tensor of the ONNX graph during the import: known now (a constant), or computed by
// the axon graph being recorded (symbolic).
struct OnnxValue {
  Tensor constant;  // defined for a constant
  // For an int64 constant computed from Shape: k > 0 for an entry that is the batch
  // size times k (Shape of a tensor with k merged steps, or a Mul by k), 0 for the
  // others. The batch size is unknown until run time: such an entry's value in
  // `constant` means nothing.
  std::vector<int64_t> batch_entries;
  std::optional<SymbolicTensor> symbolic;
  // A symbolic value's ONNX shape after the batch axis. It may differ from
  // symbolic->shape() by a reshape not recorded yet: Flatten, Reshape, Squeeze and
  // Unsqueeze only change it, and a layer is added when a consumer needs the shape.
  std::vector<int64_t> dims;
  // Where the batch axis is in the ONNX tensor: `dims` with the batch inserted here. A
  // Transpose to time-major (T, B, F) before a recurrent node, and the node's outputs
  // (T, D, B, U) and (D, B, U), move it; only the operators of
  // onnx_batch_axis_operators() (onnx_batch_axis.h) read such a value.
  int64_t batch_axis = 0;
  // A constant of zeros whose batch-sized axes hold one entry (ConstantOfShape of a
  // shape from Shape): a recurrent node's initial state, which it takes as none.
  bool zeros_per_example = false;
  // The ONNX tensor has the steps (the first axis after the batch) of its graph tensor
  // in reverse order (a Slice with step -1): only a recurrent node reads it, as
  // go_backwards.
  bool steps_reversed = false;
  // The ONNX tensor has its batch and steps merged, (batch * steps, dims), as exporters
  // write TimeDistributed (a Reshape to (-1, ...), the layer, a Reshape back); the
  // graph tensor keeps them apart, (batch, steps, dims). Each layer recorded on it is
  // wrapped in TimeDistributed, and a Reshape that splits the batch again ends it.
  int64_t merged_steps = 0;

  bool is_constant() const { return constant.defined(); }
  bool depends_on_batch() const;
  static OnnxValue of(SymbolicTensor t);
  static OnnxValue of(Tensor constant, std::vector<int64_t> batch_entries = {});
};

class OnnxNode {
 public:
  // What a node may ask of the graph around it: the node that alone reads a tensor,
  // whether any node or the graph's outputs read it, and a tensor's value by name (null
  // if it is not computed yet).
  struct Graph {
    std::function<const onnx::NodeProto*(const std::string&)> sole_reader;
    std::function<bool(const std::string&)> is_read;
    std::function<const OnnxValue*(const std::string&)> find_value;
  };

  OnnxNode(const onnx::NodeProto& node, int64_t opset, std::vector<OnnxValue*> inputs, Graph graph,
           int64_t max_elements)
      : node_(node), opset_(opset), inputs_(std::move(inputs)), graph_(std::move(graph)), max_elements_(max_elements) {}

  const onnx::NodeProto& proto() const { return node_; }
  int64_t opset() const { return opset_; }

  // Inputs: an optional one left out (an empty name, or past the end) is absent.
  size_t input_count() const { return inputs_.size(); }
  bool has(size_t k) const { return k < inputs_.size() && inputs_[k] != nullptr; }
  const OnnxValue& value(size_t k) const;
  const Tensor& constant(size_t k) const;  // fails unless input k is known at load time
  // Input k as a tensor of the graph, its ONNX shape recorded (a Reshape layer when pending).
  SymbolicTensor tensor(size_t k);
  // A symbolic value's graph tensor, its pending reshape recorded (as tensor(k) does).
  SymbolicTensor recorded(OnnxValue& v);
  // Input k's rank counting the batch axis, for resolving ONNX axes.
  int64_t rank(size_t k) const;

  // Attributes, with ONNX's defaults given by the caller.
  bool has_attribute(const std::string& name) const { return attribute(name) != nullptr; }
  int64_t integer(const std::string& name, int64_t fallback) const;
  double real(const std::string& name, double fallback) const;
  std::vector<int64_t> integers(const std::string& name, std::vector<int64_t> fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  const onnx::TensorProto* tensor_attribute(const std::string& name) const;
  int64_t max_elements() const { return max_elements_; }

  // Records layer(inputs), the layer named after the node; in TimeDistributed when the
  // node's input has merged steps (OnnxValue::merged_steps).
  SymbolicTensors call(std::shared_ptr<Module> layer, const std::vector<SymbolicTensor>& inputs);
  // Replaces a built layer's weight (its path in the layer: "kernel") by `value`.
  void set_weight(Module& layer, const std::string& name, const Tensor& value) const;

  // Output k; a value of a layer that call() wrapped in TimeDistributed keeps the
  // input's merged steps.
  void set_output(size_t k, OnnxValue value);
  const std::vector<OnnxValue>& outputs() const { return outputs_; }
  // Fails unless outputs after the first are unused (Dropout's mask, MaxPool's indices).
  void only_first_output() const;

  // The node that alone reads output k (when it is not also a graph output), for
  // fusions (MatMul + Add -> Dense); absorb() then takes its place: its output is this
  // node's.
  const onnx::NodeProto* sole_reader(size_t k) const;
  // Whether a node or the graph's outputs read output k.
  bool is_read(size_t k) const;
  const onnx::NodeProto* sole_reader(const std::string& tensor) const { return graph_.sole_reader(tensor); }
  const OnnxValue* find_value(const std::string& name) const { return graph_.find_value(name); }
  void absorb(const onnx::NodeProto& reader);
  const std::vector<const onnx::NodeProto*>& absorbed() const { return absorbed_; }

  // Throws "load_onnx: node 'name' (Op): ..." .
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    std::ostringstream message;
    (message << ... << parts);
    fail_text(message.str());
  }

 private:
  const onnx::AttributeProto* attribute(const std::string& name) const;
  [[noreturn]] void fail_text(const std::string& text) const;
  // The merged steps of the node's graph-tensor inputs (0: none).
  int64_t merged_steps() const;

  const onnx::NodeProto& node_;
  int64_t opset_;
  std::vector<OnnxValue*> inputs_;
  Graph graph_;
  int64_t max_elements_;
  std::vector<OnnxValue> outputs_;
  std::vector<const onnx::NodeProto*> absorbed_;
  std::set<const GraphNode*> time_distributed_;  // the layers call() wrapped
};

using OnnxOperator = std::function<void(OnnxNode&)>;

// Operators that become axon layers (onnx_operators.cpp, with the sequence and layout tables).
const std::map<std::string, OnnxOperator>& onnx_layer_operators();
// Operators of sequence models (onnx_sequence_operators.cpp), part of the layer operators.
const std::map<std::string, OnnxOperator>& onnx_sequence_operators();
// Flatten, Reshape, Squeeze, Unsqueeze (onnx_layout_operators.cpp), part of them too.
const std::map<std::string, OnnxOperator>& onnx_layout_operators();
// Whether op is LSTM, GRU or RNN; such a node as axon's layer (onnx_recurrent_operators.cpp).
inline bool onnx_recurrent_operator(const std::string& op) { return op == "LSTM" || op == "GRU" || op == "RNN"; }
void recurrent_node(OnnxNode& node, const std::string& op);
// Operators computed while loading when their inputs are constants; Shape also on a
// graph tensor, whose shape is known but for the batch size (onnx_folding.cpp).
const std::map<std::string, OnnxOperator>& onnx_folding_operators();

// The node attention fusion writes (onnx_attention_fusion.h).
void fused_attention(OnnxNode& node);
// ConstantOfShape and Transpose of a constant (folding operators).
void constant_of_shape(OnnxNode& node);
void transpose_constant(OnnxNode& node);

// Input or output k of a node, or "" (no tensor) when it has fewer: a hostile file's
// node may have any number of either, and the pattern matchers look before any check.
const std::string& input_of(const onnx::NodeProto& node, int k);
const std::string& output_of(const onnx::NodeProto& node, int k);

// "A x B" as text, for errors; the product of dims, failing on overflow.
std::string dims_text(const std::vector<int64_t>& dims);
int64_t dims_product(const std::vector<int64_t>& dims);

// Helpers of the operator tables:
// an ONNX axis of a tensor of `rank` (counting the batch axis) in [0, rank);
int64_t resolve_axis(const OnnxNode& node, int64_t axis, int64_t rank);
// such an axis that must not be the batch axis (0);
int64_t feature_axis(const OnnxNode& node, int64_t axis, int64_t rank);
// a constant's values as integers;
std::vector<int64_t> integer_values(const Tensor& t);
// the shape after Squeeze or Unsqueeze of a tensor of shape `in` (with its batch axis,
// which with keep_batch must stay first); their axes are an attribute before opset 13,
// input 1 from it.
std::vector<int64_t> squeezed_shape(const OnnxNode& node, const std::vector<int64_t>& in, bool keep_batch);
std::vector<int64_t> unsqueezed_shape(const OnnxNode& node, const std::vector<int64_t>& in, bool keep_batch);

}  // namespace axon::detail
