"""Text generation from a trained character model, and ``abdou-torch sample DIR``.

Each new character is drawn from the model's distribution for the next position,

    p = softmax(logits / temperature)   restricted to the top_k largest logits,

given the last ``block_size`` characters (the prompt, then what was generated). A lower
temperature sharpens the distribution, ``top_k`` cuts its tail; draws come from a seeded
generator, so the same seed gives the same text.
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..factories import rand
from ..nn import Module
from ..tensor import Tensor

__all__ = ["generate", "check_sampling_options", "add_sample_command", "run_sample"]


def check_sampling_options(tokens: int, temperature: float, top_k: int | None) -> None:
    """ValueError naming the first option out of range."""
    if isinstance(tokens, bool) or not isinstance(tokens, (int, np.integer)) or tokens < 0:
        raise ValueError(f"--tokens must be a non-negative integer, got {tokens!r}")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"--temperature must be a positive finite number, got {temperature!r} "
                         f"(for the most likely character each time, use --top-k 1)")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k <= 0):
        raise ValueError(f"--top-k must be a positive integer, got {top_k!r}")


def _draw(logits: np.ndarray, temperature: float, top_k: int | None,
          generator: _random.Generator | None) -> int:
    """One index drawn from softmax(logits / temperature) over the top_k logits."""
    scaled = logits.astype(np.float64) / temperature
    if top_k is not None and top_k < scaled.size:
        kth_largest = np.partition(scaled, -top_k)[-top_k]
        scaled[scaled < kth_largest] = -np.inf
    weights = np.exp(scaled - scaled.max())
    cumulative = np.cumsum(weights)
    u = float(rand(1, generator=generator, dtype=np.float64).numpy()[0])
    # the first index whose cumulative weight exceeds u * total; zero weights are never hit
    index = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return min(index, scaled.size - 1)


def generate(model: Module, prompt_ids: Any, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None,
             generator: _random.Generator | None = None) -> Iterator[int]:
    """Yield ``max_new_tokens`` token ids, each drawn given the prompt and those before it
    (the last ``model.block_size`` of them). The model runs in eval mode, without a graph."""
    check_sampling_options(max_new_tokens, temperature, top_k)
    context = [int(i) for i in np.asarray(prompt_ids).reshape(-1)]
    if not context:
        raise ValueError("generate: the prompt is empty; give at least one token")
    model.eval()
    with no_grad():
        for _ in range(max_new_tokens):
            window = np.array([context[-model.block_size:]], dtype=np.int64)
            logits = model(Tensor(window)).numpy()[0, -1]
            next_id = _draw(logits, temperature, top_k, generator)
            context.append(next_id)
            yield next_id


def sample_text(model: Module, tokenizer: Any, prompt: str, tokens: int, temperature: float,
                top_k: int | None, seed: int, out: TextIO | None = None) -> str:
    """The prompt followed by ``tokens`` generated characters; when ``out`` is given, each
    character is written and flushed as soon as it is drawn."""
    prompt_ids = tokenizer.encode(prompt)
    pieces = [prompt]
    if out is not None:
        out.write(prompt)
        out.flush()
    for token in generate(model, prompt_ids, tokens, temperature, top_k,
                          _random.Generator(seed)):
        character = tokenizer.chars[token]
        pieces.append(character)
        if out is not None:
            out.write(character)
            out.flush()
    return "".join(pieces)


# -- the command line ------------------------------------------------------------------------

def add_sample_command(commands: Any) -> None:
    """Register ``sample`` on the command line's sub-parsers."""
    sample = commands.add_parser("sample", help="generate text from a trained character model")
    sample.add_argument("run_dir", metavar="DIR",
                        help="a run directory of `abdou-torch train shakespeare`")
    sample.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    sample.add_argument("--tokens", type=int, default=500, help="characters to generate")
    sample.add_argument("--temperature", type=float, default=0.8,
                        help="divide the logits by this (> 0; lower is more conservative)")
    sample.add_argument("--top-k", type=int, default=None,
                        help="draw only from the K most likely characters")
    sample.add_argument("--seed", type=int, default=0)


def run_sample(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``abdou-torch sample``: stream the prompt and its continuation to ``out`` (stdout)."""
    from .lm_files import load_language_model
    out = sys.stdout if out is None else out
    check_sampling_options(args.tokens, args.temperature, args.top_k)
    model, tokenizer, _ = load_language_model(args.run_dir)
    try:
        tokenizer.encode(args.prompt)
    except ValueError as error:
        raise ValueError(f"--prompt: {error}") from None
    if not args.prompt:
        raise ValueError("--prompt is empty; give at least one character")
    sample_text(model, tokenizer, args.prompt, args.tokens, args.temperature, args.top_k,
                args.seed, out)
    out.write("\n")
    out.flush()
    return 0
