"""The GPT against the same model written in PyTorch (benchmarks/char_gpt_torch.py): the
same weights by name give the same logits and the same gradients; plus causality, the
initialisation and bad input."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
from abdou_torch.models import GPT, GPTConfig  # noqa: E402
from abdou_torch.nn import functional as F  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "char_gpt_torch.py"


def torch_reference():
    spec = importlib.util.spec_from_file_location("char_gpt_torch", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def twin_models(dtype, **shape):
    """Our GPT and the PyTorch one holding the same weights, in ``dtype``."""
    config = GPTConfig(**shape)
    at.manual_seed(3)
    ours = GPT(config)
    theirs = torch_reference().build_model(config.to_dict())
    state = {name: torch.from_numpy(value.numpy().copy()) for name, value in
             ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)  # the same names and shapes
    if dtype == np.float64:
        ours.load_state_dict({k: v.numpy().astype(np.float64) for k, v in
                              ours.state_dict().items()}, assign=True)
        theirs.double()
    return ours, theirs


@pytest.mark.parametrize("dtype, tol", [(np.float64, dict(rtol=1e-9, atol=1e-11)),
                                        (np.float32, dict(rtol=2e-4, atol=2e-5))])
def test_logits_and_gradients_match_pytorch(dtype, tol):
    ours, theirs = twin_models(dtype, vocab_size=11, block_size=8, n_layer=2, n_head=2,
                               n_embd=12)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (3, 7)), rng.integers(0, 11, (3, 7))
    logits = ours(at.tensor(idx))
    expected = theirs(torch.from_numpy(idx))
    assert logits.shape == (3, 7, 11) and logits.dtype == dtype
    np.testing.assert_allclose(logits.numpy(), expected.detach().numpy(), **tol)
    F.cross_entropy(logits.reshape(-1, 11), at.tensor(targets).reshape(-1)).backward()
    torch.nn.functional.cross_entropy(expected.reshape(-1, 11),
                                      torch.from_numpy(targets).reshape(-1)).backward()
    grads = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), grads[name].grad.numpy(), **tol,
                                   err_msg=name)


def test_position_t_sees_only_positions_up_to_t():
    model = GPT(GPTConfig(vocab_size=7, block_size=6, n_layer=2, n_head=2, n_embd=8))
    idx = np.array([[1, 2, 3, 4, 5, 6]])
    changed = idx.copy()
    changed[0, 4] = 0
    before, after = model(at.tensor(idx)).numpy(), model(at.tensor(changed)).numpy()
    np.testing.assert_array_equal(before[0, :4], after[0, :4])
    assert not np.allclose(before[0, 4:], after[0, 4:])
    shorter = model(at.tensor(idx[:, :3])).numpy()
    np.testing.assert_allclose(shorter[0], before[0, :3], rtol=1e-5, atol=1e-6)


def test_gpt2_initialisation():
    at.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=83, n_layer=4, n_embd=128))
    params = dict(model.named_parameters())
    assert sum(p.numel() for p in params.values()) == 822_784
    residual = np.concatenate([p.numpy().ravel() for n, p in params.items()
                               if n.endswith("c_proj.weight")])
    others = np.concatenate([p.numpy().ravel() for n, p in params.items()
                             if n.endswith("weight") and "ln_" not in n and "c_proj" not in n])
    assert abs(residual.std() - 0.02 / math.sqrt(8)) < 2e-4
    assert abs(others.std() - 0.02) < 2e-4
    for name, param in params.items():
        if name.endswith("bias"):
            assert not param.numpy().any(), name
        if "ln_" in name and name.endswith("weight"):
            assert (param.numpy() == 1).all(), name
    assert "lm_head.bias" not in params  # the head has no bias, and is not tied to wte
    assert not np.shares_memory(params["lm_head.weight"].numpy(),
                                params["transformer.wte.weight"].numpy())


def test_dropout_only_in_training_mode():
    at.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8,
                          dropout=0.5))
    idx = at.tensor([[1, 2, 3]])
    assert not np.allclose(model(idx).numpy(), model(idx).numpy())
    model.eval()
    np.testing.assert_array_equal(model(idx).numpy(), model(idx).numpy())


@pytest.mark.parametrize("shape, message", [
    (dict(vocab_size=10, n_embd=30, n_head=4), "n_embd 30 is not a multiple of n_head 4"),
    (dict(vocab_size=0), "vocab_size must be a positive integer, got 0"),
    (dict(vocab_size=10, dropout=1.0), r"dropout must be in \[0, 1\), got 1.0"),
])
def test_bad_config(shape, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**shape)


def test_bad_input():
    model = GPT(GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="5 tokens is longer than the block size 4"):
        model(at.tensor([[1, 2, 3, 4, 5]]))
    with pytest.raises(ValueError, match=r"shape \(batch, time\), got shape \(3,\)"):
        model(at.tensor([1, 2, 3]))
