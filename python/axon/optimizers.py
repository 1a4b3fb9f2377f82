"""Optimizers with Keras's names and arguments (and learning-rate schedules in
``axon.optimizers.schedules``); compile also takes their names: "sgd", "adam", ..."""
import json

from . import _axon


class Optimizer:
    """An optimizer made from its Keras-style config; ``learning_rate`` can be read and
    set while training (callbacks do)."""

    _type = None
    _defaults = {}

    def __init__(self, learning_rate=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **hyperparameters):
        unknown = set(hyperparameters) - set(self._defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        config = {"type": self._type}
        if learning_rate is not None:
            config["learning_rate"] = learning_rate.get_config() if hasattr(learning_rate, "get_config") \
                else float(learning_rate)
        for key, value in dict(hyperparameters, clipnorm=clipnorm, clipvalue=clipvalue,
                               global_clipnorm=global_clipnorm).items():
            if value is not None:
                config[key] = value
        self._optimizer = _axon.create_optimizer(json.dumps(config))
        self._owner = None  # a weak reference to the model compiled with it

    @property
    def learning_rate(self):
        return self._optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._optimizer.learning_rate = float(value)

    lr = learning_rate

    def get_config(self):
        return json.loads(self._optimizer.config_json())


def _optimizer_class(name, registered, defaults, doc):
    def __init__(self, learning_rate=defaults.get("learning_rate"), **kwargs):
        Optimizer.__init__(self, learning_rate=learning_rate, **kwargs)
    return type(name, (Optimizer,), {"_type": registered, "_defaults": {k: v for k, v in defaults.items()
                                                                       if k != "learning_rate"},
                                     "__init__": __init__, "__doc__": doc, "__module__": __name__})


SGD = _optimizer_class("SGD", "sgd", {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
                       "SGD(learning_rate=0.01, momentum=0.0, nesterov=False)")
Adam = _optimizer_class("Adam", "adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
                        "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)")
AdamW = _optimizer_class("AdamW", "adamw", {"learning_rate": 0.001, "weight_decay": 0.01, "beta_1": 0.9,
                                            "beta_2": 0.999, "epsilon": 1e-7},
                         "AdamW(learning_rate=0.001, weight_decay=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7)")
RMSprop = _optimizer_class("RMSprop", "rmsprop", {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                                                  "epsilon": 1e-7},
                           "RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7)")
Adagrad = _optimizer_class("Adagrad", "adagrad", {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                                                  "epsilon": 1e-7},
                           "Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)")

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An Optimizer from an Optimizer or a name ("adam")."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r} (known: {', '.join(_BY_NAME)})")


class _ModelOptimizer:
    """The optimizer of a model compiled in C++ (a loaded model file), for its learning rate."""

    def __init__(self, model):
        self._model = model

    @property
    def learning_rate(self):
        return self._model.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._model.learning_rate = float(value)


class schedules:
    """Learning-rate schedules of the step, as keras.optimizers.schedules."""

    class LearningRateSchedule:
        def __init__(self, **config):
            self._config = config

        def get_config(self):
            return dict(self._config)

    class ExponentialDecay(LearningRateSchedule):
        def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
            super().__init__(type="exponential_decay", initial_learning_rate=initial_learning_rate,
                             decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)

    class CosineDecay(LearningRateSchedule):
        def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
            config = dict(type="cosine_decay", initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                          alpha=alpha, warmup_steps=warmup_steps)
            if warmup_target is not None:
                config["warmup_target"] = warmup_target
            super().__init__(**config)

    class PiecewiseConstantDecay(LearningRateSchedule):
        def __init__(self, boundaries, values):
            super().__init__(type="piecewise_constant_decay", boundaries=list(boundaries), values=list(values))
