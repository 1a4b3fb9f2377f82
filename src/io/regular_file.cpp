#include "axon/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "axon/error.h"

namespace axon {

RegularFile::RegularFile(const std::string& path, const std::string& who, uint64_t max_bytes)
    : name_(who.empty() ? path : who + ": " + path) {
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) fail(name_, ": cannot open: ", std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int error = errno;
    ::close(fd_);
    fail(name_, ": cannot stat: ", std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd_);
    fail(name_, ": not a regular file",
         S_ISDIR(info.st_mode)    ? " (a folder)"
         : S_ISFIFO(info.st_mode) ? " (a pipe)"
                                  : "");
  }
  size_ = static_cast<uint64_t>(info.st_size);
  if (size_ > max_bytes) {
    ::close(fd_);
    fail(name_, ": ", size_, " bytes is over the limit of ", max_bytes, " bytes");
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);  // plain blocking reads from here on
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t RegularFile::read(void* buffer, size_t n) {
  auto* out = static_cast<char*>(buffer);
  size_t total = 0;
  while (total < n) {
    const ssize_t got = ::read(fd_, out + total, n - total);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(name_, ": read error: ", std::strerror(errno));
    if (got == 0) break;
    total += static_cast<size_t>(got);
  }
  return total;
}

void RegularFile::read_exact(void* buffer, size_t n, const char* what) {
  if (read(buffer, n) != n) fail(name_, ": cannot read the ", what, " (the file ended early)");
}

std::string read_regular_file(const std::string& path, const std::string& who, uint64_t max_bytes) {
  RegularFile file(path, who, max_bytes);
  std::string text(static_cast<size_t>(file.size()), '\0');
  text.resize(file.read(text.data(), text.size()));  // a file that shrank since fstat gives what is there
  char extra;
  if (file.read(&extra, 1) != 0) fail(file.name(), ": grew while it was read");
  return text;
}

}  // namespace axon
