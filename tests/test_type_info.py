"""torch.finfo / torch.iinfo against PyTorch's."""
import pytest
import torch

import abdou_torch as at


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_pytorch(name):
    ours, theirs = at.finfo(getattr(at, name)), torch.finfo(getattr(torch, name))
    for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.dtype == theirs.dtype
    assert repr(ours) == repr(theirs)


def test_finfo_defaults_to_the_default_dtype():
    assert at.finfo().eps == torch.finfo().eps
    at.set_default_dtype(at.float64)
    try:
        assert at.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        at.set_default_dtype(at.float32)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_pytorch(name):
    ours, theirs = at.iinfo(getattr(at, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (theirs.bits, theirs.max, theirs.min,
                                                           theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_wrong_kinds_raise_type_error_like_pytorch():
    for ours, theirs in ((lambda: at.finfo(at.int32), lambda: torch.finfo(torch.int32)),
                         (lambda: at.iinfo(at.float32), lambda: torch.iinfo(torch.float32))):
        with pytest.raises(TypeError):
            theirs()
        with pytest.raises(TypeError):
            ours()


def test_constants():
    import math
    assert (at.pi, at.e, at.inf) == (torch.pi, torch.e, torch.inf) == (math.pi, math.e, math.inf)
    assert math.isnan(at.nan)
