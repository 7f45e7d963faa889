"""Money at the edge: floats inside, pennies outside.

Rule: a float amount is rounded to the penny once, when reported:

1. its shortest decimal representation (``repr``) is read exactly, and where it lies within
   four units in the last place (ulps) of a half-penny it *is* that half-penny: float
   arithmetic lands a hair either side of one (``3.5 * 250 * 1.025`` is ``896.8749999999999``
   in floats but ``896.875`` in exact arithmetic). Nothing further away is moved: £1000.0049995
   is a real amount below the half-penny, not noise (a total's window is wider, four ulps of
   each amount summed, since each carries its own float error: a total of many large amounts
   that lands within that distance, about six thousandths of a penny per million rows of
   £100,000, is read as the half-penny). The window is never wider than a twentieth of a
   penny (:data:`_MAX_WINDOW`): an amount or total whose window would be wider is rounded
   at its exact value instead, with no window;
2. the result is rounded to the penny half away from zero (``ROUND_HALF_UP``): ``£896.88``.

Totals are the exact sum of the float amounts, so they do not depend on row order, rounded
the same way, the window around a half-penny being four ulps of the sum or of the amounts
summed (:func:`spread`), whichever is wider (amounts of both signs leave a small sum carrying
the rounding error of large amounts): :func:`math.fsum` (the float nearest the exact sum)
where that window is narrow enough, exact decimal arithmetic where it is not (a total above
about 1.1e12, 2**40, a sum of millions of amounts near that size, or an intermediate sum
beyond float range). An amount that large is read at its exact value rather than its
shortest text, so a total of one amount is that amount. Tests check this against a Decimal
reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Any

import numpy as np

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import is_missing
from socialvalue_tom.errors import RuleError

__all__ = ["format_gbp", "to_pence", "to_pounds", "total"]

_PENNY = Decimal("0.01")
_HALF = Decimal("0.5")
#: How close (in units in the last place of the float) to a half-penny counts as float error.
_NOISE_ULPS = 4
#: The widest window (GBP) read as float error: a twentieth of a penny. Beyond it (a float
#: above 2**40, about 1.1e12, where four ulps are 0.1p and more), the window would take in
#: real amounts (5000000000000.002 moved onto .005 and rounded up), so the exact value is
#: rounded instead.
_MAX_WINDOW = 0.0005
#: Up to this many amounts, total() adds them in plain Python (see there).
_SMALL = 32
# Enough digits for any finite double (about 1e308) to the penny.
_CONTEXT = Context(prec=400)
# Enough digits to add doubles from about 1e308 down to 5e-324 exactly (about 770 digits).
_EXACT_SUM = Context(prec=1100)
#: What a missing amount most likely is, and how to total without it: told, never skipped (a
#: total that left out rows without a word would pass for the whole).
_NOT_VALUED = ("NaN is how value_frame (errors=\"collect\") marks a row it did not value: "
               "total the valued rows with money.total(out[\"value_gbp\"].dropna()), or use "
               "sv.summarise(out), which totals them and counts the rows not valued")


@own_decimal_context
def to_pounds(amount: float | Decimal) -> Decimal:
    """``amount`` rounded to the penny as a :class:`~decimal.Decimal`, e.g. ``Decimal('12.35')``.

    A float (or int, or numpy number) is rounded by the half-penny rule of the module docs; a
    :class:`~decimal.Decimal` has no float error to allow for and is rounded as it is. A
    boolean, text, bytes or a complex number is a :class:`TypeError` (``True`` is not £1); an
    amount that is not finite, missing (None, ``pd.NA``) or no number at all a
    :class:`~socialvalue_tom.RuleError` naming it.
    """
    _refuse_non_number(amount)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money")
        return _round(amount, Decimal(0))
    value = _as_float(amount)
    if not math.isfinite(value):
        hint = f" ({_NOT_VALUED})" if math.isnan(value) else ""
        raise RuleError(f"amount {amount!r} is not finite: only finite amounts are money{hint}")
    if not _tells_pennies_apart(value):
        # Above about 1.1e12 the window would take in real amounts (and above 9e12 a float's
        # shortest text may differ from it by a penny): the float's exact value is the
        # amount, as in a total.
        return _round(Decimal(value), Decimal(0))
    return _round(Decimal(repr(value)), Decimal(math.ulp(value) * _NOISE_ULPS))


def _refuse_non_number(value: object) -> None:
    """:class:`TypeError` for what Python or numpy would read as a number but no amount of
    money is: a boolean (1 or 0), text or bytes (``float("5")``), a complex number (numpy
    would drop its imaginary part)."""
    if isinstance(value, bool | np.bool_ | str | bytes | bytearray | complex
                  | np.complexfloating):
        raise TypeError(f"an amount of money is a number, not {type(value).__name__} "
                        f"({value!r:.40})")


def _refuse_non_numbers(values: list[Any] | np.ndarray) -> None:
    """:func:`_refuse_non_number` for each of ``values``, by the types they hold (a set of a
    few types, gathered in C: a million floats cost what one does to check)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "fiu":
            return
        if values.dtype.kind == "b":
            raise TypeError("amounts of money are numbers, not booleans")
        if values.dtype.kind in "US":
            raise TypeError("amounts of money are numbers, not text")
        if values.dtype.kind == "c":
            raise TypeError("amounts of money are real numbers, not complex ones")
        values = values.ravel().tolist()
    for kind in set(map(type, values)):
        if issubclass(kind, bool | np.bool_ | str | bytes | bytearray | complex
                      | np.complexfloating):
            _refuse_non_number(next(v for v in values if type(v) is kind))


def _tells_pennies_apart(value: float) -> bool:
    """Whether floats near ``value`` are close enough together for the half-penny rule."""
    return math.ulp(value) * _NOISE_ULPS < _MAX_WINDOW


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


@own_decimal_context
def to_pence(amount: float | Decimal) -> int:
    """``amount`` in whole pence, rounded as :func:`to_pounds`."""
    return int(to_pounds(amount).scaleb(2, _CONTEXT))  # exact: no 28-digit default rounding


@own_decimal_context
def total(amounts: Iterable[float | Decimal]) -> Decimal:
    """Order-independent total of float amounts, rounded to the penny.

    ``amounts`` is a list, array, Series or other collection of numbers (a Decimal counts as
    its float, unlike :func:`to_pounds`, which rounds it as it is: the two differ only for a
    Decimal of more digits than a float holds); text, bytes, booleans or complex numbers,
    given as the collection or in it, are a :class:`TypeError` (``total("12")`` would
    otherwise add 1 and 2). NaN is a :class:`~socialvalue_tom.RuleError` saying it marks a row
    :func:`~socialvalue_tom.value_frame` did not value (total ``.dropna()`` of the column, or
    use :func:`~socialvalue_tom.summarise`).
    """
    if isinstance(amounts, str | bytes | bytearray):
        raise TypeError(f"total() adds a collection of amounts, not {type(amounts).__name__} "
                        f"({amounts!r:.40})")
    to_numpy = getattr(amounts, "to_numpy", None)  # a pandas Series: its array, not a list
    given = (amounts if isinstance(amounts, list | np.ndarray)
             else to_numpy() if callable(to_numpy) else list(amounts))
    # A few floats (a group's amounts in a summary of many groups): the same sums in plain
    # Python, without numpy's per-call cost, five times faster. math.ulp is np.spacing for
    # finite floats, and fsum of the ulps is the exact sum spread() gives. Below 1e300 no
    # partial sum of 32 passes float range (those go the general way, which adds exactly).
    if type(given) is list and len(given) <= _SMALL and all(
            type(v) is float and abs(v) < 1e300 for v in given):
        _refuse_not_valued(fsum := math.fsum(given), given)
        return sum_to_pounds(given, fsum, math.fsum(math.ulp(v) for v in given))
    _refuse_non_numbers(given)
    try:  # in C: an amount beyond float range (a huge int) is refused below, naming it
        array = np.asarray(given, dtype=np.float64)
    except (OverflowError, TypeError):  # TypeError: pd.NA, NaT or no number, named below
        array = np.asarray([_as_float(v, missing=math.nan) for v in given], dtype=np.float64)
    except ValueError:  # a signalling NaN Decimal, which float() refuses
        raise RuleError("amounts include one that is not a number: only finite amounts are "
                        "money") from None
    # The floats as numpy read them (a Decimal or an int as its float), so the sum, the exact
    # sum and the spread all see the same amounts.
    values: list[float] = array.tolist()
    try:
        nearest: float | None = math.fsum(values)
    except OverflowError:  # an intermediate sum beyond float range (in some orders)
        nearest = None
    except ValueError:  # inf and -inf
        raise RuleError("amounts include infinities: only finite amounts are money") from None
    _refuse_not_valued(nearest, values)
    return sum_to_pounds(values, nearest, spread(array))


def _refuse_not_valued(nearest: float | None, values: list[float]) -> None:
    """:class:`RuleError` when ``values`` hold NaN (their fsum, ``nearest``, is NaN then; None
    where it overflowed), with what NaN most likely is: a row value_frame did not value.
    Refused, never skipped: a total that left out rows without a word would pass for the
    whole."""
    if nearest is not None and not math.isnan(nearest):
        return
    count = sum(1 for v in values if math.isnan(v))
    if not count:
        return
    raise RuleError(
        f"amounts include {count} NaN (missing) value{'s' if count > 1 else ''}: only finite "
        f"amounts are money; {_NOT_VALUED} (out.attrs[\"issues\"] says why each was not "
        "valued)", count=count)


def spread(values: list[float] | np.ndarray) -> float:
    """The sum of the values' units in the last place: how far, at most, their exact sum can
    lie from the sum of the decimal amounts they were read from (each float is within half an
    ulp of its amount). Exact (ulps are powers of two), so it does not depend on order."""
    array = np.asarray(values, dtype=np.float64)
    if not array.size:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        ulps = np.spacing(np.abs(array))
    # Powers of two add exactly in floats while they span fewer than 53 bits with the count:
    # then numpy's sum is exact (and order independent); otherwise fsum is.
    largest, smallest = float(ulps.max()), float(ulps.min())
    if math.isfinite(largest) and smallest > 0 and largest / smallest * ulps.size < 2.0**52:
        return float(ulps.sum())
    return math.fsum(ulps.tolist())


@own_decimal_context
def sum_to_pounds(terms: list[float], nearest: float | None, ulps: float) -> Decimal:
    """The exact sum of ``terms`` (``nearest``: :func:`math.fsum` of them, None where it
    overflows) rounded to the penny by the half-penny rule, its float error allowed for by
    ``ulps`` (:func:`spread` of the amounts summed, which may be other floats than ``terms``
    with the same exact sum).

    The window around a half-penny is four ulps of the sum or of the amounts, whichever is
    wider: with amounts of both signs the sum is smaller than the terms whose rounding error it
    carries (1198.425 - 1103.97 is 94.455, not the float 94.45499999999993). Where that window
    reaches :data:`_MAX_WINDOW`, it would take in real amounts: the exact sum is rounded as
    it is.
    """
    if nearest is not None:
        if not math.isfinite(nearest):
            return to_pounds(nearest)  # refused: not finite
        noise = _NOISE_ULPS * max(math.ulp(nearest), ulps)
        if noise < _MAX_WINDOW:
            return _round(Decimal(repr(nearest)), Decimal(noise))
    # Too large for a float to hold its pennies (or beyond float range): the float nearest the
    # sum would lose them, so add exactly (Decimal holds any double exactly).
    with localcontext(_EXACT_SUM):
        exact = sum((Decimal(v) for v in terms), Decimal(0))
    return _round(exact, Decimal(0))


def _as_float(value: Any, *, missing: float | None = None) -> float:
    """``value`` as a float; :class:`RuleError` naming it when it is beyond float range or
    not a number at all. A missing marker (None, ``pd.NA``, NaT) is ``missing`` where one is
    given (a total then tells what NaN most likely is), else refused as missing."""
    try:
        return float(value)
    except OverflowError:  # an int beyond float range
        raise RuleError(f"amount {value!r} is too large for money") from None
    except (TypeError, ValueError):  # float() says only "must be a real number"
        pass
    # A signalling NaN is no missing marker (and asking pandas whether it is one raises).
    if not isinstance(value, Decimal) and is_missing(value):
        if missing is not None:
            return missing
        raise RuleError(f"amount {value!r} is missing, not a number: only finite amounts are "
                        f"money ({_NOT_VALUED})")
    raise RuleError(f"amount {value!r:.40} ({type(value).__name__}) is not a number: only "
                    "finite amounts are money")


@own_decimal_context
def format_gbp(amount: float | Decimal) -> str:
    """``£1,234.57`` (negative as ``-£1,234.57``), rounded half-up to the penny as
    :func:`to_pounds` rounds (a Decimal has no float error to allow for)."""
    value = to_pounds(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
