"""Reading outcome files and writing valuations (socialvalue_tom.io)."""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
import re
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from hypothesis import given
from hypothesis import strategies as st

import socialvalue_tom as sv
from socialvalue_tom import io as svio
from socialvalue_tom import money
from socialvalue_tom._text import key_text
from socialvalue_tom.frame import value_frame

HEADER = "measure,quantity,unit,region,date,contract_id,confidence\n"
ROWS = [
    "jobs-local,2,FTE,london,2024-05-01,007,A\n",
    "env-carbon,1.5,tCO2e,england,2024-06-30,12,B\n",
    "social-volunteering,10,hour,scotland,2025-01-15,0012,\n",
]



def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_read_csv_when_codes_look_numeric_keeps_them_as_text(tmp_path: Path) -> None:
    """Contract codes and dates stay strings; quantities become numbers."""
    df = svio.read_outcomes(_write(tmp_path / "o.csv", HEADER + "".join(ROWS)))
    assert df["contract_id"].tolist() == ["007", "12", "0012"]
    assert df["date"].tolist() == ["2024-05-01", "2024-06-30", "2025-01-15"]
    assert df["quantity"].dtype == np.float64
    for col in ("measure", "unit", "region", "date", "contract_id", "confidence"):
        assert pd.api.types.is_string_dtype(df[col].dtype), col


def test_read_csv_when_file_has_bom_drops_it(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (Excel's 'CSV UTF-8') does not end up in the first column name."""
    df = svio.read_outcomes(_write(tmp_path / "o.csv", HEADER + ROWS[0], "utf-8-sig"))
    assert df.columns[0] == "measure"
    assert df.loc[0, "measure"] == "jobs-local"


def test_read_csv_when_bytes_are_not_utf8_names_file_and_position(tmp_path: Path) -> None:
    """Latin-1 bytes raise InputFileError naming the file, the bytes and the fix."""
    path = _write(tmp_path / "o.csv", HEADER + "jobs-local,2,FTE,Gwynedd £,2024-05-01,1,A\n",
                  "latin-1")
    with pytest.raises(svio.InputFileError) as info:
        svio.read_outcomes(path)
    assert str(path) in str(info.value)
    assert "UTF-8" in str(info.value)
    assert isinstance(info.value, sv.OutcomeError)
    assert info.value.path == str(path)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_read_csv_when_bytes_are_not_utf8_far_in_then_error_names_their_byte_and_line(
        tmp_path: Path, newline: bytes) -> None:
    """pandas counts the position of undecodable bytes from its decode buffer: far into a file
    it was wrong by a megabyte. The error gives the byte offset from the start of the file and
    the line, from every reader (UTF-8 text before them is counted by its bytes)."""
    row = "jobs-local,1,FTE,london,2024-05-01,Café £\n".encode()
    data = (b"measure,quantity,unit,region,date,evidence\n" + row * 30_000
            + b"jobs-local,1,FTE,london,2024-05-01,Caf\xe9\n").replace(b"\n", newline)
    path = tmp_path / "o.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    readers = (svio.read_outcomes, lambda p: list(svio.iter_outcome_batches(p, chunksize=7_000)))
    for read in readers:
        with pytest.raises(svio.InputFileError, match=rf"bytes b'\\xe9' on line 30002 \(byte "
                                                      rf"{offset} of the file; 'é' in the "
                                                      r"Windows encoding Excel's plain 'CSV' "
                                                      r"saves with\) are not UTF-8: "
                                                      "save the file as 'CSV UTF-8'") as info:
            read(path)
        assert info.value.details["line"] == 30_002
        assert info.value.details["byte"] == offset


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [("o.txt", "a,b\n", "unknown file type"), ("missing.csv", None, "no such file"),
     ("empty.csv", "", "empty"), ("blank.csv", "\n\n", "no header row")],
)
def test_read_outcomes_when_file_is_unusable_raises_input_file_error(
        tmp_path: Path, name: str, content: str | None, words: str) -> None:
    """Unknown extension, missing, empty or blank files raise InputFileError naming the file."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(svio.InputFileError, match=words) as info:
        svio.read_outcomes(path)
    assert str(path) in str(info.value)


def test_read_parquet_when_columns_are_typed_returns_text_columns(tmp_path: Path) -> None:
    """date32 dates and integer codes in Parquet come back as ISO strings and text codes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "measure": pa.array(["jobs-local", "env-carbon"]).dictionary_encode(),
        "quantity": [1.0, 2.0], "unit": ["FTE", "tCO2e"], "region": ["uk", "uk"],
        "date": pa.array([dt.date(2024, 5, 1), dt.date(2024, 6, 1)], pa.date32()),
        "contract_id": pa.array([7, 12], pa.int64()),
    })
    pq.write_table(table, tmp_path / "o.parquet")
    df = svio.read_outcomes(tmp_path / "o.parquet")
    assert df["date"].tolist() == ["2024-05-01", "2024-06-01"]
    assert df["contract_id"].tolist() == ["7", "12"]
    assert df["measure"].tolist() == ["jobs-local", "env-carbon"]


# -- Whole numbers with gaps are read exactly, past what a float holds ----------------------

BIG_IDS = [9007199254740993, None, 9007199254740992, 12345678901234567, None, 7]
HUGE_IDS = [12345678901234567891, None, 5]  # past int64


def _ids_csv(tmp_path: Path, ids: list[int | None]) -> Path:
    path = tmp_path / "ids.csv"
    path.write_text("outcome_id,measure,quantity,unit,region,date\n" + "".join(
        f"{'' if i is None else i},jobs-local-fte,1,FTE,uk,2024-05-01\n" for i in ids),
        encoding="utf-8")
    return path


@pytest.mark.parametrize("ids", [BIG_IDS, HUGE_IDS], ids=["int64", "uint64"])
def test_read_csv_when_whole_numbers_with_gaps_pass_2_53_reads_them_exactly(
        tmp_path: Path, ids: list[int | None]) -> None:
    """pandas reads whole numbers with an empty cell as floats: 17-digit ids in a column of
    the caller's own came back rounded, two of them one number (past int64, as text with
    "" for the empty cells). Whole file and batches alike, and through value_file."""
    path = _ids_csv(tmp_path, ids)
    whole = svio.read_outcomes(path)["outcome_id"]
    assert whole.dtype.kind in "iu" and whole.isna().tolist() == [i is None for i in ids]
    assert [None if pd.isna(v) else int(v) for v in whole] == ids
    types = svio.csv_column_types(path, chunksize=2)
    assert types == {"outcome_id": "Int64" if ids is BIG_IDS else "UInt64"}
    batches = [b["outcome_id"] for _, b in svio.iter_outcome_batches(path, chunksize=2,
                                                                     dtypes=types)]
    assert [None if pd.isna(v) else int(v) for b in batches for v in b] == ids
    out = tmp_path / "valued.csv"
    sv.value_file(path, out, chunksize=2)
    assert [line.split(",")[0] for line in out.read_text(encoding="utf-8").splitlines()[1:]] == [
        "" if i is None else str(i) for i in ids]


@pytest.mark.parametrize(("cells", "dtype", "types"), [
    (["1e16", None, "2e16"], "float64", None),  # not written as whole numbers: floats
    (["12345678901234567.0", None, "3.0"], "float64", None),
    (["18446744073709551615", None, "5"], "UInt64", "UInt64"),
    (["18446744073709551615", None, "-5"], "str", "str"),  # no integer type holds both
], ids=["exponent", "point-zero", "uint64", "neither"])
def test_read_csv_when_big_numbers_with_gaps_are_not_plain_digits_whole_file_and_batches_agree(
        tmp_path: Path, cells: list[str | None], dtype: str, types: str | None) -> None:
    """A whole-file read and batches give the column one type (the exact reading fell back
    to text for 1e16, and batches mixed float64, Int64 and UInt64)."""
    path = tmp_path / "x.csv"
    path.write_text("x,measure,quantity,unit,region,date\n" + "".join(
        f"{c or ''},jobs-local-fte,1,FTE,uk,2024-05-01\n" for c in cells), encoding="utf-8")
    whole = svio.read_outcomes(path)["x"]
    assert str(whole.dtype) == dtype
    found = svio.csv_column_types(path, chunksize=1)
    assert found == ({"x": types} if types else {})  # float64 in every batch: nothing to fix
    batches = [b["x"] for _, b in svio.iter_outcome_batches(path, chunksize=1, dtypes=found)]
    assert {str(b.dtype) for b in batches} == {dtype}
    assert [v for b in batches for v in b.tolist()][::2] == whole.tolist()[::2]


def test_read_csv_when_a_blank_line_meets_a_blank_record_still_reads_ids_exactly(
        tmp_path: Path) -> None:
    """The fallback that drops blank rows itself re-typed the column read as text as floats,
    merging the two ids again."""
    row = "jobs-local-fte,1,FTE,uk,2024-05-01,{}\n"
    path = tmp_path / "x.csv"
    path.write_text("measure,quantity,unit,region,date,x\n" + row.format(12345678901234567)
                    + "\n,,,,,\n" + row.format("") + "   \n" + row.format(12345678901234569),
                    encoding="utf-8")
    col = svio.read_outcomes(path)["x"]
    assert str(col.dtype) == "Int64"
    assert col.tolist()[::2] == [12345678901234567, 12345678901234569]


def test_write_valuations_when_parquet_and_ids_past_2_53_keeps_them_integers(
        tmp_path: Path) -> None:
    """Ids read exactly (Int64), or whole numbers past 2**53, are written as Parquet integers:
    widening them to float64 (so batches share a type) could not hold them, and the write
    failed, or, before, rounded them. value_file from CSV to Parquet alike, batch by batch."""
    ids = [12345678901234567, None, 12345678901234569, 7]
    src = _ids_csv(tmp_path, ids)
    for chunksize in (2, 100):
        out = tmp_path / f"v{chunksize}.parquet"
        sv.value_file(src, out, chunksize=chunksize)
        back = svio.read_outcomes(out)["outcome_id"]
        assert [None if pd.isna(v) else int(v) for v in back] == ids
    frame = pd.DataFrame({"a": pd.array(ids, dtype="Int64"), "b": [2**60, 1, 2, 3],
                          "c": [1, 2, 3, 4], "value_gbp": 1.0})
    back = svio.read_outcomes(svio.write_valuations(frame, tmp_path / "w.parquet"))
    assert [None if pd.isna(v) else int(v) for v in back["a"]] == ids
    assert back["b"].tolist() == [2**60, 1, 2, 3]
    assert back["c"].dtype == np.float64  # other integer columns widen, as before


def test_read_parquet_batches_type_a_big_id_column_as_the_whole_file_does(
        tmp_path: Path) -> None:
    """A batch holding only small numbers (or only nulls) of a column with ids past 2**53
    elsewhere is nullable Int64 too, not float64: batches share the whole file's type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 4
    table = pa.table({"measure": ["jobs-local-fte"] * n, "quantity": [1] * n,
                      "unit": ["FTE"] * n, "region": ["uk"] * n, "date": ["2024-05-01"] * n,
                      "x": pa.array([2**60, None, 5, None], pa.int64())})
    pq.write_table(table, tmp_path / "o.parquet")
    assert str(svio.read_outcomes(tmp_path / "o.parquet")["x"].dtype) == "Int64"
    batches = [b["x"] for _, b in svio.iter_outcome_batches(tmp_path / "o.parquet",
                                                            chunksize=1)]
    assert [str(b.dtype) for b in batches] == ["Int64"] * n
    assert [None if pd.isna(v) else int(v) for b in batches for v in b] == [2**60, None, 5,
                                                                            None]


def test_read_csv_when_small_whole_numbers_have_gaps_keeps_pandas_floats(tmp_path: Path) -> None:
    """Below 2**53 a float holds every whole number: the column stays as pandas reads it."""
    col = svio.read_outcomes(_ids_csv(tmp_path, [1, None, 2]))["outcome_id"]
    assert col.dtype == np.float64 and col.tolist()[::2] == [1.0, 2.0]
    assert svio.csv_column_types(_ids_csv(tmp_path, [1, None, 2]), chunksize=2) == {
        "outcome_id": "float64"}


def test_read_parquet_when_integers_with_nulls_pass_2_53_reads_them_exactly(
        tmp_path: Path) -> None:
    """pyarrow's to_pandas makes an integer column with a null float64: such a column whose
    numbers a float cannot hold becomes nullable Int64 / UInt64; others stay as they were."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {"measure": ["jobs-local-fte"] * 3, "quantity": [1, 1, 1], "unit": ["FTE"] * 3,
            "region": ["uk"] * 3, "date": ["2024-05-01"] * 3}
    table = pa.table({**base, "big": pa.array([2**53 + 1, None, 2**53], pa.int64()),
                      "huge": pa.array([2**64 - 1, None, 5], pa.uint64()),
                      "small": pa.array([1, None, 2], pa.int64())})
    pq.write_table(table, tmp_path / "o.parquet")
    df = svio.read_outcomes(tmp_path / "o.parquet")
    assert [str(df[c].dtype) for c in ("big", "huge", "small")] == ["Int64", "UInt64",
                                                                    "float64"]
    assert df["big"].tolist()[::2] == [2**53 + 1, 2**53]
    assert df["huge"].tolist()[::2] == [2**64 - 1, 5] and df["huge"].isna().tolist()[1]
    batches = [b["big"] for _, b in svio.iter_outcome_batches(tmp_path / "o.parquet",
                                                              chunksize=2)]
    assert [None if pd.isna(v) else int(v) for b in batches for v in b] == [
        2**53 + 1, None, 2**53]


def test_iter_outcome_batches_parquet_reads_integer_columns_batch_by_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether an integer column with nulls needs Int64 is decided for the whole file, but
    scanned in batches: reading the integer columns whole (``ParquetFile.read``) held every
    row of them in memory, whatever the chunksize. A null in the first batch and an id past
    2**53 in the last still make every batch Int64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 6
    table = pa.table({"measure": ["jobs-local-fte"] * n, "quantity": list(range(n)),
                      "unit": ["FTE"] * n, "region": ["uk"] * n, "date": ["2024-05-01"] * n,
                      "big": pa.array([None, 1, 2, 3, 4, 2**53 + 1], pa.int64())})
    pq.write_table(table, tmp_path / "o.parquet", row_group_size=2)

    def whole(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    batches = [b for _, b in svio.iter_outcome_batches(tmp_path / "o.parquet", chunksize=2)]
    assert [str(b["big"].dtype) for b in batches] == ["Int64"] * 3
    assert [None if pd.isna(v) else int(v) for b in batches for v in b["big"]] == [
        None, 1, 2, 3, 4, 2**53 + 1]


def test_iter_outcome_batches_parquet_when_nulls_in_one_batch_then_floats_in_every_batch(
        tmp_path: Path) -> None:
    """An integer column with a null in some batch is float64 in a whole-file read, so in
    every batch: the batches without a null were int64 (2, not 2.0, in a CSV written from
    them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 6
    table = pa.table({"measure": ["jobs-local-fte"] * n, "quantity": list(range(n)),
                      "unit": ["FTE"] * n, "region": ["uk"] * n, "date": ["2024-05-01"] * n,
                      "years": pa.array([None, 1, 2, 3, 4, 5], pa.int64()),
                      "full": pa.array([1, 1, 2, 3, 4, 5], pa.uint8())})
    pq.write_table(table, tmp_path / "o.parquet", row_group_size=2)
    whole = svio.read_outcomes(tmp_path / "o.parquet")
    batches = [b for _, b in svio.iter_outcome_batches(tmp_path / "o.parquet", chunksize=2)]
    assert [str(b["years"].dtype) for b in batches] == [str(whole["years"].dtype)] * 3
    assert [str(b["full"].dtype) for b in batches] == [str(whole["full"].dtype)] * 3
    assert pd.concat(batches)["years"].tolist()[1:] == whole["years"].tolist()[1:]


def test_read_parquet_when_file_is_corrupt_raises_input_file_error(tmp_path: Path) -> None:
    """Bytes that are not Parquet raise InputFileError, not a pyarrow error."""
    path = _write(tmp_path / "o.parquet", "not parquet at all")
    with pytest.raises(svio.InputFileError, match="Parquet"):
        svio.read_outcomes(path)


def _workbook(path: Path, rows: list[list[object]], *, merge: str | None = None,
              extra_sheet: bool = False) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "outcomes"
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    if extra_sheet:
        wb.create_sheet("notes")["A1"] = "hello"
    wb.save(path)
    return path


XL_HEADER = ["measure", "quantity", "unit", "region", "date", "contract_id"]


def test_read_xlsx_when_cells_are_typed_gives_text_columns_and_numbers(tmp_path: Path) -> None:
    """Excel dates become ISO text, numeric codes text without '.0' (formulas: see
    test_read_xlsx_when_formulas_have_saved_results_reads_the_results)."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER,
                     ["jobs-local", 2, "FTE", "london", dt.datetime(2024, 5, 1), 7],
                     ["env-carbon", 1.5, "tCO2e", "uk", "2024-06-01", "007"]])
    df = svio.read_outcomes(path)
    assert df["date"].tolist() == ["2024-05-01", "2024-06-01"]
    assert df["contract_id"].tolist() == ["7", "007"]
    assert df["quantity"].tolist() == [2, 1.5]


def test_read_xlsx_when_a_figure_is_shown_scaled_the_row_is_refused(tmp_path: Path) -> None:
    """A data-quality review: a quantity of 1234567 formatted '#,##0,' shows 1,235 (the
    supplier's unit £k) and was valued as 1,234,567 £k; 0.35 shown as 35% was 0.35 FTE with
    no word, where the CSV text '35%' is refused. Such cells of quantity and contract_value
    are refused by their rows, saying what they show and hold; a format that only groups
    digits, and a fraction shown as a per cent (what it means), are read as they are."""
    import openpyxl

    path = tmp_path / "o.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["measure", "quantity", "unit", "region", "date", "contract_value",
               "deadweight"])
    for quantity, value in ((1234567, 2500000), (0.35, 5000), (1234, 2500000), (2, 5000)):
        ws.append(["jobs-local", quantity, "FTE", "uk", "2024-05-01", value, 0.25])
    for cell, number_format in (("B2", "#,##0,"), ("B3", "0%"), ("B4", "#,##0"),
                                ("F2", "#,##0,"), ("F3", '£#,##0,"k"'), ("F4", "#,##0"),
                                ("G2", "0%")):
        ws[cell].number_format = number_format
    wb.save(path)
    df = svio.read_outcomes(path)
    assert [type(v).__name__ for v in df["quantity"]] == ["ScaledByFormat",
                                                         "ScaledByFormat", "int", "int"]
    assert df["deadweight"].tolist() == [0.25] * 4
    out = value_frame(df, sv.load_table(path=TINY), errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [
        [0, "contract_value", "number-format"], [0, "quantity", "number-format"],
        [1, "quantity", "number-format"]]
    assert issues["reason"].tolist()[1:] == [
        "quantity shows 1,235 but the cell holds 1234567: its number format '#,##0,' shows "
        "the figure in thousands; write the number meant, in the row's unit (1234567 or "
        "1234.567?), and format the cell so that it shows what it holds",
        "quantity shows 35% but the cell holds 0.35: its number format '0%' shows the figure "
        "as a percentage; write the number meant, in the row's unit (0.35 or 35?), and "
        "format the cell so that it shows what it holds"]
    assert out["value_gbp"].notna().tolist() == [False, False, True, True]
    assert svio.read_outcomes(path, sheet=0)["quantity"].iloc[3] == 2
    batches = [b for _, b in svio.iter_outcome_batches(path, chunksize=1)]
    assert isinstance(batches[0]["quantity"].iloc[0], type(df["quantity"].iloc[0]))


def test_read_xlsx_when_cells_are_merged_raises_input_file_error(tmp_path: Path) -> None:
    """Merged cells are refused with the ranges named."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                       "2024-05-01", "1"]], merge="A2:B2")
    with pytest.raises(svio.InputFileError, match=r"merged cells.*A2:B2"):
        svio.read_outcomes(path)


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_read_xlsx_when_the_first_sheet_is_hidden_then_the_first_visible_is_read(
        tmp_path: Path, state: str) -> None:
    """With no sheet=, the sheet read is the first the analyst sees, not a hidden old copy
    before it (for source_lines too); a position or name still picks exactly that sheet."""
    import openpyxl

    path = tmp_path / "o.xlsx"
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "old"
    for row in (XL_HEADER, ["jobs-local", 99, "FTE", "uk", "2023-05-01", "1"]):
        old.append(row)
    current = wb.create_sheet("current")
    for row in (XL_HEADER, [], ["jobs-local", 2, "FTE", "uk", "2024-05-01", "2"]):
        current.append(row)
    old.sheet_state = state
    wb.active = 1
    wb.save(path)
    df = svio.read_outcomes(path)
    assert df["quantity"].tolist() == [2]
    assert df.attrs["socialvalue_tom.source"]["sheet"] == "current"
    assert [b["quantity"].tolist() for _, b in svio.iter_outcome_batches(path)] == [[2]]
    assert svio.source_lines(path, [0]) == {0: 3}
    for sheet in (0, "old"):
        assert svio.read_outcomes(path, sheet=sheet)["quantity"].tolist() == [99]
        assert svio.source_lines(path, [0], sheet=sheet) == {0: 2}
    assert svio.read_outcomes(path, sheet=1)["quantity"].tolist() == [2]
    # No sheet visible (Excel and openpyxl write none so, other programs might): the first.
    wb = openpyxl.load_workbook(path)
    wb["current"].sheet_state = "hidden"
    assert svio._pick_sheet(path, wb, None).title == "old"


def test_read_xlsx_records_the_other_visible_sheets_with_outcome_columns(
        tmp_path: Path) -> None:
    """A workbook of one sheet per year is read one sheet at a time: which others have the
    outcome columns is kept (not hidden sheets, nor sheets of other tables), so a caller can
    say their rows were not read; naming the sheet means the choice was made."""
    import openpyxl

    path = tmp_path / "years.xlsx"
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "2023"
    row = ["jobs-local", 1, "FTE", "uk", "2024-05-01", "1"]
    for title, rows in (("2024", [XL_HEADER, row]), ("lookups", [["code", "title"], ["a", 1]]),
                        ("old", [[f" {c} " for c in XL_HEADER], row]),
                        ("2025", [XL_HEADER])):  # an empty template sheet: nothing left out
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb["old"].sheet_state = "hidden"
    for row in (XL_HEADER, ["jobs-local", 2, "FTE", "uk", "2023-05-01", "1"]):
        first.append(row)
    wb.save(path)
    assert svio.read_outcomes(path).attrs["socialvalue_tom.source"]["alike_sheets"] == ["2024"]
    named = svio.read_outcomes(path, sheet="2023")
    assert named.attrs["socialvalue_tom.source"]["alike_sheets"] == []


def test_read_xlsx_records_the_sheets_whose_outcome_header_needs_fixing(tmp_path: Path) -> None:
    """A data-quality review: Q2 (header 'Measure,Quantity,...') and Q3 (a title above the
    header) were left out with no word, as only a row 1 naming the columns exactly counted.
    A header found as the reader looks for one below a title (in the first rows), or named
    but for case or spacing, is kept with what to fix; a template with no rows, a hidden
    sheet and a header below the rows looked through are not."""
    import openpyxl

    path = tmp_path / "quarters.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Q1"
    header = ["measure", "quantity", "unit", "region", "date"]
    sheets: dict[str, list[list[Any]]] = {
        "Q1": [header, ["jobs-local", 1, "FTE", "uk", "2024-05-01"]],
        "Q2": [[c.title() for c in header], ["jobs-local", 50, "FTE", "uk", "2024-05-01"]],
        "Q3": [["Social value return, Q3"], header, ["jobs-local", 70, "FTE", "uk",
                                                      "2024-05-01"]],
        "Q4": [["Q4"], [" Measure ", "QUANTITY", "unit", "Region", "date"], [],
               ["jobs-local", 1, "FTE", "uk", "2024-05-01"]],
        "template": [["Return"], header],
        "old": [[c.title() for c in header], ["jobs-local", 9, "FTE", "uk", "2024-05-01"]],
        "deep": [*[[f"note {i}"] for i in range(21)], header,
                 ["jobs-local", 1, "FTE", "uk", "2024-05-01"]],
    }
    for title, rows in sheets.items():
        ws = wb["Q1"] if title == "Q1" else wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb["old"].sheet_state = "hidden"
    wb.save(path)
    source = svio.read_outcomes(path).attrs["socialvalue_tom.source"]
    assert source["alike_sheets"] == []
    assert source["near_sheets"] == {
        "Q2": "rename 'Measure' to measure, 'Quantity' to quantity, 'Unit' to unit, ...",
        "Q3": "delete the row(s) above its header, row 2",
        "Q4": "rename 'Measure' to measure, 'QUANTITY' to quantity, 'Region' to region and "
              "delete the row(s) above its header, row 2"}
    assert svio.read_outcomes(path, sheet="Q1").attrs["socialvalue_tom.source"][
        "near_sheets"] == {}


def test_top_rows_keeps_the_first_rows_whatever_order_the_cells_come_in() -> None:
    """The header search over other sheets keeps only the first rows holding cells (row 1
    and as many as the reader looks through below it), and knows a later row holds values,
    however the cells held are ordered."""
    from types import SimpleNamespace

    def sheet(cells: dict[int, str]) -> SimpleNamespace:  # openpyxl's sparse cells, by row
        return SimpleNamespace(_cells={(r, 1): SimpleNamespace(value=v)
                                       for r, v in cells.items()})

    rows = (40, 3, 1, 25, 2, *range(30, 4, -1))  # row 4 holds no cell
    top, beyond = svio._top_rows(sheet({r: f"r{r}" for r in rows}))
    assert sorted(top) == [1, 2, 3, *range(5, 23)] and beyond
    assert top[3] == ["r3"]
    blank_below = sheet({r: " " if r > 2 else "x" for r in range(1, 40)})
    assert not svio._top_rows(blank_below)[1]  # blank text below: no rows of values


def test_read_xlsx_when_the_sheet_read_is_empty_names_the_other_sheets(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "blank-first.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    data = wb.create_sheet("Sheet2")
    for row in (XL_HEADER, ["jobs-local", 2, "FTE", "uk", "2023-05-01", "1"]):
        data.append(row)
    wb.save(path)
    with pytest.raises(svio.InputFileError,
                       match=r"is empty.*other sheets are 'Sheet2': choose one with sheet=NAME"):
        svio.read_outcomes(path)
    with pytest.raises(svio.InputFileError) as info:
        svio.read_outcomes(path, sheet="Sheet1")
    assert "other sheets" not in str(info.value)


@pytest.mark.parametrize("above", ["sep=;\n", "Social value return \u2013 Q1 2024/25,,,,,\n",
                                   "#TYPE System.Management.Automation.PSCustomObject\n",
                                   "Supplier:,Acme Ltd,Period:,Q1,Council:,Barset,Lot:,2\n"])
def test_read_csv_with_lines_above_the_header_says_to_delete_them(
        tmp_path: Path, above: str) -> None:
    """Excel's 'sep=;' line, a title, PowerShell's #TYPE line or a line of details above the
    table were read as the header: the advice ("remove the value", "rename the columns") did
    not fit. The header must be line 1, and the error says which line looks like it."""
    body = ("measure;quantity;unit;region;date\njobs-local;2;FTE;uk;2024-05-01\n"
            if above.startswith("sep=") else
            "measure,quantity,unit,region,date\njobs-local,2,FTE,uk,2024-05-01\n")
    path = _write(tmp_path / "above.csv", above + body)
    words = ("line 1 is Excel's separator line ('sep=;'): delete it" if above.startswith("sep=")
             else "line 2 looks like the header row (it names measure and quantity) but the "
                  "header row must be line 1: delete the line(s) above it")
    for read in (svio.read_outcomes, lambda p: sv.value_file(p, errors="collect")):
        with pytest.raises(svio.InputFileError, match=re.escape(words)):
            read(path)


def test_read_xlsx_when_the_header_is_not_in_row_1_then_the_error_says_so(
        tmp_path: Path) -> None:
    """A blank row 1, or a title above the table, is named as such: not 'the sheet is empty'
    nor only a value with no column name. A stray value in a data row gets no such hint."""
    blank_first = _workbook(tmp_path / "blank.xlsx", [[], XL_HEADER,
                                                      ["jobs-local", 2, "FTE", "uk",
                                                       "2024-05-01", "1"]])
    with pytest.raises(svio.InputFileError, match=r"sheet 'outcomes': row 1 is blank: the "
                                                  r"header row must be row 1 \(the first row "
                                                  r"with values is row 2\): delete the rows "
                                                  "above the header") as info:
        svio.read_outcomes(blank_first)
    assert info.value.details["sheet"] == "outcomes"
    titled = _workbook(tmp_path / "titled.xlsx", [["Supplier returns 2024"], [], XL_HEADER,
                                                  ["jobs-local", 2, "FTE", "uk",
                                                   "2024-05-01", "1"]])
    with pytest.raises(svio.InputFileError, match=r"sheet 'outcomes': row 3 looks like the "
                                                  r"header row \(it names measure and quantity"
                                                  r"\) but the header row must be row 1: delete "
                                                  r"the row\(s\) above it") as info:
        svio.read_outcomes(titled)
    assert (info.value.details["sheet"], info.value.details["row"]) == ("outcomes", 3)
    # Details wider than the table above it (supplier, period ...) are told so too: they had
    # been read as the header ("missing required columns ... rename them").
    details = _workbook(tmp_path / "details.xlsx", [
        ["Supplier:", "Acme", "Period:", "Q1", "Council:", "Barset", "Lot:", "2"], XL_HEADER,
        ["jobs-local", 2, "FTE", "uk", "2024-05-01", "1"]])
    with pytest.raises(svio.InputFileError, match=r"row 2 looks like the header row"):
        svio.read_outcomes(details)
    stray = _workbook(tmp_path / "stray.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                            "2024-05-01", "1", "oops"]])
    with pytest.raises(svio.InputFileError, match=r"cell G2 has a value with no column name "
                                                  r"\('oops'\): name the column in row 1 or "
                                                  r"clear the cell \[") as info:
        svio.read_outcomes(stray)
    empty = _workbook(tmp_path / "empty.xlsx", [])
    with pytest.raises(svio.InputFileError, match="sheet 'outcomes' is empty"):
        svio.read_outcomes(empty)


@pytest.mark.parametrize(("sheet", "words"), [("nope", "no sheet named 'nope'"),
                                              (5, "no sheet number 5"),
                                              ("notes", "blank")])
def test_read_xlsx_when_sheet_is_odd_raises_input_file_error(
        tmp_path: Path, sheet: str | int, words: str) -> None:
    """A missing sheet, or a sheet without a usable header row, raises InputFileError."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER], extra_sheet=True)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["notes"]["C1"] = "x"  # header with a blank B1 between two names
    wb.save(path)
    with pytest.raises(svio.InputFileError, match=words):
        svio.read_outcomes(path, sheet=sheet)


def test_read_xlsx_when_header_repeats_raises_input_file_error(tmp_path: Path) -> None:
    """Two columns with the same name are refused."""
    path = _workbook(tmp_path / "o.xlsx", [["measure", "measure"], ["a", "b"]])
    with pytest.raises(svio.InputFileError, match="repeated"):
        svio.read_outcomes(path)


def test_sheet_argument_when_not_excel_is_refused(tmp_path: Path) -> None:
    """sheet= with a CSV file is an error, not silently ignored."""
    path = _write(tmp_path / "o.csv", HEADER + ROWS[0])
    with pytest.raises(svio.InputFileError, match="sheet"):
        svio.read_outcomes(path, sheet="x")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_write_valuations_when_read_back_gives_same_values(
        tmp_path: Path, tiny: sv.ProxyTable, suffix: str) -> None:
    """Valued rows written and read back keep their values and text columns."""
    src = svio.read_outcomes(_write(tmp_path / "o.csv", HEADER + "".join(ROWS)))
    valued = value_frame(src, tiny)
    path = svio.write_valuations(valued, tmp_path / f"v{suffix}")
    back = svio.read_outcomes(path)
    assert back["value_gbp"].tolist() == valued["value_gbp"].tolist()
    assert back["contract_id"].tolist() == ["007", "12", "0012"]
    assert back["version"].astype(str).tolist() == ["2024"] * 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_write_valuations_when_ids_and_grades_are_numbers_reads_back_the_same_keys(
        tmp_path: Path, suffix: str) -> None:
    """Number columns among the text columns come back as the keys value_frame groups by: an
    18-digit id whole (an .xlsx number cell keeps 15 digits), a float id 1001.0 as "1001"
    (a .csv cell "1001.0" was another contract), a missing one missing, a grade 3.0 as "3"."""
    df = pd.DataFrame({"value_gbp": [1.5, 2.5, 3.5],
                       "contract_id": [123456789012345678, 7, 12],
                       "supplier_id": [1001.0, math.nan, 2.5],
                       "confidence": pd.array([3, None, 1], dtype="Int64")})
    back = svio.read_outcomes(svio.write_valuations(df, tmp_path / f"v{suffix}"))
    assert back["contract_id"].tolist() == ["123456789012345678", "7", "12"]
    assert [key_text(v) for v in back["supplier_id"]] == ["1001", None, "2.5"]
    assert [key_text(v) for v in back["confidence"]] == ["3", None, "1"]
    assert back["value_gbp"].tolist() == [1.5, 2.5, 3.5]
    assert df["contract_id"].dtype == np.int64  # the caller's frame is left as it was
    # Numbers among text (read_excel of a sheet mixing ids) and categorical numbers alike.
    mixed = pd.DataFrame({"value_gbp": [1.0, 2.0, 3.0],
                          "contract_id": pd.Series([123456789012345678, "A1", 1001.0],
                                                   dtype=object),
                          "supplier_id": pd.Categorical([1001.0, 7.0, 7.0]),
                          "region": pd.Series(["uk", True, None], dtype=object)})
    back = svio.read_outcomes(svio.write_valuations(mixed, tmp_path / f"m{suffix}"))
    assert back["contract_id"].tolist() == ["123456789012345678", "A1", "1001"]
    assert [key_text(v) for v in back["supplier_id"]] == ["1001", "7", "7"]
    assert [key_text(v) for v in back["region"]] == ["uk", "True", None]


def test_write_valuations_when_extension_unknown_raises(tmp_path: Path) -> None:
    """Writing to .json is refused with the supported extensions listed."""
    with pytest.raises(svio.InputFileError, match=r"\.csv, \.xlsx, \.parquet"):
        svio.write_valuations(pd.DataFrame({"a": [1]}), tmp_path / "v.json")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_iter_outcome_batches_when_chunked_gives_offsets_and_file_row_index(
        tmp_path: Path, suffix: str) -> None:
    """Batches carry their first row's offset and index labels equal to file rows."""
    src = tmp_path / "o.csv"
    _write(src, HEADER + "".join(ROWS * 3))
    if suffix == ".parquet":
        svio.write_valuations(svio.read_outcomes(src), tmp_path / "o.parquet")
        src = tmp_path / "o.parquet"
    got = list(svio.iter_outcome_batches(src, chunksize=4))
    assert [(off, len(b)) for off, b in got] == [(0, 4), (4, 4), (8, 1)]
    assert got[1][1].index.tolist() == [4, 5, 6, 7]
    assert got[2][1]["contract_id"].tolist() == ["0012"]
    whole = pd.concat([b for _, b in got])
    pd.testing.assert_frame_equal(whole, svio.read_outcomes(src))


def test_iter_outcome_batches_when_bad_bytes_late_raises_input_file_error(tmp_path: Path) -> None:
    """Undecodable bytes in a later chunk raise InputFileError while streaming."""
    path = tmp_path / "o.csv"
    path.write_bytes((HEADER + ROWS[0] * 50).encode() + b"jobs-local,1,FTE,\xff,2024-05-01,1,A\n")
    with pytest.raises(svio.InputFileError, match="UTF-8"):
        list(svio.iter_outcome_batches(path, chunksize=10))


def test_iter_outcome_batches_when_chunksize_not_positive_raises(tmp_path: Path) -> None:
    """chunksize=0 is a ValueError."""
    with pytest.raises(ValueError, match="chunksize"):
        list(svio.iter_outcome_batches(_write(tmp_path / "o.csv", HEADER), chunksize=0))


def test_input_file_error_when_pickled_keeps_path() -> None:
    """InputFileError round-trips through pickle with its path (Dask ships errors)."""
    err = svio.InputFileError("x.csv: no such file", path="x.csv")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is svio.InputFileError
    assert back.path == "x.csv"
    assert str(back) == str(err)


# -- the same data gives the same values in every format -------------------------------------

BLANKS_HEADER = ["measure", "quantity", "unit", "region", "date", "contract_id", "stage",
                 "supplier_id", "evidence"]
BLANKS_ROWS: list[list[object]] = [
    ["jobs-local", 2, None, "uk", "2024-05-01", None, None, None, None],
    ["jobs-local", 3, "FTE", "london", "2024-05-01", "7", "delivered", "s1", "photo"],
]


def _csv_of(rows: list[list[object]]) -> str:
    return "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)


def test_read_xlsx_when_optional_cells_blank_gives_missing_values_as_csv_does(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A blank cell is missing, never the text 'nan', and values exactly as the same CSV row."""
    xl = svio.read_outcomes(_workbook(tmp_path / "o.xlsx", [BLANKS_HEADER, *BLANKS_ROWS]))
    csv = svio.read_outcomes(_write(tmp_path / "o.csv", _csv_of([BLANKS_HEADER, *BLANKS_ROWS])))
    for col in ("unit", "contract_id", "stage", "supplier_id", "evidence"):
        assert pd.isna(xl.loc[0, col]) and pd.isna(csv.loc[0, col]), col
        assert xl[col].tolist()[1:] == csv[col].tolist()[1:], col
    a, b = value_frame(xl, tiny), value_frame(csv, tiny)
    assert a["value_gbp"].tolist() == b["value_gbp"].tolist()


NA_LIKE = ["NA", "N/A", "null", "None", "#N/A", "nan", "n/a", "NULL", "-NaN"]


def test_read_csv_when_text_looks_like_na_keeps_the_text(tmp_path: Path) -> None:
    """'NA', 'N/A', 'null'... are text (distinct contracts), as in .xlsx; only blank is missing."""
    rows = [["jobs-local", 1, "FTE", "uk", "2024-05-01", code] for code in NA_LIKE]
    rows.append(["jobs-local", 1, "FTE", "uk", "2024-05-01", None])
    path = _write(tmp_path / "o.csv", _csv_of([XL_HEADER, *rows]))
    df = svio.read_outcomes(path)
    assert df["contract_id"].tolist()[:-1] == NA_LIKE
    assert pd.isna(df["contract_id"].iloc[-1])
    chunked = pd.concat(b for _, b in svio.iter_outcome_batches(path, chunksize=4))
    pd.testing.assert_frame_equal(chunked, df)
    xl = svio.read_outcomes(_workbook(tmp_path / "o.xlsx", [XL_HEADER, *rows]))
    assert xl["contract_id"].tolist()[:-1] == NA_LIKE


def test_value_frame_when_na_like_contracts_in_csv_are_distinct_groups(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Contracts 'NA' and 'N/A' are two exclusion groups: CSV gives the money .xlsx gives."""
    rows: list[list[object]] = [["jobs-priority", 1, "FTE", "uk", "2024-05-01", "NA"],
                                ["jobs-local", 1, "FTE", "uk", "2024-05-01", "N/A"]]
    csv = svio.read_outcomes(_write(tmp_path / "o.csv", _csv_of([XL_HEADER, *rows])))
    xl = svio.read_outcomes(_workbook(tmp_path / "o.xlsx", [XL_HEADER, *rows]))
    a, b = value_frame(csv, tiny), value_frame(xl, tiny)
    assert a["value_gbp"].tolist() == b["value_gbp"].tolist()
    assert "claim_share" not in a.columns


@pytest.mark.parametrize("cell", ["NA", "N/A", "abc"])
def test_value_frame_when_csv_number_cell_is_na_text_reports_a_row_issue(
        tmp_path: Path, tiny: sv.ProxyTable, cell: str) -> None:
    """'NA' in a number column is text, as in .xlsx: a row issue, not a silent default."""
    text = _csv_of([[*XL_HEADER, "deadweight"],
                    ["jobs-local", 1, "FTE", "uk", "2024-05-01", "1", cell],
                    ["jobs-local", 1, "FTE", "uk", "2024-05-01", "2", "0.1"]])
    out = value_frame(svio.read_outcomes(_write(tmp_path / "o.csv", text)), tiny,
                      errors="collect")
    assert out.attrs["issues"]["row"].tolist() == [0]
    assert out.attrs["issues"]["field"].tolist() == ["deadweight"]
    assert not pd.isna(out["value_gbp"].iloc[1])


# -- malformed CSV ------------------------------------------------------------------------------

@pytest.mark.parametrize("good_rows", [0, 3])
def test_iter_outcome_batches_when_quote_unclosed_raises_input_file_error(
        tmp_path: Path, good_rows: int) -> None:
    """An unclosed quote, in the first row or later, is an InputFileError from every reader,
    never a pandas ParserError."""
    path = _write(tmp_path / "o.csv",
                  HEADER + ROWS[0] * good_rows + 'jobs-local,1,FTE,"uk,2024\n')
    with pytest.raises(svio.InputFileError, match="well-formed"):
        svio.read_outcomes(path)
    for size in (1, 2, 100):
        with pytest.raises(svio.InputFileError, match="well-formed"):
            list(svio.iter_outcome_batches(path, chunksize=size))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_csv_when_a_stray_quote_swallows_later_rows_raises_input_file_error(
        tmp_path: Path, newline: str) -> None:
    """A quote opened and not closed made pandas read the rows after it as one value, up to
    the next quote, with no error: rows lost silently. The file is refused naming the line
    where the value breaks off and the line to check, from every reader; a file whose quoted
    values span lines correctly still reads, the same from every reader."""
    head = "measure,quantity,unit,region,date,evidence\n"
    good = 'jobs-local,1,FTE,london,2024-05-01,"first\nsecond, ""quoted"""\n'
    stray = ('jobs-local,1,FTE,london,2024-05-01,"open quote\n'
             "jobs-local,2,FTE,london,2024-05-01,x\n"
             'jobs-local,4,FTE,london,2024-05-01,"y"\n'
             "jobs-local,8,FTE,london,2024-05-01,z\n")
    readers = (svio.read_outcomes,
               *(lambda p, n=n: pd.concat(b for _, b in svio.iter_outcome_batches(p, n))
                 for n in (1, 2, 100)))
    bad = _write(tmp_path / "bad.csv", (head + stray).replace("\n", newline))
    late = _write(tmp_path / "late.csv",
                  (head + good + "jobs-local,1,FTE,london,2024-05-01,ok\n" * 3 + stray
                   ).replace("\n", newline))
    for path, line, start in ((bad, 4, 2), (late, 9, 7)):
        for read in readers:
            with pytest.raises(svio.InputFileError,
                               match=rf"line {line}: a quote ends a value in the middle "
                                     r"\(',' expected after '\"'\): a value that starts with "
                                     "a quote must end with one before the next separator; "
                                     f"check the quotes from line {start}") as info:
                read(path)
            assert (info.value.details["line"], info.value.details["record_line"]) == (
                line, start)
    fine = _write(tmp_path / "fine.csv", (head + good * 3).replace("\n", newline))
    for read in readers:
        df = read(fine)
        assert df["evidence"].tolist() == [f'first{newline}second, "quoted"'] * 3
        assert df.index.tolist() == [0, 1, 2]


def test_read_csv_when_quoted_values_are_long_or_followed_by_text_reads_them(
        tmp_path: Path) -> None:
    """The stray-quote check refuses only a quote that ran on from an earlier line: a
    well-quoted value over the csv module's 131,072-character limit, and text after a closing
    quote on the record's own line ("B"x, which pandas reads as Bx), read as pandas reads them,
    also when another cell holds a line break."""
    head = "measure,quantity,unit,region,date,evidence\n"
    long_value = "\n".join(["x" * 15_000] * 10)  # 150,009 characters over 10 lines
    rows = (f'jobs-local,1,FTE,london,2024-05-01,"{long_value}"\n'
            'jobs-local,2,FTE,london,2024-05-01,"B"x\n'
            'jobs-local,3,FTE,london,2024-05-01,"two\nlines"\n')
    path = _write(tmp_path / "long.csv", head + rows)
    for df in (svio.read_outcomes(path),
               pd.concat(b for _, b in svio.iter_outcome_batches(path, chunksize=1))):
        assert df["quantity"].tolist() == [1, 2, 3]
        assert df["evidence"].tolist() == [long_value, "Bx", "two\nlines"]


def test_read_csv_when_rows_end_with_an_empty_field_keeps_columns_in_place(
        tmp_path: Path) -> None:
    """A trailing comma on every row does not turn the first column into the index."""
    text = "measure,quantity,unit,region,date\n" + "jobs-local,2,FTE,uk,2024-05-01,\n" * 3
    path = _write(tmp_path / "o.csv", text)
    df = svio.read_outcomes(path)
    assert df.columns.tolist() == ["measure", "quantity", "unit", "region", "date"]
    assert df["measure"].tolist() == ["jobs-local"] * 3
    assert df["date"].tolist() == ["2024-05-01"] * 3
    assert df.index.tolist() == [0, 1, 2]
    chunked = pd.concat(b for _, b in svio.iter_outcome_batches(path, chunksize=2))
    pd.testing.assert_frame_equal(chunked, df)


@pytest.mark.parametrize("rows", [["jobs-local,2,FTE,uk,2024-05-01,oops\n",
                                   "jobs-local,2,FTE,uk,2024-05-01,\n"],
                                  ["jobs-local,2,FTE,uk,2024-05-01,\n",
                                   "jobs-local,2,FTE,uk,2024-05-01,oops\n"],
                                  ["jobs-local,2,FTE,uk,2024-05-01\n",
                                   "jobs-local,2,FTE,uk,2024-05-01,oops\n"]])
def test_read_csv_when_a_value_has_no_column_name_raises_input_file_error(
        tmp_path: Path, rows: list[str]) -> None:
    """A value past the last named column is refused, not silently dropped, naming the line an
    editor shows (blank lines, a blank record and a quoted line break come before it)."""
    padding = "\n,,,,\n" + 'jobs-local,"1",FTE,"u\nk",2024-05-01'
    path = _write(tmp_path / "o.csv", "measure,quantity,unit,region,date\n" + rows[0]
                  + padding + "\n" + rows[1])
    want = 2 if "oops" in rows[0] else 7
    readers = (svio.read_outcomes, lambda p: list(svio.iter_outcome_batches(p, chunksize=1)))
    for read in readers:
        with pytest.raises(svio.InputFileError, match=rf"line {want} has a value with no column "
                                                      r"name \('oops', after column 'date'\)"
                           ) as err:
            read(path)
        assert err.value.details["line"] == want


def test_read_csv_when_a_record_has_only_empty_extra_fields_names_its_line(
        tmp_path: Path) -> None:
    """A trailing separator on a record longer than the first data row: pandas refuses it (an
    error, not a guess), and the message says where, by line, not pandas' record count."""
    path = _write(tmp_path / "o.csv", "measure,quantity,unit,region,date\n"
                  "jobs-local,2,FTE,uk,2024-05-01\n\n\njobs-local,2,FTE,uk,2024-05-01,\n")
    with pytest.raises(svio.InputFileError,
                       match="line 5 has 6 fields where the header row names 5 columns"):
        svio.read_outcomes(path)


def test_read_xlsx_when_a_value_has_no_column_name_raises_input_file_error(
        tmp_path: Path) -> None:
    """An .xlsx value right of the last named column is refused, as in CSV."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER,
                                           ["jobs-local", 2, "FTE", "uk", "2024-05-01", "1",
                                            "oops"]])
    with pytest.raises(svio.InputFileError, match="no column name"):
        svio.read_outcomes(path)


def _with_saved_results(path: Path, results: dict[str, str]) -> Path:
    """Rewrite an openpyxl workbook as Excel would save it after calculating: each formula cell
    named in ``results`` gets that saved result (``"str:"`` first makes it a text result)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, result in results.items():
        kind = ' t="str"' if result.startswith("str:") else ""
        xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>([^<]*)</f><v\s*/>',
                         rf'<c r="{ref}"\1{kind}><f>\2</f><v>{result.removeprefix("str:")}</v>',
                         xml)
        assert n == 1, ref
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_read_xlsx_when_formulas_were_never_calculated_names_the_cells(tmp_path: Path) -> None:
    """A workbook written by a program that saves formulas without results (openpyxl does):
    each such cell in the table would read as empty, a quantity reported as missing. The file
    is refused naming them all; a formula right of the named columns is not the table's."""
    rows: list[list[object]] = [XL_HEADER]
    rows += [["jobs-local", f"={i}*2", "FTE", "uk", "2024-05-01", "c1"] for i in range(7)]
    rows[3][6:] = ["=1+1"]  # G4, outside the table
    path = _workbook(tmp_path / "o.xlsx", rows)
    with pytest.raises(svio.InputFileError,
                       match=r"7 formula cell\(s\) have no saved result \(B2, B3, B4, B5, B6 "
                             r"and 2 more\).*open and save it in Excel") as err:
        svio.read_outcomes(path)
    assert err.value.details == {"path": str(path), "sheet": "outcomes", "cell": "B2"}
    with pytest.raises(svio.InputFileError, match="no saved result"):
        list(svio.iter_outcome_batches(path, chunksize=2))


def test_read_xlsx_when_formulas_have_saved_results_reads_the_results(tmp_path: Path) -> None:
    """Once calculated (Excel saves each result with its formula) the results are read, and a
    formula whose saved result is empty text (``=""``) is an empty cell, not refused."""
    path = _workbook(tmp_path / "o.xlsx", [
        XL_HEADER,
        ["jobs-local", "=1+1", "FTE", "uk", "2024-05-01", '=""'],
        ["jobs-local", 3, "FTE", "uk", "2024-05-01", "c2"]])
    _with_saved_results(path, {"B2": "2", "F2": "str:"})
    df = svio.read_outcomes(path)
    assert df["quantity"].tolist() == [2, 3]
    assert df["contract_id"].isna().tolist() == [True, False]


def test_read_xlsx_when_a_header_formula_was_never_calculated_is_refused(
        tmp_path: Path) -> None:
    """A header name made by a formula nobody calculated is named as such (not as a blank
    column name)."""
    path = _workbook(tmp_path / "o.xlsx", [["measure", '="quan"&"tity"', "unit", "region", "date"],
                                           ["jobs-local", 2, "FTE", "uk", "2024-05-01"]])
    with pytest.raises(svio.InputFileError, match=r"1 formula cell\(s\) .*\(B1\)"):
        svio.read_outcomes(path)


def test_read_xlsx_when_one_cell_is_far_away_reads_only_the_cells_held(tmp_path: Path) -> None:
    """A few-KB workbook with one cell at XFD20000 (the bounding box: 327 million cells) is
    refused naming that cell, and a value far down in a named column is read as its row: the
    reader touches the cells the file holds, not the sheet's bounding box."""
    import openpyxl

    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER,
                                           ["jobs-local", 2, "FTE", "uk", "2024-05-01", "1"]])
    wb = openpyxl.load_workbook(path)
    wb.active["XFD20000"] = "x"
    wb.save(path)
    assert path.stat().st_size < 20_000
    with pytest.raises(svio.InputFileError, match="XFD20000"):
        svio.read_outcomes(path)
    wb = openpyxl.load_workbook(path)
    del wb.active["XFD20000"]
    for col, v in enumerate(["jobs-local", 3, "FTE", "uk", "2024-05-02", "1"], start=1):
        wb.active.cell(row=60000, column=col, value=v)
    wb.save(path)
    df = svio.read_outcomes(path)
    assert df["quantity"].tolist() == [2, 3]
    assert svio.source_lines(path, [1]) == {1: 60000}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_read_when_integer_cell_beyond_float_range_is_a_refused_row(tmp_path: Path,
                                                                    suffix: str) -> None:
    """A 400-digit number is read, then refused: never an OverflowError that loses the
    whole file. From CSV the integer is kept and is too large (as Outcome says of it); an
    .xlsx cell comes from openpyxl as infinity already, which is not finite."""
    huge = 10 ** 400
    rows = [["jobs-local-fte", huge, "FTE", "uk", "2024-05-01", "1"],
            ["jobs-local-fte", 2, "FTE", "uk", "2024-05-01", "1"]]
    if suffix == ".xlsx":  # openpyxl cannot write such a cell: put it in the sheet's XML
        import zipfile

        first = _workbook(tmp_path / "w.xlsx", [XL_HEADER, [*rows[0][:1], 7777777,
                                                             *rows[0][2:]], rows[1]])
        path = tmp_path / "o.xlsx"
        with zipfile.ZipFile(first) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename.endswith("sheet1.xml"):
                    data = data.replace(b"<v>7777777</v>", f"<v>{huge}</v>".encode())
                dst.writestr(item, data)
    else:
        path = tmp_path / "o.csv"
        path.write_text("\n".join(",".join(map(str, r)) for r in [XL_HEADER, *rows]) + "\n",
                        encoding="utf-8")
    df = svio.read_outcomes(path)
    out = sv.value_frame(df, "uk-national", errors="collect")
    code = "not-finite" if suffix == ".xlsx" else "too-large"
    assert out.attrs["issues"][["row", "field", "code"]].values.tolist() == [
        [0, "quantity", code]]
    assert out["value_gbp"].iloc[1] > 0


@pytest.mark.parametrize(("column", "values", "words"), [
    ("measure", [b"\xff\xfe", b"jobs"], "binary"),
    ("region", [{"a": 1}, {"a": 2}], "struct"),
    ("date", [["2024-05-01"], ["x"]], "list"),
])
def test_read_parquet_when_text_column_cannot_be_text_raises_input_file_error(
        tmp_path: Path, column: str, values: list[Any], words: str) -> None:
    """A text column holding structs, lists or non-UTF-8 bytes is refused naming the column
    (read whole or in batches), never a pyarrow error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, Any] = {"measure": ["jobs-local"] * 2, "quantity": [1.0, 2.0],
                            "region": ["uk"] * 2, "date": ["2024-05-01"] * 2}
    cols[column] = values
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table(cols), path)
    for read in (svio.read_outcomes, lambda q: list(svio.iter_outcome_batches(q))):
        with pytest.raises(svio.InputFileError, match=f"'{column}' holds {words}"):
            read(path)


def test_read_csv_when_header_wider_than_csv_field_limit_reads_it(tmp_path: Path) -> None:
    """A header line longer than csv's 131,072-character field limit (read whole as one field
    when the separator is guessed) does not stop the file being read."""
    extra = [f"note_{i:06d}_" + "x" * 20 for i in range(5000)]
    header = ",".join(["measure", "quantity", "unit", "region", "date", *extra])
    assert len(header) > 131_072
    row = ",".join(["jobs-local", "2", "FTE", "uk", "2024-05-01", *([""] * len(extra))])
    path = tmp_path / "wide.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    df = svio.read_outcomes(path)
    assert df.shape == (1, 5 + len(extra)) and df["quantity"].tolist() == [2]
    assert svio.source_lines(path, [0]) == {0: 2}


def test_read_csv_when_a_blank_spreadsheet_row_was_saved_as_separators_skips_it(
        tmp_path: Path) -> None:
    """Excel and pandas save a blank row as ``,,,,``: skipped like a blank line and like the
    blank row of the .xlsx it came from, with the later rows' line numbers right."""
    path = tmp_path / "o.csv"
    path.write_text("measure,quantity,unit,region,date\n"
                    "jobs-local-fte,1,FTE,uk,2024-05-01\n"
                    ",,,,\n"
                    " , ,, ,\n"
                    "jobs-local-fte,2,FTE,uk,2024-05-01\n", encoding="utf-8")
    df = svio.read_outcomes(path)
    assert pd.to_numeric(df["quantity"]).tolist() == [1, 2] and df.index.tolist() == [0, 1]
    assert svio.source_lines(path, [1]) == {1: 5}
    batches = list(svio.iter_outcome_batches(path, chunksize=2))
    assert [(off, b.index.tolist()) for off, b in batches] == [(0, [0]), (1, [1])]
    xlsx = _workbook(tmp_path / "o.xlsx", [XL_HEADER[:5], ["jobs-local-fte", 1, "FTE", "uk",
                                                          "2024-05-01"], [None, "  "],
                                           ["jobs-local-fte", 2, "FTE", "uk", "2024-05-01"]])
    assert svio.read_outcomes(xlsx)["quantity"].tolist() == [1, 2]


# -- CSV headers follow the .xlsx header rules -------------------------------------------------

def test_read_csv_when_header_names_have_spaces_strips_them(tmp_path: Path) -> None:
    """' quantity ' is the quantity column, as in .xlsx; text columns stay text."""
    text = "measure , quantity,unit,region,date, contract_id\njobs-local,2,FTE,uk,2024-05-01,007\n"
    path = _write(tmp_path / "o.csv", text)
    for df in (svio.read_outcomes(path),
               pd.concat(b for _, b in svio.iter_outcome_batches(path, chunksize=1))):
        assert df.columns.tolist() == XL_HEADER
        assert df.loc[0, "contract_id"] == "007"
        assert df.loc[0, "quantity"] == 2


@pytest.mark.parametrize(("header", "words"),
                         [("measure,quantity,unit,region,date,quantity", "repeated"),
                          ("measure,quantity,unit,region,date, quantity ", "repeated"),
                          ("measure,,unit,region,date", "blank")])
def test_read_csv_when_header_repeats_or_is_blank_raises_input_file_error(
        tmp_path: Path, header: str, words: str) -> None:
    """Repeated or blank column names are refused, not renamed to 'quantity.1' or 'Unnamed'."""
    path = _write(tmp_path / "o.csv", header + "\njobs-local,2,FTE,uk,2024-05-01,3\n")
    with pytest.raises(svio.InputFileError, match=words):
        svio.read_outcomes(path)
    with pytest.raises(svio.InputFileError, match=words):
        list(svio.iter_outcome_batches(path, chunksize=1))


def test_read_when_file_has_the_index_pandas_writes_then_the_error_says_index_false(
        tmp_path: Path) -> None:
    """df.to_csv(path) and df.to_excel(path) write the index first under a blank name: the
    refusal says so (a blank name elsewhere gets no such hint)."""
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [2.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-05-01"]})
    df.to_csv(tmp_path / "o.csv")
    df.to_excel(tmp_path / "o.xlsx")
    for name in ("o.csv", "o.xlsx"):
        with pytest.raises(svio.InputFileError, match=r"column\(s\) \[1\] are blank.*"
                           r"index pandas writes: write the file with index=False") as info:
            svio.read_outcomes(tmp_path / name)
        # The blank cells' positions, as the declared type says (not in ``columns``: names).
        assert (info.value.positions, info.value.columns) == ([1], None)
    # Only a blank first name beside named columns is taken for the index.
    for text in ("measure,,unit\njobs-local,2,FTE\n", ",a,,b\n1,2,3,4\n"):
        other = _write(tmp_path / "b.csv", text)
        with pytest.raises(svio.InputFileError, match="blank") as info:
            svio.read_outcomes(other)
        assert "index=False" not in str(info.value)
    lone = _workbook(tmp_path / "lone.xlsx", [[" "], ["x"]])
    with pytest.raises(svio.InputFileError, match="blank") as info:
        svio.read_outcomes(lone)
    assert "index=False" not in str(info.value)


def test_read_when_the_first_column_is_an_empty_margin_then_the_error_says_delete_it(
        tmp_path: Path) -> None:
    """A Windows/Excel user's review: a sheet laid out from column B (column A left empty as
    a margin) was told of pandas' index and index=False, which they never wrote."""
    rows = [["measure", "quantity", "unit", "region", "date"],
            ["jobs-local", "2", "FTE", "uk", "2024-05-01"]]
    csv_file = _write(tmp_path / "m.csv", "".join(f",{','.join(r)}\n" for r in rows))
    book = _workbook(tmp_path / "m.xlsx", [[None, *r] for r in rows])
    for path in (csv_file, book):
        with pytest.raises(svio.InputFileError, match=r"column\(s\) \[1\] are blank.*empty "
                           r"margin column \(column A of a spreadsheet\)\? delete the column"
                           ) as info:
            svio.read_outcomes(path)
        assert "index=False" not in str(info.value)
        assert info.value.positions == [1]


def test_read_csv_when_header_row_is_blank_raises_input_file_error(tmp_path: Path) -> None:
    """A header of only commas is refused like a blank .xlsx header row."""
    path = _write(tmp_path / "o.csv", ",,,\njobs-local,2,FTE,uk\n")
    with pytest.raises(svio.InputFileError, match="header"):
        svio.read_outcomes(path)


# -- writing: untrusted text, odd columns, unwritable places ----------------------------------

def test_write_valuations_when_text_looks_like_a_formula_writes_text(tmp_path: Path) -> None:
    """Supplier text starting with '=', '+', '-' or '@' is a text cell, never a formula."""
    import openpyxl

    risky = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")"]
    path = svio.write_valuations(pd.DataFrame({"supplier_id": risky, "value_gbp": 1.0}),
                                 tmp_path / "v.xlsx")
    wb = openpyxl.load_workbook(path)  # not data_only: a formula would show as data_type 'f'
    cells = [row[0] for row in wb.active.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(risky)
    assert [c.value for c in cells] == risky
    assert svio.read_outcomes(path)["supplier_id"].tolist() == risky


def test_write_valuations_when_xlsx_shows_pennies_and_keeps_the_amount(tmp_path: Path) -> None:
    """Money columns show to the penny; the cell holds the amount, not a rounded one (a CSV
    writes the float exactly), so a total taken from the file rounds to the reported one."""
    import openpyxl

    amount = 575 * 52 * 0.9999999999999999  # a float a hair off a whole penny amount
    frame = pd.DataFrame({"measure": ["m"], "quantity": [1.0], "value_gbp": [amount],
                          "proxy_gbp": [amount]})
    path = svio.write_valuations(frame, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    cells = {name: ws.cell(row=2, column=header.index(name) + 1) for name in header}
    # the amount's own digits, not a rounded penny figure
    assert cells["value_gbp"].value == amount
    assert cells["value_gbp"].number_format == cells["proxy_gbp"].number_format
    assert cells["value_gbp"].number_format.startswith('"£"#,##0.00')
    assert cells["quantity"].number_format == "General"
    csv = svio.write_valuations(frame, tmp_path / "v.csv")
    assert float(csv.read_text(encoding="utf-8").splitlines()[1].split(",")[2]) == amount


def test_write_valuations_when_xlsx_then_floats_read_back_exactly(tmp_path: Path) -> None:
    """Every float cell holds the float's shortest exact digits (as Excel writes them), not
    the 16 openpyxl writes: an amount a hair off a half penny stays on its side of it, so a
    total taken from the file rounds to the reported one."""
    amounts = [4136539.9949999982, 434697.73499999975, 29897.399999999998, 0.1, 1e22, -2.5e-7]
    frame = pd.DataFrame({"value_gbp": amounts, "quantity": amounts[::-1]})
    back = svio.read_outcomes(svio.write_valuations(frame, tmp_path / "v.xlsx"))
    assert back["value_gbp"].tolist() == amounts
    assert back["quantity"].tolist() == amounts[::-1]
    for amount in amounts[:2]:
        assert money.total(back["value_gbp"][back["value_gbp"] == amount]) == money.total(
            pd.Series([amount]))


def test_write_valuations_when_xlsx_float_column_precedes_dates_keeps_numbers(
        tmp_path: Path) -> None:
    """openpyxl wrote the rest of a row through the float column's cell: a date after it gave
    it a date format, and from the second row on the quantities read back as 1900 dates."""
    import openpyxl

    frame = pd.DataFrame({
        "quantity": [12.5, 2.5, 208.5, 85.5],
        "date": pd.to_datetime(["2024-05-01"] * 4),
        "done": pd.Series([dt.date(2024, 6, 1)] * 4, dtype=object),
        "canonical_quantity": [1.0, 2.0, 3.0, 4.0], "value_gbp": [1.0, 2.0, 3.0, 4.0]})
    path = svio.write_valuations(frame, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path).active
    for col in (1, 4):
        cells = [ws.cell(row=r, column=col) for r in range(2, 6)]
        assert [c.value for c in cells] == frame.iloc[:, col - 1].tolist()
        assert {c.number_format for c in cells} == {"General"}
    assert {ws.cell(row=r, column=5).number_format for r in range(2, 6)} == {
        ws.cell(row=2, column=5).number_format} != {"General"}


def test_write_valuations_when_xlsx_money_column_is_nullable_float_keeps_format_and_digits(
        tmp_path: Path) -> None:
    """A Float64 money column (after convert_dtypes()) shows pennies and keeps its digits."""
    import openpyxl

    amounts = [0.30000000000000004, None, 29897.399999999998]
    frame = pd.DataFrame({"value_gbp": pd.array(amounts, dtype="Float64")})
    path = svio.write_valuations(frame, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == amounts
    assert ws.cell(row=2, column=1).number_format.startswith('"£"#,##0.00')


def test_write_valuations_when_xlsx_numpy_dates_in_a_mixed_column_are_their_text(
        tmp_path: Path) -> None:
    """As DataFrame.to_excel wrote them: a numpy datetime64 past year 9999 was a date cell
    reading back as #VALUE!."""
    cells = pd.Series([np.datetime64("12000-01-01"), np.datetime64("2024-05-01"), "x"],
                      dtype=object)
    back = svio.read_outcomes(svio.write_valuations(pd.DataFrame({"note": cells}),
                                                    tmp_path / "v.xlsx"))
    assert back["note"].tolist() == ["12000-01-01", "2024-05-01", "x"]


@pytest.mark.parametrize("dtype", ["int64", "uint64", "object"])
def test_write_valuations_when_xlsx_and_whole_numbers_past_2_53_keeps_every_digit(
        tmp_path: Path, dtype: str) -> None:
    """A 17-digit id in a column the library does not know is text in the sheet: openpyxl
    writes a number as a float, and two ids came back one. Up to 2**53 they stay numbers."""
    ids = [12345678901234567, 12345678901234569, 9999999999999999, 2**53, 7]
    negative = [] if dtype == "uint64" else [-2**53 - 1, -2**53]
    frame = pd.DataFrame({"outcome_id": pd.Series(ids + negative, dtype=dtype),
                          "value_gbp": 1.0})
    back = svio.read_outcomes(svio.write_valuations(frame, tmp_path / "v.xlsx"))
    assert back["outcome_id"].tolist() == [
        "12345678901234567", "12345678901234569", "9999999999999999", 2**53, 7,
        *(["-9007199254740993", -2**53] if negative else [])]


def test_write_valuations_when_text_has_control_characters_replaces_them(
        tmp_path: Path) -> None:
    """Characters XML cannot hold are replaced (U+FFFD), not an openpyxl error."""
    text = ["ok\x01done", "tab\tkept", "S\uffffX", "a\ud800b\ufffe"]  # a surrogate: object
    df = pd.DataFrame({"evidence": pd.Series(text, dtype=object), "value_gbp": [1.0, 2.0, 3.0,
                                                                                4.0]})
    path = svio.write_valuations(df, tmp_path / "v.xlsx")
    back = svio.read_outcomes(path)  # U+FFFF, U+FFFE and lone surrogates made it unreadable
    assert back["evidence"].tolist() == ["ok\ufffddone", "tab\tkept", "S\ufffdX",
                                         "a\ufffdb\ufffd"]
    assert back["value_gbp"].tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_write_valuations_when_folder_missing_raises_input_file_error(
        tmp_path: Path, suffix: str) -> None:
    """A missing output folder is an InputFileError naming the file, not a raw OSError."""
    path = tmp_path / "nope" / f"v{suffix}"
    with pytest.raises(svio.InputFileError) as info:
        svio.write_valuations(pd.DataFrame({"value_gbp": [1.0]}), path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_write_valuations_when_it_fails_keeps_the_previous_file(
        tmp_path: Path, suffix: str) -> None:
    """A failed write leaves an existing output as it was, and no temporary file behind."""
    path = tmp_path / f"v{suffix}"
    path.write_bytes(b"previous")
    # Each column breaks one writer: Excel has no time zones, Parquet no Python objects and
    # UTF-8 no lone surrogates.
    bad = pd.DataFrame({"when": pd.to_datetime(["2024-01-01"]).tz_localize("UTC"),
                        "x": [object()], "text": pd.Series(["\ud800"], dtype=object)})
    with pytest.raises(svio.InputFileError):
        svio.write_valuations(bad, path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_valuations_when_the_os_refuses_then_message_names_the_output_not_the_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A permission error is reported against the file asked for, with the system's reason;
    the temporary file it was written through is not named (nor left behind)."""
    path = tmp_path / "v.csv"

    def refuse(self: pd.DataFrame, target: Any, *args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    with pytest.raises(svio.InputFileError) as info:
        svio.write_valuations(pd.DataFrame({"value_gbp": [1.0]}), path)
    assert str(info.value).startswith(f"{path}: cannot write the file (Permission denied)")
    assert ".part" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_write_valuations_when_column_mixes_numbers_and_text_writes_parquet(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """An .xlsx quantity column holding 2 and 'abc' (kept by errors='collect') is written as
    text, not a pyarrow error."""
    src = svio.read_outcomes(_workbook(tmp_path / "o.xlsx", [
        XL_HEADER, ["jobs-local", 2, "FTE", "uk", "2024-05-01", "1"],
        ["jobs-local", "abc", "FTE", "uk", "2024-05-01", "2"]]))
    valued = value_frame(src, tiny, errors="collect")
    back = svio.read_outcomes(svio.write_valuations(valued, tmp_path / "v.parquet"))
    assert back["quantity"].tolist() == ["2", "abc"]
    assert back["value_gbp"].tolist()[0] == valued["value_gbp"].tolist()[0]
    assert pd.isna(back["value_gbp"].iloc[1])


# -- source lines -------------------------------------------------------------------------------

def test_source_lines_when_csv_has_blank_lines_and_multiline_values_gives_real_lines(
        tmp_path: Path) -> None:
    """Blank lines (skipped by the reader) and quoted values spanning lines are counted."""
    text = ("\n" + HEADER + ROWS[0] + "\n   \n"
            + 'env-carbon,1.5,tCO2e,england,2024-06-30,12,"B\nsecond line"\n'
            + "\r\n" + ROWS[2])
    path = _write(tmp_path / "o.csv", text)
    df = svio.read_outcomes(path)
    assert df["measure"].tolist() == ["jobs-local", "env-carbon", "social-volunteering"]
    assert svio.source_lines(path, [2, 0, 1, 7]) == {0: 3, 1: 6, 2: 9}
    lines = text.splitlines()
    assert lines[8].startswith("social-volunteering")


def test_source_lines_when_xlsx_has_blank_rows_gives_sheet_rows(tmp_path: Path) -> None:
    """Blank sheet rows are skipped by the reader but counted in the sheet row number."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                       "2024-05-01", "1"],
                                           [], [None, None],
                                           ["env-carbon", 1, "tCO2e", "uk", "2024-05-01", "2"]])
    assert svio.read_outcomes(path)["measure"].tolist() == ["jobs-local", "env-carbon"]
    assert svio.source_lines(path, [0, 1]) == {0: 2, 1: 5}


def test_source_lines_when_parquet_or_missing_gives_nothing(tmp_path: Path) -> None:
    """Parquet files have no lines; a missing file or no rows give an empty mapping."""
    src = _write(tmp_path / "o.csv", HEADER + ROWS[0])
    pq_path = svio.write_valuations(svio.read_outcomes(src), tmp_path / "o.parquet")
    assert svio.source_lines(pq_path, [0]) == {}
    assert svio.source_lines(tmp_path / "missing.csv", [0]) == {}
    assert svio.source_lines(src, []) == {}


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_write_valuations_when_index_repeats_and_columns_are_objects_keeps_rows(
        tmp_path: Path, suffix: str) -> None:
    """Object columns are converted by position: a repeated index label loses nothing."""
    df = pd.DataFrame({"note": pd.Series(["=a", 2, None], dtype=object),
                       "flag": pd.Series([True, None, False], dtype=object),
                       "value_gbp": [1.0, 2.0, 3.0]})
    df.index = pd.Index([0, 0, 1])
    back = svio.read_outcomes(svio.write_valuations(df, tmp_path / f"v{suffix}"))
    assert back["note"].tolist()[:2] == ["=a", "2" if suffix == ".parquet" else 2]
    assert pd.isna(back["note"].iloc[2])
    assert back["flag"].tolist()[0] == True  # noqa: E712 - numpy or Python bool
    assert back["value_gbp"].tolist() == [1.0, 2.0, 3.0]


def test_write_valuations_when_text_is_an_excel_error_code_writes_text(tmp_path: Path) -> None:
    """A supplier's '#N/A' stays text in .xlsx, not an Excel error value."""
    import openpyxl

    path = svio.write_valuations(pd.DataFrame({"contract_id": ["#N/A", "#REF!"]}),
                                 tmp_path / "v.xlsx")
    cells = [r[0] for r in openpyxl.load_workbook(path).active.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s", "s"]
    assert svio.read_outcomes(path)["contract_id"].tolist() == ["#N/A", "#REF!"]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_read_csv_when_semicolon_or_tab_separated_reads_as_comma_separated(
        tmp_path: Path, sep: str) -> None:
    """Excel saves ';'-separated CSV where the decimal mark is a comma: same rows either way."""
    text = HEADER + "".join(ROWS)
    comma = svio.read_outcomes(_write(tmp_path / "c.csv", text))
    other = svio.read_outcomes(_write(tmp_path / "s.csv", text.replace(",", sep)))
    pd.testing.assert_frame_equal(other, comma)
    assert svio.source_lines(tmp_path / "s.csv", [0, 1]) == {0: 2, 1: 3}
    batches = list(svio.iter_outcome_batches(tmp_path / "s.csv", chunksize=2))
    pd.testing.assert_frame_equal(pd.concat([b for _, b in batches]), comma)


def test_read_csv_when_utf16_says_so(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' is UTF-16: the error names the encoding and the fix."""
    path = tmp_path / "u.csv"
    path.write_bytes((HEADER + ROWS[0]).encode("utf-16"))
    with pytest.raises(svio.InputFileError, match="UTF-16 text: save it as 'CSV UTF-8'"):
        svio.read_outcomes(path)


def test_read_xlsx_when_a_date_cell_has_a_time_gives_its_date(tmp_path: Path) -> None:
    """'01/05/2024 10:30' in Excel is the day 2024-05-01, as in a Parquet datetime column."""
    path = _workbook(tmp_path / "t.xlsx", [["measure", "quantity", "unit", "region", "date"],
                                           ["jobs-local", 2, "FTE", "london",
                                            dt.datetime(2024, 5, 1, 10, 30)]])
    df = svio.read_outcomes(path)
    assert df.loc[0, "date"] == "2024-05-01"
    assert value_frame(df, sv.load_table(path=TINY), errors="collect").attrs["issues"].empty


def test_write_valuations_when_xlsx_has_repeated_column_names_writes_them(
        tmp_path: Path) -> None:
    """Repeated names are written by position (the money format too), as before."""
    import openpyxl

    frame = pd.DataFrame([[1.5, 2.5, "x"]], columns=["value_gbp", "value_gbp", "m"])
    path = svio.write_valuations(frame, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[2]] == [1.5, 2.5, "x"]
    assert ws["A2"].number_format == ws["B2"].number_format != "General"


def test_read_outcomes_when_a_long_numeric_column_has_a_typo_warns_nothing(
        tmp_path: Path) -> None:
    """pandas' DtypeWarning on a long column mixing numbers and a typo is not shown: the typo
    is a row issue when the rows are valued, and the numbers stay numbers."""
    import warnings

    n = 150_000
    lines = ["measure,quantity,unit,region,date"] + [
        "jobs-local-fte,1,FTE,uk,2024-06-01"] * (n - 1) + ["jobs-local-fte,1;5,FTE,uk,2024-06-01"]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        df = svio.read_outcomes(path)
        batches = list(svio.iter_outcome_batches(path, chunksize=100_000))
    assert [w.category.__name__ for w in seen] == []
    assert len(df) == n and sum(len(b) for _, b in batches) == n
    out = sv.value_frame(df, "uk-national", errors="collect")
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[n - 1, "not-a-number"]]


def test_read_csv_when_blank_rows_dropped_keeps_whole_numbers_too_large_for_int64(
        tmp_path: Path) -> None:
    """Dropping a blank row re-types the number columns as pandas would have; a whole number
    past int64 stays a float (it was cast, and wrapped round to a negative)."""
    from socialvalue_tom import io as svio

    head = "measure,quantity,unit,region,date,contract_value,ref\n"
    rows = ["env-carbon-saved,1e19,tCO2e,uk,2024-05-01,1e19,12345678901234567890\n",
            "env-carbon-saved,1,tCO2e,uk,2024-05-01,100,7\n"]
    plain = tmp_path / "plain.csv"
    plain.write_text(head + "".join(rows), encoding="utf-8")
    blank = tmp_path / "blank.csv"
    blank.write_text(head + rows[0] + ",,,,,,\n" + rows[1], encoding="utf-8")
    with_blank, without = svio.read_outcomes(blank), svio.read_outcomes(plain)
    assert with_blank["quantity"].tolist() == without["quantity"].tolist() == [1e19, 1.0]
    assert with_blank["contract_value"].tolist() == [1e19, 100.0]
    assert with_blank["ref"].tolist() == without["ref"].tolist()
    issues = sv.value_frame(with_blank, errors="collect").attrs["issues"]
    assert issues[["field", "code"]].values.tolist() == [["contract_value", "out-of-range"],
                                                         ["quantity", "too-large"]]


def test_read_csv_when_semicolons_and_dots_group_thousands_refuses_the_file(
        tmp_path: Path) -> None:
    """Excel where ',' is the decimal mark writes ';'-separated CSV with '.' grouping
    thousands: '12.500' there is 12500, which a CSV reader takes for 12.5. The file is refused,
    naming the cells; a plain '12.5' and a comma file are read as before."""
    from socialvalue_tom import io as svio

    path = tmp_path / "semi.csv"
    path.write_text("measure;quantity;unit;region;date;contract_value\n"
                    "growth-local-spend;12.500;GBP;uk;2024-09-30;1.000.000\n"
                    "\n"
                    "growth-local-spend;12;GBP;uk;2024-09-30;100\n"
                    "env-carbon-saved;1.000;tCO2e;uk;2024-09-30;\n", encoding="utf-8")
    with pytest.raises(sv.InputFileError) as info:
        svio.read_outcomes(path)
    message = str(info.value)
    assert "3 number(s)" in message and info.value.details["cells"] == 3
    assert ("line 2, quantity '12.500'; line 2, contract_value '1.000.000'; "
            "line 5, quantity '1.000'") in message
    with pytest.raises(sv.InputFileError):
        sv.value_file(path, errors="collect")
    path.write_text("measure;quantity;unit;region;date\n"
                    "growth-local-spend;12.5;GBP;uk;2024-09-30\n", encoding="utf-8")
    assert svio.read_outcomes(path)["quantity"].tolist() == [12.5]
    # A '.' that can only be a decimal mark (12.5, 0.125) shows how the file writes numbers,
    # and fractions and shares are never thousands.
    path.write_text("measure;quantity;unit;region;date;deadweight\n"
                    "growth-local-spend;1.250;GBP;uk;2024-09-30;0.125\n"
                    "growth-local-spend;0.125;GBP;uk;2024-09-30;0.250\n", encoding="utf-8")
    assert svio.read_outcomes(path)["quantity"].tolist() == [1.25, 0.125]
    comma = tmp_path / "comma.csv"
    comma.write_text("measure,quantity,unit,region,date\n"
                     "growth-local-spend,12.500,GBP,uk,2024-09-30\n", encoding="utf-8")
    assert svio.read_outcomes(comma)["quantity"].tolist() == [12.5]


@pytest.mark.parametrize("text", [
    "measure,quantity,unit,region,date\n"
    "env-carbon,1,tCO2e,uk,2024-06-01\n,,,,\nenv-carbon,x,tCO2e,uk,2024-06-01\n",
    "measure,quantity,unit,region,date,ref\n"
    "env-carbon,2,tCO2e,uk,2024-06-01,00042\n,,,,,\nenv-carbon,x,tCO2e,uk,2024-06-01,A1\n",
    "measure,quantity,unit,region,date,years\n"
    "env-carbon,2,tCO2e,uk,2024-06-01,1\n,,,,,\nenv-carbon,3,tCO2e,uk,2024-06-01,2.5\n",
])
def test_iter_outcome_batches_when_blank_row_and_file_types_given_then_batches_are_the_file(
        tmp_path: Path, text: str) -> None:
    """With csv_column_types' dtypes, a batch that had a blank row keeps the whole file's types
    (the blank row's drop re-read a text column as numbers, a float column as integers): each
    batch is its rows of read_outcomes' frame, with its types, at every chunksize."""
    src = _write(tmp_path / "o.csv", text)
    whole = svio.read_outcomes(src)
    for size in (1, 2, 3, 4):
        dtypes = svio.csv_column_types(src, size)
        batches = list(svio.iter_outcome_batches(src, size, dtypes=dtypes))
        assert sum(len(b) for _, b in batches) == len(whole) == 2
        for offset, batch in batches:
            pd.testing.assert_frame_equal(batch, whole.iloc[offset:offset + len(batch)],
                                          obj=f"chunksize {size}, batch at {offset}")


@pytest.mark.parametrize("chunksize", [2**31, 2**63, 2**70])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_iter_outcome_batches_when_chunksize_exceeds_a_c_long_then_one_batch(
        tmp_path: Path, suffix: str, chunksize: int) -> None:
    """A chunksize past the file's length gives it in one batch, even past what pandas and
    pyarrow take (2**63: an OverflowError); csv_column_types takes it too."""
    src = _write(tmp_path / "o.csv", HEADER + "".join(ROWS * 2))
    if suffix != ".csv":
        svio.write_valuations(svio.read_outcomes(src), tmp_path / f"o{suffix}")
        src = tmp_path / f"o{suffix}"
    got = list(svio.iter_outcome_batches(src, chunksize))
    assert [(off, len(b)) for off, b in got] == [(0, 6)]
    pd.testing.assert_frame_equal(got[0][1], svio.read_outcomes(src), check_dtype=False)
    assert svio.csv_column_types(src, chunksize) == {}


def test_read_parquet_when_a_column_name_repeats_then_input_file_error_names_it(
        tmp_path: Path) -> None:
    """A Parquet file with two columns of one name is refused saying which name repeats, not
    with pyarrow's schema dump ('Multiple matches for FieldRef...')."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["measure", "quantity", "unit", "region", "date", "measure", "unit"]
    path = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["x"]) for _ in names], names=names), path)
    with pytest.raises(svio.InputFileError) as info:
        svio.read_outcomes(path)
    assert "repeated column name(s) measure, unit" in str(info.value)
    assert "FieldRef" not in str(info.value)
    assert info.value.path == str(path)
    assert info.value.details["columns"] == ["measure", "unit"]


def _workbook_with_empty_cells(tmp_path: Path, tag: bytes, count: int,
                               moved_to: str | None = None) -> Path:
    """A valid one-row workbook (read as such first) whose sheet then gets ``count`` copies
    of the cell element ``tag`` in a row of their own, deflated: empty cells compress to next
    to nothing. ``moved_to``: the sheet's part is stored under that name instead, the
    workbook's relationships and content types pointing to it."""
    import zipfile

    path = _workbook(tmp_path / "ok.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                        "2024-05-01", "1"]])
    assert len(svio.read_outcomes(path)) == 1
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b"</sheetData>", b'<row r="3">' + tag * count
                                        + b"</row></sheetData>")
    if moved_to is not None:
        parts[moved_to] = parts.pop(sheet)
        old = sheet.removeprefix("xl/").encode()
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            old, moved_to.removeprefix("xl/").encode())
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"/" + sheet.encode(), b"/" + moved_to.encode())
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return bomb


def test_read_xlsx_when_parts_decompress_far_beyond_the_file_refuses_before_reading(
        tmp_path: Path) -> None:
    """A zip bomb: a workbook of a few KB whose sheet is 12 MB of empty cells (openpyxl would
    build an object per cell: minutes and gigabytes at 40 MB) is refused from the sizes the
    zip declares, before openpyxl reads it; an ordinary workbook is not."""
    bomb = _workbook_with_empty_cells(tmp_path, b"<c/>", 3_000_000)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(svio.InputFileError, match=r"decompress to 12,0\d\d,\d\d\d bytes, more "
                                                  r"than the 8,388,608 allowed"):
        svio.read_outcomes(bomb)


@pytest.mark.parametrize(("tag", "moved_to"), [(b"<c/>", None), (b'<x:c r="Z9"/>', None),
                                               (b"<c/>", "xl/other/sheet1.xml")])
def test_read_xlsx_when_sheets_hold_far_more_cells_than_the_file_bytes_refuses_them(
        tmp_path: Path, tag: bytes, moved_to: str | None) -> None:
    """Empty cells compress to a twentieth of a byte: a few KB held 600,000 of them (3 MB of
    XML, under the size limits), for which openpyxl builds an object each. Counted in the
    sheets' XML, under any namespace prefix, across read chunks, before openpyxl reads."""
    bomb = _workbook_with_empty_cells(tmp_path, tag, 600_000, moved_to)
    assert bomb.stat().st_size < 120_000
    with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
        svio.read_outcomes(bomb)
    assert svio._CELL_TAG.findall(b"<cols><col/></cols><c><v>1</v></c><x:c/><is>") == [
        b"<c>", b"<x:c/"]


@pytest.mark.parametrize("element", [
    b'<hyperlinks><hyperlink ref="A3:XFD1048576" display="x"/></hyperlinks>',
    b'<mergeCells count="1"><mergeCell ref="J3:Z200000"/></mergeCells>',
    b"<x:hyperlinks><x:hyperlink ref='$A$3:$Z$200000'/></x:hyperlinks>",
])
def test_read_xlsx_when_a_range_names_millions_of_cells_refuses_it_before_reading(
        tmp_path: Path, element: bytes) -> None:
    """openpyxl makes a cell for every cell of a hyperlink's or merged range: a 5 KB file naming
    A3:XFD1048576 took 5 GB and 80 s before failing (a security review). Counted as cells."""
    import zipfile

    path = _workbook(tmp_path / "ok.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                        "2024-05-01", "1"]])
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b"</sheetData>", b"</sheetData>" + element)
    bomb = tmp_path / "range.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert bomb.stat().st_size < 10_000
    with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
        svio.read_outcomes(bomb)
    assert svio._cells_in(b'<mergeCell ref="A1:B2"/><hyperlink ref="C5"/><c/>', 60) == 6


def _rezipped(tmp_path: Path, name: str, change: Any, first: tuple[str, bytes] | None = None
              ) -> Path:
    """A one-row workbook whose sheet part ``change`` rewrites (bytes to bytes); ``first``: a
    part (name, bytes) stored first, uncompressed."""
    import zipfile

    path = _workbook(tmp_path / "ok.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                        "2024-05-01", "1"]])
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = change(parts[sheet])
    out = tmp_path / name
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        if first is not None:
            z.writestr(zipfile.ZipInfo(first[0]), first[1], compress_type=zipfile.ZIP_STORED)
        for n, data in parts.items():
            z.writestr(n, data)
    return out


def test_read_xlsx_cell_count_is_not_escaped_by_how_the_xml_is_written(tmp_path: Path) -> None:
    """A security review: the cell count read bytes, where openpyxl reads XML. A merged range
    written with a character reference (ref="&#65;3:XFD20000": 5 KB, 13 GB before it was
    stopped), a sheet in UTF-16 (<c/> is <\\0c\\0/\\0>\\0 there) and a damaged part placed first
    (whose error skipped the count) each escaped it. Now the reference is decoded, wide text
    decoded before counting, an unreadable part refuses the file, and a document type
    (whose entities could hide a range) is refused."""
    charref = _rezipped(tmp_path, "charref.xlsx", lambda x: x.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="&#65;3:XFD20000"/>'
        b"</mergeCells>"))
    with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
        svio.read_outcomes(charref)

    def wide(x: bytes) -> bytes:
        text = x.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        text = text.replace("</sheetData>", '<row r="3">' + "<c/>" * 300_000 + "</row></sheetData>")
        return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")

    with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
        svio.read_outcomes(_rezipped(tmp_path, "wide.xlsx", wide))
    many = _rezipped(tmp_path, "many.xlsx", lambda x: x.replace(
        b"</sheetData>", b'<row r="3">' + b"<c/>" * 300_000 + b"</row></sheetData>"),
        first=("aaa/pad.bin", b"\x00" * 1000))
    with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
        svio.read_outcomes(many)
    data = bytearray(many.read_bytes())
    data[14] ^= 0xFF  # the first part's CRC in its local header
    at = data.index(b"PK\x01\x02")  # and in its central directory entry
    data[at + 16] ^= 0xFF
    (tmp_path / "crc.xlsx").write_bytes(bytes(data))
    with pytest.raises(svio.InputFileError, match=r"its part aaa/pad\.bin cannot be read, as "
                                                  r"Bad CRC-32"):
        svio.read_outcomes(tmp_path / "crc.xlsx")
    entity = _rezipped(tmp_path, "dtd.xlsx", lambda x: x.replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY r "A3:XFD20000">]><worksheet', 1))
    with pytest.raises(svio.InputFileError, match=r"declares a document type"):
        svio.read_outcomes(entity)
    assert svio._cells_in(b'<mergeCell ref="&#x41;1:&#66;2"/><hyperlink ref=" C5 "/>', 60) == 5


def test_read_xlsx_cell_count_sees_whole_rows_quoted_brackets_and_bare_wide_text(
        tmp_path: Path) -> None:
    """A review of that fix: a UTF-16 sheet starting with a space (no mark, not '<'), a
    hyperlink over whole rows (ref="1:300000", which openpyxl fills across the sheet: 18 s),
    and a '>' in an attribute before ref (57 s, 2.6 GB) each still escaped the count. An SVG
    image declaring a document type is no worksheet: a workbook with one is read."""
    def spaced(x: bytes) -> bytes:
        text = x.decode("utf-8")
        text = text[text.index("?>") + 2:] if text.startswith("<?xml") else text
        text = text.replace("</sheetData>", '</sheetData><mergeCells count="1"><mergeCell '
                            'ref="A3:XFD200"/></mergeCells>')
        return (" " + text).encode("utf-16-le")

    rows = _rezipped(tmp_path, "rows.xlsx", lambda x: x.replace(
        b"</sheetData>", b'</sheetData><hyperlinks><hyperlink ref="1:300000" display="x"/>'
        b"</hyperlinks>"))
    quoted = _rezipped(tmp_path, "quoted.xlsx", lambda x: x.replace(
        b"</sheetData>", b'</sheetData><hyperlinks><hyperlink display="a>b" ref="A1:XFD300"/>'
        b"</hyperlinks>"))
    for bomb in (_rezipped(tmp_path, "spaced.xlsx", spaced), rows, quoted):
        with pytest.raises(svio.InputFileError, match=r"sheets hold more than 250,000 cells"):
            svio.read_outcomes(bomb)
    svg = _rezipped(tmp_path, "svg.xlsx", lambda x: x, first=(
        "xl/media/image9.svg", b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG '
        b'1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>'))
    assert len(svio.read_outcomes(svg)) == 1
    assert svio._cells_in(b'<hyperlink ref="A:B"/>', 30) == 2 * 1_048_576
    assert svio._cells_in(b'<hyperlink ref="&r;"/>', 30) == 16_384 * 1_048_576


def test_read_csv_when_a_row_is_wider_than_a_worksheet_refuses_it_quickly(
        tmp_path: Path) -> None:
    """A first data row of 200,000 separators (pandas would build a frame that wide: 20 s and
    a gigabyte) and a header of 20,000 names are refused; 16,000 distinct names read."""
    commas = _write(tmp_path / "commas.csv", "measure,quantity\n" + "," * 200_000 + "\n")
    with pytest.raises(svio.InputFileError, match="200,001 fields, more than the 16,384"):
        svio.read_outcomes(commas)
    wide = _write(tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(20_000)) + "\n")
    with pytest.raises(svio.InputFileError, match="20,000 columns, more than the 16,384"):
        svio.read_outcomes(wide)
    names = ["measure", "quantity", "unit", "region", "date",
             *(f"c{i}" for i in range(15_995))]
    ok = _write(tmp_path / "ok.csv", ",".join(names) + "\n"
                + "jobs-local,1,FTE,uk,2024-05-01" + "," * 15_995 + "\n")
    assert svio.read_outcomes(ok).shape == (1, 16_000)


# -- round trips: what is written reads back as it was (review of 26 November) -------------

def _three_rows() -> pd.DataFrame:
    return pd.DataFrame({"measure": ["jobs-local", "env-carbon", "jobs-local"],
                         "quantity": [1.0, 2.0, 3.0], "unit": ["FTE", "tCO2e", "FTE"],
                         "region": ["uk"] * 3, "date": ["2024-06-01"] * 3})


def test_write_csv_when_text_holds_a_carriage_return_quotes_it(tiny_table: Any,
                                                               tmp_path: Path) -> None:
    """An unquoted 'a\\rb' read back as two lines: a fourth row, the columns shifted."""
    df = _three_rows().assign(note=["ok", "a\rb", "ok"])
    valued = value_frame(df, tiny_table)
    back = svio.read_outcomes(svio.write_valuations(valued, tmp_path / "v.csv"))
    assert len(back) == 3 and back["note"].tolist() == ["ok", "a\rb", "ok"]
    assert back["value_gbp"].tolist() == valued["value_gbp"].tolist()


def test_value_file_csv_output_when_text_holds_a_carriage_return_quotes_it(
        tiny_table: Any, tmp_path: Path) -> None:
    from socialvalue_tom.streaming import value_file

    src = tmp_path / "in.parquet"
    _three_rows().assign(note=["ok", "a\rb", "ok"]).to_parquet(src)
    value_file(src, tables=tiny_table, out=tmp_path / "out.csv")
    assert len(svio.read_outcomes(tmp_path / "out.csv")) == 3


def test_write_xlsx_when_text_is_in_an_arrow_string_column_writes_text_cells(
        tiny_table: Any, tmp_path: Path) -> None:
    """Formula-like text was written as a formula from an Arrow string column (only object,
    str and categorical columns were made safe)."""
    pa = pytest.importorskip("pyarrow")
    openpyxl = pytest.importorskip("openpyxl")
    valued = value_frame(_three_rows(), tiny_table)
    valued["note"] = pd.array(["=1+1", "ok", "#N/A"], dtype=pd.ArrowDtype(pa.string()))
    path = svio.write_valuations(valued, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path).active
    column = [c.value for c in ws[1]].index("note") + 1
    assert [ws.cell(row=r, column=column).data_type for r in (2, 4)] == ["s", "s"]
    assert svio.read_outcomes(path)["note"].tolist() == ["=1+1", "ok", "#N/A"]


def test_write_xlsx_when_text_is_longer_than_a_cell_refuses_it(tiny_table: Any,
                                                               tmp_path: Path) -> None:
    """40,000 characters were cut to 32,767 with only a warning."""
    pytest.importorskip("openpyxl")
    valued = value_frame(_three_rows(), tiny_table).assign(note=["x" * 40_000, "", ""])
    with pytest.raises(sv.InputFileError, match=r"column 'note', row 0: 40,000 characters"):
        svio.write_valuations(valued, tmp_path / "v.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ids", [pd.array([1, None, 3], dtype="Int64"),
                                 pd.array([True, None, False], dtype="boolean")])
def test_read_parquet_written_by_pandas_with_nullable_ids_reads_them_as_text(
        tmp_path: Path, ids: Any) -> None:
    """pandas' own metadata said Int64 (or boolean) for a column read as text: a bare
    TypeError, and a traceback in the CLI."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "in.parquet"
    _three_rows().assign(supplier_id=ids).to_parquet(path)
    got = svio.read_outcomes(path)["supplier_id"].tolist()
    assert got[0] in ("1", "True") and pd.isna(got[1])


def test_parquet_round_trip_keeps_integer_ids_as_their_digits(tiny_table: Any,
                                                              tmp_path: Path) -> None:
    """123456789012 came back as '1.23456789012e+11' (integers were widened to float64)."""
    pytest.importorskip("pyarrow")
    valued = value_frame(_three_rows().assign(contract_id=[123456789012, 5, 7]), tiny_table)
    path = svio.write_valuations(valued, tmp_path / "v.parquet")
    assert svio.read_outcomes(path)["contract_id"].tolist() == ["123456789012", "5", "7"]
    floats = tmp_path / "f.parquet"  # a float column of ids (a missing one widened it)
    _three_rows().assign(contract_id=[123456789012.0, None, 7.0]).to_parquet(floats)
    got = svio.read_outcomes(floats)["contract_id"].tolist()
    assert got[0] == "123456789012" and pd.isna(got[1]) and got[2] == "7"


@pytest.mark.parametrize("blank", [",,,,,", " , ,\t, , ,"])
def test_read_outcomes_when_blank_records_lie_among_rows_types_columns_as_without_them(
        tmp_path: Path, blank: str) -> None:
    """Dropping a blank record and re-typing the columns made '2.0' an integer (and True
    1.0); the file is now read again without its blank records, so every column has the type
    it has in the same file without them (a quoted line break before them included)."""
    head = "measure,quantity,unit,region,date,x\n"
    rows = ['jobs-local,1,FTE,uk,2024-05-01,1.0\n', f'{blank}\n',
            '"jobs-local",2.5,FTE,"u\nk",2024-05-01,2.0\n', 'jobs-local,3,FTE,uk,2024-05-01,3.0\n']
    with_blank, without = tmp_path / "b.csv", tmp_path / "n.csv"
    with_blank.write_text(head + "".join(rows), encoding="utf-8")
    without.write_text(head + "".join(r for r in rows if r != f"{blank}\n"), encoding="utf-8")
    got, want = svio.read_outcomes(with_blank), svio.read_outcomes(without)
    pd.testing.assert_frame_equal(got, want)
    assert got["x"].dtype == np.float64 and len(got) == 3
    ints = tmp_path / "i.csv"
    ints.write_text(head + "jobs-local,1,FTE,uk,2024-05-01,7\n" + f"{blank}\n"
                    + "jobs-local,2,FTE,uk,2024-05-01,8\n", encoding="utf-8")
    assert svio.read_outcomes(ints)["x"].tolist() == [7, 8]
    assert svio.read_outcomes(ints)["x"].dtype == np.int64


@pytest.mark.parametrize("chunksize", [1, 1000])
def test_a_parquet_column_pandas_saved_as_its_index_is_kept(tmp_path: Path,
                                                            chunksize: int) -> None:
    """``df.set_index("contract_id").to_parquet(p)`` keeps contract_id in the file, but
    ``to_pandas`` made it the index, which the reader replaced: the column was lost and every
    contract became one double-counting group (C1's priority hire cut C2's local jobs). It is
    a column again; an unnamed index (row labels) is still dropped."""
    df = pd.DataFrame({"contract_id": ["C1", "C2"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [1.0, 5.0], "unit": ["FTE", "FTE"],
                       "region": ["london", "london"], "date": ["2024-09-30", "2024-09-30"]})
    expected = sv.value_frame(df)["value_gbp"].tolist()
    indexed = tmp_path / "ix.parquet"
    df.set_index("contract_id").to_parquet(indexed)
    back = svio.read_outcomes(indexed)
    assert back["contract_id"].tolist() == ["C1", "C2"]
    out = tmp_path / "out.parquet"
    sv.value_file(indexed, out, chunksize=chunksize)
    written = pd.read_parquet(out)
    assert written["contract_id"].tolist() == ["C1", "C2"]
    assert written["value_gbp"].tolist() == expected
    assert written["claim_share"].tolist() == [1.0, 1.0]
    labelled = tmp_path / "labels.parquet"
    df.set_axis([10, 20]).to_parquet(labelled)  # an unnamed index: row labels, not data
    assert list(svio.read_outcomes(labelled).columns) == list(df.columns)
    clash = tmp_path / "clash.parquet"
    df.set_index(pd.Index(["x", "y"], name="measure")).to_parquet(clash)
    with pytest.raises(svio.InputFileError, match="both a column and a pandas index named "
                                                  "'measure'"):
        svio.read_outcomes(clash)


@pytest.mark.parametrize("chunksize", [None, 1])
def test_a_parquet_file_with_columns_at_several_levels_is_refused(tmp_path: Path,
                                                                  chunksize: int | None) -> None:
    """A file written from a frame with a MultiIndex of columns: the whole-file reader gave
    tuple-labelled columns that valued every contract as one double-counting group, and the
    batch reader a raw KeyError. Refused by both, naming the file and what to do."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [5.0], "unit": ["FTE"],
                       "region": ["london"], "date": ["2024-09-30"]})
    df.columns = pd.MultiIndex.from_arrays([df.columns, [""] * df.shape[1]])
    path = tmp_path / "nested.parquet"
    df.to_parquet(path)
    with pytest.raises(svio.InputFileError, match="labelled at 2 levels"):
        if chunksize is None:
            svio.read_outcomes(path)
        else:
            list(svio.iter_outcome_batches(path, chunksize=chunksize))
    with pytest.raises(svio.InputFileError, match="labelled at 2 levels"):
        sv.value_file(path, errors="collect", chunksize=chunksize or 100_000)


def test_read_xlsx_when_a_sheet_part_is_damaged_raises_input_file_error(tmp_path: Path) -> None:
    """The cell count decompresses every part before openpyxl: a damaged one (zlib's error,
    a bad CRC) refuses the file there, naming the part (skipping it skipped the count)."""
    import zipfile

    path = _workbook(tmp_path / "ok.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                        "2024-05-01", "1"]])
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("xl/worksheets/"))
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 5, start + min(25, info.compress_size)):
        data[i] ^= 0xFF
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data))
    with pytest.raises(svio.InputFileError, match=r"not a readable \.xlsx workbook: its part "
                       rf"{info.filename} cannot be read, as its compressed data is damaged"):
        svio.read_outcomes(damaged)


@pytest.mark.parametrize("part", ["xl/worksheets/", "xl/_rels/workbook.xml.rels"])
def test_read_xlsx_when_a_part_is_encrypted_raises_input_file_error(tmp_path: Path,
                                                                   part: str) -> None:
    """zipfile refuses an encrypted part with a RuntimeError: the cell count refuses the file,
    naming the part (the workbook's relationships, read first, too)."""
    import zipfile

    path = _workbook(tmp_path / "ok.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                        "2024-05-01", "1"]])
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.startswith(part))
    data = bytearray(path.read_bytes())
    data[info.header_offset + 6] |= 0x01  # the local header's "encrypted" flag
    flagged = 0
    for at in range(len(data) - 4):  # and the central directory's entry for the same part
        if data[at:at + 4] == b"PK\x01\x02" and data[at + 46:at + 46 + len(info.filename)] \
                == info.filename.encode():
            data[at + 8] |= 0x01
            flagged += 1
    assert flagged == 1
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(bytes(data))
    with pytest.raises(svio.InputFileError, match=r"not a readable \.xlsx workbook: its part "
                       rf"{re.escape(info.filename)} cannot be read, as it is encrypted"):
        svio.read_outcomes(locked)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_write_valuations_to_a_name_near_the_file_system_limit(tmp_path: Path,
                                                               suffix: str) -> None:
    """The temporary file beside the output had the output's name in it and went over the
    255-byte limit; its name is short now."""
    path = tmp_path / ("v" * (250 - len(suffix)) + suffix)
    svio.write_valuations(pd.DataFrame({"value_gbp": [1.0]}), path)
    assert path.is_file() and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_named_range_index_is_metadata_not_a_column_in_every_reader(tmp_path: Path) -> None:
    """A RangeIndex named ``rowid`` is stored as metadata, not as a column: no reader makes a
    column of it (read_outcomes did, the batches did not)."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 3, "quantity": [1.0] * 3,
                       "unit": ["FTE"] * 3, "region": ["uk"] * 3, "date": ["2024-06-01"] * 3})
    path = tmp_path / "r.parquet"
    df.rename_axis("rowid").to_parquet(path)
    assert list(svio.read_outcomes(path).columns) == list(df.columns)
    batches = [b for _, b in svio.iter_outcome_batches(path, chunksize=2)]
    assert all(list(b.columns) == list(df.columns) for b in batches)


@pytest.mark.parametrize("separator", [",", "\t"])
def test_read_csv_when_another_amount_has_a_decimal_comma_refuses_dot_groups(
        tmp_path: Path, separator: str) -> None:
    """LibreOffice saves numbers as shown, with any separator: where '2,5' shows the decimal
    mark is a comma, '1.500' is fifteen hundred, which was read as 1.5 in comma and tab files
    (only semicolon files were checked). Refused naming both cells; with no such evidence, or
    with a '.' that can only be a decimal mark, the file reads as before."""
    from socialvalue_tom import io as svio

    def write(*quantities: str) -> Path:
        rows = [separator.join(["env-carbon-saved", q, "tCO2e", "scotland", "2024-09-30"])
                for q in quantities]
        path = tmp_path / "q.csv"
        path.write_text(separator.join(["measure", "quantity", "unit", "region", "date"])
                        + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        return path

    comma = '"2,5"' if separator == "," else "2,5"
    for evidence in (comma, comma.replace("2,5", "0,125"), comma.replace("2,5", "1.500,25")):
        path = write("1.500", evidence)
        # A cell listed already is named once: "(as '1.500,25' shows)", not its line again.
        shows = (r"as '1\.500,25' shows\)" if "1.500,25" in evidence
                 else r"line 3, quantity '[\d,]+'\)")
        with pytest.raises(sv.InputFileError, match=r"line 2, quantity '1\.500'.*decimal mark "
                                                    rf"as a comma \({shows}, where") as info:
            svio.read_outcomes(path)
        assert info.value.details["cells"] >= 1
        assert str(info.value).count("1.500,25") <= 2
        with pytest.raises(sv.InputFileError):
            sv.value_file(path, errors="collect")
    assert svio.read_outcomes(write("1.500", "7"))["quantity"].tolist() == [1.5, 7]
    thousands = '"2,500"' if separator == "," else "2,500"  # ',' may group thousands too
    assert len(svio.read_outcomes(write("1.500", thousands))) == 2  # no evidence either way
    assert len(svio.read_outcomes(write("1.500", comma, "0.5"))) == 3


@pytest.mark.parametrize("separator", [",", "\t"])
def test_a_decimal_comma_in_a_figure_column_refuses_dot_groups_in_amounts(
        tmp_path: Path, separator: str) -> None:
    """LibreOffice in a German locale wrote '2.500' (two and a half thousand) beside a
    deadweight '0,25': only the amount columns were read for the decimal comma, so the
    deadweight row was refused and the '2.500' valued as 2.5. A deadweight written '0.25'
    shows '.' is the decimal mark, and the file reads."""
    from socialvalue_tom import io as svio

    def write(deadweight: str) -> Path:
        path = tmp_path / "lo.csv"
        path.write_text(separator.join(["measure", "quantity", "unit", "region", "date",
                                        "deadweight"]) + "\n"
                        + separator.join(["growth-local-spend", "2.500", "GBP", "london",
                                          "2024-05-01", ""]) + "\n"
                        + separator.join(["jobs-local-fte", "3", "FTE", "london",
                                          "2024-05-01", deadweight]) + "\n", encoding="utf-8")
        return path

    comma = '"0,25"' if separator == "," else "0,25"
    for read in (svio.read_outcomes, lambda p: sv.value_file(p, errors="collect")):
        with pytest.raises(sv.InputFileError, match=r"line 2, quantity '2\.500'.*decimal mark "
                                                    r"as a comma \(line 3, deadweight '0,25'\)"):
            read(write(comma))
    assert svio.read_outcomes(write("0.25"))["quantity"].tolist() == [2.5, 3]


def test_decimal_comma_check_reads_past_a_long_notes_cell(tmp_path: Path) -> None:
    """A notes cell over the csv module's 128 KiB field limit stopped the check quietly, so
    '1.500' was valued as 1.5 (pandas reads such a cell)."""
    from socialvalue_tom import io as svio

    row = "env-carbon-saved,{q},tCO2e,scotland,2024-09-30,{n}\n"
    path = tmp_path / "long.csv"
    path.write_text("measure,quantity,unit,region,date,notes\n"
                    + row.format(q="7", n='"' + "a" * 140_000 + '"')
                    + row.format(q="1.500", n="x") + row.format(q='"2,5"', n="y"),
                    encoding="utf-8")
    with pytest.raises(sv.InputFileError, match=r"line 3, quantity '1\.500'"):
        svio.read_outcomes(path)
    with pytest.raises(sv.InputFileError, match=r"line 3, quantity '1\.500'"):
        sv.value_file(path, errors="collect")
    import csv
    assert csv.field_size_limit() == 131_072  # put back


def test_a_quoted_note_with_digits_and_commas_is_not_read_as_a_decimal_comma(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'"12,500 trees planted"' is text: the byte scan does not send such a file to the
    record-by-record check (which cost value_file 3x its time), and value_file lays a file
    out once for all its passes."""
    from socialvalue_tom import io as svio

    path = tmp_path / "notes.csv"
    path.write_text("measure,quantity,unit,region,date,notes\n" + "".join(
        f'env-carbon-saved,{i},tCO2e,scotland,2024-09-30,"12,500 trees, site {i}"\n'
        for i in range(50)), encoding="utf-8")
    assert not svio._may_write_decimal_commas(path, ",")
    laid_out = []
    real = svio._read_layout
    monkeypatch.setattr(svio, "_read_layout", lambda p: laid_out.append(p) or real(p))
    sv.value_file(path, chunksize=10, errors="collect")
    assert len(laid_out) == 1
    svio.read_outcomes(path)
    assert len(laid_out) == 2  # outside value_file, nothing is remembered


def test_decimal_comma_scan_reads_lines_ending_in_cr_alone(tmp_path: Path) -> None:
    """Old Mac Excel ends lines with CR alone: a quoted '2,5' first on its line was not seen
    as a field, so '12.500' was valued as 12.5."""
    from socialvalue_tom import io as svio

    path = tmp_path / "cr.csv"
    path.write_bytes(b'quantity,measure,unit,date,region\r'
                     b'12.500,jobs-local-fte,FTE,2024-06-01,wales\r'
                     b'"2,5",jobs-local-fte,FTE,2024-06-01,wales\r')
    with pytest.raises(sv.InputFileError, match=r"quantity '12\.500'"):
        svio.read_outcomes(path)


def test_field_limit_is_put_back_only_when_the_last_overlapping_reader_leaves(
        tmp_path: Path) -> None:
    """Two record passes at once (two threads valuing files): the first to finish put the
    128 KiB limit back while the other still read, which then stopped at its long field and
    lost its last records; and the limit was left raised."""
    import csv

    from socialvalue_tom import io as svio

    small = tmp_path / "a.csv"
    small.write_text("measure,quantity\n" + "x,1\n" * 50_000, encoding="utf-8")
    long = tmp_path / "b.csv"
    long.write_text("measure,quantity\n" + "x,1\n" * 10 + 'x,"' + "9" * 200_000 + '"\n',
                    encoding="utf-8")
    before = csv.field_size_limit()
    a = svio._csv_records(small, ",")
    next(a)
    b = svio._csv_records(long, ",")
    next(b)
    a.close()
    assert sum(1 for _ in b) == 11  # every data record, the long one included
    assert csv.field_size_limit() == before


def test_write_through_temp_says_why_without_the_path_and_refuses_a_device(
        tmp_path: Path) -> None:
    """The ``why`` detail (the command line quotes it after its own words for the file) for a
    missing folder and for a write that fails; a character device is named as one."""
    with pytest.raises(svio.InputFileError) as missing:
        svio.write_through_temp(tmp_path / "no" / "x.csv", lambda tmp: None)
    assert missing.value.details["why"] == f"the folder {tmp_path / 'no'} does not exist"

    def refuse(tmp: Path) -> None:
        raise PermissionError(13, "Permission denied")

    with pytest.raises(svio.InputFileError) as failed:
        svio.write_through_temp(tmp_path / "x.csv", refuse)
    assert failed.value.details["why"] == "Permission denied"
    if Path("/dev/null").exists():
        with pytest.raises(svio.InputFileError, match="null is a device, not a file"):
            svio.write_through_temp(Path("/dev/null"), lambda tmp: None)


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(143)])
def test_write_through_temp_interrupted_leaves_no_part_file_and_the_old_file(
        tmp_path: Path, stop: BaseException) -> None:
    """A scripter's review: Ctrl-C (or SIGTERM, a SystemExit under the command line) while a
    large output was being written left a hidden part file of hundreds of megabytes beside
    it; the interrupt goes on, the earlier file is kept, and nothing else is left."""
    out = tmp_path / "out.csv"
    out.write_text("earlier\n", encoding="utf-8")

    def write(tmp: Path) -> None:
        tmp.write_text("half a file", encoding="utf-8")
        raise stop

    with pytest.raises(type(stop)):
        svio.write_through_temp(out, write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert out.read_text(encoding="utf-8") == "earlier\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the machine's: the tests below compare modes with it."""
    was = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(was)


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX's")
@pytest.mark.usefixtures("umask_022")
def test_outputs_written_again_keep_the_permissions_they_were_given(tmp_path: Path) -> None:
    """A privacy review: an output made private (chmod 600) came back readable by all from
    the next run (a fresh file renamed over it). A file there keeps its mode; a new one gets
    the usual permissions. The streaming writer does the same."""
    out = tmp_path / "out.csv"
    svio.write_through_temp(out, lambda tmp: tmp.write_text("a\n", encoding="utf-8"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o604)  # a mode no umask gives
    svio.write_through_temp(out, lambda tmp: tmp.write_text("b\n", encoding="utf-8"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert out.read_text(encoding="utf-8") == "b\n"
    src = tmp_path / "in.csv"
    _CARBON.iloc[:2].to_csv(src, index=False)
    streamed = tmp_path / "streamed.csv"
    streamed.write_text("earlier\n", encoding="utf-8")
    streamed.chmod(0o604)
    sv.value_file(src, streamed, tables=sv.load_table(path=TINY))
    assert stat.S_IMODE(streamed.stat().st_mode) == 0o604 and "value_gbp" in streamed.read_text(
        encoding="utf-8")


def _mode_while_rewritten(out: Path) -> int:
    """Write "new" to ``out`` through a temporary file; that file's mode while written."""
    seen: list[int] = []

    def write(tmp: Path) -> None:
        seen.append(stat.S_IMODE(tmp.stat().st_mode))
        tmp.write_text("new\n", encoding="utf-8")

    svio.write_through_temp(out, write)
    return seen[0]


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX's")
@pytest.mark.usefixtures("umask_022")
def test_a_private_output_is_private_while_written_and_keeps_no_special_bits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A privacy review (second round): the temporary file was 0644 while being written (its
    rows readable by all until the rename), set-id bits were copied, another user's file gave
    its group's bits to this user's, and a mode that could not be set failed the write."""
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o600)
    assert _mode_while_rewritten(out) == 0o600 and stat.S_IMODE(out.stat().st_mode) == 0o600
    out.chmod(0o2750)  # set-group-id: not this library's to copy
    _mode_while_rewritten(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    # Another user's file, readable by all: the new one gets no bit the usual mode lacks.
    out.chmod(0o666)
    monkeypatch.setattr(os, "geteuid", lambda: out.stat().st_uid + 1)
    _mode_while_rewritten(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    monkeypatch.undo()

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)
    svio.write_through_temp(out, lambda tmp: tmp.write_text("kept\n", encoding="utf-8"))
    assert out.read_text(encoding="utf-8") == "kept\n"


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX's")
@pytest.mark.usefixtures("umask_022")
def test_a_read_only_output_is_replaced_and_stays_read_only(tmp_path: Path) -> None:
    """An adversarial review: giving the temporary file a read-only output's mode (0444)
    before writing made it unwritable (as any user but root): the owner may write it while
    it is written, and the output gets its 0444 after."""
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o444)
    assert _mode_while_rewritten(out) == 0o644 and stat.S_IMODE(out.stat().st_mode) == 0o444
    assert out.read_text(encoding="utf-8") == "new\n"


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX's")
def test_a_link_swapped_in_for_the_temporary_file_is_not_chmodded(tmp_path: Path) -> None:
    """An adversarial review: the mode was set through the temporary file's name, so a link
    swapped in for it (by someone who can write the folder) had its target's mode changed."""
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o644)
    victim = tmp_path / "victim"
    victim.write_text("secret", encoding="utf-8")
    victim.chmod(0o600)

    def swap(tmp: Path) -> None:
        tmp.unlink()
        tmp.symlink_to(victim)

    svio.write_through_temp(out, swap)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    # A pipe swapped in is not waited on for ever (it was opened to read, blocking).
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    svio._keep_mode(out, pipe)  # returns: a pipe is no file to give a mode


def test_write_through_temp_replaces_a_link_to_a_folder_and_leaves_the_folder(
        tmp_path: Path) -> None:
    """A link is replaced, never written through: one to a folder becomes the file written,
    and the folder is left as it was (only a link to a pipe or device is refused)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    link = tmp_path / "out.csv"
    link.symlink_to(folder, target_is_directory=True)
    svio.write_through_temp(link, lambda tmp: tmp.write_text("x\n", encoding="utf-8"))
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "x\n"
    assert folder.is_dir() and not list(folder.iterdir())


# -- provenance kept with the files written --------------------------------------------------

_CARBON = pd.DataFrame({"measure": ["env-carbon", "env-carbon", "nope"],
                        "quantity": [1.0, 2.0, 3.0], "unit": ["tCO2e"] * 3,
                        "region": ["uk"] * 3, "date": ["2024-06-01"] * 3})


def test_provenance_records_what_produced_the_values_and_is_the_same_each_run() -> None:
    """A determinism review: a CSV of the values recorded neither the settings nor the price
    index, so two runs with different --price-year looked alike but for the amounts. The record
    names the version, the settings, each edition with its digest and its index's, and is the
    same for the same valuation (no time, no run id), and for a selection made since but for
    the digest of its rows."""
    tiny = sv.load_table(path=TINY)
    a = sv.Assumptions(price_year=2025, discount_base_year=2024)
    valued = value_frame(_CARBON, tiny, errors="collect", assumptions=a)
    record = svio.provenance(valued, source="in.csv (sha256 00)")
    assert record == {
        "produced_by": f"socialvalue_tom {sv.__version__}",
        "input": "in.csv (sha256 00)",
        "assumptions": a.model_dump(mode="json"),
        "editions": [{"edition": f"tiny:{tiny.version}", "digest": tiny.digest,
                      "price_index_digest": tiny.index_digest}],
        "input_rows": 3,
        "rows_not_valued": 1,
        "rows_digest": svio.rows_digest(valued),
    }
    again = value_frame(_CARBON, tiny, errors="collect", assumptions=a)
    assert svio.provenance(again, source="in.csv (sha256 00)") == record
    # A selection keeps the valuation's record, with the digest of the rows it holds (a
    # file of them then verifies as rows removed).
    first = svio.provenance(valued.iloc[:1], source="in.csv (sha256 00)")
    assert first == {**record, "rows_digest": svio.rows_digest(valued.iloc[:1])}
    assert first["rows_digest"] != record["rows_digest"]
    assert "input" not in (svio.provenance(valued) or {})
    # A frame value_frame did not produce (or one read back from a file) has none.
    assert svio.provenance(pd.DataFrame({"value_gbp": [1.0]})) is None
    with pytest.raises(TypeError, match="source"):
        svio.provenance(valued, source=Path("in.csv"))  # type: ignore[arg-type]


def test_write_valuations_keeps_the_provenance_in_parquet_metadata(tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    valued = value_frame(_CARBON.iloc[:2], sv.load_table(path=TINY))
    path = svio.write_valuations(valued, tmp_path / "v.parquet", source="in.csv")
    meta = pq.read_metadata(path).metadata
    assert json.loads(meta[svio.PROVENANCE_KEY.encode()]) == svio.provenance(
        valued, source="in.csv")
    assert pd.read_parquet(path)["value_gbp"].tolist() == valued["value_gbp"].tolist()
    plain = svio.write_valuations(pd.DataFrame({"value_gbp": [1.0]}), tmp_path / "p.parquet")
    assert svio.PROVENANCE_KEY.encode() not in (pq.read_metadata(plain).metadata or {})


def test_write_valuations_lays_the_xlsx_sheet_out_for_a_spreadsheet_user(tmp_path: Path) -> None:
    """An Excel user's review: the valued workbook's columns kept Excel's default width, so
    an amount such as £424,008.00 showed as ####, its header scrolled away and the sheet was
    named Sheet1. The rows are on 'Valuations', the header frozen and filtered, each column
    as wide as its widest cell (an amount as the format shows it), none past 60."""
    openpyxl = pytest.importorskip("openpyxl")
    valued = value_frame(_CARBON.assign(quantity=[1.0, 20_000.0, 3.0],
                                        note=["x" * 200, None, "short"]),
                         sv.load_table(path=TINY), errors="collect")
    big = float(valued["value_gbp"].max())
    path = svio.write_valuations(valued, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path)[svio.VALUATIONS_SHEET]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}4"
    widths = {c.value: ws.column_dimensions[c.column_letter].width for c in ws[1]}
    assert widths["value_gbp"] >= len(f"£{big:,.2f}") + 2 > 8
    assert widths["measure"] == len("env-carbon") + 2
    assert widths["note"] == 60
    assert ws["A2"].value == "env-carbon"  # the rows as before
    assert svio.read_outcomes(path)["measure"].tolist() == _CARBON["measure"].tolist()


def test_write_valuations_writes_figures_and_dates_given_as_text_as_numbers_and_dates(
        tmp_path: Path) -> None:
    """An Excel user's review: a quantity a supplier typed as text ('12') was written back as
    text, which Excel's SUM leaves out without a word, and a date as text, which its filters
    do not read as one. Cells that plainly read as a figure or a date are written as one;
    the rest as given; read back, the rows are as before."""
    openpyxl = pytest.importorskip("openpyxl")
    rows = pd.concat([_CARBON, _CARBON.iloc[:2]], ignore_index=True).assign(
        quantity=pd.Series(["12", " 3 ", "£4", "１２", "5"], dtype=object),
        date=["2024-06-01", "2024-06-02", "2024-02-30", "2024-06-01", "0225-09-30"])
    valued = value_frame(rows, sv.load_table(path=TINY), errors="collect")
    path = svio.write_valuations(valued, tmp_path / "v.xlsx")
    ws = openpyxl.load_workbook(path)[svio.VALUATIONS_SHEET]
    header = [c.value for c in ws[1]]
    quantity, date = header.index("quantity") + 1, header.index("date") + 1
    # Full-width digits (refused by valuing) and a typo before 1900 (which Excel shows as
    # ####) stay the text written: a diff review.
    assert [ws.cell(r, quantity).value for r in range(2, 7)] == [12, 3, "£4", "１２", 5]
    assert [ws.cell(r, date).value for r in range(2, 7)] == [
        dt.datetime(2024, 6, 1), dt.datetime(2024, 6, 2), "2024-02-30", dt.datetime(2024, 6, 1),
        "0225-09-30"]
    assert ws.cell(2, date).number_format == "yyyy-mm-dd"
    back = svio.read_outcomes(path)
    assert back["date"].tolist() == ["2024-06-01", "2024-06-02", "2024-02-30", "2024-06-01",
                                     "0225-09-30"]
    assert back["quantity"].tolist() == [12, 3, "£4", "１２", 5]


def test_write_valuations_writes_days_before_march_1900_as_iso_text(tmp_path: Path) -> None:
    """A pandas expert's review: a date column of one's own holding 1899-12-31 or 1899-12-30
    was written as a worksheet date and read back as a time of day (Excel's calendar starts
    on a 0 January 1900 and has a 29 February 1900). Days before 1 March 1900, as dates or
    as datetimes, are written as their ISO text; later ones stay dates."""
    pytest.importorskip("openpyxl")
    n = 4
    rows = pd.concat([_CARBON] * 2, ignore_index=True).iloc[:n].assign(
        start=pd.Series([dt.date(1899, 12, 31), dt.date(1899, 12, 30), dt.date(1850, 6, 1),
                         dt.date(1900, 3, 1)], dtype=object),
        stamp=pd.to_datetime(["1899-12-31", "1850-06-01 12:00", "1900-02-28", "2024-01-01"],
                             format="ISO8601"))
    valued = value_frame(rows, sv.load_table(path=TINY), errors="collect")
    back = svio.read_outcomes(svio.write_valuations(valued, tmp_path / "v.xlsx"))
    assert back["start"].tolist() == ["1899-12-31", "1899-12-30", "1850-06-01",
                                      dt.datetime(1900, 3, 1)]
    assert back["stamp"].tolist() == ["1899-12-31 00:00:00", "1850-06-01 12:00:00",
                                      "1900-02-28 00:00:00", dt.datetime(2024, 1, 1)]


def test_write_valuations_lists_the_provenance_on_a_second_sheet_as_text(
        tmp_path: Path) -> None:
    """The workbook's second sheet lists the record, an item per row, every value a text
    cell: an input named '=cmd|...' is never a formula. The rows are still the first sheet,
    read back as before."""
    openpyxl = pytest.importorskip("openpyxl")
    tiny = sv.load_table(path=TINY)
    valued = value_frame(_CARBON.iloc[:2], tiny, assumptions=sv.Assumptions(price_year=2025))
    path = svio.write_valuations(valued, tmp_path / "v.xlsx", source="=cmd|' /c calc'!A0")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [svio.VALUATIONS_SHEET, svio.PROVENANCE_SHEET]
    rows = [[c.value for c in r] for r in wb[svio.PROVENANCE_SHEET].iter_rows()]
    items = dict(rows[1:])
    assert rows[0] == ["item", "value"]
    assert items["input"] == "=cmd|' /c calc'!A0"
    assert wb[svio.PROVENANCE_SHEET]["B3"].data_type == "s"
    # Quote-prefixed as on the data sheet, so an edit in Excel keeps it text (a security
    # review); a plain value is not.
    provenance = wb[svio.PROVENANCE_SHEET]
    assert provenance["B3"].quotePrefix and not provenance["A3"].quotePrefix
    assert [c.value for c in provenance["A"]].index("input") == 2
    assert items["assumption price_year"] == "2025"
    # As a buyer reads a sheet, not as JSON spells it ('null', 'true')
    assert items["assumption deadweight"] == "(not set)"
    assert items["assumption carry_forward"] == "no"
    assert items["assumption apply_confidence"] == "yes"
    assert items[f"edition tiny:{tiny.version} digest"] == tiny.digest
    assert items["input_rows"] == "2" and items["rows_not_valued"] == "0"
    back = svio.read_outcomes(path)
    assert back["value_gbp"].tolist() == valued["value_gbp"].tolist()


def test_write_valuations_csv_is_the_rows_alone(tmp_path: Path) -> None:
    """A CSV has no room for the record: the file is the rows, and nothing is written beside
    it (the command line's --provenance writes the record where asked)."""
    valued = value_frame(_CARBON.iloc[:2], sv.load_table(path=TINY))
    svio.write_valuations(valued, tmp_path / "v.csv", source="in.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["v.csv"]
    assert pd.read_csv(tmp_path / "v.csv")["value_gbp"].tolist() == valued["value_gbp"].tolist()


# -- files that are not what their names say (an error-message review) -----------------------


def test_a_workbook_saved_under_a_csv_name_is_named_as_one(tmp_path: Path) -> None:
    """An .xlsx renamed .csv was told its bytes are not UTF-8 and to save it as 'CSV UTF-8':
    the error says it is a workbook and to rename it."""
    pytest.importorskip("openpyxl")
    rows = pd.DataFrame({"measure": ["env-carbon"], "quantity": [1.0]})
    book = svio.write_valuations(rows, tmp_path / "r.xlsx")
    disguised = tmp_path / "r.csv"
    disguised.write_bytes(book.read_bytes())
    with pytest.raises(svio.InputFileError, match=re.escape(
            "the file is not CSV text: it is a zip archive, most likely an Excel workbook: "
            "rename it .xlsx")):
        svio.read_outcomes(disguised)
    old = tmp_path / "old.csv"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(svio.InputFileError, match="an Excel 97-2003 workbook"):
        svio.read_outcomes(old)


def test_a_password_protected_workbook_is_named_as_one(tmp_path: Path) -> None:
    """Excel keeps a workbook saved with a password (or a sensitivity label) in a compound
    file, as an old .xls is: it was told to save the file as .xlsx, which keeps the
    password, so the officer went round in circles."""
    pytest.importorskip("openpyxl")
    body = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
            + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64)
    for name in ("locked.xlsx", "locked.csv"):
        path = tmp_path / name
        path.write_bytes(body)
        with pytest.raises(svio.InputFileError, match="password-protected or encrypted") as info:
            svio.read_outcomes(path)
        assert "97-2003" not in str(info.value)


def test_a_chart_sheet_first_in_the_tabs_is_passed_over(tmp_path: Path) -> None:
    """A chart kept before the data stopped the run ('a chart sheet, not a table'), where a
    hidden sheet is passed over: the first worksheet is read; a chart sheet named is still
    refused, listing the worksheets."""
    pytest.importorskip("openpyxl")
    from conftest import one_row_workbook
    from openpyxl.chart import BarChart, Reference

    wb, ws = one_row_workbook("Data")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=2), titles_from_data=True)
    wb.create_chartsheet("Chart1", 0).add_chart(chart)
    path = tmp_path / "charted.xlsx"
    wb.save(path)
    assert svio.read_outcomes(path)["measure"].tolist() == ["env-carbon-saved"]
    assert [len(b) for _, b in svio.iter_outcome_batches(path)] == [1]
    with pytest.raises(svio.InputFileError, match=r"chart sheet.*the worksheets are 'Data'"):
        svio.read_outcomes(path, sheet="Chart1")


def test_a_strict_open_xml_workbook_is_named_as_one(tmp_path: Path) -> None:
    """Excel's "Strict Open XML Spreadsheet" (which openpyxl does not read) was reported as
    'no sheet number 0: the workbook has 0 sheet(s)'."""
    pytest.importorskip("openpyxl")
    import zipfile

    plain = svio.write_valuations(pd.DataFrame({"measure": ["env-carbon"]}), tmp_path / "p.xlsx")
    strict = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(strict, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                    b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            out.writestr(info, data)
    with pytest.raises(svio.InputFileError, match=r"Strict Open XML.*save it as Excel Workbook"):
        svio.read_outcomes(strict)


def test_a_csv_saved_under_an_xlsx_name_and_excels_lock_file_are_told_apart(
        tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    text = tmp_path / "r.xlsx"
    text.write_text("measure,quantity\nenv-carbon,1\n", encoding="utf-8")
    with pytest.raises(svio.InputFileError, match=re.escape(
            "the file is text, not a workbook: if it is a CSV file, rename it .csv")):
        svio.read_outcomes(text)
    lock = tmp_path / "~$returns.xlsx"
    lock.write_bytes(b"\x0bsomeone" + b" " * 40)
    with pytest.raises(svio.InputFileError, match=r"Excel's lock file for a workbook open in "
                                                  r"Excel \(it holds no rows\): close the "
                                                  r"workbook, and read 'returns.xlsx'"):
        svio.read_outcomes(lock)


@pytest.mark.parametrize(("suffix", "advice"), [
    (".xls", "save it as an Excel Workbook (.xlsx) or as CSV UTF-8"),
    (".ods", "an OpenDocument spreadsheet"), (".xlsm", "a macro-enabled workbook"),
    (".txt", "if its values are separated by commas, rename it .csv"),
])
def test_a_spreadsheet_type_that_cannot_be_read_is_told_what_to_save_as(
        tmp_path: Path, suffix: str, advice: str) -> None:
    path = tmp_path / f"r{suffix}"
    path.write_bytes(b"x")
    with pytest.raises(svio.InputFileError, match=re.escape(advice)):
        svio.read_outcomes(path)


def test_bytes_saved_in_windows_encoding_name_the_character_typed(tmp_path: Path) -> None:
    """Excel's plain 'CSV' saves '£' as byte A3: the error names the character, to find it."""
    path = tmp_path / "w.csv"
    path.write_bytes(b"measure,quantity,unit,region,date,notes\n"
                     b"env-carbon,1,tCO2e,uk,2024-05-01,\xa3100\n")
    with pytest.raises(svio.InputFileError, match="'£' in the Windows encoding Excel's plain "
                                                  "'CSV' saves with"):
        svio.read_outcomes(path)


def test_a_sheet_named_but_for_case_is_suggested(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "Returns"
    wb.active.append(["measure", "quantity", "unit", "region", "date"])
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(svio.InputFileError, match=r"no sheet named 'returns': sheets are "
                                                  r"Returns; did you mean 'Returns'\? \(a "
                                                  r"sheet is named exactly\)"):
        svio.read_outcomes(tmp_path / "r.xlsx", sheet="returns")


def test_provenance_record_lists_editions_sorted() -> None:
    record = svio.provenance_record({}, [("b:1", "d2", None), ("a:1", "d1", "i1")], 2, 0)
    assert [e["edition"] for e in record["editions"]] == ["a:1", "b:1"]


def test_a_zip_that_is_no_workbook_is_not_told_to_be_renamed_xlsx(tmp_path: Path) -> None:
    import zipfile

    pytest.importorskip("openpyxl")
    path = tmp_path / "r.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(svio.InputFileError) as info:
        svio.read_outcomes(path)
    assert "rename it .xlsx" not in str(info.value)


def test_unprintable_windows_bytes_are_not_named_and_tsv_is_told_what_to_save() -> None:
    from socialvalue_tom.io import _as_windows_text

    assert _as_windows_text(b"\xa0") == "" and "'£'" in _as_windows_text(b"\xa3")
    with pytest.raises(svio.InputFileError, match="tab-separated text"):
        svio.read_outcomes("x.tsv")


def test_read_outcomes_of_bytes_in_memory_says_to_write_them_to_a_file() -> None:
    """An integrator's review: an upload passed as BytesIO gave Path()'s bare TypeError."""
    import io as stdio

    from socialvalue_tom.io import read_outcomes

    with pytest.raises(TypeError, match=r"not BytesIO: write an upload held in memory to a "
                                        r"temporary file named with its extension"):
        read_outcomes(stdio.BytesIO(b"measure,quantity\n"))


def test_provenance_of_apportioned_rows_counts_input_rows_and_the_parts_valued() -> None:
    """Rows split by apportion are counted as the input's rows (each once), the parts valued
    beside them: the Provenance sheet had said 35 input rows for a file of 31 (the report, 31
    outcomes). The counts are the same for any selection made since."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 2, "quantity": [12.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "period_start": ["2024-01-01", "2024-05-01"],
                       "period_end": ["2024-12-31", "2024-06-01"]})
    valued = value_frame(sv.apportion(df))
    record = svio.provenance(valued)
    assert record is not None
    assert (record["input_rows"], record["valued_parts"]) == (2, 3)
    assert svio.provenance(valued.iloc[:1]) == {**record,
                                                "rows_digest": svio.rows_digest(valued.iloc[:1])}
    plain = svio.provenance(value_frame(df.drop(columns=["period_start", "period_end"])
                                        .assign(date="2024-05-01")))
    assert plain is not None and "valued_parts" not in plain


def test_provenance_of_apportioned_rows_counts_bad_and_concatenated_input_rows() -> None:
    """Input rows are counted as the reports count them: a bad row's parts are one row not
    valued, and two apportioned returns put together (both numbered from 0) count all their
    rows."""
    year = {"period_start": "2024-01-01", "period_end": "2024-12-31", "quantity": 12.0,
            "unit": "FTE", "region": "uk"}
    two = pd.DataFrame([{**year, "measure": "jobs-local-fte"}, {**year, "measure": "nope"}])
    record = svio.provenance(value_frame(sv.apportion(two), errors="collect"))
    assert record is not None
    assert (record["input_rows"], record["valued_parts"], record["rows_not_valued"]) == (
        2, 4, 1)
    one = two.iloc[:1]
    both = pd.concat([sv.apportion(one), sv.apportion(one.assign(contract_id="C2"))])
    together = svio.provenance(value_frame(both))
    assert together is not None and together["input_rows"] == 2


def test_provenance_names_an_amended_edition_and_what_it_amends(tmp_path: Path) -> None:
    """A local amendment's label could pass for a published edition's: the record says which
    edition it amends (the terminal did, the record did not), kept in every file format."""
    published = sv.load_table("uk-national", version="2025")
    mine = sv.amend_table(published, version="2025-example.1", sources=[{
        "id": "example-check", "title": "Made-up figure", "publisher": "Example Council",
        "year": 2025, "url": "https://example.org/check", "licence": "OGL-3.0"}],
        proxies={"jobs-local-fte": {"england": {
            "value": 39026.00, "source": "example-check", "derivation": {
                "inputs": {"pay": 750.5, "weeks": 52}, "formula": "pay * weeks"}}}})
    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                         "region": ["england"], "date": ["2025-06-01"]})
    valued = value_frame(rows, mine)
    record = svio.provenance(valued)
    assert record is not None
    assert record["editions"] == [{"edition": "uk-national:2025-example.1",
                                   "digest": mine.digest,
                                   "price_index_digest": mine.index_digest,
                                   "amends": "uk-national:2025"}]
    for suffix in (".xlsx", ".parquet"):
        path = svio.write_valuations(valued, tmp_path / f"v{suffix}")
        assert svio.read_provenance(path) == record, suffix
    plain = svio.provenance(value_frame(rows, published))
    assert plain is not None and "amends" not in plain["editions"][0]


def test_write_valuations_shows_in_pounds_only_the_amounts_the_library_writes(
        tmp_path: Path) -> None:
    """A diff review: an input column named spend_gbp (12.3456) was shown as £12.35, its
    digits hidden; only the amounts the library writes (and contract_value) are."""
    openpyxl = pytest.importorskip("openpyxl")
    valued = value_frame(_CARBON.iloc[:2].assign(spend_gbp=[12.3456, 1.0]),
                         sv.load_table(path=TINY))
    ws = openpyxl.load_workbook(svio.write_valuations(valued, tmp_path / "v.xlsx"))[
        svio.VALUATIONS_SHEET]
    formats = {c.value: ws.cell(2, c.column).number_format for c in ws[1]}
    assert formats["value_gbp"] == '"£"#,##0.00;-"£"#,##0.00'
    assert formats["spend_gbp"] == "General"


def _shared_text_workbook(path: Path, text: str, rows: int) -> Path:
    """A workbook whose ``notes`` column holds ``text`` in ``rows`` rows, kept once in its
    shared strings, as Excel keeps a repeated text (openpyxl writes each cell's own)."""
    import zipfile

    header = [*XL_HEADER, "notes"]
    strings = [*header, "jobs-local-fte", "FTE", "uk", "2024-05-01", "C1", text]
    at = {s: i for i, s in enumerate(strings)}

    def row(r: int, values: list[object]) -> str:
        cells = [f'<c r="{col}{r}"><v>{v}</v></c>' if isinstance(v, int) else
                 f'<c r="{col}{r}" t="s"><v>{at[str(v)]}</v></c>'
                 for col, v in zip("ABCDEFG", values, strict=True)]
        return f'<row r="{r}">{"".join(cells)}</row>'

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    body = [row(1, header)] + [row(r, ["jobs-local-fte", 1, "FTE", "uk", "2024-05-01", "C1",
                                        text]) for r in range(2, rows + 2)]
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxml'
            'formats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
            'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/shared'
            'Strings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                        "</Relationships>"),
        "xl/workbook.xml": (f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet '
                            'name="outcomes" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/'
            'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (f'<worksheet xmlns="{main}"><sheetData>{"".join(body)}'
                                     "</sheetData></worksheet>"),
        "xl/sharedStrings.xml": (f'<sst xmlns="{main}">'
                                 + "".join(f"<si><t>{s}</t></si>" for s in strings)
                                 + "</sst>"),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return path


def test_read_xlsx_when_a_long_text_is_repeated_in_many_cells_refuses_it(tmp_path: Path) -> None:
    """A security review: a workbook keeps each text once and cells point at it, so an 18 KB
    file with a 5,000,000-character text in 400 cells read as 2,000,000,000 characters
    (valuing it took 4 GB). A sheet may hold no more text than its file may decompress to."""
    bomb = _shared_text_workbook(tmp_path / "bomb.xlsx", "A" * 100_000, 400)
    assert bomb.stat().st_size < 100_000  # 40,000,000 characters in 400 cells
    with pytest.raises(sv.InputFileError, match="more than 8,388,608 characters of text"):
        svio.read_outcomes(bomb)
    fine = _shared_text_workbook(tmp_path / "ok.xlsx", "A" * 1_000, 400)
    assert len(svio.read_outcomes(fine)) == 400


@pytest.mark.parametrize("meta", [b"[" * 3000 + b"]" * 3000, b"{}", b'{"columns": 5}', b"xx{",
                                  b'{"index_columns": ["nope"], "columns": []}'])
def test_read_parquet_when_pandas_metadata_is_garbled_is_an_input_file_error(
        tmp_path: Path, meta: bytes) -> None:
    """A security review: garbled pandas metadata escaped as RecursionError, KeyError or
    TypeError (exit 1, "bad rows"); it is an InputFileError naming the file, for the reader
    and for value_file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                          "region": ["uk"], "date": ["2024-05-01"]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path = tmp_path / "m.parquet"
    pq.write_table(table.replace_schema_metadata({b"pandas": meta}), path)
    with pytest.raises(sv.InputFileError, match=r"pandas metadata .* cannot be read"):
        svio.read_outcomes(path)
    with pytest.raises(sv.InputFileError, match=r"m\.parquet"):
        sv.value_file(path)


def test_read_provenance_when_nested_too_deeply_is_an_input_file_error(tmp_path: Path) -> None:
    """A record nested 100,000 deep escaped as RecursionError from `verify`."""
    path = tmp_path / "p.json"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000, encoding="utf-8")
    with pytest.raises(sv.InputFileError, match="nested too deeply"):
        svio.read_provenance(path)


def test_read_provenance_when_a_count_is_no_count_is_refused(tmp_path: Path) -> None:
    """A review: `verify` passed a record whose input_rows was a nested object (the row
    checks skipped it silently). A count that is present must be a count of rows."""
    import json

    good = {"assumptions": {}, "editions": [{"edition": "uk-national:2024"}],
            "input_rows": 3, "rows_not_valued": 0}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(good), encoding="utf-8")
    assert svio.read_provenance(path)["input_rows"] == 3
    for bad in ({"a": 1}, -1, True, "3"):
        path.write_text(json.dumps({**good, "input_rows": bad}), encoding="utf-8")
        with pytest.raises(sv.InputFileError, match=r"its input_rows is .* not a count"):
            svio.read_provenance(path)


def test_writing_over_a_file_open_elsewhere_says_what_may_hold_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to replace a file Excel holds open (PermissionError): the error says
    it may be open in another program, and the earlier file is left as it was."""
    import os

    target = tmp_path / "out.csv"
    target.write_text("earlier\n", encoding="utf-8")
    real_replace = os.replace

    def locked(src: Any, dst: Any) -> None:
        if Path(dst).name == "out.csv":
            raise PermissionError(13, "The process cannot access the file", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(svio.InputFileError, match=r"cannot write the file \(The process cannot "
                                                  r"access the file\): is it open in another "
                                                  r"program"):
        svio.write_valuations(pd.DataFrame({"measure": ["env-carbon"]}), target)
    assert target.read_text(encoding="utf-8") == "earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no part file left


def test_a_dotted_fraction_is_no_evidence_that_amounts_write_dot_decimals(
        tmp_path: Path) -> None:
    """An adversarial review: once fraction columns were read for the decimal comma, a
    deadweight typed '0.25' in a semicolon file (Excel, comma decimal mark) counted as proof
    that '.' was the decimal mark, and '1.500' FTE was read as 1.5 without an error."""
    path = tmp_path / "g1.csv"
    path.write_text("measure;quantity;unit;region;date;deadweight\n"
                    "jobs-local-fte;1.500;FTE;london;2024-05-15;0.25\n"
                    "jobs-local-fte;2;FTE;london;2024-05-15;\n", encoding="utf-8")
    with pytest.raises(svio.InputFileError, match=r"line 2, quantity '1\.500'"):
        svio.read_outcomes(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_the_rows_digest_reads_a_file_as_its_readers_give_it_back(
        tmp_path: Path, suffix: str) -> None:
    """An adversarial review: an untouched file failed `verify` on its digest where a writer
    or reader changes a cell: a date with a time of day (valued, and read back, as its day),
    a carriage return (an .xlsx file gives '\\n'), a control character (U+FFFD in .xlsx), an
    exact Decimal id (a float in .xlsx). The digest reads each cell as the readers give it."""
    pytest.importorskip("openpyxl")
    pytest.importorskip("pyarrow")
    rows = pd.DataFrame({
        "measure": ["env-carbon-saved"] * 4, "quantity": [1.0, 2.0, 3.0, 4.0],
        "unit": ["tCO2e"] * 4, "region": ["uk"] * 4,
        "date": [pd.Timestamp("2024-05-15 09:30"), pd.Timestamp("2024-05-16"),
                 pd.Timestamp("2024-05-17 23:59"), pd.Timestamp("2024-05-18")],
        "contract_id": pd.Series(["C-1\r\nphase 2", "a\x0bb", Decimal("1.50"), "C4"],
                                 dtype=object),
        "supplier_id": ["S\rone", "S2", "S3", "S4"]})
    valued = sv.value_frame(rows)
    path = svio.write_valuations(valued, tmp_path / f"v{suffix}")
    record = svio.provenance(valued)
    assert record is not None
    assert svio.rows_digest(svio.read_outcomes(path)) == record["rows_digest"]
    # A line end moved from one cell into its neighbour is a change.
    moved = valued.copy()
    moved["contract_id"] = pd.Series(["C-1", "\nphase 2a\x0bb", Decimal("1.50"), "C4"],
                                     dtype=object)
    assert svio.rows_digest(moved) != record["rows_digest"]


@pytest.mark.parametrize(("cell", "iso"), [
    ("30/06/2025", "2025-06-30"), ("3.4.2025", "2025-04-03"), ("03-04-2025", "2025-04-03"),
    (" 30/06/2025 ", "2025-06-30"), ("30/06/2025 00:00", "2025-06-30"),
    ("30/06/2025 00:00:00", "2025-06-30"),
    # Left as written, for the valuation to refuse with its hint: no such day, a time of day,
    # separators that differ, ISO already, not a date, a two-digit year (25-06-30 may be year
    # first; 1/2/99 of another century), digits other than ASCII (as the ISO reading).
    ("31/04/2025", "31/04/2025"), ("30/06/2025 14:30", "30/06/2025 14:30"),
    ("30/06-2025", "30/06-2025"), ("2025-06-30", "2025-06-30"), ("soon", "soon"),
    ("25-06-30", "25-06-30"), ("1/2/99", "1/2/99"),
    ("\uff13\uff10/\uff10\uff16/\uff12\uff10\uff12\uff15",
     "\uff13\uff10/\uff10\uff16/\uff12\uff10\uff12\uff15"),
])
def test_dates_read_day_first_reads_uk_dates_as_their_days(cell: str, iso: str) -> None:
    """A council officer's review: a CSV saved by Excel in a UK locale writes 30/06/2025, and
    each such row was refused alone. ``dates_read_day_first`` (``--day-first``) reads them."""
    df = pd.DataFrame({"date": [cell], "period_start": [cell], "quantity": [1.0]})
    out = svio.dates_read_day_first(df)
    assert out["date"].tolist() == [iso] and out["period_start"].tolist() == [iso]
    assert df["date"].tolist() == [cell]  # the caller's frame is left alone
    assert out.attrs.get("socialvalue_tom.day_first", 0) == (2 if iso != cell else 0)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["/", ".", "-"]), st.booleans())
def test_dates_read_day_first_gives_the_day_written(day: dt.date, sep: str, padded: bool
                                                    ) -> None:
    """Any day written day first, with any of the separators, padded or not, reads back as
    that day; the valuation then reads it as ISO."""
    text = (f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}" if padded
            else f"{day.day}{sep}{day.month}{sep}{day.year}")
    out = svio.dates_read_day_first(pd.DataFrame({"date": [text, None]}))
    assert out["date"].iloc[0] == day.isoformat() and pd.isna(out["date"].iloc[1])


def test_dates_read_day_first_refuses_a_column_with_a_date_only_month_first_reads() -> None:
    """A data-quality steward's review: a US file (06/30/2024, 07/01/2024) read with
    --day-first valued 07/01/2024 as 7 January, in the edition before the one in force on
    1 July. A column holding a date only month first reads is refused whole, naming the
    cell and what the others would become; a column of day-first dates alone is read."""
    us = pd.DataFrame({"date": ["06/30/2024", "07/01/2024", "2024-08-01"],
                       "period_end": ["30/06/2024", None, None]})
    with pytest.raises(sv.RuleError) as caught:
        svio.dates_read_day_first(us)
    assert caught.value.field == "date"
    assert ("column 'date' cannot be read day first: it holds '06/30/2024', a date only when "
            "read month first (30 June 2024, as the US writes dates), so its other dates are "
            "month first too (07/01/2024 would be read as 7 January 2024, not 1 July 2024): "
            "read it month first (dates_read_month_first), or write the dates as "
            "YYYY-MM-DD") in str(caught.value)
    assert svio.dates_read_day_first(us, ["period_end"])["period_end"].tolist()[0] == "2024-06-30"
    # 12/13/2024 alone, nothing read day first: left for the valuation to refuse, its hint
    # naming the month-first reading.
    alone = pd.DataFrame({"date": ["12/13/2024"]})
    assert svio.dates_read_day_first(alone) is alone
    from socialvalue_tom._text import date_hint

    assert date_hint("12/13/2024") == (": write 2024-12-13 if it means 13 December 2024 (month "
                                       "first, as in the US: the column's other dates may be "
                                       "too)")
    assert date_hint("13/12/2024") == ": write 2024-12-13 (day first, as in the UK)"


def test_an_ambiguous_date_in_a_month_first_column_is_offered_its_month_first_reading() -> None:
    """07/01/2024 beside 06/30/2024 (a date only month first) is 1 July, as the column's other
    dates are: its hint no longer offers 7 January (day first) under a note that the file is
    month first. Alone, or beside day-first dates, the day-first reading is still offered."""
    from socialvalue_tom._text import date_hint, month_first_column

    assert month_first_column(["06/30/2024", "07/01/2024", None, 3])
    assert not month_first_column(["30/06/2024", "07/01/2024", "2024-06-30"])
    assert date_hint("07/01/2024", month_first=True) == (
        ": write 2024-07-01 if it means 1 July 2024 (month first, as the column's other dates "
        "are)")
    assert date_hint("07/01/2024") == (": write 2024-01-07 if it means 7 January 2024 (day "
                                       "first, as in the UK)")
    # 05/05/2024 reads one way: no "if it means" either way.
    assert date_hint("05/05/2024", month_first=True) == (": write 2024-05-05 (day first, as in "
                                                         "the UK)")
    rows = pd.DataFrame({"measure": ["jobs-local-fte"] * 3, "quantity": [1.0] * 3,
                         "unit": ["FTE"] * 3, "region": ["england"] * 3,
                         "date": ["06/30/2024", "07/01/2024", "2024-07-02"]})
    with pytest.raises(sv.BulkValidationError) as caught:
        sv.value_frame(rows)
    reasons = {i.row: i.reason for i in caught.value.issues}
    assert reasons[1].endswith("write 2024-07-01 if it means 1 July 2024 (month first, as the "
                               "column's other dates are)")
    # A period column is read the same way, each column for itself.
    periods = rows.drop(columns="date").assign(period_start=rows["date"],
                                               period_end="2024-08-01")
    with pytest.raises(sv.BulkValidationError) as caught:
        sv.apportion(periods)
    reasons = {i.row: i.reason for i in caught.value.issues}
    assert "2024-07-01 if it means 1 July 2024 (month first" in reasons[1]
    # In an input valued in blocks, the month-first date in the last block says how to read
    # the ambiguous one in the first (an adversarial review: each block read its own).
    from socialvalue_tom.frame import BLOCK

    far = ["2024-07-02"] * (BLOCK + 2)
    far[0], far[-1] = "07/01/2024", "06/30/2024"
    long = pd.DataFrame({"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE",
                         "region": "england", "date": far})
    reasons = {i.row: i.reason for i in sv.value_frame(long, errors="collect").attrs["issues"]
               .itertuples()}
    assert reasons[0].endswith("if it means 1 July 2024 (month first, as the column's other "
                               "dates are)")
    day_first = rows.assign(date=["30/06/2024", "07/01/2024", "2024-07-02"])
    with pytest.raises(sv.BulkValidationError) as caught:
        sv.value_frame(day_first)
    reasons = {i.row: i.reason for i in caught.value.issues}
    assert reasons[1].endswith("write 2024-01-07 if it means 7 January 2024 (day first, as in "
                               "the UK)")


def test_dates_read_month_first_reads_us_dates_and_refuses_a_uk_one() -> None:
    """Month first, as a US locale writes dates: 07/01/2024 is 1 July; a day that does not
    exist or a two-digit year is left for the valuation to refuse; a column also holding a
    date only day first (30/06/2024) is refused whole, with the other reading as example."""
    us = pd.DataFrame({"date": ["06/30/2024", "07/01/2024", "2024-07-02", "04/31/2024",
                                "7/1/24", None],
                       "period_end": ["12.31.2024"] * 6, "note": ["07/01/2024"] * 6})
    read = svio.dates_read_month_first(us)
    assert read["date"].tolist()[:5] == ["2024-06-30", "2024-07-01", "2024-07-02",
                                         "04/31/2024", "7/1/24"]
    assert pd.isna(read["date"].iloc[5])
    assert read["period_end"].tolist() == ["2024-12-31"] * 6
    assert read["note"].tolist() == ["07/01/2024"] * 6  # not a date column
    assert read.attrs["socialvalue_tom.month_first"] == 8
    assert us["date"].iloc[0] == "06/30/2024"  # the input is not mutated
    uk = us.assign(date=["30/06/2024", "07/01/2024", "2024-07-02", "x", "y", None])
    with pytest.raises(sv.RuleError, match=re.escape(
            "column 'date' cannot be read month first: it holds '30/06/2024', a date only when "
            "read day first (30 June 2024, as the UK writes dates), so its other dates are day "
            "first too (07/01/2024 would be read as 1 July 2024, not 7 January 2024): read "
            "it day first (dates_read_day_first), or write the dates as YYYY-MM-DD")):
        svio.dates_read_month_first(uk)
    # Day first, the same file's reading is refused the other way.
    with pytest.raises(sv.RuleError, match="cannot be read day first"):
        svio.dates_read_day_first(us)


def test_dates_read_day_first_leaves_typed_dates_and_other_columns_alone() -> None:
    dates = pd.DataFrame({"date": pd.to_datetime(["2025-06-30"]), "note": ["30/06/2025"]})
    assert svio.dates_read_day_first(dates) is dates
    named = svio.dates_read_day_first(dates.assign(date=["30/06/2025"]), ["note"])
    assert named["note"].tolist() == ["2025-06-30"] and named["date"].tolist() == ["30/06/2025"]
    twice = pd.DataFrame([["30/06/2025", "01/07/2025"]], columns=["date", "date"])
    with pytest.raises(sv.RuleError, match="2 columns named 'date'"):
        svio.dates_read_day_first(twice)
