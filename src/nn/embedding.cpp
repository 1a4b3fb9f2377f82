#include "axon/embedding.h"

#include <cmath>

#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "embedding", Embedding);

Embedding::Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options)
    : input_dim_(input_dim), output_dim_(output_dim), options_(options) {
  if (input_dim < 1 || output_dim < 1)
    fail("Embedding: input_dim and output_dim must be >= 1, got ", input_dim, " and ", output_dim);
}

Config Embedding::config() const {
  Config c =
      Config::object().set("input_dim", input_dim_).set("output_dim", output_dim_).set("mask_zero", options_.mask_zero);
  if (options_.seed) c.set("seed", *options_.seed);
  return c;
}

std::shared_ptr<Embedding> Embedding::from_config(const ConfigReader& c) {
  EmbeddingOptions options{.mask_zero = c.boolean_or("mask_zero", false)};
  if (c.has("seed")) options.seed = static_cast<uint64_t>(c.integer("seed", 0));
  return std::make_shared<Embedding>(c.integer("input_dim", 1), c.integer("output_dim", 1), options);
}

void Embedding::create_weights(const Shape& input_shape) {
  (void)input_shape;
  Generator seeded(options_.seed.value_or(0));
  Generator& generator = options_.seed ? seeded : global_generator();
  embeddings_ = add_weight("embeddings", generator.uniform(Shape{input_dim_, output_dim_}, -0.05, 0.05));
}

// ids (batch, ...) -> (batch, ..., output_dim): the rows, gathered as one index_select.
Variable Embedding::forward(const Variable& ids) {
  const std::vector<double> values = ids.value().to_vector();
  std::vector<int64_t> rows(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double id = values[i];
    if (!(id >= 0 && id < static_cast<double>(input_dim_)) || id != std::floor(id))
      fail("Embedding: token id ", id, " at position ", i, " of the input ", ids.shape(), " is not an integer in [0, ",
           input_dim_, ")");
    rows[i] = static_cast<int64_t>(id);
  }
  std::vector<int64_t> dims = ids.shape().dims();
  dims.push_back(output_dim_);
  Variable vectors = reshape(index_select(embeddings_, 0, rows), dims);
  if (options_.mask_zero) {
    if (ids.rank() != 2) fail("Embedding: mask_zero needs (batch, steps) ids, got ", ids.shape());
    Tensor mask = Tensor::empty(ids.shape(), DType::f32);
    for (size_t i = 0; i < rows.size(); ++i) mask.data<float>()[i] = rows[i] != 0 ? 1.0f : 0.0f;
    vectors.set_mask(std::move(mask));
  }
  return vectors;
}

std::vector<std::string> Embedding::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                const std::vector<Shape>& shapes) const {
  (void)shapes;
  if (options_.mask_zero)
    fail("save_onnx: the layer '", name(), "' (Embedding) with mask_zero has no ONNX form: the layers after it read "
         "its mask, which an ONNX graph does not carry");
  const std::string ids = graph.op("Cast", {inputs[0]}, {{"to", int64_t{7}}});  // TensorProto.INT64
  return {graph.op("Gather", {graph.weight(embeddings_), ids}, {{"axis", int64_t{0}}})};
}

}  // namespace axon
