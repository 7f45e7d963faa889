"""engine.value(): hand-computed valuations from tests/data/tables/tiny.yaml, in pence."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import Any

import pandas as pd
import pytest
from conftest import TINY

import socialvalue_tom as sv
import socialvalue_tom.accessor  # registers df.socialvalue
from socialvalue_tom.engine import cap_limit, discount_offset, measure_schedule


def pence(outcome: sv.Outcome, table: Any, **assume: Any) -> int:
    return sv.value(outcome, table, assumptions=sv.Assumptions(**assume)).pennies


def test_value_when_carbon_in_kg_in_scotland_falls_back_to_uk(tiny_table: Any,
                                                               make_outcome: Any) -> None:
    """3,500 kgCO2e in Scotland = 3.5 t x £250 (uk fallback) = £875.00."""
    v = sv.value(make_outcome(measure="env-carbon", quantity=3500, unit="kgCO2e",
                              region="scotland"), tiny_table)
    assert v.pennies == 87_500
    assert (v.region_requested, v.region_used) == ("scotland", "uk")
    assert v.canonical_quantity == pytest.approx(3.5) and v.canonical_unit == "tCO2e"
    assert v.proxy == 250.0 and v.proxy_source == "test-source"


@pytest.mark.parametrize(("region", "expected", "used"), [
    ("london", 5_400_000, "london"), ("London", 5_400_000, "london"),
    ("england", 3_600_000, "uk"), ("scotland", 3_600_000, "uk"), ("uk", 3_600_000, "uk"),
    ("United Kingdom", 3_600_000, "uk"),
])
def test_value_when_local_jobs_apply_deadweight_and_regional_proxy(
        tiny_table: Any, make_outcome: Any, region: str, expected: int, used: str) -> None:
    """2 FTE x proxy x (1 - deadweight 0.1): London £30,000 gives £54,000.00."""
    v = sv.value(make_outcome(measure="jobs-local", quantity=2, unit="FTE", region=region),
                 tiny_table)
    assert v.pennies == expected and v.region_used == used


@pytest.mark.parametrize(("level", "expected"), [(3, 300_000), (4, 300_000), (2, 150_000),
                                                 (2.99, 150_000)])
def test_value_when_apprenticeship_level_picks_proxy_bound(tiny_table: Any, make_outcome: Any,
                                                           level: float, expected: int) -> None:
    """where(level >= 3, proxy_high, proxy_low) x 10 weeks: £3,000 or £1,500."""
    o = make_outcome(measure="jobs-apprentice", quantity=10, unit="week",
                     fields={"level": level})
    assert sv.value(o, tiny_table).pennies == expected


def test_value_when_apprenticeship_lacks_level_raises(tiny_table: Any,
                                                      make_outcome: Any) -> None:
    """A measure's required field missing is an OutcomeError naming the field."""
    with pytest.raises(sv.OutcomeError, match="level") as info:
        sv.value(make_outcome(measure="jobs-apprentice", quantity=10, unit="week"), tiny_table)
    assert info.value.field == "level"


def test_a_field_a_measure_requires_is_held_to_the_bounds_the_table_gives_it(
        tmp_path: Any) -> None:
    """A known gap: a custom measure's own field could not be bounded, so a level of 80 (or
    a share of -1) was valued. Bounds on the fields in requires are refused outside, by both
    engines in one wording; a table without them keeps its digest."""
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("    requires: [level]\n",
                                   "    requires: [level]\n    field_bounds: {level: {min: 1, "
                                   "max: 8}}\n"))
    bounded = sv.load_table(path=path)
    assert bounded.digest != sv.load_table(path=TINY).digest
    day = bounded.spec.valid_from
    rows = pd.DataFrame({"measure": "jobs-apprentice", "quantity": 10.0, "unit": "week",
                         "region": "uk", "date": day, "level": [3.0, 80.0, 0.5, 1.0, 8.0]})
    out = sv.value_frame(rows, bounded, errors="collect")
    reasons = ["field 'level' 80 of 'jobs-apprentice' is outside the table's bounds [1, 8]",
               "field 'level' 0.5 of 'jobs-apprentice' is outside the table's bounds [1, 8]"]
    assert out.attrs["issues"][["row", "field", "code", "reason"]].values.tolist() == [
        [1, "level", "out-of-bounds", reasons[0]], [2, "level", "out-of-bounds", reasons[1]]]
    assert out["value_gbp"].notna().tolist() == [True, False, False, True, True]
    for level, reason in ((80.0, reasons[0]), (0.5, reasons[1])):
        one = sv.Outcome(measure="jobs-apprentice", quantity=10, unit="week", region="uk",
                         date=day, fields={"level": level})
        with pytest.raises(sv.OutcomeError) as info:
            sv.value(one, bounded)
        assert (info.value.message, info.value.field, info.value.issue) == (
            reason, "level", "out-of-bounds")
    # The bounds are inclusive, and another measure's row is not held to them.
    edge = rows.assign(level=[1.0, 8.0, 1.0, 8.0, 8.0])
    other = pd.DataFrame({"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"],
                          "region": ["uk"], "date": [day], "level": [80.0]})
    assert sv.value_frame(pd.concat([edge, other], ignore_index=True), bounded)[
        "value_gbp"].notna().all()
    # One side only: the other is open.
    lower = sv.load_table(path=tiny_variant(tmp_path / "lower", (
        "    requires: [level]\n", "    requires: [level]\n    field_bounds: {level: {min: 1}}\n")))
    assert sv.value_frame(rows.assign(level=[80.0] * 5), lower)["value_gbp"].notna().all()
    low = sv.value_frame(rows.assign(level=[0.0] * 5), lower, errors="collect")
    assert low.attrs["issues"]["reason"].iloc[0].endswith("bounds [1, inf]")
    # A single allowed figure (min == max) is a bound like any other.
    three = sv.load_table(path=tiny_variant(tmp_path / "three", (
        "    requires: [level]\n",
        "    requires: [level]\n    field_bounds: {level: {min: 3, max: 3}}\n")))
    only = sv.value_frame(rows.assign(level=[3.0, 3.0, 2.0, 4.0, 3.0]), three, errors="collect")
    assert only["value_gbp"].notna().tolist() == [True, True, False, False, True]


@pytest.mark.parametrize(("replacement", "words"), [
    ("    field_bounds: {grade: {min: 1}}\n", "bounds the field 'grade', which it does not "
     "require"),
    ("    field_bounds: {level: {min: 8, max: 1}}\n", "min 8.0 is above max 1.0"),
])
def test_field_bounds_that_cannot_apply_are_refused(tmp_path: Any, replacement: str,
                                                    words: str) -> None:
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("    requires: [level]\n",
                                   "    requires: [level]\n" + replacement))
    with pytest.raises(sv.ProxyTableError, match=re.escape(words)) as info:
        sv.load_table(path=path)
    assert info.value.field is not None and "field_bounds" in info.value.field


@pytest.mark.parametrize(("quantity", "unit", "error", "needle"), [
    (521, "week", sv.OutcomeError, "bounds"), (10, "hour", sv.UnitError, "week"),
    (10, "day", sv.UnitError, "not accepted"), (10, "fortnight", sv.UnitError, "not accepted"),
])
def test_value_when_apprenticeship_outside_bounds_or_units_raises(
        tiny_table: Any, make_outcome: Any, quantity: float, unit: str, error: type,
        needle: str) -> None:
    """Quantity bounds and the measure's accepted units are enforced."""
    with pytest.raises(error, match=needle):
        sv.value(make_outcome(measure="jobs-apprentice", quantity=quantity, unit=unit,
                              fields={"level": 3}), tiny_table)


@pytest.mark.parametrize("unit", ["week", "weeks", " weeks ", "Weeks", "WEEK"])
def test_value_when_unit_is_a_plural_of_an_accepted_one_then_it_is_that_unit(
        tiny_table: Any, make_outcome: Any, unit: str) -> None:
    """``accepts: [week]`` allows the unit week however the registry spells it, in any case:
    'weeks' or 'Weeks' is 10 weeks (£3,000), never refused for its plural or a returns form's
    capital, in the scalar and the bulk path alike."""
    o = make_outcome(measure="jobs-apprentice", quantity=10, unit=unit, fields={"level": 3})
    assert sv.value(o, tiny_table).pennies == 300_000
    df = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [10.0], "unit": [unit],
                       "region": ["uk"], "date": ["2024-05-01"], "level": [3]})
    assert sv.value_frame(df, tiny_table)["value_gbp"].tolist() == [3000.0]


@pytest.mark.parametrize(("grade", "apply", "expected"), [
    (None, True, 2_500_000), ("A", True, 2_500_000), ("B", True, 2_250_000),
    ("C", True, 1_500_000), ("B", False, 2_500_000),
])
def test_value_when_confidence_grade_reduces(tiny_table: Any, make_outcome: Any,
                                             grade: str | None, apply: bool,
                                             expected: int) -> None:
    """Grade B reduces the value 10% (optimism bias); apply_confidence=False ignores grades."""
    o = make_outcome(confidence=grade)
    assert pence(o, tiny_table, apply_confidence=apply) == expected


def test_value_when_confidence_grade_unknown_raises(tiny_table: Any, make_outcome: Any) -> None:
    """An unknown grade names itself and the table's grades."""
    with pytest.raises(sv.OutcomeError, match=r"'Z'.*A, B, C"):
        sv.value(make_outcome(confidence="Z"), tiny_table)


def test_value_when_three_years_with_drop_off_discounts_green_book(tiny_table: Any,
                                                                   make_outcome: Any) -> None:
    """£25,000 x (1 + 0.8/1.035 + 0.64/1.035^2) = £59,259.84."""
    v = sv.value(make_outcome(years=3, drop_off=0.2), tiny_table)
    assert v.amount == pytest.approx(25000 * (1 + 0.8 / 1.035 + 0.64 / 1.035**2), rel=1e-12)
    assert v.pennies == 5_925_984
    assert "duration" in [s.rule for s in v.trace]


@pytest.mark.parametrize(("region", "schedule", "expected"), [
    ("uk", "green-book", 297_783), ("scotland", "green-book", 287_857),
    ("uk", "health", 297_783), ("uk", "none", 300_000),
])
def test_value_when_health_measure_uses_health_rate(tiny_table: Any, make_outcome: Any,
                                                    region: str, schedule: str,
                                                    expected: int) -> None:
    """Health measures discount at 1.5%: 100 h x £15 x (1 + 1/1.015) = £2,977.83."""
    o = make_outcome(measure="social-volunteering", quantity=100, unit="hour", region=region,
                     years=2)
    assert pence(o, tiny_table, discount_schedule=schedule) == expected


def test_value_when_non_health_measure_uses_green_book_rate(tiny_table: Any,
                                                            make_outcome: Any) -> None:
    """A non-health measure over 2 years: £25,000 x (1 + 1/1.035) = £49,154.59."""
    assert pence(make_outcome(years=2), tiny_table) == 4_915_459


@pytest.mark.parametrize(("year", "expected"), [(2025, 2_562_500), (2024, 2_500_000),
                                                (2023, 2_450_000)])
def test_value_when_price_year_restates_with_deflator(tiny_table: Any, make_outcome: Any,
                                                      year: int, expected: int) -> None:
    """2024 prices to 2025: x 102.5/100 = £25,625.00 (tiny-deflator)."""
    v = sv.value(make_outcome(), tiny_table, assumptions=sv.Assumptions(price_year=year))
    assert v.pennies == expected and v.price_year == year and v.price_base_year == 2024


def test_value_when_price_year_beyond_the_index_then_the_error_names_price_year(
        tiny_table: Any, make_outcome: Any) -> None:
    """The caller's price_year is the field at fault (tiny-deflator covers 2023..2025), on the
    scalar and the bulk path; the index's own missing base year names no field of theirs."""
    a = sv.Assumptions(price_year=2030)
    with pytest.raises(sv.RuleError, match=r"no value for 2030") as err:
        sv.value(make_outcome(), tiny_table, assumptions=a)
    assert (err.value.field, err.value.year, err.value.index) == ("price_year", 2030,
                                                                  "tiny-deflator")
    frame = pd.DataFrame([make_outcome().model_dump()])
    with pytest.raises(sv.RuleError) as bulk:
        sv.value_frame(frame, tiny_table, assumptions=a)
    assert (bulk.value.field, bulk.value.year) == ("price_year", 2030)
    with pytest.raises(sv.RuleError) as base:
        tiny_table.price_index.factor(2019, 2024, to_field="price_year")
    assert base.value.field is None


@pytest.mark.parametrize(("contract_value", "expected"), [
    (10_000, 500_000), (200_000, 4_500_000), (None, 4_500_000), (90_000, 4_500_000),
    (89_999.98, 4_499_999),
])
def test_value_when_cap_ratio_limits_to_share_of_contract(
        tiny_table: Any, make_outcome: Any, contract_value: float | None, expected: int) -> None:
    """£100,000 local spend x £0.60 x (1 - leakage 0.25) = £45,000, capped at 0.5 x contract."""
    o = make_outcome(measure="growth-local-spend", quantity=100_000, unit="GBP",
                     contract_value=contract_value)
    v = sv.value(o, tiny_table)
    assert v.pennies == expected
    cap = [s.detail for s in v.trace if s.rule == "cap"]
    assert len(cap) == 1  # applied, not reached, or (no contract value) not applicable
    assert ("no contract_value" in cap[0]) == (contract_value is None)


def test_value_when_cap_binds_only_after_uplift_the_cap_wins(tiny_table: Any,
                                                             make_outcome: Any) -> None:
    """The cap applies after the price-base uplift: £100,000 local spend x £0.60 x 0.75 =
    £45,000 in 2024 prices, x 102.5/100 = £46,125 in 2025 prices, capped at 0.5 x £90,000 =
    £45,000 (capping first would give £46,125), in the scalar and the bulk path."""
    o = make_outcome(measure="growth-local-spend", quantity=100_000, unit="GBP",
                     contract_value=90_000)
    a = sv.Assumptions(price_year=2025)
    v = sv.value(o, tiny_table, assumptions=a)
    assert v.pennies == 4_500_000
    assert [s.rule for s in v.trace][-2:] == ["uplift", "cap"]
    uncapped = sv.value(make_outcome(measure="growth-local-spend", quantity=100_000, unit="GBP"),
                        tiny_table, assumptions=a)
    assert uncapped.pennies == 4_612_500
    frame = pd.DataFrame([o.model_dump(exclude_defaults=True)])
    assert sv.value_frame(frame, tiny_table, assumptions=a)["value_gbp"].tolist() == [v.amount]


def test_value_when_disbenefit_is_negative(tiny_table: Any, make_outcome: Any) -> None:
    """2 tCO2e emitted x £250 = -£500.00."""
    v = sv.value(make_outcome(measure="env-carbon-added", quantity=2, unit="tCO2e"), tiny_table)
    assert v.pennies == -50_000 and v.amount < 0 and v.disbenefit and v.gross == -500.0
    assert "disbenefit" in [s.rule for s in v.trace]


@pytest.mark.parametrize("grade", ["A", "B", "C"])
def test_value_when_disbenefit_has_a_confidence_grade_counts_the_harm_in_full(
        tiny_table: Any, make_outcome: Any, grade: str) -> None:
    """Optimism bias cuts benefits only: 2 tCO2e emitted is -£500.00 whatever the grade (a
    benefit with grade C is cut by 40%), in the scalar and the bulk path alike."""
    harm = make_outcome(measure="env-carbon-added", quantity=2, unit="tCO2e", confidence=grade)
    gain = make_outcome(measure="env-carbon", quantity=2, unit="tCO2e", confidence=grade)
    v = sv.value(harm, tiny_table)
    assert v.pennies == -50_000
    cut = {"A": 0.0, "B": 0.1, "C": 0.4}[grade]
    assert sv.value(gain, tiny_table).pennies == round(50_000 * (1 - cut))
    detail = next(s.detail for s in v.trace if s.rule == "confidence")
    assert ("not applied: a disbenefit is counted in full" in detail) == (cut > 0)
    frame = pd.DataFrame([o.model_dump(exclude_defaults=True) for o in (harm, gain)])
    out = sv.value_frame(frame, tiny_table)
    assert out["value_gbp"].tolist() == [v.amount, sv.value(gain, tiny_table).amount]


def test_value_when_after_valid_to_needs_carry_forward(tiny_table: Any,
                                                       make_outcome: Any) -> None:
    """Past valid_to: strict by default (with a hint); carry_forward=True uses the edition."""
    o = make_outcome(date=dt.date(2025, 6, 1))
    with pytest.raises(sv.NoTableInForceError, match="carry_forward=True"):
        sv.value(o, tiny_table)
    v = sv.value(o, tiny_table, assumptions=sv.Assumptions(carry_forward=True))
    assert v.carried_forward and v.pennies == 2_500_000
    assert "CARRIED FORWARD" in v.explain()


def test_value_when_before_valid_from_is_never_carried(tiny_table: Any,
                                                       make_outcome: Any) -> None:
    """carry_forward only carries forward: an earlier date is still not in force."""
    with pytest.raises(sv.NoTableInForceError, match="2024-03-31"):
        sv.value(make_outcome(date=dt.date(2024, 3, 31)), tiny_table,
                 assumptions=sv.Assumptions(carry_forward=True))


@pytest.mark.parametrize(("base", "expected"), [(None, 2_500_000), (2024, 2_500_000),
                                                (2023, 2_415_459), (2022, 2_333_777)])
def test_value_when_discount_base_year_discounts_to_it(tiny_table: Any, make_outcome: Any,
                                                       base: int | None, expected: int) -> None:
    """FY2024 outcome discounted to base 2022: £25,000 / 1.035^2 = £23,337.77."""
    assert pence(make_outcome(), tiny_table, discount_base_year=base) == expected


@pytest.mark.parametrize(("measure", "unit", "quantity", "bands"), [
    ("jobs-priority", "FTE", 1.0, (1.035, 1.03, 1.025, 1.02)),
    ("social-volunteering", "hour", 1000.0, (1.015, 1.0129, 1.0107, 1.0086)),
])
def test_value_when_years_run_past_125_discount_at_the_long_term_rate(
        tiny_table: Any, make_outcome: Any, measure: str, unit: str, quantity: float,
        bands: tuple[float, ...]) -> None:
    """FY2024 discounted to base 1900 (offset 124) over 3 years: years 124, 125 and 126 after
    the base; year 126 is in the 2.0% band (health: 0.86%), not the 2.5% one (1.07%):
    £25,000 x (DF124 + DF125 + DF126), DF125 = 1 / (1.035^30 1.03^45 1.025^50), by hand.
    The frame gives the same bits."""
    r1, r2, r3, r4 = bands
    df125 = 1 / (r1**30 * r2**45 * r3**50)
    hand = 25000.0 * (df125 * r3 + df125 + df125 / r4) * (quantity * 15 / 25000
                                                          if unit == "hour" else 1.0)
    a = sv.Assumptions(discount_base_year=1900)
    o = make_outcome(measure=measure, unit=unit, quantity=quantity, years=3)
    v = sv.value(o, tiny_table, assumptions=a)
    assert v.amount == pytest.approx(hand, rel=1e-12)
    row = pd.DataFrame({"measure": [measure], "quantity": [quantity], "unit": [unit],
                        "region": ["uk"], "date": [o.date], "years": [3]})
    assert sv.value_frame(row, tiny_table, assumptions=a)["value_gbp"].tolist() == [v.amount]


def test_value_when_discount_base_year_after_outcome_raises(tiny_table: Any,
                                                            make_outcome: Any) -> None:
    """A base year later than the outcome's year is a RuleError naming both years."""
    with pytest.raises(sv.RuleError, match=r"2024.*2025"):
        sv.value(make_outcome(), tiny_table, assumptions=sv.Assumptions(discount_base_year=2025))


@pytest.mark.parametrize(("outcome_kw", "assume", "expected"), [
    ({}, {}, 1_800_000), ({}, {"deadweight": 0.5}, 1_000_000),
    ({"deadweight": 0.0}, {"deadweight": 0.5}, 2_000_000),
    ({"displacement": 0.5, "attribution": 0.5}, {}, 450_000),
    # Each assumption fills its own factor while the outcome sets the other: 20,000 x 0.9 x
    # 0.7 x 0.95 and 20,000 x 0.9 x 0.8 x 0.5 (swapped, they would give 17,100 and 9,000).
    ({"attribution": 0.05}, {"displacement": 0.3}, 1_197_000),
    ({"displacement": 0.2}, {"attribution": 0.5}, 720_000),
    ({"attribution": 0.05}, {"displacement": 0.3, "attribution": 0.9}, 1_197_000),
    ({"deadweight": 0.0}, {"displacement": 0.25, "attribution": 0.2}, 1_200_000),
])
def test_value_when_overrides_follow_outcome_then_assumption_then_table(
        tiny_table: Any, make_outcome: Any, outcome_kw: dict[str, Any], assume: dict[str, Any],
        expected: int) -> None:
    """Outcome values beat assumptions, which beat the table's defaults, factor by factor,
    on both paths."""
    o = make_outcome(measure="jobs-local", **outcome_kw)
    assert pence(o, tiny_table, **assume) == expected
    row = pd.DataFrame([{"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
                         "date": o.date, **outcome_kw}])
    out = sv.value_frame(row, tiny_table, assumptions=sv.Assumptions(**assume))
    assert sv.money.to_pence(out["value_gbp"].iloc[0]) == expected


def test_sensitivity_when_bounds_recorded_gives_low_central_high(tiny_table: Any,
                                                                 make_outcome: Any) -> None:
    """1 tCO2e: low £125, central £250, high £375."""
    out = sv.sensitivity(make_outcome(measure="env-carbon", unit="tCO2e"), tiny_table)
    assert {k: v.pennies for k, v in out.items()} == {"low": 12_500, "central": 25_000,
                                                     "high": 37_500}


def test_the_trace_names_the_bound_a_valuation_used(tiny_table: Any,
                                                   make_outcome: Any) -> None:
    """The proxy step of a low or high valuation says it used a bound, and the central value
    beside it, so the trace still multiplies out from the source's table."""
    out = sv.sensitivity(make_outcome(measure="env-carbon", unit="tCO2e"), tiny_table)
    proxy = {k: v.trace[2].detail for k, v in out.items()}
    assert proxy["low"].startswith("£125.00 per tCO2e for uk [ILLUSTRATIVE] (low bound; "
                                   "central value £250.00)")
    assert "(high bound; central value £250.00)" in proxy["high"]
    assert "bound" not in proxy["central"]
    # No recorded bound: the central value, said so.
    jobs = sv.value(make_outcome(), tiny_table, assumptions={"bound": "high"})
    assert "(high bound: the table gives none, so the central value)" in jobs.trace[2].detail


@pytest.mark.parametrize(("bound", "saved", "added"), [
    ("least-favourable", 150.41, -451.23), ("most-favourable", 451.23, -150.41),
    ("low", 150.41, -150.41), ("high", 451.23, -451.23), ("central", 300.82, -300.82),
])
def test_value_when_bound_is_least_or_most_favourable_takes_each_sign_its_side(
        bound: str, saved: float, added: float) -> None:
    """1 tCO2e saved and 1 tCO2e added (DESNZ low £150.41, central £300.82, high £451.23):
    the least favourable net counts the saving low and the emission high, scalar and bulk
    alike; the trace says which bound each took and why."""
    day = dt.date(2024, 9, 30)
    outcomes = [sv.Outcome(measure=m, quantity=1, unit="tCO2e", region="uk", date=day)
                for m in ("env-carbon-saved", "env-carbon-added")]
    a = sv.Assumptions(bound=bound)  # type: ignore[arg-type]
    scalar = [sv.value(o, "uk-national", assumptions=a) for o in outcomes]
    assert [round(v.amount, 2) for v in scalar] == [saved, added]
    frame = pd.DataFrame([o.model_dump() for o in outcomes])
    bulk = sv.value_frame(frame, "uk-national", assumptions=a)["value_gbp"].tolist()
    assert bulk == [v.amount for v in scalar]
    if bound.endswith("-favourable"):
        side = "low" if saved < 300 else "high"
        other = "high" if side == "low" else "low"
        assert f"({side} bound, the {bound} value for a benefit; central value £300.82)" in \
            scalar[0].trace[2].detail
        assert f"({other} bound, the {bound} value for a disbenefit; central value " \
            "£300.82)" in scalar[1].trace[2].detail


def test_value_when_valued_records_provenance(tiny_table: Any, make_outcome: Any) -> None:
    """The valuation names its edition, digest, source and the illustrative flag."""
    v = sv.value(make_outcome(), tiny_table)
    assert (v.table, v.version, v.digest) == ("tiny", "2024", tiny_table.digest)
    assert v.illustrative and v.theme == "jobs" and v.value_type == "fiscal"
    text = v.explain()
    assert "tiny:2024" in text and "£25,000.00" in text and "ILLUSTRATIVE" in text


def test_value_when_family_name_given_picks_edition_by_date(uk_tables: Any) -> None:
    """value(o, 'uk-national') uses the edition in force on the outcome's date."""
    common = set.intersection(*(set(t.measure_codes) for t in uk_tables))
    code = sorted(common)[0]
    for t in uk_tables:
        o = sv.Outcome(measure=code, quantity=1, region="uk", date=t.valid_from)
        v = sv.value(o, "uk-national")
        assert (v.version, v.digest) == (t.version, t.digest)
        assert v.amount == sv.value(o, t).amount


def test_value_when_outcome_field_shadows_table_parameter_it_is_ignored(
        tiny_table: Any, make_outcome: Any) -> None:
    """An outcome's ``fields`` must not override a table parameter used by an expression
    (here ``leakage``): the value stays £45, as value_frame computes it."""
    o = make_outcome(measure="growth-local-spend", quantity=100, unit="GBP",
                     fields={"leakage": 0.0})
    amount = sv.value(o, tiny_table).amount
    assert amount == 45.0  # 100 x £0.60 x (1 - leakage 0.25)
    frame = pd.DataFrame([{"measure": "growth-local-spend", "quantity": 100.0, "unit": "GBP",
                           "region": "uk", "date": o.date, "leakage": 0.0}])
    assert sv.value_frame(frame, tiny_table)["value_gbp"].tolist() == [amount]


@pytest.mark.parametrize(("field", "rule", "words"), [
    ("years", "years", "one of the outcome's own arguments"),
    ("deadweight", "deadweight", "one of the outcome's own arguments"),
    ("Years", "years", "looks like the outcome's argument 'years'"),
    ("Deadweight (%)", "deadweight", "as a fraction: 0.25 for 25%"),
    ("contract", "contract_id", "looks like the outcome's argument 'contract_id'"),
])
def test_value_when_a_field_names_an_outcome_argument_refuses_it(
        tiny_table: Any, make_outcome: Any, field: str, rule: str, words: str) -> None:
    """``fields={"years": 3}`` was passed over without a word (only a measure's required
    fields are read): one year valued. Refused naming the argument to use, as value_frame
    refuses such a column; a field the measure requires, or any other name, is read as
    before."""
    o = make_outcome(measure="env-carbon", quantity=1, unit="tCO2e", fields={field: 3})
    with pytest.raises(sv.OutcomeError, match=re.escape(words)) as info:
        sv.value(o, tiny_table)
    assert info.value.details["columns"] == [field] and f"pass {rule}=..." in str(info.value)
    plain = make_outcome(measure="env-carbon", quantity=1, unit="tCO2e", fields={"note": 3})
    assert sv.value(plain, tiny_table).amount == sv.value(
        make_outcome(measure="env-carbon", quantity=1, unit="tCO2e"), tiny_table).amount


def test_helpers_when_edge_values_behave() -> None:
    """cap_limit, discount_offset and measure_schedule on their edges."""
    assert cap_limit(float("nan"), 100.0) == float("inf")
    assert cap_limit(0.5, None) == float("inf")
    assert cap_limit(0.5, 100.0) == 50.0
    assert discount_offset(2024, None) == 0 and discount_offset(2026, 2024) == 2
    assert measure_schedule(True, "green-book") == "health"
    assert measure_schedule(True, "none") == "none"
    assert measure_schedule(False, "health") == "health"


def test_uplift_to_a_forecast_year_says_the_index_value_is_projected() -> None:
    """The deflator's OBR-forecast years are marked in the trace; outturn years are not."""
    o = sv.Outcome(measure="env-carbon-saved", quantity=1, unit="tCO2e", region="uk",
                   date=dt.date(2024, 6, 1))
    table = sv.load_table("uk-national", version="2024")
    assert table.price_index is not None and table.price_index.spec.projected_from == 2025

    def uplift(year: int) -> str:
        v = sv.value(o, table, assumptions=sv.Assumptions(price_year=year))
        return next(s.detail for s in v.trace if s.rule == "uplift")

    # the index values and their ratio in full: 113.6416 was shown as 113.642
    assert "2030 = 113.6416 (projected); source hmt-gdp-deflator-2026-03): x 1.136416" in (
        uplift(2030))
    assert "projected" not in uplift(2022)


def test_value_and_sensitivity_when_no_table_given_use_the_embedded_family() -> None:
    """As value_frame: the default tables are the embedded uk-national editions."""
    o = sv.Outcome(measure="env-carbon-saved", quantity=1, unit="tCO2e", region="uk",
                   date=dt.date(2024, 9, 30))
    assert sv.value(o) == sv.value(o, "uk-national")
    assert sv.value(o).version == "2024"
    assert sv.sensitivity(o)["high"] == sv.sensitivity(o, "uk-national")["high"]


def test_api_when_given_the_wrong_kind_of_argument_raises_type_error_or_rule_error(
        tiny_table: Any, make_outcome: Any) -> None:
    """Assumptions as a mapping (as JSON gives them) are validated; another type is a
    TypeError, as is a dict for an Outcome or table names for diff_tables; a bad chunksize is
    a RuleError."""
    o = make_outcome(measure="jobs-local", quantity=2, unit="FTE")
    as_mapping = sv.value(o, tiny_table, assumptions={"deadweight": 0.5})
    assert as_mapping == sv.value(o, tiny_table, assumptions=sv.Assumptions(deadweight=0.5))
    frame = pd.DataFrame([o.model_dump(exclude_defaults=True)])
    assert sv.value_frame(frame, tiny_table, assumptions={"deadweight": 0.5})[
        "value_gbp"].tolist() == [as_mapping.amount]
    with pytest.raises(sv.RuleError, match="deadweight"):
        sv.value(o, tiny_table, assumptions={"deadweight": 5})
    with pytest.raises(TypeError, match="assumptions must be an Assumptions"):
        sv.value(o, tiny_table, assumptions=[("deadweight", 0.5)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs an Outcome, not dict"):
        sv.value(o.model_dump(), tiny_table)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="compares ProxyTable editions: old is str"):
        sv.diff_tables("uk-national:2024", tiny_table)  # type: ignore[arg-type]
    for bad in (0, -5, 2.5, True):
        with pytest.raises(sv.RuleError, match="chunksize must be a positive"):
            sv.value_file("no-such.csv", tables=tiny_table, chunksize=bad)  # type: ignore[arg-type]


def test_value_when_the_proxy_is_illustrative_warns_at_the_caller_s_line() -> None:
    """The warning class was exported and documented but never issued: a user filtering it
    into an error to keep placeholders out of a production run got no protection."""
    illustrative = sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP",
                              region="uk", date="2024-05-01")
    with pytest.warns(sv.IllustrativeValueWarning) as record:
        v = sv.value(illustrative)
    assert v.illustrative and record[0].message.rows == 1  # type: ignore[union-attr]
    assert record[0].filename == __file__
    published = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                           date="2024-05-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.IllustrativeValueWarning)
        assert not sv.value(published).illustrative  # no warning
        with pytest.raises(sv.IllustrativeValueWarning):
            sv.value(illustrative)


def test_value_frame_when_rows_use_illustrative_proxies_warns_once_with_their_count() -> None:
    frame = pd.DataFrame({
        "measure": ["growth-local-spend", "jobs-local-fte", "growth-local-sme-spend",
                    "growth-local-spend"],
        "quantity": [1000.0, 1.0, 50.0, -1.0], "unit": ["GBP", "FTE", "GBP", "GBP"],
        "region": ["uk", "uk", "london", "uk"], "date": ["2024-05-01"] * 4})
    with pytest.warns(sv.IllustrativeValueWarning) as record:
        sv.value_frame(frame, errors="collect")
    assert len(record) == 1 and record[0].filename == __file__
    assert record[0].message.rows == 2  # type: ignore[union-attr]  # the bad row is not valued
    with pytest.warns(sv.IllustrativeValueWarning) as record:
        frame.socialvalue.value(errors="collect")  # the accessor: at its caller's line too
    assert len(record) == 1 and record[0].filename == __file__
    assert record[0].message.rows == 2  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.IllustrativeValueWarning)
        sv.value_frame(frame.iloc[[1]])  # published figures only: silent


def test_functions_that_value_in_pieces_warn_once_at_their_caller_s_line(
        tmp_path: Any) -> None:
    """value_file warned once per batch, at its own line (so a second call in the process was
    silent), sensitivity three times for one outcome, explain_row again for a frame valued
    already, score_bids at its own line."""
    from socialvalue_tom.bids import score_bids
    from socialvalue_tom.streaming import value_file

    rows = pd.DataFrame({"measure": ["growth-local-spend"] * 5 + ["jobs-local-fte"],
                         "quantity": [100.0] * 5 + [1.0], "unit": ["GBP"] * 5 + ["FTE"],
                         "region": "uk", "date": "2024-05-01", "supplier_id": "acme"})
    src = tmp_path / "o.csv"
    rows.to_csv(src, index=False)
    outcome = sv.Outcome(measure="growth-local-spend", quantity=100, unit="GBP", region="uk",
                         date="2024-05-01")
    for call, count in ((lambda: value_file(src, chunksize=2), 5),
                        (lambda: sv.sensitivity(outcome), 1),
                        (lambda: score_bids(rows, weighting=10.0), 5)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")  # every one issued, as pytest.warns records
            call()
        # The rows repeat each other (a warning of score_bids' own): only the illustrative.
        assert [(w.filename, w.message.rows) for w in record
                if isinstance(w.message, sv.IllustrativeValueWarning)] == [(__file__, count)]
    with pytest.warns(sv.IllustrativeValueWarning):
        valued = sv.value_frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.IllustrativeValueWarning)
        sv.explain_row(valued, 0)  # valued already: no second warning
        out = tmp_path / "v.csv"
        with pytest.raises(sv.IllustrativeValueWarning):
            value_file(src, out, chunksize=2)
        assert not out.exists()  # refused before the output was committed


def test_a_quantity_of_exactly_the_maximum_is_valued_alike_in_one_and_in_bulk(
        tiny_table: Any) -> None:
    """1e12 is the largest quantity accepted (above it: refused) by value and value_frame
    (£1e12 of local spend at £0.60 x 0.75 per £, within the largest amount an outcome may
    be valued at)."""
    o = sv.Outcome(measure="growth-local-spend", quantity=1e12, unit="GBP", region="uk",
                   date="2024-06-01")
    amount = sv.value(o, tiny_table).amount
    assert 0 < amount < 1e12
    row = pd.DataFrame([{"measure": "growth-local-spend", "quantity": 1e12, "unit": "GBP",
                         "region": "uk", "date": "2024-06-01"}])
    assert sv.value_frame(row, tiny_table)["value_gbp"].tolist() == [amount]
    above = row.assign(quantity=1e12 * (1 + 2**-52))
    assert sv.value_frame(above, tiny_table, errors="collect")["value_gbp"].isna().all()


@pytest.mark.parametrize(("measure", "quantity", "years"), [
    ("env-carbon", 279443915986.15, 1),  # £69,860,978,996,537.50: its pennies are lost
    ("env-carbon", 4e9, 1),  # £1e12 exactly is allowed; this is just over
    ("env-carbon", 2e8, 125),  # £5e10 a year: over £1e12 only once summed over the years
])
def test_value_when_an_outcome_is_worth_more_than_a_float_holds_to_the_penny_refuses(
        tiny_table: Any, measure: str, quantity: float, years: int) -> None:
    """An outcome valued past £1e12 at any step was a penny or more off (£69,860,978,996,537.51
    for .50): a typed error, and a too-large row issue in bulk, never a wrong amount."""
    o = sv.Outcome(measure=measure, quantity=quantity, unit="tCO2e", region="uk",
                   date="2024-06-01", years=years)
    if quantity == 4e9:
        assert sv.value(o.model_copy(update={"quantity": 4e9 - 1}), tiny_table).amount < 1e12
        o = o.model_copy(update={"quantity": 4.0000001e9})
    with pytest.raises(sv.RuleError, match=r"more than £1,000,000,000,000, the most an "
                                           r"outcome is valued at to the penny"):
        sv.value(o, tiny_table)
    out = sv.value_frame(pd.DataFrame([o.model_dump()]), tiny_table, errors="collect")
    issue = out.attrs["issues"].iloc[0]
    assert (issue["field"], issue["code"]) == ("quantity", "too-large")
    assert "the most an outcome is valued at to the penny" in issue["reason"]
    assert out["value_gbp"].isna().all()


def test_value_when_a_step_overflows_before_a_cap_refuses_rather_than_cap_infinity(
        tmp_path: Any) -> None:
    """An expression whose duration step overflowed was capped (cap_ratio 0.5 x £1,000) to
    £500 and valued, and its trace then failed on the infinite amount: refused as too large,
    scalar and bulk."""
    from conftest import tiny_variant

    path = tiny_variant(
        tmp_path,
        ("  leakage: {value: 0.25, source: test-source}\n",
         "  leakage: {value: 0.25, source: test-source}\n  big: {value: 1.0e+300, "
         "source: test-source}\n"),
        ("expression: quantity * proxy * (1 - leakage)",
         "expression: quantity * proxy * (1 - leakage) * big"))
    table = sv.load_table(path=path)
    o = sv.Outcome(measure="growth-local-spend", quantity=1e7, unit="GBP", region="uk",
                   date="2024-06-01", years=125, contract_value=1000)
    with pytest.raises(sv.RuleError, match="more than £1,000,000,000,000"):
        sv.value(o, table)
    out = sv.value_frame(pd.DataFrame([o.model_dump()]), table, errors="collect")
    assert out["value_gbp"].isna().all()
    assert out.attrs["issues"]["code"].tolist() == ["too-large"]


@pytest.mark.parametrize("contract_value", [0.001, 5e-324, 1.0000001e15, 1e308])
def test_value_when_contract_value_is_outside_a_penny_to_1e15_refuses(
        tiny_table: Any, contract_value: float) -> None:
    """A contract worth less than a penny made the social value ratio infinite, and two worth
    1e308 made summarise fail on an untyped OverflowError."""
    base = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
            "date": "2024-06-01", "contract_id": "c1"}
    with pytest.raises(sv.OutcomeError, match="contract_value"):
        sv.Outcome(**base, contract_value=contract_value)  # type: ignore[arg-type]
    frame = pd.DataFrame([{**base, "contract_value": contract_value},
                          {**base, "contract_id": "c2", "contract_value": contract_value}])
    out = sv.value_frame(frame, tiny_table, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["out-of-range"] * 2
    assert "is not from £0.01 to £1,000,000,000,000,000" in out.attrs["issues"]["reason"][0]
    summary = sv.summarise(out, by="contract")  # no OverflowError: the values are left out
    assert summary["rows_not_valued"].tolist() == [1, 1]
    assert sv.Outcome(**base, contract_value=0.01).contract_value == 0.01  # type: ignore[arg-type]


def test_a_field_a_measure_requires_is_its_own_even_named_like_an_argument(
        tmp_path: Any) -> None:
    """A custom measure may require a field named like an outcome's argument another way
    (``duration``): the scalar engine reads it, as value_frame does."""
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("requires: [level]", "requires: [level, duration]"),
                        ("where(level >= 3, proxy_high, proxy_low) * quantity",
                         "where(level >= 3, proxy_high, proxy_low) * quantity * duration"))
    table = sv.load_table(path=path)
    o = sv.Outcome(measure="jobs-apprentice", quantity=10, unit="week", region="uk",
                   date="2024-06-01", fields={"level": 3, "duration": 2})
    assert sv.value(o, table).amount == 6000.0
    with pytest.raises(sv.OutcomeError, match=r"as a fraction: 0\.25 for 25%"):
        sv.value(sv.Outcome(measure="env-carbon", quantity=1, unit="tCO2e", region="uk",
                            date="2024-06-01", fields={"drop off rate": 10}), table)


def test_a_valuation_gives_its_pounds_to_the_penny_beside_the_float() -> None:
    """An integrator's review: JSON carried 842.2959999999999 and no rounded figure; pounds
    is the Decimal a response gives (half away from zero, as every total), the float kept
    for the round trip."""
    from decimal import Decimal

    v = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=0.0000125, unit="FTE",
                            region="uk", date="2024-09-30"))
    # 0.0000125 x 37,856 x (1 - 0.25) = 0.35490 -> £0.35
    assert v.pounds == Decimal("0.35") and str(v.pounds) == "0.35"
    assert v.pennies == 35 and v.to_dict()["amount"] == v.amount
    half = v.model_copy(update={"amount": 0.125})
    assert half.pounds == Decimal("0.13")  # half away from zero


def test_value_at_exactly_the_largest_amount_is_valued_on_both_paths() -> None:
    """A mutation audit: `peak <= MAX_AMOUNT` as `<` went unseen: an outcome worth exactly
    £1,000,000,000,000 (4e9 t of carbon at £250) would be refused as more than itself by
    value() while value_frame valued it. It is the most one outcome is valued at, on both."""
    import pandas as pd

    from socialvalue_tom.outcome import MAX_AMOUNT

    table = sv.load_table(path=TINY)
    outcome = sv.Outcome(measure="env-carbon", quantity=4e9, unit="tCO2e", region="uk",
                         date="2024-06-01")
    assert MAX_AMOUNT == 1e12 and sv.value(outcome, table).amount == 1e12
    frame = sv.value_frame(pd.DataFrame([outcome.model_dump(include={
        "measure", "quantity", "unit", "region", "date"})]), table)
    assert frame["value_gbp"].tolist() == [1e12]
    over = outcome.model_copy(update={"quantity": 4.000000004e9})
    with pytest.raises(sv.RuleError, match=r"more than £1,000,000,000,000"):
        sv.value(over, table)
