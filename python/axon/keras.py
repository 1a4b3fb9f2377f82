"""Keras's module names over axon: ``from axon import keras`` gives keras.Model,
keras.Sequential, keras.Input, keras.layers, keras.optimizers, keras.losses,
keras.metrics, keras.callbacks, keras.datasets, keras.models and keras.utils, so a
Keras program runs with its import lines changed."""
from . import callbacks, datasets, layers, losses, metrics, models, ops, optimizers, utils  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Model, Sequential  # noqa: F401
