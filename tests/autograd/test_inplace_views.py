"""In-place writes through views and aliases, against PyTorch: the same program run with
``lib = torch`` and ``lib = abdou_torch`` must agree on whether backward raises ("modified
by an inplace operation") and, when it does not, on the gradients.

A view (indexing, ``T``/``transpose``/``permute``, ``view``/``reshape``, ``unsqueeze``,
``detach()``) shares its base's version counter, so a change made through either is seen
by a graph that saved the other. The hypothesis test at the end draws programs: a view
kind, an in-place op, whether the write comes before or after the graph saves the values.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import abdou_torch as at

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((4, 3))
W = np.random.default_rng(1).standard_normal(3)


def _run(lib, program):
    """Run ``program(lib, x, w)``; return ('raised', None) or ('ok', w's gradient)."""
    x = lib.tensor(X.copy())
    w = lib.tensor(W.copy(), requires_grad=True)
    try:
        loss = program(lib, x, w)
        loss.backward()
    except RuntimeError:
        return "raised", None
    return "ok", np.asarray(w.grad.detach().numpy() if lib is torch else w.grad.numpy())


def _agree(program):
    ours, theirs = _run(at, program), _run(torch, program)
    assert ours[0] == theirs[0], f"abdou_torch {ours[0]}, PyTorch {theirs[0]}"
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    return ours[0]


def _slice_mul(lib, x, w):
    y = (x * w).sum()
    x[0:2].mul_(0)
    return y


def _transpose_add(lib, x, w):
    y = (x[:3] * w).sum()
    x.T.add_(1)
    return y


def _view_fill(lib, x, w):
    y = (x * w).sum()
    x.view(12).fill_(2.0)
    return y


def _reshape_zero(lib, x, w):
    y = (x * w).sum()
    x.reshape(2, 6).zero_()
    return y


def _unsqueeze_mul(lib, x, w):
    y = (x * w).sum()
    x.unsqueeze(0).mul_(3)
    return y


def _detach_add(lib, x, w):
    y = (x * w).sum()
    x.detach().add_(1)
    return y


def _base_changed_after_view_saved(lib, x, w):
    v = x[1]
    y = (v * w).sum()
    x.add_(1)
    return y


def _weight_row_under_no_grad(lib, x, w):
    y = (x * w).tanh().sum()
    with lib.no_grad():
        w[0:1].mul_(0)
    return y


def _weight_change_that_the_gradient_does_not_read(lib, x, w):
    y = (x * w).sum()  # dw = x: w's own values are not needed
    with lib.no_grad():
        w.mul_(2)
    return y


def _weight_change_that_the_gradient_reads(lib, x, w):
    y = (w * w).sum()
    with lib.no_grad():
        w.mul_(2)
    return y


def _write_before_use(lib, x, w):
    x[0:2].mul_(0)
    return (x * w).sum()


def _unsaved_operand(lib, x, w):
    y = (x + w).sum()  # add saves nothing: a later change to x does not matter
    x[0].mul_(2)
    return y


def _unrelated_slice_of_other_tensor(lib, x, w):
    other = lib.tensor(X.copy())
    y = (x * w).sum()
    other[0:2].mul_(0)
    return y


PROGRAMS = [_slice_mul, _transpose_add, _view_fill, _reshape_zero, _unsqueeze_mul, _detach_add,
            _base_changed_after_view_saved, _weight_row_under_no_grad,
            _weight_change_that_the_gradient_does_not_read,
            _weight_change_that_the_gradient_reads, _write_before_use, _unsaved_operand,
            _unrelated_slice_of_other_tensor]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_inplace_through_views_matches_torch(program):
    _agree(program)


def test_the_cases_that_must_raise_do():
    raised = {p.__name__ for p in PROGRAMS if _run(at, p)[0] == "raised"}
    assert raised == {"_slice_mul", "_transpose_add", "_view_fill", "_reshape_zero",
                      "_unsqueeze_mul", "_detach_add", "_base_changed_after_view_saved",
                      "_weight_change_that_the_gradient_reads"}


VIEWS = {
    "slice": lambda t: t[1:3],
    "int": lambda t: t[2],
    "T": lambda t: t.T,
    "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(1, 0),
    "view": lambda t: t.view(-1),
    "reshape": lambda t: t.reshape(3, 4),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "detach": lambda t: t.detach(),
    "narrow": lambda t: t.narrow(1, 0, 2),
    "chained": lambda t: t[1:].T[0],
    "advanced_index_copy": lambda t: t[[0, 2]],
}
INPLACE = {
    "add_": lambda v: v.add_(1.5),
    "mul_": lambda v: v.mul_(-2),
    "zero_": lambda v: v.zero_(),
    "fill_": lambda v: v.fill_(0.25),
    "clamp_": lambda v: v.clamp_(-0.1, 0.1),
    "copy_": lambda v: v.copy_(v * 0 + 3),
}
SAVING_OPS = {
    "mul": lambda x, w: (x * w).sum(),
    "tanh_of_product": lambda x, w: (x * w).tanh().sum(),
    "matmul": lambda x, w: (x @ w).sum(),
    "add": lambda x, w: (x + w).sum(),
}


@given(view=st.sampled_from(sorted(VIEWS)), inplace=st.sampled_from(sorted(INPLACE)),
       saving=st.sampled_from(sorted(SAVING_OPS)), write_after=st.booleans(),
       under_no_grad=st.booleans())
def test_generated_view_writes_match_torch(view, inplace, saving, write_after, under_no_grad):
    def program(lib, x, w):
        def write():
            if under_no_grad:
                with lib.no_grad():
                    INPLACE[inplace](VIEWS[view](x))
            else:
                INPLACE[inplace](VIEWS[view](x))
        if not write_after:
            write()
        y = SAVING_OPS[saving](x, w)
        if write_after:
            write()
        return y
    _agree(program)


W_VIEWS = {"all": lambda t: t, "slice": lambda t: t[0:2], "detach": lambda t: t.detach(),
           "view": lambda t: t.view(3, 1)}
W_USES = {
    "x_times_w": lambda x, w: (x * w).sum(),
    "w_times_w": lambda x, w: (w * w).sum(),
    "x_matmul_w": lambda x, w: (x @ w).sum(),
    "w_over_x": lambda x, w: (w / (x * x + 1)).sum(),
    "x_over_w": lambda x, w: (x / (w * w + 1)).sum(),
    "exp_w": lambda x, w: (x * w.exp()).sum(),
    "linear": lambda x, w: (x @ w.reshape(3, 1) + w[0]).tanh().sum(),
}


@given(view=st.sampled_from(sorted(W_VIEWS)), use=st.sampled_from(sorted(W_USES)),
       inplace=st.sampled_from(["add_", "mul_", "zero_"]))
def test_generated_parameter_writes_under_no_grad_match_torch(view, use, inplace):
    def program(lib, x, w):
        y = W_USES[use](x, w)
        with lib.no_grad():
            INPLACE[inplace](W_VIEWS[view](w))
        return y
    _agree(program)
