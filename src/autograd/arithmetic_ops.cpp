// add, sub, mul, div, pow (broadcasting) and their operators. A broadcast input's
// gradient is summed back down to its own shape.
#include "axon/ops.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace axon {

using kernels::Binary;
using kernels::binary;
using kernels::sum_to;

namespace {

Tensor times(const Tensor& a, const Tensor& b) { return binary(Binary::mul, a, b); }
Tensor over(const Tensor& a, const Tensor& b) { return binary(Binary::div, a, b); }

Variable constant(double value, const Variable& like) { return Variable(Tensor::scalar(value, like.dtype())); }

}  // namespace

Variable add(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return Variable::make("add", binary(Binary::add, a.value(), b.value()), {a, b},
                        [sa, sb](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                          return {sum_to(g, sa), sum_to(g, sb)};
                        });
}

Variable sub(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return Variable::make(
      "sub", binary(Binary::sub, a.value(), b.value()), {a, b},
      [sa, sb](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
        return {sum_to(g, sa), needs[1] ? sum_to(kernels::unary(kernels::Unary::neg, g), sb) : Tensor()};
      });
}

Variable mul(const Variable& a, const Variable& b) {
  const Tensor va = a.value(), vb = b.value();
  return Variable::make("mul", times(va, vb), {a, b},
                        [va, vb](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          return {needs[0] ? sum_to(times(g, vb), va.shape()) : Tensor(),
                                  needs[1] ? sum_to(times(g, va), vb.shape()) : Tensor()};
                        });
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -y/b
Variable div(const Variable& a, const Variable& b) {
  const Tensor va = a.value(), vb = b.value();
  const Tensor y = over(va, vb);
  return Variable::make("div", y, {a, b},
                        [y, va, vb](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          Tensor ga, gb;
                          if (needs[0]) ga = sum_to(over(g, vb), va.shape());
                          if (needs[1])
                            gb = sum_to(kernels::unary(kernels::Unary::neg, over(times(g, y), vb)), vb.shape());
                          return {ga, gb};
                        });
}

// d(a^b)/da = b * a^(b-1), d(a^b)/db = a^b * log(a)
Variable pow(const Variable& base, const Variable& exponent) {
  const Tensor va = base.value(), vb = exponent.value();
  const Tensor y = binary(Binary::pow, va, vb);
  return Variable::make("pow", y, {base, exponent},
                        [y, va, vb](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                          Tensor ga, gb;
                          if (needs[0]) {
                            const Tensor one = Tensor::scalar(1, vb.dtype());
                            const Tensor power = binary(Binary::pow, va, binary(Binary::sub, vb, one));
                            ga = sum_to(times(g, times(vb, power)), va.shape());
                          }
                          if (needs[1])
                            gb = sum_to(times(g, times(y, kernels::unary(kernels::Unary::log, va))), vb.shape());
                          return {ga, gb};
                        });
}

Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
Variable operator-(const Variable& x) { return neg(x); }
Variable operator+(const Variable& a, double b) { return add(a, constant(b, a)); }
Variable operator-(const Variable& a, double b) { return sub(a, constant(b, a)); }
Variable operator*(const Variable& a, double b) { return mul(a, constant(b, a)); }
Variable operator/(const Variable& a, double b) { return div(a, constant(b, a)); }
Variable operator+(double a, const Variable& b) { return add(constant(a, b), b); }
Variable operator-(double a, const Variable& b) { return sub(constant(a, b), b); }
Variable operator*(double a, const Variable& b) { return mul(constant(a, b), b); }
Variable operator/(double a, const Variable& b) { return div(constant(a, b), b); }

}  // namespace axon
