#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "axon/error.h"

namespace axon::cli {

namespace {

// Writes all of bytes to fd; the errno of the failure, or 0.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    if (written == 0) return EIO;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

}  // namespace

void write_output_file(const std::string& path, std::string_view bytes, const std::string& option) {
  // O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of hanging.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0666);
  if (fd < 0) fail(option, " ", path, ": cannot open for writing: ", std::strerror(errno));
  struct stat info {};
  const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  if (regular) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int error = write_all(fd, bytes);
  if (error == 0 && regular && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    if (regular) ::unlink(path.c_str());  // no short file that looks like a result
    fail(option, " ", path, ": write failed: ", std::strerror(error));
  }
}

void write_stdout(std::string_view bytes) {
  std::fflush(stdout);
  const int error = write_all(STDOUT_FILENO, bytes);
  if (error != 0) fail("standard output: write failed: ", std::strerror(error));
}

}  // namespace axon::cli
