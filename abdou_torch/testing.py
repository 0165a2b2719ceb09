"""``torch.testing.assert_close``: are two results equal up to the rounding their dtype
allows?

Each pair of numbers passes when ``|actual - expected| <= atol + rtol * |expected|``
(NaN equals NaN only with ``equal_nan``). Tolerances default by dtype as PyTorch's do
(float16 1e-3 / 1e-5, bfloat16 1.6e-2 / 1e-5, float32 1.3e-6 / 1e-5, float64 1e-7 / 1e-7,
integers and booleans exact); give both or neither. Shapes must match, and dtypes too
unless ``check_dtype=False``. Sequences and mappings are compared item by item.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


def _tolerances(dtype: np.dtype) -> tuple[float, float]:
    if dtype.name == "bfloat16":
        return 1.6e-2, 1e-5
    return _TOLERANCES.get(dtype, (0.0, 0.0))


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: Any = None) -> None:
    """Raise AssertionError naming the worst element when ``actual`` and ``expected`` are
    not close (see the module's text)."""
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {missing}.")
    _assert_tree_close(actual, expected, "", dict(rtol=rtol, atol=atol, equal_nan=equal_nan,
                                                  check_dtype=check_dtype, msg=msg))


def _assert_tree_close(actual: Any, expected: Any, path: str, options: dict) -> None:
    """Mappings and sequences item by item (``path`` names the item, as PyTorch does)."""
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} "
                                 f"!= {sorted(expected)}.")
        for key in expected:
            _assert_tree_close(actual[key], expected[key], f"{path}[{key!r}]", options)
    elif _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for index, (item_actual, item_expected) in enumerate(zip(actual, expected)):
            _assert_tree_close(item_actual, item_expected, f"{path}[{index}]", options)
    else:
        try:
            _assert_pair_close(actual, expected, **options)
        except AssertionError as error:
            if not path or options["msg"] is not None:
                raise
            raise AssertionError(f"{error}\n\nThe failure occurred for item {path}") from None


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _assert_pair_close(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                       equal_nan: bool, check_dtype: bool, msg: Any) -> None:
    a, e = _array(actual), _array(expected)
    _check_attribute("shape", tuple(a.shape), tuple(e.shape), msg, _torch_size)
    if check_dtype and a.dtype != e.dtype:
        _check_attribute("dtype", a.dtype, e.dtype, msg, _torch_dtype)
    if rtol is None or atol is None:
        rtol, atol = _tolerances(np.result_type(a, e))
    wide = np.result_type(a, e, np.float64)
    a64, e64 = a.astype(wide), e.astype(wide)
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities are caught below
        difference = np.abs(a64 - e64)
    close = difference <= atol + rtol * np.abs(e64)
    close |= a64 == e64
    if equal_nan:
        close |= np.isnan(a64) & np.isnan(e64)
    if np.all(close):
        return
    if msg is not None:
        raise AssertionError(msg(str(msg)) if callable(msg) else msg)
    raise AssertionError(_mismatch_message(a64, e64, difference, close, rtol, atol,
                                           scalars=a.ndim == 0, exact=a.dtype.kind in "iub"))


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


def _torch_size(shape: tuple) -> str:
    return f"torch.Size({list(shape)})"


def _torch_dtype(dtype: np.dtype) -> str:
    return f"torch.{np.dtype(dtype).name}"


def _check_attribute(name: str, actual: Any, expected: Any, msg: Any, show) -> None:
    if actual != expected:
        raise AssertionError(msg if msg is not None and not callable(msg) else
                             f"The values for attribute '{name}' do not match: "
                             f"{show(actual)} != {show(expected)}.")


def _mismatch_message(a: np.ndarray, e: np.ndarray, difference: np.ndarray,
                      close: np.ndarray, rtol: float, atol: float, scalars: bool,
                      exact: bool) -> str:
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = difference / np.abs(e)
    if scalars:
        return (f"Scalars are not close!\n\nExpected {e.item()} but got {a.item()}.\n"
                f"Absolute difference: {difference.item()} (up to {atol} allowed)\n"
                f"Relative difference: {relative.item()} (up to {rtol} allowed)")
    wrong = ~close
    worst_abs = _worst(difference, wrong)
    worst_rel = _worst(relative, wrong)
    allowed_abs = "" if exact else f" (up to {atol} allowed)"
    allowed_rel = "" if exact else f" (up to {rtol} allowed)"
    kind = "equal" if exact else "close"
    count, total = int(wrong.sum()), wrong.size
    return (f"Tensor-likes are not {kind}!\n\n"
            f"Mismatched elements: {count} / {total} ({100 * count / total:.1f}%)\n"
            f"Greatest absolute difference: {_number(difference[worst_abs], exact)} at index "
            f"{worst_abs}{allowed_abs}\n"
            f"Greatest relative difference: {relative[worst_rel]} at index "
            f"{worst_rel}{allowed_rel}")


def _worst(values: np.ndarray, wrong: np.ndarray) -> tuple[int, ...]:
    """The index of the largest value among the mismatched ones (NaN counts as largest)."""
    candidates = np.where(wrong, np.nan_to_num(values, nan=np.inf), -np.inf)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(candidates)), values.shape))


def _number(value: float, exact: bool) -> Any:
    return int(value) if exact and np.isfinite(value) else value
