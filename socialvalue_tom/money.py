"""Money at the edge: floats inside, pennies outside.

Rule: a float amount is rounded to the penny once, when reported, in two documented steps:

1. its shortest decimal representation (``repr``) is snapped to the micro-pound (6 decimal places,
   half-even). This removes binary floating-point noise: ``3.5 * 250 * 1.025`` is
   ``896.8749999999999`` in floats but ``896.875`` in exact arithmetic;
2. the result is rounded to the penny half away from zero (``ROUND_HALF_UP``): ``£896.88``.

Totals are the exactly rounded sum of the float amounts (:func:`math.fsum`), so they do not depend
on row order, then rounded the same way. Tests check this against a Decimal reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

from socialvalue_tom.errors import RuleError

__all__ = ["format_gbp", "to_pence", "to_pounds", "total"]

_PENNY = Decimal("0.01")
_MICRO = Decimal("0.000001")
# Enough digits for any finite double (about 1e308) to keep micro-pound precision.
_CONTEXT = Context(prec=400)


def to_pounds(amount: float) -> Decimal:
    """``amount`` rounded to the penny as a :class:`~decimal.Decimal`, e.g. ``Decimal('12.35')``."""
    if not math.isfinite(amount):
        raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money")
    exact = Decimal(repr(float(amount)))
    snapped = exact.quantize(_MICRO, rounding=ROUND_HALF_EVEN, context=_CONTEXT)
    pounds = snapped.quantize(_PENNY, rounding=ROUND_HALF_UP, context=_CONTEXT)
    return pounds.copy_abs() if pounds.is_zero() else pounds  # never "-0.00"


def to_pence(amount: float) -> int:
    """``amount`` in whole pence, rounded as :func:`to_pounds`."""
    return int(to_pounds(amount) * 100)


def total(amounts: Iterable[float]) -> Decimal:
    """Order-independent total of float amounts, rounded to the penny."""
    return to_pounds(math.fsum(amounts))


def format_gbp(amount: float | Decimal) -> str:
    """``£1,234.57`` (negative as ``-£1,234.57``), rounded half-up to the penny as
    :func:`to_pounds` rounds, whether given a float or a Decimal."""
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money")
        value = amount.quantize(_PENNY, rounding=ROUND_HALF_UP, context=_CONTEXT)
        value = value.copy_abs() if value.is_zero() else value
    else:
        value = to_pounds(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
