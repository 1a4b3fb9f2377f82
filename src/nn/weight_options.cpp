#include "axon/weight_options.h"

namespace axon {

std::pair<Tensor, Tensor> WeightOptions::initial(const Shape& kernel_shape, const Shape& bias_shape, int64_t fan_in,
                                                 int64_t fan_out) const {
  Generator seeded(seed.value_or(0));
  Generator& generator = seed ? seeded : global_generator();
  Tensor kernel = kernel_initializer(kernel_shape, fan_in, fan_out, generator);
  Tensor bias = use_bias ? bias_initializer(bias_shape, fan_in, fan_out, generator) : Tensor();
  return {std::move(kernel), std::move(bias)};
}

void WeightOptions::write(Config& config) const {
  config.set("use_bias", use_bias)
      .set("kernel_initializer", kernel_initializer.config())
      .set("bias_initializer", bias_initializer.config())
      .set("kernel_regularizer", kernel_regularizer.config())
      .set("bias_regularizer", bias_regularizer.config());
  if (seed) config.set("seed", *seed);
}

WeightOptions WeightOptions::read(const ConfigReader& c) {
  WeightOptions o;
  o.use_bias = c.boolean_or("use_bias", true);
  if (c.has("kernel_initializer")) o.kernel_initializer = Initializer::from_config(c.at("kernel_initializer"));
  if (c.has("bias_initializer")) o.bias_initializer = Initializer::from_config(c.at("bias_initializer"));
  if (c.has("kernel_regularizer")) o.kernel_regularizer = Regularizer::from_config(c.at("kernel_regularizer"));
  if (c.has("bias_regularizer")) o.bias_regularizer = Regularizer::from_config(c.at("bias_regularizer"));
  if (c.has("seed")) o.seed = static_cast<uint64_t>(c.integer("seed", 0));
  return o;
}

}  // namespace axon
