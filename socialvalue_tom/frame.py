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

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from socialvalue_tom.engine import DEFAULT_ASSUMPTIONS, TablesLike, table_set
from socialvalue_tom.errors import (
    BulkValidationError,
    OutcomeError,
    RowIssue,
    SocialValueError,
)
from socialvalue_tom.outcome import MAX_QUANTITY, MAX_YEARS, Assumptions
from socialvalue_tom.rules.exclusions import ExclusionResult, claim_rows, exclusion_scales
from socialvalue_tom.rules.pipeline import RuleInputs, run_pipeline
from socialvalue_tom.rules.steps import DISCOUNT_YEARS
from socialvalue_tom.tables.stack import EditionStack, stack_of

__all__ = ["OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "claims_of", "explain_row", "issues_frame",
           "value_frame"]

REQUIRED_COLUMNS = ("measure", "quantity", "unit", "region", "date")
FRACTION_COLUMNS = ("deadweight", "displacement", "attribution", "drop_off")
OUTPUT_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                  "table", "version", "digest")
ISSUE_COLUMNS = ["row", "index", "field", "code", "reason"]
BLOCK = 1 << 17
_STAGES = ("commitment", "delivered")
_BAD_DAY = np.int64(-(2**62))
FloatArray = NDArray[np.float64]


@dataclass
class _Issues:
    """Collects issues; ``bad`` marks rows that must not be valued (first issue wins)."""

    n: int
    offset: int
    index: pd.Index
    items: list[RowIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(self.n, dtype=bool)

    def add(self, mask: np.ndarray, field_name: str, code: str,
            reason: str | Callable[[int], str]) -> None:
        """Record an issue for each row where ``mask`` is true and no issue is recorded yet."""
        if not mask.any():
            return
        pos = np.flatnonzero(mask & ~self.bad)
        if pos.size == 0:
            return
        self.bad[pos] = True
        for p in pos.tolist():
            text = reason(p) if callable(reason) else reason
            self.items.append(RowIssue(row=self.offset + p, field=field_name, code=code,
                                       reason=text, index=_label(self.index[p])))


def _label(x: Hashable) -> Any:
    return x.item() if isinstance(x, np.generic) else x


class IssueTable(pd.DataFrame):
    """The issues of a bulk valuation: a DataFrame with columns row, index, field, code, reason.

    It lives in ``out.attrs["issues"]``. ``==`` between two issue tables is identity, not
    elementwise: pandas compares ``attrs`` with ``==`` when it combines frames (``pd.concat``),
    which a plain DataFrame in ``attrs`` turns into an error. Frames derived from it (selections,
    copies) are plain DataFrames.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def __eq__(self, other: object) -> Any:
        return self is other

    def __ne__(self, other: object) -> Any:
        return self is not other

    __hash__ = object.__hash__  # type: ignore[assignment]


def issues_frame(issues: list[RowIssue]) -> IssueTable:
    """Issues as an :class:`IssueTable` (row, index, field, code, reason), sorted by row."""
    frame = pd.DataFrame([i.as_dict() for i in issues], columns=ISSUE_COLUMNS)
    ordered = frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
    return IssueTable(ordered)


def value_frame(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
                errors: Literal["raise", "collect"] = "raise",
                assumptions: Assumptions | None = None, row_offset: int = 0,
                claims: pd.DataFrame | None = None) -> pd.DataFrame:
    """Value every row of ``df``; returns a new DataFrame (the input is not mutated).

    Required columns: ``measure, quantity, unit, region, date`` (text, categorical or
    pyarrow-string columns; dates as ISO text, dates or datetime64); optional: ``years``,
    ``deadweight``, ``displacement``, ``attribution``, ``drop_off``, ``confidence``,
    ``contract_value``, ``stage``, ``contract_id`` (double-counting key), fields a measure
    requires, and any other columns (passed through). A missing ``unit`` means the measure's
    canonical unit. Adds ``value_gbp`` (negative for disbenefits), ``gross_gbp``,
    ``proxy_gbp``, ``canonical_quantity``, ``region_used``, ``table``, ``version``, ``digest``
    (and ``claim_share``, ``exclusion`` when the tables declare exclusions).

    ``errors="raise"``: any bad row raises one :class:`BulkValidationError` (an
    :class:`OutcomeError`) listing every bad row, and nothing is valued. ``errors="collect"``:
    valid rows are valued, bad rows get ``value_gbp`` NaN and are listed in
    ``out.attrs["issues"]`` (a DataFrame: row, index, field, code, reason). ``row_offset`` is
    added to row numbers (used when streaming files in chunks).

    ``claims``: when ``df`` is one piece of a larger input (a file chunk, a Dask partition),
    the :func:`claims_of` of every piece together, so that double-counting exclusions see the
    claims of the whole input; by default ``df``'s own.
    """
    _check_input(df, errors)
    a = assumptions or DEFAULT_ASSUMPTIONS
    stack = stack_of(table_set(tables))
    _remember(stack)
    issues = _Issues(len(df), row_offset, df.index)
    rows = _lookups(df, stack, a, issues)
    excl = exclusion_scales(df, np.where(issues.bad, np.nan, rows.q * rows.factor), rows.ed,
                            rows.m, stack.editions, claims)
    if excl is not None:
        for pos, reason in excl.rejected:
            one = np.zeros(len(df), dtype=bool)
            one[pos] = True
            issues.add(one, "measure", "double-counting", reason)
    _raise_if(issues, errors)
    cols = _arithmetic(df, stack, a, rows, issues, None if excl is None else excl.scale)
    _raise_if(issues, errors)
    return _output(df, cols, stack, issues, a, excl)


def claims_of(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
              assumptions: Assumptions | None = None) -> pd.DataFrame:
    """The claims in ``df`` that double-counting exclusions govern, one row each (edition,
    exclusion, group label, rank, canonical quantity): small, and they add up across pieces.

    ``pd.concat`` the claims of every piece of an input and pass them to
    ``value_frame(piece, ..., claims=...)`` to value the pieces as one input. Rows that are
    invalid for other reasons are left out (``value_frame`` reports them).
    """
    _check_input(df, "collect")
    a = assumptions or DEFAULT_ASSUMPTIONS
    stack = stack_of(table_set(tables))
    issues = _Issues(len(df), 0, df.index)
    rows = _lookups(df, stack, a, issues)
    canonical = np.where(issues.bad, np.nan, rows.q * rows.factor)
    return claim_rows(df, canonical, rows.ed, rows.m, stack.editions)


def _raise_if(issues: _Issues, errors: str) -> None:
    if issues.items and errors == "raise":
        raise BulkValidationError.from_issues(
            sorted(issues.items, key=lambda i: (i.row, i.field)))


def _check_input(df: pd.DataFrame, errors: str) -> None:
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"value_frame() needs a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise OutcomeError(f"input is missing required column(s) {', '.join(missing)}; "
                           f"expected {', '.join(REQUIRED_COLUMNS)}", field=missing[0],
                           columns=missing)
    dup = df.columns[df.columns.duplicated()].unique().tolist()
    if dup:
        raise OutcomeError(f"input has duplicated column(s) {', '.join(map(str, dup))}",
                           field=str(dup[0]), columns=dup)


def _remember(stack: EditionStack) -> None:
    from socialvalue_tom.explain import remember_editions

    remember_editions(stack.editions)


# -- phase 1: lookups ----------------------------------------------------------------------------

@dataclass
class _Rows:
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


def _codes(series: pd.Series) -> tuple[NDArray[np.intp], np.ndarray]:
    """Integer codes and distinct values (-1 for missing), free for categoricals."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return (series.cat.codes.to_numpy().astype(np.intp),
                np.asarray(series.cat.categories, dtype=object))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.intp, copy=False), np.asarray(uniques, dtype=object)


def _per_edition(table: np.ndarray, ed: NDArray[np.intp], codes: NDArray[np.intp],
                 fill: Any) -> np.ndarray:
    """Gather ``table[ed, code]`` per row (a flat take: faster than 2-D fancy indexing);
    ``fill`` where the row has no edition. The last column of ``table`` is for missing codes."""
    width = table.shape[1]
    flat = np.where(ed >= 0, ed * width + codes, -1)
    padded = np.append(table.ravel(), fill)
    return padded.take(flat)


def _lookups(df: pd.DataFrame, s: EditionStack, a: Assumptions, issues: _Issues) -> _Rows:
    q = _quantity(df["quantity"], issues)
    dates = _days(df["date"], issues)
    ed = _editions(dates, s, a, issues)
    fy = dates.per_row(_financial_years(dates.days))
    m = _measures(df["measure"], s, ed, issues)
    r = _regions(df["region"], s, ed, issues)
    factor = _unit_factors(df["unit"], s, ed, m, issues)
    extra = _optional(df, issues)
    _check_requires(df, s, ed, m, issues)
    _check_bounds(s, ed, m, q * factor, issues)
    reduction = _reductions(df, s, ed, a, issues)
    if a.discount_base_year is not None:
        issues.add(fy < a.discount_base_year, "date", "before-discount-base",
                   f"outcome year is before the discount base year {a.discount_base_year}")
        years = extra.get("years", np.ones(len(df)))
        last = fy - a.discount_base_year + np.where(np.isnan(years), 1.0, years) - 1
        issues.add(last > DISCOUNT_YEARS, "years", "beyond-horizon",
                   f"outcome runs beyond the {DISCOUNT_YEARS}-year discount horizon after the "
                   f"base year {a.discount_base_year}")
    # Stored compactly for the arithmetic phase, with flat positions into the stack's arrays.
    em = np.where((ed >= 0) & (m >= 0), ed * s.n_measures + m, 0)
    emr = em * s.n_regions + np.where(r >= 0, r, 0)
    return _Rows(q, ed.astype(np.int16), m.astype(np.int16), em.astype(np.int32),
                 emr.astype(np.int32), factor, fy.astype(np.int16), reduction, extra)


def _numeric(series: pd.Series, name: str, issues: _Issues, *, required: bool) -> FloatArray:
    """float64 values; text, missing (when required) and non-finite values are issues."""
    if series.dtype == np.float64:
        vals: FloatArray = series.to_numpy()
        isna_in = np.isnan(vals)
    elif pd.api.types.is_bool_dtype(series.dtype):
        vals = np.full(len(series), np.nan)
        isna_in = np.zeros(len(series), dtype=bool)
        issues.add(np.ones(len(series), dtype=bool), name, "not-a-number",
                   lambda p: f"{name} {series.iloc[p]!r} is a boolean, not a number")
    else:
        if series.dtype == object:  # booleans hidden in a text column are not numbers
            is_bool = series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
            issues.add(is_bool, name, "not-a-number",
                       lambda p: f"{name} {series.iloc[p]!r} is a boolean, not a number")
        vals = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        isna_in = series.isna().to_numpy()
        issues.add(np.isnan(vals) & ~isna_in, name, "not-a-number",
                   lambda p: f"{name} {series.iloc[p]!r} is not a number")
    if required:
        issues.add(isna_in, name, "missing", f"{name} is missing")
    issues.add(np.isinf(vals), name, "not-finite", f"{name} must be finite")
    return vals


def _quantity(series: pd.Series, issues: _Issues) -> FloatArray:
    q = _numeric(series, "quantity", issues, required=True)
    issues.add(q < 0, "quantity", "negative", lambda p: f"quantity {q[p]:g} is negative")
    issues.add(q > MAX_QUANTITY, "quantity", "too-large",
               lambda p: f"quantity {q[p]:g} is above {MAX_QUANTITY:g}")
    return q


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


def _days(series: pd.Series, issues: _Issues) -> _Dates:
    """Read the date column once per distinct value; missing and bad dates are issues."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        nat = series.isna().to_numpy()
        issues.add(nat, "date", "missing", "date is missing")
        vals = series.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
        return _Dates(np.where(nat, _BAD_DAY, vals), None)
    codes, uniq = _codes(series)
    parsed = [_parse_day(u) for u in uniq]
    issues.add(codes < 0, "date", "missing", "date is missing")
    unparsed = np.array([d is None for d in parsed] + [False])
    issues.add(unparsed[codes], "date", "bad-date",
               lambda p: f"date {series.iloc[p]!r} is not an ISO date (YYYY-MM-DD)")
    table = np.array([_BAD_DAY if d is None else d for d in parsed] + [_BAD_DAY], dtype=np.int64)
    return _Dates(table, codes)


def _parse_day(value: Any) -> int | None:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else int(value.astype("datetime64[D]").astype(np.int64))
    if not isinstance(value, str):
        return None
    try:
        return (dt.date.fromisoformat(value.strip()) - dt.date(1970, 1, 1)).days
    except ValueError:
        return None


def _editions(dates: _Dates, s: EditionStack, a: Assumptions,
              issues: _Issues) -> NDArray[np.intp]:
    day = dates.days
    idx = np.searchsorted(s.starts, day, side="right") - 1
    inside = (idx >= 0) & (day <= s.ends[np.clip(idx, 0, None)])
    ok = (inside | ((idx >= 0) & a.carry_forward)) & (day != _BAD_DAY)
    issues.add(dates.per_row(~ok), "date", "no-table-in-force",
               lambda p: (f"no edition of {s.tset.name} is in force on "
                          f"{np.datetime64(dates.day(p), 'D')}: editions cover "
                          f"{s.tset.ranges()}"))
    ed: NDArray[np.intp] = dates.per_row(np.where(ok, idx, -1).astype(np.intp))
    return ed


def _financial_years(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Financial year (starting in April) of each day."""
    d = np.where(days == _BAD_DAY, 0, days).astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    return np.where(month >= 4, year, year - 1)


def _measures(series: pd.Series, s: EditionStack, ed: NDArray[np.intp],
              issues: _Issues) -> NDArray[np.intp]:
    codes, uniq = _codes(series)
    table = np.array([[t.measure_index.get(u.strip(), -1) if isinstance(u, str) else -1
                       for u in uniq] + [-1] for t in s.editions], dtype=np.intp)
    m: NDArray[np.intp] = _per_edition(table, ed, codes, -1)
    issues.add((m < 0) & (codes < 0), "measure", "missing", "measure is missing")
    issues.add(m < 0, "measure", "unknown-measure",
               lambda p: s.editions[int(ed[p])].unknown_measure(series.iloc[p]).message)
    return m


def _region_position(t: Any, u: Any) -> int:
    if not isinstance(u, str):
        return -1
    try:
        return int(t.region_position(u))
    except SocialValueError:
        return -1


def _regions(series: pd.Series, s: EditionStack, ed: NDArray[np.intp],
             issues: _Issues) -> NDArray[np.intp]:
    codes, uniq = _codes(series)
    table = np.array([[_region_position(t, u) for u in uniq] + [-1] for t in s.editions],
                     dtype=np.intp)
    r: NDArray[np.intp] = _per_edition(table, ed, codes, -1)
    issues.add(r < 0, "region", "unknown-region",
               lambda p: (f"unknown region {series.iloc[p]!r}: expected one of "
                          f"{', '.join(s.editions[int(ed[p])].region_codes)}"))
    return r


def _unit_factors(series: pd.Series, s: EditionStack, ed: NDArray[np.intp],
                  m: NDArray[np.intp], issues: _Issues) -> FloatArray:
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
        t = s.editions[e]
        unit = None if ui == n_u - 1 else uniq[ui]
        try:
            if unit is not None and not isinstance(unit, str):
                raise OutcomeError(f"unit {unit!r} is not text")
            table[k] = t.unit_factor(t.measure_codes[mi], unit)
        except SocialValueError as exc:
            messages[k] = exc.message
    factor: FloatArray = table[key]
    issues.add(valid & np.isnan(factor), "unit", "unit-error",
               lambda p: messages.get(int(key[p]), "bad unit"))
    return factor


def _optional(df: pd.DataFrame, issues: _Issues) -> dict[str, FloatArray]:
    extra: dict[str, FloatArray] = {}
    for name in (*FRACTION_COLUMNS, "years", "contract_value"):
        if name not in df.columns:
            continue
        vals = _numeric(df[name], name, issues, required=False)
        if name in FRACTION_COLUMNS:
            issues.add((vals < 0) | (vals > 1), name, "out-of-range",
                       _out_of_unit_interval(name, vals))
        elif name == "years":
            whole = np.isnan(vals) | ((vals == np.floor(vals)) & (vals >= 1)
                                      & (vals <= MAX_YEARS))
            issues.add(~whole, name, "out-of-range",
                       f"years must be a whole number from 1 to {MAX_YEARS}")
        else:
            issues.add(vals <= 0, name, "out-of-range", "contract_value must be positive")
        extra[name] = vals
    if "stage" in df.columns:
        st = df["stage"]
        codes, uniq = _codes(st)
        known = np.array([isinstance(u, str) and u.strip() in _STAGES for u in uniq] + [True])
        bad = ~known[codes]
        issues.add(bad, "stage", "bad-stage",
                   lambda p: f"stage {st.iloc[p]!r} is not commitment or delivered")
    return extra


def _out_of_unit_interval(name: str, vals: FloatArray) -> Callable[[int], str]:
    return lambda p: f"{name} {vals[p]:g} is not in [0, 1]"


def _field_values(df: pd.DataFrame, name: str) -> FloatArray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _check_requires(df: pd.DataFrame, s: EditionStack, ed: NDArray[np.intp],
                    m: NDArray[np.intp], issues: _Issues) -> None:
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
                    issues.add(mask & ~np.isfinite(_field_values(df, name)), name,
                               "missing-field",
                               f"measure {spec.code!r} requires a numeric {name!r} on each row")


def _check_bounds(s: EditionStack, ed: NDArray[np.intp], m: NDArray[np.intp],
                  canonical: FloatArray, issues: _Issues) -> None:
    if not s.has_bounds:
        return
    e0, m0 = np.clip(ed, 0, None), np.clip(m, 0, None)
    lo = s.measure_arrays["bound_min"][e0, m0]
    hi = s.measure_arrays["bound_max"][e0, m0]
    out = (ed >= 0) & (m >= 0) & ((canonical < lo) | (canonical > hi))
    issues.add(out, "quantity", "out-of-bounds",
               lambda p: (f"quantity {canonical[p]:g} of "
                          f"{s.editions[int(ed[p])].measure_codes[int(m[p])]!r} is outside the "
                          f"table's bounds [{lo[p]:g}, {hi[p]:g}]"))


def _reductions(df: pd.DataFrame, s: EditionStack, ed: NDArray[np.intp], a: Assumptions,
                issues: _Issues) -> FloatArray:
    if "confidence" not in df.columns or not a.apply_confidence:
        return np.zeros(len(df))
    codes, uniq = _codes(df["confidence"])
    table = np.array([[t.grades.get(str(g).strip(), np.nan) for g in uniq] + [0.0]
                      for t in s.editions])
    red: FloatArray = _per_edition(table, ed, codes, 0.0)
    issues.add(np.isnan(red), "confidence", "unknown-grade",
               lambda p: (f"unknown confidence grade {df['confidence'].iloc[p]!r}: table has "
                          f"{', '.join(s.editions[int(ed[p])].grades) or 'no grades'}"))
    return red


# -- phase 2: arithmetic -------------------------------------------------------------------------

@dataclass
class _Columns:
    """Output arrays."""

    value: FloatArray
    gross: FloatArray
    proxy: FloatArray
    canonical: FloatArray
    region: NDArray[np.int16]
    edition: NDArray[np.int16]


def _arithmetic(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: _Rows,
                issues: _Issues, scale: FloatArray | None) -> _Columns:
    n = len(df)
    out = _Columns(np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan),
                   np.full(n, np.nan), np.full(n, -1, dtype=np.int16),
                   np.full(n, -1, dtype=np.int16))
    uplift = s.uplift(a.price_year)
    if not issues.bad.any():  # the common case: contiguous blocks, views instead of copies
        for start in range(0, n, BLOCK):
            _block(df, s, a, rows, slice(start, min(start + BLOCK, n)), uplift, scale, out,
                   issues)
        return out
    valid = np.flatnonzero(~issues.bad)
    for start in range(0, valid.size, BLOCK):
        _block(df, s, a, rows, valid[start:start + BLOCK], uplift, scale, out, issues)
    return out


Rows = np.ndarray | slice  # which rows a block covers: positions, or a contiguous range


def _pick(rows: _Rows, name: str, sel: Rows, call: float | None,
          default: FloatArray) -> FloatArray:
    base = default if call is None else np.full(default.shape, call)
    col = rows.extra.get(name)
    if col is None:
        return base
    vals = col[sel]
    return np.where(np.isnan(vals), base, vals)


def _block(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: _Rows, sel: Rows,
           uplift: FloatArray, scale: FloatArray | None, out: _Columns,
           issues: _Issues) -> None:
    health = s.health.ravel().take(rows.em[sel])
    if not health.any():
        _run(df, s, a, rows, sel, uplift, scale, a.discount_schedule, out, issues)
        return
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    other = "health" if a.discount_schedule == "green-book" else a.discount_schedule
    for schedule, mask in ((a.discount_schedule, ~health), (other, health)):
        if mask.any():
            _run(df, s, a, rows, idx[mask], uplift, scale, schedule, out, issues)


def _run(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: _Rows, sel: Rows,
         uplift: FloatArray, scale: FloatArray | None, schedule: str, out: _Columns,
         issues: _Issues) -> None:
    per = {k: v.ravel() for k, v in s.measure_arrays.items()}
    em, emr = rows.em[sel], rows.emr[sel]
    n = len(em)
    q = rows.q[sel] if scale is None else rows.q[sel] * scale[sel]
    cap: FloatArray | float = np.inf
    cv = rows.extra.get("contract_value")
    if cv is not None and s.has_caps:
        ratio, cvs = per["cap_ratio"].take(em), cv[sel]
        has = ~np.isnan(ratio) & ~np.isnan(cvs)
        cap = np.full(n, np.inf)
        cap[has] = ratio[has] * cvs[has]
    base = a.discount_base_year
    x: RuleInputs[Any] = RuleInputs(  # arrays and scalars mix
        quantity=q, factor=rows.factor[sel], proxy=s.proxy[a.bound].ravel().take(emr),
        sign=per["sign"].take(em),
        deadweight=_pick(rows, "deadweight", sel, a.deadweight, per["deadweight"].take(em)),
        displacement=_pick(rows, "displacement", sel, a.displacement,
                           per["displacement"].take(em)),
        attribution=_pick(rows, "attribution", sel, a.attribution,
                          per["attribution"].take(em)),
        reduction=rows.reduction[sel],
        years=_pick(rows, "years", sel, None, np.ones(n)),
        drop_off=_pick(rows, "drop_off", sel, a.drop_off, per["drop_off"].take(em)),
        offset=np.zeros(n, dtype=np.intp) if base is None
        else rows.fy[sel].astype(np.intp) - base,
        uplift=uplift.take(rows.ed[sel]) if (uplift != 1.0).any() else 1.0, cap=cap,
        schedule=schedule,
    )
    st = run_pipeline(x, _custom_gross(df, s, x, rows, sel))
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    finite = np.isfinite(st.value)
    if not finite.all():
        bad = np.zeros(issues.n, dtype=bool)
        bad[idx[~finite]] = True
        issues.add(bad, "measure", "non-finite",
                   "the measure's expression gave a non-finite value")
    _store(out, sel, idx, finite, st.value, st.gross * x.sign, x.proxy, st.canonical,
           rows.ed[sel], s.region_used.ravel().take(emr))


def _store(out: _Columns, sel: Rows, idx: np.ndarray, finite: np.ndarray,
           *cols: np.ndarray) -> None:
    """Write results for the rows that gave a finite value (all of them, usually)."""
    targets: tuple[np.ndarray, ...] = (out.value, out.gross, out.proxy, out.canonical,
                                       out.edition, out.region)
    if finite.all():
        for target, col in zip(targets, cols, strict=True):
            target[sel] = col
        return
    ok = idx[finite]
    for target, col in zip(targets, cols, strict=True):
        target[ok] = col[finite]


def _custom_gross(df: pd.DataFrame, s: EditionStack, x: RuleInputs[Any], rows: _Rows,
                  sel: Rows) -> FloatArray | None:
    if not s.custom:
        return None
    ed, m = rows.ed[sel], rows.m[sel]
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    gross: FloatArray | None = None
    for c in s.custom:
        mask = (ed == c.edition) & (m == c.measure)
        if not mask.any():
            continue
        if gross is None:
            gross = x.quantity * x.factor * x.proxy
        t = s.editions[c.edition]
        env: dict[str, Any] = dict(t.parameters_for(c.code))
        for name in c.requires:
            env[name] = _field_values(df, name)[idx[mask]]
        emr = rows.emr[sel][mask]
        env.update(quantity=(x.quantity * x.factor)[mask], proxy=x.proxy[mask],
                   proxy_low=s.proxy["low"].ravel().take(emr),
                   proxy_high=s.proxy["high"].ravel().take(emr))
        gross[mask] = c.expression.evaluate(env)
    return gross


# -- output ---------------------------------------------------------------------------------------

def _output(df: pd.DataFrame, c: _Columns, s: EditionStack, issues: _Issues, a: Assumptions,
            excl: ExclusionResult | None) -> pd.DataFrame:
    eds = s.editions
    new: dict[str, Any] = {
        "value_gbp": c.value, "gross_gbp": c.gross, "proxy_gbp": c.proxy,
        "canonical_quantity": c.canonical,
        "region_used": pd.Categorical.from_codes(c.region, categories=pd.Index(s.regions)),
    }
    for col, labels in (("table", [t.name for t in eds]), ("version", [t.version for t in eds]),
                        ("digest", [t.digest for t in eds])):
        uniq = list(dict.fromkeys(labels))
        codes = np.array([uniq.index(x) for x in labels] + [-1], dtype=np.int16)[c.edition]
        new[col] = pd.Categorical.from_codes(codes, categories=pd.Index(uniq))
    if excl is not None:
        new["claim_share"] = excl.scale
        new["exclusion"] = excl.fired_categorical()
    # One concat instead of a setitem per column (much cheaper on small frames); columns of a
    # previous valuation in the input are replaced, not duplicated.
    kept = df.drop(columns=[k for k in new if k in df.columns])
    out = pd.concat([kept, pd.DataFrame(new, index=df.index, copy=False)], axis=1)
    out.attrs = {k: v for k, v in df.attrs.items() if k not in ("issues", "socialvalue_tom")}
    out.attrs["issues"] = issues_frame(issues.items)
    out.attrs["socialvalue_tom"] = {
        "assumptions": a.model_dump(mode="json"),
        "editions": {f"{t.name}:{t.version}": t.digest for t in eds},
    }
    return out


def explain_row(out: pd.DataFrame, i: int) -> str:
    """The trace of row ``i`` (position) of a ``value_frame`` result, as ``value().explain()``.

    See :func:`socialvalue_tom.explain.valuation_of_row`.
    """
    from socialvalue_tom.explain import valuation_of_row

    return valuation_of_row(out, i).explain()

