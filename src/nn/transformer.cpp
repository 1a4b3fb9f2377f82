#include "axon/transformer.h"

#include "axon/activations.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "transformer_encoder_block", TransformerEncoderBlock);
AXON_REGISTER(Module, "transformer_decoder_block", TransformerDecoderBlock);

TransformerBlock::TransformerBlock(bool decoder, int64_t num_heads, int64_t intermediate_dim,
                                   TransformerOptions options)
    : decoder_(decoder), num_heads_(num_heads), intermediate_dim_(intermediate_dim), options_(std::move(options)) {
  const char* layer = decoder ? "TransformerDecoderBlock" : "TransformerEncoderBlock";
  if (num_heads < 1 || intermediate_dim < 1)
    fail(layer, ": num_heads and intermediate_dim must be >= 1, got ", num_heads, " and ", intermediate_dim);
  if (!(options_.dropout >= 0 && options_.dropout < 1)) fail(layer, ": dropout must be in [0, 1), got ", options_.dropout);
  if (!(options_.layer_norm_epsilon > 0))
    fail(layer, ": layer_norm_epsilon must be > 0, got ", options_.layer_norm_epsilon);
  activation(options_.activation);  // fails on an unknown name now, not at the first call
}

Config TransformerBlock::config() const {
  Config c = Config::object()
                 .set("num_heads", num_heads_)
                 .set("intermediate_dim", intermediate_dim_)
                 .set("dropout", options_.dropout)
                 .set("activation", options_.activation)
                 .set("layer_norm_epsilon", options_.layer_norm_epsilon)
                 .set("normalize_first", options_.normalize_first);
  if (options_.seed) c.set("seed", *options_.seed);
  return c;
}

TransformerOptions TransformerBlock::read_options(const ConfigReader& c) {
  TransformerOptions o{.dropout = c.number_or("dropout", 0, 0, 1, true),
                       .activation = c.string_or("activation", "relu"),
                       .layer_norm_epsilon = c.number_or("layer_norm_epsilon", 1e-5, 0, 1, false),
                       .normalize_first = c.boolean_or("normalize_first", true)};
  if (c.has("seed")) o.seed = static_cast<uint64_t>(c.integer("seed", 0));
  return o;
}

std::shared_ptr<TransformerEncoderBlock> TransformerEncoderBlock::from_config(const ConfigReader& c) {
  return std::make_shared<TransformerEncoderBlock>(c.integer("num_heads", 1), c.integer("intermediate_dim", 1),
                                                   read_options(c));
}

std::shared_ptr<TransformerDecoderBlock> TransformerDecoderBlock::from_config(const ConfigReader& c) {
  return std::make_shared<TransformerDecoderBlock>(c.integer("num_heads", 1), c.integer("intermediate_dim", 1),
                                                   read_options(c));
}

// The parts, once the features are known; each child builds its weights on its first call.
void TransformerBlock::create_weights_many(const std::vector<Shape>& shapes) {
  const std::string layer = type_name();
  if (shapes.empty() || shapes.size() > (decoder_ ? 2u : 1u))
    fail(layer, decoder_ ? ": takes the sequence and, optionally, the encoder's output" : ": takes one sequence",
         "; got ", shapes.size(), " inputs");
  for (const Shape& shape : shapes)
    if (shape.rank() != 3) fail(layer, ": expects (batch, steps, features), got ", shape);
  const int64_t features = shapes[0][2];
  if (features % num_heads_ != 0)
    fail(layer, ": ", features, " features do not split into ", num_heads_, " heads");
  uint64_t next_seed = options_.seed.value_or(0);
  auto seeded = [&](WeightOptions w = {}) {
    if (options_.seed) w.seed = next_seed++;
    return w;
  };
  const AttentionLayerOptions attention{.dropout = options_.dropout, .causal = decoder_};
  self_attention_ = std::make_shared<MultiHeadAttention>(num_heads_, features / num_heads_, attention, seeded());
  self_attention_norm_ = std::make_shared<LayerNormalization>(options_.layer_norm_epsilon);
  add_module("self_attention", self_attention_);
  add_module("self_attention_norm", self_attention_norm_);
  if (shapes.size() == 2) {
    cross_attention_ = std::make_shared<MultiHeadAttention>(
        num_heads_, features / num_heads_, AttentionLayerOptions{.dropout = options_.dropout}, seeded());
    cross_attention_norm_ = std::make_shared<LayerNormalization>(options_.layer_norm_epsilon);
    add_module("cross_attention", cross_attention_);
    add_module("cross_attention_norm", cross_attention_norm_);
  }
  feedforward_norm_ = std::make_shared<LayerNormalization>(options_.layer_norm_epsilon);
  feedforward_intermediate_ = std::make_shared<Dense>(intermediate_dim_, options_.activation, seeded());
  feedforward_output_ = std::make_shared<Dense>(features, "linear", seeded());
  dropout_ = std::make_shared<Dropout>(options_.dropout, options_.seed ? std::optional<uint64_t>(next_seed++)
                                                                        : std::nullopt);
  add_module("feedforward_norm", feedforward_norm_);
  add_module("feedforward_intermediate", feedforward_intermediate_);
  add_module("feedforward_output", feedforward_output_);
  add_module("dropout", dropout_);
}

Variable TransformerBlock::residual(const Variable& x, LayerNormalization& norm,
                                    const std::function<Variable(const Variable&)>& part) {
  if (options_.normalize_first) return x + (*dropout_)(part(norm(x)));
  return norm(x + (*dropout_)(part(x)));
}

std::vector<Variable> TransformerBlock::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.size() != (cross_attention_ ? 2u : 1u))
    fail(type_name(), ": was built for ", cross_attention_ ? 2 : 1, " inputs, got ", inputs.size());
  Variable x = inputs[0];
  const Tensor mask = x.mask();
  auto keep_mask = [&](Variable y) {  // the sum of a residual is a new value: the steps are x's
    if (mask.defined()) y.set_mask(mask);
    return y;
  };
  x = keep_mask(residual(x, *self_attention_norm_, [&](const Variable& h) { return (*self_attention_)({h, h})[0]; }));
  if (cross_attention_)
    x = keep_mask(residual(x, *cross_attention_norm_,
                           [&](const Variable& h) { return (*cross_attention_)({h, inputs[1]})[0]; }));
  return {keep_mask(residual(x, *feedforward_norm_, [&](const Variable& h) {
    return (*feedforward_output_)((*feedforward_intermediate_)(h));
  }))};
}

std::vector<std::string> TransformerBlock::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                       const std::vector<Shape>& shapes) const {
  const Shape& shape = shapes[0];  // every part keeps x's (steps, features)
  auto residual = [&](const std::string& x, const LayerNormalization& norm,
                      const std::function<std::string(const std::string&)>& part) {
    if (options_.normalize_first) return graph.op("Add", {x, part(norm.export_onnx(graph, {x}, {shape})[0])});
    return norm.export_onnx(graph, {graph.op("Add", {x, part(x)})}, {shape})[0];
  };
  std::string x = residual(inputs[0], *self_attention_norm_, [&](const std::string& h) {
    return self_attention_->export_onnx(graph, {h, h}, {shape, shape})[0];
  });
  if (cross_attention_)
    x = residual(x, *cross_attention_norm_, [&](const std::string& h) {
      return cross_attention_->export_onnx(graph, {h, inputs[1]}, {shape, shapes[1]})[0];
    });
  return {residual(x, *feedforward_norm_, [&](const std::string& h) {
    const std::string hidden = feedforward_intermediate_->export_onnx(graph, {h}, {shape})[0];
    return feedforward_output_->export_onnx(graph, {hidden}, {Shape{shape[0], intermediate_dim_}})[0];
  })};
}

}  // namespace axon
