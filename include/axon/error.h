#pragma once
// The one exception type axon throws for bad input: wrong shapes, bad values, bad files.
#include <sstream>
#include <stdexcept>
#include <string>

namespace axon {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable parts and throws Error:
//   fail("matmul: ", a.shape(), " x ", b.shape(), ": inner dimensions differ");
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

}  // namespace axon
