#pragma once
// Model files: a safetensors file holding every parameter by its path
// ("layers.0.kernel", ...) and, in "__metadata__", "axon.format_version" and
// "axon.model" (the JSON model spec, see model_spec.h). Any safetensors reader can load
// the weights. Every model whose layers are registered can be saved this way:
// Sequential, Functional, and subclassed models registered with AXON_REGISTER.
#include <memory>
#include <string>

#include "axon/model.h"
#include "axon/model_spec.h"
#include "axon/safetensors.h"

namespace axon {

void save_model(const Model& model, const std::string& path);  // written atomically
// Fails with a clear message for a file that names an unregistered type, and before
// building a model whose weights would take more memory than the file could fill.
// A path ending in ".onnx" is read by load_onnx (onnx.h) as a functional model, so the
// CLI, the server and Python take ONNX files wherever they take model files.
struct ModelFileLimits {
  SafetensorsLimits file;  // the file and each tensor
  SpecLimits spec;         // the axon.model spec inside it
};
std::shared_ptr<Model> load_model(const std::string& path, const ModelFileLimits& limits = {});

// Weights only, for any Model (one that cannot be described, too).
void save_weights(const Model& model, const std::string& path);
void load_weights(Model& model, const std::string& path);  // names and shapes must match

}  // namespace axon
