// The image layers as a user meets them: Conv2D / MaxPool2D / AveragePool2D /
// GlobalAveragePool2D / Flatten in a Sequential, their output shapes and summary, the
// fused Conv2D + MaxPool2D path against the two layers run one by one, and the errors
// for input they cannot take.
#include <gtest/gtest.h>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

// The gradients of sum(y * probe) with respect to each parameter of `model`.
std::vector<Tensor> gradients(Module& model, const std::function<Variable(const Variable&)>& run, const Tensor& x, const Tensor& probe) {
  for (Variable& p : model.parameters()) p.zero_grad();
  const Variable y = run(Variable(x));
  sum(mul(y, Variable(probe))).backward();
  std::vector<Tensor> grads;
  for (const Variable& p : model.parameters()) grads.push_back(p.grad());
  return grads;
}

TEST(ConvLayers, FusedConvPoolEqualsTheLayersOneByOne) {
  for (const char* activation : {"relu", "linear"}) {
    for (const bool same : {true, false}) {
      manual_seed(5);
      Sequential model(Shape{3, 9, 8});
      model.add(Conv2D(4, {3, 3}, activation, {.padding = same ? Padding("same") : Padding("valid")}));
      model.add(MaxPool2D({2, 2}));
      model.add(Flatten());
      Generator gen(6);
      const Tensor x = gen.uniform({5, 3, 9, 8}, -1, 1);
      const Tensor probe = gen.uniform(model(Variable(x)).shape(), -1, 1);
      auto fused = [&](const Variable& v) { return model(v); };
      auto one_by_one = [&](const Variable& v) { return model.layer(2)(model.layer(1)(model.layer(0)(v))); };
      const Tensor y_fused = fused(Variable(x)).value(), y_plain = one_by_one(Variable(x)).value();
      EXPECT_EQ(y_fused.shape(), (Shape{5, same ? 64 : 36}));
      EXPECT_TRUE(y_fused.allclose(y_plain, 1e-6, 1e-6)) << activation << same;
      const std::vector<Tensor> g_fused = gradients(model, fused, x, probe), g_plain = gradients(model, one_by_one, x, probe);
      ASSERT_EQ(g_fused.size(), 2u);
      for (size_t i = 0; i < g_fused.size(); ++i) EXPECT_TRUE(g_fused[i].allclose(g_plain[i], 1e-5, 1e-5)) << activation << same << i;
      EXPECT_EQ(model.layer(0).output_shape(), (Shape{4, same ? 9 : 7, same ? 8 : 6}));  // noted by the fused path too
      EXPECT_EQ(model.layer(1).output_shape(), (Shape{4, same ? 4 : 3, same ? 4 : 3}));
    }
  }
}

TEST(ConvLayers, OutputShapesAndSummary) {
  Sequential model(Shape{1, 28, 28});
  model.add(Conv2D(8, {3, 3}, "relu", {.padding = "same"}));
  model.add(MaxPool2D());
  model.add(Conv2D(16, {5, 5}, "relu", {.strides = {2, 2}}));
  model.add(AveragePool2D({2, 2}, std::nullopt, "same"));
  model.add(GlobalAveragePool2D());
  model.add(Dense(3));
  model.build(Shape{1, 28, 28});
  EXPECT_EQ(model.layer(0).output_shape(), (Shape{8, 28, 28}));
  EXPECT_EQ(model.layer(1).output_shape(), (Shape{8, 14, 14}));
  EXPECT_EQ(model.layer(2).output_shape(), (Shape{16, 5, 5}));
  EXPECT_EQ(model.layer(3).output_shape(), (Shape{16, 3, 3}));
  EXPECT_EQ(model.layer(4).output_shape(), (Shape{16}));
  const std::string text = model.summary();
  EXPECT_NE(text.find("(None, 8, 28, 28)"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 16, 3, 3)"), std::string::npos) << text;
  EXPECT_NE(text.find("Total params: 3,347"), std::string::npos) << text;  // 8*1*9 + 8, 16*8*25 + 16, 16*3 + 3
  EXPECT_EQ(model.parameter_count(), 80 + 3216 + 51);
}

TEST(ConvLayers, BadInputNamesTheLayerAndTheShapes) {
  auto build = [](std::function<void(Sequential&)> add, Shape input) {
    Sequential model(input);
    add(model);
    model.build(input);
  };
  EXPECT_EQ(error_of([&] { build([](Sequential& m) { m.add(Conv2D(4, {3, 3})); }, Shape{28, 28}); }),
            "Conv2D: input must be (batch, channels, height, width), got (1, 28, 28)");
  EXPECT_EQ(error_of([&] { build([](Sequential& m) { m.add(Conv2D(4, {7, 7})); }, Shape{1, 5, 5}); }),
            "Conv2D: kernel (7, 7) with dilation (1, 1) does not fit the padded input (5, 5) (input (1, 1, 5, 5))");
  EXPECT_EQ(error_of([&] { build([](Sequential& m) { m.add(MaxPool2D({4, 4})); }, Shape{1, 3, 3}); }),
            "MaxPool2D: pool window (4, 4) does not fit the padded input (3, 3) (input (1, 1, 3, 3))");
  EXPECT_EQ(error_of([&] { build([](Sequential& m) { m.add(Conv2D(4, {3, 3}, "relu")); m.add(MaxPool2D({2, 2})); }, Shape{1, 3, 3}); }),
            "MaxPool2D: pool window (2, 2) does not fit the padded input (1, 1) (input (1, 4, 1, 1))");
  EXPECT_EQ(error_of([] { Conv2D(4, {3, 3}, "relu", {.strides = {0, 1}}); }), "Conv2D: strides must be >= 1, got (0, 1)");
  EXPECT_EQ(error_of([] { MaxPool2D({2, 2}, std::array<int64_t, 2>{-1, 2}); }), "MaxPool2D: strides must be >= 1, got (-1, 2)");
  // A built layer given images of another channel count.
  Sequential model(Shape{3, 8, 8});
  model.add(Conv2D(2, {3, 3}));
  model.build(Shape{3, 8, 8});
  EXPECT_EQ(error_of([&] { model.predict(Tensor::zeros({1, 1, 8, 8})); }),
            "Conv2D: input (1, 1, 8, 8) has 1 channels; this layer was built for 3");
}

}  // namespace
}  // namespace axon
