// ONNX's LSTM, GRU and RNN nodes as axon's recurrent layers (onnx_node.h's
// recurrent_node): ONNX's weight layout and gate order back to Keras's, initial states,
// and the node's outputs recorded where ONNX keeps their batch axis (onnx_batch_axis.h).
#include <algorithm>
#include <optional>

#include "axon/bidirectional.h"
#include "axon/merge.h"
#include "axon/recurrent.h"
#include "axon/reshape.h"
#include "io/onnx_node.h"

namespace axon::detail {

using Dims = std::vector<int64_t>;

namespace {

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

}  // namespace

// LSTM, GRU or RNN -> axon's LSTM, GRU (reset_after = linear_before_reset) or SimpleRNN,
// in a Bidirectional (concat) for direction "bidirectional". The layer returns the
// sequence only when Y is read, and its states when Y_h or Y_c need them.
void recurrent_node(OnnxNode& node, const std::string& op) {
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

}  // namespace axon::detail
