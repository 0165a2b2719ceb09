"""The op table: how each recorded op becomes ONNX nodes (one entry per op, one place).

``SYMBOLIC[kind](graph, call)`` emits the nodes for one recorded :class:`~.tracing.Call`
through the :class:`~.graph.GraphBuilder` and returns the ONNX name of its output. ``kind``
is the Primitive's class name (``abdou_torch.ops``) or an nn.functional name; when an op
class is renamed or its arguments change, this table is the one place to update. The
arguments are those the op's ``apply`` received (``call.args``): Tensors and arrays become
ONNX values with ``graph.value(...)``, options are read as plain Python values.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .tracing import Call

__all__ = ["SYMBOLIC"]


def _unary(op_type: str) -> Callable:
    return lambda g, call: g.node(op_type, [g.value(call.args[0])])


def _binary(op_type: str) -> Callable:
    return lambda g, call: g.node(op_type, [g.value(call.args[0]), g.value(call.args[1])])


def _pow_scalar(g: Any, call: Call) -> str:
    x, exponent = call.args[0], call.args[1]
    return g.node("Pow", [g.value(x), g.constant(np.asarray(exponent, dtype=x.dtype))])


def _leaky_relu(g: Any, call: Call) -> str:
    return g.node("LeakyRelu", [g.value(call.args[0])], alpha=float(call.args[1]))


def _clamp(g: Any, call: Call) -> str:
    x, low, high = call.args[:3]
    bound = lambda v: "" if v is None else g.constant(np.asarray(v, dtype=x.dtype))  # noqa
    return g.node("Clip", [g.value(x), bound(low), bound(high)])


def _cast(g: Any, call: Call) -> str:
    return g.node("Cast", [g.value(call.args[0])], to=g.onnx_dtype(np.dtype(call.args[1])))


def _matmul(g: Any, call: Call) -> str:
    a, b = call.args[:2]
    transpose_a = call.args[2] if len(call.args) > 2 else call.kwargs.get("transpose_a", False)
    transpose_b = call.args[3] if len(call.args) > 3 else call.kwargs.get("transpose_b", False)
    names = [g.value(a), g.value(b)]
    for i, (operand, flag) in enumerate(((a, transpose_a), (b, transpose_b))):
        if flag:
            names[i] = g.node("Transpose", [names[i]], perm=_swap_last(np.ndim(operand)))
    return g.node("MatMul", names)


def _swap_last(ndim: int) -> list[int]:
    return list(range(ndim - 2)) + [ndim - 1, ndim - 2]


def _linear(g: Any, call: Call) -> str:
    """y = x W^T + b: Gemm for a matrix input, else MatMul and Add."""
    x, weight, bias = call.args[:3]
    names = [g.value(x), g.value(weight)]
    if np.ndim(x) == 2:
        return g.node("Gemm", names + ([g.value(bias)] if bias is not None else []), transB=1)
    product = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=[1, 0])])
    return product if bias is None else g.node("Add", [product, g.value(bias)])


def _window_attributes(window: Any) -> dict[str, Any]:
    (top, bottom), (left, right) = window.padding
    return {"kernel_shape": list(window.kernel), "strides": list(window.stride),
            "pads": [top, left, bottom, right], "dilations": list(window.dilation)}


def _conv2d(g: Any, call: Call) -> str:
    x, weight, bias, window = call.args[:4]
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    return g.node("Conv", inputs, group=window.groups, **_window_attributes(window))


def _max_pool2d(g: Any, call: Call) -> str:
    x, window = call.args[:2]
    return g.node("MaxPool", [g.value(x)], **_window_attributes(window))


def _avg_pool2d(g: Any, call: Call) -> str:
    """y = window sum / divisor: ONNX's zero-padded average over the whole kernel, rescaled
    by kernel area / divisor where PyTorch's divisor differs (count_include_pad=False,
    divisor_override, the ceil-mode overhang)."""
    x, window, divisor = call.args[:3]
    attributes = _window_attributes(window)
    del attributes["dilations"]  # AveragePool has dilations only from opset 19
    pooled = g.node("AveragePool", [g.value(x)], count_include_pad=1, **attributes)
    area = float(np.prod(window.kernel))
    divisor = np.asarray(divisor, dtype=np.float64)
    if np.all(divisor == area):
        return pooled
    return g.node("Mul", [pooled, g.constant((area / divisor).astype(x.dtype))])


def _embedding(g: Any, call: Call) -> str:
    weight, indices = call.args[:2]
    return g.node("Gather", [g.value(weight), g.value(indices)], axis=0)


def _reduce(op_type: str) -> Callable:
    def emit(g: Any, call: Call) -> str:
        x, dims, keepdim = call.args[:3]
        return g.reduce(op_type, g.value(x), list(dims), bool(keepdim))
    return emit


def _amax(g: Any, call: Call) -> str:
    x, dims, keepdim = call.args[:3]
    largest = call.args[3] if len(call.args) > 3 else True
    return g.reduce("ReduceMax" if largest else "ReduceMin", g.value(x), list(dims),
                    bool(keepdim))


def _reshape(g: Any, call: Call) -> str:
    x, shape = call.args[:2]
    return g.node("Reshape", [g.value(x), g.shape_constant(call, shape)])


def _permute(g: Any, call: Call) -> str:
    return g.node("Transpose", [g.value(call.args[0])], perm=list(call.args[1]))


def _expand(g: Any, call: Call) -> str:
    x, shape = call.args[:2]
    return g.node("Expand", [g.value(x), g.shape_constant(call, shape)])


def _cat(g: Any, call: Call) -> str:
    dim = call.kwargs["dim"]
    return g.node("Concat", [g.value(t) for t in call.args], axis=int(dim))


def _pad(g: Any, call: Call) -> str:
    x, widths, value = call.args[:3]
    pads = [before for before, _ in widths] + [after for _, after in widths]
    return g.node("Pad", [g.value(x), g.constant(np.asarray(pads, dtype=np.int64)),
                          g.constant(np.asarray(value, dtype=x.dtype))], mode="constant")


def _index(g: Any, call: Call) -> str:
    """x[index] for basic indexing (ints, slices with a positive step, None, ...) and one
    integer array on one axis."""
    x, index = call.args[:2]
    return g.index(g.value(x), np.ndim(x), index if isinstance(index, tuple) else (index,))


def _softmax_like(op_type: str) -> Callable:
    return lambda g, call: g.node(op_type, [g.value(call.args[0])], axis=int(call.args[1]))


def _gelu(g: Any, call: Call) -> str:
    """x/2 (1 + erf(x / sqrt 2)) with ONNX's Erf (opset 9; Gelu itself needs opset 20)."""
    x = call.args[0]
    constant = lambda v: g.constant(np.asarray(v, dtype=x.dtype))  # noqa: E731
    name = g.value(x)
    erf = g.node("Erf", [g.node("Mul", [name, constant(1 / np.sqrt(2))])])
    return g.node("Mul", [g.node("Mul", [name, g.node("Add", [erf, constant(1.0)])]),
                          constant(0.5)])


def _layer_norm(g: Any, call: Call) -> str:
    """LayerNormalization (opset 17) over the trailing ``dims``; a missing weight is ones."""
    x, weight, bias, dims, eps = call.args[:5]
    shape = np.shape(x)[len(np.shape(x)) - len(dims):]
    scale = g.value(weight) if weight is not None else g.constant(np.ones(shape, x.dtype))
    inputs = [g.value(x), scale] + ([g.value(bias)] if bias is not None else [])
    return g.node("LayerNormalization", inputs, axis=-len(dims), epsilon=float(eps))


def _softplus(g: Any, call: Call) -> str:
    """log(1 + exp(beta x)) / beta; PyTorch's linear part above the threshold equals it to
    float precision for the default threshold, so ONNX's Softplus serves."""
    x = call.args[0]
    beta = call.args[1] if len(call.args) > 1 else call.kwargs.get("beta", 1.0)
    name = g.value(x)
    if beta == 1:
        return g.node("Softplus", [name])
    scale = g.constant(np.asarray(beta, dtype=x.dtype))
    return g.node("Div", [g.node("Softplus", [g.node("Mul", [name, scale])]), scale])


def _logsigmoid(g: Any, call: Call) -> str:
    """log(sigmoid(x)) = -softplus(-x)."""
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [g.value(call.args[0])])])])


def _batch_norm(g: Any, call: Call) -> str:
    """Eval-mode batch norm with the running statistics: BatchNormalization."""
    names = ("input", "running_mean", "running_var", "weight", "bias", "training",
             "momentum", "eps")
    given = {**dict(zip(names, call.args)), **call.kwargs}
    x = given["input"]
    if given.get("training") or given.get("running_mean") is None:
        g.unsupported(call, "batch statistics (training mode) cannot be exported")
    channels = np.shape(x)[1]
    weight, bias = given.get("weight"), given.get("bias")
    scale = g.value(weight) if weight is not None else g.constant(np.ones(channels, x.dtype))
    shift = g.value(bias) if bias is not None else g.constant(np.zeros(channels, x.dtype))
    return g.node("BatchNormalization", [g.value(x), scale, shift,
                                         g.value(given["running_mean"]),
                                         g.value(given["running_var"])],
                  epsilon=float(given.get("eps", 1e-5)))


SYMBOLIC: dict[str, Callable[[Any, Call], str]] = {
    # elementwise
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"),
    "Div": _binary("Div"), "Pow": _binary("Pow"), "PowScalar": _pow_scalar,
    "Maximum": _binary("Max"), "Minimum": _binary("Min"),
    "Neg": _unary("Neg"), "Abs": _unary("Abs"), "Exp": _unary("Exp"), "Log": _unary("Log"),
    "Sqrt": _unary("Sqrt"), "Tanh": _unary("Tanh"), "Sin": _unary("Sin"), "Cos": _unary("Cos"),
    "Sigmoid": _unary("Sigmoid"), "Relu": _unary("Relu"), "Erf": _unary("Erf"),
    "Gelu": _gelu, "LayerNorm": _layer_norm,
    "LeakyRelu": _leaky_relu, "Clamp": _clamp, "Cast": _cast, "Clone": _unary("Identity"),
    "Where": lambda g, call: g.node("Where", [g.value(a) for a in call.args[:3]]),
    # linear algebra, convolution, pooling, embedding
    "MatMul": _matmul, "Linear": _linear, "Conv2d": _conv2d, "MaxPool2d": _max_pool2d,
    "AvgPool2d": _avg_pool2d, "Embedding": _embedding,
    # reductions
    "Sum": _reduce("ReduceSum"), "Prod": _reduce("ReduceProd"), "Amax": _amax,
    "Amin": _amax,  # Amin.apply passes largest=False
    # shapes
    "Reshape": _reshape, "Permute": _permute, "Expand": _expand, "Cat": _cat, "Pad": _pad,
    "Index": _index, "Softmax": _softmax_like("Softmax"),
    "LogSoftmax": _softmax_like("LogSoftmax"),
    # nn.functional ops recorded whole (see tracing.FUNCTIONAL_OPS)
    "softplus": _softplus, "logsigmoid": _logsigmoid, "batch_norm": _batch_norm,
}
