"""``torch.compile`` on the alias: abdou_torch.compile when the library has one, else the
model itself; PyTorch's argument checks either way."""
from __future__ import annotations

import pytest

import abdou_torch
from abdou_torch.compat.compile import compile as torch_compile


def test_passes_the_model_through_without_a_library_compile(monkeypatch):
    monkeypatch.delattr(abdou_torch, "compile", raising=False)
    model = abdou_torch.nn.Linear(2, 2)
    assert torch_compile(model, mode="reduce-overhead", fullgraph=True) is model
    assert torch_compile(backend="eager")(model) is model


def test_calls_the_library_compile_when_it_exists(monkeypatch):
    calls = []

    def library_compile(model, **options):
        calls.append(options)
        return ("compiled", model)

    monkeypatch.setattr(abdou_torch, "compile", library_compile, raising=False)
    model = abdou_torch.nn.Linear(2, 2)
    assert torch_compile(model, dynamic=True) == ("compiled", model)
    assert calls[0]["dynamic"] is True and calls[0]["mode"] is None
    assert torch_compile(model, disable=True) is model  # disable: PyTorch runs it eagerly


@pytest.mark.parametrize("kwargs, error", [
    ({"mode": "fastest"}, RuntimeError), ({"mode": "default", "options": {}}, RuntimeError),
    ({"backend": "no-such-backend"}, RuntimeError), ({"backend": 3}, TypeError)])
def test_arguments_are_checked_as_pytorch(kwargs, error):
    with pytest.raises(error):
        torch_compile(abdou_torch.nn.Linear(2, 2), **kwargs)
