"""The socialvalue-tom command line: exit codes, printed totals, files written.

Values are hand-computed from tests/data/tables/tiny.yaml (see tests/test_report.py).
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import tiny_variant
from typer.testing import CliRunner

import socialvalue_tom as sv
from socialvalue_tom.cli import app
from socialvalue_tom.tables.diff import DIFF_COLUMNS

TINY = Path(__file__).parent / "data" / "tables" / "tiny.yaml"
runner = CliRunner()

PORTFOLIO = """measure,quantity,unit,region,date,supplier_id,contract_id,contract_value
jobs-local,2,FTE,london,2024-05-01,acme,c1,1000000
env-carbon,10,tCO2e,uk,2024-06-01,acme,c1,1000000
env-carbon-added,1,tCO2e,uk,2024-06-01,beta,c2,500000
social-volunteering,100,hour,scotland,2024-07-01,beta,c2,500000
"""
BAD = """measure,quantity,unit,region,date
jobs-local,2,FTE,london,2024-05-01
jobs-locl,1,FTE,uk,2024-05-01
env-carbon,-3,tCO2e,uk,2024-05-01
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def test_value_when_by_theme_then_prints_totals(tmp_path: Path) -> None:
    """Totals per theme and overall, penny-rounded, with the edition's digest; exit 0."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    result = invoke("value", src, "--tables", TINY, "--by", "theme")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"environment\s*│\s*2\s*│\s*£2,500\.00\s*│\s*-£250\.00\s*│\s*£2,250\.00", out)
    assert re.search(r"jobs\s*│\s*1\s*│\s*£54,000\.00", out)
    assert re.search(r"Total\s*│\s*4\s*│\s*£57,950\.00\s*│\s*-£250\.00\s*│\s*£57,700\.00", out)
    assert sv.load_table(path=TINY).digest in out
    assert "illustrative" in out


def test_value_when_by_supplier_then_sv_ratio(tmp_path: Path) -> None:
    """SV per £ of contract value: acme 56,500 / 1,000,000."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    result = invoke("value", src, "--tables", TINY, "--by", "supplier")
    assert result.exit_code == 0, result.output
    assert re.search(r"acme\s*│\s*2\s*│.*£56,500\.00\s*│\s*0\.0565", result.stdout)


def test_value_when_ratio_is_small_shows_its_digits_not_zero(tmp_path: Path) -> None:
    """£1,200 on a £1,000,000,000 contract is 0.0000012 per pound: four decimal places showed
    0.0000 (and -0.0000 for a small net disbenefit), as if nothing."""
    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("500000", "1000000000"))
    result = invoke("value", src, "--tables", TINY, "--by", "contract")
    assert result.exit_code == 0, result.output
    assert re.search(r"c2\s*│\s*2\s*│.*£1,200\.00\s*│\s*0\.0000012\s*│", result.stdout)
    assert re.search(r"c1\s*│.*│\s*0\.0565\s*│", result.stdout)


def test_value_by_many_groups_shows_the_first_and_writes_all_with_totals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of a million contracts took minutes and gigabytes to draw (a scale review):
    the terminal shows the first groups, a line for the rest and the Total, and --totals
    writes every group, its figures as the table's."""
    from socialvalue_tom import cli

    monkeypatch.setattr(cli, "_SHOWN_GROUPS", 2)
    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("acme,c1", "acme,c3", 1))
    out = tmp_path / "totals.csv"
    result = invoke("value", src, "--tables", TINY, "--by", "contract", "--totals", out)
    assert result.exit_code == 0, result.output
    assert re.search(r"│ \(1 more\)\s*│\s*│", result.stdout)
    assert re.search(r"│ Total\s*│\s*4 │", result.stdout)  # a count, not 4.0
    assert "Note: 3 contract groups: the first 2 are shown; --totals FILE.csv writes them all."\
        in result.stdout
    written = pd.read_csv(out, dtype=str)
    assert written["contract_id"].tolist() == ["c1", "c2", "c3", "Total"]
    assert written["net_gbp"].tolist()[-1] == "57700.00"
    shown = invoke("value", src, "--tables", TINY, "--by", "contract")
    assert "more)" in shown.stdout and not (tmp_path / "p.totals.csv").exists()
    for bad, why in ((tmp_path / "t.parquet", "must be one of .csv, .xlsx"), (src, "the input")):
        refused = invoke("value", src, "--tables", TINY, "--totals", bad)
        assert refused.exit_code == 2 and why in refused.stderr


def test_value_provenance_records_the_input_settings_and_editions(tmp_path: Path) -> None:
    """--provenance writes what produced the values (the determinism review: a CSV output
    says nothing of --price-year or the index), with the input's sha256; a .parquet output
    keeps the same record; the file must be .json and not the input or another output."""
    import hashlib
    import json

    import pyarrow.parquet as pq

    from socialvalue_tom.io import PROVENANCE_KEY

    src = _write(tmp_path, "p.csv", PORTFOLIO)
    out, record = tmp_path / "v.parquet", tmp_path / "v.provenance.json"
    result = invoke("value", src, "--tables", TINY, "-o", out, "--provenance", record,
                    "--price-year", "2025")
    assert result.exit_code == 0, result.output
    assert f"Wrote what produced the values to {record}" in result.stdout
    written = json.loads(record.read_text(encoding="utf-8"))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert written["input"] == f"p.csv (sha256 {sha})"
    assert written["assumptions"]["price_year"] == 2025
    assert [e["edition"] for e in written["editions"]] == ["tiny:2024"]
    assert json.loads(pq.read_metadata(out).metadata[PROVENANCE_KEY.encode()]) == written
    link = tmp_path / "p.json"
    link.symlink_to(src)  # the input under another name: writing it would replace the input
    for bad, why in ((tmp_path / "p.txt", "must be one of .json"),
                     (link, "is the input or another output")):
        refused = invoke("value", src, "--tables", TINY, "-o", out, "--provenance", bad)
        assert refused.exit_code == 2 and why in refused.stderr, refused.stderr
    assert src.read_text(encoding="utf-8") == PORTFOLIO


def test_value_period_given_dates_says_it_takes_column_names(tmp_path: Path) -> None:
    """--period 2024-04-01,2025-03-31 was told the input lacks columns named like dates: the
    option takes the columns holding each row's period, and says so."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    for period in ("2024-04-01,2025-03-31", "01/04/2024,31/03/2025"):
        result = invoke("value", src, "--tables", TINY, "--period", period)
        assert result.exit_code == 2
        assert "--period takes the names of the two columns holding each row's first and " \
               "last day" in " ".join(result.stderr.split())


def test_value_price_year_of_two_digits_is_told_to_write_the_year(tmp_path: Path) -> None:
    """--price-year 24 was refused in the validation library's words ('Input should be
    greater than or equal to 1900'): the message says how to write a financial year."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    for option in ("--price-year", "--discount-base-year"):
        result = invoke("value", src, "--tables", TINY, option, "24")
        assert result.exit_code == 2
        assert (f"{option} 24 is not a year: give the financial year by the year it starts "
                "in, in full (2024 for 2024/25)") in " ".join(result.stderr.split())


def test_value_tables_pinned_to_their_digests(tmp_path: Path) -> None:
    """--tables NAME:VERSION@DIGEST (and FILE@DIGEST) values with that edition only when its
    content digest is the one pinned, as recorded by an earlier run; a family name cannot be
    pinned (its editions have digests of their own)."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    tiny = sv.load_table(path=TINY)
    ok = invoke("value", src, "--tables", f"{TINY}@{tiny.digest[:12]}")
    assert ok.exit_code == 0, ok.output
    assert f"digest {tiny.digest}" in ok.stdout
    wrong = invoke("value", src, "--tables", f"{TINY}@{'0' * 64}")
    assert wrong.exit_code == 2 and "not the edition that was recorded" in " ".join(
        wrong.stderr.split())
    edition = sv.load_table("uk-national", version="2024")
    carbon = _write(tmp_path, "c.csv", "measure,quantity,unit,region,date\n"
                                      "env-carbon-saved,2,tCO2e,uk,2024-06-01\n")
    pinned = invoke("value", carbon, "--tables", f"uk-national:2024@{edition.digest}")
    assert pinned.exit_code == 0, pinned.output
    family = invoke("value", src, "--tables", f"uk-national@{edition.digest[:12]}")
    assert family.exit_code == 2 and "a digest pins one edition" in family.stderr
    short = invoke("value", carbon, "--tables", f"uk-national:2024@{edition.digest[:11]}")
    assert short.exit_code == 2 and "is not a content digest" in short.stderr


def test_explain_takes_the_line_messages_give(tmp_path: Path) -> None:
    """Messages and the issues file name a row's line (`row 1 (line 4)`), and explain took
    only the 0-based row: --line finds the row at a line (blank lines skipped by readers
    counted), says which line it explains, and refuses a line that holds no data row."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                                    "env-carbon,2,tCO2e,uk,2024-06-01\n\n"
                                    "env-carbon,-1,tCO2e,uk,2024-06-01\n")
    result = invoke("explain", src, "--tables", TINY, "--line", "4", "--line", "2")
    assert result.exit_code == 1  # line 4's row was not valued
    assert "Row 1 (line 4) was not valued: quantity: quantity -1 is negative" in result.stdout
    assert "Row 0 (line 2):" in result.stdout
    for bad in ("3", "1", "9"):
        refused = invoke("explain", src, "--tables", TINY, "--line", bad)
        assert refused.exit_code == 2 and f"--line {bad}: line {bad} of p.csv holds no data " \
            "row (the header is line 1; data rows are at lines 2 to 4)" in " ".join(
                refused.stderr.split())
    neither = invoke("explain", src, "--tables", TINY)
    assert neither.exit_code == 2 and "--row N" in neither.stderr and "--line N" in neither.stderr


def test_cli_edges_of_the_days_options(tmp_path: Path) -> None:
    """--line needs lines (not Parquet) and names an .xlsx row as a sheet row; a pin needs a
    version and takes capitals; --period with one date among names is a column name; year 0
    is not a year; a TOMs code no measure of the tables maps to says so."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                                    "env-carbon,2,tCO2e,uk,2024-06-01\n")
    pytest.importorskip("pyarrow")
    book = tmp_path / "p.parquet"
    pd.read_csv(src).to_parquet(book)
    refused = invoke("explain", book, "--tables", TINY, "--line", "2")
    assert refused.exit_code == 2 and "--line applies to .csv and .xlsx" in refused.stderr
    pytest.importorskip("openpyxl")
    sheet = tmp_path / "p.xlsx"
    pd.read_csv(src).to_excel(sheet, index=False)
    shown = invoke("explain", sheet, "--tables", TINY, "--line", "2")
    assert shown.exit_code == 0 and "Row 0 (sheet row 2):" in shown.stdout
    tiny = sv.load_table(path=TINY)
    upper = invoke("value", src, "--tables", f"{TINY}@{tiny.digest[:16].upper()}")
    assert upper.exit_code == 0, upper.output
    no_version = invoke("value", src, "--tables", f"uk-national:@{tiny.digest[:12]}")
    assert no_version.exit_code == 2 and "a digest pins one edition" in no_version.stderr
    one_date = invoke("value", src, "--tables", TINY, "--period", "period_start,2025-03-31")
    assert "not dates" not in one_date.stderr
    zero = invoke("value", src, "--tables", TINY, "--price-year", "0")
    assert zero.exit_code == 2 and "--price-year 0 is not a year" in zero.stderr
    toms = invoke("value", _write(tmp_path, "t.csv", "measure,quantity,unit,region,date\n"
                                               "NT12,1,week,uk,2024-06-01\n"), "--tables", TINY)
    assert "no measure of these tables is mapped to it" in " ".join(toms.output.split())


def test_the_files_written_for_people_carry_a_byte_order_mark_for_excel(
        tmp_path: Path) -> None:
    """An Excel user's review: the issues file quoted '£12' as 'Â£12' in Excel, which reads a
    CSV without a byte order mark in the Windows code page. The issues and totals files carry
    one; the valued rows (data) are plain UTF-8."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date,supplier_id\n"
                 "jobs-local,£12,FTE,uk,2024-06-01,Café\njobs-local,1,FTE,uk,2024-06-01,Café\n")
    result = invoke("value", src, "--tables", TINY, "--by", "supplier", "--errors", "collect",
                    "--totals", tmp_path / "t.csv", "-o", tmp_path / "v.csv")
    assert result.exit_code == 1, result.output
    issues = (tmp_path / "v.issues.csv").read_bytes()
    assert issues.startswith(b"\xef\xbb\xbfrow,line,field,code,reason")
    assert "£12".encode() in issues
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbfsupplier_id,")
    assert (tmp_path / "v.csv").read_bytes().startswith(b"measure,")
    assert pd.read_csv(tmp_path / "v.issues.csv").columns[0] == "row"


def test_totals_files_may_be_workbooks_with_the_pounds_as_numbers(tmp_path: Path) -> None:
    """An Excel user's review: --totals took .csv only, whose pounds Excel reads as text in
    some locales; a .xlsx name writes a workbook, its amounts numbers to the penny."""
    openpyxl = pytest.importorskip("openpyxl")
    root = Path(__file__).resolve().parent.parent
    src = root / "examples" / "portfolio.csv"
    for command in (["value", str(src), "--by", "theme"], ["targets", str(src)]):
        xlsx, csv = tmp_path / f"{command[0]}.xlsx", tmp_path / f"{command[0]}.csv"
        for out in (xlsx, csv):
            assert invoke(*command, "--totals", out).exit_code == 0
        ws = openpyxl.load_workbook(xlsx)["Totals"]
        header = [c.value for c in ws[1]]
        money = [c for c in header if c.endswith("_gbp")]
        assert money and ws.freeze_panes == "A2"
        from_csv = pd.read_csv(csv, dtype=str)
        for name in money:
            j = header.index(name) + 1
            cells = [ws.cell(r, j) for r in range(2, ws.max_row + 1)]
            assert all(isinstance(c.value, int | float) for c in cells), name
            assert cells[0].number_format == '"£"#,##0.00;-"£"#,##0.00'
            assert [f"{c.value:.2f}" for c in cells] == from_csv[name].tolist(), name
    assert invoke("value", src, "--totals", tmp_path / "t.json").exit_code == 2
    # An auditor's review: the totals carried no price basis, caveat, note or record. The
    # value command's workbook keeps what it prints under the table, and the record.
    book = openpyxl.load_workbook(tmp_path / "value.xlsx")
    assert book.sheetnames == ["Totals", "Notes", "Provenance"]
    notes = [r[0] for r in book["Notes"].iter_rows(min_row=2, values_only=True)]
    assert notes[0] == ("Social value by theme, commitments and deliveries added together "
                        "(each edition's own prices)")
    assert any(n.startswith("Caveat: ") and "illustrative" in n for n in notes)
    assert any(n.startswith("Table uk-national:2024 digest ") for n in notes)
    from socialvalue_tom import io as svio

    record = svio.read_provenance(tmp_path / "value.xlsx")
    assert record is not None and record["input"].startswith("portfolio.csv (sha256 ")
    # A release review: the targets workbook had its Totals sheet only, and the command
    # printed no edition and no note of figures left unchecked: it keeps them as value does.
    book = openpyxl.load_workbook(tmp_path / "targets.xlsx")
    assert book.sheetnames == ["Totals", "Notes", "Provenance"]
    notes = [r[0] for r in book["Notes"].iter_rows(min_row=2, values_only=True)]
    assert notes[0] == "Targets vs delivered (each edition's own prices)"
    assert any(n.startswith("Table uk-national:2024 digest ") for n in notes)
    assert any(n.startswith("Note: The Total's shortfall adds") for n in notes)
    assert any("not checked against the publication" in n for n in notes)
    assert not any("The total adds commitments" in n for n in notes)  # the table splits them
    printed = invoke("targets", src).output
    assert all(n in " ".join(printed.split()) for n in notes[1:3])
    record = svio.read_provenance(tmp_path / "targets.xlsx")
    assert record is not None and record["input"].startswith("portfolio.csv (sha256 ")


def test_value_totals_file_when_a_group_key_holds_a_carriage_return_keeps_it_one_row(
        tmp_path: Path) -> None:
    """A supplier id "A\rB" was written bare with "\n" line ends: a CSV reader read a row
    "A" with no figures and a row "B" with A\rB's. It is quoted, with "\r\n" line ends, as
    in the valued rows' file."""
    import csv as csv_module

    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("acme,c1", '"A\rB",c1'))
    out = tmp_path / "totals.csv"
    result = invoke("value", src, "--tables", TINY, "--by", "supplier", "--totals", out)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv_module.reader(f))
    assert [r[0] for r in rows] == ["supplier_id", "A\rB", "beta", "Total"]
    assert len({len(r) for r in rows}) == 1


def test_value_when_bound_least_favourable_then_benefits_low_harms_high_and_noted(
        tmp_path: Path) -> None:
    """--bound takes the proxies' bounds for a net value's range; the totals say so."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "env-carbon-saved,1,tCO2e,uk,2024-09-30\nenv-carbon-added,1,tCO2e,uk,2024-09-30\n")
    runs = {b: invoke("value", src, "--bound", b) for b in ("least-favourable",
                                                             "Most-Favourable", "central")}
    assert all(r.exit_code == 0 for r in runs.values()), runs
    assert re.search(r"£150\.41 │\s+-£451\.23 │\s+-£300\.82", runs["least-favourable"].stdout)
    assert re.search(r"£451\.23 │\s+-£150\.41 │\s+£300\.82", runs["Most-Favourable"].stdout)
    assert ("Values use the least favourable bound of each proxy (benefits low, disbenefits "
            "high), where the table records one (--bound)") in runs["least-favourable"].stdout
    assert "Values use" not in runs["central"].stdout
    bad = invoke("value", src, "--bound", "worst")
    assert bad.exit_code == 2 and "'worst' is not one of" in bad.stderr


def test_value_when_range_then_least_central_and_most_favourable_nets_side_by_side(
        tmp_path: Path) -> None:
    """--range prints each group's net at the least-favourable, central and most-favourable
    values in one run, as three runs of --bound give them (DESNZ 2024: 1 t saved £150.41 /
    £300.82 / £451.23, 1 t added the reverse, one local FTE £28,392.00 with no bound), and
    names the rows it leaves at their central value (an appraisal review: the range took three
    runs copied together by hand); with --bound it is refused."""
    src = _write(tmp_path, "p.csv", "supplier_id,measure,quantity,unit,region,date\n"
                 "a,env-carbon-saved,1,tCO2e,uk,2024-09-30\n"
                 "b,env-carbon-added,1,tCO2e,uk,2024-09-30\n"
                 "b,jobs-local-fte,1,FTE,uk,2024-09-30\n")
    result = invoke("value", src, "--range", "--by", "supplier")
    assert result.exit_code == 0, result.output
    text = result.stdout
    table = text[text.index("Net social value within the proxies' recorded bounds by "
                            "supplier"):]
    assert re.search(r"a\s+│\s+£150\.41 │\s+£300\.82 │\s+£451\.23 │", table)
    assert re.search(r"b\s+│\s+£27,940\.77 │\s+£28,091\.18 │\s+£28,241\.59 │", table)
    assert re.search(r"Total\s+│\s+£28,091\.18 │\s+£28,392\.00 │\s+£28,692\.82 │", table)
    for bound, net in (("least-favourable", "£28,091.18"), ("most-favourable", "£28,692.82")):
        alone = invoke("value", src, "--bound", bound)
        assert re.search(rf"│\s+{re.escape(net)} │\n", alone.stdout), alone.stdout
    said = " ".join(table.split())
    assert ("Note: the range moves only the proxies that record bounds: 1 of 3 row(s) "
            "(£28,392.00 of £28,392.00 at central values; jobs-local-fte) record none") in said
    refused = invoke("value", src, "--range", "--bound", "low")
    assert refused.exit_code == 2 and "leave out --bound low" in refused.stderr


def test_value_totals_when_a_group_is_named_none_then_the_blank_group_is_told_apart(
        tmp_path: Path) -> None:
    """A supplier id "(none)" (a blank copied from another tool) and the rows with no supplier
    id were two rows labelled (none) in the totals table."""
    text = PORTFOLIO.replace("acme,", "(none),").replace("beta,c2", ",c2")
    result = invoke("value", _write(tmp_path, "p.csv", text), "--tables", TINY, "--by",
                    "supplier")
    assert result.exit_code == 0, result.output
    assert re.search(r"│ \(none\)\s*│\s*2 │", result.stdout), result.stdout
    assert re.search(r"│ \(no value\)\s*│\s*2 │", result.stdout), result.stdout
    plain = invoke("value", _write(tmp_path, "q.csv", PORTFOLIO.replace("beta,c2", ",c2")),
                   "--tables", TINY, "--by", "supplier")
    assert "(none)" in plain.stdout and "(no value)" not in plain.stdout


def test_value_totals_when_a_group_is_named_total_then_the_grand_total_is_told_apart(
        tmp_path: Path) -> None:
    """A supplier called "Total" and the grand total were two rows labelled Total, in the
    table and the --totals file: only their position told them apart."""
    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("acme,", "Total,"))
    out = tmp_path / "totals.csv"
    result = invoke("value", src, "--tables", TINY, "--by", "supplier", "--totals", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)
    assert written["supplier_id"].tolist() == ["Total", "beta", "Total (all groups)"]
    assert re.search(r"│ Total \(all groups\)\s*│\s*4 │", result.stdout)
    plain = invoke("value", _write(tmp_path, "q.csv", PORTFOLIO), "--tables", TINY, "--by",
                   "supplier", "--totals", out)
    assert plain.exit_code == 0 and pd.read_csv(out, dtype=str)["supplier_id"].tolist() == [
        "acme", "beta", "Total"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_value_when_output_then_file_written(tmp_path: Path, suffix: str) -> None:
    """-o writes the valued rows in the format named by the extension."""
    from socialvalue_tom.io import read_outcomes

    src = _write(tmp_path, "p.csv", PORTFOLIO)
    out = tmp_path / f"valued{suffix}"
    result = invoke("value", src, "-o", out, "--tables", TINY)
    assert result.exit_code == 0, result.output
    back = read_outcomes(out)
    assert back["value_gbp"].astype(float).tolist() == [54000.0, 2500.0, -250.0, 1450.0]


def test_value_when_bad_rows_then_exit_1_and_issues_file(tmp_path: Path) -> None:
    """Bad rows: exit 1, messages name row and field, <stem>.issues.csv lists them."""
    src = _write(tmp_path, "bad.csv", BAD)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "-o", out, "--tables", TINY)
    assert result.exit_code == 1
    assert "row 1 (line 3), field 'measure'" in result.stderr
    assert "did you mean jobs-local" in result.stderr
    assert "row 2 (line 4), field 'quantity'" in result.stderr
    assert not out.exists()  # errors=raise writes nothing
    issues = pd.read_csv(tmp_path / "valued.issues.csv")
    assert issues[["row", "line", "field"]].values.tolist() == [[1, 3, "measure"],
                                                                 [2, 4, "quantity"]]
    assert "negative" in issues["reason"].iloc[1]


def test_value_when_collect_then_good_rows_written_and_exit_1(tmp_path: Path) -> None:
    """--errors collect values the good rows, writes them, still exits 1."""
    src = _write(tmp_path, "bad.csv", BAD)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "-o", out, "--tables", TINY, "--errors", "collect")
    assert result.exit_code == 1
    values = pd.read_csv(out)["value_gbp"]
    assert values.iloc[0] == 54000.0 and values.iloc[1:].isna().all()
    assert "£54,000.00" in result.stdout
    assert (tmp_path / "valued.issues.csv").is_file()


def test_value_when_no_output_then_issues_next_to_input(tmp_path: Path) -> None:
    """Without -o the issues file goes next to INPUT."""
    src = _write(tmp_path, "returns.csv", BAD)
    assert invoke("value", src, "--tables", TINY).exit_code == 1
    assert (tmp_path / "returns.issues.csv").is_file()


@pytest.mark.parametrize("args, message", [
    (["value", "missing.csv"], "does not exist"),
    (["value", "{src}", "--tables", "no-such-family"], "unknown table family"),
    (["value", "{src}", "--tables", "nope.yaml"], "does not exist"),
    (["value", "{txt}"], ".txt"),
    (["value", "{src}", "--bogus"], "No such option"),
    (["value", "{src}", "--by", "colour"], "colour"),
    # Click's own wording on every typer version (0.29 said "Value error, 'colour' is ...").
    (["value", "{src}", "--by", "colour"], "Invalid value for '--by': 'colour' is not one of "
                                           "'theme', 'measure', "),
    # Two groupings in one --by are told it takes one (a newcomer's review).
    (["value", "{src}", "--by", "theme,supplier"], "'ppn0620_theme': one value only (run the "
                                                   "command once for each)."),
    (["value", "{src}", "--errors", "bogus"], "Invalid value for '--errors': 'bogus' is not one "
                                              "of 'raise', 'collect'."),
    # named as the option given, not the library's field (assumption 'price_year')
    (["value", "{src}", "--price-year", "1800"], "error: --price-year: Input should be greater"),
    (["value", "{src}", "--discount-base-year", "3000"], "error: --discount-base-year: Input"),
    (["report", "{src}", "-o", "r.html", "--errors", "ignore"], "'ignore' is not one of"),
    (["value", "{nocol}", "--tables", str(TINY)], "missing required column"),
    # A file's edition is the file: a :VERSION after it is refused as such, not as a family.
    (["value", "{src}", "--tables", f"{TINY}:2024"], f"'{TINY}:2024': a table file is one "
                                                     "edition and takes no :VERSION"),
    (["value", "{src}", "--tables", "t.yaml:2024"], "a table file is one edition"),
    (["value", "/dev/null"], "input file /dev/null is not a regular file"),
    (["tables", "validate", "/dev/null"], "table file /dev/null is not a regular file"),
    # Names longer than the file system takes: a message, never a traceback.
    (["value", "{src}", "--tables", "uk-national:" + "x" * 300], "unknown version"),
    (["value", "x" * 300 + ".csv"], "does not exist"),
    (["value", "{src}", "-o", "x" * 300 + ".csv"], "File name too long"),
    (["tables", "diff", "uk-national:2024", "uk-national:" + "x" * 300], "unknown version"),
])
def test_value_when_usage_error_then_exit_2(tmp_path: Path, args: list[str],
                                            message: str) -> None:
    """Unknown options, missing or unreadable files, unknown tables: exit 2 with a message."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    txt = _write(tmp_path, "p.txt", PORTFOLIO)
    nocol = _write(tmp_path, "nocol.csv", "measure,quantity\njobs-local,1\n")
    argv = [a.format(src=src, txt=txt, nocol=nocol) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Value error" not in result.output


def test_value_when_by_and_errors_in_capitals_then_read_as_their_choices(tmp_path: Path) -> None:
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    result = invoke("value", src, "--tables", TINY, "--by", "THEME", "--errors", "Collect")
    assert result.exit_code == 0, result.output
    assert "Social value by theme" in result.stdout


def test_value_title_says_the_prices_the_amounts_are_in(tmp_path: Path) -> None:
    """A reconciliation review: the same rows printed £71,812.00, £69,019.73 or £74,137.85 by
    --price-year under one title, "Social value". The title names the prices: the one price
    base of the editions used, the --price-year asked for, or each edition's own."""
    one = _write(tmp_path, "one.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,2,FTE,uk,2024-06-01\njobs-local-fte,1,FTE,uk,2024-09-01\n")
    two = _write(tmp_path, "two.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,2,FTE,uk,2024-06-01\njobs-local-fte,1,FTE,uk,2025-09-01\n")
    for args, title in (([one], "Social value (2024/25 prices)"),
                        ([one, "--price-year", "2023"], "Social value (2023/24 prices)"),
                        ([two, "--by", "theme"], "Social value by theme (each edition's own "
                                                 "prices)")):
        result = invoke("value", *args)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0].strip() == title


def test_value_title_says_when_its_figures_add_commitments_to_deliveries(
        tmp_path: Path) -> None:
    """An audit committee's review: "Social value by theme" read £2.34m for jobs from the
    command and £0.99m under the report's "By theme", which counts deliveries alone. A
    table adding commitments to deliveries says so in its title; one by stage, or of one
    stage, does not."""
    both = _write(tmp_path, "both.csv", "stage,measure,quantity,unit,region,date\n"
                  "commitment,jobs-local-fte,2,FTE,uk,2024-06-01\n"
                  "delivered,jobs-local-fte,1,FTE,uk,2024-09-01\n")
    one = _write(tmp_path, "one.csv", "stage,measure,quantity,unit,region,date\n"
                 "delivered,jobs-local-fte,2,FTE,uk,2024-06-01\n"
                 "delivered,jobs-local-fte,1,FTE,uk,2024-09-01\n")
    adds = ", commitments and deliveries added together"
    for args, title in (([both, "--by", "theme"], f"Social value by theme{adds} (2024/25 prices)"),
                        ([both], f"Social value{adds} (2024/25 prices)"),
                        ([both, "--by", "stage"], "Social value by stage (2024/25 prices)"),
                        ([one, "--by", "theme"], "Social value by theme (2024/25 prices)")):
        result = invoke("value", *args)
        assert result.exit_code == 0, result.output
        assert " ".join(result.stdout.split("┏")[0].split()) == title


def test_report_for_publishing_leaves_out_quoted_cells_and_the_file_name(
        tmp_path: Path) -> None:
    """A privacy review: the report quoted bad cells and named the input file (often a
    person's name); --no-quote-cells and --source-name leave both out of the page."""
    src = _write(tmp_path, "Q3 return - Jane Smith.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,2,FTE,uk,2024-05-01\njobs-local,2,FTE,John Doe AB123456C,"
                 "2024-05-01\n")
    html_out = tmp_path / "pub.html"
    result = invoke("report", src, "--tables", TINY, "-o", html_out, "--errors", "collect",
                    "--no-quote-cells", "--source-name", "Q3 supplier return")
    assert result.exit_code == 1, result.output  # a row not valued, listed in the issues file
    page = html_out.read_text(encoding="utf-8")
    assert "John Doe" not in page and "Jane Smith" not in page
    assert "from Q3 supplier return." in page
    assert "John Doe" in (tmp_path / "pub.issues.csv").read_text(encoding="utf-8-sig")
    assert invoke("report", src, "--tables", TINY, "-o", html_out, "--source-name",
                  " ").exit_code == 2
    # A review: a terminal escape (or a NUL) named the input unseen in a published page.
    for option, given in (("--source-name", "Q3\x1b[31m"), ("--title", "Q3\nreturns")):
        result = invoke("report", src, "--tables", TINY, "-o", html_out, option, given)
        assert result.exit_code == 2 and f"{option} has a control character" in result.stderr
    from socialvalue_tom.report import report_html

    with pytest.raises(sv.RuleError, match="source has a control character") as info:
        report_html(sv.value_frame(pd.read_csv(src).iloc[:1], sv.load_table(path=TINY)),
                       source="Q3\x00")
    assert info.value.details["field"] == "source"


def test_value_when_by_supplier_without_column_then_exit_2(tmp_path: Path) -> None:
    """Grouping by a column the input lacks is a usage error naming the column."""
    src = _write(tmp_path, "bad.csv", BAD.replace("jobs-locl", "jobs-local").replace("-3", "3"))
    result = invoke("value", src, "--tables", TINY, "--by", "supplier")
    assert result.exit_code == 2
    assert "supplier_id" in result.stderr


def test_value_when_price_year_then_uplifted(tmp_path: Path) -> None:
    """--price-year 2025 restates 2024 prices with the tiny deflator (102.5 / 100)."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                                    "env-carbon,10,tCO2e,uk,2024-06-01\n")
    result = invoke("value", src, "--tables", TINY, "--price-year", "2025")
    assert result.exit_code == 0, result.output
    assert "£2,562.50" in result.stdout  # 10 x 250 x 1.025


@pytest.mark.parametrize(("row", "args", "message"), [
    # an outcome before --discount-base-year is a bad row naming the date field
    ("env-carbon,10,tCO2e,uk,2024-06-01", ("--discount-base-year", "2025"), "field 'date'"),
    # rich read ':fire:' as an emoji (and 'file.yaml:100:' lost its line number)
    (":fire:,1,FTE,uk,2024-05-01", ("--errors", "collect"), "unknown measure ':fire:'"),
])
def test_value_when_one_row_is_bad_then_exit_1_naming_it_as_written(
        tmp_path: Path, row: str, args: tuple[str, ...], message: str) -> None:
    src = _write(tmp_path, "p.csv", f"measure,quantity,unit,region,date\n{row}\n")
    result = invoke("value", src, "--tables", TINY, *args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_value_when_after_table_validity_then_carry_forward_allows(tmp_path: Path) -> None:
    """Past valid_to: a bad row, unless --carry-forward uses the latest edition."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                                    "env-carbon,1,tCO2e,uk,2025-06-01\n")
    strict = invoke("value", src, "--tables", TINY)
    assert strict.exit_code == 1 and "no edition of tiny" in strict.stderr
    carried = invoke("value", src, "--tables", TINY, "--carry-forward")
    assert carried.exit_code == 0, carried.output
    assert "£250.00" in carried.stdout


def test_value_when_embedded_default_tables_then_values(tmp_path: Path) -> None:
    """With no --tables the embedded uk-national family is used (the `make demo` path)."""
    table = sv.load_table("uk-national", version="2024")
    code = next(iter(table.measures))
    unit = table.measures[code].unit
    src = _write(tmp_path, "p.csv", f"measure,quantity,unit,region,date\n"
                                    f"{code},1,{unit},uk,2024-06-01\n")
    result = invoke("value", src, "--by", "theme")
    assert result.exit_code == 0, result.output
    assert f"uk-national:2024 digest {table.digest}" in result.stdout


def test_report_when_valued_then_html_written(tmp_path: Path) -> None:
    """report writes a self-contained HTML file with the totals."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    out = tmp_path / "report.html"
    result = invoke("report", src, "-o", out, "--tables", TINY, "--title", "Q1")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<h1>Q1</h1>" in text and "£57,700.00" in text and "data:image/png;base64," in text


def test_report_when_bad_rows_then_exit_1(tmp_path: Path) -> None:
    """report refuses bad rows by default, as value does."""
    src = _write(tmp_path, "bad.csv", BAD)
    result = invoke("report", src, "-o", tmp_path / "r.html", "--tables", TINY)
    assert result.exit_code == 1
    assert not (tmp_path / "r.html").exists()
    assert (tmp_path / "r.issues.csv").is_file()


def test_tables_list_when_embedded_then_lists_editions() -> None:
    """tables list shows each embedded edition with its validity."""
    result = invoke("tables", "list")
    assert result.exit_code == 0, result.output
    for ref in sv.available_tables():
        assert re.search(rf"{ref.name}\s*│\s*{ref.version}\s*│\s*{ref.valid_from}", result.stdout)


def test_tables_list_when_review_date_passed_then_marked() -> None:
    """Each embedded edition's review date is listed, marked once today is past it."""
    result = invoke("tables", "list")
    assert result.exit_code == 0, result.output
    for ref in sv.available_tables():
        mark = r" \(passed\)" if ref.review_passed() else r"\s"
        assert re.search(rf"{ref.valid_to}\s*│\s*{ref.review_by}{mark}", result.stdout)


@pytest.mark.parametrize(("review_by", "shown"), [
    ("2024-04-01", "review by 2024-04-01 (passed)"), ("2999-01-01", "review by 2999-01-01\n"),
    (None, "illustrative: true (7 of 7 measures)\n")])
def test_tables_show_when_review_date_declared_then_header_says_it(
        tmp_path: Path, review_by: str | None, shown: str) -> None:
    """The header line gives the review date (marked when passed), and nothing when none."""
    text = TINY.read_text(encoding="utf-8")
    if review_by:
        text = text.replace("valid_to: 2025-03-31\n",
                            f"valid_to: 2025-03-31\nreview_by: {review_by}\n")
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_text(
        (TINY.parent / "tiny-deflator.index.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("tables", "show", tmp_path / "t.yaml")
    assert result.exit_code == 0, result.output
    assert shown in result.stdout


def test_tables_show_when_measure_then_regions_with_fallback() -> None:
    """Per-region proxies: london has its own, scotland falls back to uk."""
    result = invoke("tables", "show", TINY, "--measure", "jobs-local")
    assert result.exit_code == 0, result.output
    assert re.search(r"london\s*│\s*london\s*│\s*£30,000\.00", result.stdout)
    assert re.search(r"scotland\s*│\s*uk\s*│\s*£20,000\.00\s*│\s*£15,000\.00\s*│\s*£25,000\.00",
                     result.stdout)
    assert "Note" not in result.stdout  # the table says nothing of its fallbacks


def test_tables_show_a_measure_with_the_notes_on_its_fallbacks() -> None:
    """A table author's review: the notes on a fallback (applies_in, stands_in_for) were
    shown by the trace alone; the measure's table has a Note column where there are some."""
    result = runner.invoke(app, ["tables", "show", "uk-national:2024", "--measure",
                                 "jobs-local-fte"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
            if line.startswith("│")}
    assert "stands in: the UK median stands in for Wales's" in rows["wales"]
    assert "stands in: the UK median stands in for England's" in rows["england"]
    assert rows["scotland"].rstrip("│ ").endswith("no")  # its own value: no note
    landfill = runner.invoke(app, ["tables", "show", "uk-national:2024", "--measure",
                                   "env-waste-recycled"], env={"COLUMNS": "400"})
    assert "applies: the UK Landfill Tax is charged in Northern Ireland" in landfill.stdout


def test_tables_show_when_name_version_then_header_and_measures() -> None:
    """NAME:VERSION shows the header, digest and every measure."""
    table = sv.load_table("uk-national", version="2024")
    result = invoke("tables", "show", "uk-national:2024")
    assert result.exit_code == 0, result.output
    assert f"digest {table.digest}" in result.stdout
    assert f"{len(table.measures)} measures" in result.stdout


def test_tables_show_when_unknown_measure_then_exit_2() -> None:
    """An unknown measure code is a usage error with suggestions."""
    result = invoke("tables", "show", TINY, "--measure", "jobs-locl")
    assert result.exit_code == 2
    assert result.stdout == ""  # no header for a table that is not shown
    missing = invoke("tables", "show", "missing.json")  # a JSON amendment is a file too
    assert missing.exit_code == 2 and "table file missing.json does not exist" in missing.stderr
    assert "did you mean jobs-local" in result.stderr


def test_tables_show_measure_gives_each_derivation_and_the_sources_it_cites() -> None:
    """A journalist's review: the measure's table named a source by its id alone, and no
    formula or input, so re-deriving a published figure meant opening the YAML file. Each
    value set is shown with its derivation and each cited source with licence and address;
    the figures shown multiply out to the value."""
    result = invoke("tables", "show", "uk-national:2025", "--measure", "env-carbon-saved")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    uk = next(x for x in lines if x.startswith("  uk: £315.42 = "))
    assert ("central_2020_prices * gdp_deflator_price_base / gdp_deflator_2020 with "
            "central_2020_prices = 260, gdp_deflator_price_base = 103.2388 "
            "(hmt-gdp-deflator-2026-03), gdp_deflator_2020 = 85.1002") in uk
    assert round(Decimal(260) * Decimal("103.2388") / Decimal("85.1002"), 2) == Decimal("315.42")
    assert any(x.startswith("    low £157.71 = low_2020_prices") for x in lines)
    table = sv.load_table("uk-national", version="2025")
    for sid in ("desnz-carbon-values", "hmt-gdp-deflator-2026-03"):
        src = table.sources[sid]
        assert f"  {sid}: {src.title}, {src.publisher}, {src.year}, {src.licence}, {src.url}" \
            in lines
    # A source whose figures were not checked says so beside it.
    scot = invoke("tables", "show", "uk-national:2023", "--measure", "jobs-local-fte").stdout
    said = next(x for x in scot.splitlines() if x.startswith("  nomis-ashe-scotland-2023: "))
    assert "[NOT CHECKED against the publication: " in said
    # Without --measure, no derivations (the header and the list of measures).
    assert "Derivations" not in invoke("tables", "show", "uk-national:2025").stdout


def test_tables_diff_when_value_changed_then_listed(tmp_path: Path) -> None:
    """diff shows changed proxies with old, new and percentage change."""
    index = TINY.with_name("tiny-deflator.index.yaml")
    _write(tmp_path, index.name, index.read_text(encoding="utf-8"))
    new = _write(tmp_path, "new.yaml", TINY.read_text(encoding="utf-8").replace(
        "uk: {value: 20000.00, low: 15000.00", "uk: {value: 22000.00, low: 15000.00"))
    result = invoke("tables", "diff", TINY, new)
    assert result.exit_code == 0, result.output
    assert re.search(r"changed\s*│\s*jobs-local\s*│\s*uk\s*│\s*£20,000\.00\s*│\s*£22,000\.00"
                     r"\s*│\s*\+10\.0%\s*│\s*value", result.stdout)
    same = invoke("tables", "diff", TINY, TINY)
    assert "no differences" in same.stdout


def test_tables_diff_across_price_bases_shows_the_real_change_and_says_how(
        tmp_path: Path) -> None:
    """A journalist's review: +5.3% on the UK wage proxy from 2024 to 2025 is in each
    edition's own prices; the real change (about 2%) is shown beside, and a note says which
    prices and index, and that the 2025/26 index value is a forecast."""
    result = invoke("tables", "diff", "uk-national:2024", "uk-national:2025")
    assert result.exit_code == 0, result.output
    assert "Real %" in result.stdout
    assert re.search(r"jobs-local-fte\s*│\s*uk\s*│\s*£37,856\.00\s*│\s*£39,863\.20\s*│"
                     r"\s*\+5\.3%\s*│\s*\+2\.0%\s*│", result.stdout)
    note = " ".join(result.stdout.split())
    assert ("Note: Old is in 2024/25 prices and New in 2025/26 prices, so Change % includes "
            "the inflation between them") in note
    assert "uk-gdp-deflator (x 0.9686" in note and "2025/26 is a forecast" in note
    # One price base: no Real % column, no note.
    new = _write(tmp_path, "new.yaml", TINY.read_text(encoding="utf-8").replace(
        "uk: {value: 20000.00, low: 15000.00", "uk: {value: 22000.00, low: 15000.00"))
    index = TINY.with_name("tiny-deflator.index.yaml")
    _write(tmp_path, index.name, index.read_text(encoding="utf-8"))
    same = invoke("tables", "diff", TINY, new)
    assert "Real %" not in same.stdout and "Note:" not in same.stdout


def test_tables_diff_output_writes_the_changes_to_csv_or_json(tmp_path: Path) -> None:
    """A journalist's review: the diff could only be read off the terminal. --output writes
    every column of diff_tables, as CSV or as JSON naming the two editions compared."""
    out = tmp_path / "d.csv"
    result = invoke("tables", "diff", "uk-national:2024", "uk-national:2025", "--output", out)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == DIFF_COLUMNS and len(rows) == 68
    fte = next(r for r in rows if (r["measure"], r["region"]) == ("jobs-local-fte", "uk"))
    assert (fte["old_value"], fte["new_value"]) == ("37856.0", "39863.2")
    assert (fte["old_source"], fte["new_source"]) == ("ons-ashe-2024", "ons-ashe-2025")
    assert float(fte["real_pct_change"]) == pytest.approx(
        (39863.2 * 100 / 103.2388 - 37856) / 37856 * 100)
    js = tmp_path / "d.json"
    assert invoke("tables", "diff", "uk-national:2024", "uk-national:2025", "-o",
                  js).exit_code == 0
    page = json.loads(js.read_text(encoding="utf-8"))
    assert page["old"] == {"table": "uk-national", "version": "2024",
                           "digest": sv.load_table("uk-national", version="2024").digest,
                           "price_base_year": 2024, "price_index": "uk-gdp-deflator"}
    assert page["new"]["price_base_year"] == 2025 and len(page["rows"]) == 68
    assert page["rows"][0]["change"] == "table" and page["rows"][0]["old_value"] is None
    # No differences: still written (a header, no rows), so a script can rely on the file.
    empty = tmp_path / "e.json"
    assert invoke("tables", "diff", TINY, TINY, "-o", empty).exit_code == 0
    assert json.loads(empty.read_text(encoding="utf-8"))["rows"] == []
    # A suffix it cannot write: exit 2 before any work, no file.
    bad = invoke("tables", "diff", TINY, TINY, "-o", tmp_path / "d.txt")
    assert bad.exit_code == 2 and "must be one of .csv, .json" in bad.stderr
    assert not (tmp_path / "d.txt").exists()


def test_tables_validate_when_valid_then_digest(tmp_path: Path) -> None:
    """validate prints the digest of a valid file and exits 0."""
    result = invoke("tables", "validate", TINY)
    assert result.exit_code == 0, result.output
    assert f"digest sha256:{sv.load_table(path=TINY).digest}" in result.stdout


def test_tables_validate_when_invalid_then_exit_1(tmp_path: Path) -> None:
    """An invalid table exits 1 and names the problem; a missing file exits 2."""
    bad = _write(tmp_path, "bad.yaml", TINY.read_text(encoding="utf-8").replace(
        "fallback_region: uk", "fallback_region: mars"))
    result = invoke("tables", "validate", bad)
    assert result.exit_code == 1
    assert "mars" in result.stderr
    assert invoke("tables", "validate", tmp_path / "none.yaml").exit_code == 2
    (tmp_path / "folder.yaml").mkdir()
    folder = invoke("tables", "validate", tmp_path / "folder.yaml")
    assert folder.exit_code == 2 and "is a folder, not a file" in folder.stderr


def test_tables_validate_lists_every_problem_of_a_file(tmp_path: Path) -> None:
    """A table-author review: a file with 29 problems printed the first and "(and 28 more)",
    so the author went round fix-and-rerun. validate lists each with its line and field, and
    a figure copied with its £ sign or as a percentage says how to write it."""
    text = TINY.read_text(encoding="utf-8")
    for old, new in (("value: 0.60, source", 'value: "£0.60", source'),
                     ("deadweight: 0.1", 'deadweight: "10%"'),
                     ("value: 15.00, source", 'value: "1,500", source')):
        assert old in text, old
        text = text.replace(old, new, 1)
    index = TINY.parent / "tiny-deflator.index.yaml"
    (tmp_path / index.name).write_bytes(index.read_bytes())
    bad = _write(tmp_path, "tiny.yaml", text)
    result = invoke("tables", "validate", bad)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if "field measures[" in line]
    assert len(lines) == 3 and f"{bad}: 3 problems:" in result.stderr, result.stderr
    numbers = [int(line.split(":")[1]) for line in lines]
    assert numbers == sorted(numbers)  # in the order of the file's lines
    # The reference as a command (a pip install has no docs/ folder).
    assert "[see: socialvalue-tom errors proxy-table-error]" in result.stderr
    assert "docs/errors.md" not in result.stderr
    assert any("write the number alone, 0.60 (no currency sign" in line for line in lines)
    assert any("deadweight is written as a fraction, 0.1 for 10%" in line for line in lines)
    assert any("write the number without a comma: 1500 if the comma separates thousands, "
               "1.500 if it is a decimal mark" in line for line in lines)
    with pytest.raises(sv.ProxyTableError) as info:  # the same in Python
        sv.load_table(path=bad)
    assert len(info.value.details["problems"]) == 3
    assert info.value.details["problem_count"] == 3
    assert "(and 2 more problem(s))" in str(info.value)


def test_value_with_a_folder_of_tables_uses_every_edition_in_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table-author review: --tables took no folder, so each edition file of one's own had
    to be listed. A folder gives every table file in it (not the *.index.yaml beside them)."""
    index = TINY.parent / "tiny-deflator.index.yaml"
    folder = tmp_path / "council"
    folder.mkdir()
    (folder / index.name).write_bytes(index.read_bytes())
    text = TINY.read_text(encoding="utf-8")
    (folder / "2024.yaml").write_text(text, encoding="utf-8")
    later = text
    for old, new in (('version: "2024"', 'version: "2025"'),
                     ("valid_from: 2024-04-01", "valid_from: 2025-04-01"),
                     ("valid_to: 2025-03-31", "valid_to: 2026-03-31")):
        assert old in later, old
        later = later.replace(old, new, 1)
    (folder / "2025.yaml").write_text(later, encoding="utf-8")
    rows = _write(tmp_path, "in.csv", "measure,quantity,unit,region,date\n"
                  "jobs-local,1,FTE,uk,2024-06-01\njobs-local,1,FTE,uk,2025-06-01\n")
    monkeypatch.chdir(tmp_path)
    with_comma = tmp_path / "my tablés, v2"  # a scripter's review: it was split at the comma
    shutil.copytree(folder, with_comma)
    for spec in (str(folder), "council", "council/", str(with_comma), "my tablés, v2/"):
        result = invoke("value", rows, "--tables", spec)
        assert result.exit_code == 0, (spec, result.output)
        assert "tiny:2024 digest" in result.stdout and "tiny:2025 digest" in result.stdout
    (folder / "other.yaml").write_text(text.replace("family: tiny", "family: other", 1),
                                       encoding="utf-8")
    mixed = invoke("value", rows, "--tables", str(folder))
    assert mixed.exit_code == 2 and "several families mixed" in mixed.stderr
    assert "other.yaml" in mixed.stderr.replace("\n", "")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / index.name).write_bytes(index.read_bytes())
    none = invoke("value", rows, "--tables", str(empty))
    assert none.exit_code == 2 and "holds no table files" in none.stderr


def test_template_when_filled_then_value_reads_it_back(tmp_path: Path) -> None:
    """Round trip: template -> rows filled with openpyxl -> value."""
    import datetime as dt

    import openpyxl

    path = tmp_path / "returns.xlsx"
    result = invoke("template", "--measures", "jobs-local,env-carbon", "-o", path,
                    "--tables", TINY)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["returns", "guidance"]
    ws = wb["returns"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["measure", "quantity", "unit", "region", "date"]
    lists = {str(dv.sqref).split(":")[0][0]: dv.formula1
             for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists["A"] == '"jobs-local,env-carbon"'
    assert lists["C"] == '"FTE,tCO2e,kgCO2e"'
    assert lists["D"] == '"uk,england,london,scotland"'
    ws.append(["jobs-local", 2, "FTE", "london", dt.date(2024, 5, 1), "c1", "acme"])
    ws.append(["env-carbon", 10, "tCO2e", "uk", dt.date(2024, 6, 1), "c1", "acme"])
    wb.save(path)
    valued = invoke("value", path, "--tables", TINY)
    assert valued.exit_code == 0, valued.output
    assert "£56,500.00" in valued.stdout  # 54,000 + 2,500


def test_template_without_measures_offers_every_measure_of_the_edition(tmp_path: Path) -> None:
    """A newcomer's review: `template` without --measures failed ("Missing option"); it now
    offers every measure of the edition the template is for."""
    import openpyxl

    path = tmp_path / "all.xlsx"
    result = invoke("template", "-o", path, "--tables", TINY)
    assert result.exit_code == 0, result.output
    codes = list(sv.load_table(path=TINY).measure_codes)
    assert f"Wrote template for all {len(codes)} measures of tiny:2024" in result.stdout
    ws = openpyxl.load_workbook(path)["returns"]
    [measure_list] = [dv.formula1 for dv in ws.data_validations.dataValidation
                      if str(dv.sqref).startswith("A")]
    assert measure_list == '"' + ",".join(codes) + '"'


def test_template_when_unknown_measure_then_exit_2(tmp_path: Path) -> None:
    """An unknown code is named; nothing is written."""
    path = tmp_path / "t.xlsx"
    result = invoke("template", "--measures", "jobs-local,bogus", "-o", path, "--tables", TINY)
    assert result.exit_code == 2
    assert "'bogus'" in result.stderr
    assert not path.exists()


@pytest.mark.parametrize("module", ["socialvalue_tom", "socialvalue_tom.cli"])
def test_python_dash_m_when_help_then_lists_commands(module: str) -> None:
    """`python -m socialvalue_tom --help` runs the same app; so does `-m socialvalue_tom.cli`,
    which did nothing and exited 0 (an analyst's script took it for success)."""
    proc = subprocess.run([sys.executable, "-m", module, "--help"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    for command in ("value", "report", "template", "tables"):
        assert command in proc.stdout


@pytest.mark.parametrize("encoding", ["ascii", "cp1251"])
def test_cli_when_stdout_cannot_print_the_pound_sign_writes_gbp(tmp_path: Path,
                                                                encoding: str) -> None:
    """Output redirected on a Windows set to a code page without '£' (cp1251, cp936), or an
    ASCII console: a UnicodeEncodeError traceback and no totals. Money is written 'GBP ',
    the table still lines up, and other characters it lacks are '?'."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    for args in (["value", str(src), "--by", "theme", "--tables", str(TINY)],
                 ["explain", str(src), "--row", "0", "--tables", str(TINY)],
                 ["tables", "show", "uk-national:2024"]):
        proc = subprocess.run([sys.executable, "-m", "socialvalue_tom", *args], env=env,
                              capture_output=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr.decode(encoding, "replace")
        out = proc.stdout.decode(encoding)
        assert "GBP " in out and "Traceback" not in out, out
    widths = {len(line) for line in out.splitlines() if line.startswith("|")}
    assert len(widths) == 1, out  # the table of `tables show` is laid out with 'GBP '


def test_cli_when_typer_missing_then_import_error_names_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the cli extra, importing the CLI says how to install it."""
    monkeypatch.setitem(sys.modules, "typer", None)
    monkeypatch.delitem(sys.modules, "socialvalue_tom.cli")
    with pytest.raises(ImportError, match=re.escape("pip install 'socialvalue_tom[cli]'")):
        importlib.import_module("socialvalue_tom.cli")


def test_command_when_typer_missing_then_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The socialvalue-tom entry point (and python -m socialvalue_tom) without the cli extra:
    one line naming the extra, exit 2 (a usage problem), no traceback."""
    from socialvalue_tom.__main__ import main as entry

    monkeypatch.setitem(sys.modules, "typer", None)
    monkeypatch.delitem(sys.modules, "socialvalue_tom.cli")
    with pytest.raises(SystemExit) as info:
        entry()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "pip install 'socialvalue_tom[cli]'" in err
    assert err.count("\n") == 1


def test_value_chunks_on_a_terminal_apply_exclusions_across_chunks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a progress bar the input is valued in chunks; a contract split across two chunks
    is still counted once, so the totals equal those printed without a terminal."""
    from socialvalue_tom import cli
    from socialvalue_tom.frame import value_frame

    df = pd.DataFrame({"measure": ["jobs-priority", "env-carbon", "env-carbon", "jobs-local"],
                       "quantity": [1.0, 1.0, 1.0, 2.0], "unit": ["FTE", "tCO2e", "tCO2e", "FTE"],
                       "region": ["uk"] * 4, "date": ["2024-05-01"] * 4,
                       "contract_id": ["C1", "C2", "C3", "C1"]})
    table = sv.load_table(path=TINY)
    whole = value_frame(df, table, errors="collect", detail=True)
    monkeypatch.setattr(cli, "PROGRESS_ROWS", 1)
    monkeypatch.setattr(cli, "_CHUNK", 2)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    chunked = cli._value_chunks(df, table, sv.Assumptions())
    assert list(chunked["value_gbp"]) == list(whole["value_gbp"])
    assert chunked["value_gbp"].iloc[3] == 18000.0  # 1 of the 2 FTE is the priority hire
    assert list(chunked.columns) == list(whole.columns)
    # What produced the values is the whole input's: its rows are every chunk's (the first
    # chunk's count was kept, so a provenance record said 2 rows of 4).
    from socialvalue_tom.io import provenance

    assert provenance(chunked) == provenance(whole)
    # No exclusion reducing anything: no claim_share or exclusion column, as without chunks.
    plain = df.assign(contract_id=["C1", "C2", "C3", "C4"])
    alone = value_frame(plain, table, errors="collect", detail=True)
    assert "claim_share" not in alone.columns
    assert list(cli._value_chunks(plain, table, sv.Assumptions()).columns) == list(
        alone.columns)


def test_value_and_report_never_overwrite_their_input(tmp_path: Path) -> None:
    """Writing the results over the supplier's file is refused (exit 2), the file untouched."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    same = invoke("value", src, "-o", src, "--tables", TINY)
    assert same.exit_code == 2 and "is the input file" in same.stderr
    link = tmp_path / "link.csv"
    link.hardlink_to(src)  # another name for the same file
    linked = invoke("value", src, "-o", link, "--tables", TINY)
    assert linked.exit_code == 2 and "is the input file" in linked.stderr
    report = invoke("report", src, "-o", src, "--tables", TINY)
    assert report.exit_code == 2 and "must be an .html file" in report.stderr
    assert src.read_text(encoding="utf-8") == PORTFOLIO


def test_template_does_not_replace_an_existing_workbook_unless_forced(tmp_path: Path) -> None:
    """A filled-in return is not overwritten by accident."""
    out = tmp_path / "returns.xlsx"
    out.write_bytes(b"filled in")
    refused = invoke("template", "--measures", "jobs-local", "-o", out, "--tables", TINY)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert out.read_bytes() == b"filled in"
    forced = invoke("template", "--measures", "jobs-local", "-o", out, "--tables", TINY, "--force")
    assert forced.exit_code == 0, forced.output
    assert out.read_bytes()[:2] == b"PK"  # an .xlsx (zip) now


def test_value_reports_the_real_line_of_a_bad_row_after_blank_lines(tmp_path: Path) -> None:
    """A blank line before a bad row: the printed line is the one an editor shows."""
    src = _write(tmp_path, "b.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,2,FTE,london,2024-05-01\n\n"
                 "jobs-local,-1,FTE,london,2024-05-01\n")
    result = invoke("value", src, "--tables", TINY, "--errors", "collect")
    assert result.exit_code == 1
    assert "row 1 (line 4)" in result.stderr
    issues = pd.read_csv(tmp_path / "b.issues.csv")
    assert list(issues["line"]) == [4]


# -- review fixes: extras, overwrites, messages ------------------------------------------------

def test_cli_when_optional_extra_missing_then_one_line_error_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without openpyxl, template says which extra to install; no traceback, exit 2."""
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl -> ImportError
    monkeypatch.setitem(sys.modules, "openpyxl.worksheet.datavalidation", None)
    result = invoke("template", "--measures", "jobs-local", "-o", tmp_path / "t.xlsx",
                    "--tables", TINY)
    assert result.exit_code == 2, result.output
    assert "socialvalue_tom[excel]" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "t.xlsx").exists()


def test_value_when_issues_file_would_be_the_input_then_refuses(tmp_path: Path) -> None:
    """`value ret.issues.csv -o ret.csv` would write the issues over the input: exit 2, the
    input untouched."""
    src = _write(tmp_path, "ret.issues.csv", BAD)
    result = invoke("value", src, "-o", tmp_path / "ret.csv", "--tables", TINY)
    assert result.exit_code == 2
    assert "would overwrite the input" in result.stderr
    assert src.read_text(encoding="utf-8") == BAD
    assert not (tmp_path / "ret.csv").exists()


def test_value_when_rerun_clean_then_old_issues_file_emptied(tmp_path: Path) -> None:
    """A fixed file valued again leaves no stale list of problems behind."""
    src = _write(tmp_path, "r.csv", BAD)
    assert invoke("value", src, "--tables", TINY).exit_code == 1
    listed = tmp_path / "r.issues.csv"
    assert len(pd.read_csv(listed)) == 2
    src.write_text(PORTFOLIO, encoding="utf-8")
    result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 0, result.output
    assert "emptied" in result.stderr
    emptied = pd.read_csv(listed)
    assert emptied.empty and list(emptied.columns) == ["row", "line", "field", "code", "reason"]


def test_value_when_issues_file_is_a_symlink_then_link_replaced_and_target_kept(
        tmp_path: Path) -> None:
    """A symbolic link named like the issues file is replaced by the issues file, never
    written through: the file it points to keeps its content, after a run with bad rows
    (which writes it) and after a clean run (which empties an issues file: the link is
    replaced where it points to one, and left alone where it points to another file)."""
    folder = tmp_path / "in"
    folder.mkdir()
    victim = _write(tmp_path, "victim.txt", "keep\n")
    listing = _write(tmp_path, "old.issues.csv", "row,line,field,code,reason\n0,2,unit,x,y\n")
    issues = folder / "returns.issues.csv"
    for text, target, code, listed in ((PORTFOLIO, listing, 0, 0), (BAD, victim, 1, 2),
                                       (PORTFOLIO, victim, 0, None)):
        kept = target.read_text(encoding="utf-8")
        src = _write(folder, "returns.csv", text)
        issues.unlink(missing_ok=True)
        issues.symlink_to(Path("..") / target.name)
        result = invoke("value", src, "--tables", TINY)
        assert result.exit_code == code, result.output
        assert target.read_text(encoding="utf-8") == kept
        if listed is None:  # not an issues file: not this command's to empty
            assert issues.is_symlink() and "emptied" not in result.output
            continue
        assert issues.is_file() and not issues.is_symlink()
        found = pd.read_csv(issues)
        assert len(found) == listed
        assert list(found.columns) == ["row", "line", "field", "code", "reason"]
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_value_when_clean_leaves_files_that_list_no_problems_alone(tmp_path: Path) -> None:
    """Valuations written as <stem>.issues.csv were cut to a header by the next clean run,
    and an issues file already emptied was 'emptied' again, with the message, every run."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    valuations = tmp_path / "p.issues.csv"
    assert invoke("value", src, "--tables", TINY, "-o", valuations).exit_code == 0
    written = valuations.read_text(encoding="utf-8")
    result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 0 and "emptied" not in result.output
    assert valuations.read_text(encoding="utf-8") == written
    valuations.write_text("row,line,field,code,reason\n", encoding="utf-8")  # already empty
    assert "emptied" not in invoke("value", src, "--tables", TINY).output


def test_printable_escapes_every_control_character() -> None:
    """C0 (tab, newline and carriage return included), DEL and C1 controls are shown as
    Python escapes; other text, non-ASCII letters included, is kept."""
    from socialvalue_tom.cli import _printable

    assert _printable("\x1b[2J\x1b[H") == "\\x1b[2J\\x1b[H"
    assert _printable("a\tb\nc\rd\x00\x7f\x85\x9b") == "a\\tb\\nc\\rd\\x00\\x7f\\x85\\x9b"
    assert _printable("Café £5 – ok") == "Café £5 – ok"
    # Invisible characters: "ACME" and "ACME\u200b" printed alike; U+202E reversed text.
    assert _printable("ACME\u200b EVIL\u202eDTL\ufeff") == "ACME\\u200b EVIL\\u202eDTL\\ufeff"


@pytest.mark.parametrize(("name", "text"), [
    ("hdr.csv", "measure,quantity,unit,region,date,da\x1b[2Jte,da\x1b[2Jte\n"
                "jobs-local,1,FTE,uk,2024-05-01,a,b\n"),
    ("key.yaml", None),
])
def test_errors_quoting_file_text_show_its_control_characters_escaped(
        tmp_path: Path, name: str, text: str | None) -> None:
    """Error messages quote column names and table keys as written: a repeated header that
    clears the screen, or a table key setting the window title, reached the terminal raw
    through `error: ...` (a security review)."""
    if text is None:
        text = TINY.read_text(encoding="utf-8").replace(
            "price_base_year: 2024", "price_base_year: 2024\n\"bad\\e]0;OWNED\\a\": 1", 1)
        index = TINY.with_name("tiny-deflator.index.yaml")
        _write(tmp_path, index.name, index.read_text(encoding="utf-8"))
        result = invoke("tables", "validate", _write(tmp_path, name, text))
    else:
        result = invoke("value", _write(tmp_path, name, text), "--tables", TINY)
    assert result.exit_code == (1 if name.endswith(".yaml") else 2)  # validate: invalid is 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b" in result.stderr


def test_value_when_supplier_ids_hold_terminal_escapes_then_shown_escaped(
        tmp_path: Path) -> None:
    """A supplier id that would clear the screen or make a hyperlink on the terminal is shown
    with its control characters escaped, never sent as they are."""
    clear, link = "\x1b[2J\x1b[H", "\x1b]8;;http://e/\x1b\\x"
    text = PORTFOLIO.replace(",acme,", f",{clear},").replace(",beta,", f",{link},")
    src = _write(tmp_path, "p.csv", text)
    result = invoke("value", src, "--tables", TINY, "--by", "supplier")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "\\x1b[2J\\x1b[H" in result.stdout
    assert "\\x1b]8;;http://e/\\x1b\\x" in result.stdout


def test_tables_show_when_titles_hold_terminal_escapes_then_shown_escaped(
        tmp_path: Path) -> None:
    """Escapes in a user table's title and a measure's title are shown escaped by
    `tables show` (header line and measures table) and `tables validate`."""
    text = TINY.read_text(encoding="utf-8").replace(
        "title: Tiny test table (illustrative values)",
        'title: "Tiny \\x1b[31mtable"').replace(
        "title: Local people employed (FTE)", 'title: "Local \\x1b[31mpeople\\x9b2J"')
    table = _write(tmp_path, "t.yaml", text)
    index = TINY.with_name("tiny-deflator.index.yaml")
    _write(tmp_path, index.name, index.read_text(encoding="utf-8"))
    assert "\x1b[31m" in sv.load_table(path=table).spec.title  # the escape reaches the CLI
    for args in (["show", table], ["show", table, "--measure", "jobs-local"],
                 ["validate", table]):
        result = invoke("tables", *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x9b" not in result.output
    shown = invoke("tables", "show", table).stdout
    assert "Tiny \\x1b[31mtable" in shown
    assert "Local \\x1b[31mpeople\\x9b2J" in shown


def test_value_when_tables_names_one_edition_then_uses_it(tmp_path: Path) -> None:
    """--tables NAME:VERSION values against that edition, as tables show/diff accept it."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,1,FTE,uk,2024-06-01\n")
    one = invoke("value", src, "--tables", "uk-national:2024")
    family = invoke("value", src, "--tables", "uk-national")
    assert one.exit_code == 0 == family.exit_code, one.output
    assert "uk-national:2024" in one.stdout and one.stdout == family.stdout
    outside = invoke("value", src, "--tables", "uk-national:2025")
    assert outside.exit_code == 1 and "no-table-in-force" in (
        tmp_path / "p.issues.csv").read_text(encoding="utf-8")
    for spec, words in (("uk-national:", "give the version"), ("uk-national:1999", "1999")):
        bad = invoke("value", src, "--tables", spec)
        assert bad.exit_code == 2 and words in bad.stderr, bad.output


@pytest.mark.parametrize("command", ["value", "report", "template"])
def test_cli_when_paths_are_folders_or_missing_then_says_so(tmp_path: Path,
                                                           command: str) -> None:
    """A folder as input, or an output in a missing folder: one clear line, exit 2."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    if command == "template":
        args: list[str | Path] = ["template", "--measures", "jobs-local"]
    else:
        args = [command, src]
        folder = invoke(command, tmp_path, "-o", tmp_path / "x.html", "--tables", TINY)
        assert folder.exit_code == 2 and "is a folder, not a file" in folder.stderr
    out = tmp_path / "nodir" / ("t.xlsx" if command == "template" else "r.html")
    result = invoke(*args, "-o", out, "--tables", TINY)
    assert result.exit_code == 2
    assert f"the folder {out.parent} does not exist" in result.stderr
    assert "Errno" not in result.stderr


def test_cli_help_when_80_columns_then_option_names_whole() -> None:
    """At a normal terminal width the option names are not cut short."""
    result = subprocess.run([sys.executable, "-m", "socialvalue_tom", "value", "--help"],
                            capture_output=True, text=True, env={"COLUMNS": "80", "PATH": ""},
                            check=True)
    for name in ("--discount-base-year", "--carry-forward", "--no-carry-forward",
                 "--price-year"):
        assert name in result.stdout
    assert "…" not in result.stdout


def test_value_when_contract_has_no_valued_row_then_ratio_is_a_dash(tmp_path: Path) -> None:
    """SV per £ with no valued contract (every row bad, or an empty return) is -, not nan."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date,contract_id,"
                 "contract_value\njobs-locl,2,FTE,london,2024-05-01,c1,1000\n"
                 "jobs-locl,1,FTE,uk,2024-05-01,c2,1000\n")
    result = invoke("value", src, "--tables", TINY, "--by", "contract", "--errors", "collect")
    assert result.exit_code == 1
    assert "nan" not in result.stdout
    assert re.search(r"Total\s*│.*│\s*–\s*│", result.stdout), result.stdout


def test_value_when_a_supplier_has_only_rejected_rows_then_listed_as_not_valued(
        tmp_path: Path) -> None:
    """--by supplier lists a supplier whose rows were all rejected, with a Not valued count;
    a row with an unknown measure has no theme and is shown under (none), never nan."""
    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("env-carbon-added,1", "env-carbon-added,-1")
                 .replace("social-volunteering,", "social-volunteerin,"))
    by_supplier = invoke("value", src, "--tables", TINY, "--by", "supplier", "--errors", "collect")
    assert by_supplier.exit_code == 1, by_supplier.output
    out = by_supplier.stdout
    assert "Not valued" in out
    assert re.search(r"beta\s*│\s*0\s*│\s*2\s*│\s*£0\.00\s*│\s*£0\.00\s*│\s*£0\.00", out), out
    assert re.search(r"Total\s*│\s*2\s*│\s*2\s*│", out), out
    by_theme = invoke("value", src, "--tables", TINY, "--by", "theme", "--errors", "collect")
    # The rejected env-carbon-added row counts under its theme; the unknown measure has none.
    assert re.search(r"\(none\)\s*│\s*0\s*│\s*1\s*│", by_theme.stdout), by_theme.stdout
    assert re.search(r"environment\s*│\s*\d+\s*│\s*1\s*│", by_theme.stdout), by_theme.stdout
    assert "nan" not in by_theme.stdout
    clean = invoke("value", _write(tmp_path, "ok.csv", PORTFOLIO), "--tables", TINY, "--by",
                   "supplier")
    assert clean.exit_code == 0 and "Not valued" not in clean.stdout


def test_value_when_by_stage_in_any_case_then_stages_apart(tmp_path: Path) -> None:
    """--by is case-insensitive and takes stage; totals of both stages print a note that says
    what they add, except when grouped by stage."""
    rows = PORTFOLIO.splitlines()
    text = "\n".join([rows[0] + ",stage"] + [r + ("," + ("commitment" if i == 1 else "delivered"))
                                              for i, r in enumerate(rows[1:], 1)]) + "\n"
    src = _write(tmp_path, "p.csv", text)
    result = invoke("value", src, "--tables", TINY, "--by", "STAGE")
    assert result.exit_code == 0, result.output
    assert re.search(r"commitment\s*│\s*1\s*│\s*£54,000\.00", result.stdout)
    assert re.search(r"delivered\s*│\s*3\s*│", result.stdout)
    assert "The total adds commitments" not in result.stdout
    by_theme = invoke("value", src, "--tables", TINY, "--by", "Theme")
    assert by_theme.exit_code == 0, by_theme.output
    assert ("Note: The total adds commitments (£54,000.00) and delivered outcomes (£3,700.00): "
            "use --by stage to see them apart.") in by_theme.stdout


def test_value_when_bad_rows_stop_the_run_then_an_old_output_is_removed(tmp_path: Path) -> None:
    """A stopped run leaves no earlier results under the output name, and says so; a clean
    run writes it."""
    out = tmp_path / "v.csv"
    assert invoke("value", _write(tmp_path, "p.csv", PORTFOLIO), "--tables", TINY,
                  "-o", out).exit_code == 0
    assert out.is_file()
    result = invoke("value", _write(tmp_path, "bad.csv", BAD), "--tables", TINY, "-o", out)
    assert result.exit_code == 1
    assert not out.exists()
    assert f"removed the existing {out}" in result.stderr


def test_value_when_xlsx_data_is_on_a_later_sheet_then_sheet_option(tmp_path: Path) -> None:
    """The first sheet is read by default; missing columns name it and the other sheets, and
    --sheet reads the one asked for (and applies to .xlsx only)."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Instructions"
    wb.active.append(["Fill in the returns sheet"])
    ws = wb.create_sheet("returns")
    for line in PORTFOLIO.splitlines():
        ws.append([float(c) if c.replace(".", "").isdigit() else c for c in line.split(",")])
    wb.save(path)
    first = invoke("value", path, "--tables", TINY)
    assert first.exit_code == 2
    assert ("sheet 'Instructions' of returns.xlsx is missing required column(s) measure, "
            "quantity, unit, region, date; the workbook's other sheets are 'returns': choose "
            "one with --sheet") in first.stderr
    chosen = invoke("value", path, "--tables", TINY, "--sheet", "returns")
    assert chosen.exit_code == 0, chosen.output
    assert re.search(r"│\s*4\s*│\s*£57,950\.00\s*│\s*-£250\.00\s*│\s*£57,700\.00", chosen.stdout)
    csv = invoke("value", _write(tmp_path, "p.csv", PORTFOLIO), "--sheet", "returns")
    assert csv.exit_code == 2 and "--sheet applies to .xlsx input only" in csv.stderr


def test_value_when_xlsx_headings_differ_by_case_names_the_columns_found(
        tmp_path: Path) -> None:
    """A newcomer's review: a workbook headed 'Measure', 'Contract ID' was told only which
    columns were missing (a CSV so headed was told what it held)."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    lines = PORTFOLIO.splitlines()
    wb.active.append([c.title().replace("_", " ") for c in lines[0].split(",")])
    for line in lines[1:]:
        wb.active.append(line.split(","))
    wb.save(path)
    result = invoke("value", path, "--tables", TINY)
    assert result.exit_code == 2
    assert ("of returns.xlsx is missing required column(s) measure, quantity, unit, region, "
            "date; found 'Measure' for measure, 'Quantity' for quantity, 'Unit' for unit, "
            "'Region' for region, 'Date' for date, 'Contract Id' for contract_id, 'Supplier "
            "Id' for supplier_id, 'Contract Value' for contract_value (column names are lower "
            "case, words joined by _: rename them)") in " ".join(result.stderr.split())


def test_value_when_a_file_has_a_column_twice_but_for_case_refuses_it(tmp_path: Path) -> None:
    """In a supplier's file, 'quantity' (1) and 'Quantity' (99) are two answers to one
    question: refused, naming both (value_frame only warns, for a cleaned DataFrame)."""
    text = ("measure,quantity,unit,region,date,Quantity\n"
            "jobs-local,1,FTE,uk,2024-05-01,99\n")
    result = invoke("value", _write(tmp_path, "twin.csv", text), "--tables", TINY)
    assert result.exit_code == 2
    assert ("twin.csv has columns of one name save for case, spaces, hyphens or underscores "
            "('quantity' and 'Quantity')") in result.stderr


def test_value_when_the_sheet_has_its_columns_but_for_case_offers_no_other_sheet(
        tmp_path: Path) -> None:
    """An analyst's review: headers 'Measure, Quantity, ...' on the right sheet were told to
    rename them and to choose another sheet; the sheet was right."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Instructions"
    ws = wb.create_sheet("2025")
    ws.append(["Measure", "Quantity", "Unit", "Region", "Date"])
    ws.append(["jobs-local", 1.0, "FTE", "uk", "2024-05-01"])
    wb.save(path)
    result = invoke("value", path, "--tables", TINY, "--sheet", "2025")
    assert result.exit_code == 2
    assert "found 'Measure' for measure" in result.stderr
    assert "--sheet" not in result.stderr and "other sheets" not in result.stderr
    # Read by default, a first sheet so headed still points to a sheet with the exact names.
    exact = wb.create_sheet("Data")
    exact.append(["measure", "quantity", "unit", "region", "date"])
    exact.append(["jobs-local", 1.0, "FTE", "uk", "2024-05-01"])
    del wb["Instructions"]
    wb.move_sheet("2025", offset=-1)
    wb.save(path)
    first = invoke("value", path, "--tables", TINY)
    assert first.exit_code == 2
    assert ("sheet(s) 'Data' have the columns as named: choose one with --sheet"
            in first.stderr), first.stderr


def test_value_when_sheet_option_then_issue_lines_are_rows_of_that_sheet(tmp_path: Path) -> None:
    """The issues file numbers bad rows by the sheet read, not by the workbook's first sheet
    (here ten rows of guidance): blank rows before the bad one are counted too."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Guidance"
    for i in range(10):
        wb.active.append([f"note {i}"])
    ws = wb.create_sheet("Returns")
    ws.append(["measure", "quantity", "unit", "region", "date"])
    for _ in range(5):
        ws.append([None] * 5)
    ws.append(["jobs-local", 2.0, "FTE", "uk", "2024-05-01"])
    ws.append(["jobs-local", -1.0, "FTE", "uk", "2024-05-01"])  # sheet row 8
    wb.save(path)
    result = invoke("value", path, "--tables", TINY, "--sheet", "Returns", "--errors", "collect")
    assert result.exit_code == 1, result.output
    issues = pd.read_csv(tmp_path / "returns.Returns.issues.csv")
    assert issues[["row", "line", "code"]].values.tolist() == [[1, 8, "negative"]]


def test_value_sheet_by_sheet_keeps_each_sheets_issues_and_names_the_sheet_read(
        tmp_path: Path) -> None:
    """An analyst's review: valuing a workbook sheet by sheet (as the command advises) wrote
    every sheet's problems to one <stem>.issues.csv, which a clean sheet's run then emptied;
    and the provenance record named neither the sheet nor the period columns, so two runs
    giving different totals had the same record. Each --sheet has its own issues file, and the
    record's input names the sheet read (the first, without --sheet) and --period."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "2024"
    wb.active.append(["measure", "quantity", "unit", "region", "date"])
    wb.active.append(["jobs-local", 1.0, "FTE", "uk", "2024-05-01"])
    bad = wb.create_sheet("Q2 returns")
    bad.append(["measure", "quantity", "unit", "region", "date", "period_start", "period_end"])
    bad.append(["jobs-local", "x", "FTE", "uk", "2024-05-01", "2024-04-01", "2025-03-31"])
    bad.append(["jobs-local", 5.0, "FTE", "uk", "2024-05-01", "2024-04-01", "2025-03-31"])
    wb.save(path)
    q2 = invoke("value", path, "--tables", TINY, "--sheet", "Q2 returns", "--errors", "collect",
                "--provenance", tmp_path / "q2.json")
    assert q2.exit_code == 1, q2.output
    listed = tmp_path / "returns.Q2 returns.issues.csv"
    assert pd.read_csv(listed)[["row", "field"]].values.tolist() == [[0, "quantity"]]
    clean = invoke("value", path, "--tables", TINY, "--sheet", "2024",
                   "--provenance", tmp_path / "a.json")
    assert clean.exit_code == 0, clean.output
    assert len(pd.read_csv(listed)) == 1  # the other sheet's list is left as it was
    # Names that read alike once made file names ('Q1+Q2', 'Q1&Q2') keep files of their own.
    from socialvalue_tom.cli import _issues_path

    alike = {_issues_path(path, None, n).name for n in ("Q1+Q2", "Q1&Q2", "Q1_Q2", "Data.",
                                                        "Data", "", "?")}
    assert len(alike) == 7 and "returns.Q1_Q2.issues.csv" in alike
    assert not (tmp_path / "returns.issues.csv").exists()
    first = invoke("value", path, "--tables", TINY, "--provenance", tmp_path / "b.json")
    periods = invoke("value", path, "--tables", TINY, "--sheet", "Q2 returns", "--errors",
                     "collect", "--period", "period_start,period_end",
                     "--provenance", tmp_path / "c.json")
    assert first.exit_code == 0 and periods.exit_code == 1, periods.output
    inputs = {name: json.loads((tmp_path / f"{name}.json").read_text())["input"]
              for name in ("q2", "a", "b", "c")}
    digest = inputs["a"].split(", ")[0]
    assert digest.startswith("returns.xlsx (sha256 ")
    assert inputs == {"q2": f"{digest}, sheet 'Q2 returns'", "a": f"{digest}, sheet '2024'",
                      "b": f"{digest}, sheet '2024'",
                      "c": f"{digest}, sheet 'Q2 returns', rows apportioned over their "
                           "periods (period_start to period_end)"}


def test_value_when_ids_look_like_markup_then_they_are_printed_as_written(
        tmp_path: Path) -> None:
    """Supplier ids are text: '[red]ACME' is not coloured, '[/x]' does not crash the table."""
    text = "measure,quantity,unit,region,date,supplier_id\n" + "".join(
        f"jobs-local,1,FTE,uk,2024-05-01,{s}\n" for s in ("[red]ACME", "[x]", "[/x]"))
    result = invoke("value", _write(tmp_path, "m.csv", text), "--tables", TINY, "--by",
                    "supplier")
    assert result.exit_code == 0, result.output
    for shown in ("[red]ACME", "[x]", "[/x]"):
        assert re.search(rf"│ {re.escape(shown)}\s+│\s+1 │", result.stdout), shown


def test_value_when_a_contract_has_two_values_then_nothing_is_written(tmp_path: Path) -> None:
    text = ("measure,quantity,unit,region,date,contract_id,contract_value\n"
            "jobs-local,1,FTE,uk,2024-05-01,c1,100000\n"
            "jobs-local,1,FTE,uk,2024-05-01,c1,10000\n")
    out = tmp_path / "valued.csv"
    result = invoke("value", _write(tmp_path, "cv.csv", text), "--tables", TINY, "-o", out)
    assert result.exit_code == 2
    assert ("cv.csv: contract 'c1' has more than one contract_value (100,000 at line 2, "
            "10,000 at line 3)" in result.stderr)
    # An extension raising the value is the usual cause (a contract manager's review).
    assert ("give each contract one value, its whole-life value (an extension's included)"
            in " ".join(result.stderr.split()))
    assert not out.exists()
    # An earlier run's OUT is removed, not left to be taken for this input's results.
    out.write_text("old results\n", encoding="utf-8")
    again = invoke("value", _write(tmp_path, "cv.csv", text), "--tables", TINY, "-o", out)
    assert again.exit_code == 2
    assert not out.exists() and f"removed the existing {out}" in again.stderr


def test_value_when_a_contract_has_two_values_still_lists_the_rows_own_problems(
        tmp_path: Path) -> None:
    """An analyst's review: the run stopped on the two values, and the bad quantity beside
    them (--errors collect) was listed nowhere; values agreeing to the penny were two values.
    The rows' problems are listed as ever; a part of a period names its input line; a penny's
    float difference is one value."""
    text = ("measure,quantity,unit,region,date,contract_id,contract_value\n"
            "jobs-local,1,FTE,uk,2024-05-01,c1,100000\n"
            "\n"
            "jobs-local,x,FTE,uk,2024-05-01,c1,120000.5\n")
    src = _write(tmp_path, "cv.csv", text)
    result = invoke("value", src, "--tables", TINY, "--errors", "collect")
    assert result.exit_code == 2
    assert "(100,000 at line 2, 120,000.5 at line 4)" in result.stderr
    listed = pd.read_csv(tmp_path / "cv.issues.csv")
    assert listed[["row", "line", "field"]].values.tolist() == [[1, 4, "quantity"]]
    periods = ("measure,quantity,unit,region,period_start,period_end,contract_id,"
               "contract_value\n"
               "jobs-local,1,FTE,uk,2024-06-01,2025-01-31,c1,100000\n"
               "jobs-local,1,FTE,uk,2024-05-01,2024-05-31,c1,90000\n")
    parts = invoke("value", _write(tmp_path, "p.csv", periods), "--tables", TINY,
                   "--period", "period_start,period_end")
    assert parts.exit_code == 2 and "(100,000 at line 2, 90,000 at line 3)" in parts.stderr
    near = text.replace("\n\n", "\n").replace("x,FTE", "1,FTE").replace("120000.5",
                                                                          "100000.004")
    alike = invoke("value", _write(tmp_path, "n.csv", near), "--tables", TINY, "--by",
                   "contract")
    assert alike.exit_code == 0, alike.output
    # Within half a penny, either side of a rounding boundary, is one value (a review of the
    # first fix: 1000.015 and 1000.01 were refused as '1,000.01 at line 2, 1,000.01 at line
    # 3'); a fourth value is marked, and a workbook's rows are named by the sheet read.
    values = ["1000.015", "1000.01", "1000.014999"]
    both = "".join(f"jobs-local,1,FTE,uk,2024-05-01,c1,{v}\n" for v in values)
    head = "measure,quantity,unit,region,date,contract_id,contract_value\n"
    assert invoke("value", _write(tmp_path, "h.csv", head + both), "--tables", TINY
                  ).exit_code == 0
    four = "".join(f"jobs-local,1,FTE,uk,2024-05-01,c1,{v}\n"
                   for v in (100000, 200000, 300000, 400000, 100000.001))
    many = invoke("value", _write(tmp_path, "f.csv", head + four), "--tables", TINY)
    assert ("(100,000 at line 2, 200,000 at line 3, 300,000 at line 4, ...)"
            in many.stderr)
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "Q1+Q2"
    for line in (head + four).splitlines():
        wb.active.append(line.split(","))
    wb.save(tmp_path / "f.xlsx")
    sheet = invoke("value", tmp_path / "f.xlsx", "--tables", TINY, "--sheet", "Q1+Q2")
    assert "(100,000 at sheet 'Q1+Q2' row 2, 200,000 at sheet 'Q1+Q2' row 3" in sheet.stderr


def test_version_option_prints_the_package_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"socialvalue-tom {sv.__version__}"


def test_value_when_dated_past_every_edition_then_row_says_carry_forward(tmp_path: Path) -> None:
    """As the scalar error: a date after the last edition names carry_forward, one before the
    first does not; with --carry-forward the row is valued and a note counts it."""
    text = "measure,quantity,unit,region,date\njobs-local,1,FTE,uk,2025-06-01\n" \
           "jobs-local,1,FTE,uk,2020-06-01\n"
    src = _write(tmp_path, "late.csv", text)
    result = invoke("value", src, "--tables", TINY)
    lines = [x for x in result.stderr.splitlines() if "no edition of tiny" in x]
    assert len(lines) == 2
    assert lines[0].endswith("(--carry-forward would use the latest)")  # the CLI's own flag
    assert "carry" not in lines[1]
    issues = pd.read_csv(tmp_path / "late.issues.csv")
    assert issues["reason"].str.contains("--carry-forward would use").tolist() == [True, False]
    carried = invoke("value", src, "--tables", TINY, "--carry-forward", "--errors", "collect")
    assert carried.exit_code == 1  # the 2020 row is still bad
    assert ("Note: 1 row(s) dated after their edition's valid_to were valued with it carried "
            "forward (--carry-forward): check for a newer edition.") in carried.stdout


@pytest.mark.parametrize("name", ["notes.txt", "tiny-copy.yaml"])
def test_value_when_output_is_not_a_results_file_refused_before_anything_is_touched(
        tmp_path: Path, name: str) -> None:
    """An output of another kind (a note, a table file) is refused before valuing (exit 2),
    and is left as it was even when the input has bad rows."""
    out = tmp_path / name
    out.write_text("precious", encoding="utf-8")
    result = invoke("value", _write(tmp_path, "bad.csv", BAD), "--tables", TINY, "-o", out)
    assert result.exit_code == 2
    assert "the output must be one of .csv, .xlsx, .parquet" in result.stderr
    assert out.read_text(encoding="utf-8") == "precious"


def test_value_when_stage_has_spaces_then_one_group_per_stage(tmp_path: Path) -> None:
    """--by stage groups stages as value_frame reads them (surrounding spaces stripped)."""
    rows = PORTFOLIO.splitlines()
    stages = ["delivered", " delivered", "commitment ", "delivered"]
    text = "\n".join([rows[0] + ",stage"] + [f"{r},{st}" for r, st in zip(rows[1:], stages,
                                                                           strict=True)])
    result = invoke("value", _write(tmp_path, "p.csv", text + "\n"), "--tables", TINY,
                    "--by", "stage")
    assert result.exit_code == 0, result.output
    groups = re.findall(r"^│ (\S+)\s*│\s*(\d+) │", result.stdout, flags=re.M)
    assert groups == [("commitment", "1"), ("delivered", "3"), ("Total", "4")]


PERIODS = """contract_id,measure,quantity,unit,region,period_start,period_end
C1,jobs-local-fte,12,FTE,england,2024-01-01,2024-12-31
C1,jobs-local-fte,x,FTE,england,2024-01-01,2024-12-31
C2,env-carbon-saved,10,tCO2e,wales,2024-05-01,2024-04-01
"""


def test_value_when_period_then_rows_are_split_and_issues_name_input_lines(
        tmp_path: Path) -> None:
    """--period splits a period crossing 1 April by days; the issues file numbers problems by
    the input's rows and lines (a bad row split in two is reported once)."""
    src = _write(tmp_path, "p.csv", PERIODS)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--period", "period_start, period_end", "--errors", "collect",
                    "-o", out)
    assert result.exit_code == 1, result.output
    valued = pd.read_csv(out)
    # every input row is in the output: row 2's period cannot be read, so it has no figures
    assert valued["period_row"].tolist() == [0, 0, 1, 2]
    assert valued["contract_id"].tolist()[3] == "C2"
    assert valued["value_gbp"].isna().tolist()[2:] == [True, True]
    assert valued["version"].tolist()[:2] == [2023, 2024]
    shared = valued["quantity"].iloc[:2].astype(float).tolist()  # text column: row 1 is 'x'
    assert shared == pytest.approx([12 * 91 / 366, 12 * 275 / 366], rel=1e-15)
    issues = pd.read_csv(tmp_path / "valued.issues.csv")
    assert issues[["row", "line", "field", "code"]].values.tolist() == [
        [1, 3, "quantity", "not-a-number"], [2, 4, "period_end", "bad-period"]]
    expected = sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[0]]))["value_gbp"].sum()
    assert f"£{expected:,.2f}" in result.output


def test_value_when_period_is_malformed_or_names_missing_columns_then_exit_2(
        tmp_path: Path) -> None:
    src = _write(tmp_path, "p.csv", PERIODS)
    assert "two column names" in invoke("value", src, "--period", "period_start").output
    assert "two column names" in invoke("value", src, "--period", "a,b,c").output
    missing = invoke("value", src, "--period", "from,to")
    assert missing.exit_code == 2 and "missing column(s) from, to" in missing.output


def test_value_when_period_rows_are_bad_and_errors_raise_then_nothing_written(
        tmp_path: Path) -> None:
    src = _write(tmp_path, "p.csv", PERIODS)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--period", "period_start,period_end", "-o", out)
    assert result.exit_code == 1 and not out.exists()
    assert "period_end 2024-04-01 is before period_start 2024-05-01" in result.output


def test_report_when_period_then_the_report_values_the_parts(tmp_path: Path) -> None:
    src = _write(tmp_path, "p.csv", PERIODS.splitlines()[0] + "\n" + PERIODS.splitlines()[1])
    out = tmp_path / "r.html"
    result = invoke("report", src, "--period", "period_start,period_end", "-o", out)
    assert result.exit_code == 0, result.output
    expected = sv.value_frame(sv.apportion(pd.read_csv(src)))["value_gbp"].sum()
    assert f"£{expected:,.2f}" in out.read_text(encoding="utf-8")


def test_value_when_period_row_is_bad_in_part_then_it_is_listed_once_and_adds_nothing(
        tmp_path: Path) -> None:
    """A row whose period runs outside every edition has bad parts and good ones: it is one
    issue, and none of its parts counts in the totals (as a bad row without --period)."""
    text = ("measure,quantity,unit,region,period_start,period_end\n"
            "jobs-local-fte,12,FTE,uk,2022-01-01,2026-12-31\n"
            "jobs-local-fte,-12,FTE,uk,2024-01-01,2024-12-31\n"
            "jobs-local-fte,1,FTE,uk,2024-05-01,2024-05-31\n")
    src = _write(tmp_path, "p.csv", text)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--period", "period_start,period_end", "--errors", "collect",
                    "-o", out)
    assert result.exit_code == 1, result.output
    issues = pd.read_csv(tmp_path / "valued.issues.csv")
    assert issues[["row", "code"]].values.tolist() == [[0, "no-table-in-force"],
                                                      [1, "negative"]]
    assert issues["reason"].iloc[1].startswith("quantity -12 is negative:")  # as given
    valued = pd.read_csv(out)
    assert valued.loc[valued["period_row"] == 0, "value_gbp"].isna().all()
    good = sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[2]]))["value_gbp"].sum()
    assert valued["value_gbp"].sum() == good
    assert f"£{good:,.2f}" in result.output


def test_value_when_period_row_is_bad_in_part_then_its_good_parts_exclude_nothing(
        tmp_path: Path) -> None:
    """A bad row's good parts take no part in its contract's double-counting exclusions: the
    other row is valued as if the bad row were not in the file."""
    text = ("measure,quantity,unit,region,period_start,period_end,contract_id\n"
            "jobs-priority-ltu,10,FTE,uk,2024-01-01,2026-12-31,C1\n"
            "jobs-local-fte,10,FTE,uk,2024-04-01,2025-03-31,C1\n")
    src = _write(tmp_path, "p.csv", text)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--period", "period_start,period_end", "--errors", "collect",
                    "-o", out)
    assert result.exit_code == 1, result.output
    valued = pd.read_csv(out)
    assert valued["period_row"].tolist() == [0, 0, 0, 0, 1]
    assert valued.loc[valued["period_row"] == 0, "value_gbp"].isna().all()
    alone = sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[1]]))
    assert valued["value_gbp"].iloc[4] == alone["value_gbp"].iloc[0]
    with_bad = sv.value_frame(sv.apportion(pd.read_csv(src)), errors="collect")
    assert alone["value_gbp"].iloc[0] > with_bad["value_gbp"].iloc[4]  # the case is live
    assert f"£{alone['value_gbp'].sum():,.2f}" in result.output


PERIOD_PAIR = ("measure,quantity,unit,region,period_start,period_end,contract_id\n"
               "jobs-local,{local},FTE,uk,2024-06-01,2024-12-31,C1\n"
               "jobs-priority,{priority},FTE,uk,2024-01-01,2024-12-31,C1\n")


def test_value_when_period_row_is_bad_in_part_then_its_good_parts_reject_nothing(
        tmp_path: Path) -> None:
    """With a 'reject' exclusion, the good part of a bad row does not get the whole rejected:
    row 1 (January to March outside every edition of tiny) adds nothing, so row 0 is valued
    as it is without row 1."""
    table = tiny_variant(tmp_path / "variant", ("mode: count_once", "mode: reject"))
    src = _write(tmp_path, "p.csv", PERIOD_PAIR.format(local=10, priority=2))
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--tables", table, "--period", "period_start,period_end",
                    "--errors", "collect", "-o", out)
    assert result.exit_code == 1, result.output
    issues = pd.read_csv(tmp_path / "valued.issues.csv")
    assert issues[["row", "code"]].values.tolist() == [[1, "no-table-in-force"]]
    valued = pd.read_csv(out)
    tiny = sv.load_table(path=table)
    alone = sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[0]], tiny), tiny)
    assert valued["value_gbp"].iloc[0] == alone["value_gbp"].iloc[0] == 180_000.0
    assert valued.loc[valued["period_row"] == 1, "value_gbp"].isna().all()
    assert valued["contract_id"].tolist() == ["C1"] * 3  # the key column as given
    both = sv.value_frame(sv.apportion(pd.read_csv(src), tiny), tiny, errors="collect")
    assert both.attrs["issues"]["code"].tolist()[0] == "double-counting"  # the case is live


def test_value_when_period_rows_interact_then_problems_found_together_are_reported(
        tmp_path: Path) -> None:
    """A problem that only shows when the good rows are valued together (here an expression
    that turns negative) is an issue of its row, not a crash, and the other rows stand."""
    # 8 FTE of local jobs alone is worth proxy x 3; counted once with 5 priority hires it
    # would be proxy x (3 - 5), which the engine refuses.
    table = tiny_variant(tmp_path / "variant", (
        "    deadweight: 0.1\n", "    deadweight: 0.1\n    expression: proxy * (quantity - 5)\n"))
    text = PERIOD_PAIR.format(local=8, priority=5).replace("2024-01-01", "2024-06-01")
    text += "jobs-local,1,FTE,uk,2024-01-01,2024-12-31,C2\n"  # partly outside every edition
    src = _write(tmp_path, "p.csv", text)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--tables", table, "--period", "period_start,period_end",
                    "--errors", "collect", "-o", out)
    assert result.exit_code == 1, result.output
    issues = pd.read_csv(tmp_path / "valued.issues.csv")
    # Row 2: its first part has no edition, and its second is as negative as row 0's pair
    # (0.75 FTE - 5): each field's problem, in the part that shows it.
    assert issues[["row", "field", "code"]].values.tolist() == [
        [0, "measure", "negative-gross"], [2, "date", "no-table-in-force"],
        [2, "measure", "negative-gross"]]
    valued = pd.read_csv(out)
    assert valued["period_row"].tolist() == [0, 1, 2, 2]
    tiny = sv.load_table(path=table)
    alone = sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[1]], tiny), tiny)
    assert valued["value_gbp"].iloc[1] == alone["value_gbp"].iloc[0] > 0
    assert valued["value_gbp"].drop(index=1).isna().all()
    assert sv.value_frame(sv.apportion(pd.read_csv(src).iloc[[0]], tiny), tiny)[
        "value_gbp"].iloc[0] > 0  # row 0 alone is fine: the problem is the pair's


def test_value_when_a_row_is_bad_on_its_own_then_a_bad_row_s_parts_do_not_hide_it(
        tmp_path: Path) -> None:
    """40 FTE is beyond what this expression values (30 - quantity < 0): row 0 is bad on its
    own, even though counted once with row 1's good part it would pass; row 1 is bad too."""
    table = tiny_variant(tmp_path / "variant", (
        "    deadweight: 0.1\n", "    deadweight: 0.1\n    expression: proxy * (30 - quantity)\n"))
    src = _write(tmp_path, "p.csv", PERIOD_PAIR.format(local=40, priority=20))
    result = invoke("value", src, "--tables", table, "--period", "period_start,period_end",
                    "--errors", "collect")
    assert result.exit_code == 1, result.output
    issues = pd.read_csv(tmp_path / "p.issues.csv")
    assert issues[["row", "code"]].values.tolist() == [[0, "negative-gross"],
                                                      [1, "no-table-in-force"]]
    assert "£0.00" in result.output


def test_value_when_period_and_exclusion_keyed_on_a_valued_column_then_rows_are_valued(
        tmp_path: Path) -> None:
    """An exclusion keyed on region (a column the valuation reads) groups the rows as without
    --period; checking each part on its own does not touch the row's cells."""
    table = tiny_variant(tmp_path / "variant", (
        "    mode: count_once\n", "    mode: count_once\n    key: [contract_id, region]\n"))
    text = PERIOD_PAIR.format(local=10, priority=2).replace("2024-01-01", "2024-06-01")
    src = _write(tmp_path, "p.csv", text)
    out = tmp_path / "valued.csv"
    result = invoke("value", src, "--tables", table, "--period", "period_start,period_end",
                    "-o", out)
    assert result.exit_code == 0, result.output
    tiny = sv.load_table(path=table)
    expected = sv.value_frame(sv.apportion(pd.read_csv(src), tiny), tiny)
    assert pd.read_csv(out)["value_gbp"].tolist() == expected["value_gbp"].tolist()
    assert expected["claim_share"].iloc[0] < 1  # the exclusion applies: the case is live


def test_value_when_period_row_is_bad_then_its_parts_carry_no_edition(tmp_path: Path) -> None:
    """As value_frame leaves a bad row: no figures, no edition, so "Editions used" lists only
    the editions that valued something."""
    text = ("measure,quantity,unit,region,period_start,period_end\n"
            "jobs-local-fte,1,FTE,uk,2024-06-01,2024-06-30\n"
            "jobs-local-fte,1,FTE,mars,2023-06-01,2025-06-30\n")
    out = tmp_path / "valued.csv"
    result = invoke("value", _write(tmp_path, "p.csv", text), "--period",
                    "period_start,period_end", "--errors", "collect", "-o", out)
    assert result.exit_code == 1
    valued = pd.read_csv(out)
    bad = valued[valued["period_row"] == 1]
    assert len(bad) == 3 and bad[["value_gbp", "table", "version", "digest"]].isna().all().all()
    assert "uk-national:2024" in result.stdout
    assert "uk-national:2023" not in result.stdout and "uk-national:2025" not in result.stdout


def test_value_when_period_then_an_xlsx_input_needs_no_date_column(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    src = tmp_path / "p.xlsx"
    pd.read_csv(io.StringIO(PERIODS)).iloc[[0]].to_excel(src, index=False)
    result = invoke("value", src, "--period", "period_start,period_end")
    assert result.exit_code == 0, result.output
    assert "value it with --period" in invoke("value", src).output


def _issues_with_periods(tmp_path: Path, text: str) -> pd.DataFrame:
    """The issues file of ``value --period --errors collect`` on ``text`` (which has some)."""
    src = _write(tmp_path, "p.csv", text)
    result = invoke("value", src, "--tables", TINY, "--period", "period_start,period_end",
                    "--errors", "collect")
    assert result.exit_code == 1, result.output
    return pd.read_csv(tmp_path / "p.issues.csv")


def test_value_when_period_parts_have_several_problems_then_each_field_names_its_part(
        tmp_path: Path) -> None:
    issues = _issues_with_periods(tmp_path, (
        "measure,quantity,unit,region,level,period_start,period_end\n"
        "jobs-apprentice,800,week,uk,3,2024-04-01,2025-06-30\n"))
    # Each field's problem once, in the part that shows it: the bound in the first part, the
    # days no edition covers in the second.
    assert issues[["field", "code"]].values.tolist() == [["date", "no-table-in-force"],
                                                         ["quantity", "out-of-bounds"]]
    assert issues["reason"].iloc[1].endswith(
        "(in the part 2024-04-01 to 2025-03-31 of the row's period, share 0.800439)")
    assert issues["reason"].iloc[0].endswith("of the row's period, share 0.199561)")


def test_value_with_periods_tells_each_problem_of_a_row_s_cells(tmp_path: Path) -> None:
    """A multi-issue review: with --period the issues file kept one issue per input row,
    where value_frame on the same parts tells each cell's problem."""
    issues = _issues_with_periods(tmp_path, (
        "measure,quantity,unit,region,stage,period_start,period_end\n"
        "jobs-local,x,FTE,narnia,Delivered,2024-04-01,2025-03-31\n"
        "jobs-local,1,FTE,uk,delivered,2024-04-01,2025-03-31\n"))
    assert issues[["row", "field", "code"]].values.tolist() == [
        [0, "quantity", "not-a-number"], [0, "region", "unknown-region"],
        [0, "stage", "bad-stage"]]


def test_value_when_period_columns_without_period_option_then_says_how(tmp_path: Path) -> None:
    """Period columns are not used without --period: with no date column the command stops
    and names the option (CSV and .xlsx alike); with one, it notes the rows are valued at it."""
    undated = _write(tmp_path, "p.csv", PERIODS)
    result = invoke("value", undated)
    assert result.exit_code == 2 and "--period period_start,period_end" in result.output
    pytest.importorskip("openpyxl")
    book = tmp_path / "p.xlsx"
    pd.read_csv(undated).to_excel(book, index=False)
    result = invoke("value", book)
    assert result.exit_code == 2 and "--period period_start,period_end" in result.output
    dated = _write(tmp_path, "q.csv", "measure,quantity,unit,region,date,period_start,period_end\n"
                   "jobs-local-fte,1,FTE,uk,2024-06-01,2024-01-01,2024-12-31\n")
    result = invoke("value", dated)
    assert result.exit_code == 0 and "each row was valued whole at its date" in " ".join(
        result.output.split())
    assert "SocialValueWarning" not in result.output  # the note says it, once


def test_value_when_issues_file_cannot_be_written_then_exit_2_after_showing_problems(
        tmp_path: Path) -> None:
    """A folder where the issues file would go: the problems are still shown, then a plain
    error and exit 2 (it was a traceback, and exit 1 read as "bad rows")."""
    src = _write(tmp_path, "p.csv", BAD)
    (tmp_path / "p.issues.csv").mkdir()
    result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 2, result.output
    assert "cannot write the issues file" in result.stderr and "folder" in result.stderr
    out = tmp_path / "v.csv"
    (tmp_path / "v.issues.csv").mkdir()
    collected = invoke("value", src, "--tables", TINY, "-o", out, "--errors", "collect")
    assert collected.exit_code == 2 and not out.exists(), collected.output  # refused first
    assert "Traceback" not in result.output + collected.output


def test_value_when_input_name_is_long_then_issues_file_still_written(tmp_path: Path) -> None:
    """An input name near the file system's limit (255 bytes): the issues file's temporary
    name stays short. It was the issues file's name plus 39 characters, past the limit, so
    the problems could not be written at all."""
    src = _write(tmp_path, "p" * 236 + ".csv", BAD)
    result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 1, result.output
    issues = tmp_path / ("p" * 236 + ".issues.csv")
    assert "jobs-locl" in issues.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, issues.name])


def test_report_issues_when_the_write_fails_then_problems_shown_and_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails anyway (no permission, disk full) is a plain error after the
    problems are shown, never a traceback."""
    src = _write(tmp_path, "p.csv", BAD)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 2, result.output
    assert "unknown measure 'jobs-locl'" in result.stderr
    assert "cannot write the issues file" in result.stderr and "Permission denied" in result.stderr


def test_cli_tables_when_terminal_is_narrow_then_figures_whole_and_nothing_cut() -> None:
    """On a narrow terminal amounts are printed whole on one line (an ellipsis in a figure is
    a wrong number) and long labels wrap rather than being cut with '…'."""
    from rich.console import Console

    from socialvalue_tom.cli import _table

    table = _table("Social value by supplier")
    table.add_column("supplier_id")
    for c in ("Rows", "Net"):
        table.add_column(c, justify="right")
    label = "S-" + "VERYLONG" * 12
    table.add_row(label, "60000", "£3,570,670,027.12")
    console = Console(file=io.StringIO(), width=40, highlight=False)
    console.print(table)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "£3,570,670,027.12" in shown and "60000" in shown
    assert "…" not in shown
    assert shown.count("Y") == 12  # every letter of the label is shown, over several lines


def test_value_when_a_period_cannot_be_read_then_its_row_counts_as_not_valued(
        tmp_path: Path) -> None:
    """--by contract lists a contract whose only row has an end before its start (apportion
    cannot split it), with its row not valued, as without --period; the Total counts it."""
    src = _write(tmp_path, "p.csv", PERIODS)
    result = invoke("value", src, "--period", "period_start,period_end", "--errors", "collect",
                    "--by", "contract")
    assert result.exit_code == 1, result.output
    assert re.search(r"C2\s*│\s*0\s*│\s*1\s*│\s*£0\.00", result.stdout), result.stdout
    assert re.search(r"Total\s*│\s*2\s*│\s*2\s*│", result.stdout), result.stdout


def test_value_when_input_has_no_data_rows_then_a_note_says_so(tmp_path: Path) -> None:
    """A header-only file (an unfilled template) totals £0.00, exit 0, and says it had no rows;
    a file with rows does not get the note."""
    empty = invoke("value", _write(tmp_path, "h.csv", "measure,quantity,unit,region,date\n"),
                   "--tables", TINY)
    assert empty.exit_code == 0, empty.output
    assert "Note: the input has no data rows, so nothing was valued." in empty.stdout
    full = invoke("value", _write(tmp_path, "p.csv", PORTFOLIO), "--tables", TINY)
    assert "no data rows" not in full.stdout


def test_explain_when_rows_named_then_each_trace_as_explain_row_gives_it(tmp_path: Path) -> None:
    """explain --row prints the trace of each row asked for, the one value_frame on the whole
    file gives (explain_row), and the amount the totals used."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    result = invoke("explain", src, "--tables", TINY, "--row", "0", "--row", "2")
    assert result.exit_code == 0, result.output
    valued = sv.value_frame(pd.read_csv(src), sv.load_table(path=TINY))
    assert result.stdout == (f"Row 0:\n{sv.explain_row(valued, 0)}\n"
                             f"Row 2:\n{sv.explain_row(valued, 2)}\n")
    assert "-> -£250.00" in result.stdout  # row 2 is a disbenefit


def test_explain_when_row_bad_or_out_of_range_then_says_so(tmp_path: Path) -> None:
    src = _write(tmp_path, "b.csv", BAD)
    bad = invoke("explain", src, "--tables", TINY, "--row", "1")
    assert bad.exit_code == 1
    assert "Row 1 was not valued: measure: unknown measure 'jobs-locl'" in bad.stdout
    past = invoke("explain", src, "--tables", TINY, "--row", "3")
    assert past.exit_code == 2 and "has data rows 0 to 2" in past.stderr
    assert invoke("explain", src, "--tables", TINY).exit_code == 2  # --row is required
    # Every --row is checked before any trace is printed (row 0 was printed, then the error).
    both = invoke("explain", src, "--tables", TINY, "--row", "0", "--row", "3")
    assert both.exit_code == 2 and "Valuation of" not in both.stdout


def test_explain_when_period_then_each_part_is_explained(tmp_path: Path) -> None:
    src = _write(tmp_path, "p.csv", PERIODS)
    result = invoke("explain", src, "--period", "period_start,period_end", "--row", "0")
    assert result.exit_code == 0, result.output
    assert "Row 0 (part 1 of 2 of its period):" in result.stdout
    assert "Row 0 (part 2 of 2 of its period):" in result.stdout
    assert result.stdout.count("Valuation of ") == 2


@pytest.mark.parametrize(("suffix", "module", "extra"), [
    (".xlsx", "openpyxl", "excel"), (".parquet", "pyarrow", "parquet")])
def test_value_when_the_output_format_extra_is_missing_then_exit_2_before_any_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, module: str,
        extra: str) -> None:
    """-o v.xlsx without openpyxl (v.parquet without pyarrow) stops at once, naming the
    extra: no totals are printed for a run that cannot write its output."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, f"{module}.parquet", raising=False)
    if module == "pyarrow":
        monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = invoke("value", src, "--tables", TINY, "-o", tmp_path / f"v{suffix}")
    assert result.exit_code == 2, result.output
    assert f"pip install 'socialvalue_tom[{extra}]'" in result.stderr
    assert "Social value" not in result.stdout
    assert not (tmp_path / f"v{suffix}").exists()


def test_report_when_matplotlib_missing_then_exit_2_before_any_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _write(tmp_path, "p.csv", BAD)  # bad rows would otherwise be reported first
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = invoke("report", src, "--tables", TINY, "-o", tmp_path / "r.html")
    assert result.exit_code == 2, result.output
    assert "pip install 'socialvalue_tom[report]'" in result.stderr
    assert not (tmp_path / "p.issues.csv").exists()


def test_cli_messages_when_paths_hold_option_names_then_paths_unchanged(tmp_path: Path) -> None:
    """Only whole library phrases become flags: a folder named discount_base_year is shown as
    it is, and a carried-forward trace names --carry-forward."""
    folder = tmp_path / "discount_base_year"
    folder.mkdir()
    bad = folder / "bad.csv"
    bad.write_text('x\n"a\n', encoding="utf-8")
    result = invoke("value", bad)
    assert result.exit_code == 2
    assert f"{folder}/bad.csv" in result.stderr and "--discount-base-year" not in result.stderr
    late = _write(tmp_path, "late.csv", "measure,quantity,unit,region,date\n"
                                        "jobs-local,1,FTE,uk,2025-06-01\n")
    shown = invoke("explain", late, "--tables", TINY, "--carry-forward", "--row", "0")
    assert shown.exit_code == 0, shown.output
    assert "(--carry-forward)" in shown.stdout and "carry_forward=True" not in shown.stdout


# -- review fixes: narrow tables, links to the input, --by once, themes of rejected rows -------

def _first_column(shown: str) -> str:
    """The text of a printed table's first column, its wrapped lines joined."""
    cells = [line.split("│")[1].strip() for line in shown.splitlines()
             if line.startswith("│") and line.count("│") > 2]
    return "".join(cells)


def test_value_when_terminal_is_80_columns_then_labels_shown_beside_whole_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--by contract with "Not valued" and "SV per £" columns on an 80-column terminal: the
    figures leave the labels a narrow column, never none (the ids and "Total" used to
    vanish); the figures are whole, the labels wrap, and no line is wider than 80."""
    from rich.console import Console

    from socialvalue_tom import cli

    monkeypatch.setattr(cli, "_console", lambda stderr=False: Console(
        stderr=stderr, width=80, highlight=False, soft_wrap=True))
    src = _write(tmp_path, "p.csv",
                 "measure,quantity,unit,region,date,supplier_id,contract_id,contract_value\n"
                 "jobs-local,100,FTE,london,2024-05-01,acme,C-2024-001,90000000\n"
                 "env-carbon-added,10,tCO2e,uk,2024-06-01,beta,C-2024-002,500000\n"
                 "jobs-locl,1,FTE,uk,2024-05-01,beta,C-2024-002,500000\n")
    result = invoke("value", src, "--tables", TINY, "--by", "contract", "--errors", "collect")
    assert result.exit_code == 1, result.output
    table = result.stdout.split("\nTable ")[0]
    assert "Not" in table and "SV per" in table  # the columns that used to crowd the labels
    for figure in ("£2,700,000.00", "-£2,500.00", "£2,697,500.00", "-0.0050"):
        assert figure in table
    assert "…" not in table
    assert max(len(line) for line in table.splitlines()) <= 80, table
    labels = _first_column(table)
    assert "C-2024-001" in labels and "C-2024-002" in labels and labels.endswith("Total")


def test_cli_tables_when_figures_fill_the_terminal_then_headers_wrap_before_labels_vanish() -> None:
    """The label column of a table of figures keeps room: the figures' headers wrap at their
    spaces to make it, and a wider terminal gives the labels their full width."""
    from rich.console import Console

    from socialvalue_tom.cli import _table

    def shown(width: int) -> str:
        table = _table("Social value by supplier")
        table.add_column("supplier_id")
        for c in ("Rows", "Not valued", "Benefits", "Disbenefits", "Net", "SV per £"):
            table.add_column(c, justify="right")
        table.add_row("S-BUILDCO", "9", "0", "£897,111.29", "£0.00", "£897,111.29", "0.0004")
        table.add_row("Total", "32", "1", "£2,899,049.18", "-£932.54", "£2,898,116.63", "0.0002")
        console = Console(file=io.StringIO(), width=width, highlight=False)
        console.print(table)
        return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]

    narrow = shown(80)
    assert _first_column(narrow) == "S-BUILDCOTotal"  # wrapped, every letter shown
    assert "£2,899,049.18" in narrow and "£2,898,116.63" in narrow and "-£932.54" in narrow
    assert "Not valued" not in narrow and "valued" in narrow  # wrapped to make room
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = shown(120)
    assert "┃ supplier_id ┃" in wide and "│ S-BUILDCO   │" in wide and "Not valued" in wide


@pytest.mark.parametrize("link", ["hard", "symbolic"])
def test_value_when_issues_file_is_a_link_to_the_input_then_refused(tmp_path: Path,
                                                                    link: str) -> None:
    """The issues file named after OUT, when it is another name for the input (a hard or a
    symbolic link), would replace the supplier's file: exit 2 before anything is written,
    the input untouched, with bad rows (issues written) and without (issues emptied)."""
    import typer

    from socialvalue_tom import cli

    for text, name in ((BAD, "bad"), (PORTFOLIO, "good")):
        src = _write(tmp_path, f"{name}.csv", text)
        issues = tmp_path / f"{name}-out.issues.csv"
        if link == "hard":
            issues.hardlink_to(src)
        else:
            issues.symlink_to(src)
        out = tmp_path / f"{name}-out.csv"
        result = invoke("value", src, "-o", out, "--tables", TINY, "--errors", "collect")
        assert result.exit_code == 2, result.output
        assert "would overwrite the input" in result.stderr
        assert src.read_text(encoding="utf-8") == text
        assert not out.exists()
        # Checked again where an issues file is written or emptied, not only before the run.
        with pytest.raises(typer.Exit):
            cli._clear_stale_issues(src, out)
        with pytest.raises(typer.Exit):
            cli._report_issues(pd.DataFrame({"row": [0], "field": ["measure"], "code": ["x"],
                                             "reason": ["bad"]}), src, out)
        assert src.read_text(encoding="utf-8") == text


def test_value_when_by_given_three_times_or_one_twice_then_usage_error_before_any_work(
        tmp_path: Path) -> None:
    """--by theme --by supplier used to print the supplier totals alone, the theme ones
    dropped without a word; two groupings now make one table per pair, and a third (or one
    grouping twice) exits 2 before any work, nothing written."""
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    out = tmp_path / "valued.csv"
    for args, said in ((["--by", "theme", "--by", "supplier", "--by", "year"],
                        "--by may be given once or twice, not 3 times (--by theme --by "
                        "supplier --by year)"),
                       (["--by", "theme", "--by", "Theme"],
                        "--by names the same grouping twice")):
        result = invoke("value", src, "-o", out, "--tables", TINY, *args)
        assert result.exit_code == 2, result.output
        assert said in " ".join(result.stderr.split())
        assert result.stdout == "" and not out.exists()
    once = invoke("value", src, "--tables", TINY, "--by", "Supplier")
    # (rich before 15 pads the centred title with spaces)
    assert once.exit_code == 0 and re.search(r"Social value by supplier \(2024/25 prices\) *\n",
                                             once.stdout)


def test_value_by_two_groupings_totals_each_pair_as_summarise_does(tmp_path: Path) -> None:
    """A contract manager's review: --by year added each year's commitments to its
    deliveries, and --by year --by stage was refused. Two groupings now give a row per pair,
    the figures summarise gives for by=["year", "stage"], and the Total of every row, named
    in the first column; years read as financial years (2024/25), and the note on a total
    adding commitments to deliveries is left out, the table setting them apart."""
    root = Path(__file__).resolve().parent.parent
    portfolio = root / "examples" / "portfolio.csv"
    totals = tmp_path / "totals.csv"
    result = invoke("value", portfolio, "--by", "year", "--by", "stage", "--totals", totals)
    assert result.exit_code == 0, result.output
    assert "Social value by financial year and stage" in result.stdout
    assert "The total adds commitments" not in result.stdout
    expected = sv.summarise(sv.value_frame(pd.read_csv(portfolio)), by=["year", "stage"])
    written = pd.read_csv(totals)
    assert list(written.columns[:2]) == ["year", "stage"]
    body, total = written.iloc[:-1], written.iloc[-1]
    assert body["year"].astype(int).tolist() == expected["year"].tolist()
    assert body["stage"].tolist() == expected["stage"].tolist()
    assert [Decimal(str(x)).quantize(Decimal("0.01")) for x in body["net_gbp"]] == \
        expected["net_gbp"].tolist()
    assert total["year"] == "Total" and pd.isna(total["stage"])
    lines = [line for line in result.stdout.splitlines() if line.startswith("│ 2024/25")]
    assert [line.split("│")[2].strip() for line in lines] == ["commitment", "delivered"]
    assert re.search(r"│ Total +│ +│", result.stdout)


def test_value_when_a_row_with_a_known_measure_is_not_valued_then_counted_under_its_theme(
        tmp_path: Path) -> None:
    """A rejected row whose measure is in the tables counts under that measure's theme, as
    --by measure counts it under its measure; only an unknown measure is "(none)"."""
    src = _write(tmp_path, "p.csv", PORTFOLIO.replace("env-carbon-added,1", "env-carbon-added,-1"))
    by_measure = invoke("value", src, "--tables", TINY, "--by", "measure", "--errors", "collect")
    assert re.search(r"env-carbon-added\s*│\s*0\s*│\s*1\s*│", by_measure.stdout)
    by_theme = invoke("value", src, "--tables", TINY, "--by", "theme", "--errors", "collect")
    assert by_theme.exit_code == 1, by_theme.output
    assert "(none)" not in by_theme.stdout, by_theme.stdout
    assert re.search(r"environment\s*│\s*1\s*│\s*1\s*│", by_theme.stdout), by_theme.stdout


def test_value_when_group_figures_do_not_add_to_the_total_then_a_note_says_why(
        tmp_path: Path) -> None:
    """Three suppliers of £0.005 each: each group rounds to £0.01 and the Total (£0.015 held
    as a float a hair under) to £0.02; the note says the groups need not add to the Total."""
    text = "measure,quantity,unit,region,date,supplier_id\n" + "".join(
        f"env-carbon,0.00002,tCO2e,uk,2024-05-01,{s}\n" for s in "ABC")
    result = invoke("value", _write(tmp_path, "half.csv", text), "--tables", TINY, "--by",
                    "supplier")
    assert result.exit_code == 0, result.output
    assert re.search(r"Total\s*│\s*3\s*│\s*£0\.02", result.stdout), result.stdout
    assert "the groups' figures can add to a penny or so more or less than the Total" in (
        " ".join(result.stdout.split()))
    plain = invoke("value", _write(tmp_path, "p.csv", PORTFOLIO), "--tables", TINY, "--by",
                   "supplier")
    assert "rounded once" not in plain.stdout


def test_value_when_period_and_carry_forward_then_each_carried_year_is_a_part(
        tmp_path: Path) -> None:
    """--period with --carry-forward splits a period past the last uk-national edition at each
    1 April, as apportion(carry_forward=True) does: the 2027/28 priority hire reduces the
    2027/28 part of the local jobs only."""
    text = ("contract_id,measure,quantity,unit,region,period_start,period_end,date\n"
            "C1,jobs-local-fte,10,FTE,uk,2026-04-01,2028-03-31,\n"
            "C1,jobs-priority-ltu,2,FTE,uk,2027-04-01,2028-03-31,\n")
    out = tmp_path / "valued.csv"
    result = invoke("value", _write(tmp_path, "p.csv", text), "-o", out, "--period",
                    "period_start,period_end", "--carry-forward")
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)
    assert got["date"].astype(str).str[:10].tolist() == ["2026-04-01", "2027-04-01",
                                                          "2027-04-01"]
    assert got["claim_share"].tolist() == [1.0, pytest.approx(1 - 2 / (10 * 366 / 731)), 1.0]


def test_value_by_a_group_the_input_cannot_give_is_a_usage_error_that_keeps_out(
        tmp_path: Path) -> None:
    """--by supplier on a file with no supplier_id failed after valuing, and removed an
    earlier OUT as if bad rows had stopped the run; now exit 2, OUT left as it was."""
    table = pd.read_csv(io.StringIO(PORTFOLIO))
    src = _write(tmp_path, "p.csv", table.drop(columns=["supplier_id"], errors="ignore")
                 .to_csv(index=False))
    out = _write(tmp_path, "out.csv", "keep\n")
    result = invoke("value", src, "--tables", TINY, "--by", "supplier", "-o", out)
    assert result.exit_code == 2
    assert "cannot group by supplier" in result.output and "removed" not in result.output
    assert out.read_text(encoding="utf-8") == "keep\n"


def _shifted_2024(tmp_path: Path, version: str, start: str, end: str) -> Path:
    """The embedded 2024 edition relabelled ``version`` and valid ``start``..``end``."""
    from socialvalue_tom.tables.catalogue import embedded_dir

    text = (embedded_dir() / "uk-national" / "2024.yaml").read_text(encoding="utf-8")
    for old, new in (("\nversion: '2024'", f"\nversion: '{version}'"),
                     ("\nvalid_from: 2024-04-01", f"\nvalid_from: {start}"),
                     ("\nvalid_to: 2025-03-31", f"\nvalid_to: {end}"),
                     ("\nreview_by: 2025-03-31", f"\nreview_by: {end}")):
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{version}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_value_when_table_file_covers_part_of_family_editions_then_exit_2(
        tmp_path: Path) -> None:
    """A file valid 2024-10-01..2025-09-30 given with the family dropped both editions it
    touched: June 2024 was then valued with 2023 carried forward, December 2025 with the
    file's edition. Now a usage error naming both, with nothing valued."""
    shifted = _shifted_2024(tmp_path, "2024h2", "2024-10-01", "2025-09-30")
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,1,FTE,england,2024-06-01\n"
                 "jobs-local-fte,1,FTE,england,2025-12-01\n")
    out = tmp_path / "out.csv"
    for extra in ((), ("--carry-forward",)):
        result = invoke("value", src, "--tables", f"uk-national,{shifted}", "-o", out, *extra)
        assert result.exit_code == 2, result.output
        assert "uk-national:2024h2 (2024-10-01..2025-09-30) covers only part of" in result.output
        assert "uk-national:2024 (2024-04-01..2025-03-31)" in result.output
        assert not out.exists()


def test_value_when_table_file_covers_whole_editions_then_replaces_them(
        tmp_path: Path) -> None:
    """A file covering the 2024 edition's dates (and more) replaces it; 2023 stays."""
    whole = _shifted_2024(tmp_path, "2024-wide", "2024-04-01", "2025-03-31")
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,1,FTE,england,2023-06-01\n"
                 "jobs-local-fte,1,FTE,england,2024-06-01\n")
    out = tmp_path / "out.csv"
    result = invoke("value", src, "--tables", f"uk-national,{whole}", "-o", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["version"].astype(str).tolist() == ["2023", "2024-wide"]


def test_value_when_a_file_in_the_folder_has_a_family_s_name_then_the_family_is_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--tables uk-national (the default) became ./uk-national when such a file was in the
    working folder; ./uk-national still names it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uk-national").write_text("not a table", encoding="utf-8")
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,1,FTE,england,2024-06-01\n")
    for args in ((), ("--tables", "uk-national")):
        result = invoke("value", src, *args)
        assert result.exit_code == 0, result.output
        assert "uk-national:2024 digest" in result.stdout
    assert invoke("tables", "show", "uk-national").exit_code == 0
    result = invoke("value", src, "--tables", "./uk-national")
    assert result.exit_code != 0 and "uk-national" in result.output


def test_value_when_rows_are_illustrative_prints_the_caveat_not_the_library_warning(
        tmp_path: Path) -> None:
    """The command prints its own caveat; the library's warning (on stderr) would repeat it."""
    import warnings

    src = _write(tmp_path, "p.csv", PORTFOLIO)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = invoke("value", src, "--tables", TINY)
    assert result.exit_code == 0, result.output
    assert "illustrative" in result.stdout
    assert not [w for w in seen if issubclass(w.category, sv.IllustrativeValueWarning)]


def test_console_when_the_reader_closes_stdout_goes_on_quietly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`value ... | head -1` stopped at the first print after head exited (BrokenPipeError,
    exit 1, no OUT, no issues file); the console now drops what it cannot print. On Windows a
    closed pipe raises EINVAL instead; other errors are recorded for main (exit 3), and any on
    stderr are dropped."""
    import errno

    from socialvalue_tom import cli

    class Closed:
        encoding = "utf-8"

        def __init__(self, exc: OSError) -> None:
            self.exc = exc

        def write(self, text: str) -> int:
            raise self.exc

        def flush(self) -> None:
            raise self.exc

        def isatty(self) -> bool:
            return False

    quieted: list[bool] = []
    monkeypatch.setattr(cli, "_quiet_stdout", lambda: quieted.append(True))
    safe = cli._SafeStream(Closed(BrokenPipeError()))
    assert safe.write("Social value\n") == len("Social value\n")
    safe.flush()
    assert safe.isatty() is False and safe.encoding == "utf-8" and quieted == [True, True]
    monkeypatch.setattr(cli, "_STDOUT_LOST", [])
    einval = OSError(errno.EINVAL, "Invalid argument")
    cli._SafeStream(Closed(einval)).write("x")  # EINVAL is a closed pipe on Windows only
    assert cli._STDOUT_LOST == ["Invalid argument"]
    monkeypatch.setattr(cli.sys, "platform", "win32")
    assert cli._SafeStream(Closed(einval)).write("x") == 1
    assert cli._STDOUT_LOST == ["Invalid argument"]
    # What stderr cannot take is dropped (nowhere is left to tell it): not recorded for
    # stdout's exit 3, and stdout not quieted.
    quieted.clear()
    monkeypatch.setattr(cli, "_STDOUT_LOST", [])
    assert cli._SafeStream(Closed(BrokenPipeError()), pipe=False).write("x") == 1
    cli._SafeStream(Closed(OSError(errno.ENOSPC, "No space left")), pipe=False).flush()
    assert quieted == [] and cli._STDOUT_LOST == []
    assert cli._has_pound("no-such-codec") is False and cli._has_pound("utf-8") is True
    # A full disk is not a reader gone: it is recorded, for main to tell (exit 3) at the end.
    monkeypatch.setattr(cli, "_STDOUT_LOST", [])
    assert cli._SafeStream(Closed(OSError(errno.ENOSPC, "No space left"))).write("x") == 1
    assert cli._STDOUT_LOST == ["No space left"]


@pytest.mark.parametrize("stdout", ["closed", "full"])
def test_main_when_stdout_cannot_be_written_writes_its_files_and_exits_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stdout: str) -> None:
    """A scripter's review: with stdout closed ('>&-') or on a full disk ('>/dev/full') the
    command crashed with a traceback and exit 1 (the code for bad rows) and wrote no OUT. The
    files are written, stderr says stdout was lost, and the exit code is 3."""
    from socialvalue_tom import cli

    if stdout == "full" and not Path("/dev/full").exists():
        pytest.skip("needs /dev/full (Linux) to fill stdout")
    src, out = _write(tmp_path, "p.csv", PORTFOLIO), tmp_path / "OUT.csv"
    # The console points this stream's own descriptor at the null device once it fails.
    stream = None if stdout == "closed" else open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(cli.sys, "stdout", stream)
    try:
        with pytest.raises(SystemExit) as info:
            cli.main(["value", str(src), "--tables", str(TINY), "-o", str(out)])
        assert cli.sys.stdout is stream  # as it was: a second call starts afresh
    finally:
        if stream is not None:
            stream.close()
    assert info.value.code == cli.EXIT_STDOUT_LOST == 3
    assert out.is_file() and len(pd.read_csv(out)) == PORTFOLIO.count("\n") - 1
    why = "standard output is closed" if stdout == "closed" else "No space left on device"
    assert f"error: could not write to standard output ({why})" in capsys.readouterr().err


def test_main_keeps_the_commands_own_failure_code_when_stdout_is_lost_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad rows (1) or a usage error (2) say more than a lost stdout: they are kept."""
    from socialvalue_tom import cli

    for args, code in ((["value", str(tmp_path / "missing.csv")], 2),
                       (["value", str(_write(tmp_path, "bad.csv", BAD)), "--tables", str(TINY)],
                        1)):
        monkeypatch.setattr(cli.sys, "stdout", None)
        with pytest.raises(SystemExit) as info:
            cli.main(args)
        assert info.value.code == code and cli.sys.stdout is None


def test_main_with_stderr_closed_or_help_to_a_full_disk_exits_as_documented(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An adversarial review: with stderr closed ('2>&-') main crashed on it (exit 1 for a
    missing file, documented 2); click's own --help to a full stdout was a traceback and exit
    1 (documented 3)."""
    from socialvalue_tom import cli

    monkeypatch.setattr(cli.sys, "stderr", None)
    with pytest.raises(SystemExit) as info:
        cli.main(["value", str(tmp_path / "missing.csv")])
    assert info.value.code == 2 and cli.sys.stderr is None
    monkeypatch.undo()
    if not Path("/dev/full").exists():
        return
    with open("/dev/full", "w", encoding="utf-8") as full:
        monkeypatch.setattr(cli.sys, "stdout", full)
        with pytest.raises(SystemExit) as info:
            cli.main(["--help"])
        assert info.value.code == cli.EXIT_STDOUT_LOST


def test_sigterm_stops_a_command_as_an_exit_143_through_its_cleanup() -> None:
    """A cancelled CI job (SIGTERM) ended the process where it stood, leaving a hidden part
    file beside the output; under main it is a SystemExit(143), which the writers' cleanup
    sees (write_through_temp and the streaming writer remove their part files)."""
    import os
    import signal

    from socialvalue_tom import cli

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info, cli._sigterm_as_exit():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs between bytecodes, at once
            pass
    assert info.value.code == cli.EXIT_TERMINATED == 143
    assert signal.getsignal(signal.SIGTERM) == before


def test_value_and_report_when_they_stop_leave_no_earlier_results_under_their_names(
        tmp_path: Path) -> None:
    """A contract given two values, or an .xlsx cell too long to write, stops the run (exit 2):
    an earlier run's OUT and issues file are removed, as they would be taken for this input's
    (report kept its earlier HTML; value kept the issues file, and, when writing failed, OUT)."""
    bad = _write(tmp_path, "bad.csv", BAD)
    two = _write(tmp_path, "two.csv", "measure,quantity,unit,region,date,contract_id,"
                 "contract_value\njobs-local,2,FTE,london,2024-05-01,C1,1000\n"
                 "jobs-local,2,FTE,london,2024-05-01,C1,2000\n")
    long = _write(tmp_path, "long.csv", "measure,quantity,unit,region,date,note\n"
                  f"jobs-local,2,FTE,london,2024-05-01,{'x' * 40_000}\n")
    out = tmp_path / "X.xlsx"
    for stopper in (two, long):
        assert invoke("value", bad, "--tables", TINY, "--errors", "collect",
                      "-o", out).exit_code == 1
        assert out.is_file() and (tmp_path / "X.issues.csv").is_file()
        result = invoke("value", stopper, "--tables", TINY, "-o", out)
        assert result.exit_code == 2, result.output
        assert not out.exists() and not (tmp_path / "X.issues.csv").exists(), stopper
    html = tmp_path / "R.html"
    assert invoke("report", _write(tmp_path, "p.csv", PORTFOLIO), "--tables", TINY,
                  "-o", html).exit_code == 0
    result = invoke("report", two, "--tables", TINY, "-o", html)
    assert result.exit_code == 2 and not html.exists()
    assert "removed the existing" in result.output


def test_value_when_table_file_starts_with_an_edition_but_ends_before_it_then_exit_2(
        tmp_path: Path) -> None:
    """Partial cover either way: a file over the first half of 2024/25 is refused too."""
    half = _shifted_2024(tmp_path, "2024a", "2024-04-01", "2024-09-30")
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local-fte,1,FTE,england,2024-12-01\n")
    result = invoke("value", src, "--tables", f"uk-national,{half}")
    assert result.exit_code == 2 and "covers only part of uk-national:2024" in result.output


def test_value_when_tables_names_a_file_by_folder_without_a_suffix_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path with a folder names a file even without a table suffix; a bare name with a
    comma is split as a list even when a file of that whole name is in the working folder."""
    table = tmp_path / "mytable"
    table.write_text(TINY.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_bytes(
        (TINY.parent / "tiny-deflator.index.yaml").read_bytes())
    src = _write(tmp_path, "p.csv", PORTFOLIO)
    result = invoke("value", src, "--tables", table)
    assert result.exit_code == 0, result.output
    assert "tiny:2024" in result.stdout
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uk-national,uk-national:2024").write_text("not a table", encoding="utf-8")
    national = _write(tmp_path, "n.csv", "measure,quantity,unit,region,date\n"
                      "jobs-local-fte,1,FTE,england,2024-06-01\n")
    result = invoke("value", national, "--tables", "uk-national,uk-national:2024")
    assert result.exit_code == 0, result.output  # split: the family, its 2024 edition
    assert "uk-national:2024 digest" in result.stdout


def test_family_name_when_a_colon_has_no_version_gives_no_python_spelling_hint() -> None:
    with pytest.raises(sv.UnknownTableError) as info:
        sv.load_table("uk-national:")
    assert "NAME:VERSION" not in str(info.value)


def test_value_caveat_counts_input_rows_not_period_parts(tmp_path: Path) -> None:
    """One illustrative row over three editions was "3 row(s)" in the CLI's caveat and "1 of
    2 valued rows" in the report: both count input rows."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,period_start,period_end\n"
                 "growth-local-spend,1000,GBP,uk,2023-10-01,2025-06-30\n"
                 "jobs-local-fte,1,FTE,uk,2023-10-01,2025-06-30\n")
    result = invoke("value", src, "--period", "period_start,period_end")
    assert result.exit_code == 0, result.output
    assert ("Caveat: 1 row(s) use proxy values labelled illustrative (growth-local-spend): "
            "not for decisions.") in result.stdout  # which measure it is about
    html_text = sv.report.report_html(sv.value_frame(sv.apportion(pd.read_csv(src))))
    assert "<strong>illustrative</strong> (growth-local-spend)" in html_text


def test_report_lists_rows_not_valued_with_their_file_lines(tmp_path: Path) -> None:
    """The report names the rows its totals leave out, with the line an analyst finds them on
    (a blank line counted), as the issues file does."""
    src = _write(tmp_path, "b.csv", BAD.replace("jobs-locl", "\njobs-locl"))
    result = invoke("report", src, "-o", tmp_path / "r.html", "--tables", TINY,
                    "--errors", "collect")
    assert result.exit_code == 1, result.output
    section = (tmp_path / "r.html").read_text(encoding="utf-8").split(
        "<h2>Rows not valued</h2>", 1)[1]
    assert '<th scope="row">1</th><th scope="row">measure</th><td>4</td>' in section
    assert '<th scope="row">2</th><th scope="row">quantity</th><td>5</td>' in section


def test_report_gives_rows_not_valued_in_the_command_s_words(tmp_path: Path) -> None:
    """The report's reasons name the command's flags, as the terminal and issues file do: it
    said '(carry_forward=True would use the latest)' where they say '--carry-forward'."""
    src = _write(tmp_path, "late.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,1,FTE,uk,2024-05-01\njobs-local,1,FTE,uk,2031-05-01\n")
    result = invoke("report", src, "-o", tmp_path / "r.html", "--tables", TINY,
                    "--errors", "collect")
    assert result.exit_code == 1, result.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    issues = (tmp_path / "r.issues.csv").read_text(encoding="utf-8")
    assert "(--carry-forward would use the latest)" in issues
    assert "(--carry-forward would use the latest)" in page
    assert "carry_forward=True" not in page


def test_value_when_other_sheets_have_outcome_columns_then_a_note_names_them(
        tmp_path: Path) -> None:
    """A workbook with a sheet per year: the first is valued and the totals said nothing of
    the second's rows, left out (a review found it); an empty first sheet names the others."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "years.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "2023"
    wb.create_sheet("2024")
    for ws in wb.worksheets:
        ws.append(["measure", "quantity", "unit", "region", "date"])
        ws.append(["jobs-local", 1, "FTE", "uk", "2024-05-01"])
    wb.save(path)
    result = invoke("value", path, "--tables", TINY)
    assert result.exit_code == 0, result.output
    assert ("Note: Only sheet '2023' was read; the workbook's sheet(s) '2024' have outcome "
            "columns too and were not: value each with --sheet NAME.") in result.stderr
    assert "Only sheet" not in invoke("value", path, "--tables", TINY, "--sheet", "2024").stderr
    assert result.stdout.count("Only sheet") == 0  # said once, as the file was read
    # Kept with the totals and in the report (a data-quality steward's review).
    totals = tmp_path / "totals.xlsx"
    assert invoke("value", path, "--tables", TINY, "--totals", totals).exit_code == 0
    notes = pd.read_excel(totals, sheet_name="Notes", header=None)[0].astype(str).tolist()
    assert any(n.startswith("Note: Only sheet '2023' was read") for n in notes), notes
    report = tmp_path / "r.html"
    assert invoke("report", path, "--tables", TINY, "-o", report).exit_code == 0
    assert "Only sheet &#x27;2023&#x27; was read" in report.read_text(encoding="utf-8")
    wb["2023"].delete_rows(1, 2)
    wb.save(path)
    result = invoke("value", path, "--tables", TINY)
    assert result.exit_code == 2
    assert "other sheets are '2024': choose one with --sheet" in result.stderr


def test_value_when_other_sheets_have_their_header_in_another_case_or_below_a_title_notes_them(
        tmp_path: Path) -> None:
    """A data-quality review: Q1 (1 FTE) was valued, and Q2 (50 FTE, header
    'Measure,Quantity,...') and Q3 (70 FTE, a title above its header) were left out with no
    word; the note names them too, with what to fix before valuing each."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "quarters.xlsx"
    wb = openpyxl.Workbook()
    header = ["measure", "quantity", "unit", "region", "date"]
    q1, q2, q3 = wb.active, wb.create_sheet("Q2"), wb.create_sheet("Q3")
    q1.title = "Q1"
    for ws, rows in ((q1, [header, ["jobs-local", 1, "FTE", "uk", "2024-05-01"]]),
                     (q2, [[c.title() for c in header],
                           ["jobs-local", 50, "FTE", "uk", "2024-05-01"]]),
                     (q3, [["Social value return, Q3"], header,
                           ["jobs-local", 70, "FTE", "uk", "2024-05-01"]])):
        for row in rows:
            ws.append(row)
    wb.save(path)
    result = invoke("value", path, "--tables", TINY)
    assert result.exit_code == 0, result.output
    assert ("Note: Only sheet 'Q1' was read; the workbook's sheet(s) 'Q2', 'Q3' have outcome "
            "columns too and were not: value each with --sheet NAME; first, in sheet 'Q2' "
            "rename 'Measure' to measure, 'Quantity' to quantity, 'Unit' to unit, ...; in "
            "sheet 'Q3' delete the row(s) above its header, row 2.") in " ".join(
                result.stderr.split())


def test_value_when_an_xlsx_quantity_is_shown_in_thousands_or_as_a_per_cent_refuses_the_row(
        tmp_path: Path) -> None:
    """A data-quality review: 1234567 formatted '#,##0,' (shown 1,235, the unit £k) was
    valued as held with no word, £462,962,625 in its case; 0.35 shown as 35% was 0.35 FTE,
    where the CSV text '35%' is refused. Each row is refused by its sheet row."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["measure", "quantity", "unit", "region", "date"])
    for quantity in (1234567, 0.35, 1):
        ws.append(["jobs-local", quantity, "FTE", "uk", "2024-05-01"])
    ws["B2"].number_format = "#,##0,"
    ws["B3"].number_format = "0.0%"
    wb.save(path)
    result = invoke("value", path, "--tables", TINY, "--errors", "collect")
    assert result.exit_code == 1, result.output
    stderr = " ".join(result.stderr.split())
    assert ("returns.xlsx: row 0 (sheet row 2), field 'quantity': quantity shows 1,235 but "
            "the cell holds 1234567: its number format '#,##0,' shows the figure in "
            "thousands; write the number meant, in the row's unit (1234567 or 1234.567?), "
            "and format the cell so that it shows what it holds") in stderr
    assert ("row 1 (sheet row 3), field 'quantity': quantity shows 35.0% but the cell holds "
            "0.35: its number format '0.0%' shows the figure as a percentage") in stderr
    assert re.search(r"│\s*1\s*│\s*2\s*│\s*£18,000\.00", result.stdout)  # 1 FTE x £18,000
    issues = (tmp_path / "returns.issues.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[:4] for line in issues[1:]] == [
        ["0", "2", "quantity", "number-format"], ["1", "3", "quantity", "number-format"]]


def test_value_when_xlsx_row_is_bad_names_its_sheet_row(tmp_path: Path) -> None:
    """A workbook's problems were placed by "(line N)": it has sheet rows, and with --sheet
    the sheet is named too."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Q1"
    for ws in (wb.active, wb.create_sheet("Q2")):
        ws.append(["measure", "quantity", "unit", "region", "date"])
        ws.append(["jobs-local", 1, "FTE", "uk", "2024-05-01"])
        ws.append([])
        ws.append(["jobs-local", -1, "FTE", "uk", "2024-05-01"])
    wb.save(path)
    plain = invoke("value", path, "--tables", TINY, "--errors", "collect")
    assert "returns.xlsx: row 1 (sheet row 4), field 'quantity'" in plain.stderr
    named = invoke("value", path, "--tables", TINY, "--errors", "collect", "--sheet", "Q2")
    assert "returns.xlsx: row 1 (sheet 'Q2' row 4), field 'quantity'" in named.stderr


def test_value_when_xlsx_rows_are_hidden_then_a_note_names_them(tmp_path: Path) -> None:
    """A hidden row is data and is valued, but an analyst checking the workbook as Excel shows
    it could not see that 100 FTE of the total came from it: the command says which rows."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "returns.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "returns"
    ws.append(["measure", "quantity", "unit", "region", "date"])
    for fte in (1, 100, 2):
        ws.append(["jobs-local", fte, "FTE", "uk", "2024-05-01"])
    ws.row_dimensions[3].hidden = True
    wb.save(path)
    result = invoke("value", path, "--tables", TINY)
    assert result.exit_code == 0, result.output
    assert ("Note: 1 row(s) (sheet rows 3) of sheet 'returns' are hidden in Excel: they are "
            "read and valued like the others") in result.stderr
    assert re.search(r"│\s*3\s*│\s*£1,854,000\.00", result.stdout)  # 103 FTE x £18,000
    ws.row_dimensions[3].hidden = False
    wb.save(path)
    assert "hidden" not in invoke("value", path, "--tables", TINY).stderr
    ws.column_dimensions["B"].hidden = True  # the quantities, out of sight
    wb.save(path)
    assert ("Note: column(s) 'quantity' of sheet 'returns' are hidden in Excel"
            in invoke("value", path, "--tables", TINY).stderr)


def test_value_with_a_folder_reads_json_tables_too(tmp_path: Path) -> None:
    import json

    index = TINY.parent / "tiny-deflator.index.yaml"
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / index.name).write_bytes(index.read_bytes())
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    (folder / "2024.json").write_text(json.dumps(data, default=str), encoding="utf-8")
    rows = _write(tmp_path, "in.csv", "measure,quantity,unit,region,date\n"
                  "jobs-local,1,FTE,uk,2024-06-01\n")
    result = invoke("value", rows, "--tables", folder)
    assert result.exit_code == 0, result.output


def test_examples_copies_the_example_files_for_the_tutorial(tmp_path: Path) -> None:
    """`socialvalue-tom examples DIR` writes DIR/examples/ with the files the README and the
    tutorial use, byte for byte; a second run refuses to replace them without --force."""
    root = Path(__file__).resolve().parent.parent
    result = runner.invoke(app, ["examples", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("portfolio.csv", "cases.yaml"):
        assert (tmp_path / "examples" / name).read_bytes() == (
            root / "examples" / name).read_bytes()
    assert "socialvalue-tom value" in result.output
    again = runner.invoke(app, ["examples", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output
    (tmp_path / "examples" / "cases.yaml").write_text("mine", encoding="utf-8")
    forced = runner.invoke(app, ["examples", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert (tmp_path / "examples" / "cases.yaml").read_bytes() == (
        root / "examples" / "cases.yaml").read_bytes()
    missing = runner.invoke(app, ["examples", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "is not a folder" in missing.output


def test_examples_replaces_links_and_never_writes_through_them(tmp_path: Path) -> None:
    """A security review: a link planted at examples/portfolio.csv had its target
    overwritten by `examples --force`, and a dangling one was followed without --force (it
    did not "exist"). A link is there, and is replaced, its target left alone."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    folder = tmp_path / "a"
    (folder / "examples").mkdir(parents=True)
    (folder / "examples" / "portfolio.csv").symlink_to(victim)
    refused = runner.invoke(app, ["examples", str(folder)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert runner.invoke(app, ["examples", str(folder), "--force"]).exit_code == 0
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (folder / "examples" / "portfolio.csv").is_symlink()
    dangling = tmp_path / "b"
    (dangling / "examples").mkdir(parents=True)
    (dangling / "examples" / "portfolio.csv").symlink_to(tmp_path / "created")
    assert runner.invoke(app, ["examples", str(dangling)]).exit_code == 2
    assert not (tmp_path / "created").exists()
    # A linked examples folder: its files would go into the folder it points to.
    shared = tmp_path / "c"
    shared.mkdir()
    (shared / "examples").symlink_to(tmp_path / "a" / "examples", target_is_directory=True)
    linked = runner.invoke(app, ["examples", str(shared), "--force"])
    assert linked.exit_code == 2 and "is a link" in linked.output


def test_totals_may_not_be_the_issues_file(tmp_path: Path) -> None:
    """A security review: --totals x.issues.csv was written, then replaced by the issues
    list, the totals lost without a word. Refused before any work, for value and targets."""
    src = _write(tmp_path, "x.csv", "contract_id,stage,measure,quantity,unit,region,date\n"
                 "C1,delivered,jobs-local,2,FTE,uk,2024-05-01\n"
                 "C1,delivered,nope,2,FTE,uk,2024-05-01\n")
    for command in ("value", "targets"):
        result = invoke(command, src, "--tables", TINY, "--errors", "collect", "--totals",
                        tmp_path / "x.issues.csv")
        assert result.exit_code == 2, result.output
        assert "is where the issues file goes" in result.stderr
    out = tmp_path / "o.csv"
    result = invoke("value", src, "--tables", TINY, "--errors", "collect", "-o", out,
                    "--totals", tmp_path / "o.issues.csv")
    assert result.exit_code == 2 and not out.exists()


def test_example_path_names_the_files_and_refuses_others() -> None:
    assert sv.example_path().name == "portfolio.csv"
    assert sv.example_path("cases.yaml").is_file()
    with pytest.raises(ValueError, match=r"portfolio\.csv, cases\.yaml"):
        sv.example_path("nope.csv")


_TENDER = ("supplier_id,stage,measure,quantity,unit,region,date\n"
           "A,commitment,jobs-local-fte,3,FTE,england,2025-06-01\n"
           "A,commitment,env-carbon-saved,20,tCO2e,england,2025-06-01\n"
           "B,commitment,jobs-local-fte,4,FTE,england,2025-06-01\n"
           "B,delivered,jobs-local-fte,40,FTE,england,2025-06-01\n")


def test_bids_scores_tenderers_as_score_bids_does(tmp_path: Path) -> None:
    """`socialvalue-tom bids` prints score_bids' ranking (delivered rows ignored) with each
    tenderer's trace line; --basis per-gbp scores value per £ of the --price given."""
    src = tmp_path / "tender.csv"
    src.write_text(_TENDER, encoding="utf-8")
    prices = {"A": 1_000_000, "B": 1_200_000}
    for basis in ("absolute", "per-gbp"):
        result = runner.invoke(app, ["bids", str(src), "--basis", basis, "--price",
                                     "A=1,000,000", "--price", "B=£1200000"])
        assert result.exit_code == 0, result.output
        want = sv.score_bids(pd.read_csv(src), bid_prices=prices, basis=basis)
        text = " ".join(result.stdout.split())
        for r in want.itertuples():
            committed = sv.money.format_gbp(r.committed_gbp)
            assert f"│ {r.rank} │ {r.supplier_id} │ {committed} │" in text
            assert f"{r.score:.2f} │" in text
            assert r.trace in text
    tenderers = [x.split(":")[0] for x in result.stdout.splitlines() if x[:2] in ("A:", "B:")]
    assert tenderers == ["B", "A"]


def test_bids_when_bound_given_scores_at_it_and_says_when_the_order_turns(
        tmp_path: Path) -> None:
    """--bound scores at the proxies' bounds, as value does (an appraisal review: bids had no
    --bound); the note that the order turns within the range is printed once, in the notes."""
    src = tmp_path / "tender.csv"
    src.write_text("supplier_id,measure,quantity,unit,region,date\n"
                   "A,env-carbon-saved,100,tCO2e,uk,2024-09-30\n"
                   "B,jobs-local-fte,1,FTE,uk,2024-09-30\n", encoding="utf-8")
    central = runner.invoke(app, ["bids", str(src)])
    low = runner.invoke(app, ["bids", str(src), "--bound", "least-favourable"])
    assert central.exit_code == low.exit_code == 0, (central.output, low.output)
    order = [[x.split(":")[0] for x in r.stdout.splitlines() if x[:2] in ("A:", "B:")]
             for r in (central, low)]
    assert order == [["A", "B"], ["B", "A"]]
    assert "A: committed £15,041.00;" in low.stdout
    for r in (central, low):
        said = " ".join(r.output.split())
        assert said.count("The order of the tenders changes within the proxies' recorded "
                          "bounds") == 1, r.output
    assert "where the table records one (--bound)" in " ".join(low.stdout.split())


def test_bids_says_the_basis_notes_without_trace(tmp_path: Path) -> None:
    """A council officer's review: tenders dated past the last edition, scored with
    --carry-forward, said so only under --trace (and then named the Python setting): the
    edition and the trace's notes follow the tenderers' lines, in this command's words."""
    src = tmp_path / "tender.csv"
    src.write_text(_TENDER.replace("2025-06-01", "2026-11-01"), encoding="utf-8")
    plain = runner.invoke(app, ["bids", str(src), "--carry-forward"])
    assert plain.exit_code == 0, plain.output
    lines = [" ".join(x.split()) for x in plain.stdout.splitlines()]
    first_note = next(i for i, x in enumerate(lines) if x.startswith("Note: "))
    assert max(i for i, x in enumerate(lines) if x[:2] in ("A:", "B:")) < first_note
    assert any(x.startswith("Valued with uk-national:2025 (digest ") for x in lines)
    carried = [x for x in lines if "carried forward" in x]
    assert carried and all("(--carry-forward)" in x for x in carried), carried
    traced = runner.invoke(app, ["bids", str(src), "--carry-forward", "--trace"])
    said = " ".join(traced.stdout.split())
    assert "(--carry-forward)" in said and "(carry_forward)" not in said
    assert said.count("carried forward") == 1  # the whole trace: its note once


def test_bids_refuses_bad_prices_and_lists_bad_rows(tmp_path: Path) -> None:
    src = tmp_path / "tender.csv"
    src.write_text(_TENDER, encoding="utf-8")
    bad_price = runner.invoke(app, ["bids", str(src), "--price", "A=lots"])
    assert bad_price.exit_code == 2 and "is not SUPPLIER=GBP" in bad_price.stderr
    twice = runner.invoke(app, ["bids", str(src), "--price", "A=1", "--price", "A=2"])
    assert twice.exit_code == 2 and "more than once" in twice.stderr
    unpriced = runner.invoke(app, ["bids", str(src), "--basis", "per-gbp"])
    assert unpriced.exit_code == 2 and "--basis per-gbp needs --price" in unpriced.stderr
    one_priced = runner.invoke(app, ["bids", str(src), "--price", "A=1000000"])
    assert one_priced.exit_code == 2
    assert ("--price, when given, prices every tenderer (--basis absolute does not need "
            "them: leave --price out to score without)") in " ".join(one_priced.stderr.split())
    for bad in ("A=nan", "A=0", "A=-5"):
        refused = runner.invoke(app, ["bids", str(src), "--price", bad, "--price", "B=1"])
        assert refused.exit_code == 2 and "a price above 0" in refused.stderr, bad
    src.write_text(_TENDER.replace("jobs-local-fte,3,", "jobs-local-fte,-3,"), encoding="utf-8")
    bad_rows = runner.invoke(app, ["bids", str(src)])
    assert bad_rows.exit_code == 1
    assert "row 0 (line 2), field 'quantity'" in bad_rows.stderr
    assert (tmp_path / "tender.issues.csv").is_file()


def test_bids_tells_mixed_bases_as_notes_in_its_flags(tmp_path: Path) -> None:
    src = tmp_path / "tender.csv"
    src.write_text(_TENDER.replace("B,commitment,jobs-local-fte,4,FTE,england,2025-06-01",
                                   "B,commitment,jobs-local-fte,4,FTE,england,2024-06-01"),
                   encoding="utf-8")
    result = runner.invoke(app, ["bids", str(src)])
    assert result.exit_code == 0, result.output
    # Said once, under the tenderers' lines, in the command's flags (an adversarial review:
    # the trace's note on stdout and the warning on stderr told it twice).
    notes = " ".join(result.stdout.split())
    assert ("Note: Values are in the prices of each edition's own year (2024/25, 2025/26): a "
            "common --price-year puts them on one basis." in notes)
    assert "price_year" not in notes and "assumptions=" not in notes
    assert "more than one basis" not in result.stderr and "own year" not in result.stderr
    same = runner.invoke(app, ["bids", str(src), "--price-year", "2024",
                               "--discount-base-year", "2024"])
    assert "own year" not in same.stdout and "more than one basis" not in same.stderr


@pytest.mark.parametrize(("by", "crosswalk"), [("ppn002_mission", "ppn002"),
                                               ("ppn0620_theme", "ppn0620"),
                                               ("ppn002", "ppn002")])
def test_value_by_a_crosswalk_group_totals_it_and_says_to_verify(by: str, crosswalk: str) -> None:
    """--by the crosswalks' higher groups (PPN 002 missions, PPN 06/20 themes) totals as
    summarise does over with_crosswalk, and the terminal says, as the report does, to verify
    the crosswalk before a tender."""
    root = Path(__file__).resolve().parent.parent
    result = runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "--by", by])
    assert result.exit_code == 0, result.output
    valued = sv.value_frame(pd.read_csv(root / "examples" / "portfolio.csv"))
    column = by if by != crosswalk else f"{crosswalk}_outcome"
    want = sv.summarise(sv.with_crosswalk(valued, crosswalk), by=column)
    text = " ".join(result.stdout.split())
    for group, net in zip(want[column], want["net_gbp"], strict=True):
        assert f"│ {group} │" in text and sv.money.format_gbp(net) in text
    assert f"Note: groups from the crosswalk {crosswalk} (" in text
    # Each crosswalk's own caveat (a crosswalk review: one sentence for all misdescribed them).
    meta = sv.load_crosswalk(crosswalk).attrs["crosswalk"]
    caveat = meta["caveat"]
    assert f"): {caveat}; {meta['amounts']}." in text and "before using it in a tender" in caveat


def test_bids_says_when_commitments_use_illustrative_values(tmp_path: Path) -> None:
    src = tmp_path / "tender.csv"
    src.write_text("supplier_id,stage,measure,quantity,unit,region,date\n"
                   "A,commitment,growth-local-spend,100000,GBP,uk,2024-06-01\n"
                   "B,commitment,jobs-local-fte,1,FTE,uk,2024-06-01\n", encoding="utf-8")
    result = runner.invoke(app, ["bids", str(src)])
    assert result.exit_code == 0, result.output
    # Whose, how much, and that the order turns on it (a supplier's review: one placeholder
    # decided a ranking, and the caveat gave no amount).
    a = sv.value_frame(pd.read_csv(src))["value_gbp"].tolist()
    assert a[0] > a[1]  # A leads on its placeholder alone
    first = sv.money.format_gbp(sv.money.total([a[0]]))
    assert ("Caveat: 1 commitment row(s) use proxy values labelled illustrative; the "
            "commitments of A are valued in part with proxy values labelled illustrative "
            f"(placeholders, not published figures): A {first} of {first} (100%). Without "
            "them the order would be B, A, not A, B. Not for decisions."
            ) in " ".join(result.stdout.split())


def test_value_names_the_bids_command_for_competing_bids_prices(tmp_path: Path) -> None:
    src = tmp_path / "cv.csv"
    src.write_text("contract_id,supplier_id,stage,measure,quantity,unit,region,date,"
                   "contract_value\nT-100,A,commitment,jobs-local-fte,1,FTE,uk,2025-06-01,"
                   "3000000\nT-100,B,commitment,jobs-local-fte,2,FTE,uk,2025-06-01,5000000\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["value", str(src)])
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "socialvalue-tom bids --price SUPPLIER=GBP" in said and "score_bids" not in said


def test_targets_prints_targets_vs_delivered_with_its_notes_in_flags(tmp_path: Path) -> None:
    """`socialvalue-tom targets` shows each contract's committed, delivered, shortfall and
    share as targets_vs_delivered gives them (--by-measure with the quantities), its notes
    naming the command's flags, and writes the whole table with --totals."""
    root = Path(__file__).resolve().parent.parent
    src = root / "examples" / "portfolio.csv"
    out = tmp_path / "targets.csv"
    result = runner.invoke(app, ["targets", str(src), "--by-measure", "--totals", str(out)])
    assert result.exit_code == 0, result.output
    valued = sv.value_frame(pd.read_csv(src), detail=True)
    with pytest.warns(sv.SocialValueWarning):
        want = sv.targets_vs_delivered(valued, by_measure=True)
    text = " ".join(result.stdout.split())

    def figure(x: float) -> str:  # every digit (a supplier's review: 4.1e+06 for 4,100,000)
        return f"{round(x, 6):,.6f}".rstrip("0").rstrip(".")

    for r in want.itertuples():
        assert (f"│ {r.contract_id} │ {r.measure} │ {r.unit} │ {figure(r.committed_quantity)} │ "
                f"{figure(r.delivered_quantity)} │ {sv.money.format_gbp(r.committed_gbp)} │"
                ) in text
    assert "e+0" not in text
    assert "Note: " in text and "--by-measure" not in text.split("Note: ", 1)[0]
    assert "by_measure=True" not in text and "uncommitted_gbp" not in text
    written = pd.read_csv(out)
    groups, total_row = written.iloc[:-1], written.iloc[-1]
    assert groups["measure"].tolist() == want["measure"].tolist()
    assert groups["shortfall_gbp"].round(2).tolist() == [float(x) for x in want["shortfall_gbp"]]
    # A reconciliation review: a Total row, as value --totals has; committed and delivered
    # the rows' amounts added and rounded once (the stage totals), the shortfall the groups'.
    stages = valued["stage"].str.strip()
    assert total_row["contract_id"] == "Total" and pd.isna(total_row["measure"])
    for column, stage in (("committed_gbp", "commitment"), ("delivered_gbp", "delivered")):
        exact = sum((Decimal(float(x)) for x in valued.loc[stages == stage, "value_gbp"]),
                    Decimal(0))
        assert Decimal(str(float(total_row[column]))) == exact.quantize(Decimal("0.01"))
    assert Decimal(str(float(total_row["shortfall_gbp"]))) == sum(want["shortfall_gbp"],
                                                                  Decimal(0))
    assert "│ Total │" in text


def test_targets_needs_contract_and_stage_and_lists_bad_rows(tmp_path: Path) -> None:
    bare = _write(tmp_path, "bare.csv", "measure,quantity,unit,region,date\n"
                  "jobs-local-fte,1,FTE,uk,2024-05-01\n")
    result = runner.invoke(app, ["targets", str(bare)])
    assert result.exit_code == 2 and "no contract_id or stage column" in result.stderr
    # A scripter's review: with a bad row too it exited 1 (bad rows), wrote an issues file and
    # advised --errors collect; the missing columns are found before any row is valued.
    bare_bad = _write(tmp_path, "bare_bad.csv", "measure,quantity,unit,region,date\n"
                      "jobs-local-fte,1,FTE,uk,2024-05-01\njobs-locl,1,FTE,uk,2024-05-01\n")
    result = runner.invoke(app, ["targets", str(bare_bad)])
    assert result.exit_code == 2 and "no contract_id or stage column" in result.stderr
    assert not (tmp_path / "bare_bad.issues.csv").exists()
    # A header written another way is named (an adversarial review: checked before valuing,
    # the near-name hint valuing gives was lost).
    near = _write(tmp_path, "near.csv", "Contract_ID,Stage,measure,quantity,unit,region,date\n"
                  "C1,commitment,jobs-local-fte,1,FTE,uk,2024-05-01\n")
    result = runner.invoke(app, ["targets", str(near)])
    assert result.exit_code == 2
    assert ("the column 'Contract_ID' is named like 'contract_id': rename it; the column "
            "'Stage' is named like 'stage': rename it") in " ".join(result.stderr.split())
    bad = _write(tmp_path, "bad.csv", "contract_id,stage,measure,quantity,unit,region,date\n"
                 "C1,commitment,jobs-local-fte,2,FTE,uk,2024-05-01\n"
                 "C1,delivered,jobs-local-fte,-1,FTE,uk,2024-06-01\n")
    collected = runner.invoke(app, ["targets", str(bad), "--errors", "collect"])
    assert collected.exit_code == 1 and "│ C1 │" in " ".join(collected.stdout.split())
    assert (tmp_path / "bad.issues.csv").is_file()


def test_value_provenance_counts_the_files_rows_with_period_and_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --period the record's input_rows is the file's rows, bad ones too, and
    valued_parts the rows written; valued in chunks (a terminal's progress bar) the count is
    every chunk's, not the first's (it had read 50,000 of 60,000)."""
    from socialvalue_tom import cli

    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,period_start,period_end\n"
                 "jobs-local-fte,12,FTE,uk,2024-01-01,2024-12-31\n"
                 "jobs-local-fte,-1,FTE,uk,2024-05-01,2024-06-30\n"
                 "jobs-local-fte,1,FTE,uk,2024-05-01,2024-06-30\n"
                 "jobs-local-fte,2,FTE,uk,2023-05-01,2023-06-30\n")
    prov = tmp_path / "prov.json"
    result = runner.invoke(app, ["value", str(src), "--period", "period_start,period_end",
                                 "--errors", "collect", "-o", str(tmp_path / "v.csv"),
                                 "--provenance", str(prov)])
    assert result.exit_code == 1, result.output  # one bad row
    record = json.loads(prov.read_text(encoding="utf-8"))
    written = pd.read_csv(tmp_path / "v.csv")
    assert (record["input_rows"], record["valued_parts"], record["rows_not_valued"]) == (
        4, len(written), 1)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(cli, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(cli, "_CHUNK", 2)
    parts = sv.apportion(pd.read_csv(src).drop(index=1))
    monkeypatch.setattr(sys, "stdout", Terminal())
    chunked = cli._value_chunks(parts, "uk-national", sv.Assumptions())
    monkeypatch.undo()
    assert len(parts) == 4 and chunked.attrs["socialvalue_tom"]["input_rows"] == 3
    assert svio_provenance(chunked)["input_rows"] == 3


def svio_provenance(valued: pd.DataFrame) -> dict[str, object]:
    from socialvalue_tom import io as svio

    record = svio.provenance(valued)
    assert record is not None
    return record


def test_verify_values_a_valued_file_again_and_finds_an_edited_amount(tmp_path: Path) -> None:
    """`verify` reads the record a valued file keeps (an .xlsx sheet, Parquet metadata, or the
    --provenance JSON beside a CSV), values the rows again with its settings and editions, and
    exits 1 naming each row whose value_gbp differs to the penny (a value edited by hand)."""
    root = Path(__file__).resolve().parent.parent
    src = str(root / "examples" / "portfolio.csv")
    for out in ("v.xlsx", "v.parquet"):
        made = runner.invoke(app, ["value", src, "-o", str(tmp_path / out),
                                   "--price-year", "2023", "--bound", "low"])
        assert made.exit_code == 0, made.output
        checked = runner.invoke(app, ["verify", str(tmp_path / out)])
        assert checked.exit_code == 0, checked.output
        assert "Verified 32 row(s)" in " ".join(checked.stdout.split())
    csv, record = tmp_path / "v.csv", tmp_path / "v.json"
    runner.invoke(app, ["value", src, "-o", str(csv), "--provenance", str(record)])
    alone = runner.invoke(app, ["verify", str(csv)])
    assert alone.exit_code == 2 and "--provenance" in alone.stderr
    rows = pd.read_csv(csv)
    rows.loc[3, "value_gbp"] += 10_000  # an edited cell
    rows.loc[5, "value_gbp"] += 0.004   # within the penny: the same amount
    rows.to_csv(csv, index=False)
    edited = runner.invoke(app, ["verify", str(csv), "--provenance", str(record)])
    assert edited.exit_code == 1
    text = " ".join(edited.stdout.split())
    assert "1 row(s) of v.csv differ" in text and "│ 3 │ 5 │" in text
    # Settings other than the file's: every changed row is told.
    other = tmp_path / "other.json"
    runner.invoke(app, ["value", src, "-o", str(tmp_path / "o.csv"), "--provenance",
                        str(other), "--price-year", "2025"])
    assert runner.invoke(app, ["verify", str(tmp_path / "v.xlsx"), "--provenance",
                               str(other)]).exit_code == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_verify_finds_rows_relabelled_or_swapped_and_another_run_s_record(
        tmp_path: Path, suffix: str) -> None:
    """An auditor's review: a row replaced by a copy of another (same count, each row values
    as written) and a commitment relabelled as delivered both verified, moving a published
    total by tens of thousands; so did a record of another run. The record keeps a digest of
    the rows as written (their labels and amounts); a file read back in any format matches
    it, and one changed so does not."""
    pytest.importorskip("openpyxl")
    pytest.importorskip("pyarrow")
    from socialvalue_tom import io as svio

    src = _write(tmp_path, "in.csv", "contract_id,supplier_id,stage,measure,quantity,unit,"
                 "region,date\n"
                 "1001,S1,commitment,jobs-local-fte,12,FTE,london,2024-06-01\n"
                 " 1002 ,S2 ,delivered,env-carbon-saved,3500,kgCO2e,uk,2024-07-01\n"
                 "C3,S1,delivered,jobs-local-fte,x,FTE,london,2024-06-01\n"
                 "C3,S1,delivered,growth-local-spend,1000,GBP,Wales,2024-06-01\n")
    out, record = tmp_path / f"v{suffix}", tmp_path / "v.json"
    made = runner.invoke(app, ["value", str(src), "-o", str(out), "--provenance", str(record),
                               "--errors", "collect"])
    assert made.exit_code == 1, made.output  # one bad row, listed
    kept = json.loads(record.read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{64}", kept["rows_digest"])
    assert svio.rows_digest(svio.read_outcomes(out)) == kept["rows_digest"]
    assert runner.invoke(app, ["verify", str(out), "--provenance", str(record)]).exit_code == 0

    def changed(edit: Callable[[pd.DataFrame], None]) -> int:
        rows = svio.read_outcomes(out)
        edit(rows)
        again = tmp_path / f"edited{suffix}"
        svio.write_valuations(rows, again)
        result = runner.invoke(app, ["verify", str(again), "--provenance", str(record)])
        if result.exit_code == 1:
            assert "not those the record was written for" in " ".join(result.stdout.split())
        return result.exit_code

    def relabel(rows: pd.DataFrame) -> None:
        rows.loc[0, "stage"] = "delivered"

    def swap(rows: pd.DataFrame) -> None:
        rows.loc[3] = rows.loc[0]

    def reorder(rows: pd.DataFrame) -> None:
        rows.iloc[:] = rows.iloc[::-1].to_numpy()

    def rewrite(rows: pd.DataFrame) -> None:
        pass  # written again as it was read: the same rows

    assert [changed(f) for f in (relabel, swap, reorder, rewrite)] == [1, 1, 1, 0]
    # Another run's record (the same settings, another input) is told as such.
    other = _write(tmp_path, "other.csv", src.read_text(encoding="utf-8").replace(
        "jobs-local-fte,12,", "jobs-local-fte,15,"))
    runner.invoke(app, ["value", str(other), "-o", str(tmp_path / f"o{suffix}"),
                        "--provenance", str(tmp_path / "o.json"), "--errors", "collect"])
    told = runner.invoke(app, ["verify", str(out), "--provenance", str(tmp_path / "o.json")])
    assert told.exit_code == 1 and "other.csv" in " ".join(told.stdout.split())


def test_verify_notes_a_record_of_another_release_or_without_a_rows_digest(
        tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    out, record = tmp_path / "v.csv", tmp_path / "v.json"
    runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "-o", str(out),
                        "--provenance", str(record)])
    kept = json.loads(record.read_text(encoding="utf-8"))
    del kept["rows_digest"]
    kept["produced_by"] = "socialvalue_tom 0.0.3"
    record.write_text(json.dumps(kept), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(out), "--provenance", str(record)])
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0, result.output
    assert "written by socialvalue_tom 0.0.3; this is socialvalue_tom" in text
    assert "keeps no digest of the rows" in text
    kept["rows_digest"] = "not a digest"
    record.write_text(json.dumps(kept), encoding="utf-8")
    bad = runner.invoke(app, ["verify", str(out), "--provenance", str(record)])
    assert bad.exit_code == 2 and "rows_digest" in bad.stderr


def test_verify_compares_the_figures_behind_the_amounts(tmp_path: Path) -> None:
    """verify compared amounts and editions only: a canonical quantity, a claim share or an
    exclusion edited in the file (what a reader checks the amount against) passed. They are
    compared too, the figures as the numbers written (every digit comes back)."""
    root = Path(__file__).resolve().parent.parent
    csv, record = tmp_path / "v.csv", tmp_path / "v.json"
    made = runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "-o",
                               str(csv), "--provenance", str(record)])
    assert made.exit_code == 0, made.output
    rows = pd.read_csv(csv)
    assert runner.invoke(app, ["verify", str(csv), "--provenance", str(record)]).exit_code == 0
    shared = int(rows["claim_share"].first_valid_index())
    rows.loc[2, "canonical_quantity"] *= 2
    rows.loc[shared, "claim_share"] = 1.0
    rows.to_csv(csv, index=False)
    edited = runner.invoke(app, ["verify", str(csv), "--provenance", str(record)])
    assert edited.exit_code == 1
    text = " ".join(edited.stdout.split())
    assert "2 row(s) of v.csv differ" in text
    assert "canonical_quantity" in text and "claim_share" in text


def test_verify_needs_tables_for_an_edition_of_ones_own(tmp_path: Path) -> None:
    src = _write(tmp_path, "in.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,2,FTE,uk,2024-06-01\n")
    out = tmp_path / "v.parquet"
    assert runner.invoke(app, ["value", str(src), "--tables", str(TINY), "-o",
                               str(out)]).exit_code == 0
    bare = runner.invoke(app, ["verify", str(out)])
    assert bare.exit_code == 2 and "not an embedded edition: give --tables" in bare.stderr
    given = runner.invoke(app, ["verify", str(out), "--tables", str(TINY)])
    assert given.exit_code == 0, given.output


def test_read_provenance_gives_back_the_record_written() -> None:
    from socialvalue_tom import io as svio

    valued = sv.value_frame(pd.read_csv(Path(__file__).resolve().parent.parent / "examples"
                                        / "portfolio.csv"),
                            assumptions={"price_year": 2023, "deadweight": 0.1})
    record = svio.provenance(valued, source="in.csv (sha256 00)")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".xlsx", ".parquet"):
            path = Path(folder) / f"v{suffix}"
            svio.write_valuations(valued, path, source="in.csv (sha256 00)")
            assert svio.read_provenance(path) == record, suffix
        assert svio.read_provenance(svio.write_valuations(valued, Path(folder) / "v.csv")) is None


def test_explain_of_a_valued_file_says_when_its_amount_is_not_the_one_explained(
        tmp_path: Path) -> None:
    """`explain` on a valued file values its rows again: where the file's amount differs (an
    edited cell, other settings) a note says the trace explains another amount."""
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "v.csv"
    runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "-o", str(out)])
    rows = pd.read_csv(out)
    rows.loc[3, "value_gbp"] = 34191.85
    rows.to_csv(out, index=False)
    edited = runner.invoke(app, ["explain", str(out), "--row", "3"])
    assert edited.exit_code == 0, edited.output
    assert "Note: the file says £34,191.85 for this row, not £24,191.85" in " ".join(
        edited.stdout.split())
    kept = runner.invoke(app, ["explain", str(out), "--row", "2"])
    assert "the file says" not in kept.stdout


def test_value_reads_a_sha256_prefixed_pin(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    # A copy: the run lists its bad rows beside its input, which must not be the source tree's
    # (a release review found examples/portfolio.issues.csv in a wheel built after the tests).
    src = tmp_path / "portfolio.csv"
    shutil.copyfile(root / "examples" / "portfolio.csv", src)
    digest = sv.load_table("uk-national", version="2024").digest
    result = runner.invoke(app, ["value", str(src), "--tables",
                                 f"uk-national:2024@sha256:{digest[:12]}", "--carry-forward"])
    # The pin is read: the rows before 2024/25 are then outside the one edition named.
    assert "unknown version" not in result.output
    assert "2024@sha256" not in result.output
    assert not (root / "examples" / "portfolio.issues.csv").exists()


def test_verify_checks_tables_given_against_the_record_and_rows_added_or_removed(
        tmp_path: Path) -> None:
    """--tables is checked edition by edition against the recorded digests (a replaced
    table is no 'edited cell'); a deleted row, a repaired bad row, an edited edition column
    or a non-finite amount are each told, exit 1; the parts of apportioned rows are valued as
    value --period values them (a bad part's siblings have no figures), so an untouched file
    verifies."""
    src = _write(tmp_path, "in.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,2,FTE,uk,2024-06-01\njobs-local,x,FTE,uk,2024-06-01\n"
                 "jobs-local,1,FTE,uk,2024-07-01\n")
    out, record = tmp_path / "v.csv", tmp_path / "v.json"
    runner.invoke(app, ["value", str(src), "--tables", str(TINY), "--errors", "collect",
                        "-o", str(out), "--provenance", str(record)])
    other = tmp_path / "other.yaml"
    other.write_text(TINY.read_text(encoding="utf-8").replace(
        "uk: {value: 20000.00", "uk: {value: 21000.00"), encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_text(
        (TINY.parent / "tiny-deflator.index.yaml").read_text(encoding="utf-8"),
        encoding="utf-8")
    assert runner.invoke(app, ["verify", str(out), "--provenance", str(record), "--tables",
                               str(TINY)]).exit_code == 0
    replaced = runner.invoke(app, ["verify", str(out), "--provenance", str(record),
                                   "--tables", str(other)])
    assert replaced.exit_code == 2 and "not the" in replaced.stderr
    rows = pd.read_csv(out)
    cases = {"deleted": rows.drop(index=2), "edition": rows.assign(version=["2025", "", "2024"]),
             "repaired": rows.assign(quantity=[2, 1, 1]).assign(
                 value_gbp=[rows["value_gbp"][0], rows["value_gbp"][2], rows["value_gbp"][2]]),
             "infinite": rows.assign(value_gbp=[float("inf"), float("nan"),
                                                rows["value_gbp"][2]])}
    for name, edited in cases.items():
        path = tmp_path / f"{name}.csv"
        edited.to_csv(path, index=False)
        told = runner.invoke(app, ["verify", str(path), "--provenance", str(record),
                                   "--tables", str(TINY)])
        assert told.exit_code == 1, (name, told.output)
    assert "version" in runner.invoke(app, [
        "verify", str(tmp_path / "edition.csv"), "--provenance", str(record), "--tables",
        str(TINY)]).stdout
    periods = _write(tmp_path, "p.csv", "measure,quantity,unit,region,period_start,period_end\n"
                     "jobs-local-fte,12,FTE,uk,2023-01-01,2023-12-31\n"
                     "jobs-local-fte,2,FTE,uk,2024-05-01,2024-06-30\n")
    pout, prec = tmp_path / "p.out.csv", tmp_path / "p.json"
    runner.invoke(app, ["value", str(periods), "--period", "period_start,period_end",
                        "--errors", "collect", "-o", str(pout), "--provenance", str(prec)])
    checked = runner.invoke(app, ["verify", str(pout), "--provenance", str(prec)])
    assert checked.exit_code == 0, checked.output


def test_read_provenance_refuses_what_is_not_a_record(tmp_path: Path) -> None:
    from socialvalue_tom import io as svio

    for text in ("[1, 2]", '{"assumptions": {}, "editions": ["x"]}', "not json"):
        path = tmp_path / "r.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(sv.InputFileError, match="provenance record"):
            svio.read_provenance(path)


def test_verify_compares_gross_amounts_and_reads_every_kind_of_record(tmp_path: Path) -> None:
    """A gross_gbp edited by hand is told (the new valuation has the detail columns); a row
    kept unvalued for a period that could not be read stays so; a period_row that is not a
    row number stops it (it had looped); value_file's Parquet record is read; a price index
    edited beside its table stops it, naming the index."""
    root = Path(__file__).resolve().parent.parent
    out, record = tmp_path / "g.csv", tmp_path / "g.json"
    runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "-o", str(out),
                        "--provenance", str(record)])
    rows = pd.read_csv(out)
    rows.loc[2, "gross_gbp"] = 999_999_999
    rows.to_csv(tmp_path / "g2.csv", index=False)
    told = runner.invoke(app, ["verify", str(tmp_path / "g2.csv"), "--provenance", str(record)])
    assert told.exit_code == 1 and "gross_gbp" in told.stdout
    src = _write(tmp_path, "pd.csv", "contract_id,measure,quantity,unit,region,date,"
                 "period_start,period_end\n"
                 "C1,jobs-local-fte,12,FTE,london,2024-06-01,2024-04-01,2024-09-30\n"
                 "C1,jobs-priority-ltu,2,FTE,london,2024-06-01,notadate,2024-09-30\n"
                 "C1,jobs-priority-ltu,1,FTE,london,2024-06-01,2024-04-01,2024-09-30\n")
    pout, prec = tmp_path / "pdo.csv", tmp_path / "pdo.json"
    runner.invoke(app, ["value", str(src), "--period", "period_start,period_end", "--errors",
                        "collect", "-o", str(pout), "--provenance", str(prec)])
    assert runner.invoke(app, ["verify", str(pout), "--provenance", str(prec)]).exit_code == 0
    parts = pd.read_csv(pout)
    parts.loc[0, "period_row"] = None
    parts.to_csv(tmp_path / "pdo2.csv", index=False)
    blank = runner.invoke(app, ["verify", str(tmp_path / "pdo2.csv"), "--provenance", str(prec)])
    assert blank.exit_code == 2 and "not row numbers" in blank.stderr
    from socialvalue_tom.streaming import value_file

    value_file(root / "examples" / "portfolio.csv", tmp_path / "st.parquet", progress=False)
    assert runner.invoke(app, ["verify", str(tmp_path / "st.parquet")]).exit_code == 0
    folder = tmp_path / "ix"
    folder.mkdir()
    for name in ("tiny.yaml", "tiny-deflator.index.yaml"):
        (folder / name).write_text((TINY.parent / name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    one = _write(tmp_path, "one.csv", "measure,quantity,unit,region,date\n"
                 "jobs-local,2,FTE,uk,2024-06-01\n")
    runner.invoke(app, ["value", str(one), "--tables", str(folder / "tiny.yaml"), "-o",
                        str(tmp_path / "ix.parquet")])
    index = folder / "tiny-deflator.index.yaml"
    index.write_text(index.read_text(encoding="utf-8").replace("2025: 102.5", "2025: 110.0"),
                     encoding="utf-8")
    moved = runner.invoke(app, ["verify", str(tmp_path / "ix.parquet"), "--tables",
                                str(folder / "tiny.yaml")])
    assert moved.exit_code == 2 and "price index" in moved.stderr


def test_errors_prints_the_reference_section_an_error_names() -> None:
    """A newcomer from a wheel: messages ended "[see docs/errors.md#code]", a page a pip
    install does not have. The command line names `socialvalue-tom errors CODE`, which prints
    the section from the reference the wheel carries; every error class has one."""
    listed = invoke("errors")
    assert listed.exit_code == 0, listed.output
    codes = {line.split(":", 1)[0] for line in listed.stdout.splitlines()}

    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for c in cls.__subclasses__() for s in subclasses(c))]

    for cls in subclasses(sv.SocialValueError):
        assert cls.code in codes, cls  # type: ignore[attr-defined]
    one = invoke("errors", "unknown-region")
    assert one.exit_code == 0
    assert one.stdout.startswith("## unknown-region") and "UnknownRegionError" in one.stdout
    assert "## unit-error" not in one.stdout  # the section alone
    assert invoke("errors", "#Unknown-Region").stdout == one.stdout  # as a link writes it
    wrong = invoke("errors", "unknwn-region")
    assert wrong.exit_code == 2 and "did you mean unknown-region" in wrong.stderr
    # A diff review: the last section ran on into the warnings and the row issue codes; an
    # issues file's codes (bad-date) were "no error code".
    last = invoke("errors", "rule-error").stdout
    assert "# Warnings" not in last and "| code |" not in last
    issue = invoke("errors", "bad-date")
    assert issue.exit_code == 0 and issue.stdout.startswith("Row issue bad-date (fields ")
    assert "Row issue codes (an issues file's code column): missing, " in listed.stdout
    both = invoke("errors", "unknown-region").stdout
    assert "UnknownRegionError" in both and "Row issue unknown-region" in both


def test_csv_files_for_reading_keep_formulas_text(tmp_path: Path) -> None:
    """A diff review: the totals CSV, made for Excel (it has a byte order mark), wrote a
    supplier id '=cmd|...' as it was, which Excel runs as a formula. Such text cells go
    behind an apostrophe; numbers, negative amounts among them, are as they are."""
    src = _write(tmp_path, "p.csv", "measure,quantity,unit,region,date,supplier_id\n"
                 "jobs-local,1,FTE,uk,2024-06-01,=cmd|' /c calc'!A0\n"
                 "env-carbon-added,1,tCO2e,uk,2024-06-01,-neg\n")
    out = tmp_path / "t.csv"
    assert invoke("value", src, "--tables", TINY, "--by", "supplier", "--totals",
                  out).exit_code == 0
    written = pd.read_csv(out, dtype=str)
    assert written["supplier_id"].tolist() == ["'-neg", "'=cmd|' /c calc'!A0", "Total"]
    assert written["net_gbp"].tolist()[0].startswith("-")  # a negative amount, not text


def test_value_does_not_pass_on_openpyxl_s_warnings_about_formatting(tmp_path: Path) -> None:
    """A council template with drop-down lists (data validation kept in an extension) made
    openpyxl warn 'Data Validation extension is not supported and will be removed', from a
    site-packages path: read as if the supplier's file would be changed. The reader never
    uses formatting: the command line keeps those warnings to itself."""
    pytest.importorskip("openpyxl")
    import warnings
    import zipfile

    rows = pd.DataFrame({"measure": ["env-carbon-saved"], "quantity": [1.0], "unit": ["tCO2e"],
                         "region": ["uk"], "date": ["2024-06-01"]})
    plain = sv.io.write_valuations(rows, tmp_path / "plain.xlsx")
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://'
           b'schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations '
           b'count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           b'<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$1:'
           b'$A$9</xm:f></x14:formula1><xm:sqref>B2:B9</xm:sqref></x14:dataValidation>'
           b'</x14:dataValidations></ext></extLst>')
    book = tmp_path / "template.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(book, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", ext + b"</worksheet>")
            out.writestr(info, data)
    with warnings.catch_warnings(record=True) as told:
        warnings.simplefilter("always")
        sv.io.read_outcomes(book)  # the library itself passes them on
    assert any("extension is not supported" in str(w.message) for w in told)
    with warnings.catch_warnings(record=True) as told:
        warnings.simplefilter("always")
        result = runner.invoke(app, ["value", str(book)])
    assert result.exit_code == 0, result.output
    assert not [w for w in told if "not supported" in str(w.message)]
    assert "not supported" not in result.stderr


def test_value_when_the_output_is_open_in_excel_says_so_once_and_keeps_its_exit_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to remove or replace a file Excel holds open. A run with bad rows
    that then could not remove the earlier output printed a raw '[Errno 13]' as a second
    error and exited 2, not 1: it now says the file still holds an earlier run's results
    (and that it may be open elsewhere) and exits as its issues say."""
    src = tmp_path / "in.csv"
    src.write_text("measure,quantity,unit,region,date\n"
                   "env-carbon-saved,x,tCO2e,uk,2024-06-01\n", encoding="utf-8")
    out = tmp_path / "locked.csv"
    out.write_text("an earlier run's results\n", encoding="utf-8")
    real_unlink = Path.unlink

    def locked_unlink(self: Path, missing_ok: bool = False) -> None:
        if self.name == "locked.csv":
            raise PermissionError(13, "The process cannot access the file because it is "
                                  "being used by another process", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", locked_unlink)
    result = runner.invoke(app, ["value", str(src), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "Errno" not in result.stderr
    assert re.search(r"could not remove the existing .*locked\.csv .*still\s+holds an "
                     r"earlier run's results.*open in another program", result.stderr, re.S)
    assert out.read_text(encoding="utf-8") == "an earlier run's results\n"


def test_explain_a_valued_file_uses_the_settings_and_editions_its_record_names(
        tmp_path: Path) -> None:
    """An auditor's review: `explain` of an .xlsx valued with --price-year 2025 explained the
    row in 2023 prices and then noted the file said otherwise: the trace did not explain the
    published figure. Without settings of its own it now takes the record's (and says so);
    settings given still win, with the note."""
    pytest.importorskip("openpyxl")
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "py25.xlsx"
    made = runner.invoke(app, ["value", str(root / "examples" / "portfolio.csv"), "-o", str(out),
                               "--price-year", "2025", "--discount-base-year", "2023"])
    assert made.exit_code == 0, made.output
    held = pd.read_excel(out)["value_gbp"].iloc[1]
    told = runner.invoke(app, ["explain", str(out), "--row", "1"])
    text = " ".join(told.stdout.split())
    assert told.exit_code == 0, told.output
    assert "Settings and editions from py25.xlsx's record" in text
    assert "price_year 2025" in text and "(2025 prices; unrounded" in text
    assert f"= £{held:,.2f}" in text and "Note: the file says" not in text
    given = runner.invoke(app, ["explain", str(out), "--row", "1", "--price-year", "2024"])
    text = " ".join(given.stdout.split())
    assert "(2024 prices; unrounded" in text and "Note: the file says" in text
    assert "from py25.xlsx's record" not in text


def test_value_to_csv_with_settings_and_no_record_says_the_file_keeps_none(
        tmp_path: Path) -> None:
    """An auditor's review: a CSV valued with --price-year 2030 --bound least-favourable had
    the same header as a default run, and nothing said the settings were kept nowhere."""
    root = Path(__file__).resolve().parent.parent
    src = str(root / "examples" / "portfolio.csv")
    out = tmp_path / "x.csv"
    told = runner.invoke(app, ["value", src, "-o", str(out), "--price-year", "2025",
                               "--bound", "least-favourable"])
    text = " ".join(told.stdout.split())
    assert told.exit_code == 0, told.output
    assert ("Note: x.csv keeps no record of what valued it (price_year 2025, bound "
            "least-favourable): write one beside it with --provenance") in text
    for extra in ([], ["--provenance", str(tmp_path / "x.json")]):
        quiet = runner.invoke(app, ["value", src, "-o", str(out), *extra])
        assert "keeps no record" not in quiet.stdout


def test_explain_a_workbook_with_a_provenance_sheet_of_its_own_explains_it_as_given(
        tmp_path: Path) -> None:
    """An adversarial review: `explain` without options read the record of any .xlsx, and a
    supplier's own sheet named Provenance (or a record of settings another release knows)
    stopped it (exit 2) though nothing was asked of the record."""
    from conftest import one_row_workbook

    wb, _ = one_row_workbook("Returns")
    own = wb.create_sheet("Provenance")
    own.append(["Source", "Who"])
    own.append(["supplier return", "J. Smith"])
    path = tmp_path / "ret.xlsx"
    wb.save(path)
    result = runner.invoke(app, ["explain", str(path), "--row", "0"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "record could not be read" in text and "= £" in text


def test_explain_with_period_names_the_netted_parts_by_their_input_rows(tmp_path: Path) -> None:
    """A second adversarial review: with --period the exclusion step named positions of the
    split frame (rows 4 and 5 of a 3-row file); it names the parts' input rows."""
    src = _write(tmp_path, "p.csv", "contract_id,measure,quantity,unit,region,start,end\n"
                 "C0,env-carbon-saved,1,tCO2e,uk,2024-06-01,2024-06-30\n"
                 "C1,jobs-local-fte,12,FTE,london,2023-10-01,2024-09-30\n"
                 "C1,jobs-priority-ltu,2,FTE,london,2023-10-01,2024-09-30\n")
    result = runner.invoke(app, ["explain", str(src), "--period", "start,end", "--row", "1"])
    assert result.exit_code == 0, result.output
    steps = [x for x in result.stdout.splitlines() if "netted against" in x]
    assert len(steps) == 2 and all("at input row 2 (jobs-priority-ltu" in x for x in steps)


def test_a_file_with_dates_only_month_first_reads_is_not_pointed_to_day_first(
        tmp_path: Path) -> None:
    """A data-quality steward's review: a US file's refused dates drew a note naming
    --day-first, which then read 07/01/2024 as 7 January. The note now says the file writes
    dates month first and to write ISO dates; --day-first refuses the column (exit 2)."""
    src = tmp_path / "us.csv"
    src.write_text("measure,quantity,unit,region,date\n"
                   "jobs-local-fte,10,FTE,london,06/30/2024\n"
                   "jobs-local-fte,10,FTE,london,07/01/2024\n", encoding="utf-8")
    plain = invoke("value", src, "--errors", "collect")
    said = " ".join(plain.stderr.split())
    assert plain.exit_code == 1 and "--day-first reads such dates" not in said
    assert ("Note: 1 date(s) are dates only when read month first (06/30/2025, as the US "
            "writes dates): --month-first reads the file's dates so, or write them as "
            "YYYY-MM-DD (--day-first refuses a column holding such a date).") in said
    flagged = invoke("value", src, "--day-first", "--errors", "collect")
    assert flagged.exit_code == 2 and "cannot be read day first" in flagged.stderr
    # The refusal names the flag that reads the file, in the command's words.
    assert "read it month first (--month-first), or write the dates as YYYY-MM-DD" in " ".join(
        flagged.stderr.split())


def test_month_first_reads_us_dates_and_the_record_says_so(tmp_path: Path) -> None:
    """A US-locale file (07/01/2024 is 1 July) is read with --month-first: the output holds
    the ISO dates meant and the same values as the file written so; the record says how its
    dates were read. A UK date in it (30/06/2024) refuses the column; both flags are a usage
    error."""
    src = tmp_path / "us.csv"
    src.write_text("contract_id,supplier_id,stage,measure,quantity,unit,region,date\n"
                   "C1,S1,commitment,jobs-local-fte,10,FTE,london,06/30/2024\n"
                   "C1,S1,delivered,jobs-local-fte,10,FTE,london,07/01/2024\n",
                   encoding="utf-8")
    out, record = tmp_path / "v.csv", tmp_path / "p.json"
    done = invoke("value", src, "--month-first", "-o", out, "--provenance", record)
    assert done.exit_code == 0, done.output
    assert pd.read_csv(out, dtype=str)["date"].tolist() == ["2024-06-30", "2024-07-01"]
    _valued_as_the_file_written_iso(src, out, {"06/30/2024": "2024-06-30",
                                               "07/01/2024": "2024-07-01"}, tmp_path)
    from socialvalue_tom import io as svio

    said = svio.read_provenance(record)
    assert said is not None and said["input"].endswith(
        "dates written month first read as such (--month-first: 2 cell(s))")
    uk = tmp_path / "uk.csv"
    uk.write_text(src.read_text(encoding="utf-8").replace("06/30/2024", "30/06/2024"),
                  encoding="utf-8")
    refused = invoke("value", uk, "--month-first")
    assert refused.exit_code == 2
    assert "cannot be read month first: it holds '30/06/2024'" in " ".join(
        refused.stderr.split())
    assert "read it day first (--day-first), or write" in " ".join(refused.stderr.split())
    both = invoke("value", src, "--month-first", "--day-first")
    assert both.exit_code == 2 and "give one" in both.stderr
    _each_command_reads_the_dates_with(src, "--month-first", tmp_path)


def _valued_as_the_file_written_iso(src: Path, out: Path, iso_dates: dict[str, str],
                                    tmp_path: Path) -> None:
    """``out`` (``src`` valued with its dates read) holds the values of ``src`` with each
    date written as ``iso_dates`` gives it."""
    text = src.read_text(encoding="utf-8")
    for given, iso in iso_dates.items():
        text = text.replace(given, iso)
    written = tmp_path / "iso.csv"
    written.write_text(text, encoding="utf-8")
    assert invoke("value", written, "-o", tmp_path / "i.csv").exit_code == 0
    assert pd.read_csv(tmp_path / "i.csv")["value_gbp"].tolist() == pd.read_csv(out)[
        "value_gbp"].tolist()


def _each_command_reads_the_dates_with(src: Path, flag: str, tmp_path: Path) -> None:
    """explain, targets, bids and report refuse ``src``'s dates without ``flag``, and read
    them with it."""
    for command in (["explain", str(src), "--row", "1"], ["targets", str(src)],
                    ["bids", str(src)], ["report", str(src), "-o", str(tmp_path / "r.html")]):
        assert invoke(*command).exit_code != 0, command
        took = invoke(*command, flag)
        assert took.exit_code == 0, (command, took.output)


def test_day_first_reads_uk_dates_and_the_record_says_so(tmp_path: Path) -> None:
    """A council officer's review: every dd/mm/yyyy date of a CSV saved by Excel in a UK
    locale was refused row by row, with no way to read them all. A note under the problems
    names --day-first; with it the dates are read as the days they mean, the output holds
    ISO dates, the record says how they were read, and the file verifies and explains."""
    src = tmp_path / "uk.csv"
    src.write_text("contract_id,supplier_id,stage,measure,quantity,unit,region,date\n"
                   "C1,S1,commitment,jobs-local-fte,2,FTE,uk,01/04/2025\n"
                   "C1,S1,delivered,jobs-local-fte,1,FTE,uk,30/06/2025\n"
                   "C1,S1,delivered,env-carbon-saved,3,tCO2e,uk,03.04.2025\n", encoding="utf-8")
    plain = invoke("value", src)
    assert plain.exit_code == 1
    assert ("Note: 3 date(s) are written day first, as in the UK: --day-first reads such "
            "dates (30/06/2025) as the days they mean.") in " ".join(plain.stderr.split())
    out, record = tmp_path / "v.csv", tmp_path / "p.json"
    done = invoke("value", src, "--day-first", "-o", out, "--provenance", record)
    assert done.exit_code == 0, done.output
    written = pd.read_csv(out, dtype=str)
    assert written["date"].tolist() == ["2025-04-01", "2025-06-30", "2025-04-03"]
    _valued_as_the_file_written_iso(src, out, {"01/04/2025": "2025-04-01",
                                               "30/06/2025": "2025-06-30",
                                               "03.04.2025": "2025-04-03"}, tmp_path)
    from socialvalue_tom import io as svio

    said = svio.read_provenance(record)
    assert said is not None and said["input"].endswith(
        ", dates written day first read as such (--day-first: 3 cell(s))")
    assert invoke("verify", out, "--provenance", record).exit_code == 0
    _each_command_reads_the_dates_with(src, "--day-first", tmp_path)
    assert "for date 2025-06-30" in invoke("explain", src, "--row", "1", "--day-first").stdout
    # Period columns named otherwise are read day first too; a date the flag leaves alone (a
    # time of day) gets no note naming the flag (an adversarial review: both did).
    periods = tmp_path / "per.csv"
    periods.write_text("measure,quantity,unit,region,from,to\n"
                       "jobs-local-fte,1,FTE,uk,01/01/2025,30/06/2025\n", encoding="utf-8")
    assert "--day-first reads" in invoke("value", periods, "--period", "from,to").stderr
    took = invoke("value", periods, "--period", "from,to", "--day-first")
    assert took.exit_code == 0, took.output
    timed = tmp_path / "t.csv"
    timed.write_text("measure,quantity,unit,region,date\n"
                     "jobs-local-fte,1,FTE,uk,30/06/2025 09:00\n", encoding="utf-8")
    for args in ([], ["--day-first"]):
        told = invoke("value", timed, *args)
        assert told.exit_code == 1 and "--day-first reads" not in told.stderr


def test_value_by_group_notes_contracts_spread_over_groups(tmp_path: Path) -> None:
    """SV per £ of a group sets its rows against the whole value of each contract with a row
    in it: a note under the totals says where a contract spans groups, naming --by contract."""
    src = tmp_path / "s.csv"
    src.write_text("contract_id,stage,measure,quantity,unit,region,date,contract_value\n"
                   "C1,delivered,jobs-local-fte,10,FTE,england,2025-06-01,2400000\n"
                   "C1,delivered,jobs-local-fte,0.05,FTE,wales,2025-06-01,2400000\n",
                   encoding="utf-8")
    said = " ".join(invoke("value", src, "--by", "region").stdout.split())
    assert ("Note: 1 contract(s) have rows in more than one group: each group's SV per £ sets "
            "its rows' net against the whole value of every contract with a row in it") in said
    assert "(--by contract, each contract's ratio is its own)" in said
    assert "more than one group" not in invoke("value", src, "--by", "contract").stdout


def test_library_warnings_are_printed_as_notes_in_the_commands_words(tmp_path: Path) -> None:
    """A library warning (here: a column of the caller's replaced by the valuation's) was
    printed in Python's form, a path into the command line's own code, then the warning's
    class; it is a note on stderr."""
    src = tmp_path / "v.csv"
    src.write_text("measure,quantity,unit,region,date,version\n"
                   "jobs-local-fte,10,FTE,london,2024-06-30,template v3\n", encoding="utf-8")
    result = invoke("value", src)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("note: the input has column(s) 'version', which the "
                                    "valuation writes")
    assert "SocialValueWarning" not in result.stderr and ".py:" not in result.stderr


def test_targets_by_measure_says_its_quantities_are_after_double_counting(
        tmp_path: Path) -> None:
    """A contract manager's review: 30 FTE of local jobs committed read 24 (the 6 FTE of
    priority hires counted under their own measure), the column saying nothing of it."""
    src = tmp_path / "t.csv"
    src.write_text("contract_id,stage,measure,quantity,unit,region,date\n"
                   "C1,commitment,jobs-local-fte,30,FTE,uk,2024-06-30\n"
                   "C1,commitment,jobs-priority-ltu,6,FTE,uk,2024-06-30\n", encoding="utf-8")
    result = invoke("targets", src, "--by-measure")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert re.search(r"│ C1 +│ jobs-local-fte +│ FTE +│ +24 │", result.stdout)
    assert ("Note: “Committed qty” and “Delivered qty” are counted after double counting "
            "(claim_share)") in said
    alone = tmp_path / "a.csv"
    alone.write_text("\n".join(src.read_text(encoding="utf-8").splitlines()[:2]) + "\n",
                     encoding="utf-8")
    assert "after double counting" not in invoke("targets", alone, "--by-measure").stdout


def test_a_csv_missing_columns_is_named_with_what_its_header_holds(tmp_path: Path) -> None:
    """A data-quality steward's review: in a loop over forty returns, "input is missing
    required column(s)" named no file, and a file separated by '|' read as one column was
    not said to be one."""
    src = tmp_path / "supplier-7.csv"
    src.write_text("measure|quantity|unit|region|date\njobs-local-fte|1|FTE|uk|2024-06-01\n",
                   encoding="utf-8")
    result = invoke("value", src)
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert said.startswith("error: supplier-7.csv is missing required column(s) measure, "
                           "quantity, unit, region, date")
    assert ("the header 'measure|quantity|unit|region|date' holds measure, quantity, unit, "
            "region, date as one column separated by '|': separate the columns with commas"
            ) in said


def test_value_by_year_says_once_that_the_files_own_year_column_is_not_read(
        tmp_path: Path) -> None:
    """An adversarial review: --by year on a file with a calendar year column warned twice,
    in the library's words ("by='year'"). One note, in the command's."""
    src = tmp_path / "y.csv"
    src.write_text("measure,quantity,unit,region,date,year\n"
                   "jobs-local-fte,1,FTE,uk,2024-02-01,2024\n", encoding="utf-8")
    result = invoke("value", src, "--by", "year")
    assert result.exit_code == 0, result.output
    assert result.output.count("own year column is not read") == 1
    assert "by='year'" not in result.output


def test_value_by_quarter_with_period_notes_rows_spanning_quarters(tmp_path: Path) -> None:
    """A year's row read with --period is one part dated its first day: --by quarter put all
    of it in Q1 with no word. A note counts such rows; quarterly rows get none."""
    src = tmp_path / "p.csv"
    src.write_text("measure,quantity,unit,region,period_start,period_end\n"
                   "env-carbon-saved,4,tCO2e,uk,2024-04-01,2025-03-31\n"
                   "env-carbon-saved,4,tCO2e,uk,2024-07-01,2024-09-30\n", encoding="utf-8")
    result = invoke("value", src, "--by", "quarter", "--period", "period_start,period_end")
    assert result.exit_code == 0, result.output
    assert ("Note: 1 valued row(s) report a period running over more than one financial "
            "quarter: each counts whole in the quarter of its first day") in " ".join(
                result.stdout.split())
    src.write_text("measure,quantity,unit,region,period_start,period_end\n"
                   "env-carbon-saved,4,tCO2e,uk,2024-07-01,2024-09-30\n", encoding="utf-8")
    quarterly = invoke("value", src, "--by", "quarter", "--period", "period_start,period_end")
    assert quarterly.exit_code == 0 and "more than one financial quarter" not in quarterly.output


def test_value_by_quarter_totals_each_financial_quarter(tmp_path: Path) -> None:
    """A skills lead's review: a quarterly breakdown needed a file per quarter. --by quarter
    totals each UK financial quarter of the rows' dates, in time order, pairs with another
    --by, and says once that the file's own quarter column is not read."""
    src = tmp_path / "q.csv"
    src.write_text("stage,measure,quantity,unit,region,date,quarter\n"
                   "delivered,jobs-local-fte,1,FTE,uk,2024-07-01,Q2\n"
                   "delivered,jobs-local-fte,1,FTE,uk,2024-06-30,Q1\n"
                   "commitment,jobs-local-fte,1,FTE,uk,2025-01-01,Q4\n", encoding="utf-8")
    result = invoke("value", src, "--by", "quarter")
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if "/25 Q" in x]
    assert [x.split()[1] for x in lines] == ["2024/25", "2024/25", "2024/25"]
    assert [x.split()[2] for x in lines] == ["Q1", "Q2", "Q4"]
    assert "Social value by financial quarter" in result.stdout
    assert result.output.count("own quarter column is not read") == 1
    paired = invoke("value", src, "--by", "quarter", "--by", "stage")
    assert paired.exit_code == 0, paired.output
    assert "2024/25 Q4 │ commitment" in paired.stdout


def test_bids_says_how_a_workbook_was_read_once(tmp_path: Path) -> None:
    """An adversarial review: bids printed a workbook's hidden-row note as it was read and
    again from the scoring trace, the second time in the library's words."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "tender.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["supplier_id", "stage", "measure", "quantity", "unit", "region", "date"])
    for supplier, fte in (("A", 3), ("B", 4), ("B", 1)):
        ws.append([supplier, "commitment", "jobs-local-fte", fte, "FTE", "uk", "2025-06-01"])
    ws.row_dimensions[4].hidden = True
    wb.save(path)
    for args in ([], ["--trace"]):
        result = invoke("bids", path, *args)
        assert result.exit_code == 0, result.output
        assert result.output.count("are hidden in Excel") == 1, args
