"""Reading outcome files and writing valuations: CSV, Excel (``.xlsx``) and Parquet.

Text columns stay text. :data:`TEXT_COLUMNS` (``measure``, ``unit``, ``region``, ``date``,
``contract_id``, ``supplier_id``, ``stage``, ``confidence``) are read as strings in every format:
pandas does not parse the dates (``value_frame`` does, and reports a bad one by its row) and does
not turn a contract code such as ``007`` into the number 7. Other columns keep the types the
reader infers (numbers for ``quantity``, ``years``...).

The same rows give the same values from CSV and ``.xlsx``: only an empty cell is missing (text
such as ``NA``, ``N/A``, ``null`` or ``nan`` stays text, as a spreadsheet keeps it); header
names are stripped of surrounding spaces, and a blank or repeated column name, or a value with
no column name (past the last named column), is refused rather than renamed or dropped, naming
its CSV line or sheet cell. An ``.xlsx`` formula is read as the result Excel saved with it; a
formula saved with no result (a workbook written by a program that does not calculate, such as
openpyxl) would read as an empty cell, so the file is refused naming those cells.
Blank lines and rows are skipped; :func:`source_lines` gives the line or sheet row a data
row came from. A CSV quote that opens a value and is not closed where the value ends, which
would make the lines after it part of that value, is refused naming its lines. An ``.xlsx``
file is read from its first visible sheet unless ``sheet=`` names or numbers one (hidden or
not); its header row must be row 1. A ``quantity`` or ``contract_value`` cell whose number
format shows another figure than it holds (``#,##0,``: in thousands; ``0%``: as a per cent) is
read as a :class:`~socialvalue_tom._workbook.ScaledByFormat`, which valuation refuses by its
row (``number-format``).

Optional dependencies are imported only when a format needs them: Parquet needs ``pyarrow``
(``pip install 'socialvalue_tom[parquet]'``) and Excel needs ``openpyxl``
(``pip install 'socialvalue_tom[excel]'``).

Every problem with the file itself (missing, empty, unknown extension, undecodable bytes,
unreadable sheet) raises :class:`InputFileError`, an :class:`~socialvalue_tom.OutcomeError` whose
``path`` attribute names the file.

Added in 0.1.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import hashlib
import html
import itertools
import json
import math
import os
import posixpath
import re
import stat
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom._args import chunk_size, frame, mapping, not_text, text
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._extras import import_extra
from socialvalue_tom._text import (
    COMMA_DECIMAL,
    GROUPED_NUMBER,
    cell_codes,
    is_missing,
    key_text,
    key_texts,
    name_key,
    quoted,
    shortened,
)
from socialvalue_tom._workbook import (
    save_workbook,
    scaled_by_format,
    uncalculated_cells,
)
from socialvalue_tom.errors import InputFileError, RuleError, SocialValueError
from socialvalue_tom.tables.schema import FRACTION_COLUMNS

__all__ = [
    "SUFFIXES",
    "TEXT_COLUMNS",
    "InputFileError",
    "csv_column_types",
    "dates_read_day_first",
    "dates_read_month_first",
    "file_source",
    "iter_outcome_batches",
    "provenance",
    "read_outcomes",
    "read_provenance",
    "source_lines",
    "write_through_temp",
    "write_valuations",
]

#: Columns always read as text (never parsed as dates or numbers).
TEXT_COLUMNS = ("measure", "unit", "region", "date", "contract_id", "supplier_id", "stage",
                "confidence")
#: File extensions understood by :func:`read_outcomes` and :func:`write_valuations`.
SUFFIXES = (".csv", ".xlsx", ".parquet")
#: Rows an ``.xlsx`` sheet can hold (including the header).
EXCEL_MAX_ROWS = 1_048_576
_EXTRAS = {"pyarrow": "parquet", "openpyxl": "excel"}


def _fail(path: Path, reason: str, **details: Any) -> InputFileError:
    return InputFileError(f"{path}: {reason}", path=str(path), **details)


def _require(module: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it."""
    return import_extra(module, _EXTRAS[module.split(".")[0]], "this file format")


#: File types people save outcome returns in that cannot be read, and what to save instead.
_SAVE_AS = {
    ".xls": "an Excel 97-2003 workbook: save it as an Excel Workbook (.xlsx) or as CSV UTF-8",
    ".xlsm": "a macro-enabled workbook: save it as an Excel Workbook (.xlsx)",
    ".xlsb": "a binary workbook: save it as an Excel Workbook (.xlsx)",
    ".ods": "an OpenDocument spreadsheet: save it as an Excel Workbook (.xlsx) or as CSV "
            "UTF-8",
    ".numbers": "a Numbers spreadsheet: export it as Excel (.xlsx) or CSV",
    ".txt": "text: if its values are separated by commas, rename it .csv",
    ".tsv": "tab-separated text: save it as CSV UTF-8",
}
#: The first bytes of files that are not what their name says, and what they are.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive, most likely an Excel workbook: rename it .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "an Excel 97-2003 workbook (or another old Office file): save it as .xlsx or CSV UTF-8"),
    (b"PAR1", "a Parquet file: rename it .parquet"),
    (b"%PDF", "a PDF document: export the table as .xlsx or CSV UTF-8"),
)


#: The stream an encrypted Office Open XML file keeps its workbook in, as named in the
#: compound file's directory (UTF-16LE): Excel saves a workbook with a password so.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTED = ("a password-protected or encrypted Excel workbook (a sensitivity label may "
              "encrypt one): remove the password (File > Info > Protect Workbook) or the label, "
              "and save it again")


def _encrypted_workbook(p: Path) -> bool:
    """Whether ``p`` is an encrypted workbook: a compound file (as an old .xls is) holding
    an ``EncryptedPackage`` stream; its directory is near the start (the first MiB read)."""
    try:
        with p.open("rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return False
    return head.startswith(_MAGIC[1][0]) and _ENCRYPTED_PACKAGE in head


def _what_file_is(p: Path) -> str | None:
    """What ``p`` holds by its first bytes, where that is not what its name says: a workbook
    renamed .csv, a CSV renamed .xlsx (None where it cannot be told or read)."""
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if _encrypted_workbook(p):  # a compound file as an old .xls is, but not one
        return _ENCRYPTED
    return next((what for magic, what in _MAGIC if head.startswith(magic)), None)


def _check_input(path: str | os.PathLike[str]) -> tuple[Path, str]:
    if not isinstance(path, str | os.PathLike):
        # A caller's mistake, as load_table's: an upload held in memory has no extension to
        # say how it is read, and the readers name a problem by the file's line and byte.
        raise TypeError(f"an outcome file is read from its path (str or pathlib.Path), not "
                        f"{type(path).__name__}: write an upload held in memory to a temporary "
                        "file named with its extension (.csv, .xlsx, .parquet) first")
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        advice = _SAVE_AS.get(suffix)
        raise _fail(p, f"unknown file type {p.suffix or '(no extension)'!r}: expected one of "
                       f"{', '.join(SUFFIXES)}" + (f" (this is {advice})" if advice else ""),
                    suffix=p.suffix)
    if not p.is_file():
        raise _fail(p, "no such file")
    if p.stat().st_size == 0:
        raise _fail(p, "the file is empty: expected a header row and outcome rows")
    return p, suffix


# -- reading ------------------------------------------------------------------------------------

def _checked_input(path: str | os.PathLike[str], sheet: str | int | None) -> tuple[Path, str]:
    """:func:`_check_input`, and a ``sheet`` given for a file that has none refused."""
    p, suffix = _check_input(path)
    if sheet is not None and suffix != ".xlsx":
        raise _fail(p, f"sheet={sheet!r} applies to .xlsx files only")
    return p, suffix


#: The columns :func:`dates_read_day_first` and :func:`dates_read_month_first` read: an
#: outcome's day and its period's ends.
DATE_COLUMNS = ("date", "period_start", "period_end")
#: A date written day first with a four-digit year (30/06/2025, 30.06.2025, 30-06-2025), as
#: Excel saves a date column in a UK locale; a time of day of midnight (30/06/2025 00:00), as
#: it saves a date-time cell, is the day. ASCII digits only, as the ISO reading takes; a
#: two-digit year is left alone (25-06-30 may be year first, 1/2/99 of another century).
_DAY_FIRST_CELL = re.compile(r"\s*([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]{4})"
                             r"(?:[ T]0?0:00(?::00)?)?\s*")


def dates_read_day_first(frame: pd.DataFrame,
                         columns: Sequence[str] = DATE_COLUMNS) -> pd.DataFrame:
    """``frame`` with each text cell of its ``date``, ``period_start`` and ``period_end``
    columns (or the ``columns`` named: a period's, named otherwise) written day first, as the
    UK writes dates (``30/06/2025``, ``3.4.2025``, ``03-04-2025``: day, month and four-digit
    year, with ``/``, ``.`` or ``-``; a time of day of midnight, as Excel saves a date-time
    cell, is the day), as the ISO date it means (``2025-06-30``, ``2025-04-03``). The
    valuation reads ISO dates only, as ``03/04/2025`` is 3 April in the UK and 4 March in the
    US: call this (``--day-first`` on the command line) for a file known to write dates day
    first. Other cells are left as they are: a day that does not exist (``31/04/2025``), a
    two-digit year (``25-06-30`` may be year first) or another time of day is still refused,
    by the valuation, with its hint. A column holding a date only month first reads
    (``06/30/2025``, as the US writes dates) raises :class:`RuleError`: its other dates are
    month first too. A new frame where a cell was read, else ``frame`` itself;
    ``attrs["socialvalue_tom.day_first"]`` counts the cells read. For a file written month
    first, :func:`dates_read_month_first`.

    Examples:
        >>> df = pd.DataFrame({"date": ["30/06/2025", "2025-07-01", "3.4.2025", "31/04/2025"]})
        >>> dates_read_day_first(df)["date"].tolist()
        ['2025-06-30', '2025-07-01', '2025-04-03', '31/04/2025']
    """
    return _dates_read(frame, columns, month_first=False)


def dates_read_month_first(frame: pd.DataFrame,
                           columns: Sequence[str] = DATE_COLUMNS) -> pd.DataFrame:
    """As :func:`dates_read_day_first`, for a file known to write dates month first, as the
    US writes them (``06/30/2025``, ``4/3/2025``, ``04-03-2025``: month, day and four-digit
    year; ``--month-first`` on the command line), as Excel saves a date column where the
    computer's locale is the US's: ``04/03/2025`` is read as 3 April 2025. A column holding
    a date only day first reads (``30/06/2025``, as the UK writes dates) raises
    :class:`RuleError`: its other dates are day first too, and read month first they would
    be other days. ``attrs["socialvalue_tom.month_first"]`` counts the cells read.

    Examples:
        >>> df = pd.DataFrame({"date": ["06/30/2025", "2025-07-01", "4/3/2025", "04/31/2025"]})
        >>> dates_read_month_first(df)["date"].tolist()
        ['2025-06-30', '2025-07-01', '2025-04-03', '04/31/2025']
    """
    return _dates_read(frame, columns, month_first=True)


def _dates_read(frame: pd.DataFrame, columns: Sequence[str], *,
                month_first: bool) -> pd.DataFrame:
    """:func:`dates_read_day_first` (``month_first`` False) or
    :func:`dates_read_month_first`."""
    reading = _iso_month_first if month_first else _iso_day_first
    out, read = frame, 0
    for name in dict.fromkeys(columns):
        if name not in frame.columns:
            continue
        twins = int((frame.columns == name).sum())
        if twins > 1:
            raise RuleError(f"the frame has {twins} columns named {name!r}: keep one, so that "
                            "its dates are read once", field=name)
        column = frame[name]
        if not _holds_text(column.dtype):
            continue
        codes, uniq = pd.factorize(column, use_na_sentinel=True)
        iso = [reading(u) for u in uniq]
        if not any(d is not None for d in iso):
            continue
        _refuse_other_order(name, list(uniq), month_first=month_first)
        cells = column.astype(object).to_numpy()
        new = np.array([d if d is not None else u for d, u in zip(iso, uniq, strict=True)]
                       + [None], dtype=object)
        rewritten = np.array([d is not None for d in iso] + [False])[codes]
        read += int(rewritten.sum())
        cells = np.where(rewritten, new[codes], cells)
        if out is frame:
            out = frame.copy()
        # The column's own type kept: text stays text (a str column), mixed cells object.
        out[name] = pd.Series(cells, index=frame.index, name=name, dtype=object).astype(
            column.dtype if pd.api.types.is_string_dtype(column.dtype) else object)
    if out is not frame:
        out.attrs["socialvalue_tom.month_first" if month_first
                  else "socialvalue_tom.day_first"] = read
    return out


def _refuse_other_order(name: str, cells: list[Any], *, month_first: bool) -> None:
    """Refuse to read column ``name`` day first (or, ``month_first``, month first) where one
    of its ``cells`` is a date only in the other order (``06/30/2024``, as the US writes
    dates, or ``30/06/2024``, as the UK does): the column's other dates are in that order
    too, and ``07/01/2024`` read the other way would be another day, with no word (a
    data-quality steward's review)."""
    asked, other = (_iso_month_first, _iso_day_first) if month_first else (_iso_day_first,
                                                                          _iso_month_first)
    only = next((c for c in cells if other(c) is not None and asked(c) is None), None)
    if only is None:
        return
    both = next((c for c in cells if asked(c) is not None and other(c) is not None
                 and asked(c) != other(c)), None)
    meant = dt.date.fromisoformat(str(other(only)))
    example = ""
    if both is not None:
        day = dt.date.fromisoformat(str(asked(both)))
        instead = dt.date.fromisoformat(str(other(both)))
        example = (f" ({both.strip()} would be read as {day.day} {day:%B %Y}, not "
                   f"{instead.day} {instead:%B %Y})")
    order, its = ("month", "day") if month_first else ("day", "month")
    writer = "UK" if month_first else "US"
    raise RuleError(f"column {name!r} cannot be read {order} first: it holds "
                    f"{only.strip()!r}, a date only when read {its} first ({meant.day} "
                    f"{meant:%B %Y}, as the {writer} writes dates), so its other dates are "
                    f"{its} first too{example}: read it {its} first (dates_read_{its}_first), "
                    "or write the dates as YYYY-MM-DD", field=name)


def _month_first_only(cell: Any) -> str | None:
    """The ISO date a text cell means where it is a date only when read month first
    (``06/30/2024``: there is no 30th month), or None."""
    return _iso_month_first(cell) if _iso_day_first(cell) is None else None


def _iso_day_first(cell: Any) -> str | None:
    """The ISO date a text cell written day first means, or None (not such a cell, or no
    such day: 31/04/2025 is refused by the valuation, as given)."""
    return _iso_date(cell, month_first=False)


def _iso_month_first(cell: Any) -> str | None:
    """The ISO date a text cell written month first means, or None (not such a cell, or no
    such day: 04/31/2025 is refused by the valuation, as given)."""
    return _iso_date(cell, month_first=True)


def _iso_date(cell: Any, *, month_first: bool) -> str | None:
    if not isinstance(cell, str) or (m := _DAY_FIRST_CELL.fullmatch(cell)) is None:
        return None
    month, day = (int(m[1]), int(m[3])) if month_first else (int(m[3]), int(m[1]))
    try:
        return dt.date(int(m[4]), month, day).isoformat()
    except ValueError:
        return None


def read_outcomes(path: str | os.PathLike[str], *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read an outcome file (``.csv``, ``.xlsx`` or ``.parquet``) into a DataFrame.

    CSV is UTF-8 (a byte-order mark is fine), separated by commas, semicolons or tabs (the one
    that splits the header row into the most fields); only an empty field is missing. Numbers
    use '.' as the decimal mark: in a semicolon-separated file (as Excel writes one where the
    decimal mark is a comma), or in a comma- or tab-separated file where another amount is
    written with a decimal comma (``2,5``, ``1.500,25``, as LibreOffice saves numbers as
    shown), a ``quantity`` or ``contract_value`` cell such as ``12.500``, where '.' would group
    thousands, refuses the file (:class:`InputFileError` naming the cells) unless another such
    cell shows '.' as a decimal mark (``12.5``, ``0.125``); ``2,5`` is not a number (a row
    issue).

    Args:
        path: the file; the format comes from its extension.
        sheet: for ``.xlsx`` only, a sheet name or 0-based position (default: the first
            visible sheet).

    Returns:
        One row per outcome, :data:`TEXT_COLUMNS` as strings, ready for ``value_frame``. For
        ``.xlsx``, ``attrs["socialvalue_tom.source"]`` names the sheet read, the workbook's
        sheets, the hidden rows and columns read, and (sheet picked by default) the other
        visible sheets with outcome rows, not read: those whose row 1 has the outcome columns
        (``alike_sheets``), and, each with what to fix first, those whose header names them
        but for case or spacing, or is below a title (``near_sheets``: name to fix).

    Raises:
        InputFileError: missing, empty or undecodable file (named by line and byte), unknown
            extension, a CSV quote not closed where its value ends, blank or repeated column
            names (repeated names in a Parquet file too), or a sheet that cannot be read as a
            table (missing sheet, merged cells, header row not in row 1).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
        >>> _ = p.write_text("measure,quantity,unit,region,date,contract_id\\n"
        ...                  "jobs-local,2,FTE,london,2024-05-01,007\\n")
        >>> df = read_outcomes(p)
        >>> df.loc[0, "contract_id"], df.loc[0, "date"], float(df.loc[0, "quantity"])
        ('007', '2024-05-01', 2.0)
    """
    p, suffix = _checked_input(path, sheet)
    if suffix == ".csv":
        return _read_csv(p)
    if suffix == ".xlsx":
        return _read_xlsx(p, sheet)
    pq = _require("pyarrow.parquet")
    try:
        names = pq.read_schema(p).names
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _fail(p, f"not a readable Parquet file ({exc})") from exc
    dup = sorted(n for n, k in Counter(names).items() if k > 1)
    if dup:
        # pyarrow's reader fails on them with a dump of the schema ("Multiple matches...").
        raise _fail(p, f"repeated column name(s) {', '.join(dup)}: every column needs its own "
                       "name", columns=dup)
    try:
        table = pq.read_table(p)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _fail(p, f"not a readable Parquet file ({exc})") from exc
    return _arrow_to_pandas(_arrow_text(p, table), path=p)


@dataclass(frozen=True)
class _CsvLayout:
    """How pandas is told to read a CSV file's columns.

    ``header`` is the header row under the rules of :func:`_header` (names stripped, repeated
    or blank names refused), so CSV and ``.xlsx`` headers mean the same. ``extra`` names one
    placeholder column per field the first data row has beyond the header: without them pandas
    would make the first column the index (shifting every column left) or, with
    ``index_col=False``, silently drop those fields.
    """

    header: list[str]
    extra: list[str]
    delimiter: str = ","

    @property
    def names(self) -> list[str]:
        return [*self.header, *self.extra]


#: Layouts worked out inside :func:`layouts_remembered`, by file (path, size, mtime).
_LAYOUTS: ContextVar[dict[tuple[str, int, int], _CsvLayout] | None] = ContextVar(
    "csv_layouts", default=None)


@contextlib.contextmanager
def layouts_remembered() -> Iterator[None]:
    """Inside, each CSV file's layout (header, separator, and the check of its numbers, which
    may read every record) is worked out once, however many times the file is read: for a
    caller such as ``value_file`` that reads one file in several passes."""
    token = _LAYOUTS.set({})
    try:
        yield
    finally:
        _LAYOUTS.reset(token)


def _csv_layout(p: Path) -> _CsvLayout:
    """:func:`_read_layout`, remembered inside :func:`layouts_remembered`."""
    memo = _LAYOUTS.get()
    if memo is None:
        return _read_layout(p)
    try:
        stat = p.stat()
        key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError:
        return _read_layout(p)  # it says what is wrong
    if key not in memo:
        memo[key] = _read_layout(p)
    return memo[key]


#: How far down a file or sheet a header row below a title is looked for.
_HEADER_SEARCH_ROWS = 20
#: Excel's first line naming a CSV file's separator (``sep=;``), which it reads and hides.
_EXCEL_SEPARATOR_LINE = re.compile(r"\s*sep=.\s*")


def _names_outcome_columns(cells: Iterable[Any]) -> bool:
    """Whether ``cells`` read as a header row: they name ``measure`` and ``quantity``."""
    names = {c.strip() for c in cells if isinstance(c, str)}
    return {"measure", "quantity"} <= names


def _header_not_first(p: Path, where: str, word: str, at: int,
                      **details: Any) -> InputFileError:
    """The error for a header row found at ``word`` (line or row) ``at``, below the first."""
    return _fail(p, f"{where}{word} {at} looks like the header row (it names measure and "
                    f"quantity) but the header row must be {word} 1: delete the {word}(s) "
                    "above it (a title or details above the table)", **details)


def _refuse_lines_above_header(p: Path, delimiter: str, first: list[str]) -> None:
    """Refuse a file whose header row is not its first: Excel's ``sep=;`` line, a title or
    a line of details (supplier, period) above the table. Read as the header, it gave advice
    that did not fit ("remove the value", "rename the columns")."""
    text = delimiter.join(first)  # 'sep=;' is split at its own separator
    if _EXCEL_SEPARATOR_LINE.fullmatch(text):
        raise _fail(p, f"line 1 is Excel's separator line ({text.strip()!r}): delete it "
                       "(the separator is read from the header row, which must be line 1)",
                    line=1)
    if _names_outcome_columns(first):
        return
    with contextlib.closing(_csv_records(p, delimiter)) as records:
        for line, record in itertools.islice(records, _HEADER_SEARCH_ROWS):
            if line > 1 and _names_outcome_columns(record):
                raise _header_not_first(p, "", "line", line, line=line)


def _read_layout(p: Path) -> _CsvLayout:
    """Read the header row and the first data row with the csv module (blank lines skipped, as
    pandas skips them)."""
    _refuse_utf16(p)
    delimiter = _delimiter(p)
    try:
        # errors="replace": undecodable bytes are reported by pandas, which reads every byte,
        # in the batch where they are (this peek decodes the file's first block only).
        with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            rows = (r for r in csv.reader(fh, delimiter=delimiter) if not _blank_line(r))
            first = next(rows, None)
            try:
                data = next(rows, None)
            except csv.Error as exc:
                if "field larger than field limit" not in str(exc):
                    raise
                # A well-quoted value longer than the csv module's limit in the first data
                # row: its width is not known here; pandas reads the row (and refuses more
                # fields than the header names).
                data = None
    except csv.Error as exc:
        raise _malformed(p, exc) from exc
    if first is None:
        raise _no_header(p)
    _refuse_lines_above_header(p, delimiter, first)
    cells = tuple(c if c.strip() else None for c in first)
    if all(c is None for c in cells):
        raise _fail(p, "the header row is blank: expected the column names in the first row")
    header = _header(p, "header row", cells, lambda: data or [])
    prefix = "\x00extra"
    while any(h.startswith(prefix) for h in header):  # never clash with a real column name
        prefix += "_"
    width = len(data) if data is not None else 0
    if width > MAX_COLUMNS:
        raise _fail(p, f"the first data row has {width:,} fields, more than the "
                       f"{MAX_COLUMNS:,} columns a worksheet holds: not a table of outcomes "
                       "(a line of separators?)", width=width)
    _refuse_grouped_numbers(p, header, delimiter)
    return _CsvLayout(header, [f"{prefix}{i}" for i in range(max(0, width - len(header)))],
                      delimiter)


#: The most columns a file may have (Excel's 16,384): a header or first data row beyond it is
#: refused before pandas builds a frame that wide (a line of two million separators would
#: otherwise cost minutes and gigabytes).
MAX_COLUMNS = 16_384
#: The most bytes the parts of an ``.xlsx`` file may decompress to, and the most times its
#: own size: a small file can hold gigabytes of XML (a zip bomb), which openpyxl would read
#: whole, building an object per cell.
MAX_XLSX_BYTES = 512 * 1024 * 1024
MAX_XLSX_RATIO = 100
#: Below this many decompressed bytes the ratio is not checked (a small workbook of repeated
#: values can compress far better than a large one).
MIN_XLSX_CHECKED = 8 * 1024 * 1024
#: The most cells (``<c>`` elements, empty ones too) a workbook's sheets may hold per byte of
#: the file, and at least: openpyxl builds an object per cell (some 6 us and 300 bytes each),
#: and empty cells compress to a twentieth of a byte, so a 1 MB file within the size limits
#: held 20 million of them (115 s, 6.3 GB). Workbooks Excel or pandas write hold 0.2 to 0.3
#: cells per byte.
MAX_XLSX_CELLS_PER_BYTE = 2
MIN_XLSX_CELLS = 250_000
#: A cell element of a sheet's XML, under any namespace prefix (``<c/>``, ``<c r="A1">``,
#: ``<x:c>``).
_CELL_TAG = re.compile(rb"<(?:[^\s<>/:]+:)?c[\s/>]")
#: The range of a hyperlink or a merged cell, for which openpyxl makes a cell object for every
#: cell (a 5 KB file naming A3:XFD1048576 took 5 GB): they count as cells the sheet holds.
_RANGE_TAG = re.compile(rb"<(?:[^\s<>/:]+:)?(?:hyperlink|mergeCell)"
                        # Other attributes first, their values quoted ('>' may be in them).
                        rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*?"
                        rb"\s+ref\s*=\s*(\"[^\"<]*\"|'[^'<]*')")
#: A range as openpyxl reads it, once the attribute's character references are decoded
#: (``ref="&#65;3:XFD20000"`` is A3:XFD20000 to an XML parser).
_RANGE = re.compile(r"\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"
                    r"(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?\s*")
#: Whole rows (``1:300000``) and whole columns (``A:XFD``), which openpyxl fills across the
#: sheet: counted at the most cells they can stand for.
_ROWS = re.compile(r"\s*\$?([0-9]{1,7}):\$?([0-9]{1,7})\s*")
_COLUMNS = re.compile(r"\s*\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})\s*")
_SHEET_COLUMNS, _SHEET_ROWS = 16_384, 1_048_576
#: A document type declaration: its entities would let a part say what the byte count does
#: not see (``ref="&r;"``); no workbook Excel or pandas writes has one.
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
#: Byte-order marks of XML in UTF-16 or UTF-32, which the byte patterns above would not see:
#: such a part is decoded before counting (as is one whose first bytes hold zero bytes, as
#: text in those encodings does, a space or '<' first).
_WIDE_TEXT = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
              (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
#: Characters XML 1.0 forbids beyond the C0 controls openpyxl replaces.
_NOT_XML_CHARS = re.compile("[\ud800-\udfff\ufffe\uffff]")
#: The C0 controls XML 1.0 forbids (tab, line feed and carriage return aside): openpyxl's
#: ``ILLEGAL_CHARACTERS_RE``, without importing the optional extra.
_C0_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: Columns of amounts that run into thousands (fractions, years and shares never do).
AMOUNT_COLUMNS = ("quantity", "contract_value")
#: A number with a '.' (read after GROUPED_NUMBER: one whose '.' can only be a decimal mark).
_DOTTED = re.compile(r"\s*[+-]?\d*\.\d+\s*")
_SCAN_BLOCK = 1 << 20
_SHOWN_CELLS = 5


#: A quoted field that is a number holding a ',' between digits (``"2,5"``, ``"1.500,25"``):
#: how a comma-separated file writes one. Its leading quote is what makes the scan fast.
_QUOTED_NUMBER_WITH_COMMA = re.compile(rb'"[ ]*[+-]?[\d.]*\d,\d+[ ]*"')
#: A ',' between digits: how a tab-separated file writes such a number (no quotes needed).
_DIGIT_COMMA_DIGIT = re.compile(rb"\d,\d")


def _may_write_decimal_commas(p: Path, delimiter: str) -> bool:
    """Whether a comma- or tab-separated file may write a number with a ',' in it (``2,5``,
    ``1.500,25``, or thousands ``1,500``): a scan of its bytes, so that only such files have
    their records read a second time (by :func:`_refuse_grouped_numbers`). In a comma file
    only a quoted field that is such a number counts (a note ``"12,500 trees"`` does not).
    Measured on 26 November on 1e6-row comma files: 0.04 s with no quotes (``read_outcomes``
    0.43 s), 0.24 s with a quoted note of digits and commas on every row (1.55 s)."""
    if delimiter not in (",", "\t"):
        return False
    tail = b""
    try:
        with p.open("rb") as fh:
            while block := fh.read(_SCAN_BLOCK):
                text = tail + block
                if b"," in text and _has_number_with_comma(text, delimiter):
                    return True
                tail = text[-64:]  # a number cut by the block's end is found whole next time
    except OSError:
        return False  # the readers report it
    return False


def _has_number_with_comma(text: bytes, delimiter: str) -> bool:
    if delimiter == "\t":
        return _DIGIT_COMMA_DIGIT.search(text) is not None
    for hit in _QUOTED_NUMBER_WITH_COMMA.finditer(text):
        # A whole field: after a separator or a line's start (a line may end in CR alone, as
        # old Mac Excel writes), before one or a line's end.
        before = text[hit.start() - 1:hit.start()]
        after = text[hit.end():hit.end() + 1]
        if before in (b"", b",", b"\r", b"\n") and after in (b"", b",", b"\r", b"\n"):
            return True
    return False


#: Figure columns other than amounts: never grouped in thousands, but a decimal mark written
#: in one of them ('0,25', '0.25') says how the file writes its amounts.
_FIGURE_WITNESSES = (*FRACTION_COLUMNS, "years")


def _refuse_grouped_numbers(p: Path, header: list[str], delimiter: str) -> None:
    """Where the decimal mark is a comma, ``12.500`` is twelve thousand five hundred: read as
    CSV numbers are, it would be 12.5, a wrong number without an error. A semicolon-separated
    file comes from Excel with that decimal mark; a comma- or tab-separated one shows it when
    another amount is written with a decimal comma (``2,5``, ``1.500,25``: LibreOffice saves
    numbers as shown). Such cells in the amount columns then refuse the file, naming them (all
    are counted, the first few shown), unless another amount in the file has a '.' that can
    only be a decimal mark (``12.5``, ``0.125``): the file then writes decimals so. The
    other figure columns (deadweight ``0,25``, years) are read for that evidence too: a file
    whose only decimal comma is a deadweight still writes ``2.500`` for two and a half
    thousand."""
    columns = [i for i, name in enumerate(header) if name in AMOUNT_COLUMNS]
    if not columns or (delimiter != ";" and not _may_write_decimal_commas(p, delimiter)):
        return
    witnesses = columns + [i for i, name in enumerate(header) if name in _FIGURE_WITNESSES]
    found: list[tuple[int, str, str]] = []
    count = 0
    comma: tuple[int, str, str] | None = None  # a cell whose ',' is a decimal mark
    # A malformed file ends the records quietly: the readers report it.
    with contextlib.closing(_csv_records(p, delimiter)) as records:
        next(records, None)  # the header
        for line, record in records:
            for i in witnesses:
                cell = record[i] if i < len(record) else ""
                if i in columns and GROUPED_NUMBER.fullmatch(cell):
                    count += 1
                    if len(found) < _SHOWN_CELLS:
                        found.append((line, header[i], cell))
                    if comma is None and "," in cell:
                        comma = (line, header[i], cell)
                elif i in columns and _DOTTED.fullmatch(cell):
                    # '.' is this file's decimal mark (an amount's only: a fraction typed as
                    # text, '0.25', in a file of decimal commas says nothing of its amounts)
                    return
                elif comma is None and COMMA_DECIMAL.fullmatch(cell):
                    comma = (line, header[i], cell)
    if not count or (delimiter != ";" and comma is None):
        return
    cells = "; ".join(f"line {line}, {name} {cell!r}" for line, name, cell in found)
    more = f" and {count - len(found)} more" if count > len(found) else ""
    # The cell that shows the decimal comma, where it is not one of the cells just listed.
    evidence = (None if comma is None else f"as {comma[2]!r} shows" if comma in found
                else f"line {comma[0]}, {comma[1]} {comma[2]!r}")
    why = ("in a semicolon-separated file, as Excel writes one where the decimal mark is a "
           "comma," if evidence is None else
           f"the file writes its decimal mark as a comma ({evidence}), where")
    raise _fail(p, f"{count} number(s) with '.' between groups of three digits ({cells}"
                   f"{more}): {why} '.' groups thousands, so '12.500' may mean 12500 or 12.5. "
                   "Save the sheet as .xlsx, or as CSV without thousands separators and with "
                   "'.' as the decimal mark", cells=count)


#: Field separators a CSV file may use: Excel writes ';' where the decimal mark is a comma.
_DELIMITERS = (",", ";", "\t")


def _delimiter(p: Path) -> str:
    """The separator that splits the header row into the most fields (',' on a tie)."""
    try:
        with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            line = next((x for x in fh if x.strip()), "")
    except OSError as exc:
        raise _fail(p, f"cannot read the file ({exc})") from exc
    counts = {d: _field_count(line, d) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: (counts[d], d == ","))


def _field_count(line: str, delimiter: str) -> int:
    """Fields in ``line`` split by ``delimiter`` (0 where csv cannot split it: a quoted field
    past csv's size limit, as a wide header read with the wrong separator can be)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _refuse_utf16(p: Path) -> None:
    """Excel's "Unicode Text" is UTF-16: say so, rather than report undecodable bytes."""
    try:
        with p.open("rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise _fail(p, f"cannot read the file ({exc})") from exc
    if head in (b"\xff\xfe", b"\xfe\xff"):
        raise _fail(p, "the file is UTF-16 text: save it as 'CSV UTF-8' and try again",
                    encoding="utf-16")


def _blank_line(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _blank_record(row: list[str]) -> bool:
    """A data record with no value: a blank line, or only separators and spaces (``,,,,``,
    which is how Excel and pandas save a blank spreadsheet row)."""
    return all(not field.strip() for field in row)


def _without_blank_rows(df: pd.DataFrame, fixed: Iterable[str] = ()) -> pd.DataFrame:
    """``df`` without the rows whose every cell is missing or blank text (as :func:`_blank_record`
    and an ``.xlsx`` blank row); the columns named in ``fixed`` keep their type (see
    :func:`_reinferred`)."""
    candidates = _blank_positions(df)
    if not candidates.size:
        return df
    keep = np.ones(len(df), dtype=bool)
    keep[candidates] = False
    return _reinferred(df[keep], fixed)


def _blank_positions(df: pd.DataFrame) -> np.ndarray:
    """Positions of the rows of ``df`` whose every cell is missing or blank text."""
    if df.empty:
        return np.zeros(0, dtype=np.intp)
    text = [n for n in df.columns
            if df[n].dtype == object or pd.api.types.is_string_dtype(df[n].dtype)]
    # Numbers first: their missing cells are found without Python, and leave few candidates.
    candidates = np.arange(len(df))
    for name in [*(n for n in df.columns if n not in text), *text]:
        col = df[name].iloc[candidates]
        empty = col.isna().to_numpy()
        if name in text:
            spaces = col.astype(object).map(lambda v: isinstance(v, str) and not v.strip())
            empty = empty | spaces.to_numpy(dtype=bool)
        candidates = candidates[empty]
        if not candidates.size:
            break
    return candidates


def _reinferred(df: pd.DataFrame, fixed: Iterable[str] = ()) -> pd.DataFrame:
    """The number columns typed as pandas would type them without the blank rows just dropped
    (whose empty or space-only cells made a column float or text), so that a file's types do
    not depend on which batch its blank rows fell in.

    The columns in ``fixed`` were read with a type given for them (the whole file's, from
    :func:`csv_column_types`) and keep it: a text column stays text though this batch holds
    only numbers, a float column stays float though it holds only whole numbers."""
    keep = {*TEXT_COLUMNS, *fixed}
    out = df.copy()
    for name in out.columns:
        if name in keep:
            continue
        col = out[name]
        if col.dtype == object and _only_booleans(col):
            # True/False (and gaps) are not numbers: pandas reads them so without the blank
            # rows too (to_numeric made them 1.0 and 0.0).
            out[name] = col if col.isna().any() else col.astype(bool)
            continue
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            try:
                col = pd.to_numeric(col)
            except (ValueError, TypeError):
                continue
        if (col.dtype.kind == "f" and col.notna().all() and (col == np.floor(col)).all()
                and (col.abs() < 2.0**63).all()):  # int64 holds it (pandas keeps float else)
            col = col.astype(np.int64)
        out[name] = col
    return out


def _only_booleans(col: pd.Series) -> bool:
    present = col.dropna()
    return bool(len(present)) and all(isinstance(v, bool | np.bool_) for v in present)


#: The most rows read at once: pandas and pyarrow take a chunk size that fits a C long
#: (32 bits on Windows) and raise OverflowError past it. No batch that large fits in memory, so
#: a larger ``chunksize`` means "the whole file": it is read in pieces of this size.
_MAX_READ_ROWS = 2**31 - 1


def _read_size(chunksize: int) -> int:
    """``chunksize`` capped to :data:`_MAX_READ_ROWS`."""
    return min(chunksize, _MAX_READ_ROWS)


def _csv_options(layout: _CsvLayout) -> dict[str, Any]:
    return {
        "dtype": dict.fromkeys(TEXT_COLUMNS, str),
        # utf-8-sig decodes plain UTF-8 too and drops a byte-order mark written by Excel.
        "encoding": "utf-8-sig", "encoding_errors": "strict", "skipinitialspace": False,
        # Only an empty field is missing: pandas' default NA strings ('NA', 'N/A', 'null',
        # 'None', 'nan'...) are real contract codes, regions or typos, and .xlsx keeps them too.
        "keep_default_na": False, "na_values": [""],
        # The header row is read by _csv_layout; pandas skips it and uses the cleaned names.
        "header": 0, "names": layout.names, "index_col": False, "sep": layout.delimiter,
        # Each column's type from all its rows at once: pandas would otherwise type it piece
        # by piece and warn (DtypeWarning) when a typo makes one piece text; every cell is read
        # as value_frame reads cells anyway. (No warnings filter: that is not thread-safe.)
        "low_memory": False,
    }


def _without_extra(p: Path, df: pd.DataFrame, layout: _CsvLayout) -> pd.DataFrame:
    """Drop the placeholder columns, refusing any value found in them (it would be lost)."""
    if not layout.extra:
        return df
    if df[layout.extra].notna().to_numpy().any():
        raise _beyond_header(p, layout)
    return df.drop(columns=layout.extra)


def _beyond_header(p: Path, layout: _CsvLayout) -> InputFileError:
    """The error for the first record with more fields than the header names, by its line.

    The line is found again with the csv module (the rare path: the file is refused): a frame
    row number would not be the line an editor shows once blank lines or quoted line breaks
    come before it. A record whose extra fields are all empty is named only when no record
    has a value there (pandas refuses a record longer than the first data row even so).
    """
    width = len(layout.header)
    longer: tuple[int, int] | None = None
    with contextlib.closing(_csv_records(p, layout.delimiter)) as records:
        next(records, None)  # the header
        for line, record in records:
            value = next((c for c in record[width:] if c != ""), None)
            if value is not None:
                return _fail(p, f"line {line} has a value with no column name ({value!r}, "
                                f"after column {layout.header[-1]!r}): name the column in "
                                "the header row or remove the value", line=line)
            if longer is None and len(record) > len(layout.names):
                longer = (line, len(record))
    if longer is None:  # not found again: say what pandas said, without a line
        return _fail(p, f"a record has more fields than the header row names ({width})")
    line, fields = longer
    return _fail(p, f"line {line} has {fields} fields where the header row names {width} "
                    "columns: remove the trailing separators", line=line)


def _read_csv(p: Path, as_text: frozenset[str] = frozenset()) -> pd.DataFrame:
    layout = _csv_layout(p)
    options = _csv_options(layout)
    options["dtype"] = {**options["dtype"], **dict.fromkeys(as_text, str)}
    with _csv_errors(p, layout):
        df: pd.DataFrame = pd.read_csv(p, **options)
    if _has_line_break(df):
        _refuse_stray_quotes(p, layout.delimiter)
    df = _without_extra(p, df, layout)
    blank = _blank_positions(df)
    if blank.size:
        df = _read_csv_without(p, layout, df, blank, options, as_text)
    df = df.set_axis(pd.RangeIndex(len(df)))
    big = frozenset(_inexact_whole_numbers(df)) - as_text
    if big:
        # Whole numbers with an empty cell beside them: pandas reads floats, which lose digits
        # past 2**53 (two 17-digit ids became one number), or, past 2**63, text with the empty
        # cells as "". Read them again as text, and exactly where every cell is written as a
        # whole number (1e16 stays the float pandas reads).
        again = _read_csv(p, as_text | big)
        for name in big:
            if len(again) == len(df):
                exact = _whole_numbers(again[name])
                if exact is not None:
                    df[name] = exact
                elif _digits_and_empty_text(df[name]):  # past int64 and uint64 alike
                    df[name] = again[name]
    return df


def _inexact_whole_numbers(df: pd.DataFrame) -> list[str]:
    """Columns (not the library's text columns) of whole numbers with missing cells that
    pandas read inexactly: floats, some of 2**53 or more (a float there may be a longer number
    rounded), or text of digits and "" (pandas' reading past 2**63, where "" is missing)."""
    found = []
    for name in df.columns:
        col = df[name]
        if name in TEXT_COLUMNS:
            continue
        if isinstance(col.dtype, np.dtype) and col.dtype.kind == "f":
            values = col.to_numpy()
            present = values[~np.isnan(values)]
            if (present.size < values.size and present.size and np.isfinite(present).all()
                    and np.abs(present).max() >= _FLOAT_INTS
                    and (present == np.floor(present)).all()):
                found.append(str(name))
        elif _digits_and_empty_text(col):
            found.append(str(name))
    return found


def _digits_and_empty_text(col: pd.Series) -> bool:
    """Whether a text column holds "" (never read from a CSV otherwise: an empty cell is
    missing) beside whole numbers only."""
    if not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
        return False
    if not bool((col == "").any()):
        return False
    return all(isinstance(c, str) and (c == "" or _WHOLE_NUMBER.fullmatch(c) is not None)
               for c in col.dropna().tolist())


_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
#: Whole numbers a float64 holds, every one of them: up to 2**53 in size. Past it, ids are
#: kept as integers (Parquet, nullable columns) or text (``.xlsx``, whose number cells are
#: floats: openpyxl writes "%.16g", and an 18-digit id came back another).
_FLOAT_INTS = 2**53


def _whole_ints(cells: Iterable[Any]) -> list[int] | None:
    """The cells (text, none missing) as whole numbers; None where one is written otherwise."""
    texts = [str(v).strip() for v in cells]
    if not all(_WHOLE_NUMBER.fullmatch(t) for t in texts):
        return None
    return [int(t) for t in texts]


def _integer_kind(low: int, high: int) -> str:
    """The nullable integer type that holds whole numbers from ``low`` to ``high``:
    ``"Int64"``, ``"UInt64"`` past it, or ``"str"`` where neither does."""
    if low >= -2**63 and high < 2**63:
        return "Int64"
    return "UInt64" if low >= 0 and high < 2**64 else "str"


def _whole_numbers(col: pd.Series, kind: str | None = None) -> pd.Series | None:
    """Text cells as exact whole numbers, missing cells kept missing: nullable ``Int64``, or
    ``UInt64`` past it (``kind`` names one, as :func:`csv_column_types` gives it); None when
    a cell is not written as a whole number, or the numbers do not fit."""
    missing = col.isna().to_numpy()
    ints = _whole_ints(col.to_numpy(dtype=object)[~missing])
    if ints is None:
        return None
    low, high = min(ints, default=0), max(ints, default=0)
    fits = _integer_kind(low, high)
    want = kind or fits
    if want == "Int64" and fits == "Int64":
        dtype: type[np.integer[Any]] = np.int64
    elif want == "UInt64" and low >= 0 and high < 2**64:
        dtype = np.uint64
    else:
        return None
    values = np.zeros(len(col), dtype=dtype)
    values[~missing] = ints
    array = pd.arrays.IntegerArray(values, missing)
    return pd.Series(array, index=col.index, name=col.name)


def _read_csv_without(p: Path, layout: _CsvLayout, df: pd.DataFrame, blank: np.ndarray,
                      options: dict[str, Any], as_text: frozenset[str]) -> pd.DataFrame:
    """``df`` without its blank records, typed as pandas types the file without them: read
    again skipping them (record 0 is the header), so ``2.0`` stays a float and ``2`` an
    integer whatever blank records lay among them. Where the second read does not give the
    rows expected (it should), the blank rows are dropped and the columns re-typed instead."""
    skip = frozenset((blank + 1).tolist())
    with _csv_errors(p, layout):
        again: pd.DataFrame = pd.read_csv(p, **options, skiprows=lambda i: i in skip)
    again = _without_extra(p, again, layout)
    if len(again) == len(df) - len(skip) and not _blank_positions(again).size:
        return again
    return _without_blank_rows(df, as_text)  # columns read as text stay text


def _has_line_break(df: pd.DataFrame) -> bool:
    """Whether a text cell of ``df`` holds a line break: a quoted value spanning lines, or a
    quote opened and never closed that took the lines after it (see
    :func:`_refuse_stray_quotes`)."""
    return any(_text_has_line_break(df[name]) for name in df.columns
               if df[name].dtype == object or pd.api.types.is_string_dtype(df[name].dtype))


def _text_has_line_break(col: pd.Series) -> bool:
    return _text_holds(col, ("\n", "\r"))


def _text_holds(col: pd.Series, chars: tuple[str, ...]) -> bool:
    """Whether a text cell of ``col`` holds one of ``chars`` (the column's distinct values
    for a categorical)."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _text_holds(pd.Series(dtype.categories), chars)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        arr = pa.array(col.array)  # the column's own Arrow data, not a copy
        chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
        if all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
            # The bytes of all the values at once (searching value by value costs 30 times
            # more, a third of the time pandas takes to read the file). A buffer may hold
            # bytes of values sliced off: a match there only costs the check.
            wanted = [c.encode() for c in chars]
            for chunk in chunks:
                data = chunk.buffers()[2]
                raw = data.to_pybytes() if data is not None else b""
                if any(w in raw for w in wanted):
                    return True
            return False
    values = col.dropna().tolist()
    try:
        text = "".join(values)  # the usual all-text column, at C speed
    except TypeError:
        text = "".join(v for v in values if isinstance(v, str))
    return any(c in text for c in chars)


def _refuse_stray_quotes(p: Path, delimiter: str) -> None:
    """Refuse a quote that opens a value and is not closed where the value ends.

    pandas reads a quote opened and never closed (``,"open quote``) as a value that runs on,
    across lines, to the next quote in the file: the rows between become part of one cell,
    with no error. The csv module, strict, refuses the quote that closes such a value in the
    middle of a field (``,"y"`` read from inside it); the file is read with it once a cell
    read by pandas holds a line break (as every such cell does), so files without one cost
    nothing more. The error names the line where csv fails and the line where the record
    holding the stray quote starts.
    """
    with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        start = 1  # the line where the record being read starts
        while True:
            try:
                if next(reader, None) is None:
                    return
            except csv.Error as exc:
                line = reader.line_num
                if "field larger than field limit" in str(exc):
                    # A well-quoted value may be longer than the csv module's limit (which is
                    # the whole process's to set): nothing is shown wrong, pandas' reading
                    # stands.
                    return
                if not ("expected after" in str(exc) and start >= line):
                    raise _quote_error(p, exc, line, start) from exc
                # Text after a closing quote on the record's own line ("B"x): pandas reads it
                # as Bx, as in a file without line breaks; only a quote that ran on from an
                # earlier line has swallowed rows. The reader goes on with the next record.
            start = reader.line_num + 1


def _quote_error(p: Path, exc: csv.Error, line: int, start: int) -> InputFileError:
    text = str(exc)
    if "expected after" in text:
        reason = (f"a quote ends a value in the middle ({text}): a value that starts with a "
                  "quote must end with one before the next separator")
    elif "unexpected end of data" in text:
        reason = "the file ends inside a quoted value: a quote that opens a value is not closed"
    else:
        reason = f"not a well-formed CSV file ({text})"
    where = f"from line {start}" if start < line else f"on line {line}"
    return _fail(p, f"line {line}: {reason}; check the quotes {where}", line=line,
                 record_line=start)


def _no_header(p: Path) -> InputFileError:
    return _fail(p, "the file has no header row: expected a header row and outcome rows")


def _malformed(p: Path, exc: Exception) -> InputFileError:
    return _fail(p, f"not a well-formed CSV file ({exc})")


def _decode_error(p: Path, exc: UnicodeDecodeError) -> InputFileError:
    """The error for bytes that are not UTF-8, naming their byte offset and line in the file.

    pandas counts ``exc.start`` from its decode buffer, not from the start of the file, so the
    file is read again (the rare path: it is refused) to find where the bytes really are.
    """
    fix = "are not UTF-8: save the file as 'CSV UTF-8' (or convert it) and try again"
    kind = _what_file_is(p)
    if kind is not None:  # not text at all: a workbook saved under a .csv name, say
        return _fail(p, f"the file is not CSV text: it is {kind}", encoding="utf-8")
    try:
        found = _first_undecodable(p)
    except OSError:
        found = None
    if found is None:  # not found again (the file changed?): no position rather than a wrong one
        return _fail(p, f"bytes {exc.object[exc.start:exc.end]!r} {fix}", encoding="utf-8")
    offset, line, bad = found
    return _fail(p, f"bytes {bad!r} on line {line} (byte {offset} of the file"
                    f"{_as_windows_text(bad)}) {fix}", encoding="utf-8", byte=offset, line=line)


def _as_windows_text(bad: bytes) -> str:
    """What bytes that are not UTF-8 read as in Windows-1252, the encoding Excel's plain "CSV"
    saves with (``b'\\xa3'`` is '£'): the character the reader typed, to find it by."""
    try:
        shown = bad.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return f"; {shown!r} in the Windows encoding Excel's plain 'CSV' saves with" \
        if shown.isprintable() else ""


_DECODE_BLOCK = 1 << 20


def _first_undecodable(p: Path) -> tuple[int, int, bytes] | None:
    """The byte offset (0-based, from the start of the file) and line (1-based, as an editor
    counts ``\\n``, ``\\r\\n`` and ``\\r``) of the first bytes that are not UTF-8, and
    those bytes; None if the whole file decodes."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0  # bytes of the file before ``block``
    line = 1  # the line ``block`` starts in
    after_cr = False  # the previous block ended with CR (an LF next ends no line)
    with p.open("rb") as fh:
        while True:
            block = fh.read(_DECODE_BLOCK)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the last block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # exc.start counts from the pending bytes, which the file holds before ``block``
                start = offset - pending + exc.start
                head = block[:max(0, start - offset)]
                line += _line_ends(head, after_cr)
                return start, line, exc.object[exc.start:exc.end]
            if not block:
                return None
            line += _line_ends(block, after_cr)
            after_cr = block.endswith(b"\r")
            offset += len(block)


def _line_ends(data: bytes, after_cr: bool) -> int:
    """Line ends in ``data`` (``\\r\\n`` counts once, also when a block boundary splits it)."""
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return ends - 1 if after_cr and data.startswith(b"\n") else ends


def _arrow_text(p: Path, table: Any) -> Any:
    """Cast the text columns of an Arrow table (or record batch) to strings.

    A column Arrow cannot cast (a struct or list, bytes that are not UTF-8) is refused naming
    the column and its type: its cells are not single text values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    recast = []
    for name in TEXT_COLUMNS:
        idx = table.schema.get_field_index(name)
        if idx < 0:
            continue
        col = table.column(idx)
        typ = col.type
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            continue
        try:
            if pa.types.is_dictionary(typ):
                col = col.cast(typ.value_type)
            if pa.types.is_timestamp(col.type):
                col = pc.strftime(col, format="%Y-%m-%d")
            if pa.types.is_floating(col.type) or pa.types.is_boolean(col.type):
                # As key cells are read from CSV and .xlsx: 1001.0 is "1001" (a float column
                # of ids, widened by a missing value), never "1.23456789012e+11"; True is
                # "True", not Arrow's "true".
                col = pa.array(key_texts(col.to_numpy(zero_copy_only=False)), type=pa.string())
            col = col.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise _fail(p, f"column {name!r} holds {typ}, which cannot be read as text "
                           f"({exc})", column=name) from exc
        table = table.set_column(idx, name, col)
        recast.append(name)
    return _text_in_pandas_metadata(table, recast)


def _text_in_pandas_metadata(table: Any, names: list[str]) -> Any:
    """``table`` whose pandas metadata (written by ``DataFrame.to_parquet``) says text for the
    columns ``names`` now hold: pandas would otherwise rebuild them as the type it recorded
    (an Int64 or boolean column) and fail on the text."""
    meta = table.schema.metadata or {}
    if not names or b"pandas" not in meta:
        return table
    try:
        info = json.loads(meta[b"pandas"])
        for column in info.get("columns", []):
            if column.get("name") in names:
                column.update(pandas_type="unicode", numpy_type="object", metadata=None)
    except (ValueError, TypeError, AttributeError, RecursionError):  # not pandas': left out
        return table.replace_schema_metadata({k: v for k, v in meta.items() if k != b"pandas"})
    return table.replace_schema_metadata({**meta, b"pandas": json.dumps(info).encode()})


def _arrow_to_pandas(table: Any, offset: int = 0, path: Path | None = None,
                     exact: frozenset[str] | None = None) -> pd.DataFrame:
    """Arrow data as a frame indexed by row position. Columns pandas wrote as a named index
    (``df.set_index("contract_id").to_parquet(...)``) are data: ``to_pandas`` makes them the
    index again, so they are put back as columns (dropping them lost ``contract_id`` and merged
    every contract into one double-counting group). An unnamed index is only row labels."""
    try:
        df: pd.DataFrame = table.to_pandas()
    except (RecursionError, KeyError, TypeError, ValueError, IndexError,
            AttributeError) as exc:
        # The pandas metadata pandas wrote to restore the frame (its index, its column
        # types) is garbled: pyarrow raised bare Python errors (a security review).
        if not (table.schema.metadata or {}).get(b"pandas"):
            raise
        why = ("nested too deeply" if isinstance(exc, RecursionError)
               else f"{type(exc).__name__}: {exc}")
        raise _fail(path if path is not None else Path("<arrow data>"),
                    f"the file's pandas metadata (how pandas wrote its index and columns) "
                    f"cannot be read ({shortened(why)}): write the file again from the frame, "
                    "or without that metadata", why=why) from None
    if isinstance(df.columns, pd.MultiIndex):
        # Written from a frame with columns at several levels: value_frame would refuse it;
        # said here, naming the file (a batch read without the metadata had names such as
        # "('measure', '')" and no measure column).
        raise _fail(path if path is not None else Path("<arrow data>"),
                    f"the file's columns are labelled at {df.columns.nlevels} levels (written "
                    "from a pandas frame with a MultiIndex of columns): write it again with "
                    "plain column names, e.g. df.columns = df.columns.get_level_values(0)")
    _exact_nullable_integers(table, df, exact)
    # Levels stored as columns of the file only: a named RangeIndex is metadata, not data
    # (and batches, read without the metadata, would not have it).
    physical = set(table.schema.names)
    named = [n for n in df.index.names if n is not None and n in physical]
    if named:
        clash = sorted({str(n) for n in named} & {str(c) for c in df.columns})
        if clash:
            where = path if path is not None else Path("<arrow data>")
            raise _fail(where, f"the file holds both a column and a pandas index named "
                               f"{clash[0]!r}: rename one", column=clash[0])
        df = df.reset_index(level=named)
    df.index = pd.RangeIndex(offset, offset + len(df))
    return df


def _inexact_integer_columns(table: Any) -> frozenset[str]:
    """The integer columns of an Arrow table (not the library's text columns) holding nulls
    and numbers past 2**53: ``to_pandas`` makes such a column float64, which holds whole
    numbers exactly only up to 2**53 (two 17-digit ids became one number)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = set()
    for j, field in enumerate(table.schema):
        column = table.column(j)
        if (field.name in TEXT_COLUMNS or not pa.types.is_integer(field.type)
                or not column.null_count):
            continue
        bounds = pc.min_max(column)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (low < -_FLOAT_INTS or high > _FLOAT_INTS):
            found.add(field.name)
    return frozenset(found)


def _file_integer_nulls(pf: Any, batch_size: int) -> tuple[frozenset[str], frozenset[str]]:
    """The integer columns (not the library's text columns) of a whole Parquet file
    (``pq.ParquetFile``) with a null somewhere, and among them those
    :func:`_inexact_integer_columns` makes Int64 (a number past 2**53 somewhere), read
    ``batch_size`` rows at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = list(dict.fromkeys(f.name for f in pf.schema_arrow
                               if pa.types.is_integer(f.type) and f.name not in TEXT_COLUMNS))
    if not names:
        return frozenset(), frozenset()
    nulls: set[str] = set()
    big: set[str] = set()
    for batch in pf.iter_batches(batch_size=batch_size, columns=names):
        for field, column in zip(batch.schema, batch.columns, strict=True):
            if column.null_count:
                nulls.add(field.name)
            if field.name in big or not pa.types.is_integer(field.type):
                continue
            bounds = pc.min_max(column)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            if low is not None and (low < -_FLOAT_INTS or high > _FLOAT_INTS):
                big.add(field.name)
    return frozenset(nulls), frozenset(nulls & big)


def _exact_nullable_integers(table: Any, df: pd.DataFrame,
                             names: frozenset[str] | None = None) -> None:
    """The integer columns ``names`` (by default, :func:`_inexact_integer_columns` of
    ``table``) as nullable ``Int64`` / ``UInt64``, every digit kept; other columns keep the
    types pandas gives. Batches of one file are given the file's ``names``, so that every
    batch types such a column alike."""
    import pyarrow as pa

    names = _inexact_integer_columns(table) if names is None else names
    for j, field in enumerate(table.schema):
        if (field.name not in names or not pa.types.is_integer(field.type)
                or list(df.columns).count(field.name) != 1):
            continue
        nullable = pd.UInt64Dtype() if pa.types.is_unsigned_integer(field.type) \
            else pd.Int64Dtype()
        values = table.column(j).to_pandas(types_mapper=lambda _t, d=nullable: d)
        df[field.name] = pd.Series(values.array, index=df.index)


@dataclass(frozen=True)
class _Sheet:
    """A worksheet as the reader needs it: the header row, and each non-blank row below it
    (with its sheet row number) cut to the header's width."""

    title: str
    header: list[str]
    rows: list[tuple[int, tuple[Any, ...]]]
    sheets: tuple[str, ...] = ()  # every sheet of the workbook, in order
    hidden: tuple[int, ...] = ()  # sheet rows of ``rows`` that Excel hides
    hidden_columns: tuple[str, ...] = ()  # names of header columns that Excel hides
    alike: tuple[str, ...] = ()  # other sheets with outcome columns (sheet picked by default)
    near: tuple[tuple[str, str], ...] = ()  # others with them in a header to fix: (name, fix)


def _read_sheet(p: Path, sheet: str | int | None) -> _Sheet:
    """Read the sheet's header and rows, touching only the cells the file holds.

    ``iter_rows`` walks the sheet's whole bounding box, so a 5 KB file with one cell at XFD1000
    (or at H1048576) would cost 16 million (or 8 million) cells: rows are built from the cells
    the sheet holds, as wide as the header, and a cell right of it is refused (its value would
    be lost).
    """
    openpyxl = _require("openpyxl")
    _check_expanded_size(p)
    _refuse_strict_open_xml(p)
    try:
        # data_only=True: a formula cell gives the value Excel last calculated and saved.
        wb = openpyxl.load_workbook(p, data_only=True)
    except Exception as exc:  # zipfile, KeyError, InvalidFileException ...
        raise _fail(p, f"not a readable .xlsx workbook ({exc}){_not_a_workbook_hint(p)}") \
            from exc
    try:
        ws = _pick_sheet(p, wb, sheet)
        where = f"sheet {ws.title!r}"
        rows = _held_rows(ws)
        _check_calculated(p, ws.title, rows)
        top = rows.pop(1, {})
        if not top:
            first = min((r for r, cells in rows.items() if any(map(_has_value, cells.values()))),
                        default=None)
            if first is not None:
                raise _fail(p, f"{where}: row 1 is blank: the header row must be row 1 (the "
                               f"first row with values is row {first}): delete the rows "
                               "above the header", sheet=ws.title)
            raise _fail(p, f"{where} is empty: expected a header row in row 1"
                        + _other_sheets_hint(wb, ws.title, sheet), sheet=ws.title)
        if not _names_outcome_columns(top.values()):
            below = next((r for r in sorted(rows)[:_HEADER_SEARCH_ROWS]
                          if _names_outcome_columns(rows[r].values())), None)
            if below is not None:
                raise _header_not_first(p, f"{where}: ", "row", below, sheet=ws.title,
                                        row=below)
        width = max(top)

        def first_data_row() -> list[Any]:  # for a blank header cell's hint only
            data = next((rows[r] for r in sorted(rows)
                         if any(map(_has_value, rows[r].values()))), {})
            return [data.get(c) for c in range(1, width + 1)]

        header = _header(p, where, tuple(top.get(c) for c in range(1, width + 1)),
                         first_data_row)
        _check_unnamed(p, ws.title, rows, len(header))
        body = _with_scaled_figures(ws, header, _body_rows(rows, len(header)))
        _check_text_size(p, ws.title, body)
        # Hidden rows are read like the others (they are data): which they are is kept, so
        # that a reader checking the sheet as Excel shows it can be told.
        hidden = {r for r, dim in ws.row_dimensions.items() if dim.hidden}
        spans = [(dim.min or 0, dim.max or dim.min or 0)  # a range of columns, or one
                 for dim in ws.column_dimensions.values() if dim.hidden]
        columns = tuple(name for i, name in enumerate(header, 1)
                        if any(lo <= i <= hi for lo, hi in spans))
        alike, near = _sheets_with_outcome_columns(wb, ws.title) if sheet is None else ((), ())
        return _Sheet(ws.title, header, body, tuple(wb.sheetnames),
                      tuple(r for r, _ in body if r in hidden), columns, alike, near)
    finally:
        wb.close()


def _check_text_size(p: Path, sheet: str, body: list[tuple[int, tuple[Any, ...]]]) -> None:
    """Refuse a sheet whose cells hold more text, all told, than its file may decompress to
    (:func:`_check_expanded_size`'s limit): a workbook keeps each text once (its shared
    strings) and cells point at it, so an 18 KB file with a 5,000,000-character text in 400
    cells read as 2,000,000,000 characters, and valuing it took 4 GB (a security review)."""
    size = max(p.stat().st_size, 1)
    limit = _xlsx_expansion_limit(size)
    held = 0
    for _, values in body:
        for value in values:
            if type(value) is str:
                held += len(value)
        if held > limit:
            raise _fail(p, f"sheet {sheet!r}: its cells hold more than {limit:,} characters of "
                           f"text, more than a file of {size:,} bytes may expand to (a text "
                           "repeated in many cells): shorten the long cells, or save the "
                           "sheet as CSV", sheet=sheet)


def _not_a_workbook_hint(p: Path) -> str:
    """Why a file named .xlsx is no workbook, where that can be told: Excel's lock file for a
    workbook open in it (``~$returns.xlsx``, which holds no rows), another kind of file, or
    text (a CSV file renamed)."""
    if p.name.startswith("~$"):
        return (f": this is Excel's lock file for a workbook open in Excel (it holds no "
                f"rows): close the workbook, and read {p.name[2:]!r}")
    kind = _what_file_is(p)
    if kind is not None and not kind.startswith("a zip archive"):
        return f": the file is {kind}"
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    return ": the file is text, not a workbook: if it is a CSV file, rename it .csv"


#: Office Open XML in its Strict form (Excel's "Strict Open XML Spreadsheet"), which openpyxl
#: does not read: it finds no sheets in it.
_STRICT_SPREADSHEET = b"purl.oclc.org/ooxml/spreadsheetml/main"


def _refuse_strict_open_xml(p: Path) -> None:
    """Say what a Strict Open XML workbook is, rather than that it has no sheets."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as archive, archive.open("xl/workbook.xml") as fh:
            head = fh.read(4096)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return  # not a workbook that far: the reader says what it is
    if _STRICT_SPREADSHEET in head:
        raise _fail(p, "the workbook is saved as Strict Open XML, which cannot be read: save "
                       "it as Excel Workbook (.xlsx) (File > Save As)")


def _other_sheets_hint(wb: Any, title: str, sheet: str | int | None) -> str:
    """For a sheet picked by default: the workbook's other sheets, to choose from."""
    others = [n for n in wb.sheetnames if n != title]
    if sheet is not None or not others:
        return ""
    return (f"; the workbook's other sheets are {', '.join(map(repr, others))}: "
            "choose one with sheet=NAME")


def _sheets_with_outcome_columns(wb: Any, title: str,
                                 ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The workbook's other visible worksheets with outcome columns and rows under them: a
    workbook of one sheet per year or supplier is read one sheet at a time, and the others'
    rows would be left out of the totals unsaid.

    Those whose row 1 names the columns as the reader reads them first; then, each with what
    to change before it can be read, those whose header names them but for case or spacing
    (``Measure``, ``Contract ID``) or is below row 1 (a title above the table) in the rows
    the reader looks through for one (:data:`_HEADER_SEARCH_ROWS`): a review found a
    quarter's sheet left out unsaid for a header ``Measure,Quantity,...``.
    """
    alike, near = [], []
    for name in wb.sheetnames:
        ws = wb[name]
        # Hidden sheets are left out, as when a sheet is picked: often an old copy.
        if (name == title or not hasattr(ws, "iter_rows")
                or getattr(ws, "sheet_state", "visible") != "visible"):
            continue
        found = _outcome_header(*_top_rows(ws))
        if found is not None:
            fix = _header_fix(*found)
            if fix:
                near.append((name, fix))
            else:
                alike.append(name)
    return tuple(alike), tuple(near)


def _top_rows(ws: Any) -> tuple[dict[int, list[Any]], bool]:
    """The values held in the sheet's first rows (row 1 and as many as a header below it is
    looked for in, rows holding no cell not counted), by row, and whether a row after them
    holds a value: one pass over the cells held, in whatever order they come, keeping no more
    than those rows (a sheet of a million rows builds nothing)."""
    limit = _HEADER_SEARCH_ROWS + 1
    top: dict[int, list[Any]] = {}
    cutoff = math.inf  # once ``limit`` rows are kept, the last of them
    beyond = False
    for (r, _), v in _held_cells(ws):
        if r > cutoff:
            beyond = beyond or _has_value(v)
            continue
        row = top.get(r)
        if row is None:
            if len(top) == limit:  # a row above the last kept: the last is past the first ones
                beyond = any(map(_has_value, top.pop(max(top)))) or beyond
            row = top[r] = []
            if len(top) == limit:
                cutoff = max(top)
        row.append(v)
    return top, beyond


def _outcome_header(top: dict[int, list[Any]],
                    beyond: bool) -> tuple[int, dict[str, str]] | None:
    """The first of the rows ``top`` (:func:`_top_rows`) that names the outcome columns but
    ``date`` (rows may be dated by their periods), save for case or spacing, with values in
    a row below it (a header alone is an empty template sheet, Q2..Q4): its row, and the
    name it gives each column. None where no row is such a header."""
    from socialvalue_tom.frame import REQUIRED_COLUMNS

    rows = sorted(top)
    for i, r in enumerate(rows):
        given = {name_key(v): v.strip() for v in top[r] if isinstance(v, str)}
        names = {c: given.get(name_key(c)) for c in REQUIRED_COLUMNS if c != "date"}
        if all(names.values()):
            below = beyond or any(_has_value(v) for later in rows[i + 1:] for v in top[later])
            return (r, {c: n for c, n in names.items() if n}) if below else None
    return None


def _header_fix(row: int, names: dict[str, str]) -> str:
    """What to change for a header found at ``row`` with these names (:func:`_outcome_header`)
    to be read as a sheet's header; ``""`` where it is read as it is."""
    renamed = [(c, n) for c, n in names.items() if n != c]
    fixes = []
    if renamed:
        fixes.append("rename " + ", ".join(f"{n!r} to {c}" for c, n in renamed[:3])
                     + (", ..." if len(renamed) > 3 else ""))
    if row > 1:
        fixes.append(f"delete the row(s) above its header, row {row}")
    return " and ".join(fixes)


def _xlsx_expansion_limit(size: int) -> int:
    """What an ``.xlsx`` file of ``size`` bytes may expand to (its parts, or its cells' text):
    :data:`MAX_XLSX_RATIO` times its size beyond :data:`MIN_XLSX_CHECKED`, and
    :data:`MAX_XLSX_BYTES` in all."""
    return min(MAX_XLSX_BYTES, max(MAX_XLSX_RATIO * size, MIN_XLSX_CHECKED))


def _check_expanded_size(p: Path) -> None:
    """Refuse an ``.xlsx`` file whose parts decompress to more than :data:`MAX_XLSX_BYTES`, or
    to more than :data:`MAX_XLSX_RATIO` times the file's size. The sizes are those the zip
    declares, which ``zipfile`` holds each part to when it is read (a part that decompresses
    to more is an error there), so they can be trusted."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # not a zip: openpyxl says what is wrong with it
    size = max(p.stat().st_size, 1)
    limit = _xlsx_expansion_limit(size)
    if expanded > limit:
        raise _fail(p, f"the workbook's parts decompress to {expanded:,} bytes, more than the "
                       f"{limit:,} allowed for a file of {size:,} bytes (at most "
                       f"{MAX_XLSX_RATIO} times its size beyond {MIN_XLSX_CHECKED // 2**20} MiB, "
                       "and "
                       f"{MAX_XLSX_BYTES // 2**20} MiB in all): save it again from Excel, or "
                       "split it", expanded=expanded)
    _check_cell_count(p, size)


def _check_cell_count(p: Path, size: int) -> None:
    """Refuse a workbook whose sheets hold more cells than :data:`MAX_XLSX_CELLS_PER_BYTE`
    per byte of the file (at least :data:`MIN_XLSX_CELLS`), counted in the sheets' XML as it
    is decompressed, before openpyxl builds an object for each. A part that cannot be read to
    the end (a bad CRC, a truncated or encrypted part, an unknown compression) refuses the
    file: skipping it would skip the count, and a part openpyxl never opens could be placed
    first for that (a security review)."""
    import zipfile

    try:
        _count_cells(p, size)
    except InputFileError:
        raise
    except (OSError, zipfile.BadZipFile, ValueError):  # not a zip: openpyxl says what is wrong
        return


def _part_unreadable(exc: BaseException) -> str:
    """Why zipfile could not read a part to its end, in a few words."""
    import zipfile
    import zlib

    if isinstance(exc, RuntimeError):
        return "it is encrypted (a password is needed)"
    if isinstance(exc, NotImplementedError):
        return "its compression method is not supported"
    if isinstance(exc, zlib.error | EOFError):
        return "its compressed data is damaged or cut short"
    return str(exc) if isinstance(exc, zipfile.BadZipFile) else type(exc).__name__


def _count_cells(p: Path, size: int) -> None:
    import zipfile
    import zlib

    limit = max(MIN_XLSX_CELLS, MAX_XLSX_CELLS_PER_BYTE * size)
    cells = 0
    with zipfile.ZipFile(p) as archive:
        # Every part, not only xl/worksheets/: the workbook's relationships may place a sheet
        # anywhere in the archive (no other part of a workbook holds <c> elements).
        parsed: set[str] = set()
        for info in [None, *archive.infolist()]:  # None: the workbook's relationships first
            name = _WORKBOOK_RELS if info is None else info.filename
            try:
                if info is None:
                    parsed = _parts_parsed_as_xml(archive)
                else:
                    cells = _count_part(p, size, archive, info, cells, limit, name in parsed)
            except InputFileError:
                raise
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError,
                    NotImplementedError, RuntimeError) as exc:
                raise _fail(p, f"not a readable .xlsx workbook: its part {name} cannot be "
                               f"read, as {_part_unreadable(exc)}; save it again from Excel, "
                               "or as CSV") from None


_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def _parts_parsed_as_xml(archive: Any) -> set[str]:
    """The parts a reader parses as XML: every ``.xml`` and ``.rels`` part but images and
    embedded files (an SVG logo may declare a document type), and every part the workbook's
    relationships name as a worksheet, wherever it is and however named."""
    names = set(archive.namelist())
    parsed = {n for n in names if n.lower().endswith((".xml", ".rels"))
              and not n.startswith(("xl/media/", "xl/embeddings/"))}
    rels = _WORKBOOK_RELS
    if rels in names and archive.getinfo(rels).file_size < 1 << 20:
        text = archive.read(rels).decode("utf-8", "replace")
        for target in re.findall(r"""Target\s*=\s*["']([^"']+)["']""", text):
            target = html.unescape(target)
            parsed.add(target.lstrip("/") if target.startswith("/")
                       else posixpath.normpath(posixpath.join("xl", target)))
    return parsed


def _count_part(p: Path, size: int, archive: Any, info: Any, cells: int, limit: int,
                parsed: bool = True) -> int:
    """``cells`` plus those of the part ``info``, refusing the file past ``limit``;
    ``parsed``: a part a reader parses as XML, where a document type is refused."""
    carry = b""
    decode = None  # a part in UTF-16 or UTF-32: re-encoded as UTF-8 to count
    with archive.open(info) as part:
        first = True
        while chunk := part.read(1 << 22):
            if first:
                decode, first = _wide_text_decoder(chunk), False
            if decode is not None:
                chunk = decode.decode(chunk).encode("utf-8")
            data = carry + chunk
            if parsed and _DOCTYPE.search(data):
                raise _fail(p, f"the workbook's part {info.filename} declares a document type "
                               "(entities), which no workbook Excel writes holds: save it "
                               "again from Excel, or as CSV")
            # A tag is counted whole: the text from the last "<" goes with the next chunk
            # (dropped when it runs on past a megabyte: no tag is that long).
            cut = data.rfind(b"<")
            cut = len(data) if cut < 0 or len(data) - cut > 1 << 20 else cut
            cells += _cells_in(data, cut)
            carry = data[cut:]
            _refuse_cells(p, size, cells, limit)
    cells += _cells_in(carry, len(carry))
    _refuse_cells(p, size, cells, limit)
    return cells


def _wide_text_decoder(start: bytes) -> Any:
    """An incremental decoder for a part whose first bytes show UTF-16 or UTF-32 text, else
    None (UTF-8, or not text: counted as bytes)."""
    encoding = next((e for mark, e in _WIDE_TEXT if start.startswith(mark)), None)
    if encoding is None and len(start) >= 4:  # no mark: where the zero bytes fall says which
        head = start[:4]
        encoding = ("utf-32-be" if head[:3] == b"\x00\x00\x00" else
                    "utf-32-le" if head[1:] == b"\x00\x00\x00" else
                    "utf-16-be" if head[0] == 0 and head[2] == 0 else
                    "utf-16-le" if head[1] == 0 and head[3] == 0 else None)
    return (None if encoding is None
            else codecs.getincrementaldecoder(encoding)(errors="replace"))


def _cells_in(data: bytes, end: int) -> int:
    """The cells ``data[:end]`` makes openpyxl build: its cell elements, and every cell of its
    hyperlink and merged-cell ranges (their references decoded, as an XML parser reads
    them)."""
    cells = len(_CELL_TAG.findall(data, 0, end))
    for m in _RANGE_TAG.finditer(data, 0, end):
        ref = html.unescape(m[1][1:-1].decode("utf-8", "replace"))
        if r := _RANGE.fullmatch(ref):
            c1, r1 = _column_number(r[1].encode()), int(r[2])
            c2, r2 = (_column_number(r[3].encode()), int(r[4])) if r[3] else (c1, r1)
            cells += (abs(c2 - c1) + 1) * (abs(r2 - r1) + 1)
        elif r := _ROWS.fullmatch(ref):
            cells += (abs(int(r[2]) - int(r[1])) + 1) * _SHEET_COLUMNS
        elif r := _COLUMNS.fullmatch(ref):
            c1, c2 = _column_number(r[1].encode()), _column_number(r[2].encode())
            cells += (abs(c2 - c1) + 1) * _SHEET_ROWS
        elif "&" in ref:  # an entity no document type here defines: a parser's to expand
            cells += _SHEET_COLUMNS * _SHEET_ROWS
        else:
            cells += 1  # not a range openpyxl reads: it refuses the file itself
    return cells


def _column_number(letters: bytes) -> int:
    """``b"A"`` is 1, ``b"AA"`` 27, ``b"XFD"`` 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _refuse_cells(p: Path, size: int, cells: int, limit: int) -> None:
    if cells > limit:
        raise _fail(p, f"the workbook's sheets hold more than {limit:,} cells (every cell of a "
                       "hyperlink's or merged cells' range counted), the most allowed "
                       f"for a file of {size:,} bytes ({MAX_XLSX_CELLS_PER_BYTE} per byte, at "
                       f"least {MIN_XLSX_CELLS:,}; Excel writes about one per four bytes): "
                       "most are empty. Save it again from Excel, or as CSV", cells=cells)


def _held_rows(ws: Any) -> dict[int, dict[int, Any]]:
    """The values the sheet holds (blank cells left out), by row then column, read once.

    openpyxl keeps the cells in a sparse ``_cells`` mapping (stable since 2.x); without it, the
    bounding box is scanned (slow only for the sparse, far-flung sheets this guards against).
    """
    rows: dict[int, dict[int, Any]] = {}
    for (r, c), v in _held_cells(ws):
        rows.setdefault(r, {})[c] = v
    return rows


def _held_cells(ws: Any) -> Iterator[tuple[tuple[int, int], Any]]:
    """``((row, column), value)`` of each cell the sheet holds a value in (see
    :func:`_held_rows`), in no particular order."""
    cells = getattr(ws, "_cells", None)
    held = (((key, cell.value) for key, cell in cells.items()) if isinstance(cells, dict)
            else (((c.row, c.column), c.value) for row in ws.iter_rows() for c in row))
    return ((key, v) for key, v in held if v is not None)


def _has_value(v: Any) -> bool:
    """Whether a held cell value is a value (blank text is none, as in :func:`_body_rows`)."""
    return not (isinstance(v, str) and not v.strip())


def _body_rows(rows: dict[int, dict[int, Any]],
               width: int) -> list[tuple[int, tuple[Any, ...]]]:
    """The rows below the header that hold a value, as wide as the header, in sheet order (a
    cell far down a named column costs one row, not every row above it)."""
    body = []
    for r in sorted(rows):
        # Blank text is no value: a row of it is blank, as in a CSV file.
        row = tuple(None if isinstance(v, str) and not v.strip() else v
                    for v in (rows[r].get(c) for c in range(1, width + 1)))
        if any(v is not None for v in row):
            body.append((r, row))
    return body


#: Number columns read with their cells' number formats: a figure the supplier saw as a per
#: cent or in thousands (``0%``, ``#,##0,``) stands as a :class:`ScaledByFormat`, which
#: valuation refuses, not as the figure held, 100 or 1,000 times the one seen. The fractions
#: are left: a deadweight shown as 25% holds 0.25, as meant (and one scaled is out of range).
_FORMAT_CHECKED = ("quantity", "contract_value")


def _with_scaled_figures(ws: Any, header: list[str], body: list[tuple[int, tuple[Any, ...]]],
                         ) -> list[tuple[int, tuple[Any, ...]]]:
    """``body`` with each number of a :data:`_FORMAT_CHECKED` column that its cell's number
    format shows scaled replaced by a :class:`ScaledByFormat` (:func:`scaled_by_format`); the
    rows changed are replaced in the list."""
    columns = [i for i, name in enumerate(header) if name in _FORMAT_CHECKED]
    cells = getattr(ws, "_cells", None)  # as _held_cells reads them; else by coordinate
    for k, (r, row) in enumerate(body):
        for i in columns:
            if type(row[i]) not in (int, float):
                continue
            cell = (cells.get((r, i + 1)) if isinstance(cells, dict)
                    else ws.cell(row=r, column=i + 1))
            figure = row[i] if cell is None else scaled_by_format(row[i], cell.number_format)
            if figure is not row[i]:
                row = (*row[:i], figure, *row[i + 1:])
                body[k] = (r, row)
    return body


def _read_xlsx(p: Path, sheet: str | int | None) -> pd.DataFrame:
    found = _read_sheet(p, sheet)
    header = found.header
    # dtype=object keeps each cell as openpyxl gave it: letting pandas infer a text column
    # would turn a blank cell's None into NaN, which _cell_text would write as 'nan'.
    df = pd.DataFrame([r for _, r in found.rows] or None, columns=header, dtype=object)
    for name in header:
        if name in TEXT_COLUMNS:
            df[name] = pd.array([_cell_text(v) for v in df[name]], dtype="str")
        else:
            df[name] = _typed(df[name])
    # Which sheet was read, so a caller can say so when its columns are not the expected ones.
    df.attrs["socialvalue_tom.source"] = {"sheet": found.title, "sheets": list(found.sheets),
                                          "hidden_rows": list(found.hidden),
                                          "hidden_columns": list(found.hidden_columns),
                                          "alike_sheets": list(found.alike),
                                          "near_sheets": dict(found.near)}
    return df


def _check_calculated(p: Path, sheet: str, rows: dict[int, dict[int, Any]]) -> None:
    """Refuse a formula cell with no saved result in the table (header row and named columns).

    It would read as an empty cell, so a formula quantity would be reported as missing, or a
    formula header as a blank name: the error says what the cell is and what to do.
    """
    formulas = uncalculated_cells(p, sheet)
    if not formulas:
        return
    from openpyxl.utils import get_column_letter

    width = max(rows.get(1, {}), default=0)
    empty = sorted((r, c) for r, c in formulas
                   if c not in rows.get(r, {}) and (r == 1 or c <= width))
    if empty:
        cells = [f"{get_column_letter(c)}{r}" for r, c in empty]
        shown = ", ".join(cells[:_SHOWN_CELLS])
        more = f" and {len(cells) - _SHOWN_CELLS} more" if len(cells) > _SHOWN_CELLS else ""
        raise _fail(p, f"sheet {sheet!r}: {len(cells)} formula cell(s) have no saved result "
                       f"({shown}{more}): the program that wrote the workbook did not calculate "
                       "them; open and save it in Excel or LibreOffice, or write the values",
                    sheet=sheet, cell=cells[0])


def _check_unnamed(p: Path, sheet: str, rows: dict[int, dict[int, Any]], width: int) -> None:
    """Refuse a value right of the last named column: it would be lost."""
    from openpyxl.utils import get_column_letter

    beyond = [(r, c, v) for r, cells in rows.items() for c, v in cells.items() if c > width]
    if beyond:
        r, c, v = min(beyond, key=lambda x: (x[0], x[1]))
        cell = f"{get_column_letter(c)}{r}"
        raise _fail(p, f"sheet {sheet!r}: cell {cell} has a value with no column name "
                       f"({v!r}): name the column in row 1 or clear the cell"
                       f"{_header_below(rows, width)}", sheet=sheet, cell=cell)


def _header_below(rows: dict[int, dict[int, Any]], width: int) -> str:
    """A hint for a header row below row 1 (a title above the table): the first row with more
    values than row 1 has names, if they are all text, as names are; else ``""``."""
    for r in sorted(rows):
        values = [v for v in rows[r].values() if _has_value(v)]
        if len(values) > width:
            if all(isinstance(v, str) for v in values):
                return f"; if row {r} is the header row, delete the rows above it"
            return ""
    return ""


def _pick_sheet(p: Path, wb: Any, sheet: str | int | None) -> Any:
    """The sheet asked for by name or 0-based position (hidden or not); with ``None``, the
    first visible sheet (the first sheet where none is visible): a hidden sheet, often an
    old copy or a lookup list, is not the table the analyst sees on opening the workbook."""
    names = list(wb.sheetnames)
    if sheet is None:
        # A chart sheet holds no rows: one first in the tabs is passed over, as a hidden
        # sheet is (a chart of the returns, kept before the data).
        tables = [i for i, name in enumerate(names) if hasattr(wb[name], "iter_rows")]
        visible = [i for i in tables if getattr(wb[names[i]], "sheet_state", "visible")
                   == "visible"]
        sheet = (visible or tables or [0])[0]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise _fail(p, f"no sheet number {sheet}: the workbook has {len(names)} sheet(s) "
                           f"({', '.join(names)})", sheet=sheet)
        name = names[sheet]
    elif sheet in names:
        name = sheet
    else:
        alike = [n for n in names if isinstance(sheet, str) and n.strip().casefold()
                 == sheet.strip().casefold()]
        hint = f"; did you mean {alike[0]!r}? (a sheet is named exactly)" if alike else ""
        raise _fail(p, f"no sheet named {sheet!r}: sheets are {', '.join(names)}{hint}",
                    sheet=sheet)
    ws = wb[name]
    if not hasattr(ws, "iter_rows"):
        others = [n for n in names if hasattr(wb[n], "iter_rows")]
        hint = (f": the worksheets are {', '.join(map(repr, others))}" if others
                else ": the workbook has no worksheet")
        raise _fail(p, f"sheet {name!r} is a chart sheet, not a table of outcomes{hint}",
                    sheet=name)
    merged = [str(r) for r in ws.merged_cells.ranges]
    if merged:
        raise _fail(p, f"sheet {name!r} has merged cells ({', '.join(merged[:5])}): unmerge them "
                       "so each outcome is one row with one value per column",
                    sheet=name, merged=merged)
    return ws


def _header(p: Path, where: str, first: tuple[Any, ...],
            below: Callable[[], Sequence[Any]] | None = None) -> list[str]:
    """The column names of the header row ``first`` (``below``: the first data row, looked
    up only for the hint where a column has no name)."""
    cells = list(first)
    while cells and cells[-1] is None:
        cells.pop()
    blank = [i + 1 for i, v in enumerate(cells) if v is None or str(v).strip() == ""]
    if blank:
        raise _fail(p, f"{where}: header cell(s) in column(s) {blank} are blank: every column "
                       f"needs a name in the header row{_unnamed_first_hint(blank, cells, below)}",
                    positions=blank)
    if len(cells) > MAX_COLUMNS:
        raise _fail(p, f"{where}: {len(cells):,} columns, more than the {MAX_COLUMNS:,} a "
                       "worksheet holds: not a table of outcomes", width=len(cells))
    header = [str(v).strip() for v in cells]
    counts = Counter(header)
    dup = sorted(h for h, n in counts.items() if n > 1)
    if dup:
        raise _fail(p, f"{where}: header has repeated column name(s) {', '.join(dup)}",
                    columns=dup)
    return header


def _unnamed_first_hint(blank: list[int], cells: list[Any],
                        below: Callable[[], Sequence[Any]] | None) -> str:
    """What a first column with no name most likely is: a margin left empty in a spreadsheet
    (its first data cell blank too: a Windows/Excel user's review, told of pandas' index),
    or the row index pandas writes first under a blank name (``df.to_csv(path)``)."""
    if blank != [1] or len(cells) < 2:
        return ""
    data = below() if below is not None else []
    if len(data) and (data[0] is None or str(data[0]).strip() == ""):
        return ("; column 1 is blank in the first data row too: an empty margin column (column "
                "A of a spreadsheet)? delete the column")
    return ("; a first column with no name is often the row index pandas writes: write the "
            "file with index=False")


def _cell_text(v: Any) -> str | None:
    """An Excel cell as text: dates as ISO dates, whole numbers without a trailing ``.0``;
    None for a blank cell. A date-time cell gives its date, as a datetime column of a Parquet
    file or a DataFrame does (valuation works on days)."""
    if is_missing(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _float_or_inf(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _typed(col: pd.Series) -> pd.Series:
    """An object column of cells typed as pandas would infer it, keeping blanks missing.

    Numbers become a number column; text (with blanks) a ``str`` column, as read from CSV;
    a column holding numbers and text is left as it is (value_frame reports the text).
    """
    vals = [v for v in col if not is_missing(v)]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        try:
            return pd.to_numeric(col, errors="coerce")
        except OverflowError:  # an integer cell beyond float range: infinite, refused later
            return pd.Series([np.nan if is_missing(v) else _float_or_inf(v) for v in col],
                             index=col.index, name=col.name, dtype=np.float64)
    if all(isinstance(v, str) for v in vals):
        return pd.Series(pd.array([None if is_missing(v) else v for v in col], dtype="str"),
                         index=col.index, name=col.name)
    if any(isinstance(v, bool) for v in vals) and not all(isinstance(v, bool) for v in vals):
        # TRUE beside numbers or text: text, as a CSV reader reads such a column, so every
        # slice of it has one type (a slice of only TRUE cells would otherwise be boolean).
        return pd.Series(pd.array([None if is_missing(v) else str(v) for v in col],
                                  dtype="str"), index=col.index, name=col.name)
    return col.infer_objects()


# -- streaming ----------------------------------------------------------------------------------

def iter_outcome_batches(path: str | os.PathLike[str], chunksize: int = 100_000, *,
                         dtypes: Mapping[str, str] | None = None,
                         sheet: str | int | None = None,
                         ) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(row_offset, batch)`` pairs of at most ``chunksize`` rows, in constant memory.

    ``row_offset`` is the position of the batch's first data row in the file (0-based, header
    excluded); each batch's index continues from it, so index labels are file row numbers.
    CSV is read with pandas' chunked reader and Parquet with ``ParquetFile.iter_batches``.
    Excel files are read whole (openpyxl has no streaming reader that keeps typed cells) and
    then sliced.

    Raises:
        InputFileError: as :func:`read_outcomes`: a missing file or an unknown extension when
            called, a problem in the rows possibly after earlier batches were yielded (e.g.
            undecodable bytes half-way through a CSV file).
        RuleError: ``chunksize`` is not a positive whole number (a ValueError too), when
            called, before any batch is read.

    ``dtypes`` (CSV only) fixes some columns' types in every batch, e.g. the whole file's
    types from :func:`csv_column_types`; Parquet and Excel batches already share them.
    ``sheet`` (``.xlsx`` only) is the sheet to read, as for :func:`read_outcomes`. A file with
    a header and no data rows gives one empty batch with its columns, in every format; a
    ``chunksize`` past the file's length, however large, gives it in one batch.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
        >>> _ = p.write_text("measure,quantity\\n" + "jobs-local,1\\n" * 5)
        >>> [(off, len(b)) for off, b in iter_outcome_batches(p, chunksize=2)]
        [(0, 2), (2, 2), (4, 1)]
    """
    chunksize = chunk_size(chunksize)
    if dtypes is not None:
        mapping(dtypes, "dtypes")
    p, suffix = _checked_input(path, sheet)
    # The arguments are checked above, when called; the batches are read as they are asked for.
    return _batches(p, suffix, chunksize, dtypes, sheet)


def _batches(p: Path, suffix: str, chunksize: int, dtypes: Mapping[str, str] | None,
             sheet: str | int | None) -> Iterator[tuple[int, pd.DataFrame]]:
    if suffix == ".csv":
        yield from _iter_csv(p, chunksize, dtypes)
    elif suffix == ".parquet":
        yield from _iter_parquet(p, chunksize)
    else:
        df = _read_xlsx(p, sheet)
        for start in range(0, max(len(df), 1), chunksize):  # a sheet of no rows: one batch
            part = df.iloc[start:start + chunksize]
            part.index = pd.RangeIndex(start, start + len(part))
            yield start, part


def _iter_csv(p: Path, chunksize: int,
              dtypes: Mapping[str, str] | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
    layout = _csv_layout(p)
    options = _csv_options(layout)
    # Columns the whole file makes floats are cast after the blank records are dropped, not
    # parsed as floats: a record of spaces (dropped as blank) would not parse as a float, and
    # pandas raised a bare ValueError for the whole file.
    floats = frozenset(n for n, t in (dtypes or {}).items() if t == "float64")
    # Whole numbers with gaps past 2**53 are read as text and made exact after (_read_csv).
    wholes = {n: t for n, t in (dtypes or {}).items() if t in ("Int64", "UInt64")}
    options["dtype"] = {**options["dtype"],
                        **{n: t for n, t in (dtypes or {}).items()
                           if n not in floats and n not in wholes},
                        **dict.fromkeys(wholes, str)}
    fixed = frozenset(dtypes or ()) - floats
    # pandas may parse the first rows when the reader is created: the same errors as next().
    with _csv_errors(p, layout):
        reader = pd.read_csv(p, chunksize=_read_size(chunksize), **options)
    offset = 0
    quotes_checked = False  # the whole file, once, at the first chunk with a line break
    with reader:
        while True:
            with _csv_errors(p, layout):
                chunk = next(reader, None)
            if chunk is None:
                return
            if not quotes_checked and _has_line_break(chunk):
                _refuse_stray_quotes(p, layout.delimiter)
                quotes_checked = True
            chunk = _without_blank_rows(_without_extra(p, chunk, layout), fixed)
            for name in floats & set(chunk.columns):
                chunk[name] = pd.to_numeric(chunk[name]).astype(np.float64)
            for name, kind in wholes.items():
                if name in chunk.columns:
                    exact = _whole_numbers(chunk[name], kind)
                    chunk[name] = (exact if exact is not None
                                   else pd.to_numeric(chunk[name]).astype(np.float64))
            chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            yield offset, chunk
            offset += len(chunk)


def csv_column_types(path: str | os.PathLike[str],
                     chunksize: int = 100_000) -> dict[str, str]:
    """The columns of a CSV file whose type, read in batches, would differ from batch to batch,
    with the type a whole-file read gives them: ``"str"`` for a column holding somewhere a value
    that is not a number (a typo in ``quantity``), ``"float64"`` for whole numbers in some
    batches and fractions in others, ``"Int64"`` (``"UInt64"`` past int64) for whole numbers
    with empty cells of which some are 2**53 or more, every cell written as a whole number
    (read exactly, as a whole-file read does, not as floats). ``{}`` for other formats (their
    batches share a type).

    Pass it to ``iter_outcome_batches(path, dtypes=...)`` so every batch has the whole file's
    column types (text that is a number is still valued as that number). One extra pass.
    """
    chunksize = chunk_size(chunksize)
    p, suffix = _check_input(path)
    if suffix != ".csv":
        return {}
    kinds: dict[str, set[str]] = {}
    blanks: set[str] = set()  # columns with an empty cell somewhere, in any batch
    big: set[str] = set()  # columns with a number of 2**53 or more somewhere
    fractions: set[str] = set()  # columns with a number that is not whole somewhere
    for _, batch in _iter_csv(p, chunksize):
        for name in batch.columns:
            if name in TEXT_COLUMNS:
                continue
            if _digits_and_empty_text(batch[name]):  # pandas' reading of huge ids with gaps
                blanks.add(name)
                big.add(name)
                kinds.setdefault(name, set()).add("u")
                continue
            present = batch[name].notna()
            if not present.all():
                blanks.add(name)
            if present.any():
                kind = _batch_kind(batch[name][present])
                kinds.setdefault(name, set()).add(kind)
                if kind == "f" and not _whole_floats(batch[name][present]):
                    fractions.add(name)
                if kind in "iuf" and float(batch[name][present].abs().max()) >= _FLOAT_INTS:
                    big.add(name)
    # Whole numbers with gaps past what a float holds are read exactly, where every cell is
    # written as a whole number (_read_csv): the cells' text says, read once more.
    wholes = _whole_number_kinds(p, chunksize, {
        name for name, k in kinds.items()
        if k <= {"i", "u", "f"} and name in blanks and name in big and name not in fractions})
    found: dict[str, str] = {}
    for name, k in kinds.items():
        # Whole numbers with an empty cell anywhere are floats in a whole-file read, as are
        # whole numbers and fractions; True/False with empty cells stay True/False (and gaps).
        if name in wholes:
            found[name] = wholes[name]
        elif k == {"i", "f"} or (k == {"i"} and name in blanks):
            found[name] = "float64"
        elif len(k) > 1 or "O" in k:
            found[name] = "str"
    return found


def _whole_number_kinds(p: Path, chunksize: int, names: set[str]) -> dict[str, str]:
    """For the columns ``names`` of a CSV file, the type a whole-file read gives them where
    every cell is written as a whole number: ``"Int64"``, ``"UInt64"`` (past int64), or
    ``"str"`` (past both); columns with other cells are left out."""
    if not names:
        return {}
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    whole = set(names)
    for _, batch in _iter_csv(p, chunksize, dict.fromkeys(names, "str")):
        for name in list(whole):
            ints = _whole_ints(batch[name].dropna().tolist())
            if ints is None:
                whole.discard(name)
            elif ints:
                low[name] = min(low.get(name, ints[0]), *ints)
                high[name] = max(high.get(name, ints[0]), *ints)
    return {name: _integer_kind(low.get(name, 0), high.get(name, 0)) for name in whole}


def _whole_floats(present: pd.Series) -> bool:
    """Whether float cells are all whole numbers (a batch's whole numbers with a gap: pandas
    read them as floats)."""
    values = present.to_numpy(dtype=np.float64)
    return bool(np.isfinite(values).all() and (values == np.floor(values)).all())


def _batch_kind(present: pd.Series) -> str:
    """The dtype kind of a batch's non-empty cells, where pandas read them as objects only
    because of the empty cells beside them (True/False and blanks are objects, not text)."""
    if present.dtype.kind == "O" and all(isinstance(v, (bool, np.bool_)) for v in present):
        return "b"
    return str(present.dtype.kind)


_TOO_MANY_FIELDS = re.compile(r"Expected \d+ fields in line \d+, saw \d+")


@contextlib.contextmanager
def _csv_errors(p: Path, layout: _CsvLayout) -> Iterator[None]:
    """Turn the pandas and codec errors of reading a CSV file into InputFileError."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise _decode_error(p, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise _no_header(p) from exc
    except pd.errors.ParserError as exc:
        # "Expected 5 fields in line 3, saw 6": a record longer than the header, named by
        # its line in the file (pandas' count is of records, not lines).
        if _TOO_MANY_FIELDS.search(str(exc)):
            raise _beyond_header(p, layout) from exc
        raise _malformed(p, exc) from exc


def _iter_parquet(p: Path, chunksize: int) -> Iterator[tuple[int, pd.DataFrame]]:
    pq = _require("pyarrow.parquet")
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _fail(p, f"not a readable Parquet file ({exc})") from exc
    offset = 0
    with pf:
        # Decided for the whole file, as a whole-file read decides it (see _arrow_to_pandas),
        # but scanned batch by batch: reading the integer columns whole held every row of
        # them at once (a nightly file of 4 million rows and three such columns: 140 MB of
        # Arrow memory for batches of 10,000 rows).
        nulls, exact = _file_integer_nulls(pf, _read_size(chunksize))
        # A column with a null anywhere is float64 in a whole-file read (to_pandas), so in
        # every batch: a batch without its nulls was int64, and a CSV written batch by batch
        # held 1.0 in some rows and 2 in others, unlike the file write_valuations writes.
        floats = nulls - exact
        for batch in pf.iter_batches(batch_size=_read_size(chunksize)):
            df = _arrow_to_pandas(_arrow_text(p, batch), offset, p, exact)
            for name in floats:
                if list(df.columns).count(name) == 1 and df[name].dtype.kind in "iu":
                    df[name] = df[name].astype(np.float64)
            yield offset, df
            offset += batch.num_rows
        if offset == 0:  # no rows: one empty batch with the file's columns, as from a CSV
            yield 0, _arrow_to_pandas(_arrow_text(p, pf.schema_arrow.empty_table()), path=p)


# -- where rows come from -----------------------------------------------------------------------

def source_lines(path: str | os.PathLike[str], rows: Iterable[int], *,
                 sheet: str | int | None = None) -> dict[int, int]:
    """Where data rows start in the file, as an editor or a spreadsheet numbers them.

    ``rows`` are 0-based data rows (header excluded), as in the ``row`` column of issues;
    the result maps each to its 1-based CSV line or ``.xlsx`` sheet row. The readers skip
    blank lines and a quoted CSV value may span lines, so the line is not always ``row + 2``.
    The file is scanned again, up to the last row asked for: call this for the few rows that
    need a line (e.g. bad rows), not for every row. Parquet files have no lines (``{}``);
    rows past the end of the file, or past a part the scan cannot read, are left out.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
        >>> _ = p.write_text("measure,quantity\\njobs-local,1\\n\\n\\njobs-local,-1\\n")
        >>> source_lines(p, [0, 1])
        {0: 2, 1: 5}
    """
    p = Path(path)
    wanted = {int(r) for r in not_text(rows, "rows")}
    suffix = p.suffix.lower()
    if not wanted or suffix not in (".csv", ".xlsx") or not p.is_file():
        return {}
    if suffix == ".xlsx":
        try:
            found = _read_sheet(p, sheet)
        except InputFileError:
            return {}
        return _numbered(iter([1, *(n for n, _ in found.rows)]), wanted)
    with contextlib.closing(_csv_record_lines(p, _delimiter(p))) as lines:  # closes on stop
        return _numbered(lines, wanted)


#: Readers inside :func:`_fields_as_long_as`, and the limit the first found (put back when
#: the last leaves).
_FIELD_LIMIT_LOCK = threading.Lock()
_FIELD_LIMIT = {"readers": 0, "saved": 0}


@contextlib.contextmanager
def _fields_as_long_as(p: Path) -> Iterator[None]:
    """Let the csv module read a field as long as the file (its default stops at 128 KiB,
    where pandas reads on: a long notes cell stopped the checks that read records, quietly).
    The limit is the process's: while any reader is inside it is only ever raised (to the
    longest file's size), and the last to leave puts back the limit the first found."""
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    with _FIELD_LIMIT_LOCK:
        if _FIELD_LIMIT["readers"] == 0:
            _FIELD_LIMIT["saved"] = csv.field_size_limit()
        _FIELD_LIMIT["readers"] += 1
        if size >= csv.field_size_limit():
            csv.field_size_limit(min(size + 1, 2**31 - 1))
    try:
        yield
    finally:
        with _FIELD_LIMIT_LOCK:
            _FIELD_LIMIT["readers"] -= 1
            if _FIELD_LIMIT["readers"] == 0:
                csv.field_size_limit(_FIELD_LIMIT["saved"])


def _csv_records(p: Path, delimiter: str) -> Generator[tuple[int, list[str]], None, None]:
    """Each non-blank CSV record (the header first) and the line where it starts, with the
    blank line rule of :func:`_blank_line` before the header and of :func:`_blank_record`
    after it (as the readers skip them); stops quietly where the file cannot be parsed."""
    with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh, _fields_as_long_as(p):
        reader = csv.reader(fh, delimiter=delimiter)
        start = 1
        with contextlib.suppress(csv.Error):
            header = True
            for record in reader:
                if not (_blank_line(record) if header else _blank_record(record)):
                    header = False
                    yield start, record
                start = reader.line_num + 1


def _csv_record_lines(p: Path, delimiter: str) -> Generator[int, None, None]:
    """The line where each record of :func:`_csv_records` starts."""
    with contextlib.closing(_csv_records(p, delimiter)) as records:
        for line, _ in records:
            yield line


def _numbered(record_lines: Iterator[int], wanted: set[int]) -> dict[int, int]:
    """Map data rows to lines, given the line of every record, the header first."""
    found: dict[int, int] = {}
    last = max(wanted)
    for row, line in enumerate(record_lines, start=-1):
        if row in wanted:
            found[row] = line
        if row >= last:
            break
    return found


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (by path, or as links to one file): a command or
    ``value_file`` writing its results there would replace its input."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


# -- writing ------------------------------------------------------------------------------------

#: The key of a ``.parquet`` output's file metadata that holds :func:`provenance`, as JSON
#: (pyarrow: ``pyarrow.parquet.read_metadata(path).metadata``).
PROVENANCE_KEY = "socialvalue_tom.provenance"
#: The sheet of an ``.xlsx`` output that lists :func:`provenance`, after the rows' own.
PROVENANCE_SHEET = "Provenance"


def file_source(path: str | os.PathLike[str]) -> str:
    """A file as :func:`provenance` records an input: its name and the sha256 of its bytes
    (``"portfolio.csv (sha256 9f86d0...)"``), which says which file, exactly, was valued.
    Raises :class:`InputFileError` for a file that cannot be read."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise InputFileError(f"{p}: cannot read the file ({exc.strerror or exc})",
                             path=str(p)) from None
    return f"{p.name} (sha256 {digest})"


def provenance(valued: pd.DataFrame, *, source: str | None = None) -> dict[str, Any] | None:
    """What produced ``valued``, as JSON-ready data to keep with a file written from it: an
    auditor re-running the valuation needs every item, and a CSV of the rows alone says none.

    Returns None for a frame :func:`~socialvalue_tom.frame.value_frame` did not produce (or
    that lost what it recorded: ``pd.concat`` of different valuations, a file read back).
    Otherwise ``produced_by`` (the library and its version), ``input`` (``source``, when
    given: the input's name, say with its sha256), ``assumptions`` (every setting, defaults
    included), ``editions`` (each edition of the tables the call was given, sorted, with its
    content digest and its price index's digest, and for a local amendment ``amends``, the
    edition it amends), ``input_rows`` (the rows the call valued,
    not those of a selection made since; for rows :func:`~socialvalue_tom.apportion` split
    into parts, the input rows, each counted once, and ``valued_parts``, the parts valued) and
    ``rows_not_valued`` (the input rows with an issue) and ``rows_digest``
    (:func:`rows_digest` of ``valued``: each row's labels and amount, in order, which
    ``verify`` checks the file's rows against). The same valuation gives the same record: no
    time of day, no run id.

    :func:`write_valuations` keeps it in the file it writes where the format has room: a
    ``.parquet`` file's metadata (key :data:`PROVENANCE_KEY`), an ``.xlsx`` workbook's
    sheet :data:`PROVENANCE_SHEET`. A CSV file has none: keep ``json.dumps(provenance(v))``
    beside it (the command line's ``value --provenance FILE.json``).

    Examples:
        >>> import socialvalue_tom as sv
        >>> rows = pd.DataFrame({"measure": ["env-carbon-saved"], "quantity": [2.0],
        ...                      "unit": ["tCO2e"], "region": ["uk"], "date": ["2024-05-01"]})
        >>> record = provenance(sv.value_frame(rows))
        >>> [e["edition"] for e in record["editions"]], record["assumptions"]["price_year"]
        (['uk-national:2023', 'uk-national:2024', 'uk-national:2025'], None)
    """
    frame(valued, "provenance()")
    if source is not None:
        text(source, "source (the input's name)")
    meta = valued.attrs.get("socialvalue_tom")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("editions"), Mapping):
        return None
    indices = meta.get("price_indices")
    indices = indices if isinstance(indices, Mapping) else {}
    amended = meta.get("amendments")
    amended = amended if isinstance(amended, Mapping) else {}
    issues = valued.attrs.get("issues")
    bad = (int(issues["row"].nunique()) if isinstance(issues, pd.DataFrame)
           and "row" in issues.columns else None)
    rows, parts = meta.get("rows"), None
    if isinstance(meta.get("input_rows"), int):  # parts of apportioned rows were valued
        found = meta.get("valued_parts")
        rows, parts = meta["input_rows"], found if isinstance(found, int) else rows
        if isinstance(meta.get("input_rows_not_valued"), int):
            bad = meta["input_rows_not_valued"]
    return provenance_record(
        dict(meta.get("assumptions") or {}),
        [(str(name), digest, indices.get(digest)) for name, digest in meta["editions"].items()],
        rows, bad, source=source, valued_parts=parts,
        amendments={str(k): str(v) for k, v in amended.items()}, digest=rows_digest(valued))


#: The cells a record's ``rows_digest`` covers, row by row: what a row claims and how it is
#: grouped (its measure, region, stage, contract, supplier, date) and what it was valued at.
#: A quantity, unit or rule cell changed is found by valuing the rows again (``verify``);
#: a relabelled row (a commitment marked delivered) or one swapped for a copy of another
#: values the same, and only this digest finds it.
DIGESTED_COLUMNS = ("measure", "region", "stage", "contract_id", "supplier_id", "date",
                    "value_gbp")


def rows_digest(df: pd.DataFrame) -> str:
    """The sha256 of ``df``'s :data:`DIGESTED_COLUMNS`, row by row in order, each cell as the
    text it reads back as from any of the formats written (ids and text stripped, ``1001.0``
    as ``1001``; a date as ``YYYY-MM-DD``; an amount in whole pence): a provenance record's
    ``rows_digest``, which ``verify`` checks the file's rows against."""
    digest = RowsDigest()
    digest.update(df)
    return digest.hexdigest()


class RowsDigest:
    """:func:`rows_digest` built up batch by batch (a file valued in batches adds each in
    turn and gets the whole file's digest): one sha256 per column over its cells in order,
    so that how the rows are cut into batches does not matter, then one over those."""

    def __init__(self) -> None:
        self._columns = [hashlib.sha256(f"socialvalue_tom rows digest 1: {name}\n".encode())
                         for name in DIGESTED_COLUMNS]

    def update(self, df: pd.DataFrame) -> None:
        """Add ``df``'s rows (a valued frame, or one read back from a file)."""
        for name, digest in zip(DIGESTED_COLUMNS, self._columns, strict=True):
            if name == "value_gbp":
                digest.update(_pence_bytes(df[name] if name in df.columns else None, len(df)))
            elif name in df.columns:
                codes, uniq = cell_codes(df[name])
                texts = np.array([_digest_text(u, name == "date") for u in uniq] + [""],
                                 dtype=object)
                cells: list[str] = texts[codes].tolist()
                if cells:  # each cell then a separator no cell holds, as batches join up
                    digest.update((_CELL_END.join(cells) + _CELL_END).encode(
                        "utf-8", "surrogatepass"))
            else:
                digest.update(b"\n" * len(df))

    def hexdigest(self) -> str:
        """The digest of every row added so far."""
        return hashlib.sha256(b"".join(d.digest() for d in self._columns)).hexdigest()


#: Where a row has no amount (not valued), in :func:`_pence_bytes`.
_NO_AMOUNT = np.iinfo(np.int64).min


def _pence_bytes(column: pd.Series | None, n: int) -> bytes:
    """Each amount in whole pence, as little-endian 64-bit integers: ``x * 100`` rounded half
    away from zero in floating point (not the Decimal rounding of reported totals: only the
    same amount must give the same pence, and a file gives back a float's every digit)."""
    if column is None:
        return np.full(n, _NO_AMOUNT, dtype="<i8").tobytes()
    amounts = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    pence = np.where(np.isfinite(amounts),
                     np.trunc(amounts * 100 + np.copysign(0.5, amounts)), 0.0)
    out = np.where(np.isfinite(amounts), pence.astype(np.int64), _NO_AMOUNT)
    return out.astype("<i8").tobytes()


#: Ends each cell in the rows digest: a C0 control, which :func:`_sheet_text` replaces, so
#: no cell read as a workbook gives it back can hold it.
_CELL_END = "\x1e"
#: A datetime a CSV file wrote as text (``2024-05-15 09:30:00``).
_ISO_WITH_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*")


def _digest_text(cell: Any, dated: bool = False) -> str:
    """A key or label cell as the text every format reads it back as: in the ``date`` column
    (``dated``) a date or datetime as its ``YYYY-MM-DD`` (the day it is valued on, as the
    readers give it; the text of one that a CSV file wrote too); text with line ends as
    ``\n`` and characters a workbook cannot hold as U+FFFD,
    as an ``.xlsx`` file gives them back; anything else as :func:`key_text` reads it."""
    if dated and isinstance(cell, dt.date | np.datetime64):
        stamp = pd.Timestamp(cell)
        if not pd.isna(stamp):
            return str(stamp.date().isoformat())
    if dated and isinstance(cell, str) and _ISO_WITH_TIME.fullmatch(cell):
        return cell.strip()[:10]  # a datetime a CSV file wrote as text: valued as its day
    text = key_text(cell) or ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return str(_sheet_text(text))


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance record (:func:`provenance`) a valued file keeps: a ``.parquet`` file's
    metadata, an ``.xlsx`` workbook's :data:`PROVENANCE_SHEET` (read back from its text:
    ``(not set)`` is None, ``yes`` and ``no`` are true and false, numbers are numbers), or a
    ``.json`` record as ``value --provenance`` writes it. None for a file that keeps none (a
    CSV, or an output written without a record). Raises :class:`InputFileError` for a file
    that cannot be read, or a ``.json`` file that holds no such record."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            record = json.loads(p.read_text(encoding="utf-8-sig"))  # a BOM is fine
        except RecursionError:  # a security review: a bare traceback, exit 1
            raise _fail(p, "not a readable provenance record (nested too deeply)") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _fail(p, f"not a readable provenance record ({exc})") from exc
        return _checked_record(p, record)
    if suffix == ".parquet":
        pq = _require("pyarrow.parquet")
        try:
            # The schema's metadata (write_valuations) or the file's (value_file writes its
            # record when the last batch is in).
            metadata = {**(pq.read_metadata(p).metadata or {}),
                        **(pq.read_schema(p).metadata or {})}
        except Exception as exc:  # pyarrow's errors for a file that is no Parquet
            raise _fail(p, f"not a readable .parquet file ({exc})") from exc
        raw = metadata.get(PROVENANCE_KEY.encode())
        if raw is None:
            return None
        try:
            found = json.loads(raw)
        except RecursionError:
            raise _fail(p, "its provenance metadata is nested too deeply") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise _fail(p, f"its provenance metadata is not JSON ({exc})") from exc
        return _checked_record(p, found)
    if suffix == ".xlsx":
        openpyxl = _require("openpyxl")
        _check_expanded_size(p)
        try:
            # Read-only: the record's few rows, not the whole workbook (a sheet of 200,000
            # valued rows took 48 s to load whole).
            wb = openpyxl.load_workbook(p, read_only=True)
            if PROVENANCE_SHEET not in wb.sheetnames:
                return None
            lines = [tuple(r[:2]) for r in wb[PROVENANCE_SHEET].iter_rows(
                max_col=2, max_row=_MAX_RECORD_LINES, values_only=True)]
        except Exception as exc:
            raise _fail(p, f"not a readable .xlsx workbook ({exc})") from exc
        if not lines or tuple(lines[0]) != ("item", "value"):
            raise _fail(p, f"sheet {PROVENANCE_SHEET!r} has no item and value columns: not "
                           "the record write_valuations keeps", sheet=PROVENANCE_SHEET)
        return _checked_record(p, _record_of_items(
            {str(item): value for item, value in lines[1:] if item is not None}))
    return None


#: Lines of a Provenance sheet read at most (a record has a few dozen).
_MAX_RECORD_LINES = 10_000


def _checked_record(p: Path, record: Any) -> dict[str, Any]:
    """``record`` if it has a provenance record's shape (settings, and editions each named
    with its digest), else :class:`InputFileError`."""
    editions = record.get("editions") if isinstance(record, dict) else None
    if not (isinstance(record, dict) and isinstance(record.get("assumptions"), dict)
            and isinstance(editions, list)
            and all(isinstance(e, dict) and isinstance(e.get("edition"), str)
                    for e in editions)):
        raise _fail(p, "not a provenance record: expected the JSON object value --provenance "
                       "writes (assumptions, and editions each with its name and digest)")
    digest = record.get("rows_digest")
    if digest is not None and not (isinstance(digest, str)
                                   and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise _fail(p, f"not a provenance record: its rows_digest is {quoted(digest)}, not a "
                       "sha256 in hex", field="rows_digest")
    for count in ("input_rows", "valued_parts", "rows_not_valued", "input_rows_not_valued"):
        given = record.get(count)
        if isinstance(given, float) and given.is_integer():  # 32.0, as a sheet may keep it
            given = record[count] = int(given)
        # A count that is no count would skip the row checks `verify` makes (a review).
        if given is not None and (not isinstance(given, int) or isinstance(given, bool)
                                  or given < 0):
            raise _fail(p, f"not a provenance record: its {count} is {quoted(given)}, not a "
                           "count of rows", field=count)
    return record


def _record_of_items(items: Mapping[str, Any]) -> dict[str, Any]:
    """A provenance record from the (item, text) lines :func:`_provenance_items` wrote."""
    record: dict[str, Any] = {}
    assumptions: dict[str, Any] = {}
    editions: dict[str, dict[str, Any]] = {}
    for item, value in items.items():
        item = str(item)
        if item.startswith("assumption "):
            assumptions[item.removeprefix("assumption ")] = _setting_of_text(value)
        elif item.startswith("edition ") and item.endswith(" amends"):
            name = item.removeprefix("edition ").removesuffix(" amends")
            editions.setdefault(name, {})["amends"] = _text_or_none(value)
        elif item.startswith("edition ") and item.endswith(" price index digest"):
            name = item.removeprefix("edition ").removesuffix(" price index digest")
            editions.setdefault(name, {})["price_index_digest"] = _text_or_none(value)
        elif item.startswith("edition ") and item.endswith(" digest"):
            name = item.removeprefix("edition ").removesuffix(" digest")
            editions.setdefault(name, {})["digest"] = _text_or_none(value)
        elif item in ("input_rows", "valued_parts", "rows_not_valued"):
            record[item] = _setting_of_text(value)
        else:
            record[item] = _text_or_none(value)
    record["assumptions"] = assumptions
    record["editions"] = [{"edition": name, "digest": e.get("digest"),
                           "price_index_digest": e.get("price_index_digest"),
                           **({"amends": e["amends"]} if "amends" in e else {})}
                          for name, e in sorted(editions.items())]
    return record


def _text_or_none(value: Any) -> str | None:
    return None if is_missing(value) or str(value) == "(not set)" else str(value)


def _setting_of_text(value: Any) -> Any:
    """A setting as :func:`_plain_text` wrote it, read back."""
    text = _text_or_none(value)
    if text is None:
        return None
    if text in ("yes", "no"):
        return text == "yes"
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return found if isinstance(found, int | float) and not isinstance(found, bool) else text


def provenance_record(assumptions: Mapping[str, Any],
                      editions: Iterable[tuple[str, str, str | None]], input_rows: int | None,
                      rows_not_valued: int | None, *,
                      source: str | None = None,
                      valued_parts: int | None = None,
                      amendments: Mapping[str, str] | None = None,
                      digest: str | None = None) -> dict[str, Any]:
    """The record :func:`provenance` gives, from its parts: the assumptions (as JSON), each
    edition as ``(name:version, digest, price index digest)``, and the counts (for
    ``streaming.value_file``, which values a file in batches and knows them at its end)."""
    from socialvalue_tom._version import __version__

    record: dict[str, Any] = {"produced_by": f"socialvalue_tom {__version__}"}
    if source is not None:
        record["input"] = source
    record.update({
        "assumptions": dict(assumptions),
        "editions": [{"edition": name, "digest": digest, "price_index_digest": index,
                      **({"amends": amendments[digest]} if amendments and digest in amendments
                         else {})}
                     for name, digest, index in sorted(editions)],
        "input_rows": input_rows,
        **({} if valued_parts is None else {"valued_parts": valued_parts}),
        "rows_not_valued": rows_not_valued,
        **({} if digest is None else {"rows_digest": digest}),
    })
    return record


def _provenance_items(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``record`` as (item, value) lines of text, for a sheet: settings one per line."""
    lines: list[tuple[str, str]] = []
    for key, value in record.items():
        if key == "assumptions":
            lines += [(f"assumption {name}", _plain_text(v)) for name, v in value.items()]
        elif key == "editions":
            for e in value:
                lines.append((f"edition {e['edition']} digest", _plain_text(e["digest"])))
                lines.append((f"edition {e['edition']} price index digest",
                               _plain_text(e["price_index_digest"])))
                if "amends" in e:  # a local amendment, not a published edition
                    lines.append((f"edition {e['edition']} amends", _plain_text(e["amends"])))
        else:
            lines.append((key, _plain_text(value)))
    return lines


def _plain_text(value: Any) -> str:
    """A record's value as a sheet's reader reads it: text as it is, ``(not set)`` for a
    setting left to its default of none, ``yes`` or ``no``, anything else as JSON writes it
    (a number as written). The record itself, as data, is :func:`provenance`'s."""
    if isinstance(value, str):
        return value
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value)


@own_decimal_context
def write_valuations(df: pd.DataFrame, path: str | os.PathLike[str], *,
                     source: str | None = None) -> Path:
    """Write valued rows to ``.csv``, ``.xlsx`` or ``.parquet`` (chosen by extension).

    The index is not written and ``df.attrs`` (e.g. the issues table) are dropped; write
    ``df.attrs["issues"]`` separately if you need it. What produced the rows
    (:func:`provenance`: the library's version, the assumptions, the editions and their
    digests; ``source``, the input's name, with them) is kept in a ``.parquet`` file's
    metadata and in an ``.xlsx`` workbook's second sheet, ``Provenance``; a ``.csv`` file has
    no room for it. An ``.xlsx`` workbook's rows are on its first sheet, ``Valuations``, its
    header frozen and filtered and its columns sized to their contents; a text cell of a
    figure or date input column (``quantity``, ``date``...) that plainly reads as one
    (``"12"``, ``"2024-09-30"``) is written as a number or a date, for the spreadsheet's sums
    and filters. Returns the path written.

    The rows go to a temporary file next to ``path``, renamed to ``path`` once complete: a
    failed write leaves a previous file as it was. Text is untrusted (it comes from suppliers):
    in ``.xlsx``, text starting with ``=``, ``+``, ``-`` or ``@`` is written as a text cell,
    never a formula, and control characters that a worksheet cannot hold are replaced by
    U+FFFD. In ``.parquet``, columns of mixed or other Python objects are written as text.
    Numbers in the text columns (a contract id ``1001.0``, an 18-digit id, a grade ``3``) are
    written as the text they are grouped by (``1001``, every digit), not as number cells: in
    ``.csv`` and ``.xlsx`` always, in ``.parquet`` where they are mixed with text (a column of
    numbers stays typed there, and is read back as that text).

    Amounts (``value_gbp``...) are written unrounded, as the engine computed them, so that
    totals taken from the file round to the totals reported (each figure rounded once, at the
    edge): a CSV cell may read ``29897.399999999998``. ``.xlsx`` shows them to the penny with a
    number format; the cell holds the amount's own digits (the fewest that read back as the
    same float, as Excel writes numbers), not a rounded one.

    Reading a written file back gives the same rows and amounts, with these exceptions: a
    ``date`` column of datetimes with a time of day (or a time zone) is written so in
    ``.csv``, which outcome readers refuse as a date (write dates, or ``.parquet``); in
    ``.xlsx``, text of only spaces reads back as missing, ``\r`` line ends become ``\n``,
    dates before 1 March 1900 (where a worksheet's calendar is not the real one) are written
    as ISO text, and whole numbers past 2**53 (a 17-digit id in a column
    of your own) are written as text, every digit kept, as a number cell (a float) cannot hold
    them all; a refused row whose cells are all blank is written blank, which readers of
    ``.csv`` and ``.xlsx`` skip.

    Raises:
        InputFileError: unknown extension, more rows than an Excel sheet holds, a folder that
            does not exist, or values the format cannot hold (time zones in ``.xlsx``, text
            longer than an ``.xlsx`` cell's 32,767 characters...).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.csv"
        >>> write_valuations(pd.DataFrame({"value_gbp": [1.5]}), p).read_text()
        'value_gbp\\n1.5\\n'
    """
    frame(df, "write_valuations()")
    record = provenance(df, source=source)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(p, f"unknown file type {p.suffix or '(no extension)'!r}: expected one of "
                       f"{', '.join(SUFFIXES)}", suffix=p.suffix)
    plain = df.copy(deep=False)
    plain.attrs = {}
    if suffix == ".xlsx":
        _require("openpyxl")
        if len(plain) + 1 > EXCEL_MAX_ROWS:
            raise _fail(p, f"{len(plain)} rows do not fit in an Excel sheet "
                           f"({EXCEL_MAX_ROWS - 1} at most): write .csv or .parquet instead")
        _refuse_overlong_text(plain, p)
    elif suffix == ".parquet":
        _require("pyarrow.parquet")
    # .parquet keeps number columns typed (read back as this text); mixed ones it would write
    # as str() gives them ("1001.0").
    plain = _numbers_as_key_text(plain, number_columns=suffix != ".parquet")
    writers: dict[str, Callable[[pd.DataFrame, Path], None]] = {
        ".csv": _write_csv,
        ".xlsx": lambda rows, tmp: _write_xlsx(rows, tmp, record),
        ".parquet": lambda rows, tmp: _write_parquet(rows, tmp, record)}
    write_through_temp(p, lambda tmp: writers[suffix](plain, tmp))
    return p


def _not_a_file_to_replace(p: Path) -> str | None:
    """Why ``p`` cannot be replaced by the file written, or None: it is there and is neither a
    file nor a link to a file or folder (a folder, a named pipe, a device, or a link to a pipe
    or device). A named pipe was replaced by a file, so its reader got nothing while the
    command said it wrote the rows."""
    try:
        mode = p.lstat().st_mode
        linked = stat.S_ISLNK(mode)
        if linked:
            # A link is replaced, not written through; but one to a named pipe or a device
            # (/dev/stdout is a link) is a reader waiting for the rows: refused as it is.
            mode = p.stat().st_mode
    except OSError:  # not there, or a dangling link: the write says why if it cannot
        return None
    if stat.S_ISREG(mode) or (stat.S_ISDIR(mode) and linked):
        return None
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    return f"{p.name} is {kind}, not a file: give the name of a file to write"


def _keep_mode(old: Path, new: Path, *, writable: bool = False) -> None:
    """Give ``new`` the permission bits of the regular file ``old`` it is about to replace, if
    there is one: a re-run keeps an output someone made private (``chmod 600``) private (a
    privacy review: each run's fresh file came back readable by all). Only the read, write
    and execute bits: never set-user-id, set-group-id or sticky. Where ``old`` is another
    user's file (an administrator re-running a colleague's job), ``new`` gets no bit it did
    not have: the group and others the colleague let read it are not this user's group.
    ``writable``: before the file is written, the owner may also read and write it (a
    read-only output, 0444, is replaced as before, and gets its 0444 once written).
    Owner, group and ACLs are the new file's: only the file's owner can give them. The mode
    is set on the file opened without following a link (one swapped in for ``new`` is not
    changed); a mode that cannot be set leaves the file as it is."""
    try:
        st = os.lstat(old)
    except OSError:  # nothing there (or nothing to read): the usual permissions
        return
    if not stat.S_ISREG(st.st_mode):
        return
    mode = stat.S_IMODE(st.st_mode) & 0o777
    with contextlib.suppress(OSError):
        # Non-blocking: a pipe swapped in for ``new`` would wait for a writer for ever.
        fd = os.open(new, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
                mode &= stat.S_IMODE(os.fstat(fd).st_mode)
            if writable:
                mode |= stat.S_IRUSR | stat.S_IWUSR
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:  # Windows before Python 3.13: no links to follow in a fresh temporary name
                os.chmod(new, mode)
        finally:
            os.close(fd)


def write_through_temp(p: Path, write: Callable[[Path], None]) -> None:
    """Run ``write`` on a temporary file next to ``p`` and rename it to ``p`` on success; any
    error is an InputFileError (``why`` says why, without the path) and removes the
    temporary file, as an interrupt (``KeyboardInterrupt``, ``SystemExit``) does. A symbolic
    (or hard) link named ``p`` is replaced, never written through."""
    why = (f"the folder {p.parent} does not exist" if not p.parent.is_dir()
           else _not_a_file_to_replace(p))
    if why:
        raise _fail(p, f"cannot write the file: {why}", why=why)
    # A fresh name (not mkstemp) so that the file gets the usual permissions; short, so that
    # an output name near the file system's limit still leaves room for it.
    tmp = p.with_name(f".sv-{uuid.uuid4().hex[:16]}.part{p.suffix}")
    try:
        # Made, and given the replaced file's mode, before anything is written: a private
        # output's rows are never readable by others, not even while being written.
        tmp.touch(exist_ok=False)
        _keep_mode(p, tmp, writable=True)
        write(tmp)
        _keep_mode(p, tmp)  # a writer may have made the file afresh
        os.replace(tmp, p)
    except BaseException as exc:
        # Ctrl-C (or the command line's SIGTERM, a cancelled CI job) mid-write too: a hidden
        # part file of hundreds of megabytes was left beside the output (a scripter's review).
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, SocialValueError) or not isinstance(exc, Exception):
            raise
        # pandas, openpyxl and pyarrow raise many unrelated types (OSError, ValueError,
        # ArrowInvalid, IllegalCharacterError...): all mean this frame cannot be written here.
        # An OSError names the temporary file: say only why (the message names the output).
        why = (exc.strerror if isinstance(exc, OSError) and exc.strerror
               else f"{type(exc).__name__}: {exc}")
        # Windows refuses to replace a file another program holds open (Excel does).
        hint = (": is it open in another program, Excel say? close it and try again"
                if isinstance(exc, PermissionError) else "")
        raise _fail(p, f"cannot write the file ({why}){hint}", why=why) from exc


def _numbers_as_key_text(df: pd.DataFrame, *, number_columns: bool = True) -> pd.DataFrame:
    """``df`` with the numbers in its :data:`TEXT_COLUMNS` (ids, grades, and a date or region
    given as a number) as the text they are read back as (:func:`~socialvalue_tom._text.key_text`),
    in number columns and among the text of object or categorical ones: a float contract id
    ``1001.0`` written as ``1001.0`` was read back from ``.csv`` as another contract than
    ``1001``, and an ``.xlsx`` number cell keeps 15 digits (123456789012345678 came back
    123456789012345696). Text and booleans are left as they are. ``number_columns=False``
    leaves integer and float columns as numbers (``.parquet`` keeps them typed, and its reader
    reads them back as this text)."""
    out = df
    for j, (name, col) in enumerate(df.items()):
        if name not in TEXT_COLUMNS or pd.api.types.is_bool_dtype(col.dtype):
            continue
        if pd.api.types.is_integer_dtype(col.dtype) or pd.api.types.is_float_dtype(col.dtype):
            if not number_columns:
                continue
            text = key_texts(col.to_numpy(dtype=object))
        elif _holds_text(col.dtype) and pd.api.types.infer_dtype(col, skipna=True) not in (
                "string", "empty", "boolean"):
            values = col.to_numpy(dtype=object)
            text = np.array([key_text(v) if _is_number(v) else v for v in values.tolist()],
                            dtype=object)
        else:
            continue
        if out is df:
            out = df.copy(deep=False)
        out.isetitem(j, text)  # by position: names may repeat
    return out


def _is_number(value: Any) -> bool:
    """A real number cell (not a boolean, which is text's True/False); an exact one too
    (``Decimal('1.50')``, written as its text: an ``.xlsx`` file had made it 1.5)."""
    return isinstance(value, int | float | np.integer | np.floating | Decimal | Fraction) \
        and not isinstance(value, bool | np.bool_)


def _write_csv(df: pd.DataFrame, target: Path, encoding: str = "utf-8") -> None:
    df.to_csv(target, index=False, lineterminator=csv_line_end(df), encoding=encoding)


def csv_line_end(df: pd.DataFrame) -> str:
    """``"\n"``, or ``"\r\n"`` where a text cell or column name holds a carriage return: the
    csv writer quotes a value only for the characters of its line end, and an unquoted
    ``a\rb`` is read back as two lines (a row split in two, its columns shifted)."""
    names = "".join(str(c) for c in df.columns)
    if "\r" in names or any(_text_holds(col, ("\r",)) for _, col in df.items()
                            if _holds_text(col.dtype)):
        return "\r\n"
    return "\n"


def _holds_text(dtype: Any) -> bool:
    """Whether a column of ``dtype`` may hold text cells (object, string, categorical...)."""
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_timedelta64_dtype(dtype))


def _write_parquet(df: pd.DataFrame, target: Path,
                   record: Mapping[str, Any] | None = None) -> None:
    pq = _require("pyarrow.parquet")
    table = arrow_table(df)
    if record is not None:
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            PROVENANCE_KEY.encode(): json.dumps(record, sort_keys=True).encode()})
    pq.write_table(table, target)


#: Columns of GBP amounts (the contract value given with them), shown to the penny in
#: ``.xlsx`` output.
MONEY_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "contract_value")
_GBP_FORMAT = '"£"#,##0.00;-"£"#,##0.00'

#: Text a spreadsheet would read as a formula (formula injection: suppliers are untrusted).
_FORMULA_STARTS = ("=", "+", "-", "@")


def _write_xlsx(df: pd.DataFrame, target: Path,
                record: Mapping[str, Any] | None = None, sheet: str | None = None,
                money: Sequence[Any] = MONEY_COLUMNS, notes: Sequence[str] = ()) -> None:
    # openpyxl's write-only mode streams rows to the file instead of building an object per
    # cell (DataFrame.to_excel does): less time, and memory that does not grow with the rows.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    safe, risky = _xlsx_safe(_typed_for_excel(df))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet or VALUATIONS_SHEET)
    rows = [[_xlsx_value(name) for name in safe.columns],
            *zip(*(_xlsx_cells(col) for _, col in safe.items()), strict=True)]
    _lay_out_sheet(ws, df, rows, money)
    for row, col in risky:
        # openpyxl makes text starting with '=' a formula and '#N/A' an error value: make them
        # text cells; quotePrefix keeps them text when someone edits the cell in Excel.
        cell = WriteOnlyCell(ws, value=rows[row - 1][col - 1])
        cell.data_type = "s"
        cell.quotePrefix = True
        rows[row - 1] = [*rows[row - 1][:col - 1], cell, *rows[row - 1][col:]]
    # A float column's cells go through one cell object, reused row after row (append writes a
    # row whole): money columns show pennies, and every cell holds the float's shortest exact
    # digits, as Excel writes them. openpyxl writes 16 significant digits ("%.16g"), which can
    # move an amount a hair off a half penny to the other side of it (the docstring's totals).
    names = list(df.columns)
    floats = {j: _float_cell(ws, name in money) for j, (name, column) in enumerate(df.items())
              if pd.api.types.is_float_dtype(column.dtype)}
    plain = [j for j in floats if names[j] not in money]
    ws.append(rows[0])
    for values in rows[1:]:
        if floats:
            values = list(values)
            for j, cell in floats.items():
                if values[j] is not None:
                    cell.value = values[j]
                    if isinstance(values[j], float):  # not "inf" (_xlsx_value)
                        cell._value = repr(values[j])
                    values[j] = cell
        ws.append(values)
        # openpyxl writes the rest of a row through an unstyled cell object it is given (its
        # scratch cell): a date later in the row gave this column's cell a date format.
        for j in plain:
            if floats[j].has_style:
                floats[j] = _float_cell(ws, False)
    if notes:  # what a table's reader needs beside it (its prices, caveats), one per row
        page = wb.create_sheet("Notes")
        page.append(["note"])
        for note in notes:
            cell = WriteOnlyCell(page, value=note)
            cell.data_type = "s"  # text, never a formula
            page.append([cell])
    if record is not None:
        _write_provenance_sheet(wb, record)
    save_workbook(wb, target)


#: Input columns of figures and of dates: in ``.xlsx`` output, a text cell that plainly
#: reads as one (``"12"``, ``"2024-09-30"``, as a supplier's workbook or a CSV gave it) is
#: written as a number or a date, which a spreadsheet sums, sorts and filters (its SUM leaves
#: text out without a word).
_FIGURE_INPUTS = ("quantity", "years", "deadweight", "displacement", "attribution",
                  "drop_off", "contract_value")
_DATE_INPUTS = ("date", "period_start", "period_end")
# ASCII digits only, as valuing reads a figure ('１２' is refused there, so kept as text here).
_PLAIN_FIGURE = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_ISO_DAY = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*")
#: The first day a worksheet shows as a date (Excel's serial 61: before it, its calendar has a
#: 29 February 1900 that never was, and days before 1900 are no dates to it).
_FIRST_SHEET_DAY = dt.date(1900, 3, 1)


def _typed_for_excel(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the text cells of its figure and date input columns that plainly read as a
    number or a date (:data:`_FIGURE_INPUTS`, :data:`_DATE_INPUTS`) made one; other cells,
    and other columns, as they are."""
    out = df
    for j, (name, col) in enumerate(df.items()):
        if not _holds_text(col.dtype) or name not in (*_FIGURE_INPUTS, *_DATE_INPUTS):
            continue
        read = _figure_cell if name in _FIGURE_INPUTS else _day_cell
        values = [read(v) for v in col.tolist()]
        if out is df:
            out = df.copy(deep=False)
        out.isetitem(j, _objects(values))  # by position: a name may be repeated
    return out


def _figure_cell(v: Any) -> Any:
    if isinstance(v, str) and _PLAIN_FIGURE.fullmatch(v):
        number = float(v)
        return number if math.isfinite(number) else v
    return v


def _day_cell(v: Any) -> Any:
    if isinstance(v, str) and _ISO_DAY.fullmatch(v):
        try:
            day = dt.date.fromisoformat(v.strip())
        except ValueError:  # 2024-02-30: kept as written
            return v
        # A typo before 1900 ('0225-09-30') stays the text written: Excel shows such a date
        # as ####, and the row to mend must show what was typed.
        return day if day >= _FIRST_SHEET_DAY else v
    return v


#: The name of an output workbook's sheet of valued rows (the first sheet).
VALUATIONS_SHEET = "Valuations"
#: Column widths in characters: at most this wide (a long note wraps off screen, not the
#: sheet), and worked out from this many rows (a million rows are not measured cell by cell).
_MAX_WIDTH, _MEASURED_ROWS = 60, 2000


def _lay_out_sheet(ws: Any, df: pd.DataFrame, rows: list[Any], money: Sequence[Any]) -> None:
    """Set the data sheet's column widths, freeze its header and filter it, as a spreadsheet
    user sets a sheet up: an amount wider than its column shows as ``####`` in Excel. Set
    before the rows are written (a write-only sheet writes its columns first)."""
    from openpyxl.utils import get_column_letter

    if not rows or not rows[0]:
        return
    for j, name in enumerate(df.columns):
        cells = [r[j] for r in rows[:_MEASURED_ROWS + 1]]
        longest = max(len(str(getattr(c, "value", c))) for c in cells if c is not None) \
            if any(c is not None for c in cells) else 0
        column = df.iloc[:, j]  # by position: a name may be repeated
        if name in money and pd.api.types.is_numeric_dtype(column.dtype):
            amounts = np.abs(pd.to_numeric(column, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan))
            finite = amounts[np.isfinite(amounts)]
            top = float(finite.max()) if finite.size else math.nan
            if math.isfinite(top):  # as the format shows it: -£1,234.56
                longest = max(longest, len(f"-£{top:,.2f}"))
        ws.column_dimensions[get_column_letter(j + 1)].width = min(longest + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(rows)}"


def _write_provenance_sheet(wb: Any, record: Mapping[str, Any]) -> None:
    """The :data:`PROVENANCE_SHEET` of an output workbook: an item and its value per row,
    every value a text cell (a table's or input's name is the caller's text, never read as
    a formula)."""
    from openpyxl.cell import WriteOnlyCell

    ws = wb.create_sheet(PROVENANCE_SHEET)
    ws.append(["item", "value"])
    safe, risky = _xlsx_safe(pd.DataFrame(_provenance_items(record), columns=["item", "value"],
                                          dtype=object))
    quoted = set(risky)  # (row, column), the header being row 1, as for the data sheet
    for i, (item, value) in enumerate(safe.itertuples(index=False, name=None), start=2):
        cells = []
        for j, shown in enumerate((item, value), start=1):
            cell = WriteOnlyCell(ws, value=shown)
            cell.data_type = "s"  # text, whatever it starts with
            # As on the data sheet: kept text when someone edits the cell in Excel (an input
            # named '=cmd|calc.csv', a security review).
            cell.quotePrefix = (i, j) in quoted
            cells.append(cell)
        ws.append(cells)


def _float_cell(ws: Any, money: bool) -> Any:
    """The cell object a float column's values are written through (see :func:`_write_xlsx`):
    ``money``, shown in pounds to the penny."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws)
    if money:
        cell.number_format = _GBP_FORMAT
    return cell




def _xlsx_cells(col: pd.Series) -> list[Any]:
    """The cells of one column as DataFrame.to_excel writes them: Python numbers, dates and
    text, ``None`` for a missing value, ``"inf"`` for an infinite one."""
    if pd.api.types.is_float_dtype(col.dtype) and isinstance(col.dtype, np.dtype):
        values = col.to_numpy()
        cells: list[Any] = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            cells[i] = _xlsx_value(values[i])
        return cells
    if col.dtype.kind in "iu" and isinstance(col.dtype, np.dtype):
        values = col.to_numpy()
        cells = values.tolist()
        for i in np.flatnonzero((values > _FLOAT_INTS) | (values < -_FLOAT_INTS)).tolist():
            cells[i] = str(cells[i])
        return cells
    if col.dtype.kind == "b" and isinstance(col.dtype, np.dtype):
        return list(col.tolist())
    return [_xlsx_value(v) for v in col.astype(object)]


def _xlsx_value(v: Any) -> Any:
    """One value as DataFrame.to_excel writes it (pandas' ``_value_with_fmt``): missing is an
    empty cell; an aware datetime is refused, as Excel has no time zones."""
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if isinstance(v, np.datetime64 | np.timedelta64):
        return str(v)  # as to_excel wrote them (a date past 9999 is no worksheet date)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v if -_FLOAT_INTS <= v <= _FLOAT_INTS else str(v)
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            raise ValueError("Excel does not support datetimes with timezones: convert them "
                             "to naive datetimes (or dates) before writing .xlsx")
        # Before 1 March 1900 a worksheet's calendar is not the real one (1899-12-31 reads
        # back as a time of day): the day is written as ISO text, every digit kept.
        return v if v.date() >= _FIRST_SHEET_DAY else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v if v >= _FIRST_SHEET_DAY else v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds() / 86400
    return str(v)


#: The most characters a worksheet cell holds: Excel (and openpyxl, with a warning) cuts longer
#: text, so such a value is refused rather than written shortened.
_XLSX_CELL_CHARS = 32767


def _refuse_overlong_text(df: pd.DataFrame, p: Path) -> None:
    """InputFileError naming the first text cell (or column name) longer than an ``.xlsx``
    cell holds: openpyxl would write it cut short, with only a warning."""
    cells = [("(header)", -1, c) for c in df.columns] + [
        (name, i, v) for name, col in df.items() if _holds_text(col.dtype)
        for i, v in enumerate(col.tolist())]
    for name, i, v in cells:
        if isinstance(v, str) and len(v) > _XLSX_CELL_CHARS:
            where = "a column name" if i < 0 else f"column {name!r}, row {i}"
            raise _fail(p, f"{where}: {len(v):,} characters, more than an .xlsx cell holds "
                           f"({_XLSX_CELL_CHARS:,}); write .csv or .parquet to keep the text "
                           "whole", column=str(name), row=i)


@functools.cache
def _openpyxl_error_codes() -> Any:
    """openpyxl's error values, imported once (openpyxl is an optional extra;
    :func:`_reads_as_formula` runs once per cell)."""
    from openpyxl.cell.cell import ERROR_CODES

    return ERROR_CODES


def _sheet_text(v: Any) -> Any:
    """``v`` as a worksheet can hold it: text with the characters XML 1.0 forbids replaced by
    U+FFFD (the C0 controls, as openpyxl's ``ILLEGAL_CHARACTERS_RE``, and U+FFFE, U+FFFF and
    lone surrogates, which made a workbook no reader could open again); anything else as it
    is. Needs no openpyxl: the rows digest reads cells so whatever the format."""
    if not isinstance(v, str):
        return v
    return _NOT_XML_CHARS.sub("\ufffd", _C0_NOT_IN_XML.sub("\ufffd", v))


def _reads_as_formula(v: Any) -> bool:
    """Whether a spreadsheet would read text ``v`` as a formula or an error value, not as the
    text it is (``=cmd|...``, ``#N/A``): such a cell is written as text, quote-prefixed."""
    return isinstance(v, str) and (v.startswith(_FORMULA_STARTS)
                                   or v in _openpyxl_error_codes())


def _xlsx_safe(df: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """``df`` with text a worksheet can hold, and the (sheet row, column) of every cell, header
    included, whose text a spreadsheet would not read as plain text."""
    out = df.copy(deep=False)
    names = [_sheet_text(c) for c in df.columns]
    cells = [(1, j) for j, name in enumerate(names, 1) if _reads_as_formula(name)]
    out.columns = pd.RangeIndex(len(names))
    for j, (_, col) in enumerate(df.items()):
        if _holds_text(col.dtype):  # object, str, categorical, Arrow strings and the like
            values = [_sheet_text(v) for v in col]
            cells += [(i, j + 1) for i, v in enumerate(values, 2) if _reads_as_formula(v)]
            out[j] = _objects(values)
    out.columns = pd.Index(names)
    return out, cells


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-d object array (np.array would nest list values); set by position, not by index."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def arrow_table(df: pd.DataFrame, schema: Any = None) -> Any:
    """``df`` as a pyarrow Table without index or attrs, cast to ``schema`` when given.

    Categorical columns become plain strings, integers become float64 and all-null columns
    become strings, so batches of one file share one schema (see :func:`stable_schema`); but
    nullable integer columns and columns holding whole numbers past 2**53 stay integers, every
    digit kept, which a float64 column could not hold. Decided from ``df``'s own values: a
    file written in batches whose column holds such numbers in some batches only (plain small
    whole numbers in the others) has no one schema, and its writer refuses it.
    Object columns (mixed numbers and text, e.g. a quantity column an ``.xlsx`` file fills
    with ``2`` and ``abc``) become text, or booleans when they hold only booleans and blanks:
    by their dtype, not their values, so every batch of a file gets the same type.
    """
    pa = _require("pyarrow")

    plain = df.copy(deep=False)
    plain.attrs = {}
    names = list(plain.columns)
    plain.columns = pd.RangeIndex(len(names))
    for j, (_, col) in enumerate(df.items()):
        if col.dtype == object:
            plain[j] = _object_column(col)  # an array: set by position, whatever the index
    plain.columns = pd.Index(names)
    table = pa.Table.from_pandas(plain, preserve_index=False)
    if schema is None:
        schema = stable_schema(table.schema, exact=_exact_integer_columns(df))
    return table.cast(schema)


def _exact_integer_columns(df: pd.DataFrame) -> frozenset[str]:
    """Integer columns written as integers, not widened to float64: nullable ones (read
    exactly from a file, so every batch of it has the type) and any holding numbers past 2**53,
    which a float64 cannot hold."""
    found = set()
    for name, col in df.items():
        if name in TEXT_COLUMNS or col.dtype.kind not in "iu":
            continue
        if not isinstance(col.dtype, np.dtype):
            found.add(str(name))
        elif len(col):
            values = col.to_numpy()
            if values.max() > _FLOAT_INTS or (col.dtype.kind == "i"
                                              and values.min() < -_FLOAT_INTS):
                found.add(str(name))
    return frozenset(found)


def _object_column(col: pd.Series) -> Any:
    vals = [v for v in col if not is_missing(v)]
    if vals and all(isinstance(v, bool | np.bool_) for v in vals):
        return pd.array([None if is_missing(v) else bool(v) for v in col], dtype="boolean")
    return pd.array([None if is_missing(v) else str(v) for v in col], dtype="str")


def stable_schema(schema: Any, exact: frozenset[str] = frozenset()) -> Any:
    """A schema that every chunk of a file can be cast to.

    pandas infers types per chunk (``years`` is int64 in one chunk and float64 in the next,
    categories differ), so dictionaries are decoded, integers widened to float64 (except the
    integer columns named in ``exact``: whole numbers a float64 cannot hold) and null columns
    typed as (large) strings; pandas metadata is dropped.
    """
    import pyarrow as pa

    fields = []
    for f in schema:
        typ = f.type
        if pa.types.is_dictionary(typ):
            typ = typ.value_type
        if pa.types.is_integer(typ) and f.name in TEXT_COLUMNS:
            typ = pa.large_string()  # ids: 123456789012 stays those digits, never a float
        elif pa.types.is_integer(typ) and f.name not in exact:
            typ = pa.float64()
        elif pa.types.is_null(typ) or pa.types.is_string(typ):
            typ = pa.large_string()
        fields.append(pa.field(f.name, typ))
    return pa.schema(fields)

