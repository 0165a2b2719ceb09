"""The examples in the library's docstrings (``>>>`` lines) run and print what they show.

Every module of the package whose source holds an example is collected, so an example
added anywhere is checked without editing this file. The random state is restored after
each module, so an example that seeds the generator does not change other tests' draws.
"""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import abdou_torch

PACKAGE = Path(abdou_torch.__file__).resolve().parent
# the public APIs that must keep an example (the docs' API pages show them)
REQUIRED = {"abdou_torch.factories", "abdou_torch.autograd.engine",
            "abdou_torch.autograd.gradcheck", "abdou_torch.serialization",
            "abdou_torch.random", "abdou_torch.optim.sgd", "abdou_torch.data.dataloader",
            "abdou_torch.nn.loss"}


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>> " not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_key_apis_have_examples():
    assert REQUIRED <= set(MODULES), sorted(REQUIRED - set(MODULES))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    state = abdou_torch.get_rng_state()
    try:
        tests = [t for t in finder.find(module, name) if t.examples]
        for test in tests:
            runner.run(test)
    finally:
        abdou_torch.set_rng_state(state)
    results = runner.summarize(verbose=False)
    assert tests and results.attempted > 0, f"{name}: no example found"
    assert results.failed == 0, f"{name}: {results.failed} of {results.attempted} examples failed"
