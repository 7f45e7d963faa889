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

from typing import Any, Literal

import numpy as np
import pandas as pd

from socialvalue_tom._bulk.arithmetic import Columns, arithmetic
from socialvalue_tom._bulk.issues import Issues
from socialvalue_tom._bulk.lookups import lookups
from socialvalue_tom.engine import DEFAULT_ASSUMPTIONS, TablesLike, table_set
from socialvalue_tom.errors import BulkValidationError, OutcomeError, RowIssue
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.rules.exclusions import ExclusionResult, claim_rows, exclusion_scales
from socialvalue_tom.tables.stack import EditionStack, stack_of

__all__ = ["OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "claims_of", "explain_row", "issues_frame",
           "value_frame"]

REQUIRED_COLUMNS = ("measure", "quantity", "unit", "region", "date")
OUTPUT_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                  "table", "version", "digest")
ISSUE_COLUMNS = ["row", "index", "field", "code", "reason"]


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
    issues = Issues(len(df), row_offset, df.index)
    rows = lookups(df, stack, a, issues)
    excl = exclusion_scales(df, np.where(issues.bad, np.nan, rows.q * rows.factor), rows.ed,
                            rows.m, stack.editions, claims)
    if excl is not None:
        for pos, reason in excl.rejected:
            one = np.zeros(len(df), dtype=bool)
            one[pos] = True
            issues.add(one, "measure", "double-counting", reason)
    _raise_if(issues, errors)
    cols = arithmetic(df, stack, a, rows, issues, None if excl is None else excl.scale)
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
    issues = Issues(len(df), 0, df.index)
    rows = lookups(df, stack, a, issues)
    canonical = np.where(issues.bad, np.nan, rows.q * rows.factor)
    return claim_rows(df, canonical, rows.ed, rows.m, stack.editions)


def _raise_if(issues: Issues, errors: str) -> None:
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


# -- output ---------------------------------------------------------------------------------------

def _output(df: pd.DataFrame, c: Columns, s: EditionStack, issues: Issues, a: Assumptions,
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

