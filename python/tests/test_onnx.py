"""ONNX both ways. Export, checked by others: ONNX's own checker and shape inference
(full check), and OpenCV's dnn module running the file against axon's predict on 100
inputs. Import: axon's files come back with the same outputs, and a model defined in
PyTorch and exported by torch.onnx.export gives PyTorch's outputs and fine-tunes."""
import numpy as np
import pytest

import axon
import onnx_numpy

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


def recurrent():
    return axon.Sequential([axon.Input(shape=(7,)), L.Embedding(50, 8), L.PositionalEmbedding(9),
                            L.LSTM(6, return_sequences=True), L.Bidirectional(L.GRU(5, return_sequences=True)),
                            L.Bidirectional(L.LSTM(4, return_sequences=True)),
                            L.SimpleRNN(4, return_sequences=True), L.GRU(3, reset_after=False, go_backwards=True),
                            L.Dense(2)])


def recurrent_states():
    inputs = axon.Input(shape=(6, 3), name="sequence")
    sequence, h, c = L.LSTM(5, return_sequences=True, return_state=True)(inputs)
    merged = L.Bidirectional(L.SimpleRNN(4), merge_mode="mul")(L.GRU(5, return_sequences=True)(sequence, initial_state=h))
    averaged = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="ave")(sequence)
    last = L.LSTM(5, go_backwards=True)(sequence, initial_state=[h, c])
    return axon.Model(inputs, [L.Concatenate()([merged, last, c]), L.GlobalMaxPooling1D()(averaged)])


def time_distributed():
    return axon.Sequential([axon.Input(shape=(5, 1, 6, 6)),
                            L.TimeDistributed(L.Conv2D(2, 3, activation="relu")), L.TimeDistributed(L.Flatten()),
                            L.GRU(4), L.Dense(2)])


def backwards_sequence():
    return axon.Sequential([axon.Input(shape=(6, 3)), L.SimpleRNN(4, return_sequences=True, go_backwards=True),
                            L.Flatten(), L.Dense(2)])


def transformer():
    return axon.Sequential([axon.Input(shape=(7,)), L.Embedding(50, 16), L.PositionalEmbedding(10),
                            L.TransformerEncoderBlock(2, 32), L.GlobalAveragePooling1D(), L.Dense(3)])


def gpt():
    return axon.Sequential([axon.Input(shape=(7,)), L.Embedding(50, 16), L.SinePositionEncoding(),
                            L.TransformerDecoderBlock(4, 32, normalize_first=False),
                            L.TransformerDecoderBlock(2, 16), L.Dense(50, activation="softmax")])


CASES = {
    "mlp": (mlp, (784,)),
    "cnn": (lambda: cnn(False), (1, 28, 28)),
    "cnn_bn": (lambda: cnn(True), (1, 28, 28)),
    "residual": (residual, (3, 12, 12)),
    "conv1d": (sequence, (4, 20)),
    "recurrent": (recurrent, (7,)),
    "recurrent_states": (recurrent_states, (6, 3)),
    "backwards_sequence": (backwards_sequence, (6, 3)),
    "time_distributed": (time_distributed, (5, 1, 6, 6)),
    "transformer": (transformer, (7,)),
    "gpt": (gpt, (7,)),
}
TOKEN_IDS = {"recurrent", "transformer", "gpt"}  # their input is token ids < 50


def inputs_for(name, count, seed):
    rng = np.random.default_rng(seed)
    shape = (count,) + CASES[name][1]
    return rng.integers(0, 50, shape).astype(np.float32) if name in TOKEN_IDS else rng.random(shape, dtype=np.float32)


# What OpenCV 4.6's ONNX importer cannot run, and why; these files are checked by the
# ONNX checker and run by onnx_numpy (the ONNX specification's formulas in numpy) instead.
OPENCV_EXCEPTIONS = {
    "conv1d": "OpenCV 4.6 runs ONNX Conv on 4-D inputs only (its 1-D path asserts) and misreads 3-D Flatten",
    "recurrent": "OpenCV 4.6 gathers from constant indices only (an Embedding's ids come from the graph's input)",
    "backwards_sequence": "OpenCV 4.6 cannot leave RNN's optional inputs empty",
    "time_distributed": "OpenCV 4.6 needs GRU's initial_h",
    "recurrent_states": "OpenCV 4.6 needs GRU's initial_h, cannot leave RNN's optional inputs empty and "
                        "asserts on Transpose after its LSTM (its LSTM output has another rank)",
    "transformer": "OpenCV 4.6 has no LayerNormalization (4.8 adds it) and no Gather from graph indices",
    "gpt": "OpenCV 4.6 has no LayerNormalization (4.8 adds it) and no Gather from graph indices",
}


@pytest.mark.parametrize("name", CASES)
def test_export_passes_the_onnx_checker_and_runs_in_opencv(name, tmp_path):
    make, _ = CASES[name]
    model = make()
    x = inputs_for(name, 100, 1)
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
        got = onnx_numpy.run(proto, {proto.graph.input[0].name: x})
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


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_exported_model_imports_with_the_same_outputs(name, tmp_path):
    make, _ = CASES[name]
    model = make()
    x = inputs_for(name, 20, 2)
    axon.save_onnx(model, tmp_path / "m.onnx", opset=17)  # LayerNormalization as one operator
    back = axon.load_onnx(tmp_path / "m.onnx")
    assert list(back._model.input_names) == list(model._model.input_names)
    expected, got = model.predict(x), back.predict(x)
    for e, g in zip(expected if isinstance(expected, list) else [expected], got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(g, e, atol=1e-6, rtol=1e-6)


def test_a_pytorch_model_imports_gives_its_outputs_and_fine_tunes(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3)).eval()
    x = np.random.default_rng(3).standard_normal((64, 1, 8, 8)).astype(np.float32)
    torch.onnx.export(net, torch.from_numpy(x[:1]), str(tmp_path / "net.onnx"), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13, training=torch.onnx.TrainingMode.PRESERVE)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    model = axon.models.load_model(tmp_path / "net.onnx")  # load_model takes .onnx too
    np.testing.assert_allclose(model.predict(x), expected, atol=1e-4, rtol=1e-4)

    labels = (x[:, 0, :4, :].mean(axis=(1, 2)) > 0).astype(np.int64) + (x[:, 0, 4:, :].mean(axis=(1, 2)) > 0)
    model.compile(optimizer=axon.optimizers.Adam(0.01), loss=axon.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.evaluate(x, labels, verbose=0)
    model.fit(x, labels, epochs=1, batch_size=8, verbose=0)
    assert model.evaluate(x, labels, verbose=0) < before


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_pytorch_recurrent_model_imports_with_its_outputs(kind, tmp_path):
    """torch.onnx.export writes its recurrent layers time-major, between Transposes, with
    zero initial states computed from the batch size (Shape, Gather, ConstantOfShape)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(40, 8)
            self.first = getattr(torch.nn, kind)(8, 6, batch_first=True, bidirectional=True)
            self.second = getattr(torch.nn, kind)(12, 5, batch_first=True)
            self.head = torch.nn.Linear(5 + 12, 3)

        def forward(self, ids):
            sequence, _ = self.first(self.embedding(ids))
            _, state = self.second(sequence)
            h = state[0] if kind == "LSTM" else state
            return self.head(torch.cat([h[-1], sequence.mean(dim=1)], dim=1))

    net = Net().eval()
    ids = torch.from_numpy(np.random.default_rng(4).integers(0, 40, (32, 9)))
    torch.onnx.export(net, ids[:1], str(tmp_path / "net.onnx"), input_names=["ids"], output_names=["scores"],
                      dynamic_axes={"ids": {0: "batch"}, "scores": {0: "batch"}}, opset_version=13)
    with torch.no_grad():
        expected = net(ids).numpy()
    model = axon.load_onnx(tmp_path / "net.onnx")
    np.testing.assert_allclose(model.predict(ids.numpy().astype(np.float32)), expected, atol=1e-5, rtol=1e-4)


def test_cross_attention_comes_back_bit_for_bit(tmp_path):
    query, value = axon.Input(shape=(5, 8), name="query"), axon.Input(shape=(3, 6), name="value")
    model = axon.Model([query, value], [L.MultiHeadAttention(2, 4, value_dim=3, output_dim=7)(query, value)])
    axon.save_onnx(model, tmp_path / "m.onnx")
    back = axon.load_onnx(tmp_path / "m.onnx")
    rng = np.random.default_rng(5)
    x = [rng.random((20, 5, 8), dtype=np.float32), rng.random((20, 3, 6), dtype=np.float32)]
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_an_unsupported_operator_is_named(tmp_path):
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "h.onnx"))
    with pytest.raises(ValueError, match="operators axon does not support: Hardmax"):
        axon.load_onnx(tmp_path / "h.onnx")
