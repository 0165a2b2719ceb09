"""ops/special.py against PyTorch: values, dtypes, first and second derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

RNG = np.random.default_rng(0)
REAL = RNG.uniform(-2, 2, (3, 4))
UNIT = RNG.uniform(-0.9, 0.9, (3, 4))
POSITIVE = RNG.uniform(0.3, 3, (3, 4))
ABOVE_ONE = RNG.uniform(1.2, 3, (3, 4))

UNARY = [("tan", UNIT), ("asin", UNIT), ("acos", UNIT), ("atan", REAL), ("sinh", REAL),
         ("cosh", REAL), ("asinh", REAL), ("acosh", ABOVE_ONE), ("atanh", UNIT),
         ("arcsin", UNIT), ("arctanh", UNIT), ("exp2", REAL), ("erfc", REAL),
         ("erfinv", UNIT), ("lgamma", POSITIVE), ("digamma", POSITIVE), ("sinc", REAL),
         ("deg2rad", REAL), ("rad2deg", REAL), ("logit", RNG.uniform(0.05, 0.95, (3, 4))),
         ("sgn", REAL)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, values", UNARY, ids=[u[0] for u in UNARY])
def test_unary_function_and_method(check, name, values, dtype):
    check(lambda lib, x, name=name: getattr(lib, name)(x), values, dtype=dtype)
    check(lambda lib, x, name=name: getattr(x, name)(), values[0], dtype=dtype)


@pytest.mark.parametrize("name", ["tan", "atan", "sinh", "exp2", "erfc", "sinc", "deg2rad",
                                  "lgamma", "digamma", "sgn", "rad2deg"])
def test_unary_on_integers_follows_torch_dtype(check, name):
    check(lambda lib, x, name=name: getattr(lib, name)(x), np.array([1, 2, 3]), grad=False)


def test_unary_in_place_forms():
    for name, values in UNARY[:10]:
        ours, theirs = at.tensor(values.copy()), torch.tensor(values.copy())
        getattr(ours, name + "_")()
        getattr(theirs, name + "_")()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_special_values(check):
    x = np.array([-1.0, 1.0, 0.0, 2.0, np.nan, -0.0, 1e-300])
    check(lambda lib, t: lib.erfinv(t), x, grad=False)
    check(lambda lib, t: lib.sinc(t), np.array([0.0, 1.0, -2.0, 0.5]), grad2=False)
    check(lambda lib, t: lib.lgamma(t), np.array([-2.5, -1.0, 0.0, 0.5, 30.0]), grad=False)
    check(lambda lib, t: lib.digamma(t), np.array([-2.5, -0.5, 0.5, 30.0]), grad=False)
    check(lambda lib, t: lib.polygamma(2, t), np.array([0.5, 1.5, 7.0]))
    check(lambda lib, t: lib.logit(t, eps=0.1), np.array([0.0, 0.05, 0.1, 0.5, 0.95, 1.0]),
          grad2=False)


def test_special_functions_without_scipy(monkeypatch):
    from abdou_torch.ops import special
    x = np.array([-2.5, -0.5, 0.3, 0.5, 1.0, 3.7, 12.0, 40.0])
    expected = {n: special._polygamma_array(n, x) for n in range(3)}
    lgamma = special._lgamma_array(x)
    u = np.array([-0.999, -0.5, 0.0, 0.2, 0.9, 0.99999])
    erfinv = special._erfinv_array(u)
    monkeypatch.setattr(special, "_scipy_special", lambda: None)
    for n in range(3):
        np.testing.assert_allclose(special._polygamma_array(n, x), expected[n], rtol=1e-10)
    np.testing.assert_allclose(special._lgamma_array(x), lgamma, rtol=1e-12)
    np.testing.assert_allclose(special._erfinv_array(u), erfinv, rtol=1e-10, atol=1e-14)


BINARY = [("atan2", REAL, POSITIVE - 1), ("hypot", REAL, REAL[0]), ("xlogy", REAL, POSITIVE),
          ("copysign", REAL, REAL[::-1]), ("fmax", REAL, REAL[:, ::-1]),
          ("fmin", REAL, REAL[:, ::-1])]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, a, b", BINARY, ids=[b[0] for b in BINARY])
def test_binary_function_and_method(check, name, a, b, dtype):
    check(lambda lib, x, y, name=name: getattr(lib, name)(x, y), a, b, dtype=dtype)
    check(lambda lib, x, y, name=name: getattr(x, name)(y), a, b, dtype=dtype)


def test_binary_edge_cases(check):
    nan = np.nan
    a = np.array([0.0, 0.0, 1.0, 2.0, nan, 2.0, -0.0])
    b = np.array([0.0, -1.0, nan, 2.0, 1.0, 2.0, 3.0])
    check(lambda lib, x, y: lib.xlogy(x, y), a, np.abs(b), grad2=False)
    check(lambda lib, x, y: lib.fmax(x, y), a, b, grad2=False)
    check(lambda lib, x, y: lib.fmin(x, y), a, b, grad2=False)
    check(lambda lib, x, y: lib.copysign(x, y), a, b, grad2=False)
    check(lambda lib, x, y: lib.atan2(x, y), np.array([1, 0, -2]), np.array([0, 1, 3]))
    check(lambda lib, x, y: lib.xlogy(x, y), np.array([0, 1, 2]), np.array([0, 3, 4]))
    check(lambda lib, x, y: lib.fmax(x, y), np.array([0, 1, 2]), np.array([3, 0, 4]))
    check(lambda lib, x, y: lib.heaviside(x, y), np.array([-1.0, 0.0, 2.0]),
          np.array([0.5]), grad=False)
    check(lambda lib, x: lib.signbit(x), np.array([-0.0, 0.0, -1.0, nan]), grad=False)
    with pytest.raises(NotImplementedError):
        at.hypot(at.tensor([1]), at.tensor([2]))


def test_addcmul_addcdiv(check):
    a, b, c = REAL, UNIT, POSITIVE
    check(lambda lib, x, y, z: lib.addcmul(x, y, z, value=0.5), a, b, c)
    check(lambda lib, x, y, z: lib.addcdiv(x, y, z, value=-2), a, b, c)
    check(lambda lib, x, y, z: x.addcmul(y, z), a, b[0], c[:, :1])
    check(lambda lib, x, y, z: x.addcdiv(y, z), a, b, c)
    ours, theirs = at.tensor(a.copy()), torch.tensor(a.copy())
    ours.addcdiv_(at.tensor(b), at.tensor(c), value=3)
    theirs.addcdiv_(torch.tensor(b), torch.tensor(c), value=3)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    ours.addcmul_(at.tensor(b), at.tensor(c))
    theirs.addcmul_(torch.tensor(b), torch.tensor(c))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError):
        at.addcdiv(at.tensor([1]), at.tensor([1]), at.tensor([2]))


def test_clamp_min_and_nan_reductions(check):
    check(lambda lib, x: lib.clamp_min(x, 0.3), REAL)
    check(lambda lib, x: x.clamp_min(0.3), REAL)
    x = REAL.copy()
    x[0, 1] = x[2, 2] = np.nan
    x[1, :] = np.nan
    check(lambda lib, t: lib.nansum(t), x)
    check(lambda lib, t: lib.nansum(t, 1, keepdim=True), x)
    check(lambda lib, t: lib.nanmean(t, dim=1), x, grad2=False)
    check(lambda lib, t: t.nanmean(), x)
    check(lambda lib, t: lib.nansum(t), np.array([[1, 2], [3, 4]]), grad=False)


def test_bitwise(check):
    a, b = np.array([[5, 3, -2]]), np.array([[1], [6]])
    for name in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
        check(lambda lib, x, y, name=name: getattr(lib, name)(x, y), a, b, grad=False)
        check(lambda lib, x, y, name=name: getattr(x, name)(y), a, b, grad=False)
    check(lambda lib, x: lib.bitwise_not(x), a, grad=False)
    check(lambda lib, x, y: (x & y, x | y, x ^ y, ~x), a, b, grad=False)
    bools = np.array([True, False, True]), np.array([False, False, True])
    check(lambda lib, x, y: (x & y, x | y, x ^ y, ~x), *bools, grad=False)
    check(lambda lib, x: (x & 6, 6 | x, x ^ 3), a, grad=False)
    with pytest.raises(RuntimeError):
        at.bitwise_and(at.tensor([1.0]), at.tensor([2.0]))
    ours, theirs = at.tensor(a.copy()), torch.tensor(a.copy())
    ours &= at.tensor(b[0])
    theirs &= torch.tensor(b[0])
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
