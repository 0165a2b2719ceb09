"""Character language models on Shakespeare: ``abdou-torch train shakespeare [--model lstm]``.

Each step draws ``batch_size`` random windows of ``block_size`` characters from the
training split and minimises the mean cross-entropy of every next character,

    loss = -1/(B T) sum_{b,t} log softmax(model(x)_{b,t})[y_{b,t}],

with AdamW (weight decay on matrices and embeddings only, not on biases and LayerNorm
gains), gradients clipped to a global norm of ``grad_clip``, and a learning rate that rises
linearly for ``warmup_steps`` and then follows a cosine from ``lr`` down to ``min_lr`` at the
last step. Every ``eval_every`` steps (and at the end) the validation loss is measured on a
fixed set of ``eval_windows`` validation windows, the same for every run and seed, so runs
compare without sampling noise. The run writes ``metrics.json``, ``loss.png`` (train and
validation curves), ``samples.txt`` and ``model.safetensors`` (weights, model shape and
vocabulary: what ``abdou-torch sample`` needs), and with ``--checkpoint-every`` a checkpoint
that ``--resume`` continues bit for bit.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..nn import Module
from ..nn import functional as F
from ..optim import AdamW
from ..tensor import Tensor
from . import nan_guard, run_dir
from .checkpoint import load_training_checkpoint, save_training_checkpoint
from .lm_files import build_language_model, save_language_model
from .signals import DeferredStop, Interrupted
from .compiled_step import COMPILED_MODELS, gradient_step

__all__ = ["LanguageModelRecipe", "RECIPES", "LM_DATASETS", "LM_MODELS", "LanguageModelRun",
           "lr_at", "evaluation_windows", "add_language_model_arguments", "train_from_args"]

LM_DATASETS = ("shakespeare",)
LM_MODELS = ("gpt", "lstm")
#: the seed of the fixed validation windows every run is measured on
EVAL_SEED = 1234
SAMPLE_PROMPTS = ("ROMEO:", "JULIET:", "\n")
#: what a language model's checkpoint progress holds (checked on loading)
PROGRESS_FIELDS: dict[str, tuple[type, ...]] = {
    "step": (int,), "seconds": (int, float), "cpu_seconds": (int, float),
    "window_loss_sum": (int, float), "window_steps": (int,), "train_steps": (list,),
    "train_loss": (list,), "eval_steps": (list,), "val_loss": (list,)}


@dataclass(frozen=True)
class LanguageModelRecipe:
    """How to train one character model. ``n_layer``/``n_embd`` are the GPT's blocks and
    width, or the LSTM's layers and hidden size (the LSTM embeds characters in
    min(64, n_embd) dimensions, as char-rnn does)."""

    model: str
    steps: int
    batch_size: int = 12
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every: int = 500
    eval_windows: int = 1024
    sample_tokens: int = 500

    def with_overrides(self, **overrides: Any) -> "LanguageModelRecipe":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def model_config(self, vocab_size: int) -> dict[str, Any]:
        if self.model == "gpt":
            return dict(vocab_size=vocab_size, block_size=self.block_size,
                        n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd,
                        dropout=self.dropout)
        return dict(vocab_size=vocab_size, block_size=self.block_size,
                    n_embd=min(64, self.n_embd), hidden_size=self.n_embd,
                    num_layers=self.n_layer, dropout=self.dropout)


RECIPES = {
    "gpt": LanguageModelRecipe("gpt", steps=3000),
    "lstm": LanguageModelRecipe("lstm", steps=2000, batch_size=32, n_layer=2, n_embd=256,
                                lr=2e-3, min_lr=2e-4, weight_decay=0.0),
}


def lr_at(step: int, recipe: LanguageModelRecipe) -> float:
    """The learning rate of step ``step`` (0-based): linear warm-up from lr/(w+1) to lr over
    the first w = warmup_steps steps, then min_lr + (lr - min_lr)(1 + cos(pi r))/2 with r
    going from 0 to 1 over the remaining steps (nanoGPT's schedule)."""
    warmup, total = recipe.warmup_steps, recipe.steps
    if step < warmup:
        return recipe.lr * (step + 1) / (warmup + 1)
    if step >= total:
        return recipe.min_lr
    progress = (step - warmup) / max(total - warmup, 1)
    return recipe.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (recipe.lr - recipe.min_lr)


def evaluation_windows(dataset: Any, count: int) -> tuple[Tensor, Tensor]:
    """The fixed validation windows: ``count`` windows drawn with a generator seeded with
    EVAL_SEED, the same in every run and library."""
    return dataset.get_batch(count, _random.Generator(EVAL_SEED))


def _clock() -> tuple[float, float]:
    """(wall-clock, this process's CPU) seconds: on a busy machine the two part ways."""
    return time.perf_counter(), time.process_time()


def parameter_groups(model: Module, weight_decay: float) -> list[dict[str, Any]]:
    """Decay matrices and embeddings (2 dims or more); leave biases and norms alone."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def next_token_loss(model: Module, x: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy of the model's predictions for every position of ``x``."""
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


class LanguageModelRun:
    """One training run of a character model on Shakespeare, writing into ``out_dir``."""

    def __init__(self, recipe: LanguageModelRecipe, out_dir: str | os.PathLike, seed: int = 0,
                 checkpoint_every: int = 0, progress: bool = True,
                 log: Callable[[str], None] = print, data_root: str | None = None,
                 compile: bool = True) -> None:  # noqa: A002 - the CLI's --no-compile
        from ..data import Shakespeare
        self.recipe, self.seed, self.checkpoint_every = recipe, seed, checkpoint_every
        self.out_dir, self.progress, self.log = Path(out_dir), progress, log
        self.checkpoint_path = self.out_dir / "checkpoint.safetensors"
        started = time.perf_counter()
        self.train_data = Shakespeare(data_root, "train", recipe.block_size)
        self.val_data = Shakespeare(data_root, "val", recipe.block_size)
        self.tokenizer = self.train_data.tokenizer
        self.eval_x, self.eval_y = evaluation_windows(self.val_data, recipe.eval_windows)
        self.load_seconds = time.perf_counter() - started
        _random.manual_seed(seed)
        self.model = build_language_model(recipe.model,
                                          recipe.model_config(self.tokenizer.vocab_size))
        self.optimizer = AdamW(parameter_groups(self.model, recipe.weight_decay), lr=recipe.lr,
                               betas=(recipe.beta1, recipe.beta2))
        self.batches = _random.Generator(seed)
        self.gradient_step = gradient_step(
            lambda x, y: next_token_loss(self.model, x, y), self.optimizer,
            compile and recipe.model in COMPILED_MODELS,
            clip=(list(self.model.parameters()), recipe.grad_clip))
        self.stop = DeferredStop()
        # the training loss is logged as its mean over every log_every steps
        self.log_every = max(1, recipe.eval_every // 10)
        self.state: dict[str, Any] = {"step": 0, "seconds": 0.0, "cpu_seconds": 0.0,
                                      "window_loss_sum": 0.0, "window_steps": 0,
                                      "train_steps": [], "train_loss": [],
                                      "eval_steps": [], "val_loss": []}

    # -- checkpoints ---------------------------------------------------------------------
    def _fingerprint(self) -> dict[str, Any]:
        return {"recipe": asdict(self.recipe), "seed": self.seed}

    def save_checkpoint(self) -> None:
        model_state = self.model.state_dict()
        nan_guard.check_state(model_state, "parameter", step=self.state["step"])
        save_training_checkpoint(
            self.checkpoint_path, model_state=model_state,
            optimizer_state=self.optimizer.state_dict(), scheduler_state=None,
            loader_state=self.batches.get_state(), rng_state=_random.get_rng_state(),
            progress=dict(self.state, **self._fingerprint()))

    def resume(self) -> None:
        """Continue from ``out_dir/checkpoint.safetensors``."""
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        saved = load_training_checkpoint(self.checkpoint_path, PROGRESS_FIELDS)
        progress = saved["progress"]
        made_with = {key: progress.get(key) for key in ("recipe", "seed")}
        if made_with != self._fingerprint():
            raise ValueError(f"{self.checkpoint_path}: the checkpoint was made with another "
                             f"recipe or seed ({made_with}); resume with the same options")
        self.model.load_state_dict(saved["model_state"])
        self.optimizer.load_state_dict(saved["optimizer_state"])
        self.batches.set_state(saved["loader_state"])
        _random.set_rng_state(saved["rng_state"])
        self.state = {key: progress[key] for key in self.state}
        self.log(f"resuming from {self.checkpoint_path}: step {self.state['step']}")

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to the last step, then write the model, samples, metrics and plot.

        SIGINT or SIGTERM: checkpoint, then :class:`Interrupted` (a second signal stops at
        once). A non-finite loss: :class:`~.nan_guard.NonFiniteError`, nothing saved."""
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise run_dir.write_error(self.out_dir, error, "create the directory") from None
        with self.stop:
            self._train()
        return self._finish()

    def _train(self) -> None:
        from tqdm import tqdm
        recipe, state = self.recipe, self.state
        bar = tqdm(total=recipe.steps, initial=state["step"], unit="step", leave=True,
                   disable=not self.progress, dynamic_ncols=True, file=sys.stderr)
        started = _clock()
        self.model.train()
        while state["step"] < recipe.steps:
            self.train_step()
            bar.update(1)
            last = state["step"] == recipe.steps
            if state["step"] % self.log_every == 0 or last:
                self._record_train_loss()
                bar.set_postfix(self._postfix())
            if state["step"] % recipe.eval_every == 0 or last:
                state["val_loss"].append(self.evaluate())
                state["eval_steps"].append(state["step"])
                bar.set_postfix(self._postfix())
            stopping = self.stop.requested
            if stopping or (self.checkpoint_every and state["step"] % self.checkpoint_every == 0):
                started = self._checkpoint(started)
            if stopping:
                bar.close()
                raise Interrupted(self.stop.signum or signal.SIGINT)
        self._count_time(started)
        bar.close()

    def train_step(self) -> float:
        """One optimisation step on a fresh random batch; returns its loss."""
        recipe, state = self.recipe, self.state
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(state["step"], recipe)
        x, y = self.train_data.get_batch(recipe.batch_size, self.batches)
        value = self.gradient_step(x, y).item()
        if not math.isfinite(value):  # before the update: the weights stay the last good ones
            raise nan_guard.NonFiniteError(f"the loss became {value} at step "
                                           f"{state['step'] + 1}: training diverged")
        self.optimizer.step()
        state["step"] += 1
        state["window_loss_sum"] += value
        state["window_steps"] += 1
        return value

    def _record_train_loss(self) -> None:
        state = self.state
        state["train_loss"].append(state["window_loss_sum"] / state["window_steps"])
        state["train_steps"].append(state["step"])
        state["window_loss_sum"], state["window_steps"] = 0.0, 0

    def _postfix(self) -> dict[str, str]:
        postfix = {"loss": f"{self.state['train_loss'][-1]:.3f}"}
        if self.state["val_loss"]:
            postfix["val"] = f"{self.state['val_loss'][-1]:.3f}"
        return postfix

    def _count_time(self, started: tuple[float, float]) -> None:
        """Add the wall-clock and CPU time since ``started`` (from :func:`_clock`)."""
        wall, cpu = _clock()
        self.state["seconds"] += wall - started[0]
        self.state["cpu_seconds"] += cpu - started[1]

    def _checkpoint(self, started: tuple[float, float]) -> tuple[float, float]:
        """Count the time since ``started`` and save; returns the new start time."""
        self._count_time(started)
        self.save_checkpoint()
        return _clock()

    def evaluate(self, chunk: int = 128) -> float:
        """Mean next-character loss on the fixed validation windows (eval mode, no graph)."""
        self.model.eval()
        total = 0.0
        with no_grad():
            for start in range(0, len(self.eval_x), chunk):
                x, y = self.eval_x[start:start + chunk], self.eval_y[start:start + chunk]
                total += next_token_loss(self.model, x, y).item() * len(x)
        self.model.train()
        return total / len(self.eval_x)

    # -- results -------------------------------------------------------------------------
    def samples(self) -> str:
        from .sampling import sample_text
        texts = [sample_text(self.model, self.tokenizer, prompt, self.recipe.sample_tokens,
                             temperature=0.8, top_k=40, seed=self.seed + number)
                 for number, prompt in enumerate(SAMPLE_PROMPTS)]
        self.model.train()
        header = "temperature 0.8, top-k 40; prompts {}\n\n".format(
            ", ".join(repr(p) for p in SAMPLE_PROMPTS))
        return header + "\n\n----------\n\n".join(texts) + "\n"

    def _finish(self) -> dict[str, Any]:
        from . import plots
        state, recipe = self.state, self.recipe
        nan_guard.check_state(self.model.state_dict(), "parameter", step=state["step"])
        try:
            save_language_model(self.out_dir / "model.safetensors", self.model, recipe.model,
                                self.tokenizer)
        except OSError as error:
            raise run_dir.write_error(self.out_dir / "model.safetensors", error) from None
        run_dir.write_text(self.out_dir / "samples.txt", self.samples())
        metrics = {"dataset": "shakespeare", "model": recipe.model,
                   "val_loss": state["val_loss"][-1], "steps": state["step"],
                   "seconds": round(state["seconds"], 3),
                   "cpu_seconds": round(state["cpu_seconds"], 3),
                   "data_load_seconds": round(self.load_seconds, 3), "seed": self.seed,
                   "parameters": sum(p.numel() for p in self.model.parameters()),
                   "recipe": asdict(recipe),
                   "history": {"train_step": state["train_steps"],
                               "train_loss": state["train_loss"],
                               "val_step": state["eval_steps"], "val_loss": state["val_loss"]}}
        run_dir.write_json(self.out_dir / "metrics.json", metrics)
        plots.plot_losses(state["train_steps"], state["train_loss"], state["eval_steps"],
                          state["val_loss"], self.out_dir / "loss.png")
        return metrics


# -- the command line ----------------------------------------------------------------------

def add_language_model_arguments(train: argparse.ArgumentParser) -> None:
    """The ``train`` options that only language models have."""
    group = train.add_argument_group(
        "language models (shakespeare)", "--epochs and --subset do not apply; --threads "
        "defaults to 1")
    group.add_argument("--steps", type=int, help="optimisation steps (default: the recipe's)")
    group.add_argument("--block-size", type=int, help="characters of context")
    group.add_argument("--layers", type=int, help="Transformer blocks or LSTM layers")
    group.add_argument("--heads", type=int, help="attention heads (GPT)")
    group.add_argument("--width", type=int, help="embedding width (GPT) or hidden size (LSTM)")
    group.add_argument("--dropout", type=float)
    group.add_argument("--eval-every", type=int, metavar="N",
                       help="measure the validation loss every N steps")
    group.add_argument("--eval-windows", type=int, metavar="N",
                       help="validation windows per measurement")
    group.add_argument("--sample-tokens", type=int, metavar="N",
                       help="characters per sample in samples.txt")


def recipe_from_args(args: argparse.Namespace) -> LanguageModelRecipe:
    """The recipe for ``args.model`` (default gpt) with the command line's overrides;
    ValueError for an option that does not apply or is out of range."""
    model = args.model or "gpt"
    if model not in LM_MODELS:
        raise ValueError(f"no recipe for --model {model} on {args.dataset}; available: "
                         f"{', '.join(LM_MODELS)}")
    for option in ("epochs", "subset"):
        if getattr(args, option, None) is not None:
            raise ValueError(f"--{option} does not apply to {args.dataset}; use --steps")
    recipe = RECIPES[model].with_overrides(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, block_size=args.block_size, n_layer=args.layers,
        n_head=args.heads, n_embd=args.width, dropout=args.dropout, eval_every=args.eval_every,
        eval_windows=args.eval_windows, sample_tokens=args.sample_tokens)
    for name in ("steps", "block_size", "n_layer", "n_head", "n_embd", "eval_every",
                 "eval_windows"):
        if getattr(recipe, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got "
                             f"{getattr(recipe, name)}")
    if recipe.sample_tokens < 0:
        raise ValueError(f"--sample-tokens must be non-negative, got {recipe.sample_tokens}")
    recipe.model_config(1)  # shape errors (width not a multiple of heads...) before loading
    build_language_model(recipe.model, recipe.model_config(1))
    return recipe


def describe_unfinished(path: str | os.PathLike) -> str | None:
    """``"step 1700 of 3000"`` when the checkpoint at ``path`` belongs to a language-model
    run with steps left, None when it finished (a CheckpointError when unreadable)."""
    progress = load_training_checkpoint(path, PROGRESS_FIELDS)["progress"]
    steps = progress.get("recipe", {}).get("steps") if isinstance(
        progress.get("recipe"), dict) else None
    if isinstance(steps, int) and progress["step"] >= steps:
        return None
    return f"step {progress['step']}" + (f" of {steps}" if isinstance(steps, int) else "")


def train_from_args(args: argparse.Namespace, resume_command: str) -> int:
    """``abdou-torch train shakespeare``, with the safety of the other recipes: a locked
    run directory that an unfinished run is not replaced in, Ctrl-C or SIGTERM saving a
    checkpoint (exit 128 + N), a diverging run stopped before it saves anything (exit 1)
    (``outcome.fit``)."""
    from .outcome import fit
    from .run_dir import RunDirectory, refuse_to_replace
    recipe = recipe_from_args(args)
    if getattr(args, "nproc", 1) > 1:
        raise ValueError(f"--nproc does not apply to {args.dataset}: it trains in one process")
    out = args.out or os.path.join("runs", f"{args.dataset}-{recipe.model}")
    with RunDirectory(out):
        refuse_to_replace(os.path.join(out, "checkpoint.safetensors"), describe_unfinished,
                          resume=args.resume, overwrite=args.overwrite,
                          resume_command=resume_command)
        _limit_blas_threads(args.threads)
        run = LanguageModelRun(recipe, out, seed=args.seed,
                               checkpoint_every=args.checkpoint_every,
                               progress=not args.no_progress,
                               compile=not getattr(args, "no_compile", False))
        if args.resume:
            run.resume()
        print(f"training {recipe.model} on {args.dataset}: {recipe.steps} steps, batch "
              f"{recipe.batch_size} x {recipe.block_size} characters, lr {recipe.lr}, seed "
              f"{args.seed} -> {out}", flush=True)
        metrics, status = fit(run, resume_command)
        if metrics is None:
            return status
    print(f"validation loss: {metrics['val_loss']:.4f} nats per character")
    print(f"trained in {metrics['seconds']:.1f} s ({metrics['cpu_seconds']:.1f} s of CPU); "
          f"metrics, loss.png, samples.txt and model.safetensors in {out}; try: "
          f"abdou-torch sample {out} --prompt \"ROMEO:\"")
    return 0


def _limit_blas_threads(threads: int | None) -> Any:
    """One BLAS thread unless asked: these matrices are small, and spinning threads on a
    busy machine slow every product down."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional dependency (the 'train' extra); run unlimited
        return None
    return threadpool_limits(limits=threads or 1, user_api="blas")
