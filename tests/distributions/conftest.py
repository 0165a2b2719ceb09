"""Helpers for the distribution tests: the same case built in abdou_torch and in PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at


class Both:
    """Builds float64 leaf tensors holding the same values in both libraries."""

    @staticmethod
    def leaves(params: dict, requires_grad: bool = True) -> tuple[dict, dict]:
        ours, theirs = {}, {}
        for name, value in params.items():
            array = np.asarray(value)
            grad = requires_grad and array.dtype.kind == "f"
            ours[name] = at.tensor(array, requires_grad=grad)
            theirs[name] = torch.tensor(array, requires_grad=grad)
        return ours, theirs

    @staticmethod
    def close(ours, theirs, rtol: float = 1e-6, atol: float = 1e-8) -> None:
        expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) \
            else np.asarray(theirs)
        actual = ours.detach().numpy() if isinstance(ours, at.Tensor) else np.asarray(ours)
        assert actual.shape == expected.shape, (actual.shape, expected.shape)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


@pytest.fixture
def both() -> Both:
    return Both()


@pytest.fixture(autouse=True)
def _restore_validation():
    """A test that turns validation off must not leak it into the next one."""
    ours, theirs = at.distributions.Distribution._validate_args, \
        torch.distributions.Distribution._validate_args
    yield
    at.distributions.Distribution.set_default_validate_args(ours)
    torch.distributions.Distribution.set_default_validate_args(theirs)
