#pragma once
// The sizes of a 2-D convolution, shared by its kernels (conv.cpp) and their references
// (conv_naive.cpp): x (N, C, H, W), w (F, C, KH, KW) -> y (N, F, OH, OW).
#include <cstdint>

#include "axon/error.h"
#include "kernels/conv.h"

namespace axon::kernels {

struct ConvDims {
  int64_t n, c, h, w, f, kh, kw, oh, ow;
  int64_t rows() const { return c * kh * kw; }  // of the column matrix
};

// Throws axon::Error naming what does not fit.
inline ConvDims conv_dims_of(const Shape& x, const Shape& w, const Geometry2D& g) {
  if (x.rank() != 4) fail("conv2d: input must be (batch, channels, height, width), got ", x);
  if (w.rank() != 4) fail("conv2d: kernel must be (filters, channels, height, width), got ", w);
  if (x[1] != w[1]) fail("conv2d: input ", x, " has ", x[1], " channels, the kernel ", w, " expects ", w[1]);
  const auto [oh, ow] = conv2d_output_size(x[2], x[3], w[2], w[3], g);
  return {x[0], x[1], x[2], x[3], w[0], w[2], w[3], oh, ow};
}

}  // namespace axon::kernels
