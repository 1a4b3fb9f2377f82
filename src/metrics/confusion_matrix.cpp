#include <algorithm>
#include <iomanip>
#include <sstream>

#include "classes.h"

namespace axon {

ConfusionMatrix::ConfusionMatrix(int64_t classes, ClassKind kind, double threshold)
    : classes_(classes),
      kind_(kind),
      threshold_(threshold),
      counts_(static_cast<size_t>(std::max<int64_t>(classes, 0) * std::max<int64_t>(classes, 0))) {
  if (classes < 2) fail("ConfusionMatrix: needs >= 2 classes, got ", classes);
}

void ConfusionMatrix::update(const Tensor& y_pred, const Tensor& y_true) {
  const metrics::ClassPairs pairs = metrics::to_classes("confusion_matrix", y_pred, y_true, kind_, threshold_);
  if (pairs.classes != classes_)
    fail("confusion_matrix: predictions have ", pairs.classes, " classes, the matrix ", classes_);
  for (size_t i = 0; i < pairs.truth.size(); ++i)
    ++counts_[static_cast<size_t>(pairs.truth[i] * classes_ + pairs.predicted[i])];
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

void ConfusionMatrix::add(int64_t true_class, int64_t predicted_class, int64_t count) {
  (void)this->count(true_class, predicted_class);  // checks the range
  counts_[static_cast<size_t>(true_class * classes_ + predicted_class)] += count;
}

int64_t ConfusionMatrix::count(int64_t true_class, int64_t predicted_class) const {
  if (true_class < 0 || true_class >= classes_ || predicted_class < 0 || predicted_class >= classes_)
    fail("confusion_matrix: class (", true_class, ", ", predicted_class, ") out of range for ", classes_, " classes");
  return counts_[static_cast<size_t>(true_class * classes_ + predicted_class)];
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t c : counts_) sum += c;
  return sum;
}

std::string ConfusionMatrix::str(const std::vector<std::string>& class_names) const {
  auto label = [&](int64_t c) {
    return c < static_cast<int64_t>(class_names.size()) ? class_names[static_cast<size_t>(c)] : std::to_string(c);
  };
  size_t label_width = 4, cell_width = 5;
  for (int64_t c = 0; c < classes_; ++c) label_width = std::max(label_width, label(c).size());
  for (int64_t c = 0; c < classes_; ++c)
    cell_width = std::max(cell_width, label(c).size() + 1);  // columns are named too
  for (int64_t c : counts_) cell_width = std::max(cell_width, std::to_string(c).size() + 1);
  std::ostringstream out;
  out << std::setw(static_cast<int>(label_width)) << "true\\pred";
  for (int64_t p = 0; p < classes_; ++p) out << std::setw(static_cast<int>(cell_width)) << label(p);
  out << "\n";
  for (int64_t t = 0; t < classes_; ++t) {
    out << std::setw(static_cast<int>(label_width)) << label(t);
    for (int64_t p = 0; p < classes_; ++p) out << std::setw(static_cast<int>(cell_width)) << count(t, p);
    out << "\n";
  }
  return out.str();
}

}  // namespace axon
