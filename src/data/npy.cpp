// NPY reader and writer. The format (numpy.org/doc/stable/reference/generated/
// numpy.lib.format.html): "\x93NUMPY", major, minor, header length (u16 LE in v1, u32 LE
// in v2/v3), a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
// padded with spaces and ending in '\n', then the raw data.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "axon/checked_math.h"
#include "axon/readers.h"
#include "axon/regular_file.h"

namespace axon {

static_assert(std::endian::native == std::endian::little, "the NPY code assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr uint32_t kMaxHeader = 1 << 16;  // numpy's own reader refuses headers over 10000 bytes by default

struct NpyType {
  const char* descr;
  size_t size;
};
constexpr NpyType kTypes[] = {{"<f4", 4}, {"<f8", 8}, {"|u1", 1}, {"<i4", 4}, {"<i8", 8}, {"|i1", 1}, {"|b1", 1}};

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Parses the header's dict literal; throws naming the path on anything else.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string_view text) : path_(path), text_(text) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (skip_space(), peek() != '}') {
      const std::string key = string_literal();
      expect(':');
      bool* seen = key == "descr"           ? &seen_descr
                   : key == "fortran_order" ? &seen_order
                   : key == "shape"         ? &seen_shape
                                            : nullptr;
      if (!seen) bad("unknown key '" + key + "'");
      if (*seen) bad("duplicate key '" + key + "'");
      *seen = true;
      skip_space();
      if (key == "descr")
        header.descr = string_literal();
      else if (key == "fortran_order")
        header.fortran_order = boolean();
      else
        header.shape = tuple();
      skip_space();
      if (peek() == ',')
        ++pos_;
      else if (peek() != '}')
        bad("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) bad("text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape) bad("it needs the keys 'descr', 'fortran_order' and 'shape'");
    return header;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail("read_npy: ", path_, ": bad header (", why, " at character ", pos_, "): ", text_);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    if (text_.substr(pos_).starts_with("True")) return pos_ += 4, true;
    if (text_.substr(pos_).starts_with("False")) return pos_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (skip_space(), peek() != ')') {
      if (peek() < '0' || peek() > '9') bad("expected a dimension");
      int64_t dim = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(dim, 10, &dim) || __builtin_add_overflow(dim, peek() - '0', &dim))
          bad("dimension too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long
      dims.push_back(dim);
      skip_space();
      if (peek() == ',')
        ++pos_;
      else if (peek() != ')')
        bad("expected ',' or ')' in the shape");
    }
    ++pos_;
    return dims;
  }

  const std::string& path_;
  std::string_view text_;
  size_t pos_ = 0;
};

template <class In>
void convert_to_float(const unsigned char* raw, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    In value;
    std::memcpy(&value, raw + static_cast<size_t>(i) * sizeof(In), sizeof(In));
    out[i] = static_cast<float>(value);
  }
}

}  // namespace

Tensor read_npy(const std::string& path) {
  RegularFile file(path, "read_npy");  // a FIFO or a device is refused before any read
  const uint64_t file_size = file.size();

  unsigned char prefix[12];
  if (file_size < 10) fail("read_npy: ", path, " is too short for an NPY file (", file_size, " bytes)");
  file.read_exact(prefix, 8, "magic");
  if (std::memcmp(prefix, kMagic, kMagicSize) != 0)
    fail("read_npy: ", path, " is not an NPY file (no \\x93NUMPY magic)");
  const int major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) fail("read_npy: ", path, ": unsupported NPY version ", major, ".", minor);
  uint64_t prefix_size = 10;
  uint32_t header_size = 0;
  if (major == 1) {
    file.read_exact(prefix + 8, 2, "header length");
    header_size = uint32_t{prefix[8]} | uint32_t{prefix[9]} << 8;
  } else {
    prefix_size = 12;
    if (file_size < prefix_size) fail("read_npy: ", path, " is too short for an NPY v", major, " header");
    file.read_exact(prefix + 8, 4, "header length");
    header_size =
        uint32_t{prefix[8]} | uint32_t{prefix[9]} << 8 | uint32_t{prefix[10]} << 16 | uint32_t{prefix[11]} << 24;
  }
  if (header_size > kMaxHeader)
    fail("read_npy: ", path, ": header of ", header_size, " bytes is over the limit of ", kMaxHeader);
  if (prefix_size + header_size > file_size)
    fail("read_npy: ", path, " is truncated: the header needs ", prefix_size + header_size, " bytes, the file has ",
         file_size);
  std::string text(header_size, '\0');
  file.read_exact(text.data(), header_size, "header");
  const NpyHeader header = HeaderParser(path, text).parse();

  const NpyType* type = nullptr;
  for (const NpyType& t : kTypes)
    if (header.descr == t.descr) type = &t;
  if (!type)
    fail("read_npy: ", path, ": dtype '", header.descr,
         "' is not supported (supported: <f4 <f8 |u1 <i4 <i8 |i1 |b1, little-endian)");
  if (header.fortran_order) fail("read_npy: ", path, ": Fortran-order arrays are not supported; save with C order");
  int64_t data_bytes = static_cast<int64_t>(type->size);
  for (int64_t d : header.shape)
    data_bytes = checked_mul(data_bytes, d, "read_npy: ", path, ": shape in the header overflows");
  const Shape shape(header.shape);
  const uint64_t have = file_size - prefix_size - header_size;
  if (have != static_cast<uint64_t>(data_bytes))
    fail("read_npy: ", path, have < static_cast<uint64_t>(data_bytes) ? " is truncated" : " has trailing bytes", ": ",
         shape, " of ", header.descr, " needs ", data_bytes, " bytes of data, the file has ", have);

  // Floats and 32/64-bit integers keep their type (labels and token ids stay exact);
  // bytes and booleans become float32.
  const std::string_view descr = header.descr;
  const DType dtype = descr == "<f8"   ? DType::f64
                      : descr == "<i4" ? DType::i32
                      : descr == "<i8" ? DType::i64
                                       : DType::f32;
  Tensor out = Tensor::empty(shape, dtype);
  if (descr == "<f4" || descr == "<f8" || descr == "<i4" || descr == "<i8") {
    file.read_exact(out.raw(), static_cast<size_t>(data_bytes), "data");
    return out;
  }
  std::vector<unsigned char> raw(static_cast<size_t>(data_bytes));
  file.read_exact(raw.data(), raw.size(), "data");
  float* values = out.data<float>();
  const int64_t n = shape.numel();
  if (descr == "|u1")
    convert_to_float<uint8_t>(raw.data(), values, n);
  else if (descr == "|i1")
    convert_to_float<int8_t>(raw.data(), values, n);
  else
    for (int64_t i = 0; i < n; ++i) values[i] = raw[static_cast<size_t>(i)] != 0;  // |b1
  return out;
}

namespace {

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return "<f8";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::i8:
      return "|i1";
    case DType::f32:
      break;
  }
  return "<f4";
}

// write(2) all of `bytes`, retrying partial writes and EINTR.
bool write_all(int fd, const void* data, size_t bytes) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t written = ::write(fd, p, bytes);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += written;
    bytes -= static_cast<size_t>(written);
  }
  return true;
}

std::string npy_header(const Tensor& tensor) {
  std::string shape = "(";
  for (int64_t i = 0; i < tensor.rank(); ++i) shape += (i ? ", " : "") + std::to_string(tensor.dim(i));
  shape += tensor.rank() == 1 ? ",)" : ")";
  std::string dict =
      std::string("{'descr': '") + npy_descr(tensor.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // As numpy: pad with spaces so that magic + version + length + dict + '\n' is a multiple of 64.
  const size_t pad = 64 - (10 + dict.size() + 1) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  if (dict.size() > 65535) fail("write_npy: header too long for shape ", tensor.shape());
  std::string header(kMagic, kMagicSize);
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

}  // namespace

void write_npy(const std::string& path, const Tensor& tensor) {
  if (!tensor.defined()) fail("write_npy: ", path, ": the tensor is undefined");
  const std::string header = npy_header(tensor);
  const std::filesystem::path target(path);
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");

  // A unique temp name in the target's folder, so that rename() is atomic.
  static std::atomic<uint64_t> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    std::string name(1, '.');
    name += target.filename().string();
    name += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
    temp = (folder / name).string();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0)
    fail("write_npy: cannot write ", path, ": cannot create a file in ", folder.string(), ": ", std::strerror(errno));

  auto abandon = [&](const char* step) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    fail("write_npy: cannot write ", path, ": ", step, " failed: ", std::strerror(error));
  };
  const size_t data_bytes = static_cast<size_t>(tensor.numel()) * dtype_size(tensor.dtype());
  if (!write_all(fd, header.data(), header.size()) || !write_all(fd, tensor.raw(), data_bytes)) abandon("write");
  if (::fsync(fd) != 0) abandon("fsync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) abandon("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) abandon("rename");

  // Make the rename itself durable. Some file systems cannot fsync a folder (EINVAL).
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    fail("write_npy: ", path, " was written but its folder cannot be opened to sync it: ", std::strerror(errno));
  const int synced = ::fsync(dir);
  const int error = errno;
  ::close(dir);
  if (synced != 0 && error != EINVAL)
    fail("write_npy: ", path, " was written but syncing its folder failed: ", std::strerror(error));
}

}  // namespace axon
