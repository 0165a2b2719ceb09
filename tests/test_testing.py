"""torch.testing.assert_close: passes and failures as PyTorch's, with its messages."""
import re

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import testing


def _message(check):
    try:
        check()
    except AssertionError as error:
        return str(error)
    return None


CASES = [
    ("float32 off by 0.1", lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1])), {}),
    ("float32 within rounding", lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.000001])), {}),
    ("float64 tight", lambda m: (m.tensor([1.0], dtype=m.float64),
                                 m.tensor([1.0 + 1e-6], dtype=m.float64)), {}),
    ("dtype mismatch", lambda m: (m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)), {}),
    ("dtype unchecked", lambda m: (m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)),
     {"check_dtype": False}),
    ("shape mismatch", lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0, 3.0])), {}),
    ("integers exact", lambda m: (m.tensor([1, 2]), m.tensor([1, 3])), {}),
    ("nan", lambda m: (m.tensor([float("nan")]), m.tensor([float("nan")])), {}),
    ("nan allowed", lambda m: (m.tensor([float("nan")]), m.tensor([float("nan")])),
     {"equal_nan": True}),
    ("inf equal", lambda m: (m.tensor([float("inf")]), m.tensor([float("inf")])), {}),
    ("given tolerances", lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1])),
     {"rtol": 0.1, "atol": 0.0}),
    ("sequences", lambda m: ([m.tensor(1.0), m.tensor(2.0)], [m.tensor(1.0), m.tensor(2.5)]),
     {}),
    ("custom message", lambda m: (m.tensor([1.0]), m.tensor([2.0])), {"msg": "custom"}),
]


@pytest.mark.parametrize("name, make, options", CASES, ids=[c[0] for c in CASES])
def test_assert_close_agrees_with_pytorch(name, make, options):
    theirs = _message(lambda: torch.testing.assert_close(*make(torch), **options))
    ours = _message(lambda: testing.assert_close(*make(at), **options))
    assert (ours is None) == (theirs is None), (ours, theirs)
    if theirs is not None:  # same message, numbers to the digits float32 rounding allows
        number = re.compile(r"\d+\.\d+(?:e-?\d+)?")
        assert number.sub("#", ours) == number.sub("#", theirs)
        np.testing.assert_allclose([float(x) for x in number.findall(ours)],
                                   [float(x) for x in number.findall(theirs)], rtol=1e-5)


def test_scalars_and_half_given_tolerances_raise_like_pytorch():
    assert "Scalars are not close!" in _message(lambda: testing.assert_close(1.0, 1.1))
    with pytest.raises(ValueError, match="must be either specified or omitted"):
        testing.assert_close(at.ones(1), at.ones(1), rtol=0.1)
