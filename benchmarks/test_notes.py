"""What a total is printed with: basis_notes, editions_used and summarise on a valued
portfolio, one benchmark group per N (the command line's ``value`` runs all three)."""

from __future__ import annotations

import warnings

import pytest

import socialvalue_tom as sv
from socialvalue_tom.report import basis_notes, editions_used, summarise

SIZES = [100_000, 1_000_000]


@pytest.fixture(scope="module")
def valued(portfolio, tables):  # type: ignore[no-untyped-def]
    cache: dict[int, object] = {}

    def get(n: int):  # type: ignore[no-untyped-def]
        if n not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sv.SocialValueWarning)
                cache[n] = sv.value_frame(portfolio(n), tables)
        return cache[n]

    return get


def _rounds(n: int) -> dict[str, int]:
    return {"rounds": 3 if n >= 1_000_000 else 5, "iterations": 1, "warmup_rounds": 1}


@pytest.mark.parametrize("n", SIZES)
def test_basis_notes(benchmark, valued, tables, n):  # type: ignore[no-untyped-def]
    benchmark.group = f"notes N={n:.0e}"
    benchmark.name = "basis_notes"
    notes = benchmark.pedantic(basis_notes, args=(valued(n), tables), **_rounds(n))
    assert notes  # a portfolio over three editions has at least its price-basis note


@pytest.mark.parametrize("n", SIZES)
def test_editions_used(benchmark, valued, n):  # type: ignore[no-untyped-def]
    benchmark.group = f"notes N={n:.0e}"
    benchmark.name = "editions_used"
    assert benchmark.pedantic(editions_used, args=(valued(n),), **_rounds(n))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("by", ["theme", "year"])
def test_summarise(benchmark, valued, tables, n, by):  # type: ignore[no-untyped-def]
    benchmark.group = f"notes N={n:.0e}"
    benchmark.name = f"summarise by {by}"
    out = benchmark.pedantic(summarise, args=(valued(n),), kwargs={"by": by, "tables": tables},
                             **_rounds(n))
    assert len(out)
