"""Registered layers from Python: golden values against numpy, configs, Python layers."""
import numpy as np
import pytest

import axon
from axon import _axon


def test_every_registered_layer_has_a_class():
    for registered in _axon.layer_types():
        if registered in ("sequential", "functional"):
            continue
        cls = getattr(axon.layers, axon.layers._class_name(registered))
        assert cls._type == registered
    assert axon.layers.MaxPooling2D is axon.layers.MaxPool2D


def test_dense_matches_numpy():
    layer = axon.layers.Dense(3, activation="relu")
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)


def test_conv2d_matches_a_naive_convolution():
    layer = axon.layers.Conv2D(2, 3, padding="valid")
    x = np.random.default_rng(2).normal(size=(1, 1, 5, 5)).astype(np.float32)  # NCHW, as axon's Conv2D
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    naive = np.zeros((1, 2, 3, 3), dtype=np.float32)
    w = kernel.reshape(2, 1, 3, 3) if kernel.shape[0] == 2 else np.transpose(kernel, (3, 2, 0, 1))
    for o in range(2):
        for i in range(3):
            for j in range(3):
                naive[0, o, i, j] = (x[0, 0, i:i + 3, j:j + 3] * w[o, 0]).sum() + bias[o]
    np.testing.assert_allclose(y, naive, rtol=1e-4, atol=1e-5)


def test_positional_and_keyword_arguments_follow_keras():
    layer = axon.layers.Dense(7, "tanh", use_bias=False, name="hidden")
    config = layer.get_config()
    assert config["units"] == 7 and config["activation"] == "tanh" and config["use_bias"] is False
    assert layer.name == "hidden"
    clone = axon.layers.Dense.from_config(config)
    assert clone.get_config() == config


def test_bad_settings_raise_value_error_naming_the_field():
    with pytest.raises(ValueError, match="rate"):
        axon.layers.Dropout(1.5)
    with pytest.raises(ValueError, match="units"):
        axon.layers.Dense(units=-1)
    with pytest.raises(TypeError, match="positional"):
        axon.layers.Dropout(0.1, 2, 3, 4)


class Scale(axon.layers.Layer):
    """y = x * w, one weight per feature, made in build."""

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w


def test_a_python_layer_builds_trains_and_reports_its_weights(blobs):
    x, y = blobs
    scale = Scale()
    model = axon.Sequential([axon.Input(shape=(4,)), scale, axon.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=axon.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    before = scale.get_weights()[0].copy()
    np.testing.assert_array_equal(before, np.ones(4, dtype=np.float32))
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(scale.get_weights()[0], before)  # gradients reached the Python layer's weight
    assert model.layers[0] is scale
    assert model.count_params() == 4 + 4 * 3 + 3


def test_a_python_layer_gradient_matches_central_differences():
    scale = Scale()
    x = np.array([[1.0, -2.0, 3.0]], dtype=np.float32)
    out = axon.ops.sum(axon.ops.square(scale(x)))
    out.backward()
    w = scale.weights[0]
    np.testing.assert_allclose(w.grad, 2 * x[0] ** 2 * w.numpy(), rtol=1e-6)


class Residual(axon.layers.Layer):
    """x + dense(x): a Python layer holding a layer of its own."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = axon.layers.Dense(units)

    def call(self, x):
        return x + self.dense(x)


def test_a_python_layer_tracks_the_layers_it_holds(blobs):
    x, y = blobs
    block = Residual(4, name="block")
    model = axon.Sequential([axon.Input(shape=(4,)), block, axon.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert [name for name, _, _ in block._module.named_parameters()] == ["dense.kernel", "dense.bias"]
    kernel, bias = block.dense.get_weights()
    np.testing.assert_allclose(block(x).numpy(), x + x @ kernel + bias, rtol=1e-5, atol=1e-5)
    before = block.get_weights()[0].copy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(block.get_weights()[0], before)
    assert block.name == "block"


def test_sequence_layers_have_kerass_names_arguments_and_parameter_counts():
    L = axon.layers
    model = axon.Sequential([axon.Input(shape=(6,)), L.Embedding(10, 4), L.LSTM(8, return_sequences=True), L.GRU(5),
                             L.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).integers(0, 10, size=(64, 6)).astype(np.float32)
    y = (x[:, 0] > 4).astype(np.int64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [layer.count_params() for layer in model.layers] == [40, 4 * (4 * 8 + 8 * 8 + 8), 3 * (8 * 5 + 5 * 5) + 2 * 15, 12]
    rnn = axon.Sequential([axon.Input(shape=(3, 2)), L.SimpleRNN(4, go_backwards=True)])
    assert rnn.predict(np.zeros((1, 3, 2), np.float32)).shape == (1, 4)
    with pytest.raises(ValueError, match="token id 10"):
        model.predict(np.full((1, 6), 10, np.float32))


def test_wrappers_take_a_layer_given_as_an_object():
    L = axon.layers
    model = axon.Sequential([axon.Input(shape=(6, 3)), L.Bidirectional(L.LSTM(8, return_sequences=True)),
                             L.TimeDistributed(L.Dense(4)), L.GlobalMaxPooling1D(), L.Dense(1)])
    x = np.random.default_rng(1).random((32, 6, 3), dtype=np.float32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x.mean(axis=(1, 2))[:, None], epochs=1, verbose=0)
    assert [layer.count_params() for layer in model.layers] == [2 * 4 * (3 * 8 + 8 * 8 + 8), 16 * 4 + 4, 0, 5]
    assert model.predict(x[:2]).shape == (2, 1)


def test_attention_and_transformer_layers_as_keras_calls_them():
    L = axon.layers
    tokens = axon.Input(shape=(8,))
    x = L.PositionalEmbedding(8)(L.Embedding(12, 16, mask_zero=True)(tokens))
    attention = L.MultiHeadAttention(num_heads=2, key_dim=8)
    x = L.LayerNormalization()(L.Add()([x, attention(x, x)]))
    x = L.TransformerEncoderBlock(2, 32, dropout=0.1)(x)
    model = axon.Model(tokens, L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x)))
    rng = np.random.default_rng(2)
    ids = rng.integers(1, 12, size=(64, 8)).astype(np.float32)
    ids[::2, 5:] = 0  # padding, masked from the embedding on
    labels = (ids[:, 0] > 6).astype(np.int64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, labels, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert attention.count_params() == 4 * (16 * 16 + 16)
    assert model.predict(ids[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="use_causal_mask"):
        attention(x, x, use_causal_mask=True)
    gpt = L.TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    assert gpt.get_config()["normalize_first"] is True
    causal = L.MultiHeadAttention(2, 4, causal=True)
    seq = np.random.default_rng(3).random((1, 5, 6), dtype=np.float32)
    full = causal(seq, seq, use_causal_mask=True).numpy()
    head = causal(seq[:, :3], seq[:, :3], use_causal_mask=True).numpy()
    np.testing.assert_allclose(full[:, :3], head, atol=1e-6)  # step i never sees steps after it


def test_text_vectorization_pad_sequences_and_generate_as_keras_users_write_them():
    L = axon.layers
    words = L.TextVectorization(output_sequence_length=4)
    words.adapt(["the cat sat", "the dog"])
    assert words.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "dog"]
    np.testing.assert_array_equal(words(["the dog barked"]), [[2, 5, 1, 0]])
    np.testing.assert_array_equal(axon.utils.pad_sequences([[1, 2, 3], [4]], maxlen=2), [[2, 3], [0, 4]])
    classifier = axon.Sequential([axon.Input(shape=(3,)), L.Embedding(10, 2), L.LSTM(2)])
    with pytest.raises(ValueError, match="different lengths.*pad_sequences"):  # a ragged batch
        classifier.predict([[1, 2, 3], [4]])

    chars = L.TextVectorization(split="character", standardize="none")
    chars.adapt(["abcd"])
    tokens = axon.Input(shape=(8,))
    x = L.PositionalEmbedding(8)(L.Embedding(6, 16)(chars(tokens)))
    model = axon.Model(tokens, L.Dense(6, activation="softmax")(L.TransformerDecoderBlock(2, 32)(x)))
    ids = np.array([[2 + (i + t) % 4 for t in range(9)] for i in range(64)], np.float32)
    model.compile(optimizer=axon.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    model.fit(ids[:, :8], ids[:, 1:], epochs=30, batch_size=16, verbose=0)
    assert axon.generate(model, "bcd", tokens=5, temperature=0) == "bcdabcda"
    assert axon.generate(model, [3, 4], tokens=2, temperature=0, cache=False) == [3, 4, 5, 2]
