#pragma once
// The inference server: serves models over HTTP/1.1 with the Open Inference Protocol v2
// (KServe, Triton) and TensorFlow Serving's REST API, batching concurrent requests per
// model version. Event-driven (a few I/O threads for thousands of connections); secure
// defaults: binds 127.0.0.1, bounded headers, bodies (however framed), request time,
// idle time, connections, JSON depth and queues. See docs/serving.md.
//   GET  /v2/health/live, /v2/health/ready, /v2
//   GET  /v2/models/{m}[/versions/{v}], /v2/models/{m}[/versions/{v}]/ready
//   POST /v2/models/{m}[/versions/{v}]/infer   (FP32; FP16, FP64, INT*, UINT* range-checked
//                                              and converted to FP32; outputs by name)
//   GET  /v1/models/{m}[/versions/{v}]   POST /v1/models/{m}[/versions/{v}]:predict
//   POST /v2/repository/index, /v2/repository/models/{m}/load|unload  (model control)
//   GET  /metrics           (Prometheus text)
// No version: the newest loaded. Errors are {"error": "..."}: 400 bad request, 404
// unknown model, version or path, 405 wrong method, 413 body too large, 431 header too
// large, 503 queue full, too many connections or shutting down. With grpc_port, the same
// models answer KServe's inference.GRPCInferenceService (ModelInfer, raw contents too).
#include <memory>
#include <string>

#include "axon/model.h"

namespace axon {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port
  int64_t max_batch = 64;             // rows per forward pass
  int64_t batch_timeout_us = 0;       // extra wait for company; 0: batch what queued while the model ran
  int64_t max_body_bytes = 64 << 20;  // larger bodies get 413, chunked or not, and are not read on
  int64_t max_queue = 1024;           // queued rows per model version; beyond it 503 at once
  // I/O threads, HTTP's and gRPC's each: they read, parse and answer requests, and run a
  // batch themselves when its model is idle. 0: num_threads(), the cores this process
  // may run on (more threads than cores only trade places on them).
  int threads = 0;
  int64_t max_connections = 4096;     // beyond it new connections get 503 and are closed
  int64_t max_header_bytes = 16 << 10;   // request line and headers; 431 above
  int64_t request_timeout_ms = 30'000;   // from a request's first byte to its last
  int64_t idle_timeout_ms = 60'000;      // a keep-alive connection between requests
  std::string access_log;  // a line per request appended to this file; "-": standard output; "": none
  int grpc_port = -1;      // OIP v2 over gRPC on this port as well (0: any free one); -1: no gRPC
};

// A model repository: DIR/<name>/<version>/model.safetensors (Triton's and TF Serving's layout).
struct RepositoryOptions {
  std::string path;
  std::string version_policy = "latest:1";  // or "latest:N", "all", "specific:1,3"
  int64_t poll_ms = 2000;                   // look for new and removed versions this often; 0: never
  bool allow_model_control = false;         // POST /v2/repository/models/{m}/load|unload
};

class InferenceServer {
 public:
  explicit InferenceServer(ServerOptions options = {});
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Serves a built model under `name` (as version 1), its inputs and outputs by their names
  // (Model::input_names / output_names). From now on only this server's batcher
  // thread uses the model.
  void add_model(const std::string& name, std::shared_ptr<Model> model);
  // input_shape(s): one example without the batch axis, per input (a single-input model
  // is built for it if it is not yet).
  void add_model(const std::string& name, std::shared_ptr<Model> model, const Shape& input_shape);
  void add_model(const std::string& name, std::shared_ptr<Model> model, const std::vector<Shape>& input_shapes);
  // Serves a repository's models as the version policy chooses, watching it for new and
  // removed versions; a version that fails to load is logged to standard error and skipped.
  void add_repository(const RepositoryOptions& repository);
  int start();      // binds and serves in the background; returns the HTTP port
  int grpc_port() const;  // the gRPC port once started (-1: no gRPC)
  void shutdown();  // readiness false at once, in-flight requests finish, then stop
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace axon
