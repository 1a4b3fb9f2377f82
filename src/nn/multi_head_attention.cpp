#include "axon/multi_head_attention.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "axon/checked_math.h"
#include "axon/generation.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "multi_head_attention", MultiHeadAttention);

MultiHeadAttention::MultiHeadAttention(int64_t num_heads, int64_t key_dim, AttentionLayerOptions options,
                                       WeightOptions weights)
    : num_heads_(num_heads),
      key_dim_(key_dim),
      options_(options),
      weights_(std::move(weights)),
      generator_(weights_.seed ? *weights_.seed : global_generator().next_u64()) {
  if (num_heads < 1 || key_dim < 1)
    fail("MultiHeadAttention: num_heads and key_dim must be >= 1, got ", num_heads, " and ", key_dim);
  if (options.value_dim < 0 || options.output_dim < 0)
    fail("MultiHeadAttention: value_dim and output_dim must be >= 0 (0: the default), got ", options.value_dim, " and ",
         options.output_dim);
  if (!(options.dropout >= 0 && options.dropout < 1))
    fail("MultiHeadAttention: dropout must be in [0, 1), got ", options.dropout);
  if (options_.value_dim == 0) options_.value_dim = key_dim;
  checked_mul(num_heads, key_dim, "MultiHeadAttention: num_heads * key_dim");  // sizes from files
  checked_mul(num_heads, options_.value_dim, "MultiHeadAttention: num_heads * value_dim");
}

Config MultiHeadAttention::config() const {
  Config c = Config::object()
                 .set("num_heads", num_heads_)
                 .set("key_dim", key_dim_)
                 .set("value_dim", options_.value_dim)
                 .set("output_dim", options_.output_dim)
                 .set("dropout", options_.dropout)
                 .set("causal", options_.causal);
  weights_.write(c);
  return c;
}

std::shared_ptr<MultiHeadAttention> MultiHeadAttention::from_config(const ConfigReader& c) {
  return std::make_shared<MultiHeadAttention>(
      c.integer("num_heads", 1), c.integer("key_dim", 1),
      AttentionLayerOptions{.value_dim = c.integer_or("value_dim", 0, 0),
                            .output_dim = c.integer_or("output_dim", 0, 0),
                            .dropout = c.number_or("dropout", 0, 0, 1, true),
                            .causal = c.boolean_or("causal", false)},
      WeightOptions::read(c));
}

MultiHeadAttention::Projection MultiHeadAttention::add_projection(const std::string& name, int64_t in, int64_t out,
                                                                  uint64_t seed_offset) {
  WeightOptions options = weights_;
  if (options.seed) *options.seed += seed_offset;  // four different kernels from one seed
  auto [kernel, bias] = options.initial(Shape{in, out}, Shape{out}, in, out);
  Projection p;
  p.kernel = add_weight(name + "_kernel", std::move(kernel), true, options.kernel_regularizer);
  if (options.use_bias) p.bias = add_weight(name + "_bias", std::move(bias), true, options.bias_regularizer);
  return p;
}

void MultiHeadAttention::create_weights_many(const std::vector<Shape>& shapes) {
  if (shapes.empty() || shapes.size() > 3)
    fail("MultiHeadAttention: takes query, value and key (or query and value, or query alone), got ", shapes.size(),
         " inputs");
  for (const Shape& shape : shapes)
    if (shape.rank() != 3) fail("MultiHeadAttention: inputs must be (batch, steps, features), got ", shape);
  const Shape& query = shapes[0];
  const Shape& value = shapes.size() > 1 ? shapes[1] : query;
  const Shape& key = shapes.size() > 2 ? shapes[2] : value;
  const int64_t heads = num_heads_, output = options_.output_dim > 0 ? options_.output_dim : query[2];
  query_ = add_projection("query", query[2], heads * key_dim_, 0);
  key_ = add_projection("key", key[2], heads * key_dim_, 1);
  value_ = add_projection("value", value[2], heads * options_.value_dim, 2);
  output_ = add_projection("output", heads * options_.value_dim, output, 3);
}

namespace {

// Writes `steps` (B, n, H, D) after the `held` steps of `buffer` (B, capacity, H, D),
// growing it by doubling, and returns the held steps and these: (B, held + n, H, D). A
// view of the buffer for one sequence (what generation runs), else a copy.
Tensor append_steps(Tensor& buffer, const Tensor& steps, int64_t held) {
  const int64_t batch = steps.dim(0), n = steps.dim(1), heads = steps.dim(2), dim = steps.dim(3), total = held + n;
  const size_t row = static_cast<size_t>(heads * dim) * dtype_size(steps.dtype());  // bytes per step
  auto at = [row](Tensor& t, int64_t b, int64_t step) {
    return static_cast<std::byte*>(t.raw()) + static_cast<size_t>(b * t.dim(1) + step) * row;
  };
  if (!buffer.defined() || buffer.dim(1) < total || buffer.dim(0) != batch) {
    Tensor grown = Tensor::empty(Shape{batch, std::max<int64_t>(2 * total, 16), heads, dim}, steps.dtype());
    for (int64_t b = 0; b < batch && held > 0; ++b) std::memcpy(at(grown, b, 0), at(buffer, b, 0), held * row);
    buffer = grown;
  }
  Tensor input = steps;
  for (int64_t b = 0; b < batch; ++b) std::memcpy(at(buffer, b, held), at(input, b, 0), n * row);
  const int64_t capacity = buffer.dim(1);
  if (batch == 1) return buffer.reshape({capacity, heads, dim}).rows(0, total).reshape({1, total, heads, dim});
  Tensor out = Tensor::empty(Shape{batch, total, heads, dim}, steps.dtype());
  for (int64_t b = 0; b < batch; ++b) std::memcpy(at(out, b, 0), at(buffer, b, 0), total * row);
  return out;
}

}  // namespace

// (B, T, E) -> (B, T, H, dim): one GEMM, the heads side by side in its columns.
std::vector<Variable> MultiHeadAttention::forward_many(const std::vector<Variable>& inputs) {
  if (inputs.empty() || inputs.size() > 3)
    fail("MultiHeadAttention: takes query, value and key, got ", inputs.size(), " inputs");
  const Variable& query = inputs[0];
  const Variable& value = inputs.size() > 1 ? inputs[1] : query;
  const Variable& key = inputs.size() > 2 ? inputs[2] : value;
  const int64_t batch = query.dim(0);
  if (value.dim(0) != batch || key.dim(0) != batch || key.dim(1) != value.dim(1))
    fail("MultiHeadAttention: query ", query.shape(), ", value ", value.shape(), " and key ", key.shape(),
         " must share the batch, and key and value their steps");
  auto heads = [&](const Variable& x, const Projection& p, int64_t dim) {
    return reshape(linear(x, p.kernel, p.bias), {batch, x.dim(1), num_heads_, dim});
  };
  AttentionOptions attention_options{.causal = options_.causal, .key_mask = value.mask()};
  if (training() && options_.dropout > 0) {
    attention_options.dropout = options_.dropout;
    attention_options.seed = generator_.next_u64();
  }
  Variable keys = heads(key, key_, key_dim_), values = heads(value, value_, options_.value_dim);
  if (IncrementalDecoding* decoding = IncrementalDecoding::active()) {
    // The earlier steps' keys and values come from the cache; this call's join them. Only
    // causal self-attention sees nothing after the step it computes.
    if (!options_.causal)
      fail("MultiHeadAttention: incremental decoding needs causal attention (this layer sees every step)");
    std::vector<Tensor>& cache = decoding->state(*this);  // key and value buffers, and the steps they hold
    if (cache.empty()) cache = {Tensor(), Tensor(), Tensor::scalar(0)};
    keys = Variable(append_steps(cache[0], keys.value(), static_cast<int64_t>(cache[2].item())));
    values = Variable(append_steps(cache[1], values.value(), static_cast<int64_t>(cache[2].item())));
    cache[2] = Tensor::scalar(static_cast<double>(keys.dim(1)));
    attention_options.key_mask = Tensor();  // generation runs one unpadded sequence
  }
  const Variable attended = attention(heads(query, query_, key_dim_), keys, values, attention_options);
  return {linear(reshape(attended, {batch, query.dim(1), num_heads_ * options_.value_dim}), output_.kernel,
                 output_.bias)};
}

// The attention written out for ONNX (Keras's einsums as MatMuls):
//   q (B, Tq, H, D) -> (B, H, Tq, D); k (B, Tk, H, D) -> (B, H, D, Tk); v -> (B, H, Tk, Dv)
//   softmax(q k / sqrt(D) [+ causal mask]) v (B, H, Tq, Dv) -> (B, Tq, H * Dv) -> output.
// The steps are fixed at export (the model's Input), so the causal mask is a constant
// (Tq, Tk) of 0 and -1e9, aligned to the end of the keys as the op aligns it.
std::vector<std::string> MultiHeadAttention::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                         const std::vector<Shape>& shapes) const {
  const std::string& query = inputs[0];
  const std::string& value = inputs.size() > 1 ? inputs[1] : query;
  const std::string& key = inputs.size() > 2 ? inputs[2] : value;
  const int64_t query_steps = shapes[0][0], key_steps = shapes.size() > 1 ? shapes[1][0] : query_steps;
  auto heads = [&](const std::string& x, const Projection& p, int64_t steps, int64_t dim, std::vector<int64_t> perm) {
    std::string y = graph.op("MatMul", {x, graph.weight(p.kernel)});
    if (p.bias.defined()) y = graph.op("Add", {y, graph.weight(p.bias)});
    y = graph.op("Reshape", {y, graph.integers("shape", {-1, steps, num_heads_, dim})});
    return graph.op("Transpose", {y}, {{"perm", std::move(perm)}});
  };
  const std::string q = heads(query, query_, query_steps, key_dim_, {0, 2, 1, 3});
  const std::string k = heads(key, key_, key_steps, key_dim_, {0, 2, 3, 1});
  const std::string v = heads(value, value_, key_steps, options_.value_dim, {0, 2, 1, 3});
  const double scale = 1.0 / std::sqrt(static_cast<double>(key_dim_));
  std::string scores = graph.op("Mul", {graph.op("MatMul", {q, k}), graph.constant("scale", Tensor::scalar(scale))});
  if (options_.causal) {
    std::vector<float> mask(static_cast<size_t>(query_steps * key_steps), 0.0f);
    for (int64_t i = 0; i < query_steps; ++i)
      for (int64_t j = i + key_steps - query_steps + 1; j < key_steps; ++j)
        mask[static_cast<size_t>(i * key_steps + j)] = -1e9f;
    scores = graph.op("Add", {scores, graph.constant("causal_mask", Tensor::from(mask, Shape{query_steps, key_steps}))});
  }
  const std::string attended = graph.op("MatMul", {graph.op("Softmax", {scores}, {{"axis", int64_t{-1}}}), v});
  std::string y = graph.op("Transpose", {attended}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  y = graph.op("Reshape", {y, graph.integers("shape", {-1, query_steps, num_heads_ * options_.value_dim})});
  y = graph.op("MatMul", {y, graph.weight(output_.kernel)});
  if (output_.bias.defined()) y = graph.op("Add", {y, graph.weight(output_.bias)});
  return {y};
}

}  // namespace axon
