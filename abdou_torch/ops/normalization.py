"""Normalisation and lookup: batch_norm, layer_norm, embedding, dropout2d.

Eval-mode ``batch_norm`` and ``dropout2d`` are composites of existing primitives (no
backward of their own). Training-mode ``batch_norm`` is one fused primitive for speed: it
runs after every convolution of a CNN, and the composite would make about ten passes over
the activations forward and twenty backward. Its backward is still written with Tensor ops,
so ``create_graph`` works through it. ``layer_norm`` is one primitive for the same reason
(twice per Transformer block); its recorded backward recomputes the normalised input from
the input with Tensor ops and runs the same formula on them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..autograd.namespace import ARRAYS
from ..errors import ShapeError
from ..random import Generator, resolve
from .elementwise import _as_tensor, _maximum_with_zero, _passes_gradient, relu
from .shape import IndexAdd
from .workspace import workspace

__all__ = ["batch_norm", "batch_norm_relu", "layer_norm", "embedding", "dropout2d"]


def _tensor(array: np.ndarray):
    from ..tensor import Tensor
    return Tensor._wrap(array, False)


def _channel_view(ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The dims batch norm reduces over (all but dim 1) and the shape that broadcasts a
    per-channel vector against the input."""
    axes = (0,) + tuple(range(2, ndim))
    return axes, (1, -1) + (1,) * (ndim - 2)


def _per_channel(x: np.ndarray) -> np.ndarray:
    """(N, C, ...) viewed as (N, C, L)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


# The largest (C, L) plane that _channel_rows lays out in full.
_ROWS_MAX_BYTES = 1 << 18


def _channel_rows(vector: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """A per-channel vector (C,) as an operand against ``flat`` (N, C, L): repeated along L
    into a contiguous (1, C, L) plane, so that NumPy runs the op in its fast array-array
    loop a whole sample (C*L values) at a time. Broadcasting (1, C, 1) instead makes N*C
    inner loops of L values each, slower for a CNN's activations (benchmarks/RESULTS.md).
    Planes over _ROWS_MAX_BYTES broadcast."""
    channels, length = flat.shape[1:]
    column = np.asarray(vector, dtype=flat.dtype).reshape(1, channels, 1)
    if length == 1 or channels * length * flat.itemsize > _ROWS_MAX_BYTES:
        return column
    return np.repeat(column, length, axis=2)


class BatchNorm(Primitive):
    """Training-mode batch norm; statistics over all dims but the channel dim (M values each):

        mean = sum(x) / M,  var = sum((x - mean)^2) / M,  xhat = (x - mean) / sqrt(var + eps)
        y = w * xhat + b

        dx = w / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
        dw = sum(dy * xhat),  db = sum(dy)
    """

    name = "batch_norm"

    def forward(self, x, weight, bias, eps: float):
        self.eps = eps
        flat = _per_channel(x)
        count = flat.shape[0] * flat.shape[2]
        # per-channel sums as einsum contractions over the (N, C, L) view: one pass each,
        # no squared temporary, and faster than sum over axes (0, 2)
        self.mean = np.einsum("ncl->c", flat) / count
        # x - mean is kept rather than xhat: y = (x - mean) * (w / sqrt(var + eps)) + b
        # then needs one pass fewer, and backward folds 1/sqrt(var + eps) into its
        # per-channel factors
        centered = np.subtract(flat, _channel_rows(self.mean, flat),
                               out=workspace.empty(flat.shape, x.dtype))
        self.centered = centered.reshape(x.shape)
        self.var = np.einsum("ncl,ncl->c", centered, centered) / count
        self.invstd = (1.0 / np.sqrt(self.var.astype(np.float64) + eps)).astype(x.dtype)
        scale = self.invstd if weight is None else self.invstd * weight
        y = np.multiply(centered, _channel_rows(scale, flat),
                        out=workspace.empty(flat.shape, x.dtype))
        if bias is not None:
            y += _channel_rows(bias, flat)
        return y.reshape(x.shape)

    def backward(self, xp, dy):
        if xp.arrays:
            return self._backward_fused(dy)
        return self._formula(xp, dy)

    def _formula(self, xp, dy):
        """The gradient as stated in the class docstring, with xhat and 1/sqrt(var + eps)
        rebuilt from x, so that under create_graph they carry their dependence on x into
        the second derivative."""
        x, weight = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_w, need_b = self.needs_input_grad[:3]
        axes, shape = _channel_view(dy.ndim)
        inv_count = dy.shape[1] / math.prod(dy.shape)
        centered = x - xp.sum(x, axes, True) * inv_count
        invstd = (xp.sum(centered * centered, axes, True) * inv_count + self.eps) ** -0.5
        xhat = centered * invstd
        dy_sum = xp.sum(dy, axes)
        dy_xhat_sum = xp.sum(dy * xhat, axes)
        dx = None
        if need_x:
            scale = invstd if weight is None else weight.reshape(shape) * invstd
            dx = (dy - (dy_sum * inv_count).reshape(shape)
                  - xhat * (dy_xhat_sum * inv_count).reshape(shape)) * scale
        return dx, (dy_xhat_sum if need_w else None), (dy_sum if need_b else None)

    def _backward_fused(self, dy):
        """Fast path of ``_formula`` on arrays, from the values the forward kept, in four
        passes over the activations once the two per-channel sums are known: with
        c = x - mean, r = 1 / sqrt(var + eps), s = w r, m1 = mean(dy) and
        m2 = mean(dy * xhat) = r mean(dy * c), dx = (dy - m1) s - (s m2 r) c."""
        weight = self.inputs[1]
        need_x, need_w, need_b = self.needs_input_grad[:3]
        flat_dy, centered = _per_channel(dy), _per_channel(self.centered)
        dy_sum = np.einsum("ncl->c", flat_dy)
        dy_xhat_sum = np.einsum("ncl,ncl->c", flat_dy, centered) * self.invstd
        dx = None
        if need_x:
            count = flat_dy.shape[0] * flat_dy.shape[2]
            scale = self.invstd if weight is None else weight.data * self.invstd
            dx = np.subtract(flat_dy, _channel_rows(dy_sum * (1.0 / count), flat_dy),
                             out=workspace.empty(flat_dy.shape, dy.dtype))
            dx *= _channel_rows(scale, flat_dy)
            dx -= np.multiply(centered, _channel_rows(scale * self.invstd * dy_xhat_sum
                                                      * (1.0 / count), flat_dy),
                              out=workspace.empty(flat_dy.shape, dy.dtype))
            dx = dx.reshape(dy.shape)
        return dx, (dy_xhat_sum if need_w else None), (dy_sum if need_b else None)


class BatchNormReLU(BatchNorm):
    """Training-mode batch norm followed by ReLU, one primitive (``nn.Sequential`` uses it
    for a BatchNorm module followed by a ReLU module, see ``nn/layers.py``):

        y = max(z, 0),  z = batch_norm(x)  (``BatchNorm``)
        dz = dy * [not y <= 0]  (ReLU's gradient, with y <= 0 exactly where z <= 0)
        dx, dw, db = BatchNorm's gradient at dz

    The formula is the two primitives' composed; the fused forward takes the maximum in
    place (no separate BN output) and the graph has one node instead of two. The mask is
    read from the output, so modifying the output in place before backward raises, as it
    does after PyTorch's ReLU (which also keeps its result).
    """

    name = "batch_norm_relu"
    saves_output = True

    def forward(self, x, weight, bias, eps: float):
        y = super().forward(x, weight, bias, eps)
        if y.dtype.kind == "f" and y.flags.c_contiguous:
            flat = y.reshape(-1)
            _maximum_with_zero(flat, flat)
        else:
            np.maximum(y, 0, out=y)
        return y

    def backward(self, xp, dy):
        passes = _passes_gradient(self.output.data)
        if xp.arrays:
            dz = np.multiply(dy, passes, out=workspace.empty(dy.shape, dy.dtype))
            return self._backward_fused(dz)
        return self._formula(xp, dy * passes)


def _check_channel_vector(name: str, value: Any, channels: int, shape: tuple):
    if value is None:
        return None
    value = _as_tensor(value)
    if value.shape != (channels,):
        raise ShapeError(f"batch_norm: {name} of shape {tuple(value.shape)} does not match the "
                         f"{channels} channels of input of shape {shape}")
    return value


def _empty_batch(x: Any, weight: Any, bias: Any):
    """Batch norm of a batch without values, as PyTorch: the (empty) input's shape, the
    running statistics untouched, zero gradients for weight and bias (selected, not
    multiplied, so that nothing becomes NaN)."""
    from .elementwise import Where
    from .reduce import sum as _sum
    out = x
    for parameter in (weight, bias):
        if parameter is not None:
            out = Where.apply(np.ones((), dtype=bool), out, _sum(parameter))
    return out if out is not x else x.clone()


def batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any = None,  # noqa: A002
               bias: Any = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5):
    """Normalise each channel (dim 1) of ``input`` (N, C, ...), as
    ``torch.nn.functional.batch_norm``.

    Training: batch statistics normalise (biased variance), and the running statistics, when
    given, are updated in place: r <- (1 - momentum) r + momentum * stat, with the unbiased
    variance. Otherwise the running statistics normalise.
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps, False)


def batch_norm_relu(input: Any, running_mean: Any, running_var: Any,  # noqa: A002
                    weight: Any = None, bias: Any = None, training: bool = False,
                    momentum: float = 0.1, eps: float = 1e-5):
    """relu(batch_norm(...)) with the same arguments, one primitive in training
    (``BatchNormReLU``); in evaluation, the two ops."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps, True)


def _batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any,  # noqa: A002
                bias: Any, training: bool, momentum: float, eps: float, then_relu: bool):
    x = _as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of at least 2 dims (N, C, ...), got "
                         f"shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: expected a floating-point input, got {x.dtype}")
    channels, shape = x.shape[1], tuple(x.shape)
    running_mean = _check_channel_vector("running_mean", running_mean, channels, shape)
    running_var = _check_channel_vector("running_var", running_var, channels, shape)
    weight = _check_channel_vector("weight", weight, channels, shape)
    bias = _check_channel_vector("bias", bias, channels, shape)
    weight = weight if weight is None or weight.dtype == x.dtype else weight.to(x.dtype)
    bias = bias if bias is None or bias.dtype == x.dtype else bias.to(x.dtype)
    _, view = _channel_view(x.ndim)
    if training:
        if x.data.size == 0:
            return _empty_batch(x, weight, bias)
        count = x.data.size // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(x.shape)}")
        out = _batch_norm_training(x, weight, bias, float(eps), then_relu)
        node = out._ctx if isinstance(out._ctx, BatchNorm) else None
        if running_mean is not None or running_var is not None:
            if node is None:  # not recorded (no grad needed): the statistics again
                axes, _ = _channel_view(x.ndim)
                mean, var = x.data.mean(axis=axes), x.data.var(axis=axes)
            else:
                mean, var = node.mean.reshape(-1), node.var
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (count / (count - 1)), momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not "
                         "training")
    invstd = 1.0 / np.sqrt(running_var.data.astype(np.float64) + eps)
    scale = _tensor(invstd.astype(x.dtype))
    if weight is not None:
        scale = weight * scale
    shift = -(_tensor(running_mean.data.astype(x.dtype)) * scale)
    if bias is not None:
        shift = shift + bias
    out = x * scale.reshape(view) + shift.reshape(view)
    return relu(out) if then_relu else out


def _batch_norm_training(x: Any, weight: Any, bias: Any, eps: float, then_relu: bool):
    """The training primitive; float16 runs in float32, as PyTorch's CPU kernel computes
    half in float (a float16 dx is otherwise off by a float16 rounding of each statistic:
    -0.0039 against PyTorch's -0.0023 for a batch of two)."""
    primitive = BatchNormReLU if then_relu else BatchNorm
    if x.dtype != np.float16:
        return primitive.apply(x, weight, bias, eps)
    wide = [None if t is None else t.to(np.float32) for t in (x, weight, bias)]
    return primitive.apply(*wide, eps).to(np.float16)  # running statistics: from x again


def _update_running(running: Any, statistic: np.ndarray, momentum: float) -> None:
    if running is None:
        return
    running.data[...] = (1.0 - momentum) * running.data + momentum * statistic
    running._version += 1


def layer_norm(input: Any, normalized_shape: Any,  # noqa: A002
               weight: Any = None, bias: Any = None, eps: float = 1e-5):
    """Normalise over the last dims given by ``normalized_shape`` (biased variance), then
    scale by ``weight`` and shift by ``bias`` (one primitive, :class:`LayerNorm`):
    y = (x - mean) / sqrt(var + eps) * weight + bias."""
    x = _as_tensor(input)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    count = len(normalized_shape)
    if count == 0 or x.shape[x.ndim - count:] != normalized_shape or count > x.ndim:
        raise ShapeError(f"layer_norm: normalized_shape {normalized_shape} does not match the "
                         f"last dims of input of shape {tuple(x.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != normalized_shape:
            raise ShapeError(f"layer_norm: {name} of shape {tuple(value.shape)} does not "
                             f"match normalized_shape {normalized_shape}")
    dims = tuple(range(x.ndim - count, x.ndim))
    if x.dtype == np.float16:  # PyTorch computes half in float: 300^2 overflows float16
        wide = [None if t is None else _as_tensor(t).to(np.float32) for t in (weight, bias)]
        return LayerNorm.apply(x.to(np.float32), *wide, dims, float(eps)).to(np.float16)
    return LayerNorm.apply(x, weight, bias, dims, float(eps))


def _normalized(x, dims: tuple[int, ...], eps: float, xp):
    """x_hat = (x - mean) r and r = 1 / sqrt(var + eps) over ``dims`` (biased variance)."""
    count = math.prod(x.shape[d] for d in dims)
    centered = x - xp.sum(x, dims, True) * (1.0 / count)
    r = (xp.sum(centered * centered, dims, True) * (1.0 / count) + eps) ** -0.5
    return centered * r, r


def _rows_fit(x: np.ndarray, count: int) -> bool:
    """Whether the row kernels below serve ``x`` normalised over its last ``count`` dims:
    float32 or float64 (BLAS products), and rows that are not empty."""
    return x.dtype in (np.float32, np.float64) and x.size > 0 and x.shape[-1] > 0 and \
        count <= x.ndim


def _normalized_rows(x: np.ndarray, count: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Fast path of :func:`_normalized` on arrays, over the last ``count`` dims seen as rows
    of n values: the row means and the row sums of squares are matrix-vector products
    (x @ 1/n, one BLAS call each) instead of reductions, and the centring and the scaling
    are done in place: five passes over x."""
    n = math.prod(x.shape[x.ndim - count:])
    rows = x.reshape(-1, n)
    centered = rows - (rows @ np.full(n, 1.0 / n, dtype=x.dtype))[:, None]
    variance = np.einsum("ij,ij->i", centered, centered)
    variance *= 1.0 / n
    variance += eps
    r = np.sqrt(variance, out=variance)
    np.divide(1, r, out=r)
    centered *= r[:, None]
    keep = x.shape[:x.ndim - count] + (1,) * count
    return centered.reshape(x.shape), r.reshape(keep)


class LayerNorm(Primitive):
    """y = x_hat w + b,  x_hat = (x - mean) / sqrt(var + eps) over the last dims ``dims``.

    With g = dy w and means over ``dims``:
    dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + eps),  dw = dy x_hat,  db = dy
    (dw and db are summed over the leading dims by the engine, which undoes broadcasting).

    Fast paths on float32 and float64 arrays: :func:`_normalized_rows` for the forward and
    :meth:`_backward_rows` for the backward (the same formulas on rows, with BLAS
    matrix-vector products for the means and the sums over leading dims).
    """

    name = "layer_norm"

    def forward(self, x, weight, bias, dims: tuple[int, ...], eps: float):
        self.dims, self.eps = dims, eps
        if _rows_fit(x, len(dims)):
            self.x_hat, self.r = _normalized_rows(x, len(dims), eps)
        else:
            self.x_hat, self.r = _normalized(x, dims, eps, ARRAYS)
        out = self.x_hat if weight is None else self.x_hat * weight
        if bias is None:
            return out
        if out is self.x_hat:
            return out + bias
        out += bias
        return out

    def backward(self, xp, dy):
        if xp.arrays and _rows_fit(dy, len(self.dims)):
            return self._backward_rows(dy)
        return self._formula(xp, dy)

    def _formula(self, xp, dy):
        x, weight = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_weight, need_bias = self.needs_input_grad[:3]
        # x_hat and r: kept by the forward on arrays; rebuilt from x under create_graph
        x_hat, r = (self.x_hat, self.r) if xp.arrays else _normalized(x, self.dims,
                                                                        self.eps, xp)
        dx = None
        if need_x:
            g = dy if weight is None else dy * weight
            count = math.prod(dy.shape[d] for d in self.dims)
            dx = (g - xp.sum(g, self.dims, True) * (1.0 / count)
                  - x_hat * (xp.sum(g * x_hat, self.dims, True) * (1.0 / count))) * r
        return dx, (dy * x_hat if need_weight else None), (dy if need_bias else None)

    def _backward_rows(self, dy):
        """:meth:`_formula` on rows of n values: the row means of g and g x_hat and the
        column sums of dw and db as matrix-vector products, dx built in place in g."""
        need_x, need_weight, need_bias = self.needs_input_grad[:3]
        weight = self.inputs[1].data if self.inputs[1] is not None else None
        normalized_shape = dy.shape[dy.ndim - len(self.dims):]
        n = math.prod(normalized_shape)
        dy_rows, x_hat = dy.reshape(-1, n), self.x_hat.reshape(-1, n)
        dx = dw = db = None
        if need_x:
            g = dy_rows * weight.reshape(-1) if weight is not None else dy_rows.copy()
            mean_g = g @ np.full(n, 1.0 / n, dtype=g.dtype)
            mean_gx = np.einsum("ij,ij->i", g, x_hat)
            mean_gx *= 1.0 / n
            g -= mean_g[:, None]
            g -= x_hat * mean_gx[:, None]
            g *= self.r.reshape(-1, 1)
            dx = g.reshape(dy.shape)
        if need_weight or need_bias:
            ones = np.ones(dy_rows.shape[0], dtype=dy.dtype)
            if need_weight:
                dw = (ones @ (dy_rows * x_hat)).reshape(normalized_shape)
            if need_bias:
                db = (ones @ dy_rows).reshape(normalized_shape)
        return dx, dw, db


class Embedding(Primitive):
    """y[..., :] = weight[indices[...], :];  dweight = zeros with the rows of dy added at
    their indices (a row of ``padding_idx`` receives nothing)."""

    name = "embedding"
    saves_inputs = False

    def forward(self, weight, indices: np.ndarray, padding_idx: int | None):
        self.indices, self.padding_idx, self.shape = indices, padding_idx, weight.shape
        return np.take(weight, indices, axis=0)

    def backward(self, xp, dy):
        if self.padding_idx is not None:
            # selected, not multiplied: an infinite dy there must not become NaN
            dy = xp.where((self.indices != self.padding_idx)[..., None], dy,
                          np.zeros((), dtype=dy.dtype))
        return xp.apply(IndexAdd, dy, self.shape, (self.indices,))


def embedding(input: Any, weight: Any, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer tensor ``input``, as
    ``torch.nn.functional.embedding``; ``padding_idx``'s row gets no gradient."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    weight = _as_tensor(weight)
    indices = np.asarray(input.data if hasattr(input, "data") else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {indices.dtype}")
    if padding_idx and weight.ndim == 0:  # PyTorch reads weight.size(0) for it first
        raise IndexError("embedding: padding_idx needs num_embeddings, but weight is 0-d")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    rows = weight.shape[0]
    # a negative index is an error, as in PyTorch (NumPy would count it from the end)
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        bad = indices.max() if indices.max() >= rows else indices.min()
        raise IndexError(f"embedding: index {int(bad)} is out of range for {rows} embeddings "
                         f"(indices must lie in [0, {rows}))")
    if padding_idx is not None:
        if padding_idx and not -rows <= padding_idx < rows:  # 0 is never checked by PyTorch
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for "
                             f"{rows} embeddings")
        padding_idx = int(padding_idx) % rows if rows else None  # no rows: nothing to pad
    return Embedding.apply(weight, indices.astype(np.int64, copy=False), padding_idx)


def dropout2d(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator: Generator | None = None):
    """Zero whole channels with probability ``p`` and scale the rest by 1/(1 - p), as
    ``torch.nn.functional.dropout2d``: input (N, C, H, W) or (C, H, W); the mask has
    shape (N, C, 1, 1). ``inplace`` is accepted, but the result is always a new tensor."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    x = _as_tensor(input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    mask_shape = x.shape[:-2] + (1, 1)
    if p == 1.0:
        return x * _tensor(np.zeros(mask_shape, dtype=x.dtype))
    keep = resolve(generator).random(mask_shape) >= p
    return x * _tensor((keep * (1.0 / (1.0 - p))).astype(x.dtype))

