"""The GIL is released while C++ trains; Ctrl-C ends fit between batches."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

from conftest import mlp


def test_other_python_threads_run_while_fit_trains():
    x = np.random.default_rng(0).normal(size=(40000, 4)).astype(np.float32)
    y = np.zeros(40000, dtype=np.int64)
    model = mlp(units=(256, 256))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ticks, done = [0], threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    start = time.monotonic()
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    elapsed = time.monotonic() - start
    done.set()
    counter.join()
    # With the GIL held for the whole fit, the counter would not run at all; released,
    # it ticks about once a millisecond (far fewer on a busy machine).
    assert elapsed > 0.2, "fit ended too soon to tell"
    assert ticks[0] > 0.05 * elapsed * 1000


PROGRAM = textwrap.dedent("""
    import os, signal, threading, time
    import numpy as np
    import axon
    x = np.random.default_rng(0).normal(size=(50000, 32)).astype(np.float32)
    y = np.zeros(50000, dtype=np.int64)
    model = axon.Sequential([axon.Input(shape=(32,)), axon.layers.Dense(256, activation="relu"),
                             axon.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    try:
        model.fit(x, y, epochs=1000, batch_size=32, verbose=0)
        print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted after %.1f s" % (time.monotonic() - start))
    print("usable", model.predict(x[:4]).shape, round(model.evaluate(x[:64], y[:64], verbose=0), 3) >= 0)
""")


def test_ctrl_c_interrupts_fit_and_leaves_the_model_usable():
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("interrupted after"), result.stdout
    assert float(lines[0].split()[2]) < 10
    assert lines[1] == "usable (4, 3) True"
