"""Memory formats are accepted and change no values (abdou_torch keeps row-major arrays)."""
import numpy as np
import torch

import abdou_torch as at


def test_formats_print_as_pytorchs_and_leave_values_alone():
    for name in ("channels_last", "contiguous_format", "preserve_format", "channels_last_3d"):
        assert repr(getattr(at, name)) == repr(getattr(torch, name))
    x = at.randn(2, 3, 4, 4)
    np.testing.assert_array_equal(x.to(memory_format=at.channels_last).data, x.data)
    np.testing.assert_array_equal(x.contiguous(memory_format=at.channels_last).data, x.data)


def test_factories_take_size_as_a_keyword():
    at.manual_seed(0)
    torch.manual_seed(0)
    np.testing.assert_array_equal(at.randn(size=(2, 3)).data, torch.randn(size=(2, 3)).numpy())
    assert tuple(at.zeros(size=[1, 2]).shape) == (1, 2)
    assert tuple(at.ones(size=(3,)).shape) == (3,)
    assert tuple(at.empty(size=(2,)).shape) == (2,)
    assert tuple(at.rand(size=(4,)).shape) == (4,)
