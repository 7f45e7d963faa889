"""Seeded synthetic portfolios over the full rule set, for benchmarks and benchmarks/memory.py.

Rows mix every measure that is valued by the plain pipeline (measures with an expression, a
required field or a double-counting exclusion are left out so that the numpy reference does the
same work), units other than the canonical one (``kg_CO2e``, ``hours``, ``kg``), region codes and
names that need normalising and regional fallback (``London``, ``wales``), dates across all
editions, ``years`` from 1 to 5 and confidence grades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import socialvalue_tom as sv
from socialvalue_tom.engine import table_set

_ALT_UNITS = {"tCO2e": ["tCO2e", "kg_CO2e"], "hour": ["hour", "hours"], "tonne": ["tonne", "kg"],
              "FTE": ["FTE"], "week": ["week"], "GBP": ["GBP"]}


def bench_tables() -> sv.TableSet:
    """uk-national when its editions are installed, else tests/data/tables/tiny.yaml."""
    if any(r.name == "uk-national" for r in sv.available_tables()):
        return table_set("uk-national")
    from pathlib import Path

    tiny = Path(__file__).resolve().parent.parent / "tests" / "data" / "tables" / "tiny.yaml"
    return table_set(sv.load_table(path=tiny))


def plain_measures(tset: sv.TableSet) -> list[tuple[str, str]]:
    """(measure, unit) pairs valued by the plain pipeline in every edition."""
    excluded = {c for t in tset.editions for ex in t.spec.exclusions for c in ex.measures}
    common = set.intersection(*(set(t.measures) for t in tset.editions))
    pairs = []
    for code in sorted(common):
        spec = tset.editions[0].measures[code]
        if spec.expression or spec.requires or code in excluded:
            continue
        units = _ALT_UNITS.get(spec.unit, [spec.unit])
        if spec.accepts is not None:
            units = [u for u in units if u in spec.accepts] or [spec.unit]
        pairs.extend((code, u) for u in units)
    return pairs


def make_portfolio(n: int, tset: sv.TableSet, seed: int = 0) -> pd.DataFrame:
    """``n`` outcome rows with string columns (pandas ``str`` dtype), seeded."""
    rng = np.random.default_rng(seed)
    pairs = plain_measures(tset)
    k = rng.integers(0, len(pairs), n)
    measure = np.array([p[0] for p in pairs], dtype=object)[k]
    unit = np.array([p[1] for p in pairs], dtype=object)[k]
    regions = [*tset.editions[0].region_codes, "London", "Northern Ireland"]
    start = np.datetime64(tset.editions[0].valid_from, "D")
    span = int((np.datetime64(tset.editions[-1].valid_to, "D") - start).astype(int)) + 1
    days = start + rng.integers(0, span, 4000).astype("timedelta64[D]")
    grades = list(tset.editions[0].grades) or ["A"]
    return pd.DataFrame({
        "measure": pd.array(measure, dtype="str"),
        "quantity": rng.uniform(0, 200, n).round(2),
        "unit": pd.array(unit, dtype="str"),
        "region": pd.array(np.array(regions, dtype=object)[rng.integers(0, len(regions), n)],
                           dtype="str"),
        "date": pd.array(np.datetime_as_string(days)[rng.integers(0, len(days), n)],
                         dtype="str"),
        "years": rng.integers(1, 6, n).astype(np.float64),
        "confidence": pd.array(np.array(grades, dtype=object)[rng.integers(0, len(grades), n)],
                               dtype="str"),
    })


#: The ways :func:`spoil` makes a row bad, one in five of the spoiled rows each.
SPOILS = ("unknown-measure", "unknown-region", "bad-date", "not-a-number", "negative")


def spoil(df: pd.DataFrame, share: float = 0.3, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """A copy of ``df`` with about ``share`` of its rows made bad in the :data:`SPOILS` ways
    (a few distinct bad cells, repeated, as a supplier's template mistakes are), and the mask
    of the rows spoiled."""
    rng = np.random.default_rng(seed)
    kind = np.where(rng.random(len(df)) < share, rng.integers(0, len(SPOILS), len(df)), -1)
    out = df.copy()
    out["quantity"] = out["quantity"].astype(object)
    for k, column, cell in ((0, "measure", "no-such-measure"), (1, "region", "atlantis"),
                            (2, "date", "not a date"), (3, "quantity", "12 apples"),
                            (4, "quantity", -1.0)):
        out.loc[kind == k, column] = cell
    return out, kind >= 0
