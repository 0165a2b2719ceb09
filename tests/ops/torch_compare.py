"""Shared checks for the wider-API op tests: run one function in abdou_torch and in PyTorch
on the same inputs; compare values, dtypes, first and second derivatives."""
from __future__ import annotations

import numpy as np
import torch

import abdou_torch as at

TOL = {"float64": dict(rtol=1e-7, atol=1e-9), "float32": dict(rtol=2e-4, atol=2e-5)}


def _outs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _floating(outs) -> list:
    return [o for o in outs if o.dtype in (at.float32, at.float64, torch.float32,
                                           torch.float64)]


def check(fn, *arrays, dtype="float64", grad=True, grad2=True, seed=0, tol=None):
    """fn(lib, *tensors) in both libraries: outputs (values, shapes, dtypes), the gradient of
    sum(w * out) for random w and, with ``grad2``, the gradient of a random projection of
    that gradient (a second derivative through create_graph)."""
    given_tol = tol
    arrays = [np.asarray(a) for a in arrays]
    cast = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    float_in = [a.dtype.kind == "f" and grad for a in cast]
    ours_in = [at.tensor(a, requires_grad=g) for a, g in zip(cast, float_in)]
    theirs_in = [torch.tensor(a, requires_grad=g) for a, g in zip(cast, float_in)]
    ours, theirs = _outs(fn(at, *ours_in)), _outs(fn(torch, *theirs_in))
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert str(mine.dtype) == str(ref.dtype), (mine.dtype, ref.dtype)
        assert tuple(mine.shape) == tuple(ref.shape), (mine.shape, ref.shape)
        tol = given_tol or TOL["float32" if ref.dtype in (torch.float32, torch.float16)
                               else dtype]
        np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), **tol)
    if not grad or not any(float_in):
        return ours
    tol = given_tol or TOL[dtype]
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in _floating(theirs)]
    pairs = [(xs, outs, lib) for xs, outs, lib in ((ours_in, ours, at), (theirs_in, theirs,
                                                                         torch))]
    firsts = []
    for xs, outs, lib in pairs:
        loss = sum((o * lib.tensor(w)).sum() for o, w in zip(_floating(outs), weights))
        wanted = [x for x in xs if x.requires_grad]
        firsts.append(lib.autograd.grad(loss, wanted, create_graph=grad2, allow_unused=True))
    for mine, ref in zip(*firsts):
        ref_values = np.zeros(0) if ref is None else ref.detach().numpy(force=True)
        if ref is None:
            assert mine is None or not np.any(mine.numpy())
            continue
        assert mine is not None, "PyTorch computes a gradient here, abdou_torch none"
        np.testing.assert_allclose(mine.detach().numpy(), ref_values, **tol)
    if not grad2:
        return ours
    directions = [rng.standard_normal(tuple(x.shape)).astype(dtype)
                  for x in ours_in if x.requires_grad]
    seconds = []
    for (xs, _, lib), first in zip(pairs, firsts):
        terms = [(g * lib.tensor(d)).sum() for g, d in zip(first, directions)
                 if g is not None and g.requires_grad]
        wanted = [x for x in xs if x.requires_grad]
        if not terms:
            seconds.append([None] * len(wanted))
            continue
        seconds.append(lib.autograd.grad(sum(terms), wanted, allow_unused=True))
    for mine, ref in zip(*seconds):
        mine_v = np.zeros(0) if mine is None else mine.numpy()
        ref_v = np.zeros(0) if ref is None else ref.detach().numpy(force=True)
        if mine is None or ref is None:
            assert not np.any(mine_v) and not np.any(ref_v)
            continue
        np.testing.assert_allclose(mine_v, ref_v, **tol)
    return ours
