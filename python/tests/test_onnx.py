"""ONNX export, checked by others: ONNX's own checker and shape inference (full check),
and OpenCV's dnn module running the file against axon's predict on 100 inputs."""
import numpy as np
import pytest

import axon

onnx = pytest.importorskip("onnx")
import onnx.numpy_helper  # noqa: E402
cv2 = pytest.importorskip("cv2")

L = axon.layers


def mlp():
    return axon.Sequential([axon.Input(shape=(784,)), L.Dense(64, activation="relu"), L.Dropout(0.2),
                            L.Dense(10, activation="softmax")])


def cnn(batch_norm=False):
    layers = [axon.Input(shape=(1, 28, 28)), L.Conv2D(8, 3, activation="relu")]
    if batch_norm:
        layers.append(L.BatchNormalization())
    layers += [L.MaxPool2D(2), L.Conv2D(16, 3, padding="same", activation="relu"), L.AveragePool2D(2),
               L.Flatten(), L.Dense(32, activation="tanh"), L.Dense(10, activation="softmax")]
    return axon.Sequential(layers)


def residual():
    inputs = axon.Input(shape=(3, 12, 12), name="image")
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = L.Add()([x, L.Conv2D(4, 1)(x)])
    pooled = L.GlobalAveragePool2D()(x)
    flat = L.Flatten()(L.MaxPool2D(2, strides=(3, 3))(x))
    joined = L.Concatenate()([pooled, L.Dense(8, activation="gelu")(flat)])
    head = axon.Sequential([axon.Input(shape=(12,)), L.Dense(6, activation="silu"), L.Dense(3, activation="sigmoid")])
    return axon.Model(inputs, [head(joined), L.Average()([L.Dense(2)(joined), L.Dense(2)(joined)])])


def sequence():
    return axon.Sequential([axon.Input(shape=(4, 20)), L.Conv1D(6, 3, padding="same", activation="elu"),
                            L.Conv1D(4, 5, strides=2), L.Reshape((4, 8, 1)), L.Flatten(), L.Dense(2)])


CASES = {
    "mlp": (mlp, (784,)),
    "cnn": (lambda: cnn(False), (1, 28, 28)),
    "cnn_bn": (lambda: cnn(True), (1, 28, 28)),
    "residual": (residual, (3, 12, 12)),
    "conv1d": (sequence, (4, 20)),
}


# What OpenCV 4.6's ONNX importer cannot run, and why; these files are checked by the
# ONNX checker and run by numpy_run below instead.
OPENCV_EXCEPTIONS = {
    "conv1d": "OpenCV 4.6 runs ONNX Conv on 4-D inputs only (its 1-D path asserts) and misreads 3-D Flatten",
}


def numpy_run(proto, x):
    """A plain numpy reading of the ONNX operators conv1d's file uses (the ONNX spec's
    formulas), independent of axon's kernels."""
    values = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    values[proto.graph.input[0].name] = x
    for node in proto.graph.node:
        a = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
        ins = [values[i] for i in node.input]
        if node.op_type == "Conv":  # 1-D: (N, C, L) * (F, C, k)
            data, w = np.pad(ins[0], ((0, 0), (0, 0), (a["pads"][0], a["pads"][1]))), ins[1]
            s, d, k = a["strides"][0], a["dilations"][0], w.shape[2]
            length = (data.shape[2] - d * (k - 1) - 1) // s + 1
            out = np.stack([np.einsum("nck,fck->nf", data[:, :, t * s:t * s + d * (k - 1) + 1:d], w)
                            for t in range(length)], axis=2)
            out = out + (ins[2][None, :, None] if len(ins) > 2 else 0)
        elif node.op_type == "Elu":
            out = np.where(ins[0] > 0, ins[0], a["alpha"] * (np.exp(ins[0]) - 1))
        elif node.op_type == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif node.op_type == "Reshape":
            out = ins[0].reshape([ins[0].shape[i] if v == 0 else v for i, v in enumerate(ins[1])])
        elif node.op_type in ("MatMul", "Add", "Identity"):
            out = ins[0] @ ins[1] if node.op_type == "MatMul" else ins[0] + ins[1] if node.op_type == "Add" else ins[0]
        else:
            raise NotImplementedError(node.op_type)
        values[node.output[0]] = out.astype(np.float32)
    return [values[o.name] for o in proto.graph.output]


@pytest.mark.parametrize("name", CASES)
def test_export_passes_the_onnx_checker_and_runs_in_opencv(name, tmp_path):
    make, shape = CASES[name]
    model = make()
    x = np.random.default_rng(1).random((100,) + shape, dtype=np.float32)
    if name == "cnn_bn":  # moving statistics away from 0 and 1
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, np.arange(100) % 10, epochs=2, verbose=0)
    path = tmp_path / f"{name}.onnx"
    axon.save_onnx(model, path)

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    assert [i.name for i in proto.graph.input] == list(model._model.input_names)
    assert [o.name for o in proto.graph.output] == list(model._model.output_names)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"

    expected = model.predict(x)
    expected = expected if isinstance(expected, list) else [expected]
    if name in OPENCV_EXCEPTIONS:
        got = numpy_run(proto, x)
    else:
        net = cv2.dnn.readNetFromONNX(str(path))
        net.setInput(x, proto.graph.input[0].name)
        got = net.forward([o.name for o in proto.graph.output])
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g.reshape(e.shape), e, atol=1e-4, rtol=1e-4)


def test_what_cannot_be_exported_fails_naming_it(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"the last good file")

    class Subclassed(axon.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Subclassed()
    model.build((None, 3))
    with pytest.raises(ValueError, match="Subclassed.*own call"):
        axon.save_onnx(model, path)
    quantized = axon.Sequential([axon.Input(shape=(4,)), L.QuantizedDense(3)])
    with pytest.raises(ValueError, match="QuantizedDense.*no ONNX form"):
        axon.save_onnx(quantized, path)
    with pytest.raises(ValueError, match="opset"):
        axon.save_onnx(mlp(), path, opset=7)
    assert path.read_bytes() == b"the last good file"  # a failed export leaves the old file
