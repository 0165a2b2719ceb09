"""``abdou-torch train`` compiles the gradient step by default (mlp, cnn, gpt, lstm): the runs
are the eager ones bit for bit; ``--no-compile`` runs it eagerly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from abdou_torch.training import language_model as lm
from abdou_torch.training.compiled_step import COMPILED_MODELS
from abdou_torch.training.recipes import recipe_for
from abdou_torch.training.trainer import TrainingRun


def _weights(model):
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}


def test_a_compiled_mlp_run_equals_the_eager_run_bit_for_bit(tmp_path):
    recipe = recipe_for("blobs", "mlp").with_overrides(epochs=6, batch_size=64)
    runs, metrics = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the compiled step replays: no fallback warning
        for compiled in (True, False):
            run = TrainingRun(recipe, tmp_path / str(compiled), seed=2, progress=False,
                              log=lambda _: None, compile=compiled)
            metrics.append(run.fit())
            runs.append(run)
    assert "mlp" in COMPILED_MODELS and runs[0].compile and not runs[1].compile
    assert "def replay" in runs[0]._gradient_step().code  # the step was replayed
    assert metrics[0]["test_accuracy"] == metrics[1]["test_accuracy"]
    assert runs[0].state["train_loss"] == runs[1].state["train_loss"]
    eager = _weights(runs[1].model)
    for name, value in _weights(runs[0].model).items():
        assert value.tobytes() == eager[name].tobytes(), name


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_a_compiled_language_model_run_equals_the_eager_run_bit_for_bit(tmp_path, model):
    """The GPT, and the LSTM over 20 characters (past 16 steps its compiled step once failed
    the verification and ran eagerly, with a warning: an error here)."""
    recipe = lm.RECIPES[model].with_overrides(
        steps=12, n_layer=2 if model == "lstm" else 1, n_head=2, n_embd=16,
        block_size=20 if model == "lstm" else 16, batch_size=4, eval_every=6,
        eval_windows=16, sample_tokens=10, dropout=0.1)
    assert model in COMPILED_MODELS
    states = []
    for compiled in (True, False):
        run = lm.LanguageModelRun(recipe, tmp_path / str(compiled), seed=1, progress=False,
                                  log=lambda _: None, compile=compiled)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            run.fit()
        states.append((run.state["train_loss"], run.state["val_loss"], _weights(run.model)))
    assert states[0][0] == states[1][0] and states[0][1] == states[1][1]
    for name, value in states[0][2].items():
        assert np.array_equal(value, states[1][2][name]), name
