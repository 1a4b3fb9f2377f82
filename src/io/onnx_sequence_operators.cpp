// The ONNX operators of sequence models that load_onnx turns into axon layers: LSTM,
// GRU and RNN nodes (with the Transposes around them that exporters write for their
// time-major layout), Gather from an embedding table, Cast of token ids, ReduceMean and
// ReduceMax over the steps, and ConstantOfShape for zero initial states.
//
// An ONNX recurrent node reads X (T, B, F) and gives Y (T, D, B, U) and Y_h, Y_c
// (D, B, U); axon's layers keep the batch axis first. Such values keep their graph
// tensor batch-first and record where ONNX has the batch axis (OnnxValue::batch_axis):
// Transpose, Reshape, Squeeze, Unsqueeze and single-entry Gathers move it, and a value
// is usable by every other operator once it is first again.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "axon/bidirectional.h"
#include "axon/embedding.h"
#include "axon/merge.h"
#include "axon/multi_head_attention.h"
#include "axon/ops.h"
#include "axon/pooling.h"
#include "axon/recurrent.h"
#include "axon/reshape.h"
#include "axon/slice.h"
#include "axon/tensor_ops.h"
#include "io/onnx_node.h"
#include "io/onnx_tensor.h"

namespace axon::detail {

using Dims = std::vector<int64_t>;

// The value's ONNX shape, kOnnxBatch at the batch axis.
Dims onnx_shape(const OnnxValue& v) {
  Dims shape = v.dims;
  shape.insert(shape.begin() + v.batch_axis, kOnnxBatch);
  return shape;
}

// Output 0: input 0's graph tensor with the ONNX shape `shape` (kOnnxBatch once).
void set_onnx_shape(OnnxNode& node, const Dims& shape) {
  const auto batch = std::find(shape.begin(), shape.end(), kOnnxBatch);
  if (batch == shape.end() || std::count(shape.begin(), shape.end(), kOnnxBatch) != 1)
    node.fail("the result would not keep the batch axis");
  OnnxValue y = node.value(0);
  Dims dims(shape.begin(), batch);
  dims.insert(dims.end(), batch + 1, shape.end());
  if (dims_product(dims) != dims_product(y.dims))
    node.fail("cannot give ", dims_text(y.dims), " the shape ", dims_text(dims), " (besides the batch axis)");
  y.dims = std::move(dims);
  y.batch_axis = batch - shape.begin();
  node.set_output(0, std::move(y));
}

namespace {

// Transpose: only the batch axis may move; the other axes keep their order (a Permute
// of them is not an axon layer).
void transpose(OnnxNode& node) {
  const Dims in = onnx_shape(node.value(0));
  Dims perm = node.integers("perm", {});
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != in.size()) node.fail("perm ", dims_text(perm), " for a tensor of rank ", in.size());
  Dims out, others;
  for (int64_t p : perm) {
    const int64_t axis = resolve_axis(node, p, static_cast<int64_t>(in.size()));
    out.push_back(in[static_cast<size_t>(axis)]);
    if (in[static_cast<size_t>(axis)] != kOnnxBatch) others.push_back(axis);
  }
  if (!std::is_sorted(others.begin(), others.end()) || std::adjacent_find(others.begin(), others.end()) != others.end())
    node.fail("perm ", dims_text(perm), " reorders axes other than the batch axis; axon moves only the batch axis");
  set_onnx_shape(node, out);
}

// ONNX axis `axis` of value v (counting where ONNX has the batch axis), not the batch
// axis, as an axis of v's batch-first graph tensor.
int64_t graph_axis(const OnnxNode& node, const OnnxValue& v, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(v.dims.size()) + 1;
  axis = resolve_axis(node, axis, rank);
  if (axis == v.batch_axis) node.fail("it works along the batch axis, which axon keeps whole");
  return axis < v.batch_axis ? axis + 1 : axis;
}

// Entries [begin, end) of graph axis `axis` (>= 1) of value v: a Slice layer, and the
// value's dims with that axis's new size.
OnnxValue sliced(OnnxNode& node, OnnxValue v, int64_t axis, int64_t begin, int64_t end) {
  const int64_t size = v.dims[static_cast<size_t>(axis - 1)];
  if (begin == 0 && end == size) return v;
  if (begin < 0 || end > size || begin >= end)
    node.fail("entries [", begin, ", ", end, ") of an axis of ", size, " is empty or out of range");
  SymbolicTensor x = v.symbolic->shape().dims() == v.dims ? *v.symbolic
                                                          : node.call(std::make_shared<Reshape>(v.dims), {*v.symbolic}).at(0);
  v.symbolic = node.call(std::make_shared<Slice>(axis, begin, end), {x}).at(0);
  v.dims[static_cast<size_t>(axis - 1)] = end - begin;
  return v;
}

// Gather of one entry (a scalar index) along a non-batch axis of a graph tensor (torch's
// h_n[-1], y[:, -1]): a Slice, the axis then dropped.
void gather_single(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  const int64_t axis = graph_axis(node, x, node.integer("axis", 0));
  const Tensor& index = node.constant(1);
  if (index.numel() != 1 || index.rank() != 0)
    node.fail("axon gathers from a graph tensor one entry (a scalar index), not indices of shape ", index.shape());
  const int64_t size = x.dims[static_cast<size_t>(axis - 1)];
  int64_t i = integer_values(index).at(0);
  if (i < -size || i >= size) node.fail("index ", i, " is out of range for an axis of ", size);
  if (i < 0) i += size;
  OnnxValue y = sliced(node, x, axis, i, i + 1);
  y.dims.erase(y.dims.begin() + (axis - 1));  // a pending reshape
  if (axis - 1 < y.batch_axis) --y.batch_axis;
  node.set_output(0, std::move(y));
}

// Whether the Slice reverses the whole steps axis (the first after the batch) of x.
bool reverses_steps(const OnnxNode& node, const OnnxValue& x, const Dims& starts, const Dims& ends, const Dims& axes,
                    const Dims& steps) {
  if (starts.size() != 1 || ends.size() != 1 || axes.size() != 1 || steps.size() != 1 || steps[0] != -1 ||
      x.dims.empty())
    return false;
  const int64_t rank = static_cast<int64_t>(x.dims.size()) + 1;
  if (axes[0] < -rank || axes[0] >= rank || graph_axis(node, x, axes[0]) != 1) return false;
  const int64_t size = x.dims[0];
  return (starts[0] == -1 || starts[0] >= size - 1) && ends[0] <= -size - 1;
}

// Slice of a graph tensor along non-batch axes, steps of 1: a Slice layer per axis.
void slice_layer(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  const Dims starts = integer_values(node.constant(1)), ends = integer_values(node.constant(2));
  Dims axes(starts.size());
  std::iota(axes.begin(), axes.end(), 0);
  if (node.has(3)) axes = integer_values(node.constant(3));
  if (node.has(4)) {
    const Dims steps = integer_values(node.constant(4));
    if (reverses_steps(node, x, starts, ends, axes, steps)) {  // go_backwards, for the recurrent node after it
      OnnxValue y = x;
      y.steps_reversed = !x.steps_reversed;
      return node.set_output(0, std::move(y));
    }
    if (std::any_of(steps.begin(), steps.end(), [](int64_t s) { return s != 1; }))
      node.fail("steps other than 1 on a graph tensor are supported only to reverse a recurrent node's sequence");
  }
  if (ends.size() != starts.size() || axes.size() != starts.size()) node.fail("starts, ends and axes differ in length");
  OnnxValue y = x;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = graph_axis(node, x, axes[i]), size = x.dims[static_cast<size_t>(axis - 1)];
    auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + size : v, int64_t{0}, size); };
    y = sliced(node, y, axis, clamp(starts[i]), std::max(clamp(starts[i]), clamp(ends[i])));
  }
  node.set_output(0, std::move(y));
}

// Split of a graph tensor along a non-batch axis: a Slice layer per output.
void split_layer(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  const int64_t axis = graph_axis(node, x, node.integer("axis", 0)), size = x.dims[static_cast<size_t>(axis - 1)];
  const auto outputs = static_cast<int64_t>(node.proto().output_size());
  Dims parts = node.has(1) ? integer_values(node.constant(1)) : node.integers("split", {});
  if (parts.empty()) {
    if (outputs <= 0 || size % outputs != 0) node.fail("an axis of ", size, " does not split in ", outputs, " equal parts");
    parts.assign(static_cast<size_t>(outputs), size / outputs);
  }
  bool fits = static_cast<int64_t>(parts.size()) == outputs;
  int64_t total = 0;
  for (int64_t part : parts) {
    if (part <= 0 || part > size - total) fits = false;
    if (!fits) break;
    total += part;
  }
  if (!fits || total != size)
    node.fail("split sizes ", dims_text(parts), " do not fill an axis of ", size, " in ", outputs, " outputs");
  std::vector<OnnxValue> pieces;
  int64_t begin = 0;
  for (int64_t part : parts) {
    pieces.push_back(sliced(node, x, axis, begin, begin + part));
    begin += part;
  }
  for (size_t k = 0; k < pieces.size(); ++k) node.set_output(k, std::move(pieces[k]));
}

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

// A recurrent node's weights in Keras's layout: W (G*U, in) of direction d, ONNX's gate
// order, -> (in, G*U) in Keras's (LSTM i,o,f,c -> i,f,c,o).
Tensor keras_kernel(const Tensor& w, int64_t d, const Dims& onnx_gate_of_keras, int64_t units) {
  const int64_t rows = w.dim(1), in = w.dim(2);
  const std::vector<double> v = w.to_vector();
  std::vector<float> k(static_cast<size_t>(in * rows));
  for (int64_t g = 0; g < static_cast<int64_t>(onnx_gate_of_keras.size()); ++g)
    for (int64_t u = 0; u < units; ++u)
      for (int64_t i = 0; i < in; ++i)
        k[static_cast<size_t>(i * rows + g * units + u)] =
            static_cast<float>(v[static_cast<size_t>((d * rows + onnx_gate_of_keras[static_cast<size_t>(g)] * units + u) * in + i)]);
  return Tensor::from(k, Shape{in, rows});
}

// Direction d's half of B (D, 2*G*U), input (part 0) or recurrent (part 1), in Keras's gate order.
std::vector<float> keras_bias(const Tensor& b, int64_t d, int64_t part, const Dims& onnx_gate_of_keras, int64_t units) {
  const int64_t width = static_cast<int64_t>(onnx_gate_of_keras.size()) * units;
  std::vector<float> out(static_cast<size_t>(width), 0.0f);
  if (b.defined()) {
    const std::vector<double> v = b.to_vector();
    for (int64_t g = 0; g < static_cast<int64_t>(onnx_gate_of_keras.size()); ++g)
      for (int64_t u = 0; u < units; ++u)
        out[static_cast<size_t>(g * units + u)] = static_cast<float>(
            v[static_cast<size_t>(d * 2 * width + part * width + onnx_gate_of_keras[static_cast<size_t>(g)] * units + u)]);
  }
  return out;
}

// An initial state (D, B, U) (with layout 1 (B, D, U)) of a one-direction node as (B, U);
// nothing for zeros.
std::optional<SymbolicTensor> initial_state(OnnxNode& node, size_t k, int64_t directions, int64_t layout_batch_axis) {
  if (!node.has(k)) return std::nullopt;
  const OnnxValue& v = node.value(k);
  if (v.is_constant()) {
    const std::vector<double> values = v.constant.to_vector();
    if (std::any_of(values.begin(), values.end(), [](double x) { return x != 0; }))
      node.fail("input ", k, ": a constant nonzero initial state is not supported (the same for every example)");
    return std::nullopt;
  }
  if (directions != 1 || v.batch_axis != layout_batch_axis || v.dims.empty() || v.dims[0] != 1)
    node.fail("input ", k, ": axon takes a computed initial state for one direction only, as (1, batch, units)");
  const Dims dims(v.dims.begin() + 1, v.dims.end());
  if (v.symbolic->shape().dims() == dims) return *v.symbolic;
  return node.call(std::make_shared<Reshape>(dims), {*v.symbolic}).at(0);
}

// Checks that the node uses ONNX's default activations and none of its other options.
void check_defaults(OnnxNode& node, const std::string& op, int64_t directions) {
  std::vector<std::string> expected;
  for (int64_t d = 0; d < directions; ++d) {
    if (op == "LSTM") expected.insert(expected.end(), {"Sigmoid", "Tanh", "Tanh"});
    if (op == "GRU") expected.insert(expected.end(), {"Sigmoid", "Tanh"});
    if (op == "RNN") expected.push_back("Tanh");
  }
  if (node.has_attribute("activations")) {
    const onnx::AttributeProto* a = nullptr;
    for (const onnx::AttributeProto& attribute : node.proto().attribute())
      if (attribute.name() == "activations") a = &attribute;
    std::vector<std::string> given(a->strings().begin(), a->strings().end());
    if (given != expected) node.fail("activations other than ONNX's defaults are not supported");
  }
  for (const char* name : {"clip", "activation_alpha", "activation_beta"})
    if (node.has_attribute(name)) node.fail("attribute ", name, " is not supported");
  if (node.integer("input_forget", 0) != 0) node.fail("input_forget is not supported");
  if (node.has(7)) node.fail("peephole weights (input P) are not supported");
}

// LSTM, GRU or RNN -> axon's LSTM, GRU (reset_after = linear_before_reset) or SimpleRNN,
// in a Bidirectional (concat) for direction "bidirectional". The layer returns the
// sequence only when Y is read, and its states when Y_h or Y_c need them.
void recurrent(OnnxNode& node, const std::string& op) {
  const int64_t layout = node.integer("layout", 0);
  const OnnxValue& x = node.value(0);
  if (!x.symbolic || x.dims.size() != 2 || x.batch_axis != (layout == 0 ? 1 : 0))
    node.fail("X must be a graph tensor (steps, batch, features)", layout ? " (batch, steps, features) with layout 1" : "");
  const std::string direction = node.text("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    node.fail("direction '", direction, "' is unknown");
  const int64_t directions = direction == "bidirectional" ? 2 : 1;
  check_defaults(node, op, directions);
  const int64_t units = node.integer("hidden_size", 0), steps = x.dims[0], features = x.dims[1];
  const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
  const Tensor w = node.constant(1).to(DType::f32), r = node.constant(2).to(DType::f32);
  const Tensor b = node.has(3) ? node.constant(3).to(DType::f32) : Tensor();
  // units is bounded by W's real size first, so that the products below cannot overflow.
  if (units <= 0 || w.rank() != 3 || units > w.dim(1) || w.shape() != Shape{directions, gates * units, features} ||
      r.shape() != Shape{directions, gates * units, units} ||
      (b.defined() && b.shape() != Shape{directions, 2 * gates * units}))
    node.fail("W ", w.shape(), ", R ", r.shape(), " and B do not fit ", directions, " direction(s) of ", units,
              " units over ", features, " features");
  if (node.has(4)) {
    const std::vector<double> lengths = node.constant(4).to_vector();
    if (std::any_of(lengths.begin(), lengths.end(), [&](double l) { return l != static_cast<double>(steps); }))
      node.fail("sequence_lens shorter than the steps are not supported (axon masks padding with Embedding(mask_zero))");
  }
  const bool sequence_read = node.is_read(0), h_read = node.is_read(1), c_read = op == "LSTM" && node.is_read(2);
  if (direction == "reverse" && sequence_read)
    node.fail("the output sequence of a reverse recurrence is not supported (axon's go_backwards gives it reversed)");
  // A forward node over reversed steps is Keras's go_backwards (outputs in the order the
  // steps ran); ONNX's "reverse" direction gives the same states.
  if (x.steps_reversed && direction != "forward")
    node.fail("a ", direction, " recurrence over reversed steps is not supported");
  const RecurrentOptions options{.return_sequences = sequence_read,
                                 .return_state = sequence_read ? h_read || c_read : c_read,
                                 .go_backwards = direction == "reverse" || x.steps_reversed};
  std::shared_ptr<Recurrent> layer;
  const bool reset_after = node.integer("linear_before_reset", 0) != 0;
  if (op == "LSTM") layer = std::make_shared<LSTM>(units, options);
  else if (op == "GRU") layer = std::make_shared<GRU>(units, options, reset_after);
  else layer = std::make_shared<SimpleRNN>(units, options);
  std::shared_ptr<Module> module = layer;
  if (directions == 2) module = std::make_shared<Bidirectional>(layer, "concat");

  std::vector<SymbolicTensor> inputs = {node.tensor(0)};
  for (size_t k : {size_t{5}, size_t{6}})
    if (const auto state = initial_state(node, k, directions, layout == 0 ? 1 : 0)) inputs.push_back(*state);
  if (inputs.size() != 1 && inputs.size() != static_cast<size_t>(op == "LSTM" ? 3 : 2))
    node.fail("an LSTM needs both initial states computed, or neither");
  const SymbolicTensors out = node.call(module, inputs);

  Dims order = op == "LSTM" ? Dims{0, 2, 3, 1} : Dims{};  // Keras gate g is ONNX gate order[g]
  if (order.empty())
    for (int64_t g = 0; g < gates; ++g) order.push_back(g);
  for (int64_t d = 0; d < directions; ++d) {
    const std::string prefix = directions == 1 ? "" : d == 0 ? "forward_layer." : "backward_layer.";
    node.set_weight(*module, prefix + "kernel", keras_kernel(w, d, order, units));
    node.set_weight(*module, prefix + "recurrent_kernel", keras_kernel(r, d, order, units));
    std::vector<float> bias = keras_bias(b, d, 0, order, units);
    const std::vector<float> recurrent_bias = keras_bias(b, d, 1, order, units);
    const auto width = static_cast<int64_t>(bias.size());
    if (op == "GRU" && reset_after) {  // (2, 3U): the input bias, then the recurrent one
      bias.insert(bias.end(), recurrent_bias.begin(), recurrent_bias.end());
      node.set_weight(*module, prefix + "bias", Tensor::from(bias, Shape{2, width}));
    } else {  // one bias: both added
      for (size_t i = 0; i < bias.size(); ++i) bias[i] += recurrent_bias[i];
      node.set_weight(*module, prefix + "bias", Tensor::from(bias, Shape{width}));
    }
  }

  // The ONNX outputs. Per direction the states follow the sequence (or the merged last
  // step): h, then c for an LSTM.
  const size_t per_direction = op == "LSTM" ? 2 : 1;
  auto joined = [&](size_t first) {  // (B, D*U) from each direction's state at `first`
    if (directions == 1) return out.at(first);
    return node.call(std::make_shared<Concatenate>(), {out.at(first), out.at(first + per_direction)}).at(0);
  };
  auto states_value = [&](const SymbolicTensor& t) {  // (D, B, U), with layout 1 (B, D, U)
    OnnxValue v = OnnxValue::of(t);
    v.dims = {directions, units};
    v.batch_axis = layout == 0 ? 1 : 0;
    return v;
  };
  if (sequence_read) {
    OnnxValue y = OnnxValue::of(out[0]);  // (B, T, D*U) -> (T, D, B, U), with layout 1 (B, T, D, U)
    y.dims = {steps, directions, units};
    y.batch_axis = layout == 0 ? 2 : 0;
    node.set_output(0, std::move(y));
  }
  if (h_read) node.set_output(1, states_value(sequence_read ? joined(1) : out[0]));
  if (c_read) node.set_output(2, states_value(joined(2)));
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

// Reshape of a value whose batch axis is not first: the axes before it and those after
// it are reshaped each among themselves (0 copies an axis, -1 is inferred).
void reshape_around_batch(OnnxNode& node, const Dims& target_entries, bool allow_zero) {
  const Dims in = onnx_shape(node.value(0));
  const size_t p = static_cast<size_t>(node.value(0).batch_axis);
  Dims target = target_entries;
  const std::vector<bool>& batch_entries = node.value(1).batch_entries;
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < batch_entries.size() && batch_entries[i]) target[i] = kOnnxBatch;
    else if (target[i] == 0 && !allow_zero && i < in.size()) target[i] = in[i];
  }
  auto q = static_cast<size_t>(std::find(target.begin(), target.end(), kOnnxBatch) - target.begin());
  const auto inferred = std::find(target.begin(), target.end(), int64_t{-1});
  if (q == target.size()) {  // the batch is the inferred entry
    if (inferred == target.end()) node.fail("the target shape ", dims_text(target_entries), " has no batch axis");
    q = static_cast<size_t>(inferred - target.begin());
    target[q] = kOnnxBatch;
  } else if (inferred != target.end()) {  // inferred on its side of the batch axis
    const bool before = static_cast<size_t>(inferred - target.begin()) < q;
    const Dims side = before ? Dims(in.begin(), in.begin() + static_cast<long>(p)) : Dims(in.begin() + static_cast<long>(p) + 1, in.end());
    Dims known = before ? Dims(target.begin(), target.begin() + static_cast<long>(q)) : Dims(target.begin() + static_cast<long>(q) + 1, target.end());
    known.erase(std::find(known.begin(), known.end(), int64_t{-1}));
    if (dims_product(known) == 0 || dims_product(side) % dims_product(known) != 0)
      node.fail("the target shape ", dims_text(target_entries), " does not fit ", dims_text(in));
    *inferred = dims_product(side) / dims_product(known);
  }
  if (dims_product(Dims(target.begin(), target.begin() + static_cast<long>(q))) != dims_product(Dims(in.begin(), in.begin() + static_cast<long>(p))))
    node.fail("the target shape ", dims_text(target_entries), " mixes the batch axis with others");
  set_onnx_shape(node, target);
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
    for (size_t i = 0; i < dims.size(); ++i)
      if (shape.batch_entries[i]) dims[i] = 1;
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
      {"LSTM", [](OnnxNode& n) { recurrent(n, "LSTM"); }},
      {"GRU", [](OnnxNode& n) { recurrent(n, "GRU"); }},
      {"RNN", [](OnnxNode& n) { recurrent(n, "RNN"); }},
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

const std::set<std::string>& onnx_batch_axis_operators() {
  static const std::set<std::string> operators = {"LSTM",     "GRU",    "RNN",     "Transpose", "Reshape", "Squeeze",
                                                  "Unsqueeze", "Identity", "Gather", "Dropout", "Shape",   "FusedMultiHeadAttention",
                                                  "Slice",     "Split"};
  return operators;
}

}  // namespace axon::detail
