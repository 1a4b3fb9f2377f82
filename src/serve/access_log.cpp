#include "access_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "axon/error.h"

namespace axon::serve {

AccessLog::AccessLog(const std::string& path)
    : file_(path == "-" ? stdout : std::fopen(path.c_str(), "a")), owned_(path != "-") {
  if (!file_) fail("access log: cannot open ", path, ": ", std::strerror(errno));
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

void AccessLog::write(std::string_view client, std::string_view method, std::string_view target, int status,
                      uint64_t bytes, double seconds) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t whole = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char time[32];
  std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  // Targets are client bytes: quotes, control characters and non-ASCII are escaped, so
  // one request is always one line that cannot forge another.
  std::string safe_target;
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      safe_target += escaped;
    } else {
      safe_target += c;
    }
  }
  std::lock_guard lock(mutex_);
  std::fprintf(file_, "%s.%03dZ %.*s \"%.*s %s\" %d %llu %.6f\n", time, static_cast<int>(millis),
               static_cast<int>(client.size()), client.data(), static_cast<int>(method.size()), method.data(),
               safe_target.c_str(), status, static_cast<unsigned long long>(bytes), seconds);
  std::fflush(file_);
}

}  // namespace axon::serve
