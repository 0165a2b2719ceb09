"""examples/pinn.py: the Laplacian it trains through is right (against the exact solution
and against PyTorch), and a short run already solves Poisson's equation to a few 1e-3."""
import importlib.util
from pathlib import Path

import numpy as np
import torch

import abdou_torch

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pinn.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("pinn_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pinn = _load_example()


def test_laplacian_of_the_exact_solution_is_minus_the_source():
    points = np.random.default_rng(0).uniform(0, 1, size=(50, 2))
    xy = abdou_torch.tensor(points, requires_grad=True)
    u = (np.pi * xy[:, 0:1]).sin() * (np.pi * xy[:, 1:2]).sin()
    np.testing.assert_allclose(pinn.laplacian(u, xy).numpy(), -pinn.source(xy).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_residual_loss_and_its_gradient_match_pytorch():
    abdou_torch.manual_seed(0)
    abdou_torch.set_default_dtype(abdou_torch.float64)
    try:
        model = pinn.PoissonPINN(width=8, depth=2)
    finally:
        abdou_torch.set_default_dtype(abdou_torch.float32)
    points = np.random.default_rng(1).uniform(0, 1, size=(32, 2))
    loss = pinn.residual_loss(model, abdou_torch.tensor(points, requires_grad=True))
    loss.backward()

    reference = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                    torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    reference.load_state_dict({name: torch.tensor(p.data) for name, p in
                               model.net.named_parameters()})
    xy = torch.tensor(points, requires_grad=True)
    x, y = xy[:, 0:1], xy[:, 1:2]
    u = 16 * x * (1 - x) * y * (1 - y) * reference(xy)
    (grad_u,) = torch.autograd.grad(u.sum(), xy, create_graph=True)
    (grad_ux,) = torch.autograd.grad(grad_u[:, 0].sum(), xy, create_graph=True)
    (grad_uy,) = torch.autograd.grad(grad_u[:, 1].sum(), xy, create_graph=True)
    f = 2 * np.pi ** 2 * torch.sin(np.pi * x) * torch.sin(np.pi * y)
    expected = ((-(grad_ux[:, 0:1] + grad_uy[:, 1:2]) - f) ** 2).mean()
    expected.backward()

    assert abs(loss.item() - expected.item()) <= 1e-10 * expected.item()
    for name, param in model.net.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(),
                                   dict(reference.named_parameters())[name].grad.numpy(),
                                   rtol=1e-9, atol=1e-9, err_msg=name)


def test_short_run_solves_poisson():
    """400 steps (a tenth of the full run, which reaches about 1e-4): an untrained network is
    off by about 100%, one trained with a wrong second derivative never gets near."""
    lines = []
    model, history = pinn.train(steps=400, points=256, seed=0, log_every=200, log=lines.append)
    steps, losses, errors = zip(*history)
    assert steps == (200, 400) and len(lines) == 2
    assert errors[-1] < 5e-3, history
    assert losses[-1] < 0.1, history
    assert errors[-1] == pinn.relative_l2_error(model, pinn.grid())
