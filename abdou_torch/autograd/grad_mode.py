"""Grad mode: whether operations record the graph that ``backward()`` walks.

Under ``no_grad`` an op builds no graph at all (no parents, no saved values), which is what
makes evaluation and optimizer updates cheap. The mode belongs to the thread that sets it.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar, cast

__all__ = ["GradMode", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradModeState(threading.local):
    """The switch read by every op, one per thread as in PyTorch: ``no_grad`` in a data
    loader's worker thread or a server thread leaves the other threads recording. A new
    thread starts with grad enabled (the class attribute)."""

    enabled: bool = True


GradMode = _GradModeState()


def is_grad_enabled() -> bool:
    return GradMode.enabled


class _GradModeContext:
    """Base of the grad-mode context managers; also usable as a function decorator."""

    _mode: bool = True

    def __new__(cls, func: Any = None) -> Any:
        """``no_grad()`` makes a context manager; bare ``@no_grad`` decorates ``func``."""
        instance = super().__new__(cls)
        return instance if func is None else instance(func)

    def __enter__(self) -> None:
        self._previous = GradMode.enabled
        GradMode.enabled = self._mode

    def __exit__(self, *exc_info: object) -> None:
        GradMode.enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return func(*args, **kwargs)
        return cast(F, wrapper)  # functools.wraps keeps func's signature


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph."""

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn graph recording back on inside ``no_grad``."""

    _mode = True


inference_mode = no_grad


class set_grad_enabled:
    """Set grad mode: as a call it takes effect at once (``set_grad_enabled(False)``), as a
    context manager or decorator it restores the previous mode afterwards."""

    def __init__(self, mode: bool) -> None:
        self._previous = GradMode.enabled
        self._mode = bool(mode)
        GradMode.enabled = self._mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        GradMode.enabled = self._previous

    def __call__(self, func: F) -> F:
        GradMode.enabled = self._previous  # undo the switch made when decorating
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return cast(F, wrapper)  # functools.wraps keeps func's signature
