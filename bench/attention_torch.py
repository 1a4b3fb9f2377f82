"""The same causal self-attention forward and backward pass as bench/attention_axon.cpp in
PyTorch (1.13 has no fused attention: matmul, masked_fill, softmax, matmul, as its
nn.MultiheadAttention computes it), median milliseconds after a warm-up.
Prints "torch steps=T threads=N ms=X". Usage: /usr/bin/python3 bench/attention_torch.py THREADS STEPS [RUNS]"""
import statistics
import sys
import time

import torch

threads, steps = int(sys.argv[1]), int(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
torch.set_num_threads(threads)
torch.manual_seed(1)
batch, heads, dim = 32, 4, 32
q, k, v = (torch.randn(batch, heads, steps, dim, requires_grad=True) for _ in range(3))
weights = torch.randn(batch, heads, steps, dim)
hidden = torch.triu(torch.ones(steps, steps, dtype=torch.bool), diagonal=1)
ms = []
for i in range(runs + 1):
    start = time.perf_counter()
    scores = (q @ k.transpose(-2, -1)) * dim**-0.5
    out = torch.softmax(scores.masked_fill(hidden, float("-inf")), dim=-1) @ v
    out.backward(weights)
    for x in (q, k, v):
        x.grad = None
    if i > 0:
        ms.append((time.perf_counter() - start) * 1e3)
print(f"torch steps={steps} threads={threads} ms={statistics.median(ms):.2f}")
