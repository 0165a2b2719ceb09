"""``torchvision.models``: not available here (the architectures come with pretrained
weights that only torchvision's hosts serve). Any use says so."""
from __future__ import annotations

from typing import Any

from ..alias import NotAvailableError


def __getattr__(name: str) -> Any:
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    raise NotAvailableError(f"torchvision.models.{name} is not available in abdou_torch: "
                            f"torchvision's model zoo and its pretrained weights are not "
                            f"included (define the model with torch.nn)")
