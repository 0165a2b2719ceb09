"""``SummaryWriter`` writes event files that TensorBoard's own reader reads back."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from abdou_torch.utils.tensorboard import SummaryWriter  # noqa: E402


def read(log_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={event_accumulator.HISTOGRAMS: 0,
                                     event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return accumulator


def test_scalars_histograms_and_text_are_read_back(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        for step in range(5):
            writer.add_scalar("loss", at.tensor(1.0 / (step + 1)), step)  # a 0-d Tensor
            writer.add_scalar("lr", 0.1 * step, global_step=step)        # a float
        writer.add_scalars("run", {"a": at.tensor(2.0), "b": 3.0}, 7)
        writer.add_histogram("weights", at.tensor(np.arange(10, dtype=np.float32)), 1)
        writer.add_text("notes", "hello", 0)
    events = read(tmp_path)
    assert [e.step for e in events.Scalars("loss")] == list(range(5))
    np.testing.assert_allclose([e.value for e in events.Scalars("loss")],
                               [1.0, 0.5, 1 / 3, 0.25, 0.2], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in events.Scalars("lr")],
                               [0.0, 0.1, 0.2, 0.3, 0.4], rtol=1e-6)
    histogram = events.Histograms("weights")[0].histogram_value
    assert (histogram.min, histogram.max, histogram.num, histogram.sum) == (0, 9, 10, 45)
    assert "notes/text_summary" in events.Tags()["tensors"]
    run_a = read(tmp_path / "run_a")  # add_scalars writes one sub-run per key, as PyTorch
    assert [e.value for e in run_a.Scalars("run")] == [2.0]


def test_default_log_dir_is_runs_with_a_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.endswith("_lr0.1")


def test_add_graph_names_what_is_missing(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        with pytest.raises(NotImplementedError, match="add_graph is not available"):
            writer.add_graph(at.nn.Linear(2, 2), at.ones(1, 2))
