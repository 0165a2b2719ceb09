"""ops/arrange.py and the Tensor methods of ops/methods.py against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

RNG = np.random.default_rng(11)
A, B = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
C = RNG.standard_normal((2, 3, 4))


def test_products(check):
    check(lambda lib, x, y: lib.kron(x, y), A, B)
    check(lambda lib, x, y: lib.kron(x, y), A[0], C)
    check(lambda lib, x, y: x.kron(y), A, B[0])
    check(lambda lib, x, y: lib.tensordot(x, y, dims=1), A, B)
    check(lambda lib, x, y: lib.tensordot(x, y, dims=([1, 2], [0, 1])), C,
          RNG.standard_normal((3, 4, 5)))
    check(lambda lib, x, y: lib.tensordot(x, y, dims=0), A[0], B[0])
    check(lambda lib, x, y: lib.mv(x, y), A, B[:, 0])
    check(lambda lib, x, y: x.mv(y), A, B[:, 1])
    check(lambda lib, x, y, z: lib.addr(x, y, z, beta=0.5, alpha=2), A, A[:, 0], A[0])
    check(lambda lib, x, y, z: x.addr(y, z), A, A[:, 0], A[0])
    check(lambda lib, x, y, z: lib.chain_matmul(x, y, z), A, B, A)
    check(lambda lib, x, y, z: lib.linalg.multi_dot([x, y, z]), A[0], B, A[:, 0])
    with pytest.raises(RuntimeError):
        at.mv(at.tensor(A), at.tensor(A[:, 0]))


def test_builders(check):
    check(lambda lib, x, y, z: lib.block_diag(x, y, z), A, B[0], np.array(2.0))
    check(lambda lib, x, y: lib.block_diag(x, y), np.array([[1, 2]]), np.array([[3]]),
          grad=False)
    check(lambda lib, x, y: lib.cartesian_prod(x, y), A[0], B[:, 0])
    check(lambda lib, x, y, z: lib.cartesian_prod(x, y, z), A[0], B[:, 0], A[1, :2])
    check(lambda lib, x: lib.combinations(x), A[0])
    check(lambda lib, x: lib.combinations(x, 3, with_replacement=True), A[0])
    for offset in (0, 1, -2):
        check(lambda lib, o=offset: (lib.triu_indices(3, 4, o), lib.tril_indices(4, 3, o)),
              grad=False)
        check(lambda lib, x, o=offset: lib.diag_embed(x, o), C)
        check(lambda lib, x, o=offset: lib.diagflat(x, o), A)
    check(lambda lib, x: lib.diag_embed(x, 1, 0, 2), A)
    check(lambda lib, x: x.diag_embed(dim1=-1, dim2=0), A)
    shapes = [(2, 1, 3), (4, 1), (3,)]
    assert at.broadcast_shapes(*shapes) == torch.broadcast_shapes(*shapes)
    check(lambda lib, x, y: lib.broadcast_tensors(x, y), A[:, :1], B[:, 0])


def test_index_helpers(check):
    index = np.array([2, 0])
    check(lambda lib, x, s: lib.index_copy(x, 1, lib.tensor(index), s), A, B.T[:, :2])
    check(lambda lib, x, s: x.index_copy(0, lib.tensor([1]), s), A, A[:1] * 3)
    check(lambda lib, x: lib.index_fill(x, 1, lib.tensor(index), -1.5), A)
    check(lambda lib, x, v: x.index_fill(0, lib.tensor([1]), v), A, np.array(2.0))
    check(lambda lib, x: lib.take(x, lib.tensor([[0, 5], [-1, 3]])), A)
    check(lambda lib, x, s: x.put(lib.tensor([1, 4]), s), A, B[0])
    check(lambda lib, x, s: x.put(lib.tensor([1, 1]), s, accumulate=True), A, B[0])
    check(lambda lib, x, s: x.index_put((lib.tensor([0, 1, 0]), lib.tensor([2, 0, 2])), s),
          A, np.array([1.0, 2.0, 3.0]), grad2=False)
    check(lambda lib, x, s: x.index_put((lib.tensor([0, 1, 0]), lib.tensor([2, 0, 2])), s,
                                        accumulate=True), A, np.array([1.0, 2.0, 3.0]))
    mask = np.array([[True, False, True], [False, True, True]])
    check(lambda lib, x, s: x.masked_scatter(lib.tensor(mask), s), A, RNG.standard_normal(6))
    with pytest.raises(IndexError):
        at.index_fill(at.tensor(A), 1, at.tensor([3]), 0.0)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(check, reduce, include_self):
    index = np.array([[0, 1, 0, 2], [2, 2, 1, 0]])
    src = RNG.standard_normal((2, 4))
    src[0, 2] = 0.0  # a zero factor for prod
    values = np.round(RNG.standard_normal((2, 3)), 1)
    ties = np.array([[1.0, 1.0, 1.0, 2.0], [0.5, 0.5, 0.0, 0.0]])

    def reduced(lib, x, s):
        return x.scatter_reduce(1, lib.tensor(index), s, reduce, include_self=include_self)
    check(reduced, values, src, grad2=False)
    check(reduced, np.ones((2, 3)), ties, grad2=False)
    check(lambda lib, x, s: lib.scatter_reduce(x, 1, lib.tensor(index), s, reduce),
          np.array([[1, 2, 3], [4, 5, 6]]), np.array([[1, 7, 2, 3], [0, 4, 9, 5]]),
          grad=False)
    ours, theirs = at.tensor(values.copy()), torch.tensor(values.copy())
    ours.scatter_reduce_(1, at.tensor(index), at.tensor(src), reduce)
    theirs.scatter_reduce_(1, torch.tensor(index), torch.tensor(src), reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_rearranging(check):
    for k in (1, 2, 3, -1, 4):
        check(lambda lib, x, k=k: lib.rot90(x, k), A)
        check(lambda lib, x, k=k: x.rot90(k, [2, 0]), C)
    check(lambda lib, x, y: lib.dstack([x, y]), A, A * 2)
    check(lambda lib, x, y: lib.dstack((x, y)), A[0], A[1])
    check(lambda lib, x, y: lib.row_stack([x, y]), A, A[0])
    check(lambda lib, x: lib.atleast_3d(x), A[0])
    for spec in (3, 2, [1, 3], [-1, 1, 10]):
        check(lambda lib, x, s=spec: lib.tensor_split(x, s, dim=2), C)
        check(lambda lib, x, s=spec: x.tensor_split(s), C[0, 0])
    check(lambda lib, x: lib.unflatten(x, 2, (2, 2)), C)
    check(lambda lib, x: x.unflatten(-1, (-1, 2)), C)
    for dim, size, step in ((2, 2, 1), (2, 3, 2), (0, 1, 1), (1, 3, 3)):
        check(lambda lib, x, d=dim, n=size, s=step: x.unfold(d, n, s), C)
    check(lambda lib, x: lib.moveaxis(x, 0, -1), C)
    check(lambda lib, x: lib.t(x), A)
    check(lambda lib, x: lib.clone(x), A)


def test_conveniences():
    assert at.is_floating_point(at.tensor(A)) and not at.is_floating_point(at.tensor([1]))
    assert not at.is_complex(at.tensor(A))
    np.testing.assert_allclose(at.logspace(0, 2, 5).numpy(), torch.logspace(0, 2, 5).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(at.logspace(1, 3, 3, base=2, dtype=at.float64).numpy(),
                               torch.logspace(1, 3, 3, base=2, dtype=torch.float64).numpy())
    x = at.tensor(A)
    assert at.asarray(x) is x
    assert at.asarray(x, dtype=at.float32).dtype == at.float32
    assert str(at.asarray([1, 2]).dtype) == str(torch.asarray([1, 2]).dtype)
    assert at.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    assert at.real(x) is x and at.conj(x) is x
    with pytest.raises(RuntimeError):
        at.imag(x)


def test_tensor_method_extras():
    x = at.tensor(A)
    assert x.byte().dtype == at.uint8 and x.char().dtype == at.int8
    assert x.short().dtype == at.int16
    np.testing.assert_array_equal(x.H.numpy(), A.T)
    assert x[:, 1:].storage_offset() == torch.tensor(A)[:, 1:].storage_offset()
    assert x[1].storage_offset() == 3 and x.storage_offset() == 0
    y = at.tensor(A.copy())
    y.apply_(lambda v: v * 2)
    np.testing.assert_allclose(y.numpy(), A * 2)
    y.map_(at.tensor(A), lambda a, b: a - b)
    np.testing.assert_allclose(y.numpy(), A)
    for name, args in [("squeeze_", ()), ("unsqueeze_", (1,)), ("t_", ()),
                       ("transpose_", (0, 1))]:
        ours, theirs = at.tensor(A[:1].copy()), torch.tensor(A[:1].copy())
        getattr(ours, name)(*args)
        getattr(theirs, name)(*args)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_forms_keep_the_graph():
    for lib in (at, torch):
        leaf = lib.tensor(A, requires_grad=True)
        y = leaf * 1
        y.unsqueeze_(0)
        y.transpose_(0, 2)
        y.floor_()
        z = leaf * 2
        z.lerp_(lib.tensor(B.T), 0.25)
        z.addmm_(lib.tensor(A), lib.tensor(B @ A))
        z.index_fill_(1, lib.tensor([0]), 0.0)
        (y.sum() + z.sum()).backward()
        if lib is at:
            ours = leaf.grad.numpy()
        else:
            np.testing.assert_allclose(ours, leaf.grad.numpy())
    with pytest.raises(RuntimeError):
        at.tensor(A, requires_grad=True).unsqueeze_(0)


def test_random_fills_follow_torchs_stream():
    for name, args in [("cauchy_", (0.5, 2.0)), ("log_normal_", (1.0, 0.5)),
                       ("geometric_", (0.3,))]:
        for dtype in ("float32", "float64"):
            at.manual_seed(7)
            torch.manual_seed(7)
            ours = getattr(at.empty(6, dtype=getattr(at, dtype)), name)(*args)
            theirs = getattr(torch.empty(6, dtype=getattr(torch, dtype)), name)(*args)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    at.manual_seed(7)
    torch.manual_seed(7)
    np.testing.assert_array_equal(at.empty(5, dtype=at.int64).geometric_(0.2).numpy(),
                                  torch.empty(5, dtype=torch.int64).geometric_(0.2).numpy())
