"""Training checkpoints: a run killed at any moment (SIGKILL) or stopped with Ctrl-C and
resumed with --resume ends with weights identical, bit for bit, to an uninterrupted run."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from abdou_torch import serialization
from abdou_torch.training.checkpoint import load_training_checkpoint

# small but real: 40 steps per epoch, checkpoints every 7 steps, 3 epochs
TRAIN_ARGS = ["train", "mnist", "--subset", "2560", "--epochs", "3", "--batch-size", "64",
              "--checkpoint-every", "7", "--seed", "5", "--no-progress"]


def _command(out_dir, *extra):
    return [sys.executable, "-m", "abdou_torch", *TRAIN_ARGS, "--out", str(out_dir), *extra]


def _environment():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    subprocess.run(_command(out), check=True, capture_output=True, env=_environment())
    return serialization.load(out / "model.safetensors"), json.loads(
        (out / "metrics.json").read_text())


def _assert_same_weights(path, expected):
    weights = serialization.load(path)
    assert list(sorted(weights)) == list(sorted(expected))
    for name, value in expected.items():
        assert np.array_equal(weights[name].numpy(), value.numpy()), name
        assert weights[name].dtype == value.dtype


def _wait_for_checkpoint_step(process, checkpoint, at_least):
    """Poll the checkpoint until it records at least ``at_least`` steps."""
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail("the training run ended before it could be killed")
        if checkpoint.exists():
            try:
                step = load_training_checkpoint(checkpoint)["progress"]["step"]
            except ValueError:  # being replaced right now: atomic, so retry
                step = -1
            if step >= at_least:
                return step
        time.sleep(0.02)
    pytest.fail("no checkpoint appeared in time")


@pytest.mark.parametrize("kill_after_steps", [[10], [30, 75]])
def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path, uninterrupted,
                                                        kill_after_steps):
    expected, expected_metrics = uninterrupted
    checkpoint = tmp_path / "checkpoint.safetensors"
    for position, target_step in enumerate(kill_after_steps):
        extra = ("--resume",) if position else ()
        process = subprocess.Popen(_command(tmp_path, *extra), env=_environment(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_checkpoint_step(process, checkpoint, target_step)
        time.sleep(0.05)  # kill somewhere after that checkpoint, mid-step
        process.kill()
        process.wait()
        assert not (tmp_path / "model.safetensors").exists()
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(leftovers) <= 1  # at most the temporary of the save that was killed
    finished = subprocess.run(_command(tmp_path, "--resume"), env=_environment(),
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "resuming from" in finished.stdout
    _assert_same_weights(tmp_path / "model.safetensors", expected)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"] == expected_metrics["history"]
    assert metrics["steps"] == expected_metrics["steps"] == 120
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_a_checkpoint_and_prints_a_resume_command_that_runs(
        tmp_path, uninterrupted, signum, status):
    """Ctrl-C and SIGTERM (kill, schedulers) alike: save mid-epoch, exit 128 + signal, and
    print a command that, run as printed (under ``python -m abdou_torch``), finishes the run
    bit for bit as if it had never stopped."""
    expected, expected_metrics = uninterrupted
    process = subprocess.Popen(_command(tmp_path), env=_environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_checkpoint_step(process, tmp_path / "checkpoint.safetensors", 20)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert f"interrupted by {signal.Signals(signum).name}: checkpoint saved to" in stderr
    saved_step = load_training_checkpoint(tmp_path / "checkpoint.safetensors")["progress"]["step"]
    assert 20 <= saved_step < 120
    resume = shlex.split(stderr.split("resume with: ")[1].strip())
    assert resume[1:3] == ["-m", "abdou_torch"] and resume[-1] == "--resume"
    finished = subprocess.run(resume, env=_environment(), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert f"step {saved_step}" in finished.stdout
    _assert_same_weights(tmp_path / "model.safetensors", expected)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"] == expected_metrics["history"]


def test_resume_with_other_options_is_refused(tmp_path, uninterrupted):
    subprocess.run(_command(tmp_path), check=True, capture_output=True, env=_environment())
    other = [a if a != "5" else "6" for a in _command(tmp_path, "--resume")]
    result = subprocess.run(other, capture_output=True, text=True, env=_environment())
    assert result.returncode == 2
    assert "another recipe or seed" in result.stderr


def test_resume_without_checkpoint_fails_clearly(tmp_path):
    result = subprocess.run(_command(tmp_path, "--resume"), capture_output=True, text=True,
                            env=_environment())
    assert result.returncode == 2
    assert "no checkpoint at" in result.stderr


CNN_ARGS = ["train", "mnist", "--model", "cnn", "--subset", "320", "--epochs", "2",
            "--batch-size", "32", "--checkpoint-every", "3", "--seed", "2", "--no-progress"]


def test_cnn_with_dropout_and_batch_norm_resumes_bit_identically(tmp_path):
    """Dropout draws from the default generator and batch norm updates buffers: both must
    come back from the checkpoint for the resumed run to match."""
    def command(out, *extra):
        return [sys.executable, "-m", "abdou_torch", *CNN_ARGS, "--out", str(out), *extra]

    reference = tmp_path / "reference"
    subprocess.run(command(reference), check=True, capture_output=True, env=_environment())
    expected = serialization.load(reference / "model.safetensors")
    assert any(name.endswith("running_var") for name in expected)
    resumed = tmp_path / "resumed"
    process = subprocess.Popen(command(resumed), env=_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_checkpoint_step(process, resumed / "checkpoint.safetensors", 4)
    process.kill()
    process.wait()
    finished = subprocess.run(command(resumed, "--resume"), env=_environment(),
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    _assert_same_weights(resumed / "model.safetensors", expected)
