"""Training checkpoints: everything a run needs to continue exactly where it stopped.

One safetensors file holds the arrays as tensors (``model.<name>``,
``optimizer.state.<index>.<name>``) and the rest as JSON strings in its metadata: the
optimizer's hyperparameters, the scheduler, the data loader's position, the random
generators' states and the progress and metrics so far. Loading never runs code; saving
is atomic (see :mod:`abdou_torch.serialization`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import serialization
from ..tensor import Tensor
from . import json_io

__all__ = ["CHECKPOINT_FORMAT", "CheckpointError", "save_training_checkpoint",
           "load_training_checkpoint", "check_progress", "describe_unfinished"]

CHECKPOINT_FORMAT = "abdou_torch/training-checkpoint/1"
_JSON_FIELDS = ("optimizer", "scheduler", "loader", "rng", "progress")

#: the progress fields a checkpoint must hold, with the types they must have
PROGRESS_FIELDS: dict[str, tuple[type, ...]] = {
    "epoch": (int,), "step": (int,), "epoch_loss_sum": (int, float), "epoch_batches": (int,),
    "seconds": (int, float), "train_loss": (list,), "test_accuracy": (list,)}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, from another version, or edited by hand.
    The message names the file and says what to do."""


def _optimizer_tensors(optimizer_state: dict[str, Any]) -> tuple[dict, dict]:
    """Split an optimizer state dict into tensors and a JSON-ready remainder."""
    tensors, plain = {}, {}
    for index, values in optimizer_state["state"].items():
        plain[str(index)] = {}
        for name, value in values.items():
            if isinstance(value, (Tensor, np.ndarray)):
                tensors[f"optimizer.state.{index}.{name}"] = value
            else:
                plain[str(index)][name] = value
    return tensors, {"param_groups": optimizer_state["param_groups"], "plain_state": plain}


def save_training_checkpoint(path: str | os.PathLike, *, model_state: dict, optimizer_state: dict,
                             scheduler_state: dict | None, loader_state: dict,
                             rng_state: dict, progress: dict) -> None:
    """Write one training checkpoint atomically to ``path``."""
    tensors = {f"model.{name}": value for name, value in model_state.items()}
    optimizer_tensors, optimizer_json = _optimizer_tensors(optimizer_state)
    tensors.update(optimizer_tensors)
    fields = {"optimizer": optimizer_json, "scheduler": scheduler_state,
              "loader": loader_state, "rng": rng_state, "progress": progress}
    metadata = {"format": CHECKPOINT_FORMAT}
    # Strict JSON: non-finite floats (a scheduler's best = inf) are tagged, never bare NaN.
    metadata.update({name: json_io.dumps(value, nonfinite="tag")
                     for name, value in fields.items()})
    serialization.save(tensors, path, metadata=metadata)


def load_training_checkpoint(path: str | os.PathLike,
                             progress_fields: dict[str, tuple[type, ...]] | None = None
                             ) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_training_checkpoint`.

    Returns ``model_state``, ``optimizer_state``, ``scheduler_state``, ``loader_state``,
    ``rng_state`` and ``progress``, whose fields must have the types of
    ``progress_fields`` (default: :data:`PROGRESS_FIELDS`, those of ``TrainingRun``).
    Anything malformed is a ValueError naming the file.
    """
    try:
        tensors, metadata = serialization.load_with_metadata(path)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not a training checkpoint of this version of abdou_torch (metadata "
            f"format is {metadata.get('format')!r}, expected {CHECKPOINT_FORMAT!r})")
    fields = {}
    for name in _JSON_FIELDS:
        try:
            fields[name] = json_io.loads(metadata[name])
        except (KeyError, json.JSONDecodeError) as error:
            raise CheckpointError(f"{path}: checkpoint metadata field {name!r} is missing or "
                                  f"not valid JSON ({error})") from None
    check_progress(path, fields["progress"], progress_fields)
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return {"model_state": model_state,
            "optimizer_state": _optimizer_state(path, tensors, fields["optimizer"]),
            "scheduler_state": fields["scheduler"], "loader_state": fields["loader"],
            "rng_state": fields["rng"], "progress": fields["progress"]}


def _optimizer_state(path: Any, tensors: dict, saved: Any) -> dict[str, Any]:
    if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) \
            or not isinstance(saved.get("plain_state"), dict):
        raise CheckpointError(f"{path}: checkpoint optimizer metadata is malformed")
    state: dict[int, dict[str, Any]] = {}
    for index, values in saved["plain_state"].items():
        if not index.isdigit() or not isinstance(values, dict):
            raise CheckpointError(f"{path}: malformed optimizer state entry {index!r}")
        state[int(index)] = dict(values)
    for key, value in tensors.items():
        if key.startswith("optimizer.state."):
            index, _, name = key[len("optimizer.state."):].partition(".")
            if not index.isdigit() or not name:
                raise CheckpointError(f"{path}: malformed optimizer tensor name {key!r}")
            state.setdefault(int(index), {})[name] = value
    groups = []
    for group in saved["param_groups"]:
        if not isinstance(group, dict):
            raise CheckpointError(f"{path}: malformed optimizer parameter group {group!r}")
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}


def check_progress(path: Any, progress: Any,
                   fields: dict[str, tuple[type, ...]] | None = None) -> None:
    """Raise :class:`CheckpointError` unless ``progress`` has every field of ``fields``
    (default :data:`PROGRESS_FIELDS`), well typed."""
    if not isinstance(progress, dict):
        raise CheckpointError(f"{path}: checkpoint progress is not a JSON object")
    for name, types in (PROGRESS_FIELDS if fields is None else fields).items():
        if name not in progress:
            raise CheckpointError(f"{path}: checkpoint progress has no {name!r} field")
        value = progress[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise CheckpointError(f"{path}: checkpoint progress field {name!r} is "
                                  f"{value!r}, expected {' or '.join(t.__name__ for t in types)}")
        if isinstance(value, int) and value < 0:
            raise CheckpointError(f"{path}: checkpoint progress field {name!r} is negative")


def describe_unfinished(path: str | os.PathLike) -> str | None:
    """``"epoch 2 of 5, step 130"`` when the checkpoint at ``path`` belongs to a run that has
    epochs left, None when that run finished. Raises CheckpointError when it is unreadable."""
    progress = load_training_checkpoint(Path(path))["progress"]
    epochs = progress.get("recipe", {}).get("epochs") if isinstance(
        progress.get("recipe"), dict) else None
    if isinstance(epochs, int) and progress["epoch"] >= epochs:
        return None
    total = f" of {epochs}" if isinstance(epochs, int) else ""
    return f"epoch {progress['epoch'] + 1}{total}, step {progress['step']}"
