"""Valuing files in batches (socialvalue_tom.streaming)."""

from __future__ import annotations

import csv
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, tiny_variant
from strategies import seeded_portfolio

import socialvalue_tom as sv
from socialvalue_tom import io as svio
from socialvalue_tom.engine import table_set
from socialvalue_tom.frame import value_frame
from socialvalue_tom.money import total
from socialvalue_tom.report import summarise
from socialvalue_tom.streaming import ExactSum, exclusion_measures, value_file


def _portfolio(n: int, bad: tuple[int, ...] = ()) -> pd.DataFrame:
    return seeded_portfolio(n, seed=7, regions=("uk", "england", "london", "scotland", "London"),
                            dates=("2024-04-01", "2024-09-30", "2025-03-31"),
                            contract_ids=[f"{i % 97:04d}" for i in range(n)],
                            contract_value=1000.0, decimals=3, grades=True, bad=bad)


def _csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_value_file_when_chunked_equals_whole_file_value_frame(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Every row's value is bit-identical to value_frame on the whole file; totals agree."""
    src = _csv(_portfolio(1000), tmp_path / "o.csv")
    whole = value_frame(svio.read_outcomes(src), tiny, detail=True)
    summary = value_file(src, tmp_path / "v.parquet", tables=tiny, chunksize=97, detail=True)
    got = svio.read_outcomes(tmp_path / "v.parquet")
    assert got["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    assert got["gross_gbp"].tolist() == whole["gross_gbp"].tolist()
    assert got["contract_id"].tolist() == whole["contract_id"].tolist()
    assert summary.rows == summary.valued == 1000
    assert summary.bad_rows == 0
    assert summary.chunks == math.ceil(1000 / 97)
    assert summary.total_gbp == total(whole["value_gbp"])
    exact = sum((Decimal(repr(float(v))) for v in whole["value_gbp"]), Decimal(0))
    assert summary.total_gbp == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    themes = sum(summary.by_theme.values(), Decimal(0))
    # four theme totals, each rounded once: at most half a penny each from their exact sums
    assert abs(themes - summary.total_gbp) <= Decimal("0.02")
    assert set(summary.by_theme) == {"jobs", "environment", "growth", "social"}
    assert summary.editions == ("2024",)


def test_value_file_when_csv_output_matches_parquet_output(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """CSV output (appended chunk by chunk, one header) holds the same rows as Parquet output."""
    src = _csv(_portfolio(300), tmp_path / "o.csv")
    value_file(src, tmp_path / "v.csv", tables=tiny, chunksize=64)
    value_file(src, tmp_path / "v.parquet", tables=tiny, chunksize=64)
    a = svio.read_outcomes(tmp_path / "v.csv")
    b = svio.read_outcomes(tmp_path / "v.parquet")
    assert len(a) == 300
    assert a["value_gbp"].tolist() == b["value_gbp"].tolist()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_value_file_output_gets_the_usual_permissions(tmp_path: Path, tiny: sv.ProxyTable,
                                                      suffix: str) -> None:
    """The streamed output was written through mkstemp, so it came out private (0600) where
    the command line's is 0644 (umask 022): colleagues on a share could not read it."""
    import os

    src = _csv(_portfolio(50), tmp_path / "o.csv")
    old = os.umask(0o022)
    try:
        value_file(src, tmp_path / f"v{suffix}", tables=tiny, chunksize=16)
    finally:
        os.umask(old)
    assert (tmp_path / f"v{suffix}").stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".*part*"))  # no temporary file left


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
def test_an_output_that_is_a_named_pipe_is_refused_not_replaced(tmp_path: Path,
                                                               tiny: sv.ProxyTable) -> None:
    """A named pipe given as the output was replaced by a file: its reader got nothing while
    the run reported the rows written. Refused before any work, by value_file,
    write_valuations and the command line; the pipe is left as it was."""
    import os
    import stat

    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    src = _csv(_portfolio(20), tmp_path / "o.csv")
    pipe = tmp_path / "out.csv"
    os.mkfifo(pipe)
    with pytest.raises(svio.InputFileError, match=r"out\.csv is a named pipe, not a file"):
        value_file(src, pipe, tables=tiny)
    with pytest.raises(svio.InputFileError, match=r"out\.csv is a named pipe, not a file"):
        svio.write_valuations(sv.value_frame(svio.read_outcomes(src), tiny), pipe)
    result = CliRunner().invoke(app, ["value", str(src), "--tables", str(TINY), "-o", str(pipe)])
    assert result.exit_code == 2 and "is a named pipe" in result.stderr
    assert "Benefits" not in result.stdout  # refused before valuing, not after
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert not list(tmp_path.glob(".*part*"))
    # A link to the pipe (as /dev/stdout is a link) is refused as the pipe is.
    link = tmp_path / "link.csv"
    link.symlink_to(pipe)
    with pytest.raises(svio.InputFileError, match=r"link\.csv is a named pipe"):
        value_file(src, link, tables=tiny)
    linked = CliRunner().invoke(app, ["value", str(src), "--tables", str(TINY), "-o", str(link)])
    assert linked.exit_code == 2 and link.is_symlink()
    # The issues file, too, is checked before any work: OUT is not written, no totals shown.
    bad = tmp_path / "bad.csv"
    bad.write_text("measure,quantity,unit,region,date\nnope,1,FTE,uk,2024-05-01\n",
                   encoding="utf-8")
    os.mkfifo(tmp_path / "v.issues.csv")
    out = tmp_path / "v.csv"
    collected = CliRunner().invoke(app, ["value", str(bad), "--tables", str(TINY), "-o",
                                         str(out), "--errors", "collect"])
    assert collected.exit_code == 2 and "v.issues.csv is a named pipe" in collected.stderr
    assert not out.exists() and "Benefits" not in collected.stdout


def test_value_file_when_bad_rows_in_late_chunk_reports_file_row_numbers(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Collect mode reports bad rows by their row in the file, not their row in the chunk."""
    src = _csv(_portfolio(950, bad=(3, 901, 949)), tmp_path / "o.csv")
    summary = value_file(src, tmp_path / "v.parquet", tables=tiny, chunksize=100,
                         errors="collect")
    assert summary.issues["row"].tolist() == [3, 901, 949]
    assert summary.issues["index"].tolist() == [3, 901, 949]
    assert set(summary.issues["code"]) == {"negative"}
    assert summary.bad_rows == 3
    assert summary.valued == 947
    out = svio.read_outcomes(tmp_path / "v.parquet")
    assert len(out) == 950
    assert np.isnan(out["value_gbp"].to_numpy()[[3, 901, 949]]).all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_value_file_when_raise_mode_finds_bad_rows_leaves_no_output(
        tmp_path: Path, tiny: sv.ProxyTable, suffix: str) -> None:
    """Raise mode reads the whole file, raises one error listing every bad row, writes nothing."""
    src = _csv(_portfolio(500, bad=(10, 450)), tmp_path / "o.csv")
    out = tmp_path / f"v{suffix}"
    with pytest.raises(sv.BulkValidationError) as info:
        value_file(src, out, tables=tiny, chunksize=100)
    assert [i.row for i in info.value.issues] == [10, 450]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_value_file_tells_every_problem_of_a_row_and_counts_the_row_once(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Rows with several problems, at chunk edges: the issues are value_frame's at any chunk
    size, and a row is counted once among the bad rows."""
    text = ("measure,quantity,unit,region,date,stage\n"
            "jobs-local,x,FTE,uk,31/03/2025,Delivered\n"
            "jobs-local,1,FTE,uk,2024-05-01,delivered\n"
            "jobs-local,-1,FTE,narnia,2024-05-01,delivered\n")
    src = tmp_path / "o.csv"
    src.write_text(text, encoding="utf-8")
    whole = value_frame(svio.read_outcomes(src), tiny, errors="collect").attrs["issues"]
    assert len(whole) == 5
    for chunk in (1, 2, 3):
        summary = value_file(src, tables=tiny, chunksize=chunk, errors="collect")
        assert summary.issues[["row", "field", "code", "reason"]].values.tolist() == whole[
            ["row", "field", "code", "reason"]].values.tolist()
        assert (summary.rows, summary.valued, summary.bad_rows) == (3, 1, 2)


def test_value_file_when_input_breaks_mid_stream_removes_partial_output(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A read error after some chunks were written leaves neither output nor temp file."""
    src = tmp_path / "o.csv"
    _csv(_portfolio(200), src)
    with src.open("ab") as fh:
        fh.write(b"jobs-local,1,FTE,\xff,2024-05-01,1,A,1,1000,1\n")
    out = tmp_path / "v.parquet"
    with pytest.raises(svio.InputFileError):
        value_file(src, out, tables=tiny, chunksize=50, errors="collect")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_value_file_when_existing_output_and_failure_keeps_old_output(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A failed run does not touch a previous output file (a library call that fails raises;
    the command line removes it, as its exit status is easily missed)."""
    src = _csv(_portfolio(50, bad=(1,)), tmp_path / "o.csv")
    out = tmp_path / "v.csv"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(sv.BulkValidationError):
        value_file(src, out, tables=tiny)
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_value_file_when_no_output_still_summarises(tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """out=None gives the totals without writing anything."""
    src = _csv(_portfolio(120), tmp_path / "o.csv")
    summary = value_file(src, tables=tiny, chunksize=50, progress=False)
    assert summary.out is None
    assert summary.rows == 120
    assert list(tmp_path.iterdir()) == [src]


def test_value_file_progress_bar_is_drawn_on_stderr_never_stdout(
        tmp_path: Path, tiny: sv.ProxyTable, capsys: pytest.CaptureFixture[str]) -> None:
    """A scale review: the bar was drawn on stdout, so a script's redirected output began
    with a blank line; and it was shown by default when stdout, not stderr, was a terminal."""
    pytest.importorskip("rich")
    src = _csv(_portfolio(120), tmp_path / "o.csv")
    summary = value_file(src, tables=tiny, chunksize=50, progress=True)
    assert summary.rows == 120
    assert capsys.readouterr().out == ""


def test_value_file_when_parquet_input_equals_csv_input(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Parquet input (read with iter_batches) gives the same total as the CSV input."""
    df = _portfolio(400)
    src = _csv(df, tmp_path / "o.csv")
    svio.write_valuations(svio.read_outcomes(src), tmp_path / "o.parquet")
    a = value_file(src, tables=tiny, chunksize=33)
    b = value_file(tmp_path / "o.parquet", tables=tiny, chunksize=33)
    assert a.total_gbp == b.total_gbp
    assert a.by_theme == b.by_theme


@pytest.mark.parametrize(("bad", "words"), [(dict(errors="ignore"), "errors"),
                                             (dict(out="v.json"), "cannot stream")])
def test_value_file_when_arguments_bad_raises(tmp_path: Path, tiny: sv.ProxyTable,
                                              bad: dict[str, str], words: str) -> None:
    """Unknown errors= mode and unsupported output types are refused before any work."""
    src = _csv(_portfolio(5), tmp_path / "o.csv")
    kwargs: dict[str, object] = {"tables": tiny, **bad}
    if "out" in kwargs:
        kwargs["out"] = tmp_path / str(kwargs["out"])
    with pytest.raises((ValueError, svio.InputFileError), match=words):
        value_file(src, **kwargs)  # type: ignore[arg-type]


def test_exact_sum_when_chunks_cancel_equals_fsum_of_everything() -> None:
    """ExactSum over chunks equals math.fsum over all values, where chunk fsums would not."""
    rng = np.random.default_rng(1)
    vals = np.concatenate([rng.uniform(-1, 1, 5000) * 10.0 ** rng.integers(-8, 16, 5000),
                           [1e16, 1.0, -1e16, 3.3e-5]])
    rng.shuffle(vals)
    acc = ExactSum()
    for chunk in np.array_split(vals, 37):
        acc.add(chunk)
    assert acc.value() == math.fsum(vals.tolist())
    acc2 = ExactSum()
    acc2.add([1e16, 1.0])
    acc2.add([-1e16])
    assert acc2.value() == 1.0


def _text_file(path: Path, rows: list[str],
               header: str = "measure,quantity,unit,region,date,contract_id,evidence\n") -> Path:
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def _same_frames(frames: list[pd.DataFrame]) -> None:
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other, frames[0])


def test_value_file_when_measure_has_spaces_values_it_as_the_trimmed_code(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """'jobs-local ' (an exclusion's measure) and 'env-carbon ' value as the trimmed codes, in
    the right theme, with the money of the trimmed file."""
    rows = ["jobs-priority,1,FTE,uk,2024-05-01,c1,\n", "jobs-local ,1,FTE,uk,2024-05-01,c1,\n",
            " jobs-local,2,FTE,uk,2024-05-01,c2,\n", "env-carbon ,1.5,tCO2e,uk,2024-05-01,c3,\n"]
    spaced = _text_file(tmp_path / "spaced.csv", rows)
    trimmed = _text_file(tmp_path / "trimmed.csv",
                         [",".join(f.strip() for f in r.split(",")) + "\n" for r in rows])
    want = value_file(trimmed, tables=tiny, chunksize=1)
    for size in (1, 2, 3, 4):
        got = value_file(spaced, tables=tiny, chunksize=size)
        assert (got.total_gbp, got.by_theme, got.valued) == (want.total_gbp, want.by_theme, 4)
    assert set(want.by_theme) == {"jobs", "environment"}


def test_value_file_when_text_column_blank_in_first_chunks_writes_parquet(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """An optional text column empty in the first chunks and filled later: the same Parquet
    file for any chunk size, never a pyarrow cast error."""
    rows = ["jobs-local,1,FTE,uk,2024-05-01,c1,\n"] * 2 + [
        "jobs-local,2,FTE,uk,2024-05-01,c2,photo\n", "jobs-local,3,FTE,uk,2024-05-01,c3,\n"]
    src = _text_file(tmp_path / "o.csv", rows)
    frames = []
    for size in (1, 2, 3, 4):
        value_file(src, tmp_path / f"v{size}.parquet", tables=tiny, chunksize=size)
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    _same_frames(frames)
    assert frames[0]["evidence"].tolist()[2] == "photo"
    assert frames[0]["evidence"].isna().tolist() == [True, True, False, True]


def test_value_file_when_number_column_empty_in_first_chunk_keeps_numbers(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A number column empty in the first chunk stays a number column in Parquet."""
    rows = ["jobs-local,1,FTE,uk,2024-05-01,c1,\n", "jobs-local,2,FTE,uk,2024-05-01,c2,0.5\n"]
    src = _text_file(tmp_path / "o.csv", rows)
    frames = []
    for size in (1, 2):
        value_file(src, tmp_path / f"v{size}.parquet", tables=tiny, chunksize=size)
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    _same_frames(frames)
    assert frames[0]["evidence"].dtype == np.float64


def test_value_file_when_xlsx_quantity_mixes_numbers_and_text_writes_parquet(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Collect mode on an .xlsx whose quantity holds 2 and 'abc': the same Parquet file for any
    chunk size, the bad row reported."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["measure", "quantity", "unit", "region", "date", "contract_id"])
    ws.append(["jobs-local", 2, "FTE", "uk", "2024-05-01", "1"])
    ws.append(["jobs-local", "abc", "FTE", "uk", "2024-05-01", "2"])
    ws.append(["jobs-local", 3, "FTE", "uk", "2024-05-01", "3"])
    wb.save(tmp_path / "o.xlsx")
    frames = []
    for size in (1, 2, 3):
        s = value_file(tmp_path / "o.xlsx", tmp_path / f"v{size}.parquet", tables=tiny,
                       chunksize=size, errors="collect")
        assert s.issues["row"].tolist() == [1]
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    _same_frames(frames)
    assert frames[0]["quantity"].tolist() == ["2", "abc", "3"]


def test_value_file_when_sheet_named_then_that_sheet_is_valued(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """sheet= picks the returns sheet of a workbook whose first sheet is a cover page, by name
    or position, and gives what value_frame gives that sheet; a sheet for a CSV is refused."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active.append(["Supplier returns, Q1"])
    ws = wb.create_sheet("Returns")
    ws.append(["measure", "quantity", "unit", "region", "date"])
    ws.append(["jobs-local", 2, "FTE", "london", "2024-05-01"])
    ws.append(["env-carbon", 10, "tCO2e", "uk", "2024-06-01"])
    wb.save(tmp_path / "o.xlsx")
    want = value_frame(svio.read_outcomes(tmp_path / "o.xlsx", sheet="Returns"), tiny)
    for sheet in ("Returns", 1):
        s = value_file(tmp_path / "o.xlsx", tmp_path / "v.csv", tables=tiny, sheet=sheet,
                       chunksize=1)
        assert (s.rows, s.valued) == (2, 2)
        assert s.total_gbp == total(want["value_gbp"].tolist())
        got = svio.read_outcomes(tmp_path / "v.csv")
        assert got["value_gbp"].tolist() == want["value_gbp"].tolist()
    with pytest.raises(sv.OutcomeError, match=r"missing required column.*read from sheet "
                                              "'Cover' of a workbook that also has 'Returns'"):
        value_file(tmp_path / "o.xlsx", tables=tiny)  # the cover sheet has no outcome columns
    with pytest.raises(svio.InputFileError, match="no sheet named 'Nope'"):
        value_file(tmp_path / "o.xlsx", tables=tiny, sheet="Nope")
    _csv(_portfolio(2), tmp_path / "o.csv")
    with pytest.raises(svio.InputFileError, match=r"applies to \.xlsx files only"):
        value_file(tmp_path / "o.csv", tables=tiny, sheet="Returns")
    assert not (tmp_path / "o.csv.issues.csv").exists()


@pytest.mark.parametrize(("rows", "column", "want"), [
    # a note column of numbers, then text: text, as the whole file is read
    (["jobs-local,1,FTE,uk,2024-05-01,c1,1\n", "jobs-local,2,FTE,uk,2024-05-01,c2,x\n"],
     "evidence", ["1", "x"]),
    # a typo in quantity in a later chunk: the column is text, the typo a row issue
    (["jobs-local,1,FTE,uk,2024-05-01,c1,\n", "jobs-local,two,FTE,uk,2024-05-01,c2,\n",
      "jobs-local,3,FTE,uk,2024-05-01,c3,\n"], "quantity", ["1", "two", "3"]),
    # whole numbers, then a fraction: floats throughout
    (["jobs-local,1,FTE,uk,2024-05-01,c1,\n", "jobs-local,2.5,FTE,uk,2024-05-01,c2,\n"],
     "quantity", [1.0, 2.5]),
])
def test_value_file_when_csv_column_type_changes_between_chunks_writes_the_whole_file_types(
        tmp_path: Path, tiny: sv.ProxyTable, rows: list[str], column: str,
        want: list[object]) -> None:
    """A CSV column read as numbers in some chunks and text (or fractions) in others gets the
    type a whole-file read gives it, in every chunk: the same Parquet file, the same issues,
    for any chunk size (with errors='collect' a typo is a row issue, never a failed run)."""
    src = _text_file(tmp_path / "o.csv", rows)
    whole = sv.value_frame(svio.read_outcomes(src), tiny, errors="collect")
    frames = []
    for size in (1, 2, len(rows)):
        s = value_file(src, tmp_path / f"v{size}.parquet", tables=tiny, chunksize=size,
                       errors="collect")
        assert s.issues["row"].tolist() == whole.attrs["issues"]["row"].tolist()
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    _same_frames(frames)
    assert frames[0][column].tolist() == want
    assert frames[0]["value_gbp"].tolist() == pytest.approx(
        whole["value_gbp"].tolist(), nan_ok=True)


@pytest.mark.parametrize("text", ['measure,quantity,unit,region,date\njobs-local,1,FTE,uk,"2024\n',
                                  "measure,quantity,unit,region,date\n"
                                  + "jobs-local,1,FTE,uk,2024-05-01\n" * 5
                                  + 'jobs-local,1,FTE,"uk,2024-05-01\n'])
def test_value_file_when_csv_is_malformed_raises_input_file_error(
        tmp_path: Path, tiny: sv.ProxyTable, text: str) -> None:
    """An unclosed quote (first or later chunk) is an InputFileError, not a ParserError."""
    src = tmp_path / "o.csv"
    src.write_text(text, encoding="utf-8")
    with pytest.raises(svio.InputFileError, match="well-formed"):
        value_file(src, tmp_path / "v.csv", tables=tiny, chunksize=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_value_file_when_output_folder_missing_raises_input_file_error(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A missing output folder is an InputFileError naming the output, not a raw OSError."""
    src = _csv(_portfolio(5), tmp_path / "o.csv")
    out = tmp_path / "nope" / "v.parquet"
    with pytest.raises(svio.InputFileError) as info:
        value_file(src, out, tables=tiny)
    assert info.value.path == str(out)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("rows", [
    ["jobs-local,1,FTE,uk,2024-05-01,c1,\n", ",,,,,,\n", "jobs-local,2,FTE,uk,2024-05-01,c2,\n"],
    ["jobs-local,1,FTE,uk,2024-05-01,c1,\n", " , , , , , ,\n"],
    ["jobs-local,1,FTE,uk,2024-05-01,c1,\n", "jobs-local,2.5,FTE,uk,2024-05-01,c2,\n"],
])
def test_value_file_when_blank_rows_or_number_kinds_fall_in_other_chunks_writes_one_file(
        tmp_path: Path, tiny: sv.ProxyTable, suffix: str, rows: list[str]) -> None:
    """The output file is byte for byte the same at every chunk size, and has the types that
    value_frame + write_valuations give the whole file (blank rows do not retype a column)."""
    src = _text_file(tmp_path / "o.csv", rows)
    whole = tmp_path / f"whole{suffix}"
    # value_file always writes the exclusion columns its batches share (tiny declares one);
    # value_frame adds them where an exclusion fires: give the whole-file frame them too.
    frame = sv.value_frame(svio.read_outcomes(src), tiny)
    frame = frame.assign(claim_share=1.0, exclusion=pd.Categorical(
        [None] * len(frame), categories=["priority-within-local"]))
    svio.write_valuations(frame, whole)
    for size in (1, 2, 3):
        out = tmp_path / f"v{size}{suffix}"
        value_file(src, out, tables=tiny, chunksize=size)
        if suffix == ".csv":
            assert out.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8"), size
        else:
            _same_frames([svio.read_outcomes(whole), svio.read_outcomes(out)])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_value_file_when_input_has_no_data_rows_writes_a_header_only_file(
        tmp_path: Path, tiny: sv.ProxyTable, suffix: str) -> None:
    """A header-only input gives a readable, header-only output (it gave a 0-byte file)."""
    src = _text_file(tmp_path / "o.csv", [",,,,,,\n"])
    out = tmp_path / f"v{suffix}"
    s = value_file(src, out, tables=tiny)
    assert s.rows == 0
    back = svio.read_outcomes(out)
    assert back.empty and {"value_gbp", "measure", "digest"} <= set(back.columns)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_value_file_when_no_data_rows_and_tables_have_exclusions_then_header_only(
        tmp_path: Path, suffix: str) -> None:
    """An input of any format with a header and no rows, under tables that declare
    double-counting exclusions (the embedded default), gives a header-only output: the first
    pass over the claims once failed with a RuleError on an empty Parquet or Excel file."""
    header = pd.DataFrame({c: pd.Series([], dtype=object)
                           for c in ("measure", "quantity", "unit", "region", "date")})
    src = tmp_path / f"o{suffix}"
    {".csv": lambda: header.to_csv(src, index=False),
     ".parquet": lambda: header.astype(str).to_parquet(src),
     ".xlsx": lambda: header.to_excel(src, index=False)}[suffix]()
    assert exclusion_measures(table_set("uk-national"))
    s = value_file(src, tmp_path / "v.csv")
    assert (s.rows, s.valued, s.total_gbp) == (0, 0, Decimal("0.00"))
    assert svio.read_outcomes(tmp_path / "v.csv").empty
    assert [len(b) for _, b in svio.iter_outcome_batches(src)] == [0]


def test_value_file_when_measure_column_missing_under_exclusions_then_outcome_error(
        tmp_path: Path) -> None:
    """A file without a measure column is refused naming the columns, not with a KeyError
    from the pass that gathers the excluded measures' claims."""
    src = _text_file(tmp_path / "o.csv", ["1,FTE,uk,2024-05-01\n"],
                     header="quantity,unit,region,date\n")
    with pytest.raises(sv.OutcomeError, match=r"missing required column.*measure"):
        value_file(src)


def test_value_file_when_xlsx_column_mixes_numbers_and_true_writes_text_at_any_chunksize(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """An .xlsx column holding 1 and TRUE is text, as from CSV, so a batch of only TRUE cells
    is not written as booleans (it failed the Parquet run at chunksize 1)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["measure", "quantity", "unit", "region", "date", "verified"])
    ws.append(["jobs-local", 1, "FTE", "uk", "2024-05-01", 1])
    ws.append(["jobs-local", 2, "FTE", "uk", "2024-05-01", True])
    wb.save(tmp_path / "o.xlsx")
    frames = []
    for size in (1, 2):
        value_file(tmp_path / "o.xlsx", tmp_path / f"v{size}.parquet", tables=tiny,
                   chunksize=size)
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    _same_frames(frames)
    assert frames[0]["verified"].tolist() == ["1", "True"]


def test_value_file_when_output_is_the_input_refuses_and_keeps_the_input(
        tmp_path: Path) -> None:
    src = tmp_path / "same.csv"
    text = ("measure,quantity,unit,region,date\n"
            "env-carbon-saved,1,tCO2e,uk,2024-05-01\n")
    src.write_text(text, encoding="utf-8")
    for out in (src, tmp_path / "." / "same.csv"):
        with pytest.raises(sv.InputFileError, match="the output is the input file"):
            value_file(src, out)
    link = tmp_path / "link.csv"
    link.symlink_to(src)
    with pytest.raises(sv.InputFileError, match="the output is the input file"):
        value_file(link, src)
    assert src.read_text(encoding="utf-8") == text


def _keyed_by_project(folder: Path) -> sv.ProxyTable:
    """tiny with its exclusion keyed on ``project``, a column outside io.TEXT_COLUMNS."""
    reason = "reason: a priority-group hire is also a local job"
    return sv.load_table(path=tiny_variant(folder, (reason, f"{reason}\n    key: [project]")))


def test_value_file_when_exclusion_key_is_a_number_column_then_groups_as_the_whole_file(
        tmp_path: Path) -> None:
    """An exclusion keyed on a column the reader types (not one of io.TEXT_COLUMNS) groups the
    rows as a whole-file read does at any chunksize: 0101 beside the text P-7 is text, not the
    number 101 (a batch of 0101 and 101 alone once made them one group, in the claims pass)."""
    table = _keyed_by_project(tmp_path / "tables")
    src = _text_file(tmp_path / "o.csv", ["jobs-local,2,FTE,uk,2024-06-01,0101\n",
                                          "jobs-priority,1,FTE,uk,2024-06-01,101\n",
                                          "jobs-local,1,FTE,uk,2024-06-01,P-7\n"],
                     header="measure,quantity,unit,region,date,project\n")
    whole = value_frame(svio.read_outcomes(src), table)
    assert whole["value_gbp"].sum() == 79000.0
    for size in (1, 2, 3, 10):
        assert value_file(src, tables=table, chunksize=size).total_gbp == Decimal("79000.00")
        for suffix in (".csv", ".parquet"):
            out = tmp_path / f"v{size}{suffix}"
            s = value_file(src, out, tables=table, chunksize=size)
            assert s.total_gbp == Decimal("79000.00"), (size, suffix)
            got = svio.read_outcomes(out)
            assert got["value_gbp"].tolist() == whole["value_gbp"].tolist()
            assert got["project"].tolist() == ["0101", "101", "P-7"]


@pytest.mark.parametrize(("exclusions", "passes"), [(True, 3), (False, 2)])
def test_value_file_when_csv_input_then_reads_it_once_for_types_and_once_per_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: sv.ProxyTable,
        exclusions: bool, passes: int) -> None:
    """The whole file's column types cost one read of a CSV file, shared by the claims pass
    (when the tables declare exclusions) and the valuing pass, with or without an output."""
    block = ("exclusions:\n  - id: priority-within-local\n"
             "    measures: [jobs-priority, jobs-local]\n    mode: count_once\n"
             "    reason: a priority-group hire is also a local job\n")
    table = tiny if exclusions else sv.load_table(
        path=tiny_variant(tmp_path / "tables", (block, "")))
    assert bool(exclusion_measures(table_set(table))) == exclusions
    src = _csv(_portfolio(20), tmp_path / "o.csv")
    reads = []
    real = svio._iter_csv

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(svio, "_iter_csv", counted)
    for out in (None, tmp_path / "v.csv"):
        reads.clear()
        value_file(src, out, tables=table, chunksize=7)
        assert len(reads) == passes, out


@pytest.mark.parametrize(("rows", "column", "want"), [
    # quantity is text in the whole file (the typo): the blank row's batch keeps it text
    (["env-carbon,1,tCO2e,uk,2024-06-01,\n", ",,,,,\n", "env-carbon,x,tCO2e,uk,2024-06-01,\n"],
     "quantity", ["1", "x"]),
    # ref is text in the whole file (A1): the blank row's batch keeps 00042's zeros
    (["env-carbon,2,tCO2e,uk,2024-06-01,00042\n", ",,,,,\n",
      "env-carbon,x,tCO2e,uk,2024-06-01,A1\n"], "ref", ["00042", "A1"]),
])
def test_value_file_when_blank_row_in_a_batch_of_a_text_column_then_keeps_the_file_types(
        tmp_path: Path, tiny: sv.ProxyTable, rows: list[str], column: str,
        want: list[str]) -> None:
    """A batch that had a blank row keeps the whole file's column types (they were re-read as
    numbers there: a Parquet run failed, and CSV output lost 00042's zeros, at chunksize 2)."""
    src = _text_file(tmp_path / "o.csv", rows, header="measure,quantity,unit,region,date,ref\n")
    assert svio.read_outcomes(src)[column].tolist() == want
    texts, frames = [], []
    for size in (1, 2, 3):
        for suffix in (".csv", ".parquet"):
            out = tmp_path / f"v{size}{suffix}"
            s = value_file(src, out, tables=tiny, chunksize=size, errors="collect")
            assert s.issues["row"].tolist() == [1], (size, suffix)
        texts.append((tmp_path / f"v{size}.csv").read_text(encoding="utf-8"))
        frames.append(svio.read_outcomes(tmp_path / f"v{size}.parquet"))
    assert texts == [texts[0]] * 3
    _same_frames(frames)
    assert frames[0][column].tolist() == want


@pytest.mark.parametrize("column", ["measure", "date"])
def test_value_file_when_parquet_repeats_a_column_then_outcome_error_names_it(
        tmp_path: Path, tiny: sv.ProxyTable, column: str) -> None:
    """A Parquet file with two columns of one name is refused naming it, whichever column (a
    repeated measure column was an AttributeError in the claims pass of exclusion tables)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["measure", "quantity", "unit", "region", "date", column]
    values = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
              "date": "2024-06-01"}
    src = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([values[n]]) for n in names], names=names),
                   src)
    assert exclusion_measures(table_set(tiny))
    for out in (None, tmp_path / "v.csv"):
        with pytest.raises(sv.OutcomeError, match=f"input has duplicated column.*{column}"):
            value_file(src, out, tables=tiny)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.parquet"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
@pytest.mark.parametrize("chunksize", [2**31, 2**63, 2**70])
def test_value_file_when_chunksize_exceeds_the_file_then_one_batch(
        tmp_path: Path, tiny: sv.ProxyTable, suffix: str, chunksize: int) -> None:
    """A chunksize past any file's length (even past a C long: an OverflowError) values the
    file in one batch, as a chunksize of its length does."""
    src = _csv(_portfolio(30), tmp_path / "o.csv")
    if suffix != ".csv":
        svio.write_valuations(svio.read_outcomes(src), tmp_path / f"o{suffix}")
        src = tmp_path / f"o{suffix}"
    want = value_file(src, tables=tiny, chunksize=30)
    got = value_file(src, tmp_path / "v.csv", tables=tiny, chunksize=chunksize)
    assert (got.chunks, got.rows, got.total_gbp) == (1, 30, want.total_gbp)


def test_value_file_when_total_too_large_for_float_pennies_then_as_summarise(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A total above what a float holds to the penny keeps its pennies in the streamed total,
    at any chunksize, as summarise gives it from the whole file (both add exactly)."""
    # 100 outcomes of about £900,000,000,000 (each within what one outcome may be valued at) and
    # two small ones: a total of £9e13, where a float's pennies are gone.
    src = _text_file(tmp_path / "o.csv", ["jobs-local,49999999.99999,FTE,uk,2024-06-01,c1,\n"] * 100
                     + ["social-volunteering,1.3,hour,uk,2024-06-01,c2,\n",
                        "jobs-local,0.000001,FTE,uk,2024-06-01,c3,\n"])
    whole = value_frame(svio.read_outcomes(src), tiny)
    expected = summarise(whole, by=()).loc[0, "net_gbp"]
    amounts = whole["value_gbp"].tolist()
    assert expected == sum((Decimal(a) for a in amounts), Decimal(0)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert expected != total([math.fsum(amounts)])  # the float sum has lost pennies
    for size in (1, 2, 3):
        assert value_file(src, tables=tiny, chunksize=size).total_gbp == expected


def test_exact_sum_pounds_when_amounts_cancel_then_as_money_total_at_any_chunking() -> None:
    """ExactSum.pounds rounds as money.total rounds the same values (the half-penny window
    allows for the values' own error, which the expansion terms do not carry), whatever the
    chunks."""
    rng = np.random.default_rng(7)
    values = (rng.integers(-2_000_000, 2_000_001, size=400) / 1000).tolist()
    values += [1198.425, -1103.97]
    for size in (1, 3, 64, 402):
        s = ExactSum()
        for start in range(0, len(values), size):
            s.add(values[start:start + size])
        assert s.pounds() == total(values)
    pair = ExactSum()
    pair.add([1198.425])
    pair.add([-1103.97])
    assert pair.pounds() == Decimal("94.46")


def test_value_file_issues_when_many_kinds_across_chunks_equal_value_frame_s_table(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """The issues table (kept compactly while the file is read) is value_frame's, dtypes
    included, at any chunk size; with errors='raise' the error lists the same issues."""
    rows = ["jobs-local,1,FTE,uk,2024-05-01\n", "jobs-locl,1,FTE,uk,2024-05-01\n",
            "jobs-local,-2,FTE,uk,2024-05-01\n", "jobs-local,1,hour,uk,2024-05-01\n",
            "jobs-local,1,FTE,mars,2024-05-01\n", "jobs-local,1,FTE,uk,2031-05-01\n",
            "jobs-local,1,FTE,mars,2024-05-01\n", "env-carbon,3,tCO2e,uk,2024-06-01\n"]
    src = tmp_path / "o.csv"
    src.write_text("measure,quantity,unit,region,date\n" + "".join(rows), encoding="utf-8")
    want = sv.value_frame(svio.read_outcomes(src), tiny, errors="collect").attrs["issues"]
    assert want["row"].tolist() == [1, 2, 3, 4, 5, 6]
    for size in (1, 2, 3, len(rows)):
        s = value_file(src, None, tables=tiny, chunksize=size, errors="collect")
        pd.testing.assert_frame_equal(pd.DataFrame(s.issues), pd.DataFrame(want))
        assert s.bad_rows == 6
        with pytest.raises(sv.BulkValidationError) as info:
            value_file(src, None, tables=tiny, chunksize=size)
        assert [i.as_dict() for i in info.value.issues] == want.to_dict("records")
    clean = tmp_path / "clean.csv"
    clean.write_text("measure,quantity,unit,region,date\n" + rows[0], encoding="utf-8")
    s = value_file(clean, None, tables=tiny, errors="collect")
    assert list(s.issues.columns) == list(want.columns) and s.issues.empty and s.bad_rows == 0


@pytest.mark.parametrize(("cells", "parquet_type"), [
    (["1234", "", "77"], "double"),      # whole numbers with a gap: floats, as read whole
    (["", "1234", "77"], "double"),
    (["True", "", "False"], "bool"),     # True/False with a gap: not text
    (["", "True", "False"], "bool"),
])
def test_value_file_when_a_column_has_gaps_in_some_chunks_writes_the_whole_file_types(
        tmp_path: Path, tiny: sv.ProxyTable, cells: list[str], parquet_type: str) -> None:
    """A column blank in some chunks only: an all-blank chunk was skipped, so whole numbers
    were ints in one chunk size and floats in another, and True/False with a gap were text
    ('True') or booleans by chunk size. Every size now writes what a whole-file read writes."""
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [f"jobs-local,1,FTE,uk,2024-05-01,c{i},{c}\n" for i, c in enumerate(cells)]
    src = _text_file(tmp_path / "o.csv", rows)
    whole = sv.value_frame(svio.read_outcomes(src), tiny, errors="collect")
    svio.write_valuations(whole, tmp_path / "whole.parquet")
    svio.write_valuations(whole, tmp_path / "whole.csv")
    want_type = pq.read_schema(tmp_path / "whole.parquet").field("evidence").type
    assert str(want_type) == parquet_type

    def evidence_cells(path: Path) -> list[str]:  # as written, before any reading back
        return [line.split(",")[6] for line in path.read_text(encoding="utf-8").splitlines()]

    want_csv = evidence_cells(tmp_path / "whole.csv")
    for size in (1, 2, 3):
        value_file(src, tmp_path / f"v{size}.parquet", tables=tiny, chunksize=size)
        value_file(src, tmp_path / f"v{size}.csv", tables=tiny, chunksize=size)
        table = pq.read_table(tmp_path / f"v{size}.parquet")
        assert table.schema.field("evidence").type == want_type, size
        assert table.column("evidence").to_pylist() == pq.read_table(
            tmp_path / "whole.parquet").column("evidence").to_pylist()
        assert evidence_cells(tmp_path / f"v{size}.csv") == want_csv, size


def test_issue_accumulator_when_a_row_has_two_issues_or_batches_come_out_of_order() -> None:
    """value_frame gives one issue per row, in row order, but the accumulator does not rely
    on it: its table is sorted by row then field, and bad rows count rows, not issues."""
    from socialvalue_tom.streaming import _Accumulator

    acc = _Accumulator(themes={})
    acc.add_issues(pd.DataFrame({"row": [5, 5], "index": [5, 5], "field": ["unit", "measure"],
                                 "code": ["a", "b"], "reason": ["r1", "r2"]}))
    acc.add_issues(pd.DataFrame({"row": [2], "index": [2], "field": ["x"], "code": ["c"],
                                 "reason": ["r3"]}))
    acc.add_issues(pd.DataFrame(columns=["row", "index", "field", "code", "reason"]))
    table = acc.issue_table()
    assert table["row"].tolist() == [2, 5, 5]
    assert table["field"].tolist() == ["x", "measure", "unit"]
    assert table["reason"].tolist() == ["r3", "r2", "r1"]
    assert acc.summary(Path("f.csv"), None).bad_rows == 2
    assert [i.row for i in acc.row_issues()] == [2, 5, 5]


@pytest.mark.parametrize("blank", [" , , , , , ,", "\t,\t,\t,\t,\t,\t,", ",,,,,,"])
def test_value_file_when_a_blank_record_meets_a_float_column_values_the_file(
        tmp_path: Path, tiny: sv.ProxyTable, blank: str) -> None:
    """quantity is 1 in one batch and 2.5 in another, so the first pass reads it as floats in
    every batch; a record of spaces (dropped as blank) then failed to parse as a float: a raw
    ValueError, nothing written. Every chunk size now values the two rows."""
    rows = ["jobs-local,1,FTE,uk,2024-05-01,c1,\n", "jobs-local,2.5,FTE,uk,2024-05-01,c2,\n",
            blank + "\n"]
    src = _text_file(tmp_path / "o.csv", rows)
    whole = sv.value_frame(svio.read_outcomes(src), tiny, errors="collect")
    for size in (1, 2, 3):
        s = value_file(src, tmp_path / f"v{size}.csv", tables=tiny, chunksize=size)
        assert (s.rows, s.valued) == (2, 2)
        got = svio.read_outcomes(tmp_path / f"v{size}.csv")
        assert got["quantity"].tolist() == whole["quantity"].tolist() == [1.0, 2.5]


def test_read_outcomes_when_a_blank_record_is_dropped_keeps_true_and_false(
        tmp_path: Path) -> None:
    """Dropping a blank record re-types the number columns; True/False (with a gap) became
    1.0 and 0.0 there, where a file without the blank record reads True and False."""
    with_blank = _text_file(tmp_path / "b.csv", [
        "jobs-local,1,FTE,uk,2024-05-01,c1,True\n", "jobs-local,2,FTE,uk,2024-05-01,c2,\n",
        "jobs-local,3,FTE,uk,2024-05-01,c3,False\n", ",,,,,,\n"])
    without = _text_file(tmp_path / "n.csv", [
        "jobs-local,1,FTE,uk,2024-05-01,c1,True\n", "jobs-local,2,FTE,uk,2024-05-01,c2,\n",
        "jobs-local,3,FTE,uk,2024-05-01,c3,False\n"])
    got = svio.read_outcomes(with_blank)["evidence"].tolist()
    assert got[0] is True and got[2] is False and pd.isna(got[1])
    assert [str(v) for v in got] == [str(v) for v in svio.read_outcomes(without)["evidence"]]


def test_value_file_to_parquet_when_big_ids_are_in_some_batches_only_says_why(
        tmp_path: Path) -> None:
    """Ids past 2**53 are written as integers, small ones as floats: batches of one file
    cannot share a column type, and the message says so (it said to make the column all
    numbers, which it was). Written whole, every digit is kept."""
    src = tmp_path / "ids.csv"
    src.write_text("measure,quantity,unit,region,date,ref\n" + "".join(
        f"env-carbon-saved,1,tCO2e,uk,2024-09-30,{r}\n"
        for r in (1, 2, 12345678901234567, 12345678901234568)), encoding="utf-8")
    whole = value_file(src, tmp_path / "whole.parquet", chunksize=4)
    assert whole.valued == 4
    assert svio.read_outcomes(tmp_path / "whole.parquet")["ref"].tolist()[2:] == [
        12345678901234567, 12345678901234568]
    with pytest.raises(svio.InputFileError, match=r"whole numbers past 2\*\*53 are written as "
                                                  r"integers.*make the column text"):
        value_file(src, tmp_path / "batches.parquet", chunksize=2)


def test_value_file_parquet_keeps_the_provenance_of_the_whole_file(tmp_path: Path) -> None:
    """A file valued in batches records what produced it as write_valuations does for the
    whole file: the same record as ``io.provenance`` of value_frame on every row, at any
    chunk size."""
    import hashlib
    import json

    import pyarrow.parquet as pq

    from socialvalue_tom import io as svio

    src = tmp_path / "in.csv"
    src.write_text("measure,quantity,unit,region,date\n"
                   "env-carbon-saved,2,tCO2e,uk,2024-06-01\n"
                   "env-carbon-saved,-1,tCO2e,uk,2024-06-01\n"
                   "env-carbon-saved,3,tCO2e,uk,2025-06-01\n", encoding="utf-8")
    a = sv.Assumptions(price_year=2024)
    whole = sv.value_frame(svio.read_outcomes(src), "uk-national", errors="collect",
                           assumptions=a)
    for chunk in (1, 2, 10):
        out = tmp_path / f"v{chunk}.parquet"
        value_file(src, out, errors="collect", assumptions=a, chunksize=chunk)
        record = json.loads(pq.read_metadata(out).metadata[svio.PROVENANCE_KEY.encode()])
        assert record == svio.provenance(whole, source=svio.file_source(src))
        assert record["input_rows"] == 3 and record["rows_not_valued"] == 1
    # which file, exactly, as the command line records it (a stream review)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert record["input"] == svio.file_source(src) == f"in.csv (sha256 {digest})"
    with pytest.raises(svio.InputFileError, match="cannot read the file"):
        svio.file_source(tmp_path / "missing.csv")


def test_value_file_raise_holds_its_issues_as_columns_that_read_as_value_frames(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Raise mode's error holds the issues as columns (an IssueSequence: an object per issue
    cost about 0.6 GB a million bad rows), which read as the RowIssues value_frame raises
    for the same rows: indexed, sliced, iterated, compared, pickled and as JSON."""
    import json
    import pickle

    df = _portfolio(300, bad=(10, 150, 299))
    src = _csv(df, tmp_path / "o.csv")
    with pytest.raises(sv.BulkValidationError) as streamed:
        value_file(src, None, tables=tiny, chunksize=64)
    with pytest.raises(sv.BulkValidationError) as whole:
        value_frame(svio.read_outcomes(src), tiny)
    issues = streamed.value.issues
    assert isinstance(issues, sv.errors.IssueSequence) and len(issues) == 3
    assert issues == whole.value.issues and list(issues) == list(whole.value.issues)
    assert issues[-1] == whole.value.issues[-1] and issues[1:] == list(whole.value.issues)[1:]
    assert isinstance(issues[0].row, int) and isinstance(issues[0].index, int)
    assert str(streamed.value) == str(whole.value)
    again = pickle.loads(pickle.dumps(streamed.value))
    assert again.issues == issues
    as_json = json.loads(json.dumps(streamed.value.to_dict()))
    assert as_json["details"]["issues"] == json.loads(json.dumps(whole.value.to_dict()))[
        "details"]["issues"]
    with pytest.raises(IndexError):
        issues[3]


def test_value_file_csv_from_parquet_when_a_number_column_has_a_null_in_one_batch(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A Parquet integer column with a null in the first batch only was written to CSV as
    1.0 there and as 2 in later batches: the file depended on chunksize."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 4
    pq.write_table(pa.table({
        "measure": ["jobs-local"] * n, "quantity": [1] * n, "unit": ["FTE"] * n,
        "region": ["uk"] * n, "date": ["2024-05-01"] * n,
        "years": pa.array([None, 1, 2, 3], pa.int64())}), tmp_path / "o.parquet",
        row_group_size=2)
    texts = []
    for size in (2, 100):
        value_file(tmp_path / "o.parquet", tmp_path / f"v{size}.csv", tables=tiny,
                   chunksize=size)
        texts.append((tmp_path / f"v{size}.csv").read_text(encoding="utf-8"))
    assert texts[0] == texts[1]
    assert [line.split(",")[5] for line in texts[0].splitlines()[1:]] == ["", "1.0", "2.0",
                                                                         "3.0"]


def test_value_file_csv_when_a_later_batch_has_a_carriage_return_then_one_line_end(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A cell with a carriage return in a later batch made that batch's lines end in \\r\\n
    and the others' in \\n: the file now has one line end at every chunk size, and the bytes
    write_valuations writes for the whole file."""
    src = tmp_path / "o.csv"
    src.write_bytes(b"measure,quantity,unit,region,date,contract_id,evidence\n"
                    b"jobs-local,1,FTE,uk,2024-05-01,c1,\"two\nlines\"\n"
                    b"jobs-local,2,FTE,uk,2024-05-01,c2," + b"x" * 200_000 + b"\n"
                    b"jobs-local,3,FTE,uk,2024-05-01,c3,\"a\rb\"\n"
                    b"jobs-local,4,FTE,uk,2024-05-01,c4,after\n")
    frame = sv.value_frame(svio.read_outcomes(src), tiny)
    frame = frame.assign(claim_share=1.0, exclusion=pd.Categorical(
        [None] * len(frame), categories=["priority-within-local"]))
    svio.write_valuations(frame, tmp_path / "whole.csv")
    whole = (tmp_path / "whole.csv").read_bytes()
    assert whole.count(b"\r\n") == 5  # the header and four rows
    limit = csv.field_size_limit()
    for size in (1, 2, 3, 100):
        value_file(src, tmp_path / "v.csv", tables=tiny, chunksize=size)
        assert (tmp_path / "v.csv").read_bytes() == whole, size
    back = svio.read_outcomes(tmp_path / "v.csv")
    # A cell past the csv reader's default limit (128 KB) is copied whole.
    assert back["evidence"].tolist() == ["two\nlines", "x" * 200_000, "a\rb", "after"]
    assert csv.field_size_limit() == limit
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".sv-")]


@pytest.mark.parametrize("out", ["v.parquet", "v.csv", None])
def test_value_file_when_the_input_changes_between_passes_then_refused_and_nothing_written(
        tmp_path: Path, tiny: sv.ProxyTable, monkeypatch: pytest.MonkeyPatch,
        out: str | None) -> None:
    """A supplier's upload replacing the file after the claims pass was valued with the old
    file's claims (the local FTE's share 0 where the new quantity leaves 14 FTE), committed,
    and recorded with the old file's sha256: now an InputFileError, and no output."""
    header = "contract_id,measure,quantity,unit,region,date\n"
    src = tmp_path / "o.csv"
    src.write_text(header + "A,jobs-priority,5,FTE,uk,2024-05-01\n"
                   "A,jobs-local,5,FTE,uk,2024-05-01\n", encoding="utf-8")
    passes = []
    read = svio.iter_outcome_batches

    def upload_lands(*args: Any, **kwargs: Any) -> Any:
        passes.append(args)
        if len(passes) == 2:  # the valuation pass, after the claims pass
            src.write_text(header + "A,jobs-priority,5,FTE,uk,2024-05-01\n"
                           "A,jobs-local,19,FTE,uk,2024-05-01\n", encoding="utf-8")
        return read(*args, **kwargs)

    monkeypatch.setattr(svio, "iter_outcome_batches", upload_lands)
    target = tmp_path / out if out else None
    with pytest.raises(svio.InputFileError, match="changed while it was being valued"):
        value_file(src, target, tables=tiny, chunksize=1)
    assert len(passes) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
