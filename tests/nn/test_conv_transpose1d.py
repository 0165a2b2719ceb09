"""ConvTranspose1d / F.conv_transpose1d against PyTorch: values, input, weight and bias
gradients in float32 and float64, initialisation from the same seed, output_size, repr."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape, weight, kwargs", [
    ((2, 4, 7), (4, 3, 3), dict()),
    ((2, 4, 7), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5), (4, 2, 2), dict(stride=3, dilation=2, groups=2)),
    ((4, 6), (4, 5, 4), dict(padding=2)),
])
def test_conv_transpose1d_matches_torch(check, shape, weight, kwargs, dtype):
    bias = rng.standard_normal(weight[1] * kwargs.get("groups", 1))
    check(lambda x, w, b: F.conv_transpose1d(x, w, b, **kwargs),
          lambda x, w, b: TF.conv_transpose1d(x, w, b, **kwargs),
          [rng.standard_normal(shape), rng.standard_normal(weight), bias], dtype)


def test_conv_transpose1d_layer_like_torch():
    at.manual_seed(3)
    torch.manual_seed(3)
    ours = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    theirs = torch.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert repr(ours) == repr(theirs)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(at.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    plain, reference = nn.ConvTranspose1d(4, 2, 3, stride=2), torch.nn.ConvTranspose1d(4, 2, 3,
                                                                                        stride=2)
    assert tuple(plain(at.tensor(x), output_size=[12]).shape) == \
        tuple(reference(torch.tensor(x), output_size=[12]).shape) == (2, 2, 12)
    with pytest.raises(ValueError):
        plain(at.tensor(x), output_size=[20])
