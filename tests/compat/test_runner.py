"""``abdou-torch run`` runs a program exactly as ``python`` does: each test runs the same
program both ways (in subprocesses) and compares what they print and how they end."""
from __future__ import annotations

import os
import signal
import textwrap

import pytest

from .conftest import abdou_run, python

ENVIRONMENT_PROBE = textwrap.dedent('''\
    import os, sys
    import helper  # a sibling module: the script's directory must be first on sys.path
    print("argv", sys.argv)
    print("path0", sys.path[0])
    print("file", __file__, "name", __name__, "spec", __spec__, "package", __package__)
    print("cwd file", open("data.txt").read().strip())  # relative paths: from the cwd
    print("main is me", sys.modules["__main__"].__dict__ is globals())
    import pickle
    class Point:
        pass
    print("pickled", type(pickle.loads(pickle.dumps(Point()))).__name__)
    if __name__ == "__main__":
        print("guarded block ran")
''')


@pytest.fixture
def probe(program, tmp_path):
    program("scripts/helper.py", "VALUE = 1\n")
    (tmp_path / "data.txt").write_text("from the cwd\n")
    return program("scripts/probe.py", ENVIRONMENT_PROBE)


@pytest.mark.parametrize("console_script", [False, True], ids=["python -m", "abdou-torch"])
def test_script_sees_the_environment_python_gives_it(tmp_path, probe, console_script):
    args = ["scripts/probe.py", "first", "--flag", "-m", "x"]
    expected = python(args, tmp_path)
    got = abdou_run(args, tmp_path, console_script=console_script)
    assert expected.returncode == 0, expected.stderr
    assert (got.returncode, got.stdout, got.stderr) == (0, expected.stdout, expected.stderr)


def test_dash_m_runs_a_module_and_a_package_as_python_does(program, tmp_path):
    program("pkg/__init__.py", "")
    program("pkg/__main__.py", "import sys\nprint('package main', __name__, __package__, "
                               "sys.argv[1:])\n")
    program("pkg/tool.py", textwrap.dedent('''\
        import os, sys
        print("tool", __name__, __package__, __spec__.name, sys.argv)
        print("path0 is cwd", sys.path[0] == os.getcwd())
        from . import __name__ as parent
        print("relative import of", parent)
    '''))
    for args in (["-m", "pkg.tool", "a", "-b"], ["-m", "pkg", "c"]):
        expected = python(args, tmp_path)
        got = abdou_run(args, tmp_path)
        assert expected.returncode == 0, expected.stderr
        assert (got.returncode, got.stdout) == (0, expected.stdout)


def test_missing_module_fails_with_status_one(tmp_path):
    got = abdou_run(["-m", "no_such_module_here"], tmp_path)
    assert got.returncode == python(["-m", "no_such_module_here"], tmp_path).returncode == 1
    assert "No module named no_such_module_here" in got.stderr


def test_missing_script_fails_with_status_two(tmp_path):
    got = abdou_run(["missing.py"], tmp_path)
    assert got.returncode == python(["missing.py"], tmp_path).returncode == 2
    assert "can't open file" in got.stderr and "missing.py" in got.stderr


@pytest.mark.parametrize("ending, source", [
    ("exit code", "import sys\nprint('before')\nsys.exit(3)\n"),
    ("exit message", "import sys\nsys.exit('fatal: no data')\n"),
    ("exit none", "raise SystemExit\n"),
    ("uncaught", textwrap.dedent('''\
        import atexit
        atexit.register(lambda: print("exit handler ran"))
        def load(path):
            raise ValueError(f"bad file {path}")
        def main():
            load("x.csv")
        main()
    ''')),
    ("chained", textwrap.dedent('''\
        try:
            {}["missing"]
        except KeyError as error:
            raise RuntimeError("lookup failed") from error
    ''')),
    ("syntax error", "print('never')\ndef broken(:\n    pass\n"),
    ("custom excepthook", textwrap.dedent('''\
        import sys
        def hook(kind, value, tb):
            frames = []
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            print("hook saw", kind.__name__, value, frames)
        sys.excepthook = hook
        def f():
            1 / 0
        f()
    ''')),
])
def test_endings_and_tracebacks_match_python(program, tmp_path, ending, source):
    script = program("ending.py", source)
    expected = python([str(script)], tmp_path)
    got = abdou_run([str(script)], tmp_path)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)


@pytest.mark.skipif(os.name != "posix", reason="exit by signal is POSIX")
def test_keyboard_interrupt_ends_by_sigint_after_exit_handlers(program, tmp_path):
    script = program("interrupted.py", textwrap.dedent('''\
        import atexit
        atexit.register(lambda: print("exit handler ran", flush=True))
        def train():
            raise KeyboardInterrupt
        train()
    '''))
    expected = python([str(script)], tmp_path)
    got = abdou_run([str(script)], tmp_path)
    assert expected.returncode == -signal.SIGINT
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)


def test_dash_c_runs_code_with_arguments(tmp_path):
    code = "import sys; print(sys.argv, sys.path[0] == '', __name__)"
    expected = python(["-c", code, "x", "--y"], tmp_path)
    assert abdou_run(["-c", code, "x", "--y"], tmp_path).stdout == expected.stdout


def test_usage(tmp_path):
    shown = abdou_run(["--help"], tmp_path)
    assert shown.returncode == 0 and "abdou-torch run -m MODULE" in shown.stdout
    assert abdou_run([], tmp_path).returncode == 2
    assert abdou_run(["-m"], tmp_path).returncode == 2


def test_the_program_gets_abdou_torch_and_never_the_real_torch(program, tmp_path):
    script = program("which.py", textwrap.dedent('''\
        import sys
        import torch, torch.nn as nn
        import abdou_torch
        print(isinstance(torch.ones(1), abdou_torch.Tensor), nn.Linear is abdou_torch.nn.Linear)
        real = [n for n, m in sys.modules.items() if n.split(".")[0] == "torch"
                and "site-packages" in str(getattr(m, "__file__", ""))]
        print("real torch modules:", real, "torch._C" in sys.modules)
    '''))
    got = abdou_run([str(script)], tmp_path)
    assert got.stdout.splitlines() == ["True True", "real torch modules: [] False"], got.stderr
    # ... while the same environment still imports the real PyTorch in another process
    real = python(["-c", "import torch; print(torch.nn.Linear.__module__)"], tmp_path)
    assert real.stdout.strip() == "torch.nn.modules.linear"


def test_missing_pytorch_api_is_named_in_the_error(program, tmp_path):
    cases = {
        "from torch.fft import rfft\n": "torch.fft.rfft is not available in abdou_torch",
        "import torch\ntorch.fft.rfft(torch.ones(4))\n":
            "NotAvailableError: torch.fft.rfft is not available in abdou_torch",
        "import torch.nn as nn\nnn.TotallyNewLayer(3)\n":
            "torch.nn.TotallyNewLayer is not available in abdou_torch",
        "import torch\nx = torch.ones(4)\nx.stft(2)\n":
            "torch.Tensor.stft is not available in abdou_torch",
        "from torch.nn import NoSuchLayer\n": "torch.nn.NoSuchLayer is not available",
    }
    for index, (source, message) in enumerate(cases.items()):
        script = program(f"missing_{index}.py", source)
        got = abdou_run([str(script)], tmp_path)
        assert got.returncode == 1
        assert message in got.stderr, (source, got.stderr)
        assert f'File "{script}", line' in got.stderr  # the program's own frame is shown
        assert "compat/runner.py" not in got.stderr  # and the runner's are not


def test_module_method_missing_is_named_but_a_typo_is_not(program, tmp_path):
    script = program("module_method.py", "import torch\nm = torch.nn.Linear(2, 2)\n"
                                         "m.to_empty(device='cpu')\n")
    got = abdou_run([str(script)], tmp_path)
    assert "torch.nn.Module.to_empty is not available in abdou_torch" in got.stderr
    typo = program("typo.py", "import torch\nm = torch.nn.Linear(2, 2)\nm.wieght\n")
    got = abdou_run([str(typo)], tmp_path)
    assert "'Linear' object has no attribute 'wieght'" in got.stderr
    assert "not available" not in got.stderr
