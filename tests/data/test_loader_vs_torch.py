"""A differential harness for DataLoader batching: generated combinations of dataset size,
batch_size, drop_last, shuffle, sampler, batch_sampler and generator, each built and run
through abdou_torch and PyTorch, comparing whether construction raises (and with what),
len(loader), and the batches. Orders that depend on random draws are compared exactly
when abdou_torch's generators give PyTorch's numbers (STREAMS_MATCH), and otherwise by
what must hold whatever the numbers: batch count and sizes, dtypes, and which samples."""
from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data
from hypothesis import given, settings
from hypothesis import strategies as st

import abdou_torch
import abdou_torch.data as at_data
from abdou_torch.random import Generator

STREAMS_MATCH = abdou_torch.randperm(20, generator=Generator(3)).numpy().tolist() == \
    torch.randperm(20, generator=torch.Generator().manual_seed(3)).tolist()


def _generator(side: str, seed: int | None):
    if seed is None:
        return None
    return Generator(seed) if side == "abdou" else torch.Generator().manual_seed(seed)


def build_loader(side: str, case: dict) -> Any:
    """The case's DataLoader for one side (a description, built twice)."""
    module = at_data if side == "abdou" else torch_data
    n = case["n"]
    dataset = list(range(100, 100 + n)) if not case["pairs"] else \
        [(i, float(i) / 4) for i in range(n)]
    kwargs = {key: case[key] for key in ("batch_size", "shuffle", "drop_last") if key in case}
    sampler = case.get("sampler")
    if sampler is not None:
        kind, *args = sampler
        seed = _generator(side, case.get("sampler_seed"))
        kwargs["sampler"] = {
            "sequential": lambda: module.SequentialSampler(dataset),
            "random": lambda: module.RandomSampler(dataset, args[0], args[1], generator=seed),
            "subset": lambda: module.SubsetRandomSampler(args[0], generator=seed),
            "weighted": lambda: module.WeightedRandomSampler(args[0], args[1], args[2],
                                                             generator=seed),
            "list": lambda: list(args[0]),
        }[kind]()
    if case.get("batch_sampler") is not None:
        size, drop = case["batch_sampler"]
        kwargs["batch_sampler"] = module.BatchSampler(module.SequentialSampler(dataset), size,
                                                      drop)
    if "generator" in case:
        kwargs["generator"] = _generator(side, case["generator"])
    return module.DataLoader(dataset, **kwargs)


def _random_order(case: dict) -> bool:
    kind = (case.get("sampler") or ("",))[0]
    return bool(case.get("shuffle")) or kind in ("random", "subset", "weighted")


def _with_replacement(case: dict) -> bool:
    sampler = case.get("sampler") or ("",)
    return (sampler[0] == "random" and sampler[1]) or (sampler[0] == "weighted" and sampler[3])


def _values(batch: Any) -> list:
    """The sample ids in a batch (a Tensor, a list of Tensors, or one unbatched sample)."""
    if isinstance(batch, (list, tuple)) and not isinstance(batch, str):
        batch = batch[0]
    if hasattr(batch, "tolist"):
        values = batch.tolist()
        return values if isinstance(values, list) else [values]
    return [batch]


def _dtypes(batch: Any) -> list[str]:
    parts = batch if isinstance(batch, (list, tuple)) else [batch]
    return [str(np.asarray(part.numpy() if hasattr(part, "numpy") else part).dtype)
            for part in parts]


@st.composite
def cases(draw) -> dict:
    n = draw(st.integers(0, 13))
    case: dict = {"n": n, "pairs": draw(st.booleans())}
    case["batch_size"] = draw(st.sampled_from([1, 1, 2, 3, 4, 5, 16, None, 0, -1]))
    if draw(st.booleans()):
        case["drop_last"] = draw(st.booleans())
    if draw(st.booleans()):
        case["shuffle"] = draw(st.sampled_from([True, False, None]))
    sampler_kind = draw(st.sampled_from([None, None, "sequential", "random", "subset",
                                         "weighted", "list"]))
    if sampler_kind == "random":
        replacement = draw(st.booleans())
        case["sampler"] = ("random", replacement,
                           draw(st.sampled_from([None, 1, 5, 17])) if replacement or n
                           else None)
    elif sampler_kind == "subset":
        case["sampler"] = ("subset", draw(st.lists(st.integers(0, max(n - 1, 0)),
                                                   max_size=8)) if n else [])
    elif sampler_kind == "weighted":
        weights = draw(st.lists(st.floats(0.1, 5.0), min_size=max(n, 1), max_size=max(n, 1)))
        replacement = draw(st.booleans())
        count = draw(st.integers(1, len(weights) if not replacement else 20))
        case["sampler"] = ("weighted", weights[:n] or [1.0], count, replacement)
    elif sampler_kind is not None:
        case["sampler"] = (sampler_kind,)
        if sampler_kind == "list":
            case["sampler"] = ("list", list(reversed(range(n))))
    if sampler_kind in ("random", "subset", "weighted") and draw(st.booleans()):
        case["sampler_seed"] = draw(st.integers(0, 2**31))
    if draw(st.integers(0, 4)) == 0:
        case["batch_sampler"] = (draw(st.integers(1, 4)), draw(st.booleans()))
    if draw(st.booleans()):
        case["generator"] = draw(st.integers(0, 2**31))
    return case


@settings(max_examples=400)
@given(case=cases())
def test_generated_loaders_batch_as_in_pytorch(case, compare):
    abdou_torch.manual_seed(case["n"])
    torch.manual_seed(case["n"])
    ours = compare.outcome(lambda: build_loader("abdou", case))
    theirs = compare.outcome(lambda: build_loader("torch", case))
    assert ours[0] == theirs[0], (case, ours, theirs)
    if ours[0] == "raises":
        assert isinstance(ours[1], type(theirs[1])), (case, ours[1], theirs[1])
        assert str(ours[1]) == str(theirs[1]), case
        return
    loader, torch_loader = ours[1], theirs[1]
    compare.assert_same_outcome(compare.outcome(lambda: len(loader)),
                                compare.outcome(lambda: len(torch_loader)), case)
    ours_batches = compare.outcome(lambda: list(loader))
    theirs_batches = compare.outcome(lambda: list(torch_loader))
    if not _random_order(case) or STREAMS_MATCH:
        compare.assert_same_outcome(ours_batches, theirs_batches, case)
        return
    assert ours_batches[0] == theirs_batches[0], (case, ours_batches, theirs_batches)
    if ours_batches[0] == "raises":
        return
    mine, theirs_list = ours_batches[1], theirs_batches[1]
    assert [len(_values(b)) for b in mine] == [len(_values(b)) for b in theirs_list], case
    assert [_dtypes(b) for b in mine] == [_dtypes(b) for b in theirs_list], case
    drawn = collections.Counter(v for b in mine for v in _values(b))
    assert set(drawn) <= set(_values_of_dataset(case)), case
    if not case.get("drop_last") and not _with_replacement(case):
        _check_counts(case, drawn)


def _values_of_dataset(case: dict) -> list:
    return list(range(case["n"])) if case["pairs"] else list(range(100, 100 + case["n"]))


def _check_counts(case: dict, drawn: collections.Counter) -> None:
    """How often each sample comes in an epoch drawn without replacement, whatever the
    order: a subset's indices, distinct weighted draws, or whole permutations of the
    dataset followed by part of one."""
    values = _values_of_dataset(case)
    kind = (case.get("sampler") or ("shuffle",))[0]
    if kind == "subset":
        assert drawn == collections.Counter(values[i] for i in case["sampler"][1]), case
    elif kind == "weighted":
        assert set(drawn.values()) <= {1} and sum(drawn.values()) == case["sampler"][2], case
    else:
        total = case["sampler"][2] if kind == "random" and case["sampler"][2] else len(values)
        full, part = divmod(total, len(values)) if values else (0, 0)
        assert sum(drawn.values()) == total, case
        assert all(drawn[v] in (full, full + 1) for v in values), case
        assert sum(drawn[v] == full + 1 for v in values) == part, case


# -- IterableDataset, with and without workers, against PyTorch's processes -------------------

class Shards(torch_data.IterableDataset):
    """Each worker yields its share of range(n): worker w the numbers w, w + k, ... (k
    workers); written once, for both libraries (it only needs get_worker_info)."""

    def __init__(self, n: int, get_worker_info) -> None:
        self.n, self.get_worker_info = n, get_worker_info

    def __iter__(self):
        info = self.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        # worker 0 gets a longer tail so the workers run out at different times
        stop = self.n + (3 if info is not None and info.id == 0 else 0)
        return iter(range(start, stop, step))


class AbdouShards(at_data.IterableDataset):
    __init__ = Shards.__init__
    __iter__ = Shards.__iter__


@pytest.mark.parametrize("n, batch_size, drop_last, workers", [
    (10, 3, False, 0), (10, 3, True, 0), (11, 2, False, 2), (11, 2, True, 2), (7, None, False, 2),
    (20, 4, False, 3), (5, 2, False, 3),
])
def test_iterable_dataset_batches_as_pytorch_workers_do(n, batch_size, drop_last, workers,
                                                        compare):
    ours = at_data.DataLoader(AbdouShards(n, at_data.get_worker_info), batch_size=batch_size,
                              drop_last=drop_last, num_workers=workers)
    theirs = torch_data.DataLoader(Shards(n, torch_data.get_worker_info),
                                   batch_size=batch_size, drop_last=drop_last,
                                   num_workers=workers)
    compare.assert_same(list(ours), list(theirs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0, 1]),
                                    dict(batch_sampler=[[0]]), dict(shuffle=False),
                                    dict(batch_size=None, drop_last=True)])
def test_iterable_dataset_argument_checks_match_pytorch(kwargs, compare):
    def make(module, dataset):
        return module.DataLoader(dataset, **kwargs)
    ours = compare.outcome(lambda: make(at_data, AbdouShards(4, at_data.get_worker_info)))
    theirs = compare.outcome(lambda: make(torch_data, Shards(4, torch_data.get_worker_info)))
    assert ours[0] == theirs[0]
    if ours[0] == "raises":
        assert type(ours[1]) is type(theirs[1])
        assert str(ours[1]).split(", but got")[0] == str(theirs[1]).split(", but got")[0]
