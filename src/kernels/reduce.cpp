#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

// x viewed as (outer, n, inner) around `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisView view_around(const Shape& shape, int64_t axis) {
  AxisView v;
  for (int64_t d = 0; d < shape.rank(); ++d) {
    const int64_t size = shape.dims()[static_cast<size_t>(d)];
    if (d < axis)
      v.outer *= size;
    else if (d == axis)
      v.n = size;
    else
      v.inner *= size;
  }
  return v;
}

Shape reduced_shape(const Shape& shape, int64_t axis, bool keepdim) {
  std::vector<int64_t> dims = shape.dims();
  if (keepdim)
    dims[static_cast<size_t>(axis)] = 1;
  else
    dims.erase(dims.begin() + axis);
  return Shape(dims);
}

void check_input(const Tensor& x, const char* op) {
  if (!x.defined()) fail(op, ": undefined tensor");
}

}  // namespace

Tensor sum_all(const Tensor& x) {
  check_input(x, "sum");
  Tensor out = Tensor::empty(Shape{}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* p = x.data<T>();
    // Partial sums of fixed blocks, added in order: the same total on any thread count.
    const int64_t n = x.numel(), block = kParallelThreshold, blocks = (n + block - 1) / block;
    std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
    parallel_for(blocks, block, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        double total = 0;
        for (int64_t i = b * block; i < std::min(n, (b + 1) * block); ++i) total += static_cast<double>(p[i]);
        partial[static_cast<size_t>(b)] = total;
      }
    });
    double total = 0;
    for (double s : partial) total += s;
    out.data<T>()[0] = static_cast<T>(total);
  });
  return out;
}

Tensor sum_axis(const Tensor& x, int64_t axis, bool keepdim) {
  check_input(x, "sum");
  axis = x.shape().axis(axis, "sum");
  const AxisView v = view_around(x.shape(), axis);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axis, keepdim), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (v.inner == 1) {  // contiguous rows: one sum per row
      parallel_for(v.outer, v.n, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          double total = 0;
          const T* row = px + o * v.n;
          for (int64_t k = 0; k < v.n; ++k) total += static_cast<double>(row[k]);
          po[o] = static_cast<T>(total);
        }
      });
      return;
    }
    // Add whole (inner)-length rows: vectorises along inner. Split over outer, or over
    // columns of inner when outer is too small to feed the threads.
    const bool split_inner = v.outer < num_threads();
    const int64_t work = split_inner ? v.inner : v.outer;
    parallel_for(work, v.n * (split_inner ? 1 : v.inner), [&](int64_t begin, int64_t end) {
      const int64_t o0 = split_inner ? 0 : begin, o1 = split_inner ? v.outer : end;
      const int64_t i0 = split_inner ? begin : 0, i1 = split_inner ? end : v.inner;
      for (int64_t o = o0; o < o1; ++o) {
        T* dst = po + o * v.inner;
        for (int64_t i = i0; i < i1; ++i) dst[i] = T(0);
        for (int64_t k = 0; k < v.n; ++k) {
          const T* src = px + (o * v.n + k) * v.inner;
          for (int64_t i = i0; i < i1; ++i) dst[i] += src[i];
        }
      }
    });
  });
  return out;
}

Tensor sum_axis_naive(const Tensor& x, int64_t axis, bool keepdim) {
  check_input(x, "sum");
  axis = x.shape().axis(axis, "sum");
  const AxisView v = view_around(x.shape(), axis);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axis, keepdim), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        double total = 0;
        for (int64_t k = 0; k < v.n; ++k) total += static_cast<double>(x.data<T>()[(o * v.n + k) * v.inner + i]);
        out.data<T>()[o * v.inner + i] = static_cast<T>(total);
      }
  });
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (shape.rank() > x.rank()) fail("sum_to: cannot reduce ", x.shape(), " to ", shape);
  Tensor result = x;
  const int64_t lead = x.rank() - shape.rank();
  if (lead > 0) {  // fold the leading axes into one and sum it away
    std::vector<int64_t> dims(x.shape().dims().begin() + lead, x.shape().dims().end());
    int64_t folded = 1;
    for (int64_t d = 0; d < lead; ++d) folded *= x.dim(d);
    dims.insert(dims.begin(), folded);
    result = sum_axis(result.reshape(dims), 0, false);
  }
  for (int64_t d = 0; d < shape.rank(); ++d) {
    const int64_t target = shape.dims()[static_cast<size_t>(d)], have = result.dim(d);
    if (target == have) continue;
    if (target != 1) fail("sum_to: cannot reduce ", x.shape(), " to ", shape);
    result = sum_axis(result, d, true);
  }
  return result;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes(x.shape(), shape, "broadcast_to") != shape)
    fail("broadcast_to: cannot broadcast ", x.shape(), " to ", shape);
  return binary(Binary::add, Tensor::zeros(shape, x.dtype()), x);
}

MaxResult max_axis(const Tensor& x, int64_t axis, bool keepdim) {
  check_input(x, "max");
  axis = x.shape().axis(axis, "max");
  const AxisView v = view_around(x.shape(), axis);
  if (v.n == 0) fail("max: axis ", axis, " of shape ", x.shape(), " is empty");
  MaxResult result{Tensor::empty(reduced_shape(x.shape(), axis, keepdim), x.dtype()),
                   std::vector<int64_t>(static_cast<size_t>(v.outer * v.inner))};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = result.values.data<T>();
    parallel_for(v.outer, v.n * v.inner, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o)
        for (int64_t i = 0; i < v.inner; ++i) {
          int64_t best = 0;
          T best_value = px[o * v.n * v.inner + i];
          for (int64_t k = 1; k < v.n; ++k) {
            const T value = px[(o * v.n + k) * v.inner + i];
            if (value > best_value || (std::isnan(value) && !std::isnan(best_value))) {
              best_value = value;
              best = k;
            }
          }
          po[o * v.inner + i] = best_value;
          result.indices[static_cast<size_t>(o * v.inner + i)] = best;
        }
    });
  });
  return result;
}

namespace {

// Softmax or log-softmax along `axis` into y (x's shape and dtype; x itself for the
// softmax, whose passes read each value before they write it), max-shifted so exp never
// overflows.
void softmax_into(const Tensor& x, int64_t axis, bool log, Tensor& y) {
  check_input(x, log ? "log_softmax" : "softmax");
  axis = x.shape().axis(axis, log ? "log_softmax" : "softmax");
  const AxisView v = view_around(x.shape(), axis);
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_for(v.outer * v.inner, v.n * 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t o = r / v.inner, i = r % v.inner;
        const T* in = px + o * v.n * v.inner + i;
        T* out = py + o * v.n * v.inner + i;
        T max = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < v.n; ++k) max = std::max(max, in[k * v.inner]);
        if (std::isinf(max)) max = 0;  // all -inf (or +inf present): avoid inf - inf
        T total = 0;
        for (int64_t k = 0; k < v.n; ++k) {
          const T e = std::exp(in[k * v.inner] - max);
          out[k * v.inner] = e;
          total += e;
        }
        if (log) {
          const T log_total = std::log(total) + max;
          for (int64_t k = 0; k < v.n; ++k) out[k * v.inner] = in[k * v.inner] - log_total;
        } else {
          const T inv = T(1) / total;
          for (int64_t k = 0; k < v.n; ++k) out[k * v.inner] *= inv;
        }
      }
    });
  });
}

Tensor softmax_impl(const Tensor& x, int64_t axis, bool log) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  softmax_into(x, axis, log, y);
  return y;
}

// dx = y * (g - sum(g * y))  (softmax)   or   dx = g - exp(y) * sum(g)  (log_softmax)
Tensor softmax_backward_impl(const Tensor& y, const Tensor& g, int64_t axis, bool log) {
  if (y.shape() != g.shape()) fail("softmax_backward: shapes ", y.shape(), " and ", g.shape(), " differ");
  axis = y.shape().axis(axis, "softmax_backward");
  const AxisView v = view_around(y.shape(), axis);
  Tensor dx = Tensor::empty(y.shape(), y.dtype());
  dispatch(y.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *py = y.data<T>(), *pg = g.data<T>();
    T* pd = dx.data<T>();
    parallel_for(v.outer * v.inner, v.n * 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t base = (r / v.inner) * v.n * v.inner + r % v.inner;
        T dot = 0;
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t j = base + k * v.inner;
          dot += log ? pg[j] : pg[j] * py[j];
        }
        for (int64_t k = 0; k < v.n; ++k) {
          const int64_t j = base + k * v.inner;
          pd[j] = log ? pg[j] - std::exp(py[j]) * dot : py[j] * (pg[j] - dot);
        }
      }
    });
  });
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false); }
void softmax_in_place(Tensor& x, int64_t axis) { softmax_into(x, axis, false, x); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true); }

Tensor softmax_naive(const Tensor& x, int64_t axis) {
  // exp(x - max) / sum(exp(x - max)) from the other kernels, one step at a time.
  axis = x.shape().axis(axis, "softmax");
  const Tensor shifted = binary_naive(Binary::sub, x, max_axis(x, axis, true).values);
  const Tensor e = unary(Unary::exp, shifted);
  return binary_naive(Binary::div, e, sum_axis_naive(e, axis, true));
}

Tensor softmax_backward(const Tensor& y, const Tensor& g, int64_t axis) {
  return softmax_backward_impl(y, g, axis, false);
}
Tensor log_softmax_backward(const Tensor& y, const Tensor& g, int64_t axis) {
  return softmax_backward_impl(y, g, axis, true);
}

}  // namespace axon::kernels
