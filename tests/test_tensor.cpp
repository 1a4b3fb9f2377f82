// Shape, Tensor and the seeded Generator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

TEST(Shape, BasicsAndPrinting) {
  const Shape s{32, 784};
  EXPECT_EQ(s.rank(), 2);
  EXPECT_EQ(s.numel(), 32 * 784);
  EXPECT_EQ(s[-1], 784);
  EXPECT_EQ(s.str(), "(32, 784)");
  EXPECT_EQ(Shape{7}.str(), "(7,)");
  EXPECT_EQ(Shape{}.str(), "()");
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_EQ((Shape{3, 0}).numel(), 0);
  EXPECT_THROW(Shape({2, -1}), Error);
  EXPECT_THROW(s[2], Error);
  EXPECT_THROW(Shape({1LL << 40, 1LL << 40}), Error);  // overflows int64
  EXPECT_THROW(Shape({0, 1LL << 40, 1LL << 40}), Error);  // empty, but its strides overflow
}

TEST(Shape, Broadcasting) {
  EXPECT_EQ(broadcast_shapes({3, 1, 5}, {4, 1}, "op"), (Shape{3, 4, 5}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 4}, "op"), (Shape{0, 4}));
  EXPECT_EQ(error_of([&] {
              broadcast_shapes({2, 3}, {4, 3}, "mul");
            }),
            "mul: shapes (2, 3) and (4, 3) cannot be broadcast together");
}

TEST(Tensor, FactoriesAndAccess) {
  const Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_EQ(z.to_vector(), std::vector<double>(6, 0.0));
  EXPECT_EQ(Tensor::full({2}, 2.5, DType::f64).to_vector(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(Tensor::scalar(4).item(), 4.0);
  const Tensor t = Tensor::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.at({1, 2}), 6.0);
  EXPECT_THROW(t.at({2, 0}), Error);
  EXPECT_THROW(t.item(), Error);
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor::from(std::vector<float>{1, 2, 3}, {2, 2}), Error);
  EXPECT_FALSE(Tensor().defined());
  EXPECT_THROW(Tensor().clone(), Error);
  // Storage is aligned to 64 bytes for SIMD loads.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(Tensor::empty({3, 5}).raw()) % 64, 0u);
}

TEST(Tensor, ReshapeAndRowsAreViewsCloneIsACopy) {
  Tensor t = Tensor::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor view = t.reshape({3, -1});
  EXPECT_EQ(view.shape(), (Shape{3, 2}));
  view.data<float>()[0] = 10;
  EXPECT_EQ(t.at({0, 0}), 10.0);  // shares storage

  Tensor second = t.rows(1, 2);
  EXPECT_EQ(second.shape(), (Shape{1, 3}));
  EXPECT_EQ(second.to_vector(), (std::vector<double>{4, 5, 6}));
  second.fill(0);
  EXPECT_EQ(t.at({1, 1}), 0.0);

  Tensor copy = t.clone();
  copy.fill(7);
  EXPECT_EQ(t.at({0, 1}), 2.0);
  EXPECT_EQ(t.rows(2, 2).numel(), 0);

  EXPECT_THROW(t.reshape({4, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  EXPECT_THROW(t.reshape({5}), Error);
  EXPECT_THROW(t.rows(1, 3), Error);
}

TEST(Tensor, ConversionAndComparison) {
  const Tensor t = Tensor::from(std::vector<double>{0.1, -2.5, 3}, {3});
  const Tensor f = t.to(DType::f32);
  EXPECT_EQ(f.dtype(), DType::f32);
  EXPECT_NEAR(f.at({0}), 0.1, 1e-7);
  EXPECT_TRUE(f.allclose(t, 1e-6));
  EXPECT_FALSE(t.allclose(Tensor::zeros({3}, DType::f64)));
  EXPECT_FALSE(t.allclose(t.reshape({1, 3})));
  Tensor target = Tensor::zeros({3});
  target.copy_from(t);
  EXPECT_NEAR(target.at({1}), -2.5, 1e-7);
  EXPECT_THROW(target.copy_from(Tensor::zeros({4})), Error);
}

TEST(Generator, SameSeedSameNumbers) {
  Generator a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
  // Golden value from an independent Python xoshiro256** + splitmix64: the stream
  // must not change across platforms or releases.
  Generator golden(0);
  EXPECT_EQ(golden.next_u64(), 0x99ec5f36cb75f2b4ULL);
}

TEST(Generator, DistributionsHaveTheRightMoments) {
  Generator gen(1);
  const Tensor u = gen.uniform({100000}, -2, 4, DType::f64);
  const Tensor n = gen.normal({100000}, 1.5, 0.5, DType::f64);
  auto moments = [](const Tensor& t) {
    const std::vector<double> v = t.to_vector();
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    return std::pair{mean, var / static_cast<double>(v.size())};
  };
  const auto [umean, uvar] = moments(u);
  EXPECT_NEAR(umean, 1.0, 0.02);
  EXPECT_NEAR(uvar, 3.0, 0.05);  // (4 - -2)^2 / 12
  const auto [nmean, nvar] = moments(n);
  EXPECT_NEAR(nmean, 1.5, 0.01);
  EXPECT_NEAR(nvar, 0.25, 0.01);
  for (double v : u.to_vector()) ASSERT_TRUE(v >= -2 && v < 4);
}

TEST(Generator, PermutationAndBelow) {
  Generator gen(5);
  std::vector<int64_t> p = gen.permutation(1000);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_NE(p, sorted);
  EXPECT_TRUE(gen.permutation(0).empty());
  EXPECT_EQ(gen.permutation(1), std::vector<int64_t>{0});
  std::vector<int> counts(6);
  for (int i = 0; i < 60000; ++i) ++counts[gen.below(6)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  EXPECT_THROW(gen.below(0), Error);
}

TEST(Generator, StateRestoresTheStream) {
  Generator gen(9);
  gen.normal();  // leaves a spare normal pending
  const auto state = gen.state();
  const double n1 = gen.normal(), u1 = gen.uniform();
  Generator other(123);
  other.set_state(state);
  EXPECT_EQ(other.normal(), n1);
  EXPECT_EQ(other.uniform(), u1);
}

TEST(Generator, ManualSeedResetsTheGlobalGenerator) {
  manual_seed(77);
  const double first = global_generator().uniform();
  manual_seed(77);
  EXPECT_EQ(global_generator().uniform(), first);
}

}  // namespace
}  // namespace axon
