// Convolution kernels (im2col + GEMM) against the direct definition, on random shapes,
// strides, paddings and dilations, forward and both backward passes.
#include <gtest/gtest.h>

#include "axon/axon.h"
#include "kernels/conv.h"
#include "kernels/pool.h"

namespace axon {
namespace {

using kernels::Conv2dGeometry;

TEST(Conv, Im2colGemmMatchesTheDefinition) {
  Generator gen(21);
  for (int trial = 0; trial < 120; ++trial) {
    Conv2dGeometry g;
    g.stride_h = 1 + static_cast<int64_t>(gen.below(3));
    g.stride_w = 1 + static_cast<int64_t>(gen.below(3));
    g.dilation_h = 1 + static_cast<int64_t>(gen.below(2));
    g.dilation_w = 1 + static_cast<int64_t>(gen.below(2));
    g.pad_top = static_cast<int64_t>(gen.below(3));
    g.pad_bottom = static_cast<int64_t>(gen.below(3));
    g.pad_left = static_cast<int64_t>(gen.below(3));
    g.pad_right = static_cast<int64_t>(gen.below(3));
    const int64_t n = 1 + static_cast<int64_t>(gen.below(3)), c = 1 + static_cast<int64_t>(gen.below(4)), f = 1 + static_cast<int64_t>(gen.below(5));
    const int64_t kh = 1 + static_cast<int64_t>(gen.below(3)), kw = 1 + static_cast<int64_t>(gen.below(3));
    const int64_t h = kh * g.dilation_h + static_cast<int64_t>(gen.below(7)), w = kw * g.dilation_w + static_cast<int64_t>(gen.below(7));
    const DType dtype = trial % 2 ? DType::f64 : DType::f32;
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    const Tensor x = gen.uniform({n, c, h, w}, -1, 1, dtype), k = gen.uniform({f, c, kh, kw}, -1, 1, dtype);
    const Tensor y = kernels::conv2d(x, k, g);
    ASSERT_TRUE(y.allclose(kernels::conv2d_naive(x, k, g), tol, tol)) << "trial " << trial;
    const Tensor dy = gen.uniform(y.shape(), -1, 1, dtype);
    EXPECT_TRUE(kernels::conv2d_backward_input(dy, k, x.shape(), g).allclose(kernels::conv2d_backward_input_naive(dy, k, x.shape(), g), tol, tol))
        << "trial " << trial;
    EXPECT_TRUE(kernels::conv2d_backward_weight(dy, x, k.shape(), g).allclose(kernels::conv2d_backward_weight_naive(dy, x, k.shape(), g), tol, tol))
        << "trial " << trial;
  }
}

TEST(Conv, LargeBatchTakesTheParallelPaths) {
  Generator gen(22);
  Conv2dGeometry same;
  same.pad_top = same.pad_bottom = same.pad_left = same.pad_right = 1;
  const Tensor x = gen.uniform({8, 16, 14, 14}, -1, 1), k = gen.uniform({32, 16, 3, 3}, -1, 1);
  const Tensor y = kernels::conv2d(x, k, same);
  EXPECT_EQ(y.shape(), (Shape{8, 32, 14, 14}));
  EXPECT_TRUE(y.allclose(kernels::conv2d_naive(x, k, same), 1e-4, 1e-4));
  const Tensor dy = gen.uniform(y.shape(), -1, 1);
  EXPECT_TRUE(kernels::conv2d_backward_input(dy, k, x.shape(), same).allclose(kernels::conv2d_backward_input_naive(dy, k, x.shape(), same), 1e-4, 1e-4));
}

TEST(Conv, BadGeometryIsAnError) {
  const Tensor x = Tensor::zeros({1, 3, 5, 5}), k = Tensor::zeros({4, 3, 3, 3});
  Conv2dGeometry g;
  g.stride_h = 0;
  EXPECT_THROW(kernels::conv2d(x, k, g), Error);
  EXPECT_THROW(kernels::conv2d(x, Tensor::zeros({4, 3, 7, 3}), {}), Error);  // kernel taller than the input
  EXPECT_THROW(kernels::conv2d(x, Tensor::zeros({4, 2, 3, 3}), {}), Error);  // channels differ
  EXPECT_THROW(kernels::conv2d(Tensor::zeros({3, 5, 5}), k, {}), Error);     // rank 3
  try {
    kernels::conv2d(x, Tensor::zeros({4, 3, 6, 6}), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "conv2d: kernel (6, 6) with dilation (1, 1) does not fit the padded input (5, 5)");
  }
}

TEST(Pool, HandWorkedValues) {
  // 1 x 1 x 4 x 4 holding 0..15, row by row.
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i);
  const Tensor x = Tensor::from(values, {1, 1, 4, 4});
  Conv2dGeometry two;
  two.stride_h = two.stride_w = 2;
  const kernels::MaxPoolResult max = kernels::max_pool2d(x, 2, 2, two);
  EXPECT_EQ(max.y.to_vector(), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ(max.argmax, (std::vector<int64_t>{5, 7, 13, 15}));
  EXPECT_EQ(kernels::avg_pool2d(x, 2, 2, two).to_vector(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  // "same" 3x3 windows, stride 1: the corner window covers 0, 1, 4, 5 only (padding not counted).
  Conv2dGeometry same;
  same.pad_top = same.pad_bottom = same.pad_left = same.pad_right = 1;
  const Tensor avg = kernels::avg_pool2d(x, 3, 3, same);
  EXPECT_DOUBLE_EQ(avg.at({0, 0, 0, 0}), 2.5);
  EXPECT_DOUBLE_EQ(avg.at({0, 0, 1, 1}), 5.0);  // 0,1,2,4,5,6,8,9,10
  EXPECT_EQ(kernels::max_pool2d(x, 3, 3, same).y.at({0, 0, 0, 0}), 5.0);
  // Gradients go to the argmax, or are shared by the window's real pixels.
  const Tensor dmax = kernels::max_pool2d_backward(Tensor::ones({1, 1, 2, 2}), max.argmax, x.shape());
  EXPECT_EQ(dmax.at({0, 0, 1, 1}), 1.0);
  EXPECT_EQ(dmax.at({0, 0, 0, 0}), 0.0);
  const Tensor davg = kernels::avg_pool2d_backward(Tensor::ones({1, 1, 2, 2}), x.shape(), 2, 2, two);
  for (double v : davg.to_vector()) EXPECT_DOUBLE_EQ(v, 0.25);
  EXPECT_THROW(kernels::max_pool2d(x, 5, 5, {}), Error);  // the window does not fit
  Conv2dGeometry wide;
  wide.pad_top = 2;
  EXPECT_THROW(kernels::max_pool2d(x, 2, 2, wide), Error);  // a window of padding alone
}

}  // namespace
}  // namespace axon
