"""Public Function, gradcheck, detect_anomaly and grad modes."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import autograd


def leaf(values):
    return at.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- Function ---------------------------------------------------------------------------------

class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2 * ctx.scale, None


class WrongCube(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x ** 2      # should be 3 x^2


class Broadcasting(autograd.Function):
    """Returns a gradient of the broadcast shape and another dtype; the engine fixes both."""

    @staticmethod
    def forward(ctx, bias, x):
        return bias + x

    @staticmethod
    def backward(ctx, grad):
        return np.asarray(grad.numpy(), dtype=np.float64), grad


def test_function_forward_backward_and_graph_links():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 2.0)
    assert y.tolist() == [2.0, 16.0]
    assert y._op == "cube" and y._prev == (x,) and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_function_without_grad_input_records_nothing():
    y = Cube.apply(at.tensor([1.0]), 1.0)
    assert not y.requires_grad and y.is_leaf


def test_function_is_differentiable_twice_when_backward_uses_tensor_ops():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad(Cube.apply(x, 1.0).sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0]


def test_function_gradient_is_unbroadcast_and_cast():
    bias = at.tensor(np.zeros(3, np.float32), requires_grad=True)
    x = at.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    Broadcasting.apply(bias, x).sum().backward()
    assert bias.grad.dtype == np.float32 and bias.grad.tolist() == [2.0, 2.0, 2.0]
    assert x.grad.shape == (2, 3)


def test_function_saved_tensor_changed_in_place_raises():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 1.0)
    with at.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_function_saved_tensors_after_release_raise():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 1.0)
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        _ = node.saved_tensors


def test_gradcheck_passes_on_correct_backward_and_fails_on_wrong_one():
    x = leaf([0.5, 1.5, -2.0])
    assert autograd.gradcheck(lambda t: Cube.apply(t, 0.5), (x,))
    with pytest.raises(AssertionError, match="input 0"):
        autograd.gradcheck(WrongCube.apply, (x,))
    assert autograd.gradcheck(WrongCube.apply, [x], raise_exception=False) is False


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        autograd.gradcheck(at.exp, (at.tensor([1.0], requires_grad=True),))


def test_gradgradcheck_checks_second_derivatives():
    x = leaf([0.5, 1.5])
    assert autograd.gradgradcheck(lambda t: (t.tanh() * t).sum(), (x,))


# -- detect_anomaly ----------------------------------------------------------------------------

def test_detect_anomaly_names_sqrt_at_zero():
    x = leaf([0.0, 4.0])
    with pytest.raises(RuntimeError, match=r"'sqrt' returned inf") as info, \
            np.errstate(all="ignore"), autograd.detect_anomaly():
        at.sqrt(x).sum().backward()
    assert "test_detect_anomaly_names_sqrt_at_zero" in str(info.value)  # creation site
    assert not autograd.is_anomaly_enabled()


def test_detect_anomaly_names_log_at_zero_with_nan():
    x = leaf([0.0, 1.0])
    with pytest.raises(RuntimeError, match=r"'log' returned nan"), np.errstate(all="ignore"):
        with autograd.detect_anomaly():
            (at.log(x) * 0).sum().backward()


def test_without_anomaly_mode_the_nonfinite_gradient_goes_through():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore"):
        at.sqrt(x).sum().backward()
    assert np.isinf(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.25


def test_detect_anomaly_first_op_in_backward_order():
    x = leaf([0.0])
    y = at.sqrt(x)                  # inf in backward
    z = at.log(y + 1e-300) * 0      # finite gradient (0 * 1e300)
    with pytest.raises(RuntimeError, match="'sqrt'"), np.errstate(all="ignore"):
        with autograd.detect_anomaly():
            z.sum().backward()


# -- grad modes --------------------------------------------------------------------------------

def test_no_grad_context_records_nothing_and_restores():
    x = leaf([1.0])
    with at.no_grad():
        assert not at.is_grad_enabled()
        y = x * 2
    assert at.is_grad_enabled()
    assert not y.requires_grad and y._prev == () and y._op == "" and y.is_leaf


def test_no_grad_restores_after_exception():
    with pytest.raises(ValueError):
        with at.no_grad():
            raise ValueError
    assert at.is_grad_enabled()


def test_grad_mode_decorators():
    x = leaf([1.0])

    @at.no_grad()
    def called():
        return x * 2

    @at.no_grad
    def bare():
        return x * 2

    @at.enable_grad()
    def enabled():
        return x * 2

    @at.set_grad_enabled(False)
    def disabled():
        return x * 2

    assert at.is_grad_enabled()           # decorating switched nothing
    assert not called().requires_grad and not bare().requires_grad
    assert not disabled().requires_grad
    with at.no_grad():
        assert enabled().requires_grad
    assert called.__name__ == "called"


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    x = leaf([1.0])
    with at.no_grad():
        with at.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with at.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert at.is_grad_enabled()
    at.set_grad_enabled(False)
    try:
        assert not at.is_grad_enabled()
    finally:
        at.set_grad_enabled(True)
    assert (x * 2).requires_grad
