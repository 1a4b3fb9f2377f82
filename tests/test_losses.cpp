// Every loss and its gradient against PyTorch in float64 (values from
// tests/golden/losses.py), stability at extreme inputs, and shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

using LossCall = std::function<Variable(const Variable&)>;

// Runs the loss on a float64 copy of `prediction` and checks value and gradient.
void expect_golden(const char* name, std::vector<double> prediction, Shape shape, const LossCall& loss, double value,
                   std::vector<double> gradient) {
  Variable p(Tensor::from(prediction, shape), true);
  Variable l = loss(p);
  EXPECT_NEAR(l.item(), value, 1e-12) << name;
  l.backward();
  const std::vector<double> g = p.grad().to_vector();
  ASSERT_EQ(g.size(), gradient.size()) << name;
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], gradient[i], 1e-12) << name << " gradient " << i;
}

const std::vector<double> kPred = {0.2, -1.5, 2.0, 0.7, -0.3, 1.1};
const Tensor kTarget = Tensor::from(std::vector<double>{0.0, -1.0, 0.5, 2.0, 0.3, 0.0}, {3, 2});

TEST(Loss, RegressionLossesMatchTorch) {
  expect_golden(
      "mse", kPred, {3, 2}, [](const Variable& p) { return mean_squared_error(p, kTarget); }, 0.9666666666666668,
      {0.06666666666666667, -0.16666666666666666, 0.5, -0.43333333333333335, -0.19999999999999998, 0.3666666666666667});
  expect_golden("mae", kPred, {3, 2}, [](const Variable& p) { return mean_absolute_error(p, kTarget); },
                0.8666666666666667, {1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0, -1 / 6.0, 1 / 6.0});
  expect_golden("huber 1", kPred, {3, 2}, [](const Variable& p) { return huber(p, kTarget, 1.0); }, 0.45416666666666666,
                {0.03333333333333333, -0.08333333333333333, 0.16666666666666666, -0.16666666666666666,
                 -0.09999999999999999, 0.16666666666666666});
  expect_golden("huber 0.5", kPred, {3, 2}, [](const Variable& p) { return huber(p, kTarget, 0.5); },
                0.31583333333333335,
                {0.03333333333333333, -0.08333333333333333, 0.08333333333333333, -0.08333333333333333,
                 -0.08333333333333333, 0.08333333333333333});
}

const Tensor kBinaryTarget = Tensor::from(std::vector<double>{1, 0, 0, 1}, {4, 1});

TEST(Loss, BinaryCrossentropyMatchesTorch) {
  expect_golden("bce", {0.9, 0.2, 0.6, 0.45}, {4, 1},
                [](const Variable& p) { return binary_crossentropy(p, kBinaryTarget); }, 0.5108256237659906,
                {-0.2777777777777778, 0.31249999999999994, 0.625, -0.5555555555555556});
  expect_golden("bce logits", {2.0, -1.0, 0.3, -0.2}, {4, 1},
                [](const Variable& p) { return binary_crossentropy(p, kBinaryTarget, true); }, 0.5231709531028286,
                {-0.02980073050552942, 0.06723535534249878, 0.14361062920291476, -0.13745849932811946});
  // A sigmoid output is scored from its logits: same value, no clipping.
  expect_golden("bce of sigmoid", {2.0, -1.0, 0.3, -0.2}, {4, 1},
                [](const Variable& p) { return binary_crossentropy(sigmoid(p), kBinaryTarget); }, 0.5231709531028286,
                {-0.02980073050552942, 0.06723535534249878, 0.14361062920291476, -0.13745849932811946});
}

const std::vector<double> kProbs = {0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.25, 0.5, 0.25};
const std::vector<double> kLogits = {1.0, -0.5, 0.3, 0.2, 0.1, 2.0, -1.0, 0.0, 1.5};
const Tensor kOneHot = Tensor::from(std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0}, {3, 3});
const Tensor kLabels = Tensor::from(std::vector<double>{0, 2, 1}, {3});

TEST(Loss, CategoricalCrossentropiesMatchTorch) {
  // From probabilities, rows are first normalised to sum to 1 (as Keras), which adds
  // 1/sum to the gradient: torch reference -(t * log(p / p.sum(1))).sum(1).mean().
  expect_golden("cce", kProbs, {3, 3}, [](const Variable& p) { return categorical_crossentropy(p, kOneHot); },
                0.5202159160882228,
                {-0.1428571428571428, 0.33333333333333337, 0.33333333333333337, 0.3333333333333333, 0.3333333333333333,
                 -0.22222222222222227, 0.3333333333333333, -0.3333333333333333, 0.3333333333333333});
  const Tensor soft = Tensor::from(std::vector<double>{0.8, 0.1, 0.1, 0, 0.5, 0.5, 0.2, 0.3, 0.5}, {3, 3});
  expect_golden(
      "cce soft logits", kLogits, {3, 3}, [&](const Variable& p) { return categorical_crossentropy(p, soft, true); },
      1.0674208849213946,
      {-0.07283615207114616, 0.009916100430017727, 0.06292005164112845, 0.041905081002644604, -0.12874938136964595,
       0.08684430036700137, -0.04570332891804416, -0.04301573993406991, 0.08871906885211407});
  expect_golden("scce", kProbs, {3, 3}, [](const Variable& p) { return sparse_categorical_crossentropy(p, kLabels); },
                0.5202159160882228, {-0.4761904761904762, 0, 0, 0, 0, -0.5555555555555556, 0, -0.6666666666666666, 0});
  const std::vector<double> scce_logits_grad = {-0.1395028187378128,  0.04324943376335106,  0.09625338497446179,
                                                0.041905081002644604, 0.037917285297020695, -0.07982236629966528,
                                                0.020963337748622503, -0.2763490732674032,  0.25538573551878074};
  expect_golden(
      "scce logits", kLogits, {3, 3},
      [](const Variable& p) { return sparse_categorical_crossentropy(p, kLabels, true); }, 0.860754218254728,
      scce_logits_grad);
  expect_golden(
      "scce of softmax", kLogits, {3, 3},
      [](const Variable& p) { return sparse_categorical_crossentropy(softmax(p), kLabels); }, 0.860754218254728,
      scce_logits_grad);
}

TEST(Loss, StableAtExtremeInputs) {
  const Tensor t = Tensor::from(std::vector<double>{0, 1, 1, 0}, {4, 1});
  // max(x, 0) - x t + log(1 + exp(-|x|)): 1000, 1000, 0, 0 -> mean 500 (PyTorch agrees).
  expect_golden("bce logits extreme", {1000, -1000, 1e4, -1e4}, {4, 1},
                [&](const Variable& p) { return binary_crossentropy(p, t, true); }, 500.0, {0.25, -0.25, 0, 0});
  // Probabilities of exactly 0 and 1 are clipped to [1e-7, 1 - 1e-7]: finite.
  Variable p(Tensor::from(std::vector<double>{0, 1, 1, 0}, {4, 1}), true);
  Variable l = binary_crossentropy(p, Tensor::from(std::vector<double>{1, 0, 1, 0}, {4, 1}));
  EXPECT_NEAR(l.item(), -std::log(1e-7) / 2, 1e-6);
  l.backward();
  for (double g : p.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
  // Huge logits in sparse cross-entropy (float32): finite value and gradient.
  Variable logits(Tensor::from(std::vector<float>{1e4f, -1e4f, 0, -3e4f, 3e4f, 0}, {2, 3}), true);
  Variable ce = sparse_categorical_crossentropy(logits, Tensor::from(std::vector<float>{1, 1}, {2}), true);
  EXPECT_NEAR(ce.item(), 1e4, 1.0);  // row 0 misses by 2e4, row 1 is right: (2e4 + 0) / 2
  ce.backward();
  for (double g : logits.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
}

TEST(Loss, ShapeAndLabelErrorsNameTheLoss) {
  const Variable p(Tensor::zeros({4, 2}, DType::f64));
  EXPECT_EQ(error_of([&] {
              mean_squared_error(p, Tensor::zeros({4, 3}, DType::f64));
            }),
            "mean_squared_error: target shape (4, 3) does not match prediction shape (4, 2)");
  EXPECT_EQ(error_of([&] {
              sparse_categorical_crossentropy(p, Tensor::from(std::vector<double>{0, 1, 2, 1}, {4}));
            }),
            "sparse_categorical_crossentropy: label 2 at row 2 is not a class index in [0, 2)");
  EXPECT_THROW(sparse_categorical_crossentropy(p, Tensor::from(std::vector<double>{0, 0.5, 1, 1}, {4})), Error);
  EXPECT_THROW(
      binary_crossentropy(Variable(Tensor::zeros({2, 1}, DType::f64)), Tensor::from(std::vector<double>{0, 2}, {2, 1})),
      Error);
  EXPECT_THROW(huber(p, Tensor::zeros({4, 2}, DType::f64), -1), Error);
  EXPECT_THROW(mean_squared_error(Variable(Tensor::zeros({0, 2})), Tensor::zeros({0, 2})), Error);
  // (batch,) targets are accepted for a (batch, 1) prediction.
  EXPECT_NEAR(mean_squared_error(Variable(Tensor::ones({3, 1}, DType::f64)), Tensor::zeros({3}, DType::f64)).item(),
              1.0, 1e-12);
}

TEST(Loss, ByName) {
  const Variable p(Tensor::from(std::vector<double>{0.5, 0.5}, {2, 1}));
  const Tensor t = Tensor::from(std::vector<double>{1, 0}, {2, 1});
  EXPECT_NEAR(loss("mse")(p, t).item(), 0.25, 1e-12);
  EXPECT_NEAR(loss("mean_absolute_error")(p, t).item(), 0.5, 1e-12);
  EXPECT_NEAR(loss("binary_crossentropy")(p, t).item(), std::log(2.0), 1e-9);
  EXPECT_NEAR(loss("binary_crossentropy", true)(Variable(Tensor::zeros({2, 1}, DType::f64)), t).item(), std::log(2.0),
              1e-12);
  EXPECT_NE(error_of([&] { loss("nope"); }).find("unknown loss 'nope'; expected one of: mse"), std::string::npos);
}

}  // namespace
}  // namespace axon
