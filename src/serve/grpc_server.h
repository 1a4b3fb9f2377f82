#pragma once
// The Open Inference Protocol v2 over gRPC (KServe's and Triton's
// inference.GRPCInferenceService, grpc_service.proto): ServerLive, ServerReady,
// ModelReady, ServerMetadata, ModelMetadata and ModelInfer, with typed contents or
// raw_input_contents, on its own port. It shares the HTTP server's model table (so its
// versions and batchers) and metrics.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace axon::serve {

class ModelTable;
class ServerMetrics;

class GrpcServer {
 public:
  // `ready` and `in_flight` are the HTTP server's: one readiness, one count to drain.
  // `threads` threads each poll a completion queue of their own.
  GrpcServer(ModelTable& table, ServerMetrics& metrics, const std::atomic<bool>& ready,
             std::atomic<int64_t>& in_flight, int threads, int64_t max_message_bytes);
  ~GrpcServer();  // stop()
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int start(const std::string& host, int port);  // port 0: any free one; returns the port
  void stop();  // waits (up to 30 s) for calls in flight, then refuses new ones

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace axon::serve
