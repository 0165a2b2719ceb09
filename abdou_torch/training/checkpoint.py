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
from typing import Any

import numpy as np

from .. import serialization
from ..tensor import Tensor

__all__ = ["CHECKPOINT_FORMAT", "save_training_checkpoint", "load_training_checkpoint"]

CHECKPOINT_FORMAT = "abdou_torch/training-checkpoint/1"
_JSON_FIELDS = ("optimizer", "scheduler", "loader", "rng", "progress")


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
    metadata.update({name: json.dumps(value) for name, value in fields.items()})
    serialization.save(tensors, path, metadata=metadata)


def load_training_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_training_checkpoint`.

    Returns ``model_state``, ``optimizer_state``, ``scheduler_state``, ``loader_state``,
    ``rng_state`` and ``progress``. Anything malformed is a ValueError naming the file.
    """
    tensors, metadata = serialization.load_with_metadata(path)
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not an abdou_torch training checkpoint (metadata format is "
                         f"{metadata.get('format')!r}, expected {CHECKPOINT_FORMAT!r})")
    fields = {}
    for name in _JSON_FIELDS:
        try:
            fields[name] = json.loads(metadata[name])
        except (KeyError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: checkpoint metadata field {name!r} is missing or not "
                             f"valid JSON ({error})") from None
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return {"model_state": model_state,
            "optimizer_state": _optimizer_state(path, tensors, fields["optimizer"]),
            "scheduler_state": fields["scheduler"], "loader_state": fields["loader"],
            "rng_state": fields["rng"], "progress": fields["progress"]}


def _optimizer_state(path: Any, tensors: dict, saved: Any) -> dict[str, Any]:
    if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) \
            or not isinstance(saved.get("plain_state"), dict):
        raise ValueError(f"{path}: checkpoint optimizer metadata is malformed")
    state: dict[int, dict[str, Any]] = {}
    for index, values in saved["plain_state"].items():
        state[int(index)] = dict(values)
    for key, value in tensors.items():
        if key.startswith("optimizer.state."):
            index, _, name = key[len("optimizer.state."):].partition(".")
            if not index.isdigit() or not name:
                raise ValueError(f"{path}: malformed optimizer tensor name {key!r}")
            state.setdefault(int(index), {})[name] = value
    groups = []
    for group in saved["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}
