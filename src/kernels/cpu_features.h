#pragma once
// What the CPU running this process can do, asked once: the kernels with an AVX-512 path
// take it only where this says so (they are compiled for it with target attributes).

namespace axon::kernels {

inline bool has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

}  // namespace axon::kernels
