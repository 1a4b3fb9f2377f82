// Modules, Dense, activations and initializers.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

std::pair<double, double> mean_and_variance(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, var / static_cast<double>(v.size())};
}

TEST(Initializers, VarianceMatchesKerasFormulas) {
  Generator gen(3);
  const int64_t fan_in = 400, fan_out = 200;
  const Shape shape{fan_in, fan_out};
  const struct {
    const char* name;
    double variance;
  } cases[] = {{"glorot_uniform", 2.0 / (fan_in + fan_out)},
               {"glorot_normal", 2.0 / (fan_in + fan_out)},
               {"he_uniform", 2.0 / fan_in},
               {"he_normal", 2.0 / fan_in},
               {"lecun_uniform", 1.0 / fan_in},
               {"lecun_normal", 1.0 / fan_in}};
  for (const auto& c : cases) {
    const Tensor w = Initializer::from_name(c.name)(shape, fan_in, fan_out, gen);
    const auto [mean, variance] = mean_and_variance(w);
    EXPECT_NEAR(mean, 0.0, 0.002) << c.name;
    EXPECT_NEAR(variance / c.variance, 1.0, 0.03) << c.name;
    EXPECT_EQ(Initializer::from_name(c.name).name(), c.name);
  }
  // Truncated normals never exceed two (scaled) standard deviations.
  const Tensor he = Initializer::from_name("he_normal")(shape, fan_in, fan_out, gen);
  const double bound = 2.0 * std::sqrt(2.0 / fan_in) / 0.87962566103423978;
  for (double v : he.to_vector()) ASSERT_LE(std::abs(v), bound);
  // Uniform glorot stays within its limit.
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  for (double v : Initializer()(shape, fan_in, fan_out, gen).to_vector()) ASSERT_LE(std::abs(v), limit);
}

TEST(Initializers, ConstantsAndErrors) {
  Generator gen(1);
  EXPECT_EQ(Initializer::from_name("zeros")({3}, 1, 1, gen).to_vector(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(Initializer::from_name("ones")({2}, 1, 1, gen).to_vector(), (std::vector<double>{1, 1}));
  EXPECT_EQ(Initializer::constant(0.25)({2}, 1, 1, gen).to_vector(), (std::vector<double>{0.25, 0.25}));
  EXPECT_NE(error_of([&] {
              Initializer::from_name("xavier");
            }).find("unknown initializer 'xavier'; expected one of: glorot_uniform"),
            std::string::npos);
}

TEST(Initializers, SameSeedSameWeights) {
  Generator a(10), b(10);
  EXPECT_TRUE(Initializer::from_name("he_normal")({20, 30}, 20, 30, a)
                  .allclose(Initializer::from_name("he_normal")({20, 30}, 20, 30, b), 0, 0));
}

TEST(Activations, ByNameAndErrors) {
  const Variable x(Tensor::from(std::vector<float>{-2, 0.5f}, {1, 2}));
  EXPECT_EQ(activation("relu")(x).value().to_vector(), (std::vector<double>{0, 0.5}));
  EXPECT_EQ(activation("linear")(x).value().to_vector(), x.value().to_vector());
  EXPECT_NEAR(activation("softmax")(x).value().at({0, 1}), 1 / (1 + std::exp(-2.5)), 1e-6);
  EXPECT_EQ(Activation("tanh").name(), "tanh");
  EXPECT_NE(error_of([&] { activation("relu6"); }).find("unknown activation 'relu6'; expected one of: linear, relu"),
            std::string::npos);
  EXPECT_THROW(Dense(4, "sigmoud"), Error);
}

TEST(Rescaling, ScalesAndShiftsItsGradientAndRoundTripsInASpec) {
  Rescaling layer(1.0 / 255, -0.5);
  Variable x(Tensor::from(std::vector<float>{0, 255, 51}, Shape{1, 3}), true);
  Variable y = layer(x);
  EXPECT_TRUE(y.value().allclose(Tensor::from(std::vector<float>{-0.5f, 0.5f, -0.3f}, Shape{1, 3}), 1e-6, 1e-6));
  sum(y).backward();
  EXPECT_TRUE(x.grad().allclose(Tensor::full(Shape{1, 3}, 1.0 / 255), 1e-6, 1e-9));
  const auto model =
      model_from_spec(R"({"input_shape": [3], "layers": [{"type": "rescaling", "scale": 2, "offset": 1}]})");
  EXPECT_EQ(model->predict(Tensor::from(std::vector<float>{1, 2, 3}, Shape{1, 3})).to_vector(),
            (std::vector<double>{3, 5, 7}));
  EXPECT_NE(error_of([] { Rescaling(std::nan(""), 0); }).find("finite"), std::string::npos);
}

TEST(Slice, TakesEntriesOfOneAxisPassesTheirGradientAndRoundTripsInASpec) {
  // x (2, 3, 2) = 0..11; Slice(1, 1, 3) keeps steps 1 and 2 of each example.
  std::vector<float> values(12);
  std::iota(values.begin(), values.end(), 0.0f);
  Variable x(Tensor::from(values, Shape{2, 3, 2}), true);
  Slice steps(1, 1, 3);
  Variable y = steps(x);
  EXPECT_EQ(y.value().to_vector(), (std::vector<double>{2, 3, 4, 5, 8, 9, 10, 11}));
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(Slice(-1, 0, 1)(x).value().to_vector(), (std::vector<double>{0, 2, 4, 6, 8, 10}));  // the last axis
  const auto model =
      model_from_spec(R"({"input_shape": [3, 2], "layers": [{"type": "slice", "axis": 1, "begin": 2, "end": 3}]})");
  EXPECT_EQ(model->predict(x.value()).to_vector(), (std::vector<double>{4, 5, 10, 11}));
  EXPECT_EQ(model_to_spec(*model_from_spec(model_to_spec(*model))), model_to_spec(*model));
  EXPECT_NE(error_of([] { Slice(0, 0, 1); }).find("batch axis"), std::string::npos);
  EXPECT_NE(error_of([] { Slice(1, 2, 2); }).find("begin < end"), std::string::npos);
  EXPECT_NE(error_of([&] { Slice(1, 2, 4)(x); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { Slice(3, 0, 1)(x); }).find("not an axis"), std::string::npos);
}

TEST(LayerNormalization, NormalizesTheLastAxisAndRoundTripsInASpec) {
  LayerNormalization norm(1e-5);
  const Tensor x = Tensor::from(std::vector<float>{1, 2, 3, 4, 10, 10, 10, 14}, Shape{2, 4});
  Variable input(x, true);
  const Tensor y = norm(input).value();
  // Row 1: mean 2.5, variance 1.25; row 2: mean 11, variance 3.
  const std::vector<double> expected = {-1.5 / std::sqrt(1.25 + 1e-5), -0.5 / std::sqrt(1.25 + 1e-5),
                                        0.5 / std::sqrt(1.25 + 1e-5),  1.5 / std::sqrt(1.25 + 1e-5),
                                        -1 / std::sqrt(3 + 1e-5),      -1 / std::sqrt(3 + 1e-5),
                                        -1 / std::sqrt(3 + 1e-5),      3 / std::sqrt(3 + 1e-5)};
  const std::vector<double> got = y.to_vector();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5);
  // The outputs of a row sum to zero whatever the input, so each input's gradient of their sum is 0.
  sum(norm(input)).backward();
  for (double g : input.grad().to_vector()) EXPECT_NEAR(g, 0.0, 1e-5);
  const auto model =
      model_from_spec(R"({"input_shape": [3, 4], "layers": [{"type": "layer_normalization", "epsilon": 0.01}]})");
  EXPECT_EQ(model_to_spec(*model_from_spec(model_to_spec(*model))), model_to_spec(*model));
  EXPECT_NE(error_of([] { LayerNormalization(0); }).find("epsilon"), std::string::npos);
}

TEST(Dense, BuildsOnFirstInputAndNamesItsParameters) {
  Dense layer(3, "relu", {.seed = 5});
  EXPECT_FALSE(layer.built());
  EXPECT_TRUE(layer.parameters().empty());
  const Variable y = layer(Variable(Tensor::ones({4, 7})));
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  const std::vector<NamedParameter> params = layer.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "kernel");
  EXPECT_EQ(params[0].variable.shape(), (Shape{7, 3}));
  EXPECT_EQ(params[1].name, "bias");
  EXPECT_EQ(params[1].variable.value().to_vector(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(layer.parameter_count(), 7 * 3 + 3);
  EXPECT_TRUE(params[0].variable.requires_grad());
}

TEST(Dense, ComputesActivationOfXWPlusB) {
  Dense layer(2, "sigmoid",
              {.kernel_initializer = Initializer::constant(0.5), .bias_initializer = Initializer::constant(-1)});
  const Variable y = layer(Variable(Tensor::from(std::vector<float>{1, 2, 3, 0, 0, 0}, {2, 3})));
  const double expected = 1 / (1 + std::exp(-(0.5 * 6 - 1)));
  EXPECT_NEAR(y.value().at({0, 0}), expected, 1e-6);
  EXPECT_NEAR(y.value().at({1, 1}), 1 / (1 + std::exp(1.0)), 1e-6);
}

TEST(Dense, SeedMakesWeightsReproducibleAndGlobalSeedToo) {
  Dense a(4, "linear", {.seed = 9}), b(4, "linear", {.seed = 9});
  a(Variable(Tensor::ones({1, 6})));
  b(Variable(Tensor::ones({1, 6})));
  EXPECT_TRUE(a.kernel().value().allclose(b.kernel().value(), 0, 0));
  manual_seed(1);
  Dense c(4);
  c(Variable(Tensor::ones({1, 6})));
  manual_seed(1);
  Dense d(4);
  d(Variable(Tensor::ones({1, 6})));
  EXPECT_TRUE(c.kernel().value().allclose(d.kernel().value(), 0, 0));
  EXPECT_FALSE(a.kernel().value().allclose(c.kernel().value(), 0, 0));
}

TEST(Dense, WorksOnTheLastAxisOfHigherRankInputs) {
  Dense layer(5);
  EXPECT_EQ(layer(Variable(Tensor::ones({2, 3, 4}))).shape(), (Shape{2, 3, 5}));
}

TEST(Dense, RejectsBadSettingsAndInputs) {
  EXPECT_THROW(Dense(0), Error);
  Dense layer(3);
  layer(Variable(Tensor::ones({2, 4})));
  EXPECT_EQ(error_of([&] {
              layer(Variable(Tensor::ones({2, 5})));
            }),
            "Dense: input (2, 5) has 5 features; this layer was built for 4");
  Dense fresh(3);
  EXPECT_THROW(fresh(Variable(Tensor::scalar(1))), Error);
  EXPECT_THROW(fresh(Variable()), Error);
}

// A module composed of two Dense layers, the way a user would write one.
class TwoLayer : public Module {
 public:
  TwoLayer() {
    add_module("hidden", hidden_);
    add_module("output", output_);
  }
  Variable forward(const Variable& x) override { return (*output_)((*hidden_)(x)); }
  std::string type_name() const override { return "TwoLayer"; }

 private:
  std::shared_ptr<Dense> hidden_ = std::make_shared<Dense>(4, "relu");
  std::shared_ptr<Dense> output_ = std::make_shared<Dense>(2);
};

TEST(Module, NestedParametersHavePathsAndModePropagates) {
  TwoLayer model;
  model(Variable(Tensor::ones({1, 3})));
  std::vector<std::string> names;
  for (const NamedParameter& p : model.named_parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"hidden.kernel", "hidden.bias", "output.kernel", "output.bias"}));
  EXPECT_EQ(model.parameter_count(), 3 * 4 + 4 + 4 * 2 + 2);
  EXPECT_TRUE(model.training());
  model.eval();
  EXPECT_FALSE(model.training());
}

TEST(Module, SetTrainableFreezesWeightsMadeBeforeAndAfter) {
  Sequential model(Shape{3});
  auto& dense = model.add(Dense(2));
  auto& norm = model.add(BatchNormalization());
  norm.set_trainable(false);  // before its weights exist
  model.build(Shape{3});
  EXPECT_EQ(norm.trainable_parameter_count(), 0);
  EXPECT_EQ(model.trainable_parameter_count(), dense.parameter_count());
  norm.set_trainable(true);  // gamma and beta learn again; the moving statistics never do
  EXPECT_EQ(norm.trainable_parameter_count(), 2 * 2);
  dense.set_trainable(false);
  EXPECT_FALSE(dense.kernel().requires_grad());

  model.compile("sgd", "mse");
  const Tensor kernel = dense.kernel().value().clone();
  model.fit(Tensor::ones({8, 3}), Tensor::zeros({8, 2}), {.epochs = 2, .verbose = 0});
  EXPECT_TRUE(dense.kernel().value().allclose(kernel, 0, 0));  // frozen: unchanged
}

}  // namespace
}  // namespace axon
