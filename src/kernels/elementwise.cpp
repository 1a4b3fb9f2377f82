#include "kernels/elementwise.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

// The unary table: each rule holds its forward value f(x) and its derivative rule
// df(x, y, g) = g * dy/dx, side by side.
struct Neg {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return -x;
  }
  template <class T>
  static T df(T, T, T g, const UnaryArgs&) {
    return -g;
  }
};
struct Exp {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return std::exp(x);
  }
  template <class T>
  static T df(T, T y, T g, const UnaryArgs&) {
    return g * y;
  }
};
struct Log {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return std::log(x);
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    return g / x;
  }
};
struct Sqrt {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return std::sqrt(x);
  }
  template <class T>
  static T df(T, T y, T g, const UnaryArgs&) {
    return g / (T(2) * y);
  }
};
struct Abs {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return std::abs(x);
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    return x > 0 ? g : (x < 0 ? -g : T(0));
  }
};
struct Square {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return x * x;
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    return T(2) * x * g;
  }
};
struct Relu {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return x > 0 ? x : T(0);
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    return x > 0 ? g : T(0);
  }
};
struct LeakyRelu {
  template <class T>
  static T f(T x, const UnaryArgs& p) {
    return x > 0 ? x : static_cast<T>(p.a) * x;
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs& p) {
    return x > 0 ? g : static_cast<T>(p.a) * g;
  }
};
struct Elu {
  template <class T>
  static T f(T x, const UnaryArgs& p) {
    return x > 0 ? x : static_cast<T>(p.a) * std::expm1(x);
  }
  template <class T>
  static T df(T x, T y, T g, const UnaryArgs& p) {
    return x > 0 ? g : g * (y + static_cast<T>(p.a));
  }
};
struct Gelu {  // exact form: x * Phi(x)
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return T(0.5) * x * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
    const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
    return g * (cdf + x * pdf);
  }
};
template <class T>
T stable_sigmoid(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}
struct Silu {  // x * sigmoid(x)
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return x * stable_sigmoid(x);
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs&) {
    const T s = stable_sigmoid(x);
    return g * s * (T(1) + x * (T(1) - s));
  }
};
struct Sigmoid {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return stable_sigmoid(x);
  }
  template <class T>
  static T df(T, T y, T g, const UnaryArgs&) {
    return g * y * (T(1) - y);
  }
};
struct Tanh {
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return std::tanh(x);
  }
  template <class T>
  static T df(T, T y, T g, const UnaryArgs&) {
    return g * (T(1) - y * y);
  }
};
struct Clamp {  // gradient passes where low <= x <= high, as torch.clamp
  template <class T>
  static T f(T x, const UnaryArgs& p) {
    return x < static_cast<T>(p.a) ? static_cast<T>(p.a) : (x > static_cast<T>(p.b) ? static_cast<T>(p.b) : x);
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs& p) {
    return (x >= static_cast<T>(p.a) && x <= static_cast<T>(p.b)) ? g : T(0);
  }
};
struct PowScalar {
  template <class T>
  static T f(T x, const UnaryArgs& p) {
    return std::pow(x, static_cast<T>(p.a));
  }
  template <class T>
  static T df(T x, T, T g, const UnaryArgs& p) {
    const T e = static_cast<T>(p.a);
    return e == T(0) ? T(0) : g * e * std::pow(x, e - T(1));
  }
};
struct Sign {  // not differentiable: gradient zero, as torch.sign
  template <class T>
  static T f(T x, const UnaryArgs&) {
    return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0));
  }
  template <class T>
  static T df(T, T, T, const UnaryArgs&) {
    return T(0);
  }
};

template <class F>
decltype(auto) with_rule(Unary op, F&& f) {
  switch (op) {
    case Unary::neg:
      return f(Neg{});
    case Unary::exp:
      return f(Exp{});
    case Unary::log:
      return f(Log{});
    case Unary::sqrt:
      return f(Sqrt{});
    case Unary::abs:
      return f(Abs{});
    case Unary::square:
      return f(Square{});
    case Unary::relu:
      return f(Relu{});
    case Unary::leaky_relu:
      return f(LeakyRelu{});
    case Unary::elu:
      return f(Elu{});
    case Unary::gelu:
      return f(Gelu{});
    case Unary::silu:
      return f(Silu{});
    case Unary::sigmoid:
      return f(Sigmoid{});
    case Unary::tanh:
      return f(Tanh{});
    case Unary::clamp:
      return f(Clamp{});
    case Unary::pow_scalar:
      return f(PowScalar{});
    case Unary::sign:
      return f(Sign{});
  }
  fail("unary: unknown op");
}

void check_same(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) fail(op, ": shapes ", a.shape(), " and ", b.shape(), " differ");
  if (a.dtype() != b.dtype()) fail(op, ": dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), " differ");
}

// The binary table.
template <class T>
T apply_binary(Binary op, T a, T b) {
  switch (op) {
    case Binary::add:
      return a + b;
    case Binary::sub:
      return a - b;
    case Binary::mul:
      return a * b;
    case Binary::div:
      return a / b;
    case Binary::pow:
      return std::pow(a, b);
  }
  return T(0);
}

template <Binary op, class T>
void binary_same_shape(const T* a, const T* b, T* out, int64_t n) {
  parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = apply_binary(op, a[i], b[i]);
  });
}

template <class T>
void binary_broadcast(Binary op, const Tensor& a, const Tensor& b, Tensor& out) {
  const Shape& shape = out.shape();
  const std::vector<int64_t> sa = broadcast_strides(a.shape(), shape), sb = broadcast_strides(b.shape(), shape);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const int64_t rank = shape.rank();
  if (rank == 0) {
    po[0] = apply_binary(op, pa[0], pb[0]);
    return;
  }
  // Innermost axis as a strided loop; the outer axes walked by an odometer.
  const int64_t inner = shape[rank - 1], ia = sa.back(), ib = sb.back();
  const int64_t outer = inner == 0 ? 0 : out.numel() / inner;
  parallel_for(outer, inner, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(static_cast<size_t>(rank - 1));
    int64_t rest = begin, offset_a = 0, offset_b = 0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      index[u] = rest % shape.dims()[u];
      rest /= shape.dims()[u];
      offset_a += index[u] * sa[u];
      offset_b += index[u] * sb[u];
    }
    for (int64_t row = begin; row < end; ++row) {
      T* o = po + row * inner;
      const T* ra = pa + offset_a;
      const T* rb = pb + offset_b;
      for (int64_t i = 0; i < inner; ++i) o[i] = apply_binary(op, ra[i * ia], rb[i * ib]);
      for (int64_t d = rank - 2; d >= 0; --d) {  // advance the odometer
        const size_t u = static_cast<size_t>(d);
        offset_a += sa[u];
        offset_b += sb[u];
        if (++index[u] < shape.dims()[u]) break;
        offset_a -= sa[u] * index[u];
        offset_b -= sb[u] * index[u];
        index[u] = 0;
      }
    }
  });
}

void check_binary(const Tensor& a, const Tensor& b, const char* name) {
  if (!a.defined() || !b.defined()) fail(name, ": undefined tensor");
  if (a.dtype() != b.dtype()) fail(name, ": dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), " differ");
}

const char* binary_name(Binary op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow"};
  return names[static_cast<int>(op)];
}

}  // namespace

std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(static_cast<size_t>(out.rank()), 0);
  int64_t stride = 1;
  for (int64_t i = shape.rank() - 1, j = out.rank() - 1; i >= 0; --i, --j) {
    const int64_t d = shape.dims()[static_cast<size_t>(i)];
    strides[static_cast<size_t>(j)] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return strides;
}

Tensor unary(Unary op, const Tensor& x, UnaryArgs args) {
  if (!x.defined()) fail("unary: undefined tensor");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    with_rule(op, [&](auto rule) {
      using Rule = decltype(rule);
      parallel_for(x.numel(), 4, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) py[i] = Rule::f(px[i], args);
      });
    });
  });
  return y;
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& g, UnaryArgs args) {
  check_same("unary_backward", x, g);
  check_same("unary_backward", y, g);
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *px = x.data<T>(), *py = y.data<T>(), *pg = g.data<T>();
    T* pd = dx.data<T>();
    with_rule(op, [&](auto rule) {
      using Rule = decltype(rule);
      parallel_for(x.numel(), 4, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) pd[i] = Rule::df(px[i], py[i], pg[i], args);
      });
    });
  });
  return dx;
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_binary(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    if (a.shape() == b.shape()) {
      const T *pa = a.data<T>(), *pb = b.data<T>();
      T* po = out.data<T>();
      switch (op) {  // one instantiation per op so each loop vectorises
        case Binary::add:
          return binary_same_shape<Binary::add>(pa, pb, po, out.numel());
        case Binary::sub:
          return binary_same_shape<Binary::sub>(pa, pb, po, out.numel());
        case Binary::mul:
          return binary_same_shape<Binary::mul>(pa, pb, po, out.numel());
        case Binary::div:
          return binary_same_shape<Binary::div>(pa, pb, po, out.numel());
        case Binary::pow:
          return binary_same_shape<Binary::pow>(pa, pb, po, out.numel());
      }
    }
    binary_broadcast<T>(op, a, b, out);
  });
  return out;
}

Tensor binary_naive(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_binary(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const std::vector<int64_t> sa = broadcast_strides(a.shape(), shape), sb = broadcast_strides(b.shape(), shape);
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    for (int64_t flat = 0; flat < out.numel(); ++flat) {
      int64_t rest = flat, offset_a = 0, offset_b = 0;
      for (int64_t d = shape.rank() - 1; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        const int64_t i = rest % shape.dims()[u];
        rest /= shape.dims()[u];
        offset_a += i * sa[u];
        offset_b += i * sb[u];
      }
      out.data<T>()[flat] = apply_binary(op, a.data<T>()[offset_a], b.data<T>()[offset_b]);
    }
  });
  return out;
}

Tensor scale(const Tensor& a, double s) {
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    const T factor = static_cast<T>(s);
    parallel_for(a.numel(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = pa[i] * factor;
    });
  });
  return out;
}

}  // namespace axon::kernels
