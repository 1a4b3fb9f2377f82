// axon export: a model file as an ONNX file (see include/axon/onnx.h).
#include <cstdio>
#include <memory>

#include "axon/axon.h"
#include "axon/model_file.h"
#include "commands.h"

namespace axon::cli {

void add_export(CLI::App& app) {
  struct Options {
    std::string model, onnx;
    int64_t opset = kOnnxDefaultOpset;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("export", "Write a model as an ONNX file (standard operators, dynamic batch axis)");
  cmd->add_option("--model", options->model, "Model file (.safetensors or .onnx)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--onnx", options->onnx, "The ONNX file to write")->required();
  cmd->add_option("--opset", options->opset, "ONNX operator set, 13 to 17")->capture_default_str();
  cmd->callback([options] {
    std::shared_ptr<Model> model = load_model(options->model);
    save_onnx(*model, options->onnx, options->opset);
    std::printf("wrote %s (ONNX opset %lld, inputs and outputs: the model's)\n", options->onnx.c_str(),
                static_cast<long long>(options->opset));
  });
}

}  // namespace axon::cli
