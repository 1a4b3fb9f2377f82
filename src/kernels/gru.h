#pragma once
// The GRU recurrence over a whole sequence, fused, in Keras's reset_after form (PyTorch's
// too; formulas in include/axon/recurrent.h): per step one GEMM with the recurrent
// kernel and one pass over the gates; backward runs the steps in reverse with one GEMM
// each for the state's gradient, and sums the recurrent kernel's gradient over every
// step in one GEMM.
//   projected (B, T, 3U): every step's x W + b_in, gates z, r, h; recurrent (U, 3U);
//   recurrent_bias (3U) or undefined; h0 (B, U).
//   states (B, T, U): h of each step in the order the steps run (from T-1 down to 0 with
//   reverse); gates (B, T, 4U): z, r, the candidate, and h U + b for the candidate's
//   block, kept for backward.
//   mask (B, T) float32 0/1 by input step, or undefined: a step marked 0 keeps h.
//   dropped (B, U) or undefined: recurrent dropout's mask on h where it meets U.
#include "axon/tensor.h"

namespace axon::kernels {

struct GruGradients {
  Tensor projected, recurrent, recurrent_bias, h0;
};

Tensor gru_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0,
                   bool reverse, Tensor& gates, const Tensor& mask = {}, const Tensor& dropped = {});
GruGradients gru_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                          const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0, bool reverse,
                          const Tensor& mask = {}, const Tensor& dropped = {});

// The references: the same with the naive GEMM, for tests.
Tensor gru_forward_naive(const Tensor& projected, const Tensor& recurrent, const Tensor& recurrent_bias,
                         const Tensor& h0, bool reverse, Tensor& gates, const Tensor& mask = {},
                         const Tensor& dropped = {});
GruGradients gru_backward_naive(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                                const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0, bool reverse,
                                const Tensor& mask = {}, const Tensor& dropped = {});

}  // namespace axon::kernels
