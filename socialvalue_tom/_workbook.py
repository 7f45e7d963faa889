"""Facts about an ``.xlsx`` file that openpyxl's value reader does not keep, and the saving of
one as the same bytes for the same content (:func:`save_workbook`).

Read with ``data_only=True``, a formula cell gives the result Excel saved with the workbook. A
workbook written by a program that does not calculate (openpyxl, many exporters) saves formulas
with no result: such a cell reads as empty, and a quantity typed as ``=2*7.5`` would be reported
as missing instead of as a formula nobody calculated. The worksheet's XML says which cells
hold a formula; this module reads it (streamed, element by element) so the reader can say so.

A cell's number format may show another figure than the cell holds: ``#,##0,`` shows 1234567
as 1,235 (a supplier's £k), ``0%`` shows 0.35 as 35%. Read as held, such a figure would be
valued 1,000 times (or a hundredth of) the one the supplier saw and checked:
:func:`scaled_by_format` puts a :class:`ScaledByFormat` in its place, which valuation refuses
by its row, saying what the cell shows and holds.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import operator
import os
import posixpath
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: Strict Open XML (ISO 29500 strict) names the same elements in other namespaces.
_STRICT_MAIN = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
_STRICT_DOC_REL = "{http://purl.oclc.org/ooxml/officeDocument/relationships}"


def uncalculated_cells(path: Path, title: str) -> set[tuple[int, int]]:
    """The (row, column) of each cell of sheet ``title`` that holds a formula with no saved
    result, 1-based.

    An empty result is a result when the cell is typed as text (``t="str"``: Excel saves a
    formula that gives ``""`` so); with no type, it is what a program that writes formulas
    without calculating them saves (openpyxl writes ``<f>1+1</f><v/>``).

    Best effort: a file whose parts cannot be found or read gives an empty set (openpyxl has
    already read it, so what is unreadable here is reported by nothing else), and a cell with
    no reference (``r`` is optional in the format) is left out.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, title)
            if part is None:
                return set()
            with archive.open(part) as fh:
                if not _mentions_formula(fh):
                    return set()
            with archive.open(part) as fh:
                return _uncalculated_in(fh)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return set()


#: The start of an ``f`` element (``<f>``, ``<f t="shared" .../>``, ``<x:f>``): a sheet without one
#: (most) is not parsed (a false match, e.g. ``<filters>``, only costs the parse).
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_BLOCK = 1 << 20


def _mentions_formula(fh: IO[bytes]) -> bool:
    """Whether the part's bytes hold a formula element, read in blocks (a tag cut by a block
    boundary is found in the overlap kept from the block before)."""
    tail = b""
    while block := fh.read(_BLOCK):
        if _FORMULA_TAG.search(tail + block):
            return True
        tail = block[-64:]
    return False


def _uncalculated_in(fh: IO[bytes]) -> set[tuple[int, int]]:
    from openpyxl.utils.cell import coordinate_to_tuple

    found: set[tuple[int, int]] = set()
    rows_parent: ElementTree.Element | None = None
    for event, el in ElementTree.iterparse(fh, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag in (f"{_MAIN}sheetData", f"{_STRICT_MAIN}sheetData"):
                rows_parent = el
            continue
        if tag in (f"{_MAIN}c", f"{_STRICT_MAIN}c"):
            ref = el.get("r")
            if ref and _has(el, "f") and not _has_result(el):
                found.add(coordinate_to_tuple(ref))
        elif tag in (f"{_MAIN}row", f"{_STRICT_MAIN}row") and rows_parent is not None:
            # Each row read is dropped from the tree, so memory stays flat on a large sheet
            # (clearing a row alone would leave an empty element per row behind).
            rows_parent.clear()
    return found


def _has(cell: ElementTree.Element, name: str) -> bool:
    return (cell.find(f"{_MAIN}{name}") is not None
            or cell.find(f"{_STRICT_MAIN}{name}") is not None)


def _has_result(cell: ElementTree.Element) -> bool:
    value = cell.find(f"{_MAIN}v")
    if value is None:
        value = cell.find(f"{_STRICT_MAIN}v")
    if value is None:
        return False
    return bool(value.text) or cell.get("t") == "str"


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The archive path of the worksheet named ``title``, from the workbook and its rels."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for sheet in book.iter():
        if sheet.tag in (f"{_MAIN}sheet", f"{_STRICT_MAIN}sheet") and sheet.get("name") == title:
            rel_id = sheet.get(f"{_DOC_REL}id") or sheet.get(f"{_STRICT_DOC_REL}id")
            break
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            # Targets are relative to xl/ unless they start with '/' (from the package root).
            return (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", target)))
    return None


def source_date_epoch() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention) as a UTC
    date-time, or ``None`` where it is unset, not a whole number, or past the calendar."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return None


#: The save time a workbook records in its core properties (openpyxl writes both).
_SAVE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def save_workbook(wb: Any, target: Path) -> None:
    """Save an openpyxl workbook to ``target``; where ``SOURCE_DATE_EPOCH`` is set, with that
    time as its save time, so that the same input gives the same file.

    openpyxl stamps the workbook's properties (created, modified) and every part of the zip
    with the time of saving: the file is then rewritten in place (its mode, and a link to it,
    kept), each part with the epoch's time and the same attributes whatever the platform, the
    properties with the same time. A zip holds times from 1980 to 2107 only: an epoch outside
    them is written as the nearest of those (the HTML report states the epoch's own day).
    """
    wb.save(target)
    when = source_date_epoch()
    if when is None:
        return
    stamp = min(max(when, _ZIP_FIRST), _ZIP_LAST)
    written = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(target) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for info in src.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            part.compress_type = zipfile.ZIP_DEFLATED
            part.create_system = 3  # Unix, whichever system saved it
            part.external_attr = 0o100644 << 16
            if info.filename == "docProps/core.xml":
                dst.writestr(part, _SAVE_TIMES.sub(rb"\g<1>" + written + rb"\g<2>",
                                                   src.read(info)))
                continue
            with src.open(info) as data, dst.open(part, "w") as out:
                shutil.copyfileobj(data, out, 1 << 20)
    # Written over the file openpyxl made (not a new file renamed over it): its mode and any
    # link to it stay as they were.
    with open(target, "wb") as fh:
        fh.write(rewritten.getbuffer())


#: The first and last times a zip entry can hold (DOS date-times).
_ZIP_FIRST = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
_ZIP_LAST = dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC)


# -- number formats ------------------------------------------------------------------------------

#: What a number format shows as it is written, whatever the figure: quoted text, a character
#: escaped (``\k``), spaced (``_)``) or repeated (``*-``). None of it scales the figure.
_FORMAT_LITERAL = re.compile(r'"[^"]*"?|\\.|[_*].')
#: A bracket: a colour, a currency or locale (``[$£-809]``), or a condition (``[>=1000]``).
_FORMAT_BRACKET = re.compile(r"\[[^\]]*\]")
_FORMAT_CONDITION = re.compile(r"\[(<=|>=|<>|<|>|=)\s*([-+]?\d+(?:\.\d*)?)\]")
#: Commas that each divide the figure shown by 1,000: after a digit placeholder and before
#: none (``#,##0,`` ``0.0,,`` ``#,##0,"k"``); a comma between placeholders (``#,##0``) only
#: groups the digits.
_SCALING_COMMAS = re.compile(r"(?<=[0#?]),+(?![0#?,])")
_GROUPING_COMMA = re.compile(r"[0#?],[0#?]")
_DECIMALS = re.compile(r"\.([0#?]*)")
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "=": operator.eq, "<>": operator.ne}
#: How a message says a format shows a figure, by the power of ten it scales it by.
_SCALE_WORDS = {2: "as a percentage", -3: "in thousands", -6: "in millions",
                -9: "in billions"}


class _Section(NamedTuple):
    """One number section of a format: its condition (``[>=1000]``: the comparison and its
    figure), if any; its text, literals and brackets blanked out; the power of ten it scales a
    figure by (:func:`shown_scale`)."""

    condition: tuple[str, float] | None
    text: str
    scale: int


#: The words a format's literal text names its scale with, by the power of ten its commas
#: divide by: ``#,##0,"k"`` shows 2400000 as 2,400k, the figure the cell holds, not another
#: (an adversarial review: a finance team's ``£#,##0,"k"`` contract values were refused).
_SCALE_NAMES = {-3: re.compile(r"k|thousands?|'?000s?"), -6: re.compile(r"m|mn|millions?"),
                -9: re.compile(r"bn|billions?")}
#: A section separator, outside quoted text.
_SECTION_BREAK = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')


@functools.lru_cache(maxsize=256)
def _sections(number_format: str) -> tuple[_Section, ...]:
    """The number sections of a format (positive; negative; zero: a fourth is for text)."""
    sections = []
    for written in _SECTION_BREAK.split(number_format)[:3]:
        section = _FORMAT_LITERAL.sub(" ", written)
        cond = _FORMAT_CONDITION.search(section)
        text = _FORMAT_BRACKET.sub(" ", section)
        commas = sum(len(run) for run in _SCALING_COMMAS.findall(text))
        scale = 2 * text.count("%") - 3 * commas
        if commas and not text.count("%") and _names_its_scale(written, scale):
            scale = 0  # shown with its scale named: the figure held, written shorter
        sections.append(_Section((cond[1], float(cond[2])) if cond else None, text, scale))
    return tuple(sections)


def _names_its_scale(section: str, scale: int) -> bool:
    """Whether a format section's literal text (quoted, or each escaped character) names the
    scale its commas divide by (``"k"`` for a thousand, ``"m"`` for a million)."""
    words = "".join(m[0].strip('"').removeprefix("\\") for m in _FORMAT_LITERAL.finditer(section)
                    if not m[0].startswith(("_", "*"))).strip().casefold()
    name = _SCALE_NAMES.get(scale)
    return name is not None and name.fullmatch(words.strip(" .")) is not None


def _section_for(number_format: str, value: float) -> _Section:
    """The section of ``number_format`` that shows ``value``, as Excel picks it."""
    sections = _sections(number_format)
    if any(s.condition is not None for s in sections):
        # The first section whose condition holds; one with none is the rest.
        for s in sections:
            if s.condition is None or _COMPARE[s.condition[0]](value, s.condition[1]):
                return s
        return sections[-1]
    if value < 0 and len(sections) > 1:
        return sections[1]
    if value == 0 and len(sections) > 2:
        return sections[2]
    return sections[0]


def shown_scale(number_format: str, value: float) -> int:
    """The power of ten ``number_format`` multiplies ``value`` by as a cell shows it: +2 for a
    per cent sign (``0%`` shows 0.35 as 35%), -3 for each comma that scales by a thousand
    (``#,##0,`` shows 1234567 as 1,235); 0 for a format that shows the figure the cell holds
    (``General``, ``0.00``, ``#,##0``: a comma between digit placeholders only groups them),
    or that names the scale its commas divide by in its text (``#,##0,"k"`` shows 2400000 as
    2,400k, which is what the cell holds).

    Examples:
        >>> shown_scale("#,##0,", 1234567), shown_scale("0.0,,", 1.5e6)
        (-3, -6)
        >>> shown_scale('£#,##0,"k"', 2400000), shown_scale('0.0,,"m"', 1.5e6)
        (0, 0)
        >>> shown_scale("0.0%", 0.35), shown_scale("#,##0.00", 1234.5)
        (2, 0)
    """
    return _section_for(number_format, value).scale


#: The most decimals Excel shows, and digits enough for any float written out in full with
#: them (a format of more, from another program, is shown to 30).
_MOST_DECIMALS, _WIDE = 30, 400


def _shown_figure(value: float, number_format: str, scale: int) -> str:
    """``value`` as the format shows it, its literal text left out: scaled, rounded to the
    format's decimals (half away from zero, as Excel rounds), digits grouped where it groups
    them, and a per cent sign where it has one."""
    section = _section_for(number_format, value).text
    decimals = _DECIMALS.search(section)
    places = min(len(decimals[1]), _MOST_DECIMALS) if decimals else 0
    figure = _exact(value).scaleb(scale).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    grouped = "," if _GROUPING_COMMA.search(section) else ""
    return f"{figure:{grouped}f}" + ("%" if "%" in section else "")


def _exact(value: float) -> Decimal:
    """The decimal a cell's number is written as (0.35, not 0.34999999999999997...)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _plain(number: Decimal) -> str:
    """A decimal written out in full, without trailing zeros (35, 1234.567)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ScaledByFormat:
    """A number cell whose number format shows another figure than the cell holds (a per cent
    sign, a comma scaling by a thousand): it stands in for the cell in the frame read, so that
    valuation refuses the row (row issue ``number-format``) rather than value the figure held,
    1,000 or 100 times the one the supplier saw. It is no number (``float()`` of it fails).

    ``held`` is the cell's value, ``number_format`` its format, ``scale`` the power of ten the
    format multiplies it by (:func:`shown_scale`).
    """

    held: int | float
    number_format: str
    scale: int

    def __str__(self) -> str:  # as an output file writes the cell back: the figure held
        return _plain(_exact(self.held))

    def reason(self, name: str) -> str:
        """Why column ``name``'s cell is refused: what it shows, what it holds, what to do."""
        with localcontext(prec=_WIDE):  # every digit, whatever the caller's context
            shown = _shown_figure(self.held, self.number_format, self.scale)
            meant = _plain(_exact(self.held).scaleb(self.scale))
        how = _SCALE_WORDS.get(self.scale, f"multiplied by 10^{self.scale}")
        unit = "pounds" if name == "contract_value" else "the row's unit"
        return (f"{name} shows {shown} but the cell holds {self}: its number format "
                f"{self.number_format!r} shows the figure {how}; write the number meant, in "
                f"{unit} ({self} or {meant}?), and format the cell so that it shows what it "
                "holds")


def scaled_by_format(value: Any, number_format: str) -> Any:
    """``value``, or a :class:`ScaledByFormat` standing for it where it is a number (not 0,
    which shows as 0 however scaled) that ``number_format`` shows scaled."""
    # Infinity, NaN and an integer past a float's range are refused as they are, however
    # shown (as not finite, or too large).
    if (type(value) not in (int, float) or not value or not abs(value) <= sys.float_info.max
            or number_format == "General"):
        return value
    scale = shown_scale(number_format, value)
    return ScaledByFormat(value, number_format, scale) if scale else value
