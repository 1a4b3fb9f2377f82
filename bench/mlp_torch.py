"""The same MLP, data, initialisation and optimiser as bench/mlp_axon.cpp, in PyTorch.

Prints: torch threads=N epoch_seconds=[...] median=... test_accuracy=... peak_rss_mb=...
Usage: /usr/bin/python3 bench/mlp_torch.py EPOCHS THREADS [SEED]
"""
import gzip
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

DATA = os.environ.get("AXON_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    epochs, threads = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    x_train = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
    y_train = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x_test = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
    y_test = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):  # Keras's glorot_uniform and zeros, as axon
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), 128):
            batch = order[i:i + 128]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch threads={threads} epoch_seconds=[{','.join(f'{s:.3f}' for s in seconds)}] "
          f"median={statistics.median(seconds):.3f} test_accuracy={accuracy:.4f} peak_rss_mb={rss:.0f}")


main()
