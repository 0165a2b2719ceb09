"""Padding layers and ParameterList / ParameterDict against PyTorch: values, gradients,
reprs, state-dict keys, and the errors PyTorch raises."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402

rng = np.random.default_rng(0)
PADS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ZeroPad2d", (1,), (3, 4, 5)), ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 3, 4, 2)),
    ("ConstantPad1d", ((3, 1), 2.5), (2, 3, 5)), ("ConstantPad2d", (2, -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), (1, 2, 3, 4, 2)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
    ("ReflectionPad2d", (2,), (3, 4, 5)), ("ReflectionPad3d", (1,), (1, 2, 3, 4, 2)),
    ("ReplicationPad1d", ((0, 4),), (2, 3, 5)), ("ReplicationPad2d", ((3, 1, 0, 2),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (1, 2, 3, 4, 2)),
    ("CircularPad1d", ((2, 1),), (2, 3, 5)), ("CircularPad2d", (1,), (2, 3, 4, 5)),
    ("CircularPad3d", ((1, 0, 1, 1, 0, 1),), (1, 2, 3, 4, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name, args, shape", PADS, ids=[f"{n}-{i}" for i, (n, _, _) in
                                                         enumerate(PADS)])
def test_padding_layers_match_torch(check, name, args, shape, dtype):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    check(ours, theirs, [rng.standard_normal(shape)], dtype)


def test_padding_errors_like_torch():
    for name, args, shape in [("ReflectionPad2d", (4,), (1, 1, 3, 3)),
                              ("ReflectionPad1d", (1,), (2, 2, 2, 2, 2))]:
        with pytest.raises(Exception) as theirs:
            getattr(torch.nn, name)(*args)(torch.zeros(shape))
        with pytest.raises((ValueError, RuntimeError, NotImplementedError)):
            getattr(nn, name)(*args)(at.zeros(shape))
        assert theirs.value is not None
    with pytest.raises(ValueError):
        nn.ZeroPad2d((1, 2, 3))


def test_parameter_list_registers_and_prints_like_torch():
    arrays = [rng.standard_normal((3, 4)).astype(np.float32),
              rng.standard_normal(3).astype(np.float32)]

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterList([nn.Parameter(at.tensor(a)) for a in arrays])
            self.params.append(at.ones(2))  # a plain tensor becomes a Parameter

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.params = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a))
                                                  for a in arrays])
            self.params.append(torch.ones(2))

    ours, theirs = Ours(), Theirs()
    assert repr(ours.params) == repr(theirs.params)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["params.0", "params.1", "params.2"]
    assert len(list(ours.parameters())) == 3 and len(ours.params) == 3
    assert isinstance(ours.params[2], nn.Parameter) and ours.params[2].requires_grad
    assert ours.params[-1] is ours.params[2]
    assert len(ours.params[1:]) == 2
    total = sum((p * p).sum() for p in ours.params)
    total.backward()
    np.testing.assert_allclose(ours.params[0].grad.data, 2 * arrays[0], rtol=1e-6)
    ours.params[1] = nn.Parameter(at.zeros(3))
    assert float(ours.params[1].sum()) == 0.0
    with pytest.raises(IndexError):
        ours.params[3]
    with pytest.raises(TypeError):
        ours.params.extend(5)


def test_parameter_dict_registers_and_prints_like_torch():
    weights = {"weight": rng.standard_normal((2, 3)).astype(np.float32),
               "bias": rng.standard_normal(2).astype(np.float32)}
    ours = nn.ParameterDict({k: nn.Parameter(at.tensor(v)) for k, v in weights.items()})
    theirs = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.tensor(v))
                                     for k, v in weights.items()})
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]  # sorted
    ours["scale"] = at.ones(1)
    theirs["scale"] = torch.ones(1)
    assert repr(ours) == repr(theirs)
    assert list(ours.keys()) == list(theirs.keys()) == ["bias", "weight", "scale"]
    assert isinstance(ours["scale"], nn.Parameter) and "bias" in ours
    assert ours.pop("bias") is not None and list(ours) == ["weight", "scale"]
    assert len(list(ours.parameters())) == 2
    ours.update([("keys", at.zeros(1))])  # a key named like a method still works
    assert float(ours["keys"].sum()) == 0.0
    with pytest.raises(KeyError):
        ours["missing"]
    with pytest.raises(RuntimeError):
        ours(1)
