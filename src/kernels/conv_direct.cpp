#include "kernels/conv_direct.h"

#include <immintrin.h>

#include <algorithm>

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

}  // namespace

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
