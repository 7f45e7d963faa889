"""The examples in the package's docstrings run and show what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import socialvalue_tom


def _modules() -> list[str]:
    names = [socialvalue_tom.__name__]
    names += [m.name for m in pkgutil.walk_packages(socialvalue_tom.__path__, "socialvalue_tom.")
              if not m.name.endswith("__main__")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_hold(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def _example_count(name: str) -> int:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return sum(len(t.examples) for t in tests)


def test_the_modules_users_start_from_carry_examples() -> None:
    # Guards the test above against passing vacuously (a finder that found nothing).
    for name in ("socialvalue_tom.tables.amend", "socialvalue_tom.io", "socialvalue_tom.report"):
        assert _example_count(name) >= 1, name
