#pragma once
// The LSTM recurrence over a whole sequence, fused (gates and formulas in
// include/axon/recurrent.h): per step one GEMM with the recurrent kernel and one pass
// over the gates; backward runs the steps in reverse with one GEMM each for the state's
// gradient, and sums the recurrent kernel's gradient over every step in one GEMM.
//   projected (B, T, 4U): every step's x W + b; recurrent (U, 4U); h0, c0 (B, U).
//   states (B, T, 2U): [h, c] of each step in the order the steps run (from T-1 down
//   to 0 with reverse); gates (B, T, 5U): i, f, g, o after their activations and
//   tanh(c), kept for backward.
//   mask (B, T), float32 0/1 by input step, or undefined: a step marked 0 is padding, where
//   h and c carry over unchanged (Keras's masking).
//   dropped (B, U) or undefined: recurrent dropout's mask (0 or 1 / (1 - rate)),
//   multiplying h where it meets the recurrent kernel (h U), the same at every step.
#include "axon/tensor.h"

namespace axon::kernels {

struct LstmGradients {
  Tensor projected, recurrent, h0, c0;
};

Tensor lstm_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                    Tensor& gates, const Tensor& mask = {}, const Tensor& dropped = {});
LstmGradients lstm_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                            const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                            const Tensor& mask = {}, const Tensor& dropped = {});

// The references: the same with the naive GEMM, for tests.
Tensor lstm_forward_naive(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0,
                          bool reverse, Tensor& gates, const Tensor& mask = {}, const Tensor& dropped = {});
LstmGradients lstm_backward_naive(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                                  const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                                  const Tensor& mask = {}, const Tensor& dropped = {});

}  // namespace axon::kernels
