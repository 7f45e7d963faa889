"""The example files installed with the package: a portfolio of supplier returns and a case
file of expected valuations, so the quickstart and tutorial run from a ``pip install`` as
well as from a checkout.

>>> import pandas as pd
>>> import socialvalue_tom as sv
>>> portfolio = pd.read_csv(sv.example_path("portfolio.csv"))
>>> list(portfolio.columns[:5])
['contract_id', 'supplier_id', 'stage', 'measure', 'quantity']
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLE_FILES", "example_path", "examples_dir"]

#: The example files, by name: what each holds.
EXAMPLE_FILES = {
    "portfolio.csv": "32 commitments and deliveries on five contracts (the tutorial's data)",
    "cases.yaml": "expected valuations of the embedded tables, worked out by hand "
                  "(socialvalue-tom tables test)",
}


def examples_dir() -> Path:
    """The folder holding the example files: ``_examples`` inside an installed package, or
    ``examples/`` beside the package in a checkout (an editable install).

    Raises :class:`FileNotFoundError` naming the folders looked in when neither holds them
    (a package copied without its data files).
    """
    here = Path(__file__).resolve().parent
    candidates = (here / "_examples", here.parent / "examples")
    for candidate in candidates:
        if all((candidate / name).is_file() for name in EXAMPLE_FILES):
            return candidate
    raise FileNotFoundError(
        "the example files are missing from this installation (looked in "
        f"{', '.join(str(c) for c in candidates)}): reinstall the package "
        "(pip install socialvalue_tom)")


def example_path(name: str = "portfolio.csv") -> Path:
    """The path of one example file: ``portfolio.csv`` (the default) or ``cases.yaml``.

    Raises :class:`~socialvalue_tom.RuleError` (a ``ValueError``, as before) naming the
    example files for any other name.
    """
    if not isinstance(name, str) or name not in EXAMPLE_FILES:
        # A SocialValueError, as every error the library raises on purpose: an integrator's
        # one handler missed a plain ValueError (an API review).
        from socialvalue_tom._text import quoted
        from socialvalue_tom.errors import RuleError

        raise RuleError(f"no example file {quoted(name)}: the examples are "
                        f"{', '.join(EXAMPLE_FILES)}", field="name")
    return examples_dir() / name
