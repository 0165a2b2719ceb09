"""``torch.compile`` for PyTorch programs run by ``abdou-torch run``.

It hands the model to ``abdou_torch.compile`` where the library has one (a capture and
replay of the step), and otherwise returns the model itself: the result computes exactly
what the model computes, only without PyTorch's code generation. The arguments are
checked as PyTorch checks them, so a typo in ``mode`` fails here as it would there.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["compile"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# torch._dynamo.list_backends() of PyTorch 2.13, plus its debugging backends
_BACKENDS = ("inductor", "eager", "aot_eager", "aot_eager_decomp_partition", "cudagraphs",
             "onnxrt", "openxla", "tvm")


def compile(model: Callable | None = None, *, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: str | Callable = "inductor",
            mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """``torch.compile(model, ...)``; without a model, a decorator (``@torch.compile(...)``)."""
    _check_arguments(backend, mode, options)
    settings: dict[str, Any]  # keyword arguments for the library's compile
    settings = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                    options=options, disable=disable)
    if model is None:
        return lambda function: compile(function, **settings)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    library_compile = _library_compile()
    if library_compile is None or disable:
        return model
    return library_compile(model, **settings)


def _check_arguments(backend: Any, mode: str | None, options: dict | None) -> None:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise RuntimeError(f"Invalid backend: {backend!r}, expected one of "
                           f"{', '.join(_BACKENDS)}")
    if not isinstance(backend, str) and not callable(backend):
        raise TypeError(f"backend must be a name or a callable, got {type(backend).__name__}")


def _library_compile() -> Callable | None:
    """``abdou_torch.compile``: the package's attribute (the function; a module of that name
    if the function is not there)."""
    found = getattr(importlib.import_module("abdou_torch"), "compile", None)
    if found is not None and not callable(found):
        found = getattr(found, "compile", None)
    return found if callable(found) else None
