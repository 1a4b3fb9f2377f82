#include "axon/threads.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "axon/error.h"
#include "kernels/thread_pool.h"

extern "C" {
void openblas_set_num_threads(int threads);
// OpenBLAS built for several CPUs (DYNAMIC_ARCH, as Debian's) chooses its kernels at
// load time; weak, so that another BLAS links too.
char* openblas_get_corename() __attribute__((weak));
void gotoblas_dynamic_init() __attribute__((weak));
void gotoblas_dynamic_quit() __attribute__((weak));
}

namespace axon {

namespace {

int default_threads() {
  if (const char* env = std::getenv("AXON_NUM_THREADS")) {
    try {
      size_t used = 0;
      const int n = std::stoi(env, &used);
      if (used == std::string(env).size() && n >= 1) return n;
    } catch (const std::exception&) {}
    fail("AXON_NUM_THREADS: expected a positive integer, got '", env, "'");
  }
  // The cores this process may run on: mpirun binds each rank to its own core(s), and
  // taskset or a container's cpuset narrows them too.
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) > 0) cores = CPU_COUNT(&allowed);
  // A container limited to a share of the CPU time (cgroup v2 cpu.max "150000 100000":
  // 1.5 cores) gets as many threads as the share rounds up to.
  std::ifstream quota_file("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (quota_file >> quota >> period && quota != "max" && period > 0) {
    const double share = std::atof(quota.c_str()) / period;
    if (share > 0) cores = std::min(cores, std::max(1, static_cast<int>(std::ceil(share))));
  }
  return cores < 1 ? 1 : cores;
}

// OpenBLAS 0.3.21 (Debian 12) picks its kernels by CPU model, and a model newer than it
// knows (this project's machines report "Intel Xeon Processor", with AVX-512) gets its
// generic SSE3 kernels, "Prescott": a 1024^3 SGEMM ran at 32 GFLOP/s on one core with
// them, 83 with Haswell's (AVX2) and 157 with SkylakeX's (AVX-512). When OpenBLAS fell
// back to Prescott on a CPU that has more, choose again as OPENBLAS_CORETYPE would
// (setting it for this process); a user's OPENBLAS_CORETYPE is left alone.
void choose_blas_kernels() {
  if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
  if (std::getenv("OPENBLAS_CORETYPE") || std::string(openblas_get_corename()) != "Prescott") return;
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!avx512 && !avx2) return;
  setenv("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
}

// Read on first use (every kernel asks before it runs), so a bad AXON_NUM_THREADS is an
// Error at the first call rather than a crash at load time.
int& current_threads() {
  static int threads = [] {
    choose_blas_kernels();
    // OpenBLAS runs each call on one thread: axon cuts a large GEMM into blocks for its
    // own pool (kernels/gemm.cpp), so no second pool of threads spins beside it.
    openblas_set_num_threads(1);
    return default_threads();
  }();
  return threads;
}

}  // namespace

void set_num_threads(int threads) {
  if (threads < 1) fail("set_num_threads: expected >= 1, got ", threads);
  current_threads() = threads;
  kernels::ThreadPool::instance().resize(threads);
}

int num_threads() { return current_threads(); }

std::string blas_kernels() {
  num_threads();  // makes the choice
  return openblas_get_corename ? openblas_get_corename() : "";
}

}  // namespace axon
