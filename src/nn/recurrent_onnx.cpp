#include "nn/recurrent_onnx.h"

#include "axon/bidirectional.h"

namespace axon {

namespace detail {

namespace {

const char* onnx_operator(const Recurrent& layer) {
  if (dynamic_cast<const LSTM*>(&layer)) return "LSTM";
  if (dynamic_cast<const GRU*>(&layer)) return "GRU";
  return "RNN";
}

// ONNX's gate g holds Keras's gate order[g]: an LSTM's i,o,f,c are Keras's 0,3,1,2.
std::vector<int64_t> keras_gates(const Recurrent& layer, int64_t gates) {
  if (dynamic_cast<const LSTM*>(&layer)) return {0, 3, 1, 2};
  std::vector<int64_t> order(static_cast<size_t>(gates));
  for (int64_t g = 0; g < gates; ++g) order[static_cast<size_t>(g)] = g;
  return order;
}

// Appends kernel (in, G*U) transposed to ONNX's (G*U, in), its gates reordered.
void append_transposed(std::vector<float>& out, const Tensor& kernel, const std::vector<int64_t>& order, int64_t units) {
  const int64_t in = kernel.dim(0), columns = kernel.dim(1);
  const std::vector<double> k = kernel.to_vector();
  for (int64_t gate : order)
    for (int64_t u = 0; u < units; ++u)
      for (int64_t i = 0; i < in; ++i)
        out.push_back(static_cast<float>(k[static_cast<size_t>(i * columns + gate * units + u)]));
}

// Appends [input bias, recurrent bias] (2 * G*U), gates reordered; zeros where the layer has none.
void append_biases(std::vector<float>& out, const Recurrent& layer, const std::vector<int64_t>& order, int64_t units) {
  const int64_t width = static_cast<int64_t>(order.size()) * units;
  std::vector<double> bias(static_cast<size_t>(2 * width), 0.0);
  if (layer.bias().defined()) {
    const std::vector<double> b = layer.bias().value().to_vector();  // (G*U), or a GRU's (2, G*U)
    std::copy(b.begin(), b.end(), bias.begin());
  }
  for (int64_t half = 0; half < 2; ++half)
    for (int64_t gate : order)
      for (int64_t u = 0; u < units; ++u)
        out.push_back(static_cast<float>(bias[static_cast<size_t>(half * width + gate * units + u)]));
}

}  // namespace

OnnxRecurrence export_recurrence(OnnxGraph& graph, const std::vector<const Recurrent*>& directions,
                                 const std::string& x, const std::vector<std::string>& initial_states,
                                 const std::string& direction) {
  const Recurrent& first = *directions.at(0);
  const int64_t units = first.units(), features = first.kernel().dim(0);
  const int64_t gate_width = first.kernel().dim(1), gates = gate_width / units;
  const auto D = static_cast<int64_t>(directions.size());
  std::vector<float> w, r, b;
  for (const Recurrent* layer : directions) {
    const std::vector<int64_t> order = keras_gates(*layer, gates);
    append_transposed(w, layer->kernel().value(), order, units);
    append_transposed(r, layer->recurrent_kernel().value(), order, units);
    append_biases(b, *layer, order, units);
  }
  const std::string prefix = first.name();
  std::vector<std::string> inputs = {graph.op("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}}),
                                     graph.constant(prefix + "_W", Tensor::from(w, Shape{D, gate_width, features})),
                                     graph.constant(prefix + "_R", Tensor::from(r, Shape{D, gate_width, units})),
                                     graph.constant(prefix + "_B", Tensor::from(b, Shape{D, 2 * gate_width})),
                                     ""};  // sequence_lens: every sequence is whole
  for (const std::string& state : initial_states)  // (B, U) -> (1, B, U)
    inputs.push_back(graph.op("Reshape", {state, graph.integers("shape", {1, -1, units})}));
  std::vector<OnnxGraph::Attribute> attributes = {{"hidden_size", units}, {"direction", direction}};
  const std::string op = onnx_operator(first);
  if (const auto* gru = dynamic_cast<const GRU*>(&first)) attributes.push_back({"linear_before_reset", int64_t{gru->reset_after()}});
  const std::vector<std::string> out = graph.node(op, inputs, attributes, op == "LSTM" ? 3 : 2);
  return {out[0], out[1], op == "LSTM" ? out[2] : ""};
}

// Reshapes, not Squeeze, drop the direction axis: OpenCV 4.6 reads Squeeze only in its
// form before opset 13.
std::vector<std::string> onnx_states_per_direction(OnnxGraph& graph, const std::string& states, int64_t directions,
                                                   int64_t units) {
  std::vector<std::string> each = {states};
  if (directions > 1) each = graph.node("Split", {states}, {{"axis", int64_t{0}}}, static_cast<size_t>(directions));
  for (std::string& s : each) s = graph.op("Reshape", {s, graph.integers("shape", {-1, units})});
  return each;
}

}  // namespace detail

// One ONNX node. go_backwards is Keras's: the steps read from the last, the outputs in
// the order they ran, which is a forward node on the sequence reversed (a Slice with
// step -1; ONNX's "reverse" direction would give them in time order). Outputs: Y (T, 1,
// B, U) -> (B, T, U), or Y_h (1, B, U) -> (B, U); then the final states with return_state.
std::vector<std::string> Recurrent::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                const std::vector<Shape>& shapes) const {
  const int64_t steps = shapes[0][0];
  std::string x = inputs[0];
  if (recurrent_options_.go_backwards)  // steps T-1 .. 0 (an end of -T-1 clamps to before the first)
    x = graph.op("Slice", {x, graph.integers("starts", {-1}), graph.integers("ends", {-steps - 1}),
                           graph.integers("axes", {1}), graph.integers("steps", {-1})});
  const std::vector<std::string> states(inputs.begin() + 1, inputs.end());
  const detail::OnnxRecurrence r = detail::export_recurrence(graph, {this}, x, states, "forward");
  const bool sequences = recurrent_options_.return_sequences;
  const std::string h = !sequences || recurrent_options_.return_state  // Y_h as (B, U), once, where used
                            ? detail::onnx_states_per_direction(graph, r.final_h, 1, units_)[0]
                            : "";
  std::vector<std::string> outputs;
  if (sequences) {
    const std::string y = graph.op("Reshape", {r.sequence, graph.integers("shape", {steps, -1, units_})});  // (T, B, U)
    outputs.push_back(graph.op("Transpose", {y}, {{"perm", std::vector<int64_t>{1, 0, 2}}}));
  } else {
    outputs.push_back(h);
  }
  if (recurrent_options_.return_state) {
    outputs.push_back(h);
    if (!r.final_c.empty()) outputs.push_back(detail::onnx_states_per_direction(graph, r.final_c, 1, units_)[0]);
  }
  return outputs;
}

// One bidirectional node; ONNX's reverse direction, like Keras's backward layer here,
// gives its outputs in time order. The merge: concat joins (T, 2, B, U) as (B, T, 2U)
// (and Y_h (2, B, U) as (B, 2U)); sum, mul and ave combine the two directions' halves.
std::vector<std::string> Bidirectional::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                    const std::vector<Shape>& shapes) const {
  if (inputs.size() > 1) fail("save_onnx: the layer '", name(), "' (Bidirectional) with initial states has no ONNX form");
  if (forward_->recurrent_options().go_backwards)
    fail("save_onnx: the layer '", name(), "' (Bidirectional) of a go_backwards layer has no ONNX form");
  const detail::OnnxRecurrence r =
      detail::export_recurrence(graph, {forward_.get(), backward_.get()}, inputs[0], {}, "bidirectional");
  const bool sequences = forward_->recurrent_options().return_sequences;
  const int64_t steps = shapes[0][0], units = forward_->units();
  std::vector<std::string> h;  // Y_h per direction, (B, U) each: made once, where needed
  auto final_h = [&] {
    if (h.empty()) h = detail::onnx_states_per_direction(graph, r.final_h, 2, units);
    return h;
  };
  std::string merged;
  if (merge_mode_ == "concat") {
    if (sequences) {
      const std::string batch_first =  // (B, T, 2, U)
          graph.op("Transpose", {r.sequence}, {{"perm", std::vector<int64_t>{2, 0, 1, 3}}});
      merged = graph.op("Reshape", {batch_first, graph.integers("shape", {-1, steps, 2 * units})});
    } else {
      const std::string batch_first = graph.op("Transpose", {r.final_h}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
      merged = graph.op("Reshape", {batch_first, graph.integers("shape", {-1, 2 * units})});
    }
  } else {
    std::vector<std::string> halves;
    if (sequences) {  // (T, 2, B, U) -> two (B, T, U)
      for (const std::string& half : graph.node("Split", {r.sequence}, {{"axis", int64_t{1}}}, 2))
        halves.push_back(graph.op("Transpose", {graph.op("Reshape", {half, graph.integers("shape", {steps, -1, units})})},
                                  {{"perm", std::vector<int64_t>{1, 0, 2}}}));
    } else {
      halves = final_h();
    }
    merged = graph.op(merge_mode_ == "mul" ? "Mul" : "Add", halves);
    if (merge_mode_ == "ave") merged = graph.op("Mul", {merged, graph.constant("half", Tensor::scalar(0.5))});
  }
  std::vector<std::string> outputs = {merged};
  if (forward_->recurrent_options().return_state) {  // the forward layer's states, then the backward one's
    final_h();
    std::vector<std::string> c;
    if (!r.final_c.empty()) c = detail::onnx_states_per_direction(graph, r.final_c, 2, units);
    for (size_t d = 0; d < 2; ++d) {
      outputs.push_back(h[d]);
      if (!c.empty()) outputs.push_back(c[d]);
    }
  }
  return outputs;
}

}  // namespace axon
