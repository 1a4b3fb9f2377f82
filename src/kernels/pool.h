#pragma once
// 2-D max and average pooling on NCHW tensors, with their backward passes. Windows
// that overhang the (padded) border only cover real pixels: padding never wins a max
// and is not counted in an average (as Keras's padding="same").
#include <memory>
#include <vector>

#include "kernels/conv.h"

namespace axon::kernels {

struct MaxPoolResult {
  Tensor y;                         // (N, C, OH, OW)
  std::shared_ptr<int32_t> argmax;  // y.numel() entries: where each max came from, as the offset inside its input plane
  std::vector<int32_t> argmax_vector() const { return {argmax.get(), argmax.get() + y.numel()}; }
};

MaxPoolResult max_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g);
// Output (OH, OW) of pooling an (H, W) plane; throws naming `who` for a window that does
// not fit or padding as large as the window.
std::pair<int64_t, int64_t> pool2d_output_size(int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g,
                                               const char* who);
// Max pooling of one (H, W) plane into `oh` x `ow` values and their in-plane offsets.
template <class T>
void max_pool_plane(const T* in, int64_t h, int64_t w, int64_t kh, int64_t kw, const Geometry2D& g, int64_t oh,
                    int64_t ow, T* out, int32_t* argmax);
Tensor max_pool2d_backward(const Tensor& dy, const int32_t* argmax, const Shape& x_shape);
// The max pool's backward pass for one plane, writing all h x w values of `to`: dy[k]
// (k < oh * ow) goes to argmax[k], and with `pass` (the pool's outputs, or null) only
// where pass[k] > 0, as through a relu before the pool. Returns the sum of what it
// placed (the plane's share of a bias gradient). A 2x2 stride-2 window is one dense
// write of each row (AVX-512), without zeroing the plane first.
template <class T>
T max_unpool_plane(const T* dy, const T* pass, const int32_t* argmax, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                   const Geometry2D& g, int64_t h, int64_t w, T* to);
// References: one window at a time, the first maximum in row-major order wins.
MaxPoolResult max_pool2d_naive(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g);
Tensor max_pool2d_backward_naive(const Tensor& dy, const int32_t* argmax, const Shape& x_shape);
Tensor avg_pool2d_naive(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g);
Tensor avg_pool2d_backward_naive(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Geometry2D& g);
Tensor avg_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Geometry2D& g);
Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Geometry2D& g);

}  // namespace axon::kernels
