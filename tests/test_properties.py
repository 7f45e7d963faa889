"""Properties of the valuation (hypothesis, tiny.yaml): unit invariance, linearity,
scalar == vectorised (bit for bit), order independence, JSON round trip."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import near_half_penny
from strategies import (
    UNITS,
    assumptions,
    outcome_rows,
    portfolios,
    shared_portfolios,
    to_frame,
    to_outcome,
    with_binding_caps,
)

import socialvalue_tom as sv
from socialvalue_tom import money
from socialvalue_tom._text import is_missing
from socialvalue_tom.frame import value_frame

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def same_bits(a: float, b: float) -> bool:
    """Bit-identical floats (0.0 and -0.0 differ; NaN equals NaN of the same payload)."""
    return np.float64(a).view(np.uint64) == np.float64(b).view(np.uint64)


@SETTINGS
@given(row=outcome_rows(), a=assumptions)
def test_value_when_same_claim_in_another_unit_is_unit_invariant(
        tiny_table: Any, row: dict[str, Any], a: sv.Assumptions) -> None:
    """The same claim stated in any unit of the right dimension has the same value to the
    penny (converting the quantity costs a few ulps, which can move an amount lying within
    float error of a half-penny by one penny, and nothing else)."""
    units = UNITS[row["measure"]]
    assume(len(units) >= 2)
    base = to_outcome(row)
    v0 = sv.value(base, tiny_table, assumptions=a).amount
    for unit, f in units.items():
        other = dict(row, unit=unit, quantity=row["quantity"] * units[row["unit"]] / f)
        v1 = sv.value(to_outcome(other), tiny_table, assumptions=a).amount
        out = value_frame(to_frame([other]), tiny_table, assumptions=a)
        assert same_bits(out["value_gbp"].iloc[0], v1)  # scalar == bulk in the other unit
        p0, p1 = money.to_pence(v0), money.to_pence(v1)
        assert p0 == p1 or (abs(p0 - p1) == 1 and near_half_penny(Decimal(repr(v0)))), (
            unit, v0, v1)
        assert math.isclose(v0, v1, rel_tol=1e-12, abs_tol=1e-9), (unit, v0, v1)


@SETTINGS
@given(row=outcome_rows(), k=st.sampled_from([0.0, 0.5, 2.0, 3.0, 10.0, 0.001]))
def test_value_when_quantity_scaled_is_linear(tiny_table: Any, row: dict[str, Any],
                                              k: float) -> None:
    """value(k q) == k value(q) (no cap in play), and a disbenefit is never positive."""
    row = dict(row, contract_value=None)
    if row["measure"] == "jobs-apprentice":
        bound = 520.0 * (row["period_share"] or 1.0)  # a part is held to its share
        row["quantity"] = min(row["quantity"], bound / max(k, 1.0))
    v1 = sv.value(to_outcome(row), tiny_table).amount
    vk = sv.value(to_outcome(dict(row, quantity=row["quantity"] * k)), tiny_table).amount
    assert math.isclose(vk, k * v1, rel_tol=1e-9, abs_tol=1e-9)
    if row["measure"] == "env-carbon-added":
        # Never positive; a harm of nothing is 0.0, never -0.0 (which JSON carried as -0.0).
        assert vk < 0.0 or (vk == 0.0 and math.copysign(1.0, vk) == 1.0)
    else:
        assert vk >= 0.0


@SETTINGS
@given(rows=portfolios(), a=assumptions, text_dates=st.booleans(),
       cap_ratio=st.sampled_from([None, 0.1, 0.45, 0.9]))
def test_value_frame_when_valid_portfolio_equals_scalar_bit_for_bit(
        tiny_table: Any, rows: list[dict[str, Any]], a: sv.Assumptions, text_dates: bool,
        cap_ratio: float | None) -> None:
    """Each row's value_gbp is bit-identical to sv.value(outcome).amount (with contract
    values that make the spend cap bind, parts of rows included, for some examples)."""
    rows = with_binding_caps(rows, cap_ratio)
    out = value_frame(to_frame(rows, text_dates=text_dates), tiny_table, assumptions=a)
    assert out.attrs["issues"].empty
    for i, row in enumerate(rows):
        v = sv.value(to_outcome(row), tiny_table, assumptions=a)
        assert same_bits(out["value_gbp"].iloc[i], v.amount), (i, row, v.amount)
        assert out["proxy_gbp"].iloc[i] == v.proxy
        assert out["region_used"].iloc[i] == v.region_used
        assert out["digest"].iloc[i] == tiny_table.digest


@SETTINGS
@given(rows=portfolios(max_size=8), a=assumptions,
       blank=st.sampled_from([None, math.nan, pd.NA, pd.NaT]))
def test_outcome_from_a_frame_row_when_optional_cells_blank_equals_bulk_bit_for_bit(
        tiny_table: Any, rows: list[dict[str, Any]], a: sv.Assumptions, blank: Any) -> None:
    """An Outcome built from a row of the frame as pandas gives it (blank optional cells as
    NaN, or another missing marker) values the row as value_frame does: the scalar path
    reads a missing marker in an optional field as that field not given."""
    df = to_frame(rows)
    out = value_frame(df, tiny_table, assumptions=a)
    for i, cells in enumerate(df.to_dict("records")):
        level = cells.pop("level")
        given = {k: (blank if is_missing(v) else v) for k, v in cells.items()}
        if not is_missing(level):
            given["fields"] = {"level": level}
        v = sv.value(sv.Outcome(**given), tiny_table, assumptions=a)
        assert same_bits(out["value_gbp"].iloc[i], v.amount), (i, given, v.amount)


@SETTINGS
@given(rows=st.one_of(portfolios(min_size=2), shared_portfolios()),
       seed=st.randoms(use_true_random=False))
def test_value_frame_when_rows_shuffled_gives_same_values_and_total(
        tiny_table: Any, rows: list[dict[str, Any]], seed: Any) -> None:
    """Shuffling rows permutes the values and leaves money.total unchanged, also where rows
    share contracts and the double-counting exclusions share claims between them."""
    order = list(range(len(rows)))
    seed.shuffle(order)
    a = value_frame(to_frame(rows), tiny_table)["value_gbp"].to_numpy()
    b = value_frame(to_frame([rows[i] for i in order]), tiny_table)["value_gbp"].to_numpy()
    assert a[order].view(np.uint64).tolist() == b.view(np.uint64).tolist()
    assert money.total(a) == money.total(b)
    assert money.total(a) == money.total(sorted(a.tolist()))


@SETTINGS
@given(row=outcome_rows(), a=assumptions)
def test_valuation_when_dumped_to_json_round_trips(tiny_table: Any, row: dict[str, Any],
                                                   a: sv.Assumptions) -> None:
    """Valuation.model_validate_json(v.model_dump_json()) == v, trace included."""
    v = sv.value(to_outcome(row), tiny_table, assumptions=a)
    back = sv.Valuation.model_validate_json(v.model_dump_json())
    assert back == v
    assert back.explain() == v.explain()
    assert back.pennies == v.pennies


@SETTINGS
@given(rows=st.one_of(portfolios(), shared_portfolios()), a=assumptions,
       cap_ratio=st.sampled_from([None, 0.1, 0.45, 0.9]))
def test_value_frame_when_bounds_taken_then_each_row_and_total_is_a_range(
        tiny_table: Any, rows: list[dict[str, Any]], a: sv.Assumptions,
        cap_ratio: float | None) -> None:
    """A range is a range whatever the other assumptions, caps and double counting: each
    benefit is worth low <= central <= high, each disbenefit (a negative amount) high <=
    central <= low, and each row and the net least-favourable <= central <= most-favourable,
    in the penny totals a board reads too."""
    rows = with_binding_caps(rows, cap_ratio)
    df = to_frame(rows)
    at = {b: value_frame(df, tiny_table, assumptions=a.model_copy(update={"bound": b}))
          for b in ("low", "central", "high", "least-favourable", "most-favourable")}
    v = {b: out["value_gbp"].to_numpy() for b, out in at.items()}
    harm = np.array([tiny_table.measure(m).disbenefit for m in df["measure"]])
    assert (v["low"][~harm] <= v["central"][~harm]).all()
    assert (v["central"][~harm] <= v["high"][~harm]).all()
    assert (v["high"][harm] <= v["central"][harm]).all()
    assert (v["central"][harm] <= v["low"][harm]).all()
    assert (v["least-favourable"] <= v["central"]).all()
    assert (v["central"] <= v["most-favourable"]).all()
    nets = [money.total(v[b]) for b in ("least-favourable", "central", "most-favourable")]
    assert nets == sorted(nets)
