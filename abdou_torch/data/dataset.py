"""Datasets: the map-style ``Dataset`` base, ``IterableDataset``, ``TensorDataset``,
``Subset``, ``ConcatDataset``, ``ChainDataset`` and ``random_split``, with PyTorch's names
and semantics.

As in PyTorch, a map-style dataset may define ``__getitems__(indices)`` returning the list
of samples at ``indices`` (the DataLoader then calls it once per batch). abdou_torch adds a
faster protocol: ``_get_batch(indices)`` returning exactly what
``default_collate([self[i] for i in indices])`` would, which TensorDataset and MNIST answer
with one fancy-indexing call; the DataLoader uses it when it collates with
``default_collate``.
"""
from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar, cast, overload

import numpy as np

from abdou_torch import random as _random
from abdou_torch.data.collate import default_collate
from abdou_torch.tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Base class of map-style datasets: subclasses define ``__getitem__`` and, for the
    default samplers, ``__len__``. The base has no ``__len__``, as in PyTorch, so that
    ``len()`` of a dataset without one is a TypeError (which ``list()`` and friends
    expect), not an error of our own."""

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset[T_co]) -> Dataset[T_co]:  # iterable ones chain
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """Base class of datasets that are streams: subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker thread iterates the same dataset object: use
    ``abdou_torch.data.get_worker_info()`` in ``__iter__`` to give each worker its share,
    as in PyTorch (where each worker holds a copy).
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset[T_co]) -> "ChainDataset[T_co]":
        return ChainDataset([self, other])


class ChainDataset(IterableDataset[T_co]):
    """The samples of several iterable datasets, one after the other."""

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[T_co]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(cast(Sized, dataset))  # TypeError without __len__, as PyTorch's
        return total


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows of the given Tensors (or ndarrays), which must agree in length.

    ``dataset[i]`` is the tuple of each tensor's row ``i``; ``_get_batch(indices)`` returns
    the collated batch (a list, as ``default_collate`` makes of tuples) directly.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = [_as_array(tensor, position) for position, tensor in enumerate(tensors)]
        sizes = [array.shape[0] for array in arrays]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"are {sizes}")
        self._arrays = arrays
        self.tensors = tuple(Tensor(array) for array in arrays)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        # The trailing Ellipsis keeps 0-d items as arrays (views), not NumPy scalars.
        key = (index, Ellipsis) if not isinstance(index, tuple) else index
        return tuple(Tensor(array[key]) for array in self._arrays)

    def _get_batch(self, indices: Sequence[int] | np.ndarray) -> list[Tensor]:
        indices = _checked_indices(indices, len(self))
        return [Tensor(array[indices]) for array in self._arrays]

    def __len__(self) -> int:
        return self._arrays[0].shape[0]


def _checked_indices(indices: Any, length: int) -> np.ndarray:
    """Indices as an intp array, refusing what ``dataset[i]`` would refuse: out of range."""
    indices = np.asarray(indices, dtype=np.intp)
    if indices.size and (indices.max() >= length or indices.min() < -length):
        bad = indices[(indices >= length) | (indices < -length)][0]
        raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {length}")
    return indices


def _as_array(tensor: Any, position: int) -> np.ndarray:
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"TensorDataset: argument {position} must be a Tensor or ndarray, "
                        f"got {type(tensor).__name__}")
    if array.ndim == 0:
        raise ValueError(f"TensorDataset: argument {position} is 0-dimensional; samples are "
                         f"taken along the first dimension")
    return array


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    @overload
    def __getitem__(self, index: int) -> T_co: ...
    @overload
    def __getitem__(self, index: list[int]) -> list[T_co]: ...
    def __getitem__(self, index: int | list[int]) -> T_co | list[T_co]:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: Sequence[int]) -> list:
        """The samples at ``indices`` (through the dataset's ``__getitems__`` if it has it)."""
        positions = [self.indices[index] for index in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(positions)
        return [self.dataset[position] for position in positions]

    def _get_batch(self, indices: Sequence[int]) -> Any:
        positions = [self.indices[index] for index in indices]
        get_batch = getattr(self.dataset, "_get_batch", None)
        if callable(get_batch):
            return get_batch(positions)
        return default_collate(self.__getitems__(indices))

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets: Sequence[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        # each must have __len__ (len() raises TypeError otherwise, as PyTorch's does)
        self.cumulative_sizes = list(np.cumsum([len(cast(Sized, d))
                                                for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} out of range for length "
                                 f"{len(self)}")
            index += len(self)
        part = bisect.bisect_right(self.cumulative_sizes, index)
        if part == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length "
                             f"{len(self)}")
        offset = index - (self.cumulative_sizes[part - 1] if part > 0 else 0)
        return self.datasets[part][offset]


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset[T_co]]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are either sample counts summing to ``len(dataset)`` or fractions summing
    to 1; fractions are floored and the remainder is handed out one by one, round-robin,
    starting with the first subset (PyTorch's rule).
    """
    total = len(cast(Sized, dataset))  # TypeError without __len__, as in PyTorch
    sizes = _split_sizes(list(lengths), total)
    from abdou_torch.factories import randperm
    order = randperm(total, generator=generator).data.tolist()
    subsets, offset = [], 0
    for size in sizes:
        subsets.append(Subset(dataset, order[offset:offset + size]))
        offset += size
    return subsets


def _split_sizes(lengths: list[int | float], total: int) -> list[int]:
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for fraction in lengths:
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction {fraction} is not in [0, 1]")
            sizes.append(int(math.floor(total * fraction)))
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; "
                              f"this split will be empty", stacklevel=3)
        return sizes
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {lengths}")
    if sum(lengths) != total:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({total})")
    return [int(length) for length in lengths]
