"""axon from Python on the Fashion-MNIST MLP 784-256-128-10 of bench/mlp_axon.cpp (glorot-uniform
weights, Adam 1e-3, batch 128, shuffled), the axon side of bench/python.sh:
  - seconds per training epoch of the Sequential, timed as bench_mlp times them (a callback's
    on_epoch_begin/on_epoch_end in one fit), and fit's own cost outside the epochs;
  - the same for the MLP as a Model subclassed in Python (its call() runs in Python every batch);
  - single-sample predict latency, model.predict(x[:1], batch_size=1), median microseconds per call.
Epoch medians are bench_mlp's: the upper middle of an even count.
Prints: axon_python threads=N epoch_seconds=[...] median=... fit_overhead_s=... test_accuracy=...
        subclass_epoch_seconds=[...] subclass_median=... batches=469 predict_us=...
Usage: AXON_NUM_THREADS=T PYTHONPATH=build/python /usr/bin/python3 bench/python_axon.py EPOCHS [SEED]
"""
import statistics
import sys
import time

import numpy as np

import axon

Dense = axon.layers.Dense
BATCH = 128


class EpochTimer:  # not a Callback subclass: with no batch hooks, fit calls no Python per batch
    def __init__(self):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


class SubclassedMLP(axon.Model):
    def __init__(self):
        super().__init__()
        self.hidden1 = Dense(256, activation="relu")
        self.hidden2 = Dense(128, activation="relu")
        self.out = Dense(10, activation="softmax")

    def call(self, x):
        return self.out(self.hidden2(self.hidden1(x)))


def train(model, x, y, epochs, seed):
    """Epoch seconds and fit's seconds outside them."""
    model.compile(optimizer=axon.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer], seed=seed)
    return timer.seconds, time.perf_counter() - start - sum(timer.seconds)


def predict_us(model, x, calls=2000):
    sample = x[:1]
    for _ in range(200):  # warm-up
        model.predict(sample, batch_size=1)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict(sample, batch_size=1)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def seconds_list(seconds):
    return "[" + ",".join(f"{s:.3f}" for s in seconds) + "]"


def main():
    epochs = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    (x_train, y_train), (x_test, y_test) = axon.datasets.fashion_mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
    x_test = x_test.reshape(-1, 784).astype(np.float32) / 255

    axon.manual_seed(seed)
    sequential = axon.Sequential([axon.Input(shape=(784,)), Dense(256, activation="relu"),
                                  Dense(128, activation="relu"), Dense(10, activation="softmax")])
    seq_seconds, overhead = train(sequential, x_train, y_train, epochs, seed)
    accuracy = sequential.evaluate(x_test, y_test, batch_size=1000, return_dict=True)["accuracy"]

    axon.manual_seed(seed)
    sub_seconds, _ = train(SubclassedMLP(), x_train, y_train, epochs, seed)

    print(f"axon_python threads={axon.num_threads()} epoch_seconds={seconds_list(seq_seconds)} "
          f"median={statistics.median_high(seq_seconds):.3f} fit_overhead_s={overhead:.3f} test_accuracy={accuracy:.4f} "
          f"subclass_epoch_seconds={seconds_list(sub_seconds)} subclass_median={statistics.median_high(sub_seconds):.3f} "
          f"batches={-(-len(x_train) // BATCH)} predict_us={predict_us(sequential, x_train):.2f}")


main()
