"""``nn.functional``: activations, softmax, losses and dropout as functions (PyTorch's names
and arguments).

Everything here is a composite of the primitives in ``abdou_torch.ops`` and has no backward
of its own, except where a fused primitive is needed for numerical stability or speed
(``softmax``, ``log_softmax``, ``binary_cross_entropy``):

- ``softmax`` / ``log_softmax`` are fused primitives (``ops/softmax.py``) that subtract the
  maximum along ``dim`` first, so logits of magnitude 1e4 stay finite.
- ``binary_cross_entropy_with_logits`` goes through ``logsigmoid``, which only ever takes
  ``exp`` of a non-positive number.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from ..ops.elementwise import (Where, _as_tensor, _values, exp, expm1, gelu, leaky_relu, log,
                               log1p, relu, sigmoid, tanh, where)
from .. import dtypes
from ..dtypes import promote_types
from ..ops.elementwise import _unary, clamp, minimum, sqrt
from ..ops.linalg import linear
from ..ops.norm import vector_norm
from ..ops.loss import BinaryCrossEntropy
from ..ops.softmax import LogSoftmax, Softmax
from ..ops.reduce import sum as _sum
from ..ops.shape import gather, narrow, pad
from .. import random_sampling
from ..random import Generator
from ..tensor import Tensor

__all__ = ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "silu", "softplus", "logsigmoid",
           "linear", "pad", "softmax", "log_softmax", "mse_loss", "l1_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot",
           "dropout"]

__all__ += ["relu_", "leaky_relu_", "hardtanh", "hardtanh_", "relu6", "elu", "elu_", "selu",
            "celu", "mish", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "threshold",
            "threshold_", "hardshrink", "softshrink", "glu", "prelu", "softmin",
            "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss",
            "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
            "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
            "multi_margin_loss", "triplet_margin_loss", "pairwise_distance",
            "cosine_similarity", "normalize"]

_REDUCTIONS = ("none", "mean", "sum")


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(array), False)


def _clamp_min_value_only(t: Tensor, low: float) -> Tensor:
    """max(t, low) in value, with t's gradient everywhere (PyTorch clamps these under
    no_grad). The shift is 0 where t >= low, and where t is inf or NaN."""
    shift = np.where(t.data < low, low - t.data, 0).astype(t.dtype)
    return t + _constant(shift)


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str,
               op: str) -> str:
    """PyTorch's rule: the deprecated size_average / reduce, when given, override reduction."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; use "
                         f"'none', 'mean' or 'sum'")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _float_tensor(input: Any, op: str) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    return x


# -- activations ------------------------------------------------------------------------------

def logsigmoid(input: Any) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which never overflows (log1p keeps
    the digits that 1 + exp(-|x|) would round away for large |x|).

    ``-|x|`` is written as where(x >= 0, -x, x) rather than with ``abs`` so that the
    gradient at exactly x = 0 is sigmoid(-0) = 1/2 (abs's subgradient there is 0).
    """
    x = _float_tensor(input, "logsigmoid")
    if x.dtype == np.float16:  # PyTorch's half kernel works in float32 and rounds once
        return logsigmoid(x.float()).half()
    nonnegative = x.data >= 0
    zero = np.zeros((), dtype=x.dtype)
    negative_abs = where(nonnegative, -x, x)
    return where(nonnegative, zero, x) - log1p(exp(negative_abs))


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    x = _float_tensor(input, "softplus")
    scaled = x * beta
    smooth = -logsigmoid(-scaled) * (1.0 / beta) + 0.0  # + 0: softplus(-inf) is +0, not -0
    return where(scaled.data > threshold, x, smooth)


def silu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (also called swish)."""
    x = _float_tensor(input, "silu")
    if inplace:
        return x._inplace("silu_", silu)
    return x * sigmoid(x)


# -- more activations (issue 11): composites; ``inplace=True`` overwrites the input ------------

def _in_place_or_not(name: str, function: Any, x: Tensor, inplace: bool, *args: Any) -> Tensor:
    return x._inplace(name + "_", function, *args) if inplace else function(x, *args)


def _clipped(x: Tensor, low: float, high: float) -> Tensor:
    """min(max(x, low), high), with the gradient passing only strictly inside (low, high), as
    PyTorch's hardtanh family (clamp's passes at the bounds too). At a NaN it stops (PyTorch's
    hardtanh passes it or not depending on where the NaN sits in the tensor)."""
    inside = (x.data > low) & (x.data < high)
    return Where.apply(inside, x, np.clip(x.data, low, high))


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """y = min(max(x, min_val), max_val); dy/dx = 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} and "
                         f"{max_val}")
    x = _float_tensor(input, "hardtanh")
    return _in_place_or_not("hardtanh", _clipped, x, inplace, min_val, max_val)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return input.relu_()


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = min(max(x, 0), 6) (hardtanh between 0 and 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _elu(x: Tensor, alpha: float, scale: float = 1.0, input_scale: float = 1.0) -> Tensor:
    """scale * (x if x > 0 else alpha (exp(x * input_scale) - 1)). The exponential only sees
    the non-positive side, so a large x neither overflows nor spoils the gradient; a NaN takes
    the x side (PyTorch's backward: the negative formula where x <= 0, scale elsewhere)."""
    positive = ~(x.data <= 0)
    zero = np.zeros((), dtype=x.dtype)
    negative_part = where(positive, zero, x)
    if input_scale != 1.0:
        negative_part = negative_part * input_scale
    y = where(positive, x, expm1(negative_part) * alpha)
    return y if scale == 1.0 else y * scale


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > 0 else alpha (exp(x) - 1)."""
    return _in_place_or_not("elu", _elu, _float_tensor(input, "elu"), inplace, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = scale (x if x > 0 else alpha (exp(x) - 1)), with the self-normalising constants
    alpha = 1.6732..., scale = 1.0507..."""
    return _in_place_or_not("selu", _elu, _float_tensor(input, "selu"), inplace, _SELU_ALPHA,
                            _SELU_SCALE)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > 0 else alpha (exp(x / alpha) - 1)."""
    if alpha == 0:
        raise ZeroDivisionError("celu: alpha cannot be 0 (the formula divides by it)")
    return _in_place_or_not("celu", _elu, _float_tensor(input, "celu"), inplace, alpha, 1.0,
                            1.0 / alpha)


def _mish(x: Tensor) -> Tensor:
    return x * tanh(softplus(x))


def mish(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x tanh(softplus(x))."""
    return _in_place_or_not("mish", _mish, _float_tensor(input, "mish"), inplace)


def _hardsigmoid(x: Tensor) -> Tensor:
    return _clipped(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)


def hardsigmoid(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = min(max(x + 3, 0), 6) / 6; dy/dx = 1/6 strictly inside (-3, 3)."""
    return _in_place_or_not("hardsigmoid", _hardsigmoid, _float_tensor(input, "hardsigmoid"),
                            inplace)


def _hardswish_values(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, silently as in PyTorch
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hardswish_slope(xp: Any, x: Any, _: Any) -> Any:
    """dy/dx of hardswish as PyTorch's backward: 0 up to -3, x/3 + 1/2 strictly between -3
    and 3, 1 from 3 on and at a NaN."""
    values = np.asarray(x.data if isinstance(x, Tensor) else x)
    below = values <= -3.0
    middle = ~below & (values < 3.0)
    return xp.where(below, 0.0, xp.where(middle, x / 3.0 + 0.5, 1.0))


_Hardswish = _unary("hardswish", "y = x min(max(x + 3, 0), 6) / 6;  dx = dy * slope(x)",
                    _hardswish_values, _hardswish_slope, False)


def _hardswish(x: Tensor) -> Tensor:
    return _Hardswish.apply(x)


def hardswish(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x min(max(x + 3, 0), 6) / 6."""
    return _in_place_or_not("hardswish", _hardswish, _float_tensor(input, "hardswish"),
                            inplace)


def softsign(input: Any) -> Tensor:  # noqa: A002
    """y = x / (1 + |x|)."""
    x = _float_tensor(input, "softsign")
    return x / (1 + abs(x))


def tanhshrink(input: Any) -> Tensor:  # noqa: A002
    """y = x - tanh(x)."""
    x = _float_tensor(input, "tanhshrink")
    return x - tanh(x)


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    # x <= threshold picks the value: a NaN is not, so it passes (PyTorch's kernel)
    return where(~(x.data <= threshold), x, np.asarray(value, dtype=x.dtype))


def threshold(input: Any, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """y = value if x <= threshold else x (NaN passes)."""
    return _in_place_or_not("threshold", _threshold, _as_tensor(input), inplace, threshold,
                            value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return _in_place_or_not("threshold", _threshold, input, True, threshold, value)


def hardshrink(input: Any, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """y = 0 if -lambd <= x <= lambd else x (NaN passes, as in PyTorch)."""
    x = _float_tensor(input, "hardshrink")
    inside = (x.data >= -lambd) & (x.data <= lambd)
    return where(inside, np.zeros((), dtype=x.dtype), x)


def softshrink(input: Any, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0 (x * 0: -0.0 for
    negative x, as PyTorch's kernel); dy passes where |x| > lambd, and at NaN (x - lambd)."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}")
    x = _float_tensor(input, "softshrink")
    inside = (x.data >= -lambd) & (x.data <= lambd)
    with np.errstate(invalid="ignore"):  # inf * 0: never selected
        zeros = _constant(x.data * 0)
    return where(inside, zeros,
                 where(x.data < -lambd, x + lambd, x - lambd))


def glu(input: Any, dim: int = -1) -> Tensor:  # noqa: A002
    """The gated linear unit: a * sigmoid(b), with a and b the two halves of ``dim``."""
    x = _float_tensor(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % x.ndim if -x.ndim <= dim < x.ndim else dim
    if not 0 <= d < x.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor of {x.ndim} dims")
    if x.shape[d] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    half = x.shape[d] // 2
    return narrow(x, d, 0, half) * sigmoid(narrow(x, d, half, half))


def prelu(input: Any, weight: Any) -> Tensor:  # noqa: A002
    """y = x if x > 0 else weight * x, with one weight, or one per channel (dim 1; an input
    of fewer than 2 dims has one channel)."""
    x, w = _float_tensor(input, "prelu"), _as_tensor(weight)
    if w.numel() != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if w.ndim != 1 or w.shape[0] != channels:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {w.numel()} and channel size = "
                               f"{channels}.")
        w = w.reshape((channels,) + (1,) * (x.ndim - 2))
    elif x.ndim < 2:
        w = w.reshape(())
    return where(x.data > 0, x, w * x)


def softmin(input: Any, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``."""
    negated = -_as_tensor(input)  # then cast, as PyTorch's (-input).softmax(dim, dtype)
    negated = negated if dtype is None else negated.to(dtype)
    d = _softmax_dim(negated.ndim, dim, "softmin")  # PyTorch checks dim before dtype
    return _along(Softmax, _float_tensor(negated, "softmin"), d)


def _softmax_dim(ndim: int, dim: int | None, op: str) -> int:
    if dim is None:  # PyTorch's legacy choice, with its warning
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims")
    return dim % max(ndim, 1) if ndim else 0


def _along(primitive: type[Primitive], x: Tensor, dim: int) -> Tensor:
    """``primitive`` (softmax or log-softmax) along ``dim``; a 0-d input as one element."""
    if x.ndim == 0:
        return primitive.apply(x.reshape(1), 0).reshape(())
    return primitive.apply(x, dim)


def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """exp(x - m) / sum(exp(x - m)) along ``dim``, with m the maximum: one fused primitive
    (``ops/softmax.py``)."""
    x = _as_tensor(input if dtype is None else _as_tensor(input).to(dtype))
    d = _softmax_dim(x.ndim, dim, "softmax")  # PyTorch checks dim before dtype
    return _along(Softmax, _float_tensor(x, "softmax"), d)


def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """(x - m) - log(sum(exp(x - m))) along ``dim``, with m the maximum: finite for logits
    of any magnitude (the largest term of the sum is exp(0) = 1); one fused primitive."""
    x = _as_tensor(input if dtype is None else _as_tensor(input).to(dtype))
    d = _softmax_dim(x.ndim, dim, "log_softmax")  # PyTorch checks dim before dtype
    return _along(LogSoftmax, _float_tensor(x, "log_softmax"), d)


# -- regression losses ------------------------------------------------------------------------

def _pointwise_loss(op: str, errors: Tensor, input: Tensor, weight: Any,  # noqa: A002
                    reduction: str) -> Tensor:
    if weight is None:
        return _reduce(errors, reduction)
    weight = _as_tensor(weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")
    weighted = errors * weight
    if reduction == "mean":  # PyTorch normalises a weighted mean by the total weight
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def _regression_inputs(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    x, t = _as_tensor(input), _as_tensor(target)
    if x.shape != t.shape:
        warnings.warn(f"{op}: using a target size ({tuple(t.shape)}) that is different to the "
                      f"input size ({tuple(x.shape)}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
        try:
            np.broadcast_shapes(x.shape, t.shape)
        except ValueError:
            raise ShapeError(f"{op}: input of shape {tuple(x.shape)} and target of shape "
                             f"{tuple(t.shape)} cannot be broadcast together") from None
    return x, t


def mse_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
             reduce: bool | None = None, reduction: str = "mean",
             weight: Any = None) -> Tensor:
    """(input - target)^2, reduced (a weighted mean divides by sum(weight))."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    x, t = _regression_inputs("mse_loss", input, target)
    diff = x - t
    return _pointwise_loss("mse_loss", diff * diff, x, weight, reduction)


def l1_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
            reduce: bool | None = None, reduction: str = "mean",
            weight: Any = None) -> Tensor:
    """|input - target|, reduced (a weighted mean divides by sum(weight))."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    x, t = _regression_inputs("l1_loss", input, target)
    return _pointwise_loss("l1_loss", (x - t).abs(), x, weight, reduction)


# -- classification losses --------------------------------------------------------------------

def _class_weight(weight: Any, classes: int, dtype: dtypes.DType, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    values = np.asarray(_values(weight))
    if values.shape != (classes,):
        raise ShapeError(f"{op}: weight of shape {tuple(values.shape)} must have one entry per "
                         f"class ({classes},)")
    return values.astype(dtype, copy=False)


def _class_targets(op: str, x: Tensor, target: Any, ignore_index: int) -> tuple:
    """Validate integer targets against input (N, C, d1, ...) / (C,); return the class dim,
    the targets with ignored positions set to class 0, and the mask of ignored positions."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dim, got a 0-d tensor")
    class_dim = 0 if x.ndim == 1 else 1
    classes = x.shape[class_dim]
    t = np.asarray(_values(target))
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be an integer tensor, got {t.dtype} "
                        f"(for class probabilities pass a float target of the input's shape)")
    if t.dtype not in (np.int64, np.uint8):
        raise TypeError(f"{op}: expected target dtype to be int64 (long) or uint8, but got "
                        f"{t.dtype}, as PyTorch requires (convert it with .long())")
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ShapeError(f"{op}: target of shape {tuple(t.shape)} does not fit input of shape "
                         f"{tuple(x.shape)} (expected target shape {expected})")
    ignored = t == ignore_index
    out_of_range = ~ignored & ((t < 0) | (t >= classes))
    if out_of_range.any():
        raise IndexError(f"{op}: target {int(t[out_of_range].flat[0])} is out of bounds for "
                         f"{classes} classes")
    safe = np.where(ignored, 0, t).astype(np.int64, copy=False)
    return class_dim, safe, ignored


def _target_weights(weight: np.ndarray | None, safe: np.ndarray, ignored: np.ndarray,
                    dtype: dtypes.DType) -> np.ndarray:
    """weight[target] per position, 0 where the target is ignored."""
    picked = np.ones(safe.shape, dtype=dtype) if weight is None else weight[safe]
    return np.where(ignored, 0, picked).astype(dtype, copy=False)


def _weighted_mean(total: Tensor, weight_sum: float) -> Tensor:
    # all targets ignored: PyTorch returns nan (0 / 0), and a zero gradient (no element
    # counts), so the NaN is selected rather than multiplied in
    if weight_sum == 0:
        return where(np.ones((), dtype=bool), np.full((), np.nan, dtype=total.dtype), total)
    return total / weight_sum


def nll_loss(input: Any, target: Any, weight: Any = None,  # noqa: A002
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """-weight[t] * input[t] for log-probabilities ``input`` (N, C, d1, ...) or (C,) and
    class indices ``target`` (N, d1, ...) or (); positions whose target is ``ignore_index``
    contribute nothing, and 'mean' divides by the sum of the weights that count."""
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    x = _float_tensor(input, "nll_loss")
    class_dim, safe, ignored = _class_targets("nll_loss", x, target, ignore_index)
    weight = _class_weight(weight, x.shape[class_dim], x.dtype, "nll_loss")
    if x.shape[class_dim]:
        picked = gather(x, class_dim, np.expand_dims(safe, class_dim)).squeeze(class_dim)
    else:  # no classes, every target ignored: zeros of the target's shape
        picked = _sum(x, class_dim)
    target_weights = _target_weights(weight, safe, ignored, x.dtype)
    losses = -picked * target_weights
    if ignored.any():  # exactly +0 there, as in PyTorch (not -0, nor NaN for a -inf input)
        losses = where(ignored, np.zeros((), dtype=losses.dtype), losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return _weighted_mean(losses.sum(), float(target_weights.sum()))


def _no_class_dim(target: Tensor) -> None:
    """Raise for a 0-d input as PyTorch does: a 0-d target of its dims is read as class
    probabilities (which must be floating), then the class dim 1 is out of range."""
    if target.ndim == 0 and target.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: a 0-d input takes a 0-d target as class "
                           f"probabilities, which must be floating point, got {target.dtype}")
    raise IndexError("cross_entropy: input must have a class dim (1 of (N, C, ...), 0 of "
                     "(C,)), got a 0-d tensor")


def cross_entropy(input: Any, target: Any, weight: Any = None,  # noqa: A002
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim (1, or 0 for an unbatched (C,) input), then:

    - class indices (integer ``target`` of shape (N, d1, ...)): nll_loss, with
      ``label_smoothing`` e mixing in the uniform distribution: (1 - e) nll + e/C smooth,
      where smooth = -sum_c weight_c log p_c (PyTorch's formula, same normalisation);
    - class probabilities (float ``target`` of the input's shape): -sum_c weight_c t_c log p_c,
      with t smoothed to t (1 - e) + e / C; 'mean' divides by N * d1 * ... .
    """
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    x = _float_tensor(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if x.ndim == 0:
        _no_class_dim(_as_tensor(target))
    class_dim = 0 if x.ndim == 1 else 1
    classes = x.shape[class_dim]
    weight_values = _class_weight(weight, classes, x.dtype, "cross_entropy")
    weight_view = None if weight_values is None else _constant(
        weight_values.reshape((-1,) + (1,) * (x.ndim - class_dim - 1)))
    log_probs = log_softmax(x, class_dim)
    target_tensor = _as_tensor(target)
    if target_tensor.dtype.kind == "f":
        return _cross_entropy_probabilities(log_probs, target_tensor, weight_view, class_dim,
                                            reduction, label_smoothing)
    loss = nll_loss(log_probs, target_tensor, weight_values, ignore_index=ignore_index,
                    reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    _, safe, ignored = _class_targets("cross_entropy", x, target_tensor, ignore_index)
    terms = log_probs if weight_view is None else log_probs * weight_view
    smooth = where(ignored, np.zeros((), dtype=x.dtype), -_sum(terms, class_dim))
    if reduction == "mean":
        smooth = _weighted_mean(smooth.sum(), float(
            _target_weights(weight_values, safe, ignored, x.dtype).sum()))
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(log_probs: Tensor, target: Tensor, weight_view: Tensor | None,
                                 class_dim: int, reduction: str,
                                 label_smoothing: float) -> Tensor:
    if target.shape != log_probs.shape:
        raise ShapeError(f"cross_entropy: probability targets must have the input's shape "
                         f"{tuple(log_probs.shape)}, got {tuple(target.shape)}")
    classes = log_probs.shape[class_dim]
    if target.dtype != log_probs.dtype:
        target = target.to(log_probs.dtype)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight_view is not None:
        terms = terms * weight_view
    if reduction == "none":
        return -_sum(terms, class_dim)
    if reduction == "sum":
        return -terms.sum()
    count = log_probs.data.size // classes if classes else 0
    return _weighted_mean(-terms.sum(), float(count))


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-weight (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1], each log
    clamped at -100 as in PyTorch (so a confident mistake costs 100, not inf)."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    x, t = _float_tensor(input, "binary_cross_entropy"), _as_tensor(target)
    if t.shape != x.shape:
        raise ValueError(f"binary_cross_entropy: using a target size ({tuple(t.shape)}) that "
                         f"is different to the input size ({tuple(x.shape)}) is not supported; "
                         f"please ensure they have the same size")
    if ((x.data < 0) | (x.data > 1) | np.isnan(x.data)).any():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 "
                         "and 1 (apply sigmoid first, or use binary_cross_entropy_with_logits)")
    if t.dtype != x.dtype:  # PyTorch: no promotion here (float64 targets included)
        raise RuntimeError(f"binary_cross_entropy: found target dtype {t.dtype} but expected "
                           f"the input's, {x.dtype}")
    if ((t.data < 0) | (t.data > 1) | np.isnan(t.data)).any():
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 "
                         "and 1")
    loss = BinaryCrossEntropy.apply(x, t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any,  # noqa: A002
                                     weight: Any = None, size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """-weight (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), computed in the
    stable form (1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    x, t = _float_tensor(input, "binary_cross_entropy_with_logits"), _as_tensor(target)
    if t.shape != x.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size ({tuple(t.shape)}) "
                         f"must be the same as input size ({tuple(x.shape)})")
    if t.dtype.kind != "f":  # PyTorch: the floating result cannot be cast back to it
        raise RuntimeError(f"binary_cross_entropy_with_logits: expected a floating target, "
                           f"got {t.dtype}")
    if t.dtype != x.dtype:  # the result has the promoted dtype, as in PyTorch
        wide = promote_types(x.dtype, t.dtype)
        x, t = x.to(wide), t.to(wide)
    log_weight = 1 if pos_weight is None else 1 + (_as_tensor(pos_weight) - 1) * t
    loss = (1 - t) * x - log_weight * logsigmoid(x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- more losses (issue 11): composites ---------------------------------------------------------

def smooth_l1_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta 0 is
    l1_loss."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got "
                           f"{beta}")
    x, t = _regression_inputs("smooth_l1_loss", input, target)
    if beta == 0:
        return _reduce(abs(x - t), reduction)
    d = x - t
    small = ~(np.abs(d.data) >= beta)  # NaN takes the quadratic branch, as in PyTorch
    inside = _inside(d, small)
    return _reduce(where(small, inside * inside * (0.5 / beta), abs(d) - 0.5 * beta),
                   reduction)


def _inside(d: Tensor, small: np.ndarray) -> Tensor:
    """d where ``small``, else 0: the quadratic branch of a piecewise loss squares this, so
    its gradient where |d| is large (infinite) is 0, not 0 * inf = NaN."""
    return where(small, d, np.zeros((), dtype=d.dtype))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0,  # noqa: A002
               weight: Any = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target); a
    weighted 'mean' is the plain mean of the weighted losses (PyTorch's rule here)."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got "
                           f"{delta}")
    x, t = _regression_inputs("huber_loss", input, target)
    d = x - t
    small = ~(np.abs(d.data) >= delta)  # NaN takes the quadratic branch, as in PyTorch
    inside = _inside(d, small)
    loss = where(small, inside * inside * 0.5, (abs(d) - 0.5 * delta) * delta)
    if weight is not None:
        weight = _as_tensor(weight)
        if tuple(weight.shape) != tuple(x.shape):
            raise ValueError(f"huber_loss: weights and input must have the same size, got "
                             f"{tuple(weight.shape)} and {tuple(x.shape)}")
        loss = loss * weight
    return _reduce(loss, reduction)


def _xlogx(t: Tensor) -> Tensor:
    """t log t, taken as 0 where t = 0 (the limit; xlogy(t, t) in PyTorch)."""
    zero = t.data == 0
    safe = where(zero, np.ones((), dtype=t.dtype), t)
    return where(zero, np.zeros((), dtype=t.dtype), t * log(safe))


def kl_div(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence for log-probabilities ``input``: target (log target -
    input) pointwise (exp(target) (target - input) with ``log_target``). 'batchmean' divides
    the sum by the batch size (the mathematical KL divergence); 'mean' divides by the number
    of elements, with PyTorch's warning."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction, "kl_div")
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    elif reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction; use "
                         f"'none', 'batchmean', 'mean' or 'sum'")
    x, t = _float_tensor(input, "kl_div"), _as_tensor(target)
    if t.dtype != x.dtype:
        t = t.to(x.dtype)
    loss = exp(t) * (t - x) if log_target else _xlogx(t) - t * x
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)


def soft_margin_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)) for targets +1 / -1, in the input's dtype and shape
    (PyTorch computes it in place in a tensor like the input: the target broadcasts to the
    input, not the other way)."""
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    x, t = _float_tensor(input, "soft_margin_loss"), _as_tensor(target)
    shape = _broadcast_shape("soft_margin_loss", x, t)
    if shape != tuple(x.shape):
        raise RuntimeError(f"soft_margin_loss: output with shape {list(x.shape)} doesn't "
                           f"match the broadcast shape {list(shape)}")
    margin = -x * t
    return _reduce(log1p(exp(margin if margin.dtype == x.dtype else margin.to(x.dtype))),
                   reduction)


def _broadcast_shape(op: str, a: Tensor, b: Tensor) -> tuple:
    try:
        return tuple(np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        raise ShapeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"broadcast together") from None


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None,  # noqa: A002
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """-(t logsigmoid(x) + (1 - t) logsigmoid(-x)), weighted, averaged over the classes (the
    last dim), then reduced over the samples."""
    reduction = _reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    x, t = _float_tensor(input, "multilabel_soft_margin_loss"), _as_tensor(target)
    if x.ndim == 0:
        raise IndexError("multilabel_soft_margin_loss: the input has no class dim (the last "
                         "one): Dimension specified as -1 but tensor has no dimensions")
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    return _reduce(_sum(loss, x.ndim - 1) / x.shape[-1], reduction)


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under Poisson(rate): exp(x) - t x for log-rates
    (``log_input``), else x - t log(x + eps); ``full`` adds Stirling's t log t - t +
    log(2 pi t) / 2 where t > 1."""
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    x, t = _float_tensor(input, "poisson_nll_loss"), _as_tensor(target)
    loss = exp(x) - t * x if log_input else x - t * log(x + eps)
    if full:  # PyTorch's formula: Stirling's term on every target, then masked, so the
        # target's gradient is NaN where t <= 0 (log t), as there
        stirling = t * log(t) - t + log(t * (2 * np.pi)) * 0.5
        loss = loss + where(t.data > 1, stirling, np.zeros((), dtype=stirling.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var): (log var + (input -
    target)^2 / var) / 2 (+ log(2 pi) / 2 with ``full``). ``var`` has the input's shape, or
    one dim fewer or of size 1 (one variance shared); it is clamped at ``eps`` for the value
    only, so its gradient is the unclamped formula's (PyTorch's rule)."""
    x, t = _float_tensor(input, "gaussian_nll_loss"), _as_tensor(target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = Tensor._wrap(np.full(x.shape, var, dtype=x.dtype), False)
    var = _as_tensor(var)
    if (var.data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (var.ndim == x.ndim and
                  sum(v for n, v in zip(x.shape, var.shape) if n != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} "
                             f"for input of shape {tuple(x.shape)}")
    reduction = _reduction(None, None, reduction, "gaussian_nll_loss")
    var = _clamp_min_value_only(var, eps)
    loss = (log(var) + (x - t) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * float(np.log(2 * np.pi))
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin): input1 should rank above input2 where
    target is 1, below where it is -1."""
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    x1, x2, t = _as_tensor(input1), _as_tensor(input2), _as_tensor(target)
    if not x1.ndim == x2.ndim == t.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {tuple(x1.shape)}, input2: "
                           f"{tuple(x2.shape)}, target: {tuple(t.shape)}")
    return _reduce(_positive_part(-t * (x1 - x2) + margin), reduction)


def _positive_part(x: Tensor) -> Tensor:
    """max(x, 0) as PyTorch's losses take it (clamp_min(0): the gradient passes at 0 too)."""
    return clamp(x, min=0)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    x, t = _float_tensor(input, "hinge_embedding_loss"), _values(_as_tensor(target))
    zero = np.zeros((), dtype=x.dtype)
    loss = where(t != 1, _positive_part(margin - x), zero) + where(t != -1, x, zero)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1 (cos
    over the last dim, with 1e-12 added to each squared length, as PyTorch)."""
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    # any dtypes: the sums of products promote as PyTorch's composite does (integer
    # inputs give the default float dtype once 1e-12 is added)
    x1, x2 = _as_tensor(input1), _as_tensor(input2)
    t = _values(_as_tensor(target))
    if t.ndim not in (0, 1):
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, "
                           f"multi-target not supported (got shape {t.shape})")
    if x1.ndim != t.ndim + 1 or x2.ndim != t.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: {t.ndim}D target tensor expects "
                           f"{t.ndim + 1}D input tensors, but found inputs with sizes "
                           f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    dim = t.ndim  # the inputs broadcast together, as in PyTorch
    products = _sum(x1 * x2, dim)
    lengths = (_sum(x1 * x1, dim) + 1e-12) * (_sum(x2 * x2, dim) + 1e-12)
    cos = products / sqrt(lengths)
    zero = np.zeros((), dtype=cos.dtype)
    loss = where(t == 1, 1 - cos, zero) + where(t == -1, _positive_part(cos - margin), zero)
    return _reduce(loss, reduction)


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Any = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over classes j != y of max(0, margin - x_y + x_j)^p,
    times weight[y], divided by the number of classes."""
    reduction = _reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    x = _float_tensor(input, "multi_margin_loss")
    if x.ndim not in (1, 2):
        raise RuntimeError(f"multi_margin_loss: expected a 1-D or 2-D input, got shape "
                           f"{tuple(x.shape)}")
    rows = x if x.ndim == 2 else x.reshape(1, -1)
    classes = rows.shape[1]
    labels = np.asarray(_values(_as_tensor(target))).reshape(-1).astype(np.int64)
    if labels.shape != (rows.shape[0],) or labels.size and (labels.min() < 0 or
                                                           labels.max() >= classes):
        raise RuntimeError(f"multi_margin_loss: target must hold one class index in "
                           f"[0, {classes}) per sample, got {labels.tolist()}")
    picked = gather(rows, 1, labels[:, None])
    z = margin - picked + rows
    counted = (z.data > 0) & (np.arange(classes) != labels[:, None])
    hinge = where(counted, z, np.zeros((), dtype=x.dtype))
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        w = _as_tensor(weight)
        if w.ndim != 1:
            raise ValueError("multi_margin_loss: weight must be one-dimensional")
        hinge = hinge * w.reshape(-1)[labels].reshape(-1, 1)
    loss = _sum(hinge, 1) / classes
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-norm distance; ``swap``
    uses min(d(a, n), d(p, n)) for the negative distance."""
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = _as_tensor(anchor), _as_tensor(positive), _as_tensor(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"triplet_margin_loss: The anchor, positive, and negative tensors "
                           f"are expected to have the same number of dimensions, but got: "
                           f"anchor {a.ndim}D, positive {pos.ndim}D, and negative "
                           f"{neg.ndim}D inputs")
    distance_positive = pairwise_distance(a, pos, p, eps)
    distance_negative = pairwise_distance(a, neg, p, eps)
    if swap:
        distance_negative = minimum(distance_negative, pairwise_distance(pos, neg, p, eps))
    return _reduce(_positive_part(margin + distance_positive - distance_negative), reduction)


# -- distances ------------------------------------------------------------------------------------

def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps over the last dim."""
    a, b = _as_tensor(x1), _as_tensor(x2)
    dim = max(a.ndim, b.ndim) - 1
    return vector_norm(a - b + eps, p, dim if dim >= 0 else None, keepdim)


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along ``dim`` (inputs broadcast).

    The norms are clamped at ``eps`` for their value only: the gradient is that of the
    unclamped formula, as in PyTorch."""
    a, b = _as_tensor(x1), _as_tensor(x2)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        raise RuntimeError(f"cosine_similarity: expected common dtype to be floating point, "
                           f"yet common dtype is {a.dtype}")
    common = promote_types(a.dtype, b.dtype)  # float16 with int64 stays float16
    a, b = (t if t.dtype == common else t.to(common) for t in (a, b))
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = a.expand(shape), b.expand(shape)
    na = vector_norm(a, 2, dim, keepdim=True)
    nb = vector_norm(b, 2, dim, keepdim=True)
    na, nb = _clamp_min_value_only(na, eps), _clamp_min_value_only(nb, eps)
    return _sum((a / na) * (b / nb), dim)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """input / max(|input|_p, eps) along ``dim``."""
    if out is not None:
        raise TypeError("normalize: out= is not supported in abdou_torch; use the result")
    x = _float_tensor(input, "normalize")
    return x / clamp(vector_norm(x, p, dim, keepdim=True), min=eps)


# -- utilities ----------------------------------------------------------------------------------

def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each index
    (num_classes=-1: one more than the largest index)."""
    indices = np.asarray(_values(tensor))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors (integer dtype), got "
                        f"{indices.dtype}")
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: can not infer the total number of classes from an "
                             "empty tensor; pass num_classes")
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(indices.min())}")
    if indices.size and indices.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes "
                         f"({num_classes}), got {int(indices.max())}")
    encoded = indices[..., None] == np.arange(num_classes)
    return Tensor._wrap(encoded.astype(np.int64), False)


def dropout(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the survivors by
    1 / (1 - p), so the expected value is unchanged; the identity when not ``training``.

    The mask is PyTorch's: ``noise = empty_like(x).bernoulli_(1 - p) / (1 - p)`` (one
    float64 uniform per element, kept where u < 1 - p; the division in x's dtype), then
    ``x * noise``, drawn from ``generator`` (default: the default generator, so
    ``manual_seed`` gives PyTorch's masks). ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _float_tensor(input, "dropout")
    if not training or p == 0 or x.data.size == 0:
        return x
    if p == 1:
        return x * np.zeros((), dtype=x.dtype)
    keep = 1.0 - p
    noise = random_sampling.bernoulli_(Tensor._wrap(np.empty_like(x.data), False), keep,
                                       generator=generator).data
    noise /= x.dtype.type(keep)
    return x * noise


# Convolution, pooling and normalisation functions, written in their own ops families.
from ..ops.conv import *  # noqa: F401,F403,E402
from ..ops.pooling import *  # noqa: F401,F403,E402
from ..ops.normalization import *  # noqa: F401,F403,E402
from ..ops.resample import *  # noqa: F401,F403,E402
from ..ops.channel_norm import *  # noqa: F401,F403,E402
from ..ops.dropout import *  # noqa: F401,F403,E402
from ..ops.bilinear import bilinear  # noqa: F401,E402
from ..ops.conv_transpose1d import conv_transpose1d  # noqa: F401,E402
from ..ops.conv3d import conv3d  # noqa: F401,E402
from ..ops.gumbel import gumbel_softmax  # noqa: F401,E402
from ..ops.embedding_bag import embedding_bag  # noqa: F401,E402
from ..ops.ctc import ctc_loss  # noqa: F401,E402
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: F401,E402
from ..ops.multilabel import multilabel_margin_loss  # noqa: F401,E402
# Attention, written in the ops family of its own.
from ..ops.attention import (multi_head_attention_forward,  # noqa: F401,E402
                             scaled_dot_product_attention)
