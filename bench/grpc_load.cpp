// gRPC load generator for bench/serve.sh: STREAMS calls kept in flight on one channel
// (one HTTP/2 connection) by gRPC's callback API, each call sending ModelInfer with one
// random 784-pixel image as raw_input_contents, for SECONDS; a finished call starts the
// next on its stream. Asynchronous, like wrk and Triton's perf_analyzer, so that client
// thread switches do not cap the figure. Prints one line:
//   grpc streams=16 requests/s=... p50_ms=... p99_ms=... errors=...
// Usage: bench_grpc_load HOST:PORT MODEL SECONDS STREAMS [live]
// With `live`, the calls are ServerLive instead: gRPC's own cost per call, no model.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "grpc_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

// One stream: a call in flight at a time, restarted from its own completion callback.
struct Stream {
  inference::GRPCInferenceService::Stub* stub;
  const inference::ModelInferRequest* request;
  Clock::time_point end;
  std::unique_ptr<grpc::ClientContext> context;
  inference::ModelInferResponse response;
  bool live_only;
  inference::ServerLiveRequest live_request;
  inference::ServerLiveResponse live_response;
  Clock::time_point start;
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  bool finished = false;
  std::mutex* mutex;
  std::condition_variable* all_done;

  void call() {
    context = std::make_unique<grpc::ClientContext>();
    response.Clear();
    start = Clock::now();
    if (live_only)
      stub->async()->ServerLive(context.get(), &live_request, &live_response, [this](grpc::Status s) { done(s); });
    else
      stub->async()->ModelInfer(context.get(), request, &response, [this](grpc::Status s) { done(s); });
  }
  void done(const grpc::Status& status) {
    const auto now = Clock::now();
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - start).count());
    if (!status.ok() || (live_only ? !live_response.live() : response.raw_output_contents_size() != 1)) ++errors;
    if (now < end) return call();
    std::lock_guard<std::mutex> lock(*mutex);
    finished = true;
    all_done->notify_one();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && !(argc == 6 && std::string(argv[5]) == "live")) {
    std::fprintf(stderr, "usage: %s HOST:PORT MODEL SECONDS STREAMS [live]\n", argv[0]);
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

  std::mutex mutex;
  std::condition_variable all_done;
  const auto begin = Clock::now();
  const auto end = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<Stream> pool(static_cast<size_t>(streams));
  for (Stream& s : pool) {
    s.stub = stub.get();
    s.request = &request;
    s.end = end;
    s.mutex = &mutex;
    s.all_done = &all_done;
    s.live_only = argc == 6;
  }
  for (Stream& s : pool) s.call();
  {
    std::unique_lock<std::mutex> lock(mutex);
    all_done.wait(lock,
                  [&] { return std::all_of(pool.begin(), pool.end(), [](const Stream& s) { return s.finished; }); });
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  std::vector<double> all;
  int64_t errors = 0;
  for (const Stream& s : pool) {
    all.insert(all.end(), s.latencies_ms.begin(), s.latencies_ms.end());
    errors += s.errors;
  }
  std::sort(all.begin(), all.end());
  const auto percentile = [&](double q) { return all.empty() ? 0 : all[static_cast<size_t>(q * (all.size() - 1))]; };
  std::printf("grpc%s streams=%d requests/s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%lld\n", argc == 6 ? "-live" : "",
              streams, static_cast<double>(all.size()) / elapsed, percentile(0.5), percentile(0.99),
              static_cast<long long>(errors));
  return errors > 0 ? 1 : 0;
}
