"""L-BFGS with an optional strong-Wolfe line search (PyTorch's ``LBFGS``, step for step)."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """L-BFGS (PyTorch's ``LBFGS``): a quasi-Newton method that approximates the inverse
    Hessian from the last ``history_size`` pairs of parameter and gradient changes.

    ``step(closure)`` needs a closure that zeroes the gradients, computes the loss, calls
    ``backward()`` and returns the loss. All parameters form one flat vector θ (one group
    only); g is the gradient, f the loss, γ the learning rate. Each call runs up to
    ``max_iter`` iterations of::

        1. f, g ← closure()                    (first iteration; later ones reuse line 5's)
           stop if max |g| ≤ tolerance_grad
        2. the direction d:
           on the very first iteration:  d ← −g,  H₀ ← 1
           else:  y ← g − g_prev,  s ← t d
                  if yᵀs > 1e-10:  keep (y, s, ρ = 1 / yᵀs), dropping the oldest pair beyond
                                   history_size;  H₀ ← yᵀs / yᵀy
                  q ← −g;  for each pair i, newest first:  αᵢ ← ρᵢ sᵢᵀq,  q ← q − αᵢ yᵢ
                  r ← H₀ q;  for each pair i, oldest first:  βᵢ ← ρᵢ yᵢᵀr,  r ← r + (αᵢ − βᵢ) sᵢ
                  d ← r
        3. t ← min(1, 1 / Σ|g|) γ on the very first iteration, else t ← γ
        4. stop if gᵀd > −tolerance_change     (d is no descent direction)
        5. line_search_fn="strong_wolfe":  t, f, g ← the strong-Wolfe search along d from t
                                           (``_strong_wolfe``);  θ ← θ + t d
           line_search_fn=None:            θ ← θ + t d;  f, g ← closure()  (not after the
                                           last iteration)
        6. stop after max_iter iterations or max_eval closure calls, or if max |g| ≤
           tolerance_grad, max |t d| ≤ tolerance_change or |f − f_prev| < tolerance_change

    The history (``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``al``) and the counters ``func_evals`` and
    ``n_iter`` live in the state of the first parameter, under PyTorch's names, so the next
    ``step()`` continues where this one stopped. Arithmetic runs in the parameters' dtype,
    as in PyTorch.
    """

    _scalar_names = ()

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        check_tensor_hyperparameter("lr", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")

    # -- the parameters as one flat vector -------------------------------------------------
    def _gather_flat_grad(self) -> np.ndarray:
        """g: every parameter's gradient, flattened and concatenated (zeros where None)."""
        return np.concatenate([np.zeros(p.data.size, p.data.dtype) if p.grad is None
                               else p.grad.data.reshape(-1) for p in self._params])

    def _add_grad(self, t: Any, d: np.ndarray) -> None:
        """θ ← θ + t d, written into each parameter's own array."""
        offset = 0
        for param in self._params:
            theta = param.data
            piece = d[offset:offset + theta.size].reshape(theta.shape)
            np.add(theta, piece * theta.dtype.type(t), out=theta)
            param._version += 1
            offset += theta.size

    def _set_params(self, values: list[np.ndarray]) -> None:
        for param, value in zip(self._params, values):
            np.copyto(param.data, value)
            param._version += 1

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray],
                              t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
        """f and g at θ = x + t d; θ is put back to x afterwards."""
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # -- the step --------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` iterations, numbered as in the class docstring; returns the
        loss of the first closure call."""
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got "
                                 f"{len(self.param_groups)}")
        group = self.param_groups[0]
        lr = scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = self._evaluate(closure)                                   # 1
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t, old_dirs, old_stps, ro, h_diag, prev_flat_grad, prev_loss, al = (
            _unwrap(state.get(name)) for name in (
                "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                "prev_loss", "al"))
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:                                          # 2
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                if al is None:
                    al = [None] * history_size
                    state["al"] = None  # its place in the state's order, as in PyTorch
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, h_diag, al)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:                                          # 3
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:                                       # 4
                break

            if line_search_fn is not None:                                    # 5
                x_init = [p.data.copy() for p in self._params]

                def along_d(x: list[np.ndarray], step: Any, direction: np.ndarray) -> tuple:
                    return self._directional_evaluate(closure, x, step, direction)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    along_d, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                ls_func_evals = 0
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:   # 6
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=_wrap(d), t=_wrap(t), old_dirs=_wrap(old_dirs),
                     old_stps=_wrap(old_stps), ro=_wrap(ro), H_diag=_wrap(h_diag),
                     prev_flat_grad=_wrap(prev_flat_grad), prev_loss=prev_loss)
        if al is not None:
            state["al"] = _wrap(al)
        return orig_loss

    @staticmethod
    def _two_loop(flat_grad: np.ndarray, old_dirs: list, old_stps: list, ro: list,
                  h_diag: Any, al: list) -> np.ndarray:
        """d ← −H g from the history (line 2's two loops); ``al`` keeps the αᵢ."""
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q += old_dirs[i] * q.dtype.type(-al[i])
        r = q * h_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += old_stps[i] * r.dtype.type(al[i] - be_i)
        return r

    # -- state dicts -----------------------------------------------------------------------
    def _restore_value(self, value: Any, param: Tensor, name: str) -> Any:
        """The history, copied, with its arrays cast to the parameters' dtype (PyTorch casts
        every floating tensor of the state, lists included)."""
        if isinstance(value, (Tensor, np.ndarray)):
            array = np.array(value.data if isinstance(value, Tensor) else value, copy=True)
            if array.dtype.kind == "f":
                array = array.astype(param.dtype)
            return Tensor._wrap(array, False)
        if isinstance(value, (list, tuple)):
            return type(value)(self._restore_value(v, param, name) for v in value)
        return copy.deepcopy(value)


def _cubic_interpolate(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                       bounds: tuple | None = None) -> Any:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to ``bounds`` (default: between x1 and x2); their midpoint when the cubic has
    no minimum:

        d1 = g1 + g2 − 3 (f1 − f2) / (x1 − x2),   d2 = √(d1² − g1 g2)
        x  = x2 − (x2 − x1) (g2 + d2 − d1) / (g2 − g1 + 2 d2)      (for x1 ≤ x2)
    """
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, low), high)
    return (low + high) / 2.0


def _strong_wolfe(obj_func: Callable, x: list[np.ndarray], t: Any, d: np.ndarray, f: float,
                  g: np.ndarray, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """A step t along d that satisfies the strong Wolfe conditions

        f(θ + t d) ≤ f + c1 t gᵀd   (sufficient decrease)   and   |g(θ + t d)ᵀd| ≤ −c2 gᵀd,

    found as in PyTorch (after minFunc): first bracket an interval that holds such a step,
    moving right by cubic interpolation, then zoom into it by cubic interpolation, at most
    ``max_ls`` evaluations in all. Returns (f, g, t, evaluations) at the step taken.
    """
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list = []
    bracket_f: list = []
    bracket_g: list = []
    bracket_gtd: list = []
    while ls_iter < max_ls:  # bracketing
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial point too close to an end of the bracket twice in a row (or on it) moves
        # to a tenth of the bracket's length inside it
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _wrap(value: Any) -> Any:
    """State values as PyTorch keeps them: arrays (and numbers of the parameters' dtype) as
    tensors, lists of them as lists."""
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    if isinstance(value, (np.ndarray, np.floating)):
        return Tensor._wrap(np.asarray(value), False)
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, Tensor):
        return value.data if value.data.ndim else value.data[()]
    return value
