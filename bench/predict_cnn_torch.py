"""Batch-64 inference of the Fashion-MNIST CNN (bench/cnn_axon.cpp's network) in PyTorch,
float32 and int8 (static post-training quantization, oneDNN engine: per-channel int8
weights, activations calibrated on 640 images), the comparison for bench_predict's CNN
runs (bench/predict.sh). Prints: torch threads=N cnn64_fp32_images_per_s=... cnn64_int8_images_per_s=...
Usage: /usr/bin/python3 bench/predict_cnn_torch.py THREADS"""
import statistics
import sys
import time

import torch
from torch import nn
from torch.ao import quantization as tq


def network():
    return nn.Sequential(tq.QuantStub(), nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10), tq.DeQuantStub()).eval()


def images_per_s(model, x):
    """The median of 20 timed passes of 10 batches, after a warm-up."""
    rates = []
    with torch.no_grad():
        for _ in range(10):
            model(x)
        for _ in range(20):
            start = time.perf_counter()
            for _ in range(10):
                model(x)
            rates.append(10 * x.shape[0] / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28)
    fp32 = network()
    torch.backends.quantized.engine = "onednn"
    int8 = network()
    int8.load_state_dict(fp32.state_dict())
    int8 = tq.fuse_modules(int8, [["1", "2"], ["4", "5"], ["8", "9"]])
    int8.qconfig = tq.get_default_qconfig("onednn")
    tq.prepare(int8, inplace=True)
    with torch.no_grad():
        for _ in range(10):
            int8(torch.rand(64, 1, 28, 28))
    tq.convert(int8, inplace=True)
    print(f"torch threads={threads} cnn64_fp32_images_per_s={images_per_s(fp32, x):.0f} "
          f"cnn64_int8_images_per_s={images_per_s(int8, x):.0f}")


main()
