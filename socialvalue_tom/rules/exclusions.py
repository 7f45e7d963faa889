"""Double-counting exclusions across measures, declared by the table and enforced in bulk.

An exclusion lists measures in precedence order. Within one group of rows (same key columns,
``contract_id`` by default, plus ``stage`` when present, and the same edition):

- ``count_once``: a later measure's claims are reduced by the quantity already claimed under
  earlier ones (a priority-group hire is also a local job: count the FTE once). Every row of the
  reduced measure is scaled by the same share, so the result does not depend on row order.
- ``reject``: when two of the measures are both claimed, the rows of the later measures are
  rejected as issues.

Measures of one exclusion must share a canonical unit (checked here, a ``ProxyTableError``).
Without a key column the whole input is one group: the conservative reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from socialvalue_tom.errors import ProxyTableError, SocialValueError
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["ExclusionResult", "exclusion_scales"]


@dataclass
class ExclusionResult:
    """Per-row share of the claim counted (1.0 = all), the exclusion that fired, rejections."""

    scale: np.ndarray
    fired: np.ndarray                  # object array: exclusion id or None
    rejected: list[tuple[int, str]]    # (row position, reason)


def _check_units(t: ProxyTable) -> None:
    for ex in t.spec.exclusions:
        units = {t.measures[c].unit for c in ex.measures}
        if len(units) > 1:
            raise ProxyTableError(
                f"{t.path or t.name}: exclusion {ex.id!r} mixes canonical units "
                f"{sorted(units)}: its measures must share one unit",
                path=str(t.path), line=None, field=f"exclusions.{ex.id}")


def exclusion_scales(df: pd.DataFrame, quantity: np.ndarray, edition: np.ndarray,
                     tables: list[ProxyTable]) -> ExclusionResult | None:
    """Compute claim shares for every row; ``None`` when no edition declares exclusions.

    ``quantity`` is the row's quantity as given and ``edition`` the index of the edition in
    force (-1 where none): rows that are invalid for other reasons are left untouched here and
    reported by the caller.
    """
    if not any(t.spec.exclusions for t in tables):
        return None
    n = len(df)
    scale = np.ones(n)
    fired = np.full(n, None, dtype=object)
    rejected: list[tuple[int, str]] = []
    measure = df["measure"].astype(object).to_numpy()
    unit = df["unit"].astype(object).to_numpy()
    for e, t in enumerate(tables):
        _check_units(t)
        for ex in t.spec.exclusions:
            rows = np.flatnonzero((edition == e) & np.isin(measure, list(ex.measures)))
            if rows.size == 0:
                continue
            canon = _canonical(t, measure[rows], unit[rows], quantity[rows])
            keep = np.isfinite(canon) & (canon >= 0)
            rows, canon = rows[keep], canon[keep]
            keys = _group_keys(df, rows, ex.key)
            frame = pd.DataFrame({"g": keys, "m": measure[rows], "q": canon, "row": rows})
            for _, grp in frame.groupby("g", sort=False):
                _apply_group(grp, ex.measures, ex.mode, ex.id, scale, fired, rejected)
    return ExclusionResult(scale, fired, rejected)


def _canonical(t: ProxyTable, measures: np.ndarray, units: np.ndarray,
               q: np.ndarray) -> np.ndarray:
    out = np.full(len(q), np.nan)
    cache: dict[tuple[object, object], float] = {}
    for i, (m, u) in enumerate(zip(measures.tolist(), units.tolist(), strict=True)):
        key = (m, u)
        if key not in cache:
            try:
                cache[key] = t.unit_factor(m, None if u is None or u != u else str(u))
            except SocialValueError:
                cache[key] = np.nan
        out[i] = q[i] * cache[key]
    return out


def _group_keys(df: pd.DataFrame, rows: np.ndarray, key: tuple[str, ...]) -> np.ndarray:
    cols = [c for c in (*key, "stage") if c in df.columns]
    if not cols:
        return np.zeros(len(rows), dtype=np.int64)
    sub = df.iloc[rows][cols].astype(object).where(df.iloc[rows][cols].notna(), "<missing>")
    return pd.MultiIndex.from_frame(sub.astype(str)).factorize()[0]


def _apply_group(grp: pd.DataFrame, order: tuple[str, ...], mode: str, ex_id: str,
                 scale: np.ndarray, fired: np.ndarray, rejected: list[tuple[int, str]]) -> None:
    totals = grp.groupby("m")["q"].sum()
    claimed, first = 0.0, None
    for code in order:
        total = float(totals.get(code, 0.0))
        rows = grp.loc[grp["m"] == code, "row"].to_numpy()
        if total <= 0.0:
            continue
        if first is None:
            first, claimed = code, total
            continue
        if mode == "reject":
            for r in rows.tolist():
                rejected.append((r, f"double counting: {code!r} is also claimed as {first!r} "
                                    f"for the same contract (exclusion {ex_id!r})"))
            continue
        allowed = max(total - claimed, 0.0)
        share = allowed / total
        scale[rows] = share
        fired[rows] = ex_id
        claimed += total
