"""Cells as validation reads them: text without surrounding whitespace; None, NaN, NA, NaT
and blank text all missing; a container (list, dict, array) in a cell is not a value.

``value_frame`` validates ``" delivered"`` as ``"delivered"``; everything that later groups,
matches or looks up such cells (exclusion keys, reports, bids, streamed claims) must read them
the same way, so they share these two functions.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import reprlib
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["QUOTED_CHARS", "Boolean", "NotAValue", "cell_codes", "cell_number", "is_missing",
           "key_text", "quoted", "shortened", "shown", "stripped", "stripped_column"]


class NotAValue:
    """Stands in for a cell that holds a container (list, dict, set, array) instead of one
    value, so columns holding one can still be factorised; its repr is the cell's."""

    __slots__ = ("text",)

    def __init__(self, cell: Any) -> None:
        self.text = repr(cell)

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotAValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash((NotAValue, self.text))


def hashable(cell: Any) -> Any:
    """``cell``, or a :class:`NotAValue` standing for it when it cannot be hashed; a numpy
    time span too (``timedelta64(5)`` cannot be hashed, and pandas refuses to hold
    ``timedelta64(5, 'Y')`` in a column it infers): no column reads one as a value."""
    if isinstance(cell, np.timedelta64):
        return NotAValue(cell)
    try:
        hash(cell)
    except (TypeError, ValueError):
        return NotAValue(cell)
    return cell


class Boolean:
    """Stands in for a boolean or complex cell of an object column: pandas would otherwise
    factorise True with 1 (or Decimal(1), or 1+0j) and whichever came first would decide how
    all of them are read. Neither is a number here."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Boolean) and type(other.value) is type(self.value)
                and other.value == self.value)

    def __hash__(self) -> int:
        return hash((Boolean, type(self.value), self.value))


def _may_hide_booleans(uniq: np.ndarray) -> bool:
    """Whether a distinct value may stand for booleans or complex numbers too (a number that
    equals one of them: factorising merged them)."""
    if pd.api.types.infer_dtype(uniq, skipna=True) in ("string", "empty"):
        return False  # one fast pass for the usual text column
    return any(isinstance(u, numbers.Number) for u in uniq)


#: The cells :func:`_unbooled` changes in a column pandas could factorise.
_UNBOOLED_TYPES = (bool, np.bool_, complex, np.complexfloating, np.timedelta64)


def _unbooled_cells(series: pd.Series) -> bool:
    """Whether an object column holds a cell :func:`_unbooled` would change: one look at each
    cell's type (a set of a few types), where mapping every cell cost a function call each
    (about 2 s a million rows for a column of numbers and a few bad texts)."""
    return any(issubclass(t, _UNBOOLED_TYPES) for t in set(map(type, series.to_numpy())))


def _unbooled(cell: Any) -> Any:
    if isinstance(cell, bool | np.bool_ | complex | np.complexfloating):
        return Boolean(cell)
    return hashable(cell)


def cell_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and distinct values of a column (free for categoricals); code -1 where the
    cell is missing, blank text included (as a CSV reader reads an empty field). A container
    cell is a :class:`NotAValue`, which no lookup accepts."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.intp)
        uniq = np.asarray(series.cat.categories, dtype=object)
    else:
        try:
            found, values = pd.factorize(series, use_na_sentinel=True)
        except (TypeError, ValueError):  # an unhashable cell (a list, dict or array), or
            # a numpy time span pandas cannot hold (timedelta64(5, 'Y'), timedelta64(5))
            # Every cell goes through hashable(): even asking whether Decimal('sNaN') is
            # missing raises, and it cannot be hashed either.
            found, values = pd.factorize(series.map(hashable), use_na_sentinel=True)
        codes, uniq = found.astype(np.intp, copy=False), np.asarray(values, dtype=object)
        if series.dtype == object and _may_hide_booleans(uniq) and _unbooled_cells(series):
            found, values = pd.factorize(series.map(_unbooled), use_na_sentinel=True)
            codes, uniq = found.astype(np.intp, copy=False), np.asarray(values, dtype=object)
    blank = np.array([isinstance(u, str) and not u.strip() for u in uniq] + [False])
    if blank.any():
        codes = np.where(blank[codes], -1, codes)
    return codes, uniq


def as_written(x: Any) -> Any:
    """A narrow float (``np.float32``, ``np.float16``) as the decimal it was written as: its
    shortest text read as a float64, 2.1 and not 2.0999999046325684, the float32 nearest 2.1
    widened (a penny off an amount at a half-penny). Anything else as it is."""
    if isinstance(x, np.floating) and x.dtype.itemsize < 8:
        return float(str(x))
    return x


def narrow_floats_as_written(values: np.ndarray) -> np.ndarray:
    """:func:`as_written` for an array of float32 or float16: float64 values of each
    element's shortest text (NaN stays NaN)."""
    # Each distinct value once (a column of a few values costs no more than they do); numpy
    # writes each to its own precision.
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(uniq).astype(str).astype(np.float64)[codes]


def cell_number(cell: Any) -> float | None:
    """A cell's number (NaN or inf included), or None when it is not a number.

    Text is read as a CSV reader reads it ("5", " 2.5 ", "1e3"; not "1_000" or non-ASCII
    digits); booleans, bytes, complex numbers, containers, dates and times are not numbers
    (numpy gives a far date, ``datetime64('30000-01-01')``, as its count of days). An integer
    too large for a float is infinite (then refused as not finite), never an OverflowError.
    """
    if isinstance(cell, bool | np.bool_ | bytes | complex | np.complexfloating | NotAValue
                  | Boolean | np.datetime64 | np.timedelta64):
        return None
    if isinstance(cell, str):
        text = cell.strip()
        if not text.isascii() or "_" in text:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    try:
        return float(as_written(cell))
    except OverflowError:
        return math.inf if cell > 0 else -math.inf
    except (TypeError, ValueError):
        return None


def text_is_an_address(cell: Any) -> bool:
    """Whether ``str(cell)`` names the object's place in memory (``<memory at 0x7f...>``,
    ``<object object at 0x7f...>``, ``<function f at 0x7f...>``): a memoryview, as a database
    driver returns a binary column, an object with no text of its own, or one whose text
    quotes its address (a function, method or generator). As a key it would differ from run to run,
    so one contract would be another each time."""
    if isinstance(cell, memoryview):
        return True
    if cell is None or isinstance(cell, str | bytes | bytearray | numbers.Number | dt.date
                                  | dt.time | np.generic):
        return False  # text or a number of its own, read as such
    kind: Any = type(cell)
    if kind.__str__ is object.__str__ and kind.__repr__ is object.__repr__:
        return True
    # A function, method, generator or lock has a text of its own type's making that still
    # names its address ('<function f at 0x7f...>'): as varying from run to run.
    try:
        text = str(cell)
    except Exception:  # a foreign object's __str__ failing: not an address to read
        return False
    return _AT_AN_ADDRESS.search(text) is not None


#: The address in memory Python's default texts end with (``<function f at 0x7f3a...>``).
_AT_AN_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+>")


def key_text(value: Any) -> str | None:
    """A key cell (contract, supplier) as the text that identifies it: stripped text, a whole
    number without ``.0`` (Excel gives ``1001.0`` for ``1001``); None when missing or blank.
    ``1001``, ``1001.0``, ``"1001"`` and ``" 1001 "`` are one contract."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, np.timedelta64 | np.datetime64):  # numpy counts these as integers
        return str(value)
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating | Decimal | Fraction) and (
            math.isfinite(value) and value == int(value)):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def key_texts(values: Any) -> np.ndarray:
    """:func:`key_text` of each value, as an object array; text-only values (the usual ids)
    are stripped in one vectorised step rather than one call each."""
    arr = np.asarray(values, dtype=object)
    if arr.size and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        stripped = pd.Series(arr, dtype=object).str.strip()
        out: np.ndarray = stripped.where(stripped != "", None).to_numpy(dtype=object)
        return out
    return np.array([key_text(v) for v in arr.tolist()], dtype=object)


def shown(cell: Any) -> str:
    """A cell as a message quotes it: as the file or frame gave it, not as numpy writes its
    scalars (``True``, not ``np.True_``; ``20240501``, not ``np.float64(20240501.0)``, for a
    whole number a reader made a float), cut as :func:`quoted` cuts it."""
    if isinstance(cell, np.number | np.bool_):  # not datetime64: its item() may be an int
        cell = cell.item()
    if (isinstance(cell, float) and math.isfinite(cell) and cell.is_integer()
            and abs(cell) < 2.0**53):
        return str(int(cell))
    return quoted(cell)


def quoted(value: Any) -> str:
    """``repr(value)`` for a message, cut to :data:`QUOTED_CHARS` characters: a message repeats
    a value for the reader, not to store it (a 5 MB cell stays in the input)."""
    try:
        return shortened(repr(value))
    except RecursionError:  # a container nested past Python's limit (a provenance record)
        return "(a value nested too deeply to show)"
    except ValueError:  # an int of more digits than Python converts to text (4,300)
        return f"(an integer of about {int(abs(value)).bit_length() * 0.30103:.0f} digits)"


def clipped_errors(errors: list[Any]) -> list[Any]:
    """pydantic's error list, each ``input`` too long to quote replaced by its clipped repr:
    text, and containers too (a table file's cross-check error has the whole parsed file as
    its input, which ``to_dict()`` would send back whole)."""
    out = []
    for e in errors:
        value = e.get("input")
        if isinstance(value, str | bytes | bytearray):
            if len(value) > QUOTED_CHARS:
                e = {**e, "input": quoted(value)}
        elif isinstance(value, dict | list | tuple | set | frozenset):
            brief = _BRIEF.repr(value)  # bounded: a 16 MiB table is never written out whole
            if len(brief) > QUOTED_CHARS or "..." in brief:
                e = {**e, "input": shortened(brief)}
        out.append(e)
    return out


def _brief_repr() -> reprlib.Repr:
    brief = reprlib.Repr()
    brief.maxlevel, brief.maxdict, brief.maxlist, brief.maxtuple = 2, 6, 6, 6
    brief.maxset = brief.maxfrozenset = 6
    brief.maxstring = brief.maxother = 40
    return brief


_BRIEF = _brief_repr()


#: The most characters of a value a message quotes.
QUOTED_CHARS = 200


def shortened(text: str, limit: int = QUOTED_CHARS) -> str:
    """``text`` cut to ``limit`` characters for a message, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def is_missing(value: Any) -> bool:
    """None, NaN, NA or NaT (a list-like is not missing: its isna is per element).

    Blank text is not missing here: callers that read text strip it first."""
    return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))


#: Characters that do not show: a soft hyphen, zero-width spaces and joiners, direction marks,
#: a word joiner, a byte-order mark (one class for names and ids alike).
_INVISIBLE_CHARS = "\u00ad\u200b-\u200f\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
#: What a heading may differ by and still name a column: case, spaces, ``-`` and ``_`` (the
#: spellings of hand-made returns: ``Contract ID``, ``dead-weight``, ``DropOff``) and invisible
#: characters (a zero-width space or a second byte-order mark pasted into a header cell).
_NAME_NOISE = re.compile(f"[\\s_\\-{_INVISIBLE_CHARS}]+")


def name_key(name: str) -> str:
    """``name`` as :func:`near_names` compares it: case-folded, without separators."""
    return _NAME_NOISE.sub("", name).casefold()


def near_names(columns: Iterable[Any], wanted: Iterable[str]) -> dict[str, Any]:
    """For each name in ``wanted`` that ``columns`` lacks but holds save for case, spaces,
    hyphens, underscores or invisible characters (``Measure`` or ``Contract ID`` for
    ``measure`` and ``contract_id``), the column found."""
    keys: dict[str, list[str]] = {}  # each column's key worked out once: a frame may be wide
    for name in columns:
        if isinstance(name, str):
            keys.setdefault(name_key(name), []).append(name)
    return {c: name for c in wanted for name in keys.get(name_key(c), ()) if name != c}


#: What a header adds to a rule column's name to say how its figures are written
#: ("Deadweight (%)", "deadweight_pct", "drop off rate", "contract_value (GBP)"), once the
#: name is reduced to its letters and digits.
_HOW_WRITTEN = {
    "deadweight": ("percentage", "percent", "pct", "pc", "rate", "fraction"),
    "displacement": ("percentage", "percent", "pct", "pc", "rate", "fraction"),
    "attribution": ("percentage", "percent", "pct", "pc", "rate", "fraction"),
    "dropoff": ("percentage", "percent", "pct", "pc", "rate", "fraction"),
    "contractvalue": ("gbp", "pounds"),
    "years": ("inyears",),
}
#: Other names analysts give the rule columns that change a value (matched whole): the
#: contract and supplier group double counting and caps, the years a duration.
_OTHER_NAMES = {
    "supplier_id": ("supplier", "supplierref", "supplierreference", "supplierno",
                    "suppliernumber", "suppliercode"),
    "years": ("yrs", "duration", "durationyears", "durationinyears", "numberofyears",
              "noofyears", "nyears"),
    "contract_id": ("contract", "contractref", "contractreference", "contractno",
                    "contractnumber", "contractcode"),
    "confidence": ("confidencegrade", "evidencegrade", "confidencelevel", "confidencerating"),
    # A data-quality steward's review: these passed over without a word, the contract left
    # with no value and the table's grade used.
    "contract_value": ("totalcontractvalue", "contractvaluetotal", "valueofcontract"),
}


def lookalike_names(columns: Iterable[Any], wanted: Iterable[str]) -> dict[str, Any]:
    """For each name in ``wanted`` that ``columns`` lacks, a column that names it another way:
    with how its figures are written ("Deadweight (%)", "drop off rate"), or as analysts often
    name it ("contract", "duration" for ``years``), read without case and punctuation. Names
    found by :func:`near_names` are not repeated here."""
    keys: dict[str, list[str]] = {}
    for name in columns:
        if isinstance(name, str):
            # Symbols read as the words they stand for: "Deadweight (%)" is deadweight in
            # percent, "Contract (£)" an amount, not a contract's id.
            words = name.casefold().replace("%", "pct").replace("£", "gbp")
            keys.setdefault(re.sub(r"[^0-9a-z]+", "", words), []).append(name)
    found: dict[str, Any] = {}
    for c in wanted:
        own = re.sub(r"[^0-9a-z]+", "", c)
        # The rule's name with how its own figures are written ("deadweightpct"), or an
        # other name it goes by, each the whole header.
        for k in (own, *(own + s for s in _HOW_WRITTEN.get(own, ())), *_OTHER_NAMES.get(c, ())):
            hit = next((n for n in keys.get(k, ()) if name_key(n) != name_key(c)), None)
            if hit is not None:
                found[c] = hit
                break
    return found


def id_likeness(text: str) -> str:
    """An id as a reader sees it: without invisible characters, its spaces run together and
    case folded. Two ids of one likeness but different text (``"Acme Ltd"``, ``"acme  ltd"``)
    are two to the rules and one to a reader: the notes say so."""
    return " ".join(_INVISIBLE.sub("", text).split()).casefold()


def misnamed(names: Iterable[Any], wanted: Iterable[str],
             exempt: Iterable[str] = ()) -> dict[str, tuple[Any, bool]]:
    """For each name in ``wanted`` that ``names`` lacks, a name that names it another way, and
    whether it differs only by case, spaces, hyphens, underscores or invisible characters
    (:func:`near_names`; ``True``) rather than as :func:`lookalike_names` finds (``False``).
    Near names come first. A name in ``exempt`` (a field some measure requires, which is that
    measure's own) is never taken for another: the one routine the bulk engine's columns and
    the scalar engine's fields are both checked with, so that they refuse the same names."""
    given, own = list(names), set(exempt)
    lacking = [c for c in wanted if c not in given]
    spare = [n for n in given if n not in own]
    near = near_names(spare, lacking)
    alike = {c: n for c, n in lookalike_names(spare, lacking).items() if c not in near}
    return {**{c: (n, True) for c, n in near.items()}, **{c: (n, False) for c, n in alike.items()}}


#: A date written day first, as in the UK (31/03/2024, 1.4.2024), or year first with slashes.
#: Day first, as the UK writes dates: a two-digit year (01/04/24) and a time of day (as Excel
#: saves a date-time cell: 01/04/2024 00:00) too.
_DAY_FIRST = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})"
                        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
#: Year first with slashes, or with hyphens but a one-digit month or day (2024-4-1).
_YEAR_SLASHED = re.compile(r"(\d{4})(?:/(\d{1,2})/(\d{1,2})|-(?=\d-|\d{2}-\d(?!\d))"
                           r"(\d{1,2})-(\d{1,2}))")
#: Year, month and day run together (20240501), as a period column of numbers reads.
_RUN_TOGETHER = re.compile(r"((?:19|20)\d{2})(\d{2})(\d{2})(?:\.0+)?")
#: Months by their English names and abbreviations ("Sept" too), as dates are written in
#: words: "1 April 2024", "April 1, 2024", "01-Apr-2024" (Excel's d-mmm-yyyy).
_MONTHS = {name: i for i, names in enumerate(
    ("", "january jan", "february feb", "march mar", "april apr", "may", "june jun",
     "july jul", "august aug", "september sep sept", "october oct", "november nov",
     "december dec")) for name in names.split()}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]+([A-Za-z]{3,9})\.?,?"
                             r"[\s\-/.]+(\d{4})")
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
#: A date and a time of day (2024-05-01 00:00:00, 2024-05-01T09:30).
_WITH_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
#: Excel's day 0: a date cell's number counts days from it (the 1900 leap-year bug aside,
#: right from March 1900 on).
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def control_character(text: str) -> str | None:
    """The first control character (Unicode category Cc: NUL, an escape, a line break) in
    ``text``, or None: text of one line that a page or a terminal shows as written."""
    return next((c for c in text if unicodedata.category(c) == "Cc"), None)


def period_span_hint(value: Any) -> str | None:
    """For a pandas ``Period`` longer than a day (a month, a quarter, a year): why it is no
    date, and what to give instead; None for anything else. A ``Period`` within one day (a
    day, a business day, an hour) is that day's date."""
    if not isinstance(value, pd.Period) or period_day(value) is not None:
        return None
    return (f"date {value} is a span of time ({value.start_time:%Y-%m-%d} to "
            f"{value.end_time:%Y-%m-%d}), not a day: give the day the outcome was delivered, "
            "or the span as period_start and period_end")


def period_day(value: Any) -> dt.date | None:
    """The day of a pandas ``Period`` within one day (``Period('2024-06-01', 'D')``, a
    business day, an hour: as a datetime's own date is read); None for anything else, a
    month's ``Period`` included."""
    if isinstance(value, pd.Period):
        first: dt.date = value.start_time.date()
        if value.end_time.date() == first:
            return first
    return None


def month_first_column(cells: Iterable[Any]) -> bool:
    """Whether one of ``cells`` is a date only when read month first (``06/30/2024``, as the
    US writes dates: there is no 30th month), so that the column's other dates are too."""
    return any(isinstance(c, str) and (m := _DAY_FIRST.fullmatch(c.strip())) is not None
               and int(m[2]) > 12 and int(m[1]) <= 12 for c in cells)


def date_hint(cell: Any, *, month_first: bool = False) -> str:
    """How to write a refused date cell as YYYY-MM-DD: the same day, where the cell says it
    another common way (31/03/2024 read day first, as in the UK; 2024/03/31; 1 April 2024
    or April 1, 2024 in English words; a date with a time of day; an Excel date number),
    else an example of the form ("" for a cell that is none of these, a date already).
    ``month_first``: the cell's column holds a date only month first (see
    :func:`month_first_column`), so a cell read either way (``07/01/2024``) is offered its
    month-first reading."""
    text = (cell.strip() if isinstance(cell, str)
            else str(cell) if isinstance(cell, numbers.Real)
            and not isinstance(cell, bool | np.bool_) else None)
    if text is None:
        return ""
    day: dt.date | None = None
    how = ""
    try:
        if (m := _DAY_FIRST.fullmatch(text)) and int(m[2]) > 12 and int(m[1]) <= 12:
            # No 13th month: a date only month first, as the US writes dates (a
            # data-quality steward's review: such a file was told to read day first).
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            day = dt.date(year, int(m[1]), int(m[2]))
            how = (f" if it means {day.day} {day:%B %Y} (month first, as in the US: the "
                   "column's other dates may be too)")
        elif ((m := _DAY_FIRST.fullmatch(text)) and month_first
              and int(m[1]) <= 12 and int(m[2]) <= 12 and m[1] != m[2]):
            # Either reading is a day, and the column's others are month first: offering
            # the day-first one under a note that the file is month first would misdate it.
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            day = dt.date(year, int(m[1]), int(m[2]))
            how = (f" if it means {day.day} {day:%B %Y} (month first, as the column's other "
                   "dates are)")
        elif m := _DAY_FIRST.fullmatch(text):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            day = dt.date(year, int(m[2]), int(m[1]))
            how = (f" if it means {day.day} {day:%B %Y} (day first, as in the UK)"
                   if int(m[2]) <= 12 and int(m[1]) <= 12 and m[1] != m[2]
                   else " (day first, as in the UK)")
        elif m := _YEAR_SLASHED.fullmatch(text):
            day = dt.date(int(m[1]), int(m[2] or m[4]), int(m[3] or m[5]))
        elif m := _RUN_TOGETHER.fullmatch(text):
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        elif (m := _DAY_MONTH_YEAR.fullmatch(text)) and m[2].lower() in _MONTHS:
            day = dt.date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
        elif (m := _MONTH_DAY_YEAR.fullmatch(text)) and m[1].lower() in _MONTHS:
            day = dt.date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
        elif m := _WITH_TIME.fullmatch(text):
            return f": give the date alone, without the time of day: {m[1]}"
        elif excel_error_value(text):  # a data-quality steward's review: #REF! in a date
            return (": it is a spreadsheet's error value, a formula that failed; correct the "
                    "formula in the workbook, or give the date (YYYY-MM-DD)")
        elif re.fullmatch(r"\d{5}(?:\.\d+)?", text) and 20_000 <= float(text) <= 80_000:
            # A date cell's number, with a time of day as its fraction (45473.5 is noon).
            day = _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
            return (f": it looks like an Excel date number ({day.isoformat()}): format the "
                    "column as a date (yyyy-mm-dd) before saving")
    except ValueError:  # no such day (31/02/2024)
        day = None
    if day is not None:
        return f": write {day.isoformat()}{how}"
    # An example of the form, said to be one: a date to copy could value the row in
    # another financial year's edition.
    return ": write the year, month and day (31 March 2024 is 2024-03-31)"


#: An id Excel rounded: a General-format column of 12 or more digits is saved to CSV in
#: scientific notation with six significant digits (``1.23457E+11``, ``1,23457E+11`` where
#: the decimal mark is a comma), so different ids come out the same.
EXCEL_ROUNDED_ID = re.compile(r"\s*\d(?:[.,]\d+)?E\+\d+\s*", re.IGNORECASE)


def excel_rounded_id(name: str, cell: Any) -> str:
    """Why the id ``cell`` of column ``name`` is refused (it matches :data:`EXCEL_ROUNDED_ID`)."""
    return (f"{name} {cell!r} is a number written in scientific notation, as Excel saves an "
            "id of 12 or more digits from a General-format column (rounded to six digits, so "
            "different ids read as one): format the column as Text in the workbook, "
            "type the ids again and save")


#: A number with '.' grouping thousands, as Excel writes one where ',' is the decimal mark
#: (a leading 0 never starts a group: 0.125 is a decimal).
GROUPED_NUMBER = re.compile(r"\s*[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?\s*")
#: A number whose ',' can only be a decimal mark: not followed by exactly three digits
#: (``2,5``, ``2,5000``), or after a leading 0 (``0,125``). (``1.500,25`` is a grouped one.)
COMMA_DECIMAL = re.compile(r"\s*[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|0,\d+)\s*")


#: A currency sign or code a figure copied from a document may carry.
_CURRENCY = re.compile(r"[£$€]|\bGBP\b", re.IGNORECASE)
#: Digits grouped in thousands with commas (1,500 or 25,000.50), not a decimal comma (1,5;
#: 0,125: no group starts with 0).
_GROUPED_BY_COMMAS = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
#: A number as the advice writes it: a sign, digits and a point (no exponent, nan or inf).
_PLAIN_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def plain_number_advice(given: str, fraction: str | None = None) -> str | None:
    """How to write a figure given as text with a currency sign, thousands separators or a
    per cent sign (``"£25,000"``, ``"25%"``) as a plain number; a decimal comma (``"1,5"``) is
    named as one, never read as thousands. ``fraction``: what the figure is, where it is
    written as a fraction (``"deadweight"``: ``"25%"`` is 0.25). None where none of these
    is it."""
    text = given.strip()
    percent = text.endswith("%")
    bare = "".join(_CURRENCY.sub("", text.removesuffix("%")).split())
    either = None  # '1,200' alone: thousands, or a decimal comma before three decimals
    if written_with_decimal_comma(bare):  # 2,5 or 1.234,5: the number is 2.5, 1234.5
        bare = bare.replace(".", "").replace(",", ".")
        if not percent:  # '10,5%' goes on to say what a per cent is written as
            return f"a decimal comma? write the number with a decimal point ({bare})"
    elif "," in bare:
        if not _GROUPED_BY_COMMAS.fullmatch(bare):  # '1,5,3': no figure to offer
            return ("a decimal comma? write the number with a decimal point"
                    if re.fullmatch(r"[-+]?[\d.,]+", bare) else None)
        if bare.count(",") == 1 and "." not in bare and not percent and bare == text:
            either = bare.replace(",", ".")
        bare = bare.replace(",", "")
    if not _PLAIN_DECIMAL.fullmatch(bare):  # float() would take 'nan', 'inf', '1_000', '1e3'
        return None
    if either is not None:
        return (f"write the number without a comma: {bare} if the comma separates thousands, "
                f"{either} if it is a decimal mark")
    number = float(bare)
    if percent and fraction is not None:
        return f"{fraction} is written as a fraction, {number / 100:g} for {text}"
    if percent:  # a parameter, say: a rate (0.25) or a figure in per cent (25)?
        return (f"write it as a number: {number / 100:g} if it is a fraction (a rate or a "
                f"share), {bare} if the figure is in per cent")
    if bare == text:
        return None
    return (f"write the number alone, {bare} (no currency sign, per cent sign, thousands "
            "separators or spaces)")


#: Words that scale a figure rather than name a unit: '1.2k' is 1,200.
_SCALE_WORDS = {"k": 1000, "thousand": 1000, "thousands": 1000, "mn": 10**6, "million": 10**6,
                "millions": 10**6, "bn": 10**9, "billion": 10**9, "billions": 10**9}
#: A figure followed by words: '2 FTE', '3.5tCO2e', '1,200 hours'.
_NUMBER_THEN_WORDS = re.compile(r"\s*([-+]?\d[\d,]*(?:\.\d+)?)\s*([A-Za-z][\w ./-]{0,40}?)\s*")


def number_with_unit_advice(given: str) -> str | None:
    """How to write a quantity given with its unit in the cell (``"2 FTE"``): the number
    alone, the unit in the unit column. A negative in brackets, as accounts write one
    (``"(2)"``), and a number in hexadecimal, binary or octal (``"0x10"``: not the figure 0
    and a unit ``x10``) are named as such. None where the text is none of these (nor a
    product, ``"2 x 3"``)."""
    if re.fullmatch(r"\s*\(\s*(?=[\d.,]*\d)[\d.,]+\s*\)\s*", given):
        return ("a negative number in brackets, as accounts write one? A quantity is never "
                "negative: record a harm under its own measure, counted up from 0")
    if re.fullmatch(r"\s*[-+]?0(?:[xX][\da-fA-F_]+|[bB][01_]+|[oO][0-7_]+)\s*", given):
        return "a hexadecimal, binary or octal number? write the number in decimal digits"
    found = _NUMBER_THEN_WORDS.fullmatch(given)
    if found is None or re.match(r"[xX]\s", found[2]):
        return None
    if re.fullmatch(r"[-+]?0", found[1]) and re.fullmatch(r"[xXbBoO]\w*", found[2]):
        return None  # '0b12', '0xZZ': no figure and unit, nor a number in another base
    figure, words = found[1], found[2]
    scale = _SCALE_WORDS.get(words.lower())
    if scale is not None and "," in figure:  # '1,2k': a decimal comma, or thousands?
        return (f"write the number in full, in digits with a decimal point and no commas "
                f"({words} is not a unit)")
    if scale is not None:  # '1.2k' is 1200, not 1.2 of a unit 'k'
        full = format((Decimal(figure) * scale).normalize(), "f")
        return f"write the number in full, {full} ({words} is not a unit)"
    if "," not in figure:
        return f"write the number alone, {figure}, and the unit ({words}) in the unit column"
    return (f"write the number alone and the unit ({words}) in the unit column; "
            f"{plain_number_advice(figure) or 'a number has no comma'}")


#: The error values a spreadsheet shows (and saves) for a formula that failed.
_EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                           "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!",
                           "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})


def excel_error_value(cell: str) -> bool:
    """Whether ``cell`` is a spreadsheet's error value (``#DIV/0!``, ``#N/A``), as a
    workbook saves a formula that failed and a CSV export writes it."""
    return cell.strip().upper() in _EXCEL_ERRORS


def written_with_decimal_comma(cell: str) -> bool:
    """Whether ``cell`` is a number whose ',' is a decimal mark (``2,5``, ``1.234,5``)."""
    return bool(COMMA_DECIMAL.fullmatch(cell)
                or (GROUPED_NUMBER.fullmatch(cell) and re.search(r",\d", cell)))


def grouped_digits(x: float) -> str:
    """``x`` with every digit its shortest repr has, the whole part in groups of three
    (1,000,000,000,000.4: a figure just past a limit is not rounded onto it)."""
    text = repr(float(x))
    if "n" in text:  # not finite
        return text
    if "e" in text:  # past 1e16 (a whole number), or below 1e-4 (written as repr writes it:
        # 1e-05, where no fixed-point digits would show it without a row of zeros)
        return f"{x:,.0f}" if abs(x) >= 1 else text
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    body = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{body}" + (f".{frac}" if frac.strip("0") else "")


#: Characters that look like a hyphen and are not one: autocorrect turns ``-`` into a dash.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")


def did_you_mean(text: object, codes: Iterable[str]) -> str:
    """``"; did you mean a, b?"``: up to three of ``codes`` close to ``text``, compared
    without case (a return in capitals, "JOBS-LOCAL-FTE", is one typo away), or ``""``. A
    code written with dashes where it has hyphens (a word processor's autocorrect) is named
    with the dashes pointed out: the two look alike on screen."""
    close, dashes = _close_codes(text, codes)
    if dashes:
        return (f"; did you mean {close[0]}? (it is written with a dash, "
                f"{', '.join(dashes)}, where the code has a hyphen '-')")
    return f"; did you mean {', '.join(close)}?" if close else ""


def close_codes(text: object, codes: Iterable[str]) -> list[str]:
    """The codes :func:`did_you_mean` suggests for ``text`` (an error's ``suggestions``)."""
    return _close_codes(text, codes)[0]


def _close_codes(text: object, codes: Iterable[str]) -> tuple[list[str], list[str]]:
    """The close codes, and the dashes ``text`` has where the one code it means has hyphens
    (empty where that is not the case)."""
    import difflib

    if not isinstance(text, str):  # a number or a huge int: no code is written like one
        return [], []
    by_lower = {c.lower(): c for c in codes}
    if _DASHES.search(text):
        plain = _DASHES.sub("-", text).strip().lower()
        if plain in by_lower:
            return [by_lower[plain]], sorted({f"U+{ord(ch):04X}" for ch in _DASHES.findall(text)})
    return [by_lower[c] for c in
            difflib.get_close_matches(str(text).strip().lower(), list(by_lower), n=3)], []


#: England's regions (ITL1, as ONS names them, and common short forms), which a table may
#: not value apart: a council writes its own.
_ENGLISH_REGIONS = frozenset({
    "north-east", "north-west", "yorkshire-and-the-humber", "yorkshire-and-humber",
    "yorkshire", "east-midlands", "west-midlands", "east-of-england", "east-anglia",
    "south-east", "south-west", "midlands", "the-north-east", "the-north-west",
    # their statistical codes: ITL1, NUTS1 (before 2021) and GSS (London, E12000007, aside)
    "tlc", "tld", "tle", "tlf", "tlg", "tlh", "tlj", "tlk",
    "ukc", "ukd", "uke", "ukf", "ukg", "ukh", "ukj", "ukk",
    *(f"e1200000{n}" for n in (1, 2, 3, 4, 5, 6, 8, 9))})
#: The nations' names in their own languages (Welsh, Scottish Gaelic, Irish; accents aside),
#: as a Welsh or Scottish council may write them, and other short forms and codes: the ITL1
#: and NUTS1 codes of the nations and London.
_NATIONS_OWN_NAMES = {
    "cymru": "wales", "lloegr": "england", "yr-alban": "scotland", "llundain": "london",
    "gogledd-iwerddon": "northern-ireland", "alba": "scotland", "an-albain": "scotland",
    "sasana": "england", "an-bhreatain-bheag": "wales", "tuaisceart-eireann": "northern-ireland",
    "ni": "northern-ireland", "n-ireland": "northern-ireland",
    "tli": "london", "tll": "wales", "tlm": "scotland", "tln": "northern-ireland",
    "uki": "london", "ukl": "wales", "ukm": "scotland", "ukn": "northern-ireland"}


def region_advice(region: object, codes: Sequence[str]) -> str:
    """What to write for a region no edition names: an English region where the table has
    England only (``north-west``, ``TLD``: give england), a nation in its own language or by
    its statistical code (``Cymru``, ``TLL``: wales), else the codes it is close to
    (:func:`did_you_mean`); ``""`` where none is."""
    if not isinstance(region, str):
        return ""
    key = re.sub(r"[\s_.]+", "-", _without_accents(region).strip().lower()).strip("-")
    if key in _ENGLISH_REGIONS and "england" in codes:
        return (f"; {shown(region)} is a region of England, which the table does not value "
                "apart: give england")
    nation = _NATIONS_OWN_NAMES.get(key)
    if nation in codes:
        return f"; did you mean {nation}?"
    return did_you_mean(region, codes)


def _without_accents(text: str) -> str:
    """``text`` with its letters' accents dropped (``Éireann`` is ``Eireann``)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def group_label(key: Any) -> str:
    """A summary group's key as a label: rows with no value in the group column form a group
    of their own, shown as "(none)" rather than "nan"."""
    return "(none)" if is_missing(key) else str(key)


def financial_year_text(year: int) -> str:
    """A UK financial year by its first calendar year, as a reader writes it: 2024/25."""
    return f"{year}/{(year + 1) % 100:02d}"


def group_labels(keys: Iterable[Any]) -> list[str]:
    """The labels of a column of group keys, as :func:`group_label` gives them, but for the
    group of rows with no value where a group is itself named "(none)" (a supplier id copied
    from another tool's blank): that one is "(no value)", so two groups never read alike."""
    keys = list(keys)
    blank = label_apart("(none)", "(no value)", [k for k in keys if not is_missing(k)])
    return [blank if is_missing(k) else str(k) for k in keys]


def label_apart(wanted: str, instead: str, taken: Iterable[Any]) -> str:
    """``wanted`` as a row's label, or ``instead`` where a key of ``taken`` reads as it (case
    and surrounding spaces aside: a supplier named "total"), then ``instead*``... : a label
    of the table's own (its Total, its rows with no key) never reads as one of its groups."""
    seen = {str(t).strip().casefold() for t in taken}
    label = wanted
    while label.casefold() in seen:
        label = instead if label == wanted else f"{label}*"
    return label


def stripped(value: Any) -> Any:
    """A text value without surrounding whitespace; any other value as it is."""
    return value.strip() if isinstance(value, str) else value


def cells(series: pd.Series) -> pd.Series:
    """``series`` as :func:`cell_codes` reads its cells one by one (an object column): a text
    column as it is, whose codes and distinct values are the same and come without a copy
    of every cell as a Python object (about 0.2 s a million rows a column, read again)."""
    return series if isinstance(series.dtype, pd.StringDtype) else series.astype(object)


def stripped_column(series: pd.Series) -> pd.Series:
    """``series`` with its text cells stripped, worked out once per distinct value (missing
    values stay missing, as ``None``), as an object column on the same index."""
    codes, uniq = cell_codes(cells(series))
    values = np.array([*(stripped(u) for u in uniq), None], dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=object)


def significant(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits in plain decimal, grouped in thousands, without
    trailing zeros: ``0.00003008``, not ``3.008e-05`` (a social value per pound of a large
    contract is that small), ``12.5``, ``1,234``."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    places = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    if places > 15:  # below a thousand-millionth of a penny's worth: no reader counts zeros
        return f"{x:.{digits - 1}e}"
    text = f"{x:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0") else text


def ratio_text(x: float) -> str:
    """A ratio to four decimal places (``0.0500``), or, below 0.001, to four significant
    digits (``0.00003008``): four places showed a small ratio as ``0.0000`` or ``-0.0000``."""
    return f"{x:,.4f}" if abs(x) >= 0.001 or x == 0 else significant(x)
