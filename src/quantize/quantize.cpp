// quantize(model): the model's spec with Dense and Conv2D rewritten as their int8 forms,
// built again, then its weights: kernels quantized per output channel, the rest copied.
#include <map>
#include <nlohmann/json.hpp>

#include "axon/model_spec.h"
#include "axon/quantization.h"
#include "kernels/int8_gemm.h"
#include "kernels/layout.h"

namespace axon {

namespace {

using json = nlohmann::json;

// The settings each int8 layer keeps from its float layer (initializers, regularizers
// and constraints only matter for training).
const std::map<std::string, std::pair<std::string, std::vector<std::string>>> kQuantizedForms = {
    {"dense", {"quantized_dense", {"name", "units", "activation", "use_bias"}}},
    {"conv2d",
     {"quantized_conv2d",
      {"name", "filters", "kernel_size", "strides", "padding", "dilation", "activation", "use_bias"}}},
};

// Rewrites every layer config in the spec (at any depth: nested models too).
void rewrite_layers(json& node) {
  if (node.is_array())
    for (json& item : node) rewrite_layers(item);
  if (!node.is_object()) return;
  const auto type = node.find("type");
  if (type != node.end() && type->is_string())
    if (const auto form = kQuantizedForms.find(type->get<std::string>()); form != kQuantizedForms.end()) {
      json quantized = {{"type", form->second.first}};
      for (const std::string& key : form->second.second)
        if (node.contains(key)) quantized[key] = node[key];
      node = std::move(quantized);
      return;
    }
  for (auto& [key, value] : node.items()) rewrite_layers(value);
}

// A Dense kernel (in, units) or a Conv2D kernel (filters, c, kh, kw) -> int8 values in
// the same layout and one scale per output channel (unit or filter).
std::pair<Tensor, Tensor> quantize_kernel(const Tensor& kernel) {
  const bool dense = kernel.rank() == 2;
  // As (inputs, channels): Dense's layout already; Conv2D's flattened and transposed.
  const Tensor w = kernel.to(DType::f32);
  const Tensor columns = dense ? w : kernels::transpose(w.reshape({w.dim(0), -1}), 0, 1);
  Tensor q = Tensor::empty(columns.shape(), DType::i8), scale = Tensor::empty(Shape{columns.dim(1)});
  kernels::quantize_weights(columns.data<float>(), columns.dim(0), columns.dim(1), q.data<int8_t>(),
                            scale.data<float>());
  return {dense ? q : kernels::transpose(q, 0, 1).reshape(kernel.shape().dims()), scale};
}

}  // namespace

std::shared_ptr<Model> quantize(const Model& model) {
  if (!model.built()) fail("quantize: the model has no weights yet; build or fit it first");
  json spec = json::parse(model_to_spec(model));
  rewrite_layers(spec);
  std::shared_ptr<Model> quantized = model_from_spec(spec.dump(), "quantize");
  if (!quantized->built()) fail("quantize: the model's spec does not give its input shapes");

  std::map<std::string, Tensor> source;
  for (const NamedParameter& p : model.named_parameters()) source[p.name] = p.variable.value();
  std::map<std::string, std::pair<Tensor, Tensor>> kernels;  // path -> int8 values and scales
  for (const NamedParameter& p : quantized->named_parameters()) {
    const std::string suffix = ".kernel_scale";
    const bool is_scale = p.name.size() > suffix.size() && p.name.ends_with(suffix);
    const std::string path = is_scale ? p.name.substr(0, p.name.size() - suffix.size()) + ".kernel" : p.name;
    const auto original = source.find(path);
    if (original == source.end()) fail("quantize: the quantized model's '", p.name, "' has no weight to come from");
    Tensor target = p.variable.value();
    if (is_scale || target.dtype() == DType::i8) {
      if (!kernels.contains(path)) kernels[path] = quantize_kernel(original->second);
      target.copy_from(is_scale ? kernels[path].second : kernels[path].first);
    } else {
      target.copy_from(original->second);
    }
  }
  quantized->weights_replaced();
  return quantized;
}

}  // namespace axon
