// matmul and the fused linear layer op; both run on OpenBLAS GEMM.
#include "axon/ops.h"

#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace axon {

using kernels::matmul;

// y = a @ b;  da = g @ b^T,  db = a^T @ g (summed over the batch when b is shared).
Variable matmul(const Variable& a, const Variable& b) {
  const Tensor va = a.value(), vb = b.value();
  return Variable::make(
      "matmul", matmul(va, false, vb, false, "matmul"), {a, b},
      [va, vb](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
        std::vector<Tensor> grads(2);
        if (needs[0]) grads[0] = matmul(g, false, vb, true);
        if (needs[1])
          grads[1] = vb.rank() == 2 && va.rank() > 2
                         ? matmul(va.reshape({-1, va.dim(-1)}), true, g.reshape({-1, g.dim(-1)}), false)
                         : matmul(va, true, g, false);
        return grads;
      });
}

// x: (..., in) viewed as x2: (rows, in); weight: (in, out); bias: (out,).
// y = x2 @ weight + bias, then relu when asked, in one pass (kernels::gemm_bias_act).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias, bool relu) {
  if (weight.rank() != 2) fail("linear: weight must be 2-D (in, out), got ", weight.shape());
  if (x.rank() < 1) fail("linear: input must have rank >= 1, got ", x.shape());
  const int64_t in = weight.dim(0), out = weight.dim(1);
  if (x.dim(-1) != in) fail("linear: input ", x.shape(), " x weight ", weight.shape(), ": inner dimensions differ");
  if (bias.defined() && bias.shape() != Shape{out})
    fail("linear: bias ", bias.shape(), " does not match weight ", weight.shape());
  if (x.dtype() != weight.dtype())
    fail("linear: dtypes differ (", dtype_name(x.dtype()), " x ", dtype_name(weight.dtype()), ")");

  const Tensor x2 = x.value().reshape({-1, in}), w = weight.value();
  const int64_t rows = x2.dim(0);
  std::vector<int64_t> out_dims = x.shape().dims();
  out_dims.back() = out;
  Tensor y = Tensor::empty(Shape{rows, out}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    kernels::gemm_bias_act<T>(rows, out, in, x2.data<T>(), w.data<T>(),
                              bias.defined() ? bias.value().template data<T>() : nullptr, relu, y.data<T>());
  });

  const Shape x_shape = x.shape();
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return Variable::make("linear", y.reshape(out_dims), inputs,
                        [x2, w, x_shape, out, y, relu](const Tensor& g,
                                                       const std::vector<bool>& needs) -> std::vector<Tensor> {
                          // Through the relu first: the gradient where y > 0.
                          const Tensor g2 = relu ? kernels::unary_backward(kernels::Unary::relu, y, y, g.reshape({-1, out}))
                                                 : g.reshape({-1, out});
                          std::vector<Tensor> grads(needs.size());
                          if (needs[0]) grads[0] = matmul(g2, false, w, true).reshape(x_shape.dims());
                          if (needs[1]) grads[1] = matmul(x2, true, g2, false);
                          if (needs.size() > 2 && needs[2]) grads[2] = kernels::sum_axis(g2, 0, false);
                          return grads;
                        });
}

}  // namespace axon
