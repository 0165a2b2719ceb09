"""Collectives on 2 ranks against NumPy, a world of one process without a launcher, and
what is refused before init_process_group."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import abdou_torch as at
import abdou_torch.distributed as dist

from abdou_torch.distributed import ReduceOp

WORKERS = Path(__file__).parent / "workers"
WORLD = 2


def values(rank, dtype):
    return (np.arange(6).reshape(2, 3) * (rank + 2) - 3).astype(dtype)


@pytest.fixture(scope="module")
def ranks(mpirun, tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    result = mpirun("collectives_worker.py", out)
    assert result.returncode == 0, result
    return [(dict(np.load(out / f"collectives-{r}.npz")),
             json.loads((out / f"collectives-{r}.json").read_text())) for r in range(WORLD)]


REDUCTIONS = {"SUM": np.sum, "PRODUCT": np.prod, "MIN": np.min, "MAX": np.max,
              "AVG": np.mean}


@pytest.mark.parametrize("dtype, op", [
    (dtype, op) for dtype in ("float32", "float64", "int64", "int32", "float16")
    for op in REDUCTIONS if op != "AVG" or dtype[0] == "f"])
def test_all_reduce(ranks, dtype, op):
    stacked = np.stack([values(r, "float64") for r in range(WORLD)])
    expected = REDUCTIONS[op](stacked, axis=0).astype(dtype)
    for arrays, _ in ranks:
        got = arrays[f"all_reduce.{op}.{dtype}"]
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, expected)


def test_bitwise_and_bool_reductions(ranks):
    a, b = np.array([5, 6, 12]), np.array([6, 7, 13])
    for arrays, _ in ranks:
        np.testing.assert_array_equal(arrays["all_reduce.BAND"], a & b)
        np.testing.assert_array_equal(arrays["all_reduce.BOR"], a | b)
        np.testing.assert_array_equal(arrays["all_reduce.BXOR"], a ^ b)
        np.testing.assert_array_equal(arrays["all_reduce.bool"], [True, False, True])
        assert arrays["all_reduce.bool"].dtype == np.bool_


def test_all_reduce_writes_through_a_strided_view(ranks):
    base = np.arange(12.0).reshape(3, 4)
    expected = base.copy()
    expected[:, ::2] = base[:, ::2] * 3  # 1x + 2x
    for arrays, _ in ranks:
        np.testing.assert_array_equal(arrays["all_reduce.view"], base[:, ::2] * 3)
        np.testing.assert_array_equal(arrays["all_reduce.base"][:, ::2], expected[:, ::2])


def test_async_work_and_scalars(ranks):
    for arrays, facts in ranks:
        assert facts["work_wait"] is True and facts["work_completed"] is True
        assert arrays["all_reduce.scalar"].shape == () and arrays["all_reduce.scalar"] == 3.0
        assert facts["barrier_async"] is True


def test_broadcast_all_gather_reduce(ranks):
    for rank, (arrays, facts) in enumerate(ranks):
        np.testing.assert_array_equal(arrays["broadcast"], values(1, "float32"))
        np.testing.assert_array_equal(arrays["all_gather"],
                                      np.stack([values(r, "float32") for r in range(WORLD)]))
        expected = values(0, "float32") + values(1, "float32") if rank == 1 \
            else values(0, "float32")  # only dst=1 receives the result
        np.testing.assert_array_equal(arrays["reduce"], expected)
        assert (facts["rank"], facts["world"], facts["backend"]) == (rank, WORLD, "gloo")
        assert not facts["initialized_before"] and facts["initialized"]
        assert not facts["initialized_after"]


@pytest.mark.parametrize("case, expected", [
    ("avg_int", "TypeError: all_reduce: ReduceOp.AVG needs a floating-point tensor"),
    ("band_float", "TypeError: all_reduce: ReduceOp.BAND is bitwise"),
    ("bad_op", "TypeError: all_reduce: op must be a ReduceOp"),
    ("bad_src", "ValueError: broadcast: src=2 is not a rank of this group (0 to 1)"),
    ("bad_list", "ValueError: all_gather: tensor_list must hold one tensor per rank (2), got 1"),
    ("bad_shape", "ValueError: all_gather: tensor_list[0] has shape (2,)"),
    ("not_tensor", "TypeError: all_reduce: tensor must be a Tensor, got ndarray"),
    ("twice", "ValueError: trying to initialize the default process group twice!")])
def test_bad_arguments_raise_before_communicating(ranks, case, expected):
    for _, facts in ranks:
        assert facts["errors"][case].startswith(expected)


def test_collectives_after_destroy_say_not_initialized(ranks):
    for _, facts in ranks:
        assert facts["after_destroy"] == ("ValueError: Default process group has not been "
                                          "initialized, please make sure to call "
                                          "init_process_group.")


def _plain_python(*args):
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("RANK", "WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE")}
    result = subprocess.run([sys.executable, str(WORKERS / "world_of_one.py"), *args],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_launcher_the_world_is_one_process():
    facts = _plain_python()
    assert (facts["rank"], facts["world"]) == (0, 1)
    assert facts["all_reduce"] == [1.0, 2.0]
    assert facts["ddp_same_as_plain"]  # DDP, SyncBatchNorm: bit for bit the plain model
    assert facts["sampler"] == [0, 1, 2, 3, 4]


def test_launcher_variables_must_match_mpi():
    facts = _plain_python("2")
    assert "WORLD_SIZE says world size 2, but MPI started this process as world size 1" \
        in facts["error"]


@pytest.mark.parametrize("call", [dist.get_rank, dist.get_world_size, dist.barrier,
                                  lambda: dist.all_reduce(at.ones(1)),
                                  lambda: dist.broadcast(at.ones(1), 0)])
def test_before_init_process_group(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as ours:
        call()
    with pytest.raises(ValueError) as theirs:
        torch.distributed.get_rank()
    assert str(ours.value) == str(theirs.value)


def test_is_available_and_reduce_op_names():
    torch = pytest.importorskip("torch")
    assert dist.is_available() and not dist.is_initialized()
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert hasattr(torch.distributed.ReduceOp, name) and hasattr(ReduceOp, name)
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
