"""Single-sample predict latency of the Fashion-MNIST MLP 784-256-128-10 (softmax output) in
PyTorch from Python, numpy in as axon's predict takes it: `net(torch.from_numpy(x[:1]))` under
no_grad, the PyTorch side of bench/python.sh's predict row (training is bench/mlp_torch.py).
Prints: torch threads=N predict_us=...   (median microseconds per call)
Usage: /usr/bin/python3 bench/python_torch.py THREADS   (through lib.sh's torch_env)
"""
import statistics
import sys
import time

import numpy as np
import torch

threads = int(sys.argv[1])
torch.set_num_threads(threads)
net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                          torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1)).eval()
x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
with torch.no_grad():
    for _ in range(200):  # warm-up
        net(torch.from_numpy(x[:1]))
    times = []
    for _ in range(2000):
        start = time.perf_counter()
        net(torch.from_numpy(x[:1]))
        times.append(time.perf_counter() - start)
print(f"torch threads={threads} predict_us={statistics.median(times) * 1e6:.2f}")
