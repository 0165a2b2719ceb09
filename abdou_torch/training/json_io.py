"""JSON that every reader accepts: never a bare ``NaN`` or ``Infinity``.

Python's ``json`` writes non-finite floats as the tokens ``NaN``, ``Infinity`` and
``-Infinity``, which are not JSON (RFC 8259): ``jq``, browsers and most other languages
refuse the whole file. Two encodings replace them here:

* ``nonfinite="null"``: for reports people read (``metrics.json``); a value that is not a
  number becomes ``null``.
* ``nonfinite="tag"``: for state that must come back exactly (checkpoints; a scheduler's
  ``best = inf`` for instance): the float becomes ``{"__float__": "nan" | "inf" | "-inf"}``,
  which :func:`loads` turns back into the float.

NumPy scalars and arrays become Python numbers and lists, tuples become lists.
"""
from __future__ import annotations

import json
import math
from typing import Any, Literal

import numpy as np

__all__ = ["dumps", "loads", "to_plain"]

_FLOAT_TAG = "__float__"
_TAGGED = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_plain(value: Any, nonfinite: Literal["null", "tag"] = "null") -> Any:
    """``value`` with only JSON types inside: dicts with str keys, lists, str, int, finite
    float, bool and None."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if nonfinite == "null":
            return None
        return {_FLOAT_TAG: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {_key(k): to_plain(v, nonfinite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, nonfinite) for v in value]
    return value


def _key(key: Any) -> Any:
    # json.dumps turns int, float and bool keys into strings itself; NumPy ones it refuses.
    return key.item() if isinstance(key, np.generic) else key


def dumps(value: Any, *, nonfinite: Literal["null", "tag"] = "null", **options: Any) -> str:
    """JSON text of ``value``; ``options`` go to :func:`json.dumps` (``indent=2`` ...)."""
    if nonfinite not in ("null", "tag"):
        raise ValueError(f"nonfinite must be 'null' or 'tag', got {nonfinite!r}")
    return json.dumps(to_plain(value, nonfinite), allow_nan=False, **options)


def _untag(obj: dict) -> Any:
    if len(obj) == 1 and _FLOAT_TAG in obj and obj[_FLOAT_TAG] in _TAGGED:
        return _TAGGED[obj[_FLOAT_TAG]]
    return obj


def loads(text: str | bytes) -> Any:
    """Parse JSON written by :func:`dumps` (tagged floats come back as floats)."""
    return json.loads(text, object_hook=_untag)
