"""Double-counting exclusions across measures, declared by the table and enforced in bulk.

An exclusion lists measures in precedence order. Within one group of rows (same key columns,
``contract_id`` by default, plus ``stage`` when present, and the same edition):

- ``count_once``: a later measure's claims are reduced by the quantity already claimed under
  earlier ones (a priority-group hire is also a local job: count the FTE once). Every row of the
  reduced measure is scaled by the same share, so the result does not depend on row order.
- ``reject``: when two of the measures are both claimed, the rows of the later measures are
  rejected as issues.

Measures of one exclusion must share a canonical unit (checked here, a ``ProxyTableError``).
A missing key value is a group of its own; without a key column the whole input is one group
(the conservative reading).

Totals per (group, precedence rank) add each group's claims in ascending order of value, so the
same claims give the same bits whatever their row order. For input that arrives in pieces (file
chunks, Dask partitions), :func:`claim_rows` lists each piece's claims with a text label per
group, and the pieces' lists together give the same totals as the whole input
(``exclusion_scales(..., claims=all_pieces)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["CLAIM_COLUMNS", "ExclusionResult", "claim_rows", "exclusion_scales"]

#: Columns of :func:`claim_rows`.
CLAIM_COLUMNS = ["edition", "exclusion", "group", "rank", "quantity"]
_MISSING = "\x00missing"
_SEP = "\x1f"


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


@dataclass
class _Claims:
    """The rows of one exclusion in one edition: positions, precedence rank, group."""

    edition: str
    exclusion: str
    order: tuple[str, ...]
    mode: str
    rows: np.ndarray
    rank: np.ndarray
    group: np.ndarray          # dense group id per row
    first: np.ndarray          # a row position of each group (for its label)
    cols: list[str]            # key columns that exist in the input
    quantity: np.ndarray

    def labels(self, df: pd.DataFrame) -> np.ndarray:
        """A text label per group from its key values: the same in every chunk."""
        if not self.cols:
            return np.array([""], dtype=object)
        keys = df[self.cols].iloc[self.first].astype(object)
        text = keys.where(keys.notna(), _MISSING).astype(str)
        joined = text[self.cols[0]]
        for name in self.cols[1:]:
            joined = joined + _SEP + text[name]
        return joined.to_numpy(dtype=object)


def _claims(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
            measure: np.ndarray, tables: list[ProxyTable]) -> list[_Claims]:
    n_m = max(len(t.measure_codes) for t in tables)
    edition, measure = edition.astype(np.intp), measure.astype(np.intp)
    ok = (edition >= 0) & (measure >= 0) & np.isfinite(canonical)
    flat = np.where(ok, edition * n_m + measure, len(tables) * n_m)  # last slot: invalid rows
    found = []
    for e, t in enumerate(tables):
        _check_units(t)
        for ex in t.spec.exclusions:
            rank_of = np.full(len(tables) * n_m + 1, -1, dtype=np.intp)
            for k, code in enumerate(ex.measures):
                rank_of[e * n_m + t.measure_index[code]] = k
            rank = rank_of[flat]
            rows = np.flatnonzero(rank >= 0)
            if rows.size:
                cols = [c for c in (*ex.key, "stage") if c in df.columns]
                group, first = _groups(df, rows, cols)
                found.append(_Claims(f"{t.name}:{t.version}", ex.id, ex.measures, ex.mode,
                                     rows, rank[rows], group, first, cols, canonical[rows]))
    return found


def _groups(df: pd.DataFrame, rows: np.ndarray, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dense group id per row (by key values) and one row position per group."""
    if not cols:
        return np.zeros(len(rows), dtype=np.intp), rows[:1]
    combined = np.zeros(len(rows), dtype=np.int64)
    for name in cols:
        codes, uniq = pd.factorize(df[name].iloc[rows], use_na_sentinel=True)
        combined = combined * (len(uniq) + 1) + np.where(codes < 0, len(uniq), codes)
    _, first, group = np.unique(combined, return_index=True, return_inverse=True)
    return group.astype(np.intp).ravel(), rows[first]


def _sorted_sums(gid: np.ndarray, q: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``q`` per id, each group added in ascending order of value (order independent)."""
    out = np.zeros(size)
    if gid.size == 0:
        return out
    order = np.lexsort((q, gid))
    ids = gid[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    out[ids[starts]] = np.add.reduceat(q[order], starts)
    return out


def claim_rows(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
               measure: np.ndarray, tables: list[ProxyTable]) -> pd.DataFrame:
    """Every claim of this input that an exclusion governs, one row each (see the module doc):
    edition, exclusion, group label, precedence rank and canonical quantity."""
    parts = [pd.DataFrame({"edition": c.edition, "exclusion": c.exclusion,
                           "group": c.labels(df)[c.group], "rank": c.rank,
                           "quantity": c.quantity})
             for c in _claims(df, canonical, edition, measure, tables)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in CLAIM_COLUMNS[:3]
                                          else ("int64" if c == "rank" else "float64"))
                             for c in CLAIM_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def _totals(c: _Claims, df: pd.DataFrame,
            claims: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Totals per (group, rank) for this input's groups, and each row's group position."""
    n_rank = len(c.order)
    if claims is None:
        n_group = int(c.group.max(initial=-1)) + 1
        sums = _sorted_sums(c.group * n_rank + c.rank, c.quantity, n_group * n_rank)
        return sums.reshape(n_group, n_rank), c.group
    mine = claims[(claims["edition"] == c.edition) & (claims["exclusion"] == c.exclusion)]
    labels = pd.Index(c.labels(df))
    pos = labels.get_indexer(mine["group"].to_numpy(dtype=object))
    keep = pos >= 0
    if len(labels.unique()) != len(labels):
        raise ValueError("exclusion group labels are not unique")
    ids = pos[keep] * n_rank + mine["rank"].to_numpy()[keep]
    sums = _sorted_sums(ids, mine["quantity"].to_numpy(dtype=np.float64)[keep],
                        len(labels) * n_rank)
    return sums.reshape(len(labels), n_rank), c.group


def exclusion_scales(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
                     measure: np.ndarray, tables: list[ProxyTable],
                     claims: pd.DataFrame | None = None) -> ExclusionResult | None:
    """Claim shares for every row; ``None`` when no edition declares exclusions.

    ``canonical`` is each row's quantity in its measure's canonical unit, ``edition`` and
    ``measure`` the row's edition and measure positions (-1 where the row is invalid: such rows
    are left alone here and reported by the caller). ``claims``: the :func:`claim_rows` of the
    whole input this frame is part of (its own rows included); by default, this frame alone.
    """
    if not any(t.spec.exclusions for t in tables):
        return None
    n = len(df)
    result = ExclusionResult(scale=np.ones(n), fired=np.full(n, -1, dtype=np.int16))
    for c in _claims(df, canonical, edition, measure, tables):
        per_group, g = _totals(c, df, claims)
        before_all = np.cumsum(per_group, axis=1) - per_group   # claimed under earlier ranks
        total_r, before_r = per_group[g, c.rank], before_all[g, c.rank]
        later = (before_r > 0) & (total_r > 0)
        if c.mode == "reject":
            first = np.argmax(per_group > 0, axis=1)
            for r, gi, k in zip(c.rows[later].tolist(), g[later].tolist(),
                                c.rank[later].tolist(), strict=True):
                result.rejected.append((r, (
                    f"double counting: {c.order[k]!r} is also claimed as {c.order[first[gi]]!r} "
                    f"for the same contract (exclusion {c.exclusion!r})")))
            continue
        share = np.where(later, np.maximum(total_r - before_r, 0.0)
                         / np.where(later, total_r, 1.0), 1.0)
        result.scale[c.rows] = share
        if later.any():
            if c.exclusion not in result.ids:
                result.ids.append(c.exclusion)
            result.fired[c.rows[later]] = result.ids.index(c.exclusion)
    return result
