"""Facts about an ``.xlsx`` file that openpyxl's value reader does not keep, and the saving of
one as the same bytes for the same content (:func:`save_workbook`).

Read with ``data_only=True``, a formula cell gives the result Excel saved with the workbook. A
workbook written by a program that does not calculate (openpyxl, many exporters) saves formulas
with no result: such a cell reads as empty, and a quantity typed as ``=2*7.5`` would be reported
as missing instead of as a formula nobody calculated. The worksheet's XML says which cells
hold a formula; this module reads it (streamed, element by element) so the reader can say so.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import re
import shutil
import zipfile
from pathlib import Path
from typing import IO, Any
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
