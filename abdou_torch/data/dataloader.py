"""``DataLoader``: batches from a dataset, PyTorch's arguments and order, and resumable.

What happens in one epoch (``iter(loader)``), call for call as in PyTorch:

1. ``iter(index_sampler)``: the BatchSampler over the sampler (SequentialSampler, or
   RandomSampler(dataset, generator=generator) with ``shuffle=True``), or the user's
   ``batch_sampler``, or with ``batch_size=None`` the sampler itself;
2. a base seed ``empty((), int64).random_(generator=generator)`` is drawn, shuffled or not
   (workers' ``get_worker_info().seed`` is base seed + worker id);
3. each batch of indices is fetched (``dataset.__getitems__(indices)`` if the dataset has
   it, else ``[dataset[i] for i in indices]``) and passed to ``collate_fn``
   (``default_collate``; ``default_convert`` without automatic batching).

A dataset may also define ``_get_batch(indices)`` returning exactly what
``default_collate([dataset[i] for i in indices])`` would (TensorDataset and MNIST do, with
one fancy-indexing call instead of a call per sample); it is used when ``collate_fn`` is
the default.

Resuming: ``state_dict()`` records the epoch, how many batches were handed out, and the
states of the generators involved (the loader's, the samplers', or the default one) at the
start of the epoch and now. ``load_state_dict()`` makes the next epoch replay the
interrupted one's indices without fetching them and continue with the first batch not yet
handed out, the generators then being exactly where the uninterrupted run had them. This
holds for every sampler here (and any whose randomness comes from ``.generator`` or the
default generator); a sampler drawing from elsewhere (``np.random``, ``random``) is not
replayed exactly. An IterableDataset resumes by fetching and dropping the batches already
handed out, exact when its iteration is deterministic.
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from abdou_torch import random as _random
from abdou_torch.data.collate import default_collate, default_convert
from abdou_torch.data.dataset import IterableDataset
from abdou_torch.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                      draw_seed, sampler_generators)
from abdou_torch.data.worker import EXHAUSTED, WorkerThreads, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

_STATE_VERSION = 2
_STATE_KEYS = {"version", "epoch", "in_progress", "batches_yielded", "batches_drawn",
               "epoch_generator_states", "generator_states", "dataset_length", "batch_size",
               "drop_last", "sampler"}
_START_METHODS = ("fork", "spawn", "forkserver")


class DataLoader:
    """Iterate over a dataset in batches (``torch.utils.data.DataLoader``).

    Arguments, checks and order are PyTorch's. ``num_workers > 0`` fetches on that many
    daemon threads (:mod:`abdou_torch.data.worker`), up to ``num_workers *
    prefetch_factor`` batches ahead; ``multiprocessing_context`` is accepted and unused,
    ``persistent_workers`` is accepted (threads start again each epoch, calling
    ``worker_init_fn`` again), ``pin_memory`` pins nothing (CPU only) and ``in_order=False``
    keeps the order (PyTorch allows, not requires, reordering).

    >>> import abdou_torch as torch
    >>> from abdou_torch.data import DataLoader, TensorDataset
    >>> dataset = TensorDataset(torch.arange(10.0), torch.arange(10))
    >>> for x, y in DataLoader(dataset, batch_size=4):
    ...     print(x, y)
    tensor([0., 1., 2., 3.]) tensor([0, 1, 2, 3])
    tensor([4., 5., 6., 7.]) tensor([4, 5, 6, 7])
    tensor([8., 9.]) tensor([8, 9])
    """

    __initialized = False

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Any = None, batch_sampler: Sampler | Any = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], Any] | None = None,
                 multiprocessing_context: Any = None,
                 generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        self.num_workers, self.prefetch_factor = _check_workers(
            num_workers, prefetch_factor, persistent_workers, timeout, worker_init_fn,
            multiprocessing_context)
        _check_callables(dataset, collate_fn, generator)
        if pin_memory:
            warnings.warn("DataLoader: pin_memory=True pins nothing: abdou_torch runs on the "
                          "CPU", UserWarning, stacklevel=2)
        self.dataset = dataset
        self.pin_memory, self.pin_memory_device = bool(pin_memory), pin_memory_device
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context, self.in_order = multiprocessing_context, in_order
        self.persistent_workers = persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        shuffle = self._check_kind(shuffle, sampler, batch_sampler)
        batch_size, drop_last = _check_batching(batch_size, shuffle, sampler, batch_sampler,
                                                drop_last)
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._epoch = 0
        self._epoch_generator_states: list | None = None
        self._batches_yielded = self._batches_drawn = 0
        self._epoch_in_progress = False
        self._resume: dict | None = None
        self._active: object | None = None
        self.__initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__initialized and name in ("batch_size", "batch_sampler", "sampler",
                                           "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def _check_kind(self, shuffle: Any, sampler: Any, batch_sampler: Any) -> bool:
        if not self._iterable:
            return bool(shuffle)
        if shuffle not in (False, None):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                             f"option, but got shuffle={shuffle}")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                             f"option, but got sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                             f"batch_sampler option, but got batch_sampler={batch_sampler}")
        return False

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        """Number of batches in one epoch (of samples without automatic batching)."""
        if not self._iterable:
            return len(self._index_sampler)
        length = len(self.dataset)
        if self.batch_size is not None:
            rounding = math.floor if self.drop_last else math.ceil
            length = rounding(length / self.batch_size)
        return length

    # -- one epoch ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        resume, self._resume = self._resume, None
        generators = self._generators()
        replaying = resume is not None and resume["in_progress"]
        if resume is not None:
            self._epoch = resume["epoch"] - (1 if replaying else 0)
            _set_states(generators, resume["epoch_generator_states" if replaying
                                           else "generator_states"])
        self._epoch += 1
        self._epoch_generator_states = _get_states(generators)
        self._active = token = object()  # an older iterator must not report progress
        index_iterator = None if self._iterable else iter(self._index_sampler)
        base_seed = draw_seed(self.generator)
        self._batches_drawn = 0
        self._batches_yielded = skip = resume["batches_yielded"] if replaying else 0
        self._epoch_in_progress = True
        if self._iterable:  # no indices to replay: fetch and drop what was handed out
            batches = itertools.islice(self._iterable_batches(base_seed), skip, None)
            return self._counted(batches, token)
        redo: list = []
        if replaying:
            drawn = list(itertools.islice(index_iterator, resume["batches_drawn"]))
            redo = drawn[skip:]  # drawn and fetched ahead, but not handed out
            _set_states(generators, resume["generator_states"])
            self._batches_drawn = len(drawn)
        indices = self._counted_indices(itertools.chain(redo, index_iterator), token,
                                        len(redo))
        batches = map(self._fetch, indices) if self.num_workers == 0 else \
            self._threaded(lambda worker_id: self._fetch, indices, base_seed)
        return self._counted(batches, token)

    def _generators(self) -> list[_random.Generator]:
        """The distinct generators an epoch draws from (None is the default generator)."""
        found = [self.generator]
        for sampler in (self.sampler, self.batch_sampler):
            found += sampler_generators(sampler)
        distinct: list = []
        for generator in found:
            generator = _random.default_generator if generator is None else generator
            if all(generator is not seen for seen in distinct):
                distinct.append(generator)
        return distinct

    def _counted_indices(self, indices: Iterator, token: object, already: int) -> Iterator:
        for count, batch in enumerate(indices):
            if self._active is token and count >= already:
                self._batches_drawn += 1
            yield batch

    def _counted(self, batches: Iterator, token: object) -> Iterator[Any]:
        for batch in batches:
            if self._active is token:
                self._batches_yielded += 1
            yield batch
        if self._active is token:
            self._epoch_in_progress = False

    def _fetch(self, indices: Any) -> Any:
        """One batch (one sample without automatic batching) of a map-style dataset."""
        dataset = self.dataset
        if not self._auto_collation:
            return self.collate_fn(dataset[indices])
        if self.collate_fn is default_collate and callable(getattr(dataset, "_get_batch", None)):
            return dataset._get_batch(indices)
        getitems = getattr(dataset, "__getitems__", None)
        samples = getitems(indices) if getitems else [dataset[index] for index in indices]
        return self.collate_fn(samples)

    def _iterable_batches(self, base_seed: int) -> Iterator[Any]:
        if self.num_workers == 0:
            return _batches_of(iter(self.dataset), self)

        def make_job(worker_id: int) -> Callable[[Any], Any]:
            batches = _batches_of(iter(self.dataset), self)  # in the worker: sees its info
            return lambda payload: next(batches)
        return self._threaded(make_job, None, base_seed)

    def _threaded(self, make_job: Callable[[int], Callable], indices: Iterator | None,
                  base_seed: int) -> Iterator[Any]:
        """Batches fetched by worker threads, handed out in the order of their tasks."""
        workers = WorkerThreads(self.num_workers, make_job, self.worker_init_fn, base_seed,
                                self.dataset)
        active = [True] * self.num_workers
        turn = itertools.cycle(range(self.num_workers))
        task_ids = itertools.count()
        pending: dict[int, Any] = {}   # task id -> worker, for tasks handed out
        answers: dict[int, Any] = {}

        def hand_out() -> None:
            payload = None
            if indices is not None:
                payload = next(indices, EXHAUSTED)
                if payload is EXHAUSTED:
                    return
            for _ in range(self.num_workers):  # the next worker still active, if any
                worker = next(turn)
                if active[worker]:
                    task = next(task_ids)
                    pending[task] = worker
                    workers.submit(worker, task, payload)
                    return

        try:
            for _ in range(self.num_workers * self.prefetch_factor):
                hand_out()
            next_task = 0
            while pending:
                while next_task not in answers:
                    task, value = workers.result(self.timeout)
                    answers[task] = value
                value, worker = answers.pop(next_task), pending.pop(next_task)
                next_task += 1
                if value is EXHAUSTED:  # an iterable worker ran out: skip it from now on
                    active[worker] = False
                    hand_out()
                    continue
                hand_out()
                yield value
        finally:  # also when the consumer stops early or an error is raised
            workers.shutdown()

    # -- resuming --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Where the current epoch stands, as a JSON-serialisable dict (see the module)."""
        if self._resume is not None:  # loaded but not started yet: still at that point
            return dict(self._resume)
        return {"version": _STATE_VERSION, "epoch": self._epoch,
                "in_progress": self._epoch_in_progress,
                "batches_yielded": self._batches_yielded,
                "batches_drawn": self._batches_drawn,
                "epoch_generator_states": self._epoch_generator_states,
                "generator_states": _get_states(self._generators()),
                **self._shape()}

    def _shape(self) -> dict[str, Any]:
        """What a saved state must agree on with this loader."""
        length = None if self._iterable else len(self.dataset)
        samplers, sampler = [], self._index_sampler
        while sampler is not None:
            samplers.append(type(sampler).__name__)
            sampler = getattr(sampler, "sampler", None)
        return {"dataset_length": length, "batch_size": self.batch_size,
                "drop_last": self.drop_last, "sampler": "/".join(samplers)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Make the next ``iter(self)`` continue from ``state`` (from :meth:`state_dict`)."""
        self._resume = self._validated(state)

    def _validated(self, state: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(state, Mapping):
            raise TypeError(f"DataLoader.load_state_dict expects a dict, got "
                            f"{type(state).__name__}")
        missing = _STATE_KEYS - set(state)
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        if state["version"] != _STATE_VERSION:
            raise ValueError(f"DataLoader.load_state_dict: unsupported version "
                             f"{state['version']!r} (expected {_STATE_VERSION})")
        for key, value in self._shape().items():
            if state[key] != value:
                raise ValueError(f"DataLoader.load_state_dict: the state has {key}="
                                 f"{state[key]!r} but this loader has {key}={value!r}")
        yielded, drawn = state["batches_yielded"], state["batches_drawn"]
        for name, value in (("batches_yielded", yielded), ("batches_drawn", drawn),
                            ("epoch", state["epoch"])):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"DataLoader.load_state_dict: {name}={value!r} is not a "
                                 f"non-negative int")
        if not self._iterable and not yielded <= drawn <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_yielded={yielded} and "
                             f"batches_drawn={drawn} do not fit 0 <= yielded <= drawn <= "
                             f"{len(self)}")
        count = len(self._generators())
        for key in ("generator_states", "epoch_generator_states"):
            states = state[key]
            if key == "epoch_generator_states" and states is None and not state["in_progress"]:
                continue
            if not isinstance(states, list) or len(states) != count:
                raise ValueError(f"DataLoader.load_state_dict: {key} must list {count} "
                                 f"generator state(s), got {states!r:.80}")
        return dict(state)

    def __repr__(self) -> str:
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size="
                f"{self.batch_size}, sampler={type(self.sampler).__name__}, drop_last="
                f"{self.drop_last}{workers})")


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: None forever (the dataset decides the order)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _batches_of(samples: Iterator[Any], loader: DataLoader) -> Iterator[Any]:
    """Batches of an iterable dataset's samples, as PyTorch's fetcher makes them."""
    if not loader._auto_collation:
        for sample in samples:
            yield loader.collate_fn(sample)
        return
    while True:
        batch = list(itertools.islice(samples, loader.batch_size))
        if not batch or (loader.drop_last and len(batch) < loader.batch_size):
            return
        yield loader.collate_fn(batch)


def _get_states(generators: list[_random.Generator]) -> list[Any]:
    return [generator.get_state() for generator in generators]


def _set_states(generators: list[_random.Generator], states: list[Any] | None) -> None:
    for generator, state in zip(generators, states or []):
        generator.set_state(state)


def _check_batching(batch_size: Any, shuffle: bool, sampler: Any, batch_sampler: Any,
                    drop_last: Any) -> tuple[int | None, bool]:
    """PyTorch's rules for combining batch_size, shuffle, sampler and batch_sampler."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        return None, False
    if batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually "
                         "exclusive with drop_last")
    return batch_size, drop_last


def _check_callables(dataset: Any, collate_fn: Any, generator: Any) -> None:
    """Clear errors up front for what PyTorch would only trip over while iterating."""
    if not isinstance(dataset, IterableDataset) and not hasattr(dataset, "__getitem__"):
        raise TypeError(f"DataLoader: dataset must define __getitem__ (a map-style dataset, "
                        f"with __len__ for the default samplers) or be an IterableDataset, "
                        f"got {type(dataset).__name__}")
    if collate_fn is not None and not callable(collate_fn):
        raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
    if generator is not None and not isinstance(generator, _random.Generator):
        raise TypeError("DataLoader: generator must be an abdou_torch.random.Generator, "
                        f"got {type(generator).__name__}")


def _check_workers(num_workers: Any, prefetch_factor: Any, persistent_workers: Any,
                   timeout: Any, worker_init_fn: Any,
                   multiprocessing_context: Any) -> tuple[int, int | None]:
    """(num_workers, prefetch_factor) checked as PyTorch checks them."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
            or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative int (0 fetches in "
                         f"the training loop's thread), got {num_workers!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"DataLoader: timeout must be a non-negative number, got {timeout!r}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (or leave it None)")
    if num_workers == 0 and persistent_workers:
        raise ValueError("DataLoader: persistent_workers needs num_workers > 0")
    if num_workers == 0 and multiprocessing_context is not None:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if isinstance(multiprocessing_context, str) and \
            multiprocessing_context not in _START_METHODS:
        raise ValueError(f"multiprocessing_context option should specify a valid start "
                         f"method in {list(_START_METHODS)!r}, but got "
                         f"multiprocessing_context={multiprocessing_context!r}")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable, got {worker_init_fn!r}")
    if num_workers == 0:
        return 0, None
    prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
    if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, (int, np.integer)) \
            or prefetch_factor < 1:
        raise ValueError(f"DataLoader: prefetch_factor must be a positive int (batches each "
                         f"worker fetches ahead), got {prefetch_factor!r}")
    return int(num_workers), int(prefetch_factor)
