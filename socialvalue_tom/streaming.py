"""Value outcome files larger than memory: read in batches, value, write, summarise.

:func:`value_file` streams the batches of :func:`socialvalue_tom.io.iter_outcome_batches`
through ``value_frame(batch, errors="collect", row_offset=offset)``, appends the valued rows to
the output file and keeps only running totals, so memory is bounded by ``chunksize`` whatever
the file's length, besides the issues (kept compactly, as the summary lists every bad row). A
bad row is reported by its row number in the file (0-based, header
excluded), not its position in the batch.

Totals are exact. ``math.fsum`` gives the correctly rounded sum of the values it sees; a running
``fsum([running, *chunk])`` would round once per chunk. Instead each chunk's values are reduced to
a short non-overlapping expansion of their exact sum: ``s0 = fsum(chunk)``,
``s1 = fsum(chunk + [-s0])``, ... until the residual is 0 (two or three terms in practice). The
expansions of all chunks sum exactly to the sum of all values, so ``fsum`` of all the expansion
terms equals ``fsum`` of all the values: the total does not depend on ``chunksize``.

Double-counting exclusions (``exclusions:`` in a table) are the one rule that looks across rows:
rows of the measures an exclusion names are grouped by contract (or by the columns its ``key``
names), and a chunk boundary may split a group. So when the editions declare exclusions
``value_file`` reads the file in two passes: the first collects each batch's claims
(:func:`socialvalue_tom.frame.claims_of`: five small columns per row of an excluded measure),
the second values every batch with the claims of the whole file, giving exactly what
``value_frame`` gives on the whole file. Of each batch's claims the first pass keeps a group
code, rank and quantity per claim (``ClaimTotals.from_pieces``), indexed once at its end, and
only the index is kept for the second: memory is bounded by ``chunksize`` plus some 16 bytes
per claim during the first pass, then one sum per contract, exclusion and rank.

A CSV file is read once more, first, for the types a whole-file read gives its columns
(:func:`socialvalue_tom.io.csv_column_types`); every pass reads every batch with them, so a
column is not numbers in one batch and text in another, in the output or in the groups of an
exclusion keyed on it. Parquet and ``.xlsx`` batches share their types without it.

Added in 0.1.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from socialvalue_tom import io as svio
from socialvalue_tom._args import choice, chunk_size, flag
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._extras import import_extra
from socialvalue_tom._text import stripped_column
from socialvalue_tom.engine import TablesLike, as_assumptions, table_set
from socialvalue_tom.errors import (
    BulkValidationError,
    InputFileError,
    IssueSequence,
    RuleError,
    illustrative_collected,
    warn_illustrative,
)
from socialvalue_tom.frame import (
    ISSUE_COLUMNS,
    IssueTable,
    claims_of,
    issues_frame,
    value_frame,
)
from socialvalue_tom.money import sum_to_pounds
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.rules.exclusions import ClaimTotals
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.stack import stack_of

__all__ = ["ExactSum", "FileSummary", "exclusion_measures", "value_file"]

_OUT_SUFFIXES = (".csv", ".parquet")
# Held while the csv module's process-wide field size limit is raised (_Writer._rewrite_csv).
_CSV_LIMIT_LOCK = threading.Lock()


class ExactSum:
    """Accumulates float64 values in chunks; :meth:`value` is ``math.fsum`` of all of them.

    Examples:
        >>> s = ExactSum()
        >>> s.add([1e16, 1.0]); s.add([-1e16])
        >>> s.value()
        1.0
    """

    def __init__(self, *, spread: bool = True) -> None:
        self._terms: list[float] = []
        # The ulps of the values added, summed exactly, for the half-penny rule of pounds().
        self._spread = ExactSum(spread=False) if spread else None

    def add(self, values: Iterable[float] | np.ndarray) -> None:
        """Add a chunk of finite values (NaN must be filtered out by the caller)."""
        chunk = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if not chunk:
            return
        if self._spread is not None:  # each ulp added exactly: the same at any chunk size
            with np.errstate(over="ignore"):
                self._spread.add(np.spacing(np.abs(np.asarray(chunk, dtype=np.float64))))
        terms: list[float] = []
        while True:
            s = _fsum([*chunk, *(-t for t in terms)])
            if s == 0.0:
                break
            terms.append(s)
        self._terms.extend(terms)
        if len(self._terms) > 4096:
            # Re-compress: the terms' own expansion is exact and short.
            merged = ExactSum(spread=False)
            merged.add(self._terms)
            self._terms = merged._terms

    def value(self) -> float:
        """The correctly rounded sum of everything added."""
        return _fsum(self._terms)

    def pounds(self) -> Decimal:
        """The sum rounded to the penny as :func:`socialvalue_tom.money.total` rounds the
        values added (the terms add up exactly to them, so a total too large for a float to
        hold its pennies keeps them here too)."""
        nearest = self.value()  # a sum beyond float range is refused, as value() refuses it
        ulps = self._spread.value() if self._spread is not None else 0.0
        return sum_to_pounds(self._terms, nearest, ulps)


def _fsum(values: list[float]) -> float:
    try:
        return math.fsum(values)
    except OverflowError:
        raise RuleError("the valued amounts add up to more than a float can hold (about "
                        "1.8e308): check the measure's expression") from None


@dataclass
class FileSummary:
    """What :func:`value_file` did: counts, totals, issues and the editions used.

    ``total_gbp`` and ``by_theme`` are exact float sums rounded to the penny once
    (see :mod:`socialvalue_tom.money`); ``issues`` has columns row, index, field, code, reason
    with ``row`` the file row (0-based, header excluded).
    """

    path: Path
    out: Path | None
    rows: int
    valued: int
    bad_rows: int
    total_gbp: Decimal
    by_theme: dict[str, Decimal]
    issues: pd.DataFrame
    editions: tuple[str, ...]
    chunks: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class _Writer:
    """Appends valued batches to a temporary file next to ``out``; renamed on success.

    Every batch must give the same file whatever ``chunksize`` is, so a Parquet column that is
    empty in the first batches is not fixed to the type pandas guessed for it (float64 for an
    empty CSV column): see :class:`_ParquetSchema`.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.suffix = out.suffix.lower()
        if self.suffix not in _OUT_SUFFIXES:
            raise svio.InputFileError(
                f"{out}: cannot stream valuations to {out.suffix or '(no extension)'!r}: "
                f"expected one of {', '.join(_OUT_SUFFIXES)}", path=str(out))
        if self.suffix == ".parquet":
            svio._require("pyarrow.parquet")
        self.tmp = self._new_tmp()
        self._pq: Any = None
        self._schema: _ParquetSchema | None = None
        self._header = True
        self._line_end = "\n"

    def _new_tmp(self) -> Path:
        if not self.out.parent.is_dir():
            raise self._error(f"the folder {self.out.parent} does not exist")
        why = svio._not_a_file_to_replace(self.out)
        if why:
            raise self._error(f"cannot write the file: {why}")
        # A fresh name created here (not mkstemp, whose files are private, 0600): the output
        # gets the usual permissions, as the command line's and write_valuations' do.
        tmp = self.out.with_name(f".sv-{uuid.uuid4().hex[:16]}.part{self.out.suffix}")
        try:
            tmp.touch(exist_ok=False)
        except OSError as exc:
            raise self._error(f"cannot write here ({exc})") from exc
        svio._keep_mode(self.out, tmp, writable=True)  # private before the first batch
        return tmp

    def _error(self, reason: str) -> svio.InputFileError:
        return svio.InputFileError(f"{self.out}: {reason}", path=str(self.out))

    def write(self, df: pd.DataFrame) -> None:
        try:
            if self.suffix == ".csv":
                self._write_csv(df)
            else:
                self._write_parquet(df)
        except svio.InputFileError:
            raise
        except Exception as exc:  # OSError, and pyarrow's many unrelated types
            raise self._error(f"cannot write the valuations ({type(exc).__name__}: {exc})") \
                from exc

    def _write_csv(self, df: pd.DataFrame) -> None:
        plain = df.copy(deep=False)
        plain.attrs = {}
        # One line end for the whole file, as write_valuations gives it: "\r\n" from the first
        # batch with a carriage return in a cell on, and the lines already written rewritten
        # with it. Deciding per batch mixed "\n" and "\r\n" in one file (a loader that takes
        # the first line's end for the file's, as PostgreSQL's COPY does, refuses it).
        end = svio.csv_line_end(plain)
        if end != self._line_end and end == "\r\n":
            if not self._header:
                self._rewrite_csv(end)
            self._line_end = end
        plain.to_csv(self.tmp, mode="w" if self._header else "a", header=self._header,
                     index=False, lineterminator=self._line_end)
        self._header = False

    def _rewrite_csv(self, end: str) -> None:
        """Copy the rows written so far into a new file with line end ``end``, record by
        record (a quoted cell may hold a line break), as pandas' csv writer writes them."""
        import csv

        old, self.tmp = self.tmp, self._new_tmp()
        try:
            # The csv reader refuses a cell past its limit (128 KB), which pandas wrote: a
            # long evidence text. No cell is longer than the file; the limit is the
            # process's, so it is raised under a lock and put back.
            with _CSV_LIMIT_LOCK, open(old, newline="", encoding="utf-8") as src, \
                    open(self.tmp, "w", newline="", encoding="utf-8") as dst:
                limit = csv.field_size_limit()
                csv.field_size_limit(max(limit, min(old.stat().st_size, sys.maxsize)))
                try:
                    csv.writer(dst, lineterminator=end).writerows(csv.reader(src))
                finally:
                    csv.field_size_limit(limit)
        finally:
            old.unlink(missing_ok=True)

    def _write_parquet(self, df: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = svio.arrow_table(df)
        if self._schema is None:
            self._schema = _ParquetSchema(table)
            self._pq = pq.ParquetWriter(self.tmp, self._schema.schema)
        else:
            first = int(df.index[0]) if len(df) else 0
            if self._schema.widen(table, lambda msg: self._error(f"{msg} (from row {first})")):
                self._rewrite()
            table = self._schema.conform(table)
        self._pq.write_table(table)

    def _rewrite(self) -> None:
        """Copy what was written into a new file with the widened schema (a column that was
        empty so far gets the type of the values that arrived), one row group at a time."""
        import pyarrow.parquet as pq

        assert self._schema is not None
        self._pq.close()
        old, self.tmp = self.tmp, self._new_tmp()
        try:
            self._pq = pq.ParquetWriter(self.tmp, self._schema.schema)
            with pq.ParquetFile(old) as pf:
                for i in range(pf.num_row_groups):
                    self._pq.write_table(self._schema.conform(pf.read_row_group(i)))
        finally:
            old.unlink(missing_ok=True)

    @property
    def wrote(self) -> bool:
        """Whether any batch was written (the header included)."""
        return not self._header or self._schema is not None

    def commit(self, record: Mapping[str, Any] | None = None) -> None:
        """Finish the file and put it in place; ``record`` (``io.provenance_record``) goes in
        a Parquet file's metadata, as ``write_valuations`` writes it."""
        if self._pq is not None:
            if record is not None:
                self._pq.add_key_value_metadata(
                    {svio.PROVENANCE_KEY: json.dumps(record, sort_keys=True)})
            self._pq.close()
        try:
            svio._keep_mode(self.out, self.tmp)
            os.replace(self.tmp, self.out)
        except OSError as exc:
            raise self._error(f"cannot write the file ({exc})") from exc

    def abort(self) -> None:
        if self._pq is not None:
            with contextlib.suppress(Exception):
                self._pq.close()
        self.tmp.unlink(missing_ok=True)


class _ParquetSchema:
    """The schema of a Parquet file written batch by batch, as it would be for the whole file.

    A column whose values are all null so far is *open*: its type is only pandas' guess (an
    empty CSV column is float64), and the first batch with values in it decides the type.
    Two batches with values of different types (numbers, then text) cannot share a column:
    an InputFileError, since no type would give the file the whole-file read gives.
    """

    def __init__(self, table: Any) -> None:
        self.schema = table.schema
        self.open = _all_null(table)

    def widen(self, table: Any, error: Callable[[str], Exception]) -> bool:
        """Take in a batch's types; True when a column already written changes type."""
        import pyarrow as pa

        if table.schema.names != self.schema.names:
            raise error(f"a batch has columns {table.schema.names}, not {self.schema.names}")
        empty = _all_null(table)
        fields, changed = [], False
        for have, new in zip(self.schema, table.schema, strict=True):
            name = have.name
            if name in self.open and name not in empty:
                self.open.discard(name)
                changed |= new.type != have.type
                have = pa.field(name, new.type)
            elif name not in empty and new.type != have.type:
                ints = {pa.types.is_integer(have.type), pa.types.is_integer(new.type)}
                why = ("whole numbers past 2**53 are written as integers, which a float column "
                       "cannot hold, and the other rows' numbers as floats: make the column "
                       "text, or write .csv" if ints == {True, False}
                       and pa.types.is_floating(have.type) | pa.types.is_floating(new.type)
                       else "make the column all numbers or all text, or write .csv")
                raise error(f"column {name!r} holds {have.type} values in earlier rows and "
                            f"{new.type} values later: a Parquet column has one type; {why}")
            fields.append(have)
        self.schema = pa.schema(fields)
        return changed

    def conform(self, table: Any) -> Any:
        """``table`` in this schema; its all-null columns are rebuilt with the schema's type
        (a cast between unrelated types, float64 to bool say, may not exist)."""
        import pyarrow as pa

        cols = [pa.nulls(table.num_rows, f.type) if c.null_count == table.num_rows
                else c.cast(f.type) for f, c in zip(self.schema, table.columns, strict=True)]
        return pa.Table.from_arrays(cols, schema=self.schema)


def _all_null(table: Any) -> set[str]:
    return {f.name for f, c in zip(table.schema, table.columns, strict=True)
            if c.null_count == table.num_rows}


@own_decimal_context
def value_file(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
               tables: TablesLike = "uk-national", chunksize: int = 100_000,
               errors: Literal["raise", "collect"] = "raise",
               assumptions: Assumptions | Mapping[str, Any] | None = None,
               progress: bool | None = None, detail: bool = False,
               sheet: str | int | None = None) -> FileSummary:
    """Value an outcome file in batches of ``chunksize`` rows, in memory bounded by the batch
    (plus the issues, and, with double-counting exclusions, an index of the file's claims: see
    the module docs).

    Args:
        path: ``.csv``, ``.parquet`` or ``.xlsx`` outcome file (see :mod:`socialvalue_tom.io`).
            It is read in several passes: a file written or replaced while it is read is
            refused once they are done (:class:`InputFileError`), and no output is written.
        out: where to write the valued rows (``.csv`` or ``.parquet``), or None for totals only.
            The file appears only when the run succeeds (written to a temporary file, renamed);
            a run that fails leaves a file already at ``out`` as it was, an earlier run's
            results, which the exception says are not this input's (the command line, whose
            exit status is easily missed in a script, removes it instead). The input file
            itself is refused (:class:`InputFileError`). A ``.parquet`` file records what
            produced it in its metadata, as ``io.write_valuations`` writes it
            (:func:`socialvalue_tom.io.provenance` of the whole file, with the input's name
            and sha256 as its ``input``: :func:`~socialvalue_tom.io.file_source`).
        tables: family name, edition or editions, as for ``value_frame``.
        chunksize: rows per batch (a positive integer, else :class:`RuleError`); bounds memory,
            does not change any result.
        errors: ``"raise"`` values the whole file, then raises one
            :class:`~socialvalue_tom.BulkValidationError` listing every bad row, and writes no
            output; ``"collect"`` writes bad rows with ``value_gbp`` NaN and returns the issues.
        assumptions: caller-level :class:`~socialvalue_tom.Assumptions` (or a mapping of its
            fields).
        progress: show a ``rich`` progress bar (``True`` without ``rich``: an
            :class:`ImportError` naming the ``cli`` extra); None shows one when ``rich`` is
            installed and stderr is a terminal. The bar is drawn on stderr.
        sheet: for ``.xlsx`` input only, the sheet to read: a name or 0-based position
            (default: the first visible sheet), as for
            :func:`~socialvalue_tom.io.read_outcomes`.
        detail: also write ``gross_gbp`` and ``canonical_quantity`` (see ``value_frame``).
            When the editions declare double-counting exclusions, ``claim_share`` and
            ``exclusion`` are always written (every batch must have the same columns), where
            ``value_frame`` adds them only when an exclusion reduces a claim; the values and
            every other column are the same at any ``chunksize``, and an input with no data
            rows gives a header-only file.

    Returns:
        A :class:`FileSummary`.

    Examples:
        >>> s = value_file("outcomes.csv", "valued.parquet", errors="collect")  # doctest: +SKIP
        >>> s.rows, s.valued, s.total_gbp, s.issues.head()  # doctest: +SKIP
    """
    choice(errors, "errors", ("raise", "collect"))
    detail = flag(detail, "detail")
    if progress is not None:
        progress = flag(progress, "progress")
    if progress:  # asked for: say what to install, before any work (None: a bar if it can)
        import_extra("rich.progress", "cli", "value_file(progress=True)")
    chunksize = chunk_size(chunksize)
    assumptions = as_assumptions(assumptions)
    src = Path(path)
    if out is not None and svio.same_file(src, Path(out)):
        # Renaming the finished output over the input would lose the supplier's file.
        raise InputFileError(f"{out}: the output is the input file: write the valued rows "
                             "somewhere else", path=str(out))
    tset = table_set(tables)
    codes = exclusion_measures(tset)
    # Taken before the file is hashed and read: checked once every pass is done.
    identity = _file_identity(src)
    # Which file, exactly, as it was when the run began (recorded with the output).
    source = svio.file_source(src) if out is not None else None
    writer = _Writer(Path(out)) if out is not None else None
    # The file is read in several passes: its layout (and the check of its numbers, which
    # may read every record) is worked out once.
    with svio.layouts_remembered():
        try:
            # Nothing may depend on chunksize: read each CSV column in every batch of every pass
            # with the whole file's type (a typo in one batch makes it text in all; 1 and 2.5 in
            # different batches are floats in both), as a Parquet column has one type and a CSV
            # column one spelling of its numbers; and an exclusion keyed on a column that is not
            # text groups 0101 and 101 as the whole file does. One pass, shared by the others (a
            # sheet= is for .xlsx files, which need none; iter_outcome_batches refuses it for CSV).
            dtypes = svio.csv_column_types(src, chunksize) if sheet is None else {}
            claims = (ClaimTotals.from_pieces(
                _claims(src, chunksize, codes, tset, assumptions, sheet, dtypes),
                stack_of(tset).editions) if codes else None)
            batches = svio.iter_outcome_batches(src, chunksize, dtypes=dtypes, sheet=sheet)
            # One warning for the file, at the caller's line, not one per batch at this one.
            with illustrative_collected() as illustrative:
                acc = _run(_with_progress(batches, src, progress), tset, writer, assumptions,
                           stop_writing_on_issue=errors == "raise", claims=claims, detail=detail)
            _check_unchanged(src, identity)
            if acc.issue_count and errors == "raise":
                raise BulkValidationError.from_issues(acc.row_issues())
            if writer is not None:
                if not writer.wrote:  # no data rows: a header-only file, as write_valuations gives
                    empty = value_frame(svio.read_outcomes(src, sheet=sheet).iloc[:0], tset,
                                        errors="collect", assumptions=assumptions, detail=detail)
                    writer.write(empty)
                if illustrative:  # before the output is committed: a filter may make it an error
                    warn_illustrative(sum(illustrative))
                writer.commit(_provenance(acc, tset, assumptions, source))
            elif illustrative:
                warn_illustrative(sum(illustrative))
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
    return acc.summary(src, Path(out) if out is not None else None)


def _file_identity(p: Path) -> tuple[int, ...] | None:
    """What changes when a file is written or replaced: device, inode, size, and the times
    of its last change (ctime cannot be set back, as mtime can). A rewrite of the same size
    within one tick of a coarse file system clock goes unseen: this catches an upload or a
    replacement landing mid-run, not every edit. None where it cannot be read: the readers
    say why."""
    try:
        st = p.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _check_unchanged(src: Path, identity: tuple[int, ...] | None) -> None:
    """Refuse a run whose input was written or replaced while it was read: the file is read
    in several passes (column types, double-counting claims, values), and a supplier's
    upload landing mid-run gave rows valued with the claims of the old contents (a share of
    0 where the new file's claims leave one) and a record naming the old file's sha256."""
    if identity is not None and _file_identity(src) != identity:
        raise InputFileError(
            f"{src}: the file changed while it was being valued (it is read in several "
            "passes, and the rows valued would mix its old and new contents): nothing was "
            "written; value it again once it is complete", path=str(src))


def _provenance(acc: _Accumulator, tset: Any, assumptions: Assumptions,
                source: str | None) -> dict[str, Any]:
    """What produced a file valued in batches (``io.provenance`` of the whole, its ``input``
    the file's name and sha256, ``source``, as the command line records it)."""
    editions = stack_of(tset).editions
    table = acc.issue_table()
    return svio.provenance_record(
        assumptions.model_dump(mode="json"),
        [(f"{t.name}:{t.version}", t.digest, t.index_digest) for t in editions],
        acc.rows, int(table["row"].nunique()), source=source, digest=acc.digest.hexdigest())


@dataclass
class _Accumulator:
    """Running counts and exact sums over the batches."""

    themes: Mapping[tuple[str, str], str]
    rows: int = 0
    valued: int = 0
    chunks: int = 0
    total: ExactSum = field(default_factory=ExactSum)
    by_theme: dict[str, ExactSum] = field(default_factory=dict)
    # Issues are kept as each batch's table with its text columns as categoricals: a file
    # with one systematic mistake has millions of bad rows sharing a few reasons, and an
    # object per issue cost about 0.75 KB (886 MB for a million).
    issues: list[pd.DataFrame] = field(default_factory=list)
    issue_count: int = 0
    editions: set[str] = field(default_factory=set)
    #: The rows written, batch by batch (``io.rows_digest`` of the whole file).
    digest: svio.RowsDigest = field(default_factory=svio.RowsDigest)

    def add_issues(self, issues: pd.DataFrame) -> None:
        """Record issues (a ``value_frame`` issues table numbered by file row)."""
        if not len(issues):
            return
        self.issue_count += len(issues)
        self.issues.append(pd.DataFrame({
            "row": issues["row"].to_numpy(dtype=np.int64),
            "index": issues["index"].to_numpy(dtype=object),
            **{c: issues[c].astype(str).astype("category").array
               for c in ("field", "code", "reason")}}))

    def issue_table(self) -> pd.DataFrame:
        """Every issue (row, index, field, code, reason), as ``issues_frame`` orders them."""
        if not self.issues:
            return issues_frame([])
        columns: dict[str, Any] = {
            "row": np.concatenate([f["row"].to_numpy() for f in self.issues]),
            # Plain Python labels, inferred as one column as issues_frame infers them.
            "index": [_plain(x) for f in self.issues for x in f["index"]]}
        for c in ("field", "code", "reason"):
            # Taken from the categories: converting each batch to objects made a string per
            # issue (about 270 MB more for a million).
            joined = union_categoricals([f[c].array for f in self.issues])
            columns[c] = joined.categories.take(joined.codes)
        frame = pd.DataFrame(columns, columns=ISSUE_COLUMNS)
        rows = columns["row"]
        if len(rows) > 1 and not (rows[1:] > rows[:-1]).all():  # batches come in file order
            frame = frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
        return IssueTable(frame)

    def row_issues(self) -> IssueSequence:
        """Every issue, sorted by row then field, each :class:`RowIssue` made when read: an
        object per issue cost about 0.6 GB for a million bad rows."""
        table = self.issue_table()
        return IssueSequence(table["row"].to_numpy(dtype=np.int64),
                             table["index"].to_numpy(dtype=object),
                             *(pd.Categorical(table[c]) for c in ("field", "code", "reason")))

    def add(self, valued: pd.DataFrame, issues: pd.DataFrame) -> None:
        """Fold one valued batch and its issues into the totals."""
        self.chunks += 1
        self.rows += len(valued)
        self.add_issues(issues)
        self.digest.update(valued)
        vals = valued["value_gbp"].to_numpy(dtype=np.float64)
        ok = ~np.isnan(vals)
        self.valued += int(ok.sum())
        self.total.add(vals[ok])
        if not ok.any():
            return
        good = valued.loc[ok, ["version", "measure"]]
        groups = good.groupby(["version", "measure"], observed=True, sort=False).indices
        vals_ok = vals[ok]
        for (version, measure), idx in groups.items():
            self.editions.add(str(version))
            # value_frame reads 'env-carbon ' as env-carbon: so does the theme lookup.
            theme = self.themes.get((str(version), str(measure).strip()), "unknown")
            self.by_theme.setdefault(theme, ExactSum()).add(vals_ok[idx])

    def summary(self, src: Path, out: Path | None) -> FileSummary:
        table = self.issue_table()
        return FileSummary(
            path=src, out=out, rows=self.rows, valued=self.valued,
            bad_rows=int(table["row"].nunique()), total_gbp=self.total.pounds(),
            by_theme={k: v.pounds() for k, v in sorted(self.by_theme.items())},
            issues=table, editions=tuple(sorted(self.editions)),
            chunks=self.chunks)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def exclusion_measures(tset: TableSet) -> frozenset[str]:
    """Measure codes named by any exclusion of any edition (rows valued across chunks)."""
    return frozenset(c for t in tset.editions for ex in t.spec.exclusions for c in ex.measures)


def _claims(src: Path, chunksize: int, codes: frozenset[str], tset: TableSet,
            assumptions: Assumptions | None, sheet: str | int | None,
            dtypes: Mapping[str, str]) -> Iterator[pd.DataFrame]:
    """First pass: the claims that double-counting exclusions govern, batch by batch.

    Only the rows of excluded measures are read, as five small columns each (edition,
    exclusion, group label, rank, quantity), and ``ClaimTotals.from_pieces`` keeps of each
    batch's claims a group code, rank and quantity per claim: memory grows with those rows by
    some 16 bytes each, not by their text. The batches are read with the whole file's column
    ``dtypes``, as in the second pass: an exclusion's key may name any column, and its groups
    must not depend on the batches.
    """
    for _, b in svio.iter_outcome_batches(src, chunksize, dtypes=dtypes, sheet=sheet):
        yield claims_of(_excluded_rows(b, codes), tset, assumptions=assumptions)


def _excluded_rows(batch: pd.DataFrame, codes: frozenset[str]) -> pd.DataFrame:
    """The rows of ``batch`` whose measure an exclusion names, measure codes trimmed.

    value_frame trims the measure text ('jobs-local ' is jobs-local), so the claims must be
    found, and labelled, the same way or they miss rows the second pass values.
    """
    if "measure" not in batch.columns or batch.columns.has_duplicates:
        return batch  # claims_of refuses it, naming the missing or duplicated columns
    measure = stripped_column(batch["measure"])
    pick = measure.isin(codes).to_numpy()
    return batch.loc[pick].assign(measure=measure.to_numpy()[pick])


def _batches_valued(batches: Iterable[tuple[int, pd.DataFrame]], tset: TableSet,
                    assumptions: Assumptions | None, claims: ClaimTotals | None,
                    detail: bool) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Second pass: (valued batch, its issues) in file order."""
    for offset, batch in batches:
        valued = value_frame(batch, tset, errors="collect", assumptions=assumptions,
                             row_offset=offset, claims=claims, detail=detail)
        found = valued.attrs["issues"]
        valued.attrs = {}
        yield valued, found


def _run(batches: Iterable[tuple[int, pd.DataFrame]], tset: TableSet, writer: _Writer | None,
         assumptions: Assumptions | None, *, stop_writing_on_issue: bool,
         claims: ClaimTotals | None = None, detail: bool = False) -> _Accumulator:
    """Value each batch, fold it into the accumulator and append it to the output.

    With ``stop_writing_on_issue`` (errors="raise") nothing more is written once a bad row is
    seen: the output will be discarded, but the rest of the file is still checked.
    """
    themes = {(t.version, code): m.theme for t in tset.editions for code, m in t.measures.items()}
    acc = _Accumulator(themes)
    for valued, found in _batches_valued(batches, tset, assumptions, claims, detail):
        acc.add(valued, found)
        if writer is not None and not (stop_writing_on_issue and acc.issue_count):
            writer.write(valued)
    return acc


def _with_progress(batches: Iterator[tuple[int, pd.DataFrame]], src: Path,
                   progress: bool | None) -> Iterator[tuple[int, pd.DataFrame]]:
    """Wrap ``batches`` in a rich progress bar counting rows, when asked or when interactive:
    on stderr, and by default when stderr is a terminal (a scale review: the bar was drawn
    on stdout, leaving a blank line at the head of a script's redirected output)."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        yield from batches
        return
    try:
        from rich.progress import Progress
    except ImportError:
        yield from batches
        return
    total = _row_count(src)
    from rich.console import Console

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"valuing {src.name}", total=total)
        for offset, batch in batches:
            yield offset, batch
            bar.update(task, advance=len(batch))


def _row_count(src: Path) -> int | None:
    """Rows in a Parquet file from its footer; None (unknown) for other formats."""
    if src.suffix.lower() != ".parquet":
        return None
    import pyarrow.parquet as pq

    with pq.ParquetFile(src) as pf:
        return int(pf.metadata.num_rows)
