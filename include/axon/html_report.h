#pragma once
// HtmlReport: a training run as one self-contained HTML file (no scripts, no network:
// styles and charts inline, charts as SVG). Rewritten after every epoch, refreshing
// itself in an open browser while training runs; final at the end of fit:
//   - loss and metric curves per epoch, training and validation;
//   - the learning rate per epoch, seconds and samples/s per epoch;
//   - the model summary;
//   - with evaluation data: the confusion matrix as a heat map, precision, recall and F1
//     per class, and the first misclassified examples (drawn, for image inputs);
//   - what produced it (a command line, spec, seed: options.command).
//   model.fit(x, y, {.callbacks = {std::make_shared<HtmlReport>("run.html")}});
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axon/callbacks.h"
#include "axon/tensor.h"

namespace axon {

struct HtmlReportOptions {
  std::string title = "axon training report";
  std::string command;  // shown verbatim: the command, spec and seed behind the run
  // Labelled examples scored at the end (x, y with class indices), for the confusion
  // matrix and the misclassified examples; class_names label them (else 0, 1, ...).
  std::optional<std::pair<Tensor, Tensor>> evaluation_data;
  std::vector<std::string> class_names;
  int max_examples = 12;
};

class HtmlReport : public Callback {
 public:
  bool chief_only() const override { return true; }
  explicit HtmlReport(std::string path, HtmlReportOptions options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  struct Epoch {
    int number;
    Logs logs;
    double seconds, learning_rate;
  };
  void write(bool final_report) const;
  std::string evaluation_section() const;

  std::string path_;
  HtmlReportOptions options_;
  std::string summary_;
  std::vector<Epoch> epochs_;
  std::chrono::steady_clock::time_point epoch_start_;
};

}  // namespace axon
