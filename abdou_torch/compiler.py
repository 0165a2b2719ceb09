"""What library code tells ``abdou_torch.compile`` (PyTorch's ``torch.compiler`` module):

- ``is_compiling()``: whether a step is being recorded (its first call);
- ``@kernel``: a function of NumPy arrays that a recorded step keeps as one call. Its NumPy
  calls are not recorded one by one, so its Python branches on values (a NaN to handle, a
  faster path when the data allow it) are taken anew at each replay, on the replay's data.
  The function must only compute its result from its arguments (or write it into ``out=``);
- ``with untraced():``: library work done during a step that is not part of it (filling a
  cache, timing candidate kernels once): nothing in it is recorded, and the arrays it makes
  are NumPy's own.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

__all__ = ["is_compiling", "kernel", "untraced"]

#: how many captures are running (set by abdou_torch.compile)
_capturing = 0
#: while a capture runs: records ``function(*args, **kwargs)`` as one call and runs it
_record_call: Callable[[Callable, tuple, dict], Any] | None = None
#: a context manager pausing the running capture's recording
_pause: Callable[[], Any] | None = None


def is_compiling() -> bool:
    """True while ``abdou_torch.compile`` records a step (its first call)."""
    return _capturing > 0


def kernel(function: Callable) -> Callable:
    """``function``, recorded as one call by ``abdou_torch.compile`` (see the module doc)."""
    @functools.wraps(function)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        if _capturing and _record_call is not None:
            return _record_call(function, args, kwargs)
        return function(*args, **kwargs)
    return recorded


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """Run the block outside the running capture's recording (see the module doc)."""
    if _capturing and _pause is not None:
        with _pause():
            yield
    else:
        yield
