#include "commands.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "axon/axon.h"
#include "axon/checkpoint.h"
#include "axon/model_file.h"
#include "axon/model_spec.h"
#include "axon/regular_file.h"
#include "data_source.h"
#include "output_file.h"
#include "train_guards.h"

namespace axon::cli {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A model file, or a spec (.json) for commands that only need the architecture.
std::shared_ptr<Model> open_model(const std::string& path) {
  return ends_with(path, ".json") ? load_spec(path).model : load_model(path);
}

bool is_classifier(const Tensor& predictions) { return predictions.rank() == 2 && predictions.dim(1) > 1; }

// Fashion-MNIST's class names when the data is Fashion-MNIST, else none.
std::vector<std::string> fashion_classes(const std::string& source, const Model& model) {
  const bool ten = !model.output_shapes().empty() && model.output_shapes()[0] == Shape{10};
  return source.rfind("fashion-mnist", 0) == 0 && ten ? datasets::fashion_mnist_class_names()
                                                      : std::vector<std::string>{};
}

}  // namespace

// What the report of `axon train` shows: the command and spec that produced the run, and
// the rows it is evaluated on (the validation rows when there are, else the training data).
template <class TrainOptions>
HtmlReportOptions report_options(const TrainOptions& o, const LabeledData& data, std::vector<std::string> class_names) {
  HtmlReportOptions report;
  report.title = "axon train: " + std::filesystem::path(o.model).filename().string();
  std::ostringstream command;
  command << "axon train --model " << o.model << " --data " << o.data << " --epochs " << o.fit.epochs
          << " --batch-size " << o.fit.batch_size << " --seed " << o.fit.seed;
  if (o.fit.validation_split > 0) command << " --validation-split " << o.fit.validation_split;
  command << " --out " << o.out << "\n\n" << read_regular_file(o.model, "--model", SpecLimits{}.max_bytes);
  report.command = command.str();
  if (data.x.size() == 1 && data.y.size() == 1) {
    const int64_t n = data.x[0].dim(0);
    const auto from = static_cast<int64_t>(static_cast<double>(n) * (1.0 - o.fit.validation_split));
    const int64_t start = o.fit.validation_split > 0 && from < n ? from : 0;
    report.evaluation_data = std::pair{data.x[0].rows(start, n), data.y[0].rows(start, n)};
  }
  report.class_names = std::move(class_names);
  return report;
}

void add_train(CLI::App& app) {
  struct Options {
    std::string model, data, out, checkpoint;
    bool resume = false, allow_nan = false;
    FitOptions fit{.epochs = 10};
    std::optional<double> rescale;
    std::string report;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("train",
                                     "Train a model from a JSON spec and save it (started by mpirun: data-parallel "
                                     "over the ranks, --batch-size per rank)");
  cmd->add_option("--model", options->model, "JSON model spec (with a \"compile\" section)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", options->data,
                  "fashion-mnist[:train|:test], idx:IMAGES,LABELS, csv:PATH[?label=COL], npy:X,Y")
      ->required();
  add_rescale_option(cmd, options->rescale);
  cmd->add_option("--out", options->out, "Where to write the trained model (.safetensors)")->required();
  cmd->add_option("--epochs", options->fit.epochs, "Epochs to train")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch-size", options->fit.batch_size, "Examples per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--validation-split", options->fit.validation_split, "Fraction of the data held out (the last rows)")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  cmd->add_option("--seed", options->fit.seed, "Seed for weights and shuffling")->capture_default_str();
  cmd->add_option("--verbose", options->fit.verbose, "0 silent, 1 progress bar, 2 a line per epoch")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  cmd->add_option("--checkpoint", options->checkpoint, "Folder for a crash-safe checkpoint written after every epoch");
  cmd->add_flag("--resume", options->resume, "Continue from the checkpoint in --checkpoint if there is one");
  cmd->add_option("--report", options->report,
                  "Write an HTML report of the run here (curves, timing, confusion matrix), updated every epoch");
  cmd->add_flag("--allow-nan", options->allow_nan,
                "Keep training when the loss becomes NaN or infinite, and accept such data");
  cmd->callback([options] {
    if (options->resume && options->checkpoint.empty())
      throw CLI::ValidationError("--resume", "needs --checkpoint DIR");
    manual_seed(options->fit.seed);
    ModelSpec spec = load_spec(options->model);
    std::shared_ptr<Model> model = spec.model;
    if (!model->compiled()) fail(options->model, ": the spec has no \"compile\" section (optimizer, loss, metrics)");
    if (!model->built()) fail(options->model, ": the spec needs an input_shape");
    // Started by mpirun: data-parallel over the ranks; rank 0 prints and writes the files.
    const std::shared_ptr<Communicator> ranks = launched_by_mpirun() ? mpi_world() : nullptr;
    if (ranks) model->distribute({.communicator = ranks});
    const bool chief = !ranks || ranks->chief();
    if (chief) check_writable(options->out, "--out");  // before training, not after it
    LabeledData data = load_labeled(options->data, "train", options->rescale);
    if (!options->allow_nan) {
      for (const Tensor& x : data.x) check_finite(x, "--data " + options->data + ": the inputs");
      for (const Tensor& y : data.y) check_finite(y, "--data " + options->data + ": the labels");
    }
    data.x = as_model_input(data.x, *model);
    FitOptions fit = options->fit;
    fit.augment = spec.augment;
    if (!options->report.empty()) {
      if (chief) check_writable(options->report, "--report");
      fit.callbacks.push_back(std::make_shared<HtmlReport>(
          options->report, report_options(*options, data, fashion_classes(options->data, *model))));
    }
    auto stop = std::make_shared<StopOnNonFinite>();
    if (!options->allow_nan) fit.callbacks.push_back(stop);
    if (!options->checkpoint.empty()) {
      if (chief) std::filesystem::create_directories(options->checkpoint);
      const std::string path = (std::filesystem::path(options->checkpoint) / "checkpoint.safetensors").string();
      if (options->resume && std::filesystem::exists(path)) {  // every rank reads it (a shared folder)
        fit.initial_epoch = restore_checkpoint(*model, path);
        if (chief) std::fprintf(stderr, "resuming after epoch %d from %s\n", fit.initial_epoch, path.c_str());
      }
      // Checkpoints only of finite weights: a diverged epoch keeps the last good one.
      fit.callbacks.push_back(std::make_shared<WhileFinite>(std::make_shared<ModelCheckpoint>(path)));
    }
    if (fit.initial_epoch < fit.epochs) model->fit(data.x, data.y, fit);
    if (stop->diverged())
      fail(stop->message(), "; ", options->out, " was not written",
           options->checkpoint.empty() ? "" : " (the checkpoint holds the last epoch with finite weights)",
           ". Lower the learning rate, or pass --allow-nan to keep going");
    if (!chief) return;
    save_model(*model, options->out);
    std::fprintf(stderr, "saved %s\n", options->out.c_str());
  });
}

void add_evaluate(CLI::App& app) {
  auto model_path = std::make_shared<std::string>();
  auto data_source = std::make_shared<std::string>();
  auto batch_size = std::make_shared<int64_t>(256);
  auto rescale = std::make_shared<std::optional<double>>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Report a trained model's loss and metrics on labelled data");
  add_rescale_option(cmd, *rescale);
  cmd->add_option("--model", *model_path, "Model file (.safetensors or .onnx)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--data", *data_source, "fashion-mnist[:train|:test], idx:..., csv:..., npy:...")->required();
  cmd->add_option("--batch-size", *batch_size, "Examples per step")->check(CLI::PositiveNumber)->capture_default_str();
  auto loss = std::make_shared<std::string>();
  auto metrics = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--loss", *loss,
                  "The loss to report (sparse_categorical_crossentropy, mse, ...), for a model without compile "
                  "settings (an ONNX file) or instead of its own");
  cmd->add_option("--metrics", *metrics, "Metrics to report with --loss (accuracy, ...)")->delimiter(',');
  cmd->callback([=] {
    std::shared_ptr<Model> model = load_model(*model_path);
    if (!loss->empty()) {
      std::vector<MetricSpec> metric_specs(metrics->begin(), metrics->end());
      model->compile("sgd", *loss, metric_specs);  // the optimizer is not used
    } else if (!metrics->empty()) {
      throw CLI::ValidationError("--metrics", "needs --loss");
    }
    if (!model->compiled())
      fail(*model_path, ": the model has no compile settings (an ONNX file has none); give --loss (and --metrics)");
    LabeledData data = load_labeled(*data_source, "test", *rescale);
    data.x = as_model_input(data.x, *model);
    std::cout << model->evaluate(data.x, data.y, *batch_size).str() << "\n";
    const std::vector<Tensor> outputs = model->predict(data.x, *batch_size);
    if (outputs.size() == 1 && is_classifier(outputs[0]) && data.y[0].numel() == data.y[0].dim(0)) {
      const Tensor& predictions = outputs[0];
      ConfusionMatrix confusion(predictions.dim(1));
      confusion.update(predictions, data.y[0]);
      // Fashion-MNIST's classes by name, as the demo shows them.
      const std::vector<std::string> names = fashion_classes(*data_source, *model);
      std::cout << "\n" << confusion.str(names) << "\n" << classification_report(confusion, names);
    }
  });
}

void add_predict(CLI::App& app) {
  struct Options {
    std::string model, input, output;
    bool proba = false;
    int64_t batch_size = 256;
    std::optional<double> rescale;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("predict", "Run a trained model on inputs; write one CSV row per example");
  cmd->add_option("--model", options->model, "Model file (.safetensors or .onnx)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--input", options->input,
                  "Inputs: a .csv (header, every column a feature), .npy or .idx file (several inputs: A+B)")
      ->required();
  add_rescale_option(cmd, options->rescale);
  cmd->add_option("--output", options->output, "CSV file to write (default: standard output)");
  cmd->add_flag("--proba", options->proba,
                "Write every output value (class probabilities) instead of the predicted class");
  cmd->add_option("--batch-size", options->batch_size, "Examples per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([options] {
    std::shared_ptr<Model> model = load_model(options->model);
    const std::vector<Tensor> outputs =
        model->predict(as_model_input(load_inputs(options->input, options->rescale), *model), options->batch_size);
    if (outputs.size() != 1)
      fail("predict: the model has ", outputs.size(), " outputs; the CSV holds one (use axon serve for several)");
    const Tensor& predictions = outputs[0];
    std::ostringstream out;
    const int64_t n = predictions.dim(0), width = n ? predictions.numel() / n : 0;
    const float* p = predictions.data<float>();
    const bool classes = is_classifier(predictions) && !options->proba;
    out << (classes ? "class" : "output");
    if (!classes)
      for (int64_t j = 1; j < width; ++j) out << ",output_" << j;
    out << "\n";
    for (int64_t i = 0; i < n; ++i) {
      const float* row = p + i * width;
      if (classes) {
        out << (std::max_element(row, row + width) - row) << "\n";
        continue;
      }
      for (int64_t j = 0; j < width; ++j) out << (j ? "," : "") << row[j];
      out << "\n";
    }
    // Every write checked through flush, fsync and close: a full disk is an error.
    if (options->output.empty())
      write_stdout(out.str());
    else
      write_output_file(options->output, out.str(), "--output");
  });
}

void add_summary(CLI::App& app) {
  auto model_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("summary", "Print a model's layers, output shapes and parameter counts");
  cmd->add_option("--model", *model_path, "Model file (.safetensors or .onnx) or JSON spec")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->callback([model_path] {
    std::shared_ptr<Model> model = open_model(*model_path);
    if (!model->built()) fail(*model_path, ": the spec has no input_shape, so the layers cannot be sized");
    model->summary(std::cout);
  });
}

}  // namespace axon::cli
