"""Samplers against PyTorch's: the same argument checks, the same deterministic orders, the
same kind of random orders, and (once abdou_torch's generators give PyTorch's numbers) the
same random orders for a seed."""
from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import abdou_torch
import abdou_torch.data as at_data
from abdou_torch.random import Generator, manual_seed


def both(make):
    """``make(module, generator_factory)`` run for abdou_torch.data and torch.utils.data."""
    return (make(at_data, lambda seed: Generator(seed)),
            make(torch_data, lambda seed: torch.Generator().manual_seed(seed)))


ARGUMENT_CASES = {
    "random: replacement not a bool": lambda m, g: m.RandomSampler(range(5), replacement=1),
    "random: num_samples 0": lambda m, g: m.RandomSampler(range(5), num_samples=0),
    "random: num_samples negative": lambda m, g: m.RandomSampler(range(5), num_samples=-3),
    "random: num_samples float": lambda m, g: m.RandomSampler(range(5), num_samples=2.0),
    "random: num_samples True": lambda m, g: list(m.RandomSampler(range(5), num_samples=True,
                                                                  generator=g(0))).__len__(),
    "random: empty dataset": lambda m, g: m.RandomSampler([]),
    "weighted: num_samples bool": lambda m, g: m.WeightedRandomSampler([1.0, 2.0], True),
    "weighted: num_samples 0": lambda m, g: m.WeightedRandomSampler([1.0, 2.0], 0),
    "weighted: replacement not a bool": lambda m, g: m.WeightedRandomSampler([1.0], 1, 0),
    "weighted: 2-d weights": lambda m, g: m.WeightedRandomSampler([[1.0], [2.0]], 1),
    "multinomial: too many without replacement": lambda m, g: list(
        m.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False, generator=g(0))),
    "multinomial: negative weight": lambda m, g: list(
        m.WeightedRandomSampler([1.0, -1.0], 3, generator=g(0))),
    "multinomial: all zero": lambda m, g: list(m.WeightedRandomSampler([0.0, 0.0], 3,
                                                                    generator=g(0))),
    "batch: batch_size 0": lambda m, g: m.BatchSampler(range(4), 0, False),
    "batch: batch_size float": lambda m, g: m.BatchSampler(range(4), 1.5, False),
    "batch: batch_size True": lambda m, g: m.BatchSampler(range(4), True, False),
    "batch: batch_size str": lambda m, g: m.BatchSampler(range(4), "2", False),
    "batch: drop_last 1": lambda m, g: m.BatchSampler(range(4), 2, 1),
    "base: no __iter__": lambda m, g: iter(m.Sampler()),
    "sequential": lambda m, g: list(m.SequentialSampler(range(4))),
    "batch of a list": lambda m, g: list(m.BatchSampler([5, 6, 7, 8, 9], 2, False)),
    "batch of a list, drop_last": lambda m, g: list(m.BatchSampler([5, 6, 7, 8, 9], 2, True)),
    "batch len": lambda m, g: [len(m.BatchSampler(range(n), 3, d)) for n in range(8)
                               for d in (False, True)],
    "subset len": lambda m, g: len(m.SubsetRandomSampler([3, 1, 4])),
    "random len with num_samples": lambda m, g: len(m.RandomSampler(range(3), True, 10)),
}


@pytest.mark.parametrize("case", list(ARGUMENT_CASES))
def test_sampler_arguments_and_deterministic_results_match_pytorch(case, compare):
    make = ARGUMENT_CASES[case]
    ours = compare.outcome(lambda: make(at_data, lambda seed: Generator(seed)))
    theirs = compare.outcome(lambda: make(torch_data,
                                          lambda seed: torch.Generator().manual_seed(seed)))
    compare.assert_same_outcome(ours, theirs, case)
    if ours[0] == "raises" and case.split(":")[0] in ("random", "weighted", "batch"):
        assert str(ours[1]) == str(theirs[1])  # the checks' own messages, word for word


@pytest.mark.parametrize("n, num_samples", [(7, None), (5, 12), (6, 4), (1, 3)])
def test_random_sampler_without_replacement_is_whole_permutations(n, num_samples):
    sampler = at_data.RandomSampler(range(n), num_samples=num_samples, generator=Generator(3))
    order = list(sampler)
    total = num_samples or n
    assert len(order) == len(sampler) == total
    for start in range(0, total - total % n, n):  # each full pass is a permutation
        assert sorted(order[start:start + n]) == list(range(n))
    assert len(set(order[total - total % n:])) == total % n
    assert order == list(at_data.RandomSampler(range(n), num_samples=num_samples,
                                               generator=Generator(3)))
    assert list(sampler) != order or n == 1  # the generator moved on: a new order


def test_random_sampler_with_replacement_draws_uniformly():
    sampler = at_data.RandomSampler(range(4), replacement=True, num_samples=4000,
                                    generator=Generator(0))
    counts = collections.Counter(sampler)
    assert sorted(counts) == [0, 1, 2, 3] and sum(counts.values()) == 4000
    assert all(900 < count < 1100 for count in counts.values())  # 5 sigma is about 140


def test_random_sampler_without_generator_follows_the_default_generator():
    manual_seed(11)
    first = list(at_data.RandomSampler(range(20)))
    manual_seed(11)
    assert list(at_data.RandomSampler(range(20))) == first
    assert sorted(first) == list(range(20))


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [10, 3, 7, 3, 99]
    order = list(at_data.SubsetRandomSampler(indices, generator=Generator(2)))
    assert sorted(order) == sorted(indices)
    assert order == list(at_data.SubsetRandomSampler(indices, generator=Generator(2)))


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0, 0.0, 6.0]
    counts = collections.Counter(at_data.WeightedRandomSampler(weights, 10000,
                                                               generator=Generator(1)))
    assert set(counts) == {1, 2, 4}
    for index, expected in ((1, 1000), (2, 3000), (4, 6000)):
        assert abs(counts[index] - expected) < 250  # 5 sigma of the largest is about 245
    distinct = list(at_data.WeightedRandomSampler(weights, 3, replacement=False,
                                                  generator=Generator(1)))
    assert sorted(distinct) == [1, 2, 4]
    sampler = at_data.WeightedRandomSampler(abdou_torch.tensor(weights), 4)
    assert sampler.weights.dtype == np.float64 and len(sampler) == 4


# -- PyTorch's numbers for a seed ------------------------------------------------------------
# abdou_torch.randperm, randint, multinomial and Tensor.random_ give PyTorch's numbers for a
# seed (abdou_torch.random_sampling), so the samplers' orders are PyTorch's.


@pytest.mark.parametrize("seed", [0, 1, 1234])
def test_seeded_shuffle_order_is_pytorchs(seed):
    ours, theirs = both(lambda m, g: list(m.RandomSampler(range(50), generator=g(seed))))
    assert ours == theirs


def test_default_generator_shuffle_order_is_pytorchs():
    manual_seed(7)
    torch.manual_seed(7)
    ours = [batch.numpy().tolist() for batch in at_data.DataLoader(range(20), 6, shuffle=True)]
    theirs = [batch.tolist() for batch in torch_data.DataLoader(range(20), 6, shuffle=True)]
    assert ours == theirs


def test_loader_generator_shuffles_as_pytorch_over_epochs():
    def epochs(m, g):
        loader = m.DataLoader(range(30), batch_size=4, shuffle=True, generator=g(5))
        return [[b.tolist() for b in loader] for _ in range(3)]
    ours, theirs = both(epochs)
    assert ours == theirs


def test_other_samplers_and_random_split_are_pytorchs():
    ours, theirs = both(lambda m, g: (
        list(m.SubsetRandomSampler([4, 8, 15, 16, 23, 42], generator=g(3))),
        list(m.RandomSampler(range(9), replacement=True, num_samples=40, generator=g(4))),
        list(m.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, generator=g(6))),
        [list(subset.indices) for subset in m.random_split(range(10), [3, 7],
                                                           generator=g(8))]))
    assert ours == theirs
