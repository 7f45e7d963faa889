"""Phase 1 of bulk valuation: per-row lookups, worked out once per distinct value.

Each text column is factorised once; what depends only on a distinct value (pint for each
(measure, unit) pair, the edition for each date, the measure and region positions in each
edition) is computed once per distinct value and gathered onto the rows. Every bad row is
reported here.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from socialvalue_tom._bulk.issues import CellKey, Issues, Key
from socialvalue_tom._text import (
    EXCEL_ROUNDED_ID,
    Boolean,
    NotAValue,
    cell_codes,
    cell_number,
    date_hint,
    did_you_mean,
    excel_error_value,
    excel_rounded_id,
    grouped_digits,
    key_text,
    month_first_column,
    name_key,
    narrow_floats_as_written,
    near_names,
    number_with_unit_advice,
    period_day,
    period_span_hint,
    plain_number_advice,
    region_advice,
    shortened,
    shown,
    text_is_an_address,
)
from socialvalue_tom._workbook import ScaledByFormat
from socialvalue_tom.errors import OutcomeError, SocialValueError
from socialvalue_tom.outcome import (
    ISO_DATE,
    MAX_CONTRACT_VALUE,
    MAX_QUANTITY,
    MAX_REGION_LENGTH,
    MAX_YEARS,
    MIN_CONTRACT_VALUE,
    NEGATIVE_ADVICE,
    STAGES,
    Assumptions,
)
from socialvalue_tom.rules.steps import DISCOUNT_YEARS, part_limit
from socialvalue_tom.tables.schema import FRACTION_COLUMNS, FieldBounds, QuantityBounds
from socialvalue_tom.tables.stack import EditionStack

__all__ = ["FRACTION_COLUMNS", "FloatArray", "Rows", "Seen", "cell_floats", "field_values",
           "lookups", "parse_day"]

_STAGES = STAGES
_BAD_DAY = np.int64(-(2**62))
#: The days (since 1970-01-01) of datetime.date.min and datetime.date.max.
_MIN_DAY = (dt.date.min - dt.date(1970, 1, 1)).days
_MAX_DAY = (dt.date.max - dt.date(1970, 1, 1)).days
FloatArray = NDArray[np.float64]


@dataclass
class Rows:
    """Per-row lookups (positions are -1 where the row is invalid)."""

    q: FloatArray
    ed: NDArray[np.int16]
    m: NDArray[np.int16]
    em: NDArray[np.int32]      # flat (edition, measure) position in the stack
    emr: NDArray[np.int32]     # flat (edition, measure, region) position
    factor: FloatArray
    fy: NDArray[np.int16]
    reduction: FloatArray
    extra: dict[str, FloatArray]
    late: NDArray[np.bool_]    # dated after its edition's valid_to (carried forward)


def _codes(series: pd.Series) -> tuple[NDArray[np.intp], np.ndarray]:
    """Integer codes and distinct values (-1 for missing or blank), free for categoricals."""
    return cell_codes(series)


def _per_edition(table: np.ndarray, ed: NDArray[np.intp], codes: NDArray[np.intp],
                 fill: Any) -> np.ndarray:
    """Gather ``table[ed, code]`` per row (a flat take: faster than 2-D fancy indexing);
    ``fill`` where the row has no edition. The last column of ``table`` is for missing codes."""
    width = table.shape[1]
    flat = np.where(ed >= 0, ed * width + codes, -1)
    padded = np.append(table.ravel(), fill)
    return padded.take(flat)


@dataclass
class Seen:
    """What the blocks of one input have already worked out per distinct value."""

    days: dict[Any, int | None] = field(default_factory=dict)
    units: dict[tuple[int, int, Any], float | str] = field(default_factory=dict)
    #: The whole input's date column, where the input is valued in blocks: a month-first
    #: date in one block says how to read an ambiguous one in another (an adversarial review).
    all_dates: pd.Series | None = None
    _month_first: bool | None = None

    def month_first(self, block: Sequence[Any]) -> bool:
        """Whether the input's date column holds a date only month first (``06/30/2024``):
        worked out once, over the whole column where it is known, else over ``block``."""
        if self._month_first is None:
            if self.all_dates is None:
                return month_first_column(block)
            cells = self.all_dates
            if cells.dtype == object or pd.api.types.is_string_dtype(cells.dtype):
                distinct: Any
                try:
                    distinct = pd.unique(cells.astype(object))
                except TypeError:  # a container among the cells: each read as it is
                    distinct = cells.astype(object)
                self._month_first = month_first_column(distinct)
            else:  # dates, datetimes: no text to read either way
                self._month_first = False
        return self._month_first


def lookups(df: pd.DataFrame, s: EditionStack, a: Assumptions, issues: Issues,
            seen: Seen | None = None) -> Rows:
    """Per-row figures for ``df`` (one block); ``seen`` carries work across blocks."""
    seen = seen if seen is not None else Seen()
    measures = _codes(df["measure"])  # factorised once: both checks read the codes
    _unknown_everywhere(df["measure"], measures, s, issues)  # first: such a row is no outcome
    _totals_rows(df, measures[0], issues)
    q = _quantity(df["quantity"], issues)
    dates = _days(df["date"], issues, seen)
    ed = _editions(dates, s, a, issues)
    fy = dates.per_row(_financial_years(dates.days))
    late = (ed >= 0) & (dates.per_row(dates.days) > s.ends.take(np.clip(ed, 0, None)))
    m = _measures(df["measure"], measures, s, ed, issues)
    r = _regions(df["region"], s, ed, issues)
    factor = _unit_factors(df["unit"], s, ed, m, issues, seen.units)
    extra = _optional(df, issues)
    _check_requires(df, s, ed, m, issues)
    canonical = q * factor
    share = extra.get("period_share")
    # A part of a row reported for a period (apportion) is held to its share of the row's
    # limits, as in the scalar engine; without the column nothing is scaled (the hot path).
    part = None if share is None else np.where(np.isnan(share), 1.0, share)
    # The cap holds in the measure's own unit too: 1e12 kilo-anything is not a real claim.
    most = MAX_QUANTITY if part is None else part_limit(MAX_QUANTITY, part, upper=True)
    issues.add(canonical > most, "quantity", "too-large",
               lambda p: f"quantity {grouped_digits(float(canonical[p]))} in the measure's "
                         f"unit is above {MAX_QUANTITY:,.0f}" + _share_note(part, p))
    _check_bounds(s, ed, m, canonical, part, issues)
    reduction = _reductions(df, s, ed, a, issues)
    if a.discount_base_year is not None:
        base = a.discount_base_year
        issues.add(fy < base, "date", "before-discount-base",  # the scalar engine's words
                   lambda p: f"outcome year {int(fy[p])} is before the discount base year "
                             f"{base}: choose a base year no later than the earliest outcome")
        years = extra.get("years", np.ones(len(df)))
        last = fy - a.discount_base_year + np.where(np.isnan(years), 1.0, years) - 1
        issues.add(last > DISCOUNT_YEARS, "years", "beyond-horizon",
                   f"outcome runs beyond the {DISCOUNT_YEARS}-year discount horizon after the "
                   f"base year {a.discount_base_year}")
    # Stored compactly for the arithmetic phase, with flat positions into the stack's arrays.
    em = np.where((ed >= 0) & (m >= 0), ed * s.n_measures + m, 0)
    emr = em * s.n_regions + np.where(r >= 0, r, 0)
    return Rows(q, ed.astype(np.int16), m.astype(np.int16), em.astype(np.int32),
                 emr.astype(np.int32), factor, fy.astype(np.int16), reduction, extra, late)


def cell_floats(series: pd.Series) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """``(values, missing, refused)``: float64 values, NaN where the cell is missing (None,
    NaN, blank text) or refused (not a number, see :func:`cell_number`)."""
    n = len(series)
    if series.dtype == np.float64:
        vals: FloatArray = series.to_numpy()
        return vals, np.isnan(vals), np.zeros(n, dtype=bool)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_complex_dtype(series.dtype):
        missing = series.isna().to_numpy()
        return np.full(n, np.nan), missing, ~missing
    if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
            series.dtype, pd.CategoricalDtype):
        narrow = _narrow_float(series.dtype)
        vals = (narrow_floats_as_written(series.to_numpy(dtype=narrow, na_value=np.nan))
                if narrow is not None else series.to_numpy(dtype=np.float64, na_value=np.nan))
        return vals, series.isna().to_numpy(), np.zeros(n, dtype=bool)
    # Text, object, categorical and other columns: read once per distinct value.
    codes, uniq = cell_codes(series)
    # A Python float is its own number (cell_number's answer, without its checks): an object
    # column of numbers with a few bad cells has a distinct value per row or so.
    numbers = [u if type(u) is float else cell_number(u) for u in uniq]
    table = np.array([np.nan if x is None else x for x in numbers] + [np.nan], dtype=np.float64)
    refused = np.array([x is None for x in numbers] + [False], dtype=bool)
    return table[codes], codes < 0, refused[codes]


def _narrow_float(dtype: Any) -> Any:
    """The numpy float type of a float32 or float16 column (numpy's, or pandas' nullable
    ``Float32``), whose values are read as the decimals written (:func:`as_written`); None
    for any other."""
    kind = getattr(dtype, "numpy_dtype", dtype)  # pandas' nullable dtypes hold numpy's
    if isinstance(kind, np.dtype) and kind.kind == "f" and kind.itemsize < 8:
        return kind
    return None


def _numeric(series: pd.Series, name: str, issues: Issues, *, required: bool,
             bounded: bool = False) -> FloatArray:
    """float64 values; refused, missing (when required) and non-finite values are issues.
    ``bounded``: the caller checks the values against limits, so a finite cell past what a
    float holds (an integer of 309 digits, ``1e400`` written out) is left infinite for that
    check to refuse as too large, not told as "not a finite number" (which it is)."""
    vals, missing, refused = cell_floats(series)
    scaled = _scaled_by_format(series, refused)
    issues.add(scaled, name, "number-format", lambda p: series.iloc[p].reason(name),
               also=True, key=_cells(series, scaled))
    other = refused & ~scaled
    issues.add(other, name, "not-a-number", _not_a_number(series, name), also=True,
               key=_cells(series, other))
    if required:
        issues.add(missing, name, "missing", f"{name} is missing", also=True)
    infinite = np.isinf(vals)
    if bounded and infinite.any():
        for p in np.flatnonzero(infinite):
            infinite[p] = not _finite_cell(series.iloc[p])
    infinite_or_nan = infinite | (np.isnan(vals) & ~missing & ~refused)
    issues.add(infinite_or_nan, name, "not-finite",
               lambda p: f"{name} {shown(series.iloc[p])} is not a finite number", also=True,
               key=_cells(series, infinite_or_nan))
    return vals


def _scaled_by_format(series: pd.Series, refused: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Where a refused cell is a number its workbook showed scaled (a per cent, thousands:
    :class:`~socialvalue_tom._workbook.ScaledByFormat`), which the reader left for the
    valuation to refuse by its row."""
    scaled = np.zeros(len(series), dtype=bool)
    if series.dtype == object and refused.any():
        at = np.flatnonzero(refused)
        scaled[at] = [isinstance(v, ScaledByFormat) for v in series.to_numpy()[at]]
    return scaled


def _finite_cell(cell: Any) -> bool:
    """Whether a cell read as infinite holds a finite number (an integer, a Decimal or text
    past a float's range), rather than infinity itself."""
    if isinstance(cell, bool | np.bool_ | float | np.floating):
        return False
    if isinstance(cell, int | np.integer):
        return True
    try:
        return Decimal(str(cell).strip().replace(",", "")).is_finite()
    except (ArithmeticError, ValueError):
        return False


def _cells(series: pd.Series, told: NDArray[np.bool_]) -> CellKey | None:
    """The key of reasons that quote a numeric column's cells (any type may be there: the
    column is not text), or None where no row is to be told."""
    return CellKey(series) if told.any() else None


def _cell_key(series: pd.Series, codes: NDArray[np.intp],
              ed: NDArray[np.intp] | None = None, s: EditionStack | None = None) -> Key:
    """The key of reasons that quote a row's cell, with its edition where ``ed`` is given
    (their words name the edition's codes): the distinct cell's code, or for an object
    column, whose equal cells may read differently, the cell itself (:class:`CellKey`)."""
    if series.dtype == object:
        return CellKey(series, ed)
    if ed is None or s is None:
        return codes
    return codes * len(s.editions) + ed


def _day_text(cell: dt.date | np.datetime64) -> str:
    """A date cell as ``YYYY-MM-DD``, any year numpy holds (``30000-01-01`` too)."""
    if isinstance(cell, np.datetime64):
        return str(np.datetime_as_string(cell, unit="D"))
    return (cell.date() if isinstance(cell, dt.datetime) else cell).isoformat()


def _not_a_number(series: pd.Series, name: str) -> Callable[[int], str]:
    def reason(p: int) -> str:
        cell = series.iloc[p]
        if isinstance(cell, bool | np.bool_):
            return f"{name} {shown(cell)} is a boolean, not a number"
        if isinstance(cell, dt.date | np.datetime64):  # pd.Timestamp is a datetime
            return (f"{name} {_day_text(cell)} is a date, not a "
                    "number: a spreadsheet may have shown the figure as a date; format the "
                    "cell as a number and check the figure")
        if isinstance(cell, str) and excel_error_value(cell):
            if cell.strip().upper() == "#N/A":  # typed by hand too, for "not applicable"
                return (f"{name} {shown(cell)} is not a number: a spreadsheet's 'not "
                        "available' (a lookup formula that found nothing, or typed for 'not "
                        "applicable'); give the figure, or leave out a row with none")
            return (f"{name} {shown(cell)} is not a number: it is a spreadsheet's error "
                    "value, a formula that failed; correct the formula in the workbook")
        advice = (plain_number_advice(cell, name if name in FRACTION_COLUMNS else None)
                  if isinstance(cell, str) else None)  # '£1,200', '25%'
        if advice is None and name == "quantity" and isinstance(cell, str):
            advice = number_with_unit_advice(cell)  # '2 FTE'
        return f"{name} {shown(cell)} is not a number{f': {advice}' if advice else ''}"
    return reason



def _quantity(series: pd.Series, issues: Issues) -> FloatArray:
    q = _numeric(series, "quantity", issues, required=True, bounded=True)
    issues.add(q < 0, "quantity", "negative",
               lambda p: f"quantity {_as_given(series, q, p)} is negative: "
                         f"{NEGATIVE_ADVICE}", also=True)
    issues.add(q > MAX_QUANTITY, "quantity", "too-large",
               lambda p: f"quantity {_as_given(series, q, p)} is above the limit of "
                         f"{MAX_QUANTITY:,.0f} (a million million): check the unit and the "
                         "figure", also=True)
    return q


def _as_given(series: pd.Series, q: FloatArray, p: int) -> str:
    """Row ``p``'s quantity as the caller gave it, for a message: a whole number or a
    Decimal with every digit it has (2**63 - 1 read as a float is 2**63), else every digit
    of the float it was read as."""
    cell = series.iloc[p]
    if isinstance(cell, np.integer) or (isinstance(cell, int) and not isinstance(cell, bool)):
        return shortened(f"{int(cell):,}")  # 309 digits and more: cut, as cells are
    if isinstance(cell, Decimal) and cell.is_finite():
        return shortened(f"{cell:,f}")  # 1E+13 with every digit: 10,000,000,000,000
    if not math.isfinite(q[p]):  # text past a float's range ('1e400'): as written
        return shown(cell)
    return grouped_digits(float(q[p]))


@dataclass
class _Dates:
    """Dates as int64 days since the epoch: per distinct value (``codes`` into ``days``) for
    text and categorical columns, per row (``codes`` None) for datetime64 columns."""

    days: NDArray[np.int64]
    codes: NDArray[np.intp] | None

    def day(self, p: int) -> int:
        """The day of row ``p``."""
        return int(self.days[p] if self.codes is None else self.days[self.codes[p]])

    def per_row(self, per_value: np.ndarray) -> np.ndarray:
        """Gather a per-value result onto the rows."""
        return per_value if self.codes is None else per_value[self.codes]


def _days(series: pd.Series, issues: Issues, known: Seen) -> _Dates:
    """Read the date column once per distinct value; missing and bad dates are issues.

    A timezone-aware date is the date on its own wall clock (2024-04-01 00:30 in London is
    2024-04-01, as ``Timestamp.date()`` says), and a datetime64 column is read from its own
    unit, so dates far from 1970 keep their day. Dates a ``datetime.date`` cannot hold (the
    scalar ``Outcome`` cannot) are bad dates.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        wall = series.dt.tz_localize(None) if _zone(series) is not None else series
        stamps = wall.to_numpy()
        if stamps.dtype.kind == "M":
            nat = np.isnat(stamps)
            issues.add(nat, "date", "missing", "date is missing", also=True)
            vals = stamps.astype("datetime64[D]").astype(np.int64)
            far = ~nat & ((vals < _MIN_DAY) | (vals > _MAX_DAY))
            issues.add(far, "date", "bad-date",
                       lambda p: f"date {shown(series.iloc[p])} is not a date in the years 1-9999",
                       also=True)
            return _Dates(np.where(nat | far, _BAD_DAY, vals), None)
        series = series.astype(object)  # pyarrow dates: read as datetime.date values below
    codes, uniq = _codes(series)
    if _may_hold_datetimes(series) and any(_aware(u) for u in uniq):
        # Equal instants in different zones are one value to factorize, but not one date.
        codes, uniq = _codes(series.map(_wall_clock))
    seen = known.days
    parsed = [seen[u] if u in seen else seen.setdefault(u, parse_day(u)) for u in uniq]
    issues.add(codes < 0, "date", "missing", "date is missing", also=True)
    unparsed = np.array([d is None for d in parsed] + [False])
    # Read only where a cell is refused (rare): whether the column writes dates month first.
    month_first = functools.cache(lambda: known.month_first(
        [u for u, d in zip(uniq, parsed, strict=True) if d is None]))
    issues.add(unparsed[codes], "date", "bad-date",
               lambda p: not_a_date("date", series.iloc[p], month_first=month_first()),
               also=True,
               key=_cell_key(series, codes))
    table = np.array([_BAD_DAY if d is None else d for d in parsed] + [_BAD_DAY], dtype=np.int64)
    return _Dates(table, codes)


def _zone(series: pd.Series) -> Any:
    """The time zone of a datetime column (None: naive, or a pyarrow date column)."""
    try:
        return series.dt.tz
    except NotImplementedError:  # pyarrow date32/date64: dates have no zone
        return None


def _may_hold_datetimes(series: pd.Series) -> bool:
    """Whether the column's values can be datetime objects (not for text columns)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    return pd.api.types.is_object_dtype(dtype)


def _aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _wall_clock(value: Any) -> Any:
    """A timezone-aware datetime as the naive datetime on its own wall clock."""
    return value.replace(tzinfo=None) if _aware(value) else value


def parse_day(value: Any) -> int | None:
    """Days since 1970-01-01 of a date, a datetime (its own wall-clock date when it is
    timezone-aware), a datetime64 or ISO text; ``None`` for anything else, and for days a
    ``datetime.date`` cannot hold."""
    day = _parse_day(value)
    return None if day is None or not _MIN_DAY <= day <= _MAX_DAY else day


def _parse_day(value: Any) -> int | None:
    if isinstance(value, str):  # the common case first: dates read from CSV or Excel
        return _text_day(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_localize(None)
        return int(value.to_datetime64().astype("datetime64[D]").astype(np.int64))
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else int(value.astype("datetime64[D]").astype(np.int64))
    if (day := period_day(value)) is not None:  # a pandas Period of one day
        return (day - dt.date(1970, 1, 1)).days
    return None


@lru_cache(maxsize=1 << 16)
def _text_day(value: str) -> int | None:
    """Days since 1970-01-01 of ``YYYY-MM-DD`` text (cached: portfolios repeat their dates)."""
    text = value.strip()
    if not ISO_DATE.fullmatch(text):  # the scalar Outcome accepts exactly this form too
        return None
    try:
        return (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days
    except ValueError:
        return None


def not_a_date(name: str, cell: Any, *, month_first: bool = False) -> str:
    """Why a date cell was refused: not written YYYY-MM-DD, or so written but no day of the
    calendar (``2024-02-30``: the form was right, the day does not exist). ``month_first``:
    the cell's column holds a date only month first (the hint reads the cell so)."""
    if isinstance(cell, np.datetime64) and not np.isnat(cell):  # a day, past datetime.date's
        return f"{name} {shown(cell)} is not a date in the years 1-9999"
    if (span := period_span_hint(cell)) is not None:  # a month's Period: which day?
        return span.replace("date", name, 1)
    text = cell.strip() if isinstance(cell, str) else None
    if text is None or not ISO_DATE.fullmatch(text):
        return (f"{name} {shown(cell)} is not an ISO date (YYYY-MM-DD)"
                f"{date_hint(cell, month_first=month_first)}")
    year, month, day = (int(x) for x in text.split("-"))
    if not 1 <= month <= 12:
        why = f"there is no month {month}"
    elif year == 0:
        why = "there is no year 0"
    else:
        why = f"{text[:7]} has no day {day}"
    return f"{name} {shown(cell)} is no day of the calendar ({why})"


def _editions(dates: _Dates, s: EditionStack, a: Assumptions,
              issues: Issues) -> NDArray[np.intp]:
    day = dates.days
    idx = np.searchsorted(s.starts, day, side="right") - 1
    inside = (idx >= 0) & (day <= s.ends[np.clip(idx, 0, None)])
    ok = (inside | ((idx >= 0) & a.carry_forward)) & (day != _BAD_DAY)
    # As the scalar error: past an edition's end (not before the first), carrying it forward
    # is an option the message names.
    earlier = dates.per_row(idx >= 0)
    # A date that is no date was told so above: only a date no edition covers is told here.
    uncovered = dates.per_row(~ok & (day != _BAD_DAY))
    if uncovered.any():  # as the scalar error, in its words
        ranges, alone = s.tset.ranges(), s.tset.alone_hint()
        elsewhere = (lambda _: "") if alone else s.tset.elsewhere_hint()
        issues.add(uncovered, "date", "no-table-in-force",
                   lambda p: (f"no edition of {s.tset.name} is in force on "
                              f"{np.datetime64(dates.day(p), 'D')}: editions cover {ranges}"
                              + (" (carry_forward=True would use the latest)" if earlier[p]
                                 else "") + alone
                              + elsewhere(np.datetime64(dates.day(p), "D").astype(dt.date))),
                   also=True)
    ed: NDArray[np.intp] = dates.per_row(np.where(ok, idx, -1).astype(np.intp))
    return ed


def _financial_years(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Financial year (starting in April) of each day."""
    d = np.where(days == _BAD_DAY, 0, days).astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    return np.where(month >= 4, year, year - 1)


def _unknown_everywhere(series: pd.Series, found: tuple[NDArray[np.intp], np.ndarray],
                        s: EditionStack, issues: Issues) -> None:
    """A measure no edition knows is the row's problem whatever its date: a supplier's
    ``TOTAL`` row, with no date, was reported as missing a date, sending them to fix a line
    that is not an outcome. (A measure some edition knows waits for the row's edition.)"""
    codes, uniq = found
    unknown = np.array([isinstance(u, str) and not any(
        u.strip() in t.measure_index for t in s.editions) for u in uniq] + [False])
    if unknown.any():
        issues.add(unknown[codes], "measure", "unknown-measure",
                   lambda p: _in_no_edition(series.iloc[p], s), alone=True,
                   key=_cell_key(series, codes))


def _in_no_edition(measure: str, s: EditionStack) -> str:
    """Why a measure no edition knows is refused, whatever the row's date: the editions
    looked in, and the codes of any of them it is close to."""
    from socialvalue_tom.tables.crosswalk import framework_code_hint

    codes = [c for t in s.editions for c in t.measure_codes]
    hint = (_not_an_outcome_hint(measure) or framework_code_hint(measure, codes)
            or did_you_mean(measure, codes))
    names = sorted({t.name for t in s.editions})
    editions = ", ".join(t.version for t in s.editions)
    return (f"unknown measure {shown(measure)}: no edition of {', '.join(names)} has it "
            f"({editions}){hint}")


#: A cell that names a row of totals, as a spreadsheet's last row does ("Total", "Grand
#: total", "Sub-total:").
_TOTALS_CELL = re.compile(r"\s*(?:grand\s*|sub-?\s*)?totals?\s*:?\s*", re.IGNORECASE)


def _not_an_outcome_hint(measure: Any) -> str:
    """Where an unknown measure cell says its row is no outcome (a data-quality steward's
    review): a row of totals ("Total" as its measure), or the header row again (returns put
    together, each with its header)."""
    if not isinstance(measure, str):
        return ""
    if _TOTALS_CELL.fullmatch(measure):
        return ": a row of totals? Delete it: totals are worked out from the rows"
    if name_key(measure) == "measure":
        return (": the header row again (files put together, each with its header)? Delete "
                "it")
    return ""


def _totals_rows(df: pd.DataFrame, measure_codes: NDArray[np.intp], issues: Issues) -> None:
    """A row with no measure and a cell reading "Total" (a supplier's totals row left at the
    bottom of the sheet): its missing measure says what the row likely is (a council
    officer's review: it was refused as any row with cells missing)."""
    blank = np.flatnonzero(measure_codes < 0)
    if not blank.size:
        return
    found: dict[int, tuple[str, Any]] = {}
    for j, name in enumerate(df.columns):
        column = df.iloc[:, j]
        if name == "measure" or not (pd.api.types.is_object_dtype(column.dtype)
                                     or pd.api.types.is_string_dtype(column.dtype)):
            continue
        cells = column.iloc[blank].tolist()
        for p, cell in zip(blank.tolist(), cells, strict=True):
            if p not in found and isinstance(cell, str) and _TOTALS_CELL.fullmatch(cell):
                found[p] = (str(name), cell)
    if not found:
        return
    mask = np.zeros(len(df), dtype=bool)
    mask[list(found)] = True
    issues.add(mask, "measure", "missing",
               lambda p: (f"measure is missing: a row of totals ({shown(found[p][1])} in "
                          f"{found[p][0]})? Delete it: totals are worked out from the rows"),
               also=True)


def _measures(series: pd.Series, found: tuple[NDArray[np.intp], np.ndarray], s: EditionStack,
              ed: NDArray[np.intp], issues: Issues) -> NDArray[np.intp]:
    codes, uniq = found
    table = np.array([[t.measure_index.get(u.strip(), -1) if isinstance(u, str) else -1
                       for u in uniq] + [-1] for t in s.editions], dtype=np.intp)
    m: NDArray[np.intp] = _per_edition(table, ed, codes, -1)
    issues.add(codes < 0, "measure", "missing", "measure is missing", also=True)
    # Known to some edition but not to the row's: told where the row has an edition.
    issues.add((m < 0) & (ed >= 0), "measure", "unknown-measure",
               lambda p: s.editions[int(ed[p])].unknown_measure(series.iloc[p]).message,
               also=True, key=_cell_key(series, codes, ed, s))
    return m


def _region_position(t: Any, u: Any) -> int:
    if not isinstance(u, str) or len(u.strip()) > MAX_REGION_LENGTH:  # as the Outcome model
        return -1
    try:
        return int(t.region_position(u))
    except SocialValueError:
        return -1


def _regions(series: pd.Series, s: EditionStack, ed: NDArray[np.intp],
             issues: Issues) -> NDArray[np.intp]:
    codes, uniq = _codes(series)
    table = np.array([[_region_position(t, u) for u in uniq] + [-1] for t in s.editions],
                     dtype=np.intp)
    r: NDArray[np.intp] = _per_edition(table, ed, codes, -1)
    issues.add(codes < 0, "region", "missing", "region is missing", also=True)
    issues.add((r < 0) & (ed >= 0), "region", "unknown-region",
               lambda p: _unknown_region(series.iloc[p], s.editions[int(ed[p])].region_codes),
               also=True, key=_cell_key(series, codes, ed, s))
    if (ed < 0).any():  # no edition (a bad date): a region no edition has is wrong by itself
        # Per distinct value, known to no edition; the last slot, a missing region, is not.
        nowhere = np.append((table[:, :-1] < 0).all(axis=0), False)
        every = list(dict.fromkeys(c for t in s.editions for c in t.region_codes))
        issues.add((ed < 0) & nowhere[codes], "region", "unknown-region",
                   lambda p: _unknown_region(series.iloc[p], every), also=True,
                   key=_cell_key(series, codes))
    return r


def _unknown_region(region: Any, codes: Sequence[str]) -> str:
    return (f"unknown region {shown(region)}: expected one of {', '.join(codes)}"
            f"{region_advice(region, codes)}")


def _unit_factors(series: pd.Series, s: EditionStack, ed: NDArray[np.intp],
                  m: NDArray[np.intp], issues: Issues,
                  seen: dict[tuple[int, int, Any], float | str]) -> FloatArray:
    """Factor per row from pint, run once per distinct (edition, measure, unit)."""
    codes, uniq = _codes(series)
    n_u = len(uniq) + 1                      # the last slot: unit missing -> canonical
    n_m = max(len(t.measure_codes) for t in s.editions)
    valid = (ed >= 0) & (m >= 0)
    key = (np.where(valid, ed, 0) * n_m + np.where(valid, m, 0)) * n_u + np.where(
        codes >= 0, codes, n_u - 1)
    size = len(s.editions) * n_m * n_u
    present = (np.flatnonzero(np.bincount(key[valid], minlength=size)) if size <= 1 << 22
               else np.unique(key[valid]))
    table = np.full(size, np.nan)
    messages: dict[int, str] = {}
    for k in present.tolist():
        em, ui = divmod(k, n_u)
        e, mi = divmod(em, n_m)
        unit = None if ui == n_u - 1 else uniq[ui]
        memo = (e, mi, unit)
        if memo not in seen:
            seen[memo] = _unit_factor(s.editions[e], mi, unit)
        found = seen[memo]
        if isinstance(found, str):
            messages[k] = found
        else:
            table[k] = found
    factor: FloatArray = table[key]
    issues.add(valid & np.isnan(factor), "unit", "unit-error",
               lambda p: messages.get(int(key[p]), "bad unit"), also=True, key=key)
    return factor


def _unit_factor(t: Any, mi: int, unit: Any) -> float | str:
    """The factor for a measure and unit, or the reason there is none."""
    try:
        if unit is not None and not isinstance(unit, str):
            raise OutcomeError(f"unit {unit!r} is not text")
        return float(t.unit_factor(t.measure_codes[mi], unit))
    except SocialValueError as exc:
        return exc.message


def _exactly_whole(series: pd.Series) -> NDArray[np.bool_]:
    """False where a cell is an exact number that is not whole though its float is: a
    Decimal of 2.0000000000000001 (a Parquet decimal column) is no whole number of years,
    as the scalar ``Outcome`` says, where ``float`` makes it 2."""
    if series.dtype != object:
        return np.ones(len(series), dtype=bool)
    codes, uniq = _codes(series)
    ok = np.array([u.denominator == 1 if isinstance(u, Fraction)
                   else not isinstance(u, Decimal) or not u.is_finite() or u == int(u)
                   for u in uniq] + [True], dtype=bool)
    return ok[codes]


def _contract_value_range(vals: FloatArray) -> Callable[[int], str]:
    return lambda p: (f"contract_value {shown(vals[p])} is not from £{MIN_CONTRACT_VALUE} to "
                      f"£{MAX_CONTRACT_VALUE:,.0f}")


def _optional(df: pd.DataFrame, issues: Issues) -> dict[str, FloatArray]:
    extra: dict[str, FloatArray] = {}
    for name in (*FRACTION_COLUMNS, "years", "contract_value", "period_share"):
        if name not in df.columns:
            continue
        vals = _numeric(df[name], name, issues, required=False)
        if name in FRACTION_COLUMNS:
            issues.add((vals < 0) | (vals > 1), name, "out-of-range",
                       _out_of_unit_interval(name, vals), also=True)
        elif name == "years":
            whole = np.isnan(vals) | ((vals == np.floor(vals)) & (vals >= 1)
                                      & (vals <= MAX_YEARS) & _exactly_whole(df[name]))
            issues.add(~whole, name, "out-of-range",
                       f"years must be a whole number from 1 to {MAX_YEARS}", also=True)
        elif name == "period_share":
            issues.add((vals <= 0) | (vals > 1), name, "out-of-range",
                       "period_share must be above 0 and at most 1", also=True)
        else:
            issues.add(~((vals >= MIN_CONTRACT_VALUE) & (vals <= MAX_CONTRACT_VALUE))
                       & ~np.isnan(vals), name, "out-of-range", _contract_value_range(vals),
                       also=True)
        extra[name] = vals
    for name in KEY_COLUMNS:
        # infer_dtype is one fast pass: only a column of mixed cells can hold a container.
        if (name in df.columns and df[name].dtype == object
                and pd.api.types.infer_dtype(df[name], skipna=True) not in _SCALAR_KINDS):
            codes, uniq = _codes(df[name])
            # Bytes too: the scalar Outcome refuses them in text fields.
            container = np.array([_not_one_value(u) for u in uniq] + [False])
            issues.add(container[codes], name, "not-a-value", _not_a_value(df[name], name),
                       also=True, key=_cell_key(df[name], codes))
        if name in df.columns and not pd.api.types.is_numeric_dtype(df[name].dtype):
            codes, uniq = _codes(df[name])
            rounded = np.array([isinstance(u, str) and EXCEL_ROUNDED_ID.fullmatch(u) is not None
                                for u in uniq] + [False])
            if rounded.any():
                issues.add(rounded[codes], name, "rounded-id", _rounded_id(df[name], name),
                           also=True, key=_cell_key(df[name], codes))
    if "stage" in df.columns:
        st = df["stage"]
        codes, uniq = _codes(st)
        known = np.array([isinstance(u, str) and u.strip() in _STAGES for u in uniq] + [True])
        bad = ~known[codes]
        issues.add(bad, "stage", "bad-stage", lambda p: _bad_stage(st.iloc[p]), also=True,
                   key=_cell_key(st, codes))
    return extra


def _rounded_id(series: pd.Series, name: str) -> Callable[[int], str]:
    return lambda p: excel_rounded_id(name, series.iloc[p])


def _bad_stage(cell: Any) -> str:
    """Why a stage cell is refused, with the spelling to use for one in another case."""
    reason = f"stage {shown(cell)} is not commitment or delivered"
    if isinstance(cell, str) and cell.strip().lower() in _STAGES:
        reason += f": stages are written in lower case ({cell.strip().lower()!r})"
    return reason


def _not_one_value(cell: Any) -> bool:
    """Whether a key cell is not one text or number value: bytes, a container (hashable ones
    too: a tuple or frozenset), an interval or a complex number (which :func:`cell_codes`
    wraps), as the scalar ``Outcome`` refuses them."""
    if isinstance(cell, Boolean):
        cell = cell.value
    return isinstance(cell, NotAValue | bytes | bytearray | tuple | frozenset | pd.Interval
                      | complex | np.complexfloating) or text_is_an_address(cell)


def _not_a_value(series: pd.Series, name: str) -> Callable[[int], str]:
    return lambda p: (f"{name} {shown(series.iloc[p])} is bytes, a container, an interval, a "
                      "complex number or an object whose text is its address in memory, not "
                      "one text or number value")


#: infer_dtype kinds of object columns that cannot hold a list, dict or array.
_SCALAR_KINDS = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float",
                           "decimal", "boolean", "date", "datetime"})


#: Columns that identify a claim's contract and supplier (double-counting keys, report groups).
KEY_COLUMNS = ("contract_id", "supplier_id")


def _out_of_unit_interval(name: str, vals: FloatArray) -> Callable[[int], str]:
    def why(p: int) -> str:
        v = float(vals[p])
        hint = (f": a fraction, written {v / 100:g} for {v:g}%" if 1 < v <= 100 else "")
        return f"{name} {v:g} is not in [0, 1]{hint}"
    return why


def field_values(df: pd.DataFrame, name: str) -> FloatArray:
    """A measure's field as float64: NaN where absent, missing or not a number (a boolean or
    non-numeric text is not a number: ``_check_requires`` reports it)."""
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return cell_floats(df[name])[0]


def _check_requires(df: pd.DataFrame, s: EditionStack, ed: NDArray[np.intp],
                    m: NDArray[np.intp], issues: Issues) -> None:
    if not s.requires.any():
        return
    needs = s.requires[np.clip(ed, 0, None), np.clip(m, 0, None)] & (ed >= 0) & (m >= 0)
    if not needs.any():
        return
    for e, t in enumerate(s.editions):
        for i, spec in enumerate(t.measures.values()):
            for name in spec.requires:
                mask = needs & (ed == e) & (m == i)
                if mask.any():
                    vals = np.full(len(df), np.nan)
                    if name in df.columns:
                        vals, _, refused = cell_floats(df[name])
                        issues.add(mask & refused, name, "not-a-number",
                                   _not_a_number(df[name], name),
                                   key=_cells(df[name], mask & refused))
                    # A column ' level' or 'Level' is not read as 'level': say which it is.
                    near = (None if name in df.columns
                            else near_names(df.columns, [name]).get(name))
                    hint = (f" (the input has a column {near!r}: name it {name!r})"
                            if near is not None else "")
                    issues.add(mask & np.isinf(vals), name, "not-finite",
                               f"field {name!r} must be finite")
                    issues.add(mask & np.isnan(vals), name, "missing-field",
                               f"measure {spec.code!r} requires a numeric {name!r} on each "
                               f"row{hint}")
                    b = spec.field_bounds.get(name)
                    if b is not None:
                        lo = -np.inf if b.min is None else b.min
                        hi = np.inf if b.max is None else b.max
                        issues.add(mask & ((vals < lo) | (vals > hi)), name, "out-of-bounds",
                                   _field_refusal(vals, name, spec.code, b))


def _field_refusal(vals: FloatArray, name: str, code: str,
                   b: FieldBounds) -> Callable[[int], str]:
    return lambda p: b.refusal(name, float(vals[p]), code)


def _check_bounds(s: EditionStack, ed: NDArray[np.intp], m: NDArray[np.intp],
                  canonical: FloatArray, part: FloatArray | None, issues: Issues) -> None:
    if not s.has_bounds:
        return
    e0, m0 = np.clip(ed, 0, None), np.clip(m, 0, None)
    lo = s.measure_arrays["bound_min"][e0, m0]
    hi = s.measure_arrays["bound_max"][e0, m0]
    low, high = lo, hi
    if part is not None:  # a part's share of the row's bounds, as in the scalar engine
        low, high = part_limit(lo, part, upper=False), part_limit(hi, part, upper=True)
    out = (ed >= 0) & (m >= 0) & ((canonical < low) | (canonical > high))

    def refusal(p: int) -> str:  # the scalar engine's words
        t = s.editions[int(ed[p])]
        spec = t.measure(t.measure_codes[int(m[p])])
        bounds = spec.quantity_bounds or QuantityBounds()  # only a bounded one is outside
        return bounds.refusal(canonical[p], spec.unit, spec.code) + _share_note(part, p)

    issues.add(out, "quantity", "out-of-bounds", refusal)


def _share_note(part: FloatArray | None, p: int) -> str:
    """How a limit message says it was scaled by a part's period share."""
    return "" if part is None or part[p] == 1.0 else f" x period share {part[p]:g}"


def _reductions(df: pd.DataFrame, s: EditionStack, ed: NDArray[np.intp], a: Assumptions,
                issues: Issues) -> FloatArray:
    if "confidence" not in df.columns or not a.apply_confidence:
        return np.zeros(len(df))
    codes, uniq = _codes(df["confidence"])
    # A grade given as a number (3, 3.0) is its text "3", as the scalar Outcome reads it.
    table = np.array([[t.grades.get(key_text(g) or "", np.nan) for g in uniq] + [0.0]
                      for t in s.editions])
    red: FloatArray = _per_edition(table, ed, codes, 0.0)  # 0, not NaN, where no edition
    issues.add(np.isnan(red), "confidence", "unknown-grade",
               lambda p: s.editions[int(ed[p])].unknown_grade(
                   key_text(df["confidence"].iloc[p])).message,
               also=True, key=_cell_key(df["confidence"], codes, ed, s))
    return red
