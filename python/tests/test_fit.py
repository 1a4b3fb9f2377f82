"""fit's arguments, History, evaluate's results, Python callbacks and losses, built-in callbacks."""
import csv

import numpy as np
import pytest

import axon
from conftest import mlp


def compiled(model=None, **kwargs):
    model = model or mlp()
    model.compile(optimizer=kwargs.pop("optimizer", "adam"), loss=kwargs.pop("loss", "sparse_categorical_crossentropy"),
                  metrics=kwargs.pop("metrics", ["accuracy"]), **kwargs)
    return model


def test_history_and_validation(blobs):
    x, y = blobs
    history = compiled().fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values()) and history.epoch == [0, 1, 2]
    history = compiled().fit(x[:100], y[:100], epochs=2, validation_data=(x[100:], y[100:]), verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_evaluate_results_follow_keras(blobs):
    x, y = blobs
    with_metrics = compiled()
    loss, accuracy = with_metrics.evaluate(x, y)
    assert with_metrics.evaluate(x, y, return_dict=True) == {"loss": loss, "accuracy": accuracy}
    assert isinstance(compiled(metrics=None).evaluate(x, y), float)


def test_python_callback_sees_every_hook_and_can_stop(blobs):
    x, y = blobs

    class Recorder(axon.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_train_begin(self, logs=None):
            self.events.append("train_begin")

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(("epoch", epoch, sorted(logs)))
            if epoch == 1:
                self.model.stop_training = True

        def on_batch_end(self, batch, logs=None):
            self.events.append(("batch", batch))

    recorder = Recorder()
    model = compiled()
    history = model.fit(x, y, epochs=10, batch_size=50, callbacks=[recorder], verbose=0)
    assert history.epoch == [0, 1]  # stopped after the second epoch
    assert recorder.events[0] == "train_begin" and recorder.model is model
    assert recorder.events.count(("batch", 0)) == 2 and recorder.events.count(("batch", 2)) == 2
    assert ("epoch", 1, ["accuracy", "loss"]) in recorder.events
    assert recorder.params["epochs"] == 10


def test_an_exception_in_a_callback_reaches_the_caller(blobs):
    x, y = blobs
    boom = axon.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: 1 / 0)
    model = compiled()
    with pytest.raises(ZeroDivisionError):
        model.fit(x, y, epochs=2, callbacks=[boom], verbose=0)
    assert model.predict(x[:2]).shape == (2, 3)  # still usable


def test_python_loss_equals_the_built_in_one(blobs):
    x, _ = blobs
    target = np.sum(x, axis=1, keepdims=True).astype(np.float32)

    def squared_error(y_true, y_pred):
        return axon.ops.mean(axon.ops.square(y_pred - y_true))

    runs = []
    for loss in ("mse", squared_error):
        axon.utils.set_random_seed(3)
        model = compiled(mlp(outputs=1, activation=None), loss=loss, metrics=None,
                         optimizer=axon.optimizers.SGD(learning_rate=0.01))
        runs.append(model.fit(x, target, epochs=2, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5)


def test_metric_and_loss_objects(blobs):
    x, y = blobs
    model = mlp(activation=None)
    model.compile(optimizer=axon.optimizers.Adam(learning_rate=0.01),
                  loss=axon.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[axon.metrics.SparseCategoricalAccuracy(), axon.metrics.F1Score(average="macro")])
    history = model.fit(x, y, epochs=5, verbose=0)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "f1_macro"}
    assert history.history["sparse_categorical_accuracy"][-1] > 0.8


def test_built_in_callbacks(tmp_path, blobs):
    x, y = blobs
    log = tmp_path / "log.csv"
    stop = axon.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    schedule = axon.callbacks.LearningRateScheduler(lambda epoch, lr: 0.5 ** epoch * 0.01)
    model = compiled()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[axon.callbacks.CSVLogger(log), stop, schedule,
                                                   axon.callbacks.ModelCheckpoint(tmp_path / "m{epoch}.safetensors")])
    rows = list(csv.DictReader(open(log)))
    assert len(rows) == 2 and "loss" in rows[0]  # early stopping ended it after epoch 2
    assert stop.stopped_epoch == 1
    assert model.optimizer.learning_rate == pytest.approx(0.005)
    assert (tmp_path / "m2.safetensors").exists()
    loaded = axon.load_model(tmp_path / "m2.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_mismatched_data_raises_value_error_with_axons_message(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="784|4"):
        compiled().fit(np.zeros((10, 784), dtype=np.float32), y[:10], verbose=0)
    with pytest.raises(ValueError):
        compiled().fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        mlp().compile(optimizer="adamx", loss="mse")
