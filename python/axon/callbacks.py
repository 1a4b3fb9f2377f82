"""Callbacks, as Keras's: subclass ``Callback`` and override any of its hooks, or use
the built-in ones (EarlyStopping, ModelCheckpoint, CSVLogger, ReduceLROnPlateau,
LearningRateScheduler, TerminateOnNaN, LambdaCallback, and axon's HtmlReport)."""
import inspect
import re

from . import _axon


class Callback:
    """Hooks fit calls; ``self.model`` is the model being trained and ``self.params``
    holds epochs, steps and verbose. Set ``self.model.stop_training = True`` to stop."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from functions: on_epoch_end=lambda epoch, logs: ..., etc."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        super().__init__()
        for hook, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, hook, fn)


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start to schedule(epoch, lr) (or
    schedule(epoch)), as Keras's."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            takes_rate = len(inspect.signature(self.schedule).parameters) >= 2
        except (TypeError, ValueError):  # a builtin without a signature
            takes_rate = True
        rate = self.schedule(epoch, optimizer.learning_rate) if takes_rate else self.schedule(epoch)
        optimizer.learning_rate = float(rate)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")


class _Native:
    """A callback implemented in C++ (fit hands it to the C++ loop as it is)."""

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params


class EarlyStopping(_Native):
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        if baseline is not None:
            raise ValueError("EarlyStopping: baseline is not supported")
        self._callback = _axon.EarlyStopping(monitor, float(min_delta), int(patience), mode,
                                             bool(restore_best_weights), int(start_from_epoch))

    @property
    def stopped_epoch(self):
        return max(self._callback.stopped_epoch, 0)

    @property
    def best_epoch(self):
        return self._callback.best_epoch


class ModelCheckpoint(_Native):
    """Saves the model (or its weights) after each epoch; "{epoch}" in the path is the
    1-based epoch number."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch"):
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: save_freq must be 'epoch'")
        if re.search(r"\{(?!epoch\})", str(filepath)):
            raise ValueError(f"ModelCheckpoint: {filepath!r}: only {{epoch}} is replaced in the path (Keras's format "
                             "specs such as {epoch:02d} or {val_loss} are not)")
        self._callback = _axon.ModelCheckpoint(str(filepath), monitor, bool(save_best_only), bool(save_weights_only),
                                               mode)
        self._weights_only = bool(save_weights_only)

    def set_model(self, model):
        from .models import _modules
        if not self._weights_only and any(isinstance(m, (_axon.PythonModel, _axon.PythonLayer))
                                          for m in _modules(model._model)):
            raise NotImplementedError("ModelCheckpoint: the model has parts written in Python, which a model file "
                                      "cannot hold; use save_weights_only=True")
        super().set_model(model)


class CSVLogger(_Native):
    def __init__(self, filename, separator=",", append=False):
        self._callback = _axon.CSVLogger(str(filename), separator, bool(append))


class ReduceLROnPlateau(_Native):
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        self._callback = _axon.ReduceLROnPlateau(monitor, float(factor), int(patience), mode, float(min_delta),
                                                 int(cooldown), float(min_lr))


class TerminateOnNaN(_Native):
    def __init__(self):
        self._callback = _axon.TerminateOnNaN()


class HtmlReport(_Native):
    """axon's training report: one self-contained HTML file with the curves, the
    summary and, given evaluation_data=(x, y), the confusion matrix."""

    def __init__(self, path, title="axon training report", evaluation_data=None, class_names=None):
        self._callback = _axon.HtmlReport(str(path), title, evaluation_data, list(class_names or []))
