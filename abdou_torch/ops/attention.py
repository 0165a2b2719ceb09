"""Attention: scaled dot-product attention as one primitive, and multi-head attention.

- :class:`ScaledDotProductAttention` is softmax(q k^T scale + bias) v (with dropout on the
  weights) as one node, its math in its docstring: the scores, the weights and their
  gradients, the largest arrays of a Transformer, are made once each.
- ``scaled_dot_product_attention`` and ``multi_head_attention_forward`` follow PyTorch's
  functions of the same names: argument checks, mask rules, shapes and results.

Mask rules, as in PyTorch: for ``scaled_dot_product_attention`` a boolean ``attn_mask`` is
True where a query may attend ("take part"); for ``multi_head_attention_forward`` (and
``nn.MultiheadAttention``, ``nn.Transformer*``) a boolean mask is True where attention is
*not* allowed. A float mask is added to the scores in both. A query row that may attend to
nothing gets zero output from ``scaled_dot_product_attention``; the explicit softmax of
``need_weights=True`` gives nan there, as PyTorch's does.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..autograd.namespace import ARRAYS
from ..errors import ShapeError
from .. import random_sampling
from ..tensor import Tensor
from .elementwise import _as_tensor
from .linalg import linear
from .shape import cat
from .softmax import Softmax

__all__ = ["ScaledDotProductAttention", "scaled_dot_product_attention",
           "multi_head_attention_forward"]


def _attention_weights_array(scores: np.ndarray) -> np.ndarray:
    """Softmax along the last dim, in place of ``scores`` (stable: the row maximum is
    subtracted first); a row of -inf, a query that may attend to nothing, gives zeros."""
    shift = np.max(scores, axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)  # no branch on values: see compile.py
    scores -= shift
    np.exp(scores, out=scores)
    total = np.sum(scores, axis=-1, keepdims=True)
    total[total == 0] = 1
    scores /= total
    return scores


def _attention_weights(xp, scores):
    """The same on this walk's values. On Tensors: the softmax primitive, with rows of -inf
    replaced by zeros before and zeroed after (their weights and gradients are 0)."""
    if xp.arrays:
        return _attention_weights_array(scores)
    empty = np.all(np.isneginf(scores.data), axis=-1, keepdims=True)
    if not empty.any():
        return Softmax.apply(scores, scores.ndim - 1)
    weights = Softmax.apply(xp.where(empty, 0.0, scores), scores.ndim - 1)
    return weights * (~empty).astype(scores.dtype)


class ScaledDotProductAttention(Primitive):
    """o = P' v,  P' = P * keep,  P = softmax(s),  s = q k^T scale + bias

    (batched over the leading dims, which broadcast; ``keep`` the dropout factors, 0 or
    1 / (1 - p), None without dropout; a row of s that is all -inf gives P = 0).
    With dP' = do v^T:

    dv = P'^T do,   dP = dP' * keep,   ds = P (dP - sum_j(dP P)),
    dq = ds k scale,   dk = ds^T q scale,   dbias = ds.

    On the training walk the backward reads the P the forward kept; under create_graph it
    recomputes P from the inputs with Tensor ops and runs the same formula on Tensors.
    """

    name = "scaled_dot_product_attention"

    def forward(self, q, k, v, bias, scale: float, keep: np.ndarray | None):
        self.scale, self.keep = scale, keep
        self.weights = self._weights(ARRAYS, q, k, bias)
        dropped = self.weights if keep is None else self.weights * keep
        try:
            return dropped @ v
        except ValueError:
            raise ShapeError(f"scaled_dot_product_attention: attention weights of shape "
                             f"{dropped.shape} do not fit value of shape {v.shape}") from None

    def _weights(self, xp, q, k, bias):
        scores = (q @ xp.swapaxes(k, -1, -2)) * self.scale
        if bias is not None:
            scores = scores + bias
        return _attention_weights(xp, scores)

    def backward(self, xp, do):
        q, k, v, bias = (xp.value(a) for a in self.inputs[:4])
        need_q, need_k, need_v, need_bias = self.needs_input_grad[:4]
        weights = self.weights if xp.arrays else self._weights(xp, q, k, bias)
        keep = self.keep
        dropped = weights if keep is None else weights * keep
        dv = xp.swapaxes(dropped, -1, -2) @ do if need_v else None
        dq = dk = dbias = None
        if need_q or need_k or need_bias:
            dp = do @ xp.swapaxes(v, -1, -2)
            if keep is not None:
                dp = dp * keep
            product = dp * weights
            ds = product - weights * xp.sum(product, (-1,), True)
            dq = (ds @ k) * self.scale if need_q else None
            dk = (xp.swapaxes(ds, -1, -2) @ q) * self.scale if need_k else None
            dbias = ds if need_bias else None
        return dq, dk, dv, dbias


def _dropout_keep(shape_: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """The inverted-dropout factors, drawn as ``F.dropout`` draws them (PyTorch's math
    attention applies dropout to the weights): bernoulli(1 - p) / (1 - p), so a seeded
    program gets PyTorch's masks."""
    if p >= 1.0:
        return np.zeros(shape_, dtype=dtype)
    keep = 1.0 - p
    noise = random_sampling.bernoulli_(Tensor._wrap(np.empty(shape_, dtype=dtype), False),
                                       keep).data
    noise /= np.dtype(dtype).type(keep)
    return noise


def _check_attention_inputs(q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"scaled_dot_product_attention: Expected query, key, and value to all "
                         f"be at least 2 dimensional, but got query.dim: {q.ndim} key.dim: "
                         f"{k.ndim} and value.dim: {v.ndim} instead.")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"scaled_dot_product_attention: Expected query, key, and value to have "
                        f"the same dtype, but got query.dtype: {q.dtype} key.dtype: {k.dtype} "
                        f"and value.dtype: {v.dtype} instead.")
    if q.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: expected floating-point inputs, got "
                        f"{q.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"scaled_dot_product_attention: query of shape {tuple(q.shape)} and "
                         f"key of shape {tuple(k.shape)} must have the same last dim")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: key of shape {tuple(k.shape)} and "
                         f"value of shape {tuple(v.shape)} must have the same sequence length "
                         f"(dim -2)")


def _repeat_heads(q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """Grouped-query attention: each key/value head serves q_heads / kv_heads query heads
    (``repeat_interleave`` along dim -3)."""
    if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
        return k, v
    heads = q.shape[-3]
    for name, tensor in (("key", k), ("value", v)):
        if heads % tensor.shape[-3]:
            raise ShapeError(f"scaled_dot_product_attention: Number of heads in key and value "
                             f"must divide the number of heads in query; query has {heads}, "
                             f"{name} has {tensor.shape[-3]}")
    repeated = []
    for tensor in (k, v):
        group = heads // tensor.shape[-3]
        if group == 1:
            repeated.append(tensor)
            continue
        index = (Ellipsis, np.repeat(np.arange(tensor.shape[-3]), group), slice(None),
                 slice(None))
        repeated.append(tensor[index])
    return repeated[0], repeated[1]


def _attention_bias(attn_mask: Any, is_causal: bool, q: Tensor, k: Tensor):
    """The additive bias of the scores: a float mask as is, a boolean mask as 0 / -inf
    (True = take part), or the causal mask (query i sees keys j <= i)."""
    length, source = q.shape[-2], k.shape[-2]
    bias = None
    if attn_mask is not None:
        mask = _as_tensor(attn_mask)
        if mask.dtype == np.bool_:
            bias = Tensor._wrap(np.where(mask.data, 0, -np.inf).astype(q.dtype), False)
        elif mask.dtype in (q.dtype, np.float32):  # PyTorch's rule: bool, float, or q's
            bias = mask if mask.dtype == q.dtype else mask.to(q.dtype)
        else:
            raise TypeError(f"scaled_dot_product_attention: Expected attn_mask dtype to be "
                            f"bool or float or to match query dtype, but got attn_mask.dtype: "
                            f"{mask.dtype} and query.dtype: {q.dtype} instead.")
        scores_shape = tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2])) + (length,
                                                                               source)
        try:
            np.broadcast_shapes(tuple(mask.shape), scores_shape)
        except ValueError:
            raise ShapeError(f"scaled_dot_product_attention: attn_mask of shape "
                             f"{tuple(mask.shape)} does not broadcast to the attention scores' "
                             f"shape {scores_shape}") from None
    if is_causal:
        causal = np.where(np.tri(length, source, dtype=bool), 0, -np.inf).astype(q.dtype)
        bias = Tensor._wrap(causal, False)
    return bias


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + bias) value, with dropout ``dropout_p`` on the weights
    (always applied when given, as in PyTorch: pass 0.0 in evaluation).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    dims broadcast. ``scale`` defaults to 1/sqrt(E). ``attn_mask`` broadcasts to
    (..., L, S): boolean (True = take part) or float (added to the scores). ``is_causal``
    lets query i attend to keys j <= i (the top-left triangle); it excludes ``attn_mask``.
    ``enable_gqa`` lets key and value have fewer heads (dim -3) than query, each shared by
    a group of query heads.
    """
    q, k, v = _as_tensor(query), _as_tensor(key), _as_tensor(value)
    _check_attention_inputs(q, k, v)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got "
                         f"{dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if enable_gqa:
        k, v = _repeat_heads(q, k, v)
    bias = _attention_bias(attn_mask, is_causal, q, k)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0.0:
        shape_ = tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2])) + (q.shape[-2],
                                                                         k.shape[-2])
        keep = _dropout_keep(shape_, dropout_p, q.dtype)
    try:
        return ScaledDotProductAttention.apply(q, k, v, bias, scale, keep)
    except ValueError as error:
        if isinstance(error, ShapeError):
            raise
        raise ShapeError(f"scaled_dot_product_attention: batch dims of query "
                         f"{tuple(q.shape)}, key {tuple(k.shape)} and value {tuple(v.shape)} "
                         f"do not broadcast") from None


# -- multi-head attention (PyTorch's functional form) ---------------------------------------------

def _canonical_mask(mask: Any, name: str, dtype: np.dtype) -> Tensor | None:
    """A boolean mask (True = not allowed) as a float mask of 0 / -inf; a float mask as is."""
    if mask is None:
        return None
    mask = _as_tensor(mask)
    if mask.dtype == np.bool_:
        return Tensor._wrap(np.where(mask.data, -np.inf, 0).astype(dtype), False)
    if mask.dtype.kind != "f":
        raise TypeError(f"multi_head_attention_forward: only bool and floating types of "
                        f"{name} are supported, got {mask.dtype}")
    return mask


def _mha_check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any,
                      attn_mask: Any, num_heads: int) -> bool:
    """PyTorch's rank rules; returns whether the input is batched."""
    if query.ndim not in (2, 3):
        raise ShapeError(f"multi_head_attention_forward: query should be unbatched 2D or "
                         f"batched 3D tensor but received {query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind, rank = ("batched (3-D)", 3) if batched else ("unbatched (2-D)", 2)
    if key.ndim != rank or value.ndim != rank:
        raise ShapeError(f"multi_head_attention_forward: For {kind} `query`, expected `key` and "
                         f"`value` to be {rank}-D but found {key.ndim}-D and {value.ndim}-D "
                         f"tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != rank - 1:
        raise ShapeError(f"multi_head_attention_forward: For {kind} `query`, expected "
                         f"`key_padding_mask` to be `None` or {rank - 1}-D but found "
                         f"{key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ShapeError(f"multi_head_attention_forward: For {kind} `query`, expected "
                         f"`attn_mask` to be `None`, 2-D or 3-D but found {attn_mask.ndim}-D "
                         f"tensor instead")
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise ShapeError(f"multi_head_attention_forward: Expected `attn_mask` shape to be "
                             f"{expected} but got {tuple(attn_mask.shape)}")
    return batched


def _in_projection(query: Tensor, key: Tensor, value: Tensor, in_proj_weight: Any,
                   in_proj_bias: Any, separate: tuple | None) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v, with one product
    for self-attention (query is key is value) from the packed (3E, E) weight."""
    biases = (None, None, None) if in_proj_bias is None else \
        tuple(in_proj_bias[i * (in_proj_bias.shape[0] // 3):(i + 1) *
                           (in_proj_bias.shape[0] // 3)] for i in range(3))
    if separate is not None:
        return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), separate, biases))
    embed = in_proj_weight.shape[0] // 3
    if query is key and key is value:
        packed = linear(query, in_proj_weight, in_proj_bias)
        return packed[..., :embed], packed[..., embed:2 * embed], packed[..., 2 * embed:]
    weights = [in_proj_weight[i * embed:(i + 1) * embed] for i in range(3)]
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _heads(x: Tensor, batch: int, heads: int) -> Tensor:
    """(S, N, E) -> (N, heads, S, E / heads)"""
    return x.reshape(x.shape[0], batch, heads, -1).permute(1, 2, 0, 3)


def _append_key(k: Tensor, v: Tensor, masks: list, extra_k: Tensor, extra_v: Tensor):
    """One more key/value position (at the end of the sequence, dim -2); masks get a 0
    column for it (it may always be attended to)."""
    k, v = cat([k, extra_k], -2), cat([v, extra_v], -2)
    padded = []
    for mask in masks:
        if mask is not None:
            column = Tensor._wrap(np.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype), False)
            mask = cat([mask, column], -1)
        padded.append(mask)
    return k, v, padded


def multi_head_attention_forward(
        query: Any, key: Any, value: Any, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Any, in_proj_bias: Any, bias_k: Any, bias_v: Any, add_zero_attn: bool,
        dropout_p: float, out_proj_weight: Any, out_proj_bias: Any, training: bool = True,
        key_padding_mask: Any = None, need_weights: bool = True, attn_mask: Any = None,
        use_separate_proj_weight: bool = False, q_proj_weight: Any = None,
        k_proj_weight: Any = None, v_proj_weight: Any = None, static_k: Any = None,
        static_v: Any = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on sequence-first inputs, as PyTorch's function of this name.

    query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or unbatched (L, E) ...):
    q, k, v = the input projections, split into ``num_heads`` heads of E / num_heads;
    per head o_h = softmax(q_h k_h^T / sqrt(E / num_heads) + mask) v_h; output
    concat_h(o_h) W_out^T + b_out (L, N, E), and the attention weights (N, L, S), averaged
    over heads (or (N, num_heads, L, S)), when ``need_weights``.

    Masks: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N * num_heads, L, S),
    boolean (True = not allowed) or float (added). ``is_causal`` is a hint that
    ``attn_mask`` is the causal mask (it is required); without weights or a padding mask
    the causal mask is then applied by ``scaled_dot_product_attention`` instead.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k and static_v are "
                                  "not supported")
    query, key, value = _as_tensor(query), _as_tensor(key), _as_tensor(value)
    key_padding_mask = None if key_padding_mask is None else _as_tensor(key_padding_mask)
    attn_mask = None if attn_mask is None else _as_tensor(attn_mask)
    batched = _mha_check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, embed_dim = query.shape
    source = key.shape[0]
    if key_padding_mask is not None and attn_mask is not None \
            and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", stacklevel=2)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: was expecting embedding dimension of "
                         f"{embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ShapeError(f"multi_head_attention_forward: embed_dim {embed_dim} not divisible "
                         f"by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ShapeError(f"multi_head_attention_forward: key's sequence and batch dims "
                             f"{tuple(key.shape[:2])} do not match value's "
                             f"{tuple(value.shape[:2])}")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise ShapeError(f"multi_head_attention_forward: key shape {tuple(key.shape)} does "
                             f"not match value shape {tuple(value.shape)}")
        separate = None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    masks = [_attn_mask_4d(attn_mask, batch, num_heads, length, source),
             None if key_padding_mask is None else _padding_mask_4d(key_padding_mask, batch,
                                                                      source)]
    q, k, v = _heads(q, batch, num_heads), _heads(k, batch, num_heads), \
        _heads(v, batch, num_heads)
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given "
                             "together")
        k, v, masks = _append_key(k, v, masks, _heads(bias_k.expand(1, batch, embed_dim), batch,
                                                      num_heads),
                                  _heads(bias_v.expand(1, batch, embed_dim), batch, num_heads))
    if add_zero_attn:
        zeros = Tensor._wrap(np.zeros((batch, num_heads, 1, head_dim), dtype=q.dtype), False)
        k, v, masks = _append_key(k, v, masks, zeros, zeros)
    mask = masks[0] if masks[1] is None else masks[1] if masks[0] is None else \
        masks[0] + masks[1]
    if not training:
        dropout_p = 0.0
    if need_weights:
        output, weights = _attention_with_weights(q, k, v, mask, dropout_p)
    else:
        output = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
        weights = None
    output = linear(output.permute(2, 0, 1, 3).reshape(length, batch, embed_dim),
                    out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        output = output[:, 0]
        weights = None if weights is None else weights[0]
    return output, weights


def _attn_mask_4d(mask: Tensor | None, batch: int, heads: int, length: int,
                  source: int) -> Tensor | None:
    if mask is None:
        return None
    if mask.ndim == 2:
        if tuple(mask.shape) != (length, source):
            raise ShapeError(f"multi_head_attention_forward: The shape of the 2D attn_mask is "
                             f"{tuple(mask.shape)}, but should be {(length, source)}.")
        return mask
    expected = (batch * heads, length, source)
    if tuple(mask.shape) != expected:
        raise ShapeError(f"multi_head_attention_forward: The shape of the 3D attn_mask is "
                         f"{tuple(mask.shape)}, but should be {expected}.")
    return mask.reshape(batch, heads, length, source)


def _padding_mask_4d(mask: Tensor, batch: int, source: int) -> Tensor:
    if tuple(mask.shape) != (batch, source):
        raise ShapeError(f"multi_head_attention_forward: expected key_padding_mask of shape "
                         f"{(batch, source)} (batch, source length), got {tuple(mask.shape)}")
    return mask.reshape(batch, 1, 1, source)


def _attention_with_weights(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None,
                            dropout_p: float) -> tuple[Tensor, Tensor]:
    """The explicit form, for when the weights are returned: softmax(q k^T / sqrt(d) +
    mask), dropout, then the product with v (a fully masked row gives nan, as PyTorch)."""
    scores = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.mT
    if mask is not None:
        scores = scores + mask
    weights = Softmax.apply(scores, scores.ndim - 1)
    if dropout_p > 0.0:
        weights = weights * _dropout_keep(tuple(weights.shape), dropout_p, weights.dtype)
    return weights @ v, weights
