"""torch.utils.checkpoint: the same gradients as the plain run, without its activations."""
import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.utils.checkpoint import checkpoint, checkpoint_sequential


def _block(library):
    library.manual_seed(0)
    return library.nn.Sequential(library.nn.Linear(4, 8), library.nn.Tanh(),
                                 library.nn.Dropout(0.3), library.nn.Linear(8, 4))


def _gradients(library, use_checkpoint, input_requires_grad, reentrant=False):
    block = _block(library)
    x = library.tensor(np.linspace(-1, 1, 20).reshape(5, 4).astype(np.float32),
                       requires_grad=input_requires_grad)
    library.manual_seed(1)  # dropout's masks: the recomputation must draw the same ones
    if use_checkpoint:
        check = (checkpoint if library is at else torch.utils.checkpoint.checkpoint)
        y = check(block, x, use_reentrant=reentrant)
    else:
        y = block(x)
    (y * y).sum().backward()
    grads = [p.grad.numpy() for p in block.parameters()]
    return grads + ([x.grad.numpy()] if input_requires_grad else [])


@pytest.mark.parametrize("input_requires_grad", [False, True])
@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_equal_the_plain_run_and_pytorchs(input_requires_grad, reentrant):
    plain = _gradients(at, False, input_requires_grad)
    checked = _gradients(at, True, input_requires_grad, reentrant)
    for a, b in zip(checked, plain):
        np.testing.assert_array_equal(a, b)
    if input_requires_grad or not reentrant:  # PyTorch's reentrant mode drops parameter
        theirs = _gradients(torch, True, input_requires_grad, reentrant)  # grads otherwise
        for a, b in zip(checked, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_only_the_boundary_enters_the_graph():
    block = _block(at)
    x = at.randn(3, 4, requires_grad=True)
    y = checkpoint(block, x, use_reentrant=False)
    parents = y.grad_fn.inputs
    tensors = [p for p in parents if isinstance(p, at.Tensor) and p.requires_grad]
    assert {id(t) for t in tensors} == {id(x)} | {id(p) for p in block.parameters()}


def test_tuple_outputs_and_keyword_arguments():
    lin = nn.Linear(3, 3)
    x = at.randn(2, 3, requires_grad=True)

    def two(x, scale=1.0):
        h = lin(x)
        return h * scale, h.sum()

    a, b = checkpoint(two, x, scale=2.0, use_reentrant=False)
    (a.sum() + b).backward()
    got = (x.grad.data.copy(), lin.weight.grad.data.copy())
    x.grad = None
    lin.zero_grad()
    a, b = two(x, scale=2.0)
    (a.sum() + b).backward()
    np.testing.assert_allclose(got[0], x.grad.data, rtol=1e-6)
    np.testing.assert_allclose(got[1], lin.weight.grad.data, rtol=1e-6)


def test_nothing_to_differentiate_gives_plain_values():
    lin = nn.Linear(3, 2).requires_grad_(False)
    y = checkpoint(lin, at.ones(1, 3), use_reentrant=False)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.data, lin(at.ones(1, 3)).data)


def test_checkpoint_sequential_matches_pytorch():
    at.manual_seed(3)
    ours = nn.Sequential(*[nn.Linear(4, 4) for _ in range(6)])
    theirs = torch.nn.Sequential(*[torch.nn.Linear(4, 4) for _ in range(6)])
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy())
                            for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    a = at.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out_a = checkpoint_sequential(ours, 3, a, use_reentrant=False)
    out_b = torch.utils.checkpoint.checkpoint_sequential(theirs, 3, b, use_reentrant=False)
    out_a.sum().backward()
    out_b.sum().backward()
    np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0].weight.grad.data, theirs[0].weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
