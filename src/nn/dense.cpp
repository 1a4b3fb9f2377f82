#include "axon/dense.h"

#include "axon/ops.h"

namespace axon {

Dense::Dense(int64_t units, const std::string& activation_name, DenseOptions options)
    : units_(units), activation_name_(activation_name), activation_(activation(activation_name)), options_(options) {
  if (units < 1) fail("Dense: units must be >= 1, got ", units);
}

void Dense::create_weights(const Shape& input_shape) {
  if (input_shape.rank() < 1 || input_shape[-1] < 1)
    fail("Dense: input of shape ", input_shape, " has no features on its last axis");
  const int64_t in = input_shape[-1];
  Generator seeded(options_.seed.value_or(0));
  Generator& generator = options_.seed ? seeded : global_generator();
  kernel_ = add_weight("kernel", options_.kernel_initializer(Shape{in, units_}, in, units_, generator), true,
                       options_.kernel_regularizer);
  if (options_.use_bias)
    bias_ = add_weight("bias", options_.bias_initializer(Shape{units_}, in, units_, generator), true, options_.bias_regularizer);
}

Variable Dense::forward(const Variable& x) {
  if (x.dim(-1) != kernel_.dim(0))
    fail("Dense: input ", x.shape(), " has ", x.dim(-1), " features; this layer was built for ", kernel_.dim(0));
  Variable y = linear(x, kernel_, bias_);
  return activation_(y);
}

}  // namespace axon
