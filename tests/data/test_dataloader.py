"""DataLoader: batching, seeded shuffling, worker threads and mid-epoch resumption with every
sampler (collation is in test_collate_vs_torch.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from abdou_torch import random as at_random
import abdou_torch.data as at_data
from abdou_torch.data import DataLoader, Dataset, TensorDataset
from abdou_torch.random import Generator, manual_seed


class Items(Dataset):
    """Returns (index, float, dict) samples through __getitem__ only, counting calls."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __getitem__(self, index: int):
        self.calls += 1
        return index, index / 2, {"square": np.array([index * index], dtype=np.int16)}

    def __len__(self) -> int:
        return self.n


class CountingTensorDataset(TensorDataset):
    def __init__(self, *arrays) -> None:
        super().__init__(*arrays)
        self.get_batch_calls = 0
        self.getitem_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return super().__getitem__(index)

    def _get_batch(self, indices):
        self.get_batch_calls += 1
        return super()._get_batch(indices)


class SampleListDataset(Dataset):
    """PyTorch's __getitems__ protocol: a list of samples, which the loader then collates."""

    def __init__(self, n: int) -> None:
        self.n, self.requests = n, []

    def __getitems__(self, indices):
        self.requests.append(list(indices))
        return [(i, float(i)) for i in indices]

    def __getitem__(self, index):
        raise AssertionError("__getitems__ must be used")

    def __len__(self) -> int:
        return self.n


def first_column(batches) -> list[list[int]]:
    """Each batch's sample ids (the first field), as plain lists."""
    return [batch[0].numpy().tolist() for batch in batches]


def ids_dataset(n: int) -> TensorDataset:
    return TensorDataset(np.arange(n), np.arange(n, dtype=np.float32) * 10)


# -- batching ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, []), (0, 4, False, []),
    (7, 1, False, [1] * 7),
])
def test_batch_counts(n: int, batch_size: int, drop_last: bool, sizes: list[int]) -> None:
    loader = DataLoader(ids_dataset(n), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes)
    assert [len(batch[0].numpy()) for batch in batches] == sizes
    assert [i for ids in first_column(batches) for i in ids] == list(range(sum(sizes)))


def test_sequential_batches_carry_matching_fields() -> None:
    batches = list(DataLoader(ids_dataset(5), batch_size=2))
    np.testing.assert_array_equal(batches[1][1].numpy(), [20.0, 30.0])
    assert batches[1][1].numpy().dtype == np.float32


def test_loader_collates_samples_from_getitem() -> None:
    dataset = Items(5)
    batches = list(DataLoader(dataset, batch_size=2))
    assert dataset.calls == 5
    ids, halves, extra = batches[0]
    np.testing.assert_array_equal(ids.numpy(), [0, 1])
    assert ids.numpy().dtype == np.int64 and halves.numpy().dtype == np.float64  # as PyTorch
    np.testing.assert_array_equal(halves.numpy(), [0.0, 0.5])
    np.testing.assert_array_equal(extra["square"].numpy(), [[0], [1]])
    assert extra["square"].numpy().dtype == np.int16
    np.testing.assert_array_equal(batches[2][0].numpy(), [4])


def test_fast_path_uses_one_get_batch_call_per_batch() -> None:
    dataset = CountingTensorDataset(np.arange(10), np.arange(10) * 2)
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator(0)))
    assert dataset.get_batch_calls == 3 and dataset.getitem_calls == 0
    for batch in batches:
        assert isinstance(batch, list)  # what default_collate makes of tuples
        np.testing.assert_array_equal(batch[1].numpy(), batch[0].numpy() * 2)


def test_getitems_returns_samples_that_are_then_collated() -> None:
    dataset = SampleListDataset(5)
    batches = list(DataLoader(dataset, batch_size=2))
    assert dataset.requests == [[0, 1], [2, 3], [4]]
    assert batches[1][0].numpy().tolist() == [2, 3]
    assert batches[1][1].numpy().dtype == np.float64  # Python floats collate to float64


def test_custom_collate_fn_gets_the_sample_list() -> None:
    dataset = CountingTensorDataset(np.arange(6))
    seen = []
    loader = DataLoader(dataset, batch_size=4, collate_fn=lambda samples: seen.append(samples)
                        or len(samples))
    assert list(loader) == [4, 2]
    assert dataset.get_batch_calls == 0 and dataset.getitem_calls == 6
    assert all(isinstance(sample, tuple) for sample in seen[0])


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"collate_fn": 3}, TypeError, "collate_fn must be callable"),
    ({"generator": np.random.default_rng(0)}, TypeError, "generator"),
])
def test_argument_validation_before_iterating(kwargs, error, pattern) -> None:
    """Where PyTorch only fails while iterating, the same exception type comes up front."""
    with pytest.raises(error, match=pattern):
        DataLoader(ids_dataset(4), **kwargs)


def test_dataset_must_be_map_style_or_iterable() -> None:
    with pytest.raises(TypeError, match="must define __getitem__"):
        DataLoader(iter(range(3)))


# -- shuffling -----------------------------------------------------------------------------

def run_epochs(loader: DataLoader, epochs: int) -> list[list[list[int]]]:
    return [first_column(list(loader)) for _ in range(epochs)]


def test_each_sample_exactly_once_per_epoch() -> None:
    loader = DataLoader(ids_dataset(23), batch_size=5, shuffle=True, generator=Generator(4))
    for epoch in run_epochs(loader, 3):
        flat = [i for ids in epoch for i in ids]
        assert sorted(flat) == list(range(23))
        assert [len(ids) for ids in epoch] == [5, 5, 5, 5, 3]


def test_shuffle_with_drop_last_drops_a_random_tail() -> None:
    loader = DataLoader(ids_dataset(10), batch_size=4, shuffle=True, drop_last=True,
                        generator=Generator(0))
    epochs = run_epochs(loader, 5)
    for epoch in epochs:
        flat = [i for ids in epoch for i in ids]
        assert len(flat) == 8 and len(set(flat)) == 8
    dropped = [frozenset(range(10)) - {i for ids in epoch for i in ids} for epoch in epochs]
    assert len(set(dropped)) > 1


def test_shuffle_differs_across_epochs_and_from_sequential() -> None:
    loader = DataLoader(ids_dataset(50), batch_size=10, shuffle=True, generator=Generator(1))
    first, second = run_epochs(loader, 2)
    assert first != second
    assert [i for ids in first for i in ids] != list(range(50))


def test_loaders_with_generators_seeded_alike_match() -> None:
    a = DataLoader(ids_dataset(30), batch_size=7, shuffle=True, generator=Generator(11))
    b = DataLoader(ids_dataset(30), batch_size=7, shuffle=True, generator=Generator(11))
    c = DataLoader(ids_dataset(30), batch_size=7, shuffle=True, generator=Generator(12))
    assert run_epochs(a, 3) == run_epochs(b, 3)
    assert run_epochs(c, 3) != run_epochs(DataLoader(ids_dataset(30), batch_size=7,
                                                     shuffle=True, generator=Generator(11)), 3)


def test_manual_seed_makes_default_generator_runs_reproducible() -> None:
    manual_seed(123)
    first = run_epochs(DataLoader(ids_dataset(30), batch_size=8, shuffle=True), 2)
    manual_seed(123)
    second = run_epochs(DataLoader(ids_dataset(30), batch_size=8, shuffle=True), 2)
    manual_seed(124)
    third = run_epochs(DataLoader(ids_dataset(30), batch_size=8, shuffle=True), 2)
    assert first == second and first != third


def test_each_epoch_draws_one_base_seed_even_unshuffled() -> None:
    """As PyTorch's iterator does: one int64 from the loader's generator per epoch."""
    import torch

    from abdou_torch.data.sampler import draw_seed
    generator, reference = Generator(5), Generator(5)
    run_epochs(DataLoader(ids_dataset(10), batch_size=3, generator=generator), 2)
    draw_seed(reference), draw_seed(reference)
    assert generator.get_state() == reference.get_state()
    torch_generator, torch_reference = torch.Generator().manual_seed(5), \
        torch.Generator().manual_seed(5)
    for _ in range(2):
        list(torch.utils.data.DataLoader(range(10), batch_size=3, generator=torch_generator))
        torch.empty((), dtype=torch.int64).random_(generator=torch_reference)
    assert torch.equal(torch_generator.get_state(), torch_reference.get_state())


# -- resuming ------------------------------------------------------------------------------

def json_round_trip(state: dict) -> dict:
    return json.loads(json.dumps(state))


def make_loader(generator: Generator | None, shuffle: bool = True, n: int = 23,
                batch_size: int = 4, drop_last: bool = False) -> DataLoader:
    return DataLoader(ids_dataset(n), batch_size=batch_size, shuffle=shuffle,
                      drop_last=drop_last, generator=generator)


def interrupted_run(epoch: int, k: int, **loader_args) -> tuple[dict, list, list]:
    """Run to batch k of epoch ``epoch`` (1-based), save state, and keep going uninterrupted.

    Returns the saved state, the rest of that epoch and the following epoch.
    """
    loader = make_loader(Generator(42), **loader_args)
    for _ in range(epoch - 1):
        list(loader)
    iterator = iter(loader)
    for _ in range(k):
        next(iterator)
    state = json_round_trip(loader.state_dict())
    rest = first_column(list(iterator))
    following = first_column(list(loader))
    return state, rest, following


@pytest.mark.parametrize("k", [0, 1, 3, "all"])
@pytest.mark.parametrize("drop_last", [False, True])
def test_resume_mid_epoch_replays_the_rest_and_the_next_epoch(k, drop_last: bool) -> None:
    # "all": saved right after the last batch, before the loop noticed the epoch ended.
    k = len(make_loader(None, drop_last=drop_last)) if k == "all" else k
    state, rest, following = interrupted_run(2, k, drop_last=drop_last)
    assert state["batches_yielded"] == k and state["epoch"] == 2
    resumed = make_loader(Generator(999), drop_last=drop_last)  # seeded differently on purpose
    resumed.load_state_dict(state)
    assert first_column(list(resumed)) == rest
    assert len(rest) == len(resumed) - k
    assert first_column(list(resumed)) == following


def test_resume_then_more_epochs_match_uninterrupted_run() -> None:
    reference = run_epochs(make_loader(Generator(42)), 4)
    state, _, _ = interrupted_run(1, 2)
    resumed = make_loader(Generator(0))
    resumed.load_state_dict(state)
    tail = first_column(list(resumed))
    assert tail == reference[0][2:]
    assert run_epochs(resumed, 3) == reference[1:]
    assert resumed.state_dict()["epoch"] == 4


def test_an_older_iterator_does_not_move_the_current_position() -> None:
    loader = make_loader(Generator(1))
    old = iter(loader)
    current = iter(loader)
    next(current)
    list(old)
    state = loader.state_dict()
    assert state["epoch"] == 2 and state["batches_yielded"] == 1 and state["in_progress"]


def test_resume_restores_generator_state_of_uninterrupted_run() -> None:
    generator = Generator(42)
    loader = make_loader(generator)
    iterator = iter(loader)
    next(iterator)
    state = json_round_trip(loader.state_dict())
    list(iterator)
    expected = generator.get_state()
    other = Generator(1)
    resumed = make_loader(other)
    resumed.load_state_dict(state)
    list(resumed)
    assert other.get_state() == expected


def test_resume_with_default_generator_and_other_draws_during_the_epoch() -> None:
    """Draws that model code makes from the default generator are restored as well."""
    def train(loader, iterator, steps, log):
        for _ in range(steps):
            log.append(next(iterator)[0].numpy().tolist())
            log.append(at_random.default_generator.numpy.integers(0, 10**9))  # "dropout"

    manual_seed(7)
    loader = make_loader(None)
    reference: list = []
    iterator = iter(loader)
    train(loader, iterator, 2, reference)
    state = json_round_trip(loader.state_dict())
    train(loader, iterator, len(loader) - 2, reference)
    reference.append(first_column(list(loader)))

    manual_seed(8)  # a fresh process would not be where the interrupted one was
    resumed = make_loader(None)
    resumed.load_state_dict(state)
    replay: list = []
    iterator = iter(resumed)
    train(resumed, iterator, len(resumed) - 2, replay)
    replay.append(first_column(list(resumed)))
    assert replay == reference[4:]


def test_resume_without_shuffle() -> None:
    state, rest, following = interrupted_run(1, 2, shuffle=False)
    assert state["sampler"] == "BatchSampler/SequentialSampler"
    resumed = make_loader(None, shuffle=False)
    resumed.load_state_dict(state)
    assert first_column(list(resumed)) == rest == [[8, 9, 10, 11], [12, 13, 14, 15],
                                                   [16, 17, 18, 19], [20, 21, 22]]
    assert first_column(list(resumed)) == following


def test_state_after_a_finished_epoch_starts_the_next_one() -> None:
    loader = make_loader(Generator(3))
    list(loader)
    state = json_round_trip(loader.state_dict())
    assert state["in_progress"] is False
    expected = run_epochs(loader, 2)
    resumed = make_loader(Generator(4))
    resumed.load_state_dict(state)
    assert run_epochs(resumed, 2) == expected


def test_state_before_any_epoch() -> None:
    loader = make_loader(Generator(3))
    state = json_round_trip(loader.state_dict())
    assert state["batches_yielded"] == 0 and state["epoch"] == 0
    expected = run_epochs(loader, 2)
    resumed = make_loader(Generator(100))
    resumed.load_state_dict(state)
    assert run_epochs(resumed, 2) == expected


def test_state_dict_of_a_loaded_but_unstarted_loader_is_the_loaded_state() -> None:
    state, rest, _ = interrupted_run(1, 3)
    resumed = make_loader(Generator(5))
    resumed.load_state_dict(state)
    again = make_loader(Generator(6))
    again.load_state_dict(json_round_trip(resumed.state_dict()))
    assert first_column(list(again)) == rest


def test_load_state_dict_only_affects_the_next_iteration() -> None:
    state, rest, following = interrupted_run(1, 3)
    resumed = make_loader(Generator(42))
    resumed.load_state_dict(state)
    assert first_column(list(resumed)) == rest
    assert first_column(list(resumed)) == following  # not replayed a second time


@pytest.mark.parametrize("change, pattern", [
    ({"batch_size": 5}, "batch_size"), ({"dataset_length": 24}, "dataset_length"),
    ({"sampler": "BatchSampler/SequentialSampler"}, "sampler"),
    ({"drop_last": True}, "drop_last"),
    ({"batches_yielded": 7}, "batches_yielded"), ({"batches_yielded": -1}, "batches_yielded"),
    ({"batches_yielded": 1.5}, "batches_yielded"), ({"batches_drawn": 1}, "batches_drawn"),
    ({"version": 1}, "version"), ({"epoch_generator_states": None}, "epoch_generator_states"),
    ({"generator_states": []}, "generator_states"),
])
def test_load_state_dict_rejects_mismatched_state(change: dict, pattern: str) -> None:
    state, _, _ = interrupted_run(1, 2)
    state.update(change)
    with pytest.raises(ValueError, match=pattern):
        make_loader(Generator(0)).load_state_dict(state)


def test_load_state_dict_rejects_missing_keys_and_non_dicts() -> None:
    state, _, _ = interrupted_run(1, 2)
    del state["epoch"]
    with pytest.raises(ValueError, match="missing keys"):
        make_loader(Generator(0)).load_state_dict(state)
    with pytest.raises(TypeError):
        make_loader(Generator(0)).load_state_dict([1, 2])


# -- worker threads ------------------------------------------------------------------------


class _Recorded(Dataset):
    """Samples i -> (i * ones(3), i); notes the threads that fetched them."""

    def __init__(self, size: int, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.size, self.fail_at, self.delay, self.threads = size, fail_at, delay, set()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        import threading
        import time
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        if index == self.fail_at:
            raise KeyError(f"sample {index} is broken")
        return np.full(3, float(index)), index


def _epoch(loader):
    return [(x.numpy().tolist(), y.numpy().tolist()) for x, y in loader]


@pytest.mark.parametrize("workers, prefetch", [(1, None), (2, None), (3, 1), (2, 5)])
def test_worker_threads_give_the_same_batches_in_the_same_order(workers, prefetch):
    plain = DataLoader(_Recorded(23), batch_size=4, shuffle=True, generator=Generator(3))
    dataset = _Recorded(23)
    threaded = DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator(3),
                          num_workers=workers, prefetch_factor=prefetch)
    for _ in range(2):  # two epochs: the generator moves on the same way
        assert _epoch(threaded) == _epoch(plain)
    assert dataset.threads and all(name.startswith("DataLoader") for name in dataset.threads)
    assert len(dataset.threads) <= workers


def test_worker_threads_keep_the_resumable_position():
    """batches_yielded counts batches handed out; batches_drawn also those fetched ahead,
    which a resumed loader fetches again (with or without workers)."""
    loaders = [DataLoader(_Recorded(30), batch_size=3, shuffle=True, generator=Generator(5),
                          num_workers=workers) for workers in (0, 2)]
    states = []
    for loader in loaders:
        iterator = iter(loader)
        for _ in range(4):
            next(iterator)
        states.append(loader.state_dict())
    assert states[0]["batches_drawn"] == 4 and states[1]["batches_drawn"] == 8  # 2 x 2 ahead
    for state in states:
        del state["batches_drawn"]
    assert states[0] == states[1] and states[1]["batches_yielded"] == 4
    for workers in (2, 0):
        resumed = DataLoader(_Recorded(30), batch_size=3, shuffle=True,
                             generator=Generator(99), num_workers=workers)
        resumed.load_state_dict(loaders[1].state_dict())
        assert _epoch(resumed) == list(_epoch_rest(loaders[0]))


def _epoch_rest(loader):
    """The batches the (interrupted) plain loader would still hand out."""
    rest = DataLoader(_Recorded(30), batch_size=3, shuffle=True, generator=Generator(0))
    rest.load_state_dict(loader.state_dict())
    return _epoch(rest)


def test_worker_threads_raise_the_datasets_error_and_stop_cleanly():
    loader = DataLoader(_Recorded(20, fail_at=9), batch_size=4, num_workers=2)
    with pytest.raises(KeyError, match="sample 9 is broken"):
        _epoch(loader)
    loader = DataLoader(_Recorded(20), batch_size=4, num_workers=2)
    for _ in loader:
        break  # stopping early leaves nothing running that blocks the next epoch
    assert len(_epoch(loader)) == 5


def test_worker_threads_time_out_and_call_worker_init_fn():
    with pytest.raises(RuntimeError, match="timed out after 0.01 seconds"):
        _epoch(DataLoader(_Recorded(4, delay=0.2), batch_size=2, num_workers=1, timeout=0.01))
    started = []
    _epoch(DataLoader(_Recorded(40), batch_size=2, num_workers=3,
                      worker_init_fn=started.append))
    assert sorted(started) == list(range(len(started))) and 1 <= len(started) <= 3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_workers=-1), ValueError, "non-negative int"),
    (dict(num_workers=1.5), ValueError, "non-negative int"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor needs num_workers > 0"),
    (dict(persistent_workers=True), ValueError, "persistent_workers needs num_workers"),
    (dict(num_workers=2, prefetch_factor=0), ValueError, "prefetch_factor must be"),
    (dict(num_workers=1, timeout=-1), ValueError, "timeout"),
    (dict(num_workers=1, worker_init_fn=3), TypeError, "worker_init_fn"),
])
def test_worker_arguments_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(_Recorded(4), **kwargs)


def test_pin_memory_is_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="pin_memory=True pins nothing"):
        loader = DataLoader(_Recorded(4), batch_size=2, pin_memory=True)
    assert len(_epoch(loader)) == 2


# -- resuming with every sampler ---------------------------------------------------------------

def _sampler_loader(kind: str, seed: int, workers: int) -> DataLoader:
    """A loader over 23 samples whose order comes from ``kind``, drawing from generators
    seeded with ``seed`` (or the default generator)."""
    dataset = ids_dataset(23)
    generator = Generator(seed)
    options = {"num_workers": workers}
    if kind == "shuffle":
        return DataLoader(dataset, batch_size=4, shuffle=True, generator=generator, **options)
    if kind == "shuffle, default generator":
        return DataLoader(dataset, batch_size=4, shuffle=True, **options)
    if kind == "random with replacement":
        sampler = at_data.RandomSampler(dataset, replacement=True, num_samples=70,
                                        generator=generator)
    elif kind == "random, more samples than data":
        sampler = at_data.RandomSampler(dataset, num_samples=50, generator=generator)
    elif kind == "subset":
        sampler = at_data.SubsetRandomSampler(list(range(3, 20)), generator=generator)
    elif kind == "weighted":
        sampler = at_data.WeightedRandomSampler(np.arange(23.0) + 1, 40, generator=generator)
    else:  # "batch sampler"
        batches = at_data.BatchSampler(at_data.RandomSampler(dataset, generator=generator), 3,
                                       drop_last=True)
        return DataLoader(dataset, batch_sampler=batches, generator=Generator(seed + 1),
                          **options)
    return DataLoader(dataset, batch_size=4, sampler=sampler, generator=Generator(seed + 1),
                      **options)


SAMPLER_KINDS = ["shuffle", "shuffle, default generator", "random with replacement",
                 "random, more samples than data", "subset", "weighted", "batch sampler"]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("kind", SAMPLER_KINDS)
def test_every_sampler_resumes_mid_epoch_exactly(kind, workers):
    """Stopped after 3 batches of the second epoch and resumed by a fresh loader whose
    generators start elsewhere: the rest of that epoch and the next one are the
    uninterrupted run's, and the generators end where the uninterrupted run's do."""
    manual_seed(21)
    loader = _sampler_loader(kind, 7, workers)
    list(loader)
    iterator = iter(loader)
    for _ in range(3):
        next(iterator)
    state = json_round_trip(loader.state_dict())
    default_state = at_random.get_rng_state()
    rest, following = first_column(list(iterator)), first_column(list(loader))
    expected_default = at_random.get_rng_state()

    manual_seed(99)  # a new process starts elsewhere; the run restores its own rng state
    resumed = _sampler_loader(kind, 1234, workers)
    resumed.load_state_dict(state)
    at_random.set_rng_state(default_state)
    assert first_column(list(resumed)) == rest and len(rest) == len(resumed) - 3
    assert first_column(list(resumed)) == following
    assert at_random.get_rng_state() == expected_default
    assert resumed.state_dict()["generator_states"] == loader.state_dict()["generator_states"]
