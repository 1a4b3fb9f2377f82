#pragma once
// MultiHeadAttention (Keras's layer): query (B, Tq, Eq), value (B, Tk, Ev) and key
// (B, Tk, Ek, the value when not given) are projected into num_heads heads of key_dim
// (value_dim for the value), each query attends over the keys with scaled dot-product
// attention (ops.h's fused `attention`), and the heads are projected back to output_dim
// (the query's features by default): (B, Tq, output_dim).
//   SymbolicTensor y = MultiHeadAttention(4, 32, {.causal = true})({x, x});
// Called with one input it attends over that input itself. Masks: with `causal`, step i
// sees steps <= i only (Keras passes use_causal_mask at call time; here it is a setting,
// saved with the model); keys whose step is padding (the value's mask, from
// Embedding(mask_zero)) are never seen. `dropout` drops attention probabilities while
// training. Weights, Keras's EinsumDense kernels flattened over the heads:
// query_kernel (Eq, H*key_dim), key_kernel (Ek, H*key_dim), value_kernel (Ev, H*value_dim),
// output_kernel (H*value_dim, output_dim), each with its bias when use_bias.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "axon/module.h"
#include "axon/weight_options.h"

namespace axon {

struct AttentionLayerOptions {
  int64_t value_dim = 0;   // 0: key_dim
  int64_t output_dim = 0;  // 0: the query's features
  double dropout = 0;
  bool causal = false;
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(int64_t num_heads, int64_t key_dim, AttentionLayerOptions options = {},
                     WeightOptions weights = {});
  std::vector<Variable> forward_many(const std::vector<Variable>& inputs) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "MultiHeadAttention"; }
  // MatMul, Reshape, Transpose and Softmax; causal attention adds a constant mask.
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<MultiHeadAttention> from_config(const ConfigReader& config);
  void state(StateArchive& archive) override { archive.generator("dropout_generator", generator_); }
  int64_t num_heads() const { return num_heads_; }
  int64_t key_dim() const { return key_dim_; }
  const AttentionLayerOptions& options() const { return options_; }

 protected:
  void create_weights_many(const std::vector<Shape>& input_shapes) override;

 private:
  struct Projection {
    Variable kernel, bias;
  };
  Projection add_projection(const std::string& name, int64_t in, int64_t out, uint64_t seed_offset);

  int64_t num_heads_, key_dim_;
  AttentionLayerOptions options_;
  WeightOptions weights_;
  Generator generator_;  // the seed of each call's dropout
  Projection query_, key_, value_, output_;
};

}  // namespace axon
