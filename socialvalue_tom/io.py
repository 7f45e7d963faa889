"""Reading outcome files and writing valuations: CSV, Excel (``.xlsx``) and Parquet.

Text columns stay text. :data:`TEXT_COLUMNS` (``measure``, ``unit``, ``region``, ``date``,
``contract_id``, ``supplier_id``, ``stage``, ``confidence``) are read as strings in every format:
pandas does not parse the dates (``value_frame`` does, and reports a bad one by its row) and does
not turn a contract code such as ``007`` into the number 7. Other columns keep the types the
reader infers (numbers for ``quantity``, ``years``...).

Optional dependencies are imported only when a format needs them: Parquet needs ``pyarrow``
(``pip install 'socialvalue_tom[parquet]'``) and Excel needs ``openpyxl``
(``pip install 'socialvalue_tom[excel]'``).

Every problem with the file itself (missing, empty, unknown extension, undecodable bytes,
unreadable sheet) raises :class:`InputFileError`, an :class:`~socialvalue_tom.OutcomeError` whose
``path`` attribute names the file.

Added in 0.1.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from socialvalue_tom.errors import OutcomeError

__all__ = [
    "SUFFIXES",
    "TEXT_COLUMNS",
    "InputFileError",
    "iter_outcome_batches",
    "read_outcomes",
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


class InputFileError(OutcomeError):
    """An outcome or valuation file cannot be read or written; ``path`` names the file.

    Added in 0.1.
    """

    code = "input-file-error"


def _fail(path: Path, reason: str, **details: Any) -> InputFileError:
    return InputFileError(f"{path}: {reason}", path=str(path), **details)


def _require(module: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        extra = _EXTRAS[module.split(".")[0]]
        raise ImportError(f"{module} is needed for this file format: "
                          f"pip install 'socialvalue_tom[{extra}]'") from exc


def _check_input(path: str | os.PathLike[str]) -> tuple[Path, str]:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(p, f"unknown file type {p.suffix or '(no extension)'!r}: expected one of "
                       f"{', '.join(SUFFIXES)}", suffix=p.suffix)
    if not p.is_file():
        raise _fail(p, "no such file")
    if p.stat().st_size == 0:
        raise _fail(p, "the file is empty: expected a header row and outcome rows")
    return p, suffix


# -- reading ------------------------------------------------------------------------------------

def read_outcomes(path: str | os.PathLike[str], *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read an outcome file (``.csv``, ``.xlsx`` or ``.parquet``) into a DataFrame.

    Args:
        path: the file; the format comes from its extension.
        sheet: for ``.xlsx`` only, a sheet name or 0-based position (default: the first sheet).

    Returns:
        One row per outcome, :data:`TEXT_COLUMNS` as strings, ready for ``value_frame``.

    Raises:
        InputFileError: missing, empty or undecodable file, unknown extension, or a sheet that
            cannot be read as a table (missing sheet, merged cells, blank or repeated headers).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
        >>> _ = p.write_text("measure,quantity,unit,region,date,contract_id\\n"
        ...                  "jobs-local,2,FTE,london,2024-05-01,007\\n")
        >>> df = read_outcomes(p)
        >>> df.loc[0, "contract_id"], df.loc[0, "date"], float(df.loc[0, "quantity"])
        ('007', '2024-05-01', 2.0)
    """
    p, suffix = _check_input(path)
    if sheet is not None and suffix != ".xlsx":
        raise _fail(p, f"sheet={sheet!r} applies to .xlsx files only")
    if suffix == ".csv":
        return _read_csv(p)
    if suffix == ".xlsx":
        return _read_xlsx(p, sheet)
    pq = _require("pyarrow.parquet")
    try:
        table = pq.read_table(p)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _fail(p, f"not a readable Parquet file ({exc})") from exc
    return _arrow_to_pandas(_arrow_text(table))


def _csv_options() -> dict[str, Any]:
    # utf-8-sig decodes plain UTF-8 too and drops a byte-order mark written by Excel.
    return {"dtype": dict.fromkeys(TEXT_COLUMNS, str), "encoding": "utf-8-sig",
            "encoding_errors": "strict", "skipinitialspace": False}


def _read_csv(p: Path) -> pd.DataFrame:
    try:
        df: pd.DataFrame = pd.read_csv(p, **_csv_options())
    except UnicodeDecodeError as exc:
        raise _decode_error(p, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise _fail(p, "the file has no header row: expected a header row and outcome rows") \
            from exc
    except pd.errors.ParserError as exc:
        raise _fail(p, f"not a well-formed CSV file ({exc})") from exc
    return df


def _decode_error(p: Path, exc: UnicodeDecodeError) -> InputFileError:
    return _fail(p, f"bytes {exc.object[exc.start:exc.end]!r} near byte {exc.start} are not "
                    "UTF-8: save the file as 'CSV UTF-8' (or convert it) and try again",
                 encoding="utf-8")


def _arrow_text(table: Any) -> Any:
    """Cast the text columns of an Arrow table (or record batch) to strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in TEXT_COLUMNS:
        idx = table.schema.get_field_index(name)
        if idx < 0:
            continue
        col = table.column(idx)
        typ = col.type
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            continue
        if pa.types.is_dictionary(typ):
            col = col.cast(typ.value_type)
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d")
        col = col.cast(pa.string())
        table = table.set_column(idx, name, col)
    return table


def _arrow_to_pandas(table: Any, offset: int = 0) -> pd.DataFrame:
    df: pd.DataFrame = table.to_pandas()
    df.index = pd.RangeIndex(offset, offset + len(df))
    return df


def _read_xlsx(p: Path, sheet: str | int | None) -> pd.DataFrame:
    openpyxl = _require("openpyxl")
    try:
        # data_only=True: a formula cell gives the value Excel last calculated and saved.
        wb = openpyxl.load_workbook(p, data_only=True)
    except Exception as exc:  # zipfile, KeyError, InvalidFileException ...
        raise _fail(p, f"not a readable .xlsx workbook ({exc})") from exc
    try:
        ws = _pick_sheet(p, wb, sheet)
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    where = f"sheet {ws.title!r}"
    if not rows or all(v is None for v in rows[0]):
        raise _fail(p, f"{where} is empty: expected a header row in row 1", sheet=ws.title)
    header = _header(p, where, rows[0])
    width = len(header)
    body = [r[:width] for r in rows[1:] if any(v is not None for v in r)]
    df = pd.DataFrame(body, columns=header) if body else pd.DataFrame(columns=header)
    for name in header:
        if name in TEXT_COLUMNS:
            df[name] = pd.array([_cell_text(v) for v in df[name]], dtype="str")
        elif df[name].dtype == object:
            df[name] = _maybe_numeric(df[name])
    return df


def _pick_sheet(p: Path, wb: Any, sheet: str | int | None) -> Any:
    names = list(wb.sheetnames)
    if sheet is None:
        sheet = 0
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise _fail(p, f"no sheet number {sheet}: the workbook has {len(names)} sheet(s) "
                           f"({', '.join(names)})", sheet=sheet)
        name = names[sheet]
    elif sheet in names:
        name = sheet
    else:
        raise _fail(p, f"no sheet named {sheet!r}: sheets are {', '.join(names)}", sheet=sheet)
    ws = wb[name]
    if not hasattr(ws, "iter_rows"):
        raise _fail(p, f"sheet {name!r} is a chart sheet, not a table of outcomes", sheet=name)
    merged = [str(r) for r in ws.merged_cells.ranges]
    if merged:
        raise _fail(p, f"sheet {name!r} has merged cells ({', '.join(merged[:5])}): unmerge them "
                       "so each outcome is one row with one value per column",
                    sheet=name, merged=merged)
    return ws


def _header(p: Path, where: str, first: tuple[Any, ...]) -> list[str]:
    cells = list(first)
    while cells and cells[-1] is None:
        cells.pop()
    blank = [i + 1 for i, v in enumerate(cells) if v is None or str(v).strip() == ""]
    if blank:
        raise _fail(p, f"{where}: header cell(s) in column(s) {blank} are blank: every column "
                       "needs a name in row 1", columns=blank)
    header = [str(v).strip() for v in cells]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise _fail(p, f"{where}: header has repeated column name(s) {', '.join(dup)}",
                    columns=dup)
    return header


def _cell_text(v: Any) -> str | None:
    """An Excel cell as text: dates as ISO dates, whole numbers without a trailing ``.0``."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _maybe_numeric(col: pd.Series) -> pd.Series:
    """Numbers stay numbers; a column holding any text is left as it is (value_frame reports it)."""
    vals = [v for v in col if v is not None]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return pd.to_numeric(col, errors="coerce")
    return col


# -- streaming ----------------------------------------------------------------------------------

def iter_outcome_batches(path: str | os.PathLike[str],
                         chunksize: int = 100_000) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(row_offset, batch)`` pairs of at most ``chunksize`` rows, in constant memory.

    ``row_offset`` is the position of the batch's first data row in the file (0-based, header
    excluded); each batch's index continues from it, so index labels are file row numbers.
    CSV is read with pandas' chunked reader and Parquet with ``ParquetFile.iter_batches``.
    Excel files are read whole (openpyxl has no streaming reader that keeps typed cells) and
    then sliced.

    Raises:
        InputFileError: as :func:`read_outcomes`, possibly after earlier batches were yielded
            (e.g. undecodable bytes half-way through a CSV file).
        ValueError: ``chunksize`` is not positive.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
        >>> _ = p.write_text("measure,quantity\\n" + "jobs-local,1\\n" * 5)
        >>> [(off, len(b)) for off, b in iter_outcome_batches(p, chunksize=2)]
        [(0, 2), (2, 2), (4, 1)]
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be a positive number of rows, not {chunksize!r}")
    p, suffix = _check_input(path)
    if suffix == ".csv":
        yield from _iter_csv(p, chunksize)
    elif suffix == ".parquet":
        yield from _iter_parquet(p, chunksize)
    else:
        df = _read_xlsx(p, None)
        for start in range(0, len(df), chunksize):
            part = df.iloc[start:start + chunksize]
            part.index = pd.RangeIndex(start, start + len(part))
            yield start, part


def _iter_csv(p: Path, chunksize: int) -> Iterator[tuple[int, pd.DataFrame]]:
    try:
        reader = pd.read_csv(p, chunksize=chunksize, **_csv_options())
    except pd.errors.EmptyDataError as exc:
        raise _fail(p, "the file has no header row: expected a header row and outcome rows") \
            from exc
    except UnicodeDecodeError as exc:
        raise _decode_error(p, exc) from exc
    offset = 0
    with reader:
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise _decode_error(p, exc) from exc
            except pd.errors.ParserError as exc:
                raise _fail(p, f"not a well-formed CSV file ({exc})") from exc
            chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            yield offset, chunk
            offset += len(chunk)


def _iter_parquet(p: Path, chunksize: int) -> Iterator[tuple[int, pd.DataFrame]]:
    pq = _require("pyarrow.parquet")
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise _fail(p, f"not a readable Parquet file ({exc})") from exc
    offset = 0
    with pf:
        for batch in pf.iter_batches(batch_size=chunksize):
            yield offset, _arrow_to_pandas(_arrow_text(batch), offset)
            offset += batch.num_rows


# -- writing ------------------------------------------------------------------------------------

def write_valuations(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write valued rows to ``.csv``, ``.xlsx`` or ``.parquet`` (chosen by extension).

    The index is not written and ``df.attrs`` (e.g. the issues table) are dropped; write
    ``df.attrs["issues"]`` separately if you need it. Returns the path written.

    Raises:
        InputFileError: unknown extension, or more rows than an Excel sheet holds.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.csv"
        >>> write_valuations(pd.DataFrame({"value_gbp": [1.5]}), p).read_text()
        'value_gbp\\n1.5\\n'
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(p, f"unknown file type {p.suffix or '(no extension)'!r}: expected one of "
                       f"{', '.join(SUFFIXES)}", suffix=p.suffix)
    plain = df.copy(deep=False)
    plain.attrs = {}
    if suffix == ".csv":
        plain.to_csv(p, index=False)
    elif suffix == ".xlsx":
        _require("openpyxl")
        if len(plain) + 1 > EXCEL_MAX_ROWS:
            raise _fail(p, f"{len(plain)} rows do not fit in an Excel sheet "
                           f"({EXCEL_MAX_ROWS - 1} at most): write .csv or .parquet instead")
        plain.to_excel(p, index=False, engine="openpyxl")
    else:
        pq = _require("pyarrow.parquet")
        pq.write_table(arrow_table(plain), p)
    return p


def arrow_table(df: pd.DataFrame, schema: Any = None) -> Any:
    """``df`` as a pyarrow Table without index or attrs, cast to ``schema`` when given.

    Categorical columns become plain strings, integers become float64 and all-null columns
    become strings, so batches of one file share one schema (see :func:`stable_schema`).
    """
    import pyarrow as pa

    plain = df.copy(deep=False)
    plain.attrs = {}
    table = pa.Table.from_pandas(plain, preserve_index=False)
    if schema is None:
        schema = stable_schema(table.schema)
    return table.cast(schema)


def stable_schema(schema: Any) -> Any:
    """A schema that every chunk of a file can be cast to.

    pandas infers types per chunk (``years`` is int64 in one chunk and float64 in the next,
    categories differ), so dictionaries are decoded, integers widened to float64 and null
    columns typed as (large) strings; pandas metadata is dropped.
    """
    import pyarrow as pa

    fields = []
    for f in schema:
        typ = f.type
        if pa.types.is_dictionary(typ):
            typ = typ.value_type
        if pa.types.is_integer(typ):
            typ = pa.float64()
        elif pa.types.is_null(typ) or pa.types.is_string(typ):
            typ = pa.large_string()
        fields.append(pa.field(f.name, typ))
    return pa.schema(fields)

