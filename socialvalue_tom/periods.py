"""Reporting periods shared out across the editions they overlap.

A row of a bulk input is valued at one point in time: its ``date`` picks the edition in force
that day, and the whole quantity is valued with that edition. Suppliers often report for a
period instead (a quarter, a contract year), and a period can straddle an edition boundary
(1 April for ``uk-national``). Dating such a row at the report's date values all of it with
one year's proxies, even the part delivered under the other.

:func:`apportion` splits each row that has a period into one row per edition the period
overlaps, sharing its quantity in proportion to the period's days under each edition. Each part
is then an ordinary row (dated on its own first day, its period narrowed to its own days), so
everything downstream (``value_frame``, traces, double-counting exclusions) works on it
unchanged. The split is explicit and recorded: ``period_row`` names the input row a part comes
from and ``period_share`` the share of that row's quantity it carries. Limits that belong to the
whole row (the contract-value cap, the table's quantity bounds) are scaled by ``period_share``
when a part is valued, so splitting a row changes which edition values each day of it, not
which rows pass validation (a part's share of a bound is widened by a few parts in 10^16: see
``rules.steps.part_limit``). A custom measure's expression is evaluated on the whole row's
quantity and the part takes its share of the result (``engine.whole_quantity``), so a fixed term
is not counted again in every part. The cap is shared by days like the quantity: the parts together
never exceed the row's cap, and can stay below it when the editions value the days unequally
(docs/rules.md, "Reporting periods").
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from socialvalue_tom._args import choice, flag
from socialvalue_tom._args import frame as a_frame  # "frame" names locals here
from socialvalue_tom._attrs import own_attrs
from socialvalue_tom._bulk.issues import Issues
from socialvalue_tom._bulk.lookups import (
    _MAX_DAY,
    _MIN_DAY,
    _aware,
    _may_hold_datetimes,
    _wall_clock,
    cell_floats,
    not_a_date,
    parse_day,
)
from socialvalue_tom._text import cell_codes, month_first_column
from socialvalue_tom.engine import TablesLike, table_set
from socialvalue_tom.errors import BulkValidationError, OutcomeError, RuleError
from socialvalue_tom.frame import issues_frame, refuse_duplicated_columns, refuse_nested_columns
from socialvalue_tom.outcome import MAX_QUANTITY, Outcome, to_day

__all__ = ["PERIOD_COLUMNS", "apportion", "apportion_outcome"]

#: The columns :func:`apportion` adds: the input row (0-based position) a part comes from, and
#: the share of that row's quantity the part carries (its days over the period's days).
PERIOD_COLUMNS = ("period_row", "period_share")

_EPOCH = dt.date(1970, 1, 1)
_GIVEN, _MISSING, _BAD = 0, 1, 2


#: The ``attrs`` key under which :func:`apportion` records its period columns.
PERIODS_ATTR = "socialvalue_tom.periods"


def apportion(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
              start: str = "period_start", end: str = "period_end",
              errors: Literal["raise", "collect"] = "raise",
              carry_forward: bool = False) -> pd.DataFrame:
    """Split rows reported for a period into one row per edition of ``tables`` the period
    overlaps; returns a new DataFrame to pass to ``value_frame`` (the input is not mutated).

    ``start`` and ``end`` name the columns holding each row's first and last day (inclusive;
    ISO text, dates or datetime64). A row whose period lies under one edition gives one part; a
    row whose period crosses an edition boundary gives one part per edition, its ``quantity``
    shared in proportion to days (a 1 January to 31 December 2024 period of 12 FTE gives
    12 x 91/366 before 1 April 2024 and 12 x 275/366 after). Each part's ``date`` is its first
    day and its ``start`` and ``end`` are its own days; other columns are copied. Parts lying
    outside every edition are dated there, so ``value_frame`` reports them (or carries an
    edition forward if asked to). Rows with neither ``start`` nor ``end`` pass through
    unchanged, valued at their ``date``. ``date``, ``start`` and ``end`` come back as
    ``datetime64[s]`` (rows without a period keep their day), unless a row without a period
    has a ``date`` that is not a date: that column is then kept as given, for ``value_frame``
    to report. A row whose quantity as given ``value_frame`` will
    refuse (not a number, negative, above the library's maximum) is not split: it is kept
    whole, dated on its period's first day, so the problem is reported once, with the figure
    the caller gave.

    Adds ``period_row`` (the input row's 0-based position) and ``period_share`` (the part's
    share of that row's quantity; 1.0 for a row not split). ``value_frame`` reads
    ``period_share``: a part's contract-value cap and quantity bounds are its share of the
    row's. The index labels of the input rows are kept, repeated for the parts of a split row.
    ``start`` and ``end`` may not be the ``date`` column (each part gets its own date).

    ``carry_forward``: as ``Assumptions(carry_forward=True)`` values the days no edition covers
    (after the last, or in a gap between two) with the latest earlier one, each financial year
    (from 1 April) there is a part of its own, as an edition's days are: its claims are set
    against that year's (docs/rules.md, 10) and, with a ``discount_base_year``, it is
    discounted as that year (without one no outcome is discounted). Pass the same setting as
    the valuation.

    ``errors="raise"``: a period that cannot be read (only one of its ends given, a date that
    is not a date, an end before its start) raises one :class:`BulkValidationError` listing
    every such row. ``errors="collect"``: those rows are left out of the result and listed in
    ``out.attrs["issues"]`` (row, index, field, code, reason; rows numbered as in ``df``).
    Keep that table: ``value_frame`` reports the issues of the rows it is given.

    >>> import pandas as pd
    >>> import socialvalue_tom as sv
    >>> year = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
    ...                      "region": ["uk"], "period_start": ["2024-01-01"],
    ...                      "period_end": ["2024-12-31"]})
    >>> parts = sv.apportion(year)
    >>> parts[["date", "quantity", "period_share"]]
            date  quantity  period_share
    0 2024-01-01  2.983607      0.248634
    0 2024-04-01  9.016393      0.751366
    >>> sv.value_frame(parts)["version"].tolist()
    ['2023', '2024']
    """
    _check_input(df, start, end, errors)
    carry_forward = flag(carry_forward, "carry_forward")
    n = len(df)
    issues = Issues(n, 0, df.index)
    first, first_state = _day_column(df[start])
    last, last_state = _day_column(df[end])
    _report(df, start, end, first, first_state, last, last_state, issues)
    if issues.items and errors == "raise":
        raise BulkValidationError.from_issues(
            sorted(issues.items, key=lambda i: (i.row, i.field)))
    quantity, q_missing, q_refused = cell_floats(df["quantity"])
    period = (first_state == _GIVEN) & ~issues.bad
    cuts = _boundaries(tables, int(last[period].max()) if carry_forward and period.any()
                       else None)
    # A quantity value_frame refuses is kept whole: its problem is reported once, as given.
    with np.errstate(invalid="ignore"):
        usable = (np.isfinite(quantity) & ~q_missing & ~q_refused & (quantity >= 0)
                  & (quantity <= MAX_QUANTITY))
    split = period & usable
    keep = ~issues.bad
    # Cut points strictly inside (first, last]: a part starts at each.
    lo = np.searchsorted(cuts, first, side="right")
    hi = np.searchsorted(cuts, last, side="right")
    parts = np.where(split, 1 + hi - lo, 1)
    parts[~keep] = 0
    row = np.repeat(np.arange(n), parts)
    k = np.arange(row.size) - np.repeat(np.cumsum(parts) - parts, parts)  # part number in row
    is_split = split[row]
    cut = lo[row] + k  # cut point that ends part k (when it is not the row's last part)
    own_first = np.where(k == 0, first[row], cuts[np.clip(cut - 1, 0, None)])
    own_last = np.where(k == parts[row] - 1, last[row], cuts[np.clip(cut, 0, cuts.size - 1)] - 1)
    days = (last - first + 1)[row]
    share = np.where(is_split, (own_last - own_first + 1) / np.where(is_split, days, 1), 1.0)
    # The parts' quantities are quantity x share, the same float value_frame scales the row's
    # cap and bounds by: a part is within its share of a bound when the row is within the
    # bound (multiplying by a positive float keeps order; a row over it by an ulp may pass).
    out = df.iloc[row].copy()
    # float64 for a numeric column, object otherwise, whether or not a row is split here: the
    # pieces of one input apportioned apart (Dask partitions, an empty meta) agree on dtypes.
    q = out["quantity"].to_numpy(copy=True)
    q = q.astype(np.float64 if q.dtype.kind in "iuf" else object)
    q[is_split] = quantity[row][is_split] * share[is_split]
    out["quantity"] = pd.Series(q, index=out.index, dtype=q.dtype)  # object stays object
    dated = period[row]  # rows with a period are dated by it, split or not
    for column, values in (("date", own_first), (start, own_first), (end, own_last)):
        out[column] = _with_days(out[column] if column in out.columns else None,
                                 values, dated, len(out))
    out["period_row"] = row.astype(np.int64)
    out["period_share"] = share
    out.attrs = own_attrs(df.attrs, drop=("issues",))
    # Which columns hold the periods: the report's notes read each row's whole period back.
    out.attrs[PERIODS_ATTR] = {"start": start, "end": end, "carry_forward": carry_forward}
    if errors == "collect":
        out.attrs["issues"] = issues_frame(issues.items)
    return out


def apportion_outcome(outcome: Outcome, start: dt.date | str | np.datetime64,
                      end: dt.date | str | np.datetime64,
                      tables: TablesLike = "uk-national", *,
                      carry_forward: bool = False) -> tuple[Outcome, ...]:
    """The scalar form of :func:`apportion`: ``outcome`` delivered from ``start`` to ``end``
    (inclusive) as one outcome per edition of ``tables`` the period overlaps.

    Each part has ``quantity`` x its share of the period's days, is dated on its own first day
    and carries its ``period_share`` (so its cap and quantity bounds are its share of the
    outcome's); the outcome's own ``date`` is not used. ``sv.value`` each part and add the
    amounts: they are the amounts ``value_frame(apportion(df))`` gives for the same row, bit for
    bit. ``carry_forward`` as for :func:`apportion`. :class:`OutcomeError` for an end before
    the start, a date that is not a date, or an outcome that is already a part
    (``period_share`` set).
    """
    if not isinstance(outcome, Outcome):
        raise TypeError(f"apportion_outcome() needs an Outcome, not {type(outcome).__name__}")
    if outcome.period_share is not None:
        raise OutcomeError("the outcome is already a part of a period (period_share is set): "
                           "apportion the whole outcome", field="period_share")
    carry_forward = flag(carry_forward, "carry_forward")
    days = []
    for name, value in (("start", start), ("end", end)):
        try:
            day = to_day(value)
        except ValueError as exc:
            raise OutcomeError(f"period {name} {value!r}: {exc}", field=name) from None
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise OutcomeError(f"period {name} {value!r} is not a date", field=name)
        days.append((day - _EPOCH).days)
    first, last = days
    if last < first:
        raise OutcomeError(f"period end {_day(last)} is before its start {_day(first)}",
                           field="end")
    cuts = _boundaries(tables, last if carry_forward else None)
    inside = cuts[(cuts > first) & (cuts <= last)].tolist()
    starts, ends = [first, *inside], [*(c - 1 for c in inside), last]
    total = last - first + 1
    if len(starts) == 1:
        return (outcome.model_copy(update={"date": _day(first)}),)
    parts = []
    for a, b in zip(starts, ends, strict=True):
        share = (b - a + 1) / total  # the float apportion computes for the same part
        parts.append(outcome.model_copy(update={
            "quantity": outcome.quantity * share, "date": _day(a), "period_share": share}))
    return tuple(parts)


def _check_input(df: pd.DataFrame, start: str, end: str, errors: str) -> None:
    choice(errors, "errors", ("raise", "collect"))
    a_frame(df, "apportion()")
    for name, what in ((start, "start"), (end, "end")):
        if not isinstance(name, str):
            raise TypeError(f"apportion(): {what}= must be a column name (str), "
                            f"not {type(name).__name__}")
    if start == end:
        raise RuleError(f"apportion(): start and end name the same column {start!r}",
                        field="start")
    if "date" in (start, end):
        raise RuleError("apportion(): start and end cannot be the date column: each part is "
                        "dated on its own first day (copy the column to period_start or "
                        "period_end first)", field="start" if start == "date" else "end")
    refuse_nested_columns(df)
    missing = [c for c in ("quantity", start, end) if c not in df.columns]
    if missing:
        raise OutcomeError(f"input is missing column(s) {', '.join(missing)}: apportion() "
                           f"reads quantity, {start} and {end}", field=missing[0],
                           columns=missing)
    refuse_duplicated_columns(df)
    if any(c in df.columns for c in PERIOD_COLUMNS):
        raise OutcomeError("input already has period_row or period_share: it was apportioned "
                           "once (apportioning again would lose which row each part came "
                           "from); drop those columns to apportion it anew",
                           field="period_row")


def _boundaries(tables: TablesLike, carried_to: int | None = None) -> NDArray[np.int64]:
    """Days (since 1970-01-01) on which some edition starts, or the day after one ends; with
    ``carried_to`` (a day), also each 1 April up to that day that no edition covers (after
    the last edition, or in a gap between two): the financial years an edition carried
    forward values one by one."""
    days = set()
    editions = table_set(tables).editions
    for t in editions:
        days.add((t.valid_from - _EPOCH).days)
        days.add((t.valid_to - _EPOCH).days + 1)
    if carried_to is not None and editions:
        # Each 1 April no edition covers, after the first edition starts: past the last one,
        # and in a gap between two, an edition carried forward values the year alone.
        first = min(t.valid_from for t in editions)
        year = first.year + 1 if first >= dt.date(first.year, 4, 1) else first.year
        while year <= dt.date.max.year and (dt.date(year, 4, 1) - _EPOCH).days <= carried_to:
            day = dt.date(year, 4, 1)
            if not any(t.valid_from <= day <= t.valid_to for t in editions):
                days.add((day - _EPOCH).days)
            year += 1
    return np.array(sorted(days), dtype=np.int64)


def _day_column(series: pd.Series) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
    """Days since 1970-01-01 and a state per row (given, missing or bad), read once per
    distinct value (datetime64 columns: per row)."""
    n = len(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        try:
            zone = series.dt.tz
        except NotImplementedError:  # pyarrow dates
            zone = None
        wall = series.dt.tz_localize(None) if zone is not None else series
        stamps = wall.to_numpy()
        if stamps.dtype.kind == "M":
            nat = np.isnat(stamps)
            days = np.where(nat, 0, stamps.astype("datetime64[D]").astype(np.int64))
            far = ~nat & ((days < _MIN_DAY) | (days > _MAX_DAY))  # not a datetime.date
            state = np.where(nat, _MISSING, np.where(far, _BAD, _GIVEN)).astype(np.int8)
            return np.where(far, 0, days), state
        series = series.astype(object)
    codes, uniq = cell_codes(series)
    if _may_hold_datetimes(series) and any(_aware(u) for u in uniq):
        # Equal instants in different zones are one value to factorize, but not one day.
        codes, uniq = cell_codes(series.map(_wall_clock))
    parsed = [parse_day(u) for u in uniq]
    table = np.array([0 if d is None else d for d in parsed] + [0], dtype=np.int64)
    state = np.array([_BAD if d is None else _GIVEN for d in parsed] + [_MISSING],
                     dtype=np.int8)
    return (table[codes], state[codes]) if n else (np.zeros(0, np.int64), np.zeros(0, np.int8))


def _report(df: pd.DataFrame, start: str, end: str, first: NDArray[np.int64],
            first_state: NDArray[np.int8], last: NDArray[np.int64],
            last_state: NDArray[np.int8], issues: Issues) -> None:
    def reason(column: str) -> Any:
        # Read once, where a cell is refused: whether the column writes dates month first.
        month_first = functools.cache(lambda: month_first_column(df[column].unique()))
        return lambda p: not_a_date(column, df[column].iloc[p], month_first=month_first())

    issues.add(first_state == _BAD, start, "bad-date", reason(start))
    issues.add(last_state == _BAD, end, "bad-date", reason(end))
    issues.add((first_state == _MISSING) & (last_state != _MISSING), start, "missing",
               f"{start} is missing ({end} is given): a period needs both ends")
    issues.add((last_state == _MISSING) & (first_state != _MISSING), end, "missing",
               f"{end} is missing ({start} is given): a period needs both ends")
    given = (first_state == _GIVEN) & (last_state == _GIVEN)
    issues.add(given & (last < first), end, "bad-period",
               lambda p: (f"{end} {_day(last[p])} is before {start} {_day(first[p])}"))


def _day(days: int | np.integer) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(days))


def _with_days(column: pd.Series | None, days: NDArray[np.int64], dated: NDArray[np.bool_],
                n: int) -> Any:
    """``column`` with the rows marked ``dated`` replaced by those days, as ``datetime64[s]``
    whatever the mix of rows (so frames apportioned in pieces, by Dask say, agree on the
    dtype): the other rows' cells are read as days (text, dates, datetimes; a timezone-aware
    one by its own wall-clock date, as ``value_frame`` reads it). Only when one of them is not
    a date are the cells kept as they were, with ``datetime.date`` values for the replaced
    rows, so ``value_frame`` reports the bad cell as given."""
    stamps = days.astype("datetime64[D]")
    if column is None or dated.all():
        return np.where(dated, stamps, np.datetime64("NaT", "D")).astype("datetime64[s]")
    if (pd.api.types.is_datetime64_any_dtype(column.dtype)
            and not isinstance(column.dtype, pd.DatetimeTZDtype)
            and column.to_numpy().dtype.kind == "M"):  # naive numpy datetimes, not pyarrow
        merged = column.to_numpy().astype("datetime64[s]")
        merged[dated] = stamps[dated].astype("datetime64[s]")
        return merged
    kept, state = _day_column(column)
    if not (state[~dated] == _BAD).any():
        missing = ~dated & (state == _MISSING)
        merged = np.where(dated, days, kept).astype("datetime64[D]")
        merged[missing] = np.datetime64("NaT", "D")
        return merged.astype("datetime64[s]")
    cells = column.to_numpy(dtype=object, copy=True)
    cells[dated] = stamps[dated].astype(object)
    return cells
