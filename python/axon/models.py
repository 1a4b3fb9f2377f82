"""Models, as Keras's: ``Sequential``, the functional ``Model(inputs, outputs)``, and
``Model`` subclassed in Python with layers as attributes and a ``call``. Training runs
in the C++ library with the GIL released; it is taken back only to run Python code
(a Python ``call``, loss or callback)."""
import threading
import weakref

import numpy as np

from . import _axon
from . import callbacks as callbacks_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers import InputLayer, KerasTensor, Layer, wrap


class History(callbacks_module.Callback):
    """What fit returns: ``history`` maps each log name to its value per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def _record(self, epochs, logs):
        for epoch, entry in zip(epochs, logs):
            self.epoch.append(epoch)
            for key, value in entry.items():
                self.history.setdefault(key, []).append(value)


def _example_shape(shape):
    """Keras's shapes may lead with the batch axis as None: (None, 10) -> (10,)."""
    shape = tuple(shape)
    return shape[1:] if shape and shape[0] is None else shape


def _per_output(value, names, what):
    """One item per output, from one item, a list or a dict by output name."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"compile: {what} has no entry for outputs {missing}")
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: {len(value)} {what} for {len(names)} outputs")
        return list(value)
    return [value] * len(names)


class Model(Layer):
    """A model: ``Model(inputs, outputs)`` for a functional graph, or a subclass with
    layers assigned in ``__init__`` and a ``call(inputs)``, as in Keras."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if kwargs.pop("trainable", True) is not True or kwargs:
            raise TypeError(f"Model: unexpected arguments {sorted(kwargs)}")
        object.__setattr__(self, "_tracked", [])
        object.__setattr__(self, "_compiled_with", None)
        object.__setattr__(self, "history", None)
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: a functional model needs both inputs and outputs")
            ins = [inputs] if isinstance(inputs, KerasTensor) else list(inputs)
            outs = [outputs] if isinstance(outputs, KerasTensor) else list(outputs)
            if not all(isinstance(t, KerasTensor) for t in ins + outs):
                raise TypeError("Model: inputs and outputs must be Input(...) tensors and layer outputs")
            native = _axon.Functional([t._symbolic for t in ins], [t._symbolic for t in outs])
            object.__setattr__(self, "_graph", (ins, outs))  # keeps the Python layers alive
        elif type(self) is Model:
            raise TypeError("Model: give inputs and outputs (the functional API), or subclass Model with a call()")
        else:
            native = _axon.PythonModel(self, type(self).__name__)
            object.__setattr__(self, "_graph", None)
        self._set_native(native, name)

    def _set_native(self, native, name=None):
        object.__setattr__(self, "_model", native)
        object.__setattr__(self, "_module", native)
        # One call at a time into the C++ model (fit, predict, ... from several Python
        # threads take turns); re-entrant for callbacks that call the model.
        object.__setattr__(self, "_lock", threading.RLock())
        self._init_common(name, None)

    @classmethod
    def _from_native(cls, native):
        """A Python model around a C++ one (load_model)."""
        model = object.__new__(Sequential if isinstance(native, _axon.Sequential) else Model)
        object.__setattr__(model, "_tracked", [])
        object.__setattr__(model, "_compiled_with", None)
        object.__setattr__(model, "_graph", None)
        object.__setattr__(model, "history", None)
        object.__setattr__(model, "_pending_name", None)
        model._set_native(native)
        return model

    def __setattr__(self, name, value):
        if "_model" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(self._model, _axon.PythonModel) and not name.startswith("_"):
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Layer) and not isinstance(item, InputLayer) and item not in self._tracked:
                    self._model.track(item._module)
                    self._tracked.append(item)
        object.__setattr__(self, name, value)

    def call(self, inputs):
        raise NotImplementedError(f"{type(self).__name__}: a Model subclass defines call(inputs)")

    def _track_late_layers(self):
        """Tracks layers that joined an attribute after it was assigned (a list appended
        to in __init__), as Keras's tracking lists do."""
        if not isinstance(self._model, _axon.PythonModel):
            return
        for name, value in list(self.__dict__.items()):
            if name.startswith("_"):
                continue
            items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Layer) and not isinstance(item, InputLayer) and item not in self._tracked:
                    self._model.track(item._module)
                    self._tracked.append(item)
    # Structure.
    @property
    def layers(self):
        return [wrap(module) for _, module in self._model.children()]

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named '{name}' (layers: {[l.name for l in layers]})")

    @property
    def inputs(self):
        return None if self._graph is None else self._graph[0]

    @property
    def outputs(self):
        return None if self._graph is None else self._graph[1]

    @property
    def input_shape(self):
        shape = self._model.input_shape
        return None if shape is None else (None,) + shape

    def build(self, input_shape):
        self._track_late_layers()
        self._model.build([int(d) for d in _example_shape(input_shape)])

    def _ensure_built(self):
        """Builds a model whose input shape is known (a Sequential given Input(...)), as
        Keras does, so summary and the weights are there before any data."""
        self._track_late_layers()
        if not self._model.built and self._model.input_shape is not None:
            self._model.build(list(self._model.input_shape))

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        self._ensure_built()
        text = self._model.summary()
        (print_fn or print)(text.rstrip("\n"))

    @property
    def stop_training(self):
        return self._model.stop_training

    @stop_training.setter
    def stop_training(self, value):
        self._model.stop_training = bool(value)

    # Training.
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        if kwargs:
            raise TypeError(f"compile: unexpected arguments {sorted(kwargs)}")
        optimizer = optimizers_module.get(optimizer)
        owner = optimizer._owner() if optimizer._owner is not None else None
        if owner is not None and owner is not self:
            raise ValueError(f"compile: this {type(optimizer).__name__} already trains the model '{owner.name}'; "
                             "give each model an optimizer of its own (an optimizer keeps per-weight state)")
        self._ensure_built()
        if loss is None:
            raise ValueError("compile: give a loss ('sparse_categorical_crossentropy', 'mse', ...)")
        names = list(self._model.output_names) if self._model.output_count > 1 else ["output"]
        losses = [losses_module.spec(l) for l in _per_output(loss, names, "losses")]
        metric_lists = self._metric_lists(metrics, weighted_metrics, names)
        weights = [] if loss_weights is None else [float(w) for w in _per_output(loss_weights, names, "loss_weights")]
        self._model.compile(optimizer._optimizer, losses, metric_lists, weights)
        object.__setattr__(self, "_compiled_with", optimizer)
        optimizer._owner = weakref.ref(self)

    @staticmethod
    def _metric_lists(metrics, weighted_metrics, names):
        if metrics is None:
            per_output = [[] for _ in names]
        elif isinstance(metrics, dict):
            per_output = [list(metrics.get(n, [])) if isinstance(metrics.get(n, []), (list, tuple))
                          else [metrics[n]] for n in names]
        elif isinstance(metrics, (list, tuple)) and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            per_output = _per_output(list(metrics), names, "metric lists")
        else:
            per_output = [list(metrics) if isinstance(metrics, (list, tuple)) else [metrics] for _ in names]
        for weighted in weighted_metrics or []:
            if not isinstance(weighted, str):
                raise TypeError("compile: weighted_metrics are given by name ('accuracy', 'mse', ...)")
            for output in per_output:
                output.append("weighted_" + weighted)
        return [[metrics_module.spec(m) for m in output] for output in per_output]

    @property
    def optimizer(self):
        if self._compiled_with is not None:
            return self._compiled_with
        return optimizers_module._ModelOptimizer(self._model) if self._model.compiled else None

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            seed=None, **kwargs):
        """Trains for ``epochs``; returns a History. ``seed`` fixes the shuffling order (by
        default it is drawn from numpy's global generator, so np.random.seed fixes it)."""
        if kwargs:
            raise TypeError(f"fit: unexpected arguments {sorted(kwargs)} (steps_per_epoch and generators "
                            "are not supported: pass arrays)")
        if x is None or y is None:
            raise ValueError("fit: give inputs x and targets y (arrays)")
        self._ensure_built()
        history = History()
        user_callbacks = list(callbacks or [])
        batch_size = 32 if batch_size is None else int(batch_size)
        first = next(iter(x.values())) if isinstance(x, dict) else \
            x[0] if isinstance(x, (list, tuple)) and self._model.input_count > 1 else x
        n = len(first)
        params = {"epochs": epochs, "steps": -(-int(n * (1 - validation_split)) // batch_size), "verbose": verbose}
        for callback in [history] + user_callbacks:
            if hasattr(callback, "set_model"):
                callback.set_model(self)
                callback.set_params(params)
        native_callbacks = [getattr(c, "_callback", c) for c in user_callbacks]
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        with self._lock:
            epochs_run, logs = self._model.fit(
                x, y, int(epochs), batch_size, float(validation_split), validation_data, bool(shuffle),
                native_callbacks, _verbosity(verbose, 1), int(seed), int(initial_epoch), sample_weight,
                {int(k): float(v) for k, v in (class_weight or {}).items()})
        history._record(epochs_run, logs)
        object.__setattr__(self, "history", history)
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False,
                 **kwargs):
        if kwargs:
            raise TypeError(f"evaluate: unexpected arguments {sorted(kwargs)}")
        if x is None or y is None:
            raise ValueError("evaluate: give inputs x and targets y (arrays)")
        self._ensure_built()
        with self._lock:
            logs = self._model.evaluate(x, y, 32 if batch_size is None else int(batch_size), _verbosity(verbose, 1),
                                        sample_weight)
        return _keras_result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose=0, **kwargs):
        if kwargs:
            raise TypeError(f"predict: unexpected arguments {sorted(kwargs)}")
        self._ensure_built()
        with self._lock:
            return self._model.predict(x, 32 if batch_size is None else int(batch_size))

    def predict_on_batch(self, x):
        rows = len(x[0]) if isinstance(x, (list, tuple)) and self._model.input_count > 1 else len(x)
        return self.predict(x, batch_size=max(1, rows))

    def train_on_batch(self, x, y, return_dict=False):
        self._ensure_built()
        with self._lock:
            return _keras_result(self._model.train_on_batch(x, y), return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        self._ensure_built()
        with self._lock:
            return _keras_result(self._model.test_on_batch(x, y), return_dict)

    # Weights and files.
    def get_weights(self):
        self._ensure_built()
        return self._model.get_weights()

    def set_weights(self, weights):
        self._ensure_built()
        self._model.set_weights(list(weights))

    @property
    def weights(self):
        self._ensure_built()
        return Layer.weights.fget(self)

    def count_params(self):
        self._ensure_built()
        return self._model.parameter_count()

    def save(self, filepath, overwrite=True, **kwargs):
        """Writes the model file (safetensors with the model's spec), atomically."""
        python_parts = [m.type_name for m in _modules(self._model)
                        if isinstance(m, (_axon.PythonModel, _axon.PythonLayer))]
        if python_parts:
            raise NotImplementedError(
                f"save: {python_parts[0]} is written in Python, and a model file holds no code; use save_weights, "
                "then rebuild the model and load_weights (or write it from C++ layers, which save)")
        with self._lock:
            self._model.save(str(filepath))

    def save_weights(self, filepath, overwrite=True, **kwargs):
        self._model.save_weights(str(filepath))

    def load_weights(self, filepath, **kwargs):
        self._model.load_weights(str(filepath))


def _modules(module):
    """module and every module inside it."""
    yield module
    for _, child in module.children():
        yield from _modules(child)


def _verbosity(verbose, auto):
    if verbose == "auto":
        return auto
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _keras_result(logs, return_dict):
    """Keras's evaluate result: a dict with return_dict, else the loss alone when there
    are no metrics, else [loss, metric, ...]."""
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


class Sequential(Model):
    """Layers applied in order, as keras.Sequential. The input shape comes from a first
    ``Input(shape=...)``, or a first layer's ``input_shape=``, or the first data."""

    def __init__(self, layers=None, name=None, **kwargs):
        if kwargs.pop("trainable", True) is not True or kwargs:
            raise TypeError(f"Sequential: unexpected arguments {sorted(kwargs)}")
        object.__setattr__(self, "_tracked", [])
        object.__setattr__(self, "_compiled_with", None)
        object.__setattr__(self, "_graph", None)
        object.__setattr__(self, "history", None)
        self._set_native(_axon.Sequential(), name)
        object.__setattr__(self, "_pending_name", name)
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        shape = None
        if isinstance(layer, KerasTensor):
            shape = layer.shape[1:]
        elif isinstance(layer, InputLayer):
            shape = layer._input_shape
        elif not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a layer, got {type(layer).__name__}")
        elif getattr(layer, "_input_shape", None) is not None:
            shape = layer._input_shape
        if shape is not None:
            if self._tracked or self._model.input_shape is not None:
                raise ValueError("Sequential: an input shape can only be given before the first layer")
            self._set_native(_axon.Sequential([int(d) for d in _example_shape(shape)]), self._pending_name)
        if isinstance(layer, (KerasTensor, InputLayer)):
            return
        self._model.add(layer._module)
        self._tracked.append(layer)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


def save_onnx(model, filepath, opset=13):
    """Writes the model as an ONNX file (standard operators, a dynamic batch axis, the
    model's input and output names), checked by ONNX's checker before it is written."""
    model._ensure_built()
    with model._lock:
        _axon.save_onnx(model._model, str(filepath), int(opset))


def load_onnx(filepath):
    """A functional model of axon layers from an ONNX file (torch.onnx.export, axon, ...),
    for predict, evaluate and fit; an unsupported operator fails naming every one."""
    return Model._from_native(_axon.load_onnx(str(filepath)))


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a file written by Model.save (or axon train / the C++ save_model),
    or from an ONNX file when the path ends in .onnx. Its C++ layers must be
    registered; Python layers cannot be in a model file."""
    return Model._from_native(_axon.load_model(str(filepath)))
