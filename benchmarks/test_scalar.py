"""Scalar value() per outcome, with and without building the explain() text."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

import socialvalue_tom as sv


@pytest.fixture(scope="module")
def outcomes(portfolio):  # type: ignore[no-untyped-def]
    df = portfolio(1_000)
    return [sv.Outcome(measure=r.measure, quantity=r.quantity, unit=r.unit, region=r.region,
                       date=dt.date.fromisoformat(r.date), years=int(r.years),
                       confidence=r.confidence)
            for r in df.itertuples(index=False)]


def test_value_scalar(benchmark, tables, outcomes):  # type: ignore[no-untyped-def]
    benchmark.group = "scalar value() per outcome"
    benchmark.name = "value()"
    it = itertools.cycle(outcomes)
    benchmark(lambda: sv.value(next(it), tables))


def test_value_scalar_explain(benchmark, tables, outcomes):  # type: ignore[no-untyped-def]
    benchmark.group = "scalar value() per outcome"
    benchmark.name = "value().explain()"
    it = itertools.cycle(outcomes)
    benchmark(lambda: sv.value(next(it), tables).explain())
