"""``autocast``: accepted as PyTorch accepts it, computing in full precision here."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.amp import autocast_mode

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def fresh_warning():
    autocast_mode._warned_full_precision = False


def test_cpu_autocast_computes_in_float32_and_warns_once():
    a = at.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    with pytest.warns(UserWarning, match="computed in full precision"):
        with at.autocast(device_type="cpu", dtype="bfloat16"):
            out = a @ a.T
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, a.data @ a.data.T, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with at.autocast("cpu"):  # the warning came once already
            pass


def test_decorator_form():
    @at.amp.autocast("cpu")
    def f(x):
        return x * 2

    with pytest.warns(UserWarning):
        assert f(at.tensor([1.0])).tolist() == [2.0]


@pytest.mark.parametrize("device, dtype, match", [
    ("cuda", None, "CUDA is not available"),
    ("cpu", "float64", "target dtype is not supported"),
])
def test_disabled_with_pytorch_warning(device, dtype, match):
    torch_dtype = getattr(torch, dtype) if dtype else None
    with pytest.warns(UserWarning, match=match):
        with torch.autocast(device_type=device, dtype=torch_dtype):
            pass
    with pytest.warns(UserWarning, match=match):
        with at.autocast(device_type=device, dtype=dtype):
            pass


def test_bad_device_types_raise_as_pytorch():
    for library in (torch, at):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            library.autocast(device_type=3)
        with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
            library.autocast(device_type="tpu")
