"""torch.distributions.constraints: check() against PyTorch's, and their reprs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

MATRICES = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]],
                     [[1.0, 0.0], [0.3, 2.0]], [[1.0, 0.2], [0.0, 1.0]]])
VALUES = np.array([[-1.5, 0.0, 0.3], [1.0, 2.0, float("nan")], [0.2, 0.3, 0.5]])
CONSTRAINTS = {
    "real": (lambda c: c.real, VALUES), "positive": (lambda c: c.positive, VALUES),
    "nonnegative": (lambda c: c.nonnegative, VALUES),
    "unit_interval": (lambda c: c.unit_interval, VALUES),
    "boolean": (lambda c: c.boolean, VALUES), "simplex": (lambda c: c.simplex, VALUES),
    "real_vector": (lambda c: c.real_vector, VALUES),
    "nonnegative_integer": (lambda c: c.nonnegative_integer, VALUES * 2),
    "integer_interval": (lambda c: c.integer_interval(0, 2), VALUES * 2),
    "interval": (lambda c: c.interval(0.0, 1.0), VALUES),
    "half_open_interval": (lambda c: c.half_open_interval(0.0, 1.0), VALUES),
    "greater_than": (lambda c: c.greater_than(0.25), VALUES),
    "greater_than_eq": (lambda c: c.greater_than_eq(0.3), VALUES),
    "less_than": (lambda c: c.less_than(0.3), VALUES),
    "one_hot": (lambda c: c.one_hot, np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])),
    "independent": (lambda c: c.independent(c.positive, 1), VALUES),
    "lower_cholesky": (lambda c: c.lower_cholesky, MATRICES),
    "lower_triangular": (lambda c: c.lower_triangular, MATRICES),
    "positive_definite": (lambda c: c.positive_definite, MATRICES),
    "positive_semidefinite": (lambda c: c.positive_semidefinite, MATRICES),
    "symmetric": (lambda c: c.symmetric, MATRICES),
    "square": (lambda c: c.square, MATRICES),
    "multinomial": (lambda c: c.multinomial(3), np.array([[1.0, 2.0], [2.0, 2.0]])),
}


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_check_and_repr_match_pytorch(name):
    make, values = CONSTRAINTS[name]
    ours = make(at.distributions.constraints)
    theirs = make(torch.distributions.constraints)
    result = ours.check(at.tensor(values))
    expected = theirs.check(torch.tensor(values))
    assert result.dtype == at.bool
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim
    assert ours.is_discrete == theirs.is_discrete


def test_dependent_constraints():
    c = at.distributions.constraints
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)
    with pytest.raises(ValueError, match="dependent"):
        c.dependent.check(at.zeros(2))
    with pytest.raises(NotImplementedError):
        c.dependent.event_dim  # noqa: B018
    assert c.dependent(is_discrete=True, event_dim=1).event_dim == 1
