// axon quantize: a model file's int8 form (see axon/quantization.h), checked against the
// float32 model on labelled data when given.
#include <cstdio>
#include <memory>

#include "axon/axon.h"
#include "axon/model_file.h"
#include "commands.h"
#include "data_source.h"

namespace axon::cli {

namespace {

double weight_megabytes(const Model& model) {
  double bytes = 0;
  for (const NamedParameter& p : model.named_parameters())
    bytes += static_cast<double>(p.variable.value().numel() * dtype_size(p.variable.value().dtype()));
  return bytes / 1e6;
}

// The share of rows whose largest output is at the same index in both.
double same_class(const Tensor& a, const Tensor& b) {
  const int64_t n = a.dim(0), k = a.numel() / std::max<int64_t>(n, 1);
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *ra = a.data<float>() + i * k, *rb = b.data<float>() + i * k;
    same += std::max_element(ra, ra + k) - ra == std::max_element(rb, rb + k) - rb;
  }
  return n ? static_cast<double>(same) / static_cast<double>(n) : 1.0;
}

}  // namespace

void add_quantize(CLI::App& app) {
  struct Options {
    std::string model, data, out;
    int64_t batch_size = 256;
    std::optional<double> rescale;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Write a model's int8 form (Dense and Conv2D weights per channel); compare it on labelled data");
  cmd->add_option("--model", options->model, "Model file (.safetensors or .onnx)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->out, "The int8 model file to write")->required();
  cmd->add_option("--data", options->data,
                  "Labelled data to compare the two on: fashion-mnist[:train|:test], idx:..., csv:..., npy:...");
  add_rescale_option(cmd, options->rescale);
  cmd->add_option("--batch-size", options->batch_size, "Examples per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([options] {
    std::shared_ptr<Model> model = load_model(options->model);
    std::shared_ptr<Model> int8 = quantize(*model);
    std::printf("weights: %.2f MB float32 -> %.2f MB int8\n", weight_megabytes(*model), weight_megabytes(*int8));
    if (!options->data.empty()) {
      LabeledData data = load_labeled(options->data, "test", options->rescale);
      data.x = as_model_input(data.x, *model);
      if (model->compiled()) {
        const Logs before = model->evaluate(data.x, data.y, options->batch_size);
        const Logs after = int8->evaluate(data.x, data.y, options->batch_size);
        std::printf("%-24s %10s %10s\n", "", "float32", "int8");
        for (const auto& [name, value] : before.items())
          std::printf("%-24s %10.4f %10.4f\n", name.c_str(), value, after.at(name));
      }
      const std::vector<Tensor> a = model->predict(data.x, options->batch_size);
      const std::vector<Tensor> b = int8->predict(data.x, options->batch_size);
      for (size_t k = 0; k < a.size(); ++k)
        std::printf("output %zu: the same largest value on %.2f%% of %lld examples\n", k, 100 * same_class(a[k], b[k]),
                    static_cast<long long>(a[k].dim(0)));
    }
    save_model(*int8, options->out);
    std::fprintf(stderr, "saved %s\n", options->out.c_str());
  });
}

}  // namespace axon::cli
