#pragma once
// The one setting for how many threads axon uses: its thread pool, GEMM included.
// Defaults to the environment variable AXON_NUM_THREADS, else the cores the process may
// run on: its CPU affinity (all of them, unless mpirun, taskset or a cpuset narrows
// it), capped by a container's CPU quota (cgroup v2 cpu.max, rounded up).
//
// On a shared machine: work is cut into several chunks per thread that threads claim
// as they come free, so a thread the OS deschedules does not hold up the others, and
// idle threads sleep after a short spin (50 us; AXON_SPIN_US sets it).
#include <string>

namespace axon {

void set_num_threads(int threads);  // threads >= 1
int num_threads();
// The OpenBLAS kernels GEMM runs ("SkylakeX", "Haswell", ...; empty for another BLAS).
// Where OpenBLAS does not know the CPU and falls back to its generic SSE3 kernels, axon
// picks those the CPU supports, as OPENBLAS_CORETYPE would (5x the GEMM speed on
// AVX-512 machines OpenBLAS 0.3.21 does not recognise).
std::string blas_kernels();

}  // namespace axon
