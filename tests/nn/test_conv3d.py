"""Conv3d / F.conv3d against PyTorch: values and the input, weight and bias gradients
(stride, padding, 'same', dilation, groups, unbatched), float32 and float64; the layer's
initialisation from the same seed, padding modes and repr."""
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
    ((2, 3, 5, 6, 4), (4, 3, 3, 3, 2), dict()),
    ((2, 4, 6, 5, 5), (6, 2, 2, 3, 3), dict(stride=(2, 1, 2), padding=1, groups=2)),
    ((1, 2, 7, 4, 5), (3, 2, 3, 2, 2), dict(dilation=(2, 1, 2), padding=(1, 0, 2))),
    ((2, 5, 4, 4), (2, 2, 3, 3, 3), dict(padding="same")),
])
def test_conv3d_matches_torch(check, shape, weight, kwargs, dtype):
    bias = rng.standard_normal(weight[0])
    check(lambda x, w, b: F.conv3d(x, w, b, **kwargs), lambda x, w, b: TF.conv3d(x, w, b, **kwargs),
          [rng.standard_normal(shape), rng.standard_normal(weight), bias], dtype,
          tol=dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else None)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, bias=False),
                                    dict(padding=1, padding_mode="replicate")])
def test_conv3d_layer_like_torch(kwargs):
    at.manual_seed(1)
    torch.manual_seed(1)
    ours, theirs = nn.Conv3d(2, 4, 3, **kwargs), torch.nn.Conv3d(2, 4, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
    x = rng.standard_normal((2, 2, 5, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(at.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
