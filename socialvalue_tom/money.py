"""Money at the edge: floats inside, pennies outside.

Rule: a float amount is rounded to the penny once, when reported, from its shortest decimal
representation (``repr``), half away from zero (``ROUND_HALF_UP`` in :mod:`decimal`). Totals are
the exactly rounded sum of the float amounts (:func:`math.fsum`), so they do not depend on row
order, then rounded the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_gbp", "to_pence", "to_pounds", "total"]

_PENNY = Decimal("0.01")


def to_pounds(amount: float) -> Decimal:
    """``amount`` rounded to the penny as a :class:`~decimal.Decimal` (e.g. ``Decimal('12.35')``)."""
    if not math.isfinite(amount):
        raise ValueError(f"amount {amount!r} is not finite")
    return Decimal(repr(float(amount))).quantize(_PENNY, rounding=ROUND_HALF_UP)


def to_pence(amount: float) -> int:
    """``amount`` in whole pence, rounded as :func:`to_pounds`."""
    return int(to_pounds(amount) * 100)


def total(amounts: Iterable[float]) -> Decimal:
    """Order-independent total of float amounts, rounded to the penny."""
    return to_pounds(math.fsum(amounts))


def format_gbp(amount: float | Decimal) -> str:
    """``£1,234.57`` (negative as ``-£1,234.57``)."""
    value = amount if isinstance(amount, Decimal) else to_pounds(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
