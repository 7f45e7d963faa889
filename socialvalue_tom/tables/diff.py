"""Differences between two table editions, per measure and region.

Examples:
    >>> import socialvalue_tom as sv
    >>> old = sv.load_table(path="tests/data/tables/tiny.yaml")  # doctest: +SKIP
    >>> diff_tables(old, old).empty  # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom.tables.schema import MeasureSpec, ProxyValue
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["DIFF_COLUMNS", "diff_tables"]

DIFF_COLUMNS = ["change", "measure", "region", "old_value", "new_value", "pct_change",
                "real_pct_change", "fields_changed", "old_region_used", "new_region_used",
                "old_source", "new_source"]
#: Measure fields compared (the proxies are compared region by region).
_MEASURE_FIELDS = tuple(f for f in MeasureSpec.model_fields if f not in ("code", "proxies"))
_PROXY_FIELDS = tuple(ProxyValue.model_fields)
#: Table-level fields that can change valuations or their provenance. The labels that always
#: differ between two editions (version, title, validity, review date) are left out.
_TABLE_FIELDS = ("currency", "price_base_year", "price_index", "illustrative", "regions",
                 "fallback_region", "sources", "parameters", "confidence_grades", "exclusions",
                 "notes")


def _changed(old: Any, new: Any, fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if getattr(old, f) != getattr(new, f)]


def _pct(old: float | None, new: float | None) -> float:
    if old is None or new is None or old == 0:
        return math.nan
    return (new - old) / old * 100.0


def _to_old_prices(old: ProxyTable, new: ProxyTable) -> float | None:
    """The factor that states a value in ``new``'s prices in ``old``'s (index[old year] /
    index[new year]), so that a change between editions is not mostly inflation: 1.0 for
    one price base; else from ``new``'s price index (the later vintage), or ``old``'s where
    only that one covers both years; ``None`` where neither does."""
    a, b = old.price_base_year, new.price_base_year
    if a == b:
        return 1.0
    for index in (new.price_index, old.price_index):
        if index is not None and a in index.values and b in index.values:
            return index.factor(b, a)
    return None


def _measure_rows(code: str, old: ProxyTable, new: ProxyTable) -> list[dict[str, Any]]:
    mo, mn = old.measures.get(code), new.measures.get(code)
    if mo is None or mn is None:
        spec = mn if mo is None else mo
        assert spec is not None
        change = "added" if mo is None else "removed"
        return [_record(change, code, region, old, new) for region in sorted(spec.proxies)]
    measure_fields = _changed(mo, mn, _MEASURE_FIELDS)
    rows = []
    own = set(mo.proxies) | set(mn.proxies)
    for region in sorted(own):
        po, pn = mo.proxies.get(region), mn.proxies.get(region)
        if po is None or pn is None:
            change = "added" if po is None else "removed"
            # The region's own proxy came or went: named, beside any measure field changed
            # (a row listing only 'notes' read as if the value had not moved).
            rows.append(_record(change, code, region, old, new, [*measure_fields, "proxies"]))
            continue
        fields = measure_fields + [_noted(name, po, pn)
                                   for name in _changed(po, pn, _PROXY_FIELDS)]
        if fields:
            rows.append(_record("changed", code, region, old, new, fields))
    tree_changed = _field(old, "regions") != _field(new, "regions")
    for region in sorted(set(old.region_codes) & set(new.region_codes) - own):
        # No value of its own on either side: it changes only if it now falls back elsewhere,
        # because the region tree changed or a region on its way up gained or lost a value of
        # its own; a change of the value it inherits is shown where it is set.
        if _resolved(old, code, region)[1] != _resolved(new, code, region)[1]:
            rows.append(_record("fallback", code, region, old, new,
                                ["regions" if tree_changed else "proxies"]))
    return sorted(rows, key=lambda r: str(r["region"]))


def _noted(name: str, old: Any, new: Any) -> str:
    """A changed proxy field as the diff names it: a note map (``applies_in``,
    ``stands_in_for``) with the regions whose note came, went or changed (a table author's
    review: a changed note on Cumbria read only ``stands_in_for``), and a derivation with what
    in it changed."""
    if name == "derivation":
        return _derivation_changes(old.derivation, new.derivation)
    if name not in ("applies_in", "stands_in_for"):
        return name
    a, b = dict(getattr(old, name) or {}), dict(getattr(new, name) or {})
    regions = sorted(r for r in {*a, *b} if a.get(r) != b.get(r))
    return f"{name} ({', '.join(regions)})" if regions else name


def _derivation_changes(old: Any, new: Any) -> str:
    """``derivation (inputs: median_weekly_pay_ft)``: the formulas and the inputs that came,
    went or changed their figure, which say why a value moved (a journalist's review: every
    wage proxy read ``derivation``, whether the published median or the method changed)."""
    if old is None or new is None:
        return f"derivation ({'added' if old is None else 'removed'})"
    said = [f for f in ("formula", "low_formula", "high_formula")
            if getattr(old, f) != getattr(new, f)]
    a, b = dict(old.inputs), dict(new.inputs)
    inputs = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
    if inputs:
        said.append(f"inputs: {', '.join(inputs)}")
    if old.input_sources != new.input_sources:
        said.append("input_sources")
    return f"derivation ({'; '.join(said)})" if said else "derivation"


#: Table fields that are lists of entries with an id, whose order carries no meaning.
_KEYED_LISTS = {"regions": "code", "sources": "id", "exclusions": "id"}


def _field(table: ProxyTable, name: str) -> Any:
    """A table-level field as compared: keyed lists in id order (listing regions or sources in
    another order changes nothing)."""
    value = getattr(table.spec, name)
    key = _KEYED_LISTS.get(name)
    return tuple(sorted(value, key=lambda e: getattr(e, key))) if key else value


#: Table fields that are one value, shown as ``old -> new`` where they changed.
_SCALARS = ("currency", "price_base_year", "price_index", "illustrative", "fallback_region")


def _entries(table: ProxyTable, name: str) -> dict[str, Any]:
    """A keyed list (regions, sources, exclusions) or the parameters, by id or name."""
    value = getattr(table.spec, name)
    key = _KEYED_LISTS.get(name)
    return {getattr(e, key): e for e in value} if key else dict(value)


def _table_field(name: str, old: ProxyTable, new: ProxyTable) -> str:
    """A changed table field as the diff names it, with what changed where that is short
    enough to say (a reader's review: "price_base_year, sources" did not say that the prices
    moved on a year, nor which sources came and went)."""
    if name in _SCALARS:
        return f"{name} ({getattr(old.spec, name)} -> {getattr(new.spec, name)})"
    if name not in (*_KEYED_LISTS, "parameters"):
        return name
    a, b = _entries(old, name), _entries(new, name)
    parts = [(what, sorted(ids)) for what, ids in (
        ("added", b.keys() - a.keys()), ("removed", a.keys() - b.keys()),
        ("changed", {k for k in a.keys() & b.keys() if a[k] != b[k]}))]
    said = "; ".join(f"{what}: {', '.join(ids)}" for what, ids in parts if ids)
    return f"{name} ({said})" if said else name  # listed in another order only: named bare


def _table_rows(old: ProxyTable, new: ProxyTable) -> list[dict[str, Any]]:
    """One row naming the table-level fields that changed (regions, parameters, exclusions...),
    which change valuations without any proxy changing; none when they are all the same."""
    fields = [_table_field(f, old, new) for f in _TABLE_FIELDS
              if _field(old, f) != _field(new, f)]
    old_index, new_index = old.price_index, new.price_index
    if (old_index is not None and new_index is not None
            and old_index.digest != new_index.digest and old.spec.price_index
            == new.spec.price_index):
        fields.append("price index values")
    if not fields:
        return []
    return [{"change": "table", "measure": "", "region": "", "old_value": math.nan,
             "new_value": math.nan, "pct_change": math.nan, "real_pct_change": math.nan,
             "fields_changed": ", ".join(fields), "old_region_used": "", "new_region_used": "",
             "old_source": "", "new_source": ""}]


def _resolved(table: ProxyTable, code: str, region: str) -> tuple[float | None, str, str]:
    """The proxy ``region`` gets for ``code`` in ``table`` (its own or by fallback), from
    which region, and its source id; ``(None, "", "")`` where the measure is absent or the
    region not declared."""
    if code not in table.measures or region not in table.region_codes:
        return None, "", ""
    p = table.proxy(code, region)
    return p.value, p.region_used, p.source.id


def _record(change: str, code: str, region: str, old: ProxyTable, new: ProxyTable,
            fields: list[str] | None = None) -> dict[str, Any]:
    ov, old_used, old_source = _resolved(old, code, region)
    nv, new_used, new_source = _resolved(new, code, region)
    factor = _to_old_prices(old, new)
    return {"change": change, "measure": code, "region": region,
            "old_value": math.nan if ov is None else ov,
            "new_value": math.nan if nv is None else nv,
            "pct_change": _pct(ov, nv),
            "real_pct_change": _pct(ov, None if nv is None or factor is None else nv * factor),
            "fields_changed": ", ".join(fields or []),
            "old_region_used": old_used, "new_region_used": new_used,
            "old_source": old_source, "new_source": new_source}


@own_decimal_context
def diff_tables(old: ProxyTable, new: ProxyTable) -> pd.DataFrame:
    """What changed from ``old`` to ``new``: one row per (measure, region) that differs.

    Columns: ``change`` (``added``, ``removed`` or ``changed``: whether the region has a proxy
    of its own in each edition; ``fallback``: a region with no proxy of its own on either side
    that now takes its value from another region, because the region tree changed
    (``fields_changed`` ``regions``) or a region it falls back through gained or lost a value
    of its own (``proxies``); ``table``:
    the one first row, when present, naming table-level fields that changed, such as
    ``regions``, ``parameters``, ``exclusions``, ``confidence_grades`` or ``sources``, which
    change valuations or provenance without any proxy changing: a one-value field with its
    old and new value, ``price_base_year (2024 -> 2025)``, and a list with the entries that
    came, went or changed, ``sources (added: ...; removed: ...; changed: ...)``), ``measure``,
    ``region``, ``old_value`` and ``new_value`` (the
    proxy, GBP per canonical unit, that the region gets in each edition: its own or, where it has
    none, its declared fallback's; NaN where the measure is absent or the region not declared),
    each in its own edition's prices (``price_base_year``), ``pct_change`` (the change in
    those prices: between editions a year apart it includes a year's inflation; NaN where
    either side is NaN or the old value is 0), ``real_pct_change`` (the change once the new
    value is stated in the old edition's prices with the new edition's price index, the
    ratio of the two years' index values: the change beyond general inflation as the GDP
    deflator measures it; equal to ``pct_change`` for one price base, NaN where no index of
    either edition has both years), ``fields_changed``
    (comma-separated: measure fields such as ``unit`` or ``deadweight``, proxy fields such
    as ``value``, ``source`` or ``illustrative``, a derivation with what in it changed,
    ``derivation (inputs: median_weekly_pay_ft)`` (the inputs whose figure changed, and
    ``formula``, ``low_formula``, ``high_formula`` or ``input_sources`` where those did),
    and ``proxies`` where a region's own proxy was added or removed), ``old_region_used``
    / ``new_region_used`` (the region whose proxy gives each value, ``""`` where there is
    none), and ``old_source`` / ``new_source`` (the id of the source each value cites, in
    that edition's ``sources``; ``""`` where there is none). So a region whose
    own value is dropped shows ``removed`` with the fallback value it now gets and the change.
    A measure added or removed gives one row per region it has a proxy for. Identical editions
    give an empty frame (the labels version, title and validity are not compared, nor the order
    in which measures, regions, sources or exclusions are listed). Rows are sorted by measure,
    then region, after the ``table`` row. ``old`` and ``new`` are :class:`ProxyTable` editions
    (``load_table("uk-national", version="2024")``); anything else is a :class:`TypeError`.

    >>> import socialvalue_tom as sv
    >>> diff = sv.diff_tables(sv.load_table("uk-national", version="2024"),
    ...                       sv.load_table("uk-national", version="2025"))
    >>> row = diff.set_index(["measure", "region"]).loc[("jobs-local-fte", "london")]
    >>> print(row["change"], row["old_value"], row["new_value"], f"{row['pct_change']:+.2f}%",
    ...       f"{row['real_pct_change']:+.2f}%", row["old_source"], row["new_source"])
    changed 47112.0 49816.0 +5.74% +2.42% nisra-ashe-2024 nisra-ashe-2025
    """
    for name, arg in (("old", old), ("new", new)):
        if not isinstance(arg, ProxyTable):
            raise TypeError(f"diff_tables() compares ProxyTable editions: {name} is "
                            f"{type(arg).__name__} (load one with sv.load_table(...))")
    rows: list[dict[str, Any]] = _table_rows(old, new)
    for code in sorted(set(old.measures) | set(new.measures)):
        rows += _measure_rows(code, old, new)
    frame = pd.DataFrame.from_records(rows, columns=DIFF_COLUMNS)
    frame["old_value"] = frame["old_value"].astype("float64")
    frame["new_value"] = frame["new_value"].astype("float64")
    frame["pct_change"] = frame["pct_change"].astype("float64")
    frame["real_pct_change"] = frame["real_pct_change"].astype("float64")
    return frame
