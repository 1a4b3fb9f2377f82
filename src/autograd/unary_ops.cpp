// Elementwise functions and activations. Forward values and derivative rules live in
// one table in kernels/elementwise.cpp; here each op is one line.
#include <cmath>

#include "axon/ops.h"
#include "kernels/elementwise.h"

namespace axon {

using kernels::Unary;
using kernels::UnaryArgs;

namespace {

Variable unary_op(const char* name, Unary op, const Variable& x, UnaryArgs args = {}) {
  const Tensor vx = x.value();
  const Tensor y = kernels::unary(op, vx, args);
  return Variable::make(name, y, {x},
                        [op, vx, y, args](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {kernels::unary_backward(op, vx, y, g, args)};
                        });
}

}  // namespace

Variable neg(const Variable& x) { return unary_op("neg", Unary::neg, x); }
Variable exp(const Variable& x) { return unary_op("exp", Unary::exp, x); }
Variable log(const Variable& x) { return unary_op("log", Unary::log, x); }
Variable sqrt(const Variable& x) { return unary_op("sqrt", Unary::sqrt, x); }
Variable abs(const Variable& x) { return unary_op("abs", Unary::abs, x); }
Variable square(const Variable& x) { return unary_op("square", Unary::square, x); }
Variable pow(const Variable& x, double exponent) {
  if (!std::isfinite(exponent)) fail("pow: exponent must be finite, got ", exponent);
  return unary_op("pow_scalar", Unary::pow_scalar, x, {exponent, 0});
}
Variable clamp(const Variable& x, double low, double high) {
  if (!(low <= high)) fail("clamp: low ", low, " is above high ", high);
  return unary_op("clamp", Unary::clamp, x, {low, high});
}
Variable relu(const Variable& x) { return unary_op("relu", Unary::relu, x); }
Variable leaky_relu(const Variable& x, double negative_slope) {
  if (!std::isfinite(negative_slope)) fail("leaky_relu: negative_slope must be finite, got ", negative_slope);
  return unary_op("leaky_relu", Unary::leaky_relu, x, {negative_slope, 0});
}
Variable elu(const Variable& x, double alpha) {
  if (!std::isfinite(alpha)) fail("elu: alpha must be finite, got ", alpha);
  return unary_op("elu", Unary::elu, x, {alpha, 0});
}
Variable gelu(const Variable& x) { return unary_op("gelu", Unary::gelu, x); }
Variable silu(const Variable& x) { return unary_op("silu", Unary::silu, x); }
Variable sigmoid(const Variable& x) { return unary_op("sigmoid", Unary::sigmoid, x); }
Variable tanh(const Variable& x) { return unary_op("tanh", Unary::tanh, x); }

}  // namespace axon
