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

The work is vectorised: totals per (group, precedence rank) come from one ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["ExclusionResult", "exclusion_scales"]


@dataclass
class ExclusionResult:
    """Per-row share of the claim counted (1.0 = all), the exclusion that fired, rejections."""

    scale: np.ndarray
    fired: np.ndarray                  # int16 code into ``ids`` (-1: none fired)
    ids: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row position, reason)

    def fired_categorical(self) -> pd.Categorical:
        """The exclusion that fired on each row, as a categorical (NaN where none)."""
        return pd.Categorical.from_codes(self.fired, categories=pd.Index(self.ids, dtype=object))


def _check_units(t: ProxyTable) -> None:
    for ex in t.spec.exclusions:
        units = {t.measures[c].unit for c in ex.measures}
        if len(units) > 1:
            raise ProxyTableError(
                f"{t.path or t.name}: exclusion {ex.id!r} mixes canonical units "
                f"{sorted(units)}: its measures must share one unit",
                path=str(t.path), line=None, field=f"exclusions.{ex.id}")


def exclusion_scales(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
                     measure: np.ndarray, tables: list[ProxyTable]) -> ExclusionResult | None:
    """Claim shares for every row; ``None`` when no edition declares exclusions.

    ``canonical`` is each row's quantity in its measure's canonical unit, ``edition`` and
    ``measure`` the row's edition and measure positions (-1 where the row is invalid: such rows
    are left alone here and reported by the caller).
    """
    if not any(t.spec.exclusions for t in tables):
        return None
    n = len(df)
    result = ExclusionResult(scale=np.ones(n), fired=np.full(n, -1, dtype=np.int16))
    n_m = max(len(t.measure_codes) for t in tables)
    keys = _KeyCodes(df)
    edition, measure = edition.astype(np.intp), measure.astype(np.intp)
    ok = (edition >= 0) & (measure >= 0) & np.isfinite(canonical)
    flat = np.where(ok, edition * n_m + measure, len(tables) * n_m)  # last slot: invalid rows
    for e, t in enumerate(tables):
        _check_units(t)
        for ex in t.spec.exclusions:
            rank_of = np.full(len(tables) * n_m + 1, -1, dtype=np.intp)
            for k, code in enumerate(ex.measures):
                rank_of[e * n_m + t.measure_index[code]] = k
            rank = rank_of[flat]
            rows = np.flatnonzero(rank >= 0)
            if rows.size:
                _apply(keys.group_ids(rows, ex.key), rows, rank[rows], canonical[rows],
                       ex.measures, ex.mode, ex.id, result)
    return result


def _apply(group: np.ndarray, rows: np.ndarray, rank: np.ndarray, canon: np.ndarray,
           order: tuple[str, ...], mode: str, ex_id: str, result: ExclusionResult) -> None:
    n_rank = len(order)
    n_group = int(group.max(initial=-1)) + 1
    totals = np.bincount(group * n_rank + rank, weights=canon,
                         minlength=n_group * n_rank).reshape(n_group, n_rank)
    before = np.cumsum(totals, axis=1) - totals          # claimed under earlier measures
    total_r, before_r = totals[group, rank], before[group, rank]
    later = (before_r > 0) & (total_r > 0)
    if mode == "reject":
        first = np.argmax(totals > 0, axis=1)
        for r, g, k in zip(rows[later].tolist(), group[later].tolist(), rank[later].tolist(),
                           strict=True):
            result.rejected.append((r, (
                f"double counting: {order[k]!r} is also claimed as {order[first[g]]!r} for the "
                f"same contract (exclusion {ex_id!r})")))
        return
    share = np.where(later, np.maximum(total_r - before_r, 0.0) / np.where(later, total_r, 1.0),
                     1.0)
    result.scale[rows] = share
    if ex_id not in result.ids:
        result.ids.append(ex_id)
    result.fired[rows[later]] = result.ids.index(ex_id)


class _KeyCodes:
    """Key columns factorised once per input, combined into dense group ids on demand."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.codes: dict[str, tuple[np.ndarray, int]] = {}

    def _column(self, name: str) -> tuple[np.ndarray, int]:
        if name not in self.codes:
            codes, uniq = pd.factorize(self.df[name], use_na_sentinel=True)
            # missing keys form their own group (the conservative reading)
            self.codes[name] = (np.where(codes < 0, len(uniq), codes), len(uniq) + 1)
        return self.codes[name]

    def group_ids(self, rows: np.ndarray, key: tuple[str, ...]) -> np.ndarray:
        """Dense group id per row in ``rows`` from the key columns (plus ``stage``)."""
        cols = [c for c in (*key, "stage") if c in self.df.columns]
        combined = np.zeros(len(rows), dtype=np.int64)
        for name in cols:
            codes, width = self._column(name)
            combined = combined * width + codes[rows]
        return np.unique(combined, return_inverse=True)[1].astype(np.intp)
