"""``abdou-torch launch``: start a script as N ranks over MPI, as torchrun would.

    abdou-torch launch --nproc 4 train.py --epochs 3
    abdou-torch launch --nproc 8 --hostfile hosts.txt train.py
    abdou-torch launch --nproc 2 -m abdou_torch train mnist

It runs ``mpiexec -n N python -m abdou_torch.distributed.run SCRIPT ARGS`` (the MPI found
next to this Python first, as the ``mpich`` wheel installs it, then on PATH). Each rank
then has torchrun's variables ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``, and one BLAS thread unless
``--threads`` says otherwise: N ranks each running as many BLAS threads as there are cores
would oversubscribe the machine N times over.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from typing import Sequence

__all__ = ["main", "build_parser", "find_mpiexec", "mpiexec_command", "launched_by_mpi",
           "run_job"]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Variables an MPI launcher sets in each process it starts (MPICH/Intel MPI, Open MPI, PMIx)
_MPI_LAUNCH_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")


def launched_by_mpi() -> bool:
    """True in a process started by an MPI launcher (or by ``abdou-torch launch``)."""
    return any(name in os.environ for name in _MPI_LAUNCH_VARIABLES)


def find_mpiexec(explicit: str | None = None) -> str:
    """The mpiexec to use: ``explicit``, else the one beside this Python, else PATH's."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise FileNotFoundError(f"--mpiexec {explicit}: no such program")
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise FileNotFoundError(
            "no mpiexec found: install MPI with pip install 'abdou_torch[mpi]' (the MPICH "
            "wheel), put your MPI's mpiexec on PATH, or pass --mpiexec PATH")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in version or "OpenRTE" in version or "PRRTE" in version


def _rank_environment(threads: int, open_mpi: bool) -> dict[str, str]:
    """The variables every rank gets on top of the launcher's environment."""
    values = {name: str(threads) for name in _THREAD_VARIABLES}
    if open_mpi and hasattr(os, "geteuid") and os.geteuid() == 0:
        values.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return values


def mpiexec_command(nproc: int, target: Sequence[str], hostfile: str | None = None,
                    mpiexec: str | None = None, threads: int = 1,
                    module: bool = False) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start ``target`` (script and arguments, or
    with ``module`` a module name and arguments) as ``nproc`` ranks."""
    program = find_mpiexec(mpiexec)
    open_mpi = _is_open_mpi(program)
    extra = _rank_environment(threads, open_mpi)
    command = [program, "-n", str(nproc)]
    if hostfile is not None:
        if not os.path.isfile(hostfile):
            raise FileNotFoundError(f"--hostfile {hostfile}: no such file")
        command += ["--hostfile" if open_mpi else "-f", hostfile]
    if open_mpi:  # Open MPI passes only named variables to remote hosts
        for name in extra:
            command += ["-x", name]
    command += [sys.executable, "-m", "abdou_torch.distributed.run"]
    command += (["-m"] if module else []) + list(target)
    return command, dict(os.environ, **extra)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The launcher's options (shared by ``abdou-torch launch`` and this module's main)."""
    parser.add_argument("--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                        type=_positive_int, required=True, metavar="N",
                        help="number of ranks (processes) to start")
    parser.add_argument("--hostfile", default=None, metavar="FILE",
                        help="MPI host file, to spread the ranks over several machines")
    parser.add_argument("--mpiexec", default=None, metavar="PATH",
                        help="the MPI launcher to use (default: beside this Python, else PATH)")
    parser.add_argument("--threads", type=_positive_int, default=1, metavar="T",
                        help="BLAS/OpenMP threads per rank (default 1)")
    parser.add_argument("-m", "--module", action="store_true",
                        help="run SCRIPT as a module name, as python -m does")
    parser.add_argument("script", metavar="SCRIPT", help="the script (or module) to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def build_parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(
        prog="abdou-torch launch", description="Start a script as N ranks over MPI."))


def run_job(command: Sequence[str], environment: dict[str, str]) -> int:
    """Run ``command`` (an mpiexec line) and return its exit status. It runs in a session of
    its own, so a Ctrl-C at the terminal reaches this process alone, which passes SIGINT
    and SIGTERM on to mpiexec once (mpiexec passes them to every rank; a second Ctrl-C
    would make it kill the ranks at once, before they can save anything)."""
    process = subprocess.Popen(list(command), env=environment, start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        process.send_signal(signum)
    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    """Start the job described by parsed ``args`` and return its exit status."""
    command, environment = mpiexec_command(args.nproc, [args.script] + list(args.args),
                                           args.hostfile, args.mpiexec, args.threads,
                                           args.module)
    return run_job(command, environment)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(build_parser().parse_args(argv))
    except FileNotFoundError as error:
        print(f"abdou-torch launch: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
