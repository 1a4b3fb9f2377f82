// axon on an ONNX file (load_onnx): median milliseconds of predict at a batch size on
// the threads AXON_NUM_THREADS gives. Prints "axon model=NAME batch=B ms=X".
// Usage: bench_onnx FILE BATCH
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "axon/axon.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_onnx FILE BATCH\n");
    return 2;
  }
  const std::string path = argv[1];
  const int64_t batch = std::stoll(argv[2]);
  std::shared_ptr<axon::Functional> model = axon::load_onnx(path);
  const axon::Shape example = model->input_shapes().at(0);
  std::vector<int64_t> dims{batch};
  for (int64_t d : example.dims()) dims.push_back(d);
  const axon::Tensor x = axon::Generator(0).normal(axon::Shape(dims), 0.0, 1.0);
  std::vector<double> times;
  for (int i = 0; i < (batch == 1 ? 60 : 25); ++i) {
    const auto start = std::chrono::steady_clock::now();
    const axon::Tensor y = model->predict(x, batch);
    if (i >= 5)
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2), times.end());
  std::printf("axon model=%s batch=%lld ms=%.3f\n", std::filesystem::path(path).filename().c_str(),
              static_cast<long long>(batch), times[times.size() / 2]);
}
