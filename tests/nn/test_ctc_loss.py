"""CTCLoss / F.ctc_loss against PyTorch: losses and gradients (of the log-probabilities and,
through log_softmax, of the logits) for padded and concatenated targets, unequal lengths,
repeated labels, empty targets, every reduction, zero_infinity, another blank, float32 and
float64, unbatched input; and the errors PyTorch raises."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)
T, N, C = 14, 4, 6
LOGITS = rng.standard_normal((T, N, C))
PADDED = np.array([[1, 2, 2, 3, 5], [4, 1, 0, 0, 0], [3, 3, 1, 2, 2], [5, 5, 5, 5, 5]])
TARGET_LENGTHS = np.array([4, 2, 5, 0])
INPUT_LENGTHS = np.array([14, 9, 11, 6])
CONCATENATED = np.concatenate([PADDED[n, :TARGET_LENGTHS[n]] for n in range(N)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("targets", [PADDED, CONCATENATED], ids=["padded", "concatenated"])
def test_ctc_loss_matches_torch(check, targets, reduction, dtype):
    def ours(logits):
        return F.ctc_loss(F.log_softmax(logits, 2), at.tensor(targets), at.tensor(INPUT_LENGTHS),
                          at.tensor(TARGET_LENGTHS), reduction=reduction)

    def theirs(logits):
        return TF.ctc_loss(logits.log_softmax(2), torch.tensor(targets),
                           torch.tensor(INPUT_LENGTHS), torch.tensor(TARGET_LENGTHS),
                           reduction=reduction)

    check(ours, theirs, [LOGITS], dtype,
          tol=dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_gradient_of_the_log_probabilities_is_pytorchs(check, dtype):
    """PyTorch's formula: exp(lp) − exp(lcab + nll − lp), whatever produced lp."""
    lp = LOGITS - 1.5  # not normalised: the exp(lp) term shows
    check(lambda x: F.ctc_loss(x, at.tensor(PADDED), list(INPUT_LENGTHS), list(TARGET_LENGTHS),
                               reduction="sum"),
          lambda x: TF.ctc_loss(x, torch.tensor(PADDED), list(INPUT_LENGTHS),
                                list(TARGET_LENGTHS), reduction="sum"),
          [lp], dtype, tol=dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else None)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignments_and_zero_infinity_like_torch(zero_infinity):
    # 2 steps cannot emit "1 1" (it needs a blank between): the loss is infinite
    lp = np.log(np.full((2, 2, 3), 1 / 3))
    targets, inputs, lengths = np.array([[1, 1], [2, 0]]), [2, 2], [2, 1]
    ours_lp = at.Tensor(lp.copy(), requires_grad=True)
    theirs_lp = torch.tensor(lp, requires_grad=True)
    out = F.ctc_loss(ours_lp, at.tensor(targets), inputs, lengths, reduction="none",
                     zero_infinity=zero_infinity)
    expected = TF.ctc_loss(theirs_lp, torch.tensor(targets), inputs, lengths, reduction="none",
                           zero_infinity=zero_infinity)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    assert np.isinf(out.data[0]) != zero_infinity
    if zero_infinity:
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(ours_lp.grad.data, theirs_lp.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_blank_elsewhere_unbatched_and_the_layer():
    lp = torch.tensor(LOGITS[:, 0]).log_softmax(1).numpy()
    targets = np.array([1, 2, 2, 0])
    ours = nn.CTCLoss(blank=5)(at.tensor(lp), at.tensor(targets), at.tensor(14), at.tensor(4))
    theirs = torch.nn.CTCLoss(blank=5)(torch.tensor(lp), torch.tensor(targets),
                                       torch.tensor(14), torch.tensor(4))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    assert repr(nn.CTCLoss()) == repr(torch.nn.CTCLoss())


def test_no_second_derivative_like_torch():
    lp = at.Tensor(LOGITS.copy(), requires_grad=True)
    loss = F.ctc_loss(lp, at.tensor(PADDED), list(INPUT_LENGTHS), list(TARGET_LENGTHS))
    (grad,) = at.autograd.grad(loss, [lp], create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        grad.sum().backward()


@pytest.mark.parametrize("call", [
    lambda F_, t: F_.ctc_loss(t(LOGITS), t(PADDED), [15, 9, 11, 6], list(TARGET_LENGTHS)),
    lambda F_, t: F_.ctc_loss(t(LOGITS), t(PADDED[:, :3]), list(INPUT_LENGTHS),
                              list(TARGET_LENGTHS)),
    lambda F_, t: F_.ctc_loss(t(LOGITS), t(PADDED), list(INPUT_LENGTHS), list(TARGET_LENGTHS),
                              blank=6),
    lambda F_, t: F_.ctc_loss(t(LOGITS), t(PADDED), list(INPUT_LENGTHS), list(TARGET_LENGTHS),
                              reduction="avg"),
])
def test_errors_like_torch(call):
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        call(TF, torch.tensor)
    with pytest.raises(type(theirs.value)):
        call(F, at.tensor)
