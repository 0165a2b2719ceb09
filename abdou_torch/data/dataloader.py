"""Batching: ``default_collate`` and a resumable, reproducible ``DataLoader``.

Shuffling draws one permutation per epoch from the loader's generator (or the default
one), so ``abdou_torch.random.manual_seed`` makes runs reproducible. ``state_dict()``
records where the current epoch stands, which lets a run that was interrupted mid-epoch
continue with exactly the batches the uninterrupted run would have produced.

``num_workers > 0`` fetches batches ahead on that many threads (not processes, as
PyTorch's): the batches and their order are those of ``num_workers=0``, while the
training step runs. NumPy releases the GIL while it copies and stacks arrays, so this
pays off when fetching is array work; a dataset whose ``__getitem__`` is pure Python
gains little.
"""
from __future__ import annotations

import collections
import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FetchTimeout
from typing import Any

import numpy as np

from abdou_torch import random as _random
from abdou_torch.tensor import Tensor

__all__ = ["DataLoader", "default_collate"]

_STATE_VERSION = 1


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, the way ``torch.utils.data.default_collate`` does.

    Arrays and Tensors are stacked along a new first dimension (dtype kept), Python ints
    become an int64 Tensor, floats a float32 Tensor and bools a bool Tensor; tuples, lists
    and dicts are collated field by field; strings and bytes are returned as a list.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray, np.generic)):
        return Tensor(_stack([_as_array(sample) for sample in batch]))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in _transpose(batch)))
    if isinstance(elem, (tuple, list)):
        collated = [default_collate(list(field)) for field in _transpose(batch)]
        return tuple(collated) if isinstance(elem, tuple) else collated
    raise TypeError(f"default_collate: batch must contain Tensors, ndarrays, numbers, "
                    f"strings, dicts or sequences; found {type(elem).__name__}")


def _as_array(sample: Any) -> np.ndarray:
    return sample.data if isinstance(sample, Tensor) else np.asarray(sample)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shape = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != shape:
            raise RuntimeError(f"default_collate: each sample must have the same shape, but "
                               f"sample 0 has {shape} and sample {position} has {array.shape}")
    return np.stack(arrays)


def _transpose(batch: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    size = len(batch[0])
    if any(len(sample) != size for sample in batch):
        raise RuntimeError("default_collate: each element in the batch must have the same "
                           "number of fields")
    return list(zip(*batch, strict=True))


class DataLoader:
    """Iterate over a dataset in batches (``torch.utils.data.DataLoader``; its workers are
    threads, not processes).

    Each ``iter(loader)`` is one epoch. With ``shuffle=True`` the epoch's order is a
    permutation drawn from ``generator`` (an :class:`abdou_torch.random.Generator`) or, when
    it is None, from ``abdou_torch.random.default_generator``.

    When the dataset defines ``__getitems__(indices)`` (returning an already collated
    batch) and no ``collate_fn`` is given, each batch is fetched with that single call.

    ``num_workers``, ``prefetch_factor``, ``timeout`` and ``worker_init_fn`` (called with
    each thread's id) are PyTorch's, for worker threads (see the module's docstring): the
    dataset is read from several threads at once, so its ``__getitem__`` must allow that.
    ``pin_memory`` and ``persistent_workers`` are accepted and change nothing here.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable[[list], Any] | None = None,
                 generator: _random.Generator | None = None, *, num_workers: int = 0,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], Any] | None = None) -> None:
        _check_batch_size(batch_size)
        self.num_workers, self.prefetch_factor = _check_workers(
            num_workers, prefetch_factor, persistent_workers, timeout, worker_init_fn)
        if pin_memory:
            warnings.warn("DataLoader: pin_memory=True pins nothing: abdou_torch runs on the "
                          "CPU", UserWarning, stacklevel=2)
        self.pin_memory, self.persistent_workers = bool(pin_memory), bool(persistent_workers)
        self.timeout, self.worker_init_fn = float(timeout), worker_init_fn
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be a bool, got {flag!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        if generator is not None and not isinstance(generator, _random.Generator):
            raise TypeError("DataLoader: generator must be an abdou_torch.random.Generator, "
                            f"got {type(generator).__name__}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError("DataLoader: dataset must define __getitem__ and __len__")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self._epoch = 0
        self._epoch_generator_state: dict | None = None
        self._batches_yielded = 0
        self._epoch_in_progress = False
        self._resume: dict | None = None
        self._active: object | None = None

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        size = len(self.dataset)
        if self.drop_last:
            return size // self.batch_size
        return math.ceil(size / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        resume, self._resume = self._resume, None
        if resume is not None:
            self._epoch = resume["epoch"]
        if resume is not None and resume["in_progress"]:
            order, skip = self._replay_epoch(resume), resume["batches_yielded"]
        else:
            if resume is not None and resume["generator_state"] is not None:
                self._epoch_generator().set_state(resume["generator_state"])
            order, skip = self._new_epoch(), 0
        self._batches_yielded = skip
        self._epoch_in_progress = True
        # Only the newest iterator reports progress; an older one still being drained must
        # not overwrite the position of the current epoch.
        self._active = token = object()
        return self._batches(order, skip, token)

    def _epoch_generator(self) -> _random.Generator:
        # Looked up on each use: the default generator is module state that may be replaced.
        return self.generator if self.generator is not None else _random.default_generator

    def _new_epoch(self) -> np.ndarray | None:
        """Start an epoch: record the generator state, then draw this epoch's order."""
        self._epoch += 1
        size = len(self.dataset)
        if not self.shuffle:
            self._epoch_generator_state = None
            return None
        generator = self._epoch_generator()
        self._epoch_generator_state = generator.get_state()
        return generator.numpy.permutation(size)

    def _replay_epoch(self, resume: dict) -> np.ndarray | None:
        """Redraw an interrupted epoch's order and put the generator where the run left it."""
        self._epoch_generator_state = resume["epoch_generator_state"]
        if not self.shuffle:
            return None
        # A scratch generator replays the permutation; the real one is then set to the state
        # saved with the checkpoint, which includes any draws made during the epoch.
        replay = _random.Generator(0).set_state(resume["epoch_generator_state"])
        order = replay.numpy.permutation(len(self.dataset))
        self._epoch_generator().set_state(resume["generator_state"] or replay.get_state())
        return order

    def _batches(self, order: np.ndarray | None, skip: int, token: object) -> Iterator[Any]:
        index_blocks = self._index_blocks(order, skip)
        fetched = map(self._fetch, index_blocks) if self.num_workers == 0 else \
            self._fetched_ahead(index_blocks)
        for batch in fetched:
            if self._active is token:
                self._batches_yielded += 1
            yield batch
        if self._active is token:
            self._epoch_in_progress = False

    def _index_blocks(self, order: np.ndarray | None, skip: int) -> Iterator[np.ndarray]:
        size = len(self.dataset)
        stop = len(self) * self.batch_size if self.drop_last else size
        for start in range(skip * self.batch_size, stop, self.batch_size):
            end = min(start + self.batch_size, size)
            yield np.arange(start, end) if order is None else order[start:end]

    def _fetched_ahead(self, index_blocks: Iterator[np.ndarray]) -> Iterator[Any]:
        """The batches of ``index_blocks`` in order, fetched by ``num_workers`` threads up
        to ``num_workers * prefetch_factor`` batches ahead of the one handed out."""
        worker_ids = itertools.count()

        def start_worker() -> None:
            if self.worker_init_fn is not None:
                self.worker_init_fn(next(worker_ids))

        ahead = self.num_workers * self.prefetch_factor
        pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="DataLoader",
                                  initializer=start_worker)
        pending: collections.deque = collections.deque()
        try:
            for indices in index_blocks:
                pending.append(pool.submit(self._fetch, indices))
                if len(pending) > ahead:
                    yield self._result(pending.popleft())
            while pending:
                yield self._result(pending.popleft())
        finally:  # also when the consumer stops early: drop what was fetched ahead
            pool.shutdown(wait=False, cancel_futures=True)

    def _result(self, future) -> Any:
        try:
            return future.result(timeout=self.timeout or None)
        except FetchTimeout:
            raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds "
                               f"waiting for a batch") from None

    def _fetch(self, indices: np.ndarray) -> Any:
        getitems = getattr(self.dataset, "__getitems__", None)
        if self.collate_fn is None and callable(getitems):
            return getitems(indices)
        collate = self.collate_fn or default_collate
        return collate([self.dataset[int(index)] for index in indices])

    def state_dict(self) -> dict[str, Any]:
        """Where the current epoch stands, as a JSON-serialisable dict.

        ``epoch_generator_state`` is the generator state captured just before this epoch's
        permutation was drawn and ``batches_yielded`` how many batches were handed out;
        ``generator_state`` is the generator's state now, so that draws made by others
        from the same generator during the epoch are restored too.
        """
        if self._resume is not None:  # loaded but not started yet: still at that point
            return dict(self._resume)
        generator_state = self._epoch_generator().get_state() if self.shuffle else None
        return {
            "version": _STATE_VERSION,
            "epoch": self._epoch,
            "in_progress": self._epoch_in_progress,
            "batches_yielded": self._batches_yielded,
            "epoch_generator_state": self._epoch_generator_state,
            "generator_state": generator_state,
            "dataset_length": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Make the next ``iter(self)`` continue from ``state`` (from :meth:`state_dict`).

        An interrupted epoch replays the same order, starting after the batches already
        yielded; later epochs then continue exactly as the uninterrupted run would.
        """
        self._resume = self._validated(state)

    def _validated(self, state: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(state, Mapping):
            raise TypeError(f"DataLoader.load_state_dict expects a dict, got "
                            f"{type(state).__name__}")
        missing = {"version", "epoch", "in_progress", "batches_yielded", "epoch_generator_state",
                   "generator_state", "dataset_length", "batch_size", "shuffle",
                   "drop_last"} - set(state)
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        if state["version"] != _STATE_VERSION:
            raise ValueError(f"DataLoader.load_state_dict: unsupported version "
                             f"{state['version']!r}")
        here = {"dataset_length": len(self.dataset), "batch_size": self.batch_size,
                "shuffle": self.shuffle, "drop_last": self.drop_last}
        for key, value in here.items():
            if state[key] != value:
                raise ValueError(f"DataLoader.load_state_dict: the state has {key}="
                                 f"{state[key]!r} but this loader has {key}={value!r}")
        yielded = state["batches_yielded"]
        if isinstance(yielded, bool) or not isinstance(yielded, int) or \
                not 0 <= yielded <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_yielded={yielded!r} is not "
                             f"in [0, {len(self)}]")
        if state["in_progress"] and self.shuffle and state["epoch_generator_state"] is None:
            raise ValueError("DataLoader.load_state_dict: a shuffled epoch in progress needs "
                             "epoch_generator_state")
        return dict(state)

    def __repr__(self) -> str:
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}"
                f"{workers})")


def _check_workers(num_workers: Any, prefetch_factor: Any, persistent_workers: Any,
                   timeout: Any, worker_init_fn: Any) -> tuple[int, int]:
    """(num_workers, prefetch_factor) checked as PyTorch checks them."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
            or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative int (0 fetches in "
                         f"the training loop's thread), got {num_workers!r}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (or leave it None)")
    if num_workers == 0 and persistent_workers:
        raise ValueError("DataLoader: persistent_workers needs num_workers > 0")
    prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
    if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, (int, np.integer)) \
            or prefetch_factor < 1:
        raise ValueError(f"DataLoader: prefetch_factor must be a positive int, got "
                         f"{prefetch_factor!r}")
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"DataLoader: timeout must be a non-negative number, got {timeout!r}")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable, got {worker_init_fn!r}")
    return int(num_workers), int(prefetch_factor)


def _check_batch_size(batch_size: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
