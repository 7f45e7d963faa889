"""``value_frame`` over the partitions of a Dask DataFrame (the ``dask`` extra).

How the pieces travel:

* **Tables.** The client resolves ``tables`` once into a small :class:`TableHandle`: the family
  name, or the editions' file paths, plus their digests (or, for editions built in memory
  without a file, their validated specs). ``ProxyTable`` itself does not pickle (it holds
  ``MappingProxyType`` views), and shipping dense arrays with every task would be wasteful. Each
  worker process resolves the handle once through the library's own load caches and checks the
  digests, so every partition is valued with the very editions the client saw.
* **Row numbers.** Issues carry *global* row numbers: a row's 0-based position in the Dask
  DataFrame given to :func:`value_dask`, as if it were one pandas frame. Partition lengths are
  computed first (one pass over the data, a ``len`` per partition) and each partition's task is
  built with its ``row_offset`` (the rows before it) bound in, so the numbers stay positions in
  that input whatever part of the result is later computed (``.partitions[i]``, ``head``,
  ``tail``, ``.loc``, a filter).
* **errors="raise".** A partition with bad rows raises
  :class:`~socialvalue_tom.BulkValidationError` on the worker; it pickles, so ``compute()``
  raises it on the client with ``.issues`` (the bad rows of that partition, global row numbers;
  when several partitions fail, Dask raises one of them, not necessarily the earliest: use
  ``errors="collect"`` and :func:`issues` for every bad row).
* **errors="collect".** Issues live in the result: four extra columns ``issue_row`` (nullable
  Int64, the global row), ``issue_field``, ``issue_code`` and ``issue_reason`` (strings), empty
  on good rows. A row with several problems holds them all: its fields and codes joined by
  ``"; "`` (``"date; quantity"``), its reasons one per line. :func:`issues` turns them into
  the same DataFrame as ``value_frame``'s ``attrs["issues"]``, one line per issue.

* **Provenance.** Every partition keeps ``value_frame``'s record of the valuation in
  ``attrs["socialvalue_tom"]`` (assumptions, editions and their digests, price indices), with
  the whole input's row count and one valuation id, so the records are equal and the computed
  result keeps them (``pd.concat`` keeps ``attrs`` that are equal): ``explain_row``,
  ``io.provenance`` and ``io.write_valuations`` read it as they read ``value_frame``'s. The
  issues are columns (above), not ``attrs``.
* **Illustrative values.** Each partition's ``value_frame`` issues its own
  :class:`~socialvalue_tom.IllustrativeValueWarning`, where the partition is valued (on a
  worker process, its filters apply, not the client's): the rows' values carry no flag of it,
  so check the editions' proxies (``report.annotate``) to keep placeholders out of a run.
* **Exclusions.** Double-counting exclusions group rows by contract (``contract_id`` or the
  exclusion's declared ``key``, plus ``stage`` and ``supplier_id``, and by edition or financial
  year carried forward: docs/rules.md, 10) across the whole input, but partitions are valued
  separately. The pass that counts
  partition lengths also works out the claims of each partition
  (:func:`socialvalue_tom.frame.claims_of`: five small columns per row of an excluded measure),
  shuffles them on their group label (every claim of a group to one partition) and sums each
  group there; the client merges one total per group and rank, never holding the claims, and
  sends the totals with every partition, so a contract split across partitions is counted
  exactly as ``value_frame`` counts it in one frame. Contract ids are read
  as ``value_frame`` reads them (``1001``, ``1001.0`` and ``"1001"`` are one contract), *as they
  reach the partitions*: Dask's default ``dataframe.convert-string`` turns an object column of
  mixed numbers and text into text first, and the text ``"1001.0"`` is not ``"1001"`` (text ids
  are never reinterpreted: ``"007"`` is not ``"7"``). Give ids as text, or set
  ``dask.config.set({"dataframe.convert-string": False})``.

The output's ``meta`` is built explicitly, by valuing the empty ``ddf._meta``: the input columns
plus ``value_frame``'s output columns with their exact dtypes (categoricals with the known
categories of the editions used).

Added in 0.1.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from socialvalue_tom._args import choice, flag
from socialvalue_tom._extras import import_extra
from socialvalue_tom.engine import TablesLike, as_assumptions, table_set
from socialvalue_tom.errors import OutcomeError, ProxyTableError
from socialvalue_tom.frame import ISSUE_COLUMNS, claims_of, value_frame
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.rules.exclusions import ClaimTotals
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.stack import stack_of
from socialvalue_tom.tables.table import PriceIndex, ProxyTable

__all__ = ["ISSUE_OUTPUT_COLUMNS", "TableHandle", "issues", "value_dask"]

#: Columns added by ``value_dask(..., errors="collect")``.
ISSUE_OUTPUT_COLUMNS = ("issue_row", "issue_field", "issue_code", "issue_reason")


def _dask() -> Any:
    return import_extra("dask.dataframe", "dask", "value_dask")


@dataclass(frozen=True)
class TableHandle:
    """A picklable reference to the editions a computation uses.

    ``family`` (an embedded family name) or ``paths`` (one file per edition) say where to load
    them from; ``specs`` carries the validated content of editions that have no file. ``digests``
    and ``index_digests`` (each edition's price index: it is not part of the edition's digest;
    None, for a handle built by hand, leaves them unchecked) are checked after loading, on
    every worker, and key its cache.
    """

    digests: tuple[str, ...]
    family: str | None = None
    paths: tuple[str, ...] = ()
    specs: tuple[tuple[Any, Any, str | None], ...] = ()
    index_digests: tuple[str | None, ...] | None = None

    @classmethod
    def from_tables(cls, tables: TablesLike) -> TableHandle:
        """Resolve ``tables`` on the client and describe it compactly."""
        tset = table_set(tables)
        digests = tuple(t.digest for t in tset.editions)
        indices = tuple(t.index_digest for t in tset.editions)
        if isinstance(tables, str):
            return cls(digests, family=tables, index_digests=indices)
        if all(t.path is not None for t in tset.editions):
            return cls(digests, paths=tuple(str(t.path) for t in tset.editions),
                       index_digests=indices)
        specs = tuple((t.spec, t.price_index.spec if t.price_index else None,
                       str(t.price_index.path) if t.price_index and t.price_index.path else None)
                      for t in tset.editions)
        return cls(digests, specs=specs, index_digests=indices)

    def resolve(self) -> TableSet:
        """The editions, loaded once per process (cached by their and their price indices'
        digests, the last :data:`_WORKER_TABLES_KEPT` table sets) and digest-checked."""
        key = (self.digests, self.index_digests)
        with _cache_lock:
            cached = _worker_tables.get(key)
            if cached is None:
                cached = self._load()
                _worker_tables[key] = cached
                # A service building tables per request (amend_table) must not keep them all.
                while len(_worker_tables) > _WORKER_TABLES_KEPT:
                    _worker_tables.popitem(last=False)
            else:
                _worker_tables.move_to_end(key)
            return cached

    def _load(self) -> TableSet:
        from socialvalue_tom.tables.catalogue import load_table

        if self.family is not None:
            tset = table_set(self.family)
        elif self.paths:
            tset = TableSet([load_table(path=p) for p in self.paths])
        else:
            tset = TableSet([ProxyTable(spec, price_index=_index(ispec, ipath))
                             for spec, ispec, ipath in self.specs])
        got = tuple(t.digest for t in tset.editions)
        got_indices = tuple(t.index_digest for t in tset.editions)
        if self.index_digests is None:
            got_indices = ()
        if got != self.digests or got_indices != (self.index_digests or ()):
            what = "tables" if got != self.digests else "price indices"
            seen, sent = ((got, self.digests) if got != self.digests
                          else (got_indices, self.index_digests or ()))
            raise ProxyTableError(
                f"the {what} loaded on this worker ({_short(seen)}) differ from the client's "
                f"({_short(sent)}): a table or price index file changed during the "
                "computation, or workers see other files",
                path=", ".join(self.paths) or self.family, line=None, field=None)
        return tset


def _short(digests: tuple[str | None, ...]) -> str:
    return ", ".join((d or "none")[:12] for d in digests)


def _index(spec: Any, path: str | None) -> PriceIndex | None:
    return None if spec is None else PriceIndex(spec, Path(path) if path else None)


_cache_lock = threading.Lock()
#: Table sets a process keeps, least recently used dropped first (as the edition stacks).
_WORKER_TABLES_KEPT = 16
_worker_tables: OrderedDict[tuple[tuple[str, ...], tuple[str | None, ...] | None], TableSet] = (
    OrderedDict())


def _value_partition(part: pd.DataFrame, handle: TableHandle, offset: int,
                     errors: Literal["raise", "collect"], assumptions: Assumptions | None,
                     claims: ClaimTotals | None, detail: bool,
                     whole: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Value one partition, whose first row is row ``offset`` of the input; runs on the workers.

    ``offset`` is bound into the partition's task when the graph is built, never read from
    ``partition_info`` (which Dask renumbers once partitions of the result are selected).
    ``whole``: what the valuation of the whole input records (its row count and id), set in
    every partition's record so that the records are equal and ``pd.concat`` keeps them.
    """
    out = value_frame(part, handle.resolve(), errors=errors, assumptions=assumptions,
                      row_offset=offset, claims=claims, detail=detail)
    found = out.attrs.get("issues")
    # attrs holding a DataFrame would break Dask's concatenation (pandas compares attrs); the
    # record of what valued the rows (assumptions, editions, digests) is JSON-like data, the
    # same in every partition once its row count and id are the whole input's.
    record = out.attrs.get(_RECORD)
    # Without the entries that describe the partition alone and differ between partitions:
    # "index" places its issues among repeated index labels (the issues are columns here),
    # "input_rows" counts the apportioned rows its parts come from.
    out.attrs = {} if whole is None or not isinstance(record, dict) else {
        _RECORD: {**{k: v for k, v in record.items() if k not in _PARTITION_ONLY}, **whole}}
    if errors == "collect":
        _add_issue_columns(out, found, offset)
    return out


#: The attrs key of value_frame's record of a valuation.
_RECORD = "socialvalue_tom"
#: Entries of that record that describe one partition, left out of the result's.
_PARTITION_ONLY = frozenset({"index", "input_rows", "input_rows_not_valued"})


#: How the issues of one row share its issue columns: fields and codes joined by "; " (neither
#: holds one), reasons one per line (a reason is one line: any line break in one is a space).
_FIELD_SEP, _REASON_SEP = "; ", "\n"


def _add_issue_columns(out: pd.DataFrame, found: pd.DataFrame | None, offset: int) -> None:
    n = len(out)
    row = pd.array([pd.NA] * n, dtype="Int64")
    text = {c: np.full(n, None, dtype=object) for c in ("field", "code", "reason")}
    if found is not None and len(found):
        rows = found["row"].to_numpy(dtype=np.int64)
        several = found["row"].duplicated(keep=False).to_numpy()
        pos = rows[~several] - offset  # the common case, at once: one issue in a row
        row[pos] = rows[~several]
        text["field"][pos] = found["field"].to_numpy(dtype=object)[~several]
        text["code"][pos] = found["code"].to_numpy(dtype=object)[~several]
        text["reason"][pos] = [" ".join(str(x).splitlines())
                               for x in found["reason"].to_numpy(dtype=object)[~several]]
        # A row with several problems (each of its cells wrong by itself) keeps them all,
        # joined per run of a sorted array (a scale review: a pandas loop over such rows,
        # half a million of them, took six times as long as valuing).
        if several.any():
            many = found[several]
            numbers = many["row"].to_numpy(dtype=np.int64)
            order = np.argsort(numbers, kind="stable")  # each row's issues in their order
            numbers = numbers[order]
            starts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1]])
            spans = list(zip(starts.tolist(), [*starts[1:].tolist(), len(numbers)],
                             strict=True))
            firsts = numbers[starts]
            row[firsts - offset] = firsts
            parts = {"field": [str(x) for x in many["field"].to_numpy(dtype=object)[order]],
                     "code": [str(x) for x in many["code"].to_numpy(dtype=object)[order]],
                     "reason": [" ".join(str(x).splitlines())
                                for x in many["reason"].to_numpy(dtype=object)[order]]}
            for c, listed in parts.items():
                sep = _REASON_SEP if c == "reason" else _FIELD_SEP
                text[c][firsts - offset] = [sep.join(listed[a:b]) for a, b in spans]
    out["issue_row"] = row
    for c, arr in text.items():
        out[f"issue_{c}"] = pd.array(arr, dtype="str")


def value_dask(ddf: Any, tables: TablesLike = "uk-national", *,
               errors: Literal["raise", "collect"] = "raise",
               assumptions: Assumptions | Mapping[str, Any] | None = None,
               detail: bool = False) -> Any:
    """Value every row of a Dask DataFrame; returns a lazy Dask DataFrame.

    Each partition is valued with :func:`~socialvalue_tom.frame.value_frame` (same bits; the
    same columns, except that ``claim_share`` and ``exclusion`` are always there when the
    editions declare exclusions, as the partitions must share columns). The row number of an
    issue (``issue_row``, ``RowIssue.row``) is the row's 0-based position in ``ddf``, the whole
    collection given here, as if it were one pandas frame: it stays so whatever part of the
    result is computed (a partition, ``head``/``tail``, a ``.loc`` slice, a filter). Computing
    these numbers, and the claims for double-counting exclusions, costs one pass over ``ddf``
    for the partition lengths, done here, eagerly; the result is lazy.

    Args:
        ddf: a ``dask.dataframe.DataFrame`` with the columns ``value_frame`` needs (for a pandas
            DataFrame, use :func:`~socialvalue_tom.frame.value_frame`).
        tables: family name, edition or editions; resolved once on the client.
        errors: ``"raise"``: computing raises :class:`~socialvalue_tom.BulkValidationError`
            with the bad rows of one failing partition (when several fail, the scheduler
            decides which, not the row order): to list every bad row of the input, use
            ``"collect"``, which adds the ``issue_*`` columns, and :func:`issues`.
        assumptions: caller-level :class:`~socialvalue_tom.Assumptions` (or a mapping of its
            fields).
        detail: also add ``gross_gbp`` and ``canonical_quantity`` (see ``value_frame``).

    Raises:
        TypeError: ``ddf`` is not a Dask DataFrame (a pandas DataFrame, a Dask Series ...).
        RuleError: ``errors`` is neither ``"raise"`` nor ``"collect"``.

    Examples:
        >>> import dask.dataframe as dd  # doctest: +SKIP
        >>> valued = value_dask(dd.read_parquet("outcomes/"), errors="collect")  # doctest: +SKIP
        >>> valued["value_gbp"].sum().compute()  # doctest: +SKIP
    """
    choice(errors, "errors", ("raise", "collect"))
    detail = flag(detail, "detail")
    dd = _dask()
    if not isinstance(ddf, dd.DataFrame):
        hint = ("; for a pandas DataFrame use socialvalue_tom.value_frame"
                if isinstance(ddf, pd.DataFrame) else "")
        raise TypeError(f"value_dask() needs a dask DataFrame, not {_type_name(ddf)}{hint}")
    import dask as dask_module

    dask: Any = dask_module  # dask's top level is not typed
    assumptions = as_assumptions(assumptions)
    handle = TableHandle.from_tables(tables)
    parts = ddf.to_delayed()
    offsets, claims, rows = _offsets_and_claims(ddf, parts, handle, assumptions)
    meta = value_frame(ddf._meta, handle.resolve(), errors="collect", assumptions=assumptions,
                       claims=claims, detail=detail)
    whole = {"rows": rows, "valuation_id": uuid.uuid4().hex}
    meta.attrs = {_RECORD: {**meta.attrs[_RECORD], **whole}}
    if errors == "collect":
        _add_issue_columns(meta, None, 0)
    # One task per partition with its offset bound in: selecting partitions or rows of the
    # result later keeps each row's number (partition_info would be renumbered). The shared
    # arguments are one node each in the graph, not a copy per task.
    shared = [dask.delayed(a, traverse=False) for a in (handle, assumptions, claims, whole)]
    call = dask.delayed(_value_partition, pure=True)
    valued = [call(p, shared[0], offset, errors, shared[1], shared[2], detail, shared[3])
              for p, offset in zip(parts, offsets, strict=True)]
    return dd.from_delayed(valued, meta=meta, divisions=ddf.divisions, verify_meta=False)


def _type_name(obj: object) -> str:
    """``list``, ``pandas.DataFrame``: the type's name, with its top package unless builtin."""
    package = type(obj).__module__.split(".")[0]
    return type(obj).__name__ if package == "builtins" else f"{package}.{type(obj).__name__}"


def _partition_claims(part: pd.DataFrame, handle: TableHandle,
                      assumptions: Assumptions | None) -> pd.DataFrame:
    """The claims of a partition's rows that exclusions govern (:func:`claims_of`, which picks
    those rows itself, reading measures as validation does: " jobs")."""
    return claims_of(part, handle.resolve(), assumptions=assumptions)


def _group_totals(claims: pd.DataFrame, handle: TableHandle) -> ClaimTotals:
    """The totals of the claims of some whole groups (a partition of the shuffled claims)."""
    return ClaimTotals.from_pieces([claims], stack_of(handle.resolve()).editions)


def _offsets_and_claims(ddf: Any, parts: Sequence[Any], handle: TableHandle,
                        assumptions: Assumptions | None,
                        ) -> tuple[tuple[int, ...], ClaimTotals | None, int]:
    """Global row offset of each partition (``parts``: ``ddf.to_delayed()``), the claim
    totals of the whole input and its number of rows, in one pass over it.

    The claims are shuffled on their group label, so that every claim of a contract's group
    lands in one partition, where its totals are summed over all of them (as
    ``value_frame`` sums them: the same bits); the client gathers one total per group and
    rank, never the claims themselves.
    """
    import dask as dask_module

    dask: Any = dask_module  # dask's top level is not typed
    dd = _dask()
    tset = handle.resolve()
    codes = frozenset(c for t in tset.editions for ex in t.spec.exclusions for c in ex.measures)
    lengths = [dask.delayed(len, pure=True)(p) for p in parts]
    if not codes or "measure" not in ddf.columns:
        (counts,) = dask.compute(lengths)
        return _offsets(counts), None, int(sum(counts))
    each = [dask.delayed(_partition_claims, pure=True)(p, handle, assumptions) for p in parts]
    meta = claims_of(ddf._meta.iloc[:0], tset, assumptions=assumptions)
    claims = dd.from_delayed(each, meta=meta, verify_meta=False)
    shuffled = claims.shuffle(on="group").to_delayed()
    totals = [dask.delayed(_group_totals, pure=True)(piece, handle) for piece in shuffled]
    counts, found = dask.compute(lengths, totals)
    return (_offsets(counts), ClaimTotals.merged(found, stack_of(tset).editions),
            int(sum(counts)))


def _offsets(lengths: Sequence[int]) -> tuple[int, ...]:
    """Each partition's first row in the whole input, from the partitions' lengths."""
    return tuple(int(x) for x in np.concatenate([[0], np.cumsum(lengths)[:-1]]))


def issues(valued: Any) -> pd.DataFrame:
    """Compute the issues of a ``value_dask(..., errors="collect")`` result.

    Returns a pandas DataFrame with the columns of ``value_frame``'s ``attrs["issues"]`` (row,
    index, field, code, reason), sorted by row. ``row`` is the row's position in the Dask
    DataFrame given to ``value_dask``, also when ``valued`` is a selection of its result (some
    partitions or rows).

    Args:
        valued: the lazy result of ``value_dask(..., errors="collect")``, or a selection of its
            partitions or rows.

    Raises:
        TypeError: ``valued`` is not a Dask DataFrame (for ``value_frame``'s result, read
            ``attrs["issues"]``).
        OutcomeError: ``valued`` lacks the ``issue_*`` columns (e.g. it was valued with
            ``errors="raise"``); ``err.columns`` lists the missing ones.
    """
    cols = list(ISSUE_OUTPUT_COLUMNS)
    dd = _dask()
    if not isinstance(valued, dd.DataFrame):
        raise TypeError('issues() needs the result of value_dask(..., errors="collect"), a dask '
                        f"DataFrame, not {_type_name(valued)} (value_frame's result lists its "
                        'issues in attrs["issues"])')
    missing = [c for c in cols if c not in valued.columns]
    if missing:
        raise OutcomeError('issues() needs the result of value_dask(..., errors="collect"); '
                           f"this frame lacks the column(s) {', '.join(missing)} (valued with "
                           'errors="raise"?)', field=missing[0], columns=missing)
    bad = valued[cols][~valued["issue_row"].isna()].compute()
    records = []
    for label, r, fields, codes, reasons in zip(
            bad.index.tolist(), bad["issue_row"], bad["issue_field"], bad["issue_code"],
            bad["issue_reason"], strict=True):
        # One line per issue, as a row with several problems holds them (_add_issue_columns).
        records += [(int(r), label, f, c, why) for f, c, why in zip(
            str(fields).split(_FIELD_SEP), str(codes).split(_FIELD_SEP),
            str(reasons).split(_REASON_SEP), strict=True)]
    frame = pd.DataFrame(records, columns=ISSUE_COLUMNS)
    # The dtypes value_frame's issues have (a scale review: object columns where it has
    # text ones made .equals() false with every value the same): the labels keep theirs.
    # The labels as value_frame's issues hold them: read from Python values, as there.
    frame = frame.astype({"row": "int64", "field": "str", "code": "str", "reason": "str"})
    return frame.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
