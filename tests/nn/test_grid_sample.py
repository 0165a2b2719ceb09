"""F.affine_grid and F.grid_sample against PyTorch: grids, sampled values and the gradients
of the image and of the affine matrices (through the grid), for bilinear and nearest
sampling, zeros / border / reflection padding, align_corners both ways, float32 and
float64; and the errors PyTorch raises."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)
# irregular entries: no sampling point lands within float32 rounding of a pixel boundary,
# where bilinear sampling's gradient jumps (and the two libraries' roundings would differ)
THETA = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, -0.2]], [[1.3, -0.4, 0.3], [0.5, 0.8, 0.1]]]) \
    + rng.uniform(-0.01, 0.01, (2, 2, 3))
IMAGE = rng.standard_normal((2, 3, 5, 6))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 7), (2, 1, 1, 3), (2, 2, 6, 6)])
def test_affine_grid_matches_torch(check, size, align_corners, dtype):
    check(lambda t: F.affine_grid(t, size, align_corners=align_corners),
          lambda t: TF.affine_grid(t, size, align_corners=align_corners), [THETA], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_through_affine_grid_matches_torch(mode, padding_mode, align_corners,
                                                       dtype):
    def run(lib, functional, x, theta):
        grid = functional.affine_grid(theta, (2, 3, 4, 7), align_corners=align_corners)
        return functional.grid_sample(x, grid, mode=mode, padding_mode=padding_mode,
                                      align_corners=align_corners)

    x_ours = at.Tensor(IMAGE.astype(dtype), requires_grad=True)
    t_ours = at.Tensor(THETA.astype(dtype), requires_grad=True)
    x_theirs = torch.tensor(IMAGE.astype(dtype), requires_grad=True)
    t_theirs = torch.tensor(THETA.astype(dtype), requires_grad=True)
    out, expected = run(at, F, x_ours, t_ours), run(torch, TF, x_theirs, t_theirs)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    weights = rng.standard_normal(out.shape).astype(dtype)
    (out * at.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), **tol)
    if mode != "nearest":
        np.testing.assert_allclose(t_ours.grad.data, t_theirs.grad.numpy(), **tol)
    else:  # nearest sampling does not depend on the grid: PyTorch's gradient is zero
        assert not np.any(t_theirs.grad.numpy())
        assert t_ours.grad is None or not np.any(t_ours.grad.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode, padding_mode", [("bilinear", "zeros"), ("bicubic", "zeros"),
                                                ("bicubic", "border"),
                                                ("bicubic", "reflection")])
def test_grid_sample_with_a_free_grid_matches_torch(check, dtype, mode, padding_mode):
    """Points inside and outside the image (bicubic reads each of its 16 pixels through the
    padding)."""
    grid = rng.uniform(-1.3, 1.3, (2, 3, 4, 2))
    options = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    check(lambda x, g: F.grid_sample(x, g, **options),
          lambda x, g: TF.grid_sample(x, g, **options), [IMAGE, grid], dtype,
          tol=dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else None)


@pytest.mark.parametrize("call", [
    lambda F_, t: F_.grid_sample(t((1, 1, 3, 3)), t((1, 2, 2, 3))),
    lambda F_, t: F_.grid_sample(t((1, 1, 3, 3)), t((2, 2, 2, 2))),
    lambda F_, t: F_.grid_sample(t((1, 1, 3, 3)), t((1, 2, 2, 2)), mode="area"),
    lambda F_, t: F_.grid_sample(t((1, 1, 3, 3)), t((1, 2, 2, 2)), padding_mode="wrap"),
    lambda F_, t: F_.affine_grid(t((1, 3, 3)), (1, 1, 2, 2)),
    lambda F_, t: F_.affine_grid(t((1, 2, 3)), (1, 1, 2)),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(TF, torch.zeros)
    with pytest.raises(type(theirs.value)):
        call(F, at.zeros)
