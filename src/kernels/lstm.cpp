#include "kernels/lstm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/recurrent_steps.h"

namespace axon::kernels {

namespace {

// One step's gates for one sequence: z (4U) the recurrent part, x (4U) the input's; the
// activated gates and tanh(c) into a (5U), [h, c] into out (2U), and c, h (U) updated in
// place. A loop per gate, then one for the state: with separate pointers (restrict) and
// fast_exp each loop vectorises (one loop doing it all did not).
template <class T>
void gate_pass(const T* __restrict z, const T* __restrict x, T* __restrict a, T* __restrict out, T* __restrict c,
               T* __restrict h, int64_t units) {
  for (int64_t k = 0; k < 4; ++k) {  // i, f, g, o
    const T *zk = z + k * units, *xk = x + k * units;
    T* ak = a + k * units;
    if (k == 2)
      for (int64_t j = 0; j < units; ++j) ak[j] = tanh_of(zk[j] + xk[j]);
    else
      for (int64_t j = 0; j < units; ++j) ak[j] = sigmoid_of(zk[j] + xk[j]);
  }
  for (int64_t j = 0; j < units; ++j) {
    const T cell = a[units + j] * c[j] + a[j] * a[2 * units + j];
    const T tanh_cell = tanh_of(cell);
    const T hidden = a[3 * units + j] * tanh_cell;
    a[4 * units + j] = tanh_cell;
    out[j] = hidden, out[units + j] = cell;
    c[j] = cell, h[j] = hidden;
  }
}

template <class T>
Tensor forward(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
               const float* mask, const Tensor& dropped, Tensor& gates, Gemm<T> gemm_fn) {
  const int64_t batch = projected.dim(0), time = projected.dim(1), width = projected.dim(2), units = width / 4;
  Tensor states = Tensor::empty(Shape{batch, time, 2 * units}, projected.dtype());
  gates = Tensor::empty(Shape{batch, time, 5 * units}, projected.dtype());
  const T* xp = projected.data<T>();
  T* hc = states.data<T>();
  T* act = gates.data<T>();
  Tensor h_prev = h0.clone(), c_prev = c0.clone(), z = Tensor::empty(Shape{batch, width}, projected.dtype());
  T* h = h_prev.data<T>();
  T* c = c_prev.data<T>();
  T* zs = z.data<T>();
  std::vector<T> h_masked;  // h with recurrent dropout's mask
  for (int64_t s = 0; s < time; ++s) {
    const int64_t t = reverse ? time - 1 - s : s;
    const T* h_in = masked_state(h, dropped, h_masked);  // what multiplies U
    gemm_fn(false, false, batch, width, units, T(1), h_in, units, recurrent.data<T>(), width, T(0), zs, width);
    parallel_for(batch, units * kGateCost, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        const T* zb = zs + b * width;               // h U
        const T* xb = xp + (b * time + t) * width;  // x W + b
        T* a = act + (b * time + s) * 5 * units;
        T* out = hc + (b * time + s) * 2 * units;
        if (!real_step(mask, time, b, t)) {  // padding: the state carries over
          std::fill(a, a + 5 * units, T(0));
          std::copy_n(h + b * units, units, out);
          std::copy_n(c + b * units, units, out + units);
          continue;
        }
        gate_pass(zb, xb, a, out, c + b * units, h + b * units, units);
      }
    });
  }
  return states;
}

template <class T>
LstmGradients backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates, const Tensor& recurrent,
                       const Tensor& h0, const Tensor& c0, bool reverse, const float* mask, const Tensor& dropped,
                       Gemm<T> gemm_fn) {
  const int64_t batch = gates.dim(0), time = gates.dim(1), units = gates.dim(2) / 5, width = 4 * units;
  const DType dtype = gates.dtype();
  LstmGradients grads{Tensor::zeros(Shape{batch, time, width}, dtype), Tensor::zeros(recurrent.shape(), dtype),
                      Tensor::zeros(h0.shape(), dtype), Tensor::zeros(c0.shape(), dtype)};
  // h_{s-1} for every step, laid out as the gradient of `projected` is: (b, t) rows.
  Tensor h_before = Tensor::empty(Shape{batch, time, units}, dtype);
  const T *g_out = grad_states.data<T>(), *hc = states.data<T>(), *act = gates.data<T>();
  T *dz_all = grads.projected.data<T>(), *dh = grads.h0.data<T>(), *dc = grads.c0.data<T>();
  T* before = h_before.data<T>();
  const T* keep = dropped.defined() ? dropped.data<T>() : nullptr;
  // A padded step passes the gradient of h straight to the step before, around the GEMM.
  Tensor carried = mask ? Tensor::zeros(h0.shape(), dtype) : Tensor();
  for (int64_t s = time - 1; s >= 0; --s) {
    const int64_t t = reverse ? time - 1 - s : s;
    parallel_for(batch, units * kGateCost, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        const T* gs = g_out + (b * time + s) * 2 * units;
        const T* a = act + (b * time + s) * 5 * units;
        const T* prev = s > 0 ? hc + (b * time + s - 1) * 2 * units : nullptr;
        T* dz = dz_all + (b * time + t) * width;
        if (!real_step(mask, time, b, t)) {  // dz stays 0; c's gradient passes on as it is
          T* carry = carried.data<T>() + b * units;
          for (int64_t j = 0; j < units; ++j) {
            carry[j] = gs[j] + dh[b * units + j];
            dc[b * units + j] += gs[units + j];
            before[(b * time + t) * units + j] = T(0);
          }
          continue;
        }
        if (mask) std::fill_n(carried.data<T>() + b * units, units, T(0));
        for (int64_t j = 0; j < units; ++j) {
          const T i = a[j], f = a[units + j], g = a[2 * units + j], o = a[3 * units + j];
          const T tanh_c = a[4 * units + j];
          const T c_before = prev ? prev[units + j] : c0.data<T>()[b * units + j];
          const T d_h = gs[j] + dh[b * units + j];
          const T d_c = gs[units + j] + dc[b * units + j] + d_h * o * (T(1) - tanh_c * tanh_c);
          dz[j] = d_c * g * i * (T(1) - i);
          dz[units + j] = d_c * c_before * f * (T(1) - f);
          dz[2 * units + j] = d_c * i * (T(1) - g * g);
          dz[3 * units + j] = d_h * tanh_c * o * (T(1) - o);
          dc[b * units + j] = d_c * f;
          before[(b * time + t) * units + j] =
              (prev ? prev[j] : h0.data<T>()[b * units + j]) * (keep ? keep[b * units + j] : T(1));
        }
      }
    });
    // dh_{s-1} = dz_s U^T; dz_s's rows are `time * width` apart in the gradient of `projected`.
    gemm_fn(false, true, batch, units, width, T(1), dz_all + t * width, time * width, recurrent.data<T>(), width, T(0),
            dh, units);
    if (keep)  // through recurrent dropout's mask
      for (int64_t i = 0; i < batch * units; ++i) dh[i] *= keep[i];
    if (mask)
      for (int64_t i = 0; i < batch * units; ++i) dh[i] += carried.data<T>()[i];
  }
  // dU = sum over steps of h_{s-1}^T dz_s: one GEMM over all (b, t) rows.
  gemm_fn(true, false, units, width, batch * time, T(1), before, units, dz_all, width, T(0), grads.recurrent.data<T>(),
          width);
  return grads;
}

Tensor run_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                   const Tensor& mask, const Tensor& dropped, Tensor& gates, bool naive) {
  const float* m = step_mask("lstm_sequence", mask, projected);
  check_dropped("lstm_sequence", dropped, h0);
  if (projected.dtype() == DType::f64)
    return forward<double>(projected, recurrent, h0, c0, reverse, m, dropped, gates, pick_gemm<double>(naive));
  return forward<float>(projected, recurrent, h0, c0, reverse, m, dropped, gates, pick_gemm<float>(naive));
}

LstmGradients run_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                           const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                           const Tensor& mask, const Tensor& dropped, bool naive) {
  const float* m = step_mask("lstm_sequence", mask, gates);
  check_dropped("lstm_sequence", dropped, h0);
  if (gates.dtype() == DType::f64)
    return backward<double>(grad_states, states, gates, recurrent, h0, c0, reverse, m, dropped, pick_gemm<double>(naive));
  return backward<float>(grad_states, states, gates, recurrent, h0, c0, reverse, m, dropped, pick_gemm<float>(naive));
}

}  // namespace

Tensor lstm_forward(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                    Tensor& gates, const Tensor& mask, const Tensor& dropped) {
  return run_forward(projected, recurrent, h0, c0, reverse, mask, dropped, gates, false);
}

LstmGradients lstm_backward(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                            const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                            const Tensor& mask, const Tensor& dropped) {
  return run_backward(grad_states, states, gates, recurrent, h0, c0, reverse, mask, dropped, false);
}

Tensor lstm_forward_naive(const Tensor& projected, const Tensor& recurrent, const Tensor& h0, const Tensor& c0,
                          bool reverse, Tensor& gates, const Tensor& mask, const Tensor& dropped) {
  return run_forward(projected, recurrent, h0, c0, reverse, mask, dropped, gates, true);
}

LstmGradients lstm_backward_naive(const Tensor& grad_states, const Tensor& states, const Tensor& gates,
                                  const Tensor& recurrent, const Tensor& h0, const Tensor& c0, bool reverse,
                                  const Tensor& mask, const Tensor& dropped) {
  return run_backward(grad_states, states, gates, recurrent, h0, c0, reverse, mask, dropped, true);
}

}  // namespace axon::kernels
