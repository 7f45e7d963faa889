"""The .xlsx formula scan: which cells hold a formula with no saved result."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from socialvalue_tom import _workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx(path: Path, sheet_xml: str, *, target: str = "worksheets/sheet1.xml",
          part: str = "xl/worksheets/sheet1.xml") -> Path:
    book = (f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_REL}"><sheets>'
            '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="{target}"/>'
            "</Relationships>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr(part, sheet_xml)
    return path


def _sheet(cells: str, ns: str = MAIN, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return (f'<{p}worksheet {xmlns}="{ns}"><{p}sheetData><{p}row r="1">{cells}'
            f"</{p}row></{p}sheetData></{p}worksheet>")


@pytest.mark.parametrize(("cells", "expected"), [
    ('<c r="A1"><f>1+1</f><v/></c>', {(1, 1)}),                 # openpyxl: no result
    ('<c r="B1"><f>1+1</f></c>', {(1, 2)}),                     # no <v> at all
    ('<c r="C1"><f>1+1</f><v>2</v></c>', set()),                # calculated
    ('<c r="D1" t="str"><f>""</f><v></v></c>', set()),          # calculated: empty text
    ('<c r="E1"><f t="shared" si="0"/><v/></c>', {(1, 5)}),     # a shared formula's cell
    ('<c r="F1"><v>7</v></c>', set()),                          # a plain value
    ('<c><f>1+1</f><v/></c>', set()),                           # no reference: left out
])
def test_uncalculated_cells_reads_each_kind_of_cell(tmp_path: Path, cells: str,
                                                   expected: set[tuple[int, int]]) -> None:
    path = _xlsx(tmp_path / "w.xlsx", _sheet(cells))
    assert _workbook.uncalculated_cells(path, "data") == expected


def test_uncalculated_cells_reads_prefixed_strict_and_absolute_parts(tmp_path: Path) -> None:
    """Namespace prefixes, Strict Open XML and a rels target from the package root."""
    cells = '<x:c r="C3"><x:f>1</x:f><x:v/></x:c>'
    prefixed = _xlsx(tmp_path / "p.xlsx", _sheet(cells, prefix="x"))
    strict = _xlsx(tmp_path / "s.xlsx", _sheet('<c r="C3"><f>1</f></c>', ns=STRICT))
    absolute = _xlsx(tmp_path / "a.xlsx", _sheet('<c r="C3"><f>1</f></c>'),
                     target="/xl/sheets/one.xml", part="xl/sheets/one.xml")
    for path in (prefixed, strict, absolute):
        assert _workbook.uncalculated_cells(path, "data") == {(3, 3)}, path


def test_uncalculated_cells_when_the_file_cannot_be_read_is_empty(tmp_path: Path) -> None:
    """Best effort: openpyxl has read the file already; what this scan cannot read is nothing."""
    broken = _xlsx(tmp_path / "b.xlsx", "<worksheet><f>")
    missing_sheet = _xlsx(tmp_path / "m.xlsx", _sheet('<c r="A1"><f>1</f></c>'))
    not_zip = tmp_path / "n.xlsx"
    not_zip.write_text("hello", encoding="utf-8")
    assert _workbook.uncalculated_cells(broken, "data") == set()
    assert _workbook.uncalculated_cells(missing_sheet, "other") == set()
    assert _workbook.uncalculated_cells(not_zip, "data") == set()


@pytest.mark.parametrize("cut", range(1, 8))
def test_a_formula_tag_cut_by_a_block_boundary_is_found(monkeypatch: pytest.MonkeyPatch,
                                                        cut: int) -> None:
    """The pre-scan reads blocks; a tag split between two of them is still seen."""
    monkeypatch.setattr(_workbook, "_BLOCK", 16)
    data = b"x" * (16 - cut) + b'<x:f t="shared"/>' + b"y" * 40
    assert _workbook._mentions_formula(io.BytesIO(data))
    assert not _workbook._mentions_formula(io.BytesIO(b"<filler/>" * 10 + b"<fo>"))
