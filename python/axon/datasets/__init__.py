"""Datasets from Debian's packages, in Keras's layout (axon.datasets.fashion_mnist)."""
from . import fashion_mnist  # noqa: F401
