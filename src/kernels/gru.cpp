#include "kernels/gru.h"

#include <algorithm>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/recurrent_steps.h"

namespace axon::kernels {

namespace {

// One step's gates for one sequence: x (3U) the input's part, rec (3U) h U + b; z, r, the
// candidate and rec's candidate block into a (4U); the new h into out (U) and h (U). A
// loop per gate, so that each vectorises.
template <class T>
void gate_pass(const T* __restrict x, const T* __restrict rec, T* __restrict a, T* __restrict out, T* __restrict h,
               int64_t units) {
  T *z = a, *r = a + units, *candidate = a + 2 * units, *rec_h = a + 3 * units;
  for (int64_t j = 0; j < units; ++j) z[j] = sigmoid_of(x[j] + rec[j]);
  for (int64_t j = 0; j < units; ++j) r[j] = sigmoid_of(x[units + j] + rec[units + j]);
  for (int64_t j = 0; j < units; ++j) {
    rec_h[j] = rec[2 * units + j];
    candidate[j] = tanh_of(x[2 * units + j] + r[j] * rec_h[j]);
  }
  for (int64_t j = 0; j < units; ++j) {
    const T next = z[j] * h[j] + (T(1) - z[j]) * candidate[j];
    out[j] = next;
    h[j] = next;
  }
}

template <class T>
Tensor forward(const Tensor& projected, const Tensor& recurrent, const Tensor& bias, const Tensor& h0, bool reverse,
               const float* mask, const Tensor& dropped, Tensor& gates, Gemm<T> gemm_fn) {
  const int64_t batch = projected.dim(0), time = projected.dim(1), width = projected.dim(2), units = width / 3;
  Tensor states = Tensor::empty(Shape{batch, time, units}, projected.dtype());
  gates = Tensor::empty(Shape{batch, time, 4 * units}, projected.dtype());
  const T* xp = projected.data<T>();
  T *hs = states.data<T>(), *act = gates.data<T>();
  Tensor h_now = h0.clone(), rec = Tensor::empty(Shape{batch, width}, projected.dtype());
  T *h = h_now.data<T>(), *rs = rec.data<T>();
  std::vector<T> h_masked;  // h with recurrent dropout's mask
  for (int64_t s = 0; s < time; ++s) {
    const int64_t t = reverse ? time - 1 - s : s;
    const T* h_in = masked_state(h, dropped, h_masked);  // what multiplies U
    if (bias.defined())  // rec = h U + b: the bias first, GEMM adding onto it
      for (int64_t b = 0; b < batch; ++b) std::copy_n(bias.data<T>(), width, rs + b * width);
    gemm_fn(false, false, batch, width, units, T(1), h_in, units, recurrent.data<T>(), width,
            bias.defined() ? T(1) : T(0), rs, width);
    parallel_for(batch, units * kGateCost, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        T* a = act + (b * time + s) * 4 * units;
        T* out = hs + (b * time + s) * units;
        if (!real_step(mask, time, b, t)) {  // padding: h carries over
          std::fill(a, a + 4 * units, T(0));
          std::copy_n(h + b * units, units, out);
          continue;
        }
        gate_pass(xp + (b * time + t) * width, rs + b * width, a, out, h + b * units, units);
      }
    });
  }
  return states;
}

// With d the gradient reaching h at a step: h = z h_prev + (1 - z) n, n = tanh(x_n + r rec_n):
//   dz = d (h_prev - n) z (1 - z), dn = d (1 - z) (1 - n^2), dr = dn rec_n r (1 - r),
//   the input part gets (dz, dr, dn), the recurrent part (dz, dr, dn r), and
//   dh_prev = d z + (recurrent part) U^T.
template <class T>
GruGradients backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates, const Tensor& recurrent,
                      const Tensor& bias, const Tensor& h0, bool reverse, const float* mask, const Tensor& dropped,
                      Gemm<T> gemm_fn) {
  const int64_t batch = gates.dim(0), time = gates.dim(1), units = gates.dim(2) / 4, width = 3 * units;
  const DType dtype = gates.dtype();
  GruGradients grads{Tensor::zeros(Shape{batch, time, width}, dtype), Tensor::zeros(recurrent.shape(), dtype),
                     bias.defined() ? Tensor::zeros(bias.shape(), dtype) : Tensor(), Tensor::zeros(h0.shape(), dtype)};
  // The recurrent part's gradient and what multiplied U, for every step as (b, t) rows.
  Tensor recurrent_part = Tensor::zeros(Shape{batch, time, width}, dtype);
  Tensor h_before = Tensor::zeros(Shape{batch, time, units}, dtype), direct = Tensor::empty(h0.shape(), dtype);
  const T *g_out = grad_states.data<T>(), *hs = states.data<T>(), *act = gates.data<T>();
  T *dx_all = grads.projected.data<T>(), *drec_all = recurrent_part.data<T>(), *dh = grads.h0.data<T>();
  T *before = h_before.data<T>(), *through = direct.data<T>();
  const T* keep = dropped.defined() ? dropped.data<T>() : nullptr;
  for (int64_t s = time - 1; s >= 0; --s) {
    const int64_t t = reverse ? time - 1 - s : s;
    parallel_for(batch, units * kGateCost, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        const T* gs = g_out + (b * time + s) * units;
        const T* h_prev = s > 0 ? hs + (b * time + s - 1) * units : h0.data<T>() + b * units;
        T* past = through + b * units;
        if (!real_step(mask, time, b, t)) {  // padding: the gradient passes to the step before as it is
          for (int64_t j = 0; j < units; ++j) past[j] = gs[j] + dh[b * units + j];
          continue;
        }
        const T *a = act + (b * time + s) * 4 * units, *z = a, *r = a + units, *n = a + 2 * units,
                *rec_n = a + 3 * units;
        T *dx = dx_all + (b * time + t) * width, *drec = drec_all + (b * time + t) * width;
        T* in = before + (b * time + t) * units;
        for (int64_t j = 0; j < units; ++j) {
          const T d = gs[j] + dh[b * units + j];
          const T dz = d * (h_prev[j] - n[j]) * z[j] * (T(1) - z[j]);
          const T dn = d * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
          const T dr = dn * rec_n[j] * r[j] * (T(1) - r[j]);
          dx[j] = dz, dx[units + j] = dr, dx[2 * units + j] = dn;
          drec[j] = dz, drec[units + j] = dr, drec[2 * units + j] = dn * r[j];
          past[j] = d * z[j];
          in[j] = h_prev[j] * (keep ? keep[b * units + j] : T(1));
        }
      }
    });
    // dh_{s-1} = (recurrent part) U^T through the dropout mask, plus the direct part.
    gemm_fn(false, true, batch, units, width, T(1), drec_all + t * width, time * width, recurrent.data<T>(), width,
            T(0), dh, units);
    for (int64_t i = 0; i < batch * units; ++i) dh[i] = (keep ? dh[i] * keep[i] : dh[i]) + through[i];
  }
  // dU = sum over steps of (what multiplied U)^T (recurrent part): one GEMM over all rows.
  gemm_fn(true, false, units, width, batch * time, T(1), before, units, drec_all, width, T(0),
          grads.recurrent.data<T>(), width);
  if (bias.defined()) {
    T* db = grads.recurrent_bias.data<T>();
    for (int64_t row = 0; row < batch * time; ++row)
      for (int64_t k = 0; k < width; ++k) db[k] += drec_all[row * width + k];
  }
  return grads;
}

void check(const Tensor& projected, const Tensor& recurrent, const Tensor& bias, const Tensor& h0) {
  const int64_t width = projected.rank() == 3 ? projected.dim(2) : 0, units = width / 3;
  if (projected.rank() != 3 || width % 3 != 0 || width == 0 || recurrent.shape() != Shape{units, width} ||
      (bias.defined() && bias.shape() != Shape{width}) || h0.shape() != Shape{projected.dim(0), units})
    fail("gru_sequence: projected must be (batch, time, 3 units), the recurrent kernel (units, 3 units), its bias "
         "(3 units) and h0 (batch, units); got ",
         projected.shape(), ", ", recurrent.shape(), ", ", bias.defined() ? bias.shape() : Shape{}, " and ", h0.shape());
}

Tensor run_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& bias, const Tensor& h0, bool reverse,
                   const Tensor& mask, const Tensor& dropped, Tensor& gates, bool naive) {
  check(projected, recurrent, bias, h0);
  const float* m = step_mask("gru_sequence", mask, projected);
  check_dropped("gru_sequence", dropped, h0);
  if (projected.dtype() == DType::f64)
    return forward<double>(projected, recurrent, bias, h0, reverse, m, dropped, gates, pick_gemm<double>(naive));
  return forward<float>(projected, recurrent, bias, h0, reverse, m, dropped, gates, pick_gemm<float>(naive));
}

GruGradients run_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates, const Tensor& recurrent,
                          const Tensor& bias, const Tensor& h0, bool reverse, const Tensor& mask, const Tensor& dropped,
                          bool naive) {
  const float* m = step_mask("gru_sequence", mask, gates);
  if (gates.dtype() == DType::f64)
    return backward<double>(grad_states, states, gates, recurrent, bias, h0, reverse, m, dropped,
                            pick_gemm<double>(naive));
  return backward<float>(grad_states, states, gates, recurrent, bias, h0, reverse, m, dropped,
                         pick_gemm<float>(naive));
}

}  // namespace

Tensor gru_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0,
                   bool reverse, Tensor& gates, const Tensor& mask, const Tensor& dropped) {
  return run_forward(projected, recurrent, recurrent_bias, h0, reverse, mask, dropped, gates, false);
}

GruGradients gru_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                          const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0, bool reverse,
                          const Tensor& mask, const Tensor& dropped) {
  return run_backward(grad_states, states, gates, recurrent, recurrent_bias, h0, reverse, mask, dropped, false);
}

Tensor gru_forward_naive(const Tensor& projected, const Tensor& recurrent, const Tensor& recurrent_bias,
                         const Tensor& h0, bool reverse, Tensor& gates, const Tensor& mask, const Tensor& dropped) {
  return run_forward(projected, recurrent, recurrent_bias, h0, reverse, mask, dropped, gates, true);
}

GruGradients gru_backward_naive(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                                const Tensor& recurrent, const Tensor& recurrent_bias, const Tensor& h0, bool reverse,
                                const Tensor& mask, const Tensor& dropped) {
  return run_backward(grad_states, states, gates, recurrent, recurrent_bias, h0, reverse, mask, dropped, true);
}

}  // namespace axon::kernels
