"""addmm, addmv, baddbmm, addbmm beyond the op table: beta = 0 ignores the input's values,
shape and dtype errors, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")


def test_beta_zero_does_not_read_the_input():
    for lib in (at, torch):
        nan = lib.full((2, 3), float("nan"))
        result = lib.addmm(nan, lib.ones(2, 4), lib.ones(4, 3), beta=0)
        assert result.tolist() == [[4.0] * 3] * 2
        batched = lib.baddbmm(lib.full((3,), float("inf")), lib.ones(2, 2, 4),
                              lib.ones(2, 4, 3), beta=0, alpha=0.5)
        assert batched.tolist() == [[[2.0] * 3] * 2] * 2


def test_methods_match_the_functions():
    rng = np.random.default_rng(0)
    x, a, b = (rng.standard_normal(s) for s in [(3,), (2, 4), (4, 3)])
    ours = at.tensor(x).addmm(at.tensor(a), at.tensor(b), beta=2, alpha=3)
    theirs = torch.tensor(x).addmm(torch.tensor(a), torch.tensor(b), beta=2, alpha=3)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.addmm(lib.ones(4), lib.ones(2, 4), lib.ones(4, 3)),
    lambda lib: lib.addmm(lib.ones(3), lib.ones(4), lib.ones(4, 3)),
    lambda lib: lib.addmm(lib.ones(3), lib.ones(2, 4), lib.ones(4, 3, dtype=lib.float64)),
    lambda lib: lib.addmm(lib.ones(3), lib.ones(2, 4), lib.ones(5, 3)),
    lambda lib: lib.addmv(lib.ones(2), lib.ones(2, 4), lib.ones(4, 1)),
    lambda lib: lib.baddbmm(lib.ones(3), lib.ones(2, 2, 4), lib.ones(1, 4, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(2, 2, 4), lib.ones(2, 5, 3)),
    lambda lib: lib.outer(lib.ones(2), lib.ones(3, 1)),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(at)
