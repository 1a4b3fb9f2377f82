#pragma once
// The inference server: serves models over HTTP with the Open Inference Protocol v2
// (KServe, Triton) and TensorFlow Serving's REST API, batching concurrent requests
// per model. Secure defaults: binds 127.0.0.1, bounded bodies, bounded JSON depth,
// bounded queues (503 when full).
//   GET  /v2/health/live, /v2/health/ready, /v2, /v2/models/{m}, /v2/models/{m}/ready
//   POST /v2/models/{m}/infer         (FP32; FP16, FP64, INT*, UINT* converted to FP32;
//                                      every named input of the model; outputs by name)
//   GET  /v1/models/{m}     POST /v1/models/{m}:predict  ({"instances"} or columnar {"inputs"})
//   GET  /metrics           (Prometheus text)
// Errors are {"error": "..."}: 400 bad body, 404 unknown model or path, 405 wrong
// method, 413 body too large, 503 queue full or shutting down.
#include <memory>
#include <string>

#include "axon/model.h"

namespace axon {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port
  int64_t max_batch = 64;             // rows per forward pass
  int64_t batch_timeout_us = 0;       // extra wait for company; 0: batch what queued while the model ran
  int64_t max_body_bytes = 64 << 20;  // larger bodies get 413 before they are read
  int64_t max_queue = 1024;           // queued rows per model; beyond it 503 at once
  int threads = 128;                  // connection threads (a keep-alive connection holds one)
};

class InferenceServer {
 public:
  explicit InferenceServer(ServerOptions options = {});
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Serves a built model under `name`, its inputs and outputs by their names
  // (Model::input_names / output_names). From now on only this server's batcher
  // thread uses the model.
  void add_model(const std::string& name, std::shared_ptr<Model> model);
  // input_shape(s): one example without the batch axis, per input (a single-input model
  // is built for it if it is not yet).
  void add_model(const std::string& name, std::shared_ptr<Model> model, const Shape& input_shape);
  void add_model(const std::string& name, std::shared_ptr<Model> model, const std::vector<Shape>& input_shapes);
  int start();      // binds and serves in the background; returns the port
  void shutdown();  // readiness false at once, in-flight requests finish, then stop
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace axon
