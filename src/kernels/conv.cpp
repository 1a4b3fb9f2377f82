#include "kernels/conv.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "axon/checked_math.h"
#include "kernels/conv_dims.h"
#include "kernels/conv_direct.h"
#include "kernels/gemm.h"
#include "kernels/lane_sum.h"
#include "kernels/parallel.h"
#include "kernels/pool.h"
#include "tensor/block_cache.h"

namespace axon::kernels {

namespace {

using Dims = ConvDims;

constexpr int64_t kChunkBytes = int64_t{2}
                                << 20;  // per chunk buffer: about the 2 MiB L2 (measured best of 0.5 to 4 MiB)

int64_t images_per_chunk(const Dims& d, int64_t requested, size_t element_size) {
  if (requested > 0) return std::min(requested, std::max<int64_t>(d.n, 1));
  // the larger of the chunk's column matrix (rows, width) and its GEMM output (F, width)
  const int64_t per_image =
      std::max<int64_t>(std::max(d.rows(), d.f) * d.oh * d.ow * static_cast<int64_t>(element_size), 1);
  return std::clamp<int64_t>(kChunkBytes / per_image, 1, std::max<int64_t>(d.n, 1));
}

// For the `count` images at `images`:
//   cols[(c, i, j), (n, y, x)] = image[n, c, y*sh - pt + i*dh, x*sw - pl + j*dw] (0 outside).
// With `add`, the adjoint (col2im): each image plane is set to the sum of its taps in cols.
// Parallel over (image, channel) planes: each plane's taps live in rows of that channel only.
template <class T, bool add>
void im2col(const Dims& d, const Geometry2D& g, int64_t count, T* images, T* cols) {
  const int64_t plane = d.oh * d.ow, width = count * plane;
  parallel_for(count * d.c, d.kh * d.kw * plane, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t n = u / d.c, c = u % d.c;
      T* src = images + u * d.h * d.w;
      if constexpr (add) std::fill(src, src + d.h * d.w, T(0));
      for (int64_t i = 0; i < d.kh; ++i)
        for (int64_t j = 0; j < d.kw; ++j) {
          T* row = cols + ((c * d.kh + i) * d.kw + j) * width + n * plane;
          const int64_t x_shift = j * g.dilation_w - g.pad_left;
          // The output columns whose input column lies inside [0, W): ox in [ox0, ox1).
          const int64_t ox0 = std::clamp<int64_t>((-x_shift + g.stride_w - 1) / g.stride_w, 0, d.ow);
          const int64_t ox1 = std::clamp<int64_t>((d.w - x_shift + g.stride_w - 1) / g.stride_w, ox0, d.ow);
          if (g.stride_h == 1 && g.stride_w == 1 && d.ow == d.w) {
            // Stride 1, as wide as the input ("same"): the row is the plane shifted by
            // `shift` elements, copied (or, for col2im, added back) in one block; the
            // columns that wrap around to a neighbouring input row are zeroed first in
            // col2im (cols is its scratch) and last in im2col.
            const int64_t y_shift = i * g.dilation_h - g.pad_top, shift = y_shift * d.w + x_shift;
            const int64_t oy0 = std::clamp<int64_t>(-y_shift, 0, d.oh),
                          oy1 = std::clamp<int64_t>(d.h - y_shift, oy0, d.oh);
            const int64_t lo = std::clamp<int64_t>(-shift, oy0 * d.ow, oy1 * d.ow),
                          hi = std::clamp<int64_t>(d.h * d.w - shift, lo, oy1 * d.ow);
            auto zero_wrapped = [&] {
              for (int64_t oy = oy0; oy < oy1 && (ox0 > 0 || ox1 < d.ow); ++oy) {
                std::fill(row + oy * d.ow, row + oy * d.ow + ox0, T(0));
                std::fill(row + oy * d.ow + ox1, row + (oy + 1) * d.ow, T(0));
              }
            };
            if constexpr (add) {
              zero_wrapped();
              T* to = src + lo + shift;
              for (int64_t k = 0; k < hi - lo; ++k) to[k] += row[lo + k];
            } else {
              std::fill(row, row + lo, T(0));
              std::copy(src + lo + shift, src + hi + shift, row + lo);
              std::fill(row + hi, row + plane, T(0));
              zero_wrapped();
            }
            continue;
          }
          for (int64_t oy = 0; oy < d.oh; ++oy) {
            const int64_t y = oy * g.stride_h - g.pad_top + i * g.dilation_h;
            T* out = row + oy * d.ow;
            if (y < 0 || y >= d.h) {
              if constexpr (!add) std::fill(out, out + d.ow, T(0));
              continue;
            }
            const int64_t at = y * d.w + x_shift;  // src[at + ox * sw] is the tap of output column ox
            if constexpr (add) {
              for (int64_t ox = ox0; ox < ox1; ++ox) src[at + ox * g.stride_w] += out[ox];
            } else {
              std::fill(out, out + ox0, T(0));
              if (g.stride_w == 1)
                for (int64_t ox = ox0; ox < ox1; ++ox) out[ox] = src[at + ox];
              else
                for (int64_t ox = ox0; ox < ox1; ++ox) out[ox] = src[at + ox * g.stride_w];
              std::fill(out + ox1, out + d.ow, T(0));
            }
          }
        }
    }
  });
}

void check_dy(const Tensor& dy, const Dims& d) {
  if (dy.shape() != Shape{d.n, d.f, d.oh, d.ow})
    fail("conv2d backward: gradient ", dy.shape(), " does not match output (", d.n, ", ", d.f, ", ", d.oh, ", ", d.ow,
         ")");
}

}  // namespace

std::pair<int64_t, int64_t> conv2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g,
                                               const char* who) {
  if (g.stride_h < 1 || g.stride_w < 1) fail(who, ": strides must be >= 1, got (", g.stride_h, ", ", g.stride_w, ")");
  if (g.dilation_h < 1 || g.dilation_w < 1)
    fail(who, ": dilation must be >= 1, got (", g.dilation_h, ", ", g.dilation_w, ")");
  if (g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 || g.pad_right < 0) fail(who, ": padding must be >= 0");
  if (kh < 1 || kw < 1) fail(who, ": kernel size must be >= 1, got (", kh, ", ", kw, ")");
  // Sizes can come from a file or the command line: check the geometry once, here.
  const int64_t span_h =
      checked_add(checked_mul(g.dilation_h, kh - 1, who, ": dilated kernel height"), 1, who, ": dilated kernel height");
  const int64_t span_w =
      checked_add(checked_mul(g.dilation_w, kw - 1, who, ": dilated kernel width"), 1, who, ": dilated kernel width");
  const int64_t padded_h =
      checked_add(checked_add(h, g.pad_top, who, ": padded height"), g.pad_bottom, who, ": padded height");
  const int64_t padded_w =
      checked_add(checked_add(w, g.pad_left, who, ": padded width"), g.pad_right, who, ": padded width");
  if (kh < 1 || kw < 1 || span_h > padded_h || span_w > padded_w)
    fail(who, ": kernel (", kh, ", ", kw, ") with dilation (", g.dilation_h, ", ", g.dilation_w,
         ") does not fit the padded input (", padded_h, ", ", padded_w, ")");
  return {(padded_h - span_h) / g.stride_h + 1, (padded_w - span_w) / g.stride_w + 1};
}

namespace {

void check_operands(const Dims& d, const Tensor& x, const Tensor& w, const Tensor& bias) {
  if (x.dtype() != w.dtype()) fail("conv2d: input and kernel dtypes differ");
  if (bias.defined() && (bias.shape() != Shape{d.f} || bias.dtype() != x.dtype()))
    fail("conv2d: bias ", bias.shape(), " does not match ", d.f, " filters of ", dtype_name(x.dtype()));
}

// The weight gradient of a convolution over few input taps (C*KH*KW <= kSmallDepth, e.g.
// a 3x3 kernel on one grey channel) is a GEMM with a tiny output, which OpenBLAS hardly
// parallelises (17 GFLOP/s on 2 threads, against 28 for this loop over filters).
constexpr int64_t kSmallDepth = 16;
constexpr int64_t kColumnBlock = 64;

// dw (f, k) (+)= major (f, width) * cols (k, width)^T
template <class T>
void small_depth_weight_gradient(int64_t f, int64_t k, int64_t width, const T* major, const T* cols, bool accumulate,
                                 T* dw) {
  parallel_for(f, k * width, [&](int64_t f0, int64_t f1) {
    for (int64_t i = f0; i < f1; ++i)
      for (int64_t r = 0; r < k; ++r) {
        const T* a = major + i * width;
        const T* c = cols + r * width;
        T lanes[kColumnBlock] = {};
        int64_t p = 0;
        for (; p + kColumnBlock <= width; p += kColumnBlock)
          for (int64_t q = 0; q < kColumnBlock; ++q) lanes[q] += a[p + q] * c[p + q];
        T total = 0;
        for (; p < width; ++p) total += a[p] * c[p];
        for (T lane : lanes) total += lane;
        dw[i * k + r] = accumulate ? dw[i * k + r] + total : total;
      }
  });
}

// The forward pass, chunk by chunk: im2col, one GEMM into (F, count*OH*OW), then, in
// parallel over the chunk's (image, filter) planes, finish(n, f, plane) with image n's
// filter-f output plane (OH*OW values in scratch memory, free to change in place).
template <class T, class Finish>
void forward_chunks(const Dims& d, const Geometry2D& g, const T* x, const T* w, int64_t chunk_images,
                    Conv2dColumns* keep, Finish&& finish) {
  const int64_t plane = d.oh * d.ow, chunk = images_per_chunk(d, chunk_images, sizeof(T));
  T* kept = nullptr;
  if (keep) {
    *keep = {Tensor::empty({d.rows(), d.n * plane}, dtype_of<T>()), chunk};
    kept = keep->values.data<T>();
  }
  Tensor cols = kept ? Tensor() : Tensor::empty({d.rows(), chunk * plane}, dtype_of<T>());
  Tensor out = Tensor::empty({d.f, chunk * plane}, dtype_of<T>());
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t count = std::min(chunk, d.n - n0), width = count * plane;
    T* c = kept ? kept + n0 * d.rows() * plane : cols.data<T>();
    im2col<T, false>(d, g, count, const_cast<T*>(x) + n0 * d.c * d.h * d.w, c);
    gemm<T>(false, false, d.f, width, d.rows(), T(1), w, d.rows(), c, width, T(0), out.data<T>(), width);
    parallel_for(count * d.f, plane, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u)
        finish(n0 + u / d.f, u % d.f, out.data<T>() + (u % d.f) * width + (u / d.f) * plane);
    });
  }
}

// The forward pass without a column matrix (conv_direct.h), when the CPU and geometry
// suit it: in parallel over (image, block of eight filters), each block's planes
// computed into scratch memory and handed to finish(n, f, plane) as forward_chunks
// does. Nothing is kept for training: the backward pass needs no columns, or lays them
// out itself, once, as the forward pass would have. Returns false when it does not apply.
template <class T, class Finish>
bool direct_forward(const Dims& d, const Geometry2D& g, const T* x, const T* w, Finish&& finish) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    if (!direct_conv_applies(g, d.kh, d.kw, d.f)) return false;
    const std::vector<float> packed = pack_direct_weights(w, d.f, d.c, d.kh, d.kw);
    const DirectConvShape s{d.c, d.h, d.w, d.kh, d.kw, d.oh, d.ow, g.pad_top, g.pad_left};
    // Units of work: whole images where there are enough of them for the threads (each
    // tap's masks then serve every block of filters), else single blocks.
    const int64_t plane = d.oh * d.ow, blocks = (d.f + kDirectFilters - 1) / kDirectFilters;
    const int64_t per_unit = d.n >= int64_t{4} * num_threads() ? blocks : 1, units_per_image = blocks / per_unit;
    parallel_for(d.n * units_per_image, per_unit * kDirectFilters * plane * d.rows(), [&](int64_t u0, int64_t u1) {
      // Not zeroed: the blocks write every pixel of the planes finish() reads.
      const auto scratch =
          std::make_unique_for_overwrite<float[]>(static_cast<size_t>(per_unit * kDirectFilters * plane));
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t n = u / units_per_image, first = u % units_per_image * per_unit, last = first + per_unit;
        conv2d_direct_blocks(s, x + n * d.c * d.h * d.w, packed.data(), first, last, d.f, scratch.get());
        for (int64_t f = first * kDirectFilters; f < std::min(d.f, last * kDirectFilters); ++f)
          finish(n, f, scratch.get() + (f - first * kDirectFilters) * plane);
      }
    });
    return true;
  }
}

// dL/dx by the direct kernel: for stride 1, the convolution of dL/dy (after the gather,
// `pre`: (N, F, OH, OW)), padded by KH-1-top (and so on), with the kernel flipped and its
// filters and channels swapped, is dL/dx. Returns false when it does not apply (padding
// beyond KH-1, or where direct_forward does not).
template <class T>
bool direct_backward_input(const Dims& d, const Geometry2D& g, const T* pre, const T* w, T* dx) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    Geometry2D flipped = g;
    flipped.pad_top = d.kh - 1 - g.pad_top, flipped.pad_bottom = d.kh - 1 - g.pad_bottom;
    flipped.pad_left = d.kw - 1 - g.pad_left, flipped.pad_right = d.kw - 1 - g.pad_right;
    if (std::min({flipped.pad_top, flipped.pad_bottom, flipped.pad_left, flipped.pad_right}) < 0 ||
        !direct_conv_applies(flipped, d.kh, d.kw, d.c))
      return false;
    std::vector<float> swapped(static_cast<size_t>(d.f * d.rows()));  // (C, F, KH, KW), each tap flipped
    for (int64_t f = 0; f < d.f; ++f)
      for (int64_t c = 0; c < d.c; ++c)
        for (int64_t i = 0; i < d.kh; ++i)
          for (int64_t j = 0; j < d.kw; ++j)
            swapped[static_cast<size_t>(((c * d.f + f) * d.kh + i) * d.kw + j)] =
                w[((f * d.c + c) * d.kh + (d.kh - 1 - i)) * d.kw + (d.kw - 1 - j)];
    const Dims transposed{d.n, d.f, d.oh, d.ow, d.c, d.kh, d.kw, d.h, d.w};
    const int64_t image = d.h * d.w;
    return direct_forward<float>(transposed, flipped, pre, swapped.data(), [&](int64_t n, int64_t c, float* plane) {
      std::copy(plane, plane + image, dx + (n * d.c + c) * image);
    });
  }
}

// Adds the bias and applies the relu to `size` values in place.
template <class T>
void bias_relu(T* values, int64_t size, T bias, bool relu) {
  if (relu)
    for (int64_t p = 0; p < size; ++p) values[p] = std::max(values[p] + bias, T(0));
  else
    for (int64_t p = 0; p < size; ++p) values[p] += bias;
}

// The backward pass, chunk by chunk: gather(n, f, plane) writes dL/d(conv output) of
// image n, filter f (OH*OW values), in parallel over the chunk's planes, into the chunk's
// (F, count*OH*OW) matrix, and returns the plane's sum; then dw += that * cols^T and
// dx = col2im(w^T * that). The bias gradient is the planes' sums, added image by image.
template <class T, class Gather>
void backward_chunks(const Dims& d, const Geometry2D& g, const T* x, const T* w, int64_t chunk_images,
                     const Conv2dColumns* kept, Conv2dGrads& grads, Gather&& gather) {
  const int64_t plane = d.oh * d.ow;
  int64_t chunk = images_per_chunk(d, chunk_images, sizeof(T));
  bool want_dx = grads.dx.defined(), want_dw = grads.dw.defined(), want_db = grads.db.defined();
  const T* cached = nullptr;
  if (kept && kept->values.defined() && want_dw) {
    if (kept->values.shape() != Shape{d.rows(), d.n * plane} || kept->values.dtype() != dtype_of<T>() ||
        kept->chunk < 1)
      fail("conv2d backward: kept columns ", kept->values.shape(), " do not belong to this convolution");
    cached = kept->values.data<T>();
    chunk = kept->chunk;  // the forward pass's chunks: the kept matrices are laid out by them
  }
  // The direct kernels (conv_direct.h) where they apply, from dL/dy gathered once into
  // `pre` (N, F, OH, OW); the chunks below then copy their part of it.
  Tensor pre;
  std::vector<T> sums(want_db ? static_cast<size_t>(d.n * d.f) : 0);  // (N, F): each plane's sum
  auto sum_into = [&](int64_t u, T sum) {
    if (want_db) sums[static_cast<size_t>(u)] = sum;
  };
  auto gathered = [&]() -> const T* {
    if (!pre.defined()) {
      pre = Tensor::empty({d.n, d.f, d.oh, d.ow}, dtype_of<T>());
      T* to = pre.data<T>();
      parallel_for(d.n * d.f, plane, [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) sum_into(u, gather(u / d.f, u % d.f, to + u * plane));
      });
    }
    return pre.data<T>();
  };
  // The planes' sums added in double: a bias feeding a normalization sums to nearly zero
  // over the batch, and a float running sum would leave mostly its rounding.
  auto finish_db = [&] {
    if (!want_db) return;
    T* db = grads.db.data<T>();
    for (int64_t f = 0; f < d.f; ++f) {
      double total = 0;
      for (int64_t n = 0; n < d.n; ++n) total += static_cast<double>(sums[static_cast<size_t>(n * d.f + f)]);
      db[f] = static_cast<T>(total);
    }
  };
  if constexpr (std::is_same_v<T, float>) {
    if (want_dx && direct_conv_applies(g, d.kh, d.kw, d.c))
      want_dx = !direct_backward_input<T>(d, g, gathered(), w, grads.dx.data<T>());
    if (want_dw && direct_weight_gradient_applies(g, d.c, d.kh, d.kw, d.f)) {
      // Without dL/dx (a first layer) each image's dL/dy is made where the kernel reads it.
      const DirectConvShape shape{d.c, d.h, d.w, d.kh, d.kw, d.oh, d.ow, g.pad_top, g.pad_left};
      if (!want_dx && !pre.defined()) {
        conv2d_direct_weight_gradient(shape, d.n, d.f, x, nullptr, grads.dw.data<T>(), [&](int64_t n, float* planes) {
          for (int64_t f = 0; f < d.f; ++f) sum_into(n * d.f + f, gather(n, f, planes + f * plane));
        });
        return finish_db();  // every plane's sum taken on the way
      }
      conv2d_direct_weight_gradient(shape, d.n, d.f, x, gathered(), grads.dw.data<T>());
      want_dw = false;
    }
  }
  // Done, unless the bias gradient still needs the planes gathered (then the chunks below).
  if (!want_dx && !want_dw && (pre.defined() || !want_db)) return finish_db();
  Tensor dy_major = Tensor::empty({d.f, chunk * plane}, dtype_of<T>());
  Tensor cols = want_dx || (want_dw && !cached) ? Tensor::empty({d.rows(), chunk * plane}, dtype_of<T>()) : Tensor();
  if (want_dw && d.n == 0) grads.dw.fill(0);
  T* major = dy_major.data<T>();
  for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
    const int64_t count = std::min(chunk, d.n - n0), width = count * plane;
    parallel_for(count * d.f, plane, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t n = n0 + u / d.f, f = u % d.f;
        T* to = major + f * width + (u / d.f) * plane;
        if (pre.defined())
          std::copy_n(pre.data<T>() + (n * d.f + f) * plane, plane, to);
        else
          sum_into(n * d.f + f, gather(n, f, to));
      }
    });
    if (want_dw) {
      const T* c = cached ? cached + n0 * d.rows() * plane : cols.data<T>();
      if (!cached) im2col<T, false>(d, g, count, const_cast<T*>(x) + n0 * d.c * d.h * d.w, cols.data<T>());
      if (d.rows() <= kSmallDepth)
        small_depth_weight_gradient(d.f, d.rows(), width, major, c, n0 > 0, grads.dw.data<T>());
      else
        gemm<T>(false, true, d.f, d.rows(), width, T(1), major, width, c, width, n0 == 0 ? T(0) : T(1),
                grads.dw.data<T>(), d.rows());
    }
    if (want_dx) {
      gemm<T>(true, false, d.rows(), width, d.f, T(1), w, d.rows(), major, width, T(0), cols.data<T>(), width);
      im2col<T, true>(d, g, count, grads.dx.data<T>() + n0 * d.c * d.h * d.w, cols.data<T>());
    }
  }
  finish_db();
}

Conv2dGrads allocate_grads(const Dims& d, const Tensor& x, const Tensor& w, bool want_dx, bool want_dw, bool want_db) {
  if (w.dtype() != x.dtype()) fail("conv2d backward: dtypes differ");
  Conv2dGrads grads;
  if (want_dx) grads.dx = Tensor::empty(x.shape(), x.dtype());
  if (want_dw) grads.dw = Tensor::empty(w.shape(), x.dtype());
  if (want_db) grads.db = Tensor::zeros({d.f}, x.dtype());
  return grads;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Geometry2D& g, const Tensor& bias, bool relu,
              int64_t chunk_images, Conv2dColumns* keep) {
  const Dims d = conv_dims_of(x.shape(), w.shape(), g);
  check_operands(d, x, w, bias);
  Tensor y = Tensor::empty({d.n, d.f, d.oh, d.ow}, x.dtype());
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const int64_t plane = d.oh * d.ow;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    auto finish = [&](int64_t n, int64_t f, T* conv) {
      bias_relu(conv, plane, b ? b[f] : T(0), relu);
      std::copy(conv, conv + plane, y.data<T>() + (n * d.f + f) * plane);
    };
    if (!direct_forward<T>(d, g, x.data<T>(), w.data<T>(), finish))
      forward_chunks<T>(d, g, x.data<T>(), w.data<T>(), chunk_images, keep, finish);
  });
  return y;
}

Conv2dGrads conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Geometry2D& g, bool want_dx,
                            bool want_dw, bool want_db, const Tensor& relu_output, int64_t chunk_images,
                            const Conv2dColumns* kept) {
  const Dims d = conv_dims_of(x.shape(), w.shape(), g);
  check_dy(dy, d);
  if (relu_output.defined() && (relu_output.shape() != dy.shape() || relu_output.dtype() != dy.dtype()))
    fail("conv2d backward: relu output ", relu_output.shape(), " does not match the gradient ", dy.shape());
  if (dy.dtype() != x.dtype()) fail("conv2d backward: dtypes differ");
  Conv2dGrads grads = allocate_grads(d, x, w, want_dx, want_dw, want_db);
  if (!want_dx && !want_dw && !want_db) return grads;
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const int64_t plane = d.oh * d.ow;
    // dy (through the relu) -> (F, count*OH*OW)
    backward_chunks<T>(d, g, x.data<T>(), w.data<T>(), chunk_images, kept, grads, [&](int64_t n, int64_t f, T* to) {
      const int64_t at = (n * d.f + f) * plane;
      const T* from = dy.data<T>() + at;
      if (relu_output.defined()) {
        const T* y = relu_output.data<T>() + at;
        for (int64_t p = 0; p < plane; ++p) to[p] = y[p] > T(0) ? from[p] : T(0);
      } else {
        std::copy(from, from + plane, to);
      }
      return lane_sum<T>(plane, [&](int64_t p) { return to[p]; });
    });
  });
  return grads;
}

Conv2dMaxPoolResult conv2d_max_pool2d(const Tensor& x, const Tensor& w, const Geometry2D& g, const Tensor& bias,
                                      bool relu, const Pool2dWindow& pool, int64_t chunk_images, Conv2dColumns* keep) {
  const Dims d = conv_dims_of(x.shape(), w.shape(), g);
  check_operands(d, x, w, bias);
  const std::pair<int64_t, int64_t> pooled_size =
      pool2d_output_size(d.oh, d.ow, pool.kh, pool.kw, pool.g, "max_pool2d");
  const int64_t ph = pooled_size.first,
                pw = pooled_size.second;  // not a structured binding: the lambda below captures them (clang 14)
  const int64_t pooled = ph * pw;
  Conv2dMaxPoolResult result{Tensor::empty({d.n, d.f, ph, pw}, x.dtype()), {}, d.oh, d.ow, pool};
  result.argmax = detail::allocate_scratch<int32_t>(d.n * d.f * pooled);
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const int64_t plane = d.oh * d.ow;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    auto finish = [&](int64_t n, int64_t f, T* conv) {
      const int64_t at = (n * d.f + f) * pooled;
      bias_relu(conv, plane, b ? b[f] : T(0), relu);
      max_pool_plane(conv, d.oh, d.ow, pool.kh, pool.kw, pool.g, ph, pw, result.y.template data<T>() + at,
                     result.argmax.get() + at);
    };
    if (!direct_forward<T>(d, g, x.data<T>(), w.data<T>(), finish))
      forward_chunks<T>(d, g, x.data<T>(), w.data<T>(), chunk_images, keep, finish);
  });
  return result;
}

Conv2dGrads conv2d_max_pool2d_backward(const Tensor& dy, const Conv2dMaxPoolResult& forward, const Tensor& x,
                                       const Tensor& w, const Geometry2D& g, bool relu, bool want_dx, bool want_dw,
                                       bool want_db, int64_t chunk_images, const Conv2dColumns* kept) {
  const Dims d = conv_dims_of(x.shape(), w.shape(), g);
  if (dy.shape() != forward.y.shape() || dy.dtype() != x.dtype() || forward.conv_h != d.oh || forward.conv_w != d.ow)
    fail("conv2d_max_pool2d backward: gradient ", dy.shape(), " does not match the output ", forward.y.shape());
  Conv2dGrads grads = allocate_grads(d, x, w, want_dx, want_dw, want_db);
  if (!want_dx && !want_dw && !want_db) return grads;
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const int64_t pooled = dy.dim(2) * dy.dim(3);
    // Each pooled gradient goes to its argmax; through the relu only where the max was > 0.
    backward_chunks<T>(d, g, x.data<T>(), w.data<T>(), chunk_images, kept, grads, [&](int64_t n, int64_t f, T* to) {
      const int64_t at = (n * d.f + f) * pooled;
      return max_unpool_plane(dy.data<T>() + at, relu ? forward.y.data<T>() + at : nullptr, forward.argmax.get() + at,
                              dy.dim(2), dy.dim(3), forward.pool.kh, forward.pool.kw, forward.pool.g, d.oh, d.ow, to);
    });
  });
  return grads;
}

}  // namespace axon::kernels
