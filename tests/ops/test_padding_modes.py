"""pad(mode='reflect' | 'replicate' | 'circular') and the convolution layers' padding_mode,
against PyTorch: values, gradients, second derivatives and PyTorch's limits."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch import nn

rng = np.random.default_rng(7)

MODES = ["reflect", "replicate", "circular"]

# (input shape, widths): the 1-, 2- and 3-dim forms, with and without a batch dim,
# one-sided widths, and widths up to each mode's limit on a 6-wide dim
PAD_CASES = [
    ((3, 6), (2, 1)),
    ((2, 3, 6), (5, 0)),
    ((3, 5, 6), (1, 3, 4, 0)),
    ((2, 3, 5, 6), (0, 2, 1, 1)),
    ((3, 4, 5, 6), (1, 0, 2, 1, 3, 2)),
    ((1, 2, 4, 5, 6), (2, 2, 0, 3, 1, 1)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, widths", PAD_CASES)
def test_pad_modes_match_torch(mode, shape, widths, compare_with_torch):
    compare_with_torch(lambda x: at.pad(x, widths, mode=mode),
                       lambda x: TF.pad(x, widths, mode=mode), [rng.standard_normal(shape)])


@pytest.mark.parametrize("mode", MODES)
def test_pad_modes_second_derivative_matches_torch(mode):
    x0, w0 = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 4, 8))
    x = at.tensor(x0, requires_grad=True)
    (grad,) = at.autograd.grad((at.pad(x * x, (2, 1), mode=mode) * at.tensor(w0)).sum(), x,
                               create_graph=True)
    (grad * grad).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    (tgrad,) = torch.autograd.grad((TF.pad(tx * tx, (2, 1), mode=mode) * torch.tensor(w0))
                                   .sum(), tx, create_graph=True)
    (tgrad * tgrad).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode, shape, widths, error, match", [
    ("reflect", (2, 3, 6), (6, 0), ValueError, r"smaller than the dim.*\(6, 0\).*size 6"),
    ("circular", (2, 3, 6), (0, 7), ValueError, r"wrap around once.*size 6"),
    ("replicate", (2, 3, 0), (1, 1), ValueError, r"size 0"),
    ("reflect", (6,), (1, 1), NotImplementedError, r"last 1, 2 or 3 dims.*\(6,\)"),
    ("replicate", (2, 2, 3, 6), (1, 1), NotImplementedError, r"2 widths.*\(2, 2, 3, 6\)"),
    ("circular", (3, 6), (1, 1, 1, 1), NotImplementedError, r"4 widths"),
    ("wrap", (2, 3, 6), (1, 1), ValueError, r"mode must be one of"),
])
def test_pad_mode_limits_are_pytorchs(mode, shape, widths, error, match):
    if mode != "wrap":  # PyTorch refuses the same input
        with pytest.raises((RuntimeError, NotImplementedError)):
            TF.pad(torch.zeros(shape), widths, mode=mode)
    with pytest.raises(error, match=match):
        at.pad(at.zeros(*shape), widths, mode=mode)


def test_pad_mode_widths_at_the_limit_are_accepted():
    """reflect up to size - 1, circular up to size: as PyTorch."""
    x0 = rng.standard_normal((2, 3, 6))
    for mode, width in [("reflect", 5), ("circular", 6), ("replicate", 9)]:
        np.testing.assert_array_equal(at.pad(at.tensor(x0), (width, width), mode=mode).numpy(),
                                      TF.pad(torch.tensor(x0), (width, width), mode=mode)
                                      .numpy())


def _torch_copy(ours, theirs):
    """``theirs`` in float64 with our float64 weights, by name."""
    theirs = theirs.double()
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value.data)))
    return theirs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer, shape, kwargs", [
    ("Conv2d", (2, 3, 7, 8), dict(kernel_size=3, padding=1)),
    ("Conv2d", (3, 7, 8), dict(kernel_size=(3, 2), padding="same")),
    ("Conv2d", (2, 3, 9, 8), dict(kernel_size=3, padding=(2, 1), stride=2, dilation=(1, 2))),
    ("Conv1d", (2, 3, 9), dict(kernel_size=4, padding="same", bias=False)),
])
def test_conv_padding_modes_match_torch(mode, layer, shape, kwargs, compare_with_torch):
    ours = getattr(nn, layer)(3, 4, padding_mode=mode, dtype=at.float64, **kwargs)
    theirs = _torch_copy(ours, getattr(torch.nn, layer)(3, 4, padding_mode=mode, **kwargs))
    assert repr(ours) == repr(theirs)
    out = compare_with_torch(ours, theirs, [rng.standard_normal(shape)])
    assert ours.weight.grad is not None
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    assert out.shape == theirs(torch.zeros(shape, dtype=torch.float64)).shape


def test_conv_padding_mode_errors():
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of .*'wrap'"):
        nn.Conv2d(1, 1, 3, padding_mode="wrap")
    with pytest.raises(ValueError, match=r'ConvTranspose2d: only "zeros" padding mode'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    layer = nn.Conv2d(1, 1, 3, padding=4, padding_mode="reflect")
    with pytest.raises(ValueError, match="smaller than the dim"):
        layer(at.zeros(1, 1, 4, 4))  # reflect padding of 4 on a 4-wide image
