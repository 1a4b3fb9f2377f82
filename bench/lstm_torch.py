"""The same LSTM forward and backward pass as bench/lstm_axon.cpp in PyTorch (nn.LSTM,
batch_first): median milliseconds after a warm-up. Prints "torch threads=N ms=X".
Usage: /usr/bin/python3 bench/lstm_torch.py THREADS [RUNS]"""
import statistics
import sys
import time

import torch

threads = int(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
torch.set_num_threads(threads)
torch.manual_seed(1)
lstm = torch.nn.LSTM(64, 256, batch_first=True)
x = torch.randn(64, 128, 64)
ms = []
for i in range(runs + 1):
    start = time.perf_counter()
    out, _ = lstm(x)
    out.sum().backward()
    lstm.zero_grad()
    if i > 0:
        ms.append((time.perf_counter() - start) * 1e3)
print(f"torch threads={threads} ms={statistics.median(ms):.1f}")
