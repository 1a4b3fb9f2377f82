#include "axon/threads.h"

#include <omp.h>
#include <sched.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "axon/error.h"

extern "C" void openblas_set_num_threads(int threads);

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
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) > 0) return CPU_COUNT(&allowed);
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

// Read on first use (every kernel asks before it runs), so a bad AXON_NUM_THREADS is an
// Error at the first call rather than a crash at load time.
int& current_threads() {
  static int threads = [] {
    const int n = default_threads();
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
    return n;
  }();
  return threads;
}

}  // namespace

void set_num_threads(int threads) {
  if (threads < 1) fail("set_num_threads: expected >= 1, got ", threads);
  current_threads() = threads;
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

int num_threads() { return current_threads(); }

}  // namespace axon
