#pragma once
// Moving a model's parameters in and out of safetensors files, shared by model files
// and checkpoints.
#include <string>
#include <vector>

#include "axon/model.h"
#include "axon/safetensors.h"

namespace axon::io {

inline constexpr const char* kFormatVersion = "1";

std::vector<NamedTensor> parameters_of(const Model& model);
// Copies every parameter of `model` from `file` (names and shapes must match; tensors
// named "optimizer.*" are not parameters).
void restore_parameters(Model& model, const SafetensorsFile& file, const std::string& path);
// Throws unless `file` carries axon's format version.
void check_format_version(const SafetensorsFile& file, const std::string& path);

}  // namespace axon::io
