#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "axon/conv2d.h"
#include "axon/ops.h"
#include "axon/pooling.h"
#include "axon/quantization.h"
#include "axon/registry.h"
#include "axon/threads.h"
#include "kernels/conv.h"
#include "kernels/int8_gemm.h"
#include "kernels/parallel.h"
#include "quantize/quantized_layer.h"
#include "tensor/block_cache.h"

namespace axon {

AXON_REGISTER(Module, "quantized_conv2d", QuantizedConv2D);

namespace {

// Images per GEMM: their quantized patch rows and float outputs about fill each
// thread's L2 (the GEMM splits the rows among the threads). Per thread rather than in
// all, the batch-64 CNN at 2 threads takes 2 chunks a layer instead of 4 (each three
// parallel loops): 24,700 -> 27,400-28,300 images/s.
constexpr int64_t kChunkBytesPerThread = 2 << 20;
// Kernels shallower than this (C * KH * KW: the first layer of an image network) run in
// float32, their int8 weights dequantized, through the float direct convolution. At
// that depth the int8 GEMM's cost per output (quantizing the input and laying out its
// patch rows, the epilogue, float stores) outweighs its cheaper multiplies. 32 3x3
// filters over 28 x 28, then a 2x2 max pool, one thread, us per image, float / int8:
// C = 1 15.6 / 31.0, C = 3 23.1 / 33.9, C = 6 35.3 / 45.3, C = 8 44.0 / 46.6, C = 16
// 73.4 / 59.4. The weights are the ones the int8 GEMM multiplies by; only the input is
// not rounded to 8 bits.
constexpr int64_t kFloatDepth = 64;
// Patch-row pieces of at most this many bytes are copied as one 16-byte move (the
// buffers keep that much slack past their end), not a memcpy call for 3 bytes.
constexpr int64_t kShortCopy = 16;

// The int8 kernel (F, C, KH, KW) as float32: each filter's bytes times its scale.
Tensor dequantized(const Tensor& q, const Tensor& scale) {
  Tensor w = Tensor::empty(q.shape());
  const int64_t f = q.dim(0), per_filter = f ? q.numel() / f : 0;
  const int8_t* from = q.data<int8_t>();
  float* to = w.data<float>();
  for (int64_t j = 0; j < f; ++j)
    for (int64_t i = 0; i < per_filter; ++i) to[j * per_filter + i] = from[j * per_filter + i] * scale.data<float>()[j];
  return w;
}

// One quantized image q: (C, H, W) -> padded: (H + pad_top + pad_bottom, W + pad_left +
// pad_right, C), channels last, the border holding the zero point (the quantized 0).
void pad_channels_last(const uint8_t* q, int64_t c, int64_t h, int64_t w, const Geometry2D& g, uint8_t zero,
                       uint8_t* padded) {
  const int64_t pw = w + g.pad_left + g.pad_right;
  std::fill_n(padded, (h + g.pad_top + g.pad_bottom) * pw * c, zero);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      uint8_t* to = padded + ((y + g.pad_top) * pw + x + g.pad_left) * c;
      for (int64_t ch = 0; ch < c; ++ch) to[ch] = q[(ch * h + y) * w + x];
    }
}

// The patch rows of one padded image (as above, pw wide): cols (OH * OW, ld), row p holding
// (KH, KW, C), the order the packed kernel uses. Without dilation across, a kernel row's
// KW * C bytes lie side by side in the padded image: one copy each, kShortCopy bytes
// when shorter and that many bytes remain of this image's rows. The bytes a short copy
// writes past its piece are then overwritten by the pieces and rows after, or lie past
// k; it reads up to kShortCopy bytes past the padded image, which the caller's buffer
// holds. Nothing is written past this image's rows, which other threads fill.
void im2col_channels_last(const uint8_t* padded, int64_t c, int64_t pw, Size2 kernel, const Geometry2D& g, int64_t oh,
                          int64_t ow, uint8_t* cols, int64_t ld) {
  const uint8_t* end = cols + oh * ow * ld;
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t ox = 0; ox < ow; ++ox) {
      uint8_t* row = cols + (oy * ow + ox) * ld;
      for (int64_t ky = 0; ky < kernel.h; ++ky) {
        const uint8_t* from = padded + ((oy * g.stride_h + ky * g.dilation_h) * pw + ox * g.stride_w) * c;
        if (g.dilation_w == 1) {
          if (kernel.w * c <= kShortCopy && row + kShortCopy <= end)
            std::memcpy(row, from, kShortCopy);
          else
            std::memcpy(row, from, static_cast<size_t>(kernel.w * c));
          row += kernel.w * c;
        } else {
          for (int64_t kx = 0; kx < kernel.w; ++kx, row += c)
            std::memcpy(row, from + kx * g.dilation_w * c, static_cast<size_t>(c));
        }
      }
    }
}

// out: (pixels, f) -> planes: (f, pixels), through 8 x 8 tiles: rows of out copied in
// whole, then read element by element (the other way round, 8 element stores then a row
// load of the tile, stalls on store forwarding; a plain strided loop took a quarter of
// the layer's time).
void to_planes(const float* out, int64_t pixels, int64_t f, float* planes) {
  constexpr int64_t kTile = 8;
  const int64_t p_full = pixels / kTile * kTile, j_full = f / kTile * kTile;
  for (int64_t p0 = 0; p0 < p_full; p0 += kTile) {
    for (int64_t j0 = 0; j0 < j_full; j0 += kTile) {
      float tile[kTile][kTile];
      for (int64_t p = 0; p < kTile; ++p)
        for (int64_t j = 0; j < kTile; ++j) tile[p][j] = out[(p0 + p) * f + j0 + j];
      for (int64_t j = 0; j < kTile; ++j)
        for (int64_t p = 0; p < kTile; ++p) planes[(j0 + j) * pixels + p0 + p] = tile[p][j];
    }
    for (int64_t j = j_full; j < f; ++j)
      for (int64_t p = p0; p < p0 + kTile; ++p) planes[j * pixels + p] = out[p * f + j];
  }
  for (int64_t p = p_full; p < pixels; ++p)
    for (int64_t j = 0; j < f; ++j) planes[j * pixels + p] = out[p * f + j];
}

// A max pool over one image's channels-last rows: in (h * w, f) -> out (ph * pw, f),
// every output row the elementwise max of the rows its window covers (cells in the
// padding are left out, as max_pool2d does).
void max_pool_channels_last(const float* in, int64_t h, int64_t w, int64_t f, Size2 size, const Geometry2D& g,
                            int64_t ph, int64_t pw, float* out) {
  for (int64_t py = 0; py < ph; ++py) {
    const int64_t top = py * g.stride_h - g.pad_top, y0 = std::max<int64_t>(top, 0), y1 = std::min(top + size.h, h);
    for (int64_t px = 0; px < pw; ++px, out += f) {
      const int64_t left = px * g.stride_w - g.pad_left, x0 = std::max<int64_t>(left, 0),
                    x1 = std::min(left + size.w, w);
      std::copy_n(in + (y0 * w + x0) * f, f, out);
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) {
          const float* row = in + (y * w + x) * f;
          for (int64_t j = 0; j < f; ++j) out[j] = std::max(out[j], row[j]);
        }
    }
  }
}

}  // namespace

QuantizedConv2D::QuantizedConv2D(int64_t filters, Size2 kernel_size, const std::string& activation_name, Window window,
                                 bool use_bias)
    : filters_(filters),
      kernel_size_(kernel_size),
      activation_name_(activation_name),
      activation_(activation(activation_name)),
      window_(std::move(window)),
      use_bias_(use_bias),
      packed_(std::make_shared<detail::PackedKernel>()) {
  if (filters < 1) fail("QuantizedConv2D: filters must be >= 1, got ", filters);
  if (kernel_size.h < 1 || kernel_size.w < 1) fail("QuantizedConv2D: kernel_size must be >= 1");
  window_.check("QuantizedConv2D");
}

Config QuantizedConv2D::config() const {
  Config c = Config::object()
                 .set("filters", filters_)
                 .set("kernel_size", Config::list({Config(kernel_size_.h), Config(kernel_size_.w)}));
  write_window(c, window_, true);
  return c.set("activation", activation_name_).set("use_bias", use_bias_);
}

std::shared_ptr<QuantizedConv2D> QuantizedConv2D::from_config(const ConfigReader& c) {
  const auto kernel = c.pair("kernel_size", 1);
  return std::make_shared<QuantizedConv2D>(c.integer("filters", 1), Size2(kernel[0], kernel[1]),
                                           c.string_or("activation", "linear"), read_window(c),
                                           c.boolean_or("use_bias", true));
}

void QuantizedConv2D::create_weights(const Shape& input_shape) {
  if (input_shape.rank() != 4)
    fail("QuantizedConv2D: input must be (batch, channels, height, width), got ", input_shape);
  kernel_ = add_weight(
      "kernel", Tensor::zeros(Shape{filters_, input_shape[1], kernel_size_.h, kernel_size_.w}, DType::i8), false);
  kernel_scale_ = add_weight("kernel_scale", Tensor::ones(Shape{filters_}), false);
  if (use_bias_) bias_ = add_weight("bias", Tensor::zeros(Shape{filters_}), false);
}

void QuantizedConv2D::on_weights_replaced() { packed_->reset(); }

Variable QuantizedConv2D::forward(const Variable& x) {
  const Variable y(convolve(x, nullptr));
  return activation_name_ == "relu" ? y : activation_(y);
}

Variable QuantizedConv2D::forward_max_pooled(const Variable& x, const Pool2D& pool) {
  if (activation_name_ != "relu" && activation_name_ != "linear")
    fail("QuantizedConv2D: a fused max pool needs a relu or linear activation, not ", activation_name_);
  if (pool.kind() != Pool2D::Kind::max) fail("QuantizedConv2D: only a max pool fuses");
  return Variable(convolve(x, &pool));
}

Tensor QuantizedConv2D::convolve(const Variable& x, const Pool2D* pool) {
  const Tensor input = detail::quantized_layer_input(x, "QuantizedConv2D");
  const Shape& s = input.shape();
  if (s.rank() != 4) fail("QuantizedConv2D: input must be (batch, channels, height, width), got ", s);
  const int64_t n = s[0], c = s[1], h = s[2], w = s[3], f = filters_;
  if (c != kernel_.dim(1))
    fail("QuantizedConv2D: input ", s, " has ", c, " channels; this layer was built for ", kernel_.dim(1));
  const Geometry2D g = window_.resolve(h, w, kernel_size_);
  // (Not a structured binding: the lambdas below capture these, which clang 14 refuses.)
  const std::pair<int64_t, int64_t> out_size =
      kernels::conv2d_output_size(h, w, kernel_size_.h, kernel_size_.w, g, "QuantizedConv2D");
  const int64_t oh = out_size.first, ow = out_size.second;
  const int64_t k = c * kernel_size_.h * kernel_size_.w, pixels = oh * ow, image = c * h * w;
  const int64_t padded_w = w + g.pad_left + g.pad_right, padded = (h + g.pad_top + g.pad_bottom) * padded_w * c;
  const bool relu = activation_name_ == "relu";  // fused into the kernel's output pass
  const int64_t kh = kernel_size_.h, kw = kernel_size_.w;
  // The pool's window and output size, or the whole plane unpooled.
  const Size2 pool_size = pool ? pool->pool_size() : Size2(1, 1);
  const Geometry2D pool_g = pool ? pool->geometry_for(Shape{n, f, oh, ow}) : Geometry2D{};
  if (k < kFloatDepth) {  // a shallow kernel, in float32 (see kFloatDepth)
    NoGrad no_grad;
    const Variable w(dequantized(kernel_.value(), kernel_scale_.value()));
    return (pool ? conv2d_max_pool2d(Variable(input), w, bias_, g, relu, pool_size, pool_g)
                 : conv2d(Variable(input), w, bias_, g, relu))
        .value();
  }
  const auto packed = packed_->get([&] {  // (f, c, kh, kw) -> (k, f), k in (kh, kw, c) order -> the kernels' layout
    const int8_t* kernel = kernel_.value().data<int8_t>();
    std::vector<int8_t> by_column(static_cast<size_t>(k * f));
    for (int64_t j = 0; j < f; ++j)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx)
            by_column[static_cast<size_t>(((ky * kw + kx) * c + ch) * f + j)] =
                kernel[((j * c + ch) * kh + ky) * kw + kx];
    return kernels::pack_int8_weights(by_column.data(), kernel_scale_.value().data<float>(), k, f);
  });
  const int64_t ld = packed->k4,
                chunk = std::clamp<int64_t>(
                    kChunkBytesPerThread * num_threads() / std::max<int64_t>(pixels * (ld + f * 4), 1), 1, n);
  const std::pair<int64_t, int64_t> pooled_size =
      pool ? kernels::conv2d_output_size(oh, ow, pool_size.h, pool_size.w, pool_g, "MaxPool2D") : out_size;
  const int64_t ph = pooled_size.first, pw = pooled_size.second;
  Tensor y = Tensor::empty(Shape{n, f, ph, pw});
  // Buffers every byte of which is written before it is read: not zeroed first. From the
  // tensor blocks, which keep them from call to call: freshly mapped, their page faults
  // took as long as the layer's GEMM, and at 2 threads longer (batch 64 of the Fashion
  // CNN's second layer: 43 us per image on 1 or 2 threads).
  const int64_t image_bytes = image + padded + kShortCopy;  // quantized, padded, slack
  const auto images = detail::allocate_scratch<uint8_t>(chunk * image_bytes);
  const auto cols = detail::allocate_scratch<uint8_t>(chunk * pixels * ld);
  const auto scale = detail::allocate_scratch<float>(chunk * pixels);
  const auto out = detail::allocate_scratch<float>(chunk * pixels * f);
  const auto zero = detail::allocate_scratch<int32_t>(chunk * pixels);
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t count = std::min(chunk, n - first);
    // Each image quantized with one scale and zero point, then cut into patch rows.
    kernels::parallel_for(count, image * 2, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float image_scale;
        int32_t image_zero;
        uint8_t* q = images.get() + i * image_bytes;
        kernels::quantize_rows(input.data<float>() + (first + i) * image, 1, image, image, q, image, &image_scale,
                               &image_zero);
        pad_channels_last(q, c, h, w, g, static_cast<uint8_t>(image_zero), q + image);
        std::fill_n(q + image + padded, kShortCopy, uint8_t{0});  // the slack short copies read
        im2col_channels_last(q + image, c, padded_w, kernel_size_, g, oh, ow, cols.get() + i * pixels * ld, ld);
        std::fill_n(scale.get() + i * pixels, pixels, image_scale);
        std::fill_n(zero.get() + i * pixels, pixels, image_zero);
      }
    });
    kernels::int8_gemm(count * pixels, cols.get(), ld, scale.get(), zero.get(), *packed,
                       use_bias_ ? bias_.value().data<float>() : nullptr, relu, out.get(), f);
    // (pixels, f) per image, pooled when asked -> its (f, ph, pw) planes.
    kernels::parallel_for(count, pixels * f, [&](int64_t begin, int64_t end) {
      const auto pooled = std::make_unique_for_overwrite<float[]>(pool ? static_cast<size_t>(ph * pw * f) : 0);
      for (int64_t i = begin; i < end; ++i) {
        const float* rows = out.get() + i * pixels * f;
        if (pool) {
          max_pool_channels_last(rows, oh, ow, f, pool_size, pool_g, ph, pw, pooled.get());
          rows = pooled.get();
        }
        to_planes(rows, ph * pw, f, y.data<float>() + (first + i) * f * ph * pw);
      }
    });
  }
  return y;
}

}  // namespace axon
