"""Map-style datasets: the ``Dataset`` base, ``TensorDataset``, ``Subset``, ``ConcatDataset``
and ``random_split``, with PyTorch's names and semantics.

A dataset may define ``__getitems__(indices)`` returning an already collated batch; the
``DataLoader`` then fetches a whole batch with one fancy-indexing call instead of one
``__getitem__`` call per sample.
"""
from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from abdou_torch import random as _random
from abdou_torch.data.dataloader import default_collate
from abdou_torch.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows of the given Tensors (or ndarrays), which must agree in length.

    ``dataset[i]`` is the tuple of each tensor's row ``i``; ``__getitems__(indices)``
    returns the batch tuple directly.
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

    def __getitems__(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, ...]:
        indices = np.asarray(indices, dtype=np.intp)
        return tuple(Tensor(array[indices]) for array in self._arrays)

    def __len__(self) -> int:
        return self._arrays[0].shape[0]


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

    def __getitem__(self, index: int | list[int]) -> T_co:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: Sequence[int] | np.ndarray) -> Any:
        positions = np.asarray(self.indices, dtype=np.intp)[np.asarray(indices, dtype=np.intp)]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(positions)
        return default_collate([self.dataset[int(position)] for position in positions])

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets: Sequence[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

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
    total = len(dataset)
    sizes = _split_sizes(list(lengths), total)
    order = _random.resolve(generator).permutation(total).tolist()
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
