"""PyTorch programs in the style learners meet, run unchanged both ways.

Each program in ``programs/`` runs once under the real PyTorch (``python program.py``) and
once through ``abdou-torch run program.py``, in subprocesses, and the two outputs are
compared:

- ``test_program_learns``: both finish, and the losses each prints go down;
- ``test_program_matches_pytorch``: the outputs agree line by line, text equal and numbers
  within the program's tolerance. Programs whose numbers depend on PyTorch's random streams
  (default initialisation, shuffling, dropout, sampling) can only agree once abdou_torch's
  seeded streams are PyTorch's; the others set their weights and data from NumPy.

A program that needs a PyTorch API abdou_torch does not have yet is marked
``xfail(strict=True)`` with that API as the reason: the test starts failing (XPASS) the
day the API lands, and the mark must then go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from .conftest import abdou_run, python

PROGRAMS_DIR = Path(__file__).parent / "programs"
RANDOM_STREAMS = "PyTorch-identical seeded random streams (default init, shuffling, dropout)"


@dataclass(frozen=True)
class Program:
    args: tuple[str, ...] = ()
    losses: str = r"loss:? ([-\d.e]+)"  # the printed losses, in order
    needs: tuple[str, ...] = ()          # missing APIs: the program cannot run here yet
    output_needs: tuple[str, ...] = ()   # it runs, but prints differently until these land
    rtol: float = 1e-4
    atol: float = 1e-6
    percent_atol: float = 0.0  # for numbers printed with a % sign (accuracies)
    extra: dict = field(default_factory=dict)


PROGRAMS = {
    "bigram_lecture": Program(losses=r"step \d+ loss ([\d.]+)"),
    "mlp_char_lecture": Program(losses=r"^\s*\d+/\s*\d+: ([\d.]+)"),
    "mnist_style": Program(
        args=("--epochs", "2", "--save-model"), losses=r"Loss: ([\d.]+)"),
    "cnn_bars": Program(  # PyTorch on 1 and on 2 threads differs by 0.8 points of accuracy
        losses=r"loss ([\d.]+)", percent_atol=3.2),  # (near-tie test images flip)
    "tutorial_basics": Program(losses=r"loss: ([\d.]+)"),
    "device_regression": Program(losses=r"loss ([\d.]+)"),
    "autograd_polynomial": Program(
        losses=r"^\d+ ([\d.]+)$", rtol=2e-3, atol=5e-3),  # RMSprop amplifies rounding
    "tensorboard_logging": Program(args=("tb_run",), losses=r"loss ([\d.]+)"),
    "dcgan_init": Program(losses=r"Loss_D: ([\d.]+)"),
    "word_language_model": Program(losses=r"train loss\s+([\d.]+)"),
    "bandit_reinforce": Program(  # numbers printed to 4 decimals
        losses=r"^step \d+ loss ([-\d.]+)", rtol=1e-3, atol=1e-4),
    "vae_gaussian": Program(losses=r"^epoch \d+ loss ([\d.]+)", rtol=1e-3, atol=1e-4),
    "upsampling_segmenter": Program(losses=r"loss ([\d.]+)"),
}

_runs: dict[tuple[str, str], object] = {}


def run_program(name: str, side: str, tmp_path_factory) -> object:
    """Run (once per test process) program ``name`` under ``side`` ('torch' or 'abdou')."""
    key = (name, side)
    if key not in _runs:
        cwd = tmp_path_factory.mktemp(f"{name}-{side}")
        script = str(PROGRAMS_DIR / f"{name}.py")
        args = [script, *PROGRAMS[name].args]
        _runs[key] = (python(args, cwd) if side == "torch" else abdou_run(args, cwd), cwd)
    return _runs[key]


def marks(name: str, check: str) -> list:
    program = PROGRAMS[name]
    reasons = list(program.needs)
    if check == "matches":
        reasons += program.output_needs
    if not reasons:
        return []
    return [pytest.mark.xfail(strict=True, reason="needs " + "; ".join(reasons))]


def losses(output: str, pattern: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(pattern, output, re.MULTILINE)]


@pytest.mark.parametrize("name", [pytest.param(n, marks=marks(n, "learns")) for n in PROGRAMS])
def test_program_learns(name, tmp_path_factory):
    (theirs, _), (ours, _) = (run_program(name, side, tmp_path_factory)
                              for side in ("torch", "abdou"))
    assert theirs.returncode == 0, f"the program fails under PyTorch:\n{theirs.stderr}"
    assert ours.returncode == 0, f"abdou-torch run failed:\n{ours.stderr[-3000:]}"
    for output in (theirs.stdout, ours.stdout):
        values = losses(output, PROGRAMS[name].losses)
        assert len(values) >= 2 and values[-1] < values[0], (name, values)


NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
PERCENT = re.compile(r"(-?\d+(?:\.\d*)?)%")


def assert_same_output(ours: str, theirs: str, rtol: float, atol: float,
                       percent_atol: float = 0.0) -> None:
    """Line by line: the text between numbers equal, the numbers close (percentages within
    ``percent_atol`` points when it is given)."""
    if percent_atol:
        np.testing.assert_allclose([float(x) for x in PERCENT.findall(ours)],
                                   [float(x) for x in PERCENT.findall(theirs)],
                                   rtol=0, atol=percent_atol, err_msg="percentages")
        ours, theirs = PERCENT.sub("%", ours), PERCENT.sub("%", theirs)
    our_lines, their_lines = ours.splitlines(), theirs.splitlines()
    assert len(our_lines) == len(their_lines), (ours, theirs)
    for index, (mine, reference) in enumerate(zip(our_lines, their_lines)):
        where = f"line {index + 1}:\n  ours:   {mine}\n  theirs: {reference}"
        assert NUMBER.split(mine) == NUMBER.split(reference), where
        np.testing.assert_allclose([float(x) for x in NUMBER.findall(mine)],
                                   [float(x) for x in NUMBER.findall(reference)],
                                   rtol=rtol, atol=atol, err_msg=where)


@pytest.mark.parametrize("name", [pytest.param(n, marks=marks(n, "matches"))
                                  for n in PROGRAMS])
def test_program_matches_pytorch(name, tmp_path_factory):
    (theirs, _), (ours, _) = (run_program(name, side, tmp_path_factory)
                              for side in ("torch", "abdou"))
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr[-3000:]
    program = PROGRAMS[name]
    assert_same_output(ours.stdout, theirs.stdout, program.rtol, program.atol,
                       program.percent_atol)


def test_tensorboard_program_writes_the_same_events(tmp_path_factory):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    scalars = []
    for side in ("torch", "abdou"):
        result, cwd = run_program("tensorboard_logging", side, tmp_path_factory)
        assert result.returncode == 0, result.stderr
        events = accumulator.EventAccumulator(str(cwd / "tb_run"))
        events.Reload()
        assert sorted(events.Tags()["scalars"]) == ["Loss/train", "weight/0"]
        scalars.append({tag: [(e.step, e.value) for e in events.Scalars(tag)]
                        for tag in ("Loss/train", "weight/0")})
    theirs, ours = scalars
    for tag in theirs:
        assert [s for s, _ in ours[tag]] == [s for s, _ in theirs[tag]] == list(range(20))
        np.testing.assert_allclose([v for _, v in ours[tag]], [v for _, v in theirs[tag]],
                                   rtol=1e-5, atol=1e-7)
