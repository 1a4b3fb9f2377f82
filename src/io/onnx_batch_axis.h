#pragma once
// Where ONNX keeps the batch axis (onnx_batch_axis.cpp). axon's layers keep it first;
// ONNX's recurrent nodes, and the Transposes exporters wrap them in, put it elsewhere.
// A value keeps its graph tensor batch-first and records the ONNX axis of its batch
// (OnnxValue::batch_axis); these operators move it, every other one needs it first.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "io/onnx_node.h"

namespace axon::detail {

// The batch axis in an ONNX shape (its size is known at run time only).
constexpr int64_t kOnnxBatch = -7;

// A value's ONNX shape, kOnnxBatch at its batch axis.
std::vector<int64_t> onnx_shape(const OnnxValue& value);
// Output 0: input 0's graph tensor with the ONNX shape `shape` (kOnnxBatch once).
void set_onnx_shape(OnnxNode& node, const std::vector<int64_t>& shape);
// Reshape of a value whose batch axis is not first, or that moves it: the axes before it
// and those after it reshaped each among themselves (0 copies an axis, -1 is inferred).
void reshape_around_batch(OnnxNode& node, const std::vector<int64_t>& target, bool allow_zero);

// Transpose moving the batch axis only; Gather of one entry, Slice and Split of graph
// tensors along other axes (Slice layers); a Slice reversing the steps before a
// recurrent node (OnnxValue::steps_reversed).
void transpose(OnnxNode& node);
void gather_single(OnnxNode& node);
void slice_layer(OnnxNode& node);
void split_layer(OnnxNode& node);

// The operators that read values whose batch axis is not first.
const std::set<std::string>& onnx_batch_axis_operators();

}  // namespace axon::detail
