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

from ..errors import ShapeError
from ..ops.elementwise import (_as_tensor, _values, exp, gelu, leaky_relu, log, relu,
                               sigmoid, tanh, where)
from ..ops.linalg import linear
from ..ops.loss import BinaryCrossEntropy
from ..ops.softmax import LogSoftmax, Softmax
from ..ops.reduce import sum as _sum
from ..ops.shape import gather, pad
from ..random import Generator, resolve
from ..tensor import Tensor

__all__ = ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "silu", "softplus", "logsigmoid",
           "linear", "pad", "softmax", "log_softmax", "mse_loss", "l1_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot",
           "dropout"]

_REDUCTIONS = ("none", "mean", "sum")


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(array), False)


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
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), which never overflows.

    ``-|x|`` is written as where(x >= 0, -x, x) rather than with ``abs`` so that the
    gradient at exactly x = 0 is sigmoid(-0) = 1/2 (abs's subgradient there is 0).
    """
    x = _float_tensor(input, "logsigmoid")
    nonnegative = x.data >= 0
    zero = np.zeros((), dtype=x.dtype)
    negative_abs = where(nonnegative, -x, x)
    return where(nonnegative, zero, x) - log(1 + exp(negative_abs))


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    x = _float_tensor(input, "softplus")
    scaled = x * beta
    smooth = -logsigmoid(-scaled) * (1.0 / beta)
    return where(scaled.data > threshold, x, smooth)


def silu(input: Any) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (also called swish)."""
    x = _float_tensor(input, "silu")
    return x * sigmoid(x)


def _softmax_dim(ndim: int, dim: int | None, op: str) -> int:
    if dim is None:  # PyTorch's legacy choice, with its warning
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims")
    return dim % max(ndim, 1) if ndim else 0


def _along(primitive: type, x: Tensor, dim: int) -> Tensor:
    """``primitive`` (softmax or log-softmax) along ``dim``; a 0-d input as one element."""
    if x.ndim == 0:
        return primitive.apply(x.reshape(1), 0).reshape(())
    return primitive.apply(x, dim)


def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """exp(x - m) / sum(exp(x - m)) along ``dim``, with m the maximum: one fused primitive
    (``ops/softmax.py``)."""
    x = _float_tensor(input if dtype is None else _as_tensor(input).to(dtype), "softmax")
    return _along(Softmax, x, _softmax_dim(x.ndim, dim, "softmax"))


def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """(x - m) - log(sum(exp(x - m))) along ``dim``, with m the maximum: finite for logits
    of any magnitude (the largest term of the sum is exp(0) = 1); one fused primitive."""
    x = _float_tensor(input if dtype is None else _as_tensor(input).to(dtype), "log_softmax")
    return _along(LogSoftmax, x, _softmax_dim(x.ndim, dim, "log_softmax"))


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

def _class_weight(weight: Any, classes: int, dtype: np.dtype, op: str) -> np.ndarray | None:
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
                    dtype: np.dtype) -> np.ndarray:
    """weight[target] per position, 0 where the target is ignored."""
    picked = np.ones(safe.shape, dtype=dtype) if weight is None else weight[safe]
    return np.where(ignored, 0, picked).astype(dtype, copy=False)


def _weighted_mean(total: Tensor, weight_sum: np.ndarray) -> Tensor:
    # all targets ignored: PyTorch returns nan (0 / 0); say so without a NumPy warning.
    # weight_sum stays an array (a float() of it would be a value compile must guard on)
    return total * float("nan") if weight_sum == 0 else total / weight_sum


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
    picked = gather(x, class_dim, np.expand_dims(safe, class_dim)).squeeze(class_dim)
    target_weights = _target_weights(weight, safe, ignored, x.dtype)
    losses = -picked * target_weights
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return _weighted_mean(losses.sum(), target_weights.sum())


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
        raise ShapeError("cross_entropy: input must have a class dim, got a 0-d tensor")
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
        smooth = _weighted_mean(smooth.sum(),
                                _target_weights(weight_values, safe, ignored, x.dtype).sum())
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
    return _weighted_mean(-terms.sum(), np.asarray(count, dtype=log_probs.dtype))


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
    if ((t.data < 0) | (t.data > 1)).any():
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 "
                         "and 1")
    if t.dtype != x.dtype:
        t = t.to(x.dtype)
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
    if t.dtype != x.dtype:
        t = t.to(x.dtype)
    log_weight = 1 if pos_weight is None else 1 + (_as_tensor(pos_weight) - 1) * t
    loss = (1 - t) * x - log_weight * logsigmoid(x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


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

    The mask comes from ``generator`` (default: abdou_torch.random's default generator, so
    ``manual_seed`` makes it reproducible). ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _float_tensor(input, "dropout")
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros((), dtype=x.dtype)
    keep = resolve(generator).random(x.shape) >= p
    return x * (keep * (1.0 / (1.0 - p))).astype(x.dtype)


# Convolution, pooling and normalisation functions, written in their own ops families.
from ..ops.conv import *  # noqa: F401,F403,E402
from ..ops.pooling import *  # noqa: F401,F403,E402
from ..ops.normalization import *  # noqa: F401,F403,E402
# Attention, written in the ops family of its own.
from ..ops.attention import (multi_head_attention_forward,  # noqa: F401,E402
                             scaled_dot_product_attention)
