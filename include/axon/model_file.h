#pragma once
// Model files: a safetensors file holding every parameter by its path
// ("layers.0.kernel", ...) and, in "__metadata__", "axon.format_version" and
// "axon.model" (the JSON model spec). Any safetensors reader can load the weights.
#include <memory>
#include <string>

#include "axon/sequential.h"

namespace axon {

void save_model(const Sequential& model, const std::string& path);  // written atomically
std::unique_ptr<Sequential> load_model(const std::string& path);

// Weights only, for any Model (a subclassed model cannot be rebuilt from a spec).
void save_weights(const Model& model, const std::string& path);
void load_weights(Model& model, const std::string& path);  // names and shapes must match

}  // namespace axon
