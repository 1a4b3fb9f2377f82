// Model, Sequential, compile / fit / evaluate / predict, regularisation and dropout.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

// Three Gaussian blobs in 2-D, well separated: any sane classifier reaches ~100 %.
struct Blobs {
  Tensor x, y;
};
Blobs blobs(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Blobs data{Tensor::empty({n, 2}), Tensor::empty({n})};
  const float centers[3][2] = {{-2, -2}, {2, -2}, {0, 2}};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 3;
    data.x.data<float>()[2 * i] = centers[label][0] + static_cast<float>(gen.normal(0, 0.5));
    data.x.data<float>()[2 * i + 1] = centers[label][1] + static_cast<float>(gen.normal(0, 0.5));
    data.y.data<float>()[i] = static_cast<float>(label);
  }
  return data;
}

std::unique_ptr<Sequential> small_classifier(uint64_t seed = 1) {
  manual_seed(seed);
  auto model = std::make_unique<Sequential>(Shape{2});
  model->add(Dense(16, "relu"));
  model->add(Dense(3, "softmax"));
  return model;
}

using test_support::error_of;

TEST(Model, SequentialLearnsBlobs) {
  const Blobs train = blobs(600, 1), test = blobs(300, 2);
  auto model = small_classifier();
  model->compile(Adam(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  const History history =
      model->fit(train.x, train.y, {.epochs = 8, .batch_size = 32, .validation_split = 0.2, .verbose = 0});
  ASSERT_EQ(history.logs.size(), 8u);
  EXPECT_LT(history.at("loss").back(), history.at("loss").front() * 0.5);
  EXPECT_TRUE(history.logs.back().contains("val_accuracy"));
  EXPECT_GT(history.at("val_accuracy").back(), 0.95);
  const Logs logs = model->evaluate(test.x, test.y);
  EXPECT_GT(logs.at("accuracy"), 0.95);
  EXPECT_EQ(logs.items().front().first, "loss");
}

class TutorialMLP : public Model {
 public:
  TutorialMLP(int64_t hidden_units, int64_t output_units)
      : hidden_layer(add(Dense(hidden_units, "relu"))), output_layer(add(Dense(output_units, "softmax"))) {}
  Variable call(const Variable& inputs) override { return output_layer(hidden_layer(inputs)); }

  Dense& hidden_layer;
  Dense& output_layer;
};

TEST(Model, SubclassedModelFindsItsLayersWithoutRegistrationCode) {
  manual_seed(0);
  Generator gen(0);
  const Tensor x = gen.uniform({100, 10}, 0, 1);
  Tensor y = Tensor::empty({100});
  for (int64_t i = 0; i < 100; ++i) y.data<float>()[i] = static_cast<float>(gen.below(10));
  TutorialMLP model(10, 10);
  model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy"});
  const History history = model.fit(x, y, {.epochs = 10, .batch_size = 32, .verbose = 0});
  std::vector<std::string> names;
  for (const NamedParameter& p : model.named_parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.kernel", "layers.0.bias", "layers.1.kernel", "layers.1.bias"}));
  EXPECT_EQ(model.optimizer().parameters().size(), 4u);
  EXPECT_LT(history.at("loss").back(), history.at("loss").front());  // it trained
  const Tensor p = model.predict(x);
  ASSERT_EQ(p.shape(), (Shape{100, 10}));
  for (int64_t i = 0; i < 100; i += 17) {
    double total = 0;
    for (int64_t j = 0; j < 10; ++j) total += p.at({i, j});
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
  EXPECT_EQ(model.hidden_layer.kernel().shape(), (Shape{10, 10}));
}

TEST(Model, SameSeedsGiveBitIdenticalTraining) {
  const Blobs data = blobs(200, 3);
  std::vector<Tensor> weights[2];
  for (auto& w : weights) {
    auto model = small_classifier(7);
    model->compile(Adam(0.01), "sparse_categorical_crossentropy");
    model->fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 11});
    w = model->get_weights();
  }
  for (size_t i = 0; i < weights[0].size(); ++i) EXPECT_TRUE(weights[0][i].allclose(weights[1][i], 0, 0));
}

TEST(Model, ValidationSplitTakesTheLastRows) {
  const Blobs data = blobs(100, 4);
  Logs with_split, with_data;
  for (bool split : {true, false}) {
    auto model = small_classifier(2);
    model->compile(SGD(0.1), "sparse_categorical_crossentropy", {"accuracy"});
    FitOptions options{.epochs = 1, .batch_size = 10, .shuffle = false, .verbose = 0};
    const History h = split ? model->fit(data.x, data.y,
                                         [&] {
                                           auto o = options;
                                           o.validation_split = 0.3;
                                           return o;
                                         }())
                            : model->fit(data.x.rows(0, 70), data.y.rows(0, 70), [&] {
                                auto o = options;
                                o.validation_data = std::pair{data.x.rows(70, 100), data.y.rows(70, 100)};
                                return o;
                              }());
    (split ? with_split : with_data) = h.logs.back();
  }
  EXPECT_EQ(with_split.at("val_loss"), with_data.at("val_loss"));
  EXPECT_EQ(with_split.at("loss"), with_data.at("loss"));
}

TEST(Model, TrainOnBatchIsOneOptimizerStep) {
  const Blobs data = blobs(8, 5);
  auto model = small_classifier(3);
  model->compile(SGD(0.5), "sparse_categorical_crossentropy");
  const std::vector<Tensor> before = model->get_weights();
  // The same step by hand, on the same weights.
  auto reference = small_classifier(3);
  reference->compile(SGD(0.5), "sparse_categorical_crossentropy");
  Variable loss = sparse_categorical_crossentropy((*reference)(Variable(data.x)), data.y);
  loss.backward();
  std::vector<Tensor> expected;
  for (const Variable& p : reference->parameters()) {
    Tensor w = p.value().clone();
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] -= 0.5f * p.grad().data<float>()[i];
    expected.push_back(w);
  }
  const Logs logs = model->train_on_batch(data.x, data.y);
  EXPECT_NEAR(logs.at("loss"), loss.item(), 1e-6);
  const std::vector<Tensor> after = model->get_weights();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(after[i].allclose(expected[i], 1e-6, 1e-7)) << i;
    EXPECT_FALSE(after[i].allclose(before[i], 0, 0)) << i;
  }
}

TEST(Model, EvaluateWeighsBatchesBySize) {
  const Blobs data = blobs(50, 6);
  auto model = small_classifier(4);
  model->compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const Logs whole = model->evaluate(data.x, data.y, 50), batched = model->evaluate(data.x, data.y, 7);
  EXPECT_NEAR(whole.at("loss"), batched.at("loss"), 1e-6);
  EXPECT_DOUBLE_EQ(whole.at("accuracy"), batched.at("accuracy"));
  EXPECT_NEAR(whole.at("loss"), model->test_on_batch(data.x, data.y).at("loss"), 1e-6);
  EXPECT_TRUE(model->predict(data.x, 50).allclose(model->predict(data.x, 3), 1e-6, 1e-7));
}

TEST(Model, L2RegularizerJoinsTheTrainingLoss) {
  manual_seed(8);
  Sequential model(Shape{3});
  model.add(Dense(2, "linear", {.kernel_regularizer = L2(0.1)}));
  model.compile(SGD(0.0), "mse");
  const Tensor x = Tensor::ones({4, 3}), y = Tensor::zeros({4, 2});
  const Tensor kernel = model.get_weights()[0];
  double penalty = 0, plain = 0;
  for (double w : kernel.to_vector()) penalty += 0.1 * w * w;
  for (int64_t j = 0; j < 2; ++j) {  // every row of x is ones: prediction j = sum_i kernel[i][j]
    const double prediction = kernel.at({0, j}) + kernel.at({1, j}) + kernel.at({2, j});
    plain += prediction * prediction / 2;
  }
  // As Keras: the reported loss includes the penalties in training and in evaluation.
  EXPECT_NEAR(model.evaluate(x, y).at("loss"), plain + penalty, 1e-6);
  EXPECT_NEAR(model.train_on_batch(x, y).at("loss"), plain + penalty, 1e-6);
  EXPECT_THROW(L2(-1), Error);
}

TEST(Model, DropoutIsInvertedSeededAndOffInInference) {
  Dropout dropout(0.25, 123);
  const Variable x(Tensor::ones({200, 100}));
  const Tensor y = dropout(x).value();
  int64_t zeros = 0;
  for (double v : y.to_vector()) {
    if (v == 0)
      ++zeros;
    else
      EXPECT_NEAR(v, 1 / 0.75, 1e-6);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 20000.0, 0.25, 0.02);
  Dropout same(0.25, 123);
  EXPECT_TRUE(same(x).value().allclose(y, 0, 0));
  dropout.eval();
  EXPECT_TRUE(dropout(x).value().allclose(x.value(), 0, 0));
  EXPECT_THROW(Dropout(1.0), Error);
  EXPECT_THROW(Dropout(-0.1), Error);
}

TEST(Model, SummaryListsLayersShapesAndCounts) {
  Sequential model(Shape{784});
  model.add(Dense(256, "relu"));
  model.add(Dropout(0.2));
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const std::string text = model.summary();
  EXPECT_NE(text.find("dense (Dense)"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 256)"), std::string::npos) << text;
  EXPECT_NE(text.find("200,960"), std::string::npos) << text;
  EXPECT_NE(text.find("dropout (Dropout)"), std::string::npos) << text;
  EXPECT_NE(text.find("dense_2 (Dense)"), std::string::npos)
      << text;  // Keras's names; parameters stay "layers.3.kernel"
  EXPECT_NE(text.find("Total params: 235,146"), std::string::npos) << text;
  EXPECT_NE(text.find("Non-trainable params: 0"), std::string::npos) << text;
  Sequential unbuilt;
  unbuilt.add(Dense(3));
  EXPECT_NE(error_of([&] { unbuilt.summary(); }).find("not built"), std::string::npos);
}

TEST(Model, BadInputGetsClearErrors) {
  const Blobs data = blobs(30, 7);
  auto model = small_classifier();
  EXPECT_NE(error_of([&] { model->fit(data.x, data.y); }).find("not compiled"), std::string::npos);
  model->compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  EXPECT_EQ(error_of([&] { model->fit(data.x, data.y.rows(0, 29), {.verbose = 0}); }),
            "fit: x has 30 examples but y has 29");
  EXPECT_NE(
      error_of([&] { model->fit(data.x, data.y, {.validation_split = 1.5, .verbose = 0}); }).find("validation_split"),
      std::string::npos);
  EXPECT_NE(error_of([&] { model->fit(data.x.rows(0, 0), data.y.rows(0, 0), {.verbose = 0}); }).find("no examples"),
            std::string::npos);
  EXPECT_NE(error_of([&] { model->fit(data.x, data.y, {.batch_size = 0, .verbose = 0}); }).find("batch_size"),
            std::string::npos);
  Tensor bad_labels = data.y.clone();
  bad_labels.data<float>()[4] = 3;
  EXPECT_NE(error_of([&] {
              model->fit(data.x, bad_labels, {.shuffle = false, .verbose = 0});
            }).find("batch 0: softmax_cross_entropy: label 3 at row 4"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              model->fit(Tensor::ones({30, 5}), data.y, {.verbose = 0});
            }).find("features"),
            std::string::npos);

  manual_seed(1);
  Sequential binary(Shape{2});
  binary.add(Dense(1, "sigmoid"));
  binary.compile("adam", "sparse_categorical_crossentropy");
  EXPECT_NE(error_of([&] { binary.fit(data.x, data.y, {.verbose = 0}); }).find("binary_crossentropy"),
            std::string::npos);
  EXPECT_THROW(model->compile("adamm", "mse"), Error);
  EXPECT_THROW(model->compile("adam", "msee"), Error);
  EXPECT_THROW(model->compile("adam", "mse", {"accuracy", "accuracy"}), Error);
}

}  // namespace
}  // namespace axon

namespace axon {
namespace {

TEST(CrossValidation, StratifiedFoldsGiveLogsMeanAndStd) {
  const Blobs data = blobs(150, 9);
  int models_made = 0;
  auto make = [&]() -> std::unique_ptr<Model> {
    ++models_made;
    auto model = small_classifier(static_cast<uint64_t>(models_made));
    model->compile(Adam(0.02), "sparse_categorical_crossentropy", {"accuracy"});
    return model;
  };
  const CrossValidationResult result = cross_validate(
      make, data.x, data.y, {.folds = 3, .seed = 4, .fit = {.epochs = 5, .batch_size = 16, .verbose = 0}});
  EXPECT_EQ(models_made, 3);
  ASSERT_EQ(result.folds.size(), 3u);
  double sum = 0, squares = 0;
  for (const Logs& fold : result.folds) sum += fold.at("accuracy");
  const double mean = sum / 3;
  for (const Logs& fold : result.folds) squares += (fold.at("accuracy") - mean) * (fold.at("accuracy") - mean);
  EXPECT_DOUBLE_EQ(result.mean.at("accuracy"), mean);
  EXPECT_NEAR(result.std.at("accuracy"), std::sqrt(squares / 3), 1e-12);
  EXPECT_GT(mean, 0.9);
  EXPECT_TRUE(result.mean.contains("loss"));
  EXPECT_THROW(cross_validate(make, data.x, data.y, {.folds = 1}), Error);
  EXPECT_THROW(cross_validate([] { return std::unique_ptr<Model>(); }, data.x, data.y), Error);
}

}  // namespace
}  // namespace axon

namespace axon {
namespace {

// Issue 18: one-hot labels with a sparse loss failed only at the first batch, with a
// message about logits. fit now says what the loss expects before training starts.
TEST(Model, TargetsThatCannotSuitTheLossFailBeforeTraining) {
  Sequential model(Shape{4});
  model.add(Dense(10, "softmax"));
  model.compile("sgd", "sparse_categorical_crossentropy");
  const Tensor x = Tensor::zeros({100, 4}), one_hot = Tensor::zeros({100, 10});
  EXPECT_EQ(test_support::error_of([&] { model.fit(x, one_hot, {.verbose = 0}); }),
            "sparse_categorical_crossentropy expects class indices of shape (n,) or (n, 1); got (100, 10) - use "
            "categorical_crossentropy for one-hot labels");
  model.compile("sgd", "categorical_crossentropy");
  EXPECT_EQ(test_support::error_of([&] { model.fit(x, Tensor::zeros({100}), {.verbose = 0}); }),
            "categorical_crossentropy expects one-hot targets of shape (n, 10); got (100,) - use "
            "sparse_categorical_crossentropy for class indices");
  model.compile("sgd", "sparse_categorical_crossentropy");
  EXPECT_NO_THROW(model.fit(x, Tensor::zeros({100, 1}), {.verbose = 0}));  // class indices as a column are fine
}

}  // namespace
}  // namespace axon
