#pragma once
// The ONNX form of axon's recurrent layers (Recurrent::export_onnx and
// Bidirectional::export_onnx): one ONNX LSTM, GRU or RNN node for one or two
// directions, its weights in ONNX's layout.
//   Keras kernel (F, G*U), gates LSTM i,f,c,o / GRU z,r,h  ->  ONNX W (D, G*U, F),
//   gates LSTM i,o,f,c / GRU z,r,h; recurrent_kernel likewise -> R (D, G*U, U); the bias
//   -> B (D, 2*G*U) = [input bias, recurrent bias] (the GRU's second row with
//   reset_after, which is ONNX's linear_before_reset; zeros otherwise).
// The node reads the sequence time-major (T, B, F), so x is transposed first.
#include <string>
#include <vector>

#include "axon/onnx_graph.h"
#include "axon/recurrent.h"

namespace axon::detail {

// The node's outputs: Y (T, D, B, U), Y_h (D, B, U), and for an LSTM Y_c (D, B, U).
struct OnnxRecurrence {
  std::string sequence, final_h, final_c;
};

// directions: the forward layer, then the backward one for "bidirectional";
// initial_states: (B, U) each (h, then c), or none for zeros.
OnnxRecurrence export_recurrence(OnnxGraph& graph, const std::vector<const Recurrent*>& directions,
                                 const std::string& x, const std::vector<std::string>& initial_states,
                                 const std::string& direction);

// (D, B, U) -> one (B, U) per direction.
std::vector<std::string> onnx_states_per_direction(OnnxGraph& graph, const std::string& states, int64_t directions,
                                                   int64_t units);

}  // namespace axon::detail
