#pragma once
// A sum in eight running lanes, which the compiler keeps in one vector register (a plain
// float sum is one long serial chain and does not vectorise). Shared by the row passes
// of layer norm and attention's softmax.
#include <cstdint>

namespace axon::kernels {

// sum of f(i) over [0, n).
template <class T, class F>
T lane_sum(int64_t n, F&& f) {
  T lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int lane = 0; lane < 8; ++lane) lanes[lane] += f(i + lane);
  T total = 0;
  for (; i < n; ++i) total += f(i);
  for (T lane : lanes) total += lane;
  return total;
}

}  // namespace axon::kernels
