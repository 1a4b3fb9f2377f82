// Convolution kernels (im2col + GEMM, and the AVX-512 direct forward pass) against the
// definition, on random shapes, strides, paddings and dilations, forward and both
// backward passes.
#include <gtest/gtest.h>

#include "axon/axon.h"
#include "error_of.h"
#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "kernels/elementwise.h"
#include "kernels/pool.h"
#include "kernels/reduce.h"

namespace axon {
namespace {

using test_support::error_of;

TEST(Conv, Im2colGemmMatchesTheDefinition) {
  Generator gen(21);
  for (int trial = 0; trial < 120; ++trial) {
    Geometry2D g;
    g.stride_h = 1 + static_cast<int64_t>(gen.below(3));
    g.stride_w = 1 + static_cast<int64_t>(gen.below(3));
    g.dilation_h = 1 + static_cast<int64_t>(gen.below(2));
    g.dilation_w = 1 + static_cast<int64_t>(gen.below(2));
    g.pad_top = static_cast<int64_t>(gen.below(3));
    g.pad_bottom = static_cast<int64_t>(gen.below(3));
    g.pad_left = static_cast<int64_t>(gen.below(3));
    g.pad_right = static_cast<int64_t>(gen.below(3));
    const int64_t n = 1 + static_cast<int64_t>(gen.below(3)), c = 1 + static_cast<int64_t>(gen.below(4)),
                  f = 1 + static_cast<int64_t>(gen.below(5));
    const int64_t kh = 1 + static_cast<int64_t>(gen.below(3)), kw = 1 + static_cast<int64_t>(gen.below(3));
    const int64_t h = kh * g.dilation_h + static_cast<int64_t>(gen.below(7)),
                  w = kw * g.dilation_w + static_cast<int64_t>(gen.below(7));
    if (trial % 4 == 0) {  // stride 1, output as wide as the input ("same"): the block-copy path
      g.stride_h = g.stride_w = 1;
      const int64_t span_w = g.dilation_w * (kw - 1);
      g.pad_left = static_cast<int64_t>(gen.below(static_cast<uint64_t>(span_w + 1)));
      g.pad_right = span_w - g.pad_left;
    }
    const DType dtype = trial % 2 ? DType::f64 : DType::f32;
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    const Tensor x = gen.uniform({n, c, h, w}, -1, 1, dtype), k = gen.uniform({f, c, kh, kw}, -1, 1, dtype);
    const Tensor bias = gen.uniform({f}, -1, 1, dtype);
    const int64_t chunk =
        static_cast<int64_t>(gen.below(3));  // 0: from the cache budget; 1, 2: several GEMMs per batch
    const bool relu = trial % 3 == 1;
    const Tensor y = kernels::conv2d(x, k, g, bias, relu, chunk);
    Tensor expected = kernels::binary(kernels::Binary::add, kernels::conv2d_naive(x, k, g), bias.reshape({1, f, 1, 1}));
    if (relu) expected = kernels::unary(kernels::Unary::relu, expected);
    ASSERT_TRUE(y.allclose(expected, tol, tol)) << "trial " << trial;
    const Tensor dy = gen.uniform(y.shape(), -1, 1, dtype);
    const kernels::Conv2dGrads grads =
        kernels::conv2d_backward(dy, x, k, g, true, true, true, relu ? y : Tensor(), chunk);
    // The same with the forward pass's column matrices kept for the weight gradient.
    kernels::Conv2dColumns kept;
    EXPECT_TRUE(kernels::conv2d(x, k, g, bias, relu, chunk, &kept).allclose(y, 0, 0)) << "trial " << trial;
    const kernels::Conv2dGrads from_kept =
        kernels::conv2d_backward(dy, x, k, g, false, true, false, relu ? y : Tensor(), 0, &kept);
    EXPECT_TRUE(from_kept.dw.allclose(grads.dw, tol, tol)) << "trial " << trial;
    // through the relu: dL/d(pre-activation) = dy where y > 0
    const Tensor dpre = relu ? kernels::unary_backward(kernels::Unary::relu, expected, expected, dy) : dy;
    EXPECT_TRUE(grads.dx.allclose(kernels::conv2d_backward_input_naive(dpre, k, x.shape(), g), tol, tol))
        << "trial " << trial;
    EXPECT_TRUE(grads.dw.allclose(kernels::conv2d_backward_weight_naive(dpre, x, k.shape(), g), tol, tol))
        << "trial " << trial;
    EXPECT_TRUE(grads.db.allclose(kernels::sum_to(dpre, {1, f, 1, 1}).reshape({f}), tol, tol)) << "trial " << trial;
  }
}

// The fused conv + relu + max pool against the three kernels in sequence.
TEST(Conv, FusedMaxPoolMatchesTheKernelsInSequence) {
  Generator gen(25);
  for (int trial = 0; trial < 60; ++trial) {
    Geometry2D g;
    g.stride_h = 1 + static_cast<int64_t>(gen.below(2));
    g.pad_top = g.pad_bottom = g.pad_left = g.pad_right = static_cast<int64_t>(gen.below(2));
    kernels::Pool2dWindow pool;  // 2x2, stride 2 on even trials; any window and stride on odd ones
    pool.g.stride_h = pool.g.stride_w = 2;
    if (trial % 2) {
      pool.kh = 1 + static_cast<int64_t>(gen.below(3));
      pool.kw = 1 + static_cast<int64_t>(gen.below(3));
      pool.g.stride_h = 1 + static_cast<int64_t>(gen.below(2));
      pool.g.stride_w = 1 + static_cast<int64_t>(gen.below(2));
    }
    const int64_t n = 1 + static_cast<int64_t>(gen.below(4)), c = 1 + static_cast<int64_t>(gen.below(3)),
                  f = 1 + static_cast<int64_t>(gen.below(4));
    // Widths to 40: the 2x2 pool's backward rows take 16 values at a time, with a tail.
    const int64_t h = 7 + static_cast<int64_t>(gen.below(6)), w = 7 + static_cast<int64_t>(gen.below(34));
    const DType dtype = trial % 3 ? DType::f64 : DType::f32;
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    const Tensor x = gen.uniform({n, c, h, w}, -1, 1, dtype), k = gen.uniform({f, c, 3, 3}, -1, 1, dtype),
                 bias = gen.uniform({f}, -1, 1, dtype);
    const bool relu = trial % 4 < 2;
    const int64_t chunk = static_cast<int64_t>(gen.below(3));
    kernels::Conv2dColumns kept;
    const kernels::Conv2dMaxPoolResult fused = kernels::conv2d_max_pool2d(x, k, g, bias, relu, pool, chunk, &kept);
    const Tensor conv = kernels::conv2d(x, k, g, bias, relu);
    const kernels::MaxPoolResult pooled = kernels::max_pool2d(conv, pool.kh, pool.kw, pool.g);
    ASSERT_TRUE(fused.y.allclose(pooled.y, tol, tol)) << "trial " << trial;
    ASSERT_EQ(std::vector<int32_t>(fused.argmax.get(), fused.argmax.get() + fused.y.numel()), pooled.argmax_vector())
        << "trial " << trial;
    const Tensor dy = gen.uniform(fused.y.shape(), -1, 1, dtype);
    const kernels::Conv2dGrads a =
        kernels::conv2d_max_pool2d_backward(dy, fused, x, k, g, relu, true, true, true, chunk, &kept);
    const kernels::Conv2dGrads b =
        kernels::conv2d_backward(kernels::max_pool2d_backward(dy, pooled.argmax.get(), conv.shape()), x, k, g, true,
                                 true, true, relu ? conv : Tensor());
    EXPECT_TRUE(a.dx.allclose(b.dx, tol, tol)) << "trial " << trial;
    EXPECT_TRUE(a.dw.allclose(b.dw, tol, tol)) << "trial " << trial;
    EXPECT_TRUE(a.db.allclose(b.db, tol, tol)) << "trial " << trial;
  }
}

TEST(Conv, LargeBatchTakesTheParallelPaths) {
  Generator gen(22);
  Geometry2D same;
  same.pad_top = same.pad_bottom = same.pad_left = same.pad_right = 1;
  const Tensor x = gen.uniform({8, 16, 14, 14}, -1, 1), k = gen.uniform({32, 16, 3, 3}, -1, 1);
  const Tensor y = kernels::conv2d(x, k, same);
  EXPECT_EQ(y.shape(), (Shape{8, 32, 14, 14}));
  EXPECT_TRUE(y.allclose(kernels::conv2d_naive(x, k, same), 1e-4, 1e-4));
  const Tensor dy = gen.uniform(y.shape(), -1, 1);
  const kernels::Conv2dGrads grads = kernels::conv2d_backward(dy, x, k, same, true, true, false);
  EXPECT_TRUE(grads.dx.allclose(kernels::conv2d_backward_input_naive(dy, k, x.shape(), same), 1e-4, 1e-4));
  EXPECT_TRUE(grads.dw.allclose(kernels::conv2d_backward_weight_naive(dy, x, k.shape(), same), 1e-3, 1e-4));
  EXPECT_FALSE(grads.db.defined());
}

// The direct kernels (conv_direct.h) on rows wider than their 16 lanes, with tails,
// filters past a block of 8 (and fewer than 8; 40 for the weight gradient's blocks of
// 32), channels not a multiple of 4, asymmetric padding and non-square kernels; through
// conv2d, the fused max pool and both gradients, and the forward kernel block by block.
TEST(Conv, DirectKernelMatchesTheDefinition) {
  struct Case {
    int64_t n, c, h, w, f, kh, kw, top, bottom, left, right;
  };
  Generator gen(26);
  for (const Case& t : {Case{2, 6, 21, 37, 14, 3, 3, 2, 0, 1, 3}, Case{1, 1, 40, 17, 8, 5, 1, 0, 0, 0, 0},
                        Case{3, 16, 9, 9, 20, 1, 1, 0, 0, 0, 0}, Case{1, 3, 18, 33, 6, 2, 4, 1, 1, 3, 0},
                        Case{2, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1}, Case{3, 5, 10, 12, 40, 2, 6, 1, 0, 2, 3},
                        // the weight gradient's slots on kernel rows: one channel (rows 0-2 and an
                        // idle fourth), and two channels of a 5-row kernel (two blocks of rows)
                        Case{9, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1}, Case{4, 2, 11, 13, 30, 5, 3, 2, 2, 1, 1}}) {
    Geometry2D g;
    g.pad_top = t.top, g.pad_bottom = t.bottom, g.pad_left = t.left, g.pad_right = t.right;
    const Tensor x = gen.uniform({t.n, t.c, t.h, t.w}, -1, 1), k = gen.uniform({t.f, t.c, t.kh, t.kw}, -1, 1);
    const Tensor bias = gen.uniform({t.f}, -1, 1);
    const Tensor expected = kernels::binary(kernels::Binary::add, kernels::conv2d_naive(x, k, g), bias.reshape({1, t.f, 1, 1}));
    const Tensor y = kernels::conv2d(x, k, g, bias, true);
    EXPECT_TRUE(y.allclose(kernels::unary(kernels::Unary::relu, expected), 1e-5, 1e-5)) << "w " << t.w;
    kernels::Pool2dWindow pool;
    pool.g.stride_h = pool.g.stride_w = 2;
    const kernels::Conv2dMaxPoolResult fused = kernels::conv2d_max_pool2d(x, k, g, bias, false, pool);
    EXPECT_TRUE(fused.y.allclose(kernels::max_pool2d(expected, 2, 2, pool.g).y, 1e-5, 1e-5)) << "w " << t.w;
    // dL/dx: the direct kernel on dL/dy with the kernel flipped (padding up to KH-1).
    const Tensor dy = gen.uniform(y.shape(), -1, 1);
    const kernels::Conv2dGrads grads = kernels::conv2d_backward(dy, x, k, g, true, true, false);
    EXPECT_TRUE(grads.dx.allclose(kernels::conv2d_backward_input_naive(dy, k, x.shape(), g), 1e-5, 1e-5)) << "w " << t.w;
    EXPECT_TRUE(grads.dw.allclose(kernels::conv2d_backward_weight_naive(dy, x, k.shape(), g), 1e-4, 1e-4)) << "w " << t.w;
    const int threads = num_threads();  // the same sums on one thread, and without dL/dx (dL/dy made per image)
    set_num_threads(1);
    const kernels::Conv2dGrads no_dx = kernels::conv2d_backward(dy, x, k, g, false, true, true);
    EXPECT_TRUE(no_dx.dw.allclose(grads.dw, 0, 0)) << "w " << t.w;
    set_num_threads(threads);
    Tensor db = Tensor::zeros({t.f});
    for (int64_t i = 0; i < dy.numel(); ++i) db.data<float>()[i / (y.dim(2) * y.dim(3)) % t.f] += dy.data<float>()[i];
    EXPECT_TRUE(no_dx.db.allclose(db, 1e-4, 1e-4)) << "w " << t.w;
    // The fused pool's backward without dL/dx against the pool's and the convolution's.
    const Tensor pooled_dy = gen.uniform(fused.y.shape(), -1, 1);
    const kernels::Conv2dGrads unpooled =
        kernels::conv2d_max_pool2d_backward(pooled_dy, fused, x, k, g, false, false, true, true);
    const kernels::Conv2dGrads in_sequence = kernels::conv2d_backward(
        kernels::max_pool2d_backward(pooled_dy, fused.argmax.get(), y.shape()), x, k, g, false, true, true);
    EXPECT_TRUE(unpooled.dw.allclose(in_sequence.dw, 1e-5, 1e-5)) << "w " << t.w;
    EXPECT_TRUE(unpooled.db.allclose(in_sequence.db, 1e-5, 1e-5)) << "w " << t.w;
    if (!kernels::direct_conv_applies(g, t.kh, t.kw, t.f)) continue;  // no AVX-512: conv2d took im2col + GEMM
    const std::vector<float> packed = kernels::pack_direct_weights(k.data<float>(), t.f, t.c, t.kh, t.kw);
    const kernels::DirectConvShape shape{t.c, t.h, t.w, t.kh, t.kw, y.dim(2), y.dim(3), t.top, t.left};
    const Tensor plain = kernels::conv2d_naive(x, k, g);
    for (int64_t block = 0; block * kernels::kDirectFilters < t.f; ++block) {
      const int64_t first = block * kernels::kDirectFilters, count = std::min(kernels::kDirectFilters, t.f - first);
      Tensor out = Tensor::zeros({count, y.dim(2), y.dim(3)});
      kernels::conv2d_direct_blocks(shape, x.data<float>() + (t.n - 1) * t.c * t.h * t.w, packed.data(), block,
                                    block + 1, t.f, out.data<float>());
      EXPECT_TRUE(out.allclose(plain.rows(t.n - 1, t.n).reshape({t.f, y.dim(2), y.dim(3)}).rows(first, first + count),
                               1e-5, 1e-5))
          << "w " << t.w << " block " << block;
    }
  }
}

TEST(Conv, BadGeometryIsAnError) {
  const Tensor x = Tensor::zeros({1, 3, 5, 5}), k = Tensor::zeros({4, 3, 3, 3});
  Geometry2D g;
  g.stride_h = 0;
  EXPECT_THROW(kernels::conv2d(x, k, g), Error);
  EXPECT_THROW(kernels::conv2d(x, Tensor::zeros({4, 3, 7, 3}), {}), Error);  // kernel taller than the input
  EXPECT_THROW(kernels::conv2d(x, Tensor::zeros({4, 2, 3, 3}), {}), Error);  // channels differ
  EXPECT_THROW(kernels::conv2d(Tensor::zeros({3, 5, 5}), k, {}), Error);     // rank 3
  EXPECT_EQ(error_of([&] {
              kernels::conv2d(x, Tensor::zeros({4, 3, 6, 6}), {});
            }),
            "conv2d: kernel (6, 6) with dilation (1, 1) does not fit the padded input (5, 5)");
}

TEST(Pool, HandWorkedValues) {
  // 1 x 1 x 4 x 4 holding 0..15, row by row.
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i);
  const Tensor x = Tensor::from(values, {1, 1, 4, 4});
  Geometry2D two;
  two.stride_h = two.stride_w = 2;
  const kernels::MaxPoolResult max = kernels::max_pool2d(x, 2, 2, two);
  EXPECT_EQ(max.y.to_vector(), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ(max.argmax_vector(), (std::vector<int32_t>{5, 7, 13, 15}));
  EXPECT_EQ(kernels::avg_pool2d(x, 2, 2, two).to_vector(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  // "same" 3x3 windows, stride 1: the corner window covers 0, 1, 4, 5 only (padding not counted).
  Geometry2D same;
  same.pad_top = same.pad_bottom = same.pad_left = same.pad_right = 1;
  const Tensor avg = kernels::avg_pool2d(x, 3, 3, same);
  EXPECT_DOUBLE_EQ(avg.at({0, 0, 0, 0}), 2.5);
  EXPECT_DOUBLE_EQ(avg.at({0, 0, 1, 1}), 5.0);  // 0,1,2,4,5,6,8,9,10
  EXPECT_EQ(kernels::max_pool2d(x, 3, 3, same).y.at({0, 0, 0, 0}), 5.0);
  // Gradients go to the argmax, or are shared by the window's real pixels.
  const Tensor dmax = kernels::max_pool2d_backward(Tensor::ones({1, 1, 2, 2}), max.argmax.get(), x.shape());
  EXPECT_EQ(dmax.at({0, 0, 1, 1}), 1.0);
  EXPECT_EQ(dmax.at({0, 0, 0, 0}), 0.0);
  const Tensor davg = kernels::avg_pool2d_backward(Tensor::ones({1, 1, 2, 2}), x.shape(), 2, 2, two);
  for (double v : davg.to_vector()) EXPECT_DOUBLE_EQ(v, 0.25);
  EXPECT_THROW(kernels::max_pool2d(x, 5, 5, {}), Error);  // the window does not fit
  Geometry2D wide;
  wide.pad_top = 2;
  EXPECT_THROW(kernels::max_pool2d(x, 2, 2, wide), Error);  // a window of padding alone
}

TEST(Pool, KernelsMatchTheDefinition) {
  Generator gen(23);
  for (int trial = 0; trial < 150; ++trial) {
    const int64_t kh = 1 + static_cast<int64_t>(gen.below(3)), kw = 1 + static_cast<int64_t>(gen.below(3));
    Geometry2D g;
    if (trial % 3 == 0) {  // the 2x2 / stride 2 fast path, on odd and even sizes
      g.stride_h = g.stride_w = 2;
    } else {
      g.stride_h = 1 + static_cast<int64_t>(gen.below(3));
      g.stride_w = 1 + static_cast<int64_t>(gen.below(3));
      g.pad_top = static_cast<int64_t>(gen.below(static_cast<uint64_t>(kh)));
      g.pad_bottom = static_cast<int64_t>(gen.below(static_cast<uint64_t>(kh)));
      g.pad_left = static_cast<int64_t>(gen.below(static_cast<uint64_t>(kw)));
      g.pad_right = static_cast<int64_t>(gen.below(static_cast<uint64_t>(kw)));
    }
    const int64_t wh = trial % 3 == 0 ? 2 : kh, ww = trial % 3 == 0 ? 2 : kw;
    const int64_t n = 1 + static_cast<int64_t>(gen.below(3)), c = 1 + static_cast<int64_t>(gen.below(3));
    // The fast path takes 16 outputs of a row at a time: rows up to 35 outputs wide.
    const int64_t h = wh + static_cast<int64_t>(gen.below(6)),
                  w = ww + static_cast<int64_t>(gen.below(trial % 3 == 0 ? 70 : 6));
    const DType dtype = trial % 2 ? DType::f64 : DType::f32;
    // Distinct values, so the argmax is unique; a few exact ties test "first maximum wins".
    Tensor x = gen.uniform({n, c, h, w}, -1, 1, dtype);
    if (trial % 5 == 0) x = Tensor::zeros({n, c, h, w}, dtype);
    const kernels::MaxPoolResult max = kernels::max_pool2d(x, wh, ww, g),
                                 reference = kernels::max_pool2d_naive(x, wh, ww, g);
    ASSERT_TRUE(max.y.allclose(reference.y, 0, 0)) << "trial " << trial;
    ASSERT_EQ(max.argmax_vector(), reference.argmax_vector()) << "trial " << trial;
    const Tensor dy = gen.uniform(max.y.shape(), -1, 1, dtype);
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(kernels::max_pool2d_backward(dy, max.argmax.get(), x.shape())
                    .allclose(kernels::max_pool2d_backward_naive(dy, max.argmax.get(), x.shape()), tol, tol))
        << "trial " << trial;
    const Tensor avg = kernels::avg_pool2d(x, wh, ww, g);
    EXPECT_TRUE(avg.allclose(kernels::avg_pool2d_naive(x, wh, ww, g), tol, tol)) << "trial " << trial;
    EXPECT_TRUE(kernels::avg_pool2d_backward(dy, x.shape(), wh, ww, g)
                    .allclose(kernels::avg_pool2d_backward_naive(dy, x.shape(), wh, ww, g), tol, tol))
        << "trial " << trial;
  }
}

TEST(Pool, LargeBatchTakesTheParallelPaths) {
  Generator gen(24);
  Geometry2D two;
  two.stride_h = two.stride_w = 2;
  const Tensor x = gen.uniform({16, 32, 28, 28}, -1, 1);
  const kernels::MaxPoolResult max = kernels::max_pool2d(x, 2, 2, two),
                               reference = kernels::max_pool2d_naive(x, 2, 2, two);
  EXPECT_TRUE(max.y.allclose(reference.y, 0, 0));
  EXPECT_EQ(max.argmax_vector(), reference.argmax_vector());
  const Tensor dy = gen.uniform(max.y.shape(), -1, 1);
  EXPECT_TRUE(kernels::max_pool2d_backward(dy, max.argmax.get(), x.shape())
                  .allclose(kernels::max_pool2d_backward_naive(dy, max.argmax.get(), x.shape()), 0, 0));
}

}  // namespace
}  // namespace axon
