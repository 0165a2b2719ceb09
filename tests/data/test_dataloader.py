"""default_collate and DataLoader: batching, seeded shuffling and mid-epoch resumption."""
from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest

from abdou_torch import random as at_random
from abdou_torch.data import DataLoader, Dataset, TensorDataset, default_collate
from abdou_torch.random import Generator, manual_seed
from abdou_torch.tensor import Tensor


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
        self.getitems_calls = 0
        self.getitem_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return super().__getitem__(index)

    def __getitems__(self, indices):
        self.getitems_calls += 1
        return super().__getitems__(indices)


def first_column(batches) -> list[list[int]]:
    """Each batch's sample ids (the first field), as plain lists."""
    return [batch[0].numpy().tolist() for batch in batches]


def ids_dataset(n: int) -> TensorDataset:
    return TensorDataset(np.arange(n), np.arange(n, dtype=np.float32) * 10)


# -- default_collate -----------------------------------------------------------------------

def test_collate_numbers() -> None:
    ints = default_collate([1, 2, 3])
    floats = default_collate([0.5, 1.5])
    bools = default_collate([True, False])
    assert isinstance(ints, Tensor) and ints.numpy().dtype == np.int64
    assert floats.numpy().dtype == np.float32 and bools.numpy().dtype == np.bool_
    np.testing.assert_array_equal(ints.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(floats.numpy(), [0.5, 1.5])
    np.testing.assert_array_equal(bools.numpy(), [True, False])


def test_collate_stacks_arrays_and_tensors_keeping_dtype() -> None:
    arrays = [np.full((2, 3), i, dtype=np.uint8) for i in range(4)]
    stacked = default_collate(arrays)
    assert stacked.shape == (4, 2, 3) and stacked.numpy().dtype == np.uint8
    np.testing.assert_array_equal(stacked.numpy()[:, 0, 0], [0, 1, 2, 3])
    tensors = default_collate([Tensor(np.array([1.0, 2.0], dtype=np.float64))] * 2)
    assert tensors.shape == (2, 2) and tensors.numpy().dtype == np.float64
    scalars = default_collate([np.float64(1.5), np.float64(2.5)])
    assert scalars.numpy().dtype == np.float64 and scalars.shape == (2,)


def test_collate_nested_structures() -> None:
    batch = default_collate([(0, {"a": 1.0, "b": [np.zeros(2), 5]}, "x"),
                             (1, {"a": 2.0, "b": [np.ones(2), 6]}, "y")])
    assert isinstance(batch, tuple) and len(batch) == 3
    np.testing.assert_array_equal(batch[0].numpy(), [0, 1])
    assert set(batch[1]) == {"a", "b"} and isinstance(batch[1]["b"], list)
    np.testing.assert_array_equal(batch[1]["a"].numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(batch[1]["b"][0].numpy(), [[0, 0], [1, 1]])
    np.testing.assert_array_equal(batch[1]["b"][1].numpy(), [5, 6])
    assert batch[2] == ["x", "y"]


def test_collate_namedtuple() -> None:
    Pair = namedtuple("Pair", "x y")
    batch = default_collate([Pair(1, 2.0), Pair(3, 4.0)])
    assert isinstance(batch, Pair)
    np.testing.assert_array_equal(batch.x.numpy(), [1, 3])


def test_collate_errors() -> None:
    with pytest.raises(RuntimeError, match=r"sample 1 has \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="same number of fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object()])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


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
    assert ids.numpy().dtype == np.int64 and halves.numpy().dtype == np.float32
    np.testing.assert_array_equal(halves.numpy(), [0.0, 0.5])
    np.testing.assert_array_equal(extra["square"].numpy(), [[0], [1]])
    assert extra["square"].numpy().dtype == np.int16
    np.testing.assert_array_equal(batches[2][0].numpy(), [4])


def test_fast_path_uses_one_getitems_call_per_batch() -> None:
    dataset = CountingTensorDataset(np.arange(10), np.arange(10) * 2)
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True, generator=Generator(0)))
    assert dataset.getitems_calls == 3 and dataset.getitem_calls == 0
    for ids, doubled in batches:
        np.testing.assert_array_equal(doubled.numpy(), ids.numpy() * 2)


def test_custom_collate_fn_gets_the_sample_list() -> None:
    dataset = CountingTensorDataset(np.arange(6))
    seen = []
    loader = DataLoader(dataset, batch_size=4, collate_fn=lambda samples: seen.append(samples)
                        or len(samples))
    assert list(loader) == [4, 2]
    assert dataset.getitems_calls == 0 and dataset.getitem_calls == 6
    assert all(isinstance(sample, tuple) for sample in seen[0])


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"batch_size": 0}, ValueError, "positive"), ({"batch_size": -2}, ValueError, "positive"),
    ({"batch_size": 1.5}, TypeError, "batch_size"), ({"batch_size": True}, TypeError,
                                                      "batch_size"),
    ({"batch_size": "4"}, TypeError, "batch_size"), ({"shuffle": "yes"}, TypeError, "shuffle"),
    ({"drop_last": 1}, TypeError, "drop_last"), ({"collate_fn": 3}, TypeError, "collate_fn"),
    ({"generator": np.random.default_rng(0)}, TypeError, "generator"),
])
def test_argument_validation(kwargs, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        DataLoader(ids_dataset(4), **kwargs)


def test_dataset_must_be_map_style() -> None:
    with pytest.raises(TypeError, match="__getitem__"):
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


def test_unshuffled_loader_does_not_touch_the_generator() -> None:
    generator = Generator(5)
    before = generator.get_state()
    run_epochs(DataLoader(ids_dataset(10), batch_size=3, generator=generator), 2)
    assert generator.get_state() == before


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
    assert state["epoch_generator_state"] is None
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
    ({"shuffle": False}, "shuffle"), ({"drop_last": True}, "drop_last"),
    ({"batches_yielded": 7}, "batches_yielded"), ({"batches_yielded": -1}, "batches_yielded"),
    ({"batches_yielded": 1.5}, "batches_yielded"), ({"version": 99}, "version"),
    ({"epoch_generator_state": None}, "epoch_generator_state"),
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
    """batches_yielded counts batches handed out, not those fetched ahead."""
    loaders = [DataLoader(_Recorded(30), batch_size=3, shuffle=True, generator=Generator(5),
                          num_workers=workers) for workers in (0, 2)]
    states = []
    for loader in loaders:
        iterator = iter(loader)
        for _ in range(4):
            next(iterator)
        states.append(loader.state_dict())
    assert states[0] == states[1] and states[1]["batches_yielded"] == 4
    resumed = DataLoader(_Recorded(30), batch_size=3, shuffle=True, generator=Generator(99),
                         num_workers=2)
    resumed.load_state_dict(states[1])
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
