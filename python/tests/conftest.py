"""Shared fixtures for the Python package's tests (run by CTest: PYTHONPATH=<build>/python)."""
import numpy as np
import pytest

import axon


@pytest.fixture(autouse=True)
def seeded():
    axon.utils.set_random_seed(0)


@pytest.fixture
def blobs():
    """Three separable classes in 4 dimensions: (x float32 (150, 4), y int64 (150,))."""
    rng = np.random.default_rng(0)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    y = np.repeat(np.arange(3), 50)
    x = centers[y] + rng.normal(0, 0.5, (150, 4)).astype(np.float32)
    order = rng.permutation(150)
    return x[order], y[order]


def mlp(units=(8,), inputs=4, outputs=3, activation="softmax"):
    layers = [axon.Input(shape=(inputs,))] + [axon.layers.Dense(u, activation="relu") for u in units]
    return axon.Sequential(layers + [axon.layers.Dense(outputs, activation=activation)])
