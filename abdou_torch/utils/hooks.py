"""``RemovableHandle``: what registering a hook returns, as ``torch.utils.hooks``."""
from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Unregisters the hook it was returned for: ``handle.remove()``, or leaving a
    ``with handle:`` block. Removing twice, or after the module is gone, does nothing.

    ``registries`` are the ordered dicts the hook was put in under ``handle.id`` (a hook
    may be noted in a second one, e.g. the ids of hooks that take keyword arguments); the
    handle only holds weak references to them, so it does not keep a module alive.
    """

    _ids = itertools.count()

    def __init__(self, *registries: OrderedDict) -> None:
        self.id = next(RemovableHandle._ids)
        self._registries = [weakref.ref(registry) for registry in registries]

    def remove(self) -> None:
        for reference in self._registries:
            registry = reference()
            if registry is not None:
                registry.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()
