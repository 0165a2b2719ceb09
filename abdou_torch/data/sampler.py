"""Samplers: the order in which a DataLoader visits a dataset (``torch.utils.data.sampler``).

Each sampler draws with the same calls as PyTorch's, in the same order, so that once the
generators give PyTorch's numbers a seeded shuffle is PyTorch's shuffle:

* ``RandomSampler`` without a generator draws a seed ``empty((), int64).random_()`` from
  the default generator at the start of each pass and shuffles with a fresh generator
  seeded with it; with a generator it uses that one directly. Each pass is
  ``randperm(n, generator=g)`` (``num_samples // n`` full permutations, then part of one),
  or with replacement ``randint(high=n, size=(32,))`` blocks.
* ``SubsetRandomSampler``: ``randperm(len(indices), generator=g)``.
* ``WeightedRandomSampler``: ``multinomial(weights, num_samples, replacement, generator=g)``.

Samplers are lazy, as PyTorch's are: nothing is drawn until the first index is asked for.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from abdou_torch import random as _random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)


def _randperm(n: int, generator: _random.Generator | None) -> list[int]:
    from abdou_torch.factories import randperm
    return randperm(n, generator=generator).data.tolist()


def _randint(high: int, size: int, generator: _random.Generator) -> list[int]:
    from abdou_torch.factories import randint
    return randint(0, high, (size,), generator=generator).data.tolist()


def draw_seed(generator: _random.Generator | None = None) -> int:
    """``torch.empty((), dtype=torch.int64).random_(generator=generator).item()``: one
    non-negative int64 drawn from ``generator`` (default: the default generator)."""
    from abdou_torch.factories import empty
    return int(empty((), dtype=np.int64).random_(generator=generator).item())


def _multinomial(weights: np.ndarray, num_samples: int, replacement: bool,
                 generator: _random.Generator | None) -> list[int]:
    """PyTorch's ``torch.multinomial``: the same indices for the same generator state."""
    from abdou_torch.factories import as_tensor
    from abdou_torch.random_sampling import multinomial
    return multinomial(as_tensor(weights), num_samples, replacement,
                       generator=generator).data.tolist()


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses define ``__iter__`` (and usually ``__len__``).

    ``data_source`` is accepted and ignored, as in PyTorch (where it is deprecated).
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, always in that order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices of ``data_source`` in random order: a new permutation each pass, or with
    ``replacement`` ``num_samples`` independent uniform draws. Without replacement and
    ``num_samples > n``, whole permutations follow one another."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None,
                 generator: _random.Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            generator = _random.Generator(draw_seed())
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from _randint(n, 32, generator)
            yield from _randint(n, self.num_samples % 32, generator)
        else:
            for _ in range(self.num_samples // n):
                yield from _randperm(n, generator)
            yield from _randperm(n, generator)[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order, without replacement."""

    def __init__(self, indices: Sequence[int],
                 generator: _random.Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for position in _randperm(len(self.indices), self.generator):
            yield self.indices[position]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``weights`` drawn with probability ``w_i / sum(w)``, with
    or without ``replacement``."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: _random.Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) \
                or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        from abdou_torch.tensor import Tensor
        weights_array = np.asarray(weights.data if isinstance(weights, Tensor) else weights,
                                   dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_array.shape)}")
        self.weights = Tensor(weights_array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        yield from _multinomial(self.weights.data, self.num_samples, self.replacement,
                                self.generator)

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group the indices of ``sampler`` (any iterable) into lists of ``batch_size``; the
    last, shorter list is dropped with ``drop_last``."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        if self.drop_last:
            yield from (list(batch) for batch in zip(*[indices] * self.batch_size))
            return
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore


def sampler_generators(sampler: Any) -> list[_random.Generator | None]:
    """The generators a sampler (or a BatchSampler's inner sampler) draws from, outermost
    first; None stands for the default generator."""
    found = []
    while sampler is not None:
        if hasattr(sampler, "generator"):
            found.append(sampler.generator)
        sampler = getattr(sampler, "sampler", None)
    return found
