"""The command line when things go wrong, each case in a real subprocess: a full disk, a
read-only or wrong --out, two runs into one --out, a killed run's lock, a rerun over an
unfinished run, checkpoints edited by hand, a diverging run. Each must end with one line
saying what is wrong and what to do (never a traceback), the right exit status, and
nothing the user saved lost or half-written."""
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from abdou_torch import serialization
from abdou_torch.training.checkpoint import load_training_checkpoint

BLOBS = ["train", "blobs", "--epochs", "30", "--no-progress"]
MNIST = ["train", "mnist", "--subset", "600", "--epochs", "2", "--batch-size", "50",
         "--checkpoint-every", "3", "--seed", "3", "--no-progress"]


def _environment():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def _command(*args):
    return [sys.executable, "-m", "abdou_torch", *args]


def _cli(*args, timeout=300, **options):
    return subprocess.run(_command(*args), capture_output=True, text=True, timeout=timeout,
                          env=_environment(), **options)


def _error_line(result) -> str:
    """The one line a failed run printed; fails if it printed a traceback or several."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("abdou-torch:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _no_temporaries(directory: Path) -> bool:
    return not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def _strict_json(text: str):
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


# -- a diverging run -------------------------------------------------------------------------

def test_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    result = _cli(*MNIST, "--lr", "1e4", "--out", str(tmp_path))
    assert result.returncode == 1
    line = _error_line(result)
    assert "training diverged" in line and "lower --lr" in line
    step = int(re.search(r"loss became (?:nan|inf) at step (\d+)", line).group(1))
    assert "RuntimeWarning" not in result.stderr
    saved = load_training_checkpoint(tmp_path / "checkpoint.safetensors")
    assert f"(step {saved['progress']['step']}), is intact" in line
    assert 0 < saved["progress"]["step"] < step
    for name, value in saved["model_state"].items():
        assert np.isfinite(value.numpy()).all(), name
    # nothing was written from the diverged weights
    assert not (tmp_path / "model.safetensors").exists()
    assert not (tmp_path / "metrics.json").exists()


def test_diverging_before_any_checkpoint_says_none_was_saved(tmp_path):
    result = _cli(*BLOBS, "--lr", "1e30", "--out", str(tmp_path))
    assert result.returncode == 1
    line = _error_line(result)
    assert "training diverged" in line and "No checkpoint was saved" in line
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_non_finite_learning_rate_is_a_usage_error():
    for value in ("inf", "nan"):
        result = _cli(*BLOBS, "--lr", value)
        assert result.returncode == 2 and "finite non-negative number" in result.stderr


# -- a full disk -------------------------------------------------------------------------------

class SmallDisk:
    """A directory where writes fail for lack of room: a tmpfs of ``size`` bytes when this
    process may mount one (root), else a per-file size limit (RLIMIT_FSIZE) in the child,
    where writes past the limit fail with EFBIG ("File too large")."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        path.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                  str(path)], capture_output=True)
        self.kind = "tmpfs" if mounted.returncode == 0 else "rlimit"

    def preexec(self):
        if self.kind == "rlimit":
            limit = self.size // 2
            return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return None

    def grow(self, size: int) -> None:
        if self.kind == "tmpfs":
            subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)

    def remove(self) -> None:
        if self.kind == "tmpfs":
            subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def small_disk(tmp_path):
    # the MNIST MLP's checkpoint is about 710 kB: one fits in 1 MiB, not a second beside it
    disk = SmallDisk(tmp_path / "disk", 1 << 20)
    yield disk
    disk.remove()


def test_full_disk_during_a_checkpoint_keeps_the_previous_one(small_disk):
    out = small_disk.path / "run"
    result = _cli(*MNIST, "--out", str(out), preexec_fn=small_disk.preexec())
    assert result.returncode == 1
    line = _error_line(result)
    assert "checkpoint.safetensors" in line
    assert "No space left on device" in line or "File too large" in line
    assert _no_temporaries(out)
    assert not (out / "model.safetensors").exists()
    if small_disk.kind == "rlimit":  # every checkpoint is over the per-file limit
        assert "No checkpoint was saved" in line
        return
    saved_step = load_training_checkpoint(out / "checkpoint.safetensors")["progress"]["step"]
    assert saved_step == 3 and "(step 3), is intact" in line
    resume = shlex.split(line.split("then resume with: ")[1])
    small_disk.grow(16 << 20)  # "free some space", then run the command it printed
    finished = subprocess.run(resume, capture_output=True, text=True, env=_environment(),
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "resuming from" in finished.stdout
    _strict_json((out / "metrics.json").read_text())


def test_interrupted_output_write_leaves_the_old_file(tmp_path, monkeypatch):
    """metrics.json and the plots are replaced atomically: a write that fails half-way (a
    full disk) leaves the previous file whole and no temporary behind."""
    import errno

    from abdou_torch.training import plots
    from abdou_torch.training.run_dir import RunDirectoryError, write_json

    write_json(tmp_path / "metrics.json", {"test_accuracy": 0.5})
    plots.plot_curve([3.0, 2.0], tmp_path / "loss.png", "loss", "loss")
    before = {name: (tmp_path / name).read_bytes() for name in ("metrics.json", "loss.png")}
    real_fdopen = os.fdopen

    class FillsUp:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FillsUp(real_fdopen(fd, mode)))
    with pytest.raises(RunDirectoryError, match="No space left on device; free some space"):
        write_json(tmp_path / "metrics.json", {"test_accuracy": 0.9})
    with pytest.raises(RunDirectoryError, match="loss.png: No space left"):
        plots.plot_curve([3.0, 1.0], tmp_path / "loss.png", "loss", "loss")
    monkeypatch.undo()
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert _no_temporaries(tmp_path)


# -- a read-only or wrong --out ----------------------------------------------------------------

@pytest.fixture
def read_only_dir(tmp_path):
    """A directory no one can write to: a read-only tmpfs for root (whom chmod does not
    stop), else mode 0555."""
    path = tmp_path / "read-only"
    path.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)],
        capture_output=True).returncode == 0
    if not mounted:
        path.chmod(0o555)
    yield path
    if mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        path.chmod(0o755)


@pytest.mark.parametrize("below", ["", "run"])
def test_read_only_out_is_one_line(read_only_dir, below):
    out = read_only_dir / below if below else read_only_dir
    result = _cli(*BLOBS, "--out", str(out))
    assert result.returncode == 2
    line = _error_line(result)
    assert str(out) in line and "choose a directory you can write to" in line
    assert "Read-only file system" in line or "Permission denied" in line


def test_out_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    result = _cli(*BLOBS, "--out", str(target))
    assert result.returncode == 2
    assert "is a file, not a directory; choose another --out" in _error_line(result)
    assert target.read_text() == "keep me"


# -- two runs into one --out ---------------------------------------------------------------------

def _wait_for_lock(process, out: Path) -> None:
    lock = out / ".lock"
    deadline = time.time() + 120
    while time.time() < deadline:
        if lock.exists() and f"pid {process.pid} " in lock.read_text():
            return
        if process.poll() is not None:
            pytest.fail("the first run ended before it took the lock")
        time.sleep(0.02)
    pytest.fail("the first run never took the lock")


def test_second_run_into_the_same_out_is_refused(tmp_path):
    first = subprocess.Popen(_command(*BLOBS, "--out", str(tmp_path)), env=_environment(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lock(first, tmp_path)
        first.send_signal(signal.SIGSTOP)  # hold it inside its run, whatever the machine's speed
        second = _cli(*BLOBS, "--out", str(tmp_path))
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2
    line = _error_line(second)
    assert f"another run is writing to {tmp_path} (pid {first.pid} " in line
    assert "choose another --out" in line
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert _strict_json((tmp_path / "metrics.json").read_text())["epochs"] == 30


def test_a_killed_runs_lock_does_not_block_the_next(tmp_path):
    first = subprocess.Popen(_command(*BLOBS, "--out", str(tmp_path)), env=_environment(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_lock(first, tmp_path)
    first.kill()
    first.wait()
    assert (tmp_path / ".lock").exists()  # the file stays; the kernel dropped the lock
    second = _cli(*BLOBS, "--out", str(tmp_path), "--overwrite")
    assert second.returncode == 0, second.stderr


# -- rerunning over an unfinished run ------------------------------------------------------------

def _unfinished_blobs_run(out: Path, epochs: int = 30) -> None:
    """A checkpoint at step 0 of a blobs run, as an interrupted run leaves it."""
    from abdou_torch.training.recipes import recipe_for
    from abdou_torch.training.trainer import TrainingRun
    recipe = recipe_for("blobs", "mlp").with_overrides(epochs=epochs)
    run = TrainingRun(recipe, out, progress=False, log=lambda text: None)
    out.mkdir(exist_ok=True)
    run.save_checkpoint()


def test_rerun_over_an_unfinished_run_is_refused_and_says_how_to_resume(tmp_path):
    _unfinished_blobs_run(tmp_path)
    before = (tmp_path / "checkpoint.safetensors").read_bytes()
    result = _cli(*BLOBS, "--out", str(tmp_path))
    assert result.returncode == 2
    line = _error_line(result)
    assert "holds an unfinished run (epoch 1 of 30, step 0)" in line
    assert "--overwrite to start over" in line
    assert (tmp_path / "checkpoint.safetensors").read_bytes() == before
    # the command it prints resumes the run
    resume = shlex.split(line.split("resume it with: ")[1])
    assert resume[-1] == "--resume"
    resumed = subprocess.run(resume, capture_output=True, text=True, env=_environment(),
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    # a finished run's directory can be reused as before
    assert _cli(*BLOBS, "--out", str(tmp_path)).returncode == 0


def test_overwrite_starts_over(tmp_path):
    _unfinished_blobs_run(tmp_path)
    result = _cli(*BLOBS, "--out", str(tmp_path), "--overwrite")
    assert result.returncode == 0, result.stderr
    assert "resuming" not in result.stdout
    assert load_training_checkpoint(tmp_path / "checkpoint.safetensors")["progress"][
        "step"] == 30


# -- checkpoints from another version or edited by hand ---------------------------------------

def _edit_progress(key, value=None, delete=False):
    def edit(tensors, metadata):
        progress = json.loads(metadata["progress"])
        if delete:
            del progress[key]
        else:
            progress[key] = value
        metadata["progress"] = json.dumps(progress)
    return edit


def _set_metadata(key, value):
    def edit(tensors, metadata):
        metadata[key] = value
    return edit


def _edit_tensors(change):
    def edit(tensors, metadata):
        change(tensors)
    return edit


def _edit_loader(tensors, metadata):
    loader = json.loads(metadata["loader"])
    loader["batch_size"] = 7
    metadata["loader"] = json.dumps(loader)


HAND_EDITS = {
    "no seconds": (_edit_progress("seconds", delete=True), "has no 'seconds' field"),
    "step is text": (_edit_progress("step", "ten"), "'step' is 'ten', expected int"),
    "negative epoch": (_edit_progress("epoch", -2), "'epoch' is negative"),
    "other version": (_set_metadata("format", "abdou_torch/training-checkpoint/0"),
                      "not a training checkpoint of this version"),
    "rng not JSON": (_set_metadata("rng", "{oops"), "'rng' is missing or not valid JSON"),
    "rng garbage": (_set_metadata("rng", '{"bit_generator": 5}'), "cannot resume"),
    "missing weight": (_edit_tensors(lambda t: t.pop("model.layers.0.weight")), "cannot resume"),
    "wrong shape": (_edit_tensors(lambda t: t.update(
        {"model.layers.0.weight": np.zeros((3, 3), np.float32)})), "cannot resume"),
    "loader batch size": (_edit_loader, "cannot resume"),
}


@pytest.mark.parametrize("case", sorted(HAND_EDITS))
def test_checkpoint_edited_by_hand_is_one_line(tmp_path, case):
    edit, expected = HAND_EDITS[case]
    _unfinished_blobs_run(tmp_path)
    path = tmp_path / "checkpoint.safetensors"
    tensors, metadata = serialization.load_with_metadata(path)
    tensors = {name: value.numpy() for name, value in tensors.items()}
    edit(tensors, metadata)
    serialization.save(tensors, path, metadata=metadata)
    before = path.read_bytes()
    result = _cli(*BLOBS, "--out", str(tmp_path), "--resume")
    assert result.returncode == 2
    line = _error_line(result)
    assert str(path) in line and expected in line
    assert path.read_bytes() == before


def test_truncated_checkpoint_is_one_line(tmp_path):
    _unfinished_blobs_run(tmp_path)
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(path.read_bytes()[:500])
    result = _cli(*BLOBS, "--out", str(tmp_path), "--resume")
    assert result.returncode == 2
    assert str(path) in _error_line(result)
    # a rerun without --resume cannot tell whether the run was finished: it refuses too
    rerun = _cli(*BLOBS, "--out", str(tmp_path))
    assert rerun.returncode == 2
    assert "cannot be read" in _error_line(rerun) and "--overwrite" in rerun.stderr


def test_corrupt_mnist_cache_is_one_line(tmp_path, monkeypatch, capsys):
    """The fetch that would repair the cache fails here (no network): one line that names
    the file and says to delete it."""
    from abdou_torch.cli import main
    from abdou_torch.data.datasets import mnist as mnist_module
    raw = tmp_path / "cache" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09short")
    monkeypatch.setenv("ABDOU_TORCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_module.subprocess, "run", lambda command, **kwargs:
                        subprocess.CompletedProcess(command, 1, "", "offline"))
    assert main([*MNIST, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if x.startswith("abdou-torch:")]
    assert len(line) == 1 and "Traceback" not in err
    assert f"Delete {raw / 'train-images-idx3-ubyte'}" in line[0] and "offline" in line[0]
