"""DistributedDataParallel on 2 ranks against one process on the whole batch, and its
features (no_sync, unused parameters, buckets, buffers) and errors."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import nn

WORKERS = Path(__file__).parent / "workers"

WORLD = 2


def _load_cases():
    spec = importlib.util.spec_from_file_location("ddp_cases", WORKERS / "ddp_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


@pytest.fixture(scope="module")
def trained(mpirun, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    result = mpirun("ddp_worker.py", out)
    assert result.returncode == 0, result
    return lambda case, rank: dict(np.load(out / f"{case}-{rank}.npz"))


@pytest.fixture(scope="module")
def features(mpirun, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp_features")
    result = mpirun("ddp_features_worker.py", out)
    assert result.returncode == 0, result
    return [(dict(np.load(out / f"features-{rank}.npz")),
             json.loads((out / f"features-{rank}.json").read_text())) for rank in range(WORLD)]


CASES = ["mlp_sgd", "mlp_adamw", "mlp_sgd_sum", "cnn_sgd", "cnn_adamw"]
# relative to the largest parameter, after 30 steps (measured: MLP 1.2e-7 to 5e-7, CNN with
# SyncBatchNorm 1.2e-6 to 1.5e-6; float32 sums in another order)
TOLERANCE = {"mlp": 2e-6, "cnn": 1e-5}


def _single_process(case):
    model = cases.build_model(case)
    optimizer = cases.optimizer_for(case, model.parameters())
    return model, cases.train(case, model, optimizer)


@pytest.mark.parametrize("case", CASES)
def test_ranks_end_bit_identical(trained, case):
    rank0, rank1 = trained(case, 0), trained(case, 1)
    assert sorted(rank0) == sorted(rank1)
    for name in rank0:
        assert np.array_equal(rank0[name], rank1[name]), name


@pytest.mark.parametrize("case", CASES)
def test_two_ranks_follow_one_process_on_the_whole_batch(trained, case):
    """SGD with momentum and AdamW, MLP and CNN (SyncBatchNorm against BatchNorm): 2 ranks
    with 16 samples each end where one process with the 32 samples does."""
    model, expected = _single_process(case)
    got = trained(case, 0)
    tolerance = TOLERANCE[case[:3]]
    for name, value in expected.items():
        scale = np.abs(value).max()
        assert np.abs(got[f"param.{name}"] - value).max() <= tolerance * scale, name
    for name, buffer in model.named_buffers():  # running statistics of the whole batch
        np.testing.assert_allclose(got[f"buffer.{name}"], buffer.data, rtol=1e-5, atol=1e-6)


def _first_gradients(case):
    model = cases.build_model(case)
    inputs, labels = next(cases.batches(case))
    cases.loss_of(case, model(at.tensor(inputs)), labels).backward()
    return {name: p.grad.data for name, p in model.named_parameters()}


@pytest.mark.parametrize("case", ["mlp_sgd", "cnn_sgd"])
def test_mean_loss_gradient_is_the_whole_batch_gradient(trained, case):
    got = trained(case, 1)
    for name, grad in _first_gradients(case).items():
        np.testing.assert_allclose(got[f"grad.{name}"], grad, rtol=1e-5, atol=1e-7)


def test_summed_loss_gradient_is_one_nth_of_the_whole_batch_gradient(trained):
    """With reduction='sum', each rank's loss sums B/N samples; averaging gives 1/N of the
    whole batch's summed-loss gradient (as in PyTorch): scale lr by N to match."""
    got = trained("mlp_sgd_sum", 0)
    for name, grad in _first_gradients("mlp_sgd_sum").items():
        np.testing.assert_allclose(got[f"grad.{name}"] * WORLD, grad, rtol=1e-5, atol=1e-6)


def _local_data(seed):
    return np.random.default_rng(seed).standard_normal((8, 6)).astype(np.float32)


def _linear_grad(seeds):
    """d/dW of sum over seeds of mean((x W^T + b)^2) for nn.Linear(6, 3) seeded 0."""
    at.manual_seed(0)
    model = nn.Linear(6, 3)
    for seed in seeds:
        model(at.tensor(_local_data(seed))).pow(2).mean().backward()
    return model.weight.grad.data


def test_construction_copies_rank0_parameters_and_buffers(features):
    (a, _), (b, _) = features
    np.testing.assert_array_equal(a["broadcast.weight"], b["broadcast.weight"])
    np.testing.assert_array_equal(b["broadcast.running_mean"], np.ones(4))


def test_state_dict_names_match_torch_ddp(features):
    torch = pytest.importorskip("torch")
    import torch.distributed as tdist
    tdist.init_process_group("gloo", store=tdist.HashStore(), rank=0, world_size=1)
    try:
        model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.BatchNorm1d(4),
                                    torch.nn.Linear(4, 2))
        expected = list(torch.nn.parallel.DistributedDataParallel(model).state_dict())
    finally:
        tdist.destroy_process_group()
    for _, facts in features:
        assert facts["state_dict_keys"] == expected
        assert facts["module_is_model"]


def test_buffers_come_from_rank0_before_each_forward(features):
    """Rank 0 set running_var to 10, rank 1 to 20; the forward then moves it by 0.1 towards
    the local batch variance: 0.9 * 10 + 0.1 * var on both ranks, so both started at 10."""
    for arrays, _ in features:
        assert np.all((arrays["buffers.running_var"] > 9.0)
                      & (arrays["buffers.running_var"] < 10.0))


def test_no_sync_accumulates_locally_then_averages_the_sum(features):
    for rank, (arrays, _) in enumerate(features):
        np.testing.assert_allclose(arrays["no_sync.local"], _linear_grad([10 + rank]),
                                   rtol=1e-6)
        expected = (_linear_grad([10, 20]) + _linear_grad([11, 21])) / 2
        np.testing.assert_allclose(arrays["no_sync.synced"], expected, rtol=1e-5, atol=1e-7)


def test_backward_without_zero_grad_adds_the_averages(features):
    expected = (_linear_grad([30, 40]) + _linear_grad([31, 41])) / 2
    for arrays, _ in features:
        np.testing.assert_allclose(arrays["accumulate.grad"], expected, rtol=1e-5, atol=1e-7)


def test_find_unused_parameters(features):
    """Left head used on rank 0 only, right head on rank 1 only: both averaged (a rank that
    did not use one contributes zeros); `never`, used by no rank, keeps grad None."""
    (a, _), (b, _) = features
    for name in ("trunk.weight", "left.weight", "right.bias"):
        np.testing.assert_array_equal(a[f"unused.{name}"], b[f"unused.{name}"])
    at.manual_seed(0)
    cls_source = importlib.util.spec_from_file_location(
        "ddp_features_worker", WORKERS / "ddp_features_worker.py")
    worker = importlib.util.module_from_spec(cls_source)
    cls_source.loader.exec_module(worker)
    model = worker.TwoHeads()
    model(worker.data(50), use_right=False).pow(2).mean().backward()
    np.testing.assert_allclose(a["unused.left.weight"], model.left.weight.grad.data / 2,
                               rtol=1e-6)
    assert np.isnan(a["unused.never.weight"]).all() and np.isnan(b["unused.never.bias"]).all()


def test_parameters_without_gradient_are_named_at_the_next_forward(features):
    for rank, (_, facts) in enumerate(features):
        message = facts["unused_error"]
        assert message.startswith("RuntimeError: Expected to have finished reduction")
        assert f"rank {rank}: right.weight, right.bias, never.weight, never.bias" in message


def test_small_buckets_give_the_same_gradients(features):
    for _, facts in features:
        assert facts["buckets.25"] == 1 and facts["buckets.0.0001"] == 3
        assert facts["buckets.same"]


def test_float64_gradients_are_averaged_in_float64(features):
    (a, _), (b, _) = features
    assert a["float64.grad"].dtype == np.float64
    np.testing.assert_array_equal(a["float64.grad"], b["float64.grad"])


@pytest.mark.parametrize("kind, words", [
    ("shapes", "entry 0 is parameter 'weight' of shape (4, 6), torch.float32, requires_grad on "
               "rank 0 but parameter 'weight' of shape (5, 6)"),
    ("order", "entry 1 is parameter '0.bias'"),
    ("dtypes", "of shape (4, 6), torch.float64"),
    ("counts", "rank 0 has 4 parameters and buffers, rank 1 has 6")])
def test_different_models_fail_at_construction_on_every_rank(features, kind, words):
    for _, facts in features:
        message = facts[f"mismatch.{kind}"]
        assert message.startswith("RuntimeError: DistributedDataParallel: every rank must "
                                  "wrap the same model")
        assert words in message


def test_model_without_trainable_parameters_is_refused(features):
    assert "doesn't have any parameter that requires a gradient" in features[0][1]["no_trainable"]
