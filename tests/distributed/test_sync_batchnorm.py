"""SyncBatchNorm on 2 ranks (uneven shares of the batch) equals BatchNorm on the whole
batch: outputs, input and parameter gradients, running statistics; and against torch."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import nn

WORKERS = Path(__file__).parent / "workers"
spec = importlib.util.spec_from_file_location("sync_batchnorm_worker",
                                              WORKERS / "sync_batchnorm_worker.py")
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


@pytest.fixture(scope="module")
def ranks(mpirun, tmp_path_factory):
    out = tmp_path_factory.mktemp("syncbn")
    result = mpirun("sync_batchnorm_worker.py", out)
    assert result.returncode == 0, result
    return [dict(np.load(out / f"syncbn-{rank}.npz")) for rank in range(2)]


def _whole_batch(name, library):
    """BatchNorm over the whole batch, the same two steps, in abdou_torch or torch."""
    shape, _, options = worker.CASES[name]
    x, dy = worker.inputs(shape, 0)
    layers = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d}
    if library == "torch":
        import torch
        layer = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d,
                 4: torch.nn.BatchNorm2d}[len(shape)](shape[1], **options)
        tensor = lambda a, grad=False: torch.tensor(a, requires_grad=grad)  # noqa: E731
    else:
        layer = layers[len(shape)](shape[1], **options)
        tensor = lambda a, grad=False: at.tensor(a, requires_grad=grad)  # noqa: E731
    if layer.affine:
        layer.weight.data[...] = tensor(np.linspace(0.5, 2.0, shape[1]).astype(np.float32))
        layer.bias.data[...] = tensor(np.linspace(-0.3, 0.3, shape[1]).astype(np.float32))
    for step in range(2):
        xs = tensor(x + step, grad=True)
        y = layer(xs)
        (y * tensor(dy)).sum().backward()
    result = {"y": y, "dx": xs.grad, "running_mean": layer.running_mean,
              "running_var": layer.running_var}
    if layer.affine:
        result.update(dweight=layer.weight.grad, dbias=layer.bias.grad)
    layer.eval()
    result["eval"] = layer(tensor(x))
    return {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v.data)
            for k, v in result.items()}


@pytest.mark.parametrize("library", ["abdou_torch", "torch"])
@pytest.mark.parametrize("name", list(worker.CASES))
def test_sync_batchnorm_is_batchnorm_over_the_whole_batch(ranks, name, library):
    if library == "torch":
        pytest.importorskip("torch")
    expected = _whole_batch(name, library)
    split = worker.CASES[name][1]
    for key in ("y", "dx", "eval"):
        got = np.concatenate([ranks[0][f"{name}.{key}"], ranks[1][f"{name}.{key}"]])
        np.testing.assert_allclose(got, expected[key], rtol=1e-5, atol=2e-6, err_msg=key)
    keys = ["running_mean", "running_var"] + \
        (["dweight", "dbias"] if "dweight" in expected else [])
    for key in keys:
        for rank in ranks:
            np.testing.assert_allclose(rank[f"{name}.{key}"], expected[key], rtol=1e-5,
                                       atol=2e-6, err_msg=key)
    assert len(ranks[0][f"{name}.y"]) == split


def test_convert_sync_batchnorm_shares_parameters_and_statistics():
    at.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3, momentum=None),
                          nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, affine=False)))
    model[1].running_mean.data[...] = 2.0
    model.eval()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model  # the root is not a BatchNorm: converted in place
    first, second = model[1], model[2][1]
    assert type(first) is nn.SyncBatchNorm and type(second) is nn.SyncBatchNorm
    assert (first.momentum, first.affine, second.affine) == (None, True, False)
    assert not first.training
    np.testing.assert_array_equal(first.running_mean.data, 2.0)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                        "1.running_mean", "1.running_var",
                                        "1.num_batches_tracked", "2.0.weight", "2.0.bias",
                                        "2.1.running_mean", "2.1.running_var",
                                        "2.1.num_batches_tracked"]
    lone = nn.BatchNorm1d(5)
    assert type(nn.SyncBatchNorm.convert_sync_batchnorm(lone)) is nn.SyncBatchNorm


def test_convert_matches_torch_names_and_repr():
    torch = pytest.importorskip("torch")
    ours = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(4)))
    theirs = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.BatchNorm1d(4)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours[0]).__name__ == type(theirs[0]).__name__ == "SyncBatchNorm"


def test_single_process_sync_batchnorm_is_batchnorm():
    x = at.tensor(np.random.default_rng(1).standard_normal((6, 3, 2)).astype(np.float32))
    plain, synced = nn.BatchNorm1d(3), nn.SyncBatchNorm(3)
    np.testing.assert_array_equal(plain(x).data, synced(x).data)
    np.testing.assert_array_equal(plain.running_var.data, synced.running_var.data)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        synced(at.ones(3))
