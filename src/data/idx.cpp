// IDX reader. The format (yann.lecun.com/exdb/mnist): bytes 0 0 <type> <rank>, then
// `rank` big-endian uint32 dimensions, then the values, big-endian, row-major.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "axon/checked_math.h"
#include "axon/readers.h"
#include "axon/regular_file.h"
#include "kernels/parallel.h"

namespace axon {

namespace {

constexpr size_t kChunk = size_t{1} << 20;

struct IdxType {
  uint8_t code;
  const char* name;
  size_t size;
};
constexpr IdxType kTypes[] = {{0x08, "ubyte", 1}, {0x09, "byte", 1},  {0x0B, "short", 2},
                              {0x0C, "int", 4},   {0x0D, "float", 4}, {0x0E, "double", 8}};

// Reads a plain or gzip file front to back; gzip is detected by its magic bytes 1f 8b.
// Gzip is inflated here with zlib's z_stream rather than gzread, which silently
// ignores bytes after the last gzip member: trailing garbage is refused instead.
// Several concatenated gzip members (what `cat a.gz b.gz` makes) are one stream.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path), file_(path, "read_idx") {
    unsigned char magic[2] = {0, 0};
    const size_t got = file_.read(magic, 2);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      gzip_ = true;
      if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail("read_idx: ", path, ": cannot start zlib");
      input_.resize(kChunk);
      input_[0] = magic[0], input_[1] = magic[1];
      stream_.next_in = input_.data();
      stream_.avail_in = 2;
    } else {
      pending_.assign(magic, magic + got);
    }
  }
  ~ByteSource() {
    if (gzip_) inflateEnd(&stream_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  bool gzip() const { return gzip_; }
  uint64_t file_size() const { return file_.size(); }

  // Reads up to n bytes; fewer only at the end of the data. Throws on read errors.
  size_t read(void* buffer, size_t n) {
    auto* out = static_cast<unsigned char*>(buffer);
    size_t total = std::min(n, pending_.size());
    std::copy_n(pending_.begin(), total, out);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(total));
    if (!gzip_) return total + file_.read(out + total, n - total);
    while (total < n && !ended_) total += inflate_some(out + total, n - total);
    return total;
  }

  // After a short read of gzip data: why it ended ("" when the stream simply ended).
  std::string gzip_end_reason() const { return gzip_ && !stream_complete_ ? " (gzip: unexpected end of file)" : ""; }

 private:
  // Inflates up to n bytes into out, refilling the input as needed.
  size_t inflate_some(unsigned char* out, size_t n) {
    if (stream_.avail_in == 0) {
      stream_.next_in = input_.data();
      stream_.avail_in = static_cast<uInt>(file_.read(input_.data(), input_.size()));
      if (stream_.avail_in == 0) {  // end of the file
        ended_ = true;
        return 0;
      }
    }
    if (stream_complete_) {  // a member ended and more bytes follow: another member or garbage
      if (stream_.avail_in >= 1 && stream_.next_in[0] != 0x1f)
        fail("read_idx: ", path_, ": bad gzip stream (trailing data after the compressed data)");
      if (stream_.avail_in >= 2 && stream_.next_in[1] != 0x8b)
        fail("read_idx: ", path_, ": bad gzip stream (trailing data after the compressed data)");
      inflateReset(&stream_);
      stream_complete_ = false;
    }
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(std::min<size_t>(n, kChunk));
    const uInt before = stream_.avail_out;
    const int code = inflate(&stream_, Z_NO_FLUSH);
    if (code == Z_STREAM_END) {
      stream_complete_ = true;
    } else if (code != Z_OK && code != Z_BUF_ERROR) {
      fail("read_idx: ", path_, ": corrupt gzip data: ", stream_.msg ? stream_.msg : zError(code));
    }
    return before - stream_.avail_out;
  }

  std::string path_;
  RegularFile file_;
  bool gzip_ = false, ended_ = false, stream_complete_ = false;
  z_stream stream_{};
  std::vector<unsigned char> input_, pending_;
};

uint32_t load_u32_be(const unsigned char* p);

// "(d0, d1, ...)" of the header's raw dimensions.
std::string dims_text(const std::vector<unsigned char>& dim_bytes) {
  std::string text = "(";
  for (size_t i = 0; i < dim_bytes.size(); i += 4) text += (i ? ", " : "") + std::to_string(load_u32_be(&dim_bytes[i]));
  return text + ")";
}

std::string hex_byte(unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", byte);
  return text;
}

uint32_t load_u32_be(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Big-endian value of type T at p, as float.
template <class T>
float load_be(const unsigned char* p) {
  unsigned char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = p[sizeof(T) - 1 - i];
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return static_cast<float>(value);
}

template <class T>
void convert(const unsigned char* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = load_be<T>(in + static_cast<size_t>(i) * sizeof(T));
}

}  // namespace

Tensor read_idx(const std::string& path) {
  ByteSource source(path);
  const char* what = source.gzip() ? "decompressed data" : "file";

  unsigned char magic[4];
  if (source.read(magic, 4) != 4) fail("read_idx: ", path, " is too short for an IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    fail("read_idx: ", path, " is not an IDX file: it starts with bytes ", hex_byte(magic[0]), " ", hex_byte(magic[1]),
         ", expected 0x00 0x00");
  const IdxType* type = nullptr;
  for (const IdxType& t : kTypes)
    if (t.code == magic[2]) type = &t;
  if (!type)
    fail("read_idx: ", path, ": unknown IDX data type ", hex_byte(magic[2]),
         " (known: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)");
  const int rank = magic[3];
  if (rank == 0) fail("read_idx: ", path, ": rank 0; an IDX file needs at least one dimension");

  const uint64_t header_bytes = 4 + 4 * static_cast<uint64_t>(rank);
  std::vector<unsigned char> dim_bytes(4 * static_cast<size_t>(rank));
  const size_t got_dims = source.read(dim_bytes.data(), dim_bytes.size());
  if (got_dims != dim_bytes.size())
    fail("read_idx: ", path, " is truncated: the header of a rank-", rank, " file needs ", header_bytes, " bytes, the ",
         what, " has ", 4 + got_dims);
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  int64_t data_bytes = static_cast<int64_t>(type->size);
  for (int i = 0; i < rank; ++i) {
    dims[static_cast<size_t>(i)] = load_u32_be(&dim_bytes[4 * static_cast<size_t>(i)]);
    data_bytes = checked_mul(data_bytes, dims[static_cast<size_t>(i)], "read_idx: ", path,
                             ": the dimensions in the header overflow: ", dims_text(dim_bytes), " of ", type->name);
  }
  const Shape shape(dims);
  const uint64_t expected = header_bytes + static_cast<uint64_t>(data_bytes);
  auto truncated = [&](uint64_t actual, const std::string& reason) {
    fail("read_idx: ", path, " is truncated: the header promises ", expected, " bytes (", shape, " of ", type->name,
         "), the ", what, " has ", actual, reason);
  };
  // A plain file's size is known up front: check it before allocating anything.
  if (!source.gzip()) {
    if (source.file_size() < expected) truncated(source.file_size(), "");
    if (source.file_size() > expected)
      fail("read_idx: ", path, " has ", source.file_size() - expected, " bytes of trailing data after the ", expected,
           " the header promises (", shape, " of ", type->name, ")");
  }

  // Read the data in chunks as it arrives (gzip's size is unknown until the end), so
  // that memory follows the data actually present, not the header's promise. Every
  // chunk but the last is full, and kChunk is a multiple of every type size: no value
  // straddles two chunks.
  const size_t total = static_cast<size_t>(data_bytes);
  std::vector<std::vector<unsigned char>> chunks;
  size_t have = 0;
  while (have < total) {
    std::vector<unsigned char> chunk(std::min(kChunk, total - have));
    const size_t got = source.read(chunk.data(), chunk.size());
    have += got;
    if (got < chunk.size()) break;
    chunks.push_back(std::move(chunk));
  }
  if (have < total) truncated(header_bytes + have, source.gzip_end_reason());
  unsigned char extra;
  if (source.read(&extra, 1) != 0)
    fail("read_idx: ", path, ": the ", what, " continues after the ", expected, " bytes the header promises (", shape,
         " of ", type->name, ")");
  const std::string end_reason = source.gzip_end_reason();
  if (!end_reason.empty()) fail("read_idx: ", path, ": bad gzip stream", end_reason);

  Tensor out = Tensor::empty(shape);
  float* values = out.data<float>();
  const int64_t per_chunk = static_cast<int64_t>(kChunk / type->size);
  kernels::parallel_for(static_cast<int64_t>(chunks.size()), per_chunk, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const std::vector<unsigned char>& chunk = chunks[static_cast<size_t>(c)];
      const int64_t n = static_cast<int64_t>(chunk.size() / type->size);
      float* to = values + c * per_chunk;
      switch (type->code) {
        case 0x08:
          for (int64_t i = 0; i < n; ++i) to[i] = chunk[static_cast<size_t>(i)];
          break;
        case 0x09:
          convert<int8_t>(chunk.data(), to, n);
          break;
        case 0x0B:
          convert<int16_t>(chunk.data(), to, n);
          break;
        case 0x0C:
          convert<int32_t>(chunk.data(), to, n);
          break;
        case 0x0D:
          convert<float>(chunk.data(), to, n);
          break;
        default:
          convert<double>(chunk.data(), to, n);
          break;
      }
    }
  });
  return out;
}

}  // namespace axon
