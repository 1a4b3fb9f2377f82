#include "io/onnx_tensor.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "axon/checked_math.h"
#include "axon/regular_file.h"

namespace axon::detail {

namespace {

namespace fs = std::filesystem;

// The external file's bytes [offset, offset + needed), from a location that must stay
// inside the model's folder (no absolute path, no "..", no link that leads out).
std::string external_bytes(const onnx::TensorProto& proto, const OnnxTensorSource& source, const std::string& what,
                           uint64_t needed) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto& entry : proto.external_data()) {
    auto number = [&](const std::string& text) {
      if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
        fail(what, ": external data ", entry.key(), " '", text, "' is not a non-negative integer");
      return std::stoll(text);
    };
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = number(entry.value());
    else if (entry.key() == "length")
      length = number(entry.value());
  }
  if (source.folder.empty()) fail(what, ": external data needs the model's file (its folder holds the data)");
  if (location.empty()) fail(what, ": external data without a location");
  const fs::path relative(location);
  if (relative.is_absolute() || location.find('\\') != std::string::npos)
    fail(what, ": external data location '", location, "' is absolute; it must name a file in the model's folder");
  for (const fs::path& part : relative)
    if (part == "..") fail(what, ": external data location '", location, "' leaves the model's folder");
  std::error_code ec;
  const fs::path folder = fs::weakly_canonical(source.folder, ec);
  const fs::path file = fs::weakly_canonical(fs::path(source.folder) / relative, ec);
  const auto [end, ignored] = std::mismatch(folder.begin(), folder.end(), file.begin(), file.end());
  if (ec || end != folder.end()) fail(what, ": external data location '", location, "' leaves the model's folder");
  if (length >= 0 && static_cast<uint64_t>(length) != needed)
    fail(what, ": external data length ", length, " bytes, its shape needs ", needed);

  RegularFile in(file.string(), what + ": external data");
  if (static_cast<uint64_t>(offset) > in.size() || in.size() - static_cast<uint64_t>(offset) < needed)
    fail(in.name(), ": ", in.size(), " bytes, too short for ", needed, " bytes at offset ", offset);
  if (::lseek(in.fd(), offset, SEEK_SET) != offset) fail(in.name(), ": cannot seek to ", offset);
  std::string bytes(needed, '\0');
  in.read_exact(bytes.data(), bytes.size(), "tensor data");
  return bytes;
}

// Copies `count` values of a typed repeated field into `out` as T.
template <class T, class Field>
void copy_values(const Field& field, T* out) {
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

}  // namespace

std::string onnx_type_name(int32_t data_type) {
  return onnx::TensorProto::DataType_IsValid(data_type)
             ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(data_type))
             : "type " + std::to_string(data_type);
}

Tensor tensor_from_onnx(const onnx::TensorProto& proto, const OnnxTensorSource& source, const std::string& what) {
  // The element type as stored, and what axon holds it as.
  size_t stored_size = 0;
  DType dtype = DType::f32;
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      stored_size = 4;
      break;
    case onnx::TensorProto::DOUBLE:
      stored_size = 8;
      break;
    case onnx::TensorProto::INT32:
      stored_size = 4, dtype = DType::i32;
      break;
    case onnx::TensorProto::INT64:
      stored_size = 8, dtype = DType::i64;
      break;
    case onnx::TensorProto::BOOL:
      stored_size = 1, dtype = DType::i32;
      break;
    default:
      fail(what, ": element type ", onnx_type_name(proto.data_type()), " is not supported");
  }
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0) fail(what, ": negative dimension ", d);
    count = checked_mul(count, d, what, ": the element count");
    dims.push_back(d);
  }
  if (count > source.max_elements) fail(what, ": ", count, " elements, more than the limit of ", source.max_elements);
  if (proto.has_segment()) fail(what, ": segmented tensors are not supported");
  const uint64_t needed = static_cast<uint64_t>(count) * stored_size;

  std::string external;
  const std::string* raw = proto.has_raw_data() ? &proto.raw_data() : nullptr;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    external = external_bytes(proto, source, what, needed);
    raw = &external;
  }
  if (raw && raw->size() != needed) fail(what, ": holds ", raw->size(), " bytes, its shape needs ", needed);
  // Typed values: the raw bytes, or the proto's typed field, whose count must be the shape's.
  const auto read = [&](auto* out, const auto& field) {
    if (raw) {
      std::memcpy(out, raw->data(), needed);
      return;
    }
    if (static_cast<int64_t>(field.size()) != count)
      fail(what, ": holds ", field.size(), " values, its shape needs ", count);
    copy_values(field, out);
  };

  Tensor tensor = Tensor::empty(Shape(dims), dtype);
  if (count == 0) return tensor;
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      read(tensor.data<float>(), proto.float_data());
      break;
    case onnx::TensorProto::DOUBLE: {
      std::vector<double> values(static_cast<size_t>(count));
      read(values.data(), proto.double_data());
      for (int64_t i = 0; i < count; ++i) tensor.data<float>()[i] = static_cast<float>(values[i]);
      break;
    }
    case onnx::TensorProto::INT32:
      read(tensor.data<int32_t>(), proto.int32_data());
      break;
    case onnx::TensorProto::INT64:
      read(tensor.data<int64_t>(), proto.int64_data());
      break;
    case onnx::TensorProto::BOOL:  // one byte each in raw_data, one int32 each in int32_data
      if (raw)
        for (int64_t i = 0; i < count; ++i) tensor.data<int32_t>()[i] = (*raw)[static_cast<size_t>(i)] != 0;
      else
        read(tensor.data<int32_t>(), proto.int32_data());
      break;
  }
  return tensor;
}

}  // namespace axon::detail
