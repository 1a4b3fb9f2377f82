#include <cstdio>
#include <numeric>

#include "classes.h"

namespace axon {

namespace {

struct ClassScores {
  double precision, recall, f1;
  int64_t support;
};

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }
double harmonic(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

ClassScores scores_of(const ConfusionMatrix& m, int64_t c) {
  int64_t tp = m.count(c, c), predicted = 0, actual = 0;
  for (int64_t k = 0; k < m.classes(); ++k) {
    predicted += m.count(k, c);
    actual += m.count(c, k);
  }
  const double p = ratio(static_cast<double>(tp), static_cast<double>(predicted));
  const double r = ratio(static_cast<double>(tp), static_cast<double>(actual));
  return {p, r, harmonic(p, r), actual};
}

double pick(const ClassScores& s, ClassificationMetric::Score score) {
  return score == ClassificationMetric::Score::precision ? s.precision
         : score == ClassificationMetric::Score::recall  ? s.recall
                                                         : s.f1;
}

const char* score_name(ClassificationMetric::Score score) {
  return score == ClassificationMetric::Score::precision ? "precision"
         : score == ClassificationMetric::Score::recall  ? "recall"
                                                         : "f1";
}

}  // namespace

ClassificationMetric::ClassificationMetric(Score score, Averaging average, int64_t classes, std::string name)
    : score_(score), average_(average), classes_(classes), name_(name.empty() ? score_name(score) : std::move(name)) {
  if (classes < 0 || classes == 1) fail(name_, ": classes must be 0 (inferred) or >= 2, got ", classes);
  if (classes_ > 0) matrix_ = std::make_unique<ConfusionMatrix>(classes_);
}

void ClassificationMetric::update(const Tensor& y_pred, const Tensor& y_true) {
  if (!matrix_) {
    const int64_t columns = y_pred.rank() >= 2 ? y_pred.dim(1) : 1;
    matrix_ = std::make_unique<ConfusionMatrix>(columns == 1 ? 2 : columns);
  }
  if (average_ == Averaging::binary && matrix_->classes() != 2)
    fail(name_, ": binary averaging needs 2 classes, the predictions have ", matrix_->classes(),
         "; use macro, micro or weighted");
  matrix_->update(y_pred, y_true);
}

double ClassificationMetric::result() const {
  if (!matrix_ || matrix_->total() == 0) return 0.0;
  const ConfusionMatrix& m = *matrix_;
  Averaging average = average_;
  if (average == Averaging::automatic) average = m.classes() == 2 ? Averaging::binary : Averaging::macro;
  if (average == Averaging::binary) return pick(scores_of(m, 1), score_);
  if (average == Averaging::micro) {
    // Pooled over classes every prediction is counted once: precision = recall = accuracy.
    int64_t correct = 0;
    for (int64_t c = 0; c < m.classes(); ++c) correct += m.count(c, c);
    return ratio(static_cast<double>(correct), static_cast<double>(m.total()));
  }
  double sum = 0;
  for (int64_t c = 0; c < m.classes(); ++c) {
    const ClassScores s = scores_of(m, c);
    sum += pick(s, score_) * (average == Averaging::weighted ? static_cast<double>(s.support) : 1.0);
  }
  return sum / (average == Averaging::weighted ? static_cast<double>(m.total()) : static_cast<double>(m.classes()));
}

std::vector<double> ClassificationMetric::state() const {
  if (!matrix_) return {};
  const int64_t k = matrix_->classes();
  std::vector<double> state{static_cast<double>(k)};
  for (int64_t t = 0; t < k; ++t)
    for (int64_t p = 0; p < k; ++p) state.push_back(static_cast<double>(matrix_->count(t, p)));
  return state;
}

void ClassificationMetric::merge(const std::vector<double>& state) {
  if (state.empty()) return;  // that rank saw no examples
  const auto k = static_cast<int64_t>(state[0]);
  if (k < 2 || static_cast<double>(k) != state[0] || state.size() != static_cast<size_t>(k * k + 1))
    fail(name_, ": a merged state is not a confusion matrix");
  if (!matrix_) matrix_ = std::make_unique<ConfusionMatrix>(k);
  if (matrix_->classes() != k) fail(name_, ": merging ", k, " classes into ", matrix_->classes());
  for (int64_t t = 0; t < k; ++t)
    for (int64_t p = 0; p < k; ++p) matrix_->add(t, p, static_cast<int64_t>(state[static_cast<size_t>(1 + t * k + p)]));
}

void ClassificationMetric::reset() {
  if (matrix_) matrix_->reset();
}

std::string classification_report(const ConfusionMatrix& m, const std::vector<std::string>& class_names) {
  size_t width = 12;
  auto label = [&](int64_t c) {
    return c < static_cast<int64_t>(class_names.size()) ? class_names[static_cast<size_t>(c)] : std::to_string(c);
  };
  for (int64_t c = 0; c < m.classes(); ++c) width = std::max(width, label(c).size());
  const int w = static_cast<int>(width);
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%*s %10s %10s %10s %10s\n\n", w, "", "precision", "recall", "f1-score", "support");
  out += line;
  double macro[3] = {}, weighted[3] = {};
  int64_t correct = 0;
  const double total = static_cast<double>(m.total());
  for (int64_t c = 0; c < m.classes(); ++c) {
    const ClassScores s = scores_of(m, c);
    std::snprintf(line, sizeof line, "%*s %10.4f %10.4f %10.4f %10lld\n", w, label(c).c_str(), s.precision, s.recall,
                  s.f1, static_cast<long long>(s.support));
    out += line;
    const double values[3] = {s.precision, s.recall, s.f1};
    for (int k = 0; k < 3; ++k) {
      macro[k] += values[k] / static_cast<double>(m.classes());
      weighted[k] += total > 0 ? values[k] * static_cast<double>(s.support) / total : 0.0;
    }
    correct += m.count(c, c);
  }
  std::snprintf(line, sizeof line, "\n%*s %10s %10s %10.4f %10lld\n", w, "accuracy", "", "",
                ratio(static_cast<double>(correct), total), static_cast<long long>(m.total()));
  out += line;
  std::snprintf(line, sizeof line, "%*s %10.4f %10.4f %10.4f %10lld\n", w, "macro avg", macro[0], macro[1], macro[2],
                static_cast<long long>(m.total()));
  out += line;
  std::snprintf(line, sizeof line, "%*s %10.4f %10.4f %10.4f %10lld\n", w, "weighted avg", weighted[0], weighted[1],
                weighted[2], static_cast<long long>(m.total()));
  return out + line;
}

}  // namespace axon
