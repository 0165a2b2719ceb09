"""Custom Functions in PyTorch's full form: several outputs, non-differentiable outputs,
``setup_context``, ``once_differentiable``, ``set_materialize_grads``; against PyTorch."""
import numpy as np
import pytest
import torch

import abdou_torch as at


def _functions(library):
    Function = library.autograd.Function
    once = library.autograd.function.once_differentiable

    class SplitScale(Function):
        @staticmethod
        def forward(ctx, x, y, scale=2.0):
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            return x * y * scale, x + y, (x - y).sum()

        @staticmethod
        def backward(ctx, g_prod, g_sum, g_total):
            x, y = ctx.saved_tensors
            seen.append([g is None for g in (g_prod, g_sum, g_total)])
            return (g_prod * y * ctx.scale + g_sum + g_total,
                    g_prod * x * ctx.scale + g_sum - g_total, None)

    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            index = x.argmax()
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(x, index)
            return x.max(), index

        @staticmethod
        @once
        def backward(ctx, g, g_index):
            x, index = ctx.saved_tensors
            seen.append([tuple(g_index.shape)])
            grad = library.zeros_like(x)
            grad[index] = g
            return grad

    class Twice(Function):  # PyTorch 2's style: forward without ctx
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    seen = []
    return SplitScale, MaxWithIndex, Twice, seen


def _run(library):
    split, max_index, twice, seen = _functions(library)
    x = library.tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = library.tensor([3.0, -1.0, 0.5], requires_grad=True)
    prod, total_sum, diff = split.apply(x, y, 3.0)
    (prod.sum() + 2 * total_sum.sum() + 5 * diff).backward()
    results = [prod, total_sum, diff, x.grad, y.grad]
    z = library.tensor([0.5, 3.0, -2.0], requires_grad=True)
    value, index = max_index.apply(z)
    value.backward()
    results += [value, index, z.grad]
    flags = [index.requires_grad, value.requires_grad]
    w = library.tensor([1.0, -1.0], requires_grad=True)
    twice.apply(w).sum().backward()
    results.append(w.grad)
    unused_x = library.tensor([1.0, 2.0], requires_grad=True)
    first, _, _ = split.apply(unused_x, library.tensor([1.0, 1.0]))
    first.sum().backward()  # the other two outputs get zeros
    results.append(unused_x.grad)
    return [r.detach().numpy() for r in results], flags, seen


def test_several_outputs_and_context_styles_match_pytorch():
    ours, our_flags, our_seen = _run(at)
    theirs, their_flags, their_seen = _run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert our_flags == their_flags == [False, True]
    assert our_seen == their_seen


def test_second_derivatives_through_several_outputs():
    def run(library):
        split, _, _, _ = _functions(library)
        x = library.tensor([1.0, 2.0], requires_grad=True, dtype=library.float64)
        y = library.tensor([0.5, -1.0], requires_grad=True, dtype=library.float64)
        prod, total, _ = split.apply(x, y)
        (g,) = library.autograd.grad((prod * prod).sum() + total.sum(), x, create_graph=True)
        g.sum().backward()
        return g.detach().numpy(), y.grad.numpy()
    for a, b in zip(run(at), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_outputs_of_several_float_dtypes_are_refused_clearly():
    class Mixed(at.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, (x * 3).to(at.float64)

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    with pytest.raises(NotImplementedError, match="several dtypes"):
        Mixed.apply(at.ones(2, requires_grad=True))
