"""Connectionist temporal classification loss (Graves et al., 2006), PyTorch's ctc_loss.

For one sequence with log-probabilities lp[t, c] (T steps, C classes, class ``blank``) and
target l of length L, the extended target l' = (blank, l1, blank, l2, ..., lL, blank) has
S = 2L + 1 states. In log space (⊕ = logaddexp):

    α[0, 0] = lp[0, blank],  α[0, 1] = lp[0, l1]
    α[t, s] = (α[t−1, s] ⊕ α[t−1, s−1] ⊕ α[t−1, s−2]·[l'_s ≠ blank, l'_s ≠ l'_{s−2}]) + lp[t, l'_s]
    nll = −(α[T−1, S−1] ⊕ α[T−1, S−2])

and β the same recursion run backwards from the last two states. The gradient is
PyTorch's formula,

    dlp[t, c] = exp(lp[t, c]) − exp(⊕_{s: l'_s = c} (α[t, s] + β[t, s]) + nll − lp[t, c])

(zero for t beyond the sequence's length), which is the gradient with respect to the
logits when lp = log_softmax(logits); the exp(lp) term vanishes through log_softmax. The
recursions run in float64. Like PyTorch's, this backward is not differentiable again.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _shift(row: np.ndarray, by: int) -> np.ndarray:
    """row moved right by ``by`` states (−inf coming in): the predecessors of each state."""
    return np.concatenate([np.full(by, _NEG_INF), row[:-by]]) if by < row.size else \
        np.full(row.size, _NEG_INF)


def _one_sequence(lp: np.ndarray, target: np.ndarray, blank: int) -> tuple[float, np.ndarray]:
    """nll and the gradient table (T, C) of one sequence, lp of shape (T, C) in float64."""
    steps, classes = lp.shape
    length = target.size
    if steps == 0:
        return (0.0 if length == 0 else np.inf), np.zeros((0, classes))
    ext = np.full(2 * length + 1, blank, np.int64)
    ext[1::2] = target
    states = ext.size
    skip = np.zeros(states, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    emit = lp[:, ext]                                            # (T, S)
    alpha = np.full((steps, states), _NEG_INF)
    alpha[0, :min(2, states)] = emit[0, :min(2, states)]
    for t in range(1, steps):
        prev = alpha[t - 1]
        total = np.logaddexp(prev, _shift(prev, 1))
        total = np.where(skip, np.logaddexp(total, _shift(prev, 2)), total)
        alpha[t] = total + emit[t]
    beta = np.full((steps, states), _NEG_INF)
    beta[-1, max(states - 2, 0):] = emit[-1, max(states - 2, 0):]
    skip_back = np.zeros(states, bool)
    skip_back[:-2] = skip[2:]  # state s may jump to s + 2
    for t in range(steps - 2, -1, -1):
        nxt = beta[t + 1]
        total = np.logaddexp(nxt, _shift(nxt[::-1], 1)[::-1])
        total = np.where(skip_back, np.logaddexp(total, _shift(nxt[::-1], 2)[::-1]), total)
        beta[t] = total + emit[t]
    last = alpha[-1, -1] if states == 1 else np.logaddexp(alpha[-1, -1], alpha[-1, -2])
    nll = -float(last)
    both = alpha + beta
    lcab = np.full((steps, classes), _NEG_INF)
    for c in np.unique(ext):
        lcab[:, c] = np.logaddexp.reduce(both[:, ext == c], axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        grad = np.exp(lp) - np.exp(lcab + nll - lp)
    return nll, grad


class CTCLoss(Primitive):
    """nll[n] of each sequence (see the module docstring); dlp = dy[n] · G[t, n, c]."""

    name = "ctc_loss"
    torch_grad_fn = "CtcLossBackward0"

    def forward(self, log_probs: np.ndarray, targets: list[np.ndarray], lengths: np.ndarray,
                blank: int, zero_infinity: bool) -> np.ndarray:
        steps, batch, classes = log_probs.shape
        lp64 = log_probs.astype(np.float64)
        nll = np.zeros(batch)
        table = np.zeros((steps, batch, classes))
        for n in range(batch):
            value, grad = _one_sequence(lp64[:lengths[n], n], targets[n], blank)
            if zero_infinity and value == np.inf:
                continue  # loss and gradient 0
            nll[n] = value
            table[:lengths[n], n] = grad
        self.table = table.astype(log_probs.dtype)
        return nll.astype(log_probs.dtype)

    def backward(self, xp: Any, dy: Any) -> Any:
        # log_probs goes in too: under create_graph the result depends on it (and says so
        # by refusing a second derivative, as PyTorch's does)
        return xp.apply(_CTCLossGrad, dy, xp.value(self.inputs[0]), self.table)


class _CTCLossGrad(Primitive):
    """dlp = dy[n] · G[t, n, c]; not differentiable again (as in PyTorch)."""

    name = "ctc_loss_backward"
    saves_inputs = False

    def forward(self, dy: np.ndarray, log_probs: np.ndarray, table: np.ndarray) -> np.ndarray:
        return table * dy[None, :, None]

    def backward(self, xp: Any, dy: Any) -> Any:
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


def _lengths(values: Any, batch: int, name: str) -> np.ndarray:
    array = np.asarray(values.data if isinstance(values, Tensor) else values)
    if array.dtype.kind not in "iu" and array.size:
        raise RuntimeError(f"ctc_loss: {name} must be integers, got {array.dtype}")
    array = array.reshape(-1).astype(np.int64)
    if array.size != batch:
        raise RuntimeError(f"{name} must be of size batch_size ({batch}), got {array.size}")
    return array


def _split_targets(targets: np.ndarray, target_lengths: np.ndarray, batch: int) -> list:
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise RuntimeError(f"ctc_loss: targets of shape {list(targets.shape)} do not have "
                               f"batch size {batch}")
        longest = int(target_lengths.max()) if target_lengths.size else 0
        if longest > targets.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension "
                               f"1, but got size {targets.shape[1]} for argument #2 'targets' "
                               f"(while checking arguments for ctc_loss_cpu)")
        return [targets[n, :target_lengths[n]] for n in range(batch)]
    if targets.ndim != 1:
        raise RuntimeError(f"ctc_loss: targets must be 1-D (concatenated) or 2-D (padded), "
                           f"got shape {list(targets.shape)}")
    if int(target_lengths.sum()) > targets.size:
        raise RuntimeError(f"ctc_loss: the target lengths add up to {int(target_lengths.sum())} "
                           f"but only {targets.size} targets were given")
    bounds = np.concatenate([[0], np.cumsum(target_lengths)])
    return [targets[bounds[n]:bounds[n + 1]] for n in range(batch)]


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of (T, N, C) (or (T, C)) log-probabilities against targets, padded (N, S)
    or concatenated (Σ target_lengths,); 'mean' divides each loss by its target length
    (at least 1) and averages over the batch, as PyTorch does."""
    from ..nn.functional import _reduce
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    lp = _as_tensor(log_probs)
    if lp.dtype.kind != "f":
        raise RuntimeError(f"ctc_loss: log_probs must be floating point, got {lp.dtype}")
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp.unsqueeze(1)
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be 3-D (T, N, C) or 2-D (T, C), got "
                           f"shape {list(lp.shape)}")
    steps, batch, classes = lp.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"blank must be in label range, got blank={blank} for {classes} "
                           f"classes")
    inputs = _lengths(input_lengths, batch, "input_lengths")
    lengths = _lengths(target_lengths, batch, "target_lengths")
    if inputs.size and (inputs.max() > steps or inputs.min() < 0):
        bad = int(inputs.max() if inputs.max() > steps else inputs.min())
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                           f"value {bad} (while checking arguments for ctc_loss_cpu)")
    if lengths.size and lengths.min() < 0:
        raise RuntimeError(f"ctc_loss: target lengths must be non-negative, got "
                           f"{lengths.tolist()}")
    labels = np.asarray(_as_tensor(targets).data)
    if unbatched:  # one padded target (S,)
        labels = labels.reshape(1, -1)
    pieces = _split_targets(labels.astype(np.int64), lengths, batch)
    for piece in pieces:
        if piece.size and (piece.min() < 0 or piece.max() >= classes or np.any(piece == blank)):
            raise RuntimeError(f"ctc_loss: target labels must lie in [0, {classes}) and differ "
                               f"from blank={blank}, got {piece.tolist()}")
    nll = CTCLoss.apply(lp, pieces, inputs, blank, bool(zero_infinity))
    if reduction == "mean":
        divisor = Tensor._wrap(np.maximum(lengths, 1).astype(nll.data.dtype), False)
        return (nll / divisor).mean()
    result = _reduce(nll, reduction)
    return result.reshape(()) if unbatched and reduction == "none" else result


