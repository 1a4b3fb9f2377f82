"""Losses: Keras's names as strings or objects (``SparseCategoricalCrossentropy(
from_logits=True)``), or a Python function ``loss(y_true, y_pred)`` of Variables
(see axon.ops) returning per-example losses or their mean."""

_NAMES = ("mse", "mean_squared_error", "mae", "mean_absolute_error", "huber", "binary_crossentropy",
          "categorical_crossentropy", "sparse_categorical_crossentropy")


class Loss:
    _name = None

    def __init__(self, from_logits=False, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self.from_logits = bool(from_logits)
        self.name = name or self._name

    def call(self, y_true, y_pred):
        """Override it for a loss of your own: per-example losses (or their mean) as a
        Variable, from y_true and y_pred (Variables; see axon.ops)."""
        raise NotImplementedError(f"{type(self).__name__}: the built-in losses are computed in C++ by compile")

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


def _loss_class(name, registered):
    return type(name, (Loss,), {"_name": registered, "__module__": __name__,
                                "__doc__": f"The '{registered}' loss."})


MeanSquaredError = _loss_class("MeanSquaredError", "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", "mean_absolute_error")
Huber = _loss_class("Huber", "huber")
BinaryCrossentropy = _loss_class("BinaryCrossentropy", "binary_crossentropy")
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", "categorical_crossentropy")
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy")


def spec(loss):
    """What the C++ compile takes: a name, (name, from_logits), or (name, function)."""
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Loss) and type(loss).call is not Loss.call:  # a Loss subclass of one's own
        return (type(loss).__name__, loss.call)
    if isinstance(loss, Loss):
        return (loss._name, loss.from_logits)
    if callable(loss):
        return (getattr(loss, "__name__", "loss"), loss)
    raise TypeError(f"compile: a loss is a name, a Loss or a function(y_true, y_pred), got {type(loss).__name__}")
