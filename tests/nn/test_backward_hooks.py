"""Module backward hooks (register_full_backward_hook / _pre_hook) against PyTorch's."""
import numpy as np
import pytest
import torch

import abdou_torch as at


def _pair():
    at.manual_seed(0)
    ours = at.nn.Sequential(at.nn.Conv2d(1, 4, 3), at.nn.ReLU(), at.nn.Flatten(),
                            at.nn.Linear(4 * 6 * 6, 3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy())
                            for k, v in ours.state_dict().items()})
    return ours, theirs


def _grad_cam(model, library, x, requires_grad):
    """The Grad-CAM recipe: activations from a forward hook, their gradient from a full
    backward hook on the same layer."""
    seen = {}
    model[0].register_forward_hook(lambda m, i, o: seen.__setitem__("act", o))
    model[0].register_full_backward_hook(
        lambda m, gi, go: seen.__setitem__("grads", (gi, go)))
    model[0].register_full_backward_pre_hook(lambda m, go: seen.__setitem__("pre", go))
    inputs = library.tensor(x, requires_grad=requires_grad)
    model(inputs)[:, 1].sum().backward()
    grad_input, grad_output = seen["grads"]
    weights = grad_output[0].mean(dim=(2, 3), keepdim=True)
    cam = (weights * seen["act"]).sum(dim=1).relu()
    return (cam.detach().numpy(), grad_output[0].numpy(), seen["pre"][0].numpy(),
            None if grad_input[0] is None else grad_input[0].numpy())


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("requires_grad", [False, True])
def test_grad_cam_hooks_see_pytorchs_gradients(requires_grad):
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    ours, theirs = _pair()
    got = _grad_cam(ours, at, x, requires_grad)
    want = _grad_cam(theirs, torch, x, requires_grad)
    for a, b in zip(got, want):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_a_hook_result_replaces_grad_input_and_pre_hook_replaces_grad_output():
    for library in (at, torch):
        layer = library.nn.Linear(3, 2)
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        x = library.ones(4, 3, requires_grad=True)
        layer(x).sum().backward()
        expected = 2 * layer.weight.detach().sum(0).numpy() + 1
        np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected, (4, 3)),
                                   rtol=1e-6)
        np.testing.assert_allclose(layer.bias.grad.numpy(), [8.0, 8.0])  # 2 x 4 rows


def test_removed_hooks_stop_and_wrong_arity_raises():
    layer = at.nn.Linear(3, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    x = at.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == [1]
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        layer(x).sum().backward()
