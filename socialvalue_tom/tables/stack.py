"""Editions of a family stacked into dense arrays indexed by (edition, measure, region).

Bulk valuation gathers every per-row figure from these arrays in one step, whatever the mix of
editions in the input. Built once per distinct set of editions (keyed by content digests).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from socialvalue_tom._arrays import sealed
from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.rules.expressions import Expression
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.schema import MAX_TABLE_CELLS
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["EditionStack", "stack_of"]

_EPOCH = np.datetime64("1970-01-01", "D")
#: Region positions are stored as int16 (``region_used``).
_MAX_REGIONS = int(np.iinfo(np.int16).max)
#: Most cells (editions x measures x regions) in a stack. Each edition is at most
#: ``MAX_TABLE_CELLS``, but the stack is as wide as the widest edition and as tall as the
#: tallest (one of many measures and few regions with one of few measures and many regions would
#: stack into measures x regions of both), once per edition: about 26 bytes a cell.
_MAX_STACK_CELLS = 4 * MAX_TABLE_CELLS


@dataclass(frozen=True)
class CustomMeasure:
    """A measure with an expression, located in the stack."""

    edition: int
    measure: int
    code: str
    expression: Expression
    requires: tuple[str, ...]


class EditionStack:
    """Dense, read-only arrays over the editions of a :class:`TableSet`."""

    def __init__(self, tset: TableSet) -> None:
        eds = tset.editions
        self.tset = tset
        self.editions: list[ProxyTable] = eds
        self.starts = np.array([_days(t.valid_from) for t in eds], dtype=np.int64)
        self.ends = np.array([_days(t.valid_to) for t in eds], dtype=np.int64)
        self.regions: list[str] = sorted({r for t in eds for r in t.region_codes})
        if len(self.regions) > _MAX_REGIONS:
            raise ProxyTableError(
                f"editions of {tset.name} have {len(self.regions)} regions between them: bulk "
                f"valuation handles at most {_MAX_REGIONS} (value such outcomes one at a time "
                "with value())", path=None, line=None, field="regions")
        # Each region's position in ``regions``, looked up once per edition's region (a list
        # search per region made building the stack quadratic in the regions).
        self._region_pos = {code: i for i, code in enumerate(self.regions)}
        n_e = len(eds)
        n_m = max(len(t.measure_codes) for t in eds)
        n_r = max(len(t.region_codes) for t in eds)
        shape = (n_e, n_m, n_r)
        if n_e * n_m * n_r > _MAX_STACK_CELLS:
            raise ProxyTableError(
                f"editions of {tset.name} stack into {n_e:,} editions x {n_m:,} measures x "
                f"{n_r:,} regions = {n_e * n_m * n_r:,} cells: bulk valuation handles at most "
                f"{_MAX_STACK_CELLS:,} (give value_frame fewer editions at a time, or value "
                "such outcomes one at a time with value())", path=None, line=None, field=None)
        self.proxy = {b: np.zeros(shape) for b in ("central", "low", "high")}
        self.region_used = np.full(shape, -1, dtype=np.int16)
        self.illustrative = np.zeros(shape, dtype=bool)
        per_measure = ("sign", "deadweight", "displacement", "attribution", "drop_off",
                       "cap_ratio", "bound_min", "bound_max")
        self.measure_arrays = {k: np.zeros((n_e, n_m)) for k in per_measure}
        self.health = np.zeros((n_e, n_m), dtype=bool)
        self.requires = np.zeros((n_e, n_m), dtype=bool)
        self.excluded = np.zeros((n_e, n_m), dtype=bool)  # named by a double-counting exclusion
        self.custom: list[CustomMeasure] = []
        for e, t in enumerate(eds):
            self._fill(e, t)
        self.n_measures, self.n_regions = n_m, n_r
        bounds = (self.measure_arrays["bound_min"], self.measure_arrays["bound_max"])
        self.has_bounds = bool(np.isfinite(bounds[0]).any() or np.isfinite(bounds[1]).any())
        self.has_caps = bool(np.isfinite(self.measure_arrays["cap_ratio"]).any())
        self.any_illustrative = bool(self.illustrative.any())
        # Shared by every thread that values with these editions: sealed, never writeable.
        self.proxy = {b: sealed(arr) for b, arr in self.proxy.items()}
        self.measure_arrays = {k: sealed(arr) for k, arr in self.measure_arrays.items()}
        self.region_used, self.illustrative = sealed(self.region_used), sealed(self.illustrative)
        self.health, self.requires = sealed(self.health), sealed(self.requires)
        self.excluded = sealed(self.excluded)

    def _fill(self, e: int, t: ProxyTable) -> None:
        m, r = len(t.measure_codes), len(t.region_codes)
        self.proxy["central"][e, :m, :r] = t.proxy_matrix
        self.proxy["low"][e, :m, :r] = t.proxy_low
        self.proxy["high"][e, :m, :r] = t.proxy_high
        union = np.array([self._region_pos[c] for c in t.region_codes], dtype=np.int16)
        self.region_used[e, :m, :r] = union[t.region_used]
        self.illustrative[e, :m, :r] = t.illustrative_matrix
        for name, arr in self.measure_arrays.items():
            arr[e, :m] = getattr(t, name)
        self.health[e, :m] = t.health
        for ex in t.spec.exclusions:
            for code in ex.measures:
                self.excluded[e, t.measure_index[code]] = True
        for i, spec in enumerate(t.measures.values()):
            self.requires[e, i] = bool(spec.requires)
            expr = t.expressions.get(spec.code)
            if expr is not None:
                self.custom.append(CustomMeasure(e, i, spec.code, expr, spec.requires))

    def uplift(self, price_year: int | None, used: np.ndarray | None = None) -> np.ndarray:
        """Price-base uplift factor per edition for ``price_year`` (None: each edition's own).

        ``used``: the edition positions rows use; only those are restated (NaN for the others),
        so an edition no row uses needs no price index, as in the scalar engine. A used edition
        that cannot be restated raises :class:`~socialvalue_tom.errors.RuleError`.
        """
        from socialvalue_tom.engine import uplift_factor

        if price_year is None:
            return np.ones(len(self.editions))
        wanted = (set(range(len(self.editions))) if used is None
                  else {int(e) for e in np.unique(used) if e >= 0})
        return np.array([uplift_factor(t, price_year) if e in wanted else np.nan
                         for e, t in enumerate(self.editions)])


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


_CACHE: OrderedDict[tuple[str, ...], EditionStack] = OrderedDict()
_LOCK = threading.Lock()


def stack_of(tset: TableSet) -> EditionStack:
    """The (cached) stack for ``tset``; same editions by content, same stack."""
    key = tuple(f"{t.digest}:{t.index_digest or ''}:{t.path}"
                for t in tset.editions)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    built = EditionStack(tset)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > 16:
            _CACHE.popitem(last=False)
    return built
