#pragma once
// An ONNX TensorProto (an initializer, a Constant's value, a test's input_0.pb) as an
// axon Tensor, read as a hostile file is read: every dimension >= 0, the element count
// overflow-checked and under the limit, and the data the proto holds (raw_data, the
// typed fields, or an external file beside the model) exactly as long as the shape
// needs, all before the tensor is allocated. FLOAT, DOUBLE, INT32, INT64 and BOOL
// (as int32) are read; DOUBLE becomes float32, the type axon's layers compute in.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

#include "axon/tensor.h"

namespace axon::detail {

struct OnnxTensorSource {
  std::string folder;  // the model's folder, which external data must stay in; empty: none allowed
  int64_t max_elements = int64_t{1} << 30;
};

// `what` names the tensor in errors ("load_onnx: initializer 'fc.weight'").
Tensor tensor_from_onnx(const onnx::TensorProto& proto, const OnnxTensorSource& source, const std::string& what);

// The name ONNX gives an element type ("FLOAT", "STRING"), for errors.
std::string onnx_type_name(int32_t data_type);

}  // namespace axon::detail
