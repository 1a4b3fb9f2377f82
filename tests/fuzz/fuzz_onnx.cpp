// libFuzzer target: onnx (see fuzz_entries.h). Built and run by scripts/fuzz.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return axon::fuzz::onnx(std::string_view(reinterpret_cast<const char*>(data), size));
}
