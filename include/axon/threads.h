#pragma once
// The one setting for how many threads axon uses, for OpenBLAS and OpenMP alike.
// Defaults to the environment variable AXON_NUM_THREADS, else the cores the process may
// run on (its CPU affinity: all of them, unless mpirun, taskset or a cpuset narrows it).
// GEMM is never called inside an OpenMP parallel region, so the two pools never
// run at once and the cores are not oversubscribed.
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
