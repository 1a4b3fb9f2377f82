#include "axon/model_file.h"

#include "axon/onnx.h"

#include "axon/model_spec.h"
#include "axon/version.h"
#include "model_tensors.h"
#include "tensor/allocation_limit.h"

namespace axon {

namespace io {

std::vector<NamedTensor> parameters_of(const Model& model) {
  std::vector<NamedTensor> tensors;
  for (const NamedParameter& p : model.named_parameters()) tensors.push_back({p.name, p.variable.value()});
  return tensors;
}

void restore_parameters(Model& model, const SafetensorsFile& file, const std::string& path) {
  const std::vector<NamedParameter> params = model.named_parameters();
  size_t weights_in_file = 0;
  for (const NamedTensor& t : file.tensors) weights_in_file += t.name.rfind("optimizer.", 0) != 0;
  if (weights_in_file != params.size())
    fail(path, ": holds ", weights_in_file, " weight tensors, the model has ", params.size(), " parameters");
  for (const NamedParameter& p : params) {
    const Tensor& stored = file.at(p.name);
    if (stored.shape() != p.variable.shape())
      fail(path, ": tensor '", p.name, "' has shape ", stored.shape(), ", the model expects ", p.variable.shape());
    // int8 weights come only from int8 tensors: a float converted to int8 could be out of range.
    if ((p.variable.value().dtype() == DType::i8) != (stored.dtype() == DType::i8))
      fail(path, ": tensor '", p.name, "' is ", dtype_name(stored.dtype()), ", the model expects ",
           dtype_name(p.variable.value().dtype()));
  }
  for (const NamedParameter& p : params) {
    Tensor target = p.variable.value();
    target.copy_from(file.at(p.name));
  }
  model.weights_replaced();
}

void check_format_version(const SafetensorsFile& file, const std::string& path) {
  const auto version = file.metadata.find("axon.format_version");
  if (version == file.metadata.end()) fail(path, ": not an axon file (no axon.format_version in its metadata)");
  if (version->second != kFormatVersion)
    fail(path, ": axon format version ", version->second, " is not supported (this build reads ", kFormatVersion, ")");
}

}  // namespace io

void save_model(const Model& model, const std::string& path) {
  if (!model.built()) fail("save_model: the model has no weights yet; build or fit it first");
  save_safetensors(
      path, io::parameters_of(model),
      {{"axon.format_version", io::kFormatVersion}, {"axon.version", version()}, {"axon.model", model_to_spec(model)}});
}

std::shared_ptr<Model> load_model(const std::string& path, const ModelFileLimits& limits) {
  if (path.ends_with(".onnx")) return load_onnx(path);
  const SafetensorsFile file = load_safetensors(path, limits.file);
  io::check_format_version(file, path);
  const auto spec = file.metadata.find("axon.model");
  if (spec == file.metadata.end())
    fail(path, ": holds weights only (no axon.model spec in its metadata); use load_weights");
  std::shared_ptr<Model> model;
  {
    // Building the model allocates its weights: a spec that declares far more than the
    // file holds fails here, before the memory is taken (and filled with random numbers).
    int64_t stored = 0;
    for (const NamedTensor& t : file.tensors) stored += t.tensor.numel();
    const detail::AllocationLimit limit(
        2 * stored * static_cast<int64_t>(sizeof(float)) + (int64_t{64} << 20),
        path + ": the model it describes needs more memory than its weights could fill");
    model = parse_spec(spec->second, path + " (axon.model)", limits.spec).model;
  }
  if (!model->built()) fail(path, ": the stored spec has no input_shape");
  io::restore_parameters(*model, file, path);
  return model;
}

void save_weights(const Model& model, const std::string& path) {
  if (!model.built()) fail("save_weights: the model has no weights yet; build or fit it first");
  save_safetensors(path, io::parameters_of(model),
                   {{"axon.format_version", io::kFormatVersion}, {"axon.version", version()}});
}

void load_weights(Model& model, const std::string& path) {
  if (!model.built()) fail("load_weights: build the model first so its parameters exist");
  const SafetensorsFile file = load_safetensors(path);
  io::check_format_version(file, path);
  io::restore_parameters(model, file, path);
}

}  // namespace axon
