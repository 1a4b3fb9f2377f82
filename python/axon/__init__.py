"""axon: build, train, evaluate and deploy neural networks, with Keras's API over a
C++ library (numpy in and out). ``from axon import keras`` gives the same API under
Keras's module names.

    import axon
    model = axon.Sequential([axon.Input(shape=(784,)),
                             axon.layers.Dense(256, activation="relu"),
                             axon.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, batch_size=128)
"""
from . import _axon
from . import callbacks, datasets, layers, losses, metrics, models, optimizers, utils
from ._axon import Variable, no_grad, ops
from ._axon import num_threads, set_num_threads, blas_kernels, manual_seed
from .layers import Input
from .models import Model, Sequential, load_model, load_onnx, save_onnx

AxonError = _axon.AxonError  # a ValueError
__version__ = _axon.version()

