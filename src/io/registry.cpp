#include "axon/registry.h"

#include <cxxabi.h>

#include <cstdlib>

namespace axon {

std::string demangle(const char* mangled_name) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled_name, nullptr, nullptr, &status);
  std::string name = status == 0 && readable ? readable : mangled_name;
  std::free(readable);
  return name;
}

}  // namespace axon
