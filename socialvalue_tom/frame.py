"""Bulk valuation: ``value_frame`` values a DataFrame of outcomes with the same rules as
:func:`socialvalue_tom.value`, on float64 arrays.

Two phases. *Lookups*: each text column is factorised once, and everything that depends only on
a distinct value is worked out once per distinct value (pint for each (measure, unit) pair, the
edition for each date, the region and measure positions in each edition); rows then get their
figures by integer gathers from :class:`~socialvalue_tom.tables.stack.EditionStack`. Every bad
row is found here and reported (row, field, reason). *Arithmetic*: the valid rows run through
:func:`socialvalue_tom.rules.run_pipeline` in blocks, which bounds the memory of intermediates.
Double-counting exclusions act between the two phases.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from socialvalue_tom._args import choice, flag
from socialvalue_tom._args import frame as a_frame  # "frame" names locals here
from socialvalue_tom._attrs import own_attrs
from socialvalue_tom._bulk.arithmetic import BLOCK, Columns, arithmetic
from socialvalue_tom._bulk.issues import Issues
from socialvalue_tom._bulk.lookups import FRACTION_COLUMNS, Rows, Seen, lookups
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._deprecation import renamed_parameter
from socialvalue_tom._text import cell_codes, misnamed, name_key, near_names, shortened
from socialvalue_tom.engine import TablesLike, as_assumptions, table_set
from socialvalue_tom.errors import (
    BulkValidationError,
    OutcomeError,
    RowIssue,
    RuleError,
    SocialValueWarning,
    outside_stacklevel,
    warn_illustrative,
)
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.rules.exclusions import (
    ClaimTotals,
    ExclusionResult,
    GroupKeys,
    GroupTotals,
    claim_rows,
    claims_in_blocks,
    exclusion_scales,
    group_totals,
)
from socialvalue_tom.tables.schema import STANDARD_COLUMNS
from socialvalue_tom.tables.stack import EditionStack, stack_of

__all__ = ["OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "IssueTable", "claim_totals", "claims_of",
           "explain_row", "issues_frame", "outcomes_frame", "value_frame"]

REQUIRED_COLUMNS = ("measure", "quantity", "unit", "region", "date")
OUTPUT_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                  "table", "version", "digest")
ISSUE_COLUMNS = ["row", "index", "field", "code", "reason"]


class IssueTable(pd.DataFrame):
    """The issues of a bulk valuation: a DataFrame with columns row, index, field, code, reason.

    It lives in ``out.attrs["issues"]``. ``==`` with another DataFrame is one ``bool``, true
    for an issue table holding the same issues (``DataFrame.equals``), false for any other
    frame: pandas compares ``attrs`` with ``==`` when it combines frames (``pd.concat``), which
    elementwise ``==`` turns into an error, and pandas copies ``attrs`` with every selection, so
    the pieces of one result (``groupby``, ``head`` and ``tail``) put back together keep its
    metadata (each result records its own ``valuation_id``, so two results never pass for
    one). Against a value ``==`` is elementwise, as for any DataFrame. Frames derived from it
    (selections, copies) are plain DataFrames.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def __eq__(self, other: object) -> Any:
        if isinstance(other, IssueTable):
            return self.equals(other)
        if isinstance(other, pd.DataFrame):  # one bool, for pandas' comparison of attrs
            return False
        return super().__eq__(other)

    def __ne__(self, other: object) -> Any:
        if isinstance(other, pd.DataFrame):
            return not self.__eq__(other)
        return super().__ne__(other)

    __hash__ = pd.DataFrame.__hash__  # unhashable, as a DataFrame is (it can change)

    def __deepcopy__(self, memo: Any = None) -> IssueTable:
        # pandas deep-copies attrs when it slices a frame: the copy must stay an IssueTable,
        # or pd.concat of two slices would compare plain DataFrames with == and fail. Under
        # pandas' copy-on-write (always on from pandas 3) a shallow copy is already an
        # independent one, its data copied only if either side is changed: a deep copy of a
        # large issues table on every selection made a groupby cost groups x issues.
        return IssueTable(self.copy(deep=False))

    def __copy__(self) -> IssueTable:
        return IssueTable(self.copy(deep=False))


def issues_frame(issues: list[RowIssue]) -> IssueTable:
    """Issues as an :class:`IssueTable` (row, index, field, code, reason), sorted by row."""
    frame = pd.DataFrame([i.as_dict() for i in issues], columns=ISSUE_COLUMNS)
    ordered = frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
    return IssueTable(ordered)


@own_decimal_context
def value_frame(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
                errors: Literal["raise", "collect"] = "raise",
                assumptions: Assumptions | Mapping[str, Any] | None = None,
                row_offset: int = 0,
                claims: pd.DataFrame | ClaimTotals | None = None,
                detail: bool = False) -> pd.DataFrame:
    """Value every row of ``df``; returns a new DataFrame (the input is not mutated).

    Required columns: ``measure, quantity, unit, region, date`` (text, categorical or
    pyarrow-string columns; dates as ISO text, dates, datetime64 or day Periods); optional:
    ``years``, ``deadweight``, ``displacement``, ``attribution``, ``drop_off``, ``confidence``,
    ``contract_value``, ``stage``, ``contract_id`` (double-counting key), ``period_share`` (a
    part of a row reported for a period, from :func:`~socialvalue_tom.periods.apportion`: its
    cap and quantity bounds are that share of the row's), fields a measure requires, and any
    other columns (passed through). A missing ``unit`` means the measure's canonical unit
    (the trace's convert step and :func:`~socialvalue_tom.report.basis_notes` say so).
    Adds ``value_gbp`` (negative for disbenefits; in ``price_year`` prices where one is
    given), ``proxy_gbp`` (the edition's proxy per unit, in its own price base),
    ``region_used``, ``table``, ``version`` and ``digest``; with ``detail=True`` also
    ``gross_gbp`` (quantity times proxy, in the edition's price base: before additionality,
    the other rules and any ``price_year`` uplift, as the trace's gross step) and
    ``canonical_quantity``; when a double-counting exclusion reduced a claim,
    ``claim_share`` and ``exclusion``; and, with ``carry_forward``, ``carried_forward`` (True
    where the row was valued with an edition past its ``valid_to``, as the scalar
    ``Valuation.carried_forward``).

    ``errors="raise"``: any bad row raises one :class:`BulkValidationError` (an
    :class:`OutcomeError`) listing every bad row, and nothing is valued. ``errors="collect"``:
    valid rows are valued, bad rows get ``value_gbp`` NaN and are listed in
    ``out.attrs["issues"]`` (a DataFrame: row, index, field, code, reason; one line for each
    problem a row's cells show by themselves, see docs/errors.md). ``row_offset`` (a whole
    number, 0 or more, else :class:`RuleError`) is added to row numbers (used when streaming
    files in chunks).

    ``claims``: when ``df`` is one piece of a larger input (a file chunk, a Dask partition),
    the :func:`claims_of` of every piece together, so that double-counting exclusions see the
    claims of the whole input; by default ``df``'s own. For many pieces, pass
    :func:`claim_totals` of those claims instead: they are then indexed once, not per piece.

    The rows are valued in blocks of 49,152, so the memory used beyond the output columns
    stays small whatever the input's length.

    >>> import pandas as pd
    >>> import socialvalue_tom as sv
    >>> df = pd.DataFrame({"measure": ["jobs-local-fte", "env-carbon-saved"],
    ...                    "quantity": [2, 3500], "unit": ["FTE", "kgCO2e"],
    ...                    "region": ["london", "scotland"],
    ...                    "date": ["2024-09-30", "2024-09-30"]})
    >>> sv.value_frame(df)[["measure", "value_gbp", "region_used", "version"]]
                measure  value_gbp region_used version
    0    jobs-local-fte   70668.00      london    2024
    1  env-carbon-saved    1052.87          uk    2024
    >>> out = sv.value_frame(df.assign(quantity=[2, -1]), errors="collect")
    >>> out["value_gbp"].tolist(), out.attrs["issues"][["row", "field", "code"]].values.tolist()
    ([70668.0, nan], [[1, 'quantity', 'negative']])
    """
    _check_input(df, errors)
    detail = flag(detail, "detail")
    if (isinstance(row_offset, bool) or not isinstance(row_offset, int | np.integer)
            or row_offset < 0):
        raise RuleError(f"row_offset must be a whole number of rows, 0 or more, not "
                        f"{row_offset!r}", field="row_offset")
    a = as_assumptions(assumptions)
    stack = stack_of(table_set(tables))
    _refuse_misnamed_rule_columns(df, stack)
    _remember(stack)
    n = len(df)
    issues = Issues(n, int(row_offset), df.index)
    totals, keys = _claim_totals(df, stack, a, claims)
    out = Columns.empty(n, detail, len(stack.editions), len(stack.regions))
    shares = _Shares(n, [ex.id for t in stack.editions for ex in t.spec.exclusions],
                     always=claims is not None)
    seen = Seen(all_dates=df["date"] if n > BLOCK and "date" in df.columns else None)
    illustrative = 0
    carried = np.zeros(n, dtype=bool)
    late = np.zeros(n, dtype=bool)  # valued with an edition past its valid_to
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        block, local = df.iloc[start:stop], issues.block(start, stop)
        rows = lookups(block, stack, a, local, seen)
        _refuse_failing_claims(block, stack, a, rows, local)
        years = _carried(rows, stack, a)
        if years is not None:
            carried[start:stop] = (years >= 0) & ~local.bad
            late[start:stop] = rows.late & ~local.bad
        scale = _exclusions(block, stack, rows, local, (totals, keys), shares, start, years)
        # With errors="raise" and bad rows already found, the arithmetic still runs: it is
        # where a custom expression's non-finite result shows, and the error lists every row.
        # Only the editions this block's valid rows use are restated (as in the scalar engine).
        uplift = stack.uplift(a.price_year, rows.ed[~local.bad])
        arithmetic(block, stack, a, rows, local, scale, out, start, uplift)
        if stack.any_illustrative:
            valued = rows.emr[~local.bad]
            illustrative += int(np.count_nonzero(stack.illustrative.ravel().take(valued)))
    _raise_if(issues, errors)
    if illustrative:
        warn_illustrative(illustrative)  # at the line calling value_frame
    lumped = _carried_across_april(df, carried)
    if lumped:
        # A contract manager's review: a period running past the last edition, apportioned
        # without carrying forward, was one part from the edition's end, valued as one year.
        warnings.warn(SocialValueWarning(
            f"{lumped:,} row(s) valued with an edition carried forward are parts of a period "
            "that runs across 1 April, apportioned without carry_forward: one part, not one "
            "per financial year (each year's claims netted apart, and discounted as its "
            "year); apportion with carry_forward=True too"), stacklevel=outside_stacklevel())
    replaced = _columns_of_its_own_replaced(df)
    if replaced:
        warnings.warn(SocialValueWarning(
            f"the input has column(s) {', '.join(map(repr, replaced))}, which the valuation "
            "writes: they are replaced by this valuation's (a supplier's own figure in "
            "value_gbp, a template's version, would be lost); rename them to keep them"),
            stacklevel=outside_stacklevel())
    periods = unread_periods(df)
    if periods:
        start, end = periods
        warnings.warn(SocialValueWarning(
            f"the rows have {start} and {end} columns, which value_frame does not read: each "
            "row is valued whole at its date; apportion first (sv.apportion) to split a "
            "period across the editions it overlaps"), stacklevel=outside_stacklevel())
    twins = column_twins(df, differing=True)
    if twins:  # a cleaned column beside its original is common: said, not refused
        warnings.warn(SocialValueWarning(
            f"the input has {twins_text(twins)}, the other column(s) passed over: drop those "
            "not meant to be read"), stacklevel=outside_stacklevel())
    return _output(df, out, stack, issues, a, shares, late if a.carry_forward else None)



def claims_of(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
              assumptions: Assumptions | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The claims in ``df`` that double-counting exclusions govern, one row each (edition,
    exclusion, group label, rank, quantity claimed: the canonical quantity over the row's
    ``years``): small, and they add up across pieces.
    With ``carry_forward``, a claim in a financial year valued with an edition carried past
    its end names that year in its edition label (``uk-national:2025 carried to 2026/27``):
    each year's claims are set against that year's.

    ``pd.concat`` the claims of every piece of an input and pass them to
    ``value_frame(piece, ..., claims=...)`` to value the pieces as one input. Rows that are
    invalid for other reasons are left out (``value_frame`` reports them).
    """
    _check_input(df, "collect")
    stack = stack_of(table_set(tables))
    _refuse_misnamed_rule_columns(df, stack)
    return _claims(df, stack, as_assumptions(assumptions))


def claim_totals(claims: pd.DataFrame, tables: TablesLike = "uk-national") -> ClaimTotals:
    """``claims`` (the :func:`claims_of` of every piece of an input, concatenated) indexed for
    the ``tables`` used, to pass as ``value_frame(piece, claims=...)`` for each piece: the index
    is built once rather than once per piece. :class:`RuleError` when ``claims`` is not what
    ``claims_of`` gives."""
    return ClaimTotals.from_claims(claims, stack_of(table_set(tables)).editions)


def _governed(df: pd.DataFrame, stack: EditionStack, a: Assumptions,
              ) -> Iterator[tuple[pd.DataFrame, np.ndarray, Rows, np.ndarray]]:
    """Block by block, the rows whose measures an exclusion names: (those rows, their positions
    in ``df``, their lookups, their canonical quantities, NaN where the row is invalid)."""
    codes = {c for t in stack.editions for ex in t.spec.exclusions for c in ex.measures}
    for start in range(0, len(df), BLOCK):
        block = df.iloc[start:start + BLOCK]
        pick = np.flatnonzero(_named(block["measure"], codes))
        if pick.size:
            mine = block.iloc[pick]
            scratch = Issues(len(mine), 0, mine.index, marks_only=True)
            rows = lookups(mine, stack, a, scratch)
            _refuse_failing_claims(mine, stack, a, rows, scratch)
            yield mine, start + pick, rows, _claimed(rows, scratch.bad)


def _claimed(rows: Rows, bad: np.ndarray) -> np.ndarray:
    """What each row claims, as exclusions compare claims: its canonical quantity over all its
    years (a 1-FTE part for one year against a 5-FTE whole for three: 1 of 15 FTE-years), NaN
    for a bad row. The whole's share then applies to each of its years alike."""
    years = rows.extra.get("years")
    claimed = rows.q * rows.factor
    if years is not None:
        # A row whose years are out of range is bad, and its claim NaN below: its product
        # may overflow first, which is no concern of the caller's (no RuntimeWarning).
        with np.errstate(over="ignore", invalid="ignore"):
            claimed = claimed * np.where(np.isnan(years), 1.0, years)
    return np.where(bad, np.nan, claimed)


def _refuse_failing_claims(block: pd.DataFrame, stack: EditionStack, a: Assumptions,
                          rows: Rows, issues: Issues) -> None:
    """Report, before the exclusions count them, the claims that give no value for the full
    claim: a custom expression's non-finite or negative result, or an amount past
    ``MAX_AMOUNT`` at some step (too large). Such a row is not valued, so it must not reduce
    its whole (a part) nor count in its group's total (a whole, which would leave the other
    wholes of its group reduced too little). Parts are never scaled by their own exclusion, so
    valuing them here gives what the arithmetic would; a whole is judged at its full claim.
    Only custom measures, and rows whose amount may pass the limit (judged from an upper
    bound: the gross at the largest proxy, times its years and any uplift), can fail after the
    lookups; only they are valued here."""
    custom = np.zeros(stack.excluded.shape, dtype=bool)
    for c in stack.custom:
        custom[c.edition, c.measure] = True
    valid = (rows.ed >= 0) & (rows.m >= 0) & ~issues.bad
    governed = stack.excluded.ravel().take(rows.em) & valid
    if not governed.any():
        return
    pick = np.flatnonzero(governed & (custom.ravel().take(rows.em)
                                      | _may_be_too_large(stack, a, rows, governed)))
    if not pick.size:
        return
    sub = block.iloc[pick]
    sub_rows = Rows(rows.q[pick], rows.ed[pick], rows.m[pick], rows.em[pick], rows.emr[pick],
                    rows.factor[pick], rows.fy[pick], rows.reduction[pick],
                    {k: v[pick] for k, v in rows.extra.items()}, rows.late[pick])
    found = Issues(len(pick), 0, sub.index)
    arithmetic(sub, stack, a, sub_rows, found, None,
               Columns.empty(len(pick), False, len(stack.editions), len(stack.regions)), 0,
               stack.uplift(a.price_year, sub_rows.ed))
    for item in found.items:
        one = np.zeros(len(block), dtype=bool)
        one[pick[item.row]] = True
        issues.add(one, item.field, item.code, item.reason)


def _may_be_too_large(stack: EditionStack, a: Assumptions, rows: Rows,
                      valid: np.ndarray) -> np.ndarray:
    """Rows whose amount could pass ``MAX_AMOUNT`` at some step: an upper bound (the largest of
    the proxy's values, every year undiscounted, the uplift if it raises) above the limit.
    Only the editions of ``valid`` rows are restated (as for the valuation: an edition used
    by refused rows alone needs no price index)."""
    from socialvalue_tom.outcome import MAX_AMOUNT

    emr = np.clip(rows.emr, 0, None)
    proxy = np.maximum.reduce([np.abs(p.ravel().take(emr)) for p in stack.proxy.values()])
    years = rows.extra.get("years")
    span = np.ones(len(rows.q)) if years is None else np.where(np.isnan(years), 1.0, years)
    up = stack.uplift(a.price_year, rows.ed[valid]).take(np.clip(rows.ed, 0, None))
    rise = np.where(np.isnan(up), 1.0, np.maximum(up, 1.0))
    with np.errstate(over="ignore", invalid="ignore"):
        bound = np.abs(rows.q * rows.factor) * proxy * span * rise
    return np.asarray(~(bound <= MAX_AMOUNT))


def _named(measure: pd.Series, codes: set[str]) -> np.ndarray:
    """Whether each row's measure is one of ``codes``, read as the lookups read it (text
    stripped of surrounding whitespace): worked out once per distinct value."""
    found, uniq = cell_codes(measure)
    named = [isinstance(u, str) and u.strip() in codes for u in uniq]
    picked: np.ndarray = np.array([*named, False], dtype=bool)[found]
    return picked


def _carried(rows: Rows, stack: EditionStack, a: Assumptions) -> np.ndarray | None:
    """Per row, the financial year of a row valued with an edition carried forward past the
    financial year it ends in (-1 for the others); None without ``carry_forward``. Each such
    year's claims are then set against that year's, as an edition's are (docs/rules.md, 10)."""
    if not a.carry_forward:
        return None
    ends = [t.valid_to.year - (t.valid_to.month < 4) for t in stack.editions]
    last = np.array([*ends, np.iinfo(np.int16).max])  # an invalid row (-1) is never carried
    fy = rows.fy.astype(np.int64)
    return np.where(fy > last[rows.ed.astype(np.intp)], fy, -1)


def _claims(df: pd.DataFrame, stack: EditionStack, a: Assumptions) -> pd.DataFrame:
    parts = [claim_rows(mine, canonical, rows.ed, rows.m, stack.editions,
                        _carried(rows, stack, a))
             for mine, _, rows, canonical in _governed(df, stack, a)]
    if not parts:
        return claim_rows(df.iloc[:0], np.zeros(0), np.zeros(0, dtype=np.intp),
                          np.zeros(0, dtype=np.intp), stack.editions)
    return pd.concat(parts, ignore_index=True)


def _claim_totals(df: pd.DataFrame, stack: EditionStack, a: Assumptions,
                  claims: pd.DataFrame | ClaimTotals | None,
                  ) -> tuple[ClaimTotals | GroupTotals | None, GroupKeys | None]:
    """Totals the exclusions of each block are judged against (None: the block's own, which
    is right when the input is one block), and the input's group keys when they are used."""
    if not any(t.spec.exclusions for t in stack.editions):
        return None, None
    if isinstance(claims, ClaimTotals):
        if claims.editions != ClaimTotals.edition_ids(stack.editions):
            raise RuleError("claims= was indexed (claim_totals) for other tables than the ones "
                            "valuing these rows: index the claims with the same tables",
                            field="claims")
        return claims, None
    if claims is not None:
        return ClaimTotals.from_claims(claims, stack.editions), None
    if len(df) <= BLOCK:
        return None, None
    keys = GroupKeys(df)
    found = [c for mine, where, rows, canonical in _governed(df, stack, a)
             for c in claims_in_blocks(mine, canonical, rows.ed, rows.m, stack.editions, keys,
                                       where, _carried(rows, stack, a))]
    return group_totals(found, keys), keys


class _Shares:
    """``claim_share`` and ``exclusion`` columns: created when an exclusion reduces a claim,
    or always (``always``: a piece of a larger input, whose pieces must share columns)."""

    def __init__(self, n: int, declared: list[str], *, always: bool) -> None:
        self.n = n
        self.ids: list[str] = list(dict.fromkeys(declared))
        self.scale: np.ndarray | None = None
        self.fired: np.ndarray | None = None
        if always and self.ids:
            self._create()

    def _create(self) -> None:
        self.scale = np.ones(self.n)
        self.fired = np.full(self.n, -1, dtype=np.int16)

    def record(self, excl: ExclusionResult, start: int) -> None:
        if not (excl.fired >= 0).any():
            return
        if self.scale is None or self.fired is None:
            self._create()
        assert self.scale is not None and self.fired is not None
        stop = start + len(excl.scale)
        self.scale[start:stop] = excl.scale
        remap = np.array([*(self._id(i) for i in excl.ids), -1], dtype=np.int16)
        self.fired[start:stop] = remap[excl.fired]

    def _id(self, name: str) -> int:
        if name not in self.ids:
            self.ids.append(name)
        return self.ids.index(name)


def _exclusions(block: pd.DataFrame, stack: EditionStack, rows: Rows, issues: Issues,
                judged: tuple[ClaimTotals | GroupTotals | None, GroupKeys | None],
                shares: _Shares, start: int,
                carried: np.ndarray | None) -> np.ndarray | None:
    """The share of each row's claim to count (None: all of every claim)."""
    if not stack.excluded.ravel().take(rows.em).any():
        return None  # no row of this block is a claim an exclusion governs
    canonical = _claimed(rows, issues.bad)
    totals, keys = judged
    where = np.arange(start, start + len(block)) if keys is not None else None
    excl = exclusion_scales(block, canonical, rows.ed, rows.m, stack.editions, totals, keys,
                            where, carried)
    if excl is None:
        return None
    for pos, reason in excl.rejected:
        one = np.zeros(len(block), dtype=bool)
        one[pos] = True
        issues.add(one, "measure", "double-counting", reason)
    shares.record(excl, start)
    return excl.scale


def _raise_if(issues: Issues, errors: str) -> None:
    if issues.items and errors == "raise":
        raise BulkValidationError.from_issues(
            sorted(issues.items, key=lambda i: (i.row, i.field)))


#: The period columns ``apportion`` reads by default.
PERIOD_COLUMNS = ("period_start", "period_end")


def _carried_across_april(df: pd.DataFrame, carried: np.ndarray) -> int:
    """How many ``carried`` rows of ``df`` (valued with an edition carried forward) are
    parts, apportioned without ``carry_forward``, whose own period runs across 1 April."""
    read = df.attrs.get("socialvalue_tom.periods")  # periods.PERIODS_ATTR, its record
    if not carried.any() or not isinstance(read, Mapping) or read.get("carry_forward") is not False:
        return 0
    if read.get("start") not in df.columns or read.get("end") not in df.columns:
        return 0
    first, last = (pd.to_datetime(df[read[k]], errors="coerce") for k in ("start", "end"))
    fy_first = first.dt.year - (first.dt.month < 4)
    fy_last = last.dt.year - (last.dt.month < 4)
    return int(((fy_first != fy_last).to_numpy() & carried).sum())


def _columns_of_its_own_replaced(df: pd.DataFrame) -> list[str]:
    """The columns of ``df`` that value_frame writes, where ``df`` is not an earlier
    valuation (no record in its ``attrs``, and not every edition column a valued file has):
    a caller's own columns of those names, replaced without a word before (a notebook
    analyst's review: a supplier's own figure in ``value_gbp`` was lost)."""
    written = [c for c in (*OUTPUT_COLUMNS, *WRITTEN_WHERE_THEY_APPLY) if c in df.columns]
    earlier = isinstance(df.attrs.get("socialvalue_tom"), Mapping) or {
        "value_gbp", "table", "version", "digest"} <= set(df.columns)
    return [] if earlier else written


def unread_periods(frame: pd.DataFrame) -> tuple[Any, Any] | None:
    """The period columns of ``frame`` where it has them but was not apportioned (no
    ``period_row``): value_frame values each row whole at its date, whatever its period. The
    default names, or names that differ from them only by case, spaces or separators
    (``Period Start``: a data-quality steward's review found such a file valued at its dates
    with no word); None where it has no such pair."""
    if "period_row" in frame.columns:
        return None
    columns = list(frame.columns)
    found = [name if name in columns else near_names(columns, [name]).get(name)
             for name in PERIOD_COLUMNS]
    return (found[0], found[1]) if None not in found else None


def _check_input(df: pd.DataFrame, errors: str) -> None:
    choice(errors, "errors", ("raise", "collect"))
    a_frame(df, "value_frame()")
    refuse_nested_columns(df)
    refuse_index_columns(df)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise OutcomeError(f"input is missing required column(s) {', '.join(missing)}; "
                           f"expected {', '.join(REQUIRED_COLUMNS)}"
                           f"{missing_columns_hint(df, missing)}", field=missing[0],
                           columns=missing)
    refuse_duplicated_columns(df)


def refuse_index_columns(df: pd.DataFrame, reader: str | None = None,
                         read: Collection[str] = STANDARD_COLUMNS) -> None:
    """:class:`OutcomeError` for a column of ``read`` (by default every standard column) the
    frame holds as its index (``df.set_index("contract_id")``): the rules read columns, so the
    index would be passed over, and without ``contract_id`` every contract would be one
    double-counting group. ``reader`` names a function reading a valued frame
    (``summarise``), which would leave out what the column gives (a contract's value and
    ratio) without a word."""
    names = [n for n in df.index.names
             if isinstance(n, str) and n in read and n not in df.columns]
    if names:
        one = len(names) == 1
        if reader is None:
            why = ("the rules read columns, so {it} would be passed over (without contract_id "
                   "every contract is one double-counting group)")
        else:
            why = f"{reader} reads columns, so {{it}} would be passed over" + (
                " (every row would read as having no contract_id: no contract values, ratios "
                "or targets)" if "contract_id" in names else "")
        raise OutcomeError(
            f"{', '.join(map(repr, names))} {'is' if one else 'are'} the frame's index, not "
            f"{'a column' if one else 'columns'}: {why.format(it='it' if one else 'they')}; "
            f"make {'it a column' if one else 'them columns'} with df.reset_index()",
            field=names[0], columns=names)


#: A name a measure may require (its ``requires``), as a table file must write it.
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: Optional columns the rules read (and the scalar Outcome's fields): a column named but for
#: case, spaces, hyphens or underscores would be passed through unread, changing the value
#: without a word.
_RULE_COLUMNS = tuple(c for c in STANDARD_COLUMNS if c not in (*REQUIRED_COLUMNS, "fields"))


def outcomes_frame(outcomes: Iterable[Outcome | Mapping[str, Any]]) -> pd.DataFrame:
    """The outcomes of a batch given one by one (``Outcome`` models, or mappings as a JSON
    request holds them) as a :func:`value_frame` input: a row each, in order, their fields
    as columns and each entry of ``fields`` (``{"level": 3}``) as a column of its own, as
    ``value_frame`` reads a field a measure requires. Mappings are not validated here, so
    that ``value_frame`` reports every bad item at once (``row`` is the item's position); a
    ``unit`` column is always there (blank: the measure's own unit, as ``Outcome`` reads a
    missing unit). An entry of ``fields`` named like a column of the item itself, or not a
    mapping, raises :class:`OutcomeError` naming the item.

    Examples:
        >>> df = outcomes_frame([{"measure": "jobs-apprentice", "quantity": 10,
        ...                       "region": "uk", "date": "2024-06-01", "fields": {"level": 3}}])
        >>> df[["measure", "unit", "level"]].values.tolist()
        [['jobs-apprentice', None, 3]]

    Added in 0.1.
    """
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(outcomes):
        if isinstance(item, Outcome):
            row = item.model_dump(exclude_defaults=True)
            row.setdefault("fields", dict(item.fields))
        elif isinstance(item, Mapping):
            row = dict(item)
        else:
            raise OutcomeError(f"outcome {i} is a {type(item).__name__}, not an Outcome or a "
                               "mapping of its fields", field="outcomes", row=i)
        fields = row.pop("fields", None) or {}
        if not isinstance(fields, Mapping):
            raise OutcomeError(f"outcome {i}: fields is a {type(fields).__name__}, not a "
                               "mapping of names to figures", field="fields", row=i)
        # A field named as a column would be read as that column ('years': a duration).
        clash = sorted(str(k) for k in fields if k in row or k in STANDARD_COLUMNS)
        if clash:
            raise OutcomeError(f"outcome {i}: fields names {', '.join(map(repr, clash))}, "
                               "a column of the outcome itself", field="fields", row=i)
        rows.append({"unit": None, **row, **fields})
    return pd.DataFrame(rows, columns=list(dict.fromkeys(
        [*REQUIRED_COLUMNS, *(k for r in rows for k in r)])))


#: Columns of a nested outcome laid flat by pandas (``fields``, ``fields.level`` from
#: ``pd.json_normalize``): never read, so a field in them would be passed over.
_NESTED_FIELDS = re.compile(r"fields(\.[a-z][a-z0-9_]{0,63})?")


def _refuse_nested_fields(df: pd.DataFrame) -> None:
    nested = [c for c in df.columns if isinstance(c, str) and _NESTED_FIELDS.fullmatch(c)
              and (c != "fields" or df[c].map(lambda v: isinstance(v, Mapping) and len(v) > 0)
                   .any())]  # empty ones (Outcome.model_dump's) carry nothing to pass over
    if nested:
        raise OutcomeError(
            f"input has column(s) {', '.join(map(repr, nested))}: the fields a measure "
            "requires are read from columns of their own ('level', not 'fields' holding "
            "{'level': 3} nor 'fields.level'), so these would be passed over; "
            "socialvalue_tom.frame.outcomes_frame lays out a batch of outcomes that way",
            field=nested[0], columns=nested)


def _refuse_misnamed_rule_columns(df: pd.DataFrame, stack: EditionStack) -> None:
    """:class:`OutcomeError` for a column that names a rule column another way: but for case,
    spaces, hyphens or underscores (``Years``, ``Dead weight``, ``drop-off``, ``Contract ID``),
    or with how its figures are written or as analysts often name it ("Deadweight (%)",
    "contract", "duration"). The scalar ``Outcome`` refuses such a field, and in bulk it would
    be passed over: the value worked out without it (no cap, no duration, no grouping). A field
    some measure of the tables requires (a custom measure's ``duration`` or ``dropoff``) is
    that measure's: not refused where only that measure's rows fill it, as the scalar engine
    reads it for that measure alone; filled on another measure's row, where it would be passed
    over, it is refused, as ``sv.value`` refuses that row's field."""
    _refuse_nested_fields(df)
    if not misnamed(df.columns, _RULE_COLUMNS):
        return
    required_by: dict[str, set[str]] = {}
    for t in stack.editions:
        for m in t.measures.values():
            for f in m.requires:
                required_by.setdefault(f, set()).add(m.code)
    present = [f for f in required_by if f in df.columns]
    exempt: set[str] = set()
    if present:
        # The rows' measures, read once (stripped, as valuing reads them) for every field.
        codes, uniq = cell_codes(df["measure"])
        stripped = [u.strip() if isinstance(u, str) else None for u in uniq]
        exempt = {f for f in present
                  if _filled_only_on(df, f, codes, stripped, required_by[f])}
    found = misnamed(df.columns, _RULE_COLUMNS, exempt=exempt)
    shared = [name for name, _ in found.values() if name in required_by]
    why = "".join(f" ({name!r} is a field {', '.join(sorted(required_by[name]))} "
                  f"{'requires' if len(required_by[name]) == 1 else 'require'}, but rows of "
                  "other measures fill it too, where it would be passed over)"
                  for name in shared)
    near = {c: name for c, (name, is_near) in found.items() if is_near}
    if near:
        raise OutcomeError(
            "input has column(s) named like rule columns but for case, spaces, hyphens or "
            f"underscores ({_pairs(near)}){why}: "
            "rule columns are read by their exact names, so these would be passed through "
            "unread; rename them (or give another name to a column that means something else)",
            field=next(iter(near)), columns=[str(v) for v in near.values()])
    alike = {c: name for c, (name, _) in found.items()}
    if alike:
        fractions = [c for c in alike if c in FRACTION_COLUMNS]
        how = (f" ({', '.join(fractions)} {'is' if len(fractions) == 1 else 'are'} written as "
               "a fraction: 0.25 for 25%)" if fractions else "")
        raise OutcomeError(
            f"input has column(s) that look like rule columns ({_pairs(alike)}){why}: rule "
            "columns are read by their exact names, so these would be passed over and the "
            f"values worked out without them; rename them{how}, or give another name to a "
            "column that means something else", field=next(iter(alike)),
            columns=[str(v) for v in alike.values()])


def _filled_only_on(df: pd.DataFrame, column: str, codes: np.ndarray,
                    distinct: list[str | None], measures: set[str]) -> bool:
    """Whether ``column`` is blank (missing, or blank text) on every row whose measure (code
    ``codes`` into the ``distinct`` measures, stripped; -1 for none) is not one of
    ``measures``."""
    theirs = np.array([m in measures for m in distinct] + [False])
    elsewhere = ~theirs[codes]
    if not elsewhere.any():
        return True
    return bool((cell_codes(df[column])[0][elsewhere] < 0).all())


def _pairs(found: dict[str, Any]) -> str:
    return "; ".join(f"{name!r} for {c!r}" for c, name in found.items())


def _one_column_hint(df: pd.DataFrame, missing: list[str]) -> str:
    """Where a header read as one column holds the missing names joined by another
    separator (``measure|quantity|unit``: a data-quality steward's review), which one."""
    for name in df.columns:
        if not isinstance(name, str):
            continue
        found = [c for c in missing if c in re.split(r"[^0-9A-Za-z_]+", name.casefold())]
        if len(found) > 1:
            between = next((ch for ch in name if not (ch.isalnum() or ch in "_ ")), None)
            said = f" separated by {between!r}" if between else ""
            return (f"; the header {shortened(repr(name), 80)} holds {', '.join(found)} as "
                    f"one column{said}: separate the columns with commas (a semicolon or a "
                    "tab is read too)")
    return ""


def missing_columns_hint(df: pd.DataFrame, missing: list[str], *, sheets: bool = True) -> str:
    """What the input holds instead: a column named but for case, spaces, hyphens or
    underscores (``Measure``, ``Contract ID``), and (``sheets``) the sheet read when it came
    from a workbook with others (``read_outcomes`` records it). Rule columns so named are listed too
    (``Contract ID``): renamed with the others, they would be refused on the next run."""
    near = near_names(df.columns, missing)
    # Named as the next run's check would name them (misnamed: 'Contract ID', 'Deadweight
    # (%)'), but for a name a measure may require, which that check exempts for its measure.
    also = {c: name for c, (name, _) in misnamed(df.columns, _RULE_COLUMNS).items()
            if not (isinstance(name, str) and _FIELD_NAME.fullmatch(name))}
    pairs = [*near.items(), *also.items()]
    hint = (f"; found {', '.join(f'{name!r} for {c}' for c, name in pairs)} (column "
            "names are lower case, words joined by _: rename them)" if pairs else "")
    hint += "".join(f"; found {name!r}: a misspelling of {c}?"
                    for c, name in _misspelt_columns(df, [c for c in missing if c not in near]))
    hint += "".join(_bracketed_column_hint(c, name, inside)
                    for c, name, inside in _bracketed_columns(df, [c for c in missing
                                                                   if c not in near]))
    hint += _one_column_hint(df, missing)
    source = df.attrs.get("socialvalue_tom.source")
    if sheets and isinstance(source, dict) and len(source.get("sheets", ())) > 1:
        others = [n for n in source["sheets"] if n != source.get("sheet")]
        hint += (f"; read from sheet {source.get('sheet')!r} of a workbook that also has "
                 f"{', '.join(map(repr, others))} (read_outcomes(path, sheet=...))")
    return hint


#: A header with a note in brackets after its name: "Quantity (FTE)", "Region [nation]". No
#: part may hold a bracket, so the match takes time linear in the header (a supplier's header
#: of thousands of spaces and a bracket is no reason to stall); spaces are stripped after.
_BRACKETED = re.compile(r"([^()\[\]]*)[(\[]([^()\[\]]*)[)\]]")


def _bracketed_columns(df: pd.DataFrame, missing: list[str]) -> list[tuple[str, str, str]]:
    """``(required column, column of df, what its brackets hold)`` where a column is a missing
    required one's name followed by a note in brackets (``Quantity (FTE)``)."""
    found = []
    for name in df.columns:
        parts = _BRACKETED.fullmatch(name.strip()) if isinstance(name, str) else None
        for c in missing if parts else ():
            if parts is not None and name_key(parts[1].strip()) == name_key(c):
                found.append((c, name, parts[2].strip()))
    return found


def _bracketed_column_hint(column: str, name: str, inside: str) -> str:
    if column == "quantity" and inside:
        return (f"; found {name!r}: rename it quantity, and give its unit ({inside}) in a unit "
                "column")
    return f"; found {name!r}: rename it {column}"


def _misspelt_columns(df: pd.DataFrame, missing: list[str]) -> list[tuple[str, str]]:
    """``(required column, column of df)`` where a column the input holds, and no rule reads,
    is one or two typos from a missing required one (``quantitiy``, ``units``)."""
    import difflib

    spare = [str(c) for c in df.columns
             if str(c) not in STANDARD_COLUMNS and str(c) not in OUTPUT_COLUMNS]
    found = []
    for c in missing:
        # 0.8: one letter changed in a four-letter name ('rate' for 'date') is not offered.
        close = difflib.get_close_matches(c, spare, n=1, cutoff=0.8)
        if close:
            found.append((c, close[0]))
            spare.remove(close[0])
    return found


def refuse_duplicated_columns(df: pd.DataFrame) -> None:
    """OutcomeError when ``df`` has two columns of one name, or nested column labels (which
    one would be read?)."""
    refuse_nested_columns(df)
    dup = df.columns[df.columns.duplicated()].unique().tolist()
    if dup:
        raise OutcomeError(f"input has duplicated column(s) {', '.join(map(str, dup))}",
                           field=str(dup[0]), columns=dup)


def column_twins(df: pd.DataFrame, *, differing: bool = False) -> dict[str, str]:
    """Each standard column of ``df`` with another column of its name save for case, spaces,
    hyphens or underscores (``quantity`` and ``Quantity``): only the exact name is read, the
    other passed over. ``differing``: only twins whose cells are not the standard column's
    (a copy kept beside it changes nothing)."""
    keys = {name_key(c): c for c in STANDARD_COLUMNS if c in df.columns}
    twins = {keys[name_key(n)]: n for n in df.columns if isinstance(n, str)
             and name_key(n) in keys and n != keys[name_key(n)]}
    if differing:
        twins = {c: n for c, n in twins.items()
                 if not df[c].reset_index(drop=True).equals(df[n].reset_index(drop=True))}
    return twins


def twins_text(twins: dict[str, str]) -> str:
    """What :func:`column_twins` found, as a sentence's middle: which are read, which not."""
    pairs = ", ".join(f"{c!r} and {n!r}" for c, n in twins.items())
    return (f"columns of one name save for case, spaces, hyphens or underscores ({pairs}): "
            f"only the exact name{'s are' if len(twins) > 1 else ' is'} read")


def refuse_nested_columns(df: pd.DataFrame) -> None:
    """OutcomeError for columns labelled at several levels (a pandas MultiIndex, as two header
    rows or ``concat(axis=1, keys=...)`` give): pandas finds ``df["measure"]`` by the first
    level, but a check of which columns are present sees tuples, so ``contract_id`` was
    passed over and every contract made one double-counting group, a silently wrong value."""
    if isinstance(df.columns, pd.MultiIndex):
        raise OutcomeError(
            f"input columns are labelled at {df.columns.nlevels} levels (a pandas MultiIndex, "
            f"e.g. {df.columns[0]!r}): the outcome columns must be plain names; flatten them "
            "first, e.g. df.columns = df.columns.get_level_values(0)", field="columns")


def _remember(stack: EditionStack) -> None:
    from socialvalue_tom.explain import remember_editions

    remember_editions(stack.editions)


# -- output ---------------------------------------------------------------------------------------

#: Columns a valuation writes beside :data:`OUTPUT_COLUMNS` where they apply: the double
#: counting's (an exclusion reduced a claim) and, with ``carry_forward``, whether each row
#: was valued with an edition carried forward past its ``valid_to``.
WRITTEN_WHERE_THEY_APPLY = ("claim_share", "exclusion", "carried_forward")


def _output(df: pd.DataFrame, c: Columns, s: EditionStack, issues: Issues, a: Assumptions,
            shares: _Shares, late: np.ndarray | None) -> pd.DataFrame:
    eds = s.editions
    new: dict[str, Any] = {"value_gbp": c.value}
    if c.gross is not None:
        new["gross_gbp"] = c.gross
    new["proxy_gbp"] = c.proxy
    if c.canonical is not None:
        new["canonical_quantity"] = c.canonical
    new["region_used"] = pd.Categorical.from_codes(c.region, categories=pd.Index(s.regions))
    for col, labels in (("table", [t.name for t in eds]), ("version", [t.version for t in eds]),
                        ("digest", [t.digest for t in eds])):
        uniq = list(dict.fromkeys(labels))
        codes = np.array([uniq.index(x) for x in labels] + [-1], dtype=c.edition.dtype)
        new[col] = pd.Categorical.from_codes(codes[c.edition], categories=pd.Index(uniq))
    if shares.scale is not None and shares.fired is not None:
        new["claim_share"] = shares.scale
        new["exclusion"] = pd.Categorical.from_codes(
            shares.fired, categories=pd.Index(shares.ids, dtype=object))
    if late is not None:  # as each row's trace and the scalar Valuation.carried_forward say
        new["carried_forward"] = late
    # One concat instead of a setitem per column (much cheaper on small frames); columns of a
    # previous valuation in the input are replaced, not duplicated.
    kept = df.drop(columns=[k for k in (*OUTPUT_COLUMNS, *WRITTEN_WHERE_THEY_APPLY)
                            if k in df.columns])
    out = pd.concat([kept, pd.DataFrame(new, index=df.index, copy=False)], axis=1)
    out.attrs = own_attrs(df.attrs, drop=("issues", "socialvalue_tom"))
    out.attrs["issues"] = issues_frame(issues.items)
    out.attrs["socialvalue_tom"] = {
        "assumptions": a.model_dump(mode="json"),
        "editions": {f"{t.name}:{t.version}": t.digest for t in eds},
        # A user table's local price index is not part of its digest: record which one was
        # used, so a trace is reproduced with it even after the index file is edited.
        "price_indices": {t.digest: t.index_digest for t in eds},
        # A local amendment says so, with the edition it amends: its label alone could pass
        # for a published edition's (an auditor reads the record, not the terminal).
        **({"amendments": found} if (found := {t.digest: t.amends for t in eds
                                               if t.amends is not None}) else {}),
        # How many rows were valued: a shorter frame labelled 0, 1, 2 ... was either cut
        # from the start or renumbered (reset_index), and only in the first do its labels
        # still name the rows the issues name (report._issues_of).
        "rows": len(df),
        # Which call valued the rows: pd.concat keeps attrs that are equal, so the pieces of
        # one result put back together keep them, while two results with the same settings
        # and the same issues (none, say) do not pass for one.
        "valuation_id": uuid.uuid4().hex,
    }
    if "period_row" in df.columns and len(df):
        out.attrs["socialvalue_tom"].update(_input_row_counts(
            df, out.attrs["issues"]["row"].to_numpy(dtype=np.int64) - issues.offset))
    if issues.items and not df.index.is_unique:
        # Refused rows that share an index label are told apart by position, while the frame
        # holds the rows it was valued with in that order: explain_row checks that against a
        # fingerprint of the labels and input cells (the labels alone stay the same when two
        # rows of one label swap places).
        from socialvalue_tom.explain import rows_fingerprint

        out.attrs["socialvalue_tom"]["index"] = {
            "offset": issues.offset, "columns": [str(c) for c in kept.columns],
            "fingerprint": rows_fingerprint(kept)}
    return out


def _input_row_counts(parts: pd.DataFrame, bad: np.ndarray) -> dict[str, int]:
    """What a valuation of ``parts`` (rows apportion split) records of the input rows they
    come from: ``input_rows``, and ``input_rows_not_valued``, those with a part among the
    positions ``bad`` (each input row counted once, as the reports count them)."""
    from socialvalue_tom.report import input_rows

    return {"input_rows": input_rows(parts),
            "input_rows_not_valued": input_rows(parts.iloc[np.unique(bad)])}


@own_decimal_context
@renamed_parameter("out", "valued", removed_in="2.0")
def explain_row(valued: pd.DataFrame, i: int | np.integer[Any]) -> str:
    """The trace of row ``i`` (position) of ``valued``, a ``value_frame`` result, as
    ``value().explain()``.

    The result may have been sorted or filtered since (pandas keeps its ``attrs``). A row that
    was not valued raises :class:`OutcomeError` naming its issue, which is found by the row's
    index label (where refused rows share one, by position too while the rows are as valued,
    else each one's issue is given): after ``reset_index`` or ``set_axis`` the labels no
    longer name the rows valued, and the issue found may be another row's. See
    :func:`socialvalue_tom.explain.valuation_of_row`.

    The frame is named ``valued``, as in ``summarise`` and ``report_html``; ``out=``, its
    earlier name, still works, with a :class:`DeprecationWarning` (removed in 2.0).

    >>> import pandas as pd
    >>> import socialvalue_tom as sv
    >>> valued = sv.value_frame(pd.DataFrame({"measure": ["env-carbon-saved"],
    ...                                       "quantity": [3500], "unit": ["kgCO2e"],
    ...                                       "region": ["scotland"], "date": ["2024-09-30"]}))
    >>> print(sv.explain_row(valued, 0).splitlines()[-1])
      = £1,052.87 (2024 prices)
    """
    from socialvalue_tom.explain import valuation_of_row

    return valuation_of_row(valued, i).explain()

