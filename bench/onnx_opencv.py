"""OpenCV's dnn module on an ONNX file: median milliseconds of a forward pass at a batch
size, on THREADS threads. Prints "opencv model=NAME batch=B ms=X".
Usage: python3 bench/onnx_opencv.py FILE BATCH THREADS"""
import os
import statistics
import sys
import time

import cv2
import numpy as np

path, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cv2.setNumThreads(threads)
net = cv2.dnn.readNetFromONNX(path)
shape = (1, 28, 28) if "fashion" in path else (3, 32, 32)
x = np.random.default_rng(0).standard_normal((batch,) + shape).astype(np.float32)
times = []
for i in range(60 if batch == 1 else 25):
    start = time.perf_counter()
    net.setInput(x)
    net.forward()
    if i >= 5:  # after warming up
        times.append(time.perf_counter() - start)
print(f"opencv model={os.path.basename(path)} batch={batch} ms={statistics.median(times) * 1e3:.3f}")
