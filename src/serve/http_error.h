#pragma once
// An error that becomes an HTTP response: a 4xx/5xx status and a message for
// {"error": "..."}.
#include <stdexcept>
#include <string>

namespace axon::serve {

struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

}  // namespace axon::serve
