"""EmbeddingBag / F.embedding_bag against PyTorch: sum, mean and max bags from 2-D inputs
and from offsets (include_last_offset, empty bags), per_sample_weights, padding_idx; the
values and the gradients of the weight (and of the per-sample weights), float32 and
float64; initialisation from the same seed, repr, errors."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)
WEIGHT = rng.standard_normal((10, 4))
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 7])
CASES = [
    (np.array([[1, 2, 4], [4, 3, 9], [0, 0, 7]]), None, dict()),
    (FLAT, np.array([0, 4, 4, 9]), dict()),                 # an empty bag
    (FLAT, np.array([0, 2, 5, 11]), dict(include_last_offset=True)),
    (FLAT, np.array([0, 3, 7]), dict(padding_idx=4)),
    (np.array([[1, 2, 4], [4, 4, 4]]), None, dict(padding_idx=4)),  # a bag of padding only
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("indices, offsets, kwargs", CASES, ids=[str(i) for i in range(5)])
def test_embedding_bag_matches_torch(check, indices, offsets, kwargs, mode, dtype):
    def ours(w):
        return F.embedding_bag(at.tensor(indices), w, None if offsets is None
                               else at.tensor(offsets), mode=mode, **kwargs)

    def theirs(w):
        return TF.embedding_bag(torch.tensor(indices), w, None if offsets is None
                                else torch.tensor(offsets), mode=mode, **kwargs)

    check(ours, theirs, [WEIGHT], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_per_sample_weights_match_torch(check, dtype):
    weights = rng.standard_normal(FLAT.size)
    offsets = np.array([0, 3, 7])
    check(lambda w, p: F.embedding_bag(at.tensor(FLAT), w, at.tensor(offsets), mode="sum",
                                       per_sample_weights=p, padding_idx=2),
          lambda w, p: TF.embedding_bag(torch.tensor(FLAT), w, torch.tensor(offsets),
                                        mode="sum", per_sample_weights=p, padding_idx=2),
          [WEIGHT, weights], dtype)


def test_embedding_bag_layer_like_torch():
    at.manual_seed(2)
    torch.manual_seed(2)
    ours = nn.EmbeddingBag(10, 3, mode="max", padding_idx=1)
    theirs = torch.nn.EmbeddingBag(10, 3, mode="max", padding_idx=1)
    assert repr(ours) == repr(theirs)
    assert repr(nn.EmbeddingBag(5, 2)) == repr(torch.nn.EmbeddingBag(5, 2))
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    offsets = np.array([0, 5])
    np.testing.assert_array_equal(
        ours(at.tensor(FLAT), at.tensor(offsets)).data,
        theirs(torch.tensor(FLAT), torch.tensor(offsets)).detach().numpy())
    pretrained = nn.EmbeddingBag.from_pretrained(at.tensor(WEIGHT), mode="sum")
    assert not pretrained.weight.requires_grad


@pytest.mark.parametrize("call", [
    lambda F_, t, w: F_.embedding_bag(t(FLAT), w, None),
    lambda F_, t, w: F_.embedding_bag(t(FLAT.reshape(1, -1)), w, t(np.array([0]))),
    lambda F_, t, w: F_.embedding_bag(t(FLAT), w, t(np.array([1, 3]))),
    lambda F_, t, w: F_.embedding_bag(t(FLAT), w, t(np.array([0, 3])), mode="mean",
                                      per_sample_weights=t(np.ones(FLAT.size))),
    lambda F_, t, w: F_.embedding_bag(t(FLAT), w, t(np.array([0, 3])), mode="median"),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(TF, torch.tensor, torch.tensor(WEIGHT))
    with pytest.raises(type(theirs.value)):
        call(F, at.tensor, at.tensor(WEIGHT))
