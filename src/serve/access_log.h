#pragma once
// One line per answered request, as web servers write them:
//   2026-12-01T03:04:11.123Z 127.0.0.1:52114 "POST /v2/models/mlp/infer" 200 181 0.000412
// time (UTC), client, method and target, status, response body bytes, seconds from the
// request's first byte to its response written. Lines are whole even from many threads.
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace axon::serve {

class AccessLog {
 public:
  explicit AccessLog(const std::string& path);  // "-": standard output; a file is appended to
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(std::string_view client, std::string_view method, std::string_view target, int status, uint64_t bytes,
             double seconds);

 private:
  std::FILE* file_;
  bool owned_;
  std::mutex mutex_;
};

}  // namespace axon::serve
