"""Functional and subclassed models against Sequential on the same weights; files."""
import numpy as np
import pytest

import axon
from conftest import mlp


class Subclassed(axon.Model):
    def __init__(self):
        super().__init__()
        self.hidden = axon.layers.Dense(8, activation="relu")
        self.out = axon.layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(x))


def compiled(model):
    model.compile(optimizer=axon.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_subclass_trains_exactly_like_the_same_sequential(blobs):
    x, y = blobs
    sequential, subclassed = compiled(mlp()), compiled(Subclassed())
    subclassed.build((None, 4))
    subclassed.set_weights(sequential.get_weights())
    np.testing.assert_array_equal(subclassed.predict(x), sequential.predict(x))
    a = sequential.fit(x, y, epochs=2, shuffle=False, verbose=0)
    b = subclassed.fit(x, y, epochs=2, shuffle=False, verbose=0)
    assert a.history == b.history
    for wa, wb in zip(sequential.get_weights(), subclassed.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert [l.name for l in subclassed.layers] == ["dense_2", "dense_3"] or len(subclassed.layers) == 2


def test_subclass_attributes_must_follow_super_init():
    class Forgot(axon.Model):
        def __init__(self):
            self.dense = axon.layers.Dense(2)

    with pytest.raises(AttributeError, match="super"):
        Forgot()


def test_subclass_saves_weights_not_code(tmp_path, blobs):
    x, _ = blobs
    model = compiled(Subclassed())
    model.build((None, 4))
    with pytest.raises(NotImplementedError, match="save_weights"):
        model.save(tmp_path / "m.safetensors")
    model.save_weights(tmp_path / "w.safetensors")
    again = Subclassed()
    again.build((None, 4))
    again.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_functional_residual_model_matches_its_layers_by_hand(blobs):
    x, y = blobs
    inputs = axon.Input(shape=(4,), name="features")
    first = axon.layers.Dense(4, activation="relu")
    h = first(inputs)
    residual = axon.layers.Add()([inputs, h])
    head = axon.layers.Dense(3, activation="softmax")
    model = axon.Model(inputs=inputs, outputs=head(residual))
    assert model.inputs[0].shape == (None, 4)
    by_hand = head(axon.ops.add(x, first(x))).numpy()
    np.testing.assert_allclose(model.predict(x), by_hand, rtol=1e-5, atol=1e-6)
    compiled(model).fit(x, y, epochs=3, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.8


def test_two_inputs_by_list_or_by_name(blobs):
    x, y = blobs
    a, b = axon.Input(shape=(2,), name="a"), axon.Input(shape=(2,), name="b")
    merged = axon.layers.Concatenate()([axon.layers.Dense(4)(a), axon.layers.Dense(4)(b)])
    model = axon.Model([a, b], axon.layers.Dense(3, activation="softmax")(merged))
    compiled(model)
    parts = [x[:, :2].copy(), x[:, 2:].copy()]
    model.fit(parts, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.predict(parts), model.predict({"a": parts[0], "b": parts[1]}))


def test_model_file_round_trip(tmp_path, blobs):
    x, y = blobs
    model = compiled(mlp())
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = axon.models.load_model(tmp_path / "m.safetensors")
    assert isinstance(loaded, axon.Sequential)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in model.layers]


def test_weights_as_numpy_lists(blobs):
    model = mlp()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    model.set_weights([np.zeros_like(w) for w in weights])
    np.testing.assert_array_equal(model.predict(blobs[0]), np.full((150, 3), 1 / 3, dtype=np.float32))
    with pytest.raises(ValueError):
        model.set_weights(weights[:1])


def test_summary_prints_the_table(capsys):
    mlp().summary()
    out = capsys.readouterr().out
    assert "Total params: 67" in out and "Dense" in out
