#pragma once
// Position information for attention, which by itself does not know the order of the
// steps. Both take (batch, steps, features) and return it with each step's position
// vector added (Keras Hub's PositionEmbedding and SinePositionEncoding return the
// vectors alone, to be added; here the layer adds them):
//   PositionalEmbedding(sequence_length): a learned table (sequence_length, features),
//     glorot-uniform initialised; longer inputs fail, naming the layer.
//   SinePositionEncoding(max_wavelength): fixed, no weights; for position t and feature
//     pair (2i, 2i + 1): sin and cos of t / max_wavelength^(2i / features).
//   SymbolicTensor x = PositionalEmbedding(128)(Embedding(vocabulary, 64)(tokens));
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "axon/module.h"

namespace axon {

class PositionalEmbedding : public Module {
 public:
  explicit PositionalEmbedding(int64_t sequence_length, std::optional<uint64_t> seed = std::nullopt);
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "PositionalEmbedding"; }
  bool propagates_mask() const override { return true; }
  Config config() const override;
  static std::shared_ptr<PositionalEmbedding> from_config(const ConfigReader& config);
  // x + the positions' rows (Slice of the table, or the sines as a constant).
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  int64_t sequence_length() const { return sequence_length_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  int64_t sequence_length_;
  std::optional<uint64_t> seed_;
  Variable embeddings_;  // (sequence_length, features)
};

class SinePositionEncoding : public Module {
 public:
  explicit SinePositionEncoding(double max_wavelength = 10000);
  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "SinePositionEncoding"; }
  bool propagates_mask() const override { return true; }
  Config config() const override { return Config::object().set("max_wavelength", max_wavelength_); }
  static std::shared_ptr<SinePositionEncoding> from_config(const ConfigReader& config);
  // x + the positions' rows (Slice of the table, or the sines as a constant).
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;

 private:
  // The encodings of positions first .. first + steps - 1: (steps, features) float32.
  Tensor positions(int64_t first, int64_t steps, int64_t features) const;

  double max_wavelength_;
};

}  // namespace axon
