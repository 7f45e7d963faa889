"""Portfolio analysis of valued outcomes: totals by group, targets vs delivered, HTML reports.

Works on the output of :func:`socialvalue_tom.frame.value_frame`. Amounts stay floats until they
are reported; every total here is rounded to the penny once, with :func:`socialvalue_tom.money.total`
(a :class:`~decimal.Decimal`). Charts use matplotlib (the ``report`` extra), imported only when a
report is rendered.

Examples:
    >>> import pandas as pd
    >>> valued = pd.DataFrame({"theme": ["jobs", "jobs", "environment"],
    ...                        "value_gbp": [100.005, 50.0, -25.0]})
    >>> summarise(valued, by="theme")[["theme", "rows", "net_gbp"]].to_dict("records")
    [{'theme': 'environment', 'rows': 1, 'net_gbp': Decimal('-25.00')}, {'theme': 'jobs', 'rows': 2, 'net_gbp': Decimal('150.01')}]
"""  # noqa: E501

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib
import io
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom.errors import RuleError
from socialvalue_tom.money import format_gbp, total
from socialvalue_tom.tables.table import ProxyTable, normalise_region

__all__ = [
    "GROUPS",
    "annotate",
    "editions_used",
    "import_extra",
    "render_report",
    "report_html",
    "summarise",
    "targets_vs_delivered",
]

#: Short grouping names accepted by :func:`summarise` and the CLI's ``--by``, and their columns.
GROUPS = {"theme": "theme", "measure": "measure", "supplier": "supplier_id",
          "contract": "contract_id", "region": "region", "year": "year"}


def import_extra(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or raise an :class:`ImportError` naming the extra to install.

    Examples:
        >>> import_extra("math", "report").__name__
        'math'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed for this feature but is not installed: "
            f"pip install 'socialvalue_tom[{extra}]'") from exc


# -- annotation --------------------------------------------------------------------------------

def _editions(valued: pd.DataFrame, tables: Any) -> dict[tuple[str, str], ProxyTable]:
    """The table editions behind ``valued``: ``tables``, else those recorded in ``attrs``.

    ``value_frame`` records ``{"name:version": digest}``; embedded editions are found by name and
    checked against the digest. A user's own table file cannot be found again: pass ``tables=``.
    """
    from socialvalue_tom.engine import table_set

    if tables is not None:
        return {(t.name, t.version): t for t in table_set(tables).editions}
    recorded = valued.attrs.get("socialvalue_tom", {}).get("editions", {})
    found = {}
    for label, mark in recorded.items():
        name, _, version = str(label).partition(":")
        table = _recorded_edition(name, version, str(mark))
        if table is None:
            raise ValueError(f"cannot find table edition {label} that valued these rows: "
                             "pass tables= (the family name, table or editions used)")
        found[(name, version)] = table
    if not found:
        raise ValueError("cannot tell which table editions valued these rows: pass tables=")
    return found


def _recorded_edition(name: str, version: str, mark: str) -> ProxyTable | None:
    """An edition recorded as a digest (embedded tables) or as a file path."""
    from socialvalue_tom.errors import SocialValueError
    from socialvalue_tom.tables.catalogue import load_table

    try:
        if mark and Path(mark).suffix in (".yaml", ".yml") and Path(mark).is_file():
            return load_table(path=mark)
        table = load_table(name, version=version)
    except SocialValueError:
        return None
    return table if table.digest == mark else None


def annotate(valued: pd.DataFrame, tables: Any = None) -> pd.DataFrame:
    """Add ``theme``, ``title``, ``value_type``, ``canonical_unit`` and ``illustrative`` columns.

    ``tables`` (a family name, :class:`ProxyTable` or editions) says which tables valued the
    rows; by default the editions recorded by ``value_frame`` in ``valued.attrs`` are used.
    Rows that were not valued get missing values.
    """
    out = valued.copy(deep=False)
    out.attrs = dict(valued.attrs)
    need = ["table", "version", "measure", "region_used"]
    if {"theme", "canonical_unit", "illustrative"} <= set(valued.columns):
        return out
    eds = _editions(valued, tables)
    keys = _bare(valued)[need].astype(object)
    info: dict[str, list[Any]] = {"theme": [], "title": [], "value_type": [],
                                  "canonical_unit": [], "illustrative": []}
    cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for key in keys.itertuples(index=False, name=None):
        if key not in cache:
            cache[key] = _measure_info(eds, key)
        for name, val in zip(info, cache[key], strict=True):
            info[name].append(val)
    for name, vals in info.items():
        if name not in out.columns:
            out[name] = pd.Series(vals, index=valued.index, dtype=object)
    return out


def _measure_info(eds: dict[tuple[str, str], ProxyTable], key: tuple[Any, ...]) -> tuple[Any, ...]:
    table, version, measure, region = key
    t = eds.get((str(table), str(version))) if not pd.isna(table) else None
    if t is None or measure not in t.measures:
        return (None, None, None, None, None)
    spec = t.measures[measure]
    pv = spec.proxies.get(str(region))
    return (spec.theme, spec.title, spec.value_type, spec.unit,
            bool(pv.illustrative) if pv else None)


def _financial_year(dates: pd.Series) -> pd.Series:
    day = pd.to_datetime(dates, errors="coerce")
    year = day.dt.year - (day.dt.month < 4).astype("Int64")
    return year.astype("Int64")


def _grouping_frame(valued: pd.DataFrame, keys: list[str], tables: Any) -> pd.DataFrame:
    cols = [GROUPS.get(k, k) for k in keys]
    frame = valued
    if "theme" in cols and "theme" not in valued.columns:
        frame = annotate(valued, tables)
    frame = frame.copy(deep=False)
    if "year" in cols and "year" not in valued.columns:
        frame["year"] = _financial_year(valued["date"])
    if "region" in cols:
        frame["region"] = valued["region"].map(
            lambda r: normalise_region(r) if isinstance(r, str) else r)
    missing = [k for k, c in zip(keys, cols, strict=True) if c not in frame.columns]
    if missing:
        raise ValueError(f"cannot group by {', '.join(missing)}: the input has no "
                         f"{', '.join(GROUPS.get(k, k) for k in missing)} column")
    return frame


# -- summaries ---------------------------------------------------------------------------------

def _contract_values(frame: pd.DataFrame) -> pd.Series | None:
    """Each contract's value, once (``None`` without contract_id and contract_value columns)."""
    if "contract_value" not in frame.columns or "contract_id" not in frame.columns:
        return None
    cv = frame[["contract_id", "contract_value"]].dropna()
    cv = cv.assign(contract_value=pd.to_numeric(cv["contract_value"], errors="coerce")).dropna()
    spread = cv.groupby("contract_id", sort=False)["contract_value"].nunique()
    if (spread > 1).any():
        bad = spread[spread > 1].index[0]
        raise RuleError(f"contract {bad!r} has more than one contract_value: give each "
                        "contract one value", field="contract_value", contract_id=bad)
    return cv.drop_duplicates("contract_id").set_index("contract_id")["contract_value"]


def _row(values: np.ndarray, contracts: Sequence[Any], cv: pd.Series | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rows": int(values.size),
        "benefits_gbp": total(values[values > 0].tolist()),
        "disbenefits_gbp": total(values[values < 0].tolist()),
        "net_gbp": total(values.tolist()),
    }
    if cv is not None:
        ids = [c for c in dict.fromkeys(contracts) if c in cv.index]
        value = math.fsum(float(cv[c]) for c in ids)
        row["contract_value_gbp"] = total([value])
        row["sv_ratio"] = float(row["net_gbp"]) / value if value > 0 else math.nan
    return row


def summarise(valued: pd.DataFrame, by: str | Sequence[str] = ("theme",), *,
              tables: Any = None) -> pd.DataFrame:
    """Totals per group, rounded to the penny at the edge.

    ``by`` names groups: ``theme``, ``measure``, ``supplier`` (column ``supplier_id``),
    ``contract`` (``contract_id``), ``region`` (the region requested, normalised), ``year``
    (UK financial year of ``date``) or any column; ``by=()`` gives one overall row. Returns one
    row per group with ``rows`` (valued rows), ``benefits_gbp``, ``disbenefits_gbp`` (negative)
    and ``net_gbp`` as :class:`~decimal.Decimal`. ``net_gbp`` is the exactly rounded sum of all
    amounts, so it can differ by a penny from ``benefits_gbp + disbenefits_gbp``.

    When ``contract_id`` and ``contract_value`` columns are present, adds
    ``contract_value_gbp`` (each contract's value counted once per group) and ``sv_ratio``
    (net social value per GBP of contract value). Rows that were not valued (``value_gbp``
    missing) are left out. ``theme`` is looked up in the tables (see :func:`annotate`).

    Examples:
        >>> df = pd.DataFrame({"supplier_id": ["a", "a", "b"], "contract_id": ["c1", "c1", "c2"],
        ...                    "contract_value": [1000.0, 1000.0, 500.0],
        ...                    "value_gbp": [300.0, -50.0, 100.0]})
        >>> s = summarise(df, by="supplier")
        >>> s[["supplier_id", "net_gbp", "sv_ratio"]].to_dict("records")
        [{'supplier_id': 'a', 'net_gbp': Decimal('250.00'), 'sv_ratio': 0.25}, {'supplier_id': 'b', 'net_gbp': Decimal('100.00'), 'sv_ratio': 0.2}]
    """  # noqa: E501
    keys = [by] if isinstance(by, str) else list(by)
    frame = _bare(_grouping_frame(valued, keys, tables))
    cols = [GROUPS.get(k, k) for k in keys]
    ok = frame[pd.to_numeric(frame["value_gbp"], errors="coerce").notna()]
    cv = _contract_values(ok)
    contracts = ok["contract_id"] if cv is not None else pd.Series(None, index=ok.index)
    records = []
    groups = (ok.groupby(cols, sort=True, observed=True, dropna=False) if cols
              else [((), ok)])
    for key, g in groups:
        values = g["value_gbp"].to_numpy(dtype=np.float64)
        row = dict(zip(cols, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(_row(values, contracts.loc[g.index].tolist(), cv))
        records.append(row)
    columns = [*cols, "rows", "benefits_gbp", "disbenefits_gbp", "net_gbp"]
    if cv is not None:
        columns += ["contract_value_gbp", "sv_ratio"]
    return pd.DataFrame.from_records(records, columns=columns)


def targets_vs_delivered(valued: pd.DataFrame, *, by_measure: bool = False,
                         tables: Any = None) -> pd.DataFrame:
    """Committed vs delivered social value per contract, with the shortfall.

    Needs ``contract_id`` and ``stage`` (``commitment`` or ``delivered``) columns. Returns one row
    per contract (per contract and measure with ``by_measure=True``, which adds the
    ``unit`` and ``committed_quantity``/``delivered_quantity`` in the measure's canonical unit,
    looked up as in :func:`annotate`)
    with ``committed_gbp``, ``delivered_gbp``, ``shortfall_gbp`` (committed minus delivered,
    never below zero; :class:`~decimal.Decimal`) and ``delivered_pct``.

    Examples:
        >>> df = pd.DataFrame({"contract_id": ["c1", "c1"], "stage": ["commitment", "delivered"],
        ...                    "value_gbp": [1000.0, 750.0]})
        >>> targets_vs_delivered(df)[["contract_id", "shortfall_gbp", "delivered_pct"]].to_dict("records")
        [{'contract_id': 'c1', 'shortfall_gbp': Decimal('250.00'), 'delivered_pct': 75.0}]
    """  # noqa: E501
    missing = [c for c in ("contract_id", "stage", "value_gbp") if c not in valued.columns]
    if missing:
        raise ValueError(f"targets vs delivered needs column(s) {', '.join(missing)}")
    if by_measure and "canonical_quantity" not in valued.columns:
        raise RuleError("quantities per measure need canonical_quantity: value the outcomes "
                        "with value_frame(..., detail=True)", field="canonical_quantity")
    if by_measure and "canonical_unit" not in valued.columns:
        valued = annotate(valued, tables)
    valued = _bare(valued)
    ok = valued[pd.to_numeric(valued["value_gbp"], errors="coerce").notna()]
    keys = ["contract_id", "measure"] if by_measure else ["contract_id"]
    records = []
    for key, g in ok.groupby(keys, sort=True, observed=True):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        com, dlv = g[g["stage"] == "commitment"], g[g["stage"] == "delivered"]
        if by_measure:
            row["unit"] = _canonical_unit(g)
            row["committed_quantity"] = math.fsum(_quantity(com))
            row["delivered_quantity"] = math.fsum(_quantity(dlv))
        c_gbp, d_gbp = total(com["value_gbp"].tolist()), total(dlv["value_gbp"].tolist())
        row.update(committed_gbp=c_gbp, delivered_gbp=d_gbp,
                   shortfall_gbp=max(c_gbp - d_gbp, Decimal("0.00")),
                   delivered_pct=float(d_gbp / c_gbp * 100) if c_gbp > 0 else math.nan)
        records.append(row)
    extra = ["unit", "committed_quantity", "delivered_quantity"] if by_measure else []
    return pd.DataFrame.from_records(records, columns=[
        *keys, *extra, "committed_gbp", "delivered_gbp", "shortfall_gbp", "delivered_pct"])


def _quantity(g: pd.DataFrame) -> list[float]:
    return [float(x) for x in pd.to_numeric(g["canonical_quantity"], errors="coerce").dropna()]


def _canonical_unit(g: pd.DataFrame) -> str:
    units = g["canonical_unit"].dropna()
    return str(units.iloc[0]) if len(units) else ""


# -- HTML report -------------------------------------------------------------------------------

def _chart(labels: list[str], values: list[float], title: str) -> str:
    """A horizontal bar chart as a base64 PNG ``<img>`` tag (matplotlib, Agg backend)."""
    mpl = import_extra("matplotlib", "report")
    mpl.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * max(len(labels), 1)), dpi=100)
    colours = ["#2a7f62" if v >= 0 else "#b5473a" for v in values]
    ax.barh(labels, values, color=colours)
    ax.invert_yaxis()
    ax.set_xlabel("GBP")
    ax.set_title(title)
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda x, _: f"£{x:,.0f}"))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _cell(x: Any) -> str:
    if isinstance(x, Decimal):
        return format_gbp(x)
    if isinstance(x, float):
        return "" if math.isnan(x) else f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.2f}"
    return html.escape("" if x is None or x is pd.NA else str(x))


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(x)}</td>" for x in row) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _caveats(frame: pd.DataFrame, issues: pd.DataFrame | None) -> list[str]:
    notes = []
    ok = frame[pd.to_numeric(frame["value_gbp"], errors="coerce").notna()]
    illus = ok[ok["illustrative"].astype("boolean").fillna(False)]
    if len(illus):
        notes.append(
            f"{len(illus)} of {len(ok)} valued rows ({format_gbp(total(illus['value_gbp']))}) use "
            "proxy values labelled <strong>illustrative</strong>: they are placeholders, not for "
            "decisions.")
    if issues is not None and len(issues):
        notes.append(f"{len(issues)} problem(s) in the input: those rows were not valued and "
                     "are left out of every total.")
    notes.append("Values are estimates of social value from open proxies after deadweight, "
                 "displacement, attribution and drop-off; they are not cash.")
    return notes


def editions_used(valued: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (table, version, digest) triples of the valued rows, sorted.

    Examples:
        >>> editions_used(pd.DataFrame({"table": ["t", "t", None], "version": ["1", "1", None],
        ...                             "digest": ["ab", "ab", None]}))
        [('t', '1', 'ab')]
    """
    cols = [valued[c].tolist() for c in ("table", "version", "digest")]
    return sorted({(str(t), str(v), str(d)) for t, v, d in zip(*cols, strict=True)
                   if not (pd.isna(t) or pd.isna(v) or pd.isna(d))})


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs``.

    ``value_frame`` keeps a DataFrame of issues in ``attrs``; pandas compares attrs with ``==``
    when it combines frames (concat, multi-column astype), which fails on a DataFrame.
    """
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
.caveats{background:#fff6e0;border-left:4px solid #e0a000;padding:0.5em 1em}
.headline{font-size:1.4em}code{font-size:0.85em}img{max-width:100%}"""


def report_html(valued: pd.DataFrame, *, title: str = "Social value report",
                tables: Any = None) -> str:
    """A self-contained HTML report of valued outcomes (no external files or network).

    Sections: headline totals; totals and a chart by theme; by supplier (when ``supplier_id``
    is present); targets vs delivered per contract (when ``contract_id`` and ``stage`` are
    present); the table editions and digests used; caveats, including a warning when values
    labelled illustrative were used. Issues in ``valued.attrs["issues"]`` are counted.
    """
    frame = annotate(valued, tables)
    issues = valued.attrs.get("issues")
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>Generated {dt.date.today().isoformat()} by socialvalue_tom.</p>"]
    overall = summarise(frame, by=())
    if len(overall):
        net = overall["net_gbp"].iloc[0]
        parts.append(f'<p class="headline">Net social value: <strong>{format_gbp(net)}'
                     f"</strong> from {overall['rows'].iloc[0]} outcomes.</p>")
    parts.append('<h2>Caveats</h2><div class="caveats"><ul>' + "".join(
        f"<li>{c}</li>" for c in _caveats(frame, issues)) + "</ul></div>")
    parts += _section(frame, "theme", "By theme")
    if "supplier_id" in frame.columns:
        parts += _section(frame, "supplier", "By supplier")
    if {"contract_id", "stage"} <= set(frame.columns):
        tvd = targets_vs_delivered(frame)
        tvd["delivered_pct"] = [f"{x:.1f}%" if not math.isnan(x) else ""
                                for x in tvd["delivered_pct"]]
        parts += ["<h2>Targets vs delivered</h2>", _table(tvd)]
    eds = pd.DataFrame(editions_used(frame), columns=["table", "version", "digest"])
    parts += ["<h2>Editions used</h2>", _table(eds)]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _section(frame: pd.DataFrame, by: str, heading: str) -> list[str]:
    s = summarise(frame, by=by)
    col = GROUPS[by]
    chart = _chart([str(x) for x in s[col]], [float(x) for x in s["net_gbp"]],
                   f"Net social value {heading.lower()}")
    return [f"<h2>{heading}</h2>", _table(s), chart]


def render_report(valued: pd.DataFrame, path: str | Path, *, title: str = "Social value report",
                  tables: Any = None) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(report_html(valued, title=title, tables=tables), encoding="utf-8")
    return out
