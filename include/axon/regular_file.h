#pragma once
// Opening a file that may be hostile, for reading. A FIFO blocks open() forever,
// /dev/zero never ends, a folder fails half-way: every reader (safetensors, model
// specs, IDX, CSV, NPY, the CLI's inputs) opens through here. The file is opened
// non-blocking, fstat must show a regular file, and its size must be within the
// reader's limit, all before a single byte is read.
//   RegularFile file(path, "read_npy");          // "read_npy: x.npy: not a regular file"
//   std::string text = read_regular_file(path, "", 64 << 20);
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace axon {

class RegularFile {
 public:
  static constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

  // `who` prefixes errors ("" for none); a file over `max_bytes` is refused.
  RegularFile(const std::string& path, const std::string& who, uint64_t max_bytes = kNoLimit);
  ~RegularFile();
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  uint64_t size() const { return size_; }  // as fstat saw it when opened
  int fd() const { return fd_; }
  // Reads up to n bytes; fewer only at the end of the file. Throws on a read error.
  size_t read(void* buffer, size_t n);
  // Reads exactly n bytes or throws "<who>: <path>: cannot read the <what>".
  void read_exact(void* buffer, size_t n, const char* what);
  // The prefix of this file's errors: "<who>: <path>" (or "<path>").
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole file, after the checks above.
std::string read_regular_file(const std::string& path, const std::string& who, uint64_t max_bytes);

}  // namespace axon
