"""Metrics: Keras's names as strings or objects, usable on their own as well
(``update_state``, ``result``, ``reset_state``), plus the confusion matrix and the
classification report."""
import numpy as np

from . import _axon


class Metric:
    """A streaming metric computed by the C++ library."""

    _name = None

    def __init__(self, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)} (axon's metrics take none)")
        self._metric = _axon.create_metric(self._name)
        if name is not None and name != self._metric.name:
            raise ValueError(f"{type(self).__name__}: its logs key is '{self._metric.name}'; other names are not "
                             "supported")

    @property
    def name(self):
        return self._metric.name

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._metric.update_state(y_true, y_pred, sample_weight)

    def result(self):
        return self._metric.result()

    def reset_state(self):
        self._metric.reset_state()


def _metric_class(name, registered):
    return type(name, (Metric,), {"_name": registered, "__module__": __name__,
                                  "__doc__": f"The '{registered}' metric."})


SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy", "sparse_categorical_accuracy")
CategoricalAccuracy = _metric_class("CategoricalAccuracy", "categorical_accuracy")
BinaryAccuracy = _metric_class("BinaryAccuracy", "binary_accuracy")
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy", "top_k_categorical_accuracy")
AUC = _metric_class("AUC", "auc")
MeanSquaredError = _metric_class("MeanSquaredError", "mse")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", "mae")
RootMeanSquaredError = _metric_class("RootMeanSquaredError", "rmse")


class _ClassificationScore(Metric):
    _score = None

    def __init__(self, average=None, name=None):
        """average: None (binary for two classes, macro for more), 'macro', 'micro' or 'weighted'."""
        if average not in (None, "macro", "micro", "weighted"):
            raise ValueError(f"average must be None, 'macro', 'micro' or 'weighted', got {average!r}")
        self._name = self._score if average is None else f"{self._score}_{average}"
        super().__init__(name)


class Precision(_ClassificationScore):
    _score = "precision"


class Recall(_ClassificationScore):
    _score = "recall"


class F1Score(_ClassificationScore):
    _score = "f1"


def spec(metric):
    """What the C++ compile takes: a name or a C++ metric."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, Metric):
        return metric._metric
    raise TypeError(f"compile: a metric is a name or an axon.metrics.Metric, got {type(metric).__name__}")


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(num_classes, num_classes) counts, rows = true class, columns = predicted class.
    y_pred may be class indices or scores (one row per example; argmax taken)."""
    y_true = np.asarray(y_true).reshape(-1)
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=0), np.asarray(y_pred).max(initial=0)) + 1) \
            if np.asarray(y_pred).ndim == 1 else np.asarray(y_pred).shape[1]
    matrix = _confusion(y_true, y_pred, num_classes)
    return np.array([[matrix.count(t, p) for p in range(num_classes)] for t in range(num_classes)], dtype=np.int64)


def classification_report(y_true, y_pred, target_names=None, num_classes=None):
    """Per-class precision, recall, F1 and support, formatted as scikit-learn's."""
    y_true = np.asarray(y_true).reshape(-1)
    if num_classes is None:
        num_classes = len(target_names) if target_names else confusion_matrix(y_true, y_pred).shape[0]
    return _confusion(y_true, y_pred, num_classes).report(list(target_names or []))


def _confusion(y_true, y_pred, num_classes):
    matrix = _axon.ConfusionMatrix(int(num_classes))
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 1:  # class indices: one-hot rows, argmax gives them back
        y_pred = np.eye(num_classes, dtype=np.float32)[y_pred.astype(np.int64)]
    matrix.update(y_true.astype(np.float32), y_pred.astype(np.float32))
    return matrix
