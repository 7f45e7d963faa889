"""Rebuilding the trace of one row of a bulk valuation.

``value_frame`` records, per row, the edition (by digest) and its inputs; here the row is valued
again by the scalar engine, which must give the same float, and its trace is returned.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom._args import frame
from socialvalue_tom._bulk.issues import issue_label
from socialvalue_tom._bulk.lookups import FRACTION_COLUMNS, parse_day
from socialvalue_tom._deprecation import renamed_parameter
from socialvalue_tom._text import cell_number, is_missing, key_text, shown
from socialvalue_tom.engine import value
from socialvalue_tom.errors import (
    OutcomeError,
    RuleError,
    SocialValueError,
    illustrative_collected,
)
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.periods import PERIODS_ATTR
from socialvalue_tom.tables.table import ProxyTable
from socialvalue_tom.trace import _num
from socialvalue_tom.units import dimension_of
from socialvalue_tom.valuation import TraceStep, Valuation

__all__ = ["remember_editions", "valuation_of_row"]

#: Editions used by value_frame, by digest and price-index digest, so a row's trace can find
#: its edition (with the very index it was uplifted with) again. Held weakly: a table built in
#: memory (an amend_table result, say) is forgotten with its last reference, so a long-running
#: process that builds one per request does not grow; loaded files stay in the loader's cache.
_EDITIONS: weakref.WeakValueDictionary[tuple[str, str | None], ProxyTable] = (
    weakref.WeakValueDictionary())
_LOCK = threading.Lock()


def remember_editions(editions: list[ProxyTable]) -> None:
    """Remember the editions a bulk valuation used, for as long as they are in use."""
    with _LOCK:
        for t in editions:
            _EDITIONS.setdefault((t.digest, t.index_digest), t)


def remembered_edition(digest: str) -> ProxyTable | None:
    """An edition a bulk valuation used, by its digest, while it is in use (None else)."""
    with _LOCK:
        return next((t for (d, _), t in list(_EDITIONS.items()) if d == digest), None)


def _share_text(share: float) -> str:
    """A claim share as computed, led by its 12-digit reading where float error shows in the
    digits (0.8 for 0.7999999999999975, the share of 13 in 15 FTE-years worked out in float)."""
    full, short = _num(share), f"{share:.10g}"
    close = abs(float(short) - share) <= 1e-12 * abs(share)  # float error, not a real digit
    return (f"about {short} ({full} as computed)" if close and short != full and "e" not in short
            else full)


@renamed_parameter("out", "valued", removed_in="2.0")
def valuation_of_row(valued: pd.DataFrame, i: int | np.integer[Any]) -> Valuation:
    """The :class:`Valuation` of row ``i`` (position) of a ``value_frame`` result.

    The row's recorded inputs, edition and assumptions are valued again by the scalar engine;
    the result must equal the row's ``value_gbp`` exactly, or a :class:`RuleError` says the trace
    cannot be reproduced. A row whose claim a double-counting exclusion reduced gets a first
    ``exclusion`` step saying how much was counted.
    """
    frame(valued, "explain_row()")
    meta = valued.attrs.get("socialvalue_tom")
    if meta is None:
        raise RuleError("this DataFrame has no valuation metadata: pass the result of "
                        "value_frame() (its .attrs must be kept)", field="attrs")
    if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < len(valued):
        raise RuleError(f"no row {i!r}: the DataFrame has {len(valued)} row(s) (positions 0 to "
                        f"{len(valued) - 1})", field="row", row=i)
    i = int(i)  # numpy's integer too, as a plain position
    row = valued.iloc[i]
    if pd.isna(row["value_gbp"]):
        text, found = _issues_of_row(valued, i)
        # The row's own problems, as fields a service can answer with: the first's field
        # and code, and every one of them (a row may have several).
        first = found.iloc[0] if len(found) else None
        raise OutcomeError(
            f"row {i} was not valued: {text}", row=i,
            field="value_gbp" if first is None else str(first["field"]),
            **({} if first is None else {"issue": str(first["code"]), "row_issues": [
                {"row": int(r), "field": str(f), "code": str(c), "reason": str(why)}
                for r, f, c, why in zip(found["row"], found["field"], found["code"],
                                        found["reason"], strict=True)]}))
    digest = str(row["digest"])
    index_digest = meta.get("price_indices", {}).get(digest)
    with _LOCK:
        table = _EDITIONS.get((digest, index_digest))
    if table is None:  # valued in another process (a pickled frame): an embedded edition?
        table = _embedded_edition(meta, digest, index_digest)
    if table is None:
        raise RuleError(f"edition with digest {row['digest']} is not loaded in this process "
                        "(a table built in memory, such as an amend_table result, is forgotten "
                        "once nothing refers to it: keep it while explaining its rows)",
                        field="digest")
    share = float(row["claim_share"]) if "claim_share" in valued.columns else 1.0
    outcome = _outcome_of(row, table, share)
    with illustrative_collected():  # valued already: value_frame said so, if it had to
        v = value(outcome, table, assumptions=Assumptions(**meta["assumptions"]))
    if v.amount != float(row["value_gbp"]):
        raise RuleError(f"row {i}: the scalar engine gives {v.amount!r}, the frame "
                        f"{shown(row['value_gbp'])}: the trace cannot be reproduced (were the "
                        "row's cells changed after valuation, rounded say?)", row=i,
                        field="value_gbp")
    period = _fte_period_step(valued, i, table)
    if period is not None:  # after the step that names the quantity in FTE
        steps_ = list(v.trace)
        at = next((k + 1 for k, s in enumerate(steps_) if s.rule == "convert"), len(steps_))
        v = v.model_copy(update={"steps": (*steps_[:at], period, *steps_[at:])})
    if share != 1.0:
        claimed = float(row["quantity"])
        note = TraceStep(rule="exclusion", detail=(
            f"double counting: {_num(outcome.quantity)} of the claimed {_num(claimed)} "
            f"{row['unit']} counted, a share of {_share_text(share)} (exclusion "
            f"{row['exclusion']!r}){_parts_netted(valued, i, table)}"))
        steps = [_whole_row_claimed(s, outcome, claimed) for s in v.trace]
        v = v.model_copy(update={"steps": (note, *steps)})
    return v


def _fte_period_step(out: pd.DataFrame, i: int, table: ProxyTable) -> TraceStep | None:
    """For a row of a measure counted in FTE reported for a period that is not a year (a
    quarter): a step saying its quantity is the FTE-years delivered in the period. A skills
    lead's review: a quarterly row's trace read "12 FTE x £39,863.20", a full year's pay for
    each of 12 FTE employed for a quarter, and only the totals' note said otherwise."""
    read = out.attrs.get(PERIODS_ATTR)
    if not isinstance(read, Mapping):
        return None
    start, end = read.get("start"), read.get("end")
    if not isinstance(start, str) or not isinstance(end, str) or not {start, end} <= set(
            out.columns):
        return None
    row = out.iloc[i]
    if dimension_of(table.measure(str(row["measure"]).strip()).unit) != "[fte]":
        return None
    first, last = parse_day(row[start]), parse_day(row[end])
    part = cell_number(row["period_share"]) if "period_share" in out.columns else None
    if first is None or last is None or part is None or not 0.0 < part <= 1.0:
        return None  # a row valued at its date: no period to speak of
    days = round((last - first + 1) / part)  # the whole row's period, from its part
    if 365 <= days <= 366:
        return None
    return TraceStep(rule="period", detail=(
        f"the row reports a period of {days} days, not a year: its FTE is read as the "
        "FTE-years delivered in the period, not the FTE employed (12 FTE employed for a "
        "quarter is 3)"))


#: The most part rows an exclusion step names.
_PARTS_NAMED = 5


def _parts_netted(out: pd.DataFrame, i: int, table: ProxyTable) -> str:
    """The rows of ``out`` that the whole at row ``i`` was netted against: valued with the
    same edition, in the same group (the exclusion's key, stage and supplier), of the
    exclusion's parts (an auditor's question: which rows took the rest of the claim?). Parts
    in other pieces of an input valued in pieces are not in ``out``: the step says "in this
    frame". Rows split by period are named by their input row (``period_row``)."""
    from socialvalue_tom._text import key_texts
    from socialvalue_tom.rules.exclusions import ALWAYS_APART

    ex = next((e for e in table.spec.exclusions if e.id == out.iloc[i]["exclusion"]), None)
    if ex is None:
        return ""
    parts = set(ex.measures[:-1])
    # Whole-column steps, then the key columns read as text for the rows left only.
    measures = out["measure"].astype(object).where(out["measure"].notna(), "").astype(str)
    measures = measures.str.strip()
    found = np.flatnonzero((out["digest"].astype(object) == out.iloc[i]["digest"]).to_numpy()
                           & measures.isin(parts).to_numpy() & out["value_gbp"].notna().to_numpy())
    for column in dict.fromkeys((*ex.key, *ALWAYS_APART)):
        if column in out.columns and len(found):
            keys = key_texts(out[column].to_numpy(dtype=object)[np.append(found, i)])
            found = found[keys[:-1] == keys[-1]]
    if not len(found):
        return "; no part of it is in this frame (valued in pieces?)"
    split = "period_row" in out.columns
    rows = out["period_row"].to_numpy() if split else np.arange(len(out))
    named = ", ".join(f"{int(rows[r])} ({measures.iloc[r]}, "
                      f"{_num(float(out['quantity'].iloc[r]))} {out['unit'].iloc[r]})"
                      for r in found[:_PARTS_NAMED])
    more = f" and {len(found) - _PARTS_NAMED} more" if len(found) > _PARTS_NAMED else ""
    many = len(found) > 1
    where = "input row" if split else "row"
    return (f"; netted against the part{'s' if many else ''} at {where}{'s' if many else ''} "
            f"{named}{more} of this frame")


def _whole_row_claimed(step: TraceStep, outcome: Outcome, claimed: float) -> TraceStep:
    """``step``, where it is a part's convert step, naming the whole row's quantity as the row
    claimed it: the scalar engine, given the quantity an exclusion left, would name that
    quantity's whole (10 FTE of a row that claimed 12)."""
    part = outcome.period_share
    if step.rule != "convert" or part is None or part == 1.0:
        return step
    said = f"period share {_num(part)} of its "
    counted = f"{said}{_num(outcome.quantity / part)} "
    if counted not in step.detail:
        return step
    return step.model_copy(update={"detail": step.detail.replace(
        counted, f"{said}{_num(claimed / part)} ", 1)})


def _embedded_edition(meta: dict[str, Any], digest: str,
                      index_digest: str | None) -> ProxyTable | None:
    """The embedded edition the frame recorded under ``digest``, if its content (and index)
    are the same in this installation."""
    from socialvalue_tom.tables.catalogue import load_table

    for label, recorded in (meta.get("editions") or {}).items():
        name, _, version = str(label).rpartition(":")
        if recorded != digest or not name:
            continue
        try:
            table = load_table(name, version=version, digest=digest)
        except SocialValueError:
            return None
        if table.digest == digest and table.index_digest == index_digest:
            return table
    return None


def row_issues(out: pd.DataFrame, i: int) -> str:
    """The issues recorded for the row at position ``i`` of ``out``, as text.

    Issues record each row's index label and its row number in the frame as valued. ``out``
    may since have been sorted or filtered (both keep ``attrs``), so the row is found by its
    label: its position could name another row's problem. Where several refused rows share
    the label, the position tells them apart while ``out`` still holds the rows it was valued
    with, in that order (checked against a fingerprint of their labels and cells); otherwise
    each one's issue is given with its row number, as which of them this is cannot be told.
    After ``reset_index`` the labels no longer name the rows valued, and the issue found may
    be another row's.
    """
    return _issues_of_row(out, i)[0]


#: No issue of a row's own to name.
_NO_ISSUES = pd.DataFrame(columns=["row", "field", "code", "reason"])


def _issues_of_row(out: pd.DataFrame, i: int) -> tuple[str, pd.DataFrame]:
    """:func:`row_issues`'s text, and the row's issues where they are known to be its own
    (none where its label is on several rows that cannot be told apart)."""
    issues = out.attrs.get("issues")
    if issues is None or issues.empty:
        return "no issue is recorded for it (the issues table is not in .attrs)", _NO_ISSUES
    label = issue_label(out.index[i])
    same = issues[[_same_label(x, label) for x in issues["index"].tolist()]]
    numbers = list(dict.fromkeys(same["row"].tolist()))
    if not numbers:
        return (f"no issue is recorded under its index label {label!r} (was the index changed "
                "after valuation?): see .attrs['issues']", _NO_ISSUES)
    recorded = (out.attrs.get("socialvalue_tom") or {}).get("index")
    if len(numbers) > 1 and recorded and _as_valued(out, recorded):
        same, numbers = same[same["row"] == i + recorded["offset"]], [i + recorded["offset"]]
    if len(numbers) == 1:
        return "; ".join(f"{f}: {r}" for f, r in zip(same["field"], same["reason"],
                                                       strict=True)), same
    each = "; ".join(f"row {n}: {f}: {r}" for n, f, r in zip(same["row"], same["field"],
                                                             same["reason"], strict=True))
    return (f"its index label {label!r} is on rows {', '.join(map(str, numbers))} not valued "
            f"(numbered as valued), which of them this is cannot be told: {each}", _NO_ISSUES)


def rows_fingerprint(rows: pd.DataFrame) -> str | None:
    """A digest of ``rows``' labels and cells, row by row in order: equal for the rows a frame
    was valued with, different once they are reordered (two rows of one label swapped
    included, unless they are the same), filtered or relabelled; None for cells pandas cannot
    hash."""
    try:
        hashed = pd.util.hash_pandas_object(rows, index=True).to_numpy()
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def _as_valued(out: pd.DataFrame, recorded: dict[str, Any]) -> bool:
    """Whether ``out`` holds the rows it was valued with, in that order (see frame's
    fingerprint): only then does a position tell apart refused rows sharing a label."""
    names = recorded.get("columns") or []
    by_name = {str(c): c for c in out.columns}
    if recorded.get("fingerprint") is None or any(n not in by_name for n in names):
        return False
    return bool(rows_fingerprint(out[[by_name[n] for n in names]]) == recorded["fingerprint"])


def _same_label(a: Any, b: Any) -> bool:
    """Index labels equal as pandas compares them: NaN equals NaN, tuples (MultiIndex labels)
    item by item."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_label(x, y) for x, y in zip(a, b, strict=True))
    if is_missing(a) and is_missing(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # labels with no truth value (arrays): not a match
        return False


def _present(row: pd.Series, name: str) -> Any:
    """The row's cell, or None where value_frame reads it as missing (blank text too)."""
    if name not in row.index:
        return None
    val = row[name]
    if isinstance(val, str):
        return val.strip() or None
    return None if is_missing(val) else val


def _number(row: pd.Series, name: str) -> float | None:
    """A numeric cell read as value_frame reads it ("0.1" text included), None if missing."""
    val = _present(row, name)
    return None if val is None else cell_number(val)


def _outcome_of(row: pd.Series, table: ProxyTable, share: float) -> Outcome:
    q = cell_number(row["quantity"])  # as value_frame reads it (padded text included)
    if q is None:
        raise OutcomeError(f"row quantity {row['quantity']!r} is not a number",
                           field="quantity")
    if share != 1.0:
        q = q * share  # the same float operation as the bulk path
    spec = table.measure(str(row["measure"]).strip())  # read as value_frame reads it
    day = parse_day(row["date"])
    if day is None:
        raise OutcomeError(f"row date {row['date']!r} cannot be read", field="date")
    data: dict[str, Any] = {
        "measure": spec.code, "quantity": q, "unit": _present(row, "unit"),
        "region": str(row["region"]), "date": np.datetime64(day, "D").astype(object),
        "fields": {n: _number(row, n) for n in spec.requires if _present(row, n) is not None},
    }
    for name in (*FRACTION_COLUMNS, "contract_value", "period_share"):
        if _present(row, name) is not None:
            data[name] = _number(row, name)
    years = _number(row, "years")
    if years is not None:
        data["years"] = int(years)
    if _present(row, "confidence") is not None:
        data["confidence"] = key_text(_present(row, "confidence"))  # as value_frame reads it
    return Outcome(**data)
