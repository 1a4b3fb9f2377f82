"""axon.Variable and axon.ops: gradients against closed forms and central differences."""
import numpy as np
import pytest

import axon
from axon import ops


def test_gradient_of_a_sum_of_squares():
    x = axon.Variable(np.array([1.0, -2.0, 3.0], dtype=np.float32), requires_grad=True)
    loss = ops.sum(x * x)
    loss.backward()
    np.testing.assert_allclose(x.grad, [2.0, -4.0, 6.0])
    assert loss.item() == pytest.approx(14.0)


def test_matmul_gradients_match_numpy():
    rng = np.random.default_rng(0)
    a_value, b_value = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    a, b = axon.Variable(a_value, requires_grad=True), axon.Variable(b_value, requires_grad=True)
    ops.sum(a @ b).backward()
    np.testing.assert_allclose(a.grad, np.ones((3, 2)) @ b_value.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad, a_value.T @ np.ones((3, 2)), rtol=1e-12)


def composite(x):
    return ops.sum(ops.tanh(x) * ops.sigmoid(2.0 * x) + ops.softmax(x, axis=-1) ** 2)


def test_a_composite_matches_central_differences_in_float64():
    value = np.random.default_rng(1).normal(size=(2, 3))
    x = axon.Variable(value, requires_grad=True)
    composite(x).backward()
    numeric = np.zeros_like(value)
    eps = 1e-6
    for index in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (composite(axon.Variable(up)).item() - composite(axon.Variable(down)).item()) / (2 * eps)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-3, atol=1e-5)


def test_no_grad_records_nothing():
    x = axon.Variable(np.ones(2, dtype=np.float32), requires_grad=True)
    with axon.no_grad():
        y = x * 2.0
    assert y.op == "leaf" or not y.requires_grad


def test_shape_errors_name_the_op():
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(np.ones((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float32))
