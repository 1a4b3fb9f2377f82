#pragma once
// Size arithmetic that fails instead of overflowing. Sizes from files, specs and the
// command line can be anything; a product that wraps (undefined behaviour for int64)
// would allocate too little or loop zero times. Check sizes once, where they are
// computed, never per element in a hot loop. The `what` parts are only streamed on
// failure: pass objects (a Shape, a path), not strings built for the call:
//   const int64_t taps = checked_mul(kh, kw, "Conv2D: kernel size");
//   -> "Conv2D: kernel size: 4611686018427387904 * 4611686018427387904 overflows int64"
#include <cstdint>

#include "axon/error.h"

namespace axon {

template <class... What>
int64_t checked_mul(int64_t a, int64_t b, const What&... what) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) fail(what..., ": ", a, " * ", b, " overflows int64");
  return product;
}

template <class... What>
int64_t checked_add(int64_t a, int64_t b, const What&... what) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) fail(what..., ": ", a, " + ", b, " overflows int64");
  return sum;
}

template <class... What>
int64_t checked_sub(int64_t a, int64_t b, const What&... what) {
  int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) fail(what..., ": ", a, " - ", b, " overflows int64");
  return difference;
}

}  // namespace axon
