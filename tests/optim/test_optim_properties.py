"""Property tests: any set of parameter shapes (0-d, empty, odd sizes, mixed groups) and any
valid hyperparameters give PyTorch's update, step for step, in float64."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim import SGD, Adam, RMSprop, WAdam  # noqa: E402

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
)
OURS = {"SGD": SGD, "Adam": Adam, "AdamW": WAdam, "RMSprop": RMSprop}


@settings(max_examples=60, deadline=None)
@given(shapes=shapes, case=optimizers, split=st.integers(0, 6), seed=st.integers(0, 2**31),
       skip=st.integers(-1, 5))
def test_any_shapes_and_hyperparameters_match_torch(shapes, case, split, seed, skip):
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

    opt_ours = OURS[name](groups(ours), **options)
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
