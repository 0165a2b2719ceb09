"""A rank that raises, dies, hangs or leaves early ends the whole job within a bounded
time with a message saying so; a checkpoint being written when the job is killed is
never left half-written. (Each job runs under a 90 s limit, after which the test fails:
a hang is a failure, not a stuck suite.)"""
import re

import numpy as np
import pytest

from abdou_torch import serialization


@pytest.fixture(scope="module")
def run_faults(mpirun):
    return lambda mode: mpirun("faults_worker.py", mode, timeout=90)


def test_a_rank_that_raises_aborts_the_job(run_faults):
    result = run_faults("raise")
    assert result.returncode != 0, result
    assert "ValueError: boom on rank 1" in result.stderr
    assert "[rank 1/2] abdou_torch.distributed: uncaught ValueError on rank 1; aborting all " \
           "2 ranks" in result.stderr
    assert "finished all steps" not in result.stdout


def test_a_rank_that_dies_ends_the_job(run_faults):
    result = run_faults("kill")
    assert result.returncode != 0, result
    assert "finished all steps" not in result.stdout


@pytest.mark.parametrize("mode", ["hang", "exit"])
def test_a_rank_that_hangs_or_leaves_times_out_the_others(run_faults, mode):
    result = run_faults(mode)
    assert result.returncode != 0, result
    assert "DistBackendError: DistributedDataParallel gradient all_reduce timed out after " \
           "3 s on rank 0 of 2: another rank did not join it" in result.stderr
    assert "uncaught DistBackendError on rank 0; aborting all 2 ranks" in result.stderr


def test_checkpoint_is_whole_after_the_job_is_killed_mid_save(mpirun, tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    result = mpirun("checkpoint_kill_worker.py", path, timeout=90)
    assert result.returncode != 0, result
    assert "saved 0" in result.stdout  # at least one save finished before the kill
    tensors, metadata = serialization.load_with_metadata(path)
    version = int(metadata["version"])
    printed = [int(m) for m in re.findall(r"^saved (\d+)$", result.stdout, re.MULTILINE)]
    # the last save reported, or the next one if the kill came between its rename and its
    # report: a whole file either way
    assert version in (max(printed), max(printed) + 1)
    assert sorted(tensors) == [f"layer{i}.weight" for i in range(4)]
    for tensor in tensors.values():
        assert np.all(tensor.numpy() == version)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == \
        ["checkpoint.safetensors"]  # a killed writer leaves at most a hidden temporary
