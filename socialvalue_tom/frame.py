"""Bulk valuation: ``value_frame`` values a DataFrame of outcomes with the same rules as
:func:`socialvalue_tom.value`, on float64 arrays.

pint runs once per distinct (measure, unit) pair, editions are picked per row with
``searchsorted`` on the dates, regional fallback is a gather from the table's pre-resolved matrix,
and the arithmetic is :func:`socialvalue_tom.rules.run_pipeline`. Rows are processed in blocks to
bound the memory of intermediates. Every bad row is reported (row, field, reason).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from socialvalue_tom.engine import (
    DEFAULT_ASSUMPTIONS,
    TablesLike,
    measure_schedule,
    table_set,
    uplift_factor,
    value,
)
from socialvalue_tom.errors import (
    BulkValidationError,
    OutcomeError,
    RowIssue,
    RuleError,
    SocialValueError,
)
from socialvalue_tom.outcome import MAX_QUANTITY, MAX_YEARS, Assumptions, Outcome
from socialvalue_tom.rules.exclusions import ExclusionResult, exclusion_scales
from socialvalue_tom.rules.pipeline import RuleInputs, run_pipeline
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.table import ProxyTable
from socialvalue_tom.valuation import TraceStep, Valuation

__all__ = ["OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "explain_row", "issues_frame", "value_frame"]

REQUIRED_COLUMNS = ("measure", "quantity", "unit", "region", "date")
FRACTION_COLUMNS = ("deadweight", "displacement", "attribution", "drop_off")
OUTPUT_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                  "table", "version", "digest")
ISSUE_COLUMNS = ["row", "index", "field", "code", "reason"]
BLOCK = 1 << 16
_STAGES = ("commitment", "delivered")


@dataclass
class _Issues:
    """Collects issues; ``bad`` marks rows that must not be valued."""

    n: int
    offset: int
    index: pd.Index
    items: list[RowIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(self.n, dtype=bool)

    def add(self, mask: np.ndarray, field_name: str, code: str, reason: Any,
            rows: np.ndarray | None = None) -> None:
        """Record an issue for each row where ``mask`` is true (and not already bad)."""
        pos = np.flatnonzero(mask & ~self.bad) if rows is None else rows[mask & ~self.bad[rows]]
        if pos.size == 0:
            return
        self.bad[pos] = True
        for p in pos.tolist():
            text = reason(p) if callable(reason) else reason
            self.items.append(RowIssue(row=self.offset + p, field=field_name, code=code,
                                       reason=text, index=_label(self.index[p])))


def _label(x: Hashable) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def issues_frame(issues: list[RowIssue]) -> pd.DataFrame:
    """Issues as a DataFrame with columns row, index, field, code, reason (sorted by row)."""
    frame = pd.DataFrame([i.as_dict() for i in issues], columns=ISSUE_COLUMNS)
    return frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def value_frame(df: pd.DataFrame, tables: TablesLike = "uk-national", *,
                errors: Literal["raise", "collect"] = "raise",
                assumptions: Assumptions | None = None, row_offset: int = 0) -> pd.DataFrame:
    """Value every row of ``df``; returns a new DataFrame (the input is not mutated).

    Required columns: ``measure, quantity, unit, region, date``; optional: ``years``,
    ``deadweight``, ``displacement``, ``attribution``, ``drop_off``, ``confidence``,
    ``contract_value``, ``stage``, fields a measure requires, and any others (passed through).
    Adds ``value_gbp`` (negative for disbenefits), ``gross_gbp``, ``proxy_gbp``,
    ``canonical_quantity``, ``region_used``, ``table``, ``version``, ``digest``.

    ``errors="raise"``: any bad row raises one :class:`BulkValidationError` (an
    :class:`OutcomeError`) listing every bad row, and nothing is valued. ``errors="collect"``:
    valid rows are valued, bad rows get ``value_gbp`` NaN and are listed in
    ``out.attrs["issues"]`` (a DataFrame: row, index, field, code, reason). ``row_offset`` is
    added to row numbers (used when streaming files in chunks).
    """
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
    a = assumptions or DEFAULT_ASSUMPTIONS
    tset = table_set(tables)
    for t in tset.editions:
        _EDITIONS[t.digest] = t
    n = len(df)
    issues = _Issues(n, row_offset, df.index)
    cols = _Columns(n)
    excl = _exclusions(df, tset, a)
    if excl is not None:
        for pos, reason in excl.rejected:
            issues.add(np.ones(1, dtype=bool), "measure", "double-counting", reason,
                       np.array([pos]))
    for start in range(0, n, BLOCK):
        scale = None if excl is None else excl.scale[start:start + BLOCK]
        _value_block(df.iloc[start:start + BLOCK], start, tset, a, issues, cols, scale)
    if issues.items and errors == "raise":
        raise BulkValidationError.from_issues(
            sorted(issues.items, key=lambda i: (i.row, i.field)))
    out = _output(df, cols, tset, issues, a)
    if excl is not None:
        out["claim_share"] = excl.scale
        out["exclusion"] = pd.Categorical(excl.fired)
    return out


def _exclusions(df: pd.DataFrame, tset: TableSet, a: Assumptions) -> ExclusionResult | None:
    """Pre-pass over the rows whose measures take part in an exclusion."""
    if not any(t.spec.exclusions for t in tset.editions):
        return None
    codes = {c for t in tset.editions for ex in t.spec.exclusions for c in ex.measures}
    n = len(df)
    rows = np.flatnonzero(df["measure"].isin(codes).to_numpy())
    q = np.full(n, np.nan)
    ed = np.full(n, -1, dtype=np.intp)
    if rows.size:
        scratch = _Issues(rows.size, 0, df.index[rows])
        sub = df.iloc[rows]
        local = np.arange(rows.size)
        q[rows] = _numeric(sub["quantity"], "quantity", scratch, local, required=True)
        ed[rows] = _select_editions(_days(sub["date"], scratch, local), tset, a, scratch,
                                    local)[0]
    return exclusion_scales(df, q, ed, tset.editions)


#: Editions used by value_frame, by digest, so explain_row can find them again.
_EDITIONS: weakref.WeakValueDictionary[str, ProxyTable] = weakref.WeakValueDictionary()


def explain_row(out: pd.DataFrame, i: int) -> str:
    """The trace of row ``i`` (position) of a ``value_frame`` result, as ``value().explain()``.

    The row's recorded inputs, edition (by digest) and assumptions are valued again by the
    scalar engine; the result must equal the row's ``value_gbp`` exactly, or a
    :class:`RuleError` says the trace cannot be reproduced.
    """
    return valuation_of_row(out, i).explain()


def valuation_of_row(out: pd.DataFrame, i: int) -> Valuation:
    """The :class:`Valuation` of row ``i`` of a ``value_frame`` result (see :func:`explain_row`)."""
    meta = out.attrs.get("socialvalue_tom")
    if meta is None:
        raise RuleError("this DataFrame has no valuation metadata: pass the result of "
                        "value_frame() (its .attrs must be kept)", field="attrs")
    row = out.iloc[i]
    if pd.isna(row["value_gbp"]):
        found = meta_issues(out, i)
        raise OutcomeError(f"row {i} was not valued: {found or 'no value'}", row=i,
                           field="value_gbp")
    table = _EDITIONS.get(str(row["digest"]))
    if table is None:
        raise RuleError(f"edition with digest {row['digest']} is no longer loaded",
                        field="digest")
    a = Assumptions(**meta["assumptions"])
    share = float(row["claim_share"]) if "claim_share" in out.columns else 1.0
    outcome = _outcome_of(row, table, share)
    v = value(outcome, table, assumptions=a)
    if v.amount != float(row["value_gbp"]):
        raise RuleError(f"row {i}: the scalar engine gives {v.amount!r}, the frame "
                        f"{row['value_gbp']!r}: the trace cannot be reproduced", row=i,
                        field="value_gbp")
    if share != 1.0:
        note = TraceStep(rule="exclusion", detail=(
            f"double counting: only {share:.6g} of the claimed {float(row['quantity']):g} "
            f"{row['unit']} counted (exclusion {row['exclusion']!r}); quantity valued "
            f"{outcome.quantity:g}"))
        v = v.model_copy(update={"steps": (note, *v.trace)})
    return v


def meta_issues(out: pd.DataFrame, i: int) -> str:
    """The issues recorded for row position ``i``, as text."""
    issues = out.attrs.get("issues")
    if issues is None or issues.empty:
        return ""
    rows = issues[issues["row"] == i]
    return "; ".join(f"{f}: {r}" for f, r in zip(rows["field"], rows["reason"], strict=True))


def _outcome_of(row: pd.Series, table: ProxyTable, share: float) -> Outcome:
    def opt(name: str) -> Any:
        if name not in row.index:
            return None
        val = row[name]
        return None if val is None or (not isinstance(val, str) and pd.isna(val)) else val

    q = float(pd.to_numeric(row["quantity"]))
    if share != 1.0:
        q = q * share
    spec = table.measure(str(row["measure"]))
    day = _parse_day(row["date"])
    assert day is not None
    fields = {n: float(row[n]) for n in spec.requires if opt(n) is not None}
    data: dict[str, Any] = {
        "measure": str(row["measure"]), "quantity": q, "unit": opt("unit"),
        "region": str(row["region"]),
        "date": (np.datetime64(day, "D").astype(object)), "fields": fields,
    }
    for name in (*FRACTION_COLUMNS, "contract_value"):
        if opt(name) is not None:
            data[name] = float(opt(name))
    if opt("years") is not None:
        data["years"] = int(opt("years"))
    if opt("confidence") is not None:
        data["confidence"] = str(opt("confidence"))
    return Outcome(**data)


class _Columns:
    """Output arrays, filled block by block."""

    def __init__(self, n: int) -> None:
        self.value = np.full(n, np.nan)
        self.gross = np.full(n, np.nan)
        self.proxy = np.full(n, np.nan)
        self.canonical = np.full(n, np.nan)
        self.edition = np.full(n, -1, dtype=np.int16)
        self.region = np.full(n, -1, dtype=np.int16)


def _output(df: pd.DataFrame, c: _Columns, tset: TableSet, issues: _Issues,
            a: Assumptions) -> pd.DataFrame:
    out = df.copy(deep=False)
    eds = tset.editions
    out["value_gbp"] = c.value
    out["gross_gbp"] = c.gross
    out["proxy_gbp"] = c.proxy
    out["canonical_quantity"] = c.canonical
    regions = sorted({r for t in eds for r in t.region_codes})
    # region_used codes are indices into each edition's regions: re-map to the union.
    remap = {(e, i): regions.index(r) for e, t in enumerate(eds) for i, r in
             enumerate(t.region_codes)}
    reg = np.full(len(df), -1, dtype=np.int16)
    for (e, i), j in remap.items():
        reg[(c.edition == e) & (c.region == i)] = j
    out["region_used"] = pd.Categorical.from_codes(reg, categories=pd.Index(regions))
    for col, labels in (("table", [t.name for t in eds]), ("version", [t.version for t in eds]),
                        ("digest", [t.digest for t in eds])):
        uniq = list(dict.fromkeys(labels))
        codes = np.array([uniq.index(x) for x in labels] + [-1], dtype=np.int16)[c.edition]
        out[col] = pd.Categorical.from_codes(codes, categories=pd.Index(uniq))
    out.attrs = dict(out.attrs)
    out.attrs["issues"] = issues_frame(issues.items)
    out.attrs["socialvalue_tom"] = {
        "assumptions": a.model_dump(mode="json"),
        "editions": {f"{t.name}:{t.version}": str(t.path or "") for t in eds},
    }
    return out


# -- per-block work ----------------------------------------------------------------------------

def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and unique values (-1 for missing), fast for categoricals."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(dtype=np.intp), np.asarray(series.cat.categories,
                                                                     dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.intp, copy=False), np.asarray(uniques, dtype=object)


def _days(series: pd.Series, issues: _Issues, rows: np.ndarray) -> np.ndarray:
    """Dates as int64 days since the epoch; bad dates become issues (and -2**62)."""
    bad_day = np.int64(-(2**62))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        vals = series.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
        nat = series.isna().to_numpy()
        issues.add(nat, "date", "missing", "date is missing", rows)
        return np.where(nat, bad_day, vals)
    codes, uniques = _codes(series)
    parsed = np.array([_parse_day(u) for u in uniques] + [None], dtype=object)
    missing = codes < 0
    issues.add(missing, "date", "missing", "date is missing", rows)
    unparsed = np.array([d is None for d in parsed])  # per distinct value, not per row
    issues.add(unparsed[codes] & ~missing, "date", "bad-date",
               lambda p: f"date {series.iloc[p - rows[0]]!r} is not an ISO date (YYYY-MM-DD)",
               rows)
    days = np.array([bad_day if d is None else d for d in parsed], dtype=np.int64)
    return np.asarray(days[codes], dtype=np.int64)


def _parse_day(value: Any) -> int | None:
    import datetime as dt

    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else int(value.to_datetime64().astype("datetime64[D]")
                                                .astype(np.int64))
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days
    if not isinstance(value, str):
        return None
    try:
        return (dt.date.fromisoformat(value.strip()[:10]) - dt.date(1970, 1, 1)).days
    except ValueError:
        return None


def _numeric(series: pd.Series, name: str, issues: _Issues, rows: np.ndarray,
             *, required: bool) -> np.ndarray:
    """float64 values; text, missing (when required) and non-finite values are issues."""
    num = pd.to_numeric(series, errors="coerce")
    vals = num.to_numpy(dtype=np.float64, na_value=np.nan)
    isna_in = series.isna().to_numpy()
    text = np.isnan(vals) & ~isna_in
    issues.add(text, name, "not-a-number",
               lambda p: f"{name} {series.iloc[p - rows[0]]!r} is not a number", rows)
    if required:
        issues.add(isna_in, name, "missing", f"{name} is missing", rows)
    issues.add(np.isinf(vals), name, "not-finite", f"{name} must be finite", rows)
    return vals


def _value_block(block: pd.DataFrame, start: int, tset: TableSet, a: Assumptions,
                 issues: _Issues, out: _Columns, scale: np.ndarray | None) -> None:
    n = len(block)
    rows = np.arange(start, start + n)
    q = _numeric(block["quantity"], "quantity", issues, rows, required=True)
    issues.add(q < 0, "quantity", "negative", lambda p: f"quantity {q[p - start]:g} is negative",
               rows)
    issues.add(q > MAX_QUANTITY, "quantity", "too-large",
               lambda p: f"quantity {q[p - start]:g} is above {MAX_QUANTITY:g}", rows)
    if scale is not None:
        q = q * scale  # the share counted after double-counting exclusions (1.0 = all)
    day = _days(block["date"], issues, rows)
    ed, carried = _select_editions(day, tset, a, issues, rows)
    extra = _optional(block, issues, rows)
    m_codes, m_uniq = _codes(block["measure"])
    r_codes, r_uniq = _codes(block["region"])
    u_codes, u_uniq = _codes(block["unit"])
    for e, table in enumerate(tset.editions):
        sel = np.flatnonzero((ed == e) & ~issues.bad[rows])
        if sel.size:
            _value_edition(block, sel, start, e, table, a, issues, out, q, day, extra,
                           (m_codes, m_uniq), (r_codes, r_uniq), (u_codes, u_uniq))
    del carried


def _select_editions(day: np.ndarray, tset: TableSet, a: Assumptions, issues: _Issues,
                     rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    epoch = np.datetime64("1970-01-01", "D")
    starts = np.array([(np.datetime64(t.valid_from, "D") - epoch).astype(np.int64)
                       for t in tset.editions])
    ends = np.array([(np.datetime64(t.valid_to, "D") - epoch).astype(np.int64)
                     for t in tset.editions])
    idx = np.searchsorted(starts, day, side="right") - 1
    safe = np.clip(idx, 0, None)
    inside = (idx >= 0) & (day <= ends[safe])
    carried = ~inside & (idx >= 0) & bool(a.carry_forward)
    ok = inside | carried
    issues.add(~ok, "date", "no-table-in-force",
               lambda p: (f"no edition of {tset.name} is in force on "
                          f"{np.datetime64(int(day[p - rows[0]]), 'D')}: editions cover "
                          f"{tset.ranges()}"), rows)
    return np.where(ok, idx, -1), carried


def _optional(block: pd.DataFrame, issues: _Issues, rows: np.ndarray) -> dict[str, np.ndarray]:
    extra: dict[str, np.ndarray] = {}
    for name in (*FRACTION_COLUMNS, "years", "contract_value"):
        if name not in block.columns:
            continue
        vals = _numeric(block[name], name, issues, rows, required=False)
        if name in FRACTION_COLUMNS:
            issues.add((vals < 0) | (vals > 1), name, "out-of-range",
                       lambda p, v=vals, k=name: f"{k} {v[p - rows[0]]:g} is not in [0, 1]",
                       rows)
        elif name == "years":
            whole = np.isnan(vals) | ((vals == np.floor(vals)) & (vals >= 1) & (vals <= MAX_YEARS))
            issues.add(~whole, name, "out-of-range",
                       f"years must be a whole number from 1 to {MAX_YEARS}", rows)
        else:
            issues.add(vals <= 0, name, "out-of-range", "contract_value must be positive", rows)
        extra[name] = vals
    if "stage" in block.columns:
        st = block["stage"]
        bad = st.notna().to_numpy() & ~st.isin(_STAGES).to_numpy()
        issues.add(bad, "stage", "bad-stage",
                   lambda p: f"stage {st.iloc[p - rows[0]]!r} is not commitment or delivered",
                   rows)
    return extra


def _lookup(uniques: np.ndarray, fn: Any) -> np.ndarray:
    """Map each unique value through ``fn`` (-1 when it fails); index -1 maps missing."""
    return np.array([fn(u) for u in uniques] + [-1], dtype=np.intp)


def _value_edition(block: pd.DataFrame, sel: np.ndarray, start: int, e: int, t: ProxyTable,
                   a: Assumptions, issues: _Issues, out: _Columns, q: np.ndarray,
                   day: np.ndarray, extra: dict[str, np.ndarray], meas: tuple[Any, Any],
                   regs: tuple[Any, Any], units: tuple[Any, Any]) -> None:
    rows = sel + start
    m = _lookup(meas[1], lambda u: t.measure_index.get(u, -1) if isinstance(u, str) else -1)[
        meas[0][sel]]
    r_map = _lookup(regs[1], lambda u: _region_or_missing(t, u))
    r = r_map[regs[0][sel]]
    _mask_issue(issues, m < 0, rows, "measure", "unknown-measure",
                lambda p: str(t.unknown_measure(block["measure"].iloc[p - start]).message))
    _mask_issue(issues, r < 0, rows, "region", "unknown-region",
                lambda p: (f"unknown region {block['region'].iloc[p - start]!r}: expected one "
                           f"of {', '.join(t.region_codes)}"))
    factor = _unit_factors(t, m, units[0][sel], units[1], rows, issues, block, start)
    keep = ~issues.bad[rows]
    _check_fields(block, t, m, sel, rows, keep, issues, start)
    keep = ~issues.bad[rows]
    canonical = q[sel] * factor
    _check_bounds(t, m, canonical, rows, keep, issues)
    keep = ~issues.bad[rows]
    if not keep.all():
        sel, rows, m, r, factor = sel[keep], rows[keep], m[keep], r[keep], factor[keep]
    if sel.size == 0:
        return
    reduction = _reductions(block, t, sel, rows, a, issues, start)
    keep = ~issues.bad[rows]
    if not keep.all():
        sel, rows, m, r, factor, reduction = (sel[keep], rows[keep], m[keep], r[keep],
                                              factor[keep], reduction[keep])
    _compute(block, t, e, a, sel, rows, m, r, factor, reduction, q, day, extra, out, issues)


def _region_or_missing(t: ProxyTable, u: Any) -> int:
    if not isinstance(u, str):
        return -1
    try:
        return t.region_position(u)
    except SocialValueError:
        return -1


def _mask_issue(issues: _Issues, mask: np.ndarray, rows: np.ndarray, field_name: str, code: str,
                reason: Any) -> None:
    if mask.any():
        issues.add(mask, field_name, code, reason, rows)


def _unit_factors(t: ProxyTable, m: np.ndarray, u: np.ndarray, u_uniq: np.ndarray,
                  rows: np.ndarray, issues: _Issues, block: pd.DataFrame,
                  start: int) -> np.ndarray:
    """Conversion factor per row from a (measure x unit) matrix built with pint once per pair."""
    n_m, n_u = len(t.measure_codes), len(u_uniq)
    pairs = np.unique(np.where(m >= 0, m, n_m) * (n_u + 1) + np.where(u >= 0, u, n_u))
    table = np.full((n_m + 1) * (n_u + 1), np.nan)
    messages: dict[int, str] = {}
    for key in pairs.tolist():
        mi, ui = divmod(key, n_u + 1)
        if mi == n_m:
            continue
        code = t.measure_codes[mi]
        unit = None if ui == n_u else u_uniq[ui]
        try:
            if unit is not None and not isinstance(unit, str):
                raise OutcomeError(f"unit {unit!r} is not text")
            table[key] = t.unit_factor(code, unit)
        except SocialValueError as exc:
            messages[key] = exc.message
    keys = np.where(m >= 0, m, n_m) * (n_u + 1) + np.where(u >= 0, u, n_u)
    factor = table[keys]
    bad = np.isnan(factor) & (m >= 0)
    _mask_issue(issues, bad, rows, "unit", "unit-error",
                lambda p: messages.get(int(keys[np.searchsorted(rows, p)]), "bad unit"))
    result: np.ndarray = factor
    return result


def _check_fields(block: pd.DataFrame, t: ProxyTable, m: np.ndarray, sel: np.ndarray,
                  rows: np.ndarray, keep: np.ndarray, issues: _Issues, start: int) -> None:
    for code, spec in t.measures.items():
        if not spec.requires:
            continue
        mask = keep & (m == t.measure_index[code])
        if not mask.any():
            continue
        for name in spec.requires:
            if name not in block.columns:
                present = np.zeros(len(sel), dtype=bool)
            else:
                vals = pd.to_numeric(block[name].iloc[sel], errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan)
                present = np.isfinite(vals)
            _mask_issue(issues, mask & ~present, rows, name, "missing-field",
                        f"measure {code!r} requires a numeric {name!r} on each row")


def _check_bounds(t: ProxyTable, m: np.ndarray, canonical: np.ndarray, rows: np.ndarray,
                  keep: np.ndarray, issues: _Issues) -> None:
    mm = np.where(m >= 0, m, 0)
    lo, hi = t.bound_min[mm], t.bound_max[mm]
    out_of = keep & ((canonical < lo) | (canonical > hi))
    _mask_issue(issues, out_of, rows, "quantity", "out-of-bounds",
                lambda p: (f"quantity {canonical[np.searchsorted(rows, p)]:g} of "
                           f"{t.measure_codes[mm[np.searchsorted(rows, p)]]!r} is outside the "
                           "table's bounds"))


def _reductions(block: pd.DataFrame, t: ProxyTable, sel: np.ndarray, rows: np.ndarray,
                a: Assumptions, issues: _Issues, start: int) -> np.ndarray:
    if "confidence" not in block.columns or not a.apply_confidence:
        return np.zeros(len(sel))
    codes, uniq = _codes(block["confidence"].iloc[sel].astype(object).where(
        block["confidence"].iloc[sel].notna(), None))
    grades = np.array([t.grades.get(str(g), np.nan) for g in uniq] + [0.0])
    red = grades[codes]
    _mask_issue(issues, np.isnan(red), rows, "confidence", "unknown-grade",
                lambda p: (f"unknown confidence grade {block['confidence'].iloc[p - start]!r}: "
                           f"table {t.name}:{t.version} has {', '.join(t.grades) or 'none'}"))
    result: np.ndarray = red
    return result


def _override(extra: dict[str, np.ndarray], name: str, sel: np.ndarray, call: float | None,
              default: np.ndarray) -> np.ndarray:
    base = default if call is None else np.full(len(sel), call)
    if name not in extra:
        return base
    vals = extra[name][sel]
    return np.where(np.isnan(vals), base, vals)


def _compute(block: pd.DataFrame, t: ProxyTable, e: int, a: Assumptions, sel: np.ndarray,
             rows: np.ndarray, m: np.ndarray, r: np.ndarray, factor: np.ndarray,
             reduction: np.ndarray, q: np.ndarray, day: np.ndarray,
             extra: dict[str, np.ndarray], out: _Columns, issues: _Issues) -> None:
    proxy_arr = {"central": t.proxy_matrix, "low": t.proxy_low, "high": t.proxy_high}[a.bound]
    proxy = proxy_arr[m, r]
    fy = _financial_years(day[sel])
    base = a.discount_base_year
    offset = np.zeros(len(sel), dtype=np.intp) if base is None else (fy - base).astype(np.intp)
    _mask_issue(issues, offset < 0, rows, "date", "before-discount-base",
                f"outcome year is before the discount base year {base}")
    years = _override(extra, "years", sel, None, np.ones(len(sel)))
    cv = extra.get("contract_value")
    ratio = t.cap_ratio[m]
    cap = np.full(len(sel), math.inf)
    if cv is not None:
        cvs = cv[sel]
        has = ~np.isnan(ratio) & ~np.isnan(cvs)
        cap[has] = ratio[has] * cvs[has]
    price_year = a.price_year if a.price_year is not None else t.spec.price_base_year
    health = t.health[m]
    groups = [("green-book" if a.discount_schedule == "green-book" else a.discount_schedule,
               ~health), (measure_schedule(True, a.discount_schedule), health)]
    for schedule, mask in groups:
        mask = mask & (offset >= 0)
        if not mask.any():
            continue
        idx = np.flatnonzero(mask)
        mm = m[idx]
        x = RuleInputs(
            quantity=q[sel[idx]], factor=factor[idx], proxy=proxy[idx], sign=t.sign[mm],
            deadweight=_override(extra, "deadweight", sel[idx], a.deadweight, t.deadweight[mm]),
            displacement=_override(extra, "displacement", sel[idx], a.displacement,
                                   t.displacement[mm]),
            attribution=_override(extra, "attribution", sel[idx], a.attribution,
                                  t.attribution[mm]),
            reduction=reduction[idx], years=years[idx],
            drop_off=_override(extra, "drop_off", sel[idx], a.drop_off, t.drop_off[mm]),
            offset=offset[idx], uplift=uplift_factor(t, price_year), cap=cap[idx],
            schedule=schedule,
        )
        gross = _expression_gross(block, t, x, mm, r[idx], sel[idx])
        s = run_pipeline(x, gross)
        dest = rows[idx]
        finite = np.isfinite(s.value)
        _mask_issue(issues, ~finite, dest, "measure", "non-finite",
                    "the measure's expression gave a non-finite value")
        ok = dest[finite]
        out.value[ok] = s.value[finite]
        out.gross[ok] = (s.gross * x.sign)[finite]
        out.proxy[ok] = x.proxy[finite]
        out.canonical[ok] = s.canonical[finite]
        out.edition[ok] = e
        out.region[ok] = t.region_used[mm, r[idx]][finite]


def _financial_years(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    return np.where(month >= 4, year, year - 1)


def _expression_gross(block: pd.DataFrame, t: ProxyTable, x: RuleInputs[NDArray[np.float64]],
                      m: np.ndarray, r: np.ndarray, sel: np.ndarray) -> np.ndarray | None:
    if not t.expressions:
        return None
    gross: np.ndarray | None = None
    for code, expr in t.expressions.items():
        mask = m == t.measure_index[code]
        if not mask.any():
            continue
        if gross is None:
            gross = x.quantity * x.factor * x.proxy
        env: dict[str, Any] = dict(t.parameters_for(code))
        for name in t.measures[code].requires:
            env[name] = pd.to_numeric(block[name].iloc[sel[mask]], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan)
        env.update(quantity=(x.quantity * x.factor)[mask], proxy=x.proxy[mask],
                   proxy_low=t.proxy_low[m[mask], r[mask]],
                   proxy_high=t.proxy_high[m[mask], r[mask]])
        gross[mask] = expr.evaluate(env)
    return gross
