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
std::vector<Tensor> gradients(Module& model, const std::function<Variable(const Variable&)>& run, const Tensor& x,
                              const Tensor& probe) {
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
      const std::vector<Tensor> g_fused = gradients(model, fused, x, probe),
                                g_plain = gradients(model, one_by_one, x, probe);
      ASSERT_EQ(g_fused.size(), 2u);
      for (size_t i = 0; i < g_fused.size(); ++i)
        EXPECT_TRUE(g_fused[i].allclose(g_plain[i], 1e-5, 1e-5)) << activation << same << i;
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
  EXPECT_EQ(error_of([&] {
              build([](Sequential& m) { m.add(Conv2D(4, {3, 3})); }, Shape{28, 28});
            }),
            "Conv2D: input must be (batch, channels, height, width), got (1, 28, 28)");
  EXPECT_EQ(error_of([&] {
              build([](Sequential& m) { m.add(Conv2D(4, {7, 7})); }, Shape{1, 5, 5});
            }),
            "Conv2D: kernel (7, 7) with dilation (1, 1) does not fit the padded input (5, 5) (input (1, 1, 5, 5))");
  EXPECT_EQ(error_of([&] {
              build([](Sequential& m) { m.add(MaxPool2D({4, 4})); }, Shape{1, 3, 3});
            }),
            "MaxPool2D: pool window (4, 4) does not fit the padded input (3, 3) (input (1, 1, 3, 3))");
  EXPECT_EQ(error_of([&] {
              build(
                  [](Sequential& m) {
                    m.add(Conv2D(4, {3, 3}, "relu"));
                    m.add(MaxPool2D({2, 2}));
                  },
                  Shape{1, 3, 3});
            }),
            "MaxPool2D: pool window (2, 2) does not fit the padded input (1, 1) (input (1, 4, 1, 1))");
  EXPECT_EQ(error_of([] {
              Conv2D(4, {3, 3}, "relu", {.strides = {0, 1}});
            }),
            "Conv2D: strides must be >= 1, got (0, 1)");
  EXPECT_EQ(error_of([] {
              MaxPool2D({2, 2}, std::array<int64_t, 2>{-1, 2});
            }),
            "MaxPool2D: strides must be >= 1, got (-1, 2)");
  // A built layer given images of another channel count.
  Sequential model(Shape{3, 8, 8});
  model.add(Conv2D(2, {3, 3}));
  model.build(Shape{3, 8, 8});
  EXPECT_EQ(error_of([&] {
              model.predict(Tensor::zeros({1, 1, 8, 8}));
            }),
            "Conv2D: input (1, 1, 8, 8) has 1 channels; this layer was built for 3");
}

// y[n, f, t] = b[f] + sum_{c, j} w[f, c, j] x[n, c, t*s - left + j*d], zero outside.
Tensor conv1d_by_definition(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t dilation,
                            int64_t left, int64_t length) {
  const int64_t n = x.dim(0), c = x.dim(1), l = x.dim(2), f = w.dim(0), k = w.dim(2);
  std::vector<double> y;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t t = 0; t < length; ++t) {
        double total = b.at({o});
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t j = 0; j < k; ++j) {
            const int64_t at = t * stride - left + j * dilation;
            if (at >= 0 && at < l) total += w.at({o, ch, j}) * x.at({i, ch, at});
          }
        y.push_back(total);
      }
  return Tensor::from(y, {n, f, length});
}

TEST(ConvLayers, Conv1DMatchesTheDefinition) {
  struct Case {
    const char* padding;
    int64_t stride, dilation, length, left;  // expected output length and left padding
  };
  // L = 11, k = 3
  for (const Case& t : {Case{"valid", 1, 1, 9, 0}, Case{"same", 1, 1, 11, 1}, Case{"same", 2, 1, 6, 1},
                        Case{"causal", 1, 2, 11, 4}, Case{"valid", 3, 2, 3, 0}}) {
    Conv1D layer(4, 3, "linear", {.strides = t.stride, .padding = t.padding, .dilation = t.dilation},
                 {.bias_initializer = Initializer::Kind::glorot_uniform});
    Generator gen(8);
    const Tensor x = gen.uniform({2, 3, 11}, -1, 1);
    const Tensor y = layer(Variable(x)).value();
    const auto params = layer.named_parameters();
    ASSERT_EQ(params[0].variable.shape(), (Shape{4, 3, 3}));
    const Tensor expected = conv1d_by_definition(x, params[0].variable.value(), params[1].variable.value(), t.stride,
                                                 t.dilation, t.left, t.length);
    EXPECT_EQ(y.shape(), expected.shape()) << t.padding << t.stride;
    EXPECT_TRUE(y.allclose(expected, 1e-5, 1e-5)) << t.padding << t.stride;
  }
  // Causal: changing the last input step changes only the last output step.
  Conv1D causal(2, 3, "relu", {.padding = "causal"});
  Generator gen(9);
  Tensor x = gen.uniform({1, 1, 8}, -1, 1);
  const Tensor before = causal(Variable(x)).value();
  x.data<float>()[7] += 1.0f;
  const Tensor after = causal(Variable(x)).value();
  for (int64_t t = 0; t < 7; ++t) EXPECT_EQ(before.at({0, 0, t}), after.at({0, 0, t}));
  EXPECT_EQ(error_of([] { Conv1D(2, 3, "linear", {.padding = "full"}); }),
            "padding: expected \"valid\", \"same\", \"causal\" or {top, bottom, left, right}, got \"full\"");
  EXPECT_EQ(error_of([] {
              Conv1D(2, 9)(Variable(Tensor::zeros({1, 1, 5})));
            }),
            "Conv1D: kernel (1, 9) with dilation (1, 1) does not fit the padded input (1, 5) (input (1, 1, 5))");
  EXPECT_EQ(error_of([] {
              Conv1D(2, 3)(Variable(Tensor::zeros({1, 5})));
            }),
            "Conv1D: input must be (batch, channels, length), got (1, 5)");
}

// A target a small causal conv can learn: the mean of each sequence's first channel.
Tensor sequence_mean(const Tensor& x) {
  std::vector<float> y;
  for (int64_t i = 0; i < x.dim(0); ++i) {
    double total = 0;
    for (int64_t t = 0; t < x.dim(2); ++t) total += x.at({i, 0, t});
    y.push_back(static_cast<float>(total / static_cast<double>(x.dim(2))));
  }
  return Tensor::from(y, {x.dim(0), 1});
}

TEST(ConvLayers, Conv1DInASpecTrainsAndRoundTrips) {
  const std::string spec = R"({"input_shape": [2, 16],
    "layers": [{"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal", "dilation": 2, "activation": "relu"},
               {"type": "flatten"}, {"type": "dense", "units": 1}],
    "compile": {"optimizer": "adam", "loss": "mse"}})";
  auto model = std::dynamic_pointer_cast<Sequential>(model_from_spec(spec));
  EXPECT_EQ(model->layer(0).output_shape(), (Shape{4, 16}));
  const auto again = model_from_spec(model_to_spec(*model));
  EXPECT_EQ(model_to_spec(*again), model_to_spec(*model));
  Generator gen(10);
  const Tensor x = gen.uniform({64, 2, 16}, -1, 1);
  const Tensor y = sequence_mean(x);
  const double before = model->evaluate(x, y, 64).at("loss");
  model->fit(x, y, {.epochs = 30, .batch_size = 16, .verbose = 0});
  EXPECT_LT(model->evaluate(x, y, 64).at("loss"), before / 4);
}

TEST(ConvLayers, Conv1DExplicitPaddingPadsTheLengthAndRoundTripsInASpec) {
  const std::string spec = R"({"input_shape": [1, 5],
    "layers": [{"type": "conv1d", "filters": 1, "kernel_size": 3, "padding": [2, 1], "use_bias": false}]})";
  auto model = std::dynamic_pointer_cast<Sequential>(model_from_spec(spec));
  EXPECT_EQ(model->layer(0).output_shape(), (Shape{1, 6}));  // 5 + 2 + 1 - 3 + 1
  model->set_weights({Tensor::from(std::vector<float>{1, 10, 100}, Shape{1, 1, 3})});
  // Padded: 0 0 [1 2 3 4 5] 0; y[t] = x[t-2] + 10 x[t-1] + 100 x[t].
  const Tensor y = model->predict(Tensor::from(std::vector<float>{1, 2, 3, 4, 5}, Shape{1, 1, 5}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{100, 210, 321, 432, 543, 54}));
  EXPECT_EQ(model_to_spec(*model_from_spec(model_to_spec(*model))), model_to_spec(*model));
  EXPECT_THROW(Conv1D(1, 3, "linear", {.padding = std::array<int64_t, 4>{1, 0, 0, 0}}), Error);
}

}  // namespace
}  // namespace axon
