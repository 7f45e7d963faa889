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
import io
import math
import os
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from socialvalue_tom._args import flag, text
from socialvalue_tom._args import frame as a_frame  # "frame" names many locals here
from socialvalue_tom._attrs import own_attrs
from socialvalue_tom._bulk.lookups import _aware, _wall_clock
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._extras import import_extra
from socialvalue_tom._text import (
    NotAValue,
    cell_codes,
    cells,
    control_character,
    did_you_mean,
    financial_year_text,
    group_label,
    group_labels,
    id_likeness,
    is_missing,
    key_text,
    key_texts,
    label_apart,
    shown,
    significant,
    stripped,
    stripped_column,
)
from socialvalue_tom._version import __version__
from socialvalue_tom._workbook import source_date_epoch
from socialvalue_tom.engine import TablesLike
from socialvalue_tom.errors import (
    OutcomeError,
    RuleError,
    SocialValueError,
    SocialValueWarning,
    outside_stacklevel,
)
from socialvalue_tom.frame import refuse_index_columns, unread_periods
from socialvalue_tom.money import format_gbp, total
from socialvalue_tom.outcome import (
    MAX_CONTRACT_VALUE,
    MIN_CONTRACT_VALUE,
    financial_year,
    proxy_bound,
    to_day,
)
from socialvalue_tom.periods import PERIODS_ATTR
from socialvalue_tom.tables.schema import STANDARD_COLUMNS, WRITTEN_COLUMNS
from socialvalue_tom.tables.table import ProxyTable, normalise_region

__all__ = [
    "GROUPS",
    "annotate",
    "basis_notes",
    "editions_used",
    "import_extra",
    "input_rows",
    "ratio_spread_note",
    "render_report",
    "report_html",
    "source_notes",
    "summarise",
    "targets_vs_delivered",
    "year_labels",
]

#: Short grouping names accepted by :func:`summarise` and the CLI's ``--by``, and their columns.
GROUPS = {"theme": "theme", "measure": "measure", "supplier": "supplier_id",
          "contract": "contract_id", "region": "region", "year": "year",
          "quarter": "quarter", "stage": "stage",
          "value_type": "value_type", "methodology": "methodology"}
#: The columns of a ``value_frame`` result that say which table entry valued each row.
_VALUED_COLUMNS = ("table", "version", "measure", "region_used")
#: The columns :func:`annotate` derives from the tables.
_INFO_COLUMNS = ("theme", "title", "value_type", "methodology", "canonical_unit",
                 "illustrative")
#: Groups looked up in the tables (never taken from the input).
_TABLE_GROUPS = ("theme", "value_type", "methodology")
_META = "socialvalue_tom"


# -- annotation --------------------------------------------------------------------------------

def _editions(valued: pd.DataFrame, tables: TablesLike | None) -> dict[tuple[str, str], ProxyTable]:
    """The table editions behind ``valued``: ``tables``, else those recorded in ``attrs``.

    ``value_frame`` records ``{"name:version": digest}``; embedded editions are found by name and
    checked against the digest, and an edition built in memory (``amend_table``) by its digest
    while it is in use, as ``explain_row`` finds it. Otherwise a user's own table cannot be
    found again: pass ``tables=``.
    """
    from socialvalue_tom.engine import table_set

    if tables is not None:
        given = {(t.name, t.version): t for t in table_set(tables).editions}
        used = _edition_labels(valued)
        if used - set(given):
            lacking = ", ".join(sorted(f"{n}:{v}" for n, v in used - set(given)))
            # Its rows would get no theme (nor title, region...) and gather under "(none)".
            raise RuleError(f"tables= lacks edition(s) {lacking} that valued these rows: pass "
                            "the family name or every edition used", field="tables")
        return given
    recorded = valued.attrs.get("socialvalue_tom", {}).get("editions", {}) or _digest_column(
        valued)
    found = {}
    for label, mark in recorded.items():
        name, _, version = str(label).partition(":")
        table = _recorded_edition(name, version, str(mark))
        if table is None:
            raise RuleError(f"cannot find table edition {label} that valued these rows: "
                            "pass tables= as given to value_frame (the family name, or the "
                            "table or editions used: a table of your own, an amended edition, "
                            "is not found by its family name)", field="tables", edition=label)
        found[(name, version)] = table
    if not found:
        raise RuleError("cannot tell which table editions valued these rows: pass tables=",
                        field="tables")
    return found


def _digest_column(valued: pd.DataFrame) -> dict[str, str]:
    """``{"name:version": digest}`` from the rows' own ``table``, ``version`` and ``digest``
    columns: how a frame read back from a file (its ``attrs`` gone) names its editions, each
    then found by name and checked against its digest, as a recorded one is."""
    if not {"table", "version", "digest"} <= set(valued.columns):
        return {}
    rows = _bare(valued)[["table", "version", "digest"]].dropna().drop_duplicates()
    found: dict[str, set[str]] = {}
    for t, v, d in rows.itertuples(index=False, name=None):
        digest = re.sub(r"(?i)^sha256:", "", str(d).strip()).lower()
        if digest and _label_text(t):  # a row not valued names no edition (blank, read so)
            found.setdefault(f"{_label_text(t)}:{_label_text(v)}", set()).add(digest)
    for label, digests in found.items():
        # Cells of a file are data: only a content digest is looked up (a path there would
        # have the report load whatever table file it names), and one per edition.
        odd = sorted(d for d in digests if not _DIGEST.fullmatch(d))
        if odd:
            raise RuleError(f"the rows of {label} give {odd[0]!r} as their digest, not a "
                            "content digest (64 hex digits): pass tables=", field="digest",
                            edition=label)
        if len(digests) > 1:
            raise RuleError(f"the rows of {label} give {len(digests)} different digests "
                            f"({', '.join(sorted(d[:12] for d in digests))}): one edition has "
                            "one digest; pass tables=", field="digest", edition=label)
    return {label: digests.pop() for label, digests in found.items()}


#: A content digest as a valued file's digest column writes it (read in lower case).
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _edition_labels(valued: pd.DataFrame) -> set[tuple[str, str]]:
    """The (table, version) pairs of the rows ``valued`` values (rows not valued have none)."""
    if not {"table", "version"} <= set(valued.columns):
        return set()
    pairs = _bare(valued)[["table", "version"]].dropna().drop_duplicates()
    # Read as the lookups read them: a version read back from a file as 2024.0 is 2024.
    return {(_label_text(t), _label_text(v)) for t, v in pairs.itertuples(index=False, name=None)}


def _label_text(value: Any) -> str:
    """A table name or version as text (2024.0, read back from a CSV file, is "2024")."""
    text = key_text(value)
    return "" if text is None else text


def _recorded_edition(name: str, version: str, mark: str) -> ProxyTable | None:
    """An edition recorded as a digest (embedded tables, or one value_frame used in this
    process while it is in use) or as a file path."""
    from socialvalue_tom.explain import remembered_edition
    from socialvalue_tom.tables.catalogue import load_table

    try:
        if mark and Path(mark).suffix in (".yaml", ".yml") and Path(mark).is_file():
            return load_table(path=mark)
        table: ProxyTable | None = load_table(name, version=version)
    except SocialValueError:
        table = None
    if table is not None and table.digest == mark:
        return table
    # An edition built in memory (an amend_table result) is found by its digest while it is
    # in use, as explain_row finds it (a notebook analyst's review: summarise asked for
    # tables= where explain_row found it); it must bear the label recorded with the digest.
    found = remembered_edition(mark)
    if found is None or (found.name, found.version) != (name, version):
        return None
    return found


@own_decimal_context
def annotate(valued: pd.DataFrame, tables: TablesLike | None = None) -> pd.DataFrame:
    """Add ``theme``, ``title``, ``value_type``, ``methodology``, ``canonical_unit`` and
    ``illustrative`` columns.

    ``tables`` (a family name, :class:`ProxyTable` or editions) says which tables valued the
    rows; by default the editions recorded by ``value_frame`` in ``valued.attrs`` are used.
    The columns always come from the tables: input columns of those names (a supplier's own
    ``theme`` or ``illustrative``, say) are replaced. Rows that were not valued get the theme,
    value type and methodology of their measure when the editions used agree on them, and
    missing values otherwise (and for the title, unit and illustrative mark). Needs the
    ``table``, ``version``, ``measure`` and ``region_used`` columns of a ``value_frame``
    result (:class:`~socialvalue_tom.OutcomeError` otherwise, as ``summarise`` raises;
    :class:`TypeError` for anything but a DataFrame).
    """
    # The columns it looks up are read too: one held as the index is told so, with the
    # df.reset_index() that mends it, as for contract_id (a notebook analyst's review).
    _need(valued, (), "annotate", reads=_VALUED_COLUMNS)
    missing = [c for c in _VALUED_COLUMNS if c not in valued.columns]
    if missing:
        raise OutcomeError(f"annotate needs the result of value_frame: column(s) "
                        f"{', '.join(missing)} are missing", field=missing[0])
    eds = _editions(valued, tables)
    # Looked up once per distinct (table, version, measure, region) and spread by position: a
    # million rows hold a few hundred keys. cell_codes reads a list or dict in a cell (a row
    # value_frame reported) as a value no lookup accepts, never a crash.
    bare = _bare(valued)
    found = [cell_codes(bare[c]) for c in _VALUED_COLUMNS]
    key_of_row, first = _key_codes([codes for codes, _ in found], len(valued))
    info = [_measure_info(eds, tuple(None if codes[i] < 0 else uniq[codes[i]]
                                     for codes, uniq in found))
            for i in first.tolist()]
    added = {}
    for j, name in enumerate(_INFO_COLUMNS):
        per_key = np.array([row[j] for row in info], dtype=object)
        added[name] = pd.Series(per_key[key_of_row], index=valued.index, dtype=object)
    # One concat, not a column set at a time: on a wide frame (hundreds of columns) pandas
    # warns that the frame is fragmented at each insert. Existing columns are replaced.
    kept = bare.drop(columns=[c for c in added if c in bare.columns])
    out = pd.concat([kept, pd.DataFrame(added, index=valued.index)], axis=1)
    out.attrs = own_attrs(valued.attrs, share=("issues",))
    meta = valued.attrs.get(_META)
    # Marks the columns as derived, so summarise and the report need not look the tables up
    # again; value_frame replaces this entry, so a re-valued frame is annotated afresh.
    out.attrs[_META] = {**(meta if isinstance(meta, dict) else {}), "annotated": True}
    return out


#: The most distinct keys :func:`_key_codes` packs into one int64 before re-coding them densely.
_KEY_SPAN = 2**62


def _key_codes(columns: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """One code per row for the combination of its column codes (-1 missing), and a row
    position of each distinct combination."""
    if not n:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    combined = np.zeros(n, dtype=np.int64)
    span = 1  # every code of combined is below span: a Python int, so never overflows
    for codes in columns:  # mixed radix: each column's codes (with -1 as 0) in its own digit
        width = int(codes.max()) + 2
        if span * width > _KEY_SPAN:
            # Re-coded densely (fewer than n codes) only where the next digit would overflow:
            # a hash of every row per column cost about 0.1 s a million rows each, and the
            # codes below depend only on which rows are alike, not on how they are numbered.
            combined, distinct = pd.factorize(combined)
            combined, span = combined.astype(np.int64), len(distinct)
        combined = combined * width + (codes + 1)
        span *= width
    key_of_row, distinct = pd.factorize(combined)
    first = np.zeros(len(distinct), dtype=np.intp)
    first[key_of_row[::-1]] = np.arange(n - 1, -1, -1)  # the first row of each key
    return key_of_row.astype(np.intp), first


def _with_info(valued: pd.DataFrame, column: str, tables: TablesLike | None) -> pd.DataFrame:
    """``valued`` with :func:`annotate`'s columns derived from the tables.

    A frame :func:`annotate` made is kept as it is while it holds all of annotate's columns
    (one that lost some, ``illustrative`` say, to a selection of columns is annotated again: the
    report would otherwise take its rows as not illustrative). A frame the caller built without
    the ``value_frame`` columns keeps its own ``column`` (it has no table entries to look up).
    """
    looked_up = set(_VALUED_COLUMNS) <= set(valued.columns)
    if _recorded(valued, "annotated") and (set(_INFO_COLUMNS) <= set(valued.columns)
                                           or not looked_up):
        return valued
    if column in valued.columns and not looked_up:
        return valued
    return annotate(valued, tables)


def _unvalued_info(eds: dict[tuple[str, str], ProxyTable], code: str) -> tuple[Any, ...]:
    """A row that was not valued has no edition: its measure's theme, value type and
    methodology when every edition used that holds the code agrees on them (so a rejected row
    counts under its theme, as under its measure), nothing of its proxy (no title, unit or
    illustrative mark: no value was taken from a table)."""
    found = {(t.measures[code].theme, t.measures[code].value_type,
              t.measures[code].methodology) for t in eds.values() if code in t.measures}
    if len(found) != 1:
        return (None,) * len(_INFO_COLUMNS)
    theme, value_type, methodology = found.pop()
    return (theme, None, value_type, methodology, None, None)


def _measure_info(eds: dict[tuple[str, str], ProxyTable], key: tuple[Any, ...]) -> tuple[Any, ...]:
    table, version, measure, region = key
    t = eds.get((_label_text(table), _label_text(version))) if not pd.isna(table) else None
    code = stripped(measure)  # value_frame looked the code up stripped
    if t is None and isinstance(code, str):
        return _unvalued_info(eds, code)
    if t is None or not isinstance(code, str) or code not in t.measures:
        return (None,) * len(_INFO_COLUMNS)
    spec = t.measures[code]
    pv = spec.proxies.get(str(region))
    return (spec.theme, spec.title, spec.value_type, spec.methodology, spec.unit,
            bool(pv.illustrative) if pv else None)


def _financial_year(dates: pd.Series) -> pd.Series:
    """UK financial year of each date, each read as value_frame reads it (stripped
    ``YYYY-MM-DD`` text, a date, a datetime's own date); NA where there is no such date."""
    codes, days = _distinct_days(dates)
    years = pd.array([*(None if d is None else financial_year(d) for d in days), None],
                     dtype="Int64")
    return pd.Series(years[codes], index=dates.index)


def _financial_quarter(dates: pd.Series) -> pd.Series:
    """UK financial quarter of each date as text that sorts in time order (``2024/25 Q1`` is
    April to June 2024, ``Q4`` January to March), each date read as value_frame reads it; None
    where there is no such date."""
    codes, days = _distinct_days(dates)
    labels = np.array([*(None if d is None else
                         f"{financial_year_text(financial_year(d))} Q{(d.month - 4) % 12 // 3 + 1}"
                         for d in days), None], dtype=object)
    return pd.Series(labels[codes], index=dates.index, dtype=object)


def _quarters_spanned(valued: pd.DataFrame) -> int:
    """How many valued rows of ``valued``, parts apportioned by their periods
    (:func:`~socialvalue_tom.periods.apportion`), report a period running over more than one
    UK financial quarter: grouped by ``quarter``, each counts whole in the quarter of its date,
    its first day, as a period is split only where the editions change (1 April), never at a
    quarter's end. 0 for rows not apportioned."""
    read = valued.attrs.get(PERIODS_ATTR)
    if not isinstance(read, Mapping) or "value_gbp" not in valued.columns:
        return 0
    start, end = read.get("start"), read.get("end")
    if not isinstance(start, str) or not isinstance(end, str) or not {start, end} <= set(
            valued.columns):
        return 0
    first, last = _financial_quarter(valued[start]), _financial_quarter(valued[end])
    counted = pd.to_numeric(valued["value_gbp"], errors="coerce").notna()
    return int((counted & first.notna() & last.notna() & (first != last)).sum())


def _quarters_note(valued: pd.DataFrame) -> str | None:
    """What a total by quarter says of rows whose period spans quarters; None where none
    does."""
    spanned = _quarters_spanned(valued)
    if not spanned:
        return None
    return (f"{spanned:,} valued row(s) report a period running over more than one financial "
            "quarter: each counts whole in the quarter of its first day (a period is split "
            "only where its editions change, not at a quarter's end), so the quarters' "
            "totals are not what was delivered in each; "
            "give a row per quarter for totals by quarter")


def _distinct_days(dates: pd.Series) -> tuple[np.ndarray, list[dt.date | None]]:
    """Each date's code (-1 for a missing one) and the distinct days the codes index, each
    cell read as value_frame reads it and worked out once per distinct value."""
    # Each distinct cell read once: a text column of a million dates holds about a thousand
    # (a call per cell cost about a second a million rows). Equal instants in different zones are
    # one value to factorize, but not one day: where a cell is a timezone-aware datetime,
    # each is put on its own wall clock first.
    codes, found = pd.factorize(dates if isinstance(dates.dtype, pd.StringDtype)
                                else dates.astype(object), use_na_sentinel=True)
    uniq = np.asarray(found, dtype=object)
    if any(_aware(u) for u in uniq):
        codes, found = pd.factorize(dates.astype(object).map(_wall_clock), use_na_sentinel=True)
        uniq = np.asarray(found, dtype=object)
    return codes, [_day_or_none(u) for u in uniq]


def _day_or_none(value: Any) -> dt.date | None:
    """``value`` as value_frame reads a date (None where it does not read as one; NaT too)."""
    try:
        day = to_day(value)
    except (ValueError, TypeError):
        return None
    return day if isinstance(day, dt.date) else None


def _known_editions(valued: pd.DataFrame, tables: TablesLike | None,
                    ) -> dict[tuple[str, str], ProxyTable]:
    """The editions behind ``valued``, or none when it was not valued by known tables.

    Only editions recorded in ``attrs`` may be missing without an error: tables the caller
    names must be found.
    """
    if not {"table", "version"} <= set(valued.columns):
        return {}
    if tables is not None:
        return _editions(valued, tables)
    try:
        return _editions(valued, None)
    except SocialValueError:
        return {}


def _regions(valued: pd.DataFrame, tables: TablesLike | None) -> pd.Series:
    """Each row's region as a group key: the region code the row's edition resolves ("UK" and
    "United Kingdom" are both ``uk``) when the tables are known, else the normalised text."""
    eds = _known_editions(valued, tables)
    cache: dict[tuple[Any, Any, Any], Any] = {}
    keys = []
    for key in _bare(valued)[["table", "version", "region"] if eds else ["region"]].astype(
            object).itertuples(index=False, name=None):
        if key not in cache:
            cache[key] = _region_key(eds, key)
        keys.append(cache[key])
    return pd.Series(keys, index=valued.index, dtype=object)


def _region_key(eds: dict[tuple[str, str], ProxyTable], key: tuple[Any, ...]) -> Any:
    *edition, region = key
    if not isinstance(region, str):
        return region
    t = eds.get((_label_text(edition[0]), _label_text(edition[1]))) if edition else None
    # A row that was not valued has no edition: any known one reads its region's aliases
    # ("United Kingdom" is uk), as its valued neighbours' do.
    for reader in ([t] if t is not None else list(eds.values())):
        try:
            return reader.region_code(region)
        except SocialValueError:
            continue  # not a region of the table (a row that was not valued): group as text
    return normalise_region(region)


def _grouping_frame(valued: pd.DataFrame, keys: list[str],
                    tables: TablesLike | None) -> pd.DataFrame:
    """``valued`` with its group columns as the groups are defined (derived, not trusted)."""
    cols = [GROUPS.get(k, k) for k in keys]
    valued = _containers_as_text(valued, {*cols, "date", "region"})
    looked_up = [c for c in _TABLE_GROUPS if c in cols]
    frame = _with_info(valued, looked_up[0], tables) if looked_up else valued
    frame = frame.copy(deep=False)
    if "year" in cols and "date" in valued.columns:
        frame["year"] = _financial_year(valued["date"])
    if "quarter" in cols and "date" in valued.columns:
        frame["quarter"] = _financial_quarter(valued["date"])
    if "region" in cols and "region" in valued.columns:
        frame["region"] = _regions(valued, tables)
    for name in ("measure", "stage", "unit"):  # read as value_frame validated them
        if name in cols and name in valued.columns:
            frame[name] = stripped_column(valued[name])
    if "confidence" in cols and "confidence" in valued.columns:  # 3, 3.0 and "3" are one grade
        codes, uniq = cell_codes(valued["confidence"])
        texts = np.array([*(key_text(u) for u in uniq), None], dtype=object)
        frame["confidence"] = pd.Series(texts[codes], index=valued.index, dtype=object)
    missing = [k for k, c in zip(keys, cols, strict=True) if c not in frame.columns]
    if missing:
        needed = [_SOURCE_COLUMN.get(k, GROUPS.get(k, k)) for k in missing]
        # A grouping mistyped (themes) is told the named groupings, not only to add a column.
        unnamed = [k for k in missing if k not in GROUPS]
        named = ("" if not unnamed else
                 f" (groupings by name: {', '.join(GROUPS)}; or any column of the input)"
                 f"{did_you_mean(unnamed[0], [*GROUPS, *map(str, valued.columns)])}")
        raise OutcomeError(f"cannot group by {', '.join(map(str, missing))}: the input has no "
                           f"{', '.join(map(str, needed))} column{named}", field=needed[0])
    return frame


def _containers_as_text(valued: pd.DataFrame, names: set[str]) -> pd.DataFrame:
    """``valued`` with each cell of the columns ``names`` that holds a container (a list,
    dict, tuple or set: a row value_frame reported) replaced by its text, so that it is
    grouped as its text, never unpacked as a key of several columns nor a crash; worked out
    once per distinct value. The frame itself is returned when no cell holds one."""
    replaced: dict[str, pd.Series] = {}
    for name in names:
        if name not in valued.columns or valued[name].dtype != object:
            continue
        codes, uniq = cell_codes(valued[name])
        container = np.array([isinstance(u, NotAValue | tuple | frozenset | set)
                              for u in uniq] + [False])
        if container.any():
            text = np.array([str(u) for u in uniq] + [None], dtype=object)
            at = container[codes]
            replaced[name] = valued[name].where(~at, pd.Series(text[codes], index=valued.index))
    return valued.assign(**replaced) if replaced else valued


#: The input column a derived group is read from, for the error when it is missing.
_SOURCE_COLUMN = {"year": "date", "quarter": "date"}


def _need(valued: pd.DataFrame, columns: Sequence[str], what: str,
          reads: Sequence[str] = (), *, whole: bool = False) -> None:
    """:class:`OutcomeError` naming the columns of ``value_frame``'s result ``valued`` lacks,
    or holds as its index or twice among those ``what`` reads (``columns``, ``reads``, the
    contract and supplier keys, ``stage``, ``contract_value`` and the columns value_frame
    reads and writes); ``whole``: any column held twice (a reader of every column)."""
    a_frame(valued, what)
    # The columns that, held as the index, would be passed over without a word (a missing
    # one of ``columns`` is refused below anyway; this says why).
    refuse_index_columns(valued, what,
                         read=(*_KEYS, "stage", "contract_value", *columns, *reads))
    missing = [c for c in columns if c not in valued.columns]
    if missing:
        raise OutcomeError(f"{what} needs column(s) {', '.join(missing)}: pass the result of "
                           "value_frame", field=missing[0], columns=missing)
    twice = valued.columns[valued.columns.duplicated()].unique().tolist()
    if not whole:  # only those read: a note column kept twice, or one replaced, is no matter
        read = {*columns, *reads, *_KEYS, "stage", "contract_value", *STANDARD_COLUMNS,
                *WRITTEN_COLUMNS}
        twice = [c for c in twice if c in read]
    if twice:  # value_frame refuses them in its input; one added since is as ambiguous
        raise OutcomeError(f"{what} reads a frame with duplicated column(s) "
                           f"{', '.join(map(str, twice))}: which would be read? Drop or "
                           "rename one", field=str(twice[0]), columns=twice)


# -- summaries ---------------------------------------------------------------------------------

def _contract_values(frame: pd.DataFrame) -> pd.Series | None:
    """Each contract's value, once (``None`` without contract_id and contract_value columns).

    Read from every row, valued or not: a row that was not valued still says what its
    contract is worth, and must not contradict another row unnoticed. Values value_frame
    refuses (not a number from a penny to £1e15) are left out: it reports those rows as
    issues.
    """
    if "contract_value" not in frame.columns or "contract_id" not in frame.columns:
        return None
    from socialvalue_tom._bulk.lookups import cell_floats

    # As value_frame reads the cell (booleans are not numbers; numeric text is).
    value = pd.Series(cell_floats(frame["contract_value"])[0], index=frame.index)
    keep = (frame["contract_id"].notna() & (value >= MIN_CONTRACT_VALUE)
            & (value <= MAX_CONTRACT_VALUE))
    cv = pd.DataFrame({"contract_id": frame["contract_id"][keep], "contract_value": value[keep]})
    # Values within half a penny of each other are one value (100000 and 100000.004: float
    # noise, or a figure typed to more places), whichever side of a rounding boundary.
    grouped = cv.groupby("contract_id", sort=True)["contract_value"]
    spread = grouped.max() - grouped.min()
    if (spread >= 0.005).any():
        bad = spread[spread >= 0.005].index[0]
        # Each value with the first row (index label) that gives it, to find them by.
        # (values within half a penny of one already named are not named again).
        firsts: list[tuple[Any, float]] = []
        for r, v in cv.loc[cv["contract_id"] == bad, "contract_value"].items():
            if all(abs(v - w) >= 0.005 for _, w in firsts):
                firsts.append((r, v))
        given = ", ".join(f"{shown(v)} in row {shown(r)}" for r, v in firsts[:3])
        more = ", ..." if len(firsts) > 3 else ""
        bids = ""
        if "supplier_id" in frame.columns:
            suppliers = stripped_column(frame.loc[cv.index[cv["contract_id"] == bad],
                                                  "supplier_id"]).dropna().unique()
            if len(suppliers) > 1:  # each tenderer's price given as the contract's value
                bids = (f" (its rows name {len(suppliers)} suppliers: competing bids? A bid's "
                        "price is score_bids(bid_prices=...), not contract_value; or give each "
                        "bid a contract_id of its own, as 'T-100/A')")
        raise RuleError(f"contract {bad!r} has more than one contract_value ({given}{more}): "
                        f"give each contract one value, its whole-life value (an extension's "
                        f"included){bids}", field="contract_value",
                        advice=bids,
                        contract_id=bad, rows=[r for r, _ in firsts[:3]],
                        values=[v for _, v in firsts[:3]], count=len(firsts))
    return cv.drop_duplicates("contract_id").set_index("contract_id")["contract_value"]


#: A working column: each valued row's contract value (never an input column's name).
_CV = "\x00contract_value"


def _row(values: np.ndarray, contracts: np.ndarray | None,
         contract_values: np.ndarray | None) -> dict[str, Any]:
    """One group's totals; with ``contract_values`` (each row's contract's value, NaN where it
    has none), its contracts' value, each counted once, and the ratio."""
    row: dict[str, Any] = {
        "rows": int(values.size),
        "benefits_gbp": total(values[values > 0].tolist()),
        "disbenefits_gbp": total(values[values < 0].tolist()),
        "net_gbp": total(values.tolist()),
    }
    if contracts is not None and contract_values is not None:
        # The ratio sets the value of contracts against their own outcomes only: a contract
        # with no value says nothing about what its outcomes cost.
        has = ~np.isnan(contract_values)
        once = dict(zip(contracts[has].tolist(), contract_values[has].tolist(), strict=True))
        value = math.fsum(once.values())  # exact: the same whatever the order
        # None, not £0.00, where no contract of the group has a value: value_frame refuses a
        # contract value of 0, so £0.00 would read as a figure given.
        row["contract_value_gbp"] = total([value]) if once else None
        row["sv_ratio"] = math.fsum(values[has].tolist()) / value if value > 0 else math.nan
    return row


def _ratio_note(valued: pd.DataFrame) -> list[str]:
    """Where some contracts give a contract value and some valued rows' contracts do not: the
    SV per £ beside a total counts only the former's rows, which a reader dividing the Net by
    the contract value would not guess (an analyst's review)."""
    if not {"contract_id", "contract_value"} <= set(valued.columns):
        return []
    from socialvalue_tom._bulk.lookups import cell_floats

    # Cheaply first: a valued row giving its own contract value is in the ratio, so unless
    # some rows give one and some valued rows do not, there is nothing to say.
    cells = cell_floats(valued["contract_value"])[0]
    codes, ids = cell_codes(valued["contract_id"])  # an id as reports read one: blank is none
    named = np.array([key_text(u) is not None for u in ids] + [False])[codes]
    own = (cells >= MIN_CONTRACT_VALUE) & (cells <= MAX_CONTRACT_VALUE) & named
    amounts = pd.to_numeric(valued["value_gbp"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    if not own.any() or not (~np.isnan(amounts) & ~own).any():
        return []
    frame, cv = _keyed_contract_values(valued)
    if cv is None:
        return []
    value = pd.to_numeric(frame["value_gbp"], errors="coerce").to_numpy(dtype=np.float64,
                                                                        na_value=np.nan)
    without = ~np.isnan(value) & frame["contract_id"].map(cv).isna().to_numpy()
    if not without.any():
        return []
    rows = frame[without]
    return [f"SV per £ of contract value counts only the contracts that give a contract_value "
            f"({len(cv):,}): {input_rows(rows)} valued row(s) "
            f"({format_gbp(total(value[without].tolist()))}) with no contract value (or no "
            "contract_id) are in the Net but not in the ratio."]


def _exclusion_reasons(eds: dict[tuple[str, str], ProxyTable], rows: pd.DataFrame) -> str:
    """``"; exclusion id: why"`` for each exclusion that reduced ``rows``, its ``reason`` (why
    the measures overlap, what to report under each) from the rows' own editions: each
    distinct reason once, where editions word it differently."""
    if "exclusion" not in rows.columns:
        return ""
    has_editions = {"table", "version"} <= set(rows.columns)
    said: dict[tuple[str, str], None] = {}
    pairs = (zip(rows["exclusion"], rows["table"], rows["version"], strict=True)
             if has_editions else ((x, None, None) for x in rows["exclusion"]))
    for ex, table, version in dict.fromkeys(pairs):
        if is_missing(ex) or not str(ex).strip():
            continue
        own = eds.get((_label_text(table), _label_text(version))) if has_editions else None
        found = [e.reason for t in ([own] if own is not None else eds.values())
                 for e in t.spec.exclusions if e.id == str(ex).strip()]
        for reason in found or [""]:
            said[(str(ex).strip(), reason.rstrip("."))] = None
    return "".join(f"; {i}: {why}" if why else f"; {i}" for i, why in sorted(said))


def _keyed_contract_values(valued: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
    """``valued`` with its ids keyed as reports read them, and each contract's value; None
    where there are none, or a contract is given two (summarise says so: a note has nothing
    to add)."""
    frame = _keyed(_bare(valued))
    try:
        cv = _contract_values(frame)
    except RuleError:
        return frame, None
    return frame, (cv if cv is not None and not cv.empty else None)


#: A contract's social value above this many times its value is worth a look before use.
_BEYOND_CONTRACT = 1.0


def _beyond_contract_note(valued: pd.DataFrame) -> list[str]:
    """Contracts whose rows claim more social value than the contract is worth: rarely real,
    and the mark of a quantity in the wrong unit (1,800 hours typed as FTE: a supplier's
    review found it valued at GBP 51 million on an GBP 8.5 million contract, in silence).
    Each stage and each supplier of a contract apart, where the rows say them: competing
    tenders, or a commitment and its delivery, are not one claim."""
    if not {"contract_id", "contract_value"} <= set(valued.columns):
        return []
    frame, cv = _keyed_contract_values(valued)
    if cv is None:
        return []
    ok = _valued_rows(frame)
    keys = ["contract_id", *(k for k in ("stage", "supplier_id") if k in ok.columns)]
    if "stage" in ok.columns:
        ok = ok.assign(stage=stripped_column(ok["stage"]))
    net = ok.groupby(keys, sort=True, dropna=False)["value_gbp"].sum().reset_index()
    net["contract_value"] = net["contract_id"].map(cv)
    over = net[net["value_gbp"] > _BEYOND_CONTRACT * net["contract_value"]]
    if over.empty:
        return []
    # The furthest beyond first: the three named are the ones to check first.
    over = over.assign(_ratio=over["value_gbp"] / over["contract_value"]).sort_values(
        "_ratio", ascending=False, kind="stable")

    def label(r: Any) -> str:
        apart = [str(r[k]) for k in keys[1:] if not is_missing(r[k])]
        return f"{r['contract_id']}" + (f" ({', '.join(apart)})" if apart else "")

    shown = "; ".join(f"{label(r)}: {format_gbp(total([float(r['value_gbp'])]))} on "
                      f"{format_gbp(total([float(r['contract_value'])]))}"
                      for _, r in over.head(3).iterrows())
    more = f"; and {len(over) - 3:,} more" if len(over) > 3 else ""
    return [f"Rows claim more social value than their contract is worth ({shown}{more}): "
            "worth checking before use, for a quantity in the wrong unit (hours given as "
            "FTE)."]


def _valued_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a value, ``value_gbp`` as float64 (rows not valued count in no total)."""
    value = pd.to_numeric(frame["value_gbp"], errors="coerce").astype("float64")
    return frame[value.notna()].assign(value_gbp=value[value.notna()])


@own_decimal_context
def summarise(valued: pd.DataFrame, by: str | Sequence[str] = ("theme",), *,
              tables: TablesLike | None = None) -> pd.DataFrame:
    """Totals per group, rounded to the penny at the edge.

    ``by`` names groups: ``theme``, ``value_type`` and ``methodology`` (looked up in the
    tables, see :func:`annotate`), ``stage``, ``measure`` (the code as validated, surrounding spaces
    stripped), ``supplier`` (column ``supplier_id``), ``contract`` (``contract_id``),
    ``region`` (the region code the table resolves, so "UK" and "United Kingdom" group
    together; without known tables, the region requested, normalised), ``year`` (UK financial
    year of ``date``: a row of several ``years`` counts all its value in its first year),
    ``quarter`` (UK financial quarter of ``date``, as text that sorts in time order:
    ``2024/25 Q1`` is April to June 2024; a row counts in the quarter of its date, so a part
    :func:`~socialvalue_tom.periods.apportion` made of a period running over several quarters
    counts whole in its first day's, with a :class:`SocialValueWarning`) or any column; ``by=()`` gives one overall row. Rows with no value in a
    group column form a group of their own. Returns one row per group with ``rows`` (valued
    rows), ``rows_not_valued`` (the group's input rows with no value: its issues; a group whose
    rows were all rejected is listed with zeros, so a supplier whose returns all failed is not
    silently missing), ``benefits_gbp``, ``disbenefits_gbp`` (negative) and ``net_gbp`` as
    :class:`~decimal.Decimal`. ``net_gbp`` is the exactly rounded sum of all amounts, so it can
    differ by a penny from ``benefits_gbp + disbenefits_gbp``.

    When ``contract_id`` and ``contract_value`` columns are present, adds
    ``contract_value_gbp`` (the value of each contract with a valued row in the group, counted
    once; values are read from every row, valued or not, so a contract's rejected rows may
    give it; None where no contract of the group has a value) and ``sv_ratio``: the net social value of the rows whose contract
    has a value, per GBP of those contracts' values (NaN when no contract in the group has a
    value). Rows that were not valued (``value_gbp`` missing) are left out of every total and
    counted in ``rows_not_valued``.
    ``theme`` is looked up in the tables (see :func:`annotate`), never taken from the input.

    Examples:
        >>> df = pd.DataFrame({"supplier_id": ["a", "a", "b"], "contract_id": ["c1", "c1", "c2"],
        ...                    "contract_value": [1000.0, 1000.0, 500.0],
        ...                    "value_gbp": [300.0, -50.0, 100.0]})
        >>> s = summarise(df, by="supplier")
        >>> s[["supplier_id", "net_gbp", "sv_ratio"]].to_dict("records")
        [{'supplier_id': 'a', 'net_gbp': Decimal('250.00'), 'sv_ratio': 0.25}, {'supplier_id': 'b', 'net_gbp': Decimal('100.00'), 'sv_ratio': 0.2}]
    """  # noqa: E501
    given: list[Any] = list(by) if pd.api.types.is_list_like(by) else [by]
    for period in ("year", "quarter"):
        if period in given and period in valued.columns and "date" in valued.columns:
            # The caller's own, passed over without a word before (a notebook analyst's
            # review: a calendar 2024 there, the financial 2023/24 here).
            warnings.warn(SocialValueWarning(
                f"by={period!r} groups by the UK financial {period} of each row's date, not "
                f"by the frame's own {period!r} column: rename that column to group by it"),
                stacklevel=outside_stacklevel())
    spanned = _quarters_note(valued) if "quarter" in given else None
    if spanned:  # a year's row apportioned is one part: by quarter, all of it in April-June
        warnings.warn(SocialValueWarning(spanned), stacklevel=outside_stacklevel())
    return _summarise(valued, by, tables=tables)


def _summarise(valued: pd.DataFrame, by: str | Sequence[str] = ("theme",), *,
               tables: TablesLike | None = None) -> pd.DataFrame:
    """:func:`summarise`, without its warning on a ``year`` column of the frame's own (the
    report's section by year and the command line's ``--by year`` say it their own way)."""
    # One key per column: supplier and supplier_id are one group, named once.
    given: list[Any] = list(by) if pd.api.types.is_list_like(by) else [by]
    grouped = [GROUPS.get(k, k) for k in given if isinstance(k, str)]
    _need(valued, ["value_gbp"], "summarise",
          reads=[*grouped, *(["date"] if {"year", "quarter"} & set(grouped) else [])])
    keys: list[str] = []
    for k in given:
        if all(GROUPS.get(k, k) != GROUPS.get(seen, seen) for seen in keys):
            keys.append(k)
    clash = [k for k in keys if GROUPS.get(k, k) in _SUMMARY_COLUMNS]
    if clash:
        raise RuleError(f"cannot group by {clash[0]!r}: the summary has a column of that name "
                        "(rename the input column)", field=str(clash[0]))
    frame = _keyed(_bare(_grouping_frame(valued, keys, tables)))
    cols = [GROUPS.get(k, k) for k in keys]
    cv = _contract_values(frame)
    # The columns every group reads, as arrays once: each group then takes its positions.
    arrays = _RowArrays.of(frame, cv)
    groups = _groups(frame, cols)
    records = [_group_row(cols, key, at, arrays) for key, at in groups]
    columns = [*cols, *_SUMMARY_COLUMNS[:5]]
    if cv is not None:
        columns += _SUMMARY_COLUMNS[5:]
    out = pd.DataFrame.from_records(records, columns=columns)
    # By stage, a contract's value is set against its commitments and its deliveries alike,
    # as meant: each stage's ratio is the contract's whole.
    spread = _contracts_in_several_groups(arrays, groups) if cols and cols != ["stage"] else 0
    if spread:
        out.attrs[CONTRACTS_SPREAD] = spread
    return out


#: Where :func:`summarise` counts, in its result's ``attrs``, the contracts with a value whose
#: valued rows fall in more than one group (see :func:`ratio_spread_note`).
CONTRACTS_SPREAD = "socialvalue_tom.contracts_in_several_groups"


def _contracts_in_several_groups(rows: _RowArrays,
                                 groups: list[tuple[Any, np.ndarray]]) -> int:
    """How many contracts with a value have valued rows in more than one of ``groups``."""
    if rows.contracts is None or rows.contract_values is None:
        return 0
    group = np.empty(len(rows.value), dtype=np.int64)
    for i, (_, at) in enumerate(groups):
        group[at] = i
    counted = ~np.isnan(rows.value) & ~np.isnan(rows.contract_values)
    if not counted.any():
        return 0
    pairs = pd.DataFrame({"contract": rows.contracts[counted], "group": group[counted]})
    return int((pairs.groupby("contract", sort=False)["group"].nunique() > 1).sum())


def ratio_spread_note(summary: pd.DataFrame) -> str | None:
    """Where a :func:`summarise` result's groups share contracts (a contract with rows in two
    regions): each group's ``sv_ratio`` sets its rows' net against the whole value of every
    contract with a row in it, so a group holding a small part of a large contract reads low
    (a council officer's review: Wales read 0.028 from one £1,465 row of a £2.4m English
    contract). None where no contract is in two groups."""
    spread = summary.attrs.get(CONTRACTS_SPREAD)
    if not spread:
        return None
    # Grouped by contract and another key (contract and year), the advice is no way out: each
    # contract-year still sets its part against the whole contract (an adversarial review).
    by_contract = "contract_id" in summary.columns
    return (f"{spread:,} contract(s) have rows in more than one group: each group's SV per £ "
            "sets its rows' net against the whole value of every contract with a row in it, "
            "so a group holding a small part of a large contract reads low"
            + (" (a year's part of a contract against the whole contract's value)."
               if by_contract else " (grouped by contract, each contract's ratio is its own)."))


#: The columns summarise adds after the group keys (the last two with contract values).
_SUMMARY_COLUMNS = ["rows", "rows_not_valued", "benefits_gbp", "disbenefits_gbp", "net_gbp",
                    "contract_value_gbp", "sv_ratio"]


@dataclass(frozen=True)
class _RowArrays:
    """What :func:`summarise` reads of every row, as arrays (NaN value: not valued)."""

    value: np.ndarray
    contracts: np.ndarray | None
    contract_values: np.ndarray | None
    period_row: np.ndarray | None
    period_share: np.ndarray | None

    @classmethod
    def of(cls, frame: pd.DataFrame, cv: pd.Series | None) -> _RowArrays:
        value = _floats(frame, "value_gbp")
        assert value is not None  # summarise checked the column
        contracts = contract_values = None
        if cv is not None:  # each row's contract's value, looked up once for all the groups
            contracts = frame["contract_id"].to_numpy(dtype=object)
            contract_values = frame["contract_id"].map(cv).to_numpy(dtype=np.float64,
                                                                   na_value=np.nan)
        return cls(value, contracts, contract_values, _period_rows(frame),
                   _floats(frame, "period_share"))


def _floats(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    """Column ``name`` as float64 (NaN where it holds no number), or None without it."""
    if name not in frame.columns:
        return None
    out: np.ndarray = pd.to_numeric(frame[name], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    return out


def _groups(frame: pd.DataFrame, cols: list[str]) -> list[tuple[Any, np.ndarray]]:
    """``frame``'s groups on ``cols`` in their sorted order, as (key, row positions); one group
    of all rows without cols.

    The rows not valued may hold group cells of types that do not compare (5 and a Timestamp
    as a measure): those groups are sorted by :func:`_sort_key` instead of failing.
    """
    if not cols:
        return [((), np.arange(len(frame)))]
    try:
        grouped = frame.groupby(cols, sort=True, observed=True, dropna=False)
        ids, keys = grouped.ngroup().to_numpy(), list(grouped.size().index)
        order = list(range(len(keys)))
    except TypeError:
        # (A container in a group cell is text by now: _grouping_frame.)
        grouped = frame.groupby(cols, sort=False, observed=True, dropna=False)
        ids, keys = grouped.ngroup().to_numpy(), list(grouped.size().index)
        order = sorted(range(len(keys)), key=lambda i: tuple(
            _sort_key(k) for k in (keys[i] if isinstance(keys[i], tuple) else (keys[i],))))
    by_group = np.argsort(ids, kind="stable")
    ends = np.cumsum(np.bincount(ids, minlength=len(keys)))
    positions = np.split(by_group, ends[:-1]) if len(keys) else []
    return [(keys[i], positions[i]) for i in order]


def _group_row(cols: list[str], key: Any, at: np.ndarray, rows: _RowArrays) -> dict[str, Any]:
    """One row of :func:`summarise`: the group's key, its totals and its rows not valued."""
    row = dict(zip(cols, key if isinstance(key, tuple) else (key,), strict=True))
    value = rows.value[at]
    ok = ~np.isnan(value)
    if rows.contracts is not None and rows.contract_values is not None:
        row.update(_row(value[ok], rows.contracts[at][ok], rows.contract_values[at][ok]))
    else:
        row.update(_row(value[ok], None, None))
    row["rows_not_valued"] = _count_at(rows, at[~ok])
    return row


def input_rows(rows: pd.DataFrame) -> int:
    """How many input rows ``rows`` (rows or the parts of rows) holds: the parts of a row
    apportioned over a period count once (see :func:`_count_input_rows`)."""
    return _count_input_rows(len(rows), _period_rows(rows), _floats(rows, "period_share"))


#: Columns the parts of one apportioned row all hold as the row did (the date is each part's).
_ROW_TEXT = ("measure", "unit", "region", "contract_id", "supplier_id", "stage", "confidence")


def _period_rows(frame: pd.DataFrame) -> np.ndarray | None:
    """Which input row each part of an apportioned row came from, as a float id (NaN for a
    row valued without a period), or None without ``period_row``.

    ``period_row`` numbers a frame's rows from 0, so two apportioned frames put together
    (``pd.concat`` of two returns) both hold a row 0: their parts are told apart by the
    text the parts of one row share (measure, unit, region, contract, supplier, stage,
    confidence). Two such rows alike in all of those count as one row per whole share.
    """
    period_row = _floats(frame, "period_row")
    if period_row is None or not len(frame):
        return period_row
    row_codes = pd.factorize(period_row, use_na_sentinel=True)[0]
    columns = [row_codes, *(cell_codes(frame[c])[0] for c in _ROW_TEXT if c in frame.columns)]
    ids, _ = _key_codes(columns, len(frame))
    return np.where(np.isnan(period_row), np.nan, ids.astype(np.float64))


def _count_input_rows(n: int, period_row: np.ndarray | None,
                      period_share: np.ndarray | None) -> int:
    """How many input rows ``n`` rows or parts of rows come from, whatever their order.

    A row without ``period_row`` (valued without a period) is one. Parts sharing a
    ``period_row`` (as :func:`_period_rows` tells them apart) are one row per whole share they
    add up to (a row's parts share 1 between them), at least one: the parts of one row count
    once, and two apportioned frames put together, whose rows both count from 0, still count
    two rows.
    """
    if period_row is None or not n:
        return n
    plain = np.isnan(period_row)
    count = int(plain.sum())
    if (~plain).any():
        shares = (np.ones(n) if period_share is None
                  else np.where(np.isnan(period_share), 1.0, period_share))
        sums = pd.Series(shares[~plain]).groupby(period_row[~plain]).sum().to_numpy()
        count += int(np.maximum(1.0, np.ceil(sums - 1e-9)).sum())
    return count


@own_decimal_context
def targets_vs_delivered(valued: pd.DataFrame, *, by_measure: bool = False,
                         by_supplier: bool = False,
                         tables: TablesLike | None = None) -> pd.DataFrame:
    """Committed vs delivered social value per contract, with the shortfall.

    Needs ``contract_id`` and ``stage`` (``commitment`` or ``delivered``, read as value_frame
    validates them: surrounding spaces stripped) columns. Returns one row per contract (rows
    with no ``contract_id`` form one group, with a missing ``contract_id``, as in
    :func:`summarise`; per contract and measure with ``by_measure=True``, which adds the
    ``unit`` and ``committed_quantity``/``delivered_quantity`` in the measure's canonical unit,
    looked up as in :func:`annotate`: the quantities counted, after double-counting
    exclusions, from the ``canonical_quantity`` column of ``value_frame(..., detail=True)``,
    over all of each row's ``years``, as a double-counting claim counts them: 10 FTE committed
    for 3 years is 30, met by three yearly rows of 10)
    with ``committed_gbp``, ``delivered_gbp``, ``shortfall_gbp`` (committed minus delivered,
    never below zero; :class:`~decimal.Decimal`), ``delivered_pct`` (from the exact sums),
    ``uncommitted_gbp`` (the part of ``delivered_gbp`` from measures the group has no
    commitment for: it makes up for a shortfall on other measures; ``None`` without a
    ``measure`` column), ``rows_not_valued`` (the group's rows with no value: its issues; a
    contract whose rows were all rejected is listed with zeros) and ``rows_without_stage``
    (valued rows with no stage, counted in neither total: give them one).

    A :class:`~socialvalue_tom.SocialValueWarning` says when the comparison mixes bases: rows
    lasting several ``years`` valued without a common ``discount_base_year`` (a commitment's
    later years are discounted, yearly deliveries in those years are not, so meeting it
    exactly reads as more than 100%), and deliveries of measures never committed. The result's
    ``attrs["notes"]`` holds the same sentences (the report prints them under its table).

    A contract's target adds every commitment on it. Where a ``supplier_id`` column shows
    commitments from several suppliers on one contract (the tenders that :func:`score_bids`
    compares, say, rather than the winner's), a :class:`~socialvalue_tom.SocialValueWarning`
    names those contracts: keep the winning bid's rows, or pass ``by_supplier=True`` for one
    row per contract and supplier (a supplier's deliveries set against its own commitments).

    Examples:
        >>> df = pd.DataFrame({"contract_id": ["c1", "c1"], "stage": ["commitment", "delivered"],
        ...                    "value_gbp": [1000.0, 750.0]})
        >>> targets_vs_delivered(df)[["contract_id", "shortfall_gbp", "delivered_pct"]].to_dict("records")
        [{'contract_id': 'c1', 'shortfall_gbp': Decimal('250.00'), 'delivered_pct': 75.0}]
    """  # noqa: E501
    by_measure, by_supplier = flag(by_measure, "by_measure"), flag(by_supplier, "by_supplier")
    out = _targets(valued, by_measure=by_measure, by_supplier=by_supplier, tables=tables)
    for note in out.attrs["notes"]:
        warnings.warn(SocialValueWarning(note), stacklevel=outside_stacklevel())
    return out


def _targets(valued: pd.DataFrame, *, by_measure: bool, by_supplier: bool,
             tables: TablesLike | None) -> pd.DataFrame:
    """:func:`targets_vs_delivered`, its notes in ``attrs["notes"]`` rather than warned."""
    return _targets_and_total(valued, by_measure=by_measure, by_supplier=by_supplier,
                              tables=tables)[0]


def _targets_and_total(valued: pd.DataFrame, *, by_measure: bool, by_supplier: bool,
                       tables: TablesLike | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_targets`, and its Total row (:func:`_targets_total`), the rows' figures
    under the table's columns, for the command line and the report."""
    _need(valued, ["contract_id", "stage", "value_gbp", *(["supplier_id"] if by_supplier
                                                          else [])], "targets vs delivered")
    if by_measure and "canonical_quantity" not in valued.columns:
        raise RuleError("quantities per measure need canonical_quantity: value the outcomes "
                        "with value_frame(..., detail=True)", field="canonical_quantity")
    if by_measure:
        valued = _with_info(valued, "canonical_unit", tables)
    every = _keyed(_bare(valued))
    every = every.assign(stage=stripped_column(every["stage"]))
    keys = ["contract_id", *(["supplier_id"] if by_supplier else []),
            *(["measure"] if by_measure else [])]
    if by_measure or "measure" in every.columns:
        every = every.assign(measure=stripped_column(every["measure"]))
    # Rows not valued (the issues) are counted per contract, so that a contract whose
    # delivered returns were all rejected is not read as one that delivered nothing.
    value = pd.to_numeric(every["value_gbp"], errors="coerce").astype("float64")
    every = every.assign(value_gbp=value)
    notes = []
    if not by_supplier:
        shared = _several_suppliers(every)  # read as above, not again
        if shared:  # warned by targets_vs_delivered, at its caller's line, with the others
            notes.append(
                f"{len(shared)} contract(s) have commitments from more than one supplier "
                f"({', '.join(group_label(c) for c in shared[:3])}"
                f"{', ...' if len(shared) > 3 else ''}): each target adds them all; keep the "
                "winning bid's rows, or pass by_supplier=True.")
    # Positions of rows delivering measures never committed, by group.
    records: list[dict[str, Any]] = []
    every_extra: list[np.ndarray] = []
    # Unsorted groups, sorted after by a key every cell has: the rows not valued may hold
    # cells of types that do not compare (5 and a Timestamp as a measure). Each group reads
    # the columns as arrays, by position.
    grouped = every.groupby(keys, sort=False, observed=True, dropna=False)
    ids, group_keys = grouped.ngroup().to_numpy(), list(grouped.size().index)
    ends = np.cumsum(np.bincount(ids, minlength=len(group_keys)))
    positions = np.split(np.argsort(ids, kind="stable"), ends[:-1]) if group_keys else []
    rows = _RowArrays.of(every, None)
    stage = every["stage"].to_numpy(dtype=object)
    committed, delivered = stage == "commitment", stage == "delivered"
    years = _years_column(every)
    quantity = (pd.to_numeric(every["canonical_quantity"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan) * years if by_measure else None)
    units = every["canonical_unit"].to_numpy(dtype=object) if by_measure else None
    measures = every["measure"].to_numpy(dtype=object) if "measure" in every.columns else None
    for key, at in zip(group_keys, positions, strict=True):
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        ok = ~np.isnan(rows.value[at])
        row["rows_not_valued"] = _count_at(rows, at[~ok])
        good = at[ok]
        com, dlv = good[committed[good]], good[delivered[good]]
        # Valued rows with no stage are neither committed nor delivered: counted, not dropped.
        row["rows_without_stage"] = _count_at(rows, good[~(committed | delivered)[good]])
        if quantity is not None and units is not None:
            known = [u for u in units[good].tolist() if not is_missing(u)]
            row["unit"] = str(known[0]) if known else ""
            row["committed_quantity"] = math.fsum(_finite(quantity[com]))
            row["delivered_quantity"] = math.fsum(_finite(quantity[dlv]))
        row.update(_shortfall(rows.value[com].tolist(), rows.value[dlv].tolist()))
        if measures is None:
            row["uncommitted_gbp"] = None
        else:
            at_extra = _uncommitted(measures, com, dlv)
            row["uncommitted_gbp"] = total(rows.value[at_extra].tolist())
            every_extra.append(at_extra)
        records.append(row)
    records.sort(key=lambda r: tuple(_sort_key(r[k]) for k in keys))
    extra = ["unit", "committed_quantity", "delivered_quantity"] if by_measure else []
    out = pd.DataFrame.from_records(records, columns=[
        *keys, *extra, "committed_gbp", "delivered_gbp", "shortfall_gbp", "delivered_pct",
        "uncommitted_gbp", "rows_not_valued", "rows_without_stage"])
    # The notes' "in all" is these rows' amounts added and rounded once, as every total is
    # (a reconciliation review: the groups' penny figures added were 2p off the delivered),
    # the Total row's "not committed".
    extra_rows = np.concatenate(every_extra) if every_extra else np.array([], dtype=np.intp)
    uncommitted = rows.value[extra_rows].tolist()
    # Ids written two ways split a contract's (or a supplier's) targets from its deliveries
    # (a tender evaluator's review: 'W' committed, 'w' delivered, read as a shortfall).
    out.attrs["notes"] = notes + _target_notes(valued, every, years, committed | delivered,
                                               ids, out, by_measure, uncommitted) + \
        _ids_alike_notes(_valued_rows(_bare(valued)), suppliers=by_supplier)
    valued_at = ~np.isnan(rows.value)
    return out, _targets_total(out, keys, rows.value[committed & valued_at].tolist(),
                               rows.value[delivered & valued_at].tolist(),
                               None if measures is None else uncommitted)


def _targets_total(out: pd.DataFrame, keys: list[str], committed: list[float],
                   delivered: list[float], uncommitted: list[float] | None) -> pd.DataFrame:
    """The Total row of a targets table ``out``: committed, delivered and not committed as
    every total is, the rows' amounts (``committed``, ``delivered``, ``uncommitted``) added
    and rounded once; the shortfall the groups' shortfalls added (a contract delivered over
    its target does not make up for another's shortfall); ``delivered_pct`` from the exact
    sums; the row counts added; no quantities (the measures' units differ)."""
    row: dict[str, Any] = dict.fromkeys(out.columns)
    row[keys[0]] = _total_label(out[keys[0]])
    row.update(_shortfall(committed, delivered))
    row["shortfall_gbp"] = sum(out["shortfall_gbp"], Decimal("0.00"))
    row["uncommitted_gbp"] = None if uncommitted is None else total(uncommitted)
    for c in ("rows_not_valued", "rows_without_stage"):
        row[c] = int(out[c].sum())
    return pd.DataFrame([row], columns=out.columns)


def _uncommitted(measures: np.ndarray, com: np.ndarray, dlv: np.ndarray) -> np.ndarray:
    """The positions among ``dlv`` delivering measures with no commitment among ``com``."""
    promised = set(measures[com].tolist())
    extra = np.array([m not in promised for m in measures[dlv].tolist()], dtype=bool)
    return np.asarray(dlv[extra])


def _years_column(frame: pd.DataFrame) -> np.ndarray:
    """Each row's ``years`` (1 where not given or not a number)."""
    if "years" not in frame.columns:
        return np.ones(len(frame))
    years = pd.to_numeric(frame["years"], errors="coerce").to_numpy(dtype=np.float64,
                                                                      na_value=np.nan)
    return np.where(np.isfinite(years) & (years >= 1), years, 1.0)


def _target_notes(valued: pd.DataFrame, every: pd.DataFrame, years: np.ndarray,
                  staged: np.ndarray, ids: np.ndarray, out: pd.DataFrame,
                  by_measure: bool, uncommitted: list[float]) -> list[str]:
    """What a reader of targets against deliveries must know: bases the figures mix (the
    discounting of rows lasting several years, the editions valuing each side) and
    deliveries of measures never committed (``uncommitted``: their rows' amounts, every
    group's, as the Total row adds them). ``ids``: each row's group in ``out``."""
    notes = []
    a = _assumptions_of(valued)
    value = every["value_gbp"].to_numpy(dtype=np.float64)
    ok = staged & ~np.isnan(value)
    lasting = ok & (years > 1)
    spread = ("date" in every.columns
              and _financial_year(every.loc[ok, "date"]).dropna().nunique() > 1)
    undiscounted = a is None or (a.get("discount_base_year") is None
                                 and a.get("discount_schedule") != "none")
    if lasting.any() and spread and undiscounted:
        unknown = ("" if a is not None else
                   "The settings the rows were valued with are not recorded with them (read "
                   "back from a file?): if no common discount_base_year was given, ")
        notes.append(
            f"{unknown}{int(lasting.sum()):,} committed or delivered row(s) last several years "
            "and are discounted to their own first year, while rows for one year are not "
            "discounted: a commitment's later years then count less than deliveries in those "
            "years, so meeting it exactly reads as more than 100%. Value with one year as both "
            "price_year and discount_base_year (the contracts' first financial year) to "
            "compare them on one basis.")
    mixed = _editions_apart(every, ok, ids)
    if mixed:
        quantities = ("the quantities beside it do not move with them" if by_measure
                      else "by_measure=True sets the quantities side by side")
        notes.append(
            f"{mixed:,} group(s) have commitments and deliveries valued with different "
            "editions: each edition's proxies value the same quantity its own way (pay "
            "growth, revised carbon values), in its own year's prices unless price_year is "
            f"given, so delivered_pct compares money at different proxies; {quantities}.")
    extra = [x for x in out["uncommitted_gbp"].tolist() if x is not None and x != 0]
    if any(x > 0 for x in extra) and not by_measure:
        notes.append(
            f"{len(extra):,} group(s) have deliveries of measures with no commitment "
            f"({format_gbp(total(uncommitted))} in all, uncommitted_gbp), counted in "
            "delivered_gbp: they can make up for a shortfall on the measures committed "
            "(by_measure=True sets each measure against its own commitment).")
    if "claim_share" in every.columns:
        share = pd.to_numeric(every["claim_share"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan)
        reduced = ok & (share < 1)
        apart = _reduced_apart(every, reduced, share, ids, staged)
        if apart:  # a supplier's review: a priority hire more read as a local job less
            quantities = (" (and so do the quantities beside them: claimed less the parts)"
                          if by_measure else "")
            notes.append(
                f"{apart:,} group(s) have commitments and deliveries that double counting "
                "reduced differently (claim_share): a whole's amount counts what the parts "
                f"its exclusion counts first leave{quantities}, so a whole (local jobs) "
                "delivered short beside its parts (priority hires) delivered over moves "
                "value between measures, not out of the contract.")
    return notes


def _reduced_apart(every: pd.DataFrame, reduced: np.ndarray, share: np.ndarray,
                   ids: np.ndarray, staged: np.ndarray) -> int:
    """How many groups' commitments and deliveries double counting reduced differently: a
    measure counted in part (or not at all) on one side and not alike on the other. The same
    split on both sides (20 local jobs and 3 priority hires committed and delivered) moves
    nothing between them, and is not counted."""
    if not reduced.any() or "measure" not in every.columns:
        return 0
    stage = every["stage"].to_numpy(dtype=object)
    frame = pd.DataFrame({"group": ids[staged], "stage": stage[staged],
                          "measure": every["measure"].to_numpy(dtype=object)[staged],
                          "share": np.where(np.isnan(share), 1.0, share)[staged]})
    touched = set(ids[reduced].tolist())
    frame = frame[frame["group"].isin(touched)]
    # Each measure's share of what it claimed on each side, as one figure per group and stage.
    sides = frame.groupby(["group", "stage", "measure"], sort=False)["share"].mean().unstack(
        "stage")
    if not {"commitment", "delivered"} <= set(sides.columns):
        return 0  # one side only: nothing to set against
    sides = sides.fillna(1.0)  # a measure absent on a side: nothing reduced there
    differs = ~np.isclose(sides["commitment"].to_numpy(dtype=np.float64),
                          sides["delivered"].to_numpy(dtype=np.float64), rtol=0, atol=1e-9)
    return int(pd.Series(differs, index=sides.index).groupby(level="group").any().sum())


def _editions_apart(every: pd.DataFrame, ok: np.ndarray, ids: np.ndarray) -> int:
    """How many groups have valued commitments and deliveries under different sets of
    editions (table and version)."""
    if not {"table", "version"} <= set(every.columns) or not ok.any():
        return 0
    rows = pd.DataFrame({
        "group": ids[ok], "stage": every["stage"].to_numpy(dtype=object)[ok],
        "edition": (every["table"].astype(str) + ":" + every["version"].astype(str))
        .to_numpy(dtype=object)[ok]}).drop_duplicates()
    sets = rows.groupby(["group", "stage"], sort=False)["edition"].agg(frozenset).unstack()
    if not {"commitment", "delivered"} <= set(sets.columns):
        return 0
    both = sets.dropna(subset=["commitment", "delivered"])
    return int((both["commitment"] != both["delivered"]).sum())


def _shared_contracts(valued: pd.DataFrame) -> list[Any]:
    """The contracts (``contract_id``) whose valued commitments come from more than one
    ``supplier_id`` (none without those columns): a target adding competing tenders."""
    if not {"contract_id", "supplier_id", "stage", "value_gbp"} <= set(valued.columns):
        return []
    frame = _keyed(_bare(valued))
    return _several_suppliers(frame.assign(
        stage=stripped_column(frame["stage"]),
        value_gbp=pd.to_numeric(frame["value_gbp"], errors="coerce")))


def _several_suppliers(every: pd.DataFrame) -> list[Any]:
    """:func:`_shared_contracts` of a frame read as targets_vs_delivered reads it (ids as key
    text, stages stripped, values as numbers)."""
    if "supplier_id" not in every.columns:
        return []
    committed = every[every["value_gbp"].notna().to_numpy()
                      & (every["stage"] == "commitment").to_numpy()]
    if not len(committed):
        return []
    # Ids that differ only by case, spacing or an invisible character ("ACME Ltd" and "ACME
    # LTD") are one supplier writing its id two ways, not competing tenders: a note elsewhere
    # says so, and the contract's target stays one.
    texts = pd.Series(key_texts(committed["supplier_id"].to_numpy(dtype=object)))
    alike = texts.map({t: id_likeness(t) for t in texts.dropna().unique()}).to_numpy(
        dtype=object)
    counts = committed.assign(supplier_id=alike).groupby(
        "contract_id", sort=False, observed=True, dropna=False)["supplier_id"].nunique()
    return sorted(counts[counts > 1].index.tolist(), key=_sort_key)


#: The stages targets_vs_delivered sets against each other.
_STAGES = ("commitment", "delivered")


def _sort_key(value: Any) -> tuple[int, Any]:
    """Text in its order, then other values by their text, missing last (as pandas sorts a
    text column with missing values)."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                         and pd.isna(value)):
        return (2, "")
    return (0, value) if isinstance(value, str) else (1, str(value))


def _shortfall(committed: list[float], delivered: list[float]) -> dict[str, Any]:
    c_gbp, d_gbp = total(committed), total(delivered)
    exact_c, exact_d = math.fsum(committed), math.fsum(delivered)
    return {"committed_gbp": c_gbp, "delivered_gbp": d_gbp,
            "shortfall_gbp": max(c_gbp - d_gbp, Decimal("0.00")),
            # From the exact sums: rounding both first would skew small amounts.
            "delivered_pct": exact_d / exact_c * 100 if exact_c > 0 else math.nan}


def _finite(values: np.ndarray) -> list[float]:
    """The values that are numbers (a quantity not read is left out of a sum)."""
    kept: list[float] = values[~np.isnan(values)].tolist()
    return kept


def _count_at(rows: _RowArrays, at: np.ndarray) -> int:
    """:func:`_count_input_rows` of the rows at positions ``at``."""
    return _count_input_rows(len(at), None if rows.period_row is None else rows.period_row[at],
                             None if rows.period_share is None else rows.period_share[at])


# -- HTML report -------------------------------------------------------------------------------

#: Bars a chart draws at most: beyond, the largest (by size) and one bar for the rest, so a
#: report of thousands of suppliers stays a readable, bounded image (its table lists them all).
MAX_BARS = 30


def _chart(labels: list[str], values: list[float], title: str, table: str) -> str:
    """A horizontal bar chart as a base64 PNG ``<img>`` tag, its text alternative naming the
    table (captioned ``table``) that holds the same figures.

    Drawn on its own ``Figure`` with the Agg canvas, not through pyplot: the caller's
    matplotlib backend (a notebook's inline one, say) is left as it was.
    """
    shown, values, title = _top_bars(labels, values, title)
    fig = _chart_figure(shown, values, title)
    buf = io.BytesIO()
    # 150 dots per inch: sharp when printed (100, the screen's, printed blurred).
    # No "Software" text chunk: the image's bytes are the chart's, whatever matplotlib drew it.
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=150,  # long labels are not cut
                metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<img alt="{html.escape(_chart_text(title, table, len(shown) < len(labels)))}" '
            f'src="data:image/png;base64,{data}">')


def _chart_text(title: str, table: str, merged: bool) -> str:
    """A chart's text alternative (WCAG 1.1.1): what kind of chart it is and where its
    figures are to be read, every group's when the chart merged the smallest into one bar."""
    what = title[0].lower() + title[1:]
    rest = ", the others drawn as one bar" if merged else ""
    return (f"Bar chart of {what}{rest}. The figures of every group are in the table above, "
            f"titled {table}.")


def _chart_figure(labels: list[str], values: list[float], title: str) -> Any:
    """The matplotlib ``Figure`` of :func:`_chart` (its bars: at most :data:`MAX_BARS`)."""
    import_extra("matplotlib", "report")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = Figure(figsize=(8, 0.5 + 0.45 * max(len(labels), 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colours = ["#2a7f62" if v >= 0 else "#b5473a" for v in values]
    # Bars at positions, not categories: two labels that read the same stay two bars.
    where = list(range(len(labels)))
    ax.barh(where, values, color=colours)
    ax.set_yticks(where, labels=[_plain(_short(x)) for x in labels])
    ax.invert_yaxis()
    ax.set_xlabel("GBP")
    ax.set_title(_plain(_short(title, MAX_TITLE)))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _: f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"))  # as the tables write money
    # Few ticks: amounts in full pounds are wide, and the default locator put eight or more
    # side by side for millions (£1,000,000£1,200,000... ran together).
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    fig.tight_layout()
    return fig


def _top_bars(labels: list[str], values: list[float],
              title: str) -> tuple[list[str], list[float], str]:
    """At most :data:`MAX_BARS` bars: the largest in size, in their order, and the others
    added into one last bar."""
    if len(labels) <= MAX_BARS:
        return labels, values, title
    keep = set(sorted(range(len(values)), key=lambda i: -abs(values[i]))[:MAX_BARS - 1])
    rest = [i for i in range(len(values)) if i not in keep]
    shown = [i for i in range(len(values)) if i in keep]
    return ([labels[i] for i in shown] + [f"({len(rest)} others)"],
            [values[i] for i in shown] + [math.fsum(values[i] for i in rest)],
            f"{title} (the largest {MAX_BARS - 1} of {len(labels)})")


#: Characters of a bar's label (and of a chart's title) drawn at most: a 130,000-character
#: supplier id would otherwise make an image a million pixels wide (the tables beside the
#: chart show every label whole).
MAX_LABEL = 40
MAX_TITLE = 120


def _short(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain(text: str) -> str:
    """``text`` as a matplotlib label shown literally.

    Labels are supplier ids and the like (untrusted): a pair of ``$`` would make matplotlib
    parse the text as mathtext, which draws "Jones $5 & $6" as maths and raises on "$\\foo$".
    An escaped ``\\$`` never starts mathtext and is drawn as ``$``.
    """
    return text.replace("$", "\\$")


def _minus(amount: str) -> str:
    """A GBP amount as the page shows it: a negative one with the minus sign (U+2212), which
    screen readers read as "minus" where some drop a hyphen, and a negative net would sound
    like a gain (WCAG 1.3.1)."""
    return "\u2212" + amount[1:] if amount.startswith("-") else amount


def _cell(x: Any, plain: bool = False) -> str:
    """A table cell's text: money as GBP, counts with thousands separators (200,000, as the
    money beside them); ``plain`` for a row or line number, written as the issues file and an
    editor's go-to-line write it (1499)."""
    if isinstance(x, Decimal):
        return _minus(format_gbp(x))
    if isinstance(x, float):
        return "" if math.isnan(x) else significant(x) if abs(x) < 1000 else f"{x:,.2f}"
    if isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_) and not plain:
        return f"{int(x):,}"
    return html.escape("" if x is None or x is pd.NA else str(x))


#: Columns of numbers that name a place (a row, a file's line), not a count.
_PLAIN_NUMBERS = frozenset({"row", "line"})


#: The report's column headers in words (a column not named here keeps its name).
_HEADERS = {
    "theme": "Theme", "measure": "Measure", "supplier_id": "Supplier", "contract_id": "Contract",
    "region": "Region", "year": "Financial year", "quarter": "Financial quarter",
    "stage": "Stage", "value_type": "Value type",
    "methodology": "Methodology", "rows": "Rows", "rows_not_valued": "Not valued",
    "benefits_gbp": "Benefits", "disbenefits_gbp": "Disbenefits", "net_gbp": "Net",
    "contract_value_gbp": "Contract value", "sv_ratio": "SV per £ of contract value",
    "committed_gbp": "Committed", "delivered_gbp": "Delivered", "shortfall_gbp": "Shortfall",
    "delivered_pct": "Delivered (% of committed)",
    "uncommitted_gbp": "Of which not committed", "rows_without_stage": "Rows without stage",
    "table": "Table", "version": "Edition", "digest": "Digest (sha256)",
    "valid": "In force", "prices": "Prices of",
    "index_digest": "Price index digest (sha256)", "row": "Row", "line": "Line",
    "field": "Field", "code": "Code", "reason": "Reason", "setting": "Setting",
    "value": "Value", "ppn002_outcome": "PPN 002 outcome", "ppn0620_outcome": "PPN 06/20 outcome",
    "toms_codes": "National TOMs codes", "ppn002_mission": "PPN 002 mission",
    "ppn0620_theme": "PPN 06/20 theme",
}


def _table(frame: pd.DataFrame, caption: str, total: pd.DataFrame | None = None, *,
           row_headers: int = 1) -> str:
    """An HTML table with a caption, column headers in words (``scope="col"``) and each row's
    first ``row_headers`` cells as its headers (``scope="row"``: two where one does not tell
    the rows apart, a contract and its supplier); ``total``, a one-row frame of the same
    columns, as its footer. Text columns are aligned left and numbers right; a missing figure
    that cannot be worked out is written "n/a" with a note saying why (see :data:`_NOT_APPLICABLE`).
    The table scrolls sideways on its own in a narrow window, and a digest may break
    anywhere, so the page around it reflows (WCAG 1.4.10)."""
    head = "".join(f'<th scope="col">{html.escape(_HEADERS.get(str(c), str(c)))}</th>'
                   for c in frame.columns)
    names = [str(c) for c in frame.columns]
    plain = [c in _PLAIN_NUMBERS for c in names]
    # A column is text when any of its cells is (a supplier id, a reason): numbers read
    # better right-aligned, prose left-aligned.
    is_text = [c not in _NUMERIC_TEXT and any(isinstance(x, str) for x in frame.iloc[:, i])
               for i, c in enumerate(names)]
    blank = [_NOT_APPLICABLE.get(c) for c in names]
    classes = [" ".join(k for k, on in (("text", t), ("hash", c in _HASHES)) if on)
               for t, c in zip(is_text, names, strict=True)]
    unworkable: list[str] = []

    def cell(x: Any, i: int) -> str:
        shown = _cell(x, plain[i])
        if not shown and blank[i] is not None and is_missing(x):
            unworkable.append(names[i])
            shown = "n/a"
        if i < row_headers:  # aligned left by the style sheet
            return f'<th scope="row">{shown}</th>'
        return f'<td class="{classes[i]}">{shown}</td>' if classes[i] else f"<td>{shown}</td>"

    def rows(part: pd.DataFrame) -> str:
        return "".join("<tr>" + "".join(cell(x, i) for i, x in enumerate(row)) + "</tr>"
                       for row in part.itertuples(index=False, name=None))

    body = rows(frame)
    foot = f"<tfoot>{rows(total)}</tfoot>" if total is not None else ""
    label = html.escape(caption)
    notes = "".join(f'<p class="note">n/a under {html.escape(_HEADERS.get(c, c))}: '
                    f"{blank[names.index(c)]}.</p>" for c in dict.fromkeys(unworkable))
    return (f'<div class="table-wrap" role="region" tabindex="0" aria-label="{label}">'
            f"<table><caption>{label}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody>{foot}</table></div>{notes}")


#: Columns of formatted numbers (text, but figures): aligned as numbers.
_NUMERIC_TEXT = frozenset({"delivered_pct"})

#: Columns of digests: 64 characters with no break, allowed to break anywhere.
_HASHES = frozenset({"digest", "index_digest"})

#: Figures that are missing because they cannot be worked out, and why: the report writes
#: "n/a" and says so, where a blank cell would read as a figure left out.
_NOT_APPLICABLE = {
    "contract_value_gbp": "no contract in the group has a contract value",
    "sv_ratio": "no contract in the group has a contract value",
    "delivered_pct": "no value was committed (nothing, or on balance a harm), so there is "
                     "no share of it to deliver",
}


def _total_label(groups: pd.Series) -> str:
    """"Total", or "Total (all groups)" when a group is itself named Total (a supplier
    "Total"): the grand total's row must not read as one of the groups."""
    return label_apart("Total", "Total (all groups)", groups.dropna())


def _rounding_note(groups: pd.DataFrame, overall: pd.DataFrame | None = None) -> str | None:
    """Why a table of :func:`summarise` figures may not add up to the penny, or None: each
    figure is rounded once from its exact sum, so a net can differ by a penny from the
    rounded benefits and disbenefits beside it, and the groups' figures from ``overall``
    (the one-row total of every group)."""
    rows = pd.concat([groups, overall]) if overall is not None else groups
    across = bool((rows["benefits_gbp"] + rows["disbenefits_gbp"] != rows["net_gbp"]).any())
    drift = (Decimal(0) if overall is None else
             _drift(groups, overall, ("benefits_gbp", "disbenefits_gbp", "net_gbp")))
    if not (across or drift):
        return None
    where = ("a net can differ by a penny from the rounded columns beside it"
             if across and not drift else
             f"the groups' figures can add to {_drift_words(drift)} than the Total"
             if drift and not across else
             "a net can differ by a penny from the columns beside it, and the groups' "
             f"figures add to {_drift_words(drift)} than the Total")
    return f"Each figure is rounded once from its exact sum, so {where}."


def _drift(groups: pd.DataFrame, overall: pd.DataFrame, columns: Sequence[str]) -> Decimal:
    """The most the groups' penny figures in ``columns`` add to apart from the Total's
    (``overall``, one row): each is rounded once, so up to half a penny a group."""
    gaps = [abs(sum(groups[c], Decimal(0)) - overall[c].iloc[0]) for c in columns
            if not is_missing(overall[c].iloc[0])]
    return max(gaps, default=Decimal(0))


def _drift_words(drift: Decimal) -> str:
    """How far the groups' figures add to apart from the Total, as a note says it: "a penny
    or so more or less", else the most it is ("as much as 15p more or less": 400 groups)."""
    if drift <= Decimal("0.02"):
        return "a penny or so more or less"
    return f"as much as {format_gbp(drift)} more or less"


def _targets_total_note(groups: pd.DataFrame, overall: pd.DataFrame) -> str | None:
    """Why a targets table's groups do not add up to its Total row (``overall``), or None:
    each figure rounded once, and the Total's shortfall the groups' shortfalls added."""
    said = []
    drift = _drift(groups, overall, ("committed_gbp", "delivered_gbp", "uncommitted_gbp"))
    if drift:
        said.append(f"each figure is rounded once from its exact sum, so the groups' figures "
                    f"can add to {_drift_words(drift)} than the Total")
    row = overall.iloc[0]
    over = bool((groups["delivered_gbp"] > groups["committed_gbp"]).any())
    if over and row["shortfall_gbp"] != max(row["committed_gbp"] - row["delivered_gbp"],
                                            Decimal(0)):
        said.append("the Total's shortfall adds the groups' shortfalls: a group delivered "
                    "over its target does not make up for another's shortfall")
    if not said:
        return None
    text = "; ".join(said)
    return f"{text[0].upper()}{text[1:]}."


#: The additionality figures a row, the run or the table gives (drop-off aside): each counts
#: all of an outcome away at 1.
_ADDITIONALITY = ("deadweight", "displacement", "attribution")


def _unverified_note(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                     valued: pd.DataFrame) -> list[str]:
    """The sources whose figures the valued rows drew on that were not checked against the
    publication (``SourceSpec.unverified``), as the rows' traces name them: the proxy of the
    region used; the table's default deadweight, displacement or attribution where a row used
    one that is not 0 (not given by the row or the run); the confidence grades where a row's
    grade reduced it (an auditor's review: "as recalled; verify" stood in the tables' notes
    alone, behind a reduction of hundreds of thousands of pounds in the demo)."""
    columns = ("table", "version", "measure", "region_used")
    if not eds or not set(columns) <= set(ok.columns):
        return []
    assumed = (valued.attrs.get("socialvalue_tom") or {}).get("assumptions") or {}
    said: dict[str, str] = {}

    def note(edition: ProxyTable, sid: str | None) -> None:
        src = edition.sources.get(sid) if sid else None
        if src is not None and src.unverified:
            said.setdefault(str(sid), src.unverified)

    groups = ok.groupby([ok[c].astype(object) for c in columns], sort=False, dropna=False)
    # Only the columns read below are taken for each group: taking every column of each
    # group's rows copied the whole frame once more.
    read = ok[[c for c in (*_ADDITIONALITY, "confidence") if c in ok.columns]]
    for key, idx in groups.indices.items():
        table, version, measure, used = cast(tuple[Any, Any, Any, Any], key)
        edition = eds.get((_label_text(table), _label_text(version)))
        code = measure.strip() if isinstance(measure, str) else None
        spec = edition.measures.get(code) if edition is not None and code else None
        if edition is None or spec is None:
            continue
        rows = read.iloc[idx]
        if used in spec.proxies:
            note(edition, spec.proxies[used].source)
        for name in _ADDITIONALITY:
            if getattr(spec, name) and assumed.get(name) is None and (
                    name not in rows.columns
                    or pd.to_numeric(rows[name], errors="coerce").isna().any()):
                note(edition, spec.additionality_source)
        grades = edition.spec.confidence_grades
        if (grades is not None and "confidence" in rows.columns
                and assumed.get("apply_confidence", True)):
            given = {key_text(g) for g in rows["confidence"].tolist()} - {None}
            if any(grades.grades.get(str(g), 0.0) for g in given):
                note(edition, grades.source)
    if not said:
        return []
    listed = "; ".join(f"{sid}: {why}" for sid, why in sorted(said.items()))
    return [f"Figures from {len(said)} source(s) behind these values were not checked against "
            f"the publication ({listed}): each row's trace (explain) says where they are used."]


def _whole_fraction_note(ok: pd.DataFrame) -> list[str]:
    """Rows counted at nothing by a deadweight, displacement or attribution of their own of 1:
    a supplier writing per cents (12, 25, 1) is told 0.12 and 0.25 for the first two, and the
    1 then reads as 100%, a row at £0 with no word (a Windows/Excel user's review)."""
    whole = np.zeros(len(ok), dtype=bool)
    named = []
    for name in _ADDITIONALITY:
        if name in ok.columns:
            hit = pd.to_numeric(ok[name], errors="coerce").to_numpy(dtype=np.float64) == 1.0
            if hit.any():
                whole |= hit
                named.append(name)
    if not whole.any():
        return []
    return [f"{input_rows(ok[whole])} row(s) are counted at nothing by a {' or '.join(named)} "
            "of their own of 1 (all of the outcome would have happened anyway, moved from "
            "elsewhere, or is due to others): check none was meant as 1% (0.01)."]


@own_decimal_context
def basis_notes(valued: pd.DataFrame, tables: TablesLike | None = None) -> list[str]:
    """Plain-text notes on what a total of ``valued`` adds together, for printing beside it.

    Each only where it applies to the valued rows: commitments added to delivered outcomes;
    values in several price bases (editions of different ``price_base_year`` and no common
    ``price_year``) or of several financial years each discounted to its own first year (no
    common ``discount_base_year``, and some row lasting more than one year: a one-year
    outcome discounted to its own first year keeps its value); rows valued with an edition
    carried forward past its end;
    rows valued with another region's proxy, for a measure whose edition has figures for some
    regions but not theirs (Wales taking the UK wage figure); rows counted at nothing after
    double counting (their exclusion's parts claim at least as much for the same contract),
    or in part (with each exclusion's reason); figures behind the values not checked against
    their publication (a source's ``unverified``); rows counted at nothing by a deadweight,
    displacement or attribution of their own of 1; contracts whose rows claim more social value
    than the contract is worth (a quantity in the wrong unit);
    values taken at a proxy bound
    (``Assumptions(bound=...)``) rather than the central value; values restated into a
    ``price_year`` with index figures that are forecasts (an edition's price year or the
    ``price_year`` at or past the index's ``projected_from``).
    The assumptions are read from the ``attrs`` that :func:`~socialvalue_tom.frame.value_frame`
    records: where they are gone (a frame re-read from a file, or combined with
    ``pd.concat``), a note says so in place of those that need them. ``tables`` as for
    :func:`annotate`.
    """
    _need(valued, ["value_gbp"], "basis_notes", reads=["date"], whole=True)  # discounting
    ok = _valued_rows(_bare(valued))
    if not len(ok):
        return []
    notes = []
    by_stage = _stage_totals(ok)
    if len(by_stage) == 2:
        # The rows with neither stage are in the total too: named, so the parts add up to it
        # (a reconciliation review: the two figures fell short of the total they explained).
        bare = _unstaged(ok)
        notes.append(f"The total adds commitments ({format_gbp(by_stage['commitment'])})"
                     + (", delivered outcomes" if len(bare) else " and delivered outcomes")
                     + f" ({format_gbp(by_stage['delivered'])})"
                     + (f" and rows with no stage ({format_gbp(total(bare['value_gbp']))})"
                        if len(bare) else "")
                     + ": group by stage to see them apart.")
    notes += source_notes(valued)
    eds = _known_editions(valued, tables)
    fallback = _fallback_rows(ok, eds)
    if fallback is not None and fallback[0].any():
        borrowed, pairs = fallback
        rows = ok[borrowed]
        routes = list(dict.fromkeys((r, u) for r, u, _ in pairs))  # a route per edition once
        shown = ", ".join(f"{r} -> {u}" for r, u in routes[:4]) + (", ..." if len(routes) > 4
                                                                    else "")
        known = list(dict.fromkeys(f"{r} -> {u}: {why.rstrip('.')}" for r, u, why in pairs
                                   if why))
        told = ("; what the tables say of them: " + "; ".join(known[:4])
                + ("; ..." if len(known) > 4 else "")) if known else ""
        notes.append(f"{input_rows(rows)} row(s) ({format_gbp(total(rows['value_gbp']))}) were "
                     "valued with another region's proxy, the fallback their edition declares "
                     f"where it has no figure for their own region ({shown}); region_used "
                     f"names it for each row{told}.")
    if "claim_share" in ok.columns:  # a whole that its parts left nothing of
        nothing = pd.to_numeric(ok["claim_share"], errors="coerce").to_numpy() == 0
        if nothing.any():
            rows = ok[nothing]
            ids = (sorted({str(x) for x in rows["exclusion"].dropna()})
                   if "exclusion" in rows.columns else [])
            named = f" ({', '.join(ids)})" if ids else ""
            notes.append(f"{input_rows(rows)} row(s) were counted at nothing after double "
                         f"counting{named}: the parts their exclusion counts first claim at "
                         "least as much for the same contract, leaving none of the whole; "
                         "parts claiming more than their whole are worth checking (figures "
                         "swapped or mistyped).")
        shares = pd.to_numeric(ok["claim_share"], errors="coerce").to_numpy()
        part = (shares > 0) & (shares < 1)
        if part.any():  # a whole its parts left some of: reported, as a supplier may not know
            rows = ok[part]
            reasons = _exclusion_reasons(eds, rows)
            notes.append(f"{input_rows(rows)} row(s) ({format_gbp(total(rows['value_gbp']))}) "
                         "were counted in part after double counting: each is a whole that "
                         "the parts its exclusion counts first share for the same contract, "
                         f"and counts what they leave (claim_share gives the share){reasons}.")
    notes += _whole_fraction_note(ok)
    notes += _unverified_note(ok, eds, valued)
    notes += _ratio_note(valued)
    notes += _beyond_contract_note(valued)
    unitless = _rows_without_unit(ok)
    if unitless.any():
        rows = ok[unitless]
        notes.append(f"{input_rows(rows)} row(s) ({format_gbp(total(rows['value_gbp']))}) give "
                     "no unit: each quantity was read in its measure's own unit ("
                     f"{_own_units(rows, eds)}); check that none was meant in another "
                     "(a quantity in kgCO2e read as tCO2e is 1,000 times too large).")
    notes += _row_notes(ok, eds)
    notes += _period_notes(valued.attrs.get(PERIODS_ATTR), ok, eds)
    periods = unread_periods(ok)
    if periods:
        start, end = periods
        notes.append(f"The rows have {start} and {end} columns, which were not "
                     "read: each row was valued whole at its date, not split across the "
                     "editions its period overlaps (apportion first: sv.apportion, or "
                     f"--period {shlex.quote(f'{start},{end}')}).")
    a = _assumptions_of(valued)
    if a is None:
        # How the rows were valued is not known: said, as results valued on different bases
        # and put together lose their records (a notebook analyst's review: 2024/25 and
        # 2025/26 prices were added with no word).
        notes.append("The rows carry no record of the settings they were valued with (a "
                     "frame read back from a file, or results put together with pd.concat): "
                     "whether they share one price basis and discounting cannot be said "
                     "here; value them in one call to have it checked.")
        return notes
    if a.get("apply_confidence", True):  # grades not applied reduce nothing
        notes += _partly_given(ok, "confidence", UNGRADED_NOTE)
    basis = []
    first = None  # the earliest financial year, where the discounting years differ
    if a.get("price_year") is None and {"table", "version"} <= set(ok.columns):
        used = _edition_keys(ok)
        bases = sorted({eds[k].spec.price_base_year for k in used if k in eds})
        unknown = sorted(f"{t}:{v}" for t, v in used if (t, v) not in eds)
        if len(bases) > 1:
            basis.append((f"in the prices of each edition's own year "
                          f"({', '.join(map(financial_year_text, bases))})", "price_year"))
        elif unknown and len(used) > 1:
            # The user's tables were not given: their price bases cannot be compared, which is
            # said rather than left out.
            basis.append((f"from several editions ({', '.join(unknown)}) whose price bases "
                          "are not known here (pass their tables to check)", "price_year"))
    if (a.get("discount_base_year") is None and a.get("discount_schedule") != "none"
            and "date" in ok.columns and _lasts_years(ok)):
        years = sorted({int(y) for y in _financial_year(ok["date"]).dropna()})
        if len(years) > 1:
            first = years[0]
            basis.append((f"each discounted to its own first year ({len(years)} financial "
                          f"years, {financial_year_text(years[0])} to "
                          f"{financial_year_text(years[-1])})", "discount_base_year"))
    if basis:
        # Both: one year for both, as a present value is in the prices of the year it is
        # discounted to (two different years draw the note of _price_and_discount_years).
        common = ("one year as both price_year and discount_base_year" if len(basis) > 1
                  else "a common " + basis[0][1])
        # A base year after an outcome's refuses that row: say which years serve.
        within = ("" if first is None else
                  f", no later than {first} ({financial_year_text(first)}, the rows' first "
                  "financial year),")
        notes.append(f"Values are {' and '.join(text for text, _ in basis)}: {common}"
                     f"{within} puts them on one basis.")
    mixed = _price_and_discount_years(ok, eds, a)
    if mixed:
        notes.append(mixed)
    bound = a.get("bound", "central")
    if bound != "central":
        which = {"low": "the low bound of each proxy", "high": "the high bound of each proxy",
                 "least-favourable": "the least favourable bound of each proxy (benefits "
                 "low, disbenefits high)", "most-favourable": "the most favourable bound of "
                 "each proxy (benefits high, disbenefits low)"}.get(str(bound), str(bound))
        notes.append(f"Values use {which}, where the table records one (bound): a "
                     "sensitivity figure, not the central value." + _unbounded_note(
                         ok, eds, str(bound)))
    projected = _projected_restatement(ok, eds, a.get("price_year"))
    if projected:
        notes.append(f"The restatement into {a['price_year']} prices rests on price index "
                     f"figures that are forecasts, not outturn ({projected}); the trace marks "
                     "them projected.")
    if a.get("carry_forward"):
        carried = _carried_forward(ok, eds)
        if carried:
            notes.append(f"{carried} row(s) dated after their edition's valid_to were valued "
                         "with it carried forward (carry_forward): check for a newer edition.")
    return notes


#: Where ``read_outcomes`` records how a workbook was read (its ``attrs``).
SOURCE_ATTR = "socialvalue_tom.source"


def source_notes(valued: pd.DataFrame) -> list[str]:
    """Notes on how a workbook's rows were read, from the record ``read_outcomes`` keeps in
    ``attrs``: rows and columns of the sheet that Excel hides (read and valued like the
    others: an analyst checking the sheet as Excel shows it would miss them), and other
    sheets with outcome columns, not read (a workbook of a sheet per quarter), with what to
    fix first in those whose header differs in case or spacing or sits below a title. Printed on
    the terminal as the file is read, and kept in the report's caveats and a totals file's
    notes (a data-quality steward's review: they were said on the terminal alone)."""
    source = valued.attrs.get(SOURCE_ATTR)
    if not isinstance(source, Mapping):
        return []
    notes = []
    rows, columns = source.get("hidden_rows") or [], source.get("hidden_columns") or []
    parts = []
    if rows:
        parts.append(f"{len(rows)} row(s) (sheet rows "
                     + ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "") + ")")
    if columns:
        parts.append(f"column(s) {', '.join(map(repr, columns[:10]))}"
                     + (", ..." if len(columns) > 10 else ""))
    if parts:
        notes.append(f"{' and '.join(parts)} of sheet {source.get('sheet')!r} are hidden in "
                     "Excel: they are read and valued like the others; unhide them to see "
                     "everything that is counted.")
    notes += _other_sheets_note(source)
    return notes


def _other_sheets_note(source: Mapping[str, Any]) -> list[str]:
    """The note on other sheets with outcome rows, not read: those whose header is read as it
    is, then those whose header names the columns but for case or spacing, or is below a
    title (``near_sheets``), with what to fix in each first (a data-quality steward's review:
    a quarter's sheet headed ``Measure,Quantity,...`` was left out unsaid)."""
    near = dict(source.get("near_sheets") or {})
    alike = [*(source.get("alike_sheets") or []), *near]
    if not alike:
        return []
    listed = ", ".join(map(repr, alike[:5])) + (", ..." if len(alike) > 5 else "")
    fixes = [f"in sheet {name!r} {fix}" for name, fix in near.items() if name in alike[:5]]
    return [f"Only sheet {source.get('sheet')!r} was read; the workbook's sheet(s) {listed} "
            "have outcome columns too and were not: value each with sheet=NAME"
            + (f"; first, {'; '.join(fixes)}" if fixes else "") + "."]


def _lasts_years(ok: pd.DataFrame) -> bool:
    """Whether some row lasts more than one year: discounted to its own first year, a one-year
    outcome keeps its value, so rows of several years that each last one are already on one
    basis but for their prices (a contract manager's review: the note advised a discount base
    year, and following it turned a rising trend into a falling one)."""
    years = pd.to_numeric(ok["years"], errors="coerce") if "years" in ok.columns else None
    return years is not None and bool((years > 1).any())


def _row_notes(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable]) -> list[str]:
    """Notes on what the valued rows say of themselves that may not be meant, each where it
    applies: ids that differ only by case or an invisible character (two contracts to the
    rules, one to a reader; spacing too), rows without a contract among rows with one, parts
    and wholes of an exclusion delivered under different suppliers (``eds``: the editions'
    exclusions), a stage or a
    confidence grade given for some rows and not others, a drop-off on a one-year outcome,
    and rows that repeat another exactly."""
    notes = _ids_alike_notes(ok)
    notes += _partly_given(ok, "contract_id", "name no contract_id while others do: they "
                           "are one group of their own (one double-counting group, '(none)' "
                           "by contract), not part of the contract above them; fill the id "
                           "down where they belong to it")
    notes += _partly_given(ok, "supplier_id", "name no supplier_id while others do: they "
                           "are a group of their own, so double counting is not netted between "
                           "them and the same contract's rows that name a supplier")
    notes += _partly_given(ok, "stage", "give no stage while others do: they are a group of "
                           "their own, so double counting is not netted between them and the "
                           "rows of the same contract with a stage")
    apart = _parts_under_other_suppliers(ok, eds)
    if apart:
        notes.append(apart)
    spans = _netted_across_years(ok, eds)
    if spans:
        notes.append(spans)
    if "drop_off" in ok.columns:
        drop = pd.to_numeric(ok["drop_off"], errors="coerce").to_numpy(dtype=np.float64)
        years = (pd.to_numeric(ok["years"], errors="coerce").to_numpy(dtype=np.float64)
                 if "years" in ok.columns else np.full(len(ok), np.nan))
        one_year = (drop > 0) & ~(years > 1)
        if one_year.any():
            notes.append(f"{input_rows(ok[one_year])} row(s) give a drop-off but last one "
                         "year (years blank or 1): a drop-off applies from the second year "
                         "on, so it changed nothing; give years for an outcome that lasts.")
    repeats = _repeated_rows(ok)
    if repeats:
        notes.append(f"{repeats} row(s) repeat another row exactly (every column the same): "
                     "check each is an outcome of its own, not a block pasted twice.")
    # A data-quality steward's review: the same return typed again with another case or a
    # trailing space ('C1 ', 'SCOTLAND') was counted twice, unnoticed.
    alike = _repeated_rows(ok, loose=True) - repeats
    if alike:
        notes.append(f"{alike} row(s) repeat another row but for case or surrounding spaces "
                     "in their text (C1 and 'C1 ', Scotland and SCOTLAND): check each is an "
                     "outcome of its own, not one return entered twice.")
    repeated_fte = _fte_repeated_in_a_year(ok, eds)
    if repeated_fte:
        notes.append(repeated_fte)
    return notes


def _fte_repeated_in_a_year(ok: pd.DataFrame,
                            eds: dict[tuple[str, str], ProxyTable]) -> str | None:
    """A note where rows of an FTE measure, without a period, alike in every input column but
    their quantity and date, fall at several dates of one financial year: FTE counts people
    employed over a year, so quarterly returns of the 10 FTE employed add up to 40 (a
    contract manager's review: delivered read 400% of the target, with no word). Rows
    apportioned over periods have their own note."""
    if not {"measure", "table", "version", "date"} <= set(ok.columns) or len(ok) < 2:
        return None
    bare = ok[_no_period(ok)]
    fte = _fte_rows(bare, eds) if len(bare) else np.zeros(0, dtype=bool)
    rows = bare[fte]
    if len(rows) < 2:
        return None
    named = _input_columns(rows, "date", "quantity", "unit")
    keys = [_text_codes(rows[c]) for c in named]
    # Each distinct cell's day and year worked out once (a million rows have few dates).
    found, days = _distinct_days(rows["date"])
    year = np.array([*(-1 if d is None else financial_year(d) for d in days), -1],
                    dtype=np.int64)[found]
    day = pd.factorize(np.array([*days, None], dtype=object), use_na_sentinel=False)[0][found]
    key, _ = _key_codes([*keys, year], len(rows))
    frame = pd.DataFrame({"key": key, "day": day})
    dated = frame.groupby("key")["day"].transform("nunique").to_numpy() > 1
    if not dated.any():
        return None
    return (f"{int(dated.sum())} row(s) give an FTE measure at several dates of one financial "
            "year, alike in every other column but the quantity: if they are returns of the "
            "same posts (quarterly returns of the same 10 FTE add up to 40, as FTE counts "
            "those employed over the year), keep one a year, or give each return's period "
            "(--period) so each counts its share of the year; posts of their own (hires at "
            "different dates) are each counted, as meant.")


def _text_codes(column: pd.Series) -> np.ndarray:
    """A column's cells as codes, text read without surrounding spaces (``C1 `` is ``C1``,
    in an object column or a string one alike)."""
    text = column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
    codes: np.ndarray = pd.factorize(stripped_column(column) if text else column,
                                     use_na_sentinel=False)[0]
    return codes


def _no_period(ok: pd.DataFrame) -> np.ndarray:
    """Which rows were not apportioned over a period (no ``period_row``)."""
    if "period_row" not in ok.columns:
        return np.ones(len(ok), dtype=bool)
    rows = pd.to_numeric(ok["period_row"], errors="coerce").to_numpy(dtype=np.float64)
    return np.asarray(np.isnan(rows), dtype=bool)


def _ids_alike_notes(ok: pd.DataFrame, suppliers: bool = True) -> list[str]:
    """A note per id column (contract, and supplier unless ``suppliers`` is False) where ids
    differ only by case, spacing or an invisible character: to the rules they are different
    contracts or suppliers."""
    notes: list[str] = []
    for column, what, rules in (("contract_id", "contract", "grouping, double counting, "
                                 "contract values"),
                                ("supplier_id", "supplier", "grouping, double counting")):
        if column not in ok.columns or (column == "supplier_id" and not suppliers):
            continue
        _, uniq = cell_codes(cells(ok[column]))
        texts = [t for t in (key_text(u) for u in uniq) if t is not None]
        alike: dict[str, list[str]] = {}
        for t in texts:
            alike.setdefault(id_likeness(t), []).append(t)
        split = [sorted(set(v)) for v in alike.values() if len(set(v)) > 1]
        if split:
            shown_ = "; ".join(" and ".join(map(repr, ids[:3])) for ids in split[:3])
            notes.append(f"Some {what} ids differ only by case, spacing or an invisible "
                         "character "
                         f"({shown_}{', ...' if len(split) > 3 else ''}): they are different "
                         f"{what}s to the rules ({rules}); write each id one way if they are "
                         "one.")
    return notes


def _period_notes(columns: Any, ok: pd.DataFrame,
                  eds: dict[tuple[str, str], ProxyTable]) -> list[str]:
    """Notes on rows reported for a period (``columns``: the start and end columns that
    :func:`~socialvalue_tom.apportion` recorded): FTE quantities over periods shorter than a
    year, which are FTE-years delivered in the period, not the FTE employed; and rows alike
    in every column but their periods (the same quantity, contract, measure...) whose periods
    overlap, both counted. Worked out per distinct value, not per row."""
    if not isinstance(columns, Mapping) or "period_row" not in ok.columns:
        return []
    start, end = columns.get("start"), columns.get("end")
    if start not in ok.columns or end not in ok.columns:
        return []
    rows = pd.to_numeric(ok["period_row"], errors="coerce").to_numpy(dtype=np.float64)
    parts = ok[~np.isnan(rows)]
    if not len(parts):
        return []
    # Each input column as codes (the parts of one row share every one of them), so that the
    # rows of two apportioned frames put together, numbered from 0 alike, stay apart.
    named = _input_columns(parts, start, end, "date", "quantity")
    keys = {f"k{j}": _text_codes(parts[c]) for j, c in enumerate(named)}
    whole = pd.DataFrame({"row": rows[~np.isnan(rows)], **keys,
                          "first": pd.to_datetime(parts[start], errors="coerce").to_numpy(),
                          "last": pd.to_datetime(parts[end], errors="coerce").to_numpy(),
                          "quantity": pd.to_numeric(parts["quantity"], errors="coerce")
                          .to_numpy(dtype=np.float64),
                          "share": _floats(parts, "period_share"),
                          "at": np.arange(len(parts))})
    # A row's whole period from any one of its parts: the part's days over its share (the
    # parts held may be a selection, one edition's, or some refused).
    whole["span"] = ((whole["last"] - whole["first"]).dt.days + 1) / whole["share"]
    names = ["row", *keys]
    whole = whole.groupby(names, sort=False, dropna=False).agg(
        first=("first", "min"), last=("last", "max"), quantity=("quantity", "sum"),
        span=("span", "first"), at=("at", "first")).reset_index()
    notes = []
    days = np.rint(whole["span"].to_numpy(dtype=np.float64))
    if {"measure", "table", "version"} <= set(parts.columns):
        fte = _fte_rows(parts.iloc[whole["at"].to_numpy()], eds)
        other = fte & ((days < 365) | (days > 366))
        if other.any():
            notes.append(f"{int(other.sum())} row(s) give an FTE measure over a period that is "
                         "not a year: the quantity is read as the FTE-years delivered in the "
                         "period (12 FTE employed for a quarter is 3; for two years, 24), not "
                         "the FTE employed.")
    # Alike: every input column and the whole quantity (to a millionth: its parts add up to
    # it within rounding).
    whole["q"] = np.round(whole["quantity"].to_numpy(), 6)
    alike = [*keys, "q"]
    ordered = whole.sort_values([*alike, "first"], kind="stable")
    same = ordered[alike].eq(ordered[alike].shift()).all(axis=1)
    ended = ordered.groupby(alike, dropna=False, sort=False)["last"].cummax()
    overlap = same & (ordered["first"] <= ended.shift())
    if overlap.any():
        notes.append(f"{int(overlap.sum())} row(s) report a period that overlaps another row's "
                     "alike in every other column (the same quantity, contract, measure...): "
                     "both are counted in full; check the periods.")
    # Rows alike in every input column but their figure whose periods start on one day and
    # end on others: returns of the year to date (Q1, Q1-Q2, ...), each counted in full (a
    # contract manager's review: 100 + 210 + 320 + 400 hours for the 400 the year gave).
    figure = [f"k{j}" for j, c in enumerate(named) if c != "unit"]
    ends = whole.groupby([*figure, "first"], dropna=False, sort=False)["last"].transform(
        "nunique")
    to_date = ends.to_numpy() > 1
    if to_date.any():
        notes.append(f"{int(to_date.sum())} row(s) report periods that start on the same day "
                     "and end on different days, alike in every other column but the "
                     "quantity: each is counted in full, so if they are returns of the year "
                     "to date, a later one adds what an earlier one gave again (keep the "
                     "latest, or give each return its own period); outcomes of their own "
                     "(a cohort's placements ending apart) are counted as meant.")
    # Rows alike in every input column but their figure (quantity, unit) for the very same
    # period: a corrected return sent beside the one it corrects, say. A column that tells
    # them apart (a site, a person) makes them two returns, and periods that only overlap
    # are left alone (two people hired on one contract in the same quarter), both meant.
    if "measure" in named:
        told = set(overlap[overlap].index.tolist())
        again = whole.duplicated([*figure, "first", "last"], keep="first")
        other = [i for i in again[again].index.tolist() if i not in told]
        if other:
            notes.append(f"{len(other)} row(s) report the same period as another row alike in "
                         "every other column but the quantity (a corrected return sent beside "
                         "the one it corrects?): both are counted in full; keep the return "
                         "that stands.")
    return notes


def _fte_rows(rows: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable]) -> np.ndarray:
    """Which ``rows`` have a measure counted in FTE, worked out once per distinct edition and
    measure."""
    found = [cell_codes(stripped_column(rows[c])) for c in ("table", "version", "measure")]
    key_of_row, first = _key_codes([codes for codes, _ in found], len(rows))
    fte = np.array([_is_fte(eds, *(str(uniq[codes[at]]) if codes[at] >= 0 else ""
                                   for codes, uniq in found)) for at in first.tolist()],
                   dtype=bool)
    return fte[key_of_row] if len(fte) else np.zeros(len(rows), dtype=bool)


def _is_fte(eds: dict[tuple[str, str], ProxyTable], table: str, version: str,
            measure: Any) -> bool:
    """Whether ``measure`` of that edition is counted in FTE (a per-year measure)."""
    edition = eds.get((table, version))
    spec = edition.measures.get(measure) if edition is not None and isinstance(
        measure, str) else None
    return spec is not None and spec.unit == "FTE"


def _parts_under_other_suppliers(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                                 ) -> str | None:
    """A note where a contract's delivered rows hold measures one double-counting exclusion
    nets against each other under more than one ``supplier_id``: exclusions net within a
    supplier, so a subcontractor's part (fleet savings) under its own id is counted again in
    the prime's whole (carbon saved), without a word (a carbon lead's review). Deliveries
    only: tenders' commitments on one contract are meant to stay apart."""
    if not {"supplier_id", "stage", "measure"} <= set(ok.columns) or not eds:
        return None
    read = [c for c in ("stage", "measure", "supplier_id", "contract_id") if c in ok.columns]
    rows = ok[read][(stripped_column(ok["stage"]) == "delivered").to_numpy()]  # columns read
    if not len(rows):
        return None
    measures = stripped_column(rows["measure"])
    contracts: set[str] = set()
    named: list[str] = []
    exclusions = {e.id: e for t in eds.values() for e in t.spec.exclusions}
    for ex in exclusions.values():
        at = measures.isin(ex.measures).to_numpy()
        if at.sum() < 2:
            continue
        part = pd.DataFrame({
            "contract": (_id_keys(rows.loc[at, "contract_id"]) if "contract_id" in rows
                         else ""),
            "supplier": _id_keys(rows.loc[at, "supplier_id"]),
            "measure": measures[at]})
        spread = part.groupby("contract", dropna=False).agg(
            suppliers=("supplier", "nunique"), measures=("measure", "nunique"))
        hit = spread[(spread["suppliers"] > 1) & (spread["measures"] > 1)]
        if len(hit):
            contracts.update(str(c) for c in hit.index)
            named.append(ex.id)
    if not named:
        return None
    return (f"{len(contracts):,} contract(s) have delivered rows of measures a double-counting "
            f"exclusion nets ({', '.join(named)}) under more than one supplier_id: double "
            "counting is netted within each supplier, so a subcontractor's part under its own "
            "id is not netted against the prime's whole; report subcontractors' deliveries "
            "under the prime's supplier_id where they are the same outcomes.")


def _netted_across_years(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                         ) -> str | None:
    """A note where a double-counting exclusion governs, in one group (contract, stage and
    supplier), rows of different lengths (``years``) or a row of several years beside rows
    dated in another financial year: claims are totals over each row's years, set against
    each other within the edition of each row's date, not year by year (an economist's
    review: a 3-year priority hire's 3 FTE-years took all of a 1-year row of 3 local FTE,
    and a 3-year whole was not netted against a part dated in its second year)."""
    if "years" not in ok.columns or "measure" not in ok.columns or not eds:
        return None
    years = _years_column(ok)
    if not (years > 1).any():
        return None
    measures = stripped_column(ok["measure"])
    keys = [c for c in ("contract_id", "stage", "supplier_id") if c in ok.columns]
    groups: set[tuple[Any, ...]] = set()
    named: list[str] = []
    exclusions = {e.id: e for t in eds.values() for e in t.spec.exclusions}
    for ex in exclusions.values():
        at = measures.isin(ex.measures).to_numpy()
        if at.sum() < 2 or not (years[at] > 1).any():
            continue
        whole = measures[at].to_numpy() == ex.measures[-1]  # the last measure is the whole
        part = pd.DataFrame({
            **{k: _id_keys(ok.loc[at, k]) for k in keys},
            "whole": whole, "part": ~whole, "years": years[at],
            "fy": _financial_year(ok.loc[at, "date"]).to_numpy()})
        spread = part.groupby(keys, dropna=False).agg(
            whole=("whole", "any"), part=("part", "any"), spans=("years", "nunique"),
            longest=("years", "max"), fys=("fy", "nunique")) if keys else pd.DataFrame([{
                "whole": part["whole"].any(), "part": part["part"].any(),
                "spans": part["years"].nunique(), "longest": part["years"].max(),
                "fys": part["fy"].nunique()}])
        # Parts are netted against the whole only, never against each other.
        hit = spread[spread["whole"] & spread["part"] & (
            (spread["spans"] > 1) | ((spread["longest"] > 1) & (spread["fys"] > 1)))]
        if len(hit):
            groups.update((ex.id, *(k if isinstance(k, tuple) else (k,))) for k in hit.index)
            named.append(ex.id)
    if not named:
        return None
    return (f"{len(groups):,} double-counting group(s) ({', '.join(named)}) hold rows of "
            "different lengths (years), or a row of several years beside rows dated in "
            "another financial year: each claim is the row's quantity over all its years "
            "(a 3-year hire of 1 FTE claims 3 FTE-years, all of a 1-year row of 3 FTE), set "
            "against the claims dated in the same edition's year, not year by year; to net "
            "year by year, give each year as a row of its own (years 1, dated in that year).")


def _id_keys(ids: pd.Series) -> np.ndarray:
    """Each id as the rules key it (:func:`key_text`; None for a blank), worked out once per
    distinct id."""
    codes, uniq = cell_codes(ids)
    keys = np.array([key_text(u) for u in uniq] + [None], dtype=object)
    return np.asarray(keys[codes])  # code -1, a blank cell, takes the None at the end


def _partly_given(ok: pd.DataFrame, column: str, says: str) -> list[str]:
    """A note when some rows leave ``column`` blank while others fill it."""
    blank = blank_among_filled(ok, column)
    return [] if blank is None else [f"{input_rows(ok[blank])} row(s) {says}."]


def blank_among_filled(ok: pd.DataFrame, column: str) -> np.ndarray | None:
    """The rows that leave ``column`` blank (missing, or blank text), where other rows fill
    it; ``None`` where the column is absent, or every row or none leaves it blank."""
    if column not in ok.columns:
        return None
    blank = cell_codes(cells(ok[column]))[0] < 0
    return blank if blank.any() and not blank.all() else None


#: How the notes say that some rows give no confidence grade (bid scoring names the tenders
#: in its place).
UNGRADED_NOTE = ("give no confidence grade while others do: they are counted in full, as if "
                 "their evidence were the best, while graded rows are reduced")


def _repeated_rows(ok: pd.DataFrame, loose: bool = False) -> int:
    """How many valued rows repeat another in every input column (the parts of an
    apportioned row differ by their dates, so they never count); ``loose``: text compared
    without surrounding spaces and case (``C1 `` and ``C1``, ``Scotland`` and ``SCOTLAND``),
    as a reader reads them."""
    columns = _input_columns(ok)
    if not columns or len(ok) < 2:
        return 0
    # Each column as codes of its cells; object cells compared as written (two datetimes of
    # one instant in two time zones are equal to Python, and are two days to the rules), the
    # text of each distinct cell worked out once.
    codes = []
    for c in columns:
        col = ok[c]
        if col.dtype == object:
            cells = col.to_numpy(dtype=object)
            found, uniq = pd.factorize(cells, use_na_sentinel=False)
            if any(isinstance(x, dt.datetime) and x.tzinfo is not None for x in uniq):
                # Equal instants in different zones factorise alike: each cell as written.
                found = pd.factorize(np.asarray(
                    [f"{type(x).__name__}:{x}" for x in cells], dtype=object))[0]
            else:  # the text of each distinct cell, once
                texts = [f"str:{x.strip().casefold()}" if loose and isinstance(x, str)
                         else f"{type(x).__name__}:{x}" for x in uniq]
                found = pd.factorize(np.asarray(texts, dtype=object))[0][found]
            codes.append(found)
        elif loose and (pd.api.types.is_string_dtype(col.dtype)
                        or isinstance(col.dtype, pd.CategoricalDtype)):
            # A categorical's categories too (a performance review: "C1 " and "c1" as
            # categories were never compared loosely).
            found, uniq = pd.factorize(col, use_na_sentinel=False)
            texts = [x.strip().casefold() if isinstance(x, str) else x for x in uniq]
            codes.append(pd.factorize(np.asarray(texts, dtype=object),
                                      use_na_sentinel=False)[0][found])
        else:
            codes.append(pd.factorize(col, use_na_sentinel=False)[0])
    _, first = _key_codes(codes, len(ok))
    return len(ok) - len(first)  # every row past the first of its kind


def _input_columns(frame: pd.DataFrame, *also: Any) -> list[Any]:
    """``frame``'s columns as the input gave them: not those value_frame, apportion and
    annotate add, nor ``also``."""
    from socialvalue_tom.frame import OUTPUT_COLUMNS, WRITTEN_WHERE_THEY_APPLY

    added = {*OUTPUT_COLUMNS, *WRITTEN_WHERE_THEY_APPLY, "period_row", "period_share",
             "illustrative", "theme", *also}
    return [c for c in frame.columns if c not in added]


def _price_and_discount_years(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                              a: Mapping[str, Any]) -> str | None:
    """A note where values are discounted to one year and priced in another: a present value
    on Green Book lines is in the real prices of the year it is discounted to."""
    base = a.get("discount_base_year")
    if base is None or a.get("discount_schedule") == "none":
        return None
    if a.get("price_year") is not None:
        prices = {int(a["price_year"])}
    elif {"table", "version"} <= set(ok.columns):
        prices = {eds[k].spec.price_base_year for k in _edition_keys(ok) if k in eds}
    else:
        return None
    others = sorted(p for p in prices if p != int(base))
    if not others:
        return None
    years = ", ".join(map(str, others))
    return (f"The discount base year ({base}) is not the year whose prices the values are in "
            f"({years}): a present value on Green Book lines is in the prices of the year it "
            f"is discounted to (price_year {base}).")


def _projected_restatement(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                           price_year: Any) -> str:
    """The index years, each with its index, that a restatement into ``price_year`` reads
    from a forecast (an edition's own price year or ``price_year`` at or past the index's
    ``projected_from``): "" where none, or no rows were restated."""
    if price_year is None or not {"table", "version"} <= set(ok.columns):
        return ""
    found: dict[str, set[int]] = {}
    for key in _edition_keys(ok):
        edition = eds.get(key)
        index = edition.price_index if edition is not None else None
        base = edition.spec.price_base_year if edition is not None else None
        if index is None or base is None or base == int(price_year):
            continue  # no restatement: the values are in that year's prices already
        years = {y for y in (base, int(price_year)) if index.is_projected(y)}
        if years:
            found.setdefault(index.name, set()).update(years)
    return "; ".join(f"{name} {', '.join(map(str, sorted(years)))}"
                     for name, years in sorted(found.items()))


def _fallback_rows(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable]
                   ) -> tuple[np.ndarray, list[tuple[str, str, str]]] | None:
    """Which valued rows took their proxy from another region than their own, for a measure
    whose edition has figures for some regions but not theirs, or says their figure stands in
    (a measure valued at one national figure everywhere, of which the table says nothing,
    borrows nothing, nor does a region whose own figure the value is: ``applies_in``), and the
    (own, used, the table's note on that stand-in or "") region pairs, sorted;
    worked out once per distinct edition, measure, region and region used (each column
    factorised on its own, then combined by :func:`_key_codes`). None where the editions or
    the columns are not known."""
    columns = ("table", "version", "measure", "region", "region_used")
    if not eds or not set(columns) <= set(ok.columns):
        return None
    found = [cell_codes(ok[name]) for name in columns]
    key_of_row, first = _key_codes([codes for codes, _ in found], len(ok))
    borrowed = np.zeros(len(first), dtype=bool)
    pairs: set[tuple[str, str, str]] = set()
    for j, at in enumerate(first.tolist()):
        table, version, measure, region, used = (
            uniq[codes[at]] if codes[at] >= 0 else None for codes, uniq in found)
        edition = eds.get((_label_text(table), _label_text(version)))
        code = measure.strip() if isinstance(measure, str) else None  # as valuing reads it
        spec = edition.measures.get(code) if edition is not None and code else None
        own = _region_key(eds, (table, version, region))
        if (edition is not None and spec is not None and isinstance(used, str)
                and own in edition.region_codes and own != used and used in spec.proxies):
            note = edition.region_note(str(code), str(own))
            if note is not None and note[0] == "applies":
                continue  # the value is the region's own figure (the UK Landfill Tax's rate)
            if len(spec.proxies) == 1 and note is None:
                continue  # one national figure everywhere, of which the table says nothing
            borrowed[j] = True
            pairs.add((str(own), used, note[1] if note is not None else ""))
    flags: np.ndarray = borrowed[key_of_row]
    return flags, sorted(pairs)


def _unbounded_rows(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                    bound: str) -> np.ndarray | None:
    """Which valued rows the proxy ``bound`` (``Assumptions.bound``) leaves at their central
    value: their proxy records no bound on the side the option takes for them (the low one
    of a benefit under ``least-favourable``), or their measure's expression names only
    ``proxy_low``/``proxy_high``, which no bound option moves. Worked out once per distinct
    edition, measure and region used; None where the editions or the columns are not known."""
    columns = ("table", "version", "measure", "region_used")
    if not eds or not set(columns) <= set(ok.columns):
        return None
    found = [cell_codes(ok[name]) for name in columns]
    key_of_row, first = _key_codes([codes for codes, _ in found], len(ok))
    unmoved = np.zeros(len(first), dtype=bool)
    for j, at in enumerate(first.tolist()):
        table, version, measure, used = (
            uniq[codes[at]] if codes[at] >= 0 else None for codes, uniq in found)
        edition = eds.get((_label_text(table), _label_text(version)))
        code = measure.strip() if isinstance(measure, str) else None  # as valuing reads it
        spec = edition.measures.get(code) if edition is not None and code else None
        if edition is None or spec is None or not isinstance(used, str):
            continue
        pv = spec.proxies.get(used)
        side = proxy_bound(bound, spec.disbenefit)
        expr = edition.expressions.get(spec.code)
        named = set() if expr is None else expr.names & {"proxy", "proxy_low", "proxy_high"}
        if named and "proxy" not in named:
            unmoved[j] = True  # the expression picks among the bounds itself
        elif pv is not None and side in ("low", "high") and getattr(pv, side) is None:
            unmoved[j] = True
    flags: np.ndarray = unmoved[key_of_row]
    return flags


def _unbounded_note(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable],
                    bound: str) -> str:
    """What a bound's note adds about the rows it could not move: how many, worth how much,
    of which measures. A range whose proxies mostly record no bound is much narrower than
    the uncertainty it stands for (an appraisal review: 97% of a portfolio's value sat at its
    central value in the low and the high figures alike, and only 'where the table records
    one' said so)."""
    flags = _unbounded_rows(ok, eds, bound)
    if flags is None or not flags.any():
        return ""
    rows = ok[flags]
    side = {"low": "low bound", "high": "high bound"}.get(bound, "bound on that side")
    return (f" {input_rows(rows)} of {input_rows(ok)} row(s) "
            f"({format_gbp(total(rows['value_gbp']))} of {format_gbp(total(ok['value_gbp']))})"
            f" have no recorded {side} for their proxy ({measures_named(rows)}): they are at "
            "their central value here, so this figure leaves out their proxies' uncertainty.")


def _rows_without_unit(ok: pd.DataFrame) -> np.ndarray:
    """Valued rows whose unit cell is blank, which read the quantity in the measure's
    canonical unit (all False without a unit column)."""
    if "unit" not in ok.columns:
        return np.zeros(len(ok), dtype=bool)
    units = stripped_column(ok["unit"])
    return (units.isna() | (units == "")).to_numpy()


def _own_units(rows: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable]) -> str:
    """``env-carbon-saved in tCO2e, ...`` for the measures of ``rows`` (at most four named),
    or the measures alone where their editions are not known here."""
    cols = [c for c in ("measure", "table", "version") if c in rows.columns]
    if "measure" not in cols:
        return "the unit of each row's measure"
    seen: dict[str, str] = {}
    for key in rows[cols].astype(object).drop_duplicates().itertuples(index=False, name=None):
        measure = str(key[0])
        edition = (eds.get((_label_text(key[1]), _label_text(key[2]))) if len(key) == 3
                   else None)
        spec = edition.measures.get(measure) if edition is not None else None
        seen.setdefault(measure, f"{measure} in {spec.unit}" if spec is not None else measure)
    named = [seen[m] for m in sorted(seen)]
    return ", ".join(named[:4]) + (", ..." if len(named) > 4 else "")


def _price_basis(valued: pd.DataFrame, tables: TablesLike | None = None) -> str | None:
    """The prices the valued rows' amounts are in, as a title says it: "2025/26 prices" (the
    ``price_year`` asked for, or the one price base of the editions used), "each edition's
    own prices" (several), or None where it is not known (no settings recorded, editions not
    found)."""
    a = _assumptions_of(valued)
    if a is None:
        return None
    if a.get("price_year") is not None:
        return f"{financial_year_text(int(a['price_year']))} prices"
    from socialvalue_tom.explain import remembered_edition

    ok = _valued_rows(_bare(valued))
    if not len(ok) or "digest" not in ok.columns:
        return None
    # By digest: the tables given or found, else the editions the valuation used, while they
    # are in use (a user's table valued in this process, the report made without tables=).
    by_digest = {t.digest: t for t in _known_editions(valued, tables).values()}
    bases = set()
    for digest in ok["digest"].astype(object).drop_duplicates().tolist():
        edition = by_digest.get(str(digest)) or remembered_edition(str(digest))
        if edition is None:
            return None
        bases.add(edition.spec.price_base_year)
    return (f"{financial_year_text(bases.pop())} prices" if len(bases) == 1
            else "each edition's own prices")


def _edition_keys(ok: pd.DataFrame) -> set[tuple[str, str]]:
    """The distinct (table, version) pairs of valued rows."""
    pairs = ok[["table", "version"]].astype(object).drop_duplicates()
    return {(_label_text(t), _label_text(v))
            for t, v in pairs.itertuples(index=False, name=None)}


def _carried_forward(ok: pd.DataFrame, eds: dict[tuple[str, str], ProxyTable]) -> int:
    """Input rows valued after the valid_to of the edition that valued them (worked out once
    per distinct date and edition; the parts of an apportioned row count once)."""
    if not eds or not {"date", "table", "version"} <= set(ok.columns):
        return 0
    said = ok["carried_forward"] if "carried_forward" in ok.columns else None
    if isinstance(said, pd.Series) and said.dtype == bool:
        return input_rows(ok[said.to_numpy()])  # value_frame's own word for each row
    keys = pd.DataFrame({"date": ok["date"].astype(object).map(_wall_clock),  # see above
                         "table": ok["table"].astype(object),
                         "version": ok["version"].astype(object)})
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(keys), use_na_sentinel=False)
    late = np.zeros(len(uniq), dtype=bool)
    for j, key in enumerate(uniq):
        date, table, version = cast(tuple[Any, Any, Any], key)
        edition = eds.get((_label_text(table), _label_text(version)))
        day = _day_or_none(date)
        late[j] = edition is not None and day is not None and day > edition.valid_to
    return input_rows(ok[late[codes]])  # input rows: the parts of one count once


def _caveats(frame: pd.DataFrame, issues: pd.DataFrame | None,
             tables: TablesLike | None = None, listed: bool = False) -> list[str]:
    # What every figure is, then what a decision must not rest on, then what the totals
    # leave out, and the notes on their basis last (an audit committee's review: "not cash"
    # and "not for decisions" came sixth and seventh of seven, after the notes on regions,
    # double counting and prices).
    notes = [f"Values are estimates of social value from open proxies{_adjusted(frame)}; "
             "they are not cash."]
    ok = frame[pd.to_numeric(frame["value_gbp"], errors="coerce").notna()]
    flags = (ok["illustrative"] if "illustrative" in ok.columns  # a frame built by hand has none
             else pd.Series(False, index=ok.index, dtype=object))
    illus = ok[flags.astype("boolean").fillna(False)]
    # Input rows, as the headline counts them (the parts of an apportioned row count once),
    # and of this frame only: a filtered result keeps the whole portfolio's issues in attrs.
    if len(illus):
        notes.append(
            f"{input_rows(illus)} of {input_rows(ok)} valued rows "
            f"({format_gbp(total(illus['value_gbp']))}) use proxy values labelled "
            f"<strong>illustrative</strong> ({html.escape(measures_named(illus))}): they are "
            "placeholders, not for decisions.")
    if len(ok) < len(frame):
        value = pd.to_numeric(frame["value_gbp"], errors="coerce")
        not_valued = input_rows(frame[value.isna()])
        if issues is not None and len(issues):
            where = ("listed under Rows not valued" if listed else "their issues are in the "
                     "issues file, or valued.attrs['issues'], by the rows' original labels")
            notes.append(f"{not_valued} row(s) with problems in the input were not valued "
                         f"and are left out of every total ({html.escape(where)}).")
        else:  # the issues were not kept (pd.concat drops attrs)
            notes.append(f"{not_valued} row(s) were not valued and are left out of every "
                         "total (their issues are not attached to this frame).")
    return notes + [html.escape(n) for n in basis_notes(frame, tables)]


#: The additionality adjustments, as the caveats name them.
_ADJUSTMENTS = {"deadweight": "deadweight", "displacement": "displacement",
                "attribution": "attribution", "drop_off": "drop-off"}


def _adjusted(frame: pd.DataFrame) -> str:
    """What the values are net of, as the assumptions recorded say: an adjustment set to 0
    for every outcome (``Assumptions(deadweight=0)``) is not one they are net of, and where
    none are recorded (``pd.concat`` and ``merge`` drop ``attrs``) the caveat cannot say."""
    a = _assumptions_of(frame)
    if a is None:
        return (f" after whatever {_words(list(_ADJUSTMENTS.values()))} they were valued with "
                "(not recorded with these rows)")
    zero = [word for key, word in _ADJUSTMENTS.items()
            if a.get(key) is not None and float(a[key]) == 0.0]
    kept = [word for word in _ADJUSTMENTS.values() if word not in zero]
    text = f" after {_words(kept)}" if kept else ""
    if zero:
        text += (f"{',' if kept else ''} with {_words(zero)} set to 0 for every outcome that "
                 "gives none of its own")
    return text


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _recorded(frame: pd.DataFrame, key: str) -> Any:
    """The entry ``key`` of what :func:`~socialvalue_tom.frame.value_frame` (or
    :func:`annotate`) recorded in ``attrs``, or None where it is gone (a frame re-read from a
    file, or combined with ``pd.concat``)."""
    meta = frame.attrs.get(_META)
    return meta.get(key) if isinstance(meta, dict) else None


def measures_named(rows: pd.DataFrame, most: int = 4) -> str:
    """The measures of ``rows``, stripped, in order of first appearance: ``most`` of them
    then ``and N more``, for a caveat that says which measures it is about."""
    if "measure" not in rows.columns:
        return "measures not named"
    codes = list(dict.fromkeys(str(m).strip() for m in rows["measure"].dropna()))
    more = f" and {len(codes) - most} more" if len(codes) > most else ""
    return ", ".join(codes[:most]) + more


def _stage_totals(ok: pd.DataFrame) -> dict[str, Decimal]:
    """The penny totals of the valued rows ``ok`` committed and delivered, for the stages
    present (none without a ``stage`` column)."""
    if "stage" not in ok.columns:
        return {}
    stages = stripped_column(ok["stage"])
    # Each stage compared once (an object column of a million rows: about 0.1 s a time).
    at = {st: (stages == st).to_numpy() for st in ("commitment", "delivered")}
    return {st: total(ok.loc[rows, "value_gbp"]) for st, rows in at.items() if rows.any()}


def _unstaged(ok: pd.DataFrame) -> pd.DataFrame:
    """The valued rows ``ok`` that are neither commitments nor deliveries (a blank stage)."""
    if "stage" not in ok.columns:
        return ok
    return ok[~stripped_column(ok["stage"]).isin(_STAGES).to_numpy()]


def _assumptions_of(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The assumptions the rows were valued with, or None where they are not recorded."""
    a = _recorded(frame, "assumptions")
    return a if isinstance(a, dict) else None


def _price_indices(frame: pd.DataFrame) -> dict[str, str | None]:
    """Edition digest -> the digest of the local price index it was valued with (a user
    table's index file is not part of its digest), as recorded by value_frame."""
    found = _recorded(frame, "price_indices")
    return {str(k): (str(v) if v else None) for k, v in found.items()} if isinstance(
        found, dict) else {}


def _assumptions_section(frame: pd.DataFrame) -> list[str]:
    """The settings the values were worked out with, so that a reader can reproduce them."""
    a = _assumptions_of(frame)
    if a is None:
        return ["<h2>Assumptions</h2><p>Not known: the valued rows do not carry the settings "
                "they were valued with (a frame read back from a file, or combined with "
                "pd.concat).</p>"]
    year = a.get("price_year")
    base = a.get("discount_base_year")
    schedule = a.get("discount_schedule", "green-book")
    rows = [
        ("Prices", f"financial year {financial_year_text(int(year))} prices"
         if year is not None else "each edition's own price base"),
        ("Discounting", "none (discount_schedule none)" if schedule == "none" else
         f"{schedule} rates, to financial year {financial_year_text(int(base))}"
         if base is not None else
         f"{schedule} rates, each outcome from its own first year"),
        ("Proxy values", "central values" if a.get("bound", "central") == "central"
         else f"{a['bound']} bound of each proxy"),
        *((word.capitalize(), "the table's default (an outcome's own value first)"
           if a.get(key) is None else f"{a[key]:g} (an outcome's own value first)")
          for key, word in _ADJUSTMENTS.items()),
        ("Confidence grades", "applied" if a.get("apply_confidence", True) else "not applied"),
        ("Editions past their end", "carried forward" if a.get("carry_forward")
         else "not used (each outcome valued with the edition in force on its date)"),
    ]
    table = pd.DataFrame(rows, columns=["setting", "value"])
    return ["<h2>Assumptions</h2>", _table(table, "Settings the values were worked out with")]


def editions_used(valued: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (table, version, digest) triples of the valued rows, sorted.

    Examples:
        >>> editions_used(pd.DataFrame({"table": ["t", "t", None], "version": ["1", "1", None],
        ...                             "digest": ["ab", "ab", None]}))
        [('t', '1', 'ab')]
    """
    _need(valued, ["table", "version", "digest"], "editions_used")
    columns = [valued[c] for c in ("table", "version", "digest")]
    # Each distinct (table, version, digest) read once, where rows alike in their codes hold
    # the same cells: a million rows hold a few editions, and reading every row's cells cost
    # about 4 s a million rows.
    codes = [_same_cell_codes(c) for c in columns]
    if all(c is not None for c in codes):
        _, first = _key_codes(cast(list[np.ndarray], codes), len(valued))
        columns = [c.iloc[first] for c in columns]
    cols = [c.tolist() for c in columns]
    # Read as the lookups read them: a version read back from a file as 2024.0 is "2024".
    return sorted({(_label_text(t), _label_text(v), str(d)) for t, v, d in zip(*cols, strict=True)
                   if not (pd.isna(t) or pd.isna(v) or pd.isna(d))})


def _same_cell_codes(column: pd.Series) -> np.ndarray | None:
    """Codes of ``column``'s cells (-1 missing) where cells of one code are the same value
    (categoricals, text columns, object columns of text only), so that anything worked out
    from one cell of a code holds for all; None for other columns, whose equal cells may
    differ (``1`` and ``1.0`` and ``True`` are one value to pandas, and three texts)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.intp)
    if isinstance(column.dtype, pd.StringDtype):
        return pd.factorize(column, use_na_sentinel=True)[0].astype(np.intp, copy=False)
    if column.dtype == object:
        found, uniq = pd.factorize(column.to_numpy(), use_na_sentinel=True)
        if all(type(u) is str for u in uniq):
            return found.astype(np.intp, copy=False)
    return None


#: Columns naming a contract or a supplier: read as double-counting exclusions read them.
_KEYS = ("contract_id", "supplier_id")


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its contract and supplier ids as ``_text.key_text`` reads them (once per
    distinct value), so reports count the contracts exclusions count: ``1001``, ``1001.0`` and
    ``" 1001"`` are one contract; blank is missing; a list in a cell is text, never a crash."""
    for name in _KEYS:
        if name in frame.columns:
            codes, uniq = cell_codes(frame[name])
            texts = np.array([*(key_text(u) for u in uniq), None], dtype=object)
            frame[name] = pd.Series(texts[codes], index=frame.index, dtype=object)
    return frame


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs``.

    ``value_frame`` keeps a DataFrame of issues in ``attrs``; pandas compares attrs with ``==``
    when it combines frames (concat, multi-column astype), which fails on a DataFrame.
    """
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;padding:0 1rem;
max-width:1000px;box-sizing:border-box;color:#222}p,li,caption,h1,h2{overflow-wrap:anywhere}
.table-wrap{overflow-x:auto}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0}.text,th:first-child,tbody th{text-align:left}
.hash{overflow-wrap:anywhere;word-break:break-all}
tbody th{background:none;font-weight:normal}tfoot th,tfoot td{font-weight:bold}
caption{text-align:left;font-weight:bold;padding:0.3em 0}.note{font-size:0.9em}
.caveats{background:#fff6e0;border-left:4px solid #e0a000;padding:0.5em 1em}
.terms dt{font-weight:bold}.terms dd{margin:0 0 0.5em 1.5em}
.headline{font-size:1.4em}code{font-size:0.85em}img{max-width:100%}
@media print{body{margin:0;padding:0;max-width:none}.table-wrap{overflow:visible}
thead{display:table-header-group}tr,img,.caveats{break-inside:avoid}
h2,caption{break-after:avoid}}"""


_TITLE = "Social value report"

#: The report's terms a reader outside the method cannot read without the docs (an audit
#: committee's review: "deadweight", "edition", "digest" and "claim_share" were not explained
#: anywhere on the page), each with the pattern that finds it in the page's text and what it
#: means in plain words. The glossary lists those the page uses, in this order.
_GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("Committed, delivered", r"(?i)\bcommit|\bdeliver",
     "Committed: what a supplier promised at tender to deliver on a contract, a target, not "
     "an outcome. Delivered: what the supplier reports it has actually delivered."),
    ("Proxy", r"(?i)\bprox(?:y|ies)\b",
     "A published money value for one unit of an outcome (a year of a local job, a tonne of "
     "carbon saved), used to put a pound figure on something with no market price. The "
     "values are estimates of social value, not cash."),
    ("Illustrative", r"(?i)\billustrative\b",
     "A placeholder proxy value, not taken from a checked publication: figures that rest on "
     "it are not for decisions."),
    ("Edition", r"(?i)\beditions?\b",
     "One year's version of the proxy tables. Each outcome is valued with the edition in "
     "force on its date, so outcomes in different years can be valued differently."),
    ("Prices (of a year)", r"(?i)\bprices?\b",
     "Pounds of one financial year (2024/25 prices). Prices change from year to year, so "
     "figures in different years' prices compare fairly only once restated in one year's "
     "prices (the price_year setting)."),
    ("Digest (sha256)", r"(?i)\bdigest",
     "A fingerprint of the exact table file used: it lets an auditor check that the figures "
     "can be reproduced. It is not needed to read them."),
    ("Deadweight", r"(?i)\bdeadweight",
     "The share of an outcome that would have happened anyway, without the contract. It is "
     "taken off the value."),
    ("Displacement", r"(?i)\bdisplacement",
     "The share of an outcome that only moved a benefit from elsewhere (a job filled by "
     "someone who left another local job). It is taken off the value."),
    ("Attribution", r"(?i)\battribution",
     "The share of an outcome owed to others (partners, other funding) rather than to the "
     "contract. It is taken off the value."),
    ("Drop-off", r"(?i)\bdrop-off",
     "For an outcome that lasts several years, how much of it fades each year after the "
     "first."),
    ("Discounting", r"(?i)\bdiscount",
     "Value arising in the later years of a lasting outcome is reduced, at HM Treasury Green "
     "Book rates, as money later is worth less than money now."),
    ("Confidence grades", r"(?i)confidence grade",
     "A grade of how strong the evidence for an outcome is: weaker evidence reduces the value "
     "of a benefit (an allowance for optimism)."),
    ("Disbenefits", r"(?i)\bdisbenefit",
     "Harm a contract caused (emissions added), counted as a negative value and shown apart "
     "from the benefits; net is benefits less disbenefits."),
    ("Double counting, claim_share", r"(?i)double counting|\bclaim_share\b",
     "One result reported under two measures (a hire from a priority group is also a local "
     "employee) is counted once. claim_share is the share of a row's reported amount still "
     "counted after that (0.6: 3 of 5 jobs)."),
    ("region_used", r"\bregion_used\b",
     "The region whose proxy value a row was valued with. It differs from the row's own "
     "region where the tables have no figure for that region and use a wider one's."),
    ("FTE", r"\bFTE\b",
     "Full-time equivalent: two half-time jobs count as one FTE."),
    ("Trace (explain)", r"(?i)\btrace\b",
     "The step-by-step working of one row's value, with its sources, which an officer can "
     "print with the library's explain command."),
)


def _glossary_section(body: str) -> list[str]:
    """A "Terms used in this report" section: the :data:`_GLOSSARY` entries whose term the
    page's text (``body``, the HTML of the other sections) uses, in plain words; nothing
    where it uses none."""
    words = html.unescape(re.sub(r"<[^>]*>", " ", body))
    used = [(term, meaning) for term, pattern, meaning in _GLOSSARY if re.search(pattern, words)]
    if not used:
        return []
    return ["<h2>Terms used in this report</h2>",
            "<p>What the method's words in the notes and tables mean (docs/concepts.md gives "
            "more).</p>",
            '<dl class="terms">' + "".join(
                f"<dt>{html.escape(term)}</dt><dd>{html.escape(meaning)}</dd>"
                for term, meaning in used) + "</dl>"]


@own_decimal_context
def report_html(valued: pd.DataFrame, *, title: str = _TITLE,
                tables: TablesLike | None = None, source: str | None = None,
                crosswalks: str | Sequence[str] = (), quote_cells: bool = True) -> str:
    """A self-contained HTML report of valued outcomes (no external files or network).

    Sections: headline totals; caveats, led by what the values are (estimates, not cash) and
    a warning when values labelled illustrative were used; the method's terms the page uses,
    each explained in plain words ("Terms used in this report"); totals (with a Total row)
    and a chart by theme, by stage (when there are several), by supplier (when
    ``supplier_id`` is present); targets vs delivered per contract (when ``contract_id`` and
    ``stage`` are present); the table editions and digests used; the assumptions the values
    were worked out with (from the ``attrs`` :func:`~socialvalue_tom.frame.value_frame`
    records). Issues in ``valued.attrs["issues"]`` are counted, and the first
    :data:`REPORT_ISSUES` listed under "Rows not valued".
    ``source`` names the input in the "Generated" line (the command line gives the file's
    name and sha256). ``crosswalks`` (``"ppn002"``, ``"ppn0620"``, ``"toms"``, or a list of
    them) adds totals by each crosswalk's outcome or codes, and by mission or theme for PPN
    002 and PPN 06/20 (see
    :func:`~socialvalue_tom.with_crosswalk`). A blank ``title`` raises
    :class:`~socialvalue_tom.RuleError`.

    ``quote_cells=False`` lists the rows not valued by row, line, field and code only: their
    reasons quote the cells at fault, which in a supplier's return may hold personal data (a
    name typed where a region goes), and a report is often published. In the tables, a
    stage, region, measure or unit of a row not valued reads "(not shown)" unless a valued
    row holds the same cell. The issues themselves keep their reasons
    (``valued.attrs["issues"]``, the command line's issues file).
    """
    _need(valued, (), "report_html", whole=True)
    quote_cells = flag(quote_cells, "quote_cells")
    if not isinstance(title, str) or not title.strip():
        raise RuleError(f"the report's title must be text that is not blank, not {title!r}: "
                        f"it names the page (the default is {_TITLE!r})", field="title")
    if source is not None:
        text(source, "source (the input's name)")
    for name, given in (("title", title), ("source", source)):
        _refuse_control_characters(given, name)
    frame = _with_info(valued, "theme", tables)  # an annotate()d frame needs no tables
    issues = valued.attrs.get("issues")
    listed = _issues_of(issues, frame)
    if not quote_cells:
        # The tables group rows not valued too (their counts): the cell at fault (a name
        # typed as a stage) would otherwise head a row of "By stage", as the reasons would.
        frame = _cells_at_fault_hidden(frame)
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>Generated {_generated_day().isoformat()} by socialvalue_tom {__version__}"
             f"{f' from {html.escape(source)}' if source else ''}.</p>"]
    overall = summarise(frame, by=())
    apart: str | None = None  # what the sections by group say where they leave commitments out
    if len(overall):
        net = overall["net_gbp"].iloc[0]
        valued_rows = _valued_rows(frame)
        outcomes = input_rows(valued_rows)  # input rows: the parts of one count once
        # The tables below count rows as valued: say why they count more, where they do.
        split = (f" (valued in {len(valued_rows):,} parts of their reporting periods)"
                 if len(valued_rows) != outcomes else "")
        prices = _price_basis(valued, tables)  # which a reader cannot tell from the figures
        in_prices = f", in {html.escape(prices, quote=False)}" if prices else ""
        by_stage = _stage_totals(valued_rows)
        if len(by_stage) == 2:
            # A target added to what met it is no figure to lead with: the two, apart, and
            # the rows with neither stage, which are in neither.
            bare = _unstaged(valued_rows)
            unstaged = (f"; with no stage: <strong>{_minus(format_gbp(total(bare['value_gbp'])))}"
                        "</strong>" if len(bare) else "")
            committed, delivered = (_minus(format_gbp(by_stage[s]))
                                    for s in ("commitment", "delivered"))
            # The sections by group count what was delivered: a chart "by supplier" of
            # targets added to deliveries read as twice what a supplier did (a council
            # officer's review).
            targets = ("; Targets vs delivered sets them against the deliveries"
                       if "contract_id" in frame.columns else "")
            apart = (f"Delivered outcomes{' and rows with no stage' if len(bare) else ''} "
                     f"only: the commitments ({committed}) are targets, not outcomes, and "
                     f"are left out here (By stage shows both{targets}).")
            parts.append(
                f'<p class="headline">Committed: <strong>{committed}'
                f'</strong>; delivered: <strong>{delivered}</strong>'
                # Rows, not outcomes: the commitments among them are targets (a plain-English
                # review: the headline called them outcomes, the caveats targets).
                f"{unstaged}</p><p>Net social value of {outcomes:,} rows{split}, "
                f"commitments and deliveries apart{in_prices}. All rows together net "
                f"{_minus(format_gbp(net))}, a sum that adds targets to what met them"
                f"{' (and the rows with no stage)' if len(bare) else ''}: By stage shows "
                "both, and the tables by theme, supplier and region count the deliveries"
                f"{' and the rows with no stage' if len(bare) else ' alone'}.</p>")
        else:
            parts.append(f'<p class="headline">Net social value: <strong>{_minus(format_gbp(net))}'
                         f"</strong> from {outcomes:,} outcomes{split}{in_prices}.</p>")
    caveats_at = len(parts) + 1  # the glossary follows the caveats, which use most terms
    parts.append('<h2>Caveats</h2><div class="caveats"><ul>' + "".join(
        f"<li>{c}</li>" for c in _caveats(frame, issues, tables, listed is not None))
        + "</ul></div>")
    grouped, grouped_overall = frame, overall
    if apart is not None:
        kept = (stripped_column(frame["stage"]) != "commitment").to_numpy()
        grouped = frame[kept]
        keyed, values = _keyed_contract_values(frame)
        if values is not None:
            # A contract's value is read from every row (an adversarial review: a value
            # given on its commitment rows alone read "n/a" in the tables of deliveries).
            ids = keyed["contract_id"][kept]
            grouped = grouped.assign(contract_value=ids.map(values).to_numpy())
        grouped_overall = summarise(grouped, by=())
    parts += _section(grouped, "theme", "By theme", grouped_overall, apart)
    valued_stages = _valued_rows(frame)["stage"] if "stage" in frame.columns else None
    if valued_stages is not None and stripped_column(valued_stages).nunique() > 1:
        parts += _section(frame, "stage", "By stage", overall)
    if _financial_years(frame) > 1:  # a contract's years side by side, for its annual reports
        parts += _section(grouped, "year", "By financial year", grouped_overall, apart)
    if "supplier_id" in frame.columns:
        parts += _section(grouped, "supplier", "By supplier", grouped_overall, apart)
    if _regions_valued(frame, tables) > 1:  # a reader in Wales finds the Welsh rows' total
        parts += _section(grouped, "region", "By region", grouped_overall, apart)
    parts += _crosswalk_sections(grouped, crosswalks, grouped_overall, apart)
    if {"contract_id", "stage"} <= set(frame.columns):
        # Competing tenders on one contract: each supplier against its own commitments.
        shared = bool(_shared_contracts(frame))
        tvd, tvd_total = _targets_and_total(frame, by_measure=False, by_supplier=shared,
                                            tables=None)
        # Ids written two ways are among the caveats above already.
        alike = set(_ids_alike_notes(_valued_rows(_bare(frame))))
        tvd_notes = [n for n in tvd.attrs["notes"] if n not in alike]
        adding = _targets_total_note(tvd, tvd_total) if len(tvd) else None
        if shared:
            tvd["supplier_id"] = group_labels(tvd["supplier_id"])
        for t in (tvd, tvd_total):
            t["delivered_pct"] = [f"{x:.1f}%" if not math.isnan(x) else None  # n/a, with why
                                  for x in t["delivered_pct"]]
        tvd["contract_id"] = group_labels(tvd["contract_id"])  # "(none)", as above
        parts += ["<h2>Targets vs delivered</h2>", *(
            ["<p>Per contract and supplier: some contracts have commitments from more than "
             "one supplier, each set against its own deliveries.</p>"] if shared else []),
            _table(tvd, "Committed and delivered social value per contract",
                   tvd_total if len(tvd) else None, row_headers=2 if shared else 1),
            *(f'<p class="note">{html.escape(_table_words(note))}</p>'
              for note in ([adding] if adding else []) + tvd_notes)]
    if {"table", "version", "digest"} <= set(frame.columns):  # a frame built by hand has none
        eds = pd.DataFrame(editions_used(frame), columns=["table", "version", "digest"])
        # Each edition's dates and prices, where it is known here (a contract manager's
        # review: a cabinet reader saw three labels and digests, not which year each priced).
        from socialvalue_tom.explain import remembered_edition

        by_digest = {t.digest: t for t in _known_editions(valued, tables).values()}
        found = [by_digest.get(d) or remembered_edition(str(d)) for d in eds["digest"]]
        if all(e is not None for e in found):
            eds.insert(2, "valid", [f"{e.valid_from} to {e.valid_to}" for e in found
                                    if e is not None])
            eds.insert(3, "prices", [financial_year_text(e.spec.price_base_year)
                                     for e in found if e is not None])
        indices = _price_indices(valued)
        if any(indices.get(d) for d in eds["digest"]):  # a user table's own price index
            eds["index_digest"] = [indices.get(d) or "" for d in eds["digest"]]
        # A table and its edition name a row together ("uk-national" alone names three).
        parts += ["<h2>Editions used</h2>", _table(eds, "Proxy table editions used",
                                                   row_headers=2)]
    parts += _assumptions_section(valued)
    parts += _issues_section(listed, quote_cells)
    parts[caveats_at:caveats_at] = _glossary_section("\n".join(parts))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
            f"<body>\n<main>\n{body}\n</main>\n</body></html>\n")


def _financial_years(frame: pd.DataFrame) -> int:
    """How many financial years the valued rows of ``frame`` fall in (0 without dates)."""
    ok = _valued_rows(frame)
    if "date" not in ok.columns:
        return 0
    return int(_financial_year(ok["date"]).dropna().nunique())


def year_labels(keys: pd.Series) -> list[str]:
    """Financial-year group keys as a reader writes them (2024 as "2024/25"), and rows with
    no year as :func:`group_labels` names them: the years a table or chart by year shows
    (a contract manager's review: "2023" did not say it was 2023/24)."""
    return [financial_year_text(int(k)) if _a_year(k) else label
            for k, label in zip(keys, group_labels(keys), strict=True)]


def _a_year(key: Any) -> bool:
    """Whether a group key is a year: a whole number (not a boolean), as summarise gives it."""
    if isinstance(key, bool | np.bool_) or not isinstance(key, int | np.integer | float):
        return False
    return bool(math.isfinite(key) and float(key).is_integer() and 1 <= key <= 9998)


def _table_words(note: str) -> str:
    """A targets note as the report's reader reads it: the table's column headers for the
    result's column names, and the Python call named as one."""
    for name, words in (("uncommitted_gbp", f"“{_HEADERS['uncommitted_gbp']}”"),
                        ("delivered_gbp", f"“{_HEADERS['delivered_gbp']}”"),
                        ("delivered_pct", f"“{_HEADERS['delivered_pct']}”"),
                        ("by_measure=True", "targets_vs_delivered(by_measure=True), in Python,")):
        note = note.replace(name, words)
    return note


def _generated_day() -> dt.date:
    """The day a report says it was generated: today, or the day of ``SOURCE_DATE_EPOCH``
    (seconds since 1970, in UTC) where it is set, the reproducible-builds convention, so
    that a report made again from the same input is the same file."""
    when = source_date_epoch()
    return dt.date.today() if when is None else when.date()


#: The most issues the report lists: a report is read, the issues file is for working through.
REPORT_ISSUES = 50


def _issues_of(issues: Any, frame: pd.DataFrame) -> Any:
    """The issues of the rows ``frame`` holds: pandas keeps ``attrs`` through a selection, so
    a report of one supplier's rows would otherwise list every other supplier's bad rows (and
    quote their cells). Issues are matched by their index label, which the rows keep; None
    where they cannot be matched (or there are none)."""
    if not isinstance(issues, pd.DataFrame) or not len(issues) or "value_gbp" not in frame:
        return None
    if "index" not in issues.columns:
        return issues
    rows = _recorded(frame, "rows")
    if (isinstance(rows, int) and len(frame) < rows
            and frame.index.equals(pd.RangeIndex(len(frame)))):
        return None  # cut from the start, or renumbered after a selection: cannot be told
    value = pd.to_numeric(frame["value_gbp"], errors="coerce")
    unvalued = frame.index[value.isna().to_numpy()]
    held = issues["index"].isin(frame.index).to_numpy()
    own = issues["index"].isin(unvalued).to_numpy()
    # An issue naming a row the frame holds valued, or a frame with rows not valued none of
    # the issues names: the labels no longer name the rows valued (reset_index, set_axis),
    # so none is listed rather than another row's.
    if (held & ~own).any() or (len(unvalued) and not own.any()):
        return None
    return issues if own.all() else issues[own]


def _issues_section(issues: Any, quote_cells: bool = True) -> list[str]:
    """The rows not valued and why, the first :data:`REPORT_ISSUES` of them, so that a report
    sent on its own still says which rows its totals leave out (with ``line``, the file's line
    or sheet row, where the command line adds it); without ``quote_cells``, no reasons (they
    quote the cells at fault), each code's meaning in the error reference instead."""
    if not isinstance(issues, pd.DataFrame) or not len(issues):
        return []
    # Row and field head each line: a row with several problems has one line per field, told
    # apart by the field (WCAG 1.3.1: the row number alone repeats).
    columns = [c for c in ("row", "field", "line", "code", *(["reason"] if quote_cells else []))
               if c in issues.columns]
    shown = issues[columns].head(REPORT_ISSUES)
    more = len(issues) - len(shown)
    where = ("<p>row: the row's position in the input valued, from 0 (for a file, the data row "
             "after the header)"
             + ("; line: the file's line, or the sheet's row" if "line" in columns else "")
             + ".</p>")
    tail = (f"<p>... and {more:,} more problem{'s' if more > 1 else ''} (a row may have "
            "several, one per field), listed in the issues file "
            "(<code>valued.attrs[\"issues\"]</code> in Python).</p>" if more > 0 else "")
    unquoted = ("" if quote_cells else
                "<p>The reasons, which quote the cells at fault, are left out of this report: "
                "the issues file has them, and <code>socialvalue-tom errors CODE</code> says "
                "what each code means. In the tables above, such a cell (a stage, region, "
                f"measure...) reads {NOT_SHOWN}.</p>")
    return ["<h2>Rows not valued</h2>", where, unquoted,
            _table(shown, "Rows not valued and why", row_headers=2), tail]


def _regions_valued(frame: pd.DataFrame, tables: TablesLike | None) -> int:
    """How many regions the valued rows name, spellings of one region counted once (as
    ``summarise(by="region")`` groups them); 0 without a region column."""
    rows = _valued_rows(frame)
    if "region" not in rows.columns or not len(rows):
        return 0
    # Each distinct cell read once, as summarise keys it (not a whole summarise: a review
    # timed one at 1.3 s on a million rows, only to count).
    eds = _known_editions(frame, tables)
    _, uniq = cell_codes(rows["region"])
    return len({_region_key(eds, (u,)) for u in uniq})


def _refuse_control_characters(given: str | None, name: str) -> None:
    """A :class:`~socialvalue_tom.RuleError` for a title or input name holding a control
    character (a NUL, an escape, a line break): the page would carry it unseen, and an
    HTML reader may stop at it."""
    bad = control_character(given or "")
    if bad is not None:
        raise RuleError(f"the report's {name} has a control character ({bad!r}): give text "
                        "of one line, without control characters", field=name)


#: What a report without quoted cells shows in place of a cell at fault (see
#: :func:`_cells_at_fault_hidden`).
NOT_SHOWN = "(not shown)"

#: The columns whose cells of rows not valued a report may hide: those it groups rows by
#: and checks against a list (the ids are the supplier's own names for its contracts, shown
#: as given, and a contract's value is read per id).
_GROUPED_TEXT = ("stage", "region", "measure", "unit")


def _cells_at_fault_hidden(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the grouped cells (:data:`_GROUPED_TEXT`) of rows not valued read as
    :data:`NOT_SHOWN`, unless a valued row holds the same cell: a report's tables count such
    rows in their groups, and the group's label would be the cell. Cells valued rows hold
    were accepted (``commitment``, a known region) and are shown anyway; any other may be
    the fault, whether or not an issue names it (a row with an unknown measure has its stage
    unchecked, and a name typed there headed a row of "By stage": an adversarial review)."""
    value = pd.to_numeric(frame["value_gbp"], errors="coerce") if "value_gbp" in frame else None
    if value is None or not value.isna().any():
        return frame
    unvalued = value.isna().to_numpy()
    out = frame.copy()
    for column in _GROUPED_TEXT:
        if column not in out.columns:
            continue
        codes, _ = cell_codes(out[column])  # each distinct cell once (-1: a blank)
        accepted = np.unique(codes[~unvalued])
        hide = unvalued & (codes >= 0) & ~np.isin(codes, accepted)
        if hide.any():
            out[column] = out[column].astype(object).where(~hide, NOT_SHOWN)
    return out


def _section(frame: pd.DataFrame, by: str, heading: str, overall: pd.DataFrame,
             apart: str | None = None) -> list[str]:
    """Totals by ``by``, their Total row (``overall``: the one-row summary of the whole
    frame, worked out once for every section) and a chart. ``apart``: where ``frame`` holds
    the deliveries only (the commitments left out, as a target added to what met it is no
    figure), what the section says of them."""
    s = _summarise(frame, by=by)
    col = GROUPS.get(by, by)
    # A hidden cell reads as itself in every section, the region's included (which groups
    # by the normalised name).
    hidden = {NOT_SHOWN, normalise_region(NOT_SHOWN)}
    keys = year_labels(s[col]) if by == "year" else group_labels(s[col])
    s[col] = [NOT_SHOWN if k in hidden else k for k in keys]  # as charted
    total = overall.assign(**{col: _total_label(s[col])})[s.columns]
    words = heading[0].lower() + heading[1:]  # "by PPN 002 outcome"
    what = "delivered social value" if apart else "social value"
    chart = _chart(s[col].tolist(), [float(x) for x in s["net_gbp"]],
                   f"Net {what} {words}", f"{what.capitalize()} {words}")
    notes = [n for n in (_rounding_note(s, total), ratio_spread_note(s)) if n]
    return [f"<h2>{heading}</h2>", *([f"<p>{html.escape(apart)}</p>"] if apart else []),
            _table(s, f"{what.capitalize()} {words}", total),
            *(f'<p class="note">{html.escape(n)}</p>' for n in notes), chart]


#: The heading of a crosswalk's section in the report.
_CROSSWALK_HEADINGS = {"ppn002": "By PPN 002 outcome", "ppn0620": "By PPN 06/20 outcome",
                       "toms": "By National TOMs codes"}
#: The headings of the sections by a crosswalk's higher group, after the one by its outcome
#: (a social value manager's review: central-government contracts report by PPN 06/20 theme,
#: which the command line totalled and the report did not).
_HIGHER_HEADINGS = {"ppn002_mission": "By PPN 002 mission", "ppn0620_theme": "By PPN 06/20 theme"}


def _crosswalk_sections(frame: pd.DataFrame, crosswalks: str | Sequence[str],
                        overall: pd.DataFrame, apart: str | None = None) -> list[str]:
    """A section of totals per crosswalk named, by its first group (the outcome, or the TOMs
    codes), with the crosswalk's caveat: what was checked, and to verify it before a tender;
    then one by its higher group where it has one (PPN 002's missions, PPN 06/20's themes)."""
    from socialvalue_tom.tables.crosswalk import CROSSWALK_GROUPS, load_crosswalk, with_crosswalk

    parts: list[str] = []
    names = [crosswalks] if isinstance(crosswalks, str) else list(crosswalks)  # one, by name
    for name in dict.fromkeys(names):  # each once, in the order given
        meta = load_crosswalk(name).attrs["crosswalk"]
        fields = CROSSWALK_GROUPS.get(name, ("codes",))
        column = f"{name}_{fields[0]}"
        heading = _CROSSWALK_HEADINGS.get(name, f"By {name}")
        grouped = with_crosswalk(frame, name)
        section = _section(grouped, column, heading, overall, apart)
        source = meta["source"].get("title", "")
        # Each file's own caveat (a crosswalk review: one sentence for all said the TOMs
        # codes, recalled rather than read, were "compiled from public sources").
        about = (f"<p>Each measure's group in the crosswalk <code>{html.escape(name)}</code> "
                 f"({html.escape(str(meta['title']))}; source: {html.escape(str(source))}): "
                 f"{html.escape(str(meta['caveat']), quote=False)}; "
                 f"{html.escape(str(meta['amounts']), quote=False)}.</p>")
        parts += [section[0], about, *section[1:]]
        for field in fields[1:]:
            higher = f"{name}_{field}"
            heading = _HIGHER_HEADINGS.get(higher, f"By {name} {field}")
            section = _section(grouped, higher, heading, overall, apart)
            # The same crosswalk and its caveat, said once above.
            said = (f"<p>The {html.escape(field)} of each outcome above, from the same crosswalk "
                    f"<code>{html.escape(name)}</code> and with the same caveat.</p>")
            parts += [section[0], said, *section[1:]]
    return parts


@own_decimal_context
def render_report(valued: pd.DataFrame, path: str | os.PathLike[str], *, title: str = _TITLE,
                  tables: TablesLike | None = None, source: str | None = None,
                  crosswalks: str | Sequence[str] = (), quote_cells: bool = True) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8) and return the path."""
    from socialvalue_tom.io import write_through_temp

    out = Path(path)
    page = report_html(valued, title=title, tables=tables, source=source,
                       crosswalks=crosswalks, quote_cells=quote_cells)
    # Through a temporary file renamed into place, as the valued files are written: a
    # symbolic link at ``path`` is replaced, not followed, and a failed write keeps the
    # previous report.
    def write(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8", newline="\n")

    write_through_temp(out, write)
    return out
