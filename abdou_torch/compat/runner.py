"""``abdou-torch run``: run a PyTorch program unchanged, with ``torch`` resolving to abdou_torch.

::

    abdou-torch run train.py --epochs 3      # as `python train.py --epochs 3`
    abdou-torch run -m examples.mnist        # as `python -m examples.mnist`
    abdou-torch run -c "import torch; print(torch.ones(2))"

The program runs in this process as ``__main__``, as Python itself would run it: its
``sys.argv``, its directory first on ``sys.path`` (the current directory for ``-m``), its
``__file__``, relative paths from the current directory, ``if __name__ == "__main__"``.
Before it starts, :func:`abdou_torch.compat.alias.install` makes ``import torch`` (and every
``torch.*`` module) give abdou_torch, in this process only.

Endings are Python's: ``sys.exit(...)`` passes through; an uncaught exception prints its
traceback, starting at the program's own frames (the runner's are left out), and exits
with status 1; an uncaught KeyboardInterrupt ends the process by SIGINT after the exit
handlers ran, as CPython does.
"""
from __future__ import annotations

import ast
import atexit
import builtins
import importlib.machinery
import importlib.util
import io
import os
import signal
import sys
import types
from importlib.abc import InspectLoader
from typing import Any, Sequence, cast

from . import alias, data_attribute
from .data_attribute import compile_program, install_program_importer

__all__ = ["main", "run_path", "run_module", "run_code"]

USAGE = """\
usage: abdou-torch run SCRIPT [ARGS ...]
       abdou-torch run -m MODULE [ARGS ...]
       abdou-torch run -c CODE [ARGS ...]

Run a PyTorch program with `import torch` resolving to abdou_torch (this process only):
everything after SCRIPT, MODULE or CODE is the program's own sys.argv[1:].
"""

# the module that was __main__ before the program's: kept alive, because the frame that
# called us still runs in its namespace
_previous_main: list[types.ModuleType] = []


def main(argv: Sequence[str]) -> int:
    """Entry point of the subcommand; returns the exit status (SystemExit passes through)."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ("-m", "-c"):
        if len(argv) < 2:
            print(f"abdou-torch run: error: argument {argv[0]} expects a value\n{USAGE}",
                  end="", file=sys.stderr)
            return 2
        return run_module(argv[1], argv[2:]) if argv[0] == "-m" else run_code(argv[1],
                                                                               argv[2:])
    return run_path(argv[0], argv[1:])


def run_path(path: str, args: Sequence[str] = ()) -> int:
    """Run the script at ``path`` as ``python path *args`` would."""
    absolute = os.path.abspath(path)
    try:
        with io.open_code(absolute) as handle:
            source = handle.read()
    except OSError as error:
        print(f"abdou-torch run: can't open file {absolute!r}: [Errno {error.errno}] "
              f"{error.strerror}", file=sys.stderr)
        return 2
    _set_path_entry(os.path.dirname(absolute))
    sys.argv[:] = [path, *args]
    module = _new_main(__file__=absolute, __cached__=None, __package__=None, __spec__=None,
                       __loader__=importlib.machinery.SourceFileLoader("__main__", absolute))
    alias.install()
    install_program_importer(os.path.dirname(absolute))
    return _execute(lambda: compile_program(source, absolute), module)


def run_module(name: str, args: Sequence[str] = ()) -> int:
    """Run the module ``name`` (a package: its ``__main__``) as ``python -m name *args``."""
    _set_path_entry(os.getcwd())
    alias.install()  # finding the module imports its packages, which may import torch
    install_program_importer(os.getcwd())
    try:
        spec = _main_spec(name)
    except ImportError as error:
        print(f"abdou-torch run: {error}", file=sys.stderr)
        return 1
    sys.argv[:] = [spec.origin or name, *args]
    module = _new_main(__file__=spec.origin, __cached__=spec.cached, __package__=spec.parent,
                       __spec__=spec, __loader__=spec.loader)
    loader = cast(InspectLoader, spec.loader)  # _main_spec checked that it has get_code
    return _execute(lambda: _module_code(loader, spec), module)


def run_code(code: str, args: Sequence[str] = ()) -> int:
    """Run the program text ``code`` as ``python -c code *args``."""
    _set_path_entry("")
    sys.argv[:] = ["-c", *args]
    module = _new_main(__package__=None, __spec__=None, __loader__=None)
    alias.install()
    install_program_importer(os.getcwd())
    return _execute(lambda: compile_program(code, "<string>"), module)


# ------------------------------------------------------------------------------ internals

def _set_path_entry(entry: str) -> None:
    """Put the program's entry where Python puts it, in place of the runner's own (the
    directory of the ``abdou-torch`` script, or the current one for ``python -m``)."""
    if sys.flags.safe_path:  # python -P / PYTHONSAFEPATH: Python adds no such entry
        return
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.append(entry)


def _main_spec(name: str) -> importlib.machinery.ModuleSpec:
    """The spec of the module ``python -m name`` runs, with Python's error messages."""
    if name.startswith("."):
        raise ImportError("Relative module names not supported")
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, AttributeError, TypeError, ValueError) as error:
        raise ImportError(f"Error while finding module specification for {name!r} "
                          f"({type(error).__name__}: {error})") from error
    if spec is None:
        raise ImportError(f"No module named {name}")
    if spec.submodule_search_locations is not None:
        if name == "__main__" or name.endswith(".__main__"):
            raise ImportError("Cannot use package as __main__ module")
        try:
            return _main_spec(name + ".__main__")
        except ImportError as error:
            raise ImportError(f"{error}; {name!r} is a package and cannot be directly "
                              f"executed") from None
    if spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise ImportError(f"No code object available for {name}")
    return spec


def _module_code(loader: InspectLoader, spec: importlib.machinery.ModuleSpec) -> types.CodeType:
    """The code of ``python -m``'s module: compiled from its source like the program's
    other modules (PyTorch's ``.data``), or the loader's own code where there is no source."""
    source = loader.get_source(spec.name) if spec.has_location else None
    if source is None or spec.origin is None:
        code = loader.get_code(spec.name)
        assert code is not None  # _main_spec checked it
        return code
    return compile_program(source, spec.origin)


def _new_main(**attributes: Any) -> types.ModuleType:
    """A fresh ``__main__`` module, installed in ``sys.modules`` for good (as Python's own)."""
    module = types.ModuleType("__main__")
    module.__dict__.update(attributes)
    module.__dict__["__builtins__"] = builtins  # the same as setting the attribute
    previous = sys.modules.get("__main__")
    if previous is not None:
        _previous_main.append(previous)
    sys.modules["__main__"] = module
    return module


def _execute(load_code, module: types.ModuleType) -> int:
    """Compile and run the program in ``module``; report an uncaught exception as Python
    does (a compile error too: it is the program's, not ours)."""
    try:
        code = load_code()
        _run_program(code, module.__dict__)
    except SystemExit:
        raise
    except BaseException as error:  # noqa: B902 - everything the program lets escape
        _report(error)
        if isinstance(error, KeyboardInterrupt):
            _exit_like_sigint()
        return 1
    return 0


def _run_program(code: types.CodeType, namespace: dict) -> None:
    """The frame tracebacks are cut below: everything under it is the program's."""
    exec(code, namespace)


def _program_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the runner's frames: from the frame after :func:`_run_program`
    (unchanged if the program never started, e.g. a syntax error)."""
    entry = tb
    while entry is not None:
        if entry.tb_frame.f_code is _run_program.__code__:
            return entry.tb_next
        entry = entry.tb_next
    return _without_runner_frames(tb)


def _without_runner_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Leading frames of the runner and command line dropped (errors raised while loading
    the code, such as a SyntaxError, carry their location in the exception itself)."""
    ours = {os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "cli.py"), os.path.abspath(data_attribute.__file__),
        os.path.abspath(ast.__file__)}  # compile_program parses the program with ast
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in ours:
        tb = tb.tb_next
    return tb


def _without_alias_frames(tb: types.TracebackType | None, error: BaseException
                          ) -> types.TracebackType | None:
    """A missing PyTorch name is raised inside the alias module: end the traceback at the
    program's line that used the name."""
    if not isinstance(error, alias.NotAvailableError):
        return tb
    alias_file = os.path.abspath(alias.__file__)
    last_outside = None
    entry = tb
    while entry is not None:
        if os.path.abspath(entry.tb_frame.f_code.co_filename) == alias_file:
            break
        last_outside, entry = entry, entry.tb_next
    if last_outside is not None and entry is not None:
        last_outside.tb_next = None
    return tb


def _report(error: BaseException) -> None:
    """Print the traceback through ``sys.excepthook`` (the program may have set its own)."""
    _note_missing_torch_name(error)
    _note_missing_method(error)
    tb = _without_alias_frames(_program_traceback(error.__traceback__), error)
    error.__traceback__ = tb
    try:
        sys.excepthook(type(error), error, tb)
    except Exception:  # a broken hook: Python then falls back to the default printer
        sys.__excepthook__(type(error), error, tb)
    sys.stderr.flush()


def _note_missing_torch_name(error: BaseException) -> None:
    """``from torch.fft import rfft``: Python's ImportError loses the alias's message; say
    which PyTorch API is missing in a note under it."""
    module = getattr(error, "name", None)
    if not isinstance(error, ImportError) or not isinstance(module, str) \
            or not module.startswith("torch"):
        return
    message = str(error)
    prefix = "cannot import name '"
    if message.startswith(prefix) and hasattr(error, "add_note"):
        name = message[len(prefix):].split("'", 1)[0]
        error.add_note(f"{module}.{name} is not available in abdou_torch")


# PyTorch's public nn.Module methods (2.13): a missing one is a gap here, not a typo
_MODULE_METHODS = frozenset((
    "add_module", "apply", "bfloat16", "buffers", "children", "compile", "cpu", "cuda",
    "double", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
    "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia",
    "named_buffers", "named_children", "named_modules", "named_parameters", "parameters",
    "register_backward_hook", "register_buffer", "register_forward_hook",
    "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty",
    "train", "type", "xpu", "zero_grad"))


def _note_missing_method(error: BaseException) -> None:
    """``x.stft(...)`` on a Tensor, ``model.to_empty()`` on a Module: name the PyTorch
    method in a note (a note costs nothing until a program fails; a ``Tensor.__getattr__``
    would slow every attribute read of every tensor)."""
    if not isinstance(error, AttributeError) or not hasattr(error, "add_note"):
        return
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    owner, name = getattr(error, "obj", None), getattr(error, "name", None)
    if frames and frames[-1].f_code.co_name == "__getattr__" \
            and _in_library(frames[-1].f_code.co_filename):
        # raised in a library __getattr__ (Module's): the access is in the frame before
        if owner is None:
            owner, name = frames[-1].f_locals.get("self"), frames[-1].f_locals.get("name")
        frames.pop()
    if not frames or _in_library(frames[-1].f_code.co_filename):
        return  # the library's own code tripped: not a PyTorch API the program asked for
    if not isinstance(name, str) or name.startswith("_"):
        return
    from ..nn.module import Module
    from ..tensor import Tensor
    if isinstance(owner, Tensor):
        error.add_note(f"torch.Tensor.{name} is not available in abdou_torch")
    elif isinstance(owner, Module) and name in _MODULE_METHODS:
        error.add_note(f"torch.nn.Module.{name} is not available in abdou_torch")


_LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _in_library(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_LIBRARY_DIR + os.sep)


def _exit_like_sigint() -> None:
    """End the process as CPython does after an uncaught KeyboardInterrupt: exit handlers
    first, then death by SIGINT, so that the parent (a shell, make) sees the interruption."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: S110 - a closed stream is no reason not to exit
            pass
    if hasattr(signal, "SIGINT") and hasattr(os, "kill"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(130)  # no signals on this platform: the shell's code for SIGINT
