"""DistributedSampler against torch.utils.data.DistributedSampler: the same index lists for
every rank, with and without shuffling, padding and drop_last."""
import itertools
from collections import Counter

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.data import DistributedSampler

torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402

SIZES = [0, 1, 2, 3, 5, 7, 10, 16, 33]
WORLDS = [1, 2, 3, 4, 8]


def ours_randperm(n, seed):
    generator = at.Generator()
    generator.manual_seed(seed)
    return at.randperm(n, generator=generator).tolist()


@pytest.fixture
def torch_with_our_permutations(monkeypatch):
    """torch's sampler, with torch.randperm giving abdou_torch's permutation for the same
    seed: the arithmetic around the permutation is then compared exactly."""
    def randperm(n, generator=None, **kwargs):
        return torch.tensor(ours_randperm(n, generator.initial_seed()), dtype=torch.int64)
    monkeypatch.setattr(torch, "randperm", randperm)


@pytest.mark.parametrize("size, world", list(itertools.product(SIZES, WORLDS)))
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_indices_match_torch(size, world, drop_last):
    dataset = list(range(size))
    for rank in range(world):
        ours = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = TorchSampler(dataset, num_replicas=world, rank=rank, shuffle=False,
                              drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("size, world", list(itertools.product([1, 3, 10, 33], [2, 3, 4])))
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("seed, epoch", [(0, 0), (0, 3), (42, 1)])
def test_shuffled_indices_match_torch_arithmetic(torch_with_our_permutations, size, world,
                                                 drop_last, seed, epoch):
    dataset = list(range(size))
    for rank in range(world):
        ours = DistributedSampler(dataset, world, rank, shuffle=True, seed=seed,
                                  drop_last=drop_last)
        theirs = TorchSampler(dataset, world, rank, shuffle=True, seed=seed,
                              drop_last=drop_last)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs)


def test_shuffle_uses_randperm_seeded_with_seed_plus_epoch():
    sampler = DistributedSampler(range(20), num_replicas=1, rank=0, seed=5)
    sampler.set_epoch(2)
    assert list(sampler) == ours_randperm(20, 7)
    assert list(sampler) == list(sampler)  # the same order until set_epoch changes it
    sampler.set_epoch(3)
    assert list(sampler) == ours_randperm(20, 8)


@pytest.mark.parametrize("size, world", [(10, 3), (7, 4), (2, 5), (16, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_ranks_cover_the_data_without_extra_repeats(size, world, drop_last):
    """Every index is in range; without drop_last every item appears, and repeats are only
    the padding (the epoch's head); with drop_last no item appears twice."""
    shares = [list(DistributedSampler(range(size), world, r, seed=3, drop_last=drop_last))
              for r in range(world)]
    assert len({len(s) for s in shares}) == 1
    counts = Counter(i for share in shares for i in share)
    assert all(0 <= i < size for i in counts)
    total = sum(counts.values())
    if drop_last:
        assert max(counts.values(), default=0) <= 1 and total == size - size % world
    else:
        assert set(counts) == set(range(size))
        assert total == -(-size // world) * world
        assert total - size == sum(c - 1 for c in counts.values())


def test_loaders_on_every_rank_read_only_their_share():
    """Each rank's DataLoader over its share: batches hold dataset items only, and the ranks'
    batches together are one epoch plus the padding."""
    data = np.arange(23, dtype=np.float32)[:, None] * 10
    dataset = at.data.TensorDataset(data)
    seen = []
    for rank in range(3):
        sampler = DistributedSampler(dataset, num_replicas=3, rank=rank, seed=1)
        sampler.set_epoch(4)
        loader = at.data.DataLoader(at.data.Subset(dataset, list(sampler)), batch_size=4)
        for (batch,) in loader:
            seen.extend((batch.data[:, 0] / 10).astype(int).tolist())
    counts = Counter(seen)
    assert set(counts) == set(range(23)) and len(seen) == 24
    assert sum(c - 1 for c in counts.values()) == 1


def test_arguments_checked_as_torch():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))  # world size from a process group that does not exist
