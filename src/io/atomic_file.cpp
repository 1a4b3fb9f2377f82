#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "axon/error.h"

namespace axon {

namespace {

[[noreturn]] void fail_errno(const std::string& path, const char* what, int error) {
  fail(path, ": ", what, ": ", std::strerror(error));
}

void fsync_folder(const std::string& folder, const std::string& path) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) fail_errno(path, "cannot open its folder to sync", errno);
  const int result = ::fsync(fd), error = errno;
  ::close(fd);
  if (result != 0 && error != EINVAL) fail_errno(path, "cannot sync its folder", error);
}

// Removes temporary files that an earlier writer of the same target left behind when
// it was killed (SIGKILL runs no cleanup): exactly ".<name>.tmp-" plus the 6 characters
// mkstemp puts there, regular files owned by us, in the target's folder. Nothing else
// is touched: not other targets' temp files, not files that merely look similar.
void remove_stale_temp_files(const std::string& folder, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    const std::string file = entry.path().filename().string();
    if (file.size() != prefix.size() + 6 || file.compare(0, prefix.size(), prefix) != 0) continue;
    if (!std::all_of(file.end() - 6, file.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
      continue;
    struct stat info {};
    if (::lstat(entry.path().c_str(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_uid != ::geteuid()) continue;
    ::unlink(entry.path().c_str());
  }
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write) {
  if (path.empty()) fail("write_file_atomically: empty path");
  const std::filesystem::path target(path);
  const std::string folder = target.has_parent_path() ? target.parent_path().string() : ".";
  remove_stale_temp_files(folder, target.filename().string());
  std::string temp = (std::filesystem::path(folder) / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) fail_errno(path, "cannot create a temporary file beside it", errno);
  std::FILE* file = ::fdopen(fd, "wb");
  if (!file) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    fail_errno(path, "cannot open a temporary file", error);
  }
  try {
    errno = 0;  // so a failed write reports its own cause, not a stale one
    write(file);
    if (std::ferror(file) || std::fflush(file) != 0) fail_errno(path, "cannot write", errno ? errno : EIO);
    ::fchmod(::fileno(file), 0644);  // mkstemp makes 0600; a model file is ordinary data
    if (::fsync(::fileno(file)) != 0) fail_errno(path, "cannot sync", errno);
    const int closed = std::fclose(file), error = errno;
    file = nullptr;
    if (closed != 0) fail_errno(path, "cannot close", error);
    if (std::rename(temp.c_str(), path.c_str()) != 0)
      fail_errno(path, "cannot rename the temporary file over it", errno);
  } catch (...) {
    if (file) std::fclose(file);
    ::unlink(temp.c_str());
    throw;
  }
  fsync_folder(folder, path);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  write_file_atomically(path, [&](std::FILE* file) { std::fwrite(bytes.data(), 1, bytes.size(), file); });
}

}  // namespace axon
