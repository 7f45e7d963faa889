"""Each valuation rule, once, as a function that works on numpy arrays and on scalars alike.

The scalar engine calls these with Python floats (N = 1) and the bulk path with float64 arrays;
both call them in the same order with the same operations, so the two paths give the same bits.
"""

from __future__ import annotations

from decimal import Context, Decimal, localcontext
from functools import lru_cache
from typing import Any, TypeVar, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from socialvalue_tom._arrays import sealed

__all__ = [
    "DISCOUNT_SCHEDULES",
    "additionality",
    "apply_cap",
    "complement",
    "confidence",
    "convert",
    "discount_factors",
    "duration_factor",
    "gross",
    "on_decimal_grid",
    "part_limit",
    "uplift",
]

Num = TypeVar("Num", float, NDArray[np.float64])

#: HM Treasury Green Book discount schedules: (last year of band, annual rate); the last band
#: (``None``) runs on without end. Green Book: 3.5% for years 1-30, 3.0% 31-75, 2.5% 76-125,
#: 2.0% 126-200, 1.5% 201-300, 1.0% from 301; health: the same bands at 1.5%, 1.29%, 1.07%,
#: 0.86%, 0.64% and 0.43% (the Green Book's rounding).
DISCOUNT_SCHEDULES: dict[str, tuple[tuple[int | None, float], ...]] = {
    "green-book": ((30, 0.035), (75, 0.030), (125, 0.025), (200, 0.020), (300, 0.015),
                   (None, 0.010)),
    "health": ((30, 0.015), (75, 0.0129), (125, 0.0107), (200, 0.0086), (300, 0.0064),
               (None, 0.0043)),
    "none": ((None, 0.0),),
}
HORIZON = 125
#: Last year (after the discount base year) the discount table covers.
DISCOUNT_YEARS = 2 * HORIZON


def _rate(bands: tuple[tuple[int | None, float], ...], t: int) -> float:
    """The annual rate of year ``t`` in a schedule."""
    return next(r for last, r in bands if last is None or t <= last)


@lru_cache(maxsize=8)
def discount_factors(schedule: str) -> np.ndarray:
    """Discount factor for years 0..250: DF[0] = 1, DF[t] = DF[t-1] / (1 + r(t)).

    The rate steps down by band (Green Book: 3.5% years 1-30, 3.0% 31-75, 2.5% 76-125, 2.0%
    126-200, 1.5% 201-300; see :data:`DISCOUNT_SCHEDULES`). Years past 125 are reachable only
    with a base year long before the outcome and a long duration. Each factor is the float
    nearest the exact one (:func:`_exact_discount`): dividing float by float year after year
    drifted 17 ulps by year 50 and 66 by year 232, more than the half-penny window of
    :mod:`socialvalue_tom.money` allows.
    """
    return sealed(np.array([float(f) for f in _exact_discount(schedule)]))


#: Significant digits of the exact discounting (far beyond a float's 17).
_EXACT_DIGITS = 60


@lru_cache(maxsize=8)
def _exact_discount(schedule: str) -> tuple[Decimal, ...]:
    """The discount factors of years 0..250 in decimal, to :data:`_EXACT_DIGITS` digits."""
    bands = DISCOUNT_SCHEDULES[schedule]
    with localcontext(Context(prec=_EXACT_DIGITS)):
        factors = [Decimal(1)]
        for t in range(1, DISCOUNT_YEARS + 1):
            factors.append(factors[-1] / (1 + Decimal(repr(_rate(bands, t)))))
    return tuple(factors)


@lru_cache(maxsize=32_768)
def _durations(drop_off: float, offset: int, schedule: str, upto: int) -> np.ndarray:
    """The duration factors of years 0..upto of an outcome with this drop-off starting
    ``offset`` years after the discount base year: sum over t < years of (1 - drop_off)^t x
    DF[offset + t], the running sums worked out in decimal (the drop-off as the decimal it was
    written as) and each rounded once to a float, so a factor is the same whatever ``upto``
    (:func:`_upto` gives a few sizes, so that short durations cost little)."""
    factors = _exact_discount(schedule)
    last = len(factors) - 1
    out = np.zeros(upto + 1)
    with localcontext(Context(prec=_EXACT_DIGITS)):
        retain = 1 - Decimal(repr(float(drop_off)))
        keep, total = Decimal(1), Decimal(0)
        for t in range(upto):
            total += keep * factors[min(offset + t, last)]
            keep *= retain
            out[t + 1] = float(total)
    return sealed(out)


def _upto(years: int) -> int:
    """The size of :func:`_durations` table that holds ``years``: 2, 4, 8 ... up to HORIZON."""
    return min(HORIZON, 1 << max(1, int(years) - 1).bit_length())


#: Decimal places a fraction may have for :func:`complement` to take it as that decimal.
_PLACES = 1e14


def complement(x: Num) -> Num:
    """``1 - x`` for a fraction ``x`` (a deadweight, a drop-off...), as the decimal the reader
    works out: where ``x`` > 0.5 is a decimal of at most 14 places (to float precision), the
    float nearest to 1 minus that decimal.

    Float ``1 - 0.93`` is ``0.06999999999999995``: the subtraction is exact, but it keeps the
    error of the float nearest 0.93, which is four ulps of the small result, enough to carry an
    amount that is exactly a half-penny (455.50 x (1 - 0.93) = £31.885) outside the window
    :mod:`socialvalue_tom.money` reads as one, and to round it down. Below 0.5 the result is
    at least 0.5 and the float's error stays under an ulp of it. Scalars and arrays go through
    the same numpy operations, so both paths give the same bits.
    """
    # The scalar engine's Python floats first: np.ndim alone costs more than the rest.
    if isinstance(x, float | int) or np.ndim(x) == 0:
        if not x > 0.5:
            return 1.0 - x
        return float(_decimal_complement(np.float64(x)))  # type: ignore[return-value]
    given = np.asarray(x, dtype=np.float64)
    out = 1.0 - given
    high = given > 0.5
    if high.any():  # rarely many: the rounding costs about 10 ms per million rows
        out[high] = _decimal_complement(given[high])
    return out


def _decimal_complement(x: Any) -> Any:
    """``1 - x``, snapped to 14 places where ``x`` has no more (see :func:`complement`)."""
    c = 1.0 - x
    # x x 1e14 is below 2**53 and within a fraction of an integer when x has 14 places; (1 - x)
    # x 1e14 is then within 0.2 of its integer, so the grid gives the decimal's nearest float.
    exact = on_decimal_grid(x, _PLACES) == x
    return np.where(exact, on_decimal_grid(c, _PLACES), c)


def on_decimal_grid(x: Any, scale: Any) -> Any:
    """``x`` rounded to the nearest multiple of ``1 / scale`` (``scale`` a power of ten, exact
    as a float up to 1e22), as a float: ``rint(x * scale) / scale``. Where ``x`` stands for a
    decimal on that grid and ``x * scale`` is below 2**53 and within a fraction of the integer
    it stands for, the result is the decimal's nearest float (the division rounds once).
    :func:`complement` and the double-counting remainder work out their decimals with it."""
    return np.rint(x * scale) / scale


def convert(quantity: Num, factor: Num) -> Num:
    """Quantity in the measure's canonical unit."""
    return quantity * factor


def gross(quantity: Num, proxy: Num) -> Num:
    """Gross value: canonical quantity times the proxy (GBP per canonical unit)."""
    return quantity * proxy


def additionality(value: Num, deadweight: Num, displacement: Num, attribution: Num) -> Num:
    """Net of deadweight, displacement and attribution: v (1-dw)(1-disp)(1-attr), each
    ``1 - x`` as :func:`complement` works it out."""
    return value * (complement(deadweight) * complement(displacement) * complement(attribution))


def confidence(value: Num, reduction: Num, sign: Num) -> Num:
    """Optimism-bias reduction for the outcome's confidence grade, applied to benefits only
    (``sign`` +1): optimism bias overstates benefits, so weak evidence of a disbenefit (``sign``
    -1) must not make the harm look smaller; it is counted in full."""
    return value * complement(reduction * (sign > 0))


def duration_factor(years: Num, drop_off: Num, offset: Num, schedule: str) -> Num:
    """sum over t < years of (1 - drop_off)^t * DF[offset + t].

    Computed exactly, in decimal, and rounded once (:func:`_durations`): a float sum of float
    terms drifted up to ten ulps over 50 years, enough to move an amount just under a half
    penny to the other side of it. Scalars and arrays read the same results (an array works
    them out once per distinct drop-off and offset, every number of years at once), so both
    paths agree exactly. ``offset`` is the outcome's first year minus the discount base year.
    """
    if np.ndim(years) == 0:
        return float(_durations(float(drop_off), int(offset), schedule,  # type: ignore[return-value]
                                _upto(int(years)))[int(years)])
    n = len(np.asarray(years))
    years_a = np.broadcast_to(np.asarray(years), (n,))
    drop_a = np.broadcast_to(np.asarray(drop_off, dtype=np.float64), (n,))
    off_a = np.broadcast_to(np.asarray(offset, dtype=np.intp), (n,))
    # One-year outcomes (most) are their year's discount factor, read from the table.
    out = discount_factors(schedule).take(np.clip(off_a, 0, DISCOUNT_YEARS))
    longer = np.flatnonzero(years_a > 1)
    if longer.size:
        y = np.clip(years_a[longer], 0, HORIZON).astype(np.intp)
        o = np.clip(off_a[longer], 0, DISCOUNT_YEARS).astype(np.int64)
        # One integer key per (drop-off, offset): factorising integers is fast.
        drops, drop_values = pd.factorize(drop_a[longer])
        codes, pairs = pd.factorize(drops.astype(np.int64) * (DISCOUNT_YEARS + 1) + o)
        result = np.empty(longer.size)
        upto = _upto(int(y.max()))
        # The rows sorted by pair, then the pairs taken a slice at a time, so that at most
        # _PAIRS_AT_ONCE arrays of HORIZON + 1 factors are held together.
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(0, len(pairs) + _PAIRS_AT_ONCE,
                                                          _PAIRS_AT_ONCE))
        for k, first in enumerate(range(0, len(pairs), _PAIRS_AT_ONCE)):
            chunk = pairs[first:first + _PAIRS_AT_ONCE].tolist()
            table = np.stack([
                _durations(float(drop_values[key // (DISCOUNT_YEARS + 1)]),
                           int(key % (DISCOUNT_YEARS + 1)), schedule, upto)
                for key in chunk])
            rows = order[bounds[k]:bounds[k + 1]]
            result[rows] = table[codes[rows] - first, y[rows]]
        out[longer] = result
    return out  # type: ignore[return-value]


#: Distinct (drop-off, offset) pairs whose factors duration_factor holds at once (8 MB).
_PAIRS_AT_ONCE = 8192


def uplift(value: Num, factor: Num) -> Num:
    """Restate in another price year: value times index[to] / index[from]."""
    return value * factor


def apply_cap(value: Num, limit: Num) -> Num:
    """Cap the value at ``limit`` (``inf`` where no cap applies)."""
    return np.minimum(value, limit)  # type: ignore[no-any-return]


#: Relative slack on a part's share of a limit. A part's canonical quantity is
#: (quantity x share) x factor while its limit is limit x share: a few rounding steps apart from
#: the row's quantity x factor against the limit, so without slack a row exactly at a bound (in
#: a unit that needs converting) could have a part refused for it.
PART_SLACK = 8 * 2.0**-52


@overload
def part_limit(limit: float, share: float, *, upper: bool) -> float: ...


@overload
def part_limit(limit: float | NDArray[np.float64], share: NDArray[np.float64], *,
               upper: bool) -> NDArray[np.float64]: ...


def part_limit(limit: float | NDArray[np.float64], share: float | NDArray[np.float64], *,
               upper: bool) -> float | NDArray[np.float64]:
    """A part's share of a row's quantity limit (a part of a row reported for a period, see
    ``socialvalue_tom.periods``): ``limit x share``, widened by :data:`PART_SLACK` (outwards:
    up for an upper limit, down for a lower one); the limit itself where ``share`` is 1."""
    widen = 1.0 + PART_SLACK if upper else 1.0 - PART_SLACK
    if isinstance(share, np.ndarray):
        with np.errstate(invalid="ignore"):  # inf x 0 on a row already refused for its share
            scaled = limit * share * widen
        out: NDArray[np.float64] = np.where(share == 1.0, limit, scaled)
        return out
    if isinstance(limit, np.ndarray):
        raise TypeError("part_limit(): an array limit needs an array share")
    return limit if share == 1.0 else limit * share * widen
