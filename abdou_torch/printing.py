r"""How tensors print: PyTorch's layout, so that a program prints what it prints under
PyTorch (``tensor([1.5000, 2.0000])``, ``tensor([[1., 2.],\n        [3., 4.]])``).

The rules, as PyTorch states them in its printing options:

- Floating values all print in one style, chosen from the finite non-zero values: whole
  numbers print as ``2.`` ("int mode"); otherwise ``precision`` (4) decimals; scientific
  notation when the largest is over 1e8, the smallest under 1e-4, or their ratio over 1000.
  Every value is right-aligned to the widest.
- Over ``threshold`` (1000) elements, each dim shows its first and last ``edgeitems`` (3),
  with ``...`` between; rows wrap at ``linewidth`` (80) characters.
- After the values come the suffixes: the dtype unless it is the default float, int64 or
  bool; ``grad_fn=<...>`` or ``requires_grad=True``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = _PrintOptions()
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Change how tensors print (``torch.set_printoptions``); a ``profile`` ('default',
    'short', 'full') sets the others first."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(OPTIONS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    return dataclasses.asdict(OPTIONS)


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[None]:
    """Change the print options inside a ``with`` block only."""
    saved = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """One style for every value of a tensor, and the width they are aligned to."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            for value in values.reshape(-1).tolist():
                self.width = max(self.width, len(f"{value}"))
            return
        flat = values.reshape(-1).astype(np.float64)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        magnitude = np.abs(shown)
        smallest, largest = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4) \
            if OPTIONS.sci_mode is None else OPTIONS.sci_mode
        for value in shown.tolist():
            if self.sci_mode:
                text = f"{value:.{OPTIONS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}" + "."
            else:
                text = f"{value:.{OPTIONS.precision}f}"
            self.width = max(self.width, len(text))

    def format(self, value: Any) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.width}.{OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{OPTIONS.precision}f}"
        return " " * (self.width - len(text)) + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """The values a summarised print shows (the edges of every dim), for the formatter."""
    edge = OPTIONS.edgeitems
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * edge:
        values = np.concatenate([values[:edge], values[-edge:]])
    if values.ndim == 1:
        return values
    return np.stack([_summarized(row) for row in values])


def _body(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    edge = OPTIONS.edgeitems
    cut = summarize and values.shape[0] > 2 * edge
    if values.ndim == 1:
        items = ([formatter.format(v) for v in values[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in values[-edge:].tolist()]) if cut else \
            [formatter.format(v) for v in values.tolist()]
        per_line = max(1, math.floor((OPTIONS.linewidth - indent) / (formatter.width + 2)))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(values.shape[0])
    parts = ([_body(values[i], indent + 1, summarize, formatter) for i in rows[:edge]] + ["..."]
             + [_body(values[i], indent + 1, summarize, formatter) for i in rows[-edge:]]) \
        if cut else [_body(values[i], indent + 1, summarize, formatter) for i in rows]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    last_line = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > OPTIONS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(pieces) + ")"


def tensor_repr(values: np.ndarray, default_float: Any, grad_fn: str | None,
                requires_grad: bool) -> str:
    """``tensor(...)`` for an array, with PyTorch's suffixes."""
    prefix, suffixes = "tensor(", []
    indent = len(prefix)
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != default_float:
            suffixes.append(f"dtype={_dtype_name(values.dtype)}")
        body = "[]"
    else:
        if values.dtype not in (default_float, np.int64, np.bool_):
            suffixes.append(f"dtype={_dtype_name(values.dtype)}")
        summarize = values.size > OPTIONS.threshold
        formatter = _Formatter(_summarized(values) if summarize else values)
        body = _body(values, indent, summarize, formatter)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _dtype_name(dtype: np.dtype) -> str:
    from .dtypes import wrap
    return str(wrap(dtype))
