#include "kernels/conv_direct.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/parallel.h"

namespace axon::kernels {

namespace {

constexpr int64_t kLanes = 16;

// Output columns [ox0, ox0 + 16) of row oy; `valid` has a bit for each column < OW.
struct Segment {
  int64_t oy, ox0;
  __mmask16 valid;
};

// The lanes l whose input column x0 + l lies in [0, width).
__mmask16 lanes_inside(int64_t x0, int64_t width) {
  const int64_t lo = std::clamp<int64_t>(-x0, 0, kLanes), hi = std::clamp<int64_t>(width - x0, lo, kLanes);
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// R segments x 8 filters: acc[r][f] = sum over (c, i, j) of input row segment r shifted
// by (i, j) times weight (f, c, i, j). Every index into acc is a constant once the loops
// are unrolled, so the 8R accumulators stay in registers.
template <int R>
__attribute__((target("avx512f"))) void tile(const DirectConvShape& s, const float* image, const float* weights,
                                             const Segment* segments, int64_t count, float* out) {
  // Each tap's load masks (the same for every channel): the columns inside the image, on
  // a row inside it; and where each segment's row of tap row i starts (x offset applied).
  __mmask16 masks[kDirectMaxKernelSize][kDirectMaxKernelSize][R];
  int64_t starts[kDirectMaxKernelSize][R];
  for (int64_t i = 0; i < s.kh; ++i)
    for (int r = 0; r < R; ++r) {
      const int64_t y = segments[r].oy + i - s.pad_top;
      const bool inside = y >= 0 && y < s.h;
      // Lanes outside the image are masked off and never read (a masked load does not fault).
      starts[i][r] = (inside ? y : 0) * s.w + segments[r].ox0 - s.pad_left;
      for (int64_t j = 0; j < s.kw; ++j)
        masks[i][j][r] = inside ? segments[r].valid & lanes_inside(segments[r].ox0 + j - s.pad_left, s.w) : 0;
    }
  __m512 acc[R][kDirectFilters];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int f = 0; f < kDirectFilters; ++f) acc[r][f] = _mm512_setzero_ps();
  const float* w = weights;  // (C, KH, KW, 8), in the order read
  for (int64_t c = 0; c < s.c; ++c) {
    const float* plane = image + c * s.h * s.w;
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j, w += kDirectFilters) {
        __m512 v[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) v[r] = _mm512_maskz_loadu_ps(masks[i][j][r], plane + starts[i][r] + j);
#pragma GCC unroll 8
        for (int f = 0; f < kDirectFilters; ++f) {
          const __m512 weight = _mm512_set1_ps(w[f]);
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) acc[r][f] = _mm512_fmadd_ps(v[r], weight, acc[r][f]);
        }
      }
  }
  const int64_t plane = s.oh * s.ow;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int f = 0; f < kDirectFilters; ++f)
      if (f < count)
        _mm512_mask_storeu_ps(out + f * plane + segments[r].oy * s.ow + segments[r].ox0, segments[r].valid,
                              acc[r][f]);
}

// The weight gradient's unit of work: filters [f0, f0 + 32), channels [c0, c0 + 4),
// taps (i, j0 .. j0 + 2), over `images` images. acc (4 x 3 x 2 vectors: channel, tap,
// half of the filters) is read, added to and written back.
//   xpad: the images' channels (Cp, HP, WP), zero-padded; dyt: their dL/dy, (OH * OW, F).
__attribute__((target("avx512f"))) void weight_tile(const float* xpad, int64_t image_stride, const float* dyt,
                                                    int64_t dy_stride, int64_t images, int64_t oh, int64_t ow,
                                                    int64_t hp, int64_t wp, int64_t f, int64_t f0, int64_t c0,
                                                    int64_t i, int64_t j0, float* acc_memory) {
  const __mmask16 low = lanes_inside(f0, f), high = lanes_inside(f0 + kLanes, f);  // the filters < F
  __m512 acc[4][3][2];
#pragma GCC unroll 4
  for (int cc = 0; cc < 4; ++cc)
#pragma GCC unroll 3
    for (int jj = 0; jj < 3; ++jj)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) acc[cc][jj][h] = _mm512_loadu_ps(acc_memory + ((cc * 3 + jj) * 2 + h) * kLanes);
  const int64_t channel = hp * wp;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float* d = dyt + n * dy_stride + oy * ow * f + f0;
      const float* row = xpad + n * image_stride + (c0 * hp + oy + i) * wp + j0;
      for (int64_t ox = 0; ox < ow; ++ox, d += f, ++row) {
        const __m512 d0 = _mm512_maskz_loadu_ps(low, d), d1 = _mm512_maskz_loadu_ps(high, d + kLanes);
#pragma GCC unroll 4
        for (int cc = 0; cc < 4; ++cc)
#pragma GCC unroll 3
          for (int jj = 0; jj < 3; ++jj) {
            const __m512 value = _mm512_set1_ps(row[cc * channel + jj]);
            acc[cc][jj][0] = _mm512_fmadd_ps(d0, value, acc[cc][jj][0]);
            acc[cc][jj][1] = _mm512_fmadd_ps(d1, value, acc[cc][jj][1]);
          }
      }
    }
#pragma GCC unroll 4
  for (int cc = 0; cc < 4; ++cc)
#pragma GCC unroll 3
    for (int jj = 0; jj < 3; ++jj)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) _mm512_storeu_ps(acc_memory + ((cc * 3 + jj) * 2 + h) * kLanes, acc[cc][jj][h]);
}

}  // namespace

bool direct_weight_gradient_applies(const Geometry2D& g, int64_t kernel_width) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         kernel_width % 3 == 0;
}

void conv2d_direct_weight_gradient(const DirectConvShape& s, int64_t n, int64_t f, int64_t pad_bottom,
                                   int64_t pad_right, const float* x, const float* dy, float* dw) {
  constexpr int64_t kFilters = 32, kChannels = 4, kTaps = 3, kAccumulators = kChannels * kTaps * kFilters;
  const int64_t hp = s.h + s.pad_top + pad_bottom, wp = s.w + s.pad_left + pad_right, plane = s.oh * s.ow;
  const int64_t cp = (s.c + kChannels - 1) / kChannels * kChannels;  // zero channels up to a multiple of 4
  const int64_t filter_blocks = (f + kFilters - 1) / kFilters, channel_blocks = cp / kChannels,
                tap_groups = s.kw / kTaps;
  const int64_t units = filter_blocks * channel_blocks * s.kh * tap_groups;
  // Unit u: its first filter, first channel, kernel row and first tap of that row.
  struct Unit {
    int64_t f0, c0, i, j0;
  };
  auto unit = [&](int64_t u) {
    return Unit{u / (tap_groups * s.kh * channel_blocks) * kFilters, u / (tap_groups * s.kh) % channel_blocks * kChannels,
                u / tap_groups % s.kh, u % tap_groups * kTaps};
  };
  std::vector<float> acc(static_cast<size_t>(units * kAccumulators), 0.0f);
  // Groups of images whose dL/dy (channels-last) and padded input stay in cache.
  const int64_t per_image = (plane * f + cp * hp * wp) * static_cast<int64_t>(sizeof(float));
  const int64_t group = std::clamp<int64_t>((int64_t{1} << 19) / std::max<int64_t>(per_image, 1), 1, std::max<int64_t>(n, 1));
  std::vector<float> xpad(static_cast<size_t>(group * cp * hp * wp)), dyt(static_cast<size_t>(group * plane * f));
  for (int64_t n0 = 0; n0 < n; n0 += group) {
    const int64_t count = std::min(group, n - n0);
    // Each channel into its zero-padded grid (the channels past C stay zero).
    parallel_for(count * cp, hp * wp, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t image = u / cp, c = u % cp;
        float* to = xpad.data() + u * hp * wp;
        std::fill(to, to + hp * wp, 0.0f);
        if (c >= s.c) continue;
        const float* from = x + ((n0 + image) * s.c + c) * s.h * s.w;
        for (int64_t y = 0; y < s.h; ++y) std::copy_n(from + y * s.w, s.w, to + (s.pad_top + y) * wp + s.pad_left);
      }
    });
    // dL/dy channels-last, 16 pixels at a time (whole cache lines written).
    parallel_for(count, plane * f, [&](int64_t u0, int64_t u1) {
      for (int64_t image = u0; image < u1; ++image) {
        const float* from = dy + (n0 + image) * f * plane;
        float* to = dyt.data() + image * plane * f;
        for (int64_t p0 = 0; p0 < plane; p0 += kLanes)
          for (int64_t filter = 0; filter < f; ++filter)
            for (int64_t p = p0; p < std::min(plane, p0 + kLanes); ++p) to[p * f + filter] = from[filter * plane + p];
      }
    });
    parallel_for(units, count * plane * kAccumulators, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const Unit w = unit(u);
        weight_tile(xpad.data(), cp * hp * wp, dyt.data(), plane * f, count, s.oh, s.ow, hp, wp, f, w.f0, w.c0, w.i,
                    w.j0, acc.data() + u * kAccumulators);
      }
    });
  }
  // acc (unit, channel, tap, filter) -> dw (F, C, KH, KW)
  for (int64_t u = 0; u < units; ++u) {
    const Unit w = unit(u);
    for (int64_t cc = 0; cc < kChannels; ++cc)
      for (int64_t jj = 0; jj < kTaps; ++jj)
        for (int64_t l = 0; l < kFilters; ++l) {
          const int64_t filter = w.f0 + l, c = w.c0 + cc, j = w.j0 + jj;
          if (filter < f && c < s.c)
            dw[((filter * s.c + c) * s.kh + w.i) * s.kw + j] =
                acc[static_cast<size_t>(u * kAccumulators + (cc * kTaps + jj) * kFilters + l)];
        }
  }
}

bool direct_conv_applies(const Geometry2D& g, int64_t kernel_height, int64_t kernel_width, int64_t filters) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  const int64_t blocks = (filters + kDirectFilters - 1) / kDirectFilters;
  return avx512 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         kernel_height <= kDirectMaxKernelSize && kernel_width <= kDirectMaxKernelSize &&
         4 * filters >= 3 * kDirectFilters * blocks;
}

std::vector<float> pack_direct_weights(const float* w, int64_t f, int64_t c, int64_t kh, int64_t kw) {
  const int64_t taps = c * kh * kw, blocks = (f + kDirectFilters - 1) / kDirectFilters;
  std::vector<float> packed(static_cast<size_t>(blocks * taps * kDirectFilters), 0.0f);
  for (int64_t filter = 0; filter < f; ++filter)
    for (int64_t t = 0; t < taps; ++t)
      packed[static_cast<size_t>(((filter / kDirectFilters) * taps + t) * kDirectFilters + filter % kDirectFilters)] =
          w[filter * taps + t];
  return packed;
}

void conv2d_direct_block(const DirectConvShape& s, const float* image, const float* packed, int64_t block,
                         int64_t count, float* out) {
  std::vector<Segment> segments;
  for (int64_t oy = 0; oy < s.oh; ++oy)
    for (int64_t ox0 = 0; ox0 < s.ow; ox0 += kLanes)
      segments.push_back({oy, ox0, static_cast<__mmask16>((1u << std::min(kLanes, s.ow - ox0)) - 1u)});
  const float* weights = packed + block * s.c * s.kh * s.kw * kDirectFilters;
  const size_t n = segments.size();
  size_t k = 0;
  for (; k + 3 <= n; k += 3) tile<3>(s, image, weights, segments.data() + k, count, out);
  if (n - k == 2) tile<2>(s, image, weights, segments.data() + k, count, out);
  if (n - k == 1) tile<1>(s, image, weights, segments.data() + k, count, out);
}

}  // namespace axon::kernels
