"""Keras conventions a user relies on: trainable, tracked lists, training=, one optimizer
per model, clear errors instead of silent surprises, several threads on one model."""
import threading

import numpy as np
import pytest

import axon
from conftest import mlp


def compiled(model):
    model.compile(optimizer=axon.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    return model


def test_a_frozen_layer_keeps_its_weights(blobs):
    x, y = blobs
    frozen = axon.layers.Dense(8, activation="relu", trainable=False)
    model = axon.Sequential([axon.Input(shape=(4,)), frozen, axon.layers.Dense(3, activation="softmax")])
    compiled(model)
    before = [w.copy() for w in frozen.get_weights()]
    assert len(before) == 2
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    frozen.trainable = True
    compiled(model).fit(x, y, epochs=1, verbose=0)  # compiled again, as Keras requires
    assert not np.array_equal(before[0], frozen.get_weights()[0])


def test_batch_normalization_statistics_stay_non_trainable_when_unfrozen():
    layer = axon.layers.BatchNormalization()
    layer(np.ones((4, 3), dtype=np.float32))
    layer.trainable = False
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


class Tower(axon.Model):
    """Layers in a list assigned at once, another appended later, and dropout with training=."""

    def __init__(self):
        super().__init__()
        self.blocks = [axon.layers.Dense(8, activation="relu"), axon.layers.Dense(8, activation="relu")]
        self.heads = []
        self.heads.append(axon.layers.Dense(3, activation="softmax"))
        self.dropout = axon.layers.Dropout(0.5)
        self.seen = []

    def call(self, x, training=False):
        self.seen.append(training)
        for block in self.blocks:
            x = block(x)
        return self.heads[0](self.dropout(x, training=training))


def test_subclass_tracks_lists_and_passes_training(blobs):
    x, y = blobs
    model = compiled(Tower())
    model.fit(x, y, epochs=1, batch_size=50, verbose=0)
    assert model.count_params() == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert True in model.seen
    model.seen.clear()
    model.predict(x[:5])
    assert model.seen and not any(model.seen)


class Pair(axon.layers.Layer):
    def __init__(self):
        super().__init__()
        self.parts = [axon.layers.Dense(2), axon.layers.Dense(2)]

    def call(self, x):
        return self.parts[0](x) + self.parts[1](x)


def test_a_python_layer_tracks_layers_in_lists():
    layer = Pair()
    layer(np.ones((1, 3), dtype=np.float32))
    assert [name for name, _, _ in layer._module.named_parameters()] == [
        "parts.0.kernel", "parts.0.bias", "parts.1.kernel", "parts.1.bias"]


def test_one_optimizer_object_trains_one_model():
    optimizer = axon.optimizers.Adam()
    first = mlp()
    first.compile(optimizer=optimizer, loss="mse")
    with pytest.raises(ValueError, match="optimizer of its own"):
        mlp().compile(optimizer=optimizer, loss="mse")
    first.compile(optimizer=optimizer, loss="mae")  # the same model may compile again


def test_clear_errors_instead_of_silent_surprises(tmp_path, blobs):
    x, _ = blobs
    model = mlp()
    with pytest.raises(ValueError, match="one input, got a list of 2"):
        model.predict([x[:8], x[8:16]])
    with pytest.raises(ValueError, match="only \\{epoch\\}"):
        axon.callbacks.ModelCheckpoint(str(tmp_path / "m_{epoch:02d}.safetensors"))
    with pytest.raises(TypeError, match="Keras names"):
        axon.layers.Dense(2, activation=lambda v: v)
    with pytest.raises(ValueError, match="must be known"):
        axon.Input(shape=(None, 4))
    with pytest.raises(ValueError, match="logs key"):
        axon.metrics.SparseCategoricalAccuracy(name="mine")
    functional_with_python_layer = axon.Model(inputs := axon.Input(shape=(3,)), Pair()(inputs))
    with pytest.raises(NotImplementedError, match="save_weights"):
        functional_with_python_layer.save(tmp_path / "m.safetensors")


def test_a_loss_subclass_of_ones_own(blobs):
    x, _ = blobs
    target = x[:, :1].copy()

    class Squared(axon.losses.Loss):
        def call(self, y_true, y_pred):
            return axon.ops.square(y_pred - y_true)

    model = mlp(outputs=1, activation=None)
    model.compile(optimizer="adam", loss=Squared())
    losses = model.fit(x, target, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_unaligned_arrays_are_copied_not_misread():
    buffer = np.zeros(4 * 9 + 1, dtype=np.uint8)
    x = np.frombuffer(buffer.data, dtype=np.float32, count=8, offset=1).reshape(2, 4)
    assert not x.flags.aligned
    assert axon._axon._tensor_address(x) != x.ctypes.data
    model = mlp()
    np.testing.assert_array_equal(model.predict(x), model.predict(np.zeros((2, 4), dtype=np.float32)))


def test_threads_take_turns_on_one_model(blobs):
    x, y = blobs
    model = compiled(mlp())
    expected = model.predict(x[:7])
    errors = []

    def use(rows):
        try:
            for _ in range(30):
                assert model.predict(x[:rows]).shape == (rows, 3)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=use, args=(rows,)) for rows in (3, 5, 7, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    np.testing.assert_array_equal(model.predict(x[:7]), expected)
