"""Fashion-MNIST from Debian's dataset-fashion-mnist package, as
keras.datasets.fashion_mnist."""
import numpy as np

from .. import _axon


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 28, 28) and uint8
    labels (n,), as Keras's. ``path`` is a folder holding the four IDX .gz files
    (default: $AXON_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist)."""
    x_train, y_train, x_test, y_test = _axon.fashion_mnist(path or "")

    def images(x):  # axon's pixels are scaled to [0, 1]; Keras hands back the bytes
        return np.rint(x * 255.0).astype(np.uint8).reshape(-1, 28, 28)

    return (images(x_train), y_train.astype(np.uint8)), (images(x_test), y_test.astype(np.uint8))


def class_names():
    return list(_axon.fashion_mnist_class_names())
