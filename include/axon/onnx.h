#pragma once
// ONNX export: a Sequential or functional model (nested ones too) as an ONNX file of
// standard operators, with a dynamic batch axis and the model's input and output names;
// weights become initializers named by their paths. The file is checked by ONNX's own
// checker and shape inference before it is written (atomically). A layer without an
// ONNX form (a quantized layer, a model whose call() is code) fails naming it, and the
// file is not written.
#include <string>

#include "axon/model.h"

namespace axon {

constexpr int64_t kOnnxDefaultOpset = 13;

// opset: 13 to 17 (what the ONNX library this build uses checks).
void save_onnx(Model& model, const std::string& path, int64_t opset = kOnnxDefaultOpset);

}  // namespace axon
