// LSTM: the step of recurrent.h's formula, gates i, f, c, o.
#include "axon/ops.h"
#include "axon/recurrent.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "lstm", LSTM);

std::shared_ptr<LSTM> LSTM::from_config(const ConfigReader& c) {
  return std::make_shared<LSTM>(c.integer("units", 1), read_recurrent_options(c), WeightOptions::read(c));
}

// Keras's unit_forget_bias: the forget gate starts open.
void LSTM::initialize_bias(Tensor& bias) const {
  float* b = bias.data<float>();
  for (int64_t j = units_; j < 2 * units_; ++j) b[j] += 1.0f;
}

// Every step at once: lstm_sequence gives [h, c] of each step (batch, time, 2 units).
std::vector<Variable> LSTM::forward_many(const std::vector<Variable>& inputs) {
  const Start s = start(inputs);
  const int64_t batch = s.projected.dim(0), time = s.projected.dim(1);
  const Variable hc = lstm_sequence(s.projected, recurrent_kernel_, s.states[0], s.states[1],
                                    recurrent_options_.go_backwards, inputs[0].mask(), recurrent_dropout_mask());
  const Variable last = reshape(slice(hc, 1, time - 1, time), {batch, 2 * units_});
  return outputs(recurrent_options_.return_sequences ? slice(hc, 2, 0, units_) : Variable(),
                 {slice(last, 1, 0, units_), slice(last, 1, units_, 2 * units_)}, inputs[0].mask());
}

// The same one step at a time (tests hold the two equal): states h, c (batch, units).
std::vector<Variable> LSTM::step(const Variable& x_t, const std::vector<Variable>& states) {
  const Variable z = x_t + matmul(recurrent_input(states[0]), recurrent_kernel_);  // (batch, 4 units)
  const auto gate = [&](int64_t k) { return slice(z, 1, k * units_, (k + 1) * units_); };
  const Variable c = sigmoid(gate(1)) * states[1] + sigmoid(gate(0)) * tanh(gate(2));
  return {sigmoid(gate(3)) * tanh(c), c};
}

}  // namespace axon
