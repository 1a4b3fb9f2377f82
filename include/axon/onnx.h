#pragma once
// ONNX both ways.
//
// Export: a Sequential or functional model (nested ones too) as an ONNX file of
// standard operators, with a dynamic batch axis and the model's input and output names;
// weights become initializers named by their paths. The file is checked by ONNX's own
// checker and shape inference before it is written (atomically). A layer without an
// ONNX form (a quantized layer, a model whose call() is code) fails naming it, and the
// file is not written.
//
// Import: load_onnx reads an ONNX file (from axon, torch.onnx.export, ...) as a
// functional model of axon's own layers, for inference and for fit(): Gemm and
// MatMul(+Add) become Dense, Conv Conv1D/Conv2D, BatchNormalization, the pools, the
// activations and the merges their axon layers; initializers become the layers'
// weights; Constant and the Shape/Gather/Unsqueeze/Concat chains that compute static
// shapes are folded while loading. The first axis of every input is the batch axis;
// the others must have fixed sizes. An unsupported operator fails with the list of
// every unsupported operator in the file. The file is read as a hostile one: its size,
// every tensor's dimensions, element count and data length, external data paths (the
// model's folder only) and the graph (no cycle, no undefined or twice-defined tensor)
// are checked before anything large is allocated.
//   std::shared_ptr<Functional> model = load_onnx("resnet.onnx");
//   Tensor y = model->predict(x);
#include <memory>
#include <string>
#include <vector>

#include "axon/functional.h"
#include "axon/model.h"

namespace axon {

constexpr int64_t kOnnxDefaultOpset = 13;

// opset: 13 to 17 (what the ONNX library this build uses checks).
void save_onnx(Model& model, const std::string& path, int64_t opset = kOnnxDefaultOpset);

struct OnnxLimits {
  uint64_t max_file_bytes = uint64_t{1} << 30;     // 1 GiB; larger models keep their weights as external data
  int64_t max_tensor_elements = int64_t{1} << 30;  // any one initializer, constant or input example
  int64_t max_nodes = 1 << 20;
  // What building the layers and running each once on a zero example may allocate,
  // beyond twice the weights the file holds: a tiny file cannot make the loader take
  // gigabytes (an input declared as (batch, 2^30) fails here).
  int64_t max_build_bytes = int64_t{1} << 30;
};

std::shared_ptr<Functional> load_onnx(const std::string& path, const OnnxLimits& limits = {});
// The same from the file's bytes (no external data: there is no folder to read it from).
std::shared_ptr<Functional> load_onnx_bytes(const std::string& bytes, const OnnxLimits& limits = {});

// The operators load_onnx computes, and those it folds when their inputs are constants.
std::vector<std::string> onnx_supported_operators();
std::vector<std::string> onnx_folded_operators();

}  // namespace axon
