#pragma once
// Dropout: in training, zeroes each element with probability `rate` and scales the
// survivors by 1 / (1 - rate) (inverted dropout), so inference is the identity.
#include <cstdint>
#include <memory>
#include <optional>

#include "axon/module.h"
#include "axon/random.h"

namespace axon {

class Dropout : public Module {
 public:
  // rate in [0, 1). The mask stream is seeded by `seed`, else from global_generator().
  explicit Dropout(double rate, std::optional<uint64_t> seed = std::nullopt);

  Variable forward(const Variable& x) override;
  bool propagates_mask() const override { return true; }
  std::string type_name() const override { return "Dropout"; }
  std::vector<std::string> export_onnx(OnnxGraph& graph, const std::vector<std::string>& inputs,
                                       const std::vector<Shape>& shapes) const override;
  Config config() const override;
  static std::shared_ptr<Dropout> from_config(const ConfigReader& config);
  void state(StateArchive& archive) override {
    archive.generator("generator", generator_);
  }  // checkpoints replay the masks
  double rate() const { return rate_; }
  const std::optional<uint64_t>& seed() const { return seed_; }

 private:
  double rate_;
  std::optional<uint64_t> seed_;
  Generator generator_;
};

}  // namespace axon
