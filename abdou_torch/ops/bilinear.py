"""The bilinear form ``y = x1ᵀ A x2 + b``, composed from a matrix product, a broadcast
product and a sum (so its gradients, of any order, come from those ops)."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["bilinear"]


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Tensor:
    """y[..., o] = Σ_ij x1[..., i] W[o, i, j] x2[..., j] + b[o], with W of shape
    (out, in1, in2) and x1, x2 of shapes (*, in1), (*, in2)."""
    x1, x2, w = _as_tensor(input1), _as_tensor(input2), _as_tensor(weight)
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, got shape "
                           f"{list(w.shape)}")
    out, in1, in2 = w.shape
    if x1.ndim == 0 or tuple(x1.shape[:-1]) != tuple(x2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(x1.shape[:-1])} and {list(x2.shape[:-1])}")
    if x1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{x1.shape[-1]} but expected {in1}")
    if x2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{x2.shape[-1]} but expected {in2}")
    batch = tuple(x1.shape[:-1])
    left = x1.reshape(-1, in1) @ w.permute(1, 0, 2).reshape(in1, out * in2)  # x1ᵀ W
    y = (left.reshape(-1, out, in2) * x2.reshape(-1, 1, in2)).sum(-1)
    if bias is not None:
        b = _as_tensor(bias)
        if tuple(b.shape) != (out,):
            raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                               f"{list(b.shape)} but expected [{out}]")
        y = y + b
    return y.reshape(*batch, out)
