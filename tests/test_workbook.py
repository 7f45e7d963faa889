"""The .xlsx formula scan (which cells hold a formula with no saved result), and workbooks
saved as the same bytes under SOURCE_DATE_EPOCH."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import stat
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


def _stamps(path: Path) -> set[tuple[int, ...]]:
    with zipfile.ZipFile(path) as z:
        return {info.date_time for info in z.infolist()}


def test_write_valuations_xlsx_with_source_date_epoch_is_the_same_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A determinism gap: an .xlsx output recorded the time it was saved (its properties and
    each part of the zip), so the same run never gave the same file. With SOURCE_DATE_EPOCH it
    records that time, as the report does; without it, the time of saving, as Excel does."""
    import openpyxl
    import pandas as pd

    import socialvalue_tom as sv
    from socialvalue_tom.io import write_valuations

    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [2.0], "unit": ["FTE"],
                         "region": ["uk"], "date": ["2024-06-01"]})
    valued = sv.value_frame(rows, "uk-national")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")  # 2025-01-01T00:00:00Z
    first = write_valuations(valued, tmp_path / "a.xlsx", source="in.csv")
    assert _stamps(first) == {(2025, 1, 1, 0, 0, 0)}
    book = openpyxl.load_workbook(first)
    assert book.properties.created == book.properties.modified == dt.datetime(2025, 1, 1)
    assert book.sheetnames == ["Valuations", "Provenance"]  # the content kept
    second = write_valuations(valued, tmp_path / "b.xlsx", source="in.csv")
    assert first.read_bytes() == second.read_bytes()
    assert sorted(tmp_path.iterdir()) == [first, second]  # no scratch file left beside them
    # Rewritten in place: the mode the file was made with, as without the epoch (a scratch
    # file renamed over it had mkstemp's 0600).
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    plain = write_valuations(valued, tmp_path / "plain.xlsx")
    assert stat.S_IMODE(os.stat(first).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
    plain.unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # before any time a zip can hold: 1980
    assert _stamps(write_valuations(valued, tmp_path / "c.xlsx")) == {(1980, 1, 1, 0, 0, 0)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "5000000000")  # 2128: past them, 2107 (a diff
    # re-read found writing failed there, where the report takes the epoch)
    late = write_valuations(valued, tmp_path / "late.xlsx")
    assert _stamps(late) == {(2107, 12, 31, 23, 59, 58)}
    assert openpyxl.load_workbook(late).properties.modified == dt.datetime(2107, 12, 31, 23,
                                                                            59, 58)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    (saved,) = _stamps(write_valuations(valued, tmp_path / "d.xlsx"))
    assert abs(saved[0] - dt.date.today().year) <= 1  # the time of saving


def test_template_with_source_date_epoch_is_the_same_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialvalue_tom.templates import write_template

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    one = write_template(["jobs-local-fte"], tmp_path / "one.xlsx")
    two = write_template(["jobs-local-fte"], tmp_path / "two.xlsx")
    assert _stamps(one) == {(2025, 1, 1, 0, 0, 0)}
    assert one.read_bytes() == two.read_bytes()


def test_template_parts_are_deflated_with_one_mode_under_source_date_epoch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialvalue_tom.templates import write_template

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    with zipfile.ZipFile(write_template(["jobs-local-fte"], tmp_path / "t.xlsx")) as z:
        assert {(i.compress_type, i.external_attr >> 16) for i in z.infolist()} == {
            (zipfile.ZIP_DEFLATED, 0o100644)}


@pytest.mark.parametrize(("number_format", "value", "scale"), [
    ("#,##0,", 1234567, -3),                    # thousands: 1,235
    ("0.0,,", 12200000, -6),                    # millions: 12.2
    ('#,##0," units"', 2500000, -3),            # a literal after the scaling comma
    # Its scale named in its text: 2,500k is the figure the cell holds (an adversarial
    # review: a finance team's contract values were refused).
    ('#,##0,"k"', 2500000, 0), ('£#,##0,"k"', 2500000, 0), ("0.0,,\\m", 1.5e6, 0),
    ('#,##0," thousand"', 2500000, 0), ('0.0,,"k"', 1.5e6, -6),  # "k" for a million
    ("#,##0,_);(#,##0,)", -5000, -3),           # the negative section scales too
    ("0,.00", 1234, -3),                        # a comma before the decimal point
    ("0%", 0.35, 2),
    ("0.0%", 0.355, 2),
    ("General", 1234567, 0),
    ("#,##0", 1234567, 0),                      # commas between placeholders group digits
    ("#,##0.00", 1234.5, 0),
    ("#,##0.00_);(#,##0.00)", -5, 0),
    ('_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', 12345, 0),  # Excel's Accounting format
    ('"£"#,##0.00;-"£"#,##0.00', 2.5, 0),       # the money format written to outputs
    ('0" k,"', 5, 0),                           # a comma in quoted text shows as written
    ("0\\,", 5, 0),                             # so does an escaped one
    ('0"%"', 5, 0),                             # and a quoted per cent sign
    ("[Red]0.0,", 5000, -3),                    # a colour in brackets
    ('[>=1000]0.0,;0', 5000, -3),               # a condition picks the section
    ('[>=1000]0.0,;0', 500, 0),
    ("0;0,", 5, 0),                             # positive section plain, negative scaled
    ("0;0,", -5, -3),
])
def test_shown_scale_reads_each_kind_of_number_format(number_format: str, value: float,
                                                      scale: int) -> None:
    """A data-quality review: a quantity shown in thousands (1234567 as 1,235, labelled £k)
    or as a percentage (0.35 as 35%) was valued as held; grouping commas scale nothing."""
    assert _workbook.shown_scale(number_format, value) == scale


@pytest.mark.parametrize(("name", "value", "number_format", "reason"), [
    ("quantity", 1234567, "#,##0,",
     "quantity shows 1,235 but the cell holds 1234567: its number format '#,##0,' shows the "
     "figure in thousands; write the number meant, in the row's unit (1234567 or 1234.567?), "
     "and format the cell so that it shows what it holds"),
    ("quantity", 0.35, "0%",
     "quantity shows 35% but the cell holds 0.35: its number format '0%' shows the figure as "
     "a percentage; write the number meant, in the row's unit (0.35 or 35?), and format the "
     "cell so that it shows what it holds"),
    ("quantity", 12250000.0, "0.0,,",
     "quantity shows 12.3 but the cell holds 12250000: its number format '0.0,,' shows the "
     "figure in millions; write the number meant, in the row's unit (12250000 or 12.25?), "
     "and format the cell so that it shows what it holds"),
    ("contract_value", 2500000, '#,##0,',
     "contract_value shows 2,500 but the cell holds 2500000: its number format '#,##0,' "
     "shows the figure in thousands; write the number meant, in pounds (2500000 or 2500?), "
     "and format the cell so that it shows what it holds"),
])
def test_scaled_by_format_says_what_the_cell_shows_and_holds(name: str, value: float,
                                                             number_format: str,
                                                             reason: str) -> None:
    """The stand-in is no number, says what the supplier saw against what is valued, and
    is written back as the figure held; a plain or unscaled cell is left as it is."""
    cell = _workbook.scaled_by_format(value, number_format)
    assert isinstance(cell, _workbook.ScaledByFormat)
    assert cell.reason(name) == reason
    assert f"the cell holds {cell}:" in reason  # written back as the figure held
    with pytest.raises(TypeError):
        float(cell)  # type: ignore[arg-type]
    for plain in ((0, "0%"), (5, "General"), (5, "#,##0"), (True, "0%"), ("35", "0%"),
                  (math.inf, "0%")):
        assert _workbook.scaled_by_format(*plain) is plain[0]
