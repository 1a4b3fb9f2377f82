#pragma once
// The settings every weighted layer (Dense, Conv1D, Conv2D, ...) shares: bias or not,
// initializers, regularizers and the seed its initial weights are drawn with.
#include <cstdint>
#include <optional>
#include <utility>

#include "axon/config.h"
#include "axon/initializers.h"
#include "axon/regularizers.h"

namespace axon {

struct WeightOptions {
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::Kind::glorot_uniform;
  Initializer bias_initializer = Initializer::Kind::zeros;
  Regularizer kernel_regularizer = {};
  Regularizer bias_regularizer = {};
  std::optional<uint64_t> seed;  // else draws from global_generator()

  // The initial kernel and (with use_bias) bias, drawn in that order from a generator
  // seeded by `seed`, or from global_generator().
  std::pair<Tensor, Tensor> initial(const Shape& kernel_shape, const Shape& bias_shape, int64_t fan_in,
                                    int64_t fan_out) const;

  // Written into (and read from) the layer's own config, beside its other settings.
  void write(Config& config) const;
  static WeightOptions read(const ConfigReader& config);
};

}  // namespace axon
