"""Reading outcome files and writing valuations (socialvalue_tom.io)."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom import io as svio
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
        path.write_text(content)
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
    """Excel dates become ISO text, numeric codes text without '.0', formulas their values."""
    import openpyxl

    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER,
                     ["jobs-local", 2, "FTE", "london", dt.datetime(2024, 5, 1), 7],
                     ["env-carbon", 1.5, "tCO2e", "uk", "2024-06-01", "007"]])
    # A formula cell with a cached value, as Excel saves it: data_only gives the value.
    wb = openpyxl.load_workbook(path)
    wb["outcomes"]["B3"] = "=1+0.5"
    wb.save(path)
    df = svio.read_outcomes(path)
    assert df["date"].tolist() == ["2024-05-01", "2024-06-01"]
    assert df["contract_id"].tolist() == ["7", "007"]
    assert df.loc[0, "quantity"] == 2
    # openpyxl does not calculate formulas: a never-opened-in-Excel formula has no cached value.
    assert pd.isna(df.loc[1, "quantity"])


def test_read_xlsx_when_cells_are_merged_raises_input_file_error(tmp_path: Path) -> None:
    """Merged cells are refused with the ranges named."""
    path = _workbook(tmp_path / "o.xlsx", [XL_HEADER, ["jobs-local", 2, "FTE", "uk",
                                                       "2024-05-01", "1"]], merge="A2:B2")
    with pytest.raises(svio.InputFileError, match=r"merged cells.*A2:B2"):
        svio.read_outcomes(path)


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
