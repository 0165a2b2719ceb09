"""Where should an optimizer keep the parameters? Four layouts of one AdamW step, in NumPy
alone (no library code), timed in thread CPU time (robust on a shared machine):

- ``flat θ``: the parameters copied into one flat array once and ``param.data`` rebound to
  views of it (abdou_torch before December 2026): every line is one pass over all of them,
  but views and ``.data`` ties taken before the optimizer stop tracking the parameters.
- ``θ per tensor``: gradients and state flat, the parameters left where they are; the lines
  that read or write θ (weight decay, the final add) run once per tensor (the layout now).
- ``gather θ``: as above, but θ gathered into a flat copy each step and scattered back
  (two more passes, and one copy call per tensor).
- ``all per tensor``: no flat arrays at all, every line once per tensor (PyTorch's foreach
  idea, without its single C++ loop).

    python benchmarks/optim_layouts.py
"""
from __future__ import annotations

import time

import numpy as np

f = np.float32
LR, DECAY, BETA1, BETA2, EPS = 4e-4, 1e-4, 0.9, 0.999, 1e-8


def _shapes(sizes: list[int]) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


def _views(flat: np.ndarray, params: list[np.ndarray]) -> list[np.ndarray]:
    views, start = [], 0
    for p in params:
        views.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    return views


def _moments(m, v, g, tmp) -> None:
    """Adam's lines on flat arrays; leaves the update in g."""
    np.subtract(g, m, out=tmp)
    np.multiply(tmp, f(1 - BETA1), out=tmp)
    np.add(m, tmp, out=m)
    np.multiply(g, f(1 - BETA2), out=tmp)
    np.multiply(tmp, g, out=tmp)
    np.multiply(v, f(BETA2), out=v)
    np.add(v, tmp, out=v)
    np.sqrt(v, out=tmp)
    np.add(tmp, f(EPS * 0.1), out=tmp)
    np.multiply(m, f(-LR * 0.1), out=g)
    np.divide(g, tmp, out=g)


def make_step(layout: str, shapes: list[tuple[int, ...]]):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(f) for s in shapes]
    grads = [(rng.standard_normal(s) * 1e-2).astype(f) for s in shapes]
    total = sum(p.size for p in params)
    m, v, g, tmp, theta = (np.zeros(total, f) for _ in range(5))
    g_views, theta_views = _views(g, params), _views(theta, params)

    if layout == "flat θ":
        for p, view in zip(params, theta_views):
            view[...] = p

        def step() -> None:
            np.concatenate([x.reshape(-1) for x in grads], out=g)
            np.multiply(theta, f(1 - LR * DECAY), out=theta)
            _moments(m, v, g, tmp)
            np.add(theta, g, out=theta)
    elif layout == "θ per tensor":
        def step() -> None:
            np.concatenate([x.reshape(-1) for x in grads], out=g)
            for p in params:
                np.multiply(p, f(1 - LR * DECAY), out=p)
            _moments(m, v, g, tmp)
            for p, update in zip(params, g_views):
                np.add(p, update, out=p)
    elif layout == "gather θ":
        def step() -> None:
            np.concatenate([x.reshape(-1) for x in grads], out=g)
            np.concatenate([x.reshape(-1) for x in params], out=theta)
            np.multiply(theta, f(1 - LR * DECAY), out=theta)
            _moments(m, v, g, tmp)
            np.add(theta, g, out=theta)
            for p, view in zip(params, theta_views):
                np.copyto(p, view)
    else:  # all per tensor
        pieces = list(zip(params, grads, _views(m, params), _views(v, params),
                          _views(tmp, params), g_views))

        def step() -> None:
            for p, grad, m_, v_, tmp_, update in pieces:
                np.multiply(p, f(1 - LR * DECAY), out=p)
                np.copyto(update, grad)
                _moments(m_, v_, update, tmp_)
                np.add(p, update, out=p)
    return step


def best_cpu_seconds(steps: dict, calls: int, repeats: int = 7) -> dict:
    best = {name: float("inf") for name in steps}
    for _ in range(repeats):  # interleaved, so all see the same load
        for name, step in steps.items():
            step()
            started = time.thread_time()
            for _ in range(calls):
                step()
            best[name] = min(best[name], (time.thread_time() - started) / calls)
    return best


def main() -> None:
    layouts = ("flat θ", "θ per tensor", "gather θ", "all per tensor")
    models = [("MLP 784-64-64-64-10 (8 tensors)", [784, 64, 64, 64, 10], 400),
              ("MLP 784-1024-1024-10 (6 tensors)", [784, 1024, 1024, 10], 10),
              ("MLP 32 x 128 (64 tensors)", [128] * 33, 100)]
    print("AdamW step, µs of thread CPU time (best of 7), and against 'flat θ'")
    print(f"{'':34s}" + "".join(f"{name:>22s}" for name in layouts))
    for label, sizes, calls in models:
        best = best_cpu_seconds({name: make_step(name, _shapes(sizes)) for name in layouts},
                                calls)
        base = best["flat θ"]
        print(f"{label:34s}" + "".join(f"{best[n] * 1e6:12.1f} ({best[n] / base:5.2f}) "
                                       for n in layouts))


if __name__ == "__main__":
    main()
