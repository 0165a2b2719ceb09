"""abdou-torch launch: torchrun's variables on every rank, one BLAS thread per rank, the
script's arguments untouched, and the job's exit status."""
import json
import socket
import sys
from pathlib import Path

import pytest

WORKERS = Path(__file__).parent / "workers"


def launch(run_command, *args, timeout=120):
    return run_command([sys.executable, "-m", "abdou_torch", "launch", *map(str, args)],
                       timeout=timeout)


def _ranks(out):
    return [json.loads(path.read_text()) for path in sorted(out.glob("env-*.json"))]


def test_every_rank_gets_torchruns_variables_and_one_blas_thread(run_command, tmp_path):
    result = launch(run_command, "--nproc", "2", WORKERS / "show_environment.py", tmp_path,
                    "a", "--epochs", "3")
    assert result.returncode == 0, result
    ranks = _ranks(tmp_path)
    assert len(ranks) == 2
    for rank, facts in enumerate(ranks):
        env = facts["env"]
        assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"], env["LOCAL_WORLD_SIZE"]) \
            == (str(rank), "2", str(rank), "2")
        assert env["MASTER_ADDR"] == socket.gethostname() and env["MASTER_PORT"] == "29500"
        assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
        assert facts["blas_threads"] in ([1], [])
        assert facts["argv"][1:] == [str(tmp_path), "a", "--epochs", "3"]
        assert facts["name"] == "__main__"


def test_threads_option_and_module_mode(run_command, tmp_path):
    result = launch(run_command, "--nproc", "2", "--threads", "2", "-m", "json.tool",
                    WORKERS / "../../../pyproject.toml")  # not JSON: json.tool fails
    assert result.returncode == 1  # on both ranks together: no abort needed
    assert result.stderr.count("Expecting value") == 2
    shown = launch(run_command, "--nproc", "1", "--threads", "2",
                   WORKERS / "show_environment.py", tmp_path)
    assert shown.returncode == 0, shown
    assert _ranks(tmp_path)[0]["env"]["OMP_NUM_THREADS"] == "2"


def test_a_rank_exiting_with_an_error_status_aborts_the_job(run_command):
    result = launch(run_command, "--nproc", "2", WORKERS / "faults_worker.py", "exit_status",
                    timeout=90)
    assert result.returncode == 4, result
    assert "[rank 1/2] abdou_torch.distributed: rank 1 exited with status 4; aborting all 2 " \
           "ranks" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--nproc", "2", "--hostfile", "/no/such/hosts", "x.py"], "--hostfile /no/such/hosts: "
                                                              "no such file"),
    (["--nproc", "2", "--mpiexec", "/no/such/mpiexec", "x.py"], "--mpiexec /no/such/mpiexec: "
                                                                "no such program"),
    (["--nproc", "0", "x.py"], "expected a positive integer, got 0")])
def test_bad_options_are_one_line_errors(run_command, args, message):
    result = launch(run_command, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_ranks_exiting_together_with_an_error_status_are_not_aborted(run_command, tmp_path):
    script = tmp_path / "both_fail.py"
    script.write_text("import sys\nprint('stopping', flush=True)\nsys.exit(3)\n")
    result = launch(run_command, "--nproc", "2", script)
    assert result.returncode == 3, result
    assert result.stdout.count("stopping") == 2 and "aborting" not in result.stderr
