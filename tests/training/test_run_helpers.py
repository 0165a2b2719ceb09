"""The reusable pieces behind a safe run: strict JSON, the run directory's lock, the stop
signals and the NaN guard."""
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from abdou_torch import serialization
from abdou_torch.training import json_io
from abdou_torch.training.checkpoint import (PROGRESS_FIELDS, load_training_checkpoint,
                                             save_training_checkpoint)
from abdou_torch.training.nan_guard import NonFiniteError, check_loss, check_state
from abdou_torch.training.run_dir import RunDirectory, RunDirectoryError, write_json
from abdou_torch.training.signals import DeferredStop, Stopped, stop_immediately


def strict_loads(text):
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


NASTY = {"loss": [1.0, math.nan, math.inf, -math.inf], "best": math.inf,
         "array": np.array([0.5, np.nan], np.float32), "scalar": np.float64(-np.inf),
         "tuple": (1, np.int64(2)), "nested": {"x": [{"y": math.nan}]}}


def test_dumps_null_is_valid_json_with_null_for_non_numbers():
    parsed = strict_loads(json_io.dumps(NASTY))
    assert parsed["loss"] == [1.0, None, None, None] and parsed["best"] is None
    assert parsed["array"] == [0.5, None] and parsed["tuple"] == [1, 2]
    assert parsed["nested"] == {"x": [{"y": None}]}


def test_dumps_tag_is_valid_json_and_round_trips():
    text = json_io.dumps(NASTY, nonfinite="tag")
    strict_loads(text)
    back = json_io.loads(text)
    assert back["loss"][0] == 1.0 and math.isnan(back["loss"][1])
    assert back["loss"][2:] == [math.inf, -math.inf] and back["best"] == math.inf
    assert back["scalar"] == -math.inf and math.isnan(back["nested"]["x"][0]["y"])


def test_write_json_never_writes_bare_nan(tmp_path):
    write_json(tmp_path / "m.json", {"history": [math.nan, 2.0]})
    assert strict_loads((tmp_path / "m.json").read_text()) == {"history": [None, 2.0]}


def test_checkpoint_metadata_is_strict_json_and_keeps_infinities(tmp_path):
    path = tmp_path / "c.safetensors"
    progress = {"epoch": 0, "step": 1, "epoch_loss_sum": 0.0, "epoch_batches": 1,
                "seconds": 0.1, "train_loss": [], "test_accuracy": []}
    assert set(progress) == set(PROGRESS_FIELDS)
    save_training_checkpoint(path, model_state={"w": np.ones(2, np.float32)},
                             optimizer_state={"state": {}, "param_groups": [{"lr": 0.1}]},
                             scheduler_state={"best": math.inf, "min_lrs": [-math.inf]},
                             loader_state={}, rng_state={}, progress=progress)
    _, metadata = serialization.load_with_metadata(path)
    for name, text in metadata.items():
        if name != "format":
            strict_loads(text)
    saved = load_training_checkpoint(path)
    assert saved["scheduler_state"] == {"best": math.inf, "min_lrs": [-math.inf]}


def test_run_directory_lock_is_exclusive_and_released(tmp_path):
    with RunDirectory(tmp_path / "run") as first:
        assert first.locked
        with pytest.raises(RunDirectoryError, match=rf"pid {os.getpid()} "):
            RunDirectory(tmp_path / "run").open()
    with RunDirectory(tmp_path / "run") as again:  # released on close
        assert again.locked


def test_lock_is_released_when_its_process_dies(tmp_path):
    """A lock held by a process that dies (SIGKILL, no cleanup) is free at once."""
    script = ("import os, sys; from abdou_torch.training.run_dir import RunDirectory; "
              "RunDirectory(sys.argv[1]).open(); print('locked', flush=True); "
              "os.kill(os.getpid(), 9)")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout == "locked\n" and result.returncode == -signal.SIGKILL
    with RunDirectory(tmp_path) as run_dir:
        assert run_dir.locked


def test_deferred_stop_sets_a_flag_then_a_second_signal_stops_at_once():
    with DeferredStop() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
        with pytest.raises(Stopped) as stopped:
            os.kill(os.getpid(), signal.SIGINT)
        assert stopped.value.exit_code == 130
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_stop_immediately_raises_and_restores_handlers():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(Stopped) as stopped:
        with stop_immediately():
            os.kill(os.getpid(), signal.SIGTERM)
    assert stopped.value.exit_code == 143
    assert signal.getsignal(signal.SIGINT) is before


def test_nan_guard():
    check_loss(1.5, step=1, epoch=1)
    for bad in (math.nan, math.inf):
        with pytest.raises(NonFiniteError, match="at step 7 .epoch 2.: training diverged"):
            check_loss(bad, step=7, epoch=2)
    check_state({"w": np.ones(3), "steps": np.array([2**40])}, "parameter", step=1)
    with pytest.raises(NonFiniteError, match="parameter 'b' holds NaN"):
        check_state({"w": np.ones(3), "b": np.array([0.0, np.nan])}, "parameter", step=1)
