// Keras's sample_weight and class_weight: weighted losses and metrics against hand
// computations, class weights equal to the sample weights they stand for, a zero
// weight equal to leaving the example out, and the errors for what cannot be weighted.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

const Tensor kPred = Tensor::from(std::vector<double>{0.2, -1.5, 2.0, 0.7, -0.3, 1.1}, {3, 2});
const Tensor kTarget = Tensor::from(std::vector<double>{0.0, -1.0, 0.5, 2.0, 0.3, 0.0}, {3, 2});
const Tensor kWeights = Tensor::from(std::vector<double>{1.0, 0.0, 2.0}, {3});

// sum_i w_i l_i / batch, each l_i the mean of example i's elementwise losses.
double by_hand(const std::function<double(double, double)>& elementwise) {
  const std::vector<double> p = kPred.to_vector(), t = kTarget.to_vector(), w = kWeights.to_vector();
  double total = 0;
  for (int i = 0; i < 3; ++i)
    total += w[i] * 0.5 * (elementwise(p[2 * i], t[2 * i]) + elementwise(p[2 * i + 1], t[2 * i + 1]));
  return total / 3;
}

TEST(SampleWeight, WeightedLossesAreTheWeightedMeanOfPerExampleLosses) {
  const Variable p(kPred);
  EXPECT_NEAR(weighted_loss("mse", false, p, kTarget, kWeights).item(),
              by_hand([](double a, double b) { return (a - b) * (a - b); }), 1e-12);
  EXPECT_NEAR(weighted_loss("mae", false, p, kTarget, kWeights).item(),
              by_hand([](double a, double b) { return std::abs(a - b); }), 1e-12);
  EXPECT_NEAR(weighted_loss("huber", false, p, kTarget, kWeights).item(), by_hand([](double a, double b) {
                const double e = std::abs(a - b);
                return e <= 1 ? 0.5 * e * e : e - 0.5;
              }),
              1e-12);
  const Tensor probabilities = Tensor::from(std::vector<double>{0.9, 0.1, 0.3, 0.7, 0.5, 0.5}, {3, 2});
  const Tensor bits = Tensor::from(std::vector<double>{1, 0, 1, 1, 0, 1}, {3, 2});
  EXPECT_NEAR(weighted_loss("binary_crossentropy", false, Variable(probabilities), bits, kWeights).item(),
              (1.0 * 0.5 * (-std::log(0.9) - std::log(0.9)) + 2.0 * 0.5 * (-std::log(0.5) - std::log(0.5))) / 3, 1e-12);
  // Cross-entropy from logits: -log softmax(z)[label], weighted.
  const Tensor logits = Tensor::from(std::vector<double>{2.0, 0.5, -1.0, 1.0, 0.0, 3.0, 0.3, 0.3, 0.3}, {3, 3});
  const Tensor labels = Tensor::from(std::vector<double>{0, 2, 1}, {3});
  const auto nll = [&](int row, int label) {
    const std::vector<double> z = logits.to_vector();
    double sum = 0;
    for (int j = 0; j < 3; ++j) sum += std::exp(z[3 * row + j]);
    return -(z[3 * row + label] - std::log(sum));
  };
  const double expected = (1.0 * nll(0, 0) + 0.0 * nll(1, 2) + 2.0 * nll(2, 1)) / 3;
  EXPECT_NEAR(weighted_loss("sparse_categorical_crossentropy", true, Variable(logits), labels, kWeights).item(),
              expected, 1e-12);
  const Tensor one_hot = Tensor::from(std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0}, {3, 3});
  EXPECT_NEAR(weighted_loss("categorical_crossentropy", true, Variable(logits), one_hot, kWeights).item(), expected,
              1e-12);
  // Weights of one give the unweighted loss, for every built-in loss.
  const Tensor ones = Tensor::ones({3}, DType::f64);
  for (const char* name : {"mse", "mae", "huber"})
    EXPECT_NEAR(weighted_loss(name, false, p, kTarget, ones).item(), loss(name)(p, kTarget).item(), 1e-12) << name;
  EXPECT_NEAR(weighted_loss("sparse_categorical_crossentropy", true, Variable(logits), labels, ones).item(),
              loss("sparse_categorical_crossentropy", true)(Variable(logits), labels).item(), 1e-12);
  EXPECT_NE(error_of([&] { weighted_loss("mse", false, p, kTarget, Tensor::ones({2})); }).find("do not match"),
            std::string::npos);
}

TEST(SampleWeight, GradientsAreWeightedToo) {
  Variable p(kPred, true);
  weighted_loss("mse", false, p, kTarget, kWeights).backward();
  const std::vector<double> g = p.grad().to_vector(), pv = kPred.to_vector(), t = kTarget.to_vector(),
                            w = kWeights.to_vector();
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(g[i], w[i / 2] * 2 * (pv[i] - t[i]) / 6, 1e-12) << i;
}

// Three examples through a fixed model: predictions known, so the weighted loss and
// weighted accuracy can be written down.
TEST(SampleWeight, EvaluateWeighsTheLossAndTheWeightedMetricsOnly) {
  Sequential model(Shape{2});
  model.add(Dense(2, "softmax"));
  model.build(Shape{2});
  model.set_weights({Tensor::from(std::vector<float>{1, -1, -1, 1}, {2, 2}), Tensor::zeros({2})});
  model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy", "weighted_accuracy"});
  const Tensor x = Tensor::from(std::vector<float>{2, 0, 0, 1, 1, 0}, {3, 2});
  const Tensor y = Tensor::from(std::vector<float>{0, 0, 1}, {3});  // predicted: 0, 1, 0 -> right, wrong, wrong
  const Tensor w = Tensor::from(std::vector<float>{3, 1, 0}, {3});
  const Logs logs = model.evaluate(x, y, 2, 0, w);
  // Row logits: (2, -2), (-1, 1), (1, -1); -log p(label).
  const auto nll = [](double right, double other) { return -(right - std::log(std::exp(right) + std::exp(other))); };
  EXPECT_NEAR(logs.at("loss"), (3 * nll(2, -2) + 1 * nll(-1, 1) + 0 * nll(-1, 1)) / 3, 1e-6);
  EXPECT_NEAR(logs.at("accuracy"), 1.0 / 3, 1e-12);           // unweighted, as Keras's metrics
  EXPECT_NEAR(logs.at("weighted_accuracy"), 3.0 / 4, 1e-12);  // sum w * right / sum w
  const Logs plain = model.evaluate(x, y, 2);
  EXPECT_NEAR(plain.at("loss"), (nll(2, -2) + 2 * nll(-1, 1)) / 3, 1e-6);
  EXPECT_NEAR(plain.at("weighted_accuracy"), 1.0 / 3, 1e-12);  // no weights: plain accuracy
}

struct Blobs {
  Tensor x, y;
};

Blobs blobs(int64_t n) {
  Generator generator(7);
  Tensor x = Tensor::empty({n, 2}), y = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    const float label = static_cast<float>(i % 2);
    x.data<float>()[2 * i] = label * 2 - 1 + 0.5f * static_cast<float>(generator.normal());
    x.data<float>()[2 * i + 1] = 1 - label * 2 + 0.5f * static_cast<float>(generator.normal());
    y.data<float>()[i] = label;
  }
  return {x, y};
}

std::shared_ptr<Sequential> small_model() {
  manual_seed(11);
  auto model = std::make_shared<Sequential>(Shape{2});
  model->add(Dense(8, "relu"));
  model->add(Dense(2, "softmax"));
  model->compile(SGD(0.1), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

TEST(SampleWeight, ClassWeightIsTheSampleWeightOfEachExamplesClass) {
  const Blobs data = blobs(64);
  auto by_class = small_model();
  by_class->fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 3, .class_weight = {{1, 3.0}}});
  std::vector<float> w;
  for (const double label : data.y.to_vector()) w.push_back(label == 1 ? 3.0f : 1.0f);  // class 0 unlisted: 1
  auto by_sample = small_model();
  by_sample->fit(data.x, data.y,
                 {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 3, .sample_weight = Tensor::from(w, {64})});
  const std::vector<Tensor> a = by_class->get_weights(), b = by_sample->get_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].allclose(b[i], 0, 0)) << i;  // bit-identical
  auto plain = small_model();
  plain->fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 3});
  EXPECT_FALSE(plain->get_weights()[0].allclose(a[0], 0, 1e-6));  // the weights changed something
  // One-hot targets give the same classes.
  Tensor one_hot = Tensor::zeros({64, 2});
  for (int64_t i = 0; i < 64; ++i) one_hot.data<float>()[2 * i + static_cast<int64_t>(data.y.data<float>()[i])] = 1;
  auto categorical = small_model();
  categorical->compile(SGD(0.1), "categorical_crossentropy", {"accuracy"});
  categorical->fit(data.x, one_hot,
                   {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 3, .class_weight = {{1, 3.0}}});
  EXPECT_TRUE(categorical->get_weights()[0].allclose(a[0], 1e-5, 1e-6));
}

// One full batch, plain SGD: weights (1, 1, 0, 0) on four examples step like the first
// two alone with half the learning rate (the loss divides by 4, not by 2).
TEST(SampleWeight, AZeroWeightLeavesTheExampleOut) {
  const Blobs data = blobs(4);
  auto weighted = small_model();
  weighted->fit(data.x, data.y,
                {.epochs = 3,
                 .batch_size = 4,
                 .shuffle = false,
                 .verbose = 0,
                 .sample_weight = Tensor::from(std::vector<float>{1, 1, 0, 0}, {4})});
  auto alone = small_model();
  alone->compile(SGD(0.05), "sparse_categorical_crossentropy", {"accuracy"});
  alone->fit(data.x.rows(0, 2), data.y.rows(0, 2), {.epochs = 3, .batch_size = 2, .shuffle = false, .verbose = 0});
  const std::vector<Tensor> a = weighted->get_weights(), b = alone->get_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].allclose(b[i], 1e-5, 1e-7)) << i;
}

TEST(SampleWeight, ValidationRowsKeepTheirWeights) {
  const Blobs data = blobs(40);
  std::vector<float> w(40);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 3);
  auto model = small_model();
  const History history = model->fit(
      data.x, data.y,
      {.epochs = 1, .batch_size = 8, .validation_split = 0.25, .verbose = 0, .sample_weight = Tensor::from(w, {40})});
  const Logs val = model->evaluate(data.x.rows(30, 40), data.y.rows(30, 40), 8, 0, Tensor::from(w, {40}).rows(30, 40));
  EXPECT_NEAR(history.logs.back().at("val_loss"), val.at("loss"), 1e-7);
}

TEST(SampleWeight, WhatCannotBeWeightedSaysSo) {
  const Blobs data = blobs(8);
  auto model = small_model();
  const Tensor w = Tensor::ones({8});
  EXPECT_NE(error_of([&] {
              model->fit(data.x, data.y, {.verbose = 0, .sample_weight = w, .class_weight = {{0, 2}}});
            }).find("not both"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              model->fit(data.x, data.y, {.verbose = 0, .sample_weight = Tensor::ones({7})});
            }).find("one weight per example"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              model->fit(data.x, data.y, {.verbose = 0, .sample_weight = Tensor::full({8}, -1.0)});
            }).find("finite and >= 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              model->fit(data.x, data.y, {.verbose = 0, .class_weight = {{1, NAN}}});
            }).find("class_weight[1]"),
            std::string::npos);
  const LossFn mine = [](const Variable& p, const Tensor& t) { return sparse_categorical_crossentropy(p, t); };
  model->compile(SGD(0.1), LossSpec(std::string("mine"), mine), {"accuracy"});
  EXPECT_NE(error_of([&] { model->evaluate(data.x, data.y, 8, 0, w); }).find("'mine' is a custom function"),
            std::string::npos);
  model->compile(SGD(0.1), "sparse_categorical_crossentropy", {"weighted_auc"});
  EXPECT_NE(error_of([&] { model->evaluate(data.x, data.y, 8, 0, w); }).find("'auc' cannot weight its examples"),
            std::string::npos);
}

}  // namespace
}  // namespace axon
