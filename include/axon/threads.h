#pragma once
// The one setting for how many threads axon uses, for OpenBLAS and OpenMP alike.
// Defaults to the environment variable AXON_NUM_THREADS, else the cores the process may
// run on (its CPU affinity: all of them, unless mpirun, taskset or a cpuset narrows it).
// GEMM is never called inside an OpenMP parallel region, so the two pools never
// run at once and the cores are not oversubscribed.
namespace axon {

void set_num_threads(int threads);  // threads >= 1
int num_threads();

}  // namespace axon
