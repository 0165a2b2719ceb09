"""Multi-process tests: each runs a worker script as 2 MPI ranks (``mpiexec -n 2``), with
one BLAS thread per rank and a time limit after which the whole job is killed, so that a
failure can never hang the suite."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

WORKERS = Path(__file__).parent / "workers"


class RankResult:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self) -> str:
        return (f"exit status {self.returncode}\n--- stdout ---\n{self.stdout[-3000:]}\n"
                f"--- stderr ---\n{self.stderr[-3000:]}")


def run_job(command, env=None, timeout=120.0, cwd=None) -> RankResult:
    """Run ``command`` in its own session; past ``timeout`` kill the session (mpiexec and
    every rank) and fail."""
    environment = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PMI_SIZE", "PMI_RANK",
                 "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"):
        environment.pop(name, None)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environment, cwd=cwd, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{command} did not finish within {timeout} s (killed)\n"
                    f"{RankResult(None, stdout, stderr)!r}")
    return RankResult(process.returncode, stdout, stderr)


def mpi_command(script, *args, nproc=2):
    from abdou_torch.distributed.launch import find_mpiexec
    return [find_mpiexec(), "-n", str(nproc), sys.executable, str(script), *map(str, args)]


@pytest.fixture(scope="session")
def mpirun():
    """``mpirun(worker_name, *args, nproc=2, timeout=120)``: run tests/distributed/workers/
    worker_name under mpiexec and return its RankResult."""
    import mpi4py  # noqa: F401 - fail loudly here if the 'mpi' extra is missing

    def run(worker, *args, nproc=2, timeout=120.0, env=None):
        return run_job(mpi_command(WORKERS / worker, *args, nproc=nproc), env=env,
                       timeout=timeout)
    return run


@pytest.fixture(scope="session")
def run_command():
    """``run_command(command, timeout=120, env=None, cwd=None)``: run_job as a fixture."""
    return run_job
