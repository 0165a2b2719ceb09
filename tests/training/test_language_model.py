"""``abdou-torch train shakespeare`` on a tiny budget: the files it writes, the schedule,
resuming bit for bit, and the options it refuses. The corpus comes from the cache (fetched
once by the same path as tests/data/test_shakespeare.py)."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from abdou_torch import serialization
from abdou_torch.cli import main
from abdou_torch.training import language_model as lm
from abdou_torch.training.checkpoint import load_training_checkpoint
from abdou_torch.training.lm_files import MODEL_FORMAT, load_language_model

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--layers", "1", "--heads", "2", "--width", "16", "--block-size", "16",
        "--batch-size", "4", "--eval-every", "10", "--eval-windows", "32",
        "--sample-tokens", "30"]
TINY_RECIPE = lm.RECIPES["gpt"].with_overrides(
    steps=30, n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_every=10,
    eval_windows=32, sample_tokens=30, dropout=0.1)


def _environment():
    return dict(os.environ, PYTHONUNBUFFERED="1", OPENBLAS_NUM_THREADS="1")


def _train_command(out, *extra, progress=False):
    return [sys.executable, "-m", "abdou_torch", "train", "shakespeare", *TINY, "--out",
            str(out), *extra] + ([] if progress else ["--no-progress"])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    result = subprocess.run(_train_command(out, "--steps", "40", "--seed", "3", progress=True),
                            capture_output=True, text=True, env=_environment())
    assert result.returncode == 0, result.stderr
    return out, result


def test_the_run_writes_metrics_plot_samples_and_model(tiny_run):
    out, result = tiny_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"validation loss: {metrics['val_loss']:.4f}" in result.stdout
    assert "step" in result.stderr and "loss=" in result.stderr and "val=" in result.stderr
    assert metrics["model"] == "gpt" and metrics["steps"] == 40 and metrics["seed"] == 3
    history = metrics["history"]
    assert history["val_step"] == [10, 20, 30, 40] and len(history["val_loss"]) == 4
    assert history["train_step"] == list(range(1, 41))  # eval every 10: log every step
    assert len(history["train_loss"]) == 40
    assert history["val_loss"][-1] == metrics["val_loss"]
    # from about ln(83) = 4.42 at the start, the loss must fall
    assert history["val_loss"][-1] < history["val_loss"][0] < math.log(83) + 0.05
    assert np.mean(history["train_loss"][-10:]) < np.mean(history["train_loss"][:10])
    assert metrics["recipe"]["n_embd"] == 16 and metrics["parameters"] > 0
    png = (out / "loss.png").read_bytes()
    assert png[:8] == PNG_SIGNATURE and len(png) > 2000
    samples = (out / "samples.txt").read_text()
    assert "ROMEO:" in samples and "JULIET:" in samples
    model, tokenizer, kind = load_language_model(out)
    assert kind == "gpt" and tokenizer.vocab_size == 83 and model.block_size == 16
    _, metadata = serialization.load_with_metadata(out / "model.safetensors")
    assert metadata["format"] == MODEL_FORMAT
    assert json.loads(metadata["vocabulary"]) == tokenizer.chars
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_lr_schedule_warms_up_then_follows_a_cosine():
    recipe = lm.RECIPES["gpt"].with_overrides(steps=1000, warmup_steps=100, lr=1e-3,
                                              min_lr=1e-4)
    assert lm.lr_at(0, recipe) == pytest.approx(1e-3 / 101)
    assert lm.lr_at(99, recipe) == pytest.approx(1e-3 * 100 / 101)
    assert lm.lr_at(100, recipe) == pytest.approx(1e-3)
    assert lm.lr_at(550, recipe) == pytest.approx(1e-4 + 0.5 * 9e-4)  # halfway: the mean
    last = 1e-4 + 0.5 * (1 + math.cos(math.pi * 899 / 900)) * 9e-4
    assert lm.lr_at(999, recipe) == pytest.approx(last) and last - 1e-4 < 3e-9
    assert lm.lr_at(1000, recipe) == 1e-4
    rates = [lm.lr_at(step, recipe) for step in range(100, 1000)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_weight_decay_skips_biases_and_norms():
    from abdou_torch.models import GPT, GPTConfig
    model = GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=4))
    decayed, plain = lm.parameter_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decayed["params"])
    # wte, wpe, c_attn, attn.c_proj, c_fc, mlp.c_proj, lm_head; 3 LayerNorms x 2 + 4 biases
    assert len(decayed["params"]) == 7 and len(plain["params"]) == 10


def _finished_weights(out):
    return serialization.load(out / "model.safetensors")


def _assert_same_weights(actual, expected):
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        assert np.array_equal(actual[name].numpy(), value.numpy()), name


def test_stop_and_resume_in_process_is_bit_identical(tmp_path):
    """Dropout draws from the default generator and batches from the run's own generator:
    both come back from the checkpoint, with the model and AdamW's moments."""
    reference = lm.LanguageModelRun(TINY_RECIPE, tmp_path / "a", seed=1, progress=False,
                                    log=lambda _: None)
    expected_metrics = reference.fit()
    stopped = lm.LanguageModelRun(TINY_RECIPE, tmp_path / "b", seed=1, progress=False,
                                  log=lambda _: None)
    step = stopped.train_step

    def stop_after_17():
        loss = step()
        if stopped.state["step"] == 17:
            stopped.stop.request()  # as Ctrl-C would
        return loss

    stopped.train_step = stop_after_17
    with pytest.raises(lm.Interrupted):
        stopped.fit()
    saved = load_training_checkpoint(tmp_path / "b" / "checkpoint.safetensors",
                                     lm.PROGRESS_FIELDS)
    assert saved["progress"]["step"] == 17 and saved["progress"]["eval_steps"] == [10]
    assert saved["progress"]["train_steps"] == list(range(1, 18))
    resumed = lm.LanguageModelRun(TINY_RECIPE, tmp_path / "b", seed=1, progress=False,
                                  log=lambda _: None)
    resumed.resume()
    metrics = resumed.fit()
    _assert_same_weights(_finished_weights(tmp_path / "b"), _finished_weights(tmp_path / "a"))
    assert metrics["history"] == expected_metrics["history"]
    assert (tmp_path / "b" / "samples.txt").read_text() == \
        (tmp_path / "a" / "samples.txt").read_text()


def _wait_for_checkpoint(process, checkpoint, at_least):
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail("the training run ended before it could be stopped")
        if checkpoint.exists():
            try:
                if load_training_checkpoint(checkpoint, lm.PROGRESS_FIELDS)["progress"]["step"] \
                        >= at_least:
                    return
            except ValueError:  # being replaced right now
                pass
        time.sleep(0.02)
    pytest.fail("no checkpoint appeared in time")


STOP_OPTIONS = ("--steps", "300", "--seed", "4", "--checkpoint-every", "5", "--dropout", "0.1",
                "--sample-tokens", "0")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    reference = tmp_path_factory.mktemp("uninterrupted")
    subprocess.run(_train_command(reference, *STOP_OPTIONS), check=True, capture_output=True,
                   env=_environment())
    return reference


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_command_line_stop_then_resume_is_bit_identical(tmp_path, uninterrupted, stop):
    options, reference = STOP_OPTIONS, uninterrupted
    out = tmp_path / "stopped"
    process = subprocess.Popen(_train_command(out, *options), env=_environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_checkpoint(process, out / "checkpoint.safetensors", 20)
    process.send_signal(getattr(signal, stop))
    _, stderr = process.communicate(timeout=120)
    if stop != "SIGKILL":
        assert process.returncode == 128 + getattr(signal, stop), stderr
        assert f"interrupted by {stop}: checkpoint saved to" in stderr and "--resume" in stderr
    assert not (out / "model.safetensors").exists()
    finished = subprocess.run(_train_command(out, *options, "--resume"), capture_output=True,
                              text=True, env=_environment())
    assert finished.returncode == 0, finished.stderr
    assert "resuming from" in finished.stdout
    _assert_same_weights(_finished_weights(out), _finished_weights(reference))
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert history == json.loads((reference / "metrics.json").read_text())["history"]


def test_an_unfinished_run_is_not_replaced(tmp_path, capsys):
    run = lm.LanguageModelRun(TINY_RECIPE, tmp_path, seed=1, progress=False)
    run.save_checkpoint()  # a run stopped at step 0 of 30
    code = main(["train", "shakespeare", "--out", str(tmp_path), *TINY, "--steps", "30"])
    assert code == 2
    err = capsys.readouterr().err
    assert "holds an unfinished run (step 0 of 30): pass --overwrite" in err
    assert err.count("\n") == 1 and not (tmp_path / "model.safetensors").exists()


def test_a_diverging_run_stops_before_saving(tmp_path, capsys):
    code = main(["train", "shakespeare", "--out", str(tmp_path), *TINY, "--steps", "30",
                 "--lr", "1e9", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "training diverged" in err and "lower --lr" in err
    assert not (tmp_path / "model.safetensors").exists()


def test_resume_with_another_seed_is_refused(tmp_path):
    run = lm.LanguageModelRun(TINY_RECIPE, tmp_path, seed=1, progress=False)
    tmp_path.mkdir(exist_ok=True)
    run.save_checkpoint()
    other = lm.LanguageModelRun(TINY_RECIPE, tmp_path, seed=2, progress=False)
    with pytest.raises(ValueError, match="made with another recipe or seed"):
        other.resume()
    missing = lm.LanguageModelRun(TINY_RECIPE, tmp_path / "empty", seed=1, progress=False)
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint at"):
        missing.resume()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "3"], "--epochs does not apply to shakespeare; use --steps"),
    (["--model", "cnn"], "no recipe for --model cnn on shakespeare; available: gpt, lstm"),
    (["--width", "30", "--heads", "4"], "n_embd 30 is not a multiple of n_head 4"),
    (["--steps", "0"], "--steps must be positive, got 0"),
])
def test_bad_options_are_refused_before_training(tmp_path, capsys, argv, message):
    code = main(["train", "shakespeare", "--out", str(tmp_path / "run"), *argv])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_mnist_recipes_refuse_language_models(capsys):
    assert main(["train", "blobs", "--model", "gpt", "--no-progress"]) == 2
    assert "no recipe for --model gpt on blobs" in capsys.readouterr().err


def test_lstm_recipe_trains_and_samples(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "abdou_torch", "train", "shakespeare", "--model", "lstm",
         "--layers", "1", "--width", "16", "--block-size", "16", "--batch-size", "4",
         "--steps", "30", "--eval-every", "10", "--eval-windows", "32", "--sample-tokens", "20",
         "--no-progress", "--out", str(tmp_path)], capture_output=True, text=True,
        env=_environment())
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == "lstm"
    assert metrics["history"]["val_loss"][-1] < metrics["history"]["val_loss"][0]
    model, _, kind = load_language_model(tmp_path)
    assert kind == "lstm" and "lstm.weight_ih_l0" in dict(model.named_parameters())
