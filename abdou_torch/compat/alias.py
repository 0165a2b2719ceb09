"""The ``torch`` alias: ``import torch`` (and every ``torch.*`` module) gives abdou_torch.

:func:`install` puts a finder at the front of ``sys.meta_path``. From then on, in this
process only, importing ``torch`` or ``torch.X.Y`` returns an :class:`AliasModule`, a thin
module object named ``torch.X.Y`` that forwards every attribute read and write to the
abdou_torch module behind it (``abdou_torch.X.Y`` unless :data:`MODULES` says otherwise).
Nothing named ``torch`` is installed on disk, and a real PyTorch in the same environment is
never imported here (the alias packages have an empty ``__path__``, so no file is searched).

Why a forwarding module rather than ``sys.modules['torch'] = abdou_torch``:

- names keep PyTorch's spelling: ``torch.nn`` is a module called ``torch.nn``, and an error
  can say ``torch.fft.rfft is not available in abdou_torch`` (the PyTorch API the script
  used), never ``module 'abdou_torch.ops' has no attribute ...``;
- extras that only make sense for PyTorch programs (``torch.compile``, the deprecated
  ``torch.autograd.Variable``) live on the alias, not in abdou_torch's own namespace;
- reads are not cached, so a flag set either way (``torch.backends.cudnn.benchmark = True``
  or on ``abdou_torch.backends.cudnn``) is seen both ways.

Missing PyTorch modules: ``import torch.fft`` succeeds when ``fft`` is one of PyTorch's own
submodules (:data:`PYTORCH_SUBMODULES`), and the first use of anything in it raises
:class:`NotAvailableError` (an ``AttributeError``, so ``hasattr`` stays False) with the
message ``torch.fft.rfft is not available in abdou_torch``. Failing at first use rather than
at import names the exact function, and lets programs that import a module they use only
on some paths (``import torch.distributed as dist`` for multi-GPU runs) work on the others.
A name that is no PyTorch module (``import torch.fooo``) fails at import, as under PyTorch.

``torchvision`` and its submodules are served the same way, from the stand-in package
``abdou_torch.compat.torchvision`` (:data:`ROOTS`), so that a program's torchvision never
imports the real PyTorch.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Callable

__all__ = ["AliasModule", "MissingModule", "NotAvailableError", "install", "uninstall",
           "is_installed", "MODULES", "PYTORCH_SUBMODULES", "EXTRAS"]

ROOT = "torch"
# other top-level names served the same way, and the abdou_torch package behind each
# (torchvision: a stand-in, abdou_torch/compat/torchvision)
ROOTS = {ROOT: "abdou_torch", "torchvision": "abdou_torch.compat.torchvision"}

# torch module -> the abdou_torch modules that provide it, tried in order. Anything not listed
# maps by name: torch.X.Y -> abdou_torch.X.Y.
_NN_MODULES = ("activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv",
               "distance", "dropout", "flatten", "fold", "instancenorm", "lazy", "linear",
               "loss", "module", "normalization", "padding", "pixelshuffle", "pooling", "rnn",
               "sparse", "transformer", "upsampling", "utils")
MODULES: dict[str, tuple[str, ...]] = {
    "torch": ("abdou_torch",),
    # torch.nn.modules.* is one namespace here: every layer is importable from abdou_torch.nn
    "torch.nn.modules": ("abdou_torch.nn",),
    **{f"torch.nn.modules.{name}": ("abdou_torch.nn",) for name in _NN_MODULES},
    "torch.nn.utils.clip_grad": ("abdou_torch.nn.utils",),
    "torch.utils.data": ("abdou_torch.data",),
    "torch.utils.data.dataloader": ("abdou_torch.data.dataloader",),
    "torch.utils.data.dataset": ("abdou_torch.data.dataset",),
    "torch.utils.data.sampler": ("abdou_torch.data.sampler", "abdou_torch.data"),
    "torch.utils.data.distributed": ("abdou_torch.data.distributed",),
    "torch.optim.adamw": ("abdou_torch.optim.adam",),
    "torch.autograd.variable": ("abdou_torch.autograd",),
    "torch.cuda.amp": ("abdou_torch.cuda.amp",),
}

# PyTorch's own submodules: these import as placeholders (failing at first use) where
# abdou_torch has no counterpart. Taken from the module tree of PyTorch 2.13.
PYTORCH_SUBMODULES = frozenset(
    [f"torch.{n}" for n in (
        "accelerator", "amp", "ao", "autograd", "backends", "compiler", "cpu", "cuda",
        "distributed", "distributions", "export", "fft", "func", "functional", "futures", "fx",
        "hub", "jit", "library", "linalg", "masked", "monitor", "mps", "mtia",
        "multiprocessing", "nested", "nn", "onnx", "optim", "overrides", "package", "profiler",
        "quantization", "quasirandom", "random", "return_types", "serialization", "signal",
        "sparse", "special", "storage", "testing", "types", "utils", "version", "xpu")]
    + [f"torch.utils.{n}" for n in (
        "benchmark", "checkpoint", "cpp_extension", "data", "dlpack", "hooks", "mobile_optimizer",
        "model_zoo", "tensorboard", "flop_counter", "module_tracker", "weak")]
    + [f"torch.nn.{n}" for n in (
        "attention", "common_types", "functional", "grad", "init", "intrinsic", "modules",
        "parallel", "parameter", "qat", "quantizable", "quantized", "utils")]
    + [f"torch.nn.utils.{n}" for n in (
        "clip_grad", "convert_parameters", "fusion", "init", "memory_format",
        "parametrizations", "parametrize", "prune", "rnn", "spectral_norm", "stateless",
        "weight_norm")]
    + [f"torch.autograd.{n}" for n in (
        "anomaly_mode", "forward_ad", "function", "functional", "grad_mode", "gradcheck",
        "graph", "profiler", "variable")]
    + [f"torch.optim.{n}" for n in (
        "adadelta", "adagrad", "adam", "adamax", "adamw", "asgd", "lbfgs", "lr_scheduler",
        "nadam", "optimizer", "radam", "rmsprop", "rprop", "sgd", "sparse_adam", "swa_utils")]
    + [f"torch.utils.data.{n}" for n in ("dataloader", "dataset", "distributed", "sampler")]
    + [f"torch.cuda.{n}" for n in ("amp", "graphs", "memory", "nvtx", "random", "streams")]
    + [f"torch.backends.{n}" for n in ("cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps",
                                        "openmp", "opt_einsum")]
    + [f"torch.amp.{n}" for n in ("autocast_mode", "grad_scaler")]
    + [f"torch.nn.modules.{n}" for n in _NN_MODULES]
    + [f"torchvision.{n}" for n in ("io", "ops", "tv_tensors", "extension", "prototype")])


def _variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
    """``torch.autograd.Variable(t, requires_grad=...)``: deprecated since PyTorch 0.4, where
    it returns a new tensor sharing ``t``'s memory (``t`` itself is left as it was)."""
    from ..tensor import Tensor
    return Tensor(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)


def _compile(*args: Any, **kwargs: Any) -> Any:
    from .compile import compile as compile_
    return compile_(*args, **kwargs)


# Names that exist only on the alias (PyTorch programs use them; abdou_torch's own API does not
# need them). They are looked up before the target module.
def _bfloat16() -> Any:
    from .dtypes import bfloat16
    return bfloat16


EXTRAS: dict[str, dict[str, Callable[[], Any]]] = {
    "torch": {"compile": lambda: _compile, "bfloat16": _bfloat16},
    "torch.autograd": {"Variable": lambda: _variable},
    "torch.autograd.variable": {"Variable": lambda: _variable},
}


class NotAvailableError(AttributeError):
    """A PyTorch API that abdou_torch does not have (an AttributeError, so ``hasattr`` and
    ``getattr(..., default)`` keep working)."""


def _not_available(qualified_name: str) -> NotAvailableError:
    return NotAvailableError(f"{qualified_name} is not available in abdou_torch")


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


_MISSING = object()
# what a read on an alias finds on the alias object itself rather than on its target
_ALIAS_ATTRIBUTES = frozenset({"_alias_target", "_forward", "_submodule", "__class__",
                               "__dict__", "__setattr__", "__delattr__", "__dir__",
                               "__repr__", "__init__", "__reduce__", "__reduce_ex__"})


class AliasModule(types.ModuleType):
    """``torch.X``: forwards attribute reads and writes to the abdou_torch module ``target``.

    Only the import system's bookkeeping (dunders) and child alias modules are stored on the
    alias itself; everything else lives in the target, so the two never disagree.
    """

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, getattr(target, "__doc__", None))
        object.__setattr__(self, "_alias_target", target)
        # the alias's own bookkeeping, set before the import system looks for it (it only
        # fills in what reads as None, and a read would otherwise reach the target's):
        # an empty __path__ keeps the real torch package, and files, out of the search
        for key, value in (("__path__", []), ("__package__", name), ("__loader__", None),
                           ("__file__", getattr(target, "__file__", None))):
            object.__setattr__(self, key, value)

    def __getattribute__(self, name: str) -> Any:
        # Not __getattr__: a module's own failed lookup builds an AttributeError with its
        # message first, which made every `torch.xxx` read cost microseconds.
        found = object.__getattribute__(self, "__dict__").get(name, _MISSING)
        if found is not _MISSING:
            return found
        if name.startswith("_") and name in _ALIAS_ATTRIBUTES:
            return object.__getattribute__(self, name)
        return object.__getattribute__(self, "_forward")(name)

    def _forward(self, name: str) -> Any:
        """A read of ``torch.X.name``: an extra, the target's attribute, or a submodule."""
        extra = EXTRAS.get(self.__name__, {}).get(name)
        if extra is not None:
            return extra()
        target = object.__getattribute__(self, "_alias_target")
        try:
            value = getattr(target, name)
        except AttributeError as error:
            if name == "__all__":
                return [n for n in dir(target) if not n.startswith("_")]
            if _is_dunder(name):
                raise
            try:
                return self._submodule(name)
            except NotAvailableError:
                if isinstance(error, NotAvailableError):  # the target's own, better message
                    raise error from None
                raise
        if isinstance(value, types.ModuleType) and value.__name__.startswith("abdou_torch"):
            return self._submodule(name, value)
        return value

    def _submodule(self, name: str, value: types.ModuleType | None = None) -> Any:
        """``torch.X.name`` as an alias module, imported through the finder (so the table
        decides its target), else wrapping ``value``; else the not-available error."""
        full_name = f"{self.__name__}.{name}"
        module = sys.modules.get(full_name)
        if module is None:
            try:
                module = importlib.import_module(full_name)
            except ModuleNotFoundError as error:
                if error.name != full_name:
                    raise
                if value is None:
                    raise _not_available(full_name) from None
                module = sys.modules.setdefault(full_name, AliasModule(full_name, value))
        object.__setattr__(self, name, module)
        return module

    def __setattr__(self, name: str, value: Any) -> None:
        if _is_dunder(name) or isinstance(value, (AliasModule, MissingModule)):
            object.__setattr__(self, name, value)  # import-system bookkeeping stays here
        else:
            setattr(object.__getattribute__(self, "_alias_target"), name, value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            object.__delattr__(self, name)
        else:
            delattr(object.__getattribute__(self, "_alias_target"), name)

    def __dir__(self) -> list[str]:
        target = object.__getattribute__(self, "_alias_target")
        return sorted(set(dir(target)) | set(self.__dict__) | set(EXTRAS.get(self.__name__, ())))

    def __repr__(self) -> str:
        target = object.__getattribute__(self, "_alias_target")
        return f"<module {self.__name__!r} (alias of {target.__name__!r})>"


class MissingModule(types.ModuleType):
    """A PyTorch module abdou_torch does not have: it imports, and every use of it raises
    :class:`NotAvailableError` naming the PyTorch API."""

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        child = f"{self.__name__}.{name}"
        if child in PYTORCH_SUBMODULES:
            return importlib.import_module(child)
        raise _not_available(child)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (not available in abdou_torch)>"


# ------------------------------------------------------------------------------ the finder

def _candidates(torch_name: str) -> tuple[str, ...]:
    if torch_name in MODULES:
        return MODULES[torch_name]
    root = torch_name.partition(".")[0]
    return (ROOTS[root] + torch_name[len(root):],)


def _import_target(torch_name: str) -> types.ModuleType | None:
    """The first importable abdou_torch module behind ``torch_name``, else None."""
    for candidate in _candidates(torch_name):
        try:
            return importlib.import_module(candidate)
        except ModuleNotFoundError as error:
            # only "that module does not exist" means "try the next"; a module that exists
            # but fails to import is a real error and must surface
            if error.name is None or not candidate.startswith(error.name):
                raise
    return None


class _AliasLoader(importlib.abc.Loader):

    def __init__(self, target: types.ModuleType | None) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if self.target is None:
            return MissingModule(spec.name)
        return AliasModule(spec.name, self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the target module is already imported."""


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch`` and ``torch.*`` as aliases of abdou_torch (see the module docstring)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in ROOTS:
            return None
        module = _import_target(fullname)
        if module is None and fullname not in PYTORCH_SUBMODULES:
            # no such PyTorch module: let the import fail as it would under PyTorch (the
            # alias parents' empty __path__ keeps the real torch package out of the search)
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=True)
        spec.submodule_search_locations = []
        return spec


_finder: TorchAliasFinder | None = None


def install() -> None:
    """Make ``import torch`` resolve to abdou_torch in this process (idempotent).

    Raises RuntimeError if a real ``torch`` is already imported here: its modules and ours
    would then be mixed in one program.
    """
    global _finder
    if _finder is not None:
        return
    loaded = sys.modules.get(ROOT)
    if loaded is not None and not isinstance(loaded, AliasModule):
        raise RuntimeError("the torch alias cannot be installed: the real torch package is "
                           "already imported in this process")
    _finder = TorchAliasFinder()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the finder and every alias module (``import torch`` then finds the real one)."""
    global _finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None
    for name in [n for n in sys.modules if n.partition(".")[0] in ROOTS]:
        if isinstance(sys.modules[name], (AliasModule, MissingModule)):
            del sys.modules[name]


def is_installed() -> bool:
    return _finder is not None
