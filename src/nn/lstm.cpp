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

// states: h (batch, units), c (batch, units).
std::vector<Variable> LSTM::step(const Variable& x_t, const std::vector<Variable>& states) {
  const Variable z = x_t + matmul(states[0], recurrent_kernel_);  // (batch, 4 units)
  const auto gate = [&](int64_t k) { return slice(z, 1, k * units_, (k + 1) * units_); };
  const Variable c = sigmoid(gate(1)) * states[1] + sigmoid(gate(0)) * tanh(gate(2));
  return {sigmoid(gate(3)) * tanh(c), c};
}

}  // namespace axon
