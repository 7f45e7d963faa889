"""Money at the edge: floats inside, pennies outside.

Rule: a float amount is rounded to the penny once, when reported:

1. its shortest decimal representation (``repr``) is read exactly, and where it lies within
   four units in the last place (ulps) of a half-penny it *is* that half-penny: float
   arithmetic lands a hair either side of one (``3.5 * 250 * 1.025`` is ``896.8749999999999``
   in floats but ``896.875`` in exact arithmetic). Nothing further away is moved: £1000.0049995
   is a real amount below the half-penny, not noise;
2. the result is rounded to the penny half away from zero (``ROUND_HALF_UP``): ``£896.88``.

Totals are the exact sum of the float amounts, so they do not depend on row order, rounded
the same way: :func:`math.fsum` (the float nearest the exact sum) where a float of that size
still tells pennies apart, exact decimal arithmetic where it does not (a total above about
9e12, or an intermediate sum beyond float range). An amount that large is read at its exact
value rather than its shortest text, so a total of one amount is that amount. Tests check
this against a Decimal reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from socialvalue_tom.errors import RuleError

__all__ = ["format_gbp", "to_pence", "to_pounds", "total"]

_PENNY = Decimal("0.01")
_HALF = Decimal("0.5")
#: How close (in units in the last place of the float) to a half-penny counts as float error.
_NOISE_ULPS = 4
# Enough digits for any finite double (about 1e308) to the penny.
_CONTEXT = Context(prec=400)
# Enough digits to add doubles from about 1e308 down to 5e-324 exactly (about 770 digits).
_EXACT_SUM = Context(prec=1100)


def to_pounds(amount: float) -> Decimal:
    """``amount`` rounded to the penny as a :class:`~decimal.Decimal`, e.g. ``Decimal('12.35')``."""
    try:
        value = float(amount)
    except OverflowError:  # an int beyond float range
        raise RuleError(f"amount {amount!r} is too large for money") from None
    if not math.isfinite(value):
        raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money")
    if not _tells_pennies_apart(value):
        # Above about 9e12 a float's shortest text may differ from it by more than a penny
        # and nothing is float error: the float's exact value is the amount, as in a total.
        return _round(Decimal(value), Decimal(0))
    return _round(Decimal(repr(value)), Decimal(math.ulp(value) * _NOISE_ULPS))


def _tells_pennies_apart(value: float) -> bool:
    """Whether floats near ``value`` are close enough together for the half-penny rule."""
    return math.ulp(value) * _NOISE_ULPS < 0.005


def _round(exact: Decimal, noise: Decimal) -> Decimal:
    """``exact`` to the penny, half away from zero, after moving it onto a half-penny it lies
    within ``noise`` of (float error, see the module docs)."""
    with localcontext(_CONTEXT):
        cents = exact * 100
        half = (cents.to_integral_value(rounding=ROUND_FLOOR) + _HALF) / 100
        if noise and abs(exact - half) <= noise:
            exact = half
        try:
            pounds = exact.quantize(_PENNY, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than any money amount has
            raise RuleError(f"amount {exact} is too large for money") from None
    return pounds.copy_abs() if pounds.is_zero() else pounds  # never "-0.00"


def to_pence(amount: float) -> int:
    """``amount`` in whole pence, rounded as :func:`to_pounds`."""
    return int(to_pounds(amount) * 100)


def total(amounts: Iterable[float]) -> Decimal:
    """Order-independent total of float amounts, rounded to the penny."""
    values = list(amounts)
    try:
        nearest = math.fsum(values)
        if _tells_pennies_apart(nearest):
            return to_pounds(nearest)
    except OverflowError:  # an intermediate sum beyond float range (in some orders)
        pass
    # A total too large for a float to hold its pennies (or beyond float range): the float
    # nearest the sum would lose them, so add exactly (Decimal holds any double exactly).
    with localcontext(_EXACT_SUM):
        exact = sum((Decimal(v) for v in map(float, values)), Decimal(0))
    return _round(exact, Decimal(0))


def format_gbp(amount: float | Decimal) -> str:
    """``£1,234.57`` (negative as ``-£1,234.57``), rounded half-up to the penny as
    :func:`to_pounds` rounds (a Decimal has no float error to allow for)."""
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money")
        value = _round(amount, Decimal(0))
    else:
        value = to_pounds(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
