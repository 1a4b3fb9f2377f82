#pragma once
// Direct 2-D convolution for AVX-512 (float32, stride 1, no dilation). Sixteen
// consecutive outputs of a row are the sum over (channel, i, j) of sixteen consecutive
// inputs times one weight, so nothing is laid out as columns (im2col) or packed for a
// GEMM: at 32 filters a GEMM's packing of the column matrix cost as much as its product.
// Eight filters and three such row segments at a time keep 24 accumulators in
// registers, and each input vector loaded serves eight filters; padding is a load mask.
// conv.cpp uses it for the forward pass and, on dL/dy with the kernel flipped, for the
// input gradient; the weight gradient has its own kernel, at the end of this file.
#include <cstdint>
#include <functional>
#include <vector>

#include "axon/geometry.h"

namespace axon::kernels {

struct DirectConvShape {
  int64_t c, h, w, kh, kw, oh, ow, pad_top, pad_left;
};

constexpr int64_t kDirectFilters = 8;  // filters per block
constexpr int64_t kDirectMaxKernelSize = 16;

// Whether the CPU (AVX-512F), the geometry (stride 1, dilation 1, a kernel of at most
// 16x16) and the filter count suit it: at least 3/4 of each block of 8 filters in use
// (a 1-filter convolution would leave 7/8 of the work idle).
bool direct_conv_applies(const Geometry2D& g, int64_t kernel_height, int64_t kernel_width, int64_t filters);

// w (F, C, KH, KW) -> (ceil(F / 8), C, KH, KW, 8): each tap's eight filters side by side,
// zeros past F.
std::vector<float> pack_direct_weights(const float* w, int64_t f, int64_t c, int64_t kh, int64_t kw);

// One image (C, H, W), blocks [first, last) of 8 filters (F filters in all): their
// output planes (OH, OW), one after the other at `out`. Each tap's load masks are worked
// out once for all the blocks.
void conv2d_direct_blocks(const DirectConvShape& s, const float* image, const float* packed, int64_t first,
                          int64_t last, int64_t f, float* out);

// The weight gradient of a stride-1 convolution without im2col, where it applies
// (AVX-512F, stride 1, dilation 1, KW a multiple of 3, at least a quarter of the work
// below real). 32 filters x 4 slots x 3 taps of a kernel row at a time, a slot being an
// input channel or (over one to three channels) a kernel row: each output pixel's dL/dy
// for 32 filters (two vectors, from dL/dy laid out channels-last) times one input value
// per (slot, tap), 24 accumulators. Each group of images whose dL/dy stays in a core's
// cache is one thread's work, summed in a fixed order after.
bool direct_weight_gradient_applies(const Geometry2D& g, int64_t channels, int64_t kernel_height,
                                    int64_t kernel_width, int64_t filters);
// x: (N, C, H, W), dy: (N, F, OH, OW) -> dw: (F, C, KH, KW), overwritten. Without dy,
// dy_image(n, planes) writes image n's (F, OH, OW) dL/dy when its group needs it: the
// gradient then never goes through memory in full (the first layer's is 100 KB an image).
using DyImage = std::function<void(int64_t image, float* planes)>;
void conv2d_direct_weight_gradient(const DirectConvShape& s, int64_t n, int64_t f, const float* x, const float* dy,
                                   float* dw, const DyImage& dy_image = nullptr);

}  // namespace axon::kernels
