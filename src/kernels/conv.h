#pragma once
// 2-D convolution on NCHW tensors via im2col + one large GEMM for the whole batch, and
// its two backward passes; a direct naive reference beside each.
//   x: (N, C, H, W), w: (F, C, KH, KW) -> y: (N, F, OH, OW),
//   OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1 (same for W).
#include "axon/tensor.h"

namespace axon::kernels {

struct Conv2dGeometry {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

// Output (OH, OW) for an input (H, W) and kernel (KH, KW); throws naming `who` when the
// geometry is invalid (non-positive stride or dilation, kernel larger than the padded input).
std::pair<int64_t, int64_t> conv2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Conv2dGeometry& g,
                                               const char* who = "conv2d");

Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dGeometry& g);  // no bias
Tensor conv2d_naive(const Tensor& x, const Tensor& w, const Conv2dGeometry& g);
// dL/dx from dL/dy (same geometry); x_shape is x's shape.
Tensor conv2d_backward_input(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dGeometry& g);
Tensor conv2d_backward_input_naive(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dGeometry& g);
// dL/dw from dL/dy and x.
Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Conv2dGeometry& g);
Tensor conv2d_backward_weight_naive(const Tensor& dy, const Tensor& x, const Shape& w_shape, const Conv2dGeometry& g);

}  // namespace axon::kernels
