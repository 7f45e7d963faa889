"""rules.steps: each rule on scalars and arrays alike, with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from socialvalue_tom.rules import steps


def test_discount_factors_when_green_book_steps_down_by_band() -> None:
    """DF[t] = DF[t-1]/(1+r): 3.5% to year 30, 3.0% to 75, 2.5% to 125, 2.0% to 200, 1.5% to
    300; read-only."""
    df = steps.discount_factors("green-book")
    assert df[0] == 1.0 and df[1] == pytest.approx(1 / 1.035)
    assert df[31] / df[30] == pytest.approx(1 / 1.03)
    assert df[76] / df[75] == pytest.approx(1 / 1.025)
    assert df[125] / df[124] == pytest.approx(1 / 1.025)
    assert df[126] / df[125] == pytest.approx(1 / 1.02)
    assert df[200] / df[199] == pytest.approx(1 / 1.02)
    assert df[201] / df[200] == pytest.approx(1 / 1.015)
    assert df.flags.writeable is False
    with pytest.raises(ValueError):  # cached and shared: not made writeable again either
        df.setflags(write=True)
    assert steps.discount_factors("health")[1] == pytest.approx(1 / 1.015)
    assert (steps.discount_factors("none") == 1.0).all()


def test_discount_factors_when_past_year_125_use_the_long_term_bands() -> None:
    """Hand-computed: DF[250] = 1 / (1.035^30 1.03^45 1.025^50 1.02^75 1.015^50) (Green Book)
    = 1 / 339.1516; health: 1.015^30 1.0129^45 1.0107^50 1.0086^75 1.0064^50."""
    green = 1 / (1.035**30 * 1.03**45 * 1.025**50 * 1.02**75 * 1.015**50)
    health = 1 / (1.015**30 * 1.0129**45 * 1.0107**50 * 1.0086**75 * 1.0064**50)
    assert steps.discount_factors("green-book")[250] == pytest.approx(green, rel=1e-12)
    assert steps.discount_factors("health")[250] == pytest.approx(health, rel=1e-12)
    assert steps.discount_factors("green-book")[250] == pytest.approx(1 / 339.1516, rel=1e-6)
    assert steps.discount_factors("health")[150] == pytest.approx(
        1 / (1.015**30 * 1.0129**45 * 1.0107**50 * 1.0086**25), rel=1e-12)


def test_discount_schedules_when_listed_follow_the_green_book_bands() -> None:
    """Green Book: 3.5% (0-30), 3.0% (31-75), 2.5% (76-125), 2.0% (126-200), 1.5% (201-300),
    1.0% (301+); health: 1.5%, 1.29%, 1.07%, 0.86%, 0.64%, 0.43%."""
    assert steps.DISCOUNT_SCHEDULES["green-book"] == (
        (30, 0.035), (75, 0.030), (125, 0.025), (200, 0.020), (300, 0.015), (None, 0.010))
    assert steps.DISCOUNT_SCHEDULES["health"] == (
        (30, 0.015), (75, 0.0129), (125, 0.0107), (200, 0.0086), (300, 0.0064), (None, 0.0043))


@pytest.mark.parametrize(("years", "drop", "offset", "expected"), [
    (1, 0.0, 0, 1.0), (3, 0.2, 0, 1 + 0.8 / 1.035 + 0.64 / 1.035**2),
    (2, 0.0, 1, 1 / 1.035 + 1 / 1.035**2), (2, 1.0, 0, 1.0),
])
def test_duration_factor_when_scalar_or_array_agree(years: int, drop: float, offset: int,
                                                    expected: float) -> None:
    """sum_t (1-d)^t DF[offset+t]; array and scalar paths give the same bits."""
    s = steps.duration_factor(years, drop, offset, "green-book")
    a = steps.duration_factor(np.array([years, 1.0]), np.array([drop, 0.0]),
                              np.array([offset, 0]), "green-book")
    assert s == pytest.approx(expected, rel=1e-14)
    assert np.float64(s).view(np.uint64) == a[0:1].view(np.uint64)[0]
    assert a[1] == 1.0


def test_rules_when_applied_give_hand_values() -> None:
    """convert, gross, additionality, confidence, uplift and cap."""
    assert steps.convert(3500.0, 0.001) == pytest.approx(3.5)
    assert steps.gross(3.5, 250.0) == 875.0
    assert steps.additionality(60000.0, 0.1, 0.0, 0.0) == pytest.approx(54000.0)
    assert steps.additionality(100.0, 0.5, 0.5, 0.5) == 12.5
    assert steps.confidence(25000.0, 0.1, 1.0) == 22500.0
    assert steps.uplift(25000.0, 1.025) == pytest.approx(25625.0)
    assert steps.apply_cap(45000.0, 5000.0) == 5000.0
    assert steps.apply_cap(45000.0, math.inf) == 45000.0
    np.testing.assert_array_equal(steps.apply_cap(np.array([1.0, 9.0]), np.array([5.0, 5.0])),
                                  [1.0, 5.0])


def _nearest_float_of_one_minus(x: float) -> float:
    from decimal import Decimal
    return float(Decimal(1) - Decimal(repr(x)))


@pytest.mark.parametrize("x", [0.93, 0.999999, 0.51, 0.7, 0.875, 0.99, 0.6, 0.123, 0.0, 1.0,
                               0.5, 0.25])
def test_complement_when_fraction_is_a_short_decimal_is_the_decimal_s_nearest_float(
        x: float) -> None:
    """1 - 0.93 is 0.06999999999999995 in floats, 0.07 as a reader works it out."""
    want = _nearest_float_of_one_minus(x)
    assert steps.complement(x) == want
    assert steps.complement(np.array([x, x]))[0] == want


def test_complement_when_fraction_has_more_places_than_14_is_the_float_difference() -> None:
    """A fraction that is not a short decimal (1/3, 2/3 + noise) is left to float arithmetic."""
    for x in (2 / 3, 0.9 + 1e-16 * 3, 0.7 + 2**-50):
        assert steps.complement(x) == 1.0 - x
        assert steps.complement(np.array([x]))[0] == 1.0 - x


@given(st.one_of(st.floats(0, 1), st.integers(0, 10**6).map(lambda k: k / 10**6),
                 st.integers(0, 10**14).map(lambda k: k / 10**14)))
@example(0.5)  # the values about the branch at 0.5, every run
@example(0.55)
@example(0.56)
@example(0.57)
def test_complement_when_scalar_or_array_gives_the_same_bits(x: float) -> None:
    """The scalar engine and the bulk path call it on floats and on arrays: same bits, and
    never further than an ulp of 1 from the float subtraction."""
    one = steps.complement(x)
    many = steps.complement(np.array([0.1, x, 0.95]))
    assert np.float64(one).tobytes() == many[1].tobytes()
    assert abs(one - (1.0 - x)) <= 2**-52


def test_additionality_when_exactly_a_half_penny_rounds_up_as_the_decimal_does() -> None:
    """455.50 x (1 - 0.93) = £31.885: float arithmetic gave 31.884999999999977, outside the
    four-ulp window, and £31.88; 625 x £10 x (1 - 0.93) x (1 - 0.07) likewise £406.875."""
    from socialvalue_tom.money import to_pounds

    assert str(to_pounds(steps.additionality(455.5, 0.93, 0.0, 0.0))) == "31.89"
    got = steps.additionality(np.array([455.5]), np.array([0.93]), np.array([0.0]),
                              np.array([0.0]))
    assert str(to_pounds(float(got[0]))) == "31.89"
    assert str(to_pounds(steps.additionality(6250.0, 0.0, 0.93, 0.07))) == "406.88"


def test_every_one_minus_factor_is_the_decimal_s_when_exactly_a_half_penny() -> None:
    """Each place a fraction is taken from 1 works it out as a decimal: displacement and
    attribution beside deadweight, the confidence reduction, the drop-off's retention (scalar
    and arrays); float 1 - 0.93 would leave 455.50 x 0.07 at 31.884999999999977."""
    assert steps.additionality(455.5, 0.0, 0.93, 0.0) == 31.885
    assert steps.additionality(455.5, 0.0, 0.0, 0.93) == 31.885
    assert steps.confidence(455.5, 0.93, 1.0) == 31.885
    for schedule in ("none", "green-book"):
        df = steps.discount_factors(schedule)
        want = 0.0 + 1.0 * float(df[0]) + 0.07 * float(df[1])
        assert steps.duration_factor(2, 0.93, 0, schedule) == want
        got = steps.duration_factor(np.array([2]), np.array([0.93]), np.array([0]), schedule)
        assert got[0] == want


def test_complement_when_fraction_has_14_places_is_still_the_decimal_s() -> None:
    from decimal import Decimal

    x = 0.93123456789012
    assert steps.complement(x) == float(Decimal(1) - Decimal(repr(x)))


@pytest.mark.parametrize("schedule", ["green-book", "health"])
def test_discount_factors_are_the_floats_nearest_the_exact_ones(schedule: str) -> None:
    """Dividing float by float year by year drifted 17 ulps by year 50 (66 by year 232)."""
    from decimal import Decimal, localcontext

    bands = steps.DISCOUNT_SCHEDULES[schedule]
    with localcontext() as ctx:
        ctx.prec = 80
        exact = Decimal(1)
        for t, got in enumerate(steps.discount_factors(schedule)):
            if t:
                rate = next(r for last, r in bands if last is None or t <= last)
                exact /= 1 + Decimal(repr(rate))
            assert got == float(exact), t


@pytest.mark.parametrize(("quantity", "years", "pennies"), [
    (8157.42, 109, 6_164_508_362), (25557.74, 50, 15_651_116_415),
    (722782.83, 50, 442_619_661_028),
])
def test_long_discounted_values_round_to_the_exact_penny(
        tiny_table: object, quantity: float, years: int, pennies: int) -> None:
    """Amounts a few ulps under a half penny (61,645,083.624999941): the drifted factor put
    them over it, scalar and bulk alike (by hand: sum of 1/DF over the years, in Decimal)."""
    import datetime as dt

    import pandas as pd

    import socialvalue_tom as sv

    o = sv.Outcome(measure="env-carbon", quantity=quantity, unit="tCO2e", region="uk",
                   date=dt.date(2024, 9, 30), years=years)
    assert sv.value(o, tiny_table).pennies == pennies  # type: ignore[arg-type]
    out = sv.value_frame(pd.DataFrame([o.model_dump()]), tiny_table)  # type: ignore[arg-type]
    assert sv.money.to_pence(out["value_gbp"].iloc[0]) == pennies
