"""``GradScaler`` against ``torch.amp.GradScaler("cpu")`` step by step, and the disabled
scaler PyTorch's CPU-only build gives for ``"cuda"``."""
from __future__ import annotations

import math

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.amp import GradScaler

torch = pytest.importorskip("torch")

# the gradient of each step is multiplied by this: inf/nan steps must be skipped
STEP_FACTORS = [1.0, 1.0, math.inf, 1.0, math.nan, 1.0, 1.0, 1.0]


def run(library, scaler_type, optimizer_type, factors, **scaler_options):
    w = library.nn.Parameter(library.tensor([1.0, -2.0, 0.5]))
    optimizer = optimizer_type([w], lr=0.1, momentum=0.9)
    scaler = scaler_type("cpu", init_scale=1024.0, growth_interval=2, **scaler_options)
    trace = []
    for factor in factors:
        optimizer.zero_grad()
        loss = (w * w).sum() * factor
        scaled = scaler.scale(loss)
        trace.append(("scaled", float(scaled.item())))
        scaled.backward()
        scaler.unscale_(optimizer)
        trace.append(("grad", np.asarray(w.grad.detach().numpy() if library is torch
                                         else w.grad.data).tolist()))
        scaler.step(optimizer)
        scaler.update()
        trace.append(("scale", scaler.get_scale()))
        trace.append(("w", np.asarray(w.detach().numpy() if library is torch
                                      else w.data).tolist()))
    trace.append(("state", scaler.state_dict()))
    return trace


def test_steps_match_pytorch():
    ours = run(at, GradScaler, at.optim.SGD, STEP_FACTORS)
    theirs = run(torch, torch.amp.GradScaler, torch.optim.SGD, STEP_FACTORS)
    assert len(ours) == len(theirs)
    for (kind, a), (_, b) in zip(ours, theirs):
        if kind == "state":
            assert a == {k: (int(v) if k == "_growth_tracker" else v) for k, v in b.items()}
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=kind)


def test_misuse_raises_as_pytorch():
    for library, scaler_type in ((at, GradScaler), (torch, torch.amp.GradScaler)):
        w = library.nn.Parameter(library.tensor([1.0]))
        optimizer = library.optim.SGD([w], lr=0.1)
        scaler = scaler_type("cpu")
        scaler.scale((w * 2).sum()).backward()
        scaler.unscale_(optimizer)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            scaler.unscale_(optimizer)
        scaler.step(optimizer)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(optimizer)
        with pytest.raises(ValueError, match="must be a Tensor or an iterable"):
            scaler.scale(3.0)


def test_scale_keeps_list_and_tuple_structure():
    scaler = GradScaler("cpu", init_scale=4.0)
    a, b = at.tensor(1.0), at.tensor(2.0)
    scaled = scaler.scale([a, (b,)])
    assert isinstance(scaled, list) and isinstance(scaled[1], tuple)
    assert [scaled[0].item(), scaled[1][0].item()] == [4.0, 8.0]


def test_cuda_scaler_warns_and_passes_through_as_on_cpu_only_pytorch():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        ours = GradScaler("cuda")
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        theirs = torch.amp.GradScaler("cuda")
    assert ours.is_enabled() is theirs.is_enabled() is False
    assert ours.get_scale() == theirs.get_scale() == 1.0
    assert ours.state_dict() == theirs.state_dict() == {}
    w = at.nn.Parameter(at.tensor([1.0]))
    optimizer = at.optim.SGD([w], lr=0.5)
    loss = (w * 2).sum()
    assert ours.scale(loss) is loss
    loss.backward()
    ours.step(optimizer)
    ours.update()
    assert w.data.tolist() == [0.0]


def test_deprecated_cuda_spelling_warns_twice_as_pytorch():
    with pytest.warns(FutureWarning, match="deprecated"):
        with pytest.warns(UserWarning, match="Disabling"):
            scaler = at.cuda.amp.GradScaler()
    assert not scaler.is_enabled()


def test_state_dict_round_trip():
    scaler = GradScaler("cpu", init_scale=8.0, growth_interval=3)
    other = GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 8.0 and other.get_growth_interval() == 3
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
