"""The CNN of bench/cnn_axon.cpp in PyTorch: same network, data, initialisation
(glorot-uniform kernels, zero biases), optimiser, batch size and inference timing.

Prints: torch threads=N epoch_seconds=[...] median=... test_accuracy=...
        infer1_images_per_s=... infer256_images_per_s=... peak_rss_mb=...
Usage: /usr/bin/python3 bench/cnn_torch.py EPOCHS THREADS [SEED] [TRAIN_IMAGES]
"""
import gzip
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

DATA = os.environ.get("AXON_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def images(name):
    return torch.from_numpy(idx(name, 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)


def inference_rate(model, x, batch, count):
    """Images per second at `batch`, the median of 5 passes over `count` images."""
    x = x[:count]
    rates = []
    with torch.no_grad():
        model(x[:batch])
        for _ in range(5):
            start = time.perf_counter()
            for i in range(0, count, batch):
                model(x[i:i + batch])
            rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    epochs, threads = int(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    train_images = int(sys.argv[4]) if len(sys.argv) > 4 else 60000
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train = images("train-images-idx3-ubyte.gz")[:train_images]
    y_train = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))[:train_images]
    x_test = images("t10k-images-idx3-ubyte.gz")
    y_test = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))

    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):  # Keras's glorot_uniform and zeros, as axon
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

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
    model.eval()
    with torch.no_grad():
        accuracy = sum((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
                       for i in range(0, len(x_test), 1000)) / len(x_test)
    profiling = train_images < 60000
    infer1 = 0 if profiling else inference_rate(model, x_test, 1, 2000)
    infer256 = 0 if profiling else inference_rate(model, x_test, 256, 10000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch threads={threads} epoch_seconds=[{','.join(f'{s:.3f}' for s in seconds)}] "
          f"median={statistics.median(seconds):.3f} test_accuracy={accuracy:.4f} "
          f"infer1_images_per_s={infer1:.0f} infer256_images_per_s={infer256:.0f} peak_rss_mb={rss:.0f}")


main()
