// The ONNX operators that only change the shape a graph tensor has, with the batch axis
// first: Flatten, Reshape (which also merges steps into the batch and splits them off
// again: OnnxValue::merged_steps), Squeeze and Unsqueeze. The forms that move the batch
// axis are in onnx_batch_axis.cpp. Shapes here leave out the batch axis
// (OnnxValue::dims); ONNX axes count it.
#include <algorithm>

#include "axon/checked_math.h"
#include "io/onnx_batch_axis.h"
#include "io/onnx_node.h"

namespace axon::detail {

namespace {

using Dims = std::vector<int64_t>;

// The layout operators only change the shape a graph tensor has: a Reshape layer is
// recorded when a consumer needs it (OnnxNode::tensor).
void set_dims(OnnxNode& node, Dims dims) {
  OnnxValue y = node.value(0);
  if (dims_product(dims) != dims_product(y.dims))
    node.fail("cannot give ", dims_text(y.dims), " the shape ", dims_text(dims), " (after the batch axis)");
  y.dims = std::move(dims);
  node.set_output(0, y);
}

void flatten(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  if (feature_axis(node, node.integer("axis", 1), node.rank(0)) != 1)
    node.fail("axis ", node.integer("axis", 1), ": axon flattens everything after the batch axis (axis 1)");
  set_dims(node, {dims_product(x.dims)});
}

// Reshape. Its first entry keeps the batch, or merges steps into it (TimeDistributed's
// form: OnnxValue::merged_steps), or splits them off again; the entries after it are
// the shape of one row of the result.
void reshape(OnnxNode& node) {
  const OnnxValue& x = node.value(0);
  const OnnxValue& target_value = node.value(1);
  if (!target_value.is_constant()) node.fail("the target shape must be known while loading");
  const Dims target = integer_values(target_value.constant);
  const bool allow_zero = node.integer("allowzero", 0) != 0;
  if (target.empty()) node.fail("a target shape of rank 0 would drop the batch axis");
  const std::vector<int64_t>& batch_entries = target_value.batch_entries;
  const bool from_shape = !batch_entries.empty() && batch_entries[0] > 0;
  for (size_t i = 1; i < batch_entries.size(); ++i)
    if (batch_entries[i] > 0) node.fail("the batch size would move away from axis 0");
  // The first entry must keep the batch: 0 (copy), the batch size from Shape, or -1.
  const bool batch_first = (target[0] == 0 && !allow_zero) || from_shape || target[0] == -1;
  if (x.batch_axis != 0 || !batch_first) {
    if (x.merged_steps > 0) node.fail("the batch axis, with steps merged into it, would move");
    return reshape_around_batch(node, target, allow_zero);  // the batch axis moves
  }
  // The values per example of the model's batch, and the steps the result's first axis
  // holds per example: those of x, those Shape saw, or (-1) inferred.
  const int64_t x_steps = std::max<int64_t>(1, x.merged_steps);
  const int64_t per_example = checked_mul(dims_product(x.dims), x_steps, "load_onnx: the shape ", dims_text(x.dims));
  int64_t steps = target[0] == -1 ? 0 : from_shape ? batch_entries[0] : x_steps;
  Dims dims;
  int64_t inferred = -1;
  for (size_t i = 1; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allow_zero) {
      if (i > x.dims.size()) node.fail("target entry ", i, " is 0 but the input has no axis ", i);
      d = x.dims[i - 1];
    }
    if (d == -1) {
      if (inferred >= 0 || steps == 0) node.fail("the target shape has more than one -1");
      inferred = static_cast<int64_t>(dims.size());
      d = 1;
    } else if (d < 0) {
      node.fail("target entry ", d, " is negative");
    }
    dims.push_back(d);
  }
  const int64_t known = dims_product(dims);
  if (steps == 0 && known > 0 && per_example % known == 0) steps = per_example / known;
  if (steps <= 0 || per_example % steps != 0 || known == 0 || (per_example / steps) % known != 0 ||
      (inferred < 0 && per_example / steps != known))
    node.fail("cannot give ", dims_text(x.dims), x.merged_steps > 0 ? " (" + std::to_string(x_steps) + " steps merged into the batch)" : "",
              " the shape ", dims_text(target), " (after the batch axis)");
  if (inferred >= 0) dims[static_cast<size_t>(inferred)] = per_example / steps / known;
  OnnxValue y = x;  // the graph tensor, (batch, steps, dims) or (batch, dims), is recorded when needed
  y.dims = std::move(dims);
  y.merged_steps = steps == 1 ? 0 : steps;
  node.set_output(0, std::move(y));
}

// Squeeze and Unsqueeze of a graph tensor: its shape with the batch axis kept first.
template <class Change>
void change_axes(OnnxNode& node, Change change) {
  if (node.value(0).batch_axis != 0) return set_onnx_shape(node, change(node, onnx_shape(node.value(0)), false));
  Dims with_batch{1};
  with_batch.insert(with_batch.end(), node.value(0).dims.begin(), node.value(0).dims.end());
  const Dims changed = change(node, with_batch, true);
  set_dims(node, Dims(changed.begin() + 1, changed.end()));
}

}  // namespace

const std::map<std::string, OnnxOperator>& onnx_layout_operators() {
  static const std::map<std::string, OnnxOperator> operators = {
      {"Flatten", flatten},
      {"Reshape", reshape},
      {"Squeeze", [](OnnxNode& n) { change_axes(n, squeezed_shape); }},
      {"Unsqueeze", [](OnnxNode& n) { change_axes(n, unsqueezed_shape); }},
  };
  return operators;
}

}  // namespace axon::detail
