"""Valuing files in batches (socialvalue_tom.streaming)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from strategies import seeded_portfolio

import socialvalue_tom as sv
from socialvalue_tom import io as svio
from socialvalue_tom.frame import value_frame
from socialvalue_tom.money import total
from socialvalue_tom.streaming import ExactSum, value_file


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
    themes = sum(summary.by_theme.values(), Decimal(0))
    assert abs(themes - summary.total_gbp) <= Decimal("0.05")
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
    """A failed run does not touch a previous output file."""
    src = _csv(_portfolio(50, bad=(1,)), tmp_path / "o.csv")
    out = tmp_path / "v.csv"
    out.write_text("previous\n")
    with pytest.raises(sv.BulkValidationError):
        value_file(src, out, tables=tiny)
    assert out.read_text() == "previous\n"


def test_value_file_when_no_output_still_summarises(tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """out=None gives the totals without writing anything."""
    src = _csv(_portfolio(120), tmp_path / "o.csv")
    summary = value_file(src, tables=tiny, chunksize=50, progress=False)
    assert summary.out is None
    assert summary.rows == 120
    assert list(tmp_path.iterdir()) == [src]


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
