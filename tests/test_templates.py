"""Excel returns templates."""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import socialvalue_tom as sv
from socialvalue_tom.templates import template_table, write_template

TINY = Path(__file__).parent / "data" / "tables" / "tiny.yaml"


def _lists(path: Path) -> dict[str, str]:
    import openpyxl

    ws = openpyxl.load_workbook(path)["returns"]
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
            for dv in ws.data_validations.dataValidation if dv.type == "list"}


def test_write_template_when_measure_requires_field_then_column_added(tmp_path: Path) -> None:
    """jobs-apprentice requires `level`: the template has that column after the standard ones."""
    import openpyxl

    path = write_template(["jobs-apprentice"], tmp_path / "t.xlsx", sv.load_table(path=TINY))
    header = [c.value for c in openpyxl.load_workbook(path)["returns"][1]]
    assert header[-1] == "level"
    assert _lists(path)["C"] == '"week,weeks"'  # accepts: [week], and its plural
    assert _lists(path)["H"] == '"commitment,delivered"'


def test_write_template_when_list_too_long_then_hidden_lists_sheet(tmp_path: Path) -> None:
    """Lists over Excel's 255-character limit move to a hidden sheet."""
    import openpyxl

    table = sv.load_table("uk-national", version="2024")
    codes = list(table.measures)
    path = write_template(codes, tmp_path / "t.xlsx", table)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "returns"
    assert wb["lists"].sheet_state == "hidden"
    assert re.fullmatch(r"lists!\$A\$1:\$A\$\d+", _lists(path)["A"])
    assert wb["lists"]["A1"].value == codes[0]


def test_write_template_when_unit_not_listed_then_excel_warns_not_refuses(
        tmp_path: Path) -> None:
    """Units of the same kind convert (kgCO2e for tCO2e), so the unit list only warns; the
    measure, region and stage lists refuse other entries (Excel's default "stop" style)."""
    import openpyxl

    path = write_template(["env-carbon"], tmp_path / "t.xlsx", sv.load_table(path=TINY))
    styles = {str(dv.sqref)[0]: dv.errorStyle for dv in
              openpyxl.load_workbook(path)["returns"].data_validations.dataValidation
              if dv.type == "list"}
    assert styles == {"A": None, "C": "warning", "D": None, "H": None}


def test_write_template_when_unknown_measure_then_error() -> None:
    """An unknown code raises UnknownMeasureError with a suggestion."""
    with pytest.raises(sv.UnknownMeasureError, match="jobs-local"):
        write_template(["jobs-locl"], "unused.xlsx", sv.load_table(path=TINY))


def test_template_table_when_family_then_latest_or_in_force() -> None:
    """A family gives its latest edition, or the one in force on a date."""
    import datetime as dt

    refs = [r for r in sv.available_tables() if r.name == "uk-national"]
    assert template_table("uk-national").version == refs[-1].version
    assert template_table("uk-national", dt.date(2024, 6, 1)).version == "2024"


def test_write_template_when_openpyxl_missing_then_names_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The excel extra is imported lazily, with an actionable error."""
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'socialvalue_tom[excel]'")):
        write_template(["jobs-local"], tmp_path / "t.xlsx", sv.load_table(path=TINY))


def test_write_template_when_periods_then_period_columns_round_trip(tmp_path: Path) -> None:
    """periods=True: period_start and period_end replace date, both validated as dates, and a
    filled-in return values with --period as apportion values the same rows."""
    import datetime as dt

    import openpyxl
    import pandas as pd
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    path = tmp_path / "t.xlsx"
    result = CliRunner().invoke(app, ["template", "--measures", "jobs-local-fte", "--periods",
                                      "-o", str(path)])
    assert result.exit_code == 0 and "--period period_start,period_end" in result.output
    wb = openpyxl.load_workbook(path)
    ws = wb["returns"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["measure", "quantity", "unit", "region", "period_start", "period_end"]
    assert "date" not in header
    dated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation
             if dv.type == "date"}
    assert dated == {"E2", "F2"}
    for col, value in zip("ABCDEF", ["jobs-local-fte", 12, "FTE", "uk", dt.date(2024, 1, 1),
                                     dt.date(2024, 12, 31)], strict=True):
        ws[f"{col}2"] = value
    wb.save(path)
    out = tmp_path / "valued.csv"
    valued = CliRunner().invoke(app, ["value", str(path), "--period", "period_start,period_end",
                                      "-o", str(out)])
    assert valued.exit_code == 0, valued.output
    row = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
                        "region": ["uk"], "period_start": ["2024-01-01"],
                        "period_end": ["2024-12-31"]})
    expected = sv.value_frame(sv.apportion(row))["value_gbp"].tolist()
    assert pd.read_csv(out)["value_gbp"].tolist() == expected


@pytest.mark.parametrize(("measures", "rows", "words"), [
    ("jobs-local-fte", 10, "not the text 'jobs-local-fte'"),
    ([], 10, "measures is empty"),
    (["jobs-local-fte"], 0, "rows must be a whole number"),
    (["jobs-local-fte"], -5, "rows must be a whole number"),
    (["jobs-local-fte"], 2_000_000, "rows must be a whole number"),
    (["jobs-local-fte"], True, "rows must be a whole number"),
])
def test_write_template_when_arguments_are_unusable_raises_rule_error(
        tmp_path: Path, measures: Any, rows: Any, words: str) -> None:
    with pytest.raises(sv.RuleError, match=words):
        write_template(measures, tmp_path / "t.xlsx", rows=rows)
    assert not (tmp_path / "t.xlsx").exists()


def test_write_template_when_rows_is_a_numpy_integer_accepts_it(tmp_path: Path) -> None:
    import numpy as np

    assert write_template(["jobs-local-fte"], tmp_path / "t.xlsx", rows=np.int64(10)).exists()


def test_write_template_when_a_measure_is_named_twice_then_offered_once(tmp_path: Path) -> None:
    """A code repeated in the list (a slip when typing --measures) is offered once, in the
    order first given."""
    path = write_template(["env-carbon", "jobs-local", "env-carbon"], tmp_path / "t.xlsx",
                          sv.load_table(path=TINY))
    assert _lists(path)["A"] == '"env-carbon,jobs-local"'


@pytest.mark.parametrize("name", ["returns.csv", "returns.xlsm", "returns"])
def test_write_template_when_name_is_not_xlsx_then_rule_error(tmp_path: Path, name: str) -> None:
    """The workbook was written under any name, and the reader then refused it (a '.csv'
    as not UTF-8): the name is checked first, and nothing is written."""
    pytest.importorskip("openpyxl")
    with pytest.raises(sv.RuleError, match=r"name the file with \.xlsx"):
        write_template(["jobs-local-fte"], tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("on", "version"), [("2024-06-01", "2024"),
                                             (datetime.datetime(2025, 6, 1, 9), "2025")])
def test_template_table_reads_on_as_outcomes_read_dates(on: object, version: str) -> None:
    assert template_table("uk-national", on=on).version == version  # type: ignore[arg-type]


@pytest.mark.parametrize("on", ["2024/06/01", 20240601])
def test_template_table_when_on_is_not_a_date_then_rule_error(on: object) -> None:
    with pytest.raises(sv.RuleError, match="on"):
        template_table("uk-national", on=on)  # type: ignore[arg-type]


def test_write_template_formats_the_id_columns_as_text(tmp_path: Path) -> None:
    """In a General cell Excel turns a typed 0012 into 12 (another contract than "0012"): the
    contract and supplier id cells are text cells; others keep their formats."""
    import openpyxl

    path = write_template(["env-carbon"], tmp_path / "t.xlsx", sv.load_table(path=TINY))
    ws = openpyxl.load_workbook(path)["returns"]
    header = [c.value for c in ws[1]]
    for name in ("contract_id", "supplier_id"):
        col = header.index(name) + 1
        assert {ws.cell(r, col).number_format for r in range(2, 12)} == {"@"}
    assert ws.cell(2, header.index("quantity") + 1).number_format == "General"
    assert ws.cell(2, header.index("date") + 1).number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("periods", [False, True])
def test_template_quantity_header_says_fte_is_fte_years(tmp_path: Path, periods: bool) -> None:
    """A quarterly return of '12 FTE' is read as 12 FTE-years: the quantity header's comment
    says what to write, with the quarter's example where rows give periods."""
    openpyxl = pytest.importorskip("openpyxl")
    path = write_template(["jobs-local-fte"], tmp_path / "t.xlsx", periods=periods)
    ws = openpyxl.load_workbook(path)["returns"]
    header = [c.value for c in ws[1]]
    note = ws.cell(1, header.index("quantity") + 1).comment.text
    assert "FTE-years" in note
    assert ("12 FTE employed for a quarter is 3" in note) is periods


@pytest.mark.parametrize("periods", [False, True])
def test_template_says_weeks_and_hours_are_totals_and_how_years_multiplies_them(
        tmp_path: Path, periods: bool) -> None:
    """A skills lead's review: nothing said whether a two-year apprenticeship was 104 weeks on
    one row (with years 2 it is valued as 208), nor whether a course for 12 was 7 hours or
    84. The quantity note and the optional-columns guide say so, and the figure they give
    is the one the library values."""
    openpyxl = pytest.importorskip("openpyxl")
    path = write_template(["jobs-apprenticeship-l2-week", "jobs-training-employee-hour"],
                          tmp_path / "t.xlsx", periods=periods)
    wb = openpyxl.load_workbook(path)
    header = [c.value for c in wb["returns"][1]]
    note = wb["returns"].cell(1, header.index("quantity") + 1).comment.text
    assert "a 7-hour course for 12 trainees is 84 hours of training" in note
    assert "a 3-hour school visit by 2 staff is 6 staff hours" in note
    assert ("never 104 on its first row" in note) is periods
    guide = {r[0]: r[1] for r in wb["guidance"].iter_rows(values_only=True) if r and r[0]}
    assert ("a two-year apprenticeship is 52 weeks with years 2, or better a row of 52 weeks "
            "for each year, never 104 weeks with years 2, which counts 208") in guide["(optional)"]
    table = sv.load_table("uk-national", version="2025")
    rows = [{"measure": "jobs-apprenticeship-l2-week", "quantity": q, "unit": "week",
             "region": "uk", "date": "2025-06-30", "years": y} for q, y in ((104, 2), (52, 2))]
    valued = [sv.value(sv.Outcome(**r), table) for r in rows]
    # 104 with years 2 is twice 52 with years 2: 208 weeks, not the apprenticeship's 104.
    assert valued[0].pennies == 2 * valued[1].pennies


def test_write_template_offers_the_units_returns_commonly_give_beside_the_canonical(
        tmp_path: Path) -> None:
    """A newcomer's review: kgCO2e, which is read for a tCO2e measure, was not in the unit
    list; a measure that lists its units (accepts) is offered those alone."""
    table = sv.load_table("uk-national", version="2024")
    path = write_template(["env-carbon-saved", "growth-local-spend", "jobs-local-fte"],
                          tmp_path / "t.xlsx", table)
    assert _lists(path)["C"] == '"tCO2e,kgCO2e,GBP,kGBP,FTE,FTEs,fte,ftes"'
    for unit in ("kgCO2e", "kGBP"):
        assert table.unit_factor("env-carbon-saved" if "CO2" in unit else "growth-local-spend",
                                 unit) == pytest.approx(0.001 if "CO2" in unit else 1000)


def test_write_template_has_a_guidance_sheet_for_the_supplier(tmp_path: Path) -> None:
    """A supplier's review: the template said nothing of what a date, a region or a stage is,
    nor that priority hires are reported under local employment too, and the evidence each
    measure expects was in the table files alone. A guidance sheet says it; the workbook is
    still read from its returns sheet, without a note on other sheets."""
    import openpyxl

    measures = ["jobs-local-fte", "jobs-priority-neet", "jobs-apprenticeship-l3-week"]
    path = write_template(measures, tmp_path / "t.xlsx", "uk-national")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["returns", "guidance"]
    rows = [r for r in wb["guidance"].iter_rows(values_only=True)]
    guide = {r[0]: r[1] for r in rows[3:] if r[0]}
    header = [c.value for c in wb["returns"][1]]
    assert set(header) <= set(guide)
    assert "not at the date of the return" in guide["date"]
    assert "where the work is done" in guide["region"]
    table = template_table("uk-national")
    start = next(i for i, r in enumerate(rows) if r[0] == "Measure")
    listed = {r[0]: r for r in rows[start + 1:]}
    assert list(listed) == measures
    for code in measures:
        assert listed[code][3] == table.measure(code).evidence  # the evidence expected
    assert listed["jobs-local-fte"][4].startswith("Report the whole, including what you also "
                                                  "report under jobs-priority-ltu")
    assert listed["jobs-priority-neet"][4].startswith("A part of jobs-local-fte, counted in "
                                                      "full")
    assert listed["jobs-apprenticeship-l3-week"][4] in (None, "")  # no rule names it
    read = sv.io.read_outcomes(path)
    assert list(read.columns) == header and read.attrs["socialvalue_tom.source"]["sheet"] == (
        "returns")
    assert not read.attrs["socialvalue_tom.source"].get("alike_sheets")


def test_guidance_from_a_table_file_is_text_never_a_formula(tmp_path: Path) -> None:
    """A diff review: a measure's notes with a control character crashed the template
    (openpyxl refused the cell), and notes starting with '=' became a live formula on the
    guidance sheet; a table file may come from another organisation. Its text is written as
    text, the characters a worksheet cannot hold replaced; the region guide names the
    table's own regions."""
    import openpyxl
    from conftest import tiny_variant

    title = "    title: Carbon saved\n"
    table = tiny_variant(tmp_path, (title, title + '    notes: "=HYPERLINK(\\"http://x\\",'
                                    '\\"click\\") and a bell \\u0007"\n'))
    path = write_template(["env-carbon"], tmp_path / "t.xlsx", sv.load_table(path=table))
    ws = openpyxl.load_workbook(path)["guidance"]
    [notes] = [c for row in ws.iter_rows() for c in row
               if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert notes.data_type == "s" and notes.quotePrefix
    assert notes.value.endswith("a bell \ufffd")
    region = next(r[1] for r in ws.iter_rows(values_only=True) if r[0] == "region")
    assert region.startswith("Where the outcome was delivered: uk, england, london, scotland, "
                             "from the list") and "wales" not in region


def test_guidance_names_measures_this_template_does_not_offer_and_required_bounds(
        tmp_path: Path) -> None:
    """A review: a template of priority hires alone told the supplier to report under
    jobs-local-fte, which its measure list refused; and a required column's bounds (level
    from 1 to 8) were not said."""
    import openpyxl

    path = write_template(["jobs-priority-ltu"], tmp_path / "one.xlsx", "uk-national")
    rows = list(openpyxl.load_workbook(path)["guidance"].iter_rows(values_only=True))
    counted = next(r[4] for r in rows if r[0] == "jobs-priority-ltu")
    assert counted.startswith("A part of jobs-local-fte (not in this template), counted in "
                              "full")
    from conftest import tiny_variant

    tiny = sv.load_table(path=tiny_variant(tmp_path / "t", (
        "    requires: [level]\n", "    requires: [level]\n"
        "    field_bounds: {level: {min: 1, max: 8}}\n")))
    guide = {r[0]: r[1] for r in openpyxl.load_workbook(write_template(
        ["jobs-apprentice"], tmp_path / "a.xlsx", tiny))["guidance"].iter_rows(values_only=True)}
    assert guide["level"] == ("A figure required by jobs-apprentice (jobs-apprentice: from 1 "
                              "to 8), on each of their rows.")


def test_an_interrupted_template_leaves_the_earlier_workbook_and_no_part_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The template was saved in place: Ctrl-C mid-save left a half-written workbook (which
    Excel calls corrupt) where the earlier one was. It is written as every output is, to a
    temporary file renamed over the target; a folder that is not there is a typed error."""
    import socialvalue_tom.templates as templates

    out = write_template(["env-carbon"], tmp_path / "t.xlsx", sv.load_table(path=TINY))
    before = out.read_bytes()

    def half_then_stop(wb: Any, target: Path) -> None:
        target.write_bytes(b"PK\x03\x04 half a workbook")
        raise KeyboardInterrupt

    monkeypatch.setattr(templates, "save_workbook", half_then_stop)
    with pytest.raises(KeyboardInterrupt):
        write_template(["env-carbon"], out, sv.load_table(path=TINY))
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]
    monkeypatch.undo()
    with pytest.raises(sv.InputFileError, match="does not exist"):
        write_template(["env-carbon"], tmp_path / "none" / "t.xlsx", sv.load_table(path=TINY))


@pytest.mark.parametrize("periods", [False, True])
def test_guidance_says_what_a_commitment_row_holds_and_how_to_date_it(
        tmp_path: Path, periods: bool) -> None:
    """A social value manager's review: the guidance spoke of deliveries alone, so suppliers
    dated commitments at the tender, valued with that year's edition and set against
    deliveries valued with a later one. It says a commitment's quantity is what is committed
    and that it is dated in the year its delivery is due, a row per year."""
    import openpyxl

    path = write_template(["jobs-local-fte"], tmp_path / "t.xlsx", "uk-national",
                          periods=periods)
    rows = list(openpyxl.load_workbook(path)["guidance"].iter_rows(values_only=True))
    guide = {r[0]: r[1] for r in rows[3:] if r[0]}
    assert "On a commitment row, what the contract commits to deliver" in guide["quantity"]
    dated = guide["period_start" if periods else "date"]
    if periods:
        assert "the period its delivery is due in, not the tender's date" in dated
    else:
        assert "dated in the financial year its delivery is due" in dated
        assert "a row per year" in dated
    note = openpyxl.load_workbook(path)["returns"]["B1"].comment.text
    assert "On a commitment row" in note


def test_guidance_names_each_measure_s_toms_codes_and_ppn_outcomes(tmp_path: Path) -> None:
    """A social value manager's review: suppliers used to a TOMs calculator could not tell
    which measure takes their NT10 weeks, nor that NT9 counts weeks where the template counts
    hours. For a uk-national edition the guidance names each measure's TOMs codes (with the
    crosswalk's note) and PPN outcomes, from the embedded crosswalks; another family's table,
    whose codes are its own definitions, gets no such column."""
    import openpyxl

    measures = ["jobs-apprenticeship-l2-week", "jobs-training-employee-hour",
                "social-donations-gbp", "jobs-priority-veteran"]
    path = write_template(measures, tmp_path / "t.xlsx", "uk-national")
    rows = list(openpyxl.load_workbook(path)["guidance"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Measure")
    assert rows[start][6].startswith("Reported elsewhere as (codes and names only")
    said = {r[0]: r[6] for r in rows[start + 1:]}
    assert said["jobs-apprenticeship-l2-week"].splitlines() == [
        "National TOMs: NT10 (Weeks of apprenticeship; NT10 is reported by level (2, 3, 4+).)",
        "PPN 002: Outcome 2: Skills for growth (Kickstart economic growth)",
        "PPN 06/20: Create new businesses, new jobs and new skills (Tackling economic "
        "inequality)"]
    assert "NT9 (Unit differs: NT9 counts weeks" in said["jobs-training-employee-hour"]
    assert "PPN 002: no counterpart" in said["social-donations-gbp"].splitlines()
    assert said["jobs-priority-veteran"].startswith("National TOMs: no counterpart (")
    assert "nan" not in " ".join(said.values())
    other = write_template(["jobs-local"], tmp_path / "o.xlsx", sv.load_table(path=TINY))
    rows = list(openpyxl.load_workbook(other)["guidance"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "Measure")
    assert header[-1] == "Notes"
