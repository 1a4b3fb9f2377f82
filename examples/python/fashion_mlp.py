"""The main job in Python, as a Keras user writes it: Fashion-MNIST (Debian's
dataset-fashion-mnist) with a 784-256-128-10 MLP, then its test accuracy, per-class
report, a model file and an ONNX file.

    PYTHONPATH=build/python python3 examples/python/fashion_mlp.py [epochs]
"""
import sys

import numpy as np

from axon import keras
import axon

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
keras.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train.reshape(-1, 784) / 255.0  # float64 here; computed as float32, as Keras does
x_test = x_test.reshape(-1, 784) / 255.0

model = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(256, activation="relu"),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()
model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.1, verbose=2,
          callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)])

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
predicted = np.argmax(model.predict(x_test, batch_size=256), axis=1)
print(axon.metrics.classification_report(y_test, predicted,
                                         target_names=keras.datasets.fashion_mnist.class_names()))

model.save("fashion_mlp.safetensors")  # axon serve --model fashion=fashion_mlp.safetensors
axon.save_onnx(model, "fashion_mlp.onnx")
print("wrote fashion_mlp.safetensors and fashion_mlp.onnx")
