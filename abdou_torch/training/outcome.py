"""How a command-line training run ends: each way it can stop becomes one line on stderr
and an exit status (the classifier recipes and the language model share this)."""
from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import load_training_checkpoint
from .nan_guard import NonFiniteError
from .run_dir import RunDirectoryError
from .signals import Interrupted, exit_code

__all__ = ["error", "last_checkpoint", "fit"]


def error(message: str) -> None:
    """One line on stderr, as argparse words its errors."""
    print(f"abdou-torch: error: {' '.join(message.split())}", file=sys.stderr)


def last_checkpoint(path: Any) -> str:
    """Where the run can be picked up again, in words."""
    try:
        step = load_training_checkpoint(path)["progress"]["step"]
    except (OSError, ValueError):
        return "No checkpoint was saved (--checkpoint-every N saves one every N steps)"
    return f"The last good checkpoint, {path} (step {step}), is intact"


def fit(run: Any, resume_command: str) -> tuple[dict | None, int]:
    """``run.fit()``, and the exit status: 0 with the metrics, or None after saying why it
    stopped (Ctrl-C or SIGTERM: 128 + N, with the resume command; a diverging run or a run
    directory that cannot be written: 1, with what is left to resume from)."""
    checkpoint = Path(run.checkpoint_path)
    try:
        # a diverging run overflows before the NaN guard stops it: say it once, clearly
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return run.fit(), 0
    except Interrupted as stop:
        print(f"\ninterrupted by {signal.Signals(stop.signum).name}: checkpoint saved to "
              f"{checkpoint}\nresume with: {resume_command}", file=sys.stderr)
        return None, exit_code(stop.signum)
    except NonFiniteError as problem:
        error(f"{problem}. {last_checkpoint(checkpoint)}; start over with a lower --lr (and "
              f"--overwrite)")
        return None, 1
    except RunDirectoryError as problem:
        resume = "; then resume with: " + resume_command if checkpoint.exists() else ""
        error(f"{problem}. {last_checkpoint(checkpoint)}{resume}")
        return None, 1
