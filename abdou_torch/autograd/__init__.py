"""Reverse-mode automatic differentiation: the Function base, the graph walk, grad modes,
numerical gradient checks and anomaly detection."""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, Primitive  # first: it loads Tensor and the ops
from .engine import backward, grad  # noqa: I001 - after function, see above
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from . import functional  # noqa: E402 - torch.autograd.functional

__all__ = ["Function", "Primitive", "backward", "grad", "gradcheck", "gradgradcheck",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]
