"""money: penny rounding at the edge, order-independent totals, and agreement with a Decimal
reference implementation of the whole valuation (tests/reference.py)."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import near_half_penny, pounds, reference_value
from strategies import assumptions, portfolios, to_frame, to_outcome, with_binding_caps

import socialvalue_tom as sv
from socialvalue_tom import money
from socialvalue_tom.frame import value_frame

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.mark.parametrize(("amount", "expected"), [
    (0.0, "0.00"), (0.125, "0.13"), (-0.125, "-0.13"), (1.005, "1.01"), (2.675, "2.68"),
    (875.0, "875.00"), (54000.0, "54000.00"), (0.004999, "0.00"), (-0.005, "-0.01"),
    (25624.999999999996, "25625.00"), (896.8749999999999, "896.88"),
])
def test_to_pounds_when_rounding_is_half_away_from_zero(amount: float, expected: str) -> None:
    """to_pounds rounds the float's decimal form half away from zero."""
    assert money.to_pounds(amount) == Decimal(expected)
    assert money.to_pence(amount) == int(Decimal(expected) * 100)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_to_pounds_when_not_finite_raises(bad: float) -> None:
    """A non-finite amount is refused, naming the value."""
    with pytest.raises(sv.RuleError, match="not finite"):
        money.to_pounds(bad)


@pytest.mark.parametrize("amount", [1e22, 1e26, 1e30, -3.5e40, 1.7976931348623157e308])
def test_to_pounds_when_amount_is_huge_is_exact(amount: float) -> None:
    """Any finite float rounds to a Decimal penny amount (no decimal.InvalidOperation): one
    too large to tell pennies apart is its exact value, as a total of it is."""
    with localcontext(Context(prec=400)):
        expected = Decimal(amount).quantize(Decimal("0.01"))
    assert money.to_pounds(amount) == expected
    assert money.total([amount]) == money.to_pounds(amount)


def test_total_when_too_large_for_float_pennies_then_exact() -> None:
    """A total above what a float holds to the penny keeps its pennies: 2.88483e16 + 10600.2
    is ...10600.20 (the float nearest the sum, ...10600, lost 20p), in every order, and the
    Decimal reference of the exact sum agrees."""
    amounts = [2.88483e16, 10600.2, 0.05, -0.04]
    reference = sum((Decimal(a) for a in amounts), Decimal(0)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert reference == Decimal("28848300000010600.21")
    assert money.total(amounts) == reference
    assert money.total(amounts[::-1]) == reference
    assert money.total([1e13, 0.004, 0.004]) == Decimal("10000000000000.01")


def test_total_when_cancelling_terms_is_exact_and_order_independent() -> None:
    """total() sums exactly (fsum): 1e16 + 1 - 1e16 is 1, in any order."""
    assert money.total([1e16, 1.0, -1e16]) == Decimal("1.00")
    assert money.total([1.0, -1e16, 1e16]) == Decimal("1.00")
    assert money.total([0.1] * 10) == Decimal("1.00")
    assert money.total([]) == Decimal("0.00")


@pytest.mark.parametrize(("amount", "text"), [
    (1234.567, "£1,234.57"), (-1234.567, "-£1,234.57"), (0.0, "£0.00"),
    (Decimal("1000000.5"), "£1,000,000.50"), (-0.001, "£0.00"),
])
def test_format_gbp_when_formatting_shows_pounds_and_pence(amount: Any, text: str) -> None:
    """format_gbp uses a pound sign, thousands separators, 2 dp, a leading minus."""
    assert money.format_gbp(amount) == text


def test_valuation_pennies_when_hand_computed(tiny_table: Any, make_outcome: Any) -> None:
    """3,500 kgCO2e in Scotland: 3.5 x £250 = £875.00 = 87,500p (fallback to uk)."""
    v = sv.value(make_outcome(measure="env-carbon", quantity=3500, unit="kgCO2e",
                              region="scotland"), tiny_table)
    assert v.pennies == 87_500


@SETTINGS
@given(rows=portfolios(max_size=20), a=assumptions,
       cap_ratio=st.sampled_from([None, 0.1, 0.45, 0.9]))
def test_total_when_portfolio_random_agrees_with_decimal_reference(
        tiny_table: Any, rows: list[dict[str, Any]], a: sv.Assumptions,
        cap_ratio: float | None) -> None:
    """Each row and the total agree to the penny with the Decimal reference (a difference of
    one penny is tolerated only where the exact value sits on a half-penny, within float
    error). Some examples give contract values that make the spend cap bind."""
    rows = with_binding_caps(rows, cap_ratio)
    out = value_frame(to_frame(rows), tiny_table, assumptions=a)
    refs = [reference_value(r, tiny_table, a) for r in rows]
    for row, ref, got in zip(rows, refs, out["value_gbp"], strict=True):
        scalar = sv.value(to_outcome(row), tiny_table, assumptions=a).amount
        assert money.to_pounds(scalar) == money.to_pounds(got)
        diff = abs(money.to_pounds(got) - pounds(ref))
        assert diff == 0 or (diff == Decimal("0.01") and near_half_penny(ref)), (row, ref, got)
    exact_total = sum(refs, Decimal(0))
    diff = abs(money.total(out["value_gbp"]) - pounds(exact_total))
    size = sum((abs(r) for r in refs), Decimal(0))  # float error scales with the parts
    assert diff == 0 or (diff == Decimal("0.01") and near_half_penny(exact_total, scale=size))


@pytest.mark.parametrize("amount", [-0.0, -0.001, -0.004999])
def test_to_pounds_when_rounding_to_zero_is_never_negative_zero(amount: float) -> None:
    """A zero-quantity disbenefit is GBP 0.00, not -0.00."""
    assert str(money.to_pounds(amount)) == "0.00"


@pytest.mark.parametrize(("amount", "shown"), [
    (Decimal("1.005"), "£1.01"), (1.005, "£1.01"), (Decimal("0.125"), "£0.13"),
    (Decimal("-0.001"), "£0.00"), (Decimal("-2.345"), "-£2.35")])
def test_format_gbp_rounds_decimals_half_up_like_floats(amount: Any, shown: str) -> None:
    assert money.format_gbp(amount) == shown


@pytest.mark.parametrize("amount", [Decimal("Infinity"), Decimal("NaN")])
def test_format_gbp_refuses_non_finite_decimals(amount: Decimal) -> None:
    with pytest.raises(sv.RuleError, match="not finite"):
        money.format_gbp(amount)


@pytest.mark.parametrize(("amount", "expected"), [
    (1000.0049995, "1000.00"), (0.0049995, "0.00"), (1000.005, "1000.01"),
    (0.1 + 0.2 + 0.005 - 0.3, "0.01"),
])
def test_to_pounds_when_near_a_half_penny_moves_only_float_error(amount: float,
                                                                  expected: str) -> None:
    """Only an amount within a few ulps of a half-penny is that half-penny: £1000.0049995 is a
    real amount below it (the Decimal reference of its exact value agrees), and a float and a
    Decimal of the same amount format alike."""
    assert money.to_pounds(amount) == Decimal(expected)
    if abs(amount - round(amount, 7)) < 1e-12:
        assert money.format_gbp(Decimal(repr(amount))) == money.format_gbp(amount)


@pytest.mark.parametrize(("amount", "expected"), [
    # 3.38 ulps of 12.345 below the half-penny: float error, so the half-penny, rounded up.
    (12.344999999999994, "12.35"), (-12.344999999999994, "-12.35"),
    # 4.93 ulps of 96.875 below it: beyond the four-ulp window, a real amount below it.
    (96.87499999999993, "96.87"), (-96.87499999999993, "-96.87"),
    # 4.40 and 5.28 ulps below 1000.005: beyond the window too.
    (1000.0049999999995, "1000.00"), (1000.0049999999994, "1000.00"),
])
def test_the_half_penny_window_is_four_ulps_wide(amount: float, expected: str) -> None:
    """The edge of the window (module docs, rule 1), for an amount and for a total of one:
    an amount within four ulps of a half-penny is it, one just beyond is not."""
    assert money.to_pounds(amount) == Decimal(expected)
    assert money.total([amount]) == Decimal(expected)
    assert money.total(np.array([amount])) == Decimal(expected)


def test_total_when_partial_sums_overflow_adds_exactly() -> None:
    """fsum overflows on [1e308, 1e308, -1e308]; the exact total is the float 1e308."""
    assert money.total([1e308, 1e308, -1e308]) == Decimal(float("1e308")).quantize(
        Decimal("0.01"), context=Context(prec=400))


@pytest.mark.parametrize("call", [lambda: money.to_pounds(10 ** 400),  # type: ignore[arg-type]
                                  lambda: money.format_gbp(Decimal("1e400"))])
def test_money_when_amount_beyond_any_money_raises_rule_error(call: Any) -> None:
    with pytest.raises(sv.RuleError, match="too large"):
        call()


def test_exact_sum_when_total_beyond_float_range_raises_rule_error() -> None:
    from socialvalue_tom.streaming import ExactSum

    s = ExactSum()
    with pytest.raises(sv.RuleError, match="more than a float can hold"):
        s.add([1.5e308, 1.5e308])
        s.value()


def test_total_near_the_float_limit_does_not_depend_on_order() -> None:
    """fsum overflows in some orders only: the sum is then added exactly, as any total too
    large for a float to hold its pennies is, so every order gives one total."""
    orders = ([1e308, 1e308, -1e308, 0.1], [1e308, -1e308, 1e308, 0.1], [0.1, 1e308])
    assert len({money.total(o) for o in orders}) == 1
    m = 1e308  # half an ulp and the smallest double above it: a tie broken only exactly
    ties = ([m, -m, m, math.ulp(m) / 2, 5e-324], [m, m, -m, math.ulp(m) / 2, 5e-324])
    assert money.total(ties[0]) == money.total(ties[1])
    assert money.total([1.7e308, 1.7e308]) == Decimal(int(1.7e308) * 2)  # beyond floats: exact


def test_total_when_amounts_of_both_signs_cancel_then_the_half_penny_of_their_amounts() -> None:
    """1198.425 - 1103.97 is 94.455, rounded half up 94.46: the float sum, 94.45499999999993,
    is further from the half-penny than four ulps of 94 but within the error the two large
    amounts carry (the window is four ulps of the amounts summed)."""
    assert money.total([1198.425, -1103.97]) == Decimal("94.46")
    assert money.total([-1103.97, 1198.425]) == Decimal("94.46")
    assert money.total([457.04, -465.745]) == Decimal("-8.71")
    assert money.total([1000.0049995]) == Decimal("1000.00")  # a real amount: not moved


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.integers(min_value=-2_000_000, max_value=2_000_000), min_size=1, max_size=8))
def test_total_when_amounts_have_three_decimals_agrees_with_decimal_reference(
        thousandths: list[int]) -> None:
    """Amounts read from three-decimal figures (k / 1000), of any signs, total as the exact
    Decimal sum of those figures rounded half up: the float error never decides a penny."""
    amounts = [k / 1000 for k in thousandths]
    reference = (sum(Decimal(k) for k in thousandths) / 1000).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert money.total(amounts) == reference


def test_total_when_infinities_then_rule_error_says_not_finite() -> None:
    for amounts in ([math.inf], [math.inf, -math.inf], [1.0, math.nan]):
        with pytest.raises(sv.RuleError, match="finite"):
            money.total(amounts)


def test_total_when_many_mixed_sign_three_decimal_lists_then_all_agree_with_decimal() -> None:
    """5,000 seeded lists of 2 to 8 amounts in +-2000.000: every total is the Decimal sum of
    the figures rounded half up (before the window allowed for the amounts' error, about one
    list in 200 came out a penny off where large amounts cancelled)."""
    rng = np.random.default_rng(20261126)
    wrong = []
    for _ in range(5000):
        thousandths = rng.integers(-2_000_000, 2_000_001, size=int(rng.integers(2, 9))).tolist()
        reference = (sum(Decimal(k) for k in thousandths) / 1000).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        if money.total([k / 1000 for k in thousandths]) != reference:
            wrong.append(thousandths)
    assert wrong == []


@pytest.mark.parametrize("amount", [1e13 + 0.00390625, 3e13 + 0.00390625, 9.1e12 + 0.0039,
                                    5e12 + 0.002, 5e12 + 0.003, -5e12 - 0.0025,
                                    1.2e12 + 0.0045, 2.0**40 + 0.0046])
def test_to_pounds_above_1_1e12_reads_the_float_s_exact_value(amount: float) -> None:
    """Where four ulps are more than a twentieth of a penny (from 2**40, about 1.1e12), its
    exact value is the amount: 10000000000000.00390625 is .00, though its shortest text,
    10000000000000.004, lies within four ulps of the half penny; 5000000000000.002 was moved
    onto .005 and rounded up (a review found it: the window covered most of the penny)."""
    exact = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert money.to_pounds(amount) == exact
    assert money.total([amount]) == exact


def test_total_above_1_1e12_adds_exactly() -> None:
    """The sum 1e13 + 0.001 is 10000000000000.001 exactly: .00, not the half penny its nearest
    float's shortest text (…0.002) and noise would move it to."""
    assert money.total([1e13, 0.001]) == Decimal("10000000000000.00")
    assert money.total([1e13, 0.001, -0.001]) == Decimal("10000000000000.00")


@given(st.floats(min_value=1.0, max_value=1e14))
def test_to_pounds_never_moves_an_amount_more_than_a_twentieth_of_a_penny(x: float) -> None:
    """The half-penny window takes in float error only: the penny is that of the float's
    shortest text or of its exact value, moved by at most 0.0005 (a review found amounts
    near 5e12 moved by 0.003)."""
    got = money.to_pounds(x)
    candidates = {Decimal(repr(x)), Decimal(x)}
    assert any(abs(got - c) <= Decimal("0.005") + Decimal("0.0005") for c in candidates)
    if x >= 2.0**40:
        assert got == Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                          st.floats(-1e6, 1e6).map(lambda x: round(x, 3))), max_size=40))
def test_total_of_a_few_floats_in_python_equals_the_numpy_path(values: list[float]) -> None:
    """total() adds up to 32 plain floats without numpy (a summary of many groups called it
    four times a group, 26 µs a call): the same pounds as the array path, to the penny."""
    try:
        expected: Decimal | type[Exception] = money.total(np.array(values, dtype=np.float64))
    except sv.SocialValueError as exc:
        expected = type(exc)
    try:
        got: Decimal | type[Exception] = money.total(values)
    except sv.SocialValueError as exc:
        got = type(exc)
    assert got == expected


def test_total_when_a_row_was_not_valued_says_what_nan_marks_and_how_to_total() -> None:
    """value_frame(errors="collect") marks a row it did not value with NaN: total() still
    refuses it (never skipped without a word), and says what it is and how to total the
    valued rows (a notebook analyst's review: "amount nan is not finite", no hint)."""
    df = pd.DataFrame({"measure": ["env-carbon-saved"] * 2, "quantity": [1.0, -1.0],
                       "unit": ["tCO2e"] * 2, "region": ["uk"] * 2,
                       "date": ["2024-06-01"] * 2})
    out = sv.value_frame(df, errors="collect")
    for amounts in (out["value_gbp"], out["value_gbp"].tolist(), [math.nan] * 40):
        with pytest.raises(sv.RuleError, match=r"NaN is how value_frame .* marks a row it did "
                                               r"not value.*\.dropna\(\).*sv\.summarise") as info:
            money.total(amounts)
        assert info.value.count == sum(math.isnan(a) for a in amounts)
    assert money.total(out["value_gbp"].dropna()) == money.to_pounds(out["value_gbp"].iloc[0])


@pytest.mark.parametrize("amounts", [[1.0, pd.NA], [pd.NaT, 1.0], [None, 1.0],
                                     pd.Series([1.0, None], dtype="Float64")])
def test_total_when_an_amount_is_a_missing_marker_says_what_nan_marks(amounts: Any) -> None:
    """pd.NA and NaT are missing amounts too: the same typed error, not float()'s TypeError."""
    with pytest.raises(sv.RuleError, match=r"1 NaN .*marks a row it did not value"):
        money.total(amounts)


@pytest.mark.parametrize("amount", [pd.NA, None, pd.NaT])
def test_to_pounds_when_amount_is_missing_raises_rule_error_naming_it(amount: Any) -> None:
    """A missing amount is the module's typed error naming it, not float()'s bare TypeError."""
    with pytest.raises(sv.RuleError, match=rf"amount {re.escape(repr(amount))} is missing, "
                                           "not a number.*marks a row it did not value"):
        money.to_pounds(amount)
    with pytest.raises(sv.RuleError, match="is missing"):
        money.format_gbp(amount)


def test_to_pounds_when_amount_is_no_number_at_all_raises_rule_error_naming_its_type() -> None:
    with pytest.raises(sv.RuleError, match=r"amount \[1\] \(list\) is not a number"):
        money.to_pounds([1])  # type: ignore[arg-type]
    with pytest.raises(sv.RuleError, match=r"amount nan is not finite.*\.dropna\(\)"):
        money.to_pounds(math.nan)
