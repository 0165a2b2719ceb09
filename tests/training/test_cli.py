"""The command line end to end: files written, accuracy printed, bad options refused."""
import json
import subprocess
import sys

import numpy as np
import pytest

from abdou_torch import serialization
from abdou_torch.cli import build_parser, main
from abdou_torch.nn import MLP

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 2000


def test_blobs_run_writes_metrics_plots_and_weights(tmp_path, capsys):
    assert main(["train", "blobs", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert f"test accuracy: {100 * metrics['test_accuracy']:.2f}%" in printed
    assert metrics["test_accuracy"] >= 0.85          # two overlapping blobs, std 1.4
    assert metrics["epochs"] == 1500 and metrics["steps"] == 1500
    assert len(metrics["history"]["train_loss"]) == 1500
    assert metrics["history"]["train_loss"][-1] < metrics["history"]["train_loss"][0]
    for name in ("loss.png", "accuracy.png", "decision_boundary.png"):
        assert _is_png(tmp_path / name), name
    model = MLP(2, [16, 16, 1])
    model.load_state_dict(serialization.load(tmp_path / "model.safetensors"))


def test_mnist_subset_run_writes_prediction_grid(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "abdou_torch", "train", "mnist", "--subset", "3000",
         "--epochs", "2", "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "epoch 1/2" in result.stderr and "loss=" in result.stderr   # the progress bars
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0.80 < metrics["test_accuracy"] <= 1.0
    assert f"test accuracy: {100 * metrics['test_accuracy']:.2f}%" in result.stdout
    assert len(metrics["history"]["test_accuracy"]) == 2
    assert metrics["seconds"] > 0 and metrics["epochs"] == 2
    for name in ("loss.png", "accuracy.png", "predictions.png"):
        assert _is_png(tmp_path / name), name
    weights = serialization.load(tmp_path / "model.safetensors")
    assert weights["layers.0.weight"].shape == (64, 784)


@pytest.mark.parametrize("argv", [["train", "cifar"], ["train", "mnist", "--epochs", "0"],
                                  ["train", "mnist", "--lr", "-1"]])
def test_bad_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "error" in capsys.readouterr().err


def test_model_without_recipe_is_refused(capsys):
    assert main(["train", "blobs", "--model", "cnn", "--no-progress"]) == 2
    assert "no recipe for --model cnn on blobs" in capsys.readouterr().err


def test_parser_defaults():
    args = build_parser().parse_args(["train", "mnist"])
    # the model's default depends on the dataset: mlp for images, gpt for shakespeare
    assert (args.model, args.seed, args.checkpoint_every, args.resume) == (None, 0, 0, False)


def test_corrupt_checkpoint_on_resume_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "checkpoint.safetensors").write_bytes(b"\x80\x04not a checkpoint")
    code = main(["train", "blobs", "--out", str(tmp_path), "--resume", "--no-progress"])
    assert code == 2
    assert "checkpoint.safetensors" in capsys.readouterr().err


def test_seed_changes_initial_weights_but_is_reproducible(tmp_path):
    from abdou_torch.training.recipes import recipe_for
    from abdou_torch.training.trainer import TrainingRun
    recipe = recipe_for("blobs", "mlp").with_overrides(epochs=3)
    runs = [TrainingRun(recipe, tmp_path / str(i), seed=s, progress=False)
            for i, s in enumerate((1, 1, 2))]
    weights = [r.model.layers[0].weight.numpy() for r in runs]
    assert np.array_equal(weights[0], weights[1])
    assert not np.array_equal(weights[0], weights[2])
