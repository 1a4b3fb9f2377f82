#include "kernels/pool.h"

#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "kernels/cpu_features.h"
#include "kernels/parallel.h"
#include "tensor/block_cache.h"

namespace axon::kernels {

namespace {

struct PoolDims {
  int64_t n, c, h, w, oh, ow;
  int64_t planes() const { return n * c; }
};

PoolDims pool_dims(const Shape& x, int64_t kh, int64_t kw, const Geometry2D& g, const char* who) {
  if (x.rank() != 4) fail(who, ": input must be (batch, channels, height, width), got ", x);
  const auto [oh, ow] = pool2d_output_size(x[2], x[3], kh, kw, g, who);
  return {x[0], x[1], x[2], x[3], oh, ow};
}

// Calls visit(plane, output offset in the plane, y0, y1, x0, x1) for each output element,
// its window [y0, y1) x [x0, x1) clipped to the image; parallel over (image, channel)
// planes, which are independent. Pooling windows are dense (no dilation).
template <class Visit>
void for_each_window(const PoolDims& d, int64_t kh, int64_t kw, const Geometry2D& g, Visit&& visit) {
  parallel_for(d.planes(), d.oh * d.ow * kh * kw, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane)
      for (int64_t oy = 0; oy < d.oh; ++oy) {
        const int64_t top = oy * g.stride_h - g.pad_top;
        const int64_t y0 = std::max<int64_t>(top, 0), y1 = std::min(top + kh, d.h);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const int64_t left = ox * g.stride_w - g.pad_left;
          visit(plane, oy * d.ow + ox, y0, y1, std::max<int64_t>(left, 0), std::min(left + kw, d.w));
        }
      }
  });
}

bool is_halving(int64_t kh, int64_t kw, const Geometry2D& g) {
  return kh == 2 && kw == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_top == 0 && g.pad_left == 0 &&
         g.pad_bottom == 0 && g.pad_right == 0;
}

// One output row of the halving max pool, 16 outputs at a time with AVX-512: each pair
// of input rows' 32 values split into their even and odd columns (a, b above; c, e
// below), then the same comparisons as the loop in max_pool_plane, as lane masks.
__attribute__((target("avx512f"))) void halving_row(const float* row0, const float* row1, int64_t ow, int32_t top,
                                                    int32_t width, float* values, int32_t* where) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i twice = _mm512_add_epi32(even, _mm512_set1_epi32(top));  // top + 2 * lane
  for (int64_t ox = 0; ox < ow; ox += 16) {
    const int64_t count = std::min<int64_t>(16, ow - ox), inputs = 2 * count;
    const __mmask16 low = static_cast<__mmask16>((1u << std::min<int64_t>(inputs, 16)) - 1u),
                    high = static_cast<__mmask16>((1u << std::max<int64_t>(inputs - 16, 0)) - 1u),
                    out = static_cast<__mmask16>((1u << count) - 1u);
    const __m512 top0 = _mm512_maskz_loadu_ps(low, row0 + 2 * ox),
                 top1 = _mm512_maskz_loadu_ps(high, row0 + 2 * ox + 16),
                 bottom0 = _mm512_maskz_loadu_ps(low, row1 + 2 * ox),
                 bottom1 = _mm512_maskz_loadu_ps(high, row1 + 2 * ox + 16);
    const __m512 a = _mm512_permutex2var_ps(top0, even, top1), b = _mm512_permutex2var_ps(top0, odd, top1),
                 c = _mm512_permutex2var_ps(bottom0, even, bottom1), e = _mm512_permutex2var_ps(bottom0, odd, bottom1);
    const __mmask16 right_top = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ),
                    right_bottom = _mm512_cmp_ps_mask(e, c, _CMP_GT_OQ);
    const __m512 upper = _mm512_mask_blend_ps(right_top, a, b), lower = _mm512_mask_blend_ps(right_bottom, c, e);
    const __mmask16 down = _mm512_cmp_ps_mask(lower, upper, _CMP_GT_OQ);
    _mm512_mask_storeu_ps(values + ox, out, _mm512_mask_blend_ps(down, upper, lower));
    const __m512i one = _mm512_set1_epi32(1),
                  base = _mm512_add_epi32(twice, _mm512_set1_epi32(static_cast<int32_t>(2 * ox))),
                  below = _mm512_add_epi32(base, _mm512_set1_epi32(width));
    const __m512i up_at = _mm512_mask_add_epi32(base, right_top, base, one),
                  down_at = _mm512_mask_add_epi32(below, right_bottom, below, one);
    _mm512_mask_storeu_epi32(where + ox, out, _mm512_mask_blend_epi32(down, up_at, down_at));
  }
}

// The halving pool's backward pass over one (h, w) plane, 16 values of a row at a time
// with AVX-512: the row's pooled cells (row / 2) each cover two lanes, and a lane takes
// its cell's gradient where the cell's argmax is that lane's offset (and pass > 0). Rows
// past the last window get zeros. Returns the plane's sum.
__attribute__((target("avx512f"))) float unpool_halving_plane(const float* dy, const float* pass, const int32_t* where,
                                                              int64_t oh, int64_t ow, int64_t h, int64_t w, float* to) {
  const __m512i pairs = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t row = 0; row < h; ++row)
    for (int64_t x = 0; x < w; x += 16) {
      const __mmask16 out = static_cast<__mmask16>((1u << std::min<int64_t>(16, w - x)) - 1u);
      const int64_t cells = row / 2 < oh ? std::clamp<int64_t>(ow - x / 2, 0, 8) : 0;
      __m512 values = _mm512_setzero_ps();
      if (cells > 0) {
        const int64_t at = row / 2 * ow + x / 2;
        const __mmask16 loaded = static_cast<__mmask16>((1u << cells) - 1u),
                        covered = static_cast<__mmask16>((1u << (2 * cells)) - 1u);
        // (maskz forms: GCC 12 warns on the plain permutes' undefined source)
        const __m512 g = _mm512_maskz_permutexvar_ps(0xffff, pairs, _mm512_maskz_loadu_ps(loaded, dy + at));
        const __m512i from =
            _mm512_maskz_permutexvar_epi32(0xffff, pairs, _mm512_maskz_loadu_epi32(loaded, where + at));
        const __m512i offset = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(row * w + x)));
        __mmask16 take = _mm512_mask_cmpeq_epi32_mask(covered, from, offset);
        if (pass)
          take &=
              _mm512_cmp_ps_mask(_mm512_maskz_permutexvar_ps(0xffff, pairs, _mm512_maskz_loadu_ps(loaded, pass + at)),
                                 _mm512_setzero_ps(), _CMP_GT_OQ);
        values = _mm512_maskz_mov_ps(take, g);
      }
      _mm512_mask_storeu_ps(to + row * w + x, out, values);
      sum = _mm512_add_ps(sum, values);
    }
  alignas(64) float parts[16];
  _mm512_store_ps(parts, sum);
  float total = 0;
  for (float part : parts) total += part;
  return total;
}

}  // namespace

std::pair<int64_t, int64_t> pool2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g,
                                               const char* who) {
  if (g.pad_top >= kh || g.pad_bottom >= kh || g.pad_left >= kw || g.pad_right >= kw)
    fail(who, ": padding must be smaller than the window (", kh, ", ", kw, ") so no window is all padding");
  if (h * w > std::numeric_limits<int32_t>::max()) fail(who, ": an input plane of ", h, " x ", w, " is too large");
  const int64_t padded_h = h + g.pad_top + g.pad_bottom, padded_w = w + g.pad_left + g.pad_right;
  if (kh < 1 || kw < 1 || kh > padded_h || kw > padded_w)
    fail(who, ": pool window (", kh, ", ", kw, ") does not fit the padded input (", padded_h, ", ", padded_w, ")");
  return conv2d_output_size(h, w, kh, kw, g, who);
}

template <class T>
void max_pool_plane(const T* in, int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g, int64_t oh,
                    int64_t ow, T* out, int32_t* argmax) {
  if (is_halving(kh, kw, g)) {  // 2x2, stride 2: branch-free, as the comparisons are data-dependent coin flips
    const auto width = static_cast<int32_t>(w);
    if constexpr (std::is_same_v<T, float>) {
      if (has_avx512f()) {
        for (int64_t oy = 0; oy < oh; ++oy)
          halving_row(in + 2 * oy * w, in + (2 * oy + 1) * w, ow, static_cast<int32_t>(2 * oy * w), width,
                      out + oy * ow, argmax + oy * ow);
        return;
      }
    }
    for (int64_t oy = 0; oy < oh; ++oy) {
      const T* row0 = in + 2 * oy * w;
      const T* row1 = row0 + w;
      const auto top = static_cast<int32_t>(2 * oy * w);
      T* values = out + oy * ow;
      int32_t* where = argmax + oy * ow;
      for (int64_t ox = 0; ox < ow; ++ox) {  // arithmetic only, so the compiler vectorizes it
        const T a = row0[2 * ox], b = row0[2 * ox + 1], c = row1[2 * ox], e = row1[2 * ox + 1];
        const int32_t right_top = b > a, right_bottom = e > c;  // strict: the first maximum wins ties
        const T upper = std::max(a, b), lower = std::max(c, e);
        const int32_t down = lower > upper;
        values[ox] = std::max(upper, lower);
        where[ox] = top + 2 * static_cast<int32_t>(ox) + right_top + down * (width + right_bottom - right_top);
      }
    }
    return;
  }
  for (int64_t oy = 0; oy < oh; ++oy) {
    const int64_t top = oy * g.stride_h - g.pad_top;
    const int64_t y0 = std::max<int64_t>(top, 0), y1 = std::min(top + kh, h);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int64_t left = ox * g.stride_w - g.pad_left;
      const int64_t x0 = std::max<int64_t>(left, 0), x1 = std::min(left + kw, w);
      int64_t best = y0 * w + x0;
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x)
          if (in[y * w + x] > in[best]) best = y * w + x;
      out[oy * ow + ox] = in[best];
      argmax[oy * ow + ox] = static_cast<int32_t>(best);
    }
  }
}
template void max_pool_plane<float>(const float*, int64_t, int64_t, int64_t, int64_t, const Geometry2D&, int64_t,
                                    int64_t, float*, int32_t*);
template void max_pool_plane<double>(const double*, int64_t, int64_t, int64_t, int64_t, const Geometry2D&, int64_t,
                                     int64_t, double*, int32_t*);

MaxPoolResult max_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "max_pool2d");
  MaxPoolResult result{Tensor::empty({d.n, d.c, d.oh, d.ow}, x.dtype()),
                       detail::allocate_scratch<int32_t>(d.planes() * d.oh * d.ow)};
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = result.y.data<T>();
    int32_t* argmax = result.argmax.get();
    parallel_for(d.planes(), d.h * d.w, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        max_pool_plane(px + p * d.h * d.w, d.h, d.w, kh, kw, g, d.oh, d.ow, py + p * d.oh * d.ow,
                       argmax + p * d.oh * d.ow);
    });
  });
  return result;
}

Tensor max_pool2d_backward(const Tensor& dy, const int32_t* argmax, const Shape& x_shape) {
  if (x_shape.rank() != 4 || dy.rank() != 4 || dy.dim(0) != x_shape[0] || dy.dim(1) != x_shape[1])
    fail("max_pool2d backward: gradient ", dy.shape(), " does not match the input ", x_shape);
  Tensor dx = Tensor::empty(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* g = dy.data<T>();
    T* out = dx.data<T>();
    const int64_t in_plane = x_shape[2] * x_shape[3], out_plane = dy.dim(2) * dy.dim(3);
    parallel_for(x_shape[0] * x_shape[1], in_plane, [&](int64_t p0, int64_t p1) {
      for (int64_t plane = p0; plane < p1; ++plane) {
        T* to = out + plane * in_plane;
        std::fill(to, to + in_plane, T(0));
        for (int64_t i = plane * out_plane; i < (plane + 1) * out_plane; ++i) to[argmax[i]] += g[i];
      }
    });
  });
  return dx;
}

template <class T>
T max_unpool_plane(const T* dy, const T* pass, const int32_t* argmax, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                   const Geometry2D& g, int64_t h, int64_t w, T* to) {
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx512f() && is_halving(kh, kw, g)) return unpool_halving_plane(dy, pass, argmax, oh, ow, h, w, to);
  }
  std::fill(to, to + h * w, T(0));
  T sum = 0;
  for (int64_t k = 0; k < oh * ow; ++k)
    if (!pass || pass[k] > T(0)) {
      to[argmax[k]] += dy[k];
      sum += dy[k];
    }
  return sum;
}
template float max_unpool_plane<float>(const float*, const float*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                                       const Geometry2D&, int64_t, int64_t, float*);
template double max_unpool_plane<double>(const double*, const double*, const int32_t*, int64_t, int64_t, int64_t,
                                         int64_t, const Geometry2D&, int64_t, int64_t, double*);

Tensor avg_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "avg_pool2d");
  Tensor y = Tensor::empty({d.n, d.c, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_each_window(d, kh, kw, g, [&](int64_t plane, int64_t out, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
      const T* in = px + plane * d.h * d.w;
      T total = 0;
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) total += in[y * d.w + x];
      py[plane * d.oh * d.ow + out] = total / static_cast<T>((y1 - y0) * (x1 - x0));
    });
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x_shape, kh, kw, g, "avg_pool2d");
  if (dy.shape() != Shape{d.n, d.c, d.oh, d.ow})
    fail("avg_pool2d backward: gradient ", dy.shape(), " does not match the output");
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  dispatch(dy.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pg = dy.data<T>();
    T* px = dx.data<T>();
    for_each_window(d, kh, kw, g, [&](int64_t plane, int64_t out, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
      T* in = px + plane * d.h * d.w;
      const T share = pg[plane * d.oh * d.ow + out] / static_cast<T>((y1 - y0) * (x1 - x0));
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) in[y * d.w + x] += share;
    });
  });
  return dx;
}

// The references: every tap of every window, padding skipped, one element at a time.
namespace {

template <class Visit>
void for_each_tap(const PoolDims& d, int64_t kh, int64_t kw, const Geometry2D& g, Visit&& visit) {
  for (int64_t plane = 0; plane < d.planes(); ++plane)
    for (int64_t oy = 0; oy < d.oh; ++oy)
      for (int64_t ox = 0; ox < d.ow; ++ox)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t y = oy * g.stride_h - g.pad_top + i, x = ox * g.stride_w - g.pad_left + j;
            if (y >= 0 && y < d.h && x >= 0 && x < d.w)
              visit((plane * d.oh + oy) * d.ow + ox, plane * d.h * d.w, y * d.w + x);
          }
}

int64_t window_size(const PoolDims& d, int64_t kh, int64_t kw, const Geometry2D& g, int64_t out) {
  int64_t taps = 0;
  const int64_t oy = out / d.ow % d.oh, ox = out % d.ow;
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j) {
      const int64_t y = oy * g.stride_h - g.pad_top + i, x = ox * g.stride_w - g.pad_left + j;
      taps += y >= 0 && y < d.h && x >= 0 && x < d.w;
    }
  return taps;
}

}  // namespace

MaxPoolResult max_pool2d_naive(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "max_pool2d");
  const int64_t outputs = d.planes() * d.oh * d.ow;
  MaxPoolResult result{Tensor::empty({d.n, d.c, d.oh, d.ow}, DType::f64), detail::allocate_scratch<int32_t>(outputs)};
  std::vector<double> values = x.to_vector(),
                      best(static_cast<size_t>(outputs), -std::numeric_limits<double>::infinity());
  std::vector<bool> seen(static_cast<size_t>(outputs), false);
  for_each_tap(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t offset) {
    const auto o = static_cast<size_t>(out);
    if (!seen[o] || values[static_cast<size_t>(base + offset)] > best[o]) {
      seen[o] = true;
      best[o] = values[static_cast<size_t>(base + offset)];
      result.argmax.get()[out] = static_cast<int32_t>(offset);
    }
  });
  result.y = Tensor::from(best, result.y.shape()).to(x.dtype());
  return result;
}

Tensor max_pool2d_backward_naive(const Tensor& dy, const int32_t* argmax, const Shape& x_shape) {
  std::vector<double> dx(static_cast<size_t>(x_shape.numel()), 0.0);
  const std::vector<double> g = dy.to_vector();
  const int64_t out_plane = dy.dim(2) * dy.dim(3), in_plane = x_shape[2] * x_shape[3];
  for (int64_t i = 0; i < dy.numel(); ++i)
    dx[static_cast<size_t>(i / out_plane * in_plane + argmax[i])] += g[static_cast<size_t>(i)];
  return Tensor::from(dx, x_shape).to(dy.dtype());
}

Tensor avg_pool2d_naive(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x.shape(), kh, kw, g, "avg_pool2d");
  const std::vector<double> values = x.to_vector();
  std::vector<double> y(static_cast<size_t>(d.planes() * d.oh * d.ow), 0.0);
  for_each_tap(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t offset) {
    y[static_cast<size_t>(out)] +=
        values[static_cast<size_t>(base + offset)] / static_cast<double>(window_size(d, kh, kw, g, out));
  });
  return Tensor::from(y, {d.n, d.c, d.oh, d.ow}).to(x.dtype());
}

Tensor avg_pool2d_backward_naive(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Geometry2D& g) {
  const PoolDims d = pool_dims(x_shape, kh, kw, g, "avg_pool2d");
  const std::vector<double> grads = dy.to_vector();
  std::vector<double> dx(static_cast<size_t>(x_shape.numel()), 0.0);
  for_each_tap(d, kh, kw, g, [&](int64_t out, int64_t base, int64_t offset) {
    dx[static_cast<size_t>(base + offset)] +=
        grads[static_cast<size_t>(out)] / static_cast<double>(window_size(d, kh, kw, g, out));
  });
  return Tensor::from(dx, x_shape).to(dy.dtype());
}

}  // namespace axon::kernels
