"""Dataset, TensorDataset, Subset, ConcatDataset and random_split."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from abdou_torch.data import (ConcatDataset, Dataset, Subset, TensorDataset, default_collate,
                              random_split)
from abdou_torch.random import Generator, manual_seed
from abdou_torch.tensor import Tensor


class Squares(Dataset):
    """A plain map-style dataset without __getitems__."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, index: int) -> int:
        if not 0 <= index < self.n:
            raise IndexError(index)
        return index * index

    def __len__(self) -> int:
        return self.n


def test_base_dataset_methods_must_be_implemented() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(TypeError, match="has no len"):  # as in PyTorch: no __len__ at all
        len(Dataset())


# -- TensorDataset -------------------------------------------------------------------------

def test_tensor_dataset_items_are_tuples_of_rows() -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([5, 6, 7, 8], dtype=np.int64)
    dataset = TensorDataset(Tensor(x), y)
    assert len(dataset) == 4
    item = dataset[2]
    assert isinstance(item, tuple) and len(item) == 2
    assert all(isinstance(part, Tensor) for part in item)
    np.testing.assert_array_equal(item[0].numpy(), [6.0, 7.0, 8.0])
    assert item[1].shape == () and item[1].numpy().dtype == np.int64
    assert int(item[1].numpy()) == 7
    assert int(dataset[-1][1].numpy()) == 8


def test_tensor_dataset_keeps_dtypes_and_does_not_copy() -> None:
    x = np.zeros((3, 2), dtype=np.uint8)
    dataset = TensorDataset(x)
    assert dataset.tensors[0].numpy() is x
    x[1, 0] = 42
    assert int(dataset[1][0].numpy()[0]) == 42
    assert dataset[0][0].numpy().dtype == np.uint8


def test_tensor_dataset_index_out_of_range() -> None:
    dataset = TensorDataset(np.arange(3))
    with pytest.raises(IndexError):
        dataset[3]


def test_tensor_dataset_get_batch_is_what_default_collate_makes() -> None:
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10, dtype=np.int32) * 3
    dataset = TensorDataset(x, y)
    batch = dataset._get_batch(np.array([7, 0, 7]))
    slow = default_collate([dataset[i] for i in (7, 0, 7)])
    assert isinstance(batch, list) and isinstance(slow, list) and len(batch) == 2
    for fast_part, slow_part in zip(batch, slow):
        np.testing.assert_array_equal(fast_part.numpy(), slow_part.numpy())
        assert fast_part.numpy().dtype == slow_part.numpy().dtype
    np.testing.assert_array_equal(batch[1].numpy(), [21, 0, 21])
    with pytest.raises(IndexError, match="index 10 is out of bounds"):
        dataset._get_batch([1, 10])


def test_tensor_dataset_size_mismatch_names_the_sizes() -> None:
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_tensor_dataset_needs_arrays() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(np.zeros(()))


# -- Subset and ConcatDataset --------------------------------------------------------------

def test_subset_maps_indices() -> None:
    subset = Subset(Squares(10), [9, 2, 5])
    assert len(subset) == 3
    assert [subset[i] for i in range(3)] == [81, 4, 25]
    assert subset[[0, 2]] == [81, 25]


def test_subset_getitems_is_the_sample_list_and_get_batch_collates() -> None:
    """PyTorch's Subset.__getitems__ returns samples (the DataLoader collates them)."""
    x = np.arange(10) * 10
    samples = Subset(TensorDataset(x), [9, 2, 5]).__getitems__([2, 0])
    assert isinstance(samples, list) and len(samples) == 2
    assert [int(sample[0].item()) for sample in samples] == [50, 90]
    fast = Subset(TensorDataset(x), [9, 2, 5])._get_batch([2, 0])
    np.testing.assert_array_equal(fast[0].numpy(), [50, 90])
    assert Subset(Squares(10), [9, 2, 5]).__getitems__([1, 2]) == [4, 25]
    slow = Subset(Squares(10), [9, 2, 5])._get_batch([1, 2])
    assert isinstance(slow, Tensor) and slow.numpy().dtype == np.int64
    np.testing.assert_array_equal(slow.numpy(), [4, 25])


def test_concat_dataset_indexing_across_parts() -> None:
    combined = ConcatDataset([Squares(3), Squares(0), Squares(2)])
    assert len(combined) == 5
    assert [combined[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert combined[-1] == 1 and combined[-5] == 0
    with pytest.raises(IndexError):
        combined[5]
    with pytest.raises(IndexError):
        combined[-6]
    added = Squares(2) + Squares(3)
    assert isinstance(added, ConcatDataset) and [added[i] for i in range(5)] == [0, 1, 0, 1, 4]
    with pytest.raises(ValueError):
        ConcatDataset([])


# -- random_split --------------------------------------------------------------------------

def split_indices(parts: list[Subset]) -> list[list[int]]:
    return [list(part.indices) for part in parts]


def test_random_split_int_lengths_are_disjoint_and_cover() -> None:
    parts = random_split(Squares(10), [3, 0, 7], generator=Generator(1))
    assert [len(part) for part in parts] == [3, 0, 7]
    indices = [i for part in split_indices(parts) for i in part]
    assert sorted(indices) == list(range(10))
    assert indices != list(range(10))  # shuffled (1 chance in 10! of failing)


@pytest.mark.parametrize("n, fractions", [
    (10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.3, 0.4]),
    (100, [0.8, 0.1, 0.1]), (3, [1 / 3] * 3), (5, [0.25, 0.25, 0.25, 0.25]),
])
def test_random_split_fractions_follow_pytorch_rounding(n: int, fractions) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = [len(part) for part in random_split(Squares(n), fractions, Generator(0))]
        theirs = [len(part) for part in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs
    assert sum(ours) == n


def test_random_split_fraction_remainder_goes_round_robin() -> None:
    sizes = [len(p) for p in random_split(Squares(10), [0.33, 0.33, 0.34], Generator(0))]
    assert sizes == [4, 3, 3]


def test_random_split_warns_on_empty_split() -> None:
    with pytest.warns(UserWarning) as record:
        parts = random_split(Squares(2), [0.9, 0.05, 0.05], Generator(0))
    assert [len(part) for part in parts] == [2, 0, 0]
    messages = [str(warning.message) for warning in record]
    assert len(messages) == 2 and "index 1" in messages[0] and "index 2" in messages[1]


def test_random_split_reproducible_with_generator_and_manual_seed() -> None:
    first = split_indices(random_split(Squares(50), [20, 30], generator=Generator(7)))
    second = split_indices(random_split(Squares(50), [20, 30], generator=Generator(7)))
    other = split_indices(random_split(Squares(50), [20, 30], generator=Generator(8)))
    assert first == second and first != other
    manual_seed(3)
    a = split_indices(random_split(Squares(50), [0.5, 0.5]))
    manual_seed(3)
    b = split_indices(random_split(Squares(50), [0.5, 0.5]))
    assert a == b


@pytest.mark.parametrize("lengths", [[3, 3], [5, 6], [0.5, 0.6], [-1, 11], [2.5, 7.5], []])
def test_random_split_rejects_lengths_that_do_not_add_up(lengths) -> None:
    with pytest.raises(ValueError):
        random_split(Squares(10), lengths)
