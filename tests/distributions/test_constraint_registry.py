"""biject_to and transform_to against PyTorch's: the transform each constraint gets, its
values, and that its codomain is the constraint."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

X = np.array([[-1.5, 0.2, 2.0], [0.0, 3.0, -0.7], [1.0, -2.0, 0.5]])
CONSTRAINTS = {
    "real": lambda c, lib: c.real, "positive": lambda c, lib: c.positive,
    "nonnegative": lambda c, lib: c.nonnegative,
    "greater_than": lambda c, lib: c.greater_than(2.5),
    "greater_than tensor": lambda c, lib: c.greater_than(lib.tensor([0.0, 1.0, -1.0])),
    "less_than": lambda c, lib: c.less_than(-1.0),
    "unit_interval": lambda c, lib: c.unit_interval,
    "interval": lambda c, lib: c.interval(-2.0, 3.0),
    "half_open_interval": lambda c, lib: c.half_open_interval(0.0, 1.0),
    "simplex": lambda c, lib: c.simplex,
    "real_vector": lambda c, lib: c.real_vector,
    "independent positive": lambda c, lib: c.independent(c.positive, 1),
    "lower_cholesky (transform_to)": lambda c, lib: c.lower_cholesky,
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_registry_matches_pytorch(name, registry, both):
    if registry == "biject_to" and name.startswith("lower_cholesky"):
        with pytest.raises(NotImplementedError, match="Cannot transform _LowerCholesky"):
            at.distributions.biject_to(at.distributions.constraints.lower_cholesky)
        return
    results = []
    for lib in (at, torch):
        c = lib.distributions.constraints
        constraint = CONSTRAINTS[name](c, lib)
        transform = getattr(lib.distributions, registry)(constraint)
        x = lib.tensor(X, requires_grad=True)
        y = transform(x)
        y.sum().backward()
        assert bool(constraint.check(y.detach()).all())
        results.append((repr(transform), y, x.grad))
    assert results[0][0] == results[1][0]
    both.close(results[0][1], results[1][1])
    both.close(results[0][2], results[1][2])


def test_register_and_errors():
    d = at.distributions
    registry = d.constraint_registry.ConstraintRegistry()
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(d.constraints.real)

    @registry.register(d.constraints.real)
    def _factory(constraint):
        return d.transforms.ExpTransform()

    assert isinstance(registry(d.constraints.real), d.transforms.ExpTransform)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        registry.register(int, _factory)
