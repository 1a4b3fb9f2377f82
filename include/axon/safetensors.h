#pragma once
// safetensors files (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header, then raw little-endian data.
//   {"__metadata__": {"key": "value"},
//    "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// The reader checks everything before it allocates, and answers a bad or hostile
// file with Error, never a crash. The format holds no code.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "axon/tensor.h"

namespace axon {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;                 // in data order
  std::map<std::string, std::string> metadata;      // "__metadata__"
  const Tensor& at(const std::string& name) const;  // throws naming the missing tensor
};

// The bytes of a file holding `tensors` (in this order) and `metadata`. The header
// lists "__metadata__" first, then the tensors in order, padded with spaces to a
// multiple of 8 bytes.
std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});  // atomically

// What a file may ask for, checked against the header before any tensor is allocated.
struct SafetensorsLimits {
  uint64_t max_file_bytes = uint64_t{16} << 30;   // 16 GiB
  uint64_t max_tensor_bytes = uint64_t{4} << 30;  // 4 GiB for any one tensor
};

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source);
SafetensorsFile load_safetensors(const std::string& path, const SafetensorsLimits& limits = {});

}  // namespace axon
