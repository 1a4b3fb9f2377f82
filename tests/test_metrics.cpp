// Streaming metrics against values worked out by hand (the arithmetic is in the
// comments), fed in several batches to exercise accumulation.
#include <gtest/gtest.h>

#include <cmath>

#include "axon/axon.h"
#include "error_of.h"

namespace axon {
namespace {

using test_support::error_of;

Tensor t(std::vector<float> values, Shape shape) { return Tensor::from(values, shape); }

TEST(Metrics, AccuracyResolvesSparseBinaryAndCategorical) {
  Accuracy sparse;
  // argmax [1, 0, 1] vs labels [1, 1, 1]: 2 of 3; then 1 of 1 -> 3 / 4.
  sparse.update(t({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2}), t({1, 1, 1}, {3}));
  EXPECT_DOUBLE_EQ(sparse.result(), 2.0 / 3.0);
  sparse.update(t({0.6f, 0.4f}, {1, 2}), t({0}, {1}));
  EXPECT_DOUBLE_EQ(sparse.result(), 0.75);
  sparse.reset();
  EXPECT_EQ(sparse.result(), 0.0);

  Accuracy binary;  // (p > 0.5) = [0, 1, 0, 1] vs [0, 1, 1, 0]: 2 of 4
  binary.update(t({0.2f, 0.7f, 0.5f, 0.9f}, {4, 1}), t({0, 1, 1, 0}, {4}));
  EXPECT_DOUBLE_EQ(binary.result(), 0.5);

  Accuracy categorical;  // one-hot targets: rows 0 and 2 right
  categorical.update(t({0.7f, 0.3f, 0.4f, 0.6f, 0.2f, 0.8f}, {3, 2}), t({1, 0, 1, 0, 0, 1}, {3, 2}));
  EXPECT_DOUBLE_EQ(categorical.result(), 2.0 / 3.0);
}

TEST(Metrics, TopK) {
  TopKCategoricalAccuracy top2(2);
  // Row 0: label 2 scores 0.4, one class above it -> hit. Row 1: label 2 scores 0.1,
  // two above -> miss.
  top2.update(t({0.1f, 0.5f, 0.4f, 0.7f, 0.2f, 0.1f}, {2, 3}), t({2, 2}, {2}));
  EXPECT_DOUBLE_EQ(top2.result(), 0.5);
  EXPECT_THROW(TopKCategoricalAccuracy(0), Error);
}

// truth [0, 0, 1, 2, 2, 2], predicted [0, 1, 1, 2, 0, 2], fed in two batches.
void feed(ConfusionMatrix& m) {
  m.update(t({1, 0, 0, 0, 1, 0, 0, 1, 0}, {3, 3}), t({0, 0, 1}, {3}));
  m.update(t({0, 0, 1, 1, 0, 0, 0, 0, 1}, {3, 3}), t({2, 2, 2}, {3}));
}
void feed(Metric& m) {
  m.update(t({1, 0, 0, 0, 1, 0, 0, 1, 0}, {3, 3}), t({0, 0, 1}, {3}));
  m.update(t({0, 0, 1, 1, 0, 0, 0, 0, 1}, {3, 3}), t({2, 2, 2}, {3}));
}

TEST(Metrics, ConfusionMatrixCountsAndPrints) {
  ConfusionMatrix m(3);
  feed(m);
  EXPECT_EQ(m.count(0, 0), 1);
  EXPECT_EQ(m.count(0, 1), 1);
  EXPECT_EQ(m.count(1, 1), 1);
  EXPECT_EQ(m.count(2, 0), 1);
  EXPECT_EQ(m.count(2, 2), 2);
  EXPECT_EQ(m.count(1, 0), 0);
  EXPECT_EQ(m.total(), 6);
  const std::string text = m.str({"cat", "dog", "bird"});
  EXPECT_NE(text.find("bird    1    0    2"), std::string::npos) << text;
  EXPECT_NE(text.find("true\\pred  cat  dog bird"), std::string::npos) << text;  // columns are named as rows
  EXPECT_THROW(m.count(3, 0), Error);
  EXPECT_THROW(m.update(t({1, 0}, {1, 2}), t({0}, {1})), Error);  // 2 classes into a 3-class matrix
  m.reset();
  EXPECT_EQ(m.total(), 0);
}

TEST(Metrics, PrecisionRecallF1Averages) {
  // Per class: precision [1/2, 1/2, 2/2], recall [1/2, 1/1, 2/3], F1 [1/2, 2/3, 4/5],
  // support [2, 1, 3].
  struct Case {
    ClassificationMetric::Score score;
    Averaging average;
    double expected;
  };
  using S = ClassificationMetric::Score;
  const Case cases[] = {
      {S::precision, Averaging::macro, (0.5 + 0.5 + 1.0) / 3},
      {S::recall, Averaging::macro, (0.5 + 1.0 + 2.0 / 3) / 3},
      {S::f1, Averaging::macro, (0.5 + 2.0 / 3 + 0.8) / 3},
      {S::precision, Averaging::weighted, (0.5 * 2 + 0.5 * 1 + 1.0 * 3) / 6},
      {S::recall, Averaging::weighted, 4.0 / 6},
      {S::f1, Averaging::weighted, (0.5 * 2 + 2.0 / 3 * 1 + 0.8 * 3) / 6},
      {S::precision, Averaging::micro, 4.0 / 6},
      {S::f1, Averaging::micro, 4.0 / 6},
      {S::f1, Averaging::automatic, (0.5 + 2.0 / 3 + 0.8) / 3},  // more than 2 classes: macro
  };
  for (const Case& c : cases) {
    ClassificationMetric metric(c.score, c.average);
    feed(metric);
    EXPECT_NEAR(metric.result(), c.expected, 1e-12) << static_cast<int>(c.score) << " " << static_cast<int>(c.average);
  }
  ClassificationMetric binary_on_three(S::f1, Averaging::binary);
  EXPECT_THROW(feed(binary_on_three), Error);
}

TEST(Metrics, BinaryPrecisionRecallF1) {
  // p > 0.5 -> [1, 1, 0, 1, 0] vs [1, 0, 1, 1, 1]: tp 2, fp 1, fn 2.
  const Tensor scores = t({0.9f, 0.8f, 0.3f, 0.6f, 0.1f}, {5, 1}), labels = t({1, 0, 1, 1, 1}, {5});
  Precision precision;
  Recall recall;
  F1Score f1;
  for (Metric* m : std::initializer_list<Metric*>{&precision, &recall, &f1}) m->update(scores, labels);
  EXPECT_NEAR(precision.result(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(recall.result(), 0.5, 1e-12);
  EXPECT_NEAR(f1.result(), 4.0 / 7, 1e-12);  // 2 * (2/3 * 1/2) / (2/3 + 1/2)
  Precision nothing_predicted;
  nothing_predicted.update(t({0.1f, 0.2f}, {2, 1}), t({1, 0}, {2}));
  EXPECT_EQ(nothing_predicted.result(), 0.0);  // 0 / 0 counts as 0, as scikit-learn
}

TEST(Metrics, ClassificationReportRows) {
  ConfusionMatrix m(3);
  feed(m);
  const std::string report = classification_report(m, {"cat", "dog", "bird"});
  EXPECT_NE(report.find("cat     0.5000     0.5000     0.5000          2"), std::string::npos) << report;
  EXPECT_NE(report.find("bird     1.0000     0.6667     0.8000          3"), std::string::npos) << report;
  EXPECT_NE(report.find("accuracy                           0.6667          6"), std::string::npos) << report;
  EXPECT_NE(report.find("macro avg     0.6667     0.7222     0.6556          6"), std::string::npos) << report;
  EXPECT_NE(report.find("weighted avg     0.7500     0.6667     0.6778          6"), std::string::npos) << report;
}

TEST(Metrics, AUCIsExactWithTies) {
  AUC auc;
  auc.update(t({0.1f, 0.4f}, {2}), t({0, 0}, {2}));
  EXPECT_EQ(auc.result(), 0.0);  // one class so far
  auc.update(t({0.35f, 0.8f}, {2, 1}), t({1, 1}, {2}));
  EXPECT_DOUBLE_EQ(auc.result(), 0.75);  // 3 of the 4 positive-negative pairs ordered right
  auc.reset();
  // Pairs: (0.5 vs 0.5) tie 1/2, (0.5 vs 0.2), (0.9 vs 0.5), (0.9 vs 0.2) -> 3.5 / 4.
  auc.update(t({0.5f, 0.5f, 0.2f, 0.9f}, {4}), t({1, 0, 0, 1}, {4}));
  EXPECT_DOUBLE_EQ(auc.result(), 0.875);
  EXPECT_THROW(auc.update(t({0.5f}, {1}), t({2}, {1})), Error);
}

TEST(Metrics, RegressionErrors) {
  RegressionMetric mse(RegressionMetric::Kind::mse), mae(RegressionMetric::Kind::mae),
      rmse(RegressionMetric::Kind::rmse);
  for (Metric* m : std::initializer_list<Metric*>{&mse, &mae, &rmse}) {
    m->update(t({1, 2}, {2, 1}), t({1, 3}, {2}));  // errors 0, -1
    m->update(t({3}, {1, 1}), t({5}, {1, 1}));     // error -2
  }
  EXPECT_DOUBLE_EQ(mse.result(), 5.0 / 3);
  EXPECT_DOUBLE_EQ(mae.result(), 1.0);
  EXPECT_DOUBLE_EQ(rmse.result(), std::sqrt(5.0 / 3));
  EXPECT_THROW(mse.update(t({1, 2}, {2}), t({1}, {1})), Error);
}

TEST(Metrics, FactoryNamesAndErrors) {
  for (const char* name : {"accuracy", "binary_accuracy", "sparse_categorical_accuracy", "categorical_accuracy",
                           "top_k_categorical_accuracy", "precision", "recall", "f1", "f1_macro", "recall_weighted",
                           "precision_micro", "auc", "mse", "mae", "rmse"})
    EXPECT_EQ(metric(name)->name(), name);
  EXPECT_EQ(metric("mean_squared_error")->name(), "mse");
  EXPECT_NE(error_of([&] { metric("acuracy"); }).find("unknown metric 'acuracy'; expected one of: accuracy"),
            std::string::npos);
}

TEST(Metrics, BadInputNamesTheProblem) {
  Accuracy accuracy;
  EXPECT_EQ(error_of([&] {
              accuracy.update(t({0.1f, 0.9f, 0.8f, 0.2f}, {2, 2}), t({1, 2}, {2}));
            }),
            "accuracy: label 2 at row 1 is not a class index in [0, 2)");
  EXPECT_THROW(accuracy.update(t({0.1f, 0.9f}, {1, 2}), t({1, 0}, {2})), Error);  // batch sizes differ
  EXPECT_THROW(accuracy.update(t({0.1f, 0.9f}, {1, 2}), t({0.5f}, {1})), Error);  // not an integer
}

}  // namespace
}  // namespace axon

namespace axon {
namespace {

// What data-parallel training does with each rank's metric: state() on one, merge() into
// another. Two halves merged give the figure of the whole, for every kind of state.
TEST(Metrics, StatesMergeIntoTheFigureOfTheWhole) {
  const Tensor scores = t({0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.3f, 0.7f, 0.55f, 0.45f, 0.1f, 0.9f}, {6, 2});
  const Tensor labels = t({0, 1, 1, 1, 0, 0}, {6});
  for (const char* name : {"accuracy", "f1_macro", "auc", "mse", "weighted_accuracy"}) {
    const bool binary = std::string(name) == "auc";
    const Tensor y_pred = binary ? scores.reshape({12}).rows(0, 6) : scores;
    const Tensor y_true = std::string(name) == "mse"
                              ? t({0.9f, 0.0f, 0.1f, 0.9f, 0.5f, 0.5f, 0.2f, 0.8f, 0.6f, 0.4f, 0.0f, 1.0f}, {6, 2})
                              : labels;
    auto whole = metric(name), first = metric(name), second = metric(name), empty = metric(name);
    whole->update(y_pred, y_true);
    first->update(y_pred.rows(0, 4), y_true.rows(0, 4));
    second->update(y_pred.rows(4, 6), y_true.rows(4, 6));
    const double before = first->result();
    first->merge(second->state());
    first->merge(empty->state());  // a rank that saw nothing changes nothing
    EXPECT_DOUBLE_EQ(first->result(), whole->result()) << name;
    EXPECT_NE(first->result(), before) << name << ": the test would pass without merging";
  }
  TopKCategoricalAccuracy whole(1), first(1), second(1);  // top-1 of 2 classes: the accuracy
  whole.update(scores, labels);
  first.update(scores.rows(0, 4), labels.rows(0, 4));
  second.update(scores.rows(4, 6), labels.rows(4, 6));
  first.merge(second.state());
  EXPECT_DOUBLE_EQ(first.result(), whole.result());
  EXPECT_NE(error_of([] {
              metric("accuracy")->merge({1, 2, 3});
            }).find("holds 3 numbers, expected 2"),
            std::string::npos);
}

TEST(Metrics, AMetricWithoutStateCannotBeCombinedAndSaysSo) {
  struct Custom : Metric {
    std::string name() const override { return "custom"; }
    void update(const Tensor&, const Tensor&) override {}
    double result() const override { return 0; }
    void reset() override {}
  } custom;
  EXPECT_NE(error_of([&] { custom.state(); }).find("metric 'custom' cannot be combined over ranks"), std::string::npos);
}

}  // namespace
}  // namespace axon
