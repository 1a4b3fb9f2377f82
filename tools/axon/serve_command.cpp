// axon serve: load model files (or a model repository) and serve them until SIGTERM or
// SIGINT, then finish the requests in flight and exit 0.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>

#include "axon/inference_server.h"
#include "axon/model_file.h"
#include "commands.h"

namespace axon::cli {

namespace {

// "name=path" or "path" (named after the file).
std::pair<std::string, std::string> named_model(const std::string& argument) {
  const size_t equals = argument.find('=');
  if (equals != std::string::npos) return {argument.substr(0, equals), argument.substr(equals + 1)};
  return {std::filesystem::path(argument).stem().string(), argument};
}

}  // namespace

void add_serve(CLI::App& app) {
  struct Options {
    std::vector<std::string> models;
    std::string model_dir;
    ServerOptions server;
    RepositoryOptions repository;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve model files over HTTP (Open Inference Protocol v2 and TensorFlow Serving REST)");
  auto* models =
      cmd->add_option("--model", options->models, "A model file to serve, as PATH or NAME=PATH (repeatable)");
  auto* dir = cmd->add_option("--model-dir", options->model_dir,
                              "Serve every .safetensors and .onnx file in this folder, named after the file")
                  ->check(CLI::ExistingDirectory);
  models->excludes(dir);
  auto* repository =
      cmd->add_option("--model-repository", options->repository.path,
                      "Serve DIR/<name>/<version>/model.safetensors (or model.onnx), watching it for new and removed versions")
          ->check(CLI::ExistingDirectory)
          ->excludes(models)
          ->excludes(dir);
  cmd->add_option("--version-policy", options->repository.version_policy,
                  "Versions of each repository model to serve: latest:N, all or specific:V1,V2")
      ->needs(repository)
      ->capture_default_str();
  cmd->add_option("--repository-poll-ms", options->repository.poll_ms,
                  "How often to look for new and removed versions (0: never)")
      ->needs(repository)
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--allow-model-control", options->repository.allow_model_control,
                "Allow POST /v2/repository/models/{m}/load and /unload")
      ->needs(repository);
  cmd->add_option("--host", options->server.host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", options->server.port, "Port (0: any free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--grpc-port", options->server.grpc_port,
                  "Also serve OIP v2 over gRPC on this port (0: any free one; -1: no gRPC)")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  cmd->add_option("--max-batch", options->server.max_batch, "Rows per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch-timeout-us", options->server.batch_timeout_us, "How long a batch waits for more requests")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-body", options->server.max_body_bytes, "Largest request body in bytes (413 above)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-queue", options->server.max_queue, "Queued rows per model before 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", options->server.threads,
                  "I/O threads for HTTP and for gRPC (reading, parsing and answering requests); 0: one per core")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-connections", options->server.max_connections,
                  "Open connections at most; beyond it new ones get 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", options->server.max_header_bytes,
                  "Largest request line and headers in bytes (431 above)")
      ->check(CLI::Range(int64_t{256}, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--request-timeout-ms", options->server.request_timeout_ms,
                  "Time a request may take to arrive, first byte to last")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--idle-timeout-ms", options->server.idle_timeout_ms,
                  "Time a keep-alive connection may sit idle between requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--access-log", options->server.access_log,
                  "Append a line per request to this file ('-': standard output)");
  cmd->callback([options] {
    std::vector<std::pair<std::string, std::string>> files;
    for (const std::string& argument : options->models) {
      files.push_back(named_model(argument));
      if (!std::filesystem::is_regular_file(files.back().second))
        throw CLI::ValidationError("--model", "no such file: " + files.back().second);
    }
    if (!options->model_dir.empty()) {
      const std::filesystem::path root = std::filesystem::canonical(options->model_dir);
      for (const auto& entry : std::filesystem::directory_iterator(root)) {
        if (entry.path().extension() != ".safetensors" && entry.path().extension() != ".onnx") continue;
        const std::filesystem::path real = std::filesystem::canonical(entry.path());
        if (real.parent_path() != root) fail("--model-dir: ", entry.path().string(), " points outside ", root.string());
        files.emplace_back(entry.path().stem().string(), real.string());
      }
    }
    if (files.empty() && options->repository.path.empty())
      throw CLI::ValidationError("--model", "give a model (--model, --model-dir or --model-repository)");
    // Each connection is a descriptor: let the server have as many as the hard limit allows.
    rlimit descriptors{};
    if (getrlimit(RLIMIT_NOFILE, &descriptors) == 0 && descriptors.rlim_cur < descriptors.rlim_max) {
      descriptors.rlim_cur = descriptors.rlim_max;
      setrlimit(RLIMIT_NOFILE, &descriptors);
    }

    // Signals are taken by sigwait below, so block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    InferenceServer server(options->server);
    for (const auto& [name, path] : files) {
      std::shared_ptr<Model> model = load_model(path);
      if (model->input_shapes().empty()) fail(path, ": the model has no input shape");
      server.add_model(name, model);
      std::fprintf(stderr, "serving %s from %s\n", name.c_str(), path.c_str());
    }
    if (!options->repository.path.empty()) server.add_repository(options->repository);
    const int port = server.start();
    std::fprintf(stderr, "listening on http://%s:%d\n", options->server.host.c_str(), port);
    if (server.grpc_port() >= 0)
      std::fprintf(stderr, "listening for gRPC on %s:%d\n", options->server.host.c_str(), server.grpc_port());
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    std::fprintf(stderr, "%s: finishing requests in flight\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    server.shutdown();
  });
}

}  // namespace axon::cli
