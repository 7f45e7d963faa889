"""Plain-numpy reference: the same lookups and arithmetic as ``value_frame``, nothing else.

Per column: factorize (or take a categorical's codes), map the few uniques to table indices,
``searchsorted`` the dates' days on the editions' start days, gather the proxy from a dense
``[edition, measure, region]`` matrix, multiply the unit factor, additionality, confidence
reduction and the duration factor (``rules.steps.duration_factor``, the same exact sums, once
per distinct years, drop-off and offset), and the sign.
No validation, no issue collection, no provenance columns: it is the floor ``value_frame`` is
measured against (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom.rules import steps
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.table import normalise_region


@dataclass
class Compiled:
    """Dense arrays over all editions, built once per table set."""

    tset: TableSet
    measures: dict[str, int]
    regions: dict[str, int]
    starts: np.ndarray
    proxy: np.ndarray       # [E, M, R]
    additional: np.ndarray  # [E, M]: (1-dw)(1-disp)(1-attr)
    drop_off: np.ndarray    # [E, M]
    sign: np.ndarray        # [E, M]
    grades: dict[str, np.ndarray]  # grade -> [E] reduction

    @classmethod
    def build(cls, tset: TableSet) -> Compiled:
        """Compile ``tset`` into the arrays the reference gathers from."""
        eds = tset.editions
        codes = sorted({c for t in eds for c in t.measures})
        regions = sorted({r for t in eds for r in t.region_codes})
        m_ix = {c: i for i, c in enumerate(codes)}
        r_ix = {c: i for i, c in enumerate(regions)}
        e_n, m_n, r_n = len(eds), len(codes), len(regions)
        proxy = np.full((e_n, m_n, r_n), np.nan)
        add = np.full((e_n, m_n), np.nan)
        drop_off = np.full((e_n, m_n), np.nan)
        sign = np.ones((e_n, m_n))
        for e, t in enumerate(eds):
            for code, i in t.measure_index.items():
                j = m_ix[code]
                for r, reg in enumerate(t.region_codes):
                    proxy[e, j, r_ix[reg]] = t.proxy_matrix[i, r]
                # 1 - x as the library works it out (steps.complement: as a decimal)
                add[e, j] = (steps.complement(float(t.deadweight[i]))
                             * steps.complement(float(t.displacement[i]))
                             * steps.complement(float(t.attribution[i])))
                drop_off[e, j] = t.drop_off[i]
                sign[e, j] = t.sign[i]
        grades = {g: np.array([t.grades.get(g, np.nan) for t in eds])
                  for t in eds for g in t.grades}
        starts = np.array([np.datetime64(t.valid_from, "D").astype(np.int64) for t in eds])
        return cls(tset, m_ix, r_ix, starts, proxy, add, drop_off, sign, grades)

    def region_index(self, name: str) -> int:
        """Region code or name to its column (names normalised as the table does)."""
        return self.regions[self.tset.editions[0].region_code(normalise_region(name))]


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), np.asarray(col.cat.categories, dtype=object)
    codes, uniques = pd.factorize(col)
    return codes, np.asarray(uniques, dtype=object)


def value_reference(df: pd.DataFrame, c: Compiled) -> np.ndarray:
    """``value_gbp`` for every row of ``df`` (strings or categoricals), in plain numpy."""
    mc, mu = _codes(df["measure"])
    rc, ru = _codes(df["region"])
    uc, uu = _codes(df["unit"])
    dc, du = _codes(df["date"])
    gc, gu = _codes(df["confidence"])
    m = np.array([c.measures[x] for x in mu])[mc]
    r = np.array([c.region_index(x) for x in ru])[rc]
    days = np.array(du, dtype="datetime64[D]").astype(np.int64)
    e = (np.searchsorted(c.starts, days, side="right") - 1)[dc]
    # unit factor per (measure, unit) pair present, once per pair
    t0 = c.tset.editions[0]
    pair = mc.astype(np.int64) * len(uu) + uc
    up, inv = np.unique(pair, return_inverse=True)
    fac = np.array([t0.unit_factor(mu[p // len(uu)], uu[p % len(uu)]) for p in up.tolist()])
    factor = fac[inv]
    red = np.stack([c.grades[g] for g in gu])[gc, e]
    q = df["quantity"].to_numpy()
    net = steps.additionality(q * factor * c.proxy[e, m, r], 0.0, 0.0, 0.0)
    net = net * c.additional[e, m]
    confident = net * steps.complement(red * (c.sign[e, m] > 0))  # benefits only
    years = df["years"].to_numpy()
    duration = steps.duration_factor(years, c.drop_off[e, m], np.zeros(len(q), np.intp),
                                     "green-book")
    return confident * duration * c.sign[e, m]  # type: ignore[no-any-return]


def valid_rows(df: pd.DataFrame, c: Compiled) -> np.ndarray:
    """The rows :func:`value_reference` can value (known measure and region, a date, a
    quantity that is a number of 0 or more), each column's cells read once per distinct value:
    the floor of finding the bad rows of an input."""
    def known(col: str, ok: Callable[[Any], bool]) -> np.ndarray:
        codes, uniq = _codes(df[col])
        return np.append(np.array([ok(u) for u in uniq], dtype=bool), False)[codes]

    def region(x: Any) -> bool:
        try:
            c.region_index(x)
        except Exception:
            return False
        return True

    def day(x: Any) -> bool:
        try:
            np.datetime64(x, "D")
        except ValueError:
            return False
        return True

    q = pd.to_numeric(df["quantity"], errors="coerce").to_numpy(dtype=np.float64)
    return (known("measure", lambda x: x in c.measures) & known("region", region)
            & known("date", day) & (q >= 0))


def value_reference_of_valid(df: pd.DataFrame, c: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """``value_gbp`` of the valid rows (NaN elsewhere) and the bad rows' positions."""
    ok = valid_rows(df, c)
    out = np.full(len(df), np.nan)
    out[ok] = value_reference(df[ok].astype({"quantity": np.float64}), c)
    return out, np.flatnonzero(~ok)


def polars_join(df: object, c: Compiled) -> np.ndarray:
    """The same valuation as joins in polars (``df`` a polars DataFrame with string columns)."""
    import polars as pl

    eds = c.tset.editions
    inv_m = {i: code for code, i in c.measures.items()}
    inv_r = {i: code for code, i in c.regions.items()}
    e_i, m_i, r_i = np.nonzero(~np.isnan(c.proxy))
    lookup = pl.DataFrame({
        "e": e_i.astype(np.int32), "measure": [inv_m[i] for i in m_i.tolist()],
        "region_code": [inv_r[i] for i in r_i.tolist()], "proxy": c.proxy[e_i, m_i, r_i],
        "add": c.additional[e_i, m_i], "retain": steps.complement(c.drop_off[e_i, m_i]),
        "sign": c.sign[e_i, m_i]})
    t0 = eds[0]
    units = sorted(set(df["unit"].unique().to_list()))  # type: ignore[attr-defined]
    pairs = [(code, u, t0.unit_factor(code, u)) for code in c.measures for u in units
             if _converts(t0, code, u)]
    unit_tab = pl.DataFrame({"measure": [p[0] for p in pairs], "unit": [p[1] for p in pairs],
                             "factor": [p[2] for p in pairs]})
    grade_tab = pl.DataFrame({
        "confidence": [g for g in c.grades for _ in eds],
        "e": [e for _ in c.grades for e in range(len(eds))],
        "red": [float(v[e]) for v in c.grades.values() for e in range(len(eds))],
    }).with_columns(pl.col("e").cast(pl.Int32))
    names = sorted(set(df["region"].unique().to_list()))  # type: ignore[attr-defined]
    region_map = {n: inv_r[c.region_index(n)] for n in names}
    starts = pl.Series([eds[i].valid_from for i in range(len(eds))])
    x = (df.lazy()  # type: ignore[attr-defined]
         .with_columns(pl.col("date").str.to_date().alias("day"),
                       pl.col("region").replace_strict(region_map).alias("region_code"))
         .with_columns(_edition_expr(starts).alias("e"))
         .join(lookup.lazy(), on=["e", "measure", "region_code"], how="left",
               maintain_order="left")
         .join(unit_tab.lazy(), on=["measure", "unit"], how="left", maintain_order="left")
         .join(grade_tab.lazy(), on=["confidence", "e"], how="left", maintain_order="left"))
    acc = pl.lit(0.0)
    keep = pl.lit(1.0)
    df_gb = steps.discount_factors("green-book")
    for t in range(5):
        acc = pl.when(pl.col("years") > t).then(acc + keep * float(df_gb[t])).otherwise(acc)
        keep = keep * pl.col("retain")
    value = (pl.col("quantity") * pl.col("factor") * pl.col("proxy") * pl.col("add")
             * (1.0 - pl.col("red") * (pl.col("sign") > 0).cast(pl.Float64)) * acc * pl.col("sign"))
    return x.select(value.alias("v")).collect()["v"].to_numpy()


def _edition_expr(starts: object) -> object:
    import polars as pl

    expr = pl.lit(-1, dtype=pl.Int32)
    for i, s in enumerate(starts):  # type: ignore[attr-defined]
        expr = pl.when(pl.col("day") >= s).then(pl.lit(i, dtype=pl.Int32)).otherwise(expr)
    return expr


def _converts(t: object, code: str, unit: str) -> bool:
    try:
        t.unit_factor(code, unit)  # type: ignore[attr-defined]
    except Exception:
        return False
    return True
