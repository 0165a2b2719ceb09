"""The geometry shared by convolution and pooling: argument pairs, the window of kernel
offsets (stride, dilation, padding), padding and cropping, and im2col / col2im.

Every window op is vectorised the same way: a loop over the kH*kW kernel *offsets* (never
over pixels), each offset a strided slice of the padded input that covers every output
position at once (``_Window.offsets``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .workspace import workspace as _workspace


def _pair(value: Any, name: str, op: str, minimum: int = 0) -> tuple[int, int]:
    """An int or a pair of ints as a pair, checked to be >= ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair: tuple[int, ...] = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got "
                            f"{value!r}") from None
        if len(pair) == 1:
            pair = pair * 2
        if len(pair) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair[0], pair[1]  # checked above: two ints


@dataclass(frozen=True)
class _Window:
    """Where the kernel's offsets land: stride, dilation and the padding of each side.

    ``padding`` is ((top, bottom), (left, right)); pooling in ceil mode adds the overhang
    of the last window to bottom and right.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int = 1

    def padded_size(self, size: Sequence[int]) -> tuple[int, int]:
        (top, bottom), (left, right) = self.padding
        return size[0] + top + bottom, size[1] + left + right

    def output_size(self, size: Sequence[int]) -> tuple[int, int]:
        padded = self.padded_size(size)
        # two sizes, one per zipped pair (mypy types a tuple() of a generator as any length)
        return tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in  # type: ignore[return-value]
                     zip(padded, self.kernel, self.stride, self.dilation))

    def offsets(self, out_size: Sequence[int]) -> list[tuple[int, int, tuple]]:
        """(i, j, index) for every kernel offset: index picks, from the padded input, the
        element under offset (i, j) of every output position's window."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho, wo = out_size
        return [(i, j, (Ellipsis, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                        slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)))
                for i in range(kh) for j in range(kw)]


def _pad(x: np.ndarray, padding: tuple, value: float = 0.0) -> np.ndarray:
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    h, w = x.shape[-2:]
    out = np.full(x.shape[:-2] + (h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[..., top:top + h, left:left + w] = x
    return out


def _crop(xp: np.ndarray, padding: tuple, size: Sequence[int]) -> np.ndarray:
    (top, _), (left, _) = padding
    if xp.shape[-2:] == tuple(size):
        return xp
    return np.ascontiguousarray(xp[..., top:top + size[0], left:left + size[1]])




def _im2col(x: np.ndarray, window: _Window, out_size: Sequence[int]) -> np.ndarray:
    """(N, C, kH, kW, Ho, Wo) columns:
    cols[n, c, i, j, ho, wo] = x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw]."""
    xp = _pad(x, window.padding)
    cols = _workspace.empty(x.shape[:2] + window.kernel + tuple(out_size), x.dtype)
    for i, j, index in window.offsets(out_size):
        cols[:, :, i, j] = xp[index]
    return cols


def _col2im(cols: np.ndarray, window: _Window, size: Sequence[int]) -> np.ndarray:
    """The adjoint of _im2col: add every column entry back to the pixel it was read from."""
    n, c = cols.shape[:2]
    xp = np.zeros((n, c) + window.padded_size(size), dtype=cols.dtype)
    for i, j, index in window.offsets(cols.shape[-2:]):
        xp[index] += cols[:, :, i, j]
    return _crop(xp, window.padding, size)
