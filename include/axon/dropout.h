#pragma once
// Dropout: in training, zeroes each element with probability `rate` and scales the
// survivors by 1 / (1 - rate) (inverted dropout), so inference is the identity.
#include <cstdint>
#include <optional>

#include "axon/module.h"
#include "axon/random.h"

namespace axon {

class Dropout : public Module {
 public:
  // rate in [0, 1). The mask stream is seeded by `seed`, else from global_generator().
  explicit Dropout(double rate, std::optional<uint64_t> seed = std::nullopt);

  Variable forward(const Variable& x) override;
  std::string type_name() const override { return "Dropout"; }
  double rate() const { return rate_; }
  const std::optional<uint64_t>& seed() const { return seed_; }
  Generator& generator() { return generator_; }  // its state goes into checkpoints

 private:
  double rate_;
  std::optional<uint64_t> seed_;
  Generator generator_;
};

}  // namespace axon
