"""A trained character model as one file: ``model.safetensors`` holds the weights and, in
its metadata, what sampling needs besides them: the model's kind and shape and the
characters of its vocabulary. Loading checks all three before building the model."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .. import serialization
from ..data.datasets.text import CharTokenizer
from ..nn import Module

__all__ = ["MODEL_FORMAT", "MODEL_FILE", "build_language_model", "save_language_model",
           "load_language_model"]

MODEL_FORMAT = "abdou_torch/char-language-model/1"
MODEL_FILE = "model.safetensors"
MODEL_KINDS = ("gpt", "lstm")


def build_language_model(kind: str, config: dict[str, Any]) -> Module:
    """A fresh ``GPT`` (kind ``"gpt"``) or ``CharLSTM`` (``"lstm"``) of the given shape."""
    from ..models import GPT, CharLSTM, CharLSTMConfig, GPTConfig
    if kind == "gpt":
        return GPT(GPTConfig(**config))
    if kind == "lstm":
        return CharLSTM(CharLSTMConfig(**config))
    raise ValueError(f"unknown language model kind {kind!r}; expected one of {MODEL_KINDS}")


def save_language_model(path: str | os.PathLike, model: Module, kind: str,
                        tokenizer: CharTokenizer) -> None:
    """Write the weights with the kind, shape and vocabulary in the metadata (atomically)."""
    metadata = {"format": MODEL_FORMAT, "kind": kind,
                "config": json.dumps(model.config.to_dict()),
                "vocabulary": json.dumps(tokenizer.chars)}
    serialization.save(model.state_dict(), path, metadata=metadata)


def load_language_model(run_dir: str | os.PathLike) -> tuple[Module, CharTokenizer, str]:
    """(model in eval mode, tokenizer, kind) from ``run_dir/model.safetensors`` (or from the
    file itself when ``run_dir`` is one). Errors name the file and what is wrong with it."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.exists():
        where = f"{run_dir} has no {MODEL_FILE}" if Path(run_dir).is_dir() \
            else f"{run_dir} does not exist"
        raise FileNotFoundError(f"{where}: train a model there first with "
                                f"`abdou-torch train shakespeare --out {run_dir}`")
    tensors, metadata = serialization.load_with_metadata(path)
    if metadata.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a character language model (metadata format is "
                         f"{metadata.get('format')!r}, expected {MODEL_FORMAT!r})")
    try:
        config = json.loads(metadata["config"])
        tokenizer = CharTokenizer(json.loads(metadata["vocabulary"]))
        model = build_language_model(metadata["kind"], config)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: malformed model metadata ({error})") from None
    if config.get("vocab_size") != tokenizer.vocab_size:
        raise ValueError(f"{path}: the model predicts {config.get('vocab_size')} tokens but "
                         f"the vocabulary has {tokenizer.vocab_size} characters")
    try:
        model.load_state_dict(tensors)
    except (KeyError, ValueError, RuntimeError) as error:
        problem = " ".join(str(error).split())  # one line: the message lists keys on several
        raise ValueError(f"{path}: the weights do not fit the model ({problem})") from None
    model.eval()
    return model, tokenizer, metadata["kind"]
