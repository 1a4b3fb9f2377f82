#pragma once
// Attention fusion (onnx_attention_fusion.cpp): multi-head attention written out as ONNX
// operators, by axon's export or torch.onnx.export, replaced in the graph by one node
// that load_onnx turns into a MultiHeadAttention layer.
//   kFusedAttention(query_x, value_x, query_kernel, query_bias, key_kernel, key_bias,
//                   value_kernel, value_bias, output_kernel, output_bias)
//   attributes num_heads, key_dim, causal; kernels (in, out) as axon's.
#include <onnx/onnx_pb.h>

#include "io/onnx_tensor.h"

namespace axon::detail {

inline constexpr const char* kAxonDomain = "ai.axon";
inline constexpr const char* kFusedAttention = "FusedMultiHeadAttention";

// Fuses every match in place; true when it fused any.
bool fuse_attention(onnx::GraphProto& graph, const OnnxTensorSource& source);

}  // namespace axon::detail
