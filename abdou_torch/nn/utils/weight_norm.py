"""Weight normalisation (Salimans and Kingma, 2016), PyTorch's legacy
``nn.utils.weight_norm`` / ``remove_weight_norm``: a parameter w is replaced by a magnitude
g and a direction v, and recomputed before every forward as

    w = g · v / ‖v‖   (the norm over every dim but ``dim``; over all dims when dim is None)

so gradients reach g and v (named ``<name>_g`` and ``<name>_v`` in the state dict)."""
from __future__ import annotations

import warnings
from typing import Any

from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:  # noqa: A002
    """‖v‖ over every dim but ``dim`` (all dims when dim is −1), shaped to broadcast."""
    if dim == -1:
        return (v.abs() ** pow).sum() ** (1.0 / pow)
    moved = v.transpose(0, dim) if dim != 0 else v
    norms = (moved.reshape(moved.shape[0], -1).abs() ** pow).sum(1) ** (1.0 / pow)
    shape = [1] * v.ndim
    shape[dim] = v.shape[dim]
    return norms.reshape(*shape)


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from g and v."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrise ``module.<name>`` as g · v / ‖v‖ (see the module docstring)."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                               f"{name}")
    dim = -1 if dim is None else dim
    weight = getattr(module, name)
    if not isinstance(weight, Parameter):
        raise TypeError(f"weight_norm: module.{name} must be a Parameter, got "
                        f"{type(weight).__name__}")
    if dim < -1 or dim >= weight.ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for a parameter of "
                         f"{weight.ndim} dims")
    hook = WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``module.<name>`` becomes a Parameter again, holding g · v / ‖v‖."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
