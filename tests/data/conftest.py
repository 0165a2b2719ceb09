"""Running one case through abdou_torch and PyTorch and comparing what comes out: values,
dtypes, container types, and whether (and what) it raises."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

from abdou_torch.tensor import Tensor


def torch_dtype_as_numpy(dtype: torch.dtype) -> np.dtype:
    return torch.empty(0, dtype=dtype).numpy().dtype


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", result) or ("raises", the exception)."""
    try:
        return "ok", function()
    except Exception as error:  # noqa: BLE001 - the point is to compare them
        return "raises", error


def assert_same(ours: Any, theirs: Any, where: str = "batch") -> None:
    """``ours`` (abdou_torch) holds what ``theirs`` (PyTorch) holds, in the same containers."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, Tensor), f"{where}: {type(ours).__name__}, expected a Tensor"
        expected = theirs.detach().numpy()
        assert ours.data.dtype == expected.dtype, f"{where}: {ours.data.dtype} != {expected.dtype}"
        assert ours.shape == tuple(theirs.shape), f"{where}: {ours.shape} != {theirs.shape}"
        assert np.array_equal(ours.data, expected, equal_nan=expected.dtype.kind in "fc"), \
            f"{where}: {ours.data!r} != {expected!r}"
        assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad"
        return
    assert type(ours).__name__ == type(theirs).__name__, \
        f"{where}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} != {len(theirs)}"
        for position, (mine, other) in enumerate(zip(ours, theirs)):
            assert_same(mine, other, f"{where}[{position}]")
    elif isinstance(theirs, np.ndarray):  # left as it was (strings are not collated)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), where
    else:
        assert ours == theirs or (ours != ours and theirs != theirs), f"{where}: {ours!r}"


def assert_same_outcome(ours: tuple[str, Any], theirs: tuple[str, Any], case: Any) -> None:
    """Both succeed with the same result, or both raise an exception of PyTorch's type."""
    assert ours[0] == theirs[0], (f"{case!r}: abdou_torch {ours[0]} ({ours[1]!r}), PyTorch "
                                  f"{theirs[0]} ({theirs[1]!r})")
    if ours[0] == "raises":
        assert isinstance(ours[1], type(theirs[1])), \
            f"{case!r}: abdou_torch raised {ours[1]!r}, PyTorch {theirs[1]!r}"
    else:
        assert_same(ours[1], theirs[1])


@pytest.fixture(scope="session")
def compare():
    """The comparison helpers, for the test modules of this folder."""
    class Helpers:
        pass
    helpers = Helpers()
    helpers.outcome = outcome
    helpers.assert_same = assert_same
    helpers.assert_same_outcome = assert_same_outcome
    helpers.torch_dtype_as_numpy = torch_dtype_as_numpy
    return helpers
