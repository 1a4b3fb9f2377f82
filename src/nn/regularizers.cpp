#include "axon/regularizers.h"

#include <cmath>

#include "axon/ops.h"

namespace axon {

namespace {

Regularizer checked(double l1, double l2) {
  if (!(l1 >= 0) || !(l2 >= 0) || !std::isfinite(l1) || !std::isfinite(l2))
    fail("regularizer: l1 and l2 must be finite and >= 0, got l1=", l1, ", l2=", l2);
  return {l1, l2};
}

}  // namespace

Variable Regularizer::operator()(const Variable& weight) const {
  checked(l1, l2);
  Variable penalty(Tensor::scalar(0.0, weight.dtype()));
  if (l1 != 0.0) penalty = penalty + l1 * sum(abs(weight));
  if (l2 != 0.0) penalty = penalty + l2 * sum(square(weight));
  return penalty;
}

Regularizer L1(double l1) { return checked(l1, 0.0); }
Regularizer L2(double l2) { return checked(0.0, l2); }
Regularizer L1L2(double l1, double l2) { return checked(l1, l2); }

}  // namespace axon

namespace axon {

Config Regularizer::config() const { return active() ? Config::object().set("l1", l1).set("l2", l2) : Config(); }

Regularizer Regularizer::from_config(const ConfigReader& c) {
  c.expect_object();
  const Regularizer result{c.number_or("l1", 0.0, 0, INFINITY), c.number_or("l2", 0.0, 0, INFINITY)};
  c.reject_unknown();
  return result;
}

}  // namespace axon
