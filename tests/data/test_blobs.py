"""make_blobs: dtypes, shapes, seeding and the missing-scikit-learn message."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs as sk_make_blobs

from abdou_torch.data import make_blobs
from abdou_torch.random import Generator, manual_seed


def test_dtypes_shapes_and_labels() -> None:
    features, labels = make_blobs(n_samples=50, centers=3, n_features=4, random_state=0)
    assert features.dtype == np.float32 and features.shape == (50, 4)
    assert labels.dtype == np.int64 and labels.shape == (50,)
    assert sorted(set(labels.tolist())) == [0, 1, 2]


def test_defaults_give_two_blobs_in_two_dimensions() -> None:
    features, labels = make_blobs(random_state=1)
    assert features.shape == (100, 2)
    assert np.bincount(labels).tolist() == [50, 50]


def test_matches_scikit_learn_for_an_int_seed() -> None:
    features, labels = make_blobs(40, centers=3, cluster_std=0.5, random_state=5)
    sk_features, sk_labels = sk_make_blobs(40, centers=3, cluster_std=0.5, random_state=5)
    np.testing.assert_allclose(features, sk_features.astype(np.float32))
    np.testing.assert_array_equal(labels, sk_labels)


def test_seeding_through_abdou_torch_generators() -> None:
    manual_seed(9)
    first = make_blobs(30)
    manual_seed(9)
    second = make_blobs(30)
    third = make_blobs(30)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(second[0], third[0])
    a = make_blobs(30, random_state=Generator(4))
    b = make_blobs(30, random_state=Generator(4))
    np.testing.assert_array_equal(a[0], b[0])


def test_return_centers() -> None:
    features, labels, centers = make_blobs(200, centers=2, cluster_std=0.1, random_state=3,
                                           return_centers=True)
    assert centers.dtype == np.float32 and centers.shape == (2, 2)
    for label in (0, 1):
        np.testing.assert_allclose(features[labels == label].mean(axis=0), centers[label],
                                   atol=0.05)


def test_missing_scikit_learn(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install 'abdou_torch\[train\]'"):
        make_blobs(10)
