"""One table of ops drives the op tests.

Each entry names an op, gives it as ``fn(lib, *tensors)`` -- the same code runs with
``lib = abdou_torch`` and ``lib = torch``, which also checks that names and arguments match
PyTorch's -- a NumPy reference, the input shapes of every case (broadcasting pairs and 0-d
inputs included) and the inputs' domain. For every case the tests check:

- the forward pass against NumPy (float64);
- float64 gradients against central differences (``autograd.gradcheck``);
- forward and backward against PyTorch, in float64 and float32 (values, dtypes, shapes);
- second derivatives against PyTorch (``grad`` with ``create_graph=True``, then the gradient
  of a random projection of the first gradient).

``test_table_counts`` records how many ops and cases are checked against PyTorch.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import autograd

try:
    import torch
except ImportError:  # the NumPy and finite-difference checks still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


# -- helpers shared by the table ----------------------------------------------------------

def _is_torch(lib) -> bool:
    return lib.__name__ == "torch"


def _F(lib):
    """Where the functional forms live: torch.nn.functional, or abdou_torch itself."""
    return lib.nn.functional if _is_torch(lib) else lib


def _erf(x):
    return np.vectorize(math.erf)(x)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def _np_pad(x, widths):
    return np.pad(x, widths)


def _NN(lib):
    """torch.nn.functional or abdou_torch.nn.functional."""
    return lib.nn.functional


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _conv2d_ref(x, w, padding):
    """Direct cross-correlation, stride 1:
    y[n, o, i, j] = sum x_pad[n, c, i+a, j+b] w[o, c, a, b]."""
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    ho, wo = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for a in range(kh):
        for b in range(kw):
            out += np.einsum("nchw,oc->nohw", x[:, :, a:a + ho, b:b + wo], w[:, :, a, b])
    return out


def _conv_transpose2d_ref(x, w, stride, padding, output_padding):
    """x scattered through w: out[n, o, i*s + a, j*s + b] += x[n, c, i, j] w[c, o, a, b]."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    full = np.zeros((n, w.shape[1], (h - 1) * stride + kh + output_padding,
                     (wd - 1) * stride + kw + output_padding))
    for a in range(kh):
        for b in range(kw):
            full[:, :, a:a + (h - 1) * stride + 1:stride, b:b + (wd - 1) * stride + 1:stride] += \
                np.einsum("nchw,co->nohw", x, w[:, :, a, b])
    return full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]


def _pool_ref(x, kernel, stride, reduce):
    (kh, kw), (sh, sw) = np.broadcast_to(kernel, 2), np.broadcast_to(stride, 2)
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    return np.array([[reduce(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
                      for j in range(wo)] for i in range(ho)]).transpose(2, 3, 0, 1)


def _adaptive_ref(x, size, reduce):
    bins = [[(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]
            for n, o in zip(x.shape[2:], size)]
    return np.array([[reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3)) for c0, c1 in bins[1]]
                     for r0, r1 in bins[0]]).transpose(2, 3, 0, 1)


def _batch_norm_ref(x, w, b):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return xhat * w.reshape(shape) + b.reshape(shape)


@dataclass
class Op:
    """One op of the table.

    ``fn(lib, *tensors)`` runs the op; ``ref(*arrays)`` is NumPy's answer; ``cases`` lists
    the input shapes of each case; ``domain`` is one spec for all inputs or one per input:
    'real' (-2, 2), 'positive' (0.3, 2), 'nonzero' (|x| in (0.3, 2)), 'ties' (integers 0..2,
    so that maxima tie), 'unit' (-0.9, 0.9).
    """

    name: str
    fn: Callable
    ref: Callable
    cases: list
    domain: Any = "real"
    grad: bool = True       # differentiable: check gradients and backward against PyTorch
    numeric: bool = True    # central differences are valid (False where the op has kinks)
    grad2: bool = True      # compare second derivatives with PyTorch
    recorded: bool = True   # the backward can itself be recorded (create_graph)
    rtol32: float = 2e-5
    rtol64: float = 1e-10   # looser only where PyTorch rounds a constant (hardsigmoid's 1/6)
    ids: list = field(default_factory=list)


B = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(3, 1), (1, 4)], [(2, 1, 4), (3, 1)], [(), (3, 4)],
     [(3, 4), ()], [(), ()]]          # broadcasting pairs, 0-d included
U = [[(3, 4)], [()], [(2, 3, 2)]]    # unary inputs, 0-d included
R3 = [[(2, 3, 4)]]
R2 = [[(3, 4)]]

OPS = [
    # -- arithmetic (operators and their reflected forms) ---------------------------------
    Op("add", lambda lib, a, b: a + b, np.add, B),
    Op("sub", lambda lib, a, b: a - b, np.subtract, B),
    Op("mul", lambda lib, a, b: a * b, np.multiply, B),
    Op("div", lambda lib, a, b: a / b, np.divide, B, domain=("real", "nonzero")),
    Op("pow", lambda lib, a, b: a ** b, np.power, B[:5], domain=("positive", "real")),
    Op("add_fn_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b,
       B[:3]),
    Op("sub_fn_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), lambda a, b: a - 0.5 * b,
       B[:3]),
    Op("radd", lambda lib, x: 1.5 + x, lambda x: 1.5 + x, U),
    Op("rsub", lambda lib, x: 1.5 - x, lambda x: 1.5 - x, U),
    Op("rmul", lambda lib, x: 1.5 * x, lambda x: 1.5 * x, U),
    Op("rdiv", lambda lib, x: 1.5 / x, lambda x: 1.5 / x, U, domain="nonzero"),
    Op("rpow", lambda lib, x: 1.5 ** x, lambda x: 1.5 ** x, U),
    Op("pow_2", lambda lib, x: x ** 2, lambda x: x ** 2, U),
    Op("pow_3", lambda lib, x: x ** 3, lambda x: x ** 3, U),
    Op("pow_half", lambda lib, x: x ** 0.5, np.sqrt, U, domain="positive"),
    Op("pow_neg", lambda lib, x: x ** -1.5, lambda x: x ** -1.5, U, domain="positive"),
    Op("pow_0", lambda lib, x: x ** 0, lambda x: x ** 0, U),
    Op("neg", lambda lib, x: -x, np.negative, U),
    Op("abs", lambda lib, x: abs(x), np.abs, U, domain="nonzero", grad2=True),
    Op("abs_fn", lambda lib, x: lib.abs(x), np.abs, U[:1], domain="nonzero"),
    Op("square", lambda lib, x: lib.square(x), np.square, U),
    # -- unary maths and activations ----------------------------------------------------
    Op("exp", lambda lib, x: lib.exp(x), np.exp, U),
    Op("log", lambda lib, x: lib.log(x), np.log, U, domain="positive"),
    Op("sqrt", lambda lib, x: lib.sqrt(x), np.sqrt, U, domain="positive"),
    Op("tanh", lambda lib, x: lib.tanh(x), np.tanh, U),
    Op("sigmoid", lambda lib, x: lib.sigmoid(x), lambda x: 1 / (1 + np.exp(-x)), U),
    Op("sin", lambda lib, x: lib.sin(x), np.sin, U),
    Op("cos", lambda lib, x: lib.cos(x), np.cos, U),
    Op("erf", lambda lib, x: lib.erf(x), _erf, U),
    Op("relu", lambda lib, x: lib.relu(x), lambda x: np.maximum(x, 0), U, domain="nonzero"),
    Op("relu_method", lambda lib, x: x.relu(), lambda x: np.maximum(x, 0), U[:1],
       domain="nonzero"),
    Op("leaky_relu", lambda lib, x: _F(lib).leaky_relu(x, 0.1),
       lambda x: np.where(x > 0, x, 0.1 * x), U, domain="nonzero"),
    Op("leaky_relu_default", lambda lib, x: _F(lib).leaky_relu(x),
       lambda x: np.where(x > 0, x, 0.01 * x), U[:1], domain="nonzero"),
    Op("gelu", lambda lib, x: _F(lib).gelu(x), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
       U),
    Op("gelu_tanh", lambda lib, x: _F(lib).gelu(x, approximate="tanh"), _gelu_tanh, U),
    Op("clamp", lambda lib, x: lib.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), U),
    Op("clamp_min", lambda lib, x: x.clamp(min=0.2), lambda x: np.maximum(x, 0.2), U[:1]),
    Op("clamp_max", lambda lib, x: lib.clamp(x, max=-0.1), lambda x: np.minimum(x, -0.1), U[:1]),
    Op("maximum", lambda lib, a, b: lib.maximum(a, b), np.maximum, B),
    Op("minimum", lambda lib, a, b: lib.minimum(a, b), np.minimum, B),
    Op("maximum_ties", lambda lib, a, b: lib.maximum(a, b), np.maximum, B[:2], domain="ties",
       numeric=False),
    Op("where", lambda lib, a, b: lib.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
       B),
    Op("where_scalar", lambda lib, x: lib.where(x > 0, x, 0.0),
       lambda x: np.where(x > 0, x, 0.0), U, domain="nonzero"),
    # -- comparisons: bool results, no gradient ------------------------------------------
    Op("eq", lambda lib, a, b: a == b, np.equal, B[:3], domain="ties", grad=False),
    Op("ne", lambda lib, a, b: a != b, np.not_equal, B[:3], domain="ties", grad=False),
    Op("lt", lambda lib, a, b: a < b, np.less, B, grad=False),
    Op("le", lambda lib, a, b: a <= b, np.less_equal, B[:3], domain="ties", grad=False),
    Op("gt", lambda lib, a, b: a > b, np.greater, B, grad=False),
    Op("ge", lambda lib, a, b: a >= b, np.greater_equal, B[:3], domain="ties", grad=False),
    Op("gt_scalar", lambda lib, x: x > 0.5, lambda x: x > 0.5, U, grad=False),
    # -- reductions ------------------------------------------------------------------------
    Op("sum", lambda lib, x: x.sum(), np.sum, U),
    Op("sum_dim", lambda lib, x: x.sum(1), lambda x: x.sum(1), R3),
    Op("sum_dims_keepdim", lambda lib, x: lib.sum(x, dim=(0, 2), keepdim=True),
       lambda x: x.sum((0, 2), keepdims=True), R3),
    Op("sum_neg_dim", lambda lib, x: x.sum(dim=-1), lambda x: x.sum(-1), R3),
    Op("mean", lambda lib, x: x.mean(), np.mean, U),
    Op("mean_dim", lambda lib, x: lib.mean(x, dim=-1, keepdim=True),
       lambda x: x.mean(-1, keepdims=True), R3),
    Op("mean_dims", lambda lib, x: x.mean((0, 1)), lambda x: x.mean((0, 1)), R3),
    Op("var", lambda lib, x: x.var(), lambda x: np.var(x, ddof=1), U[::2]),
    Op("var_dim", lambda lib, x: lib.var(x, dim=1), lambda x: np.var(x, axis=1, ddof=1), R3),
    Op("var_correction0", lambda lib, x: x.var(dim=(0, 2), correction=0, keepdim=True),
       lambda x: np.var(x, axis=(0, 2), keepdims=True), R3),
    Op("std", lambda lib, x: x.std(), lambda x: np.std(x, ddof=1), U[::2]),
    Op("std_dim", lambda lib, x: lib.std(x, dim=0, keepdim=True),
       lambda x: np.std(x, axis=0, ddof=1, keepdims=True), R2),
    Op("max", lambda lib, x: x.max(), np.max, U),
    Op("min", lambda lib, x: lib.min(x), np.min, U),
    Op("max_ties", lambda lib, x: x.max(), np.max, R2, domain="ties", numeric=False),
    Op("min_ties", lambda lib, x: x.min(), np.min, R2, domain="ties", numeric=False),
    Op("max_dim", lambda lib, x: tuple(x.max(dim=1)),
       lambda x: (x.max(1), x.argmax(1)), R3 + R2),
    Op("max_dim_keepdim", lambda lib, x: tuple(lib.max(x, 0, keepdim=True)),
       lambda x: (x.max(0, keepdims=True), x.argmax(0, keepdims=True)), R3),
    Op("max_dim_0d", lambda lib, x: tuple(x.max(0)), lambda x: (x, np.asarray(0)), [[()]]),
    Op("min_dim", lambda lib, x: tuple(x.min(-1)), lambda x: (x.min(-1), x.argmin(-1)), R3),
    Op("min_dim_keepdim", lambda lib, x: tuple(lib.min(x, dim=1, keepdim=True)),
       lambda x: (x.min(1, keepdims=True), x.argmin(1, keepdims=True)), R2),
    Op("max_two_tensors", lambda lib, a, b: lib.max(a, b), np.maximum, B[:2]),
    Op("amax", lambda lib, x: lib.amax(x, dim=(0, 2)), lambda x: x.max((0, 2)), R3),
    Op("amin_keepdim", lambda lib, x: x.amin(1, keepdim=True),
       lambda x: x.min(1, keepdims=True), R3),
    Op("amax_ties", lambda lib, x: lib.amax(x, dim=1), lambda x: x.max(1), R2, domain="ties",
       numeric=False),
    Op("argmax", lambda lib, x: x.argmax(), np.argmax, U, grad=False),
    Op("argmax_dim", lambda lib, x: lib.argmax(x, dim=1), lambda x: x.argmax(1), R3,
       grad=False),
    Op("argmin", lambda lib, x: lib.argmin(x), np.argmin, U, grad=False),
    Op("argmin_dim_keepdim", lambda lib, x: x.argmin(dim=0, keepdim=True),
       lambda x: x.argmin(0, keepdims=True), R3, grad=False),
    Op("logsumexp", lambda lib, x: lib.logsumexp(x, dim=1), lambda x: _logsumexp(x, 1),
       R3 + R2),
    Op("logsumexp_dims_keepdim", lambda lib, x: x.logsumexp((0, 2), keepdim=True),
       lambda x: np.log(np.exp(x).sum((0, 2), keepdims=True)), R3),
    Op("logsumexp_large", lambda lib, x: lib.logsumexp(x * 1000, dim=-1),
       lambda x: _logsumexp(x * 1000, -1), R2),
    Op("prod", lambda lib, x: x.prod(), np.prod, [[(2, 3)], [()]], domain="nonzero"),
    Op("prod_dim", lambda lib, x: lib.prod(x, 1, keepdim=True),
       lambda x: x.prod(1, keepdims=True), R3, domain="nonzero"),
    # -- shape ops -------------------------------------------------------------------------
    Op("reshape", lambda lib, x: x.reshape(4, 6), lambda x: x.reshape(4, 6), R3),
    Op("reshape_tuple", lambda lib, x: lib.reshape(x, (-1,)), lambda x: x.reshape(-1), R3),
    Op("reshape_0d", lambda lib, x: x.reshape(1, 1), lambda x: x.reshape(1, 1), [[()]]),
    Op("view", lambda lib, x: x.view(2, -1), lambda x: x.reshape(2, -1), R3),
    Op("flatten", lambda lib, x: x.flatten(), lambda x: x.reshape(-1), R3 + [[()]]),
    Op("flatten_start", lambda lib, x: lib.flatten(x, 1), lambda x: x.reshape(2, -1), R3),
    Op("transpose", lambda lib, x: x.transpose(0, 2), lambda x: x.transpose(2, 1, 0), R3),
    Op("transpose_neg", lambda lib, x: lib.transpose(x, -1, -2),
       lambda x: np.swapaxes(x, -1, -2), R3),
    Op("permute", lambda lib, x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), R3),
    Op("permute_fn", lambda lib, x: lib.permute(x, (1, 2, 0)), lambda x: x.transpose(1, 2, 0),
       R3),
    Op("T", lambda lib, x: x.T, lambda x: x.T, R2),
    Op("mT", lambda lib, x: x.mT, lambda x: np.swapaxes(x, -1, -2), R3),
    Op("squeeze", lambda lib, x: x.squeeze(), np.squeeze, [[(3, 1, 4, 1)], [(1,)]]),
    Op("squeeze_dim", lambda lib, x: lib.squeeze(x, 1), lambda x: np.squeeze(x, 1),
       [[(3, 1, 4, 1)]]),
    Op("squeeze_dim_not_one", lambda lib, x: x.squeeze(0), lambda x: x, [[(3, 1, 4)]]),
    Op("unsqueeze", lambda lib, x: x.unsqueeze(0), lambda x: x[None], U),
    Op("unsqueeze_neg", lambda lib, x: lib.unsqueeze(x, -1), lambda x: x[..., None], U),
    Op("expand", lambda lib, x: x.expand(3, 4), lambda x: np.broadcast_to(x, (3, 4)),
       [[(3, 1)], [(4,)], [()]]),
    Op("expand_keep", lambda lib, x: lib.broadcast_to(x, (2, 3, 4)) if not _is_torch(lib)
       else x.expand(2, -1, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [[(3, 1)]]),
    Op("getitem_int", lambda lib, x: x[1], lambda x: x[1], R3),
    Op("getitem_neg_ints", lambda lib, x: x[-1, 0], lambda x: x[-1, 0], R3),
    Op("getitem_slices", lambda lib, x: x[1:, ::2], lambda x: x[1:, ::2], R3),
    Op("getitem_none_ellipsis", lambda lib, x: x[None, ..., 1], lambda x: x[None, ..., 1], R3),
    Op("getitem_int_list_repeats", lambda lib, x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]],
       R2),
    Op("getitem_int_tensor", lambda lib, x: x[lib.tensor([[1, 1], [0, 2]])],
       lambda x: x[np.array([[1, 1], [0, 2]])], R2),
    Op("getitem_two_arrays", lambda lib, x: x[[0, 2, 2], [1, 1, 3]],
       lambda x: x[[0, 2, 2], [1, 1, 3]], R2),
    Op("getitem_array_and_slice", lambda lib, x: x[:, [2, 0, 2]],
       lambda x: x[:, [2, 0, 2]], R3),
    Op("getitem_mask", lambda lib, x: x[x > 0], lambda x: x[x > 0], R3),
    Op("getitem_row_mask", lambda lib, x: x[lib.tensor([True, False, True])],
       lambda x: x[np.array([True, False, True])], R2),
    Op("cat", lambda lib, a, b: lib.cat([a, b]), lambda a, b: np.concatenate([a, b]),
       [[(2, 4), (3, 4)]]),
    Op("cat_dim", lambda lib, a, b: lib.cat((a, b), dim=-1),
       lambda a, b: np.concatenate([a, b], -1), [[(2, 3, 1), (2, 3, 4)]]),
    Op("stack", lambda lib, a, b: lib.stack([a, b]), lambda a, b: np.stack([a, b]),
       [[(3, 4), (3, 4)], [(), ()]]),
    Op("stack_dim", lambda lib, a, b: lib.stack([a, b], dim=-1),
       lambda a, b: np.stack([a, b], -1), [[(3, 4), (3, 4)]]),
    Op("split", lambda lib, x: x.split(2, dim=1), lambda x: tuple(np.split(x, [2], 1)),
       [[(2, 3, 4)]]),
    Op("split_sizes", lambda lib, x: lib.split(x, [1, 3], dim=-1),
       lambda x: tuple(np.split(x, [1], -1)), R3),
    Op("chunk", lambda lib, x: x.chunk(2), lambda x: tuple(np.array_split(x, 2)), [[(5, 2)]]),
    Op("chunk_dim", lambda lib, x: lib.chunk(x, 3, dim=2), lambda x: tuple(np.split(x, [2], 2)),
       R3),
    Op("unbind", lambda lib, x: lib.unbind(x, 1), lambda x: tuple(np.moveaxis(x, 1, 0)), R3),
    Op("pad", lambda lib, x: _F(lib).pad(x, (1, 2)), lambda x: _np_pad(x, ((0, 0), (1, 2))),
       R2),
    Op("pad_2d_value", lambda lib, x: _F(lib).pad(x, (0, 1, 2, 0), value=1.5),
       lambda x: np.pad(x, ((0, 0), (2, 0), (0, 1)), constant_values=1.5), R3),
    Op("gather", lambda lib, x: lib.gather(x, 1, lib.tensor([[0, 3, 3], [1, 0, 2]])),
       lambda x: np.take_along_axis(x[:2], np.array([[0, 3, 3], [1, 0, 2]]), 1), R2),
    Op("narrow", lambda lib, x: x.narrow(2, 1, 2), lambda x: x[:, :, 1:3], R3),
    Op("movedim", lambda lib, x: lib.movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), R3),
    Op("clone", lambda lib, x: x.clone(), lambda x: x.copy(), U[:1]),
    Op("to_float32", lambda lib, x: x.to(lib.float32) * 2,
       lambda x: x.astype(np.float32) * 2, U[:1], numeric=False),
    # -- matrix products -------------------------------------------------------------------
    Op("matmul", lambda lib, a, b: a @ b, np.matmul,
       [[(3, 4), (4, 5)], [(4,), (4,)], [(4,), (4, 5)], [(3, 4), (4,)], [(2, 3, 4), (4, 5)],
        [(2, 3, 4), (2, 4, 5)], [(2, 1, 3, 4), (5, 4, 2)], [(4,), (2, 4, 3)],
        [(2, 3, 4), (4,)], [(3, 4), (2, 4, 2)]]),
    Op("rmatmul", lambda lib, a, b: b.__rmatmul__(a), np.matmul, [[(3, 4), (4, 2)]]),
    Op("matmul_fn", lambda lib, a, b: lib.matmul(a, b), np.matmul, [[(2, 3, 4), (4, 2)]]),
    Op("mm", lambda lib, a, b: lib.mm(a, b), np.matmul, [[(3, 4), (4, 2)]]),
    Op("bmm", lambda lib, a, b: lib.bmm(a, b), np.matmul, [[(2, 3, 4), (2, 4, 2)]]),
    Op("dot", lambda lib, a, b: lib.dot(a, b), np.dot, [[(4,), (4,)]]),
    Op("outer", lambda lib, a, b: lib.outer(a, b), np.outer, [[(3,), (4,)]]),
    Op("linear", lambda lib, x, w, b: _F(lib).linear(x, w, b), lambda x, w, b: x @ w.T + b,
       [[(5, 4), (3, 4), (3,)], [(2, 5, 4), (3, 4), (3,)], [(4,), (3, 4), (3,)]]),
    Op("linear_no_bias", lambda lib, x, w: _F(lib).linear(x, w), lambda x, w: x @ w.T,
       [[(5, 4), (3, 4)]]),
    # -- networks: convolution, pooling, normalisation, softmax, losses ---------------------
    Op("conv2d", lambda lib, x, w, b: _NN(lib).conv2d(x, w, b, padding=1),
       lambda x, w, b: _conv2d_ref(x, w, 1) + b[:, None, None],
       [[(2, 3, 5, 5), (4, 3, 3, 3), (4,)]], rtol32=1e-4),
    Op("conv2d_stride_groups", lambda lib, x, w: _NN(lib).conv2d(x, w, stride=2, groups=2),
       lambda x, w: np.concatenate([_conv2d_ref(x[:, :2], w[:2], 0),
                                    _conv2d_ref(x[:, 2:], w[2:], 0)], 1)[:, :, ::2, ::2],
       [[(2, 4, 6, 5), (4, 2, 2, 2)]], rtol32=1e-4),
    Op("conv1d", lambda lib, x, w: _NN(lib).conv1d(x, w, padding=2),
       lambda x, w: _conv2d_ref(x[:, :, None], w[:, :, None], (0, 2))[:, :, 0],
       [[(2, 3, 7), (2, 3, 3)]], rtol32=1e-4),
    Op("conv_transpose2d", lambda lib, x, w, b: _NN(lib).conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1),
       lambda x, w, b: _conv_transpose2d_ref(x, w, 2, 1, 1) + b[:, None, None],
       [[(2, 3, 4, 3), (3, 2, 3, 3), (2,)]], rtol32=1e-4),
    Op("max_pool2d", lambda lib, x: _NN(lib).max_pool2d(x, 2),
       lambda x: x.reshape(2, 3, 3, 2, 2, 2).max((3, 5)), [[(2, 3, 6, 4)]]),
    Op("max_pool2d_padded", lambda lib, x: _NN(lib).max_pool2d(x, 3, stride=2, padding=1),
       lambda x: _pool_ref(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)),
                                  constant_values=-np.inf), 3, 2, np.max), [[(1, 2, 5, 6)]]),
    Op("avg_pool2d", lambda lib, x: _NN(lib).avg_pool2d(x, 2),
       lambda x: x.reshape(2, 3, 3, 2, 2, 2).mean((3, 5)), [[(2, 3, 6, 4)]]),
    Op("avg_pool2d_padded", lambda lib, x: _NN(lib).avg_pool2d(x, 3, stride=2, padding=1),
       lambda x: _pool_ref(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), 3, 2, np.mean),
       [[(1, 2, 5, 6)]]),
    Op("max_pool1d", lambda lib, x: _NN(lib).max_pool1d(x, 3, stride=2),
       lambda x: _pool_ref(x[:, :, None], (1, 3), (1, 2), np.max)[:, :, 0], [[(2, 3, 9)]]),
    Op("adaptive_avg_pool2d", lambda lib, x: _NN(lib).adaptive_avg_pool2d(x, (3, 2)),
       lambda x: _adaptive_ref(x, (3, 2), np.mean), [[(2, 3, 5, 7)]]),
    Op("adaptive_max_pool2d", lambda lib, x: _NN(lib).adaptive_max_pool2d(x, (2, 3)),
       lambda x: _adaptive_ref(x, (2, 3), np.max), [[(2, 3, 5, 7)]]),
    Op("batch_norm_train", lambda lib, x, w, b: _NN(lib).batch_norm(
        x, None, None, w, b, training=True),
       lambda x, w, b: _batch_norm_ref(x, w, b), [[(4, 3, 2, 5), (3,), (3,)], [(6, 3), (3,),
                                                                              (3,)]]),
    Op("batch_norm_eval", lambda lib, x, w, b: _NN(lib).batch_norm(
        x, lib.tensor([0.1, -0.2, 0.3], dtype=x.dtype), lib.tensor([0.5, 1.5, 0.8],
                                                                   dtype=x.dtype), w, b),
       lambda x, w, b: (x - np.array([0.1, -0.2, 0.3])[:, None]) / np.sqrt(
           np.array([0.5, 1.5, 0.8])[:, None] + 1e-5) * w[:, None] + b[:, None],
       [[(4, 3, 5), (3,), (3,)]]),
    Op("layer_norm", lambda lib, x, w, b: _NN(lib).layer_norm(x, (4,), w, b),
       lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(
           x.var(-1, keepdims=True) + 1e-5) * w + b, [[(3, 2, 4), (4,), (4,)]]),
    Op("embedding", lambda lib, w: _NN(lib).embedding(lib.tensor([[0, 3], [1, 0]]), w),
       lambda w: w[np.array([[0, 3], [1, 0]])], [[(4, 3)]]),
    Op("softmax", lambda lib, x: _NN(lib).softmax(x, dim=-1),
       lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True), [[(3, 4)], [(2, 3, 4)]]),
    Op("log_softmax", lambda lib, x: _NN(lib).log_softmax(x, dim=1),
       lambda x: x - _logsumexp(x, 1)[:, None], [[(3, 4)], [(2, 3, 4)]]),
    Op("cross_entropy", lambda lib, x: _NN(lib).cross_entropy(x, lib.tensor([0, 3, 1])),
       lambda x: np.mean(_logsumexp(x, 1) - x[np.arange(3), [0, 3, 1]]), [[(3, 4)]]),
    Op("cross_entropy_smoothing", lambda lib, x: _NN(lib).cross_entropy(
        x, lib.tensor([2, 0, 1]), label_smoothing=0.2),
       lambda x: np.mean(0.8 * (_logsumexp(x, 1) - x[np.arange(3), [2, 0, 1]])
                         + 0.2 * (_logsumexp(x, 1) - x.mean(1))), [[(3, 4)]]),
    Op("mse_loss", lambda lib, a, b: _NN(lib).mse_loss(a, b), lambda a, b: np.mean((a - b) ** 2),
       [[(3, 4), (3, 4)]]),
    Op("binary_cross_entropy", lambda lib, x, t: _NN(lib).binary_cross_entropy(
        lib.sigmoid(x), lib.sigmoid(t)),
       lambda x, t: np.mean(-(_sigmoid(t) * np.log(_sigmoid(x))
                              + (1 - _sigmoid(t)) * np.log(1 - _sigmoid(x)))),
       [[(3, 4), (3, 4)]]),
    Op("bce_with_logits", lambda lib, x, t: _NN(lib).binary_cross_entropy_with_logits(
        x, lib.sigmoid(t)),
       lambda x, t: np.mean(-(_sigmoid(t) * np.log(_sigmoid(x))
                              + (1 - _sigmoid(t)) * np.log(1 - _sigmoid(x)))),
       [[(3, 4), (3, 4)]]),
]

# -- the wider API of issue 11 -----------------------------------------------------------------

INF = math.inf


def _linalg(lib):
    return lib.linalg


def _softmax_np(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _topk_ref(x, k, axis, largest):
    order = np.argsort(-x if largest else x, axis, kind="stable")
    order = np.take(order, np.arange(k), axis)
    return np.take_along_axis(x, order, axis), order


def _index_add_ref(x, axis, index, source, alpha=1.0):
    out = x.copy()
    np.add.at(out, (slice(None),) * axis + (np.asarray(index),), alpha * source)
    return out


def _scatter_ref(x, axis, index, src):
    out = x.copy()
    index = np.asarray(index)
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    out[tuple(grid)] = src[tuple(slice(0, n) for n in index.shape)]
    return out


def _scatter_add_ref(x, axis, index, src):
    out = x.copy()
    index = np.asarray(index)
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    np.add.at(out, tuple(grid), src[tuple(slice(0, n) for n in index.shape)])
    return out


def _vector_norm_ref(x, p, axis=None, keepdims=False):
    a = np.abs(x)
    if p == INF:
        return a.max(axis, keepdims=keepdims)
    if p == -INF:
        return a.min(axis, keepdims=keepdims)
    if p == 0:
        return (a != 0).sum(axis, keepdims=keepdims).astype(x.dtype)
    return (a ** p).sum(axis, keepdims=keepdims) ** (1 / p)


def _elu_np(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
_PM1 = [[1., -1., 1., 1.], [-1., -1., 1., -1.], [1., 1., -1., 1.]]   # +-1 targets, (3, 4)
_BITS = [[1., 0., 1., 1.], [0., 0., 1., 0.], [1., 1., 0., 1.]]       # 0/1 targets, (3, 4)
_CUMPROD_ZEROS = [[False, True, False, False], [False, False, False, True],
                  [True, False, True, False]]


def _mask(lib, rows):
    return lib.tensor(rows)


def _smooth_l1_np(d, beta):
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def _huber_np(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _log_softmax_np(x, axis):
    return x - _logsumexp(x, axis)[..., None] if axis in (-1, x.ndim - 1) else \
        np.log(_softmax_np(x, axis))


def _cos_sim_np(a, b, axis, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(axis, keepdims=True)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(axis, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(axis)


def _multi_margin_np(x, y, p, margin, weight=None):
    z = margin - x[np.arange(len(y)), y][:, None] + x
    z = np.where((z > 0) & (np.arange(x.shape[1]) != y[:, None]), z, 0) ** p
    if weight is not None:
        z = z * weight[y][:, None]
    return (z.sum(1) / x.shape[1]).mean()


_Y3 = [2, 0, 3]
_W4 = [0.5, 2.0, 1.0, 1.5]

OPS += [
    # unary maths
    Op("log1p", lambda lib, x: lib.log1p(x), np.log1p, U, domain="unit"),
    Op("log1p_method_tiny", lambda lib, x: x.log1p() * 1e12, lambda x: np.log1p(x) * 1e12,
       U[:1], domain="tiny"),
    Op("expm1", lambda lib, x: lib.expm1(x), np.expm1, U),
    Op("expm1_method_tiny", lambda lib, x: x.expm1() * 1e12, lambda x: np.expm1(x) * 1e12,
       U[:1], domain="tiny"),
    Op("log2", lambda lib, x: lib.log2(x), np.log2, U, domain="positive"),
    Op("log10", lambda lib, x: x.log10(), np.log10, U, domain="positive"),
    Op("clamp_min_method", lambda lib, x: x.clamp_min(0.3), lambda x: np.maximum(x, 0.3),
       U[:1]),
    # logical reductions, closeness, counting: no gradient
    Op("all", lambda lib, x: lib.all(x > -1.5), lambda x: np.all(x > -1.5), U, grad=False),
    Op("all_dim_keepdim", lambda lib, x: (x > -1.5).all(dim=1, keepdim=True),
       lambda x: np.all(x > -1.5, 1, keepdims=True), R3, grad=False),
    Op("any_dims", lambda lib, x: lib.any(x > 1.5, dim=(0, 2)),
       lambda x: np.any(x > 1.5, (0, 2)), R3, grad=False),
    Op("any_method", lambda lib, x: (x > 1.8).any(), lambda x: np.any(x > 1.8), U,
       grad=False),
    Op("isclose", lambda lib, a, b: lib.isclose(a, b, rtol=0.5, atol=0.2),
       lambda a, b: np.isclose(a, b, rtol=0.5, atol=0.2), [[(3, 4), (3, 4)], [(3, 4), (4,)]],
       grad=False),
    Op("histc", lambda lib, x: lib.histc(x, bins=5, min=-1, max=1.5),
       lambda x: np.histogram(x, 5, (-1, 1.5))[0].astype(x.dtype), [[(4, 5)]], grad=False),
    Op("histc_data_range", lambda lib, x: x.histc(7),
       lambda x: np.histogram(x, 7)[0].astype(x.dtype), [[(30,)]], grad=False),
    Op("histogram", lambda lib, x: tuple(lib.histogram(x, bins=4)),
       lambda x: tuple(h.astype(x.dtype) for h in np.histogram(x, 4)), [[(20,)]],
       grad=False),
    Op("bincount", lambda lib, x: lib.bincount((x * 2 + 5).long(), minlength=12),
       lambda x: np.bincount((x * 2 + 5).astype(np.int64), minlength=12), [[(20,)]],
       grad=False),
    Op("bincount_weights", lambda lib, x, w: lib.bincount((x * 2 + 5).long(), w),
       lambda x, w: np.bincount((x * 2 + 5).astype(np.int64), w), [[(20,), (20,)]],
       grad=False),
    # sorting
    Op("sort", lambda lib, x: tuple(lib.sort(x, dim=1)),
       lambda x: (np.sort(x, 1), np.argsort(x, 1, kind="stable")), R3 + R2),
    Op("sort_descending", lambda lib, x: tuple(x.sort(descending=True)),
       lambda x: (-np.sort(-x, -1), np.argsort(-x, -1, kind="stable")), R3),
    Op("sort_0d", lambda lib, x: tuple(lib.sort(x)), lambda x: (x, np.asarray(0)), [[()]]),
    Op("argsort", lambda lib, x: lib.argsort(x, dim=0, descending=True),
       lambda x: np.argsort(-x, 0, kind="stable"), R3, grad=False),
    Op("msort", lambda lib, x: lib.msort(x), lambda x: np.sort(x, 0), R2),
    Op("topk", lambda lib, x: tuple(lib.topk(x, 2)), lambda x: _topk_ref(x, 2, -1, True),
       R3 + R2),
    Op("topk_smallest_dim0", lambda lib, x: tuple(x.topk(2, dim=0, largest=False)),
       lambda x: _topk_ref(x, 2, 0, False), R3),
    # scans
    Op("cumsum", lambda lib, x: lib.cumsum(x, 0), lambda x: np.cumsum(x, 0), R3 + R2),
    Op("cumsum_neg_dim", lambda lib, x: x.cumsum(dim=-1), lambda x: np.cumsum(x, -1), R3),
    Op("cumsum_0d", lambda lib, x: lib.cumsum(x, 0), lambda x: x, [[()]]),
    Op("cumprod", lambda lib, x: lib.cumprod(x, 1), lambda x: np.cumprod(x, 1), R3 + R2,
       domain="nonzero"),
    Op("cumprod_zeros", lambda lib, x: lib.cumprod(lib.where(_mask(lib, _CUMPROD_ZEROS),
                                                             0.0, x), 1),
       lambda x: np.cumprod(np.where(_CUMPROD_ZEROS, 0.0, x), 1), R2, domain="nonzero"),
    # moving and masking by position
    Op("flip", lambda lib, x: lib.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)), R3),
    Op("flip_method", lambda lib, x: x.flip(-1), lambda x: np.flip(x, -1), R3 + R2),
    Op("fliplr", lambda lib, x: lib.fliplr(x), np.fliplr, R2 + R3),
    Op("flipud", lambda lib, x: x.flipud(), np.flipud, R2),
    Op("roll", lambda lib, x: lib.roll(x, 1, 1), lambda x: np.roll(x, 1, 1), R3),
    Op("roll_dims", lambda lib, x: x.roll((-1, 5), (0, 2)),
       lambda x: np.roll(x, (-1, 5), (0, 2)), R3),
    Op("roll_flat", lambda lib, x: lib.roll(x, 7), lambda x: np.roll(x, 7), R3),
    Op("tril", lambda lib, x: lib.tril(x), np.tril, R2 + R3),
    Op("tril_diagonal", lambda lib, x: x.tril(-1), lambda x: np.tril(x, -1), R3),
    Op("triu", lambda lib, x: lib.triu(x, 1), lambda x: np.triu(x, 1), R2 + R3),
    Op("triu_method", lambda lib, x: x.triu(), np.triu, [[(4, 3)]]),
    # einsum
    Op("einsum_matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
       lambda a, b: a @ b, [[(3, 4), (4, 2)]]),
    Op("einsum_batched", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b),
       np.matmul, [[(2, 3, 4), (2, 4, 2)]]),
    Op("einsum_attention", lambda lib, a, b: lib.einsum("bhqd,bhkd->bhqk", a, b),
       lambda a, b: np.einsum("bhqd,bhkd->bhqk", a, b), [[(2, 2, 3, 4), (2, 2, 5, 4)]]),
    Op("einsum_diagonal", lambda lib, x: lib.einsum("ii->i", x), np.diagonal, [[(4, 4)]]),
    Op("einsum_trace", lambda lib, x: lib.einsum("ii", x), np.trace, [[(4, 4)]]),
    Op("einsum_diagonal_3d", lambda lib, x: lib.einsum("iji->ji", x),
       lambda x: np.einsum("iji->ji", x), [[(3, 2, 3)]]),
    Op("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), np.outer,
       [[(3,), (4,)]]),
    Op("einsum_sum", lambda lib, x: lib.einsum("ij->", x), np.sum, R2),
    Op("einsum_sum_one_operand", lambda lib, a, b: lib.einsum("ij,jk->j", a, b),
       lambda a, b: np.einsum("ij,jk->j", a, b), [[(3, 4), (4, 2)]]),
    Op("einsum_ellipsis", lambda lib, x: lib.einsum("...ij->...ji", x),
       lambda x: np.swapaxes(x, -1, -2), R3),
    Op("einsum_ellipsis_broadcast", lambda lib, a, b: lib.einsum("...ij,...jk", a, b),
       np.matmul, [[(2, 1, 3, 4), (5, 4, 2)]]),
    Op("einsum_implicit", lambda lib, a, b: lib.einsum("bA,c", a, b),
       lambda a, b: np.einsum("bA,c", a, b), [[(2, 3), (4,)]]),
    Op("einsum_three", lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c),
       lambda a, b, c: a @ b @ c, [[(2, 3), (3, 4), (4, 2)]]),
    Op("einsum_size_one", lambda lib, a, b: lib.einsum("ij,ij->ij", a, b), np.multiply,
       [[(3, 1), (3, 4)]]),
    Op("einsum_list", lambda lib, a, b: lib.einsum("i,i", [a, b]), np.dot, [[(4,), (4,)]]),
    Op("einsum_sublist", lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]),
       np.matmul, [[(3, 4), (4, 2)]]),
    # indexed reads and writes
    Op("index_select", lambda lib, x: lib.index_select(x, 1, lib.tensor([2, 0, 2])),
       lambda x: np.take(x, [2, 0, 2], 1), R3 + R2),
    Op("index_select_method", lambda lib, x: x.index_select(0, lib.tensor(1)),
       lambda x: x[[1]], R2),
    Op("index_add", lambda lib, x, s: lib.index_add(x, 1, lib.tensor([2, 0, 2]), s),
       lambda x, s: _index_add_ref(x, 1, [2, 0, 2], s), [[(3, 4), (3, 3)]]),
    Op("index_add_alpha", lambda lib, x, s: x.index_add(0, lib.tensor([1, 1]), s, alpha=2.5),
       lambda x, s: _index_add_ref(x, 0, [1, 1], s, 2.5), [[(3, 4), (2, 4)]]),
    Op("scatter_value", lambda lib, x: lib.scatter(x, 1, lib.tensor([[0, 2], [3, 1]]), 1.5),
       lambda x: _scatter_ref(x, 1, [[0, 2], [3, 1]], np.full((2, 2), 1.5)), R2),
    Op("scatter_src", lambda lib, x, s: lib.scatter(x, 0, lib.tensor([[2, 0, 1, 0]]), s),
       lambda x, s: _scatter_ref(x, 0, [[2, 0, 1, 0]], s), [[(3, 4), (1, 4)]]),
    Op("scatter_method_value_keyword", lambda lib, x: x.scatter(0, lib.tensor([[1, 0, 2]]),
                                                                value=-2.0),
       lambda x: _scatter_ref(x, 0, [[1, 0, 2]], np.full((1, 3), -2.0)), R2),
    Op("scatter_add", lambda lib, x, s: lib.scatter_add(x, 0, lib.tensor([[0, 2, 0, 0],
                                                                          [0, 2, 1, 0]]), s),
       lambda x, s: _scatter_add_ref(x, 0, [[0, 2, 0, 0], [0, 2, 1, 0]], s),
       [[(3, 4), (2, 4)]]),
    Op("scatter_reduce_add", lambda lib, x, s: x.scatter(1, lib.tensor([[0, 0], [1, 3]]), s,
                                                         reduce="add"),
       lambda x, s: _scatter_add_ref(x, 1, [[0, 0], [1, 3]], s), [[(3, 4), (2, 2)]],
       grad=False),
    Op("masked_fill", lambda lib, x: lib.masked_fill(x, x > 0.5, -1.0),
       lambda x: np.where(x > 0.5, -1.0, x), U),
    Op("masked_fill_broadcast", lambda lib, x: x.masked_fill(lib.tensor([True, False, True,
                                                                         False]), 0.25),
       lambda x: np.where([True, False, True, False], 0.25, x), R3),
    Op("masked_fill_tensor_value", lambda lib, x, v: x.masked_fill(x < 0, v),
       lambda x, v: np.where(x < 0, v, x), [[(3, 4), ()]]),
    Op("masked_select", lambda lib, x: lib.masked_select(x, x > 0),
       lambda x: x[x > 0], R3),
    # matrix products
    Op("addmm", lambda lib, x, a, b: lib.addmm(x, a, b), lambda x, a, b: x + a @ b,
       [[(3, 2), (3, 4), (4, 2)], [(2,), (3, 4), (4, 2)]]),
    Op("addmm_scaled", lambda lib, x, a, b: x.addmm(a, b, beta=0.5, alpha=-2.0),
       lambda x, a, b: 0.5 * x - 2 * a @ b, [[(3, 2), (3, 4), (4, 2)]]),
    Op("addmm_beta0", lambda lib, x, a, b: lib.addmm(x, a, b, beta=0),
       lambda x, a, b: a @ b, [[(3, 2), (3, 4), (4, 2)]]),
    Op("addmv", lambda lib, x, a, v: lib.addmv(x, a, v, alpha=3.0),
       lambda x, a, v: x + 3 * a @ v, [[(3,), (3, 4), (4,)]]),
    Op("baddbmm", lambda lib, x, a, b: lib.baddbmm(x, a, b, beta=2.0),
       lambda x, a, b: 2 * x + a @ b, [[(2, 3, 2), (2, 3, 4), (2, 4, 2)], [(2,), (2, 3, 4),
                                                                          (2, 4, 2)]]),
    Op("addbmm", lambda lib, x, a, b: lib.addbmm(x, a, b),
       lambda x, a, b: x + (a @ b).sum(0), [[(3, 2), (2, 3, 4), (2, 4, 2)]]),
    Op("mm_method", lambda lib, a, b: a.mm(b), np.matmul, [[(3, 4), (4, 2)]]),
    Op("outer_method", lambda lib, a, b: a.outer(b), np.outer, [[(3,), (2,)]]),
    # norms
    Op("norm", lambda lib, x: x.norm(), lambda x: np.sqrt((x * x).sum()), U + R3),
    Op("norm_p1", lambda lib, x: lib.norm(x, p=1), lambda x: np.abs(x).sum(), R2,
       domain="nonzero"),
    Op("norm_p3_dim_keepdim", lambda lib, x: lib.norm(x, 3, dim=1, keepdim=True),
       lambda x: _vector_norm_ref(x, 3, 1, True), R3),
    Op("norm_fro_dims", lambda lib, x: x.norm(p="fro", dim=(0, 2)),
       lambda x: np.sqrt((x * x).sum((0, 2))), R3),
    Op("norm_nuc", lambda lib, x: lib.norm(x, p="nuc"),
       lambda x: np.linalg.norm(x, "nuc"), R2, grad2=False, recorded=False, rtol32=1e-4),
    Op("vector_norm_inf", lambda lib, x: _linalg(lib).vector_norm(x, ord=INF, dim=1),
       lambda x: np.abs(x).max(1), R3),
    Op("vector_norm_neg_inf", lambda lib, x: _linalg(lib).vector_norm(x, -INF, (0, 2),
                                                                      keepdim=True),
       lambda x: np.abs(x).min((0, 2), keepdims=True), R3),
    Op("vector_norm_0", lambda lib, x: _linalg(lib).vector_norm(x, 0),
       lambda x: np.asarray(float(np.count_nonzero(x))), R2),
    Op("vector_norm_half", lambda lib, x: _linalg(lib).vector_norm(x, 0.5, dim=0),
       lambda x: _vector_norm_ref(x, 0.5, 0), R3, domain="nonzero"),
    Op("vector_norm_1_5", lambda lib, x: _linalg(lib).vector_norm(x, 1.5, dim=-1),
       lambda x: _vector_norm_ref(x, 1.5, -1), R3, domain="nonzero"),
    Op("vector_norm_neg1", lambda lib, x: _linalg(lib).vector_norm(x, -1),
       lambda x: _vector_norm_ref(x, -1), R2, domain="nonzero"),
    Op("linalg_norm", lambda lib, x: _linalg(lib).norm(x), lambda x: np.sqrt((x * x).sum()),
       R2 + R3),
    Op("linalg_norm_vector_dim", lambda lib, x: _linalg(lib).norm(x, 4, dim=1),
       lambda x: _vector_norm_ref(x, 4, 1), R3),
    Op("linalg_norm_matrix_1", lambda lib, x: _linalg(lib).norm(x, ord=1),
       lambda x: np.linalg.norm(x, 1), R2),
    Op("linalg_norm_matrix_inf", lambda lib, x: _linalg(lib).norm(x, ord=INF),
       lambda x: np.linalg.norm(x, np.inf), R2),
    Op("linalg_norm_matrix_neg1", lambda lib, x: _linalg(lib).norm(x, ord=-1),
       lambda x: np.linalg.norm(x, -1), R2),
    Op("linalg_norm_matrix_neg_inf", lambda lib, x: _linalg(lib).norm(x, ord=-INF),
       lambda x: np.linalg.norm(x, -np.inf), R2),
    Op("linalg_norm_spectral", lambda lib, x: _linalg(lib).norm(x, ord=2),
       lambda x: np.linalg.norm(x, 2), R2, grad2=False, recorded=False, rtol32=1e-4),
    Op("linalg_norm_spectral_min", lambda lib, x: _linalg(lib).norm(x, ord=-2),
       lambda x: np.linalg.norm(x, -2), R2, grad2=False, recorded=False, rtol32=1e-4),
    Op("matrix_norm_fro_batched", lambda lib, x: _linalg(lib).matrix_norm(x),
       lambda x: np.sqrt((x * x).sum((-2, -1))), R3),
    Op("matrix_norm_1_dims_keepdim", lambda lib, x: _linalg(lib).matrix_norm(
        x, 1, dim=(2, 0), keepdim=True),
       lambda x: np.abs(x).sum(2, keepdims=True).max(0, keepdims=True), R3),
    Op("matrix_norm_nuc_batched", lambda lib, x: _linalg(lib).matrix_norm(x, "nuc", (0, 2)),
       lambda x: np.linalg.norm(np.moveaxis(x, 1, 0), "nuc", (1, 2)), R3, grad2=False,
       recorded=False, rtol32=1e-4),
    # activations
    Op("softplus", lambda lib, x: _NN(lib).softplus(x), lambda x: np.log1p(np.exp(x)), U),
    Op("softplus_beta_threshold", lambda lib, x: _NN(lib).softplus(x, beta=2, threshold=1.5),
       lambda x: np.where(2 * x > 1.5, x, np.log1p(np.exp(2 * x)) / 2), U, domain="nonzero"),
    Op("logsigmoid", lambda lib, x: _NN(lib).logsigmoid(x * 10),
       lambda x: -np.log1p(np.exp(-x * 10)), U),
    Op("silu", lambda lib, x: _NN(lib).silu(x), lambda x: x * _sigmoid(x), U),
    Op("hardtanh", lambda lib, x: _NN(lib).hardtanh(x), lambda x: np.clip(x, -1, 1), U),
    Op("hardtanh_bounds", lambda lib, x: _NN(lib).hardtanh(x, -0.5, 1.5),
       lambda x: np.clip(x, -0.5, 1.5), U[:1]),
    Op("relu6", lambda lib, x: _NN(lib).relu6(x * 4), lambda x: np.clip(x * 4, 0, 6), U),
    Op("elu", lambda lib, x: _NN(lib).elu(x), _elu_np, U, domain="nonzero"),
    Op("elu_alpha_large", lambda lib, x: _NN(lib).elu(x * 400, alpha=0.5),
       lambda x: _elu_np(x * 400, 0.5), U[:1], domain="nonzero"),
    Op("selu", lambda lib, x: _NN(lib).selu(x),
       lambda x: _SELU[1] * _elu_np(x, _SELU[0]), U, domain="nonzero"),
    Op("celu", lambda lib, x: _NN(lib).celu(x, alpha=2.0),
       lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)), U, domain="nonzero"),
    Op("mish", lambda lib, x: _NN(lib).mish(x * 3),
       lambda x: 3 * x * np.tanh(np.log1p(np.exp(3 * x))), U),
    Op("hardswish", lambda lib, x: _NN(lib).hardswish(x * 3),
       lambda x: 3 * x * np.clip(3 * x + 3, 0, 6) / 6, U),
    # PyTorch's hardsigmoid: its backward uses float32's 1/6 in every dtype, and has no
    # derivative of its own (second derivatives raise there)
    Op("hardsigmoid", lambda lib, x: _NN(lib).hardsigmoid(x * 3),
       lambda x: np.clip(3 * x + 3, 0, 6) / 6, U, rtol64=1e-7, grad2=False),
    Op("softsign", lambda lib, x: _NN(lib).softsign(x), lambda x: x / (1 + np.abs(x)), U),
    Op("tanhshrink", lambda lib, x: _NN(lib).tanhshrink(x), lambda x: x - np.tanh(x), U),
    Op("threshold", lambda lib, x: _NN(lib).threshold(x, 0.5, -3.0),
       lambda x: np.where(x > 0.5, x, -3.0), U),
    Op("hardshrink", lambda lib, x: _NN(lib).hardshrink(x, 0.7),
       lambda x: np.where(np.abs(x) > 0.7, x, 0), U),
    Op("softshrink", lambda lib, x: _NN(lib).softshrink(x),
       lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)), U),
    Op("glu", lambda lib, x: _NN(lib).glu(x), lambda x: x[:, :2] * _sigmoid(x[:, 2:]), R2),
    Op("glu_dim0", lambda lib, x: _NN(lib).glu(x, 0),
       lambda x: x[:1] * _sigmoid(x[1:]), [[(2, 3, 4)]]),
    Op("prelu", lambda lib, x, w: _NN(lib).prelu(x, w),
       lambda x, w: np.where(x > 0, x, w[:, None] * x), [[(2, 3, 4), (3,)], [(3, 4), (1,)]],
       domain="nonzero"),
    Op("softmin", lambda lib, x: _NN(lib).softmin(x, dim=1), lambda x: _softmax_np(-x, 1),
       R3),
    # distances
    Op("normalize", lambda lib, x: _NN(lib).normalize(x),
       lambda x: x / np.sqrt((x * x).sum(1, keepdims=True)), R3 + R2),
    Op("normalize_p1_dim", lambda lib, x: _NN(lib).normalize(x, p=1, dim=-1),
       lambda x: x / np.abs(x).sum(-1, keepdims=True), R2, domain="nonzero"),
    Op("cosine_similarity", lambda lib, a, b: _NN(lib).cosine_similarity(a, b),
       lambda a, b: _cos_sim_np(a, b, 1), [[(3, 4), (3, 4)], [(2, 3, 4), (3, 1)]]),
    Op("cosine_similarity_dim", lambda lib, a, b: _NN(lib).cosine_similarity(a, b, dim=-1),
       lambda a, b: _cos_sim_np(a, b, -1), [[(3, 4), (4,)]]),
    Op("pairwise_distance", lambda lib, a, b: _NN(lib).pairwise_distance(a, b),
       lambda a, b: np.sqrt(((a - b + 1e-6) ** 2).sum(-1)), [[(3, 4), (3, 4)], [(3, 4), (4,)]]),
    Op("pairwise_distance_p1_keepdim", lambda lib, a, b: _NN(lib).pairwise_distance(
        a, b, p=1, keepdim=True),
       lambda a, b: np.abs(a - b + 1e-6).sum(-1, keepdims=True), [[(3, 4), (3, 4)]]),
    # losses
    Op("smooth_l1_loss", lambda lib, a, b: _NN(lib).smooth_l1_loss(a, b),
       lambda a, b: _smooth_l1_np(a - b, 1.0).mean(), [[(3, 4), (3, 4)]]),
    Op("smooth_l1_loss_beta_sum", lambda lib, a, b: _NN(lib).smooth_l1_loss(
        a, b, reduction="sum", beta=0.5),
       lambda a, b: _smooth_l1_np(a - b, 0.5).sum(), [[(3, 4), (3, 4)]]),
    Op("smooth_l1_loss_beta0", lambda lib, a, b: _NN(lib).smooth_l1_loss(a, b, beta=0.0),
       lambda a, b: np.abs(a - b).mean(), [[(3, 4), (3, 4)]]),
    Op("huber_loss", lambda lib, a, b: _NN(lib).huber_loss(a, b, reduction="none", delta=0.7),
       lambda a, b: _huber_np(a - b, 0.7), [[(3, 4), (3, 4)]]),
    Op("huber_loss_weight", lambda lib, a, b, w: _NN(lib).huber_loss(a, b, weight=w),
       lambda a, b, w: (_huber_np(a - b, 1.0) * w).mean(), [[(3, 4), (3, 4), (3, 4)]]),
    Op("kl_div_batchmean", lambda lib, a, b: _NN(lib).kl_div(
        _NN(lib).log_softmax(a, 1), _NN(lib).softmax(b, 1), reduction="batchmean"),
       lambda a, b: (_softmax_np(b, 1) * (np.log(_softmax_np(b, 1)) - _log_softmax_np(a, 1))
                     ).sum() / 3, [[(3, 4), (3, 4)]]),
    Op("kl_div_log_target_none", lambda lib, a, b: _NN(lib).kl_div(
        _NN(lib).log_softmax(a, 1), _NN(lib).log_softmax(b, 1), reduction="none",
        log_target=True),
       lambda a, b: _softmax_np(b, 1) * (_log_softmax_np(b, 1) - _log_softmax_np(a, 1)),
       [[(3, 4), (3, 4)]]),
    Op("kl_div_sum", lambda lib, a, b: _NN(lib).kl_div(a, b.abs(), reduction="sum"),
       lambda a, b: (np.abs(b) * (np.log(np.abs(b)) - a)).sum(), [[(3, 4), (3, 4)]],
       domain=("real", "nonzero")),
    Op("soft_margin_loss", lambda lib, x: _NN(lib).soft_margin_loss(x, lib.tensor(_PM1)),
       lambda x: np.log1p(np.exp(-x * np.array(_PM1))).mean(), R2),
    Op("multilabel_soft_margin_loss", lambda lib, x, w: _NN(lib).multilabel_soft_margin_loss(
        x, lib.tensor(_BITS), weight=w),
       lambda x, w: (-(np.array(_BITS) * np.log(_sigmoid(x)) + (1 - np.array(_BITS))
                      * np.log(_sigmoid(-x))) * w).mean(1).mean(), [[(3, 4), (4,)]]),
    Op("poisson_nll_loss", lambda lib, x, t: _NN(lib).poisson_nll_loss(x, t),
       lambda x, t: (np.exp(x) - t * x).mean(), [[(3, 4), (3, 4)]],
       domain=("real", "positive")),
    Op("poisson_nll_loss_rates_full", lambda lib, x, t: _NN(lib).poisson_nll_loss(
        x, t * 2, log_input=False, full=True, reduction="sum"),
       lambda x, t: (x - 2 * t * np.log(x + 1e-8) + np.where(
           2 * t > 1, 2 * t * np.log(2 * t) - 2 * t + 0.5 * np.log(2 * np.pi * 2 * t), 0)
       ).sum(), [[(3, 4), (3, 4)]], domain="positive"),
    Op("gaussian_nll_loss", lambda lib, x, t, v: _NN(lib).gaussian_nll_loss(x, t, v),
       lambda x, t, v: (0.5 * (np.log(v) + (x - t) ** 2 / v)).mean(),
       [[(3, 4), (3, 4), (3, 4)]], domain=("real", "real", "positive")),
    Op("gaussian_nll_loss_shared_var_full", lambda lib, x, t, v: _NN(lib).gaussian_nll_loss(
        x, t, v, full=True, reduction="sum"),
       lambda x, t, v: (0.5 * (np.log(v[:, None]) + (x - t) ** 2 / v[:, None])
                        + 0.5 * np.log(2 * np.pi)).sum(),
       [[(3, 4), (3, 4), (3,)]], domain=("real", "real", "positive")),
    Op("margin_ranking_loss", lambda lib, a, b: _NN(lib).margin_ranking_loss(
        a, b, lib.tensor(_PM1), margin=0.3),
       lambda a, b: np.maximum(-np.array(_PM1) * (a - b) + 0.3, 0).mean(),
       [[(3, 4), (3, 4)]]),
    Op("hinge_embedding_loss", lambda lib, x: _NN(lib).hinge_embedding_loss(
        x, lib.tensor(_PM1), reduction="none"),
       lambda x: np.where(np.array(_PM1) == 1, x, np.maximum(1 - x, 0)), R2),
    Op("cosine_embedding_loss", lambda lib, a, b: _NN(lib).cosine_embedding_loss(
        a, b, lib.tensor([1., -1., -1.]), margin=-0.2),
       lambda a, b: np.mean(np.where(np.array([1, -1, -1]) == 1, 1 - _cos_sim_np(a, b, 1),
                                     np.maximum(_cos_sim_np(a, b, 1) + 0.2, 0))),
       [[(3, 4), (3, 4)]]),
    # PyTorch's multi_margin_loss has no second derivative (its backward is a kernel)
    Op("multi_margin_loss", lambda lib, x: _NN(lib).multi_margin_loss(x, lib.tensor(_Y3)),
       lambda x: _multi_margin_np(x, np.array(_Y3), 1, 1.0), R2, grad2=False),
    Op("multi_margin_loss_p2_weight", lambda lib, x: _NN(lib).multi_margin_loss(
        x, lib.tensor(_Y3), p=2, margin=0.5, weight=lib.tensor(_W4, dtype=x.dtype)),
       lambda x: _multi_margin_np(x, np.array(_Y3), 2, 0.5, np.array(_W4)), R2,
       grad2=False),
    Op("triplet_margin_loss", lambda lib, a, p, n: _NN(lib).triplet_margin_loss(a, p, n),
       lambda a, p, n: np.maximum(1 + np.sqrt(((a - p + 1e-6) ** 2).sum(-1))
                                  - np.sqrt(((a - n + 1e-6) ** 2).sum(-1)), 0).mean(),
       [[(3, 4), (3, 4), (3, 4)]]),
    Op("triplet_margin_loss_swap_p1", lambda lib, a, p, n: _NN(lib).triplet_margin_loss(
        a, p, n, margin=2.0, p=1, swap=True, reduction="sum"),
       lambda a, p, n: np.maximum(2 + np.abs(a - p + 1e-6).sum(-1) - np.minimum(
           np.abs(a - n + 1e-6).sum(-1), np.abs(p - n + 1e-6).sum(-1)), 0).sum(),
       [[(3, 4), (3, 4), (3, 4)]]),
]

# -- the wider torch.* API (ops/special.py, statistics.py, matrix.py, arrange.py) -------------


def _special(name):
    from scipy import special
    return getattr(special, name)


def _logcumsumexp(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


def _cummax(x):
    """Running maximum along dim 1 and the index of its (last) occurrence."""
    values = np.maximum.accumulate(x, 1)
    index = np.zeros(x.shape, np.int64)
    for j in range(1, x.shape[1]):
        index[:, j] = np.where(x[:, j] >= values[:, j - 1], j, index[:, j - 1])
    return values, index


def _kth(x, k):
    """The k-th smallest along dim 1 (from 0) and its index (distinct values)."""
    order = np.argsort(x, 1, kind="stable")[:, k]
    return np.take_along_axis(x, order[:, None], 1)[:, 0], order


OPS += [
    Op("tan", lambda lib, x: lib.tan(x), np.tan, U, domain="unit"),
    Op("asin", lambda lib, x: lib.asin(x), np.arcsin, U, domain="unit"),
    Op("acos", lambda lib, x: lib.acos(x), np.arccos, U, domain="unit"),
    Op("atan", lambda lib, x: lib.atan(x), np.arctan, U),
    Op("sinh", lambda lib, x: lib.sinh(x), np.sinh, U),
    Op("cosh", lambda lib, x: x.cosh(), np.cosh, U),
    Op("asinh", lambda lib, x: lib.asinh(x), np.arcsinh, U),
    Op("atanh", lambda lib, x: lib.atanh(x), np.arctanh, U, domain="unit"),
    Op("exp2", lambda lib, x: lib.exp2(x), np.exp2, U),
    Op("erfc", lambda lib, x: lib.erfc(x), lambda x: _special("erfc")(x), U),
    Op("erfinv", lambda lib, x: lib.erfinv(x), lambda x: _special("erfinv")(x), U,
       domain="unit"),
    Op("lgamma", lambda lib, x: lib.lgamma(x), lambda x: _special("gammaln")(x), U,
       domain="positive"),
    Op("digamma", lambda lib, x: lib.digamma(x), lambda x: _special("digamma")(x), U,
       domain="positive", rtol64=1e-8),  # PyTorch's own series, not SciPy's (cephes)
    Op("sinc", lambda lib, x: lib.sinc(x), np.sinc, U, domain="nonzero"),
    Op("logit", lambda lib, x: lib.logit(lib.sigmoid(x)), lambda x: x, U, rtol64=1e-9),
    Op("deg2rad", lambda lib, x: lib.deg2rad(x), np.deg2rad, U),
    Op("atan2", lambda lib, a, b: lib.atan2(a, b), np.arctan2, B, domain="nonzero"),
    Op("hypot", lambda lib, a, b: lib.hypot(a, b), np.hypot, B, domain="nonzero"),
    Op("xlogy", lambda lib, a, b: lib.xlogy(a, b), lambda a, b: a * np.log(b), B,
       domain=("real", "positive")),
    Op("copysign", lambda lib, a, b: lib.copysign(a, b), np.copysign, B[:3],
       domain="nonzero"),
    Op("fmax", lambda lib, a, b: lib.fmax(a, b), np.fmax, B),
    Op("fmin", lambda lib, a, b: lib.fmin(a, b), np.fmin, B),
    Op("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5),
       lambda a, b, c: a + 0.5 * b * c, [[(3, 4), (3, 4), (4,)], [(), (3, 1), (1, 4)]]),
    Op("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=-2),
       lambda a, b, c: a - 2 * b / c, [[(3, 4), (3, 4), (4,)]],
       domain=("real", "real", "nonzero")),
    Op("nansum", lambda lib, x: lib.nansum(x, 1), lambda x: np.nansum(x, 1), R3),
    Op("logcumsumexp", lambda lib, x: lib.logcumsumexp(x, 1), lambda x: _logcumsumexp(x, 1),
       R3),
    Op("cummax", lambda lib, x: tuple(lib.cummax(x, 1)),
       _cummax, R2, numeric=False, grad2=False),
    Op("diff", lambda lib, x: lib.diff(x, dim=1), lambda x: np.diff(x, axis=1), R3),
    Op("median_dim", lambda lib, x: tuple(lib.median(x, 1)), lambda x: _kth(x, 1), R2,
       numeric=False),
    Op("kthvalue", lambda lib, x: tuple(lib.kthvalue(x, 2, 1)), lambda x: _kth(x, 1), R2,
       numeric=False),
    Op("kron", lambda lib, a, b: lib.kron(a, b), np.kron, [[(2, 3), (3, 2)]]),
    Op("cdist", lambda lib, a, b: lib.cdist(a, b),
       lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)), [[(3, 4), (2, 4)]],
       grad2=False),
    Op("linalg_inv", lambda lib, x: lib.linalg.inv(x + 3 * lib.eye(3, dtype=x.dtype)),
       lambda x: np.linalg.inv(x + 3 * np.eye(3)), [[(3, 3)], [(2, 3, 3)]]),
    Op("linalg_det", lambda lib, x: lib.linalg.det(x), np.linalg.det, [[(3, 3)]]),
]

# The ops the issue asks for, each covered by at least one entry above.
REQUIRED = {
    "add", "sub", "mul", "div", "pow", "matmul", "radd", "rsub", "rmul", "rdiv", "rpow",
    "rmatmul", "neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu",
    "gelu", "gelu_tanh", "sin", "cos", "clamp", "maximum", "minimum", "where", "eq", "ne",
    "lt", "le", "gt", "ge", "sum", "mean", "var", "std", "max", "max_dim", "min", "min_dim",
    "argmax", "argmin", "logsumexp", "reshape", "view", "flatten", "transpose", "permute",
    "T", "squeeze", "unsqueeze", "expand", "getitem_slices", "getitem_int",
    "getitem_int_list_repeats", "getitem_mask", "cat", "stack", "split", "chunk", "pad",
}


# ... and those of issue 11 (the API PyTorch programs use)
REQUIRED |= {
    "tril", "triu", "topk", "sort", "argsort", "cumsum", "cumprod", "roll", "flip", "fliplr",
    "flipud", "einsum_matmul", "einsum_diagonal", "einsum_trace", "einsum_outer",
    "einsum_ellipsis", "masked_fill", "scatter_value", "scatter_src", "scatter_add",
    "index_select", "index_add", "log1p", "log2", "log10", "expm1", "all", "any_dims",
    "isclose", "histc", "histogram", "bincount", "outer", "mm", "bmm", "addmm", "baddbmm",
    "norm", "linalg_norm", "vector_norm_inf", "matrix_norm_fro_batched", "norm_nuc",
    "softplus_beta_threshold", "smooth_l1_loss", "huber_loss", "kl_div_batchmean",
    "kl_div_log_target_none", "hardtanh", "relu6", "elu", "selu", "celu", "mish",
    "hardswish", "hardsigmoid", "softsign", "tanhshrink", "threshold", "glu", "logsigmoid",
    "softmin", "normalize", "cosine_similarity", "pairwise_distance", "triplet_margin_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_embedding_loss", "multi_margin_loss",
}


def _domain_values(rng, spec: str, shape: tuple) -> np.ndarray:
    if spec == "real":
        return rng.uniform(-2, 2, shape)
    if spec == "positive":
        return rng.uniform(0.3, 2, shape)
    if spec == "nonzero":
        return rng.uniform(0.3, 2, shape) * rng.choice([-1.0, 1.0], shape)
    if spec == "ties":
        return rng.integers(0, 3, shape).astype(np.float64)
    if spec == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if spec == "tiny":  # where log1p and expm1 differ from log(1 + x) and exp(x) - 1
        return rng.uniform(-1e-9, 1e-9, shape)
    raise ValueError(spec)


def make_arrays(op: Op, shapes: list, salt: int = 0) -> list:
    """Deterministic float64 inputs for one case of ``op``."""
    rng = np.random.default_rng(zlib.crc32(f"{op.name}{shapes}{salt}".encode()))
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * len(shapes)
    return [np.asarray(_domain_values(rng, d, s)) for d, s in zip(domains, shapes)]


CASES = [pytest.param(op, shapes, id=f"{op.name}-{'x'.join(str(s) for s in shapes)}")
         for op in OPS for shapes in op.cases]
GRAD_CASES = [c for c in CASES if c.values[0].grad]
RECORDED_CASES = [c for c in GRAD_CASES if c.values[0].recorded]
NUMERIC_CASES = [c for c in GRAD_CASES if c.values[0].numeric]
GRAD2_CASES = [c for c in GRAD_CASES if c.values[0].grad2]
DTYPES = ["float64", "float32"]


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _to_numpy(tensor) -> np.ndarray:
    if torch is not None and isinstance(tensor, torch.Tensor):
        return tensor.detach().numpy(force=True)  # force: PyTorch's ZeroTensor gradients
    return np.asarray(tensor.numpy())


def _float_outputs(outputs) -> list:
    return [o for o in outputs if o.dtype in (at.float32, at.float64)
            or (torch is not None and o.dtype in (torch.float32, torch.float64))]


# -- the tests the table drives -------------------------------------------------------------

def test_table_covers_required_ops():
    names = {op.name for op in OPS}
    assert REQUIRED <= names, f"ops missing from the table: {sorted(REQUIRED - names)}"
    assert len(names) == len(OPS), "op names in the table must be unique"


@pytest.mark.parametrize("op, shapes", CASES)
def test_forward_matches_numpy(op, shapes):
    arrays = make_arrays(op, shapes)
    expected = _outputs(op.ref(*[a.copy() for a in arrays]))
    got = _outputs(op.fn(at, *[at.tensor(a) for a in arrays]))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = np.asarray(e)
        assert g.shape == e.shape, (g.shape, e.shape)
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op, shapes", NUMERIC_CASES)
def test_gradients_match_central_differences(op, shapes):
    inputs = [at.tensor(a, requires_grad=True) for a in make_arrays(op, shapes)]

    def differentiable(*xs):
        return tuple(_float_outputs(_outputs(op.fn(at, *xs))))

    assert autograd.gradcheck(differentiable, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


def _run(lib, op, arrays, dtype: str, weights_seed: int):
    """Forward, then backward of sum(w * out) for random w; returns outputs and grads."""
    make = lib.tensor
    xs = [make(a.astype(dtype), requires_grad=op.grad) for a in arrays]
    outputs = _outputs(op.fn(lib, *xs))
    grads = None
    if op.grad:
        rng = np.random.default_rng(weights_seed)
        loss = 0
        for out in _float_outputs(outputs):
            weights = make(rng.standard_normal(tuple(out.shape)).astype(dtype))
            loss = loss + (out * weights).sum()
        loss.backward()
        grads = [x.grad for x in xs]
    return xs, outputs, grads


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op, shapes", CASES)
def test_forward_and_backward_match_torch(op, shapes, dtype):
    arrays = make_arrays(op, shapes)
    xs, ours, our_grads = _run(at, op, arrays, dtype, 7)
    _, theirs, their_grads = _run(torch, op, arrays, dtype, 7)
    rtol, atol = (op.rtol64, 1e-12) if dtype == "float64" else (op.rtol32, 1e-5)
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert _dtype_name(mine.dtype) == _dtype_name(ref.dtype)
        assert tuple(mine.shape) == tuple(ref.shape)
        assert mine.requires_grad == ref.requires_grad
        np.testing.assert_allclose(_to_numpy(mine), _to_numpy(ref), rtol=rtol, atol=atol)
    if not op.grad:
        return
    for x, mine, ref in zip(xs, our_grads, their_grads):
        if ref is None:
            assert mine is None or not np.any(mine.numpy())
            continue
        assert mine is not None, "PyTorch computes a gradient here, abdou_torch none"
        assert mine.dtype == x.dtype and mine.shape == x.shape
        assert not mine.requires_grad
        np.testing.assert_allclose(mine.numpy(), _to_numpy(ref), rtol=rtol, atol=atol * 10)


def _gradients(op, arrays, create_graph: bool) -> list:
    xs = [at.tensor(a, requires_grad=True) for a in arrays]
    rng = np.random.default_rng(5)
    loss = sum((o * at.tensor(rng.standard_normal(tuple(o.shape)))).sum()
               for o in _float_outputs(_outputs(op.fn(at, *xs))))
    loss.backward(create_graph=create_graph)
    return [None if x.grad is None else x.grad.numpy() for x in xs]


@pytest.mark.parametrize("op, shapes", RECORDED_CASES)
def test_array_backward_matches_recorded_backward(op, shapes):
    """The walk on arrays and the recorded walk on Tensors (create_graph) give one
    gradient: the namespaces agree, and so do the fast paths with their formulas."""
    arrays = make_arrays(op, shapes)
    fast = _gradients(op, arrays, create_graph=False)
    recorded = _gradients(op, arrays, create_graph=True)
    for mine, ref in zip(fast, recorded):
        assert (mine is None) == (ref is None)
        if mine is not None:
            np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)


def _second_order(lib, op, arrays, seed: int) -> list:
    """d/dx of sum(v * d(sum(w * f(x)))/dx): a Hessian-vector product, zeros where unused."""
    rng = np.random.default_rng(seed)
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    outputs = _float_outputs(_outputs(op.fn(lib, *xs)))
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outputs)
    first = lib.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    projection = 0
    for g, x in zip(first, xs):
        if g is not None and g.requires_grad:
            projection = projection + (g * lib.tensor(rng.standard_normal(tuple(x.shape)))).sum()
    if not getattr(projection, "requires_grad", False):
        return [np.zeros(a.shape) for a in arrays]
    second = lib.autograd.grad(projection, xs, allow_unused=True)
    return [np.zeros(a.shape) if s is None else _to_numpy(s) for s, a in zip(second, arrays)]


@needs_torch
@pytest.mark.parametrize("op, shapes", GRAD2_CASES)
def test_second_derivatives_match_torch(op, shapes):
    arrays = make_arrays(op, shapes)
    ours = _second_order(at, op, arrays, 11)
    theirs = _second_order(torch, op, arrays, 11)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-10)


def test_table_counts():
    """The numbers quoted in the resolve note: ops and cases checked against PyTorch."""
    torch_cases = len(CASES) * len(DTYPES) + len(GRAD2_CASES)
    assert len(OPS) >= 300 and len(CASES) >= 540
    assert torch_cases == 2 * len(CASES) + len(GRAD2_CASES)
    print(f"{len(OPS)} ops, {len(CASES)} input cases; {torch_cases} test cases checked "
          f"against PyTorch ({len(CASES)} x {len(DTYPES)} dtypes forward+backward, "
          f"{len(GRAD2_CASES)} second-derivative); {len(NUMERIC_CASES)} gradchecks")
