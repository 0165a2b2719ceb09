"""PyTorch's ``tensor.data`` (a tensor) inside programs run by ``abdou-torch run``, while
the library keeps its array."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.compat import data_attribute
from abdou_torch.compat.data_attribute import compile_program, torch_data

from .conftest import abdou_run, python


def test_torch_data_shares_values_outside_the_graph_with_its_own_version():
    weight = at.nn.Parameter(at.ones(2, 3))
    alias = torch_data(weight)
    assert type(alias) is at.Tensor and not alias.requires_grad and alias.grad_fn is None
    assert np.shares_memory(alias.data, weight.data)
    loss = (weight * weight).sum()
    alias.mul_(0.5)  # PyTorch does not see changes made through .data: no error below
    loss.backward()
    np.testing.assert_array_equal(weight.grad.data, np.ones((2, 3)))  # 2 w at w = 0.5
    assert weight._version == 0


def test_torch_data_leaves_other_objects_data_alone():
    class Holder:
        data = [1, 2]
    assert torch_data(Holder()) == [1, 2]
    array = np.arange(3)
    assert isinstance(torch_data(array), memoryview)  # NumPy's own .data, as Python gives it


def test_only_reads_are_rewritten():
    namespace: dict = {"at": at}
    code = compile_program(
        "p = at.nn.Parameter(at.zeros(3))\n"
        "read = p.data\n"
        "p.data = at.ones(3)\n"       # assignment: the setter, unchanged
        "p.data += 1\n"               # augmented: the array, in place
        "after = p.data\n", "<test>")
    exec(code, namespace)
    assert type(namespace["read"]) is at.Tensor
    np.testing.assert_array_equal(namespace["p"].data, [2.0, 2.0, 2.0])
    assert type(namespace["after"]) is at.Tensor
    assert isinstance(namespace["p"].data, np.ndarray)  # outside the program: the array


def test_syntax_errors_stay_the_programs():
    with pytest.raises(SyntaxError) as error:
        compile_program("x = (\n", "prog.py")
    assert error.value.filename == "prog.py"


PROGRAM = """\
import torch, torch.nn as nn
from helpers import init_weights
torch.manual_seed(0)
m = nn.Linear(3, 2)
m.apply(init_weights)
print(type(m.weight.data).__name__, m.weight.data.requires_grad, m.weight.data.size())
y = (m(torch.ones(4, 3)) ** 2).sum()
m.weight.data.mul_(0.5)
y.backward()
m.weight.data.add_(m.weight.grad, alpha=-0.1)
m.weight.data.clamp_(-0.02, 0.02)
nn.init.constant_(m.bias.data, 0.25)
print(m.weight.grad)
print(m.weight, m.bias)
"""

HELPERS = """\
import torch
def init_weights(m):
    if isinstance(m, torch.nn.Linear):
        m.weight.data.normal_(0.0, 0.02)
        m.bias.data.fill_(0.1)
"""


def test_a_program_and_its_own_modules_get_pytorchs_data(program, tmp_path):
    script = program("main.py", PROGRAM)
    program("helpers.py", HELPERS)
    theirs = python([str(script)], tmp_path)
    ours = abdou_run([str(script)], tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert not (tmp_path / "__pycache__").exists() or not any(
        p.name.startswith("helpers") for p in (tmp_path / "__pycache__").iterdir()
    ), "the rewritten module must not be cached for a plain python run"


def test_installed_packages_and_the_library_are_not_rewritten(tmp_path):
    importer = data_attribute._ProgramImporter(str(tmp_path))
    assert importer._is_program_file(str(tmp_path / "helpers.py"))
    assert not importer._is_program_file(data_attribute.__file__)
    assert not importer._is_program_file(np.__file__)
    assert not importer._is_program_file(str(tmp_path / "venv/lib/site-packages/x.py"))
