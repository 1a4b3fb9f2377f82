#include "kernels/conv_direct.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>

#include "kernels/cpu_features.h"
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

// The load masks of R segments for each tap (the same for every channel and every
// block of filters): the columns inside the image, on a row inside it; and where each
// segment's row of tap row i starts (x offset applied). Lanes outside the image are
// masked off and never read (a masked load does not fault).
template <int R>
struct TileMasks {
  __mmask16 masks[kDirectMaxKernelSize][kDirectMaxKernelSize][R];
  int64_t starts[kDirectMaxKernelSize][R];

  TileMasks(const DirectConvShape& s, const Segment* segments) {
    for (int64_t i = 0; i < s.kh; ++i)
      for (int r = 0; r < R; ++r) {
        const int64_t y = segments[r].oy + i - s.pad_top;
        const bool inside = y >= 0 && y < s.h;
        starts[i][r] = (inside ? y : 0) * s.w + segments[r].ox0 - s.pad_left;
        for (int64_t j = 0; j < s.kw; ++j)
          masks[i][j][r] = inside ? segments[r].valid & lanes_inside(segments[r].ox0 + j - s.pad_left, s.w) : 0;
      }
  }
};

// R segments x 8 filters: acc[r][f] = sum over (c, i, j) of input row segment r shifted
// by (i, j) times weight (f, c, i, j). Every index into acc is a constant once the loops
// are unrolled, so the 8R accumulators stay in registers.
template <int R>
__attribute__((target("avx512f"))) void tile(const DirectConvShape& s, const float* image, const float* weights,
                                             const Segment* segments, const TileMasks<R>& m, int64_t count,
                                             float* out) {
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
        for (int r = 0; r < R; ++r) v[r] = _mm512_maskz_loadu_ps(m.masks[i][j][r], plane + m.starts[i][r] + j);
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

// R segments for blocks [first, last) of filters (< F): the masks once, then each block.
template <int R>
void tiles(const DirectConvShape& s, const float* image, const float* packed, const Segment* segments, int64_t first,
           int64_t last, int64_t f, float* out) {
  const TileMasks<R> masks(s, segments);
  const int64_t taps = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  for (int64_t block = first; block < last; ++block)
    tile<R>(s, image, packed + block * taps * kDirectFilters, segments, masks,
            std::min(kDirectFilters, f - block * kDirectFilters), out + (block - first) * kDirectFilters * plane);
}

// to[p * f + filter] = from[filter * plane + p] for filters [f0, f0 + 16) and pixels
// [p0, p0 + 16), those past F or the plane left out: a 16 x 16 block transposed in
// registers (pairs of lanes, then pairs of pairs, then 128-bit quarters twice; the
// zero-masking forms only keep GCC 12 from warning of the plain forms' undefined source).
__attribute__((target("avx512f"))) void transpose_block(const float* from, int64_t plane, int64_t f, int64_t f0,
                                                        int64_t p0, float* to) {
  const __mmask16 pixels = lanes_inside(p0, plane), filters = lanes_inside(f0, f);
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int k = 0; k < 16; ++k)
    r[k] = f0 + k < f ? _mm512_maskz_loadu_ps(pixels, from + (f0 + k) * plane + p0) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_maskz_unpacklo_ps(0xFFFF, r[k], r[k + 1]);
    t[k + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, r[k], r[k + 1]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < 16; k += 4) {
    r[k] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, _mm512_castps_pd(t[k]), _mm512_castps_pd(t[k + 2])));
    r[k + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, _mm512_castps_pd(t[k]), _mm512_castps_pd(t[k + 2])));
    r[k + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, _mm512_castps_pd(t[k + 1]), _mm512_castps_pd(t[k + 3])));
    r[k + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, _mm512_castps_pd(t[k + 1]), _mm512_castps_pd(t[k + 3])));
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[k], r[k + 4], 0x88);
    t[k + 4] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[k], r[k + 4], 0xdd);
    t[k + 8] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[k + 8], r[k + 12], 0x88);
    t[k + 12] = _mm512_maskz_shuffle_f32x4(0xFFFF, r[k + 8], r[k + 12], 0xdd);
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm512_maskz_shuffle_f32x4(0xFFFF, t[k], t[k + 8], 0x88);
    r[k + 8] = _mm512_maskz_shuffle_f32x4(0xFFFF, t[k], t[k + 8], 0xdd);
  }
  // r[k] now holds pixel p0 + k's 16 filters.
#pragma GCC unroll 16
  for (int k = 0; k < 16; ++k)
    if (p0 + k < plane) _mm512_mask_storeu_ps(to + (p0 + k) * f + f0, filters, r[k]);
}

// The weight gradient's unit of work: filters [f0, f0 + 32) times four slots times taps
// (j0 .. j0 + 2) of a kernel row, over `images` images. A slot is an input channel (at
// one kernel row) or a kernel row (of one channel); `slot_stride` is the distance in
// xpad from one slot's input to the next. acc (4 x 3 x 2 vectors: slot, tap, half of
// the filters) is written to acc_memory.
//   xpad: the images' channels (Cp, HQ, WP), zero-padded; dyt: their dL/dy, (OH * OW, F).
//   first_row: the input under output (0, 0) for slot 0 and tap j0 of the first image.
__attribute__((target("avx512f"))) void weight_tile(const float* first_row, int64_t image_stride, int64_t slot_stride,
                                                    const float* dyt, int64_t dy_stride, int64_t images, int64_t oh,
                                                    int64_t ow, int64_t wp, int64_t f, int64_t f0, float* acc_memory) {
  const __mmask16 low = lanes_inside(f0, f), high = lanes_inside(f0 + kLanes, f);  // the filters < F
  __m512 acc[4][3][2];
#pragma GCC unroll 4
  for (int cc = 0; cc < 4; ++cc)
#pragma GCC unroll 3
    for (int jj = 0; jj < 3; ++jj)
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) acc[cc][jj][h] = _mm512_setzero_ps();
  for (int64_t n = 0; n < images; ++n)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float* d = dyt + n * dy_stride + oy * ow * f + f0;
      const float* row = first_row + n * image_stride + oy * wp;
      for (int64_t ox = 0; ox < ow; ++ox, d += f, ++row) {
        const __m512 d0 = _mm512_maskz_loadu_ps(low, d), d1 = _mm512_maskz_loadu_ps(high, d + kLanes);
#pragma GCC unroll 4
        for (int cc = 0; cc < 4; ++cc)
#pragma GCC unroll 3
          for (int jj = 0; jj < 3; ++jj) {
            const __m512 value = _mm512_set1_ps(row[cc * slot_stride + jj]);
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

constexpr int64_t kWeightFilters = 32, kSlots = 4, kTaps = 3;

// How the weight gradient's four slots are spent: on four channels at one kernel row
// (convolutions over many channels), or on four kernel rows of one channel (over one to
// three channels, e.g. the first layer on grey images), whichever leaves fewer idle.
struct SlotLayout {
  bool by_rows;
  int64_t channel_blocks, row_blocks;  // of kSlots channels (by channel) or rows (by rows)
  double filled;                       // the share of the slots that hold a real tap
};

SlotLayout slot_layout(int64_t c, int64_t kh) {
  const int64_t channel_blocks = (c + kSlots - 1) / kSlots, row_blocks = (kh + kSlots - 1) / kSlots;
  const double by_channel = static_cast<double>(c) / static_cast<double>(channel_blocks * kSlots),
               by_row = static_cast<double>(kh) / static_cast<double>(row_blocks * kSlots);
  if (by_row > by_channel) return {true, c, row_blocks, by_row};
  return {false, channel_blocks, kh, by_channel};
}

}  // namespace

bool direct_weight_gradient_applies(const Geometry2D& g, int64_t channels, int64_t kernel_height, int64_t kernel_width,
                                    int64_t filters) {
  const int64_t filter_blocks = (filters + kWeightFilters - 1) / kWeightFilters;
  const double filled = slot_layout(channels, kernel_height).filled * static_cast<double>(filters) /
                        static_cast<double>(filter_blocks * kWeightFilters);
  return has_avx512f() && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         kernel_width % kTaps == 0 && filled >= 0.25;
}

void conv2d_direct_weight_gradient(const DirectConvShape& s, int64_t n, int64_t f, const float* x, const float* dy,
                                   float* dw, const DyImage& dy_image) {
  constexpr int64_t kAccumulators = kSlots * kTaps * kWeightFilters;
  const SlotLayout layout = slot_layout(s.c, s.kh);
  const int64_t slot_channels = layout.by_rows ? 1 : kSlots, slot_rows = layout.by_rows ? kSlots : 1;
  // The padded grid (stride 1: OW + KW - 1 columns): channels up to whole blocks, and
  // (by rows) the rows a last block reads past the kernel's, all zero.
  const int64_t cp = layout.channel_blocks * slot_channels, hq = s.oh + layout.row_blocks * slot_rows - 1,
                wp = s.ow + s.kw - 1, plane = s.oh * s.ow;
  const int64_t slot_stride = layout.by_rows ? wp : hq * wp;
  const int64_t filter_blocks = (f + kWeightFilters - 1) / kWeightFilters, tap_groups = s.kw / kTaps;
  const int64_t units = filter_blocks * layout.channel_blocks * layout.row_blocks * tap_groups;
  // Unit u: its first filter, channel, kernel row and tap; slot k adds k to the channel
  // (by channel) or to the row (by rows).
  struct Unit {
    int64_t f0, c0, i0, j0;
  };
  auto unit = [&](int64_t u) {
    const int64_t tap_group = u % tap_groups, row_block = u / tap_groups % layout.row_blocks,
                  channel_block = u / (tap_groups * layout.row_blocks) % layout.channel_blocks,
                  filter_block = u / (tap_groups * layout.row_blocks * layout.channel_blocks);
    return Unit{filter_block * kWeightFilters, channel_block * slot_channels, row_block * slot_rows,
                tap_group * kTaps};
  };
  // Groups of images whose padded input and dL/dy (channels-last) stay in one core's
  // cache (512 KB; at least 16 groups where the batch has the images). A group is one
  // chunk of work: its thread lays the group out and runs every unit over it into the
  // group's own accumulators, which are summed over the groups in order after. So a
  // training step pays two barriers here instead of three per group, and the sums do not
  // depend on which thread ran which group, nor (the groups being fixed) on the thread
  // count. Waves of groups bound the accumulators' memory.
  const int64_t per_image = (plane * f + cp * hq * wp) * static_cast<int64_t>(sizeof(float));
  const int64_t group = std::clamp<int64_t>(std::min((int64_t{1} << 19) / std::max<int64_t>(per_image, 1), (n + 15) / 16),
                                            1, std::max<int64_t>(n, 1));
  const int64_t groups = (n + group - 1) / group, per_group = units * kAccumulators;
  const int64_t wave = std::clamp<int64_t>(
      std::max<int64_t>((int64_t{8} << 20) / (per_group * static_cast<int64_t>(sizeof(float))), num_threads()), 1,
      std::max<int64_t>(groups, 1));
  std::vector<float> acc(static_cast<size_t>(per_group), 0.0f),
      partial(static_cast<size_t>(std::min(wave, groups) * per_group));
  // Each thread's padded grids are zeroed on its first group of this call: the groups
  // after write the same cells and leave the padding and the channels past C zero.
  static std::atomic<int64_t> calls{0};
  const int64_t call = ++calls;
  for (int64_t g0 = 0; g0 < groups; g0 += wave) {
    const int64_t in_wave = std::min(wave, groups - g0);
    parallel_for(in_wave, group * plane * f * cp * s.kh * s.kw, [&](int64_t w0, int64_t w1) {
      thread_local std::vector<float> xpad, dyt, produced;
      thread_local int64_t zeroed_for = 0;
      if (zeroed_for != call) {
        xpad.assign(static_cast<size_t>(group * cp * hq * wp), 0.0f);
        dyt.resize(static_cast<size_t>(group * plane * f));
        if (!dy) produced.resize(static_cast<size_t>(plane * f));
        zeroed_for = call;
      }
      for (int64_t w = w0; w < w1; ++w) {
        const int64_t n0 = (g0 + w) * group, count = std::min(group, n - n0);
        // Each channel into its zero-padded grid.
        for (int64_t image = 0; image < count; ++image)
          for (int64_t c = 0; c < s.c; ++c) {
            const float* from = x + ((n0 + image) * s.c + c) * s.h * s.w;
            float* to = xpad.data() + (image * cp + c) * hq * wp;
            for (int64_t y = 0; y < s.h; ++y) std::copy_n(from + y * s.w, s.w, to + (s.pad_top + y) * wp + s.pad_left);
          }
        // dL/dy channels-last.
        for (int64_t image = 0; image < count; ++image) {
          const float* planes = dy ? dy + (n0 + image) * f * plane : produced.data();
          if (!dy) dy_image(n0 + image, produced.data());
          for (int64_t p0 = 0; p0 < plane; p0 += kLanes)
            for (int64_t f0 = 0; f0 < f; f0 += kLanes)
              transpose_block(planes, plane, f, f0, p0, dyt.data() + image * plane * f);
        }
        float* sums = partial.data() + w * per_group;
        for (int64_t u = 0; u < units; ++u) {
          const Unit t = unit(u);
          weight_tile(xpad.data() + (t.c0 * hq + t.i0) * wp + t.j0, cp * hq * wp, slot_stride, dyt.data(), plane * f,
                      count, s.oh, s.ow, wp, f, t.f0, sums + u * kAccumulators);
        }
      }
    });
    parallel_for(per_group, in_wave, [&](int64_t a0, int64_t a1) {
      for (int64_t w = 0; w < in_wave; ++w)
        for (int64_t a = a0; a < a1; ++a) acc[static_cast<size_t>(a)] += partial[static_cast<size_t>(w * per_group + a)];
    });
  }
  // acc (unit, slot, tap, filter) -> dw (F, C, KH, KW)
  for (int64_t u = 0; u < units; ++u) {
    const Unit t = unit(u);
    for (int64_t k = 0; k < kSlots; ++k)
      for (int64_t jj = 0; jj < kTaps; ++jj)
        for (int64_t l = 0; l < kWeightFilters; ++l) {
          const int64_t filter = t.f0 + l, c = t.c0 + (layout.by_rows ? 0 : k), i = t.i0 + (layout.by_rows ? k : 0),
                        j = t.j0 + jj;
          if (filter < f && c < s.c && i < s.kh)
            dw[((filter * s.c + c) * s.kh + i) * s.kw + j] =
                acc[static_cast<size_t>(u * kAccumulators + (k * kTaps + jj) * kWeightFilters + l)];
        }
  }
}

bool direct_conv_applies(const Geometry2D& g, int64_t kernel_height, int64_t kernel_width, int64_t filters) {
  const int64_t blocks = (filters + kDirectFilters - 1) / kDirectFilters;
  return has_avx512f() && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
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

void conv2d_direct_blocks(const DirectConvShape& s, const float* image, const float* packed, int64_t first,
                          int64_t last, int64_t f, float* out) {
  std::vector<Segment> segments;
  for (int64_t oy = 0; oy < s.oh; ++oy)
    for (int64_t ox0 = 0; ox0 < s.ow; ox0 += kLanes)
      segments.push_back({oy, ox0, static_cast<__mmask16>((1u << std::min(kLanes, s.ow - ox0)) - 1u)});
  const size_t n = segments.size();
  size_t k = 0;
  for (; k + 3 <= n; k += 3) tiles<3>(s, image, packed, segments.data() + k, first, last, f, out);
  if (n - k == 2) tiles<2>(s, image, packed, segments.data() + k, first, last, f, out);
  if (n - k == 1) tiles<1>(s, image, packed, segments.data() + k, first, last, f, out);
}

}  // namespace axon::kernels
