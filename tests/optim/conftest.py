"""Shared helpers for the optimizer tests: the same MLP in abdou_torch and in PyTorch (weights
copied by name), the same data, and a training loop for each side."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from abdou_torch import MLP, Tensor  # noqa: E402

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


class TorchMLP(torch.nn.Module):
    """PyTorch's twin of ``abdou_torch.MLP``: same layers, same state dict names."""

    def __init__(self, nin, nouts, activation="relu"):
        super().__init__()
        self.activation = getattr(torch, activation)
        sizes = [nin] + list(nouts)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b)
                                          for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = self.activation(x)
        return x


class Helpers:
    torch = torch

    @staticmethod
    def models(nin=6, nouts=(16, 16, 3), dtype=np.float32, seed=0, activation="tanh"):
        """(ours, theirs) with identical weights, in ``dtype``. tanh by default: ReLU's kink
        turns a rounding difference at a pre-activation near 0 into a different gradient,
        which would test the model's conditioning rather than the optimizer."""
        ours = MLP(nin, list(nouts), activation=activation)
        rng = np.random.default_rng(seed)
        for param in ours.parameters():  # fresh values, independent of the init code
            param.data = (rng.standard_normal(param.shape) * 0.3).astype(dtype)
        theirs = TorchMLP(nin, nouts, activation).to(TORCH_DTYPE[dtype])
        with torch.no_grad():
            for name, param in ours.named_parameters():
                theirs.get_parameter(name).copy_(torch.from_numpy(param.data.copy()))
        return ours, theirs

    @staticmethod
    def data(n=32, nin=6, nout=3, dtype=np.float32, seed=1):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, nin)).astype(dtype)
        y = np.tanh(x[:, :nout] * 2 + 0.5).astype(dtype)
        return x, y

    @staticmethod
    def loss_ours(model, x, y, sign=1.0):
        diff = model(Tensor(x)) - Tensor(y)
        loss = (diff * diff).mean()
        return loss * sign if sign != 1.0 else loss

    @staticmethod
    def loss_theirs(model, x, y, sign=1.0):
        diff = model(torch.from_numpy(x)) - torch.from_numpy(y)
        loss = (diff * diff).mean()
        return loss * sign if sign != 1.0 else loss

    @staticmethod
    def train_ours(model, optimizer, x, y, steps, sign=1.0, scheduler=None, drop=None):
        """``drop(step)`` names parameters whose gradient is removed before that step."""
        params = dict(model.named_parameters())
        for step in range(steps):
            loss = Helpers.loss_ours(model, x, y, sign)
            optimizer.zero_grad()
            loss.backward()
            for name in (drop(step) if drop else ()):
                params[name].grad = None
            optimizer.step()
            if scheduler is not None:
                scheduler.step()

    @staticmethod
    def train_theirs(model, optimizer, x, y, steps, sign=1.0, scheduler=None, drop=None):
        params = dict(model.named_parameters())
        for step in range(steps):
            loss = Helpers.loss_theirs(model, x, y, sign)
            optimizer.zero_grad()
            loss.backward()
            for name in (drop(step) if drop else ()):
                params[name].grad = None
            optimizer.step()
            if scheduler is not None:
                scheduler.step()

    @staticmethod
    def assert_params_close(ours, theirs, tol):
        """Every parameter within ``tol`` of PyTorch's, relative to its largest value."""
        theirs_params = dict(theirs.named_parameters())
        names = [name for name, _ in ours.named_parameters()]
        assert names == list(theirs_params)
        for name, param in ours.named_parameters():
            expected = theirs_params[name].detach().numpy()
            assert param.data.dtype == expected.dtype, name
            scale = max(float(np.max(np.abs(expected))), 1e-12)
            error = float(np.max(np.abs(param.data - expected)))
            assert error <= tol * scale, f"{name}: max error {error:.3g} > {tol} * {scale:.3g}"

    @staticmethod
    def groups(model, spec, torch_model=None):
        """Param groups: ``spec`` maps a name prefix to extra options (e.g. {'layers.0': ...});
        the rest go in a last group. Works for either model."""
        named = list((torch_model or model).named_parameters())
        groups, used = [], set()
        for prefix, options in spec.items():
            params = [p for n, p in named if n.startswith(prefix)]
            used.update(n for n, _ in named if n.startswith(prefix))
            groups.append({"params": params, **options})
        rest = [p for n, p in named if n not in used]
        if rest:
            groups.append({"params": rest})
        return groups


@pytest.fixture
def h():
    return Helpers
