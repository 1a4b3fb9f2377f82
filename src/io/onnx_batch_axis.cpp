// Where ONNX keeps the batch axis (onnx_batch_axis.h): an ONNX recurrent node reads X
// (T, B, F) and gives Y (T, D, B, U) and Y_h, Y_c (D, B, U), and exporters wrap it in
// Transposes; axon's layers keep the batch axis first. Such values keep their graph
// tensor batch-first and record where ONNX has the batch axis (OnnxValue::batch_axis):
// Transpose, Reshape, Squeeze, Unsqueeze, Slice, Split and one-index Gathers move it,
// and a value is usable by every other operator once it is first again.
#include "io/onnx_batch_axis.h"

#include <algorithm>
#include <numeric>

#include "axon/slice.h"

namespace axon::detail {

using Dims = std::vector<int64_t>;

Dims onnx_shape(const OnnxValue& v) {
  Dims shape = v.dims;
  shape.insert(shape.begin() + v.batch_axis, kOnnxBatch);
  return shape;
}

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
  v.symbolic = node.call(std::make_shared<Slice>(axis, begin, end), {node.recorded(v)}).at(0);
  v.dims[static_cast<size_t>(axis - 1)] = end - begin;
  return v;
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

}  // namespace

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

void reshape_around_batch(OnnxNode& node, const Dims& target_entries, bool allow_zero) {
  const Dims in = onnx_shape(node.value(0));
  const size_t p = static_cast<size_t>(node.value(0).batch_axis);
  Dims target = target_entries;
  const std::vector<int64_t>& batch_entries = node.value(1).batch_entries;
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < batch_entries.size() && batch_entries[i] > 1)
      node.fail("the target's entry ", i, " merges steps into the batch axis, which would move");
    if (i < batch_entries.size() && batch_entries[i] > 0) target[i] = kOnnxBatch;
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

const std::set<std::string>& onnx_batch_axis_operators() {
  static const std::set<std::string> operators = {"LSTM",     "GRU",    "RNN",     "Transpose", "Reshape", "Squeeze",
                                                  "Unsqueeze", "Identity", "Gather", "Dropout", "Shape",   "FusedMultiHeadAttention",
                                                  "Slice",     "Split"};
  return operators;
}

}  // namespace axon::detail
