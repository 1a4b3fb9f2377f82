// quantize(model): the model's spec with Dense and Conv2D rewritten as their int8 forms,
// built again, then its weights: kernels quantized per output channel, the rest copied.
#include <map>
#include <nlohmann/json.hpp>

#include "axon/model_spec.h"
#include "axon/quantization.h"
#include "kernels/int8_gemm.h"

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

// A float kernel with its output channels on axis `channel_axis` (Dense: 1 of (in, units);
// Conv2D: 0 of (filters, c, kh, kw)) -> int8 values in the same layout and one scale per channel.
std::pair<Tensor, Tensor> quantize_kernel(const Tensor& kernel, int channel_axis) {
  const Tensor w = kernel.to(DType::f32);
  const int64_t channels = w.dim(channel_axis), per_channel = w.numel() / channels;
  // As (per_channel, channels): Dense's layout already; Conv2D's transposed.
  std::vector<float> by_column(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < per_channel; ++i)
    for (int64_t j = 0; j < channels; ++j)
      by_column[static_cast<size_t>(i * channels + j)] =
          w.data<float>()[channel_axis == 1 ? i * channels + j : j * per_channel + i];
  std::vector<int8_t> q(by_column.size());
  Tensor scale = Tensor::empty(Shape{channels});
  kernels::quantize_weights(by_column.data(), per_channel, channels, q.data(), scale.data<float>());
  Tensor values = Tensor::empty(w.shape(), DType::i8);
  for (int64_t i = 0; i < per_channel; ++i)
    for (int64_t j = 0; j < channels; ++j)
      values.data<int8_t>()[channel_axis == 1 ? i * channels + j : j * per_channel + i] =
          q[static_cast<size_t>(i * channels + j)];
  return {values, scale};
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
      if (!kernels.contains(path))
        kernels[path] = quantize_kernel(original->second, original->second.rank() == 2 ? 1 : 0);
      target.copy_from(is_scale ? kernels[path].second : kernels[path].first);
    } else {
      target.copy_from(original->second);
    }
  }
  quantized->weights_replaced();
  return quantized;
}

}  // namespace axon
