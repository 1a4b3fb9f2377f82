// gRPC load generator for bench/serve.sh: STREAMS threads share one channel (one HTTP/2
// connection, STREAMS concurrent streams), each sending ModelInfer with one random
// 784-pixel image as raw_input_contents for SECONDS. Prints one line:
//   grpc streams=16 requests/s=... p50_ms=... p99_ms=... errors=...
// Usage: bench_grpc_load HOST:PORT MODEL SECONDS STREAMS
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grpc_service.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s HOST:PORT MODEL SECONDS STREAMS\n", argv[0]);
    return 2;
  }
  const std::string target = argv[1], model = argv[2];
  const double seconds = std::stod(argv[3]);
  const int streams = std::stoi(argv[4]);
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = inference::GRPCInferenceService::NewStub(channel);

  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* input = request.add_inputs();
  input->set_name("input");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(784);
  std::vector<float> pixels(784);
  std::mt19937 generator(1);
  for (float& p : pixels) p = std::uniform_real_distribution<float>(0, 1)(generator);
  request.add_raw_input_contents(std::string(reinterpret_cast<const char*>(pixels.data()), pixels.size() * 4));

  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(streams));
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < streams; ++t)
    threads.emplace_back([&, t] {
      while (std::chrono::steady_clock::now() < end) {
        grpc::ClientContext context;
        inference::ModelInferResponse response;
        const auto start = std::chrono::steady_clock::now();
        const grpc::Status status = stub->ModelInfer(&context, request, &response);
        latencies[static_cast<size_t>(t)].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        if (!status.ok() || response.raw_output_contents_size() != 1) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto percentile = [&](double q) { return all.empty() ? 0 : all[static_cast<size_t>(q * (all.size() - 1))]; };
  std::printf("grpc streams=%d requests/s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%lld\n", streams,
              static_cast<double>(all.size()) / seconds, percentile(0.5), percentile(0.99),
              static_cast<long long>(errors.load()));
  return errors > 0 ? 1 : 0;
}
