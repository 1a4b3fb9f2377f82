// The ONNX operators load_onnx computes while loading, when their inputs are constants:
// the Constant nodes and the Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains
// exporters write to compute static shapes (see onnx_import.h). A constant that holds
// the batch size, from Shape of a graph tensor, carries that in batch_entries; only
// Reshape's target may use it, as its first entry.
#include <numeric>

#include "axon/checked_math.h"
#include "axon/tensor_ops.h"
#include "io/onnx_node.h"
#include "io/onnx_tensor.h"
#include "kernels/layout.h"

namespace axon::detail {

namespace {

using Dims = std::vector<int64_t>;

// Fails when input k holds the batch size, which is not known while loading.
const Tensor& known(const OnnxNode& node, size_t k) {
  if (node.value(k).depends_on_batch())
    node.fail("input ", k, " depends on the batch size, which axon knows only at run time");
  return node.constant(k);
}

void constant(OnnxNode& node) {
  const OnnxTensorSource source{"", node.max_elements()};
  if (const onnx::TensorProto* t = node.tensor_attribute("value")) {
    node.set_output(0, OnnxValue::of(tensor_from_onnx(*t, source, "load_onnx: node '" + node.proto().name() + "'")));
  } else if (node.has_attribute("value_float")) {
    node.set_output(0, OnnxValue::of(Tensor::scalar(node.real("value_float", 0))));
  } else if (node.has_attribute("value_int")) {
    node.set_output(0, OnnxValue::of(Tensor::scalar(static_cast<double>(node.integer("value_int", 0)), DType::i64)));
  } else if (node.has_attribute("value_ints")) {
    const Dims values = node.integers("value_ints", {});
    node.set_output(0, OnnxValue::of(Tensor::from(values, Shape{static_cast<int64_t>(values.size())})));
  } else {
    node.fail("only value, value_float, value_int and value_ints are supported");
  }
}

// Shape: of a graph tensor, its first entry is the batch size; start and end (opset 15)
// pick a range of axes.
void shape(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  Dims dims;
  std::vector<int64_t> batch;
  if (x.is_constant()) {
    dims = x.constant.shape().dims();
    batch.assign(dims.size(), 0);
  } else {  // the batch size (times the merged steps) where ONNX has the batch axis
    dims = x.dims;
    dims.insert(dims.begin() + x.batch_axis, 1);
    batch.assign(dims.size(), 0);
    batch[static_cast<size_t>(x.batch_axis)] = std::max<int64_t>(1, x.merged_steps);
  }
  const int64_t rank = static_cast<int64_t>(dims.size());
  auto clamp = [&](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  const int64_t start = clamp(node.integer("start", 0)), end = std::max(start, clamp(node.integer("end", rank)));
  const Dims picked(dims.begin() + start, dims.begin() + end);
  node.set_output(0, OnnxValue::of(Tensor::from(picked, Shape{end - start}),
                                   std::vector<int64_t>(batch.begin() + start, batch.begin() + end)));
}

void gather(OnnxNode& node) {
  const OnnxValue& data = node.value(0);
  const Tensor& indices = known(node, 1);
  const int64_t axis = resolve_axis(node, node.integer("axis", 0), data.constant.rank());
  const int64_t size = data.constant.dim(axis);
  Dims picks = integer_values(indices);
  for (int64_t& i : picks) {
    if (i < -size || i >= size) node.fail("index ", i, " is out of range for an axis of ", size);
    if (i < 0) i += size;
  }
  Tensor picked = kernels::index_select(data.constant, axis, picks);
  Dims dims = data.constant.shape().dims();
  dims.erase(dims.begin() + axis);
  dims.insert(dims.begin() + axis, indices.shape().dims().begin(), indices.shape().dims().end());
  std::vector<int64_t> batch;  // follows the picked entries of a 1-D shape
  if (!data.batch_entries.empty())
    for (int64_t i : picks) batch.push_back(data.batch_entries[static_cast<size_t>(i)]);
  node.set_output(0, OnnxValue::of(picked.reshape(dims), batch));
}

// Only the shape changes: Unsqueeze, Squeeze, Reshape, Flatten of constants.
void reshaped(OnnxNode& node, const Dims& dims) {
  const OnnxValue& x = node.value(0);
  node.set_output(0, OnnxValue::of(x.constant.reshape(dims), x.batch_entries));
}

void reshape(OnnxNode& node) {
  const Dims in = node.value(0).constant.shape().dims();
  Dims target = integer_values(known(node, 1));
  for (size_t i = 0; i < target.size(); ++i)
    if (target[i] == 0 && node.integer("allowzero", 0) == 0) {
      if (i >= in.size()) node.fail("target entry ", i, " is 0 but the input has no axis ", i);
      target[i] = in[i];
    }
  reshaped(node, target);
}

void flatten(OnnxNode& node) {
  const Dims in = node.value(0).constant.shape().dims();
  const int64_t rank = static_cast<int64_t>(in.size());
  const int64_t axis = node.integer("axis", 1) == rank ? rank : resolve_axis(node, node.integer("axis", 1), rank);
  const auto multiply = [](auto begin, auto end) {
    return std::accumulate(begin, end, int64_t{1}, std::multiplies<>());
  };
  reshaped(node, {multiply(in.begin(), in.begin() + axis), multiply(in.begin() + axis, in.end())});
}

void concat(OnnxNode& node) {
  std::vector<Tensor> parts;
  std::vector<int64_t> batch;
  for (size_t k = 0; k < node.input_count(); ++k) {
    const OnnxValue& v = node.value(k);
    const Tensor& part = node.constant(k);
    if (part.dtype() != node.constant(0).dtype()) node.fail("inputs of different element types");
    parts.push_back(part);
    for (int64_t i = 0; i < part.numel(); ++i)
      batch.push_back(v.batch_entries.empty() ? 0 : v.batch_entries[static_cast<size_t>(i)]);
  }
  const int64_t axis = resolve_axis(node, node.integer("axis", 0), parts[0].rank());
  if (parts[0].rank() != 1) batch.clear();  // batch entries are tracked for 1-D shapes only
  node.set_output(0, OnnxValue::of(kernels::concat(parts, axis), batch));
}

void cast(OnnxNode& node) {
  const int64_t to = node.integer("to", 0);
  DType dtype;
  switch (to) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::DOUBLE:
      dtype = DType::f32;
      break;
    case onnx::TensorProto::INT64:
      dtype = DType::i64;
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL:
      dtype = DType::i32;
      break;
    default:
      node.fail("casting to ", onnx_type_name(static_cast<int32_t>(to)), " is not supported");
  }
  node.set_output(0, OnnxValue::of(node.constant(0).to(dtype), node.value(0).batch_entries));
}

void identity(OnnxNode& node) {
  node.only_first_output();
  node.set_output(0, node.value(0));
}

// Elementwise arithmetic on constants, broadcast as NumPy.
template <class Op>
void arithmetic(OnnxNode& node, Op op) {
  node.set_output(0, OnnxValue::of(op(known(node, 0), known(node, 1))));
}

// Mul: also the batch size by a known positive integer (torch's b * t of a reshape to
// (b * t, ...), TimeDistributed's form): the batch entries scaled.
void multiply(OnnxNode& node) {
  const auto product = [](const Tensor& a, const Tensor& b) { return a * b; };
  const size_t batch = node.value(0).depends_on_batch() ? 0 : 1;
  if (!node.value(batch).depends_on_batch()) return arithmetic(node, product);
  const Tensor& factor = known(node, 1 - batch);
  const std::vector<int64_t> factors = integer_values(factor);
  const Tensor& shape = node.constant(batch);
  if (factor.numel() != 1 || factor.rank() > shape.rank() || factor.dtype() == DType::f32 || factors[0] <= 0)
    node.fail("axon multiplies the batch size by one positive integer only");
  std::vector<int64_t> entries = node.value(batch).batch_entries;
  for (int64_t& k : entries) k = checked_mul(k, factors[0], "load_onnx: the batch size times ", factors[0]);
  node.set_output(0, OnnxValue::of(product(shape, factor), std::move(entries)));
}

// Slice of a constant: starts, ends, axes, steps as inputs (opset 10) or attributes.
void slice(OnnxNode& node) {
  const Tensor& data = node.constant(0);
  const bool from_inputs = node.opset() >= 10;
  const Dims starts = from_inputs ? integer_values(known(node, 1)) : node.integers("starts", {});
  const Dims ends = from_inputs ? integer_values(known(node, 2)) : node.integers("ends", {});
  Dims axes(starts.size());
  std::iota(axes.begin(), axes.end(), 0);
  if (from_inputs && node.has(3)) axes = integer_values(known(node, 3));
  if (!from_inputs && node.has_attribute("axes")) axes = node.integers("axes", {});
  if (from_inputs && node.has(4))
    for (int64_t step : integer_values(known(node, 4)))
      if (step != 1) node.fail("steps other than 1 are not supported");
  if (ends.size() != starts.size() || axes.size() != starts.size()) node.fail("starts, ends and axes differ in length");
  Tensor y = data;
  std::vector<int64_t> batch = node.value(0).batch_entries;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = resolve_axis(node, axes[i], data.rank()), size = data.dim(axis);
    auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + size : v, int64_t{0}, size); };
    const int64_t begin = clamp(starts[i]), end = std::max(begin, clamp(ends[i]));
    y = kernels::slice(y, axis, begin, end);
    if (!batch.empty() && data.rank() == 1) batch = std::vector<int64_t>(batch.begin() + begin, batch.begin() + end);
  }
  node.set_output(0, OnnxValue::of(y, batch));
}

}  // namespace

const std::map<std::string, OnnxOperator>& onnx_folding_operators() {
  static const std::map<std::string, OnnxOperator> operators = {
      {"Constant", constant},
      {"ConstantOfShape", constant_of_shape},
      {"Transpose", transpose_constant},
      {"Shape", shape},
      {"Gather", gather},
      {"Unsqueeze", [](OnnxNode& n) { reshaped(n, unsqueezed_shape(n, n.value(0).constant.shape().dims(), false)); }},
      {"Squeeze", [](OnnxNode& n) { reshaped(n, squeezed_shape(n, n.value(0).constant.shape().dims(), false)); }},
      {"Reshape", reshape},
      {"Flatten", flatten},
      {"Concat", concat},
      {"Cast", cast},
      {"Identity", identity},
      {"Slice", slice},
      {"Add", [](OnnxNode& n) { arithmetic(n, [](const Tensor& a, const Tensor& b) { return a + b; }); }},
      {"Sub", [](OnnxNode& n) { arithmetic(n, [](const Tensor& a, const Tensor& b) { return a - b; }); }},
      {"Mul", multiply},
      {"Div", [](OnnxNode& n) { arithmetic(n, [](const Tensor& a, const Tensor& b) { return a / b; }); }},
  };
  return operators;
}

}  // namespace axon::detail
