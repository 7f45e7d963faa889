"""value_frame against the plain-numpy reference and a polars join, one benchmark group per N."""

from __future__ import annotations

import numpy as np
import pytest
from portfolio import spoil
from reference import Compiled, polars_join, value_reference, value_reference_of_valid

from socialvalue_tom.frame import value_frame

SIZES = [1_000, 100_000, 1_000_000, pytest.param(10_000_000, marks=pytest.mark.slow)]


def _rounds(n: int) -> dict[str, int]:
    return {"rounds": 7 if n >= 1_000_000 else 10, "iterations": 1, "warmup_rounds": 1}


@pytest.fixture(scope="module")
def compiled(tables):  # type: ignore[no-untyped-def]
    return Compiled.build(tables)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", ["strings", "categoricals"])
def test_value_frame(benchmark, portfolio, tables, compiled, n, kind):  # type: ignore[no-untyped-def]
    df = portfolio(n, categorical=kind == "categoricals")
    benchmark.group = f"N={n:.0e}"
    benchmark.name = f"value_frame from {kind}"
    out = benchmark.pedantic(value_frame, args=(df, tables), **_rounds(n))
    # Same bits as the reference: the benchmark measures equal work.
    assert np.array_equal(out["value_gbp"].to_numpy(), value_reference(df, compiled))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind", ["strings", "categoricals"])
def test_numpy_reference(benchmark, portfolio, compiled, n, kind):  # type: ignore[no-untyped-def]
    df = portfolio(n, categorical=kind == "categoricals")
    benchmark.group = f"N={n:.0e}"
    benchmark.name = f"numpy reference from {kind}"
    benchmark.pedantic(value_reference, args=(df, compiled), **_rounds(n))


@pytest.mark.parametrize("n", SIZES)
def test_polars_join(benchmark, portfolio, compiled, n):  # type: ignore[no-untyped-def]
    pl = pytest.importorskip("polars")
    df = pl.from_pandas(portfolio(n))
    benchmark.group = f"N={n:.0e}"
    benchmark.name = "polars join (strings)"
    got = benchmark.pedantic(polars_join, args=(df, compiled), **_rounds(n))
    assert np.allclose(got, value_reference(portfolio(n), compiled), rtol=1e-12, atol=0)


BAD_SIZES = [100_000, 1_000_000]


@pytest.mark.parametrize("n", BAD_SIZES)
def test_value_frame_with_bad_rows(benchmark, portfolio, tables, compiled, n):  # type: ignore[no-untyped-def]
    """30% of the rows bad in five ways: each bad row gets its issue (a reason worked out once
    per distinct bad cell), the rest their values, bit for bit as the reference's."""
    df, spoiled = spoil(portfolio(n))
    benchmark.group = f"bad rows N={n:.0e}"
    benchmark.name = "value_frame, errors='collect'"
    out = benchmark.pedantic(value_frame, args=(df, tables), kwargs={"errors": "collect"},
                             **_rounds(n))
    want, bad = value_reference_of_valid(df, compiled)
    assert np.array_equal(np.flatnonzero(spoiled), bad)
    assert np.array_equal(out["value_gbp"].to_numpy(), want, equal_nan=True)
    assert np.array_equal(np.unique(out.attrs["issues"]["row"].to_numpy()), bad)


@pytest.mark.parametrize("n", BAD_SIZES)
def test_numpy_reference_with_bad_rows(benchmark, portfolio, compiled, n):  # type: ignore[no-untyped-def]
    df, _ = spoil(portfolio(n))
    benchmark.group = f"bad rows N={n:.0e}"
    benchmark.name = "numpy reference: find the bad rows, value the rest"
    benchmark.pedantic(value_reference_of_valid, args=(df, compiled), **_rounds(n))
