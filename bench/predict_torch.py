"""Single-sample predict latency of the Fashion-MNIST MLP in PyTorch, from Python,
the comparison for bench_predict (bench/predict.sh). Prints the median microseconds per call."""
import statistics
import time

import torch

torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                            torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1)).eval()
x = torch.rand(1, 784)
with torch.no_grad():
    for _ in range(1000):
        model(x)
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(1000):
            model(x)
        samples.append((time.perf_counter() - start) / 1000 * 1e6)
print(f"{statistics.median(samples):.2f}")  # microseconds
