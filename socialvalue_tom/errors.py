"""The exception hierarchy of socialvalue_tom.

Every error raised on purpose by the library is a :class:`SocialValueError`. Each class carries a
stable ``code`` (the anchor of its heading in ``docs/errors.md``), keeps the offending values as
attributes, and pickles (Dask ships errors from workers back to the client).
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args, overload

__all__ = [
    "BulkValidationError",
    "IllustrativeValueWarning",
    "InputFileError",
    "IssueSequence",
    "MissingExtraError",
    "NoTableInForceError",
    "OutcomeError",
    "ProxyTableError",
    "RowIssue",
    "RowIssueCode",
    "RuleError",
    "SocialValueError",
    "SocialValueWarning",
    "TableIntegrityError",
    "UnitError",
    "UnknownMeasureError",
    "UnknownRegionError",
    "UnknownTableError",
]


def _rebuild(cls: type[SocialValueError], message: str, details: dict[str, Any]) -> Any:
    return cls(message, **details)


def _portable(value: Any) -> Any:
    """``value`` where it pickles; else the same dict, list or tuple with each part that does
    not pickle as its text. An error keeps the caller's input as given (pydantic's ``errors``
    quote it: a ``memoryview`` a database driver returned, a generator): pickled as it is, the
    error itself could not be sent from a worker process, and Dask or ``multiprocessing``
    reported a pickling failure in its place."""
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # whatever pickling a foreign object raises
        pass
    else:
        return value
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if type(value) in (list, tuple):  # not a named tuple, whose fields differ
        return type(value)(_portable(v) for v in value)
    from socialvalue_tom._text import quoted  # numpy and pandas: only when needed

    return quoted(value)


#: Attributes of every error that a keyword detail may not replace: this class's, and every
#: exception's (``add_note``, ``with_traceback``, ``__cause__``...), which a detail set as an
#: attribute would break: ``add_note=`` made ``err.add_note(...)`` a TypeError.
_NOT_DETAILS = frozenset({"code", "message", "details", "to_dict", "__notes__",
                          *dir(BaseException)})


class SocialValueError(Exception):
    """Root of every error the library raises on purpose.

    ``message`` says what was wrong and what was expected; keyword ``details`` are kept as
    attributes (``err.measure``, ``err.row`` ...) so callers need not parse text.
    """

    code = "social-value-error"
    #: The input field at fault, under one name whatever the class (``None`` where none is:
    #: an unknown table, a missing extra); ``to_dict()["field"]`` gives the same.
    field: str | None = None
    #: The position of the row at fault in the caller's input, where one row is.
    row: int | None = None
    #: The row-issue code (``RowIssue.code``: ``negative``, ``bad-date``...) value_frame gives
    #: the same problem in bulk, where one is known: a service maps one set of codes.
    issue: str | None = None

    def __init__(self, message: str, **details: Any) -> None:
        clash = sorted(details.keys() & _NOT_DETAILS)
        if clash:  # code= would send the reader to another section of docs/errors.md
            raise TypeError(f"{type(self).__name__}: {', '.join(clash)} cannot be a detail: "
                            "the error's own attribute has that name")
        super().__init__(message)
        self.message = message
        self.details = details
        for key, val in details.items():
            setattr(self, key, val)

    def __str__(self) -> str:
        return f"{self.message} [see docs/errors.md#{self.code}]"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt through __init__ (the attributes come from the details), then any state
        # added since (a note from add_note, an attribute a caller set) restored on top:
        # Python's own reduction is not used, as it would call __init__ with args alone.
        # Each detail is checked to pickle but ``issues``: row issues hold text, numbers and
        # the frame's index labels, and there may be millions of them to pickle twice.
        rebuilt = {"message", "details", *self.details}
        details = {k: v if k == "issues" else _portable(v) for k, v in self.details.items()}
        state = {k: _portable(v) for k, v in vars(self).items() if k not in rebuilt}
        return (_rebuild, (type(self), self.message, details), state or None)

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data, for a service's response or a task queue:
        ``{"error": class name, "code", "message", "field", "details"}``, with dates as ISO
        text, row issues as dicts, numbers that JSON cannot hold (NaN, infinity) and other
        objects as text (``json.dumps(err.to_dict())`` always works). ``field`` names the
        input field at fault, the same key whatever the class (``measure`` for an unknown
        measure, ``region``, ``unit``, ``date`` for no edition in force, the outcome's field
        for an :class:`OutcomeError`; a table file's field for a :class:`ProxyTableError`),
        or is ``None``. ``issue`` is the row-issue code value_frame gives the same problem
        (``negative``, ``bad-date``, ``unknown-measure``...), or ``None``."""
        field = getattr(self, "field", None)
        return {"error": type(self).__name__, "code": self.code, "message": self.message,
                "field": field if isinstance(field, str) else None,
                "issue": self.issue if isinstance(self.issue, str) else None,
                "details": jsonable(self.details)}


def jsonable(value: Any) -> Any:
    """``value`` as data ``json.dumps`` writes as it is: containers walked, dates as ISO text,
    numpy scalars as Python numbers, row issues as dicts, anything else (NaN, infinity, bytes,
    an exception) as text."""
    import math

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, RowIssue):
        return jsonable(value.as_dict())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | IssueSequence):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if type(value).__name__ in ("datetime64", "timedelta64"):  # item() may be a bare int
        return str(value)
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item) and type(value).__module__ == "numpy":
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    iso = getattr(value, "isoformat", None)  # pandas.Timestamp, numpy datetimes via item()
    if callable(iso):
        try:
            return str(iso())
        except (TypeError, ValueError):  # NaT
            return None
    return repr(value) if isinstance(value, bytes | bytearray) else str(value)


class ProxyTableError(SocialValueError, ValueError):
    """A proxy table file is malformed: names the file and the field or line at fault.

    ``path``, ``line`` (1-based) and ``field`` (``measures[0].expression``) are always set:
    ``None`` where they are unknown or do not apply (an expression compiled on its own).
    """

    code = "proxy-table-error"
    path: str | None = None
    line: int | None = None
    field: str | None = None
    #: pydantic's error list, where the file's model refused it.
    errors: list[dict[str, Any]] | None = None
    #: Each of those problems as a line (file:line: field: reason; the first 50), and how
    #: many there are: what ``tables validate`` lists.
    problems: list[str] | None = None
    problem_count: int | None = None
    #: A custom expression that does not compile: where it comes from, its text, why, and
    #: the 1-based (line, column) at fault in the expression's text (``None`` where the
    #: parser gives none).
    origin: str | None = None
    expression: str | None = None
    reason: str | None = None
    position: tuple[int, int] | None = None
    #: Names an expression uses that have no value, or manifest entries with no file.
    missing: Sequence[str] | None = None


class TableIntegrityError(ProxyTableError):
    """An embedded table's content no longer matches the digest in the shipped manifest, or
    an edition loaded with a ``digest=`` pin (``--tables NAME:VERSION@DIGEST``) is not the one
    pinned."""

    code = "table-integrity-error"
    expected: str | None = None  # the digest the manifest records
    actual: str | None = None    # the digest of the file as it is


class UnknownTableError(SocialValueError, LookupError):
    """No table family or version of that name is in the catalogue."""

    code = "unknown-table"
    name: str | None = None
    version: str | None = None
    available: Sequence[str] | None = None  # the names there are, where listed


class NoTableInForceError(SocialValueError, LookupError):
    """No edition of the family covers the outcome's date."""

    code = "no-table-in-force"
    issue: str | None = "no-table-in-force"
    field: str | None = "date"  # the input field at fault (to_dict gives it)
    name: str | None = None
    date: dt.date | None = None  # the date asked for


class UnknownMeasureError(SocialValueError, LookupError):
    """The measure code is not in the table."""

    code = "unknown-measure"
    issue: str | None = "unknown-measure"
    field: str | None = "measure"
    measure: str | None = None
    table: str | None = None
    version: str | None = None
    #: The table's codes close to the one given (what the message's "did you mean" names).
    suggestions: list[str] | None = None


class UnknownRegionError(SocialValueError, LookupError):
    """The region is not one the table knows."""

    code = "unknown-region"
    issue: str | None = "unknown-region"
    field: str | None = "region"
    region: str | None = None
    table: str | None = None
    version: str | None = None
    #: The table's region codes.
    expected: list[str] | None = None


class UnitError(SocialValueError, ValueError):
    """Unknown unit, or a unit whose dimension does not match the measure's canonical unit."""

    code = "unit-error"
    issue: str | None = "unit-error"
    field: str | None = "unit"
    unit: str | None = None
    measure: str | None = None
    #: The measure's canonical unit, or the spellings its ``accepts`` allows.
    expected: str | list[str] | None = None


class OutcomeError(SocialValueError, ValueError):
    """An outcome is invalid: negative, NaN or infinite quantity, a missing or malformed field."""

    code = "outcome-error"
    field: str | None = None
    row: int | None = None                 # the row's position, where one row is at fault
    measure: str | None = None
    columns: Sequence[str] | None = None   # columns missing or repeated
    #: A double-counting exclusion whose key columns are missing: its id, table and key.
    exclusion: str | None = None
    table: str | None = None
    version: str | None = None
    key: list[str] | None = None
    #: pydantic's error list, where the Outcome (or Valuation) model refused a field.
    errors: list[dict[str, Any]] | None = None
    #: A refused row's problems (``explain_row``): row, field, code and reason of each.
    row_issues: list[dict[str, Any]] | None = None


class InputFileError(OutcomeError):
    """An outcome or valuation file cannot be read or written; ``path`` names the file.

    Added in 0.1.
    """

    code = "input-file-error"
    path: str | None = None
    #: How many fields the first data row (or columns the header) has, where too many.
    width: int | None = None
    #: The 1-based positions of blank header cells.
    positions: list[int] | None = None


class MissingExtraError(SocialValueError, ImportError):
    """A feature needs an optional dependency that is not installed (or does not import).

    ``module`` names it and ``extra`` the extra that installs it (``pip install
    'socialvalue_tom[excel]'``). Also an :class:`ImportError`, as Python reports a missing
    module.
    """

    code = "missing-extra"
    module: str | None = None
    extra: str | None = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        # ImportError keeps its own ``name``: the module, as Python's own errors give it.
        self.name = details.get("module")


class RuleError(SocialValueError, ValueError):
    """A rule cannot be applied: bad assumption, excluded double count, cap or validation rule,
    or an option value the function cannot use (``errors="x"``, an unknown schema kind)."""

    code = "rule-error"
    field: str | None = None
    row: int | None = None
    rows: int | list[int] | None = None    # a row count, or the positions at fault
    measure: str | None = None
    columns: Sequence[str] | None = None
    exclusion: str | None = None
    year: int | None = None                # a financial year with no price or discount
    base: int | None = None                # the discount base year
    offset: int | None = None              # years from the base year
    years: int | None = None
    index: str | None = None               # the price index's name
    edition: str | None = None
    supplier_id: str | None = None
    suppliers: Sequence[str] | None = None
    contract_id: Any = None
    values: list[float] | None = None      # a contract's conflicting contract values
    count: int | None = None               # how many such values in all (values: the first)
    kind: Any = None                       # an unknown schema kind, as given
    advice: str | None = None              # what to do instead, where the case is known
    #: pydantic's error list, where the Assumptions model refused a setting.
    errors: list[dict[str, Any]] | None = None


#: A row issue's code (docs/errors.md#row-issue-codes), as a type: a checker catches a code
#: misspelt in ``issue.code == "unkown-measure"``.
RowIssueCode = Literal[
    "missing", "not-a-number", "not-finite", "not-a-value", "negative", "too-large",
    "out-of-range", "bad-date", "bad-period", "no-table-in-force", "before-discount-base",
    "beyond-horizon", "unknown-measure", "unknown-region", "unit-error", "missing-field",
    "out-of-bounds", "unknown-grade", "bad-stage", "double-counting", "non-finite",
    "negative-gross", "rounded-id", "number-format",
]


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem found in one row of a bulk input.

    ``row`` is the row's position in the caller's input (0-based; for files, the data row number
    counting from 0 after the header), ``index`` the DataFrame index label.
    """

    row: int
    field: str
    code: RowIssueCode
    reason: str
    index: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The issue as a plain dict (for DataFrames; ``errors.jsonable`` of it for JSON, as
        the error's ``to_dict`` gives it: an index label may be a Timestamp)."""
        return {
            "row": self.row,
            "index": self.index,
            "field": self.field,
            "code": self.code,
            "reason": self.reason,
        }


class IssueSequence(Sequence[RowIssue]):
    """Row issues held as columns, each :class:`RowIssue` made when it is read.

    What :class:`BulkValidationError` holds for a file valued in batches with
    ``errors="raise"``: a file whose every row repeats one mistake has millions of issues, and
    an object per issue cost about 0.6 GB a million where the columns (the texts as
    categoricals) cost a tenth of it. It reads as any sequence of issues (``len``, indexing,
    slices as lists, iteration, ``==`` with a list or tuple of issues).
    """

    # Each column: anything with len() and integer indexing (a list, a numpy array, a
    # pandas Categorical), which no one typing covers.
    def __init__(self, row: Any, index: Any, field: Any, code: Any, reason: Any) -> None:
        sizes = {len(row), len(index), len(field), len(code), len(reason)}
        if len(sizes) != 1:
            raise ValueError(f"the issue columns differ in length: {sorted(sizes)}")
        self._columns = (row, index, field, code, reason)

    def __len__(self) -> int:
        return len(self._columns[0])

    @overload
    def __getitem__(self, i: int) -> RowIssue: ...

    @overload
    def __getitem__(self, i: slice) -> list[RowIssue]: ...

    def __getitem__(self, i: int | slice) -> RowIssue | list[RowIssue]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"issue {i} of {n}")
        row, index, field, code, reason = (c[i % n] for c in self._columns)
        label = index.item() if type(index).__module__ == "numpy" else index
        return RowIssue(row=int(row), field=str(field), code=cast(RowIssueCode, str(code)),
                        reason=str(reason), index=label)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists and tuples, as they are

    def __repr__(self) -> str:
        return f"IssueSequence({len(self)} issues)"

    def row_count(self) -> int:
        """How many distinct rows the issues are about."""
        rows = self._columns[0]
        return len(set(rows.tolist() if hasattr(rows, "tolist") else rows))


class BulkValidationError(OutcomeError):
    """``value_frame(errors="raise")`` found bad rows: ``issues`` lists every one of them."""

    code = "bulk-validation-error"

    issues: Sequence[RowIssue]

    def __init__(self, message: str, **details: Any) -> None:
        details.setdefault("issues", ())
        super().__init__(message, **details)

    @classmethod
    def from_issues(cls, issues: Sequence[RowIssue]) -> BulkValidationError:
        """Build the error with a message showing the count and the first issues. An
        :class:`IssueSequence` is kept as it is (its issues are made when read)."""
        kept: Sequence[RowIssue]
        if isinstance(issues, IssueSequence):
            kept, rows = issues, issues.row_count()
        else:
            kept = tuple(issues)  # a generator too, read once
            if not all(isinstance(i, RowIssue) for i in kept):
                raise TypeError("from_issues() needs a sequence of RowIssue")
            rows = len({i.row for i in kept})
        shown = "; ".join(f"row {i.row} field {i.field!r}: {i.reason}" for i in kept[:5])
        more = f" (and {len(kept) - 5} more)" if len(kept) > 5 else ""
        msg = f"{len(kept)} problem(s) in {rows} row(s): {shown}{more}"
        return cls(msg, issues=kept)


#: The codes of bulk valuation's row issues (docs/errors.md#row-issue-codes; a test keeps the
#: three in step): what a case file's ``expect.error`` may name beside the error classes'.
ROW_ISSUE_CODES: frozenset[str] = frozenset(get_args(RowIssueCode))


class SocialValueWarning(UserWarning):
    """Base of the library's warnings."""


class IllustrativeValueWarning(SocialValueWarning):
    """An outcome was valued with a proxy value labelled illustrative (a placeholder, not a
    published figure): not for decisions. Issued by ``value``, ``value_frame``,
    ``sensitivity``, ``value_file`` and ``score_bids``, once per call at the caller's line,
    with ``rows`` the number of rows so valued; its text does not vary, so Python's
    default filter shows it once per calling line. The command line says so in its own caveat
    instead. ``warnings.simplefilter("error", IllustrativeValueWarning)`` turns it into an
    error, to keep such values out of a production run."""

    def __init__(self, message: str, rows: int = 1) -> None:
        super().__init__(message)
        self.rows = rows

    def __reduce__(self) -> tuple[Any, ...]:  # keeps ``rows`` (the default keeps args only)
        return (type(self), (str(self), self.rows))


#: Where warn_illustrative adds its rows instead of warning, inside illustrative_collected().
_COLLECTING: ContextVar[list[int] | None] = ContextVar("illustrative_rows", default=None)


@contextmanager
def illustrative_collected() -> Iterator[list[int]]:
    """Collect, instead of issuing, the illustrative-value warnings of the valuations run
    inside: a function that values in pieces (a file in batches, an outcome at three bounds)
    issues one warning at its own caller's line, with the rows of all pieces (``sum`` of the
    list), or none for a frame valued already."""
    rows: list[int] = []
    token = _COLLECTING.set(rows)
    try:
        yield rows
    finally:
        _COLLECTING.reset(token)


#: The package's folder: a warning names the first line outside it.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def outside_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` in the function calling this that names the
    first line outside the package: the user's call, however many of the library's frames
    (a decorator's among them) lie between."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def warn_illustrative(rows: int) -> None:
    """Issue :class:`IllustrativeValueWarning` for ``rows`` rows valued with illustrative
    proxies, at the first line outside the package (the text does not vary with the count,
    so the default filter shows it once per calling line, however many times it is issued
    there); inside :func:`illustrative_collected`, add them to its count instead."""
    collecting = _COLLECTING.get()
    if collecting is not None:
        collecting.append(rows)
        return
    warnings.warn(IllustrativeValueWarning(
        "proxy values labelled illustrative (placeholders, not published figures) were used: "
        "not for decisions; the rows' 'illustrative' flag (report.annotate, "
        "Valuation.illustrative) says which", rows=rows), stacklevel=outside_stacklevel())
