#pragma once
// Embedding (Keras's layer): token ids (batch, ...) -> their rows of the table
// `embeddings` (input_dim, output_dim): (batch, ..., output_dim). The ids may be int32,
// int64 or float32 holding whole numbers; each must be in [0, input_dim), else the call
// fails naming the id and its position. The table starts uniform in [-0.05, 0.05], as
// Keras; its gradient adds each row's uses. With mask_zero, id 0 is padding: the output
// carries the mask ids != 0 (Variable::mask) for the layers after it to skip those steps
// (ids must then be (batch, steps), and the vocabulary's ids start at 1).
//   SymbolicTensor vectors = Embedding(vocabulary, 64, {.mask_zero = true})(Input(Shape{128}, "tokens"));
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "axon/module.h"

namespace axon {

struct EmbeddingOptions {
  bool mask_zero = false;
  std::optional<uint64_t> seed;  // else draws from global_generator()
};

class Embedding : public Module {
 public:
  Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});
  Variable forward(const Variable& ids) override;
  std::string type_name() const override { return "Embedding"; }
  Config config() const override;
  // Gather of the table at the ids cast to int64; mask_zero has no ONNX form.
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  static std::shared_ptr<Embedding> from_config(const ConfigReader& config);
  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }
  bool mask_zero() const { return options_.mask_zero; }
  const Variable& embeddings() const { return embeddings_; }

 protected:
  void create_weights(const Shape& input_shape) override;

 private:
  int64_t input_dim_, output_dim_;
  EmbeddingOptions options_;
  Variable embeddings_;
};

}  // namespace axon
