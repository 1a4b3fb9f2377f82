// Every fast kernel against its naive reference, on random shapes including odd sizes
// and sizes 0 and 1, small (serial) and large (thread pool) inputs, float32 and float64.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/layout.h"
#include "kernels/reduce.h"

namespace axon {
namespace {

using test_support::error_of;

using namespace kernels;

template <class T>
void expect_gemm_matches_naive(int64_t m, int64_t n, int64_t k, bool ta, bool tb, T alpha, T beta, Generator& gen) {
  const Tensor a = gen.uniform(ta ? Shape{k, m} : Shape{m, k}, -1, 1, dtype_of<T>());
  const Tensor b = gen.uniform(tb ? Shape{n, k} : Shape{k, n}, -1, 1, dtype_of<T>());
  Tensor fast = gen.uniform(Shape{m, n}, -1, 1, dtype_of<T>());
  Tensor naive = fast.clone();
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  gemm<T>(ta, tb, m, n, k, alpha, a.data<T>(), std::max<int64_t>(lda, 1), b.data<T>(), std::max<int64_t>(ldb, 1), beta,
          fast.data<T>(), std::max<int64_t>(n, 1));
  gemm_naive<T>(ta, tb, m, n, k, alpha, a.data<T>(), lda, b.data<T>(), ldb, beta, naive.data<T>(), n);
  const double tol = std::is_same_v<T, float> ? 1e-4 * std::sqrt(static_cast<double>(k) + 1) : 1e-12;
  EXPECT_TRUE(fast.allclose(naive, tol, tol)) << m << "x" << n << "x" << k << " ta=" << ta << " tb=" << tb;
}

TEST(Kernels, GemmMatchesNaiveOnRandomShapes) {
  Generator gen(7);
  const int64_t sizes[] = {1, 2, 3, 7, 16, 33, 65};
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t m = sizes[gen.below(7)], n = sizes[gen.below(7)], k = sizes[gen.below(7)];
    const bool ta = gen.below(2), tb = gen.below(2);
    expect_gemm_matches_naive<float>(m, n, k, ta, tb, 1.0f, 0.0f, gen);
    expect_gemm_matches_naive<double>(m, n, k, ta, tb, 0.5, 2.0, gen);
  }
  expect_gemm_matches_naive<float>(128, 256, 784, false, false, 1.0f, 0.0f, gen);  // the MLP's first layer
  expect_gemm_matches_naive<float>(784, 256, 128, true, false, 1.0f, 0.0f, gen);   // ... and its weight gradient
}

// A dense layer's forward pass, c = relu(a @ b + bias), on each of its paths: one row
// (GEMV), a few rows (AVX-512 rows kernel), a deep product over a short c (cut in two
// halves of depth) and the row or column blocks; the same bits at 1, 2 and 3 threads.
TEST(Kernels, GemmBiasActMatchesNaiveAtEveryThreadCount) {
  Generator gen(31);
  struct Case {
    int64_t m, n, k;
  };
  const int before = num_threads();
  for (const Case& t : {Case{1, 256, 784}, Case{5, 70, 33}, Case{64, 256, 784}, Case{128, 130, 1001},
                        Case{300, 40, 600}, Case{128, 128, 256}})
    for (bool relu : {false, true}) {
      const Tensor a = gen.uniform({t.m, t.k}, -1, 1), b = gen.uniform({t.k, t.n}, -1, 1),
                   bias = gen.uniform({t.n}, -1, 1);
      Tensor naive = Tensor::empty({t.m, t.n});
      gemm_naive<float>(false, false, t.m, t.n, t.k, 1.0f, a.data<float>(), t.k, b.data<float>(), t.n, 0.0f,
                        naive.data<float>(), t.n);
      for (int64_t i = 0; i < naive.numel(); ++i) {
        const float v = naive.data<float>()[i] + bias.data<float>()[i % t.n];
        naive.data<float>()[i] = relu ? std::max(v, 0.0f) : v;
      }
      Tensor first;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor c = Tensor::empty({t.m, t.n});
        gemm_bias_act<float>(t.m, t.n, t.k, a.data<float>(), b.data<float>(), bias.data<float>(), relu,
                             c.data<float>());
        const double tol = 1e-4 * std::sqrt(static_cast<double>(t.k));
        EXPECT_TRUE(c.allclose(naive, tol, tol)) << t.m << "x" << t.n << "x" << t.k << " threads " << threads;
        if (threads == 1) first = c;
        EXPECT_TRUE(c.allclose(first, 0, 0)) << t.m << "x" << t.n << "x" << t.k << " threads " << threads;
      }
    }
  set_num_threads(before);
}

TEST(Kernels, MatmulHandlesZeroSizes) {
  const Tensor a = Tensor::zeros({3, 0}), b = Tensor::zeros({0, 4});
  const Tensor c = matmul(a, false, b, false);
  EXPECT_EQ(c.shape(), (Shape{3, 4}));
  for (double v : c.to_vector()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(matmul(Tensor::zeros({0, 5}), false, Tensor::zeros({5, 2}), false).shape(), (Shape{0, 2}));
}

TEST(Kernels, MatmulRejectsMismatchedShapes) {
  EXPECT_EQ(error_of([&] {
              matmul(Tensor::zeros({32, 784}), false, Tensor::zeros({100, 10}), false);
            }),
            "matmul: (32, 784) x (100, 10): inner dimensions differ");
  EXPECT_THROW(matmul(Tensor::zeros({3}), false, Tensor::zeros({3, 1}), false), Error);
  EXPECT_THROW(matmul(Tensor::zeros({2, 3}), false, Tensor::zeros({3, 1}, DType::f64), false), Error);
}

Shape random_shape(Generator& gen, int64_t max_rank, int64_t max_dim) {
  std::vector<int64_t> dims(gen.below(static_cast<uint64_t>(max_rank) + 1));
  for (int64_t& d : dims) d = static_cast<int64_t>(gen.below(static_cast<uint64_t>(max_dim) + 1));
  return Shape(dims);
}

// A shape that broadcasts against `shape`: a suffix of it with some axes set to 1.
Shape broadcastable(const Shape& shape, Generator& gen) {
  const int64_t drop = static_cast<int64_t>(gen.below(static_cast<uint64_t>(shape.rank()) + 1));
  std::vector<int64_t> dims(shape.dims().begin() + drop, shape.dims().end());
  for (int64_t& d : dims)
    if (gen.below(3) == 0) d = 1;
  return Shape(dims);
}

TEST(Kernels, BinaryBroadcastMatchesNaive) {
  Generator gen(11);
  const Binary ops[] = {Binary::add, Binary::sub, Binary::mul, Binary::div, Binary::pow};
  for (int trial = 0; trial < 300; ++trial) {
    const Shape shape = random_shape(gen, 4, 6);
    Shape other = broadcastable(shape, gen);
    const DType dtype = gen.below(2) ? DType::f32 : DType::f64;
    Tensor a = gen.uniform(shape, 0.5, 2, dtype), b = gen.uniform(other, 0.5, 2, dtype);
    if (gen.below(2)) std::swap(a, b);
    const Binary op = ops[gen.below(5)];
    const Tensor fast = binary(op, a, b), naive = binary_naive(op, a, b);
    ASSERT_EQ(fast.shape(), naive.shape());
    EXPECT_TRUE(fast.allclose(naive, 1e-6, 1e-6)) << a.shape() << " op " << static_cast<int>(op) << " " << b.shape();
  }
}

TEST(Kernels, BinaryLargeInputsTakeTheParallelPathAndAgree) {
  Generator gen(12);
  const Tensor a = gen.uniform({300, 257}, -1, 1), b = gen.uniform({257}, -1, 1), c = gen.uniform({300, 257}, -1, 1);
  EXPECT_TRUE(binary(Binary::mul, a, b).allclose(binary_naive(Binary::mul, a, b), 0, 0));
  EXPECT_TRUE(binary(Binary::sub, a, c).allclose(binary_naive(Binary::sub, a, c), 0, 0));
  const Tensor column = gen.uniform({300, 1}, -1, 1);  // (300, 1) + (257,) -> (300, 257)
  EXPECT_TRUE(binary(Binary::add, column, b).allclose(binary_naive(Binary::add, column, b), 0, 0));
}

TEST(Kernels, BinaryRejectsIncompatibleShapes) {
  EXPECT_EQ(error_of([&] {
              binary(Binary::add, Tensor::zeros({3, 4}), Tensor::zeros({3}));
            }),
            "add: shapes (3, 4) and (3,) cannot be broadcast together");
}

TEST(Kernels, UnaryMatchesStdFunctions) {
  Generator gen(13);
  const Tensor x = gen.uniform({50000}, -3, 3, DType::f64);  // above the parallel threshold
  const std::vector<double> v = x.to_vector();
  auto check = [&](Unary op, auto reference, UnaryArgs args = {}) {
    const std::vector<double> y = unary(op, x, args).to_vector();
    for (size_t i = 0; i < v.size(); i += 97)
      EXPECT_NEAR(y[i], reference(v[i]), 1e-12) << static_cast<int>(op) << " at " << v[i];
  };
  check(Unary::exp, [](double t) { return std::exp(t); });
  check(Unary::tanh, [](double t) { return std::tanh(t); });
  check(Unary::sigmoid, [](double t) { return 1 / (1 + std::exp(-t)); });
  check(Unary::relu, [](double t) { return std::max(t, 0.0); });
  check(Unary::leaky_relu, [](double t) { return t > 0 ? t : 0.2 * t; }, {0.2, 0});
  check(Unary::elu, [](double t) { return t > 0 ? t : 1.5 * (std::exp(t) - 1); }, {1.5, 0});
  check(Unary::gelu, [](double t) { return 0.5 * t * (1 + std::erf(t / std::sqrt(2.0))); });
  check(Unary::silu, [](double t) { return t / (1 + std::exp(-t)); });
  check(Unary::clamp, [](double t) { return std::min(std::max(t, -1.0), 2.0); }, {-1, 2});
  check(Unary::abs, [](double t) { return std::abs(t); });
}

TEST(Kernels, SigmoidIsStableAtExtremes) {
  const Tensor x = Tensor::from(std::vector<float>{-1000, -100, 0, 100, 1000}, {5});
  const std::vector<double> y = unary(Unary::sigmoid, x).to_vector();
  EXPECT_EQ(y[0], 0.0);
  EXPECT_NEAR(y[2], 0.5, 1e-7);
  EXPECT_EQ(y[4], 1.0);
  for (double v : y) EXPECT_FALSE(std::isnan(v));
}

TEST(Kernels, SumAxisMatchesNaive) {
  Generator gen(14);
  for (int trial = 0; trial < 200; ++trial) {
    Shape shape = random_shape(gen, 4, 7);
    if (shape.rank() == 0) shape = Shape{5};
    const int64_t axis = static_cast<int64_t>(gen.below(static_cast<uint64_t>(shape.rank())));
    const Tensor x = gen.uniform(shape, -1, 1);
    const bool keepdim = gen.below(2);
    EXPECT_TRUE(sum_axis(x, axis, keepdim).allclose(sum_axis_naive(x, axis, keepdim), 1e-5, 1e-5))
        << shape << " axis " << axis;
  }
  // Large: the parallel paths over rows and over columns.
  for (const Shape& shape : {Shape{1000, 200}, Shape{3, 40000}, Shape{40000, 3}})
    for (int64_t axis : {0, 1}) {
      const Tensor x = gen.uniform(shape, -1, 1, DType::f64);
      EXPECT_TRUE(sum_axis(x, axis, false).allclose(sum_axis_naive(x, axis, false), 1e-12, 1e-12))
          << shape << " axis " << axis;
    }
}

TEST(Kernels, SumAllAndSumTo) {
  Generator gen(15);
  const Tensor x = gen.uniform({70, 900}, -1, 1, DType::f64);
  double expected = 0;
  for (double v : x.to_vector()) expected += v;
  EXPECT_NEAR(sum_all(x).item(), expected, 1e-9);
  EXPECT_EQ(sum_all(Tensor::zeros({0, 3})).item(), 0.0);

  const Tensor y = gen.uniform({2, 3, 4}, -1, 1, DType::f64);
  const Tensor reduced = sum_to(y, Shape{3, 1});
  ASSERT_EQ(reduced.shape(), (Shape{3, 1}));
  for (int64_t j = 0; j < 3; ++j) {
    double total = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) total += y.at({i, j, k});
    EXPECT_NEAR(reduced.at({j, 0}), total, 1e-12);
  }
  EXPECT_THROW(sum_to(y, Shape{2, 4}), Error);
}

TEST(Kernels, SoftmaxMatchesNaiveAndIsStable) {
  Generator gen(16);
  for (const Shape& shape : {Shape{1, 1}, Shape{3, 7}, Shape{2, 5, 3}, Shape{400, 100}})
    for (int64_t axis = 0; axis < shape.rank(); ++axis) {
      const Tensor x = gen.uniform(shape, -5, 5);
      EXPECT_TRUE(softmax(x, axis).allclose(softmax_naive(x, axis), 1e-5, 1e-7)) << shape << " axis " << axis;
      Tensor in_place = x.clone();
      softmax_in_place(in_place, axis);
      EXPECT_TRUE(in_place.allclose(softmax(x, axis), 0, 0)) << shape << " axis " << axis;
    }
  const Tensor extreme = Tensor::from(std::vector<float>{1000, -1000, 0, 1e30f, 1e30f, -1e30f}, {2, 3});
  const std::vector<double> p = softmax(extreme, 1).to_vector(), lp = log_softmax(extreme, 1).to_vector();
  EXPECT_NEAR(p[0], 1.0, 1e-7);
  EXPECT_NEAR(p[3], 0.5, 1e-7);
  EXPECT_NEAR(lp[1], -2000.0, 1e-3);
  for (double v : p) EXPECT_FALSE(std::isnan(v));
}

TEST(Kernels, MaxAxisGivesValuesAndArgmax) {
  const Tensor x = Tensor::from(std::vector<float>{1, 5, 3, 9, 2, 9}, {2, 3});
  const MaxResult rows = max_axis(x, 1, false);
  EXPECT_EQ(rows.values.to_vector(), (std::vector<double>{5, 9}));
  EXPECT_EQ(rows.indices, (std::vector<int64_t>{1, 0}));  // first of equal maxima
  const MaxResult columns = max_axis(x, 0, true);
  EXPECT_EQ(columns.values.shape(), (Shape{1, 3}));
  EXPECT_EQ(columns.indices, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_THROW(max_axis(Tensor::zeros({2, 0}), 1, false), Error);
}

TEST(Kernels, TransposeConcatSliceIndexSelect) {
  Generator gen(17);
  const Tensor x = gen.uniform({2, 3, 4}, -1, 1);
  const Tensor t = transpose(x, 0, 2);
  ASSERT_EQ(t.shape(), (Shape{4, 3, 2}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(t.at({k, j, i}), x.at({i, j, k}));

  const Tensor joined = concat({x, slice(x, 1, 1, 3)}, 1);
  ASSERT_EQ(joined.shape(), (Shape{2, 5, 4}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_EQ(joined.at({i, 3, k}), x.at({i, 1, k}));
      EXPECT_EQ(joined.at({i, 4, k}), x.at({i, 2, k}));
    }
  const Tensor picked = index_select(x, 2, {3, 3, 0});
  EXPECT_EQ(picked.at({1, 2, 0}), x.at({1, 2, 3}));
  EXPECT_EQ(picked.at({0, 1, 2}), x.at({0, 1, 0}));
  const Tensor back = index_add(Tensor::ones({2, 3, 3}), x.shape(), 2, {3, 3, 0});
  EXPECT_EQ(back.at({0, 0, 3}), 2.0);
  EXPECT_EQ(back.at({0, 0, 0}), 1.0);
  EXPECT_EQ(back.at({0, 0, 1}), 0.0);

  EXPECT_THROW(slice(x, 1, 2, 5), Error);
  EXPECT_THROW(index_select(x, 0, {2}), Error);
  EXPECT_THROW(concat({x, Tensor::zeros({2, 3, 5})}, 1), Error);
  EXPECT_THROW(concat(std::vector<Tensor>{}, 0), Error);
}

TEST(Kernels, ThreadCountDoesNotChangeResults) {
  Generator gen(18);
  const Tensor a = gen.uniform({200, 300}, -1, 1, DType::f64), b = gen.uniform({300, 150}, -1, 1, DType::f64);
  const int before = num_threads();
  set_num_threads(1);
  const Tensor serial = matmul(a, false, b, false), serial_sum = sum_axis(a, 0, false);
  set_num_threads(2);
  EXPECT_TRUE(matmul(a, false, b, false).allclose(serial, 1e-12, 1e-12));
  EXPECT_TRUE(sum_axis(a, 0, false).allclose(serial_sum, 1e-12, 1e-12));
  set_num_threads(before);
  EXPECT_EQ(num_threads(), before);
  EXPECT_THROW(set_num_threads(0), Error);
}

TEST(Kernels, BatchedMatmulEqualsTheNaiveGemmPerBatchEntry) {
  Generator generator(21);
  const Tensor a = generator.normal(Shape{2, 3, 4}, 0.0, 1.0), b = generator.normal(Shape{2, 4, 5}, 0.0, 1.0),
               shared = generator.normal(Shape{4, 5}, 0.0, 1.0);
  const Tensor each = matmul(a, false, b, false), with_shared = matmul(a, false, shared, false);
  ASSERT_EQ(each.shape(), (Shape{2, 3, 5}));
  for (int64_t n = 0; n < 2; ++n) {
    float expected[15], expected_shared[15];
    gemm_naive<float>(false, false, 3, 5, 4, 1.0f, a.data<float>() + n * 12, 4, b.data<float>() + n * 20, 5, 0.0f,
                      expected, 5);
    gemm_naive<float>(false, false, 3, 5, 4, 1.0f, a.data<float>() + n * 12, 4, shared.data<float>(), 5, 0.0f,
                      expected_shared, 5);
    for (int64_t k = 0; k < 15; ++k) {
      EXPECT_NEAR(each.data<float>()[n * 15 + k], expected[k], 1e-5);
      EXPECT_NEAR(with_shared.data<float>()[n * 15 + k], expected_shared[k], 1e-5);
    }
  }
  EXPECT_NE(error_of([&] { matmul(a, false, generator.normal(Shape{3, 4, 5}, 0.0, 1.0), false); }).find("leading axes"),
            std::string::npos);
}

TEST(Kernels, PermuteMovesEachElementWhereItsIndexSays) {
  const Tensor x = Generator(22).normal(Shape{2, 3, 4}, 0.0, 1.0);
  const Tensor y = permute(x, {2, 0, 1});  // y[k][i][j] = x[i][j][k]
  ASSERT_EQ(y.shape(), (Shape{4, 2, 3}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(y.at({k, i, j}), x.at({i, j, k}));
  EXPECT_NE(error_of([&] { permute(x, {0, 0, 1}); }).find("each axis"), std::string::npos);
}

TEST(Kernels, FusedLayerNormEqualsItsComposition) {
  Generator generator(23);
  const Variable x(generator.normal(Shape{3, 5, 7}, 0.0, 2.0)), gamma(generator.normal(Shape{7}, 1.0, 0.3)),
      beta(generator.normal(Shape{7}, 0.0, 0.3));
  const Variable centered = x - mean(x, -1, true);
  const Variable reference = centered / sqrt(mean(square(centered), -1, true) + 1e-3) * gamma + beta;
  const std::vector<double> fused = layer_norm(x, gamma, beta, 1e-3).value().to_vector(),
                            composed = reference.value().to_vector();
  for (size_t i = 0; i < fused.size(); ++i) EXPECT_NEAR(fused[i], composed[i], 1e-5);
}

}  // namespace
}  // namespace axon
