#include "axon/embedding.h"

#include <cmath>

#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "embedding", Embedding);

Embedding::Embedding(int64_t input_dim, int64_t output_dim, std::optional<uint64_t> seed)
    : input_dim_(input_dim), output_dim_(output_dim), seed_(seed) {
  if (input_dim < 1 || output_dim < 1)
    fail("Embedding: input_dim and output_dim must be >= 1, got ", input_dim, " and ", output_dim);
}

Config Embedding::config() const {
  Config c = Config::object().set("input_dim", input_dim_).set("output_dim", output_dim_);
  if (seed_) c.set("seed", *seed_);
  return c;
}

std::shared_ptr<Embedding> Embedding::from_config(const ConfigReader& c) {
  std::optional<uint64_t> seed;
  if (c.has("seed")) seed = static_cast<uint64_t>(c.integer("seed", 0));
  return std::make_shared<Embedding>(c.integer("input_dim", 1), c.integer("output_dim", 1), seed);
}

void Embedding::create_weights(const Shape& input_shape) {
  (void)input_shape;
  Generator seeded(seed_.value_or(0));
  Generator& generator = seed_ ? seeded : global_generator();
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
  return reshape(index_select(embeddings_, 0, rows), dims);
}

}  // namespace axon
