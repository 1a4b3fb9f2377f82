"""Layers, with Keras's names and arguments: every layer registered in the C++ library
(Dense, Conv2D, MaxPool2D, BatchNormalization, Dropout, Flatten, Add, Concatenate, ...,
and C++ layers of your own registered with AXON_REGISTER) is a class here, and
``Layer`` is the base for layers written in Python (``build`` + ``call``)."""
import inspect
import json
import weakref

from . import _axon

# The Python object of each C++ module that has one, so that model.layers hands back
# the objects the user made (keyed by the id of their _axon.Module).
_python_of = weakref.WeakValueDictionary()


def _register(layer):
    _python_of[id(layer._module)] = layer


def wrap(module):
    """The Python layer (or model) of a C++ module: the user's own object if it has one."""
    found = _python_of.get(id(module))
    if found is not None and found._module is module:
        return found
    if isinstance(module, _axon.Model):
        from .models import Model
        return Model._from_native(module)
    layer = object.__new__(_NativeLayer)
    layer._init_native(module)
    return layer


class KerasTensor:
    """A symbolic tensor: a model input (``Input``) or a layer's output in a graph being
    written (the functional API). ``shape`` starts with None, the batch axis."""

    __slots__ = ("_symbolic", "_layer", "_inputs", "__weakref__")

    def __init__(self, symbolic, layer=None, inputs=()):
        self._symbolic = symbolic
        self._layer = layer  # the Python layer that made it (keeps it alive)
        self._inputs = inputs

    @property
    def shape(self):
        return (None,) + tuple(self._symbolic.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}>"


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """A model input of one example's ``shape`` (no batch axis), as keras.Input."""
    if shape is None:
        raise ValueError("Input: give the shape of one example, e.g. Input(shape=(784,))")
    if kwargs:
        raise TypeError(f"Input: unexpected arguments {sorted(kwargs)}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(d is None for d in shape):
        raise ValueError(f"Input: every dimension of one example must be known, got shape {shape}")
    return KerasTensor(_axon.symbolic_input([int(d) for d in shape], name or ""))


def _symbolic_inputs(inputs):
    if isinstance(inputs, KerasTensor):
        return [inputs]
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, KerasTensor) for t in inputs):
        return list(inputs)
    return None


class Layer:
    """Base of every layer. Subclass it for a layer in Python, as in Keras:

        class Scale(axon.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")
            def call(self, x):
                return x * self.w

    ``build`` runs once with the first input's shape (batch axis included), ``call``
    computes on Variables (see axon.ops). Layers assigned as attributes are tracked."""

    def __init__(self, name=None, trainable=True, input_shape=None, dtype=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        object.__setattr__(self, "_module", _axon.PythonLayer(self, type(self).__name__))
        self._init_common(name, input_shape, trainable)

    def _init_common(self, name, input_shape, trainable=True):
        object.__setattr__(self, "_input_shape", None if input_shape is None else tuple(input_shape))
        object.__setattr__(self, "_trainable", bool(trainable))
        object.__setattr__(self, "_takes_training", None)
        if name:
            self._module.name = name
        _register(self)

    def build(self, input_shape):
        """Creates the weights for inputs of ``input_shape``; nothing by default."""

    def call(self, inputs):
        raise NotImplementedError(f"{type(self).__name__}: a Layer subclass defines call(inputs)")

    def add_weight(self, *args, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None):
        """A weight of this layer (a Variable), as Keras's add_weight: add_weight(shape,
        ...) as Keras 3, or add_weight(name, shape, ...) as Keras 2. ``initializer`` and
        ``regularizer`` are Keras names or configs ("he_normal"; {"type": "l2", "l2": 1e-4})."""
        if len(args) > 2:
            raise TypeError("add_weight: at most two positional arguments (shape, or name and shape)")
        if args and isinstance(args[0], str):
            name, args = args[0], args[1:]
        if args:
            if shape is not None:
                raise TypeError("add_weight: shape given twice")
            shape = args[0]
        if constraint is not None:
            raise TypeError("add_weight: weight constraints are not supported")
        if dtype not in (None, "float32"):
            raise ValueError(f"add_weight: weights are float32, got dtype {dtype!r}")
        if not isinstance(initializer, str):
            raise TypeError("add_weight: initializer is a Keras name ('glorot_uniform', 'zeros', 'he_normal', ...)")
        if name is None:
            name = f"weight_{len(self._module.named_parameters())}"
        shape = () if shape is None else (shape,) if isinstance(shape, int) else tuple(shape)
        return self._module.add_weight(name, [int(d) for d in shape], initializer, bool(trainable) and self._trainable,
                                       "" if regularizer is None else json.dumps(_config_value(regularizer)))

    def __setattr__(self, name, value):
        if not name.startswith("_") and isinstance(self.__dict__.get("_module"), _axon.PythonLayer):
            items = list(enumerate(value)) if isinstance(value, (list, tuple)) else [(None, value)]
            for index, item in items:
                if isinstance(item, Layer):
                    self._module.add_child(name if index is None else f"{name}.{index}", item._module)
        object.__setattr__(self, name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezes or unfreezes every weight of the layer; compile again after, as in Keras."""
        object.__setattr__(self, "_trainable", bool(value))
        self._module.set_trainable(bool(value))

    def _call_native(self, inputs, training):
        """What the C++ loop calls: call(inputs), with training= where call takes it."""
        if self._takes_training is None:
            parameters = inspect.signature(self.call).parameters
            object.__setattr__(self, "_takes_training", "training" in parameters or any(
                p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values()))
        return self.call(inputs, training=training) if self._takes_training else self.call(inputs)

    def __call__(self, inputs, *args, training=None, mask=None, **kwargs):
        """Calls the layer: on Variables or arrays it computes, on symbolic tensors it
        records a graph. ``training`` and ``mask`` are accepted for Keras's call
        convention; the mode is the model's (fit trains, predict and evaluate infer)."""
        if getattr(self, "_type", None) == "multi_head_attention":
            inputs = self._attention_inputs(inputs, args, kwargs)
        elif "initial_state" in kwargs and not args and len(kwargs) == 1:  # Keras's recurrent layers
            states = kwargs["initial_state"]
            inputs = [inputs] + (list(states) if isinstance(states, (list, tuple)) else [states])
        elif args or kwargs:
            raise TypeError(f"{type(self).__name__} '{self.name}': a layer is called with its inputs "
                            f"(and training=, mask=) only, got {len(args)} more arguments and {sorted(kwargs)}")
        if mask is not None:
            raise ValueError(f"{self.name}: an explicit mask= is not supported; masks flow from "
                             "Embedding(mask_zero=True) through the layers after it")
        symbolic = _symbolic_inputs(inputs)
        if symbolic is not None:
            outputs = [KerasTensor(s, self, tuple(symbolic)) for s in
                       _axon.call_symbolic(self._module, [t._symbolic for t in symbolic])]
            return outputs[0] if len(outputs) == 1 else outputs
        outputs = _axon.call_layer(self._module, inputs)
        return outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs

    def _attention_inputs(self, query, args, kwargs):
        """Keras's MultiHeadAttention call: (query, value, key=None, use_causal_mask=False)."""
        unexpected = sorted(set(kwargs) - {"value", "key", "use_causal_mask"})
        if unexpected or len(args) > 2:
            raise TypeError(f"{self.name}: called as (query, value, key=None, use_causal_mask=False), "
                            f"got {len(args)} more positional arguments and {unexpected}")
        value = args[0] if args else kwargs.get("value")
        key = args[1] if len(args) > 1 else kwargs.get("key")
        causal = bool(kwargs.get("use_causal_mask", False))
        if causal != self.get_config()["causal"]:
            raise ValueError(f"{self.name}: use_causal_mask={causal} differs from the layer's causal setting; "
                             "give causal= when making the layer (it is saved with the model)")
        if value is None:
            return query
        return [query, value] + ([key] if key is not None else [])

    # Introspection, as Keras.
    @property
    def name(self):
        return self._module.name

    @property
    def built(self):
        return self._module.built

    @property
    def weights(self):
        return [v for _, v, _ in self._module.named_parameters()]

    @property
    def trainable_weights(self):
        return [v for _, v, trainable in self._module.named_parameters() if trainable]

    @property
    def non_trainable_weights(self):
        return [v for _, v, trainable in self._module.named_parameters() if not trainable]

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"{self.name}: set_weights got {len(weights)} arrays for {len(own)} weights")
        for variable, value in zip(own, weights):
            variable.assign(value)
        self._module.weights_replaced()

    def count_params(self):
        return self._module.parameter_count()

    @property
    def output_shape(self):
        shapes = [(None,) + tuple(s) for s in self._module.output_shapes]
        if not shapes:
            raise AttributeError(f"{self.name}: has not been called yet, so it has no output shape")
        return shapes[0] if len(shapes) == 1 else shapes

    def get_config(self):
        return json.loads(self._module.config_json())

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class _NativeLayer(Layer):
    """A layer implemented in C++, made from its registered type and Keras-style config."""

    _type = None         # its registered name ("dense")
    _positional = ()     # Keras's positional argument names, in order

    def __init__(self, *args, input_shape=None, name=None, dtype=None, trainable=True, **kwargs):
        if dtype not in (None, "float32"):
            raise ValueError(f"{type(self).__name__}: layers compute in float32, got dtype {dtype!r}")
        if len(args) > len(self._positional):
            raise TypeError(f"{type(self).__name__}: takes at most {len(self._positional)} positional arguments "
                            f"({', '.join(self._positional) or 'none'}), got {len(args)}")
        for key, value in zip(self._positional, args):
            if key in kwargs:
                raise TypeError(f"{type(self).__name__}: got '{key}' twice")
            kwargs[key] = value
        config = {"type": self._type}
        config.update({k: _config_value(v) for k, v in kwargs.items() if v is not None})
        self._init_native(_axon.create_layer(json.dumps(config)))
        self._init_common(name, input_shape, trainable)
        if not trainable:
            self.trainable = False

    def _init_native(self, module):
        object.__setattr__(self, "_module", module)
        self._init_common(None, None)

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k != "type"})


def _config_value(value):
    if isinstance(value, tuple):
        return list(value)
    if callable(value) and not hasattr(value, "get_config"):
        raise TypeError(f"{getattr(value, '__name__', value)!r}: pass activations, initializers and regularizers "
                        "by their Keras names ('relu', 'he_normal', 'l2') or configs, not as Python functions")
    if isinstance(value, _NativeLayer):  # a layer inside a layer (Bidirectional's): its spec
        return {"type": value._type, **value.get_config()}
    if hasattr(value, "get_config") and not isinstance(value, type):
        return value.get_config()
    return value


class InputLayer(Layer):
    """An input of ``input_shape`` (Keras's InputLayer): in a Sequential it sets the
    model's input shape; called on values it passes them through."""

    def __init__(self, input_shape=None, shape=None, name=None, **kwargs):
        super().__init__(name=name, input_shape=input_shape if input_shape is not None else shape, **kwargs)

    def call(self, inputs):
        return inputs


# Keras's positional arguments of the built-in layers; other layers take keywords.
_POSITIONAL = {
    "dense": ("units", "activation"),
    "conv2d": ("filters", "kernel_size", "strides", "padding"),
    "conv1d": ("filters", "kernel_size", "strides", "padding"),
    "quantized_dense": ("units", "activation"),
    "quantized_conv2d": ("filters", "kernel_size", "strides", "padding"),
    "max_pool2d": ("pool_size", "strides", "padding"),
    "average_pool2d": ("pool_size", "strides", "padding"),
    "dropout": ("rate",),
    "activation": ("activation",),
    "reshape": ("target_shape",),
    "batch_normalization": ("axis", "momentum", "epsilon"),
    "concatenate": ("axis",),
    "rescaling": ("scale", "offset"),
    "embedding": ("input_dim", "output_dim"),
    "simple_rnn": ("units",),
    "lstm": ("units",),
    "gru": ("units",),
    "bidirectional": ("layer", "merge_mode"),
    "time_distributed": ("layer",),
    "multi_head_attention": ("num_heads", "key_dim", "value_dim", "dropout"),
    "positional_embedding": ("sequence_length",),
    "sine_position_encoding": ("max_wavelength",),
    "transformer_encoder_block": ("num_heads", "intermediate_dim", "dropout"),
    "transformer_decoder_block": ("num_heads", "intermediate_dim", "dropout"),
}
# Keras's other names for the same layers.
_ALIASES = {
    "MaxPool2D": ("MaxPooling2D",),
    "AveragePool2D": ("AveragePooling2D", "AvgPool2D"),
    "GlobalAveragePool2D": ("GlobalAveragePooling2D", "GlobalAvgPool2D"),
}


# Keras's class names that capitalisation alone does not give.
_CLASS_NAMES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


def _class_name(registered):
    """"max_pool2d" -> "MaxPool2D", "batch_normalization" -> "BatchNormalization"."""
    if registered in _CLASS_NAMES:
        return _CLASS_NAMES[registered]
    parts = [part.capitalize() for part in registered.split("_")]
    return "".join(p[:-1] + "D" if p.endswith("d") and p[-2:-1].isdigit() else p for p in parts)


def _make_layer_classes():
    made = {}
    for registered in _axon.layer_types():
        if registered in ("sequential", "functional"):
            continue  # models: axon.Sequential, axon.Model
        name = _class_name(registered)
        cls = type(name, (_NativeLayer,), {
            "_type": registered,
            "_positional": _POSITIONAL.get(registered, ()),
            "__doc__": f"The registered layer '{registered}' (Keras-style arguments).",
            "__module__": __name__,
        })
        made[name] = cls
        for alias in _ALIASES.get(name, ()):
            made[alias] = cls
    return made


globals().update(_make_layer_classes())


class TextVectorization(globals()["TextVectorization"]):
    """Keras's TextVectorization: ``adapt(texts)`` builds the vocabulary ("" and
    "[UNK]" first, then by frequency); called on strings it returns their ids as a numpy
    array (n, length); in a model it passes ids on and keeps the vocabulary in the
    model file, so that the server takes text (BYTES) and ``axon.generate`` takes a
    prompt as a string."""

    def adapt(self, data):
        _axon.text_adapt(self._module, [str(t) for t in data])

    def get_vocabulary(self):
        return _axon.text_vocabulary(self._module)

    def vocabulary_size(self):
        return len(self.get_vocabulary())

    def decode(self, ids):
        """ids -> text (characters joined, or words joined by spaces; padding left out)."""
        return _axon.text_decode(self._module, [int(i) for i in ids])

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, str):
            inputs = [inputs]
        if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, str) for t in inputs):
            return _axon.text_vectorize(self._module, list(inputs))
        return super().__call__(inputs, *args, **kwargs)
