"""Helpers for the compatibility tests: run a program under Python and under `abdou-torch run`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "abdou-torch"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)  # the checkout under test, also in a fresh clone
    env.setdefault("OMP_NUM_THREADS", "1")  # two processes per test on a shared machine
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONSAFEPATH", None)
    return env


def run(command: list[str], cwd: Path, timeout: float = 120,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_environment(), input=stdin)


def python(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """``python ARGS``: the program as PyTorch runs it."""
    return run([sys.executable, *args], cwd, **kwargs)


def abdou_run(args: list[str], cwd: Path, console_script: bool = False,
              **kwargs) -> subprocess.CompletedProcess:
    """``abdou-torch run ARGS`` (or ``python -m abdou_torch run ARGS``)."""
    prefix = [str(CONSOLE_SCRIPT)] if console_script else [sys.executable, "-m", "abdou_torch"]
    return run([*prefix, "run", *args], cwd, **kwargs)


@pytest.fixture
def program(tmp_path):
    """``program("name.py", source)`` writes a file under tmp_path and returns its path."""
    def write(name: str, source: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return path
    return write
