"""Fashion-MNIST in Keras's layout (from small IDX files written here), splits, metrics."""
import gzip
import struct

import numpy as np
import pytest

import axon


def write_idx(path, array):
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as out:
        out.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_load_data_matches_keras_layout(tmp_path):
    rng = np.random.default_rng(0)
    images = {"train": rng.integers(0, 256, (6, 28, 28)), "t10k": rng.integers(0, 256, (4, 28, 28))}
    labels = {"train": rng.integers(0, 10, 6), "t10k": rng.integers(0, 10, 4)}
    for part in ("train", "t10k"):
        write_idx(tmp_path / f"{part}-images-idx3-ubyte.gz", images[part])
        write_idx(tmp_path / f"{part}-labels-idx1-ubyte.gz", labels[part])
    (x_train, y_train), (x_test, y_test) = axon.datasets.fashion_mnist.load_data(str(tmp_path))
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28) and y_test.shape == (4,)
    np.testing.assert_array_equal(x_train, images["train"])
    np.testing.assert_array_equal(y_test, labels["t10k"])
    assert axon.datasets.fashion_mnist.class_names()[0] == "T-shirt/top"


def test_train_test_split_and_folds():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.repeat([0, 1], 10)
    x_train, x_test, y_train, y_test = axon.utils.train_test_split(x, y, test_size=0.25, stratify=True)
    assert x_train.shape == (15, 2) and x_test.shape == (5, 2)
    assert sorted(np.concatenate([x_train[:, 0], x_test[:, 0]])) == list(x[:, 0])
    folds = axon.utils.k_fold(20, 4)
    assert sorted(np.concatenate([test for _, test in folds])) == list(range(20))
    for train, test in axon.utils.stratified_k_fold(y, 5):
        assert len(set(train) & set(test)) == 0 and np.bincount(y[test]).tolist() == [2, 2]


def test_cross_validate(blobs):
    x, y = blobs

    def make_model():
        model = axon.Sequential([axon.Input(shape=(4,)), axon.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=axon.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    result = axon.utils.cross_validate(make_model, x, y, k=3, epochs=5, verbose=0)
    assert len(result["folds"]) == 3 and result["mean"]["accuracy"] > 0.8
    assert result["std"]["accuracy"] == pytest.approx(np.std([f["accuracy"] for f in result["folds"]]))


def test_confusion_matrix_and_report():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 0])
    matrix = axon.metrics.confusion_matrix(y_true, y_pred, num_classes=3)
    expected = np.zeros((3, 3), dtype=np.int64)
    np.add.at(expected, (y_true, y_pred), 1)
    np.testing.assert_array_equal(matrix, expected)
    report = axon.metrics.classification_report(y_true, y_pred, target_names=["a", "b", "c"])
    assert "a" in report and "macro avg" in report


def test_standalone_metric_and_to_categorical():
    metric = axon.metrics.SparseCategoricalAccuracy()
    metric.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]], dtype=np.float32))
    assert metric.result() == pytest.approx(0.5)
    metric.reset_state()
    assert metric.result() == 0
    np.testing.assert_array_equal(axon.utils.to_categorical([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
