"""The Keras tutorial program, with only its import line changed."""
import numpy as np

from axon import keras


class MLP(keras.Model):
    def __init__(self, input_shape, hidden_units, output_units):
        super().__init__()
        self.input_layer = keras.layers.InputLayer(input_shape=input_shape)
        self.hidden_layer = keras.layers.Dense(hidden_units, activation="relu")
        self.output_layer = keras.layers.Dense(output_units, activation="softmax")

    def call(self, inputs):
        x = self.input_layer(inputs)
        x = self.hidden_layer(x)
        return self.output_layer(x)


def test_the_tutorial_runs_and_learns():
    x = np.random.random((100, 10))
    y = np.random.randint(10, size=(100, 1))
    model = MLP(input_shape=(10,), hidden_units=10, output_units=10)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, verbose=0)
    predictions = model.predict(x)

    assert predictions.shape == (100, 10)
    assert predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    losses = history.history["loss"]
    assert len(losses) == 10 and len(history.history["accuracy"]) == 10
    assert losses[-1] < losses[0]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.count_params() == 10 * 10 + 10 + 10 * 10 + 10
