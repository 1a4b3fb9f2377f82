#pragma once
// 2-D max and average pooling on NCHW tensors, with their backward passes. Windows
// that overhang the (padded) border only cover real pixels: padding never wins a max
// and is not counted in an average (as Keras's padding="same").
#include <vector>

#include "kernels/conv.h"

namespace axon::kernels {

struct MaxPoolResult {
  Tensor y;                        // (N, C, OH, OW)
  std::vector<int64_t> argmax;     // per output element: the flat input index it came from
};

MaxPoolResult max_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Conv2dGeometry& g);
Tensor max_pool2d_backward(const Tensor& dy, const std::vector<int64_t>& argmax, const Shape& x_shape);
Tensor avg_pool2d(const Tensor& x, int64_t kh, int64_t kw, const Conv2dGeometry& g);
Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, int64_t kh, int64_t kw, const Conv2dGeometry& g);

}  // namespace axon::kernels
