// Integer tensors and plain tensor arithmetic: values written out by hand (as NumPy
// gives them), type promotion, broadcasting, exact integers that fail on overflow,
// files that keep their integer types, and training on int64 labels.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "axon/axon.h"
#include "axon/safetensors.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

Tensor ints(std::vector<int64_t> values, Shape shape) { return Tensor::from(values, shape); }
Tensor floats(std::vector<float> values, Shape shape) { return Tensor::from(values, shape); }

TEST(IntegerTensor, HoldValuesExactlyAndConvertCarefully) {
  const int64_t big = (int64_t{1} << 53) + 1;  // not a float64, let alone a float32
  const Tensor t = ints({big, -7, 0}, {3});
  EXPECT_EQ(t.dtype(), DType::i64);
  EXPECT_EQ(std::string(dtype_name(t.dtype())), "int64");
  EXPECT_EQ(t.data<int64_t>()[0], big);
  EXPECT_EQ(Tensor::from(std::vector<int32_t>{1, 2}, {2}).dtype(), DType::i32);
  EXPECT_EQ(floats({2.9f, -2.9f}, {2}).to(DType::i32).to_vector(), (std::vector<double>{2, -2}));  // toward zero
  EXPECT_NE(error_of([] { floats({NAN}, {1}).to(DType::i64); }).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of([] { floats({3e9f}, {1}).to(DType::i32); }).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of([] { ints({int64_t{1} << 40}, {1}).to(DType::i32); }).find("does not fit"), std::string::npos);
  EXPECT_EQ(Tensor::full({2}, 5, DType::i32).to_vector(), (std::vector<double>{5, 5}));
  // Floating kernels refuse integers instead of reading their bits as floats.
  EXPECT_NE(error_of([&] { relu(Variable(t)); }).find("needs a float32 or float64 tensor, got int64"),
            std::string::npos);
}

TEST(IntegerTensor, FilesKeepTheirIntegerTypes) {
  const std::string dir = testing::TempDir();
  const Tensor ids = ints({(int64_t{1} << 40) + 3, 2, -1}, {3});
  write_npy(dir + "axon_ids.npy", ids);
  const Tensor back = read_npy(dir + "axon_ids.npy");
  EXPECT_EQ(back.dtype(), DType::i64);
  EXPECT_EQ(back.data<int64_t>()[0], (int64_t{1} << 40) + 3);
  const Tensor small = Tensor::from(std::vector<int32_t>{4, -5}, {2});
  write_npy(dir + "axon_small.npy", small);
  EXPECT_EQ(read_npy(dir + "axon_small.npy").dtype(), DType::i32);
  save_safetensors(dir + "axon_ids.safetensors", {{"ids", ids}, {"small", small}});
  const auto loaded = load_safetensors(dir + "axon_ids.safetensors");
  EXPECT_EQ(loaded.at("ids").dtype(), DType::i64);
  EXPECT_EQ(loaded.at("ids").data<int64_t>()[0], (int64_t{1} << 40) + 3);
  EXPECT_EQ(loaded.at("small").data<int32_t>()[1], -5);
}

// The same labels as int64 or float32 train the same weights, bit for bit.
TEST(IntegerTensor, FitAndEvaluateTakeIntegerLabels) {
  const Tensor x = floats({1, 0, 0, 1, 1, 1, 0, 0, 2, 1, 1, 2}, {6, 2});
  const std::vector<int64_t> labels = {0, 1, 1, 0, 0, 1};
  Tensor float_labels = Tensor::empty({6});
  for (int i = 0; i < 6; ++i) float_labels.data<float>()[i] = static_cast<float>(labels[static_cast<size_t>(i)]);
  auto train = [&](const Tensor& y) {
    manual_seed(5);
    Sequential model(Shape{2});
    model.add(Dense(4, "relu"));
    model.add(Dense(2, "softmax"));
    model.compile(SGD(0.1), "sparse_categorical_crossentropy", {"accuracy"});
    model.fit(x, y, {.epochs = 3, .batch_size = 4, .verbose = 0, .seed = 2});
    return std::pair{model.get_weights(), model.evaluate(x, y).at("loss")};
  };
  const auto [with_ints, int_loss] = train(ints(labels, {6}));
  const auto [with_floats, float_loss] = train(float_labels);
  for (size_t i = 0; i < with_ints.size(); ++i) EXPECT_TRUE(with_ints[i].allclose(with_floats[i], 0, 0)) << i;
  EXPECT_EQ(int_loss, float_loss);
  EXPECT_EQ(one_hot(ints(labels, {6}), 2).to_vector()[1], 0.0);
}

TEST(TensorOps, ArithmeticBroadcastsAsNumPy) {
  const Tensor a = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = floats({10, 20, 30}, {3});
  const Tensor column = floats({100, 200}, {2, 1});
  EXPECT_EQ((a + row).to_vector(), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ((a * column).to_vector(), (std::vector<double>{100, 200, 300, 800, 1000, 1200}));
  EXPECT_EQ((a - 1).to_vector(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((2 * a).to_vector(), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ((1 / floats({4}, {1})).to_vector(), (std::vector<double>{0.25}));
  EXPECT_EQ((-a).to_vector()[5], -6);
  EXPECT_EQ((a + row).shape(), (Shape{2, 3}));
  EXPECT_EQ((column + row).shape(), (Shape{2, 3}));
  EXPECT_EQ((column + row).to_vector(), (std::vector<double>{110, 120, 130, 210, 220, 230}));
  EXPECT_NE(error_of([&] { a + floats({1, 2}, {2}); }).find("do not broadcast"), std::string::npos);
  // float32 arithmetic gives float32's answers (no silent widening).
  EXPECT_EQ((floats({0.1f}, {1}) + floats({0.2f}, {1})).data<float>()[0], 0.1f + 0.2f);
}

TEST(TensorOps, TypesPromoteAndIntegersStayExact) {
  const Tensor i = ints({7, -3}, {2});
  EXPECT_EQ((i + i).dtype(), DType::i64);
  EXPECT_EQ((i + 1).dtype(), DType::i64);
  EXPECT_EQ((i + 0.5).dtype(), DType::f32);  // a fraction makes an integer tensor float
  EXPECT_EQ((i + 0.5).to_vector(), (std::vector<double>{7.5, -2.5}));
  EXPECT_EQ((i / 2).dtype(), DType::f32);  // true division
  EXPECT_EQ((i / 2).to_vector(), (std::vector<double>{3.5, -1.5}));
  EXPECT_EQ((i * floats({2, 2}, {2})).dtype(), DType::f32);
  EXPECT_EQ((Tensor::from(std::vector<int32_t>{1}, {1}) + ints({1}, {1})).dtype(), DType::i64);
  EXPECT_EQ((floats({1}, {1}) + Tensor::from(std::vector<double>{1}, {1})).dtype(), DType::f64);
  const int64_t big = std::numeric_limits<int64_t>::max() - 1;
  EXPECT_EQ((ints({big}, {1}) + 1).data<int64_t>()[0], std::numeric_limits<int64_t>::max());
  EXPECT_NE(error_of([&] { ints({big}, {1}) + 2; }).find("integer overflow"), std::string::npos);
  const Tensor i32max = Tensor::from(std::vector<int32_t>{std::numeric_limits<int32_t>::max()}, {1});
  EXPECT_NE(error_of([&] { i32max* Tensor::from(std::vector<int32_t>{2}, {1}); }).find("integer overflow"),
            std::string::npos);
}

TEST(TensorOps, ComparisonsGiveZeroOrOne) {
  const Tensor a = floats({1, 5, 3}, {3});
  EXPECT_EQ((a > 2).dtype(), DType::i32);
  EXPECT_EQ((a > 2).to_vector(), (std::vector<double>{0, 1, 1}));
  EXPECT_EQ((a <= 3).to_vector(), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ((a == floats({1, 0, 3}, {3})).to_vector(), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ((a != 5).to_vector(), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ((a < ints({2}, {1})).to_vector(), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ((a >= a).to_vector(), (std::vector<double>{1, 1, 1}));
  // A mask multiplies directly: relu by hand.
  EXPECT_EQ((floats({-1, 2}, {2}) * (floats({-1, 2}, {2}) > 0)).to_vector(), (std::vector<double>{-0.0, 2}));
}

TEST(TensorOps, ReductionsAndArgmax) {
  const Tensor a = floats({1, 9, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(a).item(), 28);
  EXPECT_EQ(sum(a).rank(), 0);
  EXPECT_EQ(sum(a, 0).to_vector(), (std::vector<double>{5, 14, 9}));
  EXPECT_EQ(sum(a, -1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum(a, 1).to_vector(), (std::vector<double>{13, 15}));
  EXPECT_NEAR(mean(a).item(), 28.0 / 6, 1e-6);
  EXPECT_EQ(mean(a, 0).to_vector(), (std::vector<double>{2.5, 7, 4.5}));
  EXPECT_EQ(max(a).item(), 9);
  EXPECT_EQ(min(a, 1).to_vector(), (std::vector<double>{1, 4}));
  EXPECT_EQ(max(a, 0).to_vector(), (std::vector<double>{4, 9, 6}));
  EXPECT_EQ(argmax(a, 1).dtype(), DType::i64);
  EXPECT_EQ(argmax(a, 1).to_vector(), (std::vector<double>{1, 2}));
  EXPECT_EQ(argmax(floats({2, 2}, {1, 2}), 1).to_vector(), (std::vector<double>{0}));  // first on ties
  EXPECT_EQ(sum(ints({1, 2}, {2})).dtype(), DType::i64);
  EXPECT_EQ(mean(ints({1, 2}, {2})).item(), 1.5);
  EXPECT_NE(error_of([&] { sum(a, 2); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { max(Tensor::zeros({0})); }).find("empty axis"), std::string::npos);
  // Accuracy by hand, the way a custom loop writes it.
  const Tensor scores = floats({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  const Tensor labels = ints({1, 1, 1}, {3});
  EXPECT_EQ(sum(argmax(scores, 1) == labels).item(), 2);
}

TEST(TensorOps, MatmulFloatAndExactInteger) {
  const Tensor a = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = floats({1, 0, 0, 1, 1, 1}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector(), (std::vector<double>{4, 5, 10, 11}));
  const int64_t big = int64_t{1} << 40;
  const Tensor m = ints({big, 1}, {1, 2}), n = ints({3, 5}, {2, 1});
  EXPECT_EQ(matmul(m, n).data<int64_t>()[0], 3 * big + 5);
  EXPECT_NE(error_of([&] { matmul(a, a); }).find("do not multiply"), std::string::npos);
  EXPECT_NE(error_of([&] {
              matmul(ints({big * 8192}, {1, 1}), ints({big}, {1, 1}));
            }).find("integer overflow"),
            std::string::npos);
}

}  // namespace
}  // namespace axon
