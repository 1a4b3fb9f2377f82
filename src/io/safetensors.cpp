#include "axon/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "axon/regular_file.h"
#include "io/atomic_file.h"

namespace axon {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

using json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeader = 100'000'000;  // bytes, as the reference implementation
constexpr int kMaxDepth = 64;

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by data offset
  std::map<std::string, std::string> metadata;
};

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
    case DType::i8:
      return "I8";
    case DType::f32:
      break;
  }
  return "F32";
}

// JSON strings must be UTF-8; nlohmann would throw its own exception on dump.
void check_utf8(const std::string& text, const char* what) {
  try {
    (void)json(text).dump();
  } catch (const json::exception&) {
    fail("safetensors: ", what, " is not valid UTF-8");
  }
}

DType axon_dtype(const std::string& dtype, const std::string& name, const std::string& source) {
  if (dtype == "F32") return DType::f32;
  if (dtype == "F64") return DType::f64;
  if (dtype == "I32") return DType::i32;
  if (dtype == "I64") return DType::i64;
  if (dtype == "I8") return DType::i8;
  static const std::set<std::string> known = {"F16", "BF16", "F8_E4M3", "F8_E5M2", "I16",
                                              "U8",  "U16",  "U32",     "U64",     "BOOL"};
  if (known.contains(dtype))
    fail(source, ": dtype '", dtype, "' of tensor '", name, "' is not supported (F32, F64, I32, I64 and I8 are)");
  fail(source, ": tensor '", name, "' has unknown dtype '", dtype, "'");
}

uint64_t to_u64(const json& value, const std::string& what, const std::string& source) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0))
    fail(source, ": ", what, " must be a non-negative integer, got ", value.dump());
  return value.get<uint64_t>();
}

// Parses and checks the JSON header against a data section of `data_size` bytes.
Header parse_header(std::string_view text, uint64_t data_size, const std::string& source) {
  // Reject deep nesting and duplicate keys while parsing, before any DOM is built: one
  // key set per open object (none for arrays).
  std::vector<std::set<std::string>> open_objects;
  std::vector<bool> open_is_object;
  const auto guard = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (open_is_object.size() >= kMaxDepth) fail(source, ": header JSON is nested deeper than ", kMaxDepth);
        open_is_object.push_back(event == json::parse_event_t::object_start);
        if (open_is_object.back()) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (open_is_object.back()) open_objects.pop_back();
        open_is_object.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second)
          fail(source, ": header has the key '", parsed.get<std::string>(), "' twice");
        break;
      default:
        break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), guard);
  } catch (const json::exception& e) {
    fail(source, ": header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(source, ": header is not a JSON object");

  Header result;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(source, ": __metadata__ must be an object of strings");
      for (const auto& [key, text_value] : value.items()) {
        if (!text_value.is_string()) fail(source, ": __metadata__ value of '", key, "' is not a string");
        result.metadata[key] = text_value.get<std::string>();
      }
      continue;
    }
    if (name.empty()) fail(source, ": a tensor has an empty name");
    if (!value.is_object() || value.size() != 3 || !value.contains("dtype") || !value.contains("shape") ||
        !value.contains("data_offsets"))
      fail(source, ": tensor '", name, "' must have exactly dtype, shape and data_offsets");
    if (!value["dtype"].is_string()) fail(source, ": dtype of tensor '", name, "' is not a string");
    const DType dtype = axon_dtype(value["dtype"].get<std::string>(), name, source);
    const json& shape = value["shape"];
    if (!shape.is_array()) fail(source, ": shape of tensor '", name, "' is not a list");
    std::vector<int64_t> dims;
    uint64_t bytes = dtype_size(dtype);
    for (const json& d : shape) {
      const uint64_t dim = to_u64(d, "a dimension of tensor '" + name + "'", source);
      if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(bytes, dim, &bytes))
        fail(source, ": shape ", shape.dump(), " of tensor '", name, "' is too large");
      dims.push_back(static_cast<int64_t>(dim));
    }
    const json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
      fail(source, ": data_offsets of tensor '", name, "' must be [begin, end]");
    const uint64_t begin = to_u64(offsets[0], "data_offsets of '" + name + "'", source);
    const uint64_t end = to_u64(offsets[1], "data_offsets of '" + name + "'", source);
    if (end < begin || end - begin != bytes)
      fail(source, ": data_offsets [", begin, ", ", end, "] of tensor '", name, "' do not hold ", bytes,
           " bytes of shape ", shape.dump());
    result.entries.push_back({name, dtype, Shape(dims), begin, end});
  }
  // Data order; zero-size tensors that share an offset keep their header order.
  std::stable_sort(result.entries.begin(), result.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  uint64_t expected = 0;
  for (const Entry& e : result.entries) {
    if (e.begin != expected)
      fail(source, ": tensor '", e.name, "' starts at byte ", e.begin, " of the data, expected ", expected,
           " (a gap or an overlap)");
    expected = e.end;
  }
  if (expected != data_size)
    fail(source, ": the tensors cover ", expected, " bytes but the data section has ", data_size);
  return result;
}

uint64_t read_u64_le(const char* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, 8);
  return value;
}

// Splits a file of `file_size` bytes into its header length, checking the bounds.
uint64_t header_length(const char* first8, uint64_t file_size, const std::string& source) {
  if (file_size < 8) fail(source, ": too short for a safetensors file (", file_size, " bytes)");
  const uint64_t n = read_u64_le(first8);
  if (n > kMaxHeader) fail(source, ": header length ", n, " is over the ", kMaxHeader, "-byte limit");
  if (n > file_size - 8) fail(source, ": header length ", n, " runs past the end of the file (", file_size, " bytes)");
  return n;
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return t.tensor;
  fail("safetensors: no tensor named '", name, "'");
}

std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  for (const auto& [key, value] : metadata) {
    check_utf8(key, "a metadata key");
    check_utf8(value, ("metadata value of '" + key + "'").c_str());
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const NamedTensor& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") fail("safetensors: invalid tensor name '", t.name, "'");
    if (!names.insert(t.name).second) fail("safetensors: tensor name '", t.name, "' given twice");
    check_utf8(t.name, "a tensor name");
    if (!t.tensor.defined()) fail("safetensors: tensor '", t.name, "' is undefined");
    const uint64_t bytes = static_cast<uint64_t>(t.tensor.numel()) * dtype_size(t.tensor.dtype());
    header[t.name] = {{"dtype", safetensors_dtype(t.tensor.dtype())},
                      {"shape", t.tensor.shape().dims()},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.reserve(out.size() + offset);
  for (const NamedTensor& t : tensors)
    out.append(static_cast<const char*>(t.tensor.raw()),
               static_cast<size_t>(t.tensor.numel()) * dtype_size(t.tensor.dtype()));
  return out;
}

void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string bytes = serialize_safetensors(tensors, metadata);
  write_file_atomically(path, bytes);
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source) {
  const uint64_t n = header_length(bytes.data(), bytes.size(), source);
  const Header header = parse_header(bytes.substr(8, n), bytes.size() - 8 - n, source);
  SafetensorsFile file{{}, header.metadata};
  const char* data = bytes.data() + 8 + n;
  for (const Entry& e : header.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw(), data + e.begin, e.end - e.begin);
    file.tensors.push_back({e.name, t});
  }
  return file;
}

SafetensorsFile load_safetensors(const std::string& path, const SafetensorsLimits& limits) {
  RegularFile in(path, "", limits.max_file_bytes);  // a FIFO or a device is refused before any read
  const uint64_t file_size = in.size();
  char first8[8] = {};
  in.read(first8, std::min<uint64_t>(8, file_size));
  const uint64_t n = header_length(first8, file_size, path);
  std::string text(n, '\0');
  if (in.read(text.data(), n) != n) fail(path, ": cannot read the header");
  const Header header = parse_header(text, file_size - 8 - n, path);
  for (const Entry& e : header.entries)
    if (e.end - e.begin > limits.max_tensor_bytes)
      fail(path, ": tensor '", e.name, "' holds ", e.end - e.begin, " bytes; the limit is ", limits.max_tensor_bytes);
  SafetensorsFile file{{}, header.metadata};
  for (const Entry& e : header.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin && in.read(t.raw(), e.end - e.begin) != e.end - e.begin)
      fail(path, ": cannot read the data of tensor '", e.name, "'");
    file.tensors.push_back({e.name, t});
  }
  return file;
}

}  // namespace axon
