#pragma once
// 2-D convolution on NCHW tensors via im2col + GEMM, and its backward passes; a direct
// naive reference beside each. The batch is cut into chunks of images whose column
// matrix (C*KH*KW, images*OH*OW) stays in cache (~1 MiB), one GEMM per chunk. Where
// AVX-512 runs a stride-1 float convolution, the forward pass and both gradients use
// the direct kernels of conv_direct.h instead (at 32 filters, packing the columns for
// the GEMM cost as much as the product).
//   x: (N, C, H, W), w: (F, C, KH, KW) -> y: (N, F, OH, OW),
//   OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1 (same for W).
#include <memory>

#include "axon/geometry.h"
#include "axon/tensor.h"

namespace axon::kernels {

// Output (OH, OW) for an input (H, W) and kernel (KH, KW); throws naming `who` when the
// geometry is invalid (non-positive stride or dilation, kernel larger than the padded input).
std::pair<int64_t, int64_t> conv2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g,
                                               const char* who = "conv2d");

// The column matrices of a forward pass, kept (when asked for) so the weight gradient
// need not rebuild them: (C*KH*KW, N*OH*OW), laid out chunk by chunk.
struct Conv2dColumns {
  Tensor values;
  int64_t chunk = 0;  // images per chunk of the forward pass
};

// y = conv(x, w) + bias, then max(y, 0) when `relu`, fused into the pass that lays the GEMM
// output out as NCHW. bias: (F,) or undefined. chunk_images: images per GEMM; 0 picks it
// from the cache budget (tests force small chunks).
// keep: where to keep the column matrices for conv2d_backward, or null; left empty when
// the direct kernel ran (the backward pass then lays the columns out itself, once).
Tensor conv2d(const Tensor& x, const Tensor& w, const Geometry2D& g, const Tensor& bias = {}, bool relu = false,
              int64_t chunk_images = 0, Conv2dColumns* keep = nullptr);
Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Geometry2D& g);

// The gradients of y = conv2d(x, w) + b from dL/dy, each computed only when asked for,
// in one pass over the chunks (dy is rearranged once for all of them). With relu_output
// (the y of a relu-fused forward), dy is first zeroed where y <= 0.
struct Conv2dGrads {
  Tensor dx, dw, db;  // (N, C, H, W), (F, C, KH, KW), (F,)
};
Conv2dGrads conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Geometry2D& g, bool want_dx,
                            bool want_dw, bool want_db, const Tensor& relu_output = {}, int64_t chunk_images = 0,
                            const Conv2dColumns* kept = nullptr);
// A max pooling applied to each output plane of a convolution.
struct Pool2dWindow {
  int64_t kh = 2, kw = 2;
  Geometry2D g;  // strides and padding of the window (no dilation)
};
// max_pool2d(conv2d(x, w, g, bias, relu)) without materialising the convolution's output:
// each plane is pooled while it is still in cache. About a quarter of the memory traffic
// of the two ops in sequence for the usual 2x2 pool.
struct Conv2dMaxPoolResult {
  Tensor y;                         // (N, F, PH, PW)
  std::shared_ptr<int32_t> argmax;  // per element of y: the offset of its max in the (OH, OW) convolution plane
  int64_t conv_h = 0, conv_w = 0;   // OH, OW
  Pool2dWindow pool;                // the pool's window, for the backward pass
};
Conv2dMaxPoolResult conv2d_max_pool2d(const Tensor& x, const Tensor& w, const Geometry2D& g, const Tensor& bias,
                                      bool relu, const Pool2dWindow& pool, int64_t chunk_images = 0,
                                      Conv2dColumns* keep = nullptr);
Conv2dGrads conv2d_max_pool2d_backward(const Tensor& dy, const Conv2dMaxPoolResult& forward, const Tensor& x,
                                       const Tensor& w, const Geometry2D& g, bool relu, bool want_dx, bool want_dw,
                                       bool want_db, int64_t chunk_images = 0, const Conv2dColumns* kept = nullptr);

// dL/dx from dL/dy (same geometry); x_shape is x's shape.
Tensor conv2d_backward_input_naive(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Geometry2D& g);
// dL/dw from dL/dy and x.
Tensor conv2d_backward_weight_naive(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Geometry2D& g);

}  // namespace axon::kernels
