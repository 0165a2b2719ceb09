"""Losses (functional and modules) against PyTorch: values and gradients, every reduction,
class weights, ignore_index, label smoothing, probability targets, extreme logits."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.nn import functional as F

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
LOOSE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def _targets(shape, classes, ignore=None):
    t = rng.integers(0, classes, shape).astype(np.int64)
    if ignore is not None:
        t.flat[::3] = ignore
    return t


# -- regression -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses(check, name, reduction, dtype):
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y[0, 0] = x[0, 0]  # l1's kink: gradient 0 there, as torch
    check(lambda a, b: getattr(F, name)(a, b, reduction=reduction),
          lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, y], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_with_weight(check, name, reduction):
    x, y, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.random((4, 3))
    check(lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c),
          lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c),
          [x, y, w])


def test_regression_broadcast_warns_like_torch(check):
    x, y = rng.standard_normal((4, 1)), rng.standard_normal((4,))
    with pytest.warns(UserWarning, match="target size"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="torch")
            check(lambda a, b: F.mse_loss(a, b), lambda a, b: TF.mse_loss(a, b), [x, y])


def test_legacy_size_average_and_reduce():
    x, y = at.Tensor([1.0, 2.0, 4.0]), at.Tensor([0.0, 0.0, 0.0])
    assert F.mse_loss(x, y, size_average=False).item() == 21.0
    assert F.mse_loss(x, y, reduce=False).shape == (3,)
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, y, reduction="avg")


# -- cross entropy with class indices -----------------------------------------------------------

CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=-100, ignore=-100),
    dict(ignore_index=1, ignore=1),
    dict(weight=True, ignore_index=-1, ignore=-1),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.2, weight=True),
    dict(label_smoothing=0.3, weight=True, ignore_index=-100, ignore=-100),
    dict(label_smoothing=1.0),
]


def _ce_kwargs(case, classes, dtype):
    kwargs = {k: v for k, v in case.items() if k in ("ignore_index", "label_smoothing")}
    if case.get("weight"):
        kwargs["weight"] = rng.random(classes).astype(dtype) + 0.5
    return kwargs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES)
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3)], ids=["NC", "NCd1d2"])
def test_cross_entropy_class_indices(check, shape, case, reduction, dtype):
    classes = shape[1]
    x = rng.standard_normal(shape) * 2
    t = _targets((shape[0],) + shape[2:], classes, case.get("ignore"))
    kwargs = _ce_kwargs(case, classes, dtype)
    torch_kwargs = dict(kwargs)
    if "weight" in kwargs:
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    check(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kwargs),
          lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **torch_kwargs),
          [x, t], dtype, tol=LOOSE[dtype])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_unbatched(check, label_smoothing):
    x, t = rng.standard_normal(7), np.array(3)
    check(lambda a, b: F.cross_entropy(a, b, label_smoothing=label_smoothing),
          lambda a, b: TF.cross_entropy(a, b, label_smoothing=label_smoothing), [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [dict(), dict(weight=True), dict(label_smoothing=0.15),
                                  dict(weight=True, label_smoothing=0.4)])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 4), (4,)], ids=["NC", "NCd", "C"])
def test_cross_entropy_probability_targets(check, shape, case, reduction, dtype):
    class_dim = 0 if len(shape) == 1 else 1
    x = rng.standard_normal(shape) * 2
    p = rng.random(shape)
    p /= p.sum(class_dim, keepdims=True)
    kwargs = _ce_kwargs(case, shape[class_dim], dtype)
    torch_kwargs = dict(kwargs)
    if "weight" in kwargs:
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    check(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kwargs),
          lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **torch_kwargs),
          [x, p], dtype, tol=LOOSE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("targets", ["indices", "probabilities"])
def test_cross_entropy_large_logits_finite(check, targets, label_smoothing, dtype):
    x = rng.standard_normal((5, 4)) * 1e4
    x[0] = [1e4, -1e4, 1e4, 0]
    if targets == "indices":
        t = _targets((5,), 4)
    else:
        t = rng.random((5, 4))
        t /= t.sum(1, keepdims=True)
    out, _ = check(lambda a, b: F.cross_entropy(a, b, label_smoothing=label_smoothing),
                   lambda a, b: TF.cross_entropy(a, b, label_smoothing=label_smoothing),
                   [x, t], dtype, tol=dict(rtol=1e-6, atol=1e-4))
    assert np.isfinite(out.data).all() and out.item() > 1e3


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = rng.standard_normal((3, 4)), np.full(3, -100)
    ours = F.cross_entropy(at.Tensor(x), at.Tensor(t))
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(ours.item()) and torch.isnan(theirs)
    assert F.cross_entropy(at.Tensor(x), at.Tensor(t), reduction="sum").item() == 0.0


def test_cross_entropy_errors():
    x = at.Tensor(rng.standard_normal((3, 4)))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, at.Tensor(np.array([0, 4, 1])))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, at.Tensor(np.array([0, -2, 1])))
    with pytest.raises(at.ShapeError, match="target"):
        F.cross_entropy(x, at.Tensor(np.array([0, 1])))
    with pytest.raises(at.ShapeError, match="probability"):
        F.cross_entropy(x, at.Tensor(np.ones((3, 5))))
    with pytest.raises(at.ShapeError, match="weight"):
        F.cross_entropy(x, at.Tensor(np.array([0, 1, 2])), weight=at.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, at.Tensor(np.array([0, 1, 2])), label_smoothing=1.5)


# -- nll_loss -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [dict(), dict(weight=True), dict(ignore_index=2, ignore=2),
                                  dict(weight=True, ignore_index=-100, ignore=-100)])
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 5)], ids=["NC", "NCd"])
def test_nll_loss(check, shape, case, reduction, dtype):
    x = rng.standard_normal(shape)
    t = _targets((shape[0],) + shape[2:], shape[1], case.get("ignore"))
    kwargs = _ce_kwargs(case, shape[1], dtype)
    torch_kwargs = dict(kwargs)
    if "weight" in kwargs:
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    check(lambda a, b: F.nll_loss(a, b, reduction=reduction, **kwargs),
          lambda a, b: TF.nll_loss(a, b, reduction=reduction, **torch_kwargs), [x, t], dtype)


def test_nll_of_log_softmax_is_cross_entropy():
    x = at.Tensor(rng.standard_normal((8, 3)))
    t = at.Tensor(_targets((8,), 3))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, 1), t).item(),
                               F.cross_entropy(x, t).item(), rtol=1e-12)


def test_nll_loss_rejects_float_targets():
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(at.Tensor(rng.standard_normal((2, 3))), at.Tensor([0.0, 1.0]))


# -- binary cross entropy -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(check, weighted, reduction, dtype):
    x, y = rng.uniform(0.02, 0.98, (4, 3)), rng.random((4, 3))
    w = rng.random((4, 3)).astype(dtype) if weighted else None  # torch: weight has no grad
    ours_w = None if w is None else at.Tensor(w)
    theirs_w = None if w is None else torch.tensor(w)
    check(lambda a, b: F.binary_cross_entropy(a, b, ours_w, reduction=reduction),
          lambda a, b: TF.binary_cross_entropy(a, b, theirs_w, reduction=reduction), [x, y],
          dtype, tol=LOOSE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_saturated_probabilities(dtype):
    """log clamps at -100 and the input gradient stays finite at exactly 0 and 1."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype)
    ours_x, theirs_x = at.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.binary_cross_entropy(ours_x, at.Tensor(y), reduction="none")
    theirs = TF.binary_cross_entropy(theirs_x, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6)
    assert ours.data[2] == 100.0 and ours.data[3] == 100.0
    ours.sum().backward()
    theirs.sum().backward()
    assert np.isfinite(ours_x.grad.data).all()
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-6)


def test_binary_cross_entropy_target_gradient_and_double_backward(check):
    from abdou_torch.autograd.gradcheck import gradgradcheck
    x, y = rng.uniform(0.1, 0.9, (3, 2)), rng.random((3, 2))
    check(F.binary_cross_entropy, TF.binary_cross_entropy, [x, y])
    xs = at.Tensor(x, requires_grad=True)
    ys = at.Tensor(y, requires_grad=True)
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), (xs, ys))


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(at.Tensor([0.5, 1.5]), at.Tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="target"):
        F.binary_cross_entropy(at.Tensor([0.5, 0.5]), at.Tensor([0.0, 2.0]))
    with pytest.raises(ValueError, match="size"):
        F.binary_cross_entropy(at.Tensor([0.5, 0.5]), at.Tensor([0.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted, pos_weighted", [(False, False), (True, False),
                                                    (False, True), (True, True)])
def test_binary_cross_entropy_with_logits(check, weighted, pos_weighted, reduction, dtype):
    x, y = rng.standard_normal((5, 3)) * 3, rng.random((5, 3))
    x[0] = [0.0, 50.0, -50.0]  # the gradient at 0 is sigmoid(0) - y, and saturation
    extra = {}
    ours_kwargs, theirs_kwargs = {}, {}
    if weighted:
        extra["weight"] = rng.random((5, 3))
    if pos_weighted:
        extra["pos_weight"] = rng.random(3) * 3
    for key, value in extra.items():
        ours_kwargs[key] = at.Tensor(value.astype(dtype))
        theirs_kwargs[key] = torch.tensor(value.astype(dtype))
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                          **ours_kwargs),
          lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                           **theirs_kwargs),
          [x, y], dtype, tol=LOOSE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_large_logits(check, dtype):
    x = np.array([[1e4, -1e4, 3e3], [-2e3, 0.0, 1e4]])
    y = np.array([[0.0, 1.0, 1.0], [0.0, 0.5, 0.3]])
    out, _ = check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                   lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"),
                   [x, y], dtype, tol=dict(rtol=1e-6, atol=1e-6))
    assert np.isfinite(out.data).all()


# -- loss modules -------------------------------------------------------------------------------

def _module_pairs():
    w = rng.random(4) + 0.5
    pw = rng.random(4) + 0.5
    return [
        (nn.MSELoss(), torch.nn.MSELoss(), "regression"),
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), "regression"),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), "indices"),
        (nn.CrossEntropyLoss(weight=at.Tensor(w), ignore_index=1, label_smoothing=0.2),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=1,
                                   label_smoothing=0.2), "indices"),
        (nn.CrossEntropyLoss(reduction="none"), torch.nn.CrossEntropyLoss(reduction="none"),
         "probabilities"),
        (nn.NLLLoss(weight=at.Tensor(w)), torch.nn.NLLLoss(weight=torch.tensor(w)), "indices"),
        (nn.BCELoss(), torch.nn.BCELoss(), "probabilities"),
        (nn.BCEWithLogitsLoss(pos_weight=at.Tensor(pw), reduction="sum"),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw), reduction="sum"),
         "probabilities"),
    ]


@pytest.mark.parametrize("index", range(len(_module_pairs())))
def test_loss_modules_match_torch(check, index):
    ours, theirs, kind = _module_pairs()[index]
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((6, 4))
    if isinstance(ours, nn.BCELoss):
        x = 1 / (1 + np.exp(-x))
    if kind == "indices":
        t = _targets((6,), 4)
    elif kind == "probabilities":
        t = rng.random((6, 4))
        t /= t.sum(1, keepdims=True)
    else:
        t = rng.standard_normal((6, 4))
    check(ours, theirs, [x, t])


def test_loss_module_weight_is_a_buffer_that_follows_dtype():
    loss = nn.CrossEntropyLoss(weight=at.Tensor(np.array([1.0, 2.0], dtype=np.float32)))
    assert [name for name, _ in loss.named_buffers()] == ["weight"]
    assert loss.double().weight.dtype == np.float64
    assert nn.CrossEntropyLoss().weight is None
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="median")


def test_composite_losses_are_twice_differentiable():
    from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
    x = at.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = at.Tensor(_targets((4,), 3))
    y = at.Tensor(rng.random((4, 3)))
    ce = lambda a: F.cross_entropy(a, t, label_smoothing=0.1)  # noqa: E731
    bce = lambda a: F.binary_cross_entropy_with_logits(  # noqa: E731
        a, y, pos_weight=at.Tensor([1.0, 2.0, 0.5]))
    for loss in (ce, bce):
        assert gradcheck(loss, (x,))
        assert gradgradcheck(loss, (x,))


# -- the other losses of nn.functional (issue 11) -------------------------------------------------

def _signs(shape):
    return rng.choice([-1.0, 1.0], shape)


def _log_probs(shape):
    x = rng.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# (module name, constructor kwargs, the inputs: a function of nothing giving the arrays)
MORE_LOSSES = [
    ("SmoothL1Loss", {}, lambda: [rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3))]),
    ("SmoothL1Loss", dict(beta=0.3), lambda: [rng.standard_normal((5, 3)),
                                              rng.standard_normal((5, 3))]),
    ("SmoothL1Loss", dict(beta=0.0), lambda: [rng.standard_normal((5, 3)),
                                              rng.standard_normal((5, 3))]),
    ("HuberLoss", dict(delta=0.5), lambda: [rng.standard_normal((5, 3)) * 2,
                                            rng.standard_normal((5, 3))]),
    ("KLDivLoss", {}, lambda: [_log_probs((4, 5)), np.exp(_log_probs((4, 5)))]),
    ("KLDivLoss", dict(log_target=True), lambda: [_log_probs((4, 5)), _log_probs((4, 5))]),
    ("SoftMarginLoss", {}, lambda: [rng.standard_normal((5, 3)),
                                    _signs((5, 3)).astype(np.int64)]),  # no target gradient
    ("MultiLabelSoftMarginLoss", {}, lambda: [rng.standard_normal((5, 3)),
                                              rng.integers(0, 2, (5, 3)).astype(float)]),
    ("PoissonNLLLoss", {}, lambda: [rng.standard_normal((5, 3)), rng.uniform(0, 3, (5, 3))]),
    ("PoissonNLLLoss", dict(log_input=False, full=True),
     lambda: [rng.uniform(0.1, 2, (5, 3)), rng.uniform(0, 3, (5, 3))]),
    ("MarginRankingLoss", dict(margin=0.2), lambda: [rng.standard_normal(6),
                                                     rng.standard_normal(6), _signs(6)]),
    ("HingeEmbeddingLoss", dict(margin=0.7), lambda: [rng.standard_normal((5, 3)),
                                                      _signs((5, 3))]),
    ("CosineEmbeddingLoss", dict(margin=0.1), lambda: [rng.standard_normal((5, 3)),
                                                       rng.standard_normal((5, 3)), _signs(5)]),
    ("CosineEmbeddingLoss", {}, lambda: [rng.standard_normal(4), rng.standard_normal(4),
                                         np.array(-1.0)]),
    ("MultiMarginLoss", {}, lambda: [rng.standard_normal((5, 4)), rng.integers(0, 4, 5)]),
    ("MultiMarginLoss", dict(p=2, margin=0.5), lambda: [rng.standard_normal((5, 4)),
                                                        rng.integers(0, 4, 5)]),
    ("MultiMarginLoss", {}, lambda: [rng.standard_normal(4), np.array(2)]),
    ("TripletMarginLoss", {}, lambda: [rng.standard_normal((5, 3)) for _ in range(3)]),
    ("TripletMarginLoss", dict(margin=0.5, p=1.0, swap=True),
     lambda: [rng.standard_normal((5, 3)) for _ in range(3)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs, inputs", MORE_LOSSES,
                         ids=[f"{m[0]}{m[1]}" for m in MORE_LOSSES])
def test_more_loss_modules_match_torch(check, name, kwargs, inputs, reduction, dtype):
    ours = getattr(nn, name)(reduction=reduction, **kwargs)
    theirs = getattr(torch.nn, name)(reduction=reduction, **kwargs)
    assert repr(ours) == repr(theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KLDivLoss's 'mean' warning, checked below
        check(ours, theirs, inputs(), dtype, tol=LOOSE[dtype])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(5, 3), (5, 1), (5,)])
def test_gaussian_nll_loss_matches_torch(check, reduction, full, var_shape):
    ours = nn.GaussianNLLLoss(full=full, reduction=reduction)
    theirs = torch.nn.GaussianNLLLoss(full=full, reduction=reduction)
    var = rng.uniform(0, 2, var_shape)
    var.flat[0] = 1e-9  # clamped at eps for the value only, as in PyTorch
    check(ours, theirs, [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), var])


def test_kl_div_batchmean_and_its_mean_warning():
    x, t = _log_probs((4, 5)), np.exp(_log_probs((4, 5)))
    ours = F.kl_div(at.Tensor(x), at.Tensor(t), reduction="batchmean")
    theirs = TF.kl_div(torch.tensor(x), torch.tensor(t), reduction="batchmean")
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(at.Tensor(x), at.Tensor(t))
    zero_target = F.kl_div(at.Tensor(x), at.Tensor(np.zeros((4, 5))), reduction="sum")
    assert zero_target.item() == 0.0  # 0 log 0 counts as 0


def test_huber_and_multilabel_weights_match_torch(check):
    w = rng.random((5, 3))
    for reduction in REDUCTIONS:
        check(lambda a, b, c, r=reduction: F.huber_loss(a, b, reduction=r, weight=c),
              lambda a, b, c, r=reduction: TF.huber_loss(a, b, reduction=r, weight=c),
              [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), w])
    targets = rng.integers(0, 2, (5, 3)).astype(float)
    ours = nn.MultiLabelSoftMarginLoss(weight=at.Tensor(w[0]))
    theirs = torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor(w[0]))
    check(lambda a: ours(a, at.Tensor(targets)), lambda a: theirs(a, torch.tensor(targets)),
          [rng.standard_normal((5, 3))])


@pytest.mark.parametrize("call", [
    lambda lib, F: F.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
    lambda lib, F: F.kl_div(lib.ones(2), lib.ones(2), reduction="avg"),
    lambda lib, F: F.triplet_margin_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3), margin=1.0),
    lambda lib, F: F.triplet_margin_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 3),
                                         margin=0.0),
    lambda lib, F: F.margin_ranking_loss(lib.ones(2), lib.ones(2), lib.ones(2, 1)),
    lambda lib, F: F.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), p=3),
    lambda lib, F: F.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3, 2)),
    lambda lib, F: F.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), -lib.ones(2, 3)),
    lambda lib, F: F.poisson_nll_loss(lib.ones(2), lib.ones(2), reduction="avg"),
])
def test_more_loss_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch, TF)
    with pytest.raises(type(theirs.value)):
        call(at, F)


@pytest.mark.parametrize("name, kwargs", [("huber_loss", dict(delta=0.7)),
                                          ("smooth_l1_loss", dict(beta=0.5))])
def test_piecewise_losses_give_no_nan_gradient_for_an_infinite_difference(name, kwargs):
    """The quadratic branch's gradient at an infinite difference is 0 (not 0 * inf)."""
    x = np.array([1e-7, np.inf, 0.25, -3.0, np.nan])
    t = np.array([np.inf, 2.0, 0.0, 1.0, 0.0])
    grads = []
    for lib in (at, torch):
        xt = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(xt, lib.tensor(t), reduction="none", **kwargs)
        grads.append(lib.autograd.grad(loss, [xt], lib.ones(5, dtype=lib.float64))[0].numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("dtypes, shapes", [
    (("int64", "float64"), ((3, 4), (3, 4))), (("int64", "int64"), ((3, 4), (3, 4))),
    (("bool", "float16"), ((3, 4), (3, 4))), (("float32", "float32"), ((1, 4), (3, 4)))])
def test_cosine_embedding_loss_promotes_and_broadcasts_like_torch(dtypes, shapes):
    rng = np.random.default_rng(5)
    arrays = [(rng.standard_normal(s) * 3).astype(d) for d, s in zip(dtypes, shapes)]
    results = []
    for lib in (at, torch):
        loss = lib.nn.functional.cosine_embedding_loss(
            lib.tensor(arrays[0]), lib.tensor(arrays[1]), lib.tensor([1, -1, 1]), margin=-0.2)
        results.append((str(loss.dtype), loss.numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-3)


def test_cosine_embedding_loss_checks_dims_like_torch():
    for target, shapes in [([[1]], ((3, 4), (3, 4))), ([1, -1], ((4,), (4,))),
                           (1, ((2, 4), (2, 4)))]:
        with pytest.raises(RuntimeError):
            TF.cosine_embedding_loss(torch.ones(shapes[0]), torch.ones(shapes[1]),
                                     torch.tensor(target))
        with pytest.raises(RuntimeError):
            at.nn.functional.cosine_embedding_loss(at.ones(shapes[0]), at.ones(shapes[1]),
                                                   at.tensor(target))


def test_ignored_targets_give_exactly_zero_like_torch():
    """-picked * 0 is -0 (or NaN for a -inf log-probability); PyTorch writes +0."""
    x = np.array([[-np.inf, 0.0], [1.0, 2.0], [0.5, 0.25]])
    for reduction in ("none", "sum"):
        results = []
        for lib in (at, torch):
            xt = lib.tensor(x, requires_grad=True)
            loss = lib.nn.functional.nll_loss(xt, lib.tensor([0, 1, 0]), ignore_index=0,
                                              reduction=reduction)
            results.append((loss.detach().numpy(), lib.autograd.grad(loss.sum(), xt)[0].numpy()))
        np.testing.assert_array_equal(results[0][0], results[1][0])
        assert np.array_equal(np.signbit(results[0][0]), np.signbit(results[1][0]))
        np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("target", [0, [0], 0.5])
def test_cross_entropy_of_a_0d_input_raises_like_torch(target):
    with pytest.raises(Exception) as theirs:
        TF.cross_entropy(torch.tensor(0.5), torch.tensor(target))
    with pytest.raises(type(theirs.value)):
        at.nn.functional.cross_entropy(at.tensor(0.5), at.tensor(target))


def test_poisson_nll_loss_full_target_gradient_like_torch():
    """Stirling's term is computed on every target and masked where t <= 1, as in PyTorch:
    the target's gradient is 0 for 0 < t <= 1 and NaN for t <= 0 there."""
    x = np.array([0.8, 1.5, 2.0, 0.3, 1.0])
    t = np.array([-2.2, 0.0, 0.5, 3.0, 1.0])
    grads = []
    for lib in (at, torch):
        tt = lib.tensor(t, requires_grad=True)
        loss = lib.nn.functional.poisson_nll_loss(lib.tensor(x), tt, log_input=False,
                                                  full=True, reduction="sum")
        grads.append(lib.autograd.grad(loss, tt)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_soft_margin_loss_keeps_the_inputs_shape_and_dtype_like_torch():
    x = np.array([[0.5, -1.0, 2.0, 0.1]], dtype=np.float16).repeat(3, 0)
    t = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)
    ours = at.nn.functional.soft_margin_loss(at.tensor(x), at.tensor(t))
    theirs = TF.soft_margin_loss(torch.tensor(x), torch.tensor(t))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-3)
    with pytest.raises(RuntimeError):
        TF.soft_margin_loss(torch.tensor(0.5), torch.tensor(t))
    with pytest.raises(RuntimeError):
        at.nn.functional.soft_margin_loss(at.tensor(0.5), at.tensor(t))


def test_multilabel_soft_margin_loss_of_a_0d_input_raises_like_torch():
    with pytest.raises(IndexError):
        TF.multilabel_soft_margin_loss(torch.tensor(0.5), torch.ones(4))
    with pytest.raises(IndexError):
        at.nn.functional.multilabel_soft_margin_loss(at.tensor(0.5), at.ones(4))
