"""histc, histogram, bincount against PyTorch: bin edges, values outside the range and NaN,
one-valued data, weights, density, dtypes and errors."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("values, kwargs", [
    ([1.0, 2.0, 1.0], dict(bins=4, min=0, max=3)),
    ([1.0, 2.0, 1.0], dict(bins=4)),
    ([1.0, 1.0, 1.0], dict(bins=4)),
    ([1.0, 2.0, 1.0, 5.0, -1.0, 3.0, 0.0], dict(bins=4, min=0, max=3)),
    ([1.0, NAN, 2.9], dict(bins=3, min=0, max=3)),
    ([0.0, 1.0, 2.0, 3.0], dict(bins=3, min=0, max=3)),
    (list(np.linspace(-1, 1, 101)), dict(bins=7, min=-1, max=1)),
    ([], dict(bins=3)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_like_torch(values, kwargs, dtype):
    data = np.array(values, dtype=dtype)
    ours = at.histc(at.tensor(data), **kwargs)
    theirs = torch.histc(torch.tensor(data), **kwargs)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(at.tensor(data).histc(**kwargs).numpy(), theirs.numpy())


@pytest.mark.parametrize("kwargs", [
    dict(bins=4), dict(bins=4, range=(0.0, 3.0)), dict(bins=3, density=True),
    dict(bins=4, range=(0.0, 3.0), weight=[1.0, 2.0, 4.0, 0.5, 3.0]),
    dict(bins=[0.0, 1.0, 2.5, 2.6]), dict(bins=[0.0, 1.0, 2.5], density=True),
])
def test_histogram_like_torch(kwargs):
    data = np.array([1.0, 2.0, 1.0, 2.55, -3.0])
    ours_kwargs, theirs_kwargs = dict(kwargs), dict(kwargs)
    for name in ("weight", "bins"):
        if isinstance(kwargs.get(name), list):
            ours_kwargs[name] = at.tensor(np.array(kwargs[name]))
            theirs_kwargs[name] = torch.tensor(np.array(kwargs[name]))
    ours = at.histogram(at.tensor(data), **ours_kwargs)
    theirs = torch.histogram(torch.tensor(data), **theirs_kwargs)
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy(), rtol=1e-12)
    assert ours.hist.dtype == np.float64


@pytest.mark.parametrize("values, kwargs", [
    ([1, 2, 1], {}), ([1, 2, 1], dict(minlength=5)), ([], {}), ([0, 0, 7], dict(minlength=2)),
    ([1, 2, 1], dict(weights=[1.0, 2.0, 3.0])), ([3, 0], dict(weights=[2, 5])),
])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_bincount_like_torch(values, kwargs, dtype):
    data = np.array(values, dtype=dtype)
    ours_kwargs, theirs_kwargs = dict(kwargs), dict(kwargs)
    if "weights" in kwargs:
        ours_kwargs["weights"] = at.tensor(kwargs["weights"])
        theirs_kwargs["weights"] = torch.tensor(kwargs["weights"])
    ours = at.bincount(at.tensor(data), **ours_kwargs)
    theirs = torch.bincount(torch.tensor(data), **theirs_kwargs)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.histc(lib.tensor([1, 2]), bins=4, min=0, max=3),
    lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=0),
    lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=4, min=3, max=0),
    lambda lib: lib.histc(lib.tensor([1.0, INF]), bins=4),
    lambda lib: lib.histogram(lib.tensor([1, 2]), 3),
    lambda lib: lib.bincount(lib.tensor([-1, 2])),
    lambda lib: lib.bincount(lib.tensor([[1, 2]])),
    lambda lib: lib.bincount(lib.tensor([1.0, 2.0])),
    lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1),
    lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0])),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(at)
