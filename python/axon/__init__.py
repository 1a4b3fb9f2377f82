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


def generate(model, prompt, tokens=100, temperature=1.0, top_k=0, seed=0, cache=True):
    """Continues `prompt` by `tokens` new tokens from a model that predicts the next token
    at every step (see docs/sequence.md): token ids in, ids out; or a string, for a model
    that holds a TextVectorization, and the text out. With `cache`, incremental decoding
    (a key/value cache, carried recurrent states)."""
    native = model._model
    text = isinstance(prompt, str)
    vectorizer = _axon.text_vectorization_of(native) if text else None
    if text and vectorizer is None:
        raise ValueError("generate: the model holds no TextVectorization to read a string prompt with")
    ids = _axon.text_ids(vectorizer, prompt) if text else [int(i) for i in prompt]
    out = _axon.generate(native, ids, int(tokens), float(temperature), int(top_k), int(seed), bool(cache))
    return _axon.text_decode(vectorizer, out) if text else out

AxonError = _axon.AxonError  # a ValueError
__version__ = _axon.version()

