"""Property tests: any set of parameter shapes (0-d, empty, odd sizes, mixed groups) and any
valid hyperparameters give PyTorch's update, step for step, in float64, by the flat step and
by the reference step (foreach=False), for every optimizer but LBFGS."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim import (SGD, Adadelta, Adagrad, Adam, Adamax, NAdam,  # noqa: E402
                               RAdam, RMSprop, WAdam)

shapes = st.lists(st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple),
                  min_size=1, max_size=6)
unit = st.floats(0.0, 0.99)

optimizers = st.one_of(
    st.builds(lambda m, d, w, n, x: ("SGD", dict(lr=0.1, momentum=m,
                                                dampening=0.0 if n else d, weight_decay=w,
                                                nesterov=n and m > 0, maximize=x)),
              unit, unit, st.floats(0, 0.1), st.booleans(), st.booleans()),
    st.builds(lambda b1, b2, w, a, x, name: (name, dict(lr=0.01, betas=(b1, b2),
                                                        weight_decay=w, amsgrad=a,
                                                        maximize=x)),
              unit, unit, st.floats(0, 0.1), st.booleans(), st.booleans(),
              st.sampled_from(["Adam", "AdamW"])),
    st.builds(lambda a, m, c, w, x: ("RMSprop", dict(lr=0.01, alpha=a, momentum=m,
                                                     centered=c, weight_decay=w,
                                                     maximize=x)),
              st.floats(0.5, 0.99), unit, st.booleans(), st.floats(0, 0.1), st.booleans()),
    st.builds(lambda d, w, a, x: ("Adagrad", dict(lr=0.05, lr_decay=d, weight_decay=w,
                                                  initial_accumulator_value=a, maximize=x)),
              st.floats(0, 0.1), st.floats(0, 0.1), st.floats(0, 1), st.booleans()),
    st.builds(lambda r, e, w, x: ("Adadelta", dict(lr=0.5, rho=r, eps=e, weight_decay=w,
                                                   maximize=x)),
              unit, st.floats(1e-8, 1e-3), st.floats(0, 0.1), st.booleans()),
    st.builds(lambda b1, b2, w, x, name: (name, dict(lr=0.01, betas=(b1, b2), weight_decay=w,
                                                     maximize=x)),
              unit, unit, st.floats(0, 0.1), st.booleans(),
              st.sampled_from(["Adamax", "NAdam", "RAdam"])),
    st.builds(lambda b1, b2, w, x, name: (name, dict(lr=0.01, betas=(b1, b2), weight_decay=w,
                                                     decoupled_weight_decay=True,
                                                     maximize=x)),
              unit, unit, st.floats(0, 0.1), st.booleans(), st.sampled_from(["NAdam", "RAdam"])),
)
OURS = {"SGD": SGD, "Adam": Adam, "AdamW": WAdam, "RMSprop": RMSprop, "Adagrad": Adagrad,
        "Adadelta": Adadelta, "Adamax": Adamax, "NAdam": NAdam, "RAdam": RAdam}


@settings(max_examples=80, deadline=None)
@given(shapes=shapes, case=optimizers, split=st.integers(0, 6), seed=st.integers(0, 2**31),
       skip=st.integers(-1, 5), foreach=st.sampled_from([None, False]))
def test_any_shapes_and_hyperparameters_match_torch(shapes, case, split, seed, skip, foreach):
    name, options = case
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape) for shape in shapes]
    ours = [Parameter(v.copy()) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    split = min(split, len(shapes))

    def groups(params):
        head, tail = params[:split], params[split:]
        return [g for g in ({"params": head, "lr": options["lr"] / 2}, {"params": tail})
                if g["params"]]

    opt_ours = OURS[name](groups(ours), foreach=foreach, **options)
    opt_theirs = getattr(torch.optim, name)(groups(theirs), **options)
    for step in range(6):
        for index, (p, q) in enumerate(zip(ours, theirs)):
            if index == skip and step % 2:  # some parameters miss some steps
                p.grad = q.grad = None
                continue
            grad = rng.standard_normal(p.shape)
            p.grad, q.grad = Tensor(grad.copy()), torch.tensor(grad)
        opt_ours.step()
        opt_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
