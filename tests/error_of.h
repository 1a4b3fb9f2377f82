#pragma once
// The message of the axon::Error that f throws ("" and a test failure if it throws none).
#include <gtest/gtest.h>

#include <string>

#include "axon/error.h"

namespace axon::test_support {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an axon::Error";
  return "";
}

}  // namespace axon::test_support
