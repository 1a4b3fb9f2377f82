// The int8 GEMM: the quantizers' golden values, the AVX2 and AVX-512 VNNI kernels bit for bit against the naive
// reference on odd shapes, the dequantized result against the float product, and the threaded path against the serial.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "axon/axon.h"
#include "kernels/int8_gemm.h"

namespace axon {
namespace {

using namespace kernels;

TEST(Int8Gemm, QuantizeWeightsGoldenValues) {
  // (k=3, n=3): a mixed column, an all-zero column, a column whose max is negative.
  const float w[] = {4.0f,  0.0f, -0.5f,  //
                     -1.0f, 0.0f, 0.2f,   //
                     2.5f,  0.0f, 0.1f};
  int8_t q[9];
  float scale[3];
  quantize_weights(w, 3, 3, q, scale);
  EXPECT_FLOAT_EQ(scale[0], 4.0f / 127);
  EXPECT_EQ(scale[1], 1.0f);
  EXPECT_FLOAT_EQ(scale[2], 0.5f / 127);
  const int8_t expected[] = {127, 0, -127,  // 4 -> 127, -0.5 -> -127
                             -32, 0, 51,    // -31.75 -> -32, 50.8 -> 51
                             79,  0, 25};   // 79.375 -> 79, 25.4 -> 25
  for (int i = 0; i < 9; ++i) EXPECT_EQ(q[i], expected[i]) << i;

  const Int8Weights p = pack_int8_weights(q, scale, 3, 3);
  EXPECT_EQ(p.k4, 4);
  EXPECT_EQ(p.packed.size(), 64u);
  EXPECT_EQ(p.column_sums, (std::vector<int32_t>{174, 0, -51}));
  EXPECT_EQ(p.packed[0 * 4 + 1], -32);  // column 0, k 1
  EXPECT_EQ(p.packed[2 * 4 + 2], 25);   // column 2, k 2
  EXPECT_EQ(p.packed[2 * 4 + 3], 0);    // k padding
}

TEST(Int8Gemm, QuantizeRowsGoldenValues) {
  // Rows of 35 (32 through the vector loops, 3 through the scalar tail) repeating 4 values; row strides 36 in, 37 out.
  const int64_t k = 35, ldx = 36, ldq = 37;
  const float patterns[3][4] = {{-1, 0, 0.5f, 3},      // range [-1, 3]
                                {-3, -1, -0.25f, -4},  // all negative: [-4, 0]
                                {0, 0, 0, 0}};         // all zero
  const uint8_t expected_q[3][4] = {
      {0, 32, 48, 127},  // -31.75 -> -32 + 32, 0 + 32, 15.875 -> 16 + 32, 95.25 -> 95 + 32
      {32, 95, 119, 0},  // -95.25 -> -95 + 127, -31.75 -> -32 + 127, -7.9375 -> -8 + 127
      {0, 0, 0, 0}};
  std::vector<float> x(3 * ldx, 99.0f);  // 99 past k: outside the rows
  for (int r = 0; r < 3; ++r)
    for (int64_t i = 0; i < k; ++i) x[r * ldx + i] = patterns[r][i % 4];
  std::vector<uint8_t> q(3 * ldq, 200);
  float scale[3];
  int32_t zero[3];
  quantize_rows(x.data(), 3, k, ldx, q.data(), ldq, scale, zero);

  EXPECT_FLOAT_EQ(scale[0], 4.0f / 127);
  EXPECT_EQ(zero[0], 32);  // 1 * 31.75 -> 32
  EXPECT_FLOAT_EQ(scale[1], 4.0f / 127);
  EXPECT_EQ(zero[1], 127);
  EXPECT_EQ(scale[2], 1.0f);
  EXPECT_EQ(zero[2], 0);
  for (int r = 0; r < 3; ++r) {
    for (int64_t i = 0; i < ldq; ++i) {
      EXPECT_EQ(q[r * ldq + i], i < k ? expected_q[r][i % 4] : 200) << r << ", " << i;  // bytes past k not written
    }
  }
}

// Quantized random operands and both results of one GEMM, compared bit for bit.
void expect_gemm_matches_naive(int64_t m, int64_t k, int64_t n, bool with_bias, bool relu, Generator& gen) {
  const Tensor w = gen.uniform(Shape{k, n}, -1, 1), x = gen.uniform(Shape{m, k}, -2, 1),
               b = gen.uniform(Shape{n}, -1, 1);
  std::vector<int8_t> wq(k * n);
  std::vector<float> w_scale(n);
  quantize_weights(w.data<float>(), k, n, wq.data(), w_scale.data());
  const Int8Weights packed = pack_int8_weights(wq.data(), w_scale.data(), k, n);
  const int64_t ldq = packed.k4 + 3, ldy = n + 2;
  std::vector<uint8_t> xq(m * ldq, 255);  // bytes k..k4 hold 255: the kernels must ignore them
  std::vector<float> row_scale(m);
  std::vector<int32_t> row_zero(m);
  quantize_rows(x.data<float>(), m, k, k, xq.data(), ldq, row_scale.data(), row_zero.data());
  const float* bias = with_bias ? b.data<float>() : nullptr;
  std::vector<float> fast(m * ldy, -7.0f), naive(m * ldy, -7.0f);
  int8_gemm(m, xq.data(), ldq, row_scale.data(), row_zero.data(), packed, bias, relu, fast.data(), ldy);
  int8_gemm_naive(m, xq.data(), ldq, row_scale.data(), row_zero.data(), wq.data(), w_scale.data(), k, n, bias, relu,
                  naive.data(), ldy);
  int64_t differences = 0;
  for (size_t i = 0; i < fast.size(); ++i)
    differences += std::bit_cast<uint32_t>(fast[i]) != std::bit_cast<uint32_t>(naive[i]);
  EXPECT_EQ(differences, 0) << m << "x" << k << "x" << n << " bias=" << with_bias << " relu=" << relu;
}

void expect_all_shapes_match_naive() {
  Generator gen(11);
  for (int64_t m : {1, 2, 3, 5, 17, 64})
    for (int64_t k : {1, 3, 4, 5, 33, 784})
      for (int64_t n : {1, 5, 16, 17, 33, 256}) expect_gemm_matches_naive(m, k, n, gen.below(2), gen.below(2), gen);
}

// Restores the default path after a test that picked one.
struct IsaGuard {
  ~IsaGuard() { set_int8_isa_for_testing(set_int8_isa_for_testing(true)); }
};

TEST(Int8Gemm, Avx2MatchesNaiveExactly) {
  IsaGuard guard;
  ASSERT_TRUE(set_int8_isa_for_testing(false));
  expect_all_shapes_match_naive();
}

TEST(Int8Gemm, Avx512VnniMatchesNaiveExactly) {
  IsaGuard guard;
  if (!set_int8_isa_for_testing(true)) GTEST_SKIP() << "no AVX-512 VNNI";
  expect_all_shapes_match_naive();
}

TEST(Int8Gemm, DequantizedResultIsCloseToFloatProduct) {
  // Uniform [-1, 1) data, k = 784: |y| reaches ~30, the quantization error ~0.3 at worst (7-bit rows, 8-bit columns).
  Generator gen(5);
  const int64_t m = 16, k = 784, n = 256;
  const Tensor x = gen.uniform(Shape{m, k}, -1, 1), w = gen.uniform(Shape{k, n}, -1, 1),
               b = gen.uniform(Shape{n}, -1, 1);
  std::vector<int8_t> wq(k * n);
  std::vector<float> w_scale(n), y(m * n);
  quantize_weights(w.data<float>(), k, n, wq.data(), w_scale.data());
  int8_linear(x.data<float>(), m, k, pack_int8_weights(wq.data(), w_scale.data(), k, n), b.data<float>(), false,
              y.data(), n);
  double max_error = 0, max_abs = 0;
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = b.data<float>()[j];
      for (int64_t i = 0; i < k; ++i) exact += double{x.data<float>()[r * k + i]} * w.data<float>()[i * n + j];
      max_error = std::max(max_error, std::abs(y[r * n + j] - exact));
      max_abs = std::max(max_abs, std::abs(exact));
    }
  }
  EXPECT_LE(max_error, 0.02 * max_abs) << max_error << " vs max |y| " << max_abs;
}

TEST(Int8Gemm, ThreadedLinearEqualsSerialReference) {
  // 64 row tiles x 4 column tiles of work: parallel_for splits it over 2 threads. The reference loops serially.
  Generator gen(3);
  const int64_t m = 256, k = 784, n = 256;
  const Tensor x = gen.uniform(Shape{m, k}, -1, 2), w = gen.uniform(Shape{k, n}, -1, 1),
               b = gen.uniform(Shape{n}, -1, 1);
  std::vector<int8_t> wq(k * n);
  std::vector<float> w_scale(n), row_scale(m), threaded(m * n), serial(m * n);
  std::vector<int32_t> row_zero(m);
  std::vector<uint8_t> xq(m * k);
  quantize_weights(w.data<float>(), k, n, wq.data(), w_scale.data());
  const int threads = num_threads();
  if (threads != 2) set_num_threads(2);
  int8_linear(x.data<float>(), m, k, pack_int8_weights(wq.data(), w_scale.data(), k, n), b.data<float>(), true,
              threaded.data(), n);
  quantize_rows(x.data<float>(), m, k, k, xq.data(), k, row_scale.data(), row_zero.data());  // rows independent
  if (threads != 2) set_num_threads(threads);
  int8_gemm_naive(m, xq.data(), k, row_scale.data(), row_zero.data(), wq.data(), w_scale.data(), k, n, b.data<float>(),
                  true, serial.data(), n);
  EXPECT_EQ(threaded, serial);
}

}  // namespace
}  // namespace axon
