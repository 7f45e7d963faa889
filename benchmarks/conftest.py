"""Benchmark fixtures: seeded synthetic portfolios and the tables, loaded once per session.

Run with ``make bench`` (``pytest benchmarks -m "not slow"``); ``pytest`` from the repository root
does not collect this folder (``testpaths = ["tests"]``). The 1e7-row cases are marked ``slow``
(``make bench-large``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portfolio import bench_tables, make_portfolio

import socialvalue_tom as sv

SIZES = (1_000, 100_000, 1_000_000)


@pytest.fixture(scope="session")
def tables() -> sv.TableSet:
    """uk-national (2023-2025) when present, else the tiny test table."""
    return bench_tables()


_CACHE: dict[tuple[int, bool], pd.DataFrame] = {}


@pytest.fixture(scope="session")
def portfolio(tables: sv.TableSet):  # type: ignore[no-untyped-def]
    """``portfolio(n, categorical=False)``: a seeded synthetic portfolio, cached per session."""

    def get(n: int, categorical: bool = False) -> pd.DataFrame:
        key = (n, categorical)
        if key not in _CACHE:
            df = make_portfolio(n, tables)
            if categorical:
                df = df.astype({c: "category" for c in
                                ("measure", "unit", "region", "date", "confidence")})
            _CACHE[key] = df
        return _CACHE[key]

    return get
