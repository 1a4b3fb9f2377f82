"""Utilities: splits and cross-validation (as scikit-learn's), to_categorical and
set_random_seed (as Keras's)."""
import numpy as np

from . import _axon


def train_test_split(x, y, test_size=0.25, stratify=False, seed=0):
    """(x_train, x_test, y_train, y_test), shuffled; with stratify, y holds class labels
    and each class keeps its proportion in both parts."""
    return _axon.train_test_split(x, y, float(test_size), bool(stratify), int(seed))


def k_fold(n, k=5, shuffle=True, seed=0):
    """[(train_indices, test_indices)] for k folds of n examples."""
    return _axon.k_fold(int(n), int(k), bool(shuffle), int(seed))


def stratified_k_fold(labels, k=5, seed=0):
    """k folds that keep every class's proportion in each test set."""
    return _axon.stratified_k_fold(np.asarray(labels), int(k), int(seed))


def cross_validate(make_model, x, y, k=5, stratified=True, seed=0, **fit_kwargs):
    """k-fold cross-validation: make_model() returns a new compiled model per fold,
    trained with fit(**fit_kwargs) on k-1 folds and evaluated on the held-out one.
    Returns {"folds": [logs, ...], "mean": {...}, "std": {...}} (population std)."""
    x, y = np.asarray(x), np.asarray(y)
    folds = stratified_k_fold(y.reshape(len(y), -1)[:, 0], k, seed) if stratified else k_fold(len(x), k, True, seed)
    results = []
    for train, test in folds:
        model = make_model()
        model.fit(x[train], y[train], **fit_kwargs)
        results.append(model.evaluate(x[test], y[test], return_dict=True))
    keys = results[0].keys()
    return {"folds": results,
            "mean": {key: float(np.mean([r[key] for r in results])) for key in keys},
            "std": {key: float(np.std([r[key] for r in results])) for key in keys}}


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows for class indices, as keras.utils.to_categorical."""
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    num_classes = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in [0, {num_classes}), got [{y.min()}, {y.max()}]")
    return np.eye(num_classes, dtype=dtype)[y]


def set_random_seed(seed):
    """Seeds axon's generator (weight initialisation, dropout) and numpy's (which fit
    draws its shuffling seed from), as keras.utils.set_random_seed."""
    _axon.manual_seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0.0):
    """Keras's pad_sequences: lists of ids -> (n, maxlen) float32 (maxlen None: the
    longest), padded with `value` and cut at the start ("pre") or the end ("post")."""
    return _axon.pad_sequences([[int(i) for i in s] for s in sequences], int(maxlen or 0), padding, truncating,
                               float(value))
