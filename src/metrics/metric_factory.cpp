#include <functional>
#include <utility>

#include "axon/metric.h"

namespace axon {

std::shared_ptr<Metric> metric(const std::string& name) {
  if (name.starts_with("weighted_")) return weighted(metric(name.substr(9)));
  using Make = std::function<std::shared_ptr<Metric>()>;
  using Score = ClassificationMetric::Score;
  auto classification = [](Score score, Averaging average, const char* key) -> Make {
    return [=] { return std::make_shared<ClassificationMetric>(score, average, 0, key); };
  };
  const std::pair<const char*, Make> known[] = {
      {"accuracy", [] { return std::make_shared<Accuracy>(); }},
      {"acc", [] { return std::make_shared<Accuracy>(ClassKind::automatic, 0.5, "acc"); }},
      {"binary_accuracy", [] { return std::make_shared<Accuracy>(ClassKind::binary, 0.5, "binary_accuracy"); }},
      {"sparse_categorical_accuracy",
       [] { return std::make_shared<Accuracy>(ClassKind::sparse, 0.5, "sparse_categorical_accuracy"); }},
      {"categorical_accuracy",
       [] { return std::make_shared<Accuracy>(ClassKind::categorical, 0.5, "categorical_accuracy"); }},
      {"top_k_categorical_accuracy", [] { return std::make_shared<TopKCategoricalAccuracy>(); }},
      {"precision", classification(Score::precision, Averaging::automatic, "precision")},
      {"recall", classification(Score::recall, Averaging::automatic, "recall")},
      {"f1", classification(Score::f1, Averaging::automatic, "f1")},
      {"precision_macro", classification(Score::precision, Averaging::macro, "precision_macro")},
      {"recall_macro", classification(Score::recall, Averaging::macro, "recall_macro")},
      {"f1_macro", classification(Score::f1, Averaging::macro, "f1_macro")},
      {"precision_micro", classification(Score::precision, Averaging::micro, "precision_micro")},
      {"recall_micro", classification(Score::recall, Averaging::micro, "recall_micro")},
      {"f1_micro", classification(Score::f1, Averaging::micro, "f1_micro")},
      {"precision_weighted", classification(Score::precision, Averaging::weighted, "precision_weighted")},
      {"recall_weighted", classification(Score::recall, Averaging::weighted, "recall_weighted")},
      {"f1_weighted", classification(Score::f1, Averaging::weighted, "f1_weighted")},
      {"auc", [] { return std::make_shared<AUC>(); }},
      {"mse", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::mse); }},
      {"mean_squared_error", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::mse); }},
      {"mae", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::mae); }},
      {"mean_absolute_error", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::mae); }},
      {"rmse", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::rmse); }},
      {"root_mean_squared_error", [] { return std::make_shared<RegressionMetric>(RegressionMetric::Kind::rmse); }},
  };
  for (const auto& [key, make] : known)
    if (name == key) return make();
  std::string allowed;
  for (const auto& entry : known) allowed += (allowed.empty() ? "" : ", ") + std::string(entry.first);
  fail("unknown metric '", name, "'; expected one of: ", allowed);
}

}  // namespace axon
