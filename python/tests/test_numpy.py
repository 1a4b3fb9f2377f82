"""numpy in without a copy where dtype and layout allow; conversions and errors otherwise."""
import numpy as np
import pytest

import axon
from axon import _axon


def test_float32_contiguous_input_is_shared_not_copied():
    x = np.ones((8, 4), dtype=np.float32)
    assert _axon._tensor_address(x) == x.ctypes.data


def test_int64_labels_are_shared_and_stay_integers():
    y = np.arange(6, dtype=np.int64)
    assert _axon._tensor_address(y) == y.ctypes.data


@pytest.mark.parametrize("x", [np.ones((8, 4)), np.ones((4, 8), dtype=np.float32).T, np.ones((8, 4), dtype=np.uint8)])
def test_other_dtypes_and_layouts_are_converted(x):
    assert _axon._tensor_address(x) != x.ctypes.data
    model = axon.Sequential([axon.Input(shape=(4,)), axon.layers.Dense(2)])
    out = model.predict(x)
    expected = model.predict(np.ascontiguousarray(x, dtype=np.float32))
    np.testing.assert_array_equal(out, expected)


def test_float64_is_computed_as_float32_like_keras():
    model = axon.Sequential([axon.Input(shape=(3,)), axon.layers.Dense(2)])
    assert model.predict(np.ones((2, 3))).dtype == np.float32


@pytest.mark.parametrize("bad", [np.array([["a", "b"]]), np.array([[object(), 1]], dtype=object)])
def test_non_numeric_arrays_raise_type_error(bad):
    model = axon.Sequential([axon.Input(shape=(2,)), axon.layers.Dense(2)])
    with pytest.raises(TypeError, match="numeric"):
        model.predict(bad)


def test_outputs_keep_their_tensor_alive():
    model = axon.Sequential([axon.Input(shape=(3,)), axon.layers.Dense(2)])
    out = model.predict(np.ones((5, 3), dtype=np.float32))
    del model
    assert out.shape == (5, 2) and np.isfinite(out).all()


def test_read_only_inputs_are_read_not_written(blobs):
    x, y = blobs
    x = x.copy()
    x.setflags(write=False)
    before = x.copy()
    model = axon.Sequential([axon.Input(shape=(4,)), axon.layers.Dropout(0.5), axon.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.predict(x[:1])
    np.testing.assert_array_equal(x, before)
