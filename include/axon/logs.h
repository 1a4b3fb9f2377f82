#pragma once
// Logs: named numbers from a step or an epoch ("loss", "accuracy", "val_loss", ...),
// kept in insertion order for display. History: the logs of every epoch of a fit.
#include <string>
#include <utility>
#include <vector>

namespace axon {

class Logs {
 public:
  void set(const std::string& name, double value);  // adds, or replaces in place
  double at(const std::string& name) const;         // throws Error naming the known keys
  bool contains(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  std::string str() const;  // "loss: 0.3120 - accuracy: 0.8870"

 private:
  std::vector<std::pair<std::string, double>> items_;
};

struct History {
  std::vector<int> epochs;  // epoch numbers (0-based) that ran
  std::vector<Logs> logs;   // one per epoch

  // Every epoch's value of one key, as Keras's history.history["loss"].
  std::vector<double> at(const std::string& name) const;
  bool empty() const { return logs.empty(); }
};

}  // namespace axon
