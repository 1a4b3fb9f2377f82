// The other ONNX operators of sequence models that load_onnx turns into axon layers:
// Gather from an embedding table, Cast of token ids, ReduceMean and ReduceMax over the
// steps, the fused attention node, and, computed while loading, ConstantOfShape (zero
// initial states) and Transpose of constants. The table gathers them with the
// recurrent nodes (onnx_recurrent_operators.cpp) and the operators that move the batch
// axis (onnx_batch_axis.cpp).
#include <cstring>

#include "axon/embedding.h"
#include "axon/multi_head_attention.h"
#include "axon/ops.h"
#include "axon/pooling.h"
#include "axon/tensor_ops.h"
#include "io/onnx_batch_axis.h"
#include "io/onnx_tensor.h"

namespace axon::detail {

using Dims = std::vector<int64_t>;

namespace {

// Gather(table, ids): an Embedding whose table is the constant; or gather_single.
void gather(OnnxNode& node) {
  if (!node.value(0).is_constant()) return gather_single(node);
  const Tensor& table = node.constant(0);
  if (table.rank() != 2 || node.integer("axis", 0) != 0)
    node.fail("axon gathers rows of a constant matrix (an embedding table), not from a constant of shape ",
              table.shape(), " along axis ", node.integer("axis", 0));
  auto embedding = std::make_shared<Embedding>(table.dim(0), table.dim(1));
  const SymbolicTensor y = node.call(embedding, {node.tensor(1)}).at(0);
  node.set_weight(*embedding, "embeddings", table.to(DType::f32));
  node.set_output(0, OnnxValue::of(y));
}

// Cast of a graph tensor: to FLOAT the identity; to an integer type only as the ids of
// an Embedding (Gather), which takes float32 ids that are whole numbers.
void cast(OnnxNode& node) {
  const int64_t to = node.integer("to", 0);
  const bool to_integer = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32;
  const onnx::NodeProto* reader = node.sole_reader(0);
  const bool ids = reader && reader->op_type() == "Gather" && reader->input_size() > 1 &&
                   reader->input(1) == node.proto().output(0);
  if (to != onnx::TensorProto::FLOAT && !(to_integer && ids))
    node.fail("axon computes in float32: a Cast of a graph tensor to ", onnx_type_name(static_cast<int32_t>(to)),
              " is supported only as the ids of a Gather from an embedding table");
  node.set_output(0, node.value(0));
}

// ReduceMean / ReduceMax over the steps of (B, T, F): GlobalAverage/MaxPooling1D.
void reduce_steps(OnnxNode& node, bool mean) {
  const Dims axes = node.has(1) ? integer_values(node.constant(1)) : node.integers("axes", {});
  if (node.rank(0) != 3 || axes.size() != 1 || resolve_axis(node, axes[0], 3) != 1)
    node.fail("axon reduces a (batch, steps, features) tensor over its steps (axis 1) only");
  std::shared_ptr<Module> pool;
  if (mean) pool = std::make_shared<GlobalAveragePooling1D>();
  else pool = std::make_shared<GlobalMaxPooling1D>();
  OnnxValue y = OnnxValue::of(node.call(pool, {node.tensor(0)}).at(0));
  if (node.integer("keepdims", 1) != 0) y.dims.insert(y.dims.begin(), 1);  // a pending reshape to (1, F)
  node.set_output(0, std::move(y));
}

}  // namespace

// The node attention fusion writes (onnx_attention_fusion.h): a MultiHeadAttention
// whose projections are its constant inputs; the output keeps the query's layout.
void fused_attention(OnnxNode& node) {
  const int64_t heads = node.integer("num_heads", 0), key_dim = node.integer("key_dim", 0);
  const Tensor& value_kernel = node.constant(6);
  const Tensor& output_kernel = node.constant(8);
  if (heads <= 0 || value_kernel.rank() != 2 || output_kernel.rank() != 2 || value_kernel.dim(1) % heads != 0)
    node.fail("the fused attention's sizes do not fit ", heads, " heads");
  auto attention = std::make_shared<MultiHeadAttention>(
      heads, key_dim,
      AttentionLayerOptions{.value_dim = value_kernel.dim(1) / heads, .output_dim = output_kernel.dim(1),
                            .causal = node.integer("causal", 0) != 0});
  std::vector<SymbolicTensor> inputs = {node.tensor(0)};
  if (node.proto().input(1) != node.proto().input(0)) inputs.push_back(node.tensor(1));
  OnnxValue y = OnnxValue::of(node.call(attention, inputs).at(0));
  const char* names[] = {"query", "key", "value", "output"};
  for (size_t part = 0; part < 4; ++part) {
    node.set_weight(*attention, std::string(names[part]) + "_kernel", node.constant(2 + 2 * part).to(DType::f32));
    node.set_weight(*attention, std::string(names[part]) + "_bias", node.constant(3 + 2 * part).to(DType::f32));
  }
  y.batch_axis = node.value(0).batch_axis;
  node.set_output(0, std::move(y));
}

// Transpose of a constant (a weight exporters transpose).
void transpose_constant(OnnxNode& node) {
  const Tensor& x = node.constant(0);
  Dims perm = node.integers("perm", {});
  if (perm.empty())
    for (int64_t i = x.rank() - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != x.rank()) node.fail("perm ", dims_text(perm), " for a tensor of rank ", x.rank());
  NoGrad no_grad;
  node.set_output(0, OnnxValue::of(permute(Variable(x), perm).value().clone()));
}

// ConstantOfShape: a constant; of the batch's size (a shape from Shape), zeros only.
void constant_of_shape(OnnxNode& node) {
  const OnnxValue& shape = node.value(0);
  Dims dims = integer_values(node.constant(0));
  Tensor fill = Tensor::scalar(0);
  if (const onnx::TensorProto* value = node.tensor_attribute("value")) {
    if (value->float_data_size() + value->int64_data_size() + value->int32_data_size() + value->double_data_size() > 1 ||
        (value->has_raw_data() && value->raw_data().size() > 8))
      node.fail("value must hold one number");
    if (value->float_data_size()) fill = Tensor::scalar(value->float_data(0));
    else if (value->int64_data_size()) fill = Tensor::scalar(static_cast<double>(value->int64_data(0)));
    else if (value->has_raw_data() && value->data_type() == onnx::TensorProto::FLOAT && value->raw_data().size() == 4) {
      float f = 0;
      std::memcpy(&f, value->raw_data().data(), 4);
      fill = Tensor::scalar(f);
    } else if (value->has_raw_data() && value->raw_data().find_first_not_of('\0') != std::string::npos) {
      node.fail("value of type ", onnx_type_name(value->data_type()), " is not supported");
    }
  }
  OnnxValue out;
  if (shape.depends_on_batch()) {
    if (fill.item() != 0) node.fail("a constant of the batch's size must be zeros");
    for (size_t i = 0; i < dims.size(); ++i) {
      if (shape.batch_entries[i] > 1) node.fail("a constant of the batch's size times ", shape.batch_entries[i]);
      if (shape.batch_entries[i] > 0) dims[i] = 1;
    }
    out.zeros_per_example = true;
  }
  for (int64_t d : dims)
    if (d < 0) node.fail("negative dimension ", d);
  const Shape target(dims);
  if (target.numel() > node.max_elements()) node.fail("a constant of ", target.numel(), " elements, more than the limit");
  out.constant = Tensor::zeros(target) + fill;
  node.set_output(0, std::move(out));
}

const std::map<std::string, OnnxOperator>& onnx_sequence_operators() {
  static const std::map<std::string, OnnxOperator> operators = {
      {"LSTM", [](OnnxNode& n) { recurrent_node(n, "LSTM"); }},
      {"GRU", [](OnnxNode& n) { recurrent_node(n, "GRU"); }},
      {"RNN", [](OnnxNode& n) { recurrent_node(n, "RNN"); }},
      {"Transpose", transpose},
      {"Gather", gather},
      {"Slice", slice_layer},
      {"Split", split_layer},
      {"Cast", cast},
      {"ReduceMean", [](OnnxNode& n) { reduce_steps(n, true); }},
      {"ReduceMax", [](OnnxNode& n) { reduce_steps(n, false); }},
  };
  return operators;
}

}  // namespace axon::detail
