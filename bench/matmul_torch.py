"""PyTorch's matmul on the same shapes as matmul_axon.cpp; prints GFLOP/s (median of runs).

Usage: OPENBLAS_NUM_THREADS=N python3 bench/matmul_torch.py N
Debian's torch runs GEMM through the system BLAS (OpenBLAS), whose threads
torch.set_num_threads does not govern: the caller sets OPENBLAS_NUM_THREADS too.
"""
import statistics
import sys
import time

import torch


def gflops(m, k, n, trans_a, threads, seconds=0.5):
    torch.set_num_threads(threads)
    a = torch.rand(k, m) if trans_a else torch.rand(m, k)
    b = torch.rand(k, n)
    op = (lambda: a.t() @ b) if trans_a else (lambda: a @ b)
    op()
    rates = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(rates) < 5:
        start = time.perf_counter()
        op()
        rates.append(2 * m * n * k / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


threads = int(sys.argv[1])
for m, k, n, trans_a in ((128, 784, 256, 0), (784, 128, 256, 1), (1024, 1024, 1024, 0)):
    print(f"{m} {k} {n} {trans_a} {threads} {gflops(m, k, n, trans_a, threads):.1f}")
sys.stdout.flush()
