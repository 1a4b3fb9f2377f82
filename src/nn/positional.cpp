#include "axon/positional.h"

#include <cmath>

#include "axon/generation.h"
#include "axon/initializers.h"
#include "axon/onnx_graph.h"
#include "axon/ops.h"
#include "axon/registry.h"

namespace axon {

AXON_REGISTER(Module, "positional_embedding", PositionalEmbedding);
AXON_REGISTER(Module, "sine_position_encoding", SinePositionEncoding);

namespace {

void check_sequence(const char* layer, const Shape& x) {
  if (x.rank() != 3) fail(layer, ": expects (batch, steps, features), got ", x);
}

// The position of the input's first step: 0, or in incremental decoding the steps run before.
int64_t first_position() {
  const IncrementalDecoding* decoding = IncrementalDecoding::active();
  return decoding ? decoding->position() : 0;
}

}  // namespace

PositionalEmbedding::PositionalEmbedding(int64_t sequence_length, std::optional<uint64_t> seed)
    : sequence_length_(sequence_length), seed_(seed) {
  if (sequence_length < 1) fail("PositionalEmbedding: sequence_length must be >= 1, got ", sequence_length);
}

Config PositionalEmbedding::config() const {
  Config c = Config::object().set("sequence_length", sequence_length_);
  if (seed_) c.set("seed", *seed_);
  return c;
}

std::shared_ptr<PositionalEmbedding> PositionalEmbedding::from_config(const ConfigReader& c) {
  std::optional<uint64_t> seed;
  if (c.has("seed")) seed = static_cast<uint64_t>(c.integer("seed", 0));
  return std::make_shared<PositionalEmbedding>(c.integer("sequence_length", 1), seed);
}

void PositionalEmbedding::create_weights(const Shape& input_shape) {
  check_sequence("PositionalEmbedding", input_shape);
  const int64_t features = input_shape[2];
  Generator seeded(seed_.value_or(0));
  Generator& generator = seed_ ? seeded : global_generator();
  embeddings_ = add_weight("embeddings", Initializer()(Shape{sequence_length_, features}, sequence_length_, features,
                                                       generator));
}

// x (B, T, F) + embeddings[:T] (T, F), broadcast over the batch.
Variable PositionalEmbedding::forward(const Variable& x) {
  check_sequence("PositionalEmbedding", x.shape());
  const int64_t first = first_position();
  if (first + x.dim(1) > sequence_length_ || x.dim(2) != embeddings_.dim(1))
    fail("PositionalEmbedding: input ", x.shape(), first ? " after " + std::to_string(first) + " steps" : "",
         " does not fit the table of ", sequence_length_, " positions of ", embeddings_.dim(1), " features (at most ",
         sequence_length_, " steps)");
  return x + slice(embeddings_, 0, first, first + x.dim(1));
}

std::vector<std::string> PositionalEmbedding::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                          const std::vector<Shape>& shapes) const {
  const std::string rows = graph.op("Slice", {graph.weight(embeddings_), graph.integers("starts", {0}),
                                              graph.integers("ends", {shapes[0][0]}), graph.integers("axes", {0})});
  return {graph.op("Add", {inputs[0], rows})};
}

SinePositionEncoding::SinePositionEncoding(double max_wavelength) : max_wavelength_(max_wavelength) {
  if (!(max_wavelength > 1)) fail("SinePositionEncoding: max_wavelength must be > 1, got ", max_wavelength);
}

std::shared_ptr<SinePositionEncoding> SinePositionEncoding::from_config(const ConfigReader& c) {
  return std::make_shared<SinePositionEncoding>(c.number_or("max_wavelength", 10000, 1, INFINITY));
}

Tensor SinePositionEncoding::positions(int64_t first, int64_t steps, int64_t features) const {
  std::vector<double> table(static_cast<size_t>(steps * features));
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t f = 0; f < features; ++f) {
      const double angle =
          static_cast<double>(first + t) / std::pow(max_wavelength_, static_cast<double>(f - f % 2) / static_cast<double>(features));
      table[static_cast<size_t>(t * features + f)] = f % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return Tensor::from(table, Shape{steps, features}).to(DType::f32);
}

Variable SinePositionEncoding::forward(const Variable& x) {
  check_sequence("SinePositionEncoding", x.shape());
  return x + Variable(positions(first_position(), x.dim(1), x.dim(2)).to(x.dtype()));
}

std::vector<std::string> SinePositionEncoding::export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                                           const std::vector<Shape>& shapes) const {
  return {graph.op("Add", {inputs[0], graph.constant("positions", positions(0, shapes[0][0], shapes[0][1]))})};
}

}  // namespace axon
