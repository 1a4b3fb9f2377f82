// GRU: the step of recurrent.h's formulas, gates z, r, h, in both of Keras's forms.
#include "axon/ops.h"
#include "axon/recurrent.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "gru", GRU);

Config GRU::config() const {
  Config c = recurrent_config();
  c.set("reset_after", reset_after_);
  options_.write(c);
  return c;
}

std::shared_ptr<GRU> GRU::from_config(const ConfigReader& c) {
  return std::make_shared<GRU>(c.integer("units", 1), read_recurrent_options(c), c.boolean_or("reset_after", true),
                               WeightOptions::read(c));
}

Shape GRU::bias_shape() const { return reset_after_ ? Shape{2, 3 * units_} : Shape{3 * units_}; }

// With reset_after the bias's first row is the input's, the second the recurrent one's.
Variable GRU::input_bias() const {
  if (!bias_.defined() || !reset_after_) return bias_;
  return reshape(slice(bias_, 0, 0, 1), {3 * units_});
}

// With reset_after the bias's second row, the recurrent one's (3 units); else undefined.
Variable GRU::recurrent_bias() const {
  if (!bias_.defined() || !reset_after_) return Variable();
  return reshape(slice(bias_, 0, 1, 2), {3 * units_});
}

// reset_after (the default): every step as one fused op (gru_sequence); the other form
// runs step by step.
std::vector<Variable> GRU::forward_many(const std::vector<Variable>& inputs) {
  if (!reset_after_) return Recurrent::forward_many(inputs);
  const Start s = start(inputs);
  const int64_t batch = s.projected.dim(0), time = s.projected.dim(1);
  const Variable h = gru_sequence(s.projected, recurrent_kernel_, recurrent_bias(), s.states[0],
                                  recurrent_options_.go_backwards, inputs[0].mask(), recurrent_dropout_mask());
  return outputs(recurrent_options_.return_sequences ? h : Variable(),
                 {reshape(slice(h, 1, time - 1, time), {batch, units_})}, inputs[0].mask());
}

// One step through the autograd ops (the reference the fused op is held to, and the form
// without reset_after).
std::vector<Variable> GRU::step(const Variable& x_t, const std::vector<Variable>& states) {
  const Variable& h = states[0];
  const Variable h_in = recurrent_input(h);  // with recurrent dropout's mask, where h meets U
  const auto part = [&](const Variable& v, int64_t k) { return slice(v, 1, k * units_, (k + 1) * units_); };
  Variable candidate;
  Variable recurrent;  // h U for the z and r gates (and, with reset_after, the candidate's)
  if (reset_after_) {
    recurrent = matmul(h_in, recurrent_kernel_);
    if (bias_.defined()) recurrent = recurrent + recurrent_bias();
  } else {
    recurrent = matmul(h_in, slice(recurrent_kernel_, 1, 0, 2 * units_));
  }
  const Variable z = sigmoid(part(x_t, 0) + part(recurrent, 0));
  const Variable r = sigmoid(part(x_t, 1) + part(recurrent, 1));
  if (reset_after_)
    candidate = tanh(part(x_t, 2) + r * part(recurrent, 2));
  else
    candidate = tanh(part(x_t, 2) + matmul(r * h_in, slice(recurrent_kernel_, 1, 2 * units_, 3 * units_)));
  return {candidate + z * (h - candidate)};  // z h + (1 - z) candidate
}

}  // namespace axon
