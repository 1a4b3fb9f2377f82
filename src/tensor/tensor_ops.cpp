#include "axon/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace axon {

namespace {

int type_order(DType dtype) {
  switch (dtype) {
    case DType::i8:
      return 0;
    case DType::i32:
      return 1;
    case DType::i64:
      return 2;
    case DType::f32:
      return 3;
    case DType::f64:
      return 4;
  }
  return 2;
}

DType promoted(DType a, DType b) { return type_order(a) >= type_order(b) ? a : b; }

void check(const Tensor& t, const char* op) {
  if (!t.defined()) fail(op, ": tensor is undefined");
}

// NumPy's rule (broadcast_shapes), in this API's words.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  try {
    return broadcast_shapes(a, b, op);
  } catch (const Error&) {
    fail(op, ": shapes ", a, " and ", b, " do not broadcast");
  }
}

// out[i] = f(a[.], b[.]) over the broadcast shape, a and b both of type T.
template <class T, class R, class F>
Tensor elementwise(const Tensor& a, const Tensor& b, DType out_dtype, const char* op, F f) {
  const Shape shape = broadcast_shape(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, out_dtype);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  R* po = out.data<R>();
  const int64_t n = shape.numel();
  if (a.shape() == shape && b.shape() == shape) {
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return out;
  }
  const std::vector<int64_t> sa = kernels::broadcast_strides(a.shape(), shape),
                             sb = kernels::broadcast_strides(b.shape(), shape);
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    po[i] = f(pa[ia], pb[ib]);
    for (int64_t d = shape.rank() - 1; d >= 0; --d) {  // odometer
      const auto k = static_cast<size_t>(d);
      ia += sa[k];
      ib += sb[k];
      if (++index[k] < shape[d]) break;
      ia -= sa[k] * shape[d];
      ib -= sb[k] * shape[d];
      index[k] = 0;
    }
  }
  return out;
}

enum class Arith { add, sub, mul, div };

Tensor arithmetic(const Tensor& a_in, const Tensor& b_in, Arith kind, const char* op) {
  check(a_in, op);
  check(b_in, op);
  DType type = promoted(a_in.dtype(), b_in.dtype());
  if (kind == Arith::div && !is_floating(type)) type = DType::f32;  // true division
  const Tensor a = a_in.dtype() == type ? a_in : a_in.to(type), b = b_in.dtype() == type ? b_in : b_in.to(type);
  return dispatch_any(type, [&](auto zero) {
    using T = decltype(zero);
    return elementwise<T, T>(a, b, type, op, [&](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        T r{};
        const bool overflow = kind == Arith::add   ? __builtin_add_overflow(x, y, &r)
                              : kind == Arith::sub ? __builtin_sub_overflow(x, y, &r)
                                                   : __builtin_mul_overflow(x, y, &r);
        if (overflow) fail(op, ": integer overflow");
        return r;
      } else {
        switch (kind) {
          case Arith::add:
            return x + y;
          case Arith::sub:
            return x - y;
          case Arith::mul:
            return x * y;
          case Arith::div:
            break;
        }
        return x / y;
      }
    });
  });
}

enum class Compare { eq, ne, lt, le, gt, ge };

Tensor comparison(const Tensor& a_in, const Tensor& b_in, Compare kind, const char* op) {
  check(a_in, op);
  check(b_in, op);
  const DType type = promoted(a_in.dtype(), b_in.dtype());
  const Tensor a = a_in.dtype() == type ? a_in : a_in.to(type), b = b_in.dtype() == type ? b_in : b_in.to(type);
  return dispatch_any(type, [&](auto zero) {
    using T = decltype(zero);
    return elementwise<T, int32_t>(a, b, DType::i32, op, [kind](T x, T y) -> int32_t {
      switch (kind) {
        case Compare::eq:
          return x == y;
        case Compare::ne:
          return x != y;
        case Compare::lt:
          return x < y;
        case Compare::le:
          return x <= y;
        case Compare::gt:
          return x > y;
        case Compare::ge:
          break;
      }
      return x >= y;
    });
  });
}

// A double as a 0-d tensor beside `t`: the tensor's type, unless an integer tensor
// meets a fraction (then float32, as PyTorch).
Tensor scalar_beside(const Tensor& t, double value) {
  check(t, "scalar");
  const bool whole = std::isfinite(value) && value == std::floor(value) && std::abs(value) < 9.0e15;
  return Tensor::scalar(value, is_floating(t.dtype()) || whole ? t.dtype() : DType::f32);
}

// The reduction of axis `axis` of x viewed as (outer, length, inner).
struct AxisView {
  int64_t outer = 1, length = 1, inner = 1;
  Shape out;
};

AxisView axis_view(const Tensor& x, int64_t axis, bool keepdim, const char* op) {
  const int64_t rank = x.rank();
  if (axis < -rank || axis >= rank) fail(op, ": axis ", axis, " is out of range for shape ", x.shape());
  if (axis < 0) axis += rank;
  AxisView v;
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < axis) v.outer *= x.dim(i);
    if (i > axis) v.inner *= x.dim(i);
    if (i != axis || keepdim) dims.push_back(i == axis ? 1 : x.dim(i));
  }
  v.length = x.dim(axis);
  v.out = Shape(dims);
  return v;
}

enum class Reduce { sum, mean, max, min, argmax };

DType reduced_type(DType in, Reduce kind) {
  if (kind == Reduce::argmax) return DType::i64;
  if (kind == Reduce::sum && !is_floating(in)) return DType::i64;
  if (kind == Reduce::mean && in == DType::i64) return DType::f64;
  if (kind == Reduce::mean && in == DType::i32) return DType::f32;
  return in;
}

Tensor reduce(const Tensor& x, const AxisView& v, Reduce kind, const char* op) {
  check(x, op);
  if (v.length == 0 && kind != Reduce::sum) fail(op, ": reduction over an empty axis of ", x.shape());
  const DType out_type = reduced_type(x.dtype(), kind);
  Tensor out = Tensor::empty(v.out, out_type);
  dispatch_any(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* p = x.data<T>();
    dispatch_any(out_type, [&](auto out_zero) {
      using R = decltype(out_zero);
      R* o = out.data<R>();
      for (int64_t outer = 0; outer < v.outer; ++outer)
        for (int64_t inner = 0; inner < v.inner; ++inner) {
          const T* first = p + outer * v.length * v.inner + inner;
          const auto at = [&](int64_t i) { return first[i * v.inner]; };
          R result{};
          if (kind == Reduce::sum || kind == Reduce::mean) {
            if constexpr (std::is_integral_v<T>) {
              int64_t total = 0;
              for (int64_t i = 0; i < v.length; ++i)
                if (__builtin_add_overflow(total, static_cast<int64_t>(at(i)), &total)) fail(op, ": integer overflow");
              result = kind == Reduce::sum ? static_cast<R>(total)
                                           : static_cast<R>(static_cast<double>(total) / static_cast<double>(v.length));
            } else {
              double total = 0;  // accumulated in double: more exact than the input type
              for (int64_t i = 0; i < v.length; ++i) total += static_cast<double>(at(i));
              result = static_cast<R>(kind == Reduce::sum ? total : total / static_cast<double>(v.length));
            }
          } else {
            int64_t best = 0;
            for (int64_t i = 1; i < v.length; ++i) {
              const bool better = kind == Reduce::min ? at(i) < at(best) : at(i) > at(best);
              if (better || (std::isnan(static_cast<double>(at(i))) && !std::isnan(static_cast<double>(at(best)))))
                best = i;  // NaN wins, as NumPy
            }
            result = kind == Reduce::argmax ? static_cast<R>(best) : static_cast<R>(at(best));
          }
          o[outer * v.inner + inner] = result;
        }
    });
  });
  return out;
}

Tensor reduce_all(const Tensor& x, Reduce kind, const char* op) {
  check(x, op);
  AxisView v;
  v.length = x.numel();
  v.out = Shape{};
  return reduce(x, v, kind, op);
}

Tensor reduce_axis(const Tensor& x, int64_t axis, bool keepdim, Reduce kind, const char* op) {
  check(x, op);
  return reduce(x, axis_view(x, axis, keepdim, op), kind, op);
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return arithmetic(a, b, Arith::add, "+"); }
Tensor operator-(const Tensor& a, const Tensor& b) { return arithmetic(a, b, Arith::sub, "-"); }
Tensor operator*(const Tensor& a, const Tensor& b) { return arithmetic(a, b, Arith::mul, "*"); }
Tensor operator/(const Tensor& a, const Tensor& b) { return arithmetic(a, b, Arith::div, "/"); }
Tensor operator+(const Tensor& a, double b) { return a + scalar_beside(a, b); }
Tensor operator-(const Tensor& a, double b) { return a - scalar_beside(a, b); }
Tensor operator*(const Tensor& a, double b) { return a * scalar_beside(a, b); }
Tensor operator/(const Tensor& a, double b) { return a / scalar_beside(a, b); }
Tensor operator+(double a, const Tensor& b) { return scalar_beside(b, a) + b; }
Tensor operator-(double a, const Tensor& b) { return scalar_beside(b, a) - b; }
Tensor operator*(double a, const Tensor& b) { return scalar_beside(b, a) * b; }
Tensor operator/(double a, const Tensor& b) { return scalar_beside(b, a) / b; }
Tensor operator-(const Tensor& x) { return Tensor::zeros({}, x.dtype()) - x; }

Tensor operator==(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::eq, "=="); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::ne, "!="); }
Tensor operator<(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::lt, "<"); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::le, "<="); }
Tensor operator>(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::gt, ">"); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return comparison(a, b, Compare::ge, ">="); }
Tensor operator==(const Tensor& a, double b) { return a == scalar_beside(a, b); }
Tensor operator!=(const Tensor& a, double b) { return a != scalar_beside(a, b); }
Tensor operator<(const Tensor& a, double b) { return a < scalar_beside(a, b); }
Tensor operator<=(const Tensor& a, double b) { return a <= scalar_beside(a, b); }
Tensor operator>(const Tensor& a, double b) { return a > scalar_beside(a, b); }
Tensor operator>=(const Tensor& a, double b) { return a >= scalar_beside(a, b); }

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check(a_in, "matmul");
  check(b_in, "matmul");
  if (a_in.rank() != 2 || b_in.rank() != 2 || a_in.dim(1) != b_in.dim(0))
    fail("matmul: shapes ", a_in.shape(), " and ", b_in.shape(), " do not multiply ((m, k) and (k, n))");
  const DType type = promoted(a_in.dtype(), b_in.dtype());
  const Tensor a = a_in.dtype() == type ? a_in : a_in.to(type), b = b_in.dtype() == type ? b_in : b_in.to(type);
  if (is_floating(type)) return kernels::matmul(a, false, b, false, "matmul");
  // Integers: exact, in int64, then the promoted type (which must hold the result).
  const int64_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
  const Tensor a64 = a.to(DType::i64), b64 = b.to(DType::i64);
  Tensor out = Tensor::zeros({m, n}, DType::i64);
  const int64_t *pa = a64.data<int64_t>(), *pb = b64.data<int64_t>();
  int64_t* po = out.data<int64_t>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) {
        int64_t product = 0;
        if (__builtin_mul_overflow(pa[i * k + p], pb[p * n + j], &product) ||
            __builtin_add_overflow(po[i * n + j], product, &po[i * n + j]))
          fail("matmul: integer overflow");
      }
  return type == DType::i64 ? out : out.to(type);
}

Tensor sum(const Tensor& x) { return reduce_all(x, Reduce::sum, "sum"); }
Tensor sum(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis(x, axis, keepdim, Reduce::sum, "sum"); }
Tensor mean(const Tensor& x) { return reduce_all(x, Reduce::mean, "mean"); }
Tensor mean(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis(x, axis, keepdim, Reduce::mean, "mean"); }
Tensor max(const Tensor& x) { return reduce_all(x, Reduce::max, "max"); }
Tensor max(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis(x, axis, keepdim, Reduce::max, "max"); }
Tensor min(const Tensor& x) { return reduce_all(x, Reduce::min, "min"); }
Tensor min(const Tensor& x, int64_t axis, bool keepdim) { return reduce_axis(x, axis, keepdim, Reduce::min, "min"); }
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  return reduce_axis(x, axis, keepdim, Reduce::argmax, "argmax");
}

}  // namespace axon
