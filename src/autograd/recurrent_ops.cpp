// Differentiable sequence ops: the fused LSTM and GRU recurrences (kernels/lstm.h, kernels/gru.h).
#include "axon/ops.h"
#include "kernels/gru.h"
#include "kernels/lstm.h"

namespace axon {

Variable lstm_sequence(const Variable& projected, const Variable& recurrent_kernel, const Variable& h0,
                       const Variable& c0, bool reverse, const Tensor& mask_in, const Tensor& dropped) {
  const Shape& p = projected.shape();
  if (p.rank() != 3 || p[2] % 4 != 0 || p[2] == 0)
    fail("lstm_sequence: projected must be (batch, time, 4 units), got ", p);
  const int64_t batch = p[0], units = p[2] / 4;
  if (recurrent_kernel.shape() != Shape{units, 4 * units} || h0.shape() != Shape{batch, units} ||
      c0.shape() != Shape{batch, units})
    fail("lstm_sequence: for projected ", p, " the recurrent kernel must be (", units, ", ", 4 * units,
         ") and the states (", batch, ", ", units, "); got ", recurrent_kernel.shape(), ", ", h0.shape(), " and ",
         c0.shape());
  const DType dtype = projected.value().dtype();
  for (const Variable* v : {&recurrent_kernel, &h0, &c0})
    if (v->value().dtype() != dtype) fail("lstm_sequence: every input must be of one dtype");
  const Tensor mask = mask_in.defined() && mask_in.dtype() != DType::f32 ? mask_in.to(DType::f32) : mask_in;
  Tensor gates;
  const Tensor states =
      kernels::lstm_forward(projected.value(), recurrent_kernel.value(), h0.value(), c0.value(), reverse, gates, mask,
                            dropped);
  const Tensor w = recurrent_kernel.value(), first_h = h0.value(), first_c = c0.value();
  return Variable::make(
      "lstm_sequence", states, {projected, recurrent_kernel, h0, c0},
      [states, gates, w, first_h, first_c, reverse, mask, dropped](const Tensor& g,
                                                                   const std::vector<bool>&) -> std::vector<Tensor> {
        kernels::LstmGradients d =
            kernels::lstm_backward(g, states, gates, w, first_h, first_c, reverse, mask, dropped);
        return {d.projected, d.recurrent, d.h0, d.c0};
      });
}

Variable gru_sequence(const Variable& projected, const Variable& recurrent_kernel, const Variable& recurrent_bias,
                      const Variable& h0, bool reverse, const Tensor& mask_in, const Tensor& dropped) {
  const DType dtype = projected.value().dtype();
  for (const Variable* v : {&recurrent_kernel, &recurrent_bias, &h0})
    if (v->defined() && v->value().dtype() != dtype) fail("gru_sequence: every input must be of one dtype");
  const Tensor mask = mask_in.defined() && mask_in.dtype() != DType::f32 ? mask_in.to(DType::f32) : mask_in;
  const Tensor w = recurrent_kernel.value(), b = recurrent_bias.defined() ? recurrent_bias.value() : Tensor(),
               first = h0.value();
  Tensor gates;
  const Tensor states = kernels::gru_forward(projected.value(), w, b, first, reverse, gates, mask, dropped);
  std::vector<Variable> inputs{projected, recurrent_kernel, h0};
  if (recurrent_bias.defined()) inputs.push_back(recurrent_bias);
  return Variable::make("gru_sequence", states, inputs,
                        [states, gates, w, b, first, reverse, mask, dropped](
                            const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          kernels::GruGradients d =
                              kernels::gru_backward(g, states, gates, w, b, first, reverse, mask, dropped);
                          std::vector<Tensor> grads{d.projected, d.recurrent, d.h0};
                          if (needs.size() > 3) grads.push_back(d.recurrent_bias);
                          return grads;
                        });
}

}  // namespace axon
