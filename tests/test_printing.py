"""Tensors print as PyTorch prints them: programs compared by their output must agree."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
CASES = {
    "fixed": np.array([1.5, 2.0]), "whole": np.array([1.0, 2.0]), "tiny": np.array([1e-5, 1.0]),
    "huge": np.array([1e9, 1.0]), "nonfinite": np.array([np.nan, np.inf, -np.inf, 1.0]),
    "nan_zero": np.array([np.nan, 0.0]), "matrix": rng.standard_normal((3, 4)),
    "3d": rng.standard_normal((2, 3, 4)), "summarized": rng.standard_normal(2000),
    "summarized_2d": rng.standard_normal((50, 50)), "ints_wrap": np.arange(30),
    "ints_summarized": np.arange(2000).reshape(40, 50), "bools": np.array([True, False]),
    "empty_2d": np.zeros((0, 3)), "empty": np.zeros(0), "wide": rng.standard_normal(30) * 1000,
    "scalar": np.array(3.25), "mixed_scale": np.array([[1e-10, -3.0]]),
    "int_matrix": rng.integers(-100, 100, (4, 30)), "int32": np.array([1, 2], dtype=np.int32),
    "float16": np.array([1.5], dtype=np.float16),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", None])
@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name, dtype):
    values = CASES[name]
    if dtype is not None:
        if values.dtype.kind != "f" or values.dtype == np.float16:
            pytest.skip("one dtype for non-float cases")
        values = values.astype(dtype)
    assert repr(at.tensor(values)) == repr(torch.tensor(values))


def test_suffixes_match_torch():
    for lib in (at, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert repr(x) == "tensor([1., 2.], requires_grad=True)"
        assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert str(at.ones(2, 2)) == str(torch.ones(2, 2))


def test_print_options_match_torch():
    values = rng.standard_normal(12)
    try:
        for lib in (at, torch):
            lib.set_printoptions(precision=2, threshold=5, edgeitems=2)
        assert repr(at.tensor(values)) == repr(torch.tensor(values))
        for lib in (at, torch):
            lib.set_printoptions(sci_mode=True)
        assert repr(at.tensor(values)) == repr(torch.tensor(values))
    finally:
        for lib in (at, torch):
            lib.set_printoptions(profile="default")
    assert repr(at.tensor(values)) == repr(torch.tensor(values))


GRAD_FN_CASES = {
    "slice": lambda lib, x, w, b: x[:1], "select": lambda lib, x, w, b: x[0],
    "select after slice": lambda lib, x, w, b: x[:, 0],
    "slice after select": lambda lib, x, w, b: x[0, :2],
    "advanced index": lambda lib, x, w, b: x[[0, 1]], "ellipsis": lambda lib, x, w, b: x[...],
    "new axis": lambda lib, x, w, b: x[None], "add": lambda lib, x, w, b: x + 1,
    "mul": lambda lib, x, w, b: x * 2, "mm": lambda lib, x, w, b: x @ w.T,
    "mv": lambda lib, x, w, b: x @ b[:4], "dot": lambda lib, x, w, b: x[0] @ x[1],
    "batched matmul": lambda lib, x, w, b: x[None] @ w.T,
    "linear": lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
    "linear without bias": lambda lib, x, w, b: lib.nn.functional.linear(x, w),
    "sum": lambda lib, x, w, b: x.sum(), "sum over a dim": lambda lib, x, w, b: x.sum(1),
    "pow": lambda lib, x, w, b: x ** 2, "view": lambda lib, x, w, b: x.view(12),
    "permute": lambda lib, x, w, b: x.permute(1, 0), "relu": lambda lib, x, w, b: x.relu(),
    "log_softmax": lambda lib, x, w, b: x.log_softmax(1),
}


@pytest.mark.parametrize("case", list(GRAD_FN_CASES))
def test_grad_fn_names_in_reprs_are_pytorchs(case):
    """``grad_fn=<...>`` in a repr, and ``repr(t.grad_fn)``, name PyTorch's node."""
    import torch
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (5, 4), (5,))]
    ours = GRAD_FN_CASES[case](at, *(at.tensor(a, requires_grad=True) for a in arrays))
    theirs = GRAD_FN_CASES[case](torch, *(torch.tensor(a, requires_grad=True) for a in arrays))
    name = type(theirs.grad_fn).__name__
    assert f"grad_fn=<{name}>" in repr(ours)
    assert repr(ours.grad_fn).startswith(f"<{name} object at 0x")
