// BatchNormalization: batch statistics in training, moving statistics in inference,
// the moving-average update, and the statistics kept in model files.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"

namespace axon {
namespace {

TEST(BatchNormalization, TrainingNormalisesEachChannel) {
  Generator gen(3);
  BatchNormalization bn(0.9, 1e-3);
  const Tensor x = gen.normal({8, 3, 4, 5}, 2.0, 3.0);
  const Tensor y = bn(Variable(x)).value();
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0, squares = 0, n = 0, x_sum = 0, x_squares = 0;
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t w = 0; w < 5; ++w) {
          const double v = y.at({i, c, h, w}), u = x.at({i, c, h, w});
          sum += v, squares += v * v, n += 1, x_sum += u, x_squares += u * u;
        }
    const double x_mean = x_sum / n, x_var = x_squares / n - x_mean * x_mean;
    EXPECT_NEAR(sum / n, 0.0, 1e-5) << c;
    EXPECT_NEAR(squares / n, x_var / (x_var + 1e-3), 1e-4) << c;
    // moving = 0.9 * initial + 0.1 * batch
    const auto params = bn.named_parameters();
    EXPECT_NEAR(params[2].variable.value().at({c}), 0.1 * x_mean, 1e-4);
    EXPECT_NEAR(params[3].variable.value().at({c}), 0.9 + 0.1 * x_var, 1e-3);
  }
}

TEST(BatchNormalization, InferenceUsesTheMovingStatistics) {
  BatchNormalization bn(0.5, 1e-3);
  const Tensor batch = Tensor::from(std::vector<float>{1, 10, 3, 20}, {2, 2});  // channel means 2, 15; variances 1, 25
  bn(Variable(batch));
  bn.eval();
  const std::vector<NamedParameter> params = bn.named_parameters();
  EXPECT_EQ(params[2].name, "moving_mean");
  EXPECT_FALSE(params[2].trainable);
  EXPECT_NEAR(params[2].variable.value().at({1}), 7.5, 1e-5);   // 0.5 * 0 + 0.5 * 15
  EXPECT_NEAR(params[3].variable.value().at({1}), 13.0, 1e-4);  // 0.5 * 1 + 0.5 * 25
  const Tensor y = bn(Variable(Tensor::from(std::vector<float>{1, 7.5f}, {1, 2}))).value();
  EXPECT_NEAR(y.at({0, 0}), (1 - 1.0) / std::sqrt(1.0 + 1e-3), 1e-5);  // moving mean of channel 0: 1, variance 1
  EXPECT_NEAR(y.at({0, 1}), 0.0, 1e-5);
  EXPECT_THROW(bn(Variable(Tensor::ones({1, 3}))), Error);
  EXPECT_THROW(BatchNormalization(1.0), Error);
  EXPECT_THROW(BatchNormalization(0.9, 0), Error);
}

TEST(BatchNormalization, TrainsAndItsStatisticsSurviveAModelFile) {
  Generator gen(5);
  Tensor x = gen.normal({300, 4}, 5.0, 4.0), y = Tensor::empty({300});
  for (int64_t i = 0; i < 300; ++i) y.data<float>()[i] = x.at({i, 0}) + x.at({i, 1}) > 10 ? 1.0f : 0.0f;
  manual_seed(2);
  Sequential model(Shape{4});
  model.add(Dense(16));
  model.add(BatchNormalization());
  model.add(Activation("relu"));
  model.add(Dense(2, "softmax"));
  model.compile(Adam(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  const History h = model.fit(x, y, {.epochs = 15, .batch_size = 32, .verbose = 0});
  EXPECT_GT(h.at("accuracy").back(), 0.9);
  EXPECT_EQ(model.parameter_count() - model.trainable_parameter_count(),
            32);  // moving mean and variance of 16 channels
  const std::string path = ::testing::TempDir() + "axon_bn.safetensors";
  save_model(model, path);
  const auto loaded = load_model(path);
  EXPECT_TRUE(loaded->predict(x).allclose(model.predict(x), 0, 0));
}

}  // namespace
}  // namespace axon
