#pragma once
// Transformer blocks, composite layers of MultiHeadAttention, LayerNormalization, a
// feed-forward pair of Dense layers and Dropout, each part behind a residual connection
// (Keras Hub's TransformerEncoder and TransformerDecoder). Input and output (batch,
// steps, features); the heads split the features: key_dim = features / num_heads.
//   pre-norm (normalize_first, the default):  x = x + dropout(part(norm(x)))
//   post-norm (the original Transformer's):   x = norm(x + dropout(part(x)))
// The parts in order:
//   TransformerEncoderBlock(x): self-attention over every step, then feed-forward.
//   TransformerDecoderBlock(x) or ({x, encoder_output}): causal self-attention (step i
//     sees steps <= i), cross-attention over the encoder's output when given, then
//     feed-forward. Called with x alone it is a GPT block.
// Padding masks on x (and on the encoder's output) hide those steps as keys.
//   SymbolicTensor h = TransformerDecoderBlock(4, 512, {.dropout = 0.1})(x);
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "axon/dense.h"
#include "axon/dropout.h"
#include "axon/layer_normalization.h"
#include "axon/multi_head_attention.h"

namespace axon {

struct TransformerOptions {
  double dropout = 0;                // after each part, and on the attention probabilities
  std::string activation = "relu";   // of the feed-forward's first Dense
  double layer_norm_epsilon = 1e-5;  // Keras Hub's default
  bool normalize_first = true;
  std::optional<uint64_t> seed;  // else draws from global_generator()
};

class TransformerBlock : public Module {
 public:
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  bool propagates_mask() const override { return true; }
  Config config() const override;
  // Its parts' ONNX forms, joined by the residual Adds (dropout is the identity there).
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  int64_t num_heads() const { return num_heads_; }
  int64_t intermediate_dim() const { return intermediate_dim_; }
  const TransformerOptions& options() const { return options_; }

 protected:
  TransformerBlock(bool decoder, int64_t num_heads, int64_t intermediate_dim, TransformerOptions options);
  void create_weights_many(const std::vector<Shape>& input_shapes) override;
  static TransformerOptions read_options(const ConfigReader& config);

 private:
  // x + dropout(part(norm(x))) or norm(x + dropout(part(x))).
  Variable residual(const Variable& x, LayerNormalization& norm, const std::function<Variable(const Variable&)>& part);

  bool decoder_;
  int64_t num_heads_, intermediate_dim_;
  TransformerOptions options_;
  std::shared_ptr<MultiHeadAttention> self_attention_, cross_attention_;
  std::shared_ptr<LayerNormalization> self_attention_norm_, cross_attention_norm_, feedforward_norm_;
  std::shared_ptr<Dense> feedforward_intermediate_, feedforward_output_;
  std::shared_ptr<Dropout> dropout_;
};

class TransformerEncoderBlock : public TransformerBlock {
 public:
  TransformerEncoderBlock(int64_t num_heads, int64_t intermediate_dim, TransformerOptions options = {})
      : TransformerBlock(false, num_heads, intermediate_dim, std::move(options)) {}
  std::string type_name() const override { return "TransformerEncoderBlock"; }
  static std::shared_ptr<TransformerEncoderBlock> from_config(const ConfigReader& config);
};

class TransformerDecoderBlock : public TransformerBlock {
 public:
  TransformerDecoderBlock(int64_t num_heads, int64_t intermediate_dim, TransformerOptions options = {})
      : TransformerBlock(true, num_heads, intermediate_dim, std::move(options)) {}
  std::string type_name() const override { return "TransformerDecoderBlock"; }
  static std::shared_ptr<TransformerDecoderBlock> from_config(const ConfigReader& config);
};

}  // namespace axon
