#pragma once
// Streaming metrics, as Keras: update() per batch, result() any time, reset() per epoch.
// y_pred is the model's output (batch, ...); y_true the targets given to fit: class
// indices (batch,) or (batch, 1), one-hot (batch, classes), or values for regression.
#include <memory>
#include <string>
#include <vector>

#include "axon/tensor.h"

namespace axon {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;  // its key in the logs
  virtual void update(const Tensor& y_pred, const Tensor& y_true) = 0;
  // With sample weights (batch,): example i counts w_i times (Keras's weighted metrics).
  // A metric that cannot weight its examples fails, naming itself.
  virtual void update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight);
  virtual double result() const = 0;  // 0 before any update
  virtual void reset() = 0;
  // True for the metrics fit and evaluate give sample weights to (see weighted()).
  virtual bool weighted() const { return false; }
  // The running state as numbers, and merge(), which adds another instance's state to
  // this one's: how data-parallel training combines the ranks' metrics. A metric
  // without them cannot be used distributed (the defaults fail, naming it).
  virtual std::vector<double> state() const;
  virtual void merge(const std::vector<double>& state);
};

// `metric` given the sample weights of fit and evaluate, logged as "weighted_<name>"
// (Keras's compile(weighted_metrics=...)); metric("weighted_accuracy") makes one by
// name. Accuracy, top-k accuracy, mse, mae and rmse can be weighted.
std::shared_ptr<Metric> weighted(std::shared_ptr<Metric> metric);

// How predictions become classes. automatic, as Keras's "accuracy": one output column
// -> binary (threshold); several columns and targets (batch,) -> sparse (argmax);
// targets shaped like the output -> categorical (argmax of both).
enum class ClassKind { automatic, binary, sparse, categorical };

// Fraction of examples whose predicted class is the true one.
class Accuracy : public Metric {
 public:
  explicit Accuracy(ClassKind kind = ClassKind::automatic, double threshold = 0.5, std::string name = "accuracy");
  std::string name() const override { return name_; }
  void update(const Tensor& y_pred, const Tensor& y_true) override;
  void update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) override;
  double result() const override { return total_ > 0 ? correct_ / total_ : 0.0; }
  void reset() override { correct_ = total_ = 0; }
  std::vector<double> state() const override { return {correct_, total_}; }
  void merge(const std::vector<double>& state) override;

 private:
  ClassKind kind_;
  double threshold_;
  std::string name_;
  double correct_ = 0, total_ = 0;  // weighted counts
};

// Fraction of examples whose true class (an index) is among the k highest scores.
class TopKCategoricalAccuracy : public Metric {
 public:
  explicit TopKCategoricalAccuracy(int64_t k = 5);
  std::string name() const override { return "top_k_categorical_accuracy"; }
  void update(const Tensor& y_pred, const Tensor& y_true) override;
  void update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) override;
  double result() const override { return total_ > 0 ? hits_ / total_ : 0.0; }
  void reset() override { hits_ = total_ = 0; }
  std::vector<double> state() const override { return {hits_, total_}; }
  void merge(const std::vector<double>& state) override;

 private:
  int64_t k_;
  double hits_ = 0, total_ = 0;  // weighted counts
};

// Counts of (true class, predicted class) pairs; rows are true classes.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes, ClassKind kind = ClassKind::automatic, double threshold = 0.5);
  void update(const Tensor& y_pred, const Tensor& y_true);
  void reset();
  void add(int64_t true_class, int64_t predicted_class, int64_t count);  // count more such pairs
  int64_t classes() const { return classes_; }
  int64_t count(int64_t true_class, int64_t predicted_class) const;
  int64_t total() const;
  // An aligned table, rows = true class, columns = predicted class.
  std::string str(const std::vector<std::string>& class_names = {}) const;

 private:
  int64_t classes_;
  ClassKind kind_;
  double threshold_;
  std::vector<int64_t> counts_;  // classes x classes
};

// How per-class scores combine, as scikit-learn's `average`: binary (class 1 only),
// macro (plain mean), micro (from pooled counts), weighted (by support); automatic is
// binary for two classes, macro for more.
enum class Averaging { automatic, binary, macro, micro, weighted };

// Precision, recall and F1 from a confusion matrix; classes = 0 takes the count from
// the first batch (1 output column -> 2 classes). A zero division counts as 0.
class ClassificationMetric : public Metric {
 public:
  enum class Score { precision, recall, f1 };
  ClassificationMetric(Score score, Averaging average, int64_t classes = 0, std::string name = "");
  std::string name() const override { return name_; }
  using Metric::update;
  void update(const Tensor& y_pred, const Tensor& y_true) override;
  double result() const override;
  void reset() override;
  std::vector<double> state() const override;  // empty before the first update; else classes, then counts
  void merge(const std::vector<double>& state) override;

 private:
  Score score_;
  Averaging average_;
  int64_t classes_;
  std::string name_;
  std::unique_ptr<ConfusionMatrix> matrix_;
};

struct Precision : ClassificationMetric {
  explicit Precision(Averaging average = Averaging::automatic, int64_t classes = 0)
      : ClassificationMetric(Score::precision, average, classes) {}
};
struct Recall : ClassificationMetric {
  explicit Recall(Averaging average = Averaging::automatic, int64_t classes = 0)
      : ClassificationMetric(Score::recall, average, classes) {}
};
struct F1Score : ClassificationMetric {
  explicit F1Score(Averaging average = Averaging::automatic, int64_t classes = 0)
      : ClassificationMetric(Score::f1, average, classes) {}
};

// Per-class precision, recall, F1 and support, then accuracy, macro and weighted
// averages, formatted like scikit-learn's classification_report (4 decimals).
std::string classification_report(const ConfusionMatrix& matrix, const std::vector<std::string>& class_names = {});

// Area under the ROC curve of a binary classifier: y_pred (batch,) or (batch, 1)
// scores, y_true 0/1. Exact (Mann-Whitney U, ties count one half); 0 until both
// classes have been seen, as Keras.
class AUC : public Metric {
 public:
  std::string name() const override { return "auc"; }
  using Metric::update;
  void update(const Tensor& y_pred, const Tensor& y_true) override;
  double result() const override;
  void reset() override;
  std::vector<double> state() const override;  // score, positive, score, positive, ...
  void merge(const std::vector<double>& state) override;

 private:
  std::vector<std::pair<double, bool>> scored_;  // (score, positive)
};

// Regression errors averaged over every element seen.
class RegressionMetric : public Metric {
 public:
  enum class Kind { mse, mae, rmse };
  explicit RegressionMetric(Kind kind);
  std::string name() const override;
  void update(const Tensor& y_pred, const Tensor& y_true) override;
  void update(const Tensor& y_pred, const Tensor& y_true, const Tensor& sample_weight) override;
  double result() const override;
  void reset() override { sum_ = 0, count_ = 0; }
  std::vector<double> state() const override { return {sum_, count_}; }
  void merge(const std::vector<double>& state) override;

 private:
  Kind kind_;
  double sum_ = 0, count_ = 0;
};

// By Keras's names ("weighted_" before any of them: weighted(metric(...))): "accuracy" ("acc"), "binary_accuracy",
// "sparse_categorical_accuracy", "categorical_accuracy", "top_k_categorical_accuracy", "precision", "recall", "f1"
// (binary for one output, macro otherwise), "precision_macro", "f1_micro",
// "recall_weighted", ..., "auc", "mse", "mae", "rmse" (and their long names).
std::shared_ptr<Metric> metric(const std::string& name);

}  // namespace axon
