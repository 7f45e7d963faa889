"""Hostile or odd inputs: only SocialValueError subclasses may escape, and the scalar and bulk
paths must agree on what they accept."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import BAD_INPUTS, TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialvalue_tom as sv
from socialvalue_tom import money
from socialvalue_tom.frame import value_frame
from socialvalue_tom.tables.schema import TableFile
from socialvalue_tom.tables.table import ProxyTable

ROW = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
       "date": "2024-06-01"}


@pytest.mark.parametrize(("column", "value"), [("measure", " jobs-local "),
                                               ("confidence", " B "), ("region", " uk ")])
def test_paths_when_text_has_surrounding_spaces_agree(tiny_table: Any, column: str,
                                                      value: str) -> None:
    """Outcome strips whitespace; value_frame must value the same row the same way."""
    row = dict(ROW, **{column: value})
    scalar = sv.value(sv.Outcome(**row), tiny_table).amount
    out = value_frame(pd.DataFrame([row]), tiny_table, errors="collect")
    assert out.attrs["issues"].empty, out.attrs["issues"].to_dict("records")
    assert out["value_gbp"].iloc[0] == scalar


def test_value_when_discount_horizon_exceeded_raises_rule_error(tiny_table: Any) -> None:
    """A base year far before the outcome plus many years is a RuleError, not an IndexError."""
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data.update(valid_from=dt.date(2150, 4, 1), valid_to=dt.date(2151, 3, 31), price_index=None)
    far = ProxyTable(TableFile.model_validate(data))
    o = sv.Outcome(**dict(ROW, date=dt.date(2150, 6, 1)), years=3)
    a = sv.Assumptions(discount_base_year=1900)
    with pytest.raises(sv.RuleError, match="beyond the 250-year discount horizon"):
        sv.value(o, far, assumptions=a)
    out = value_frame(pd.DataFrame([dict(ROW, date="2150-06-01", years=3)]), far,
                      assumptions=a, errors="collect")
    assert out.attrs["issues"][["field", "code"]].values.tolist() == [["years", "beyond-horizon"]]
    assert out["value_gbp"].isna().all()
    # The horizon's own last year is inside: a base year of 1902 ends the outcome at year 250
    # (valued), 1901 at year 251 (refused), on both paths.
    inside = sv.Assumptions(discount_base_year=1902)
    assert sv.value(o, far, assumptions=inside).amount == value_frame(
        pd.DataFrame([dict(ROW, date="2150-06-01", years=3)]), far,
        assumptions=inside)["value_gbp"].iloc[0] > 0
    just_beyond = sv.Assumptions(discount_base_year=1901)
    with pytest.raises(sv.RuleError, match="outcome runs to year 251 after"):
        sv.value(o, far, assumptions=just_beyond)
    out = value_frame(pd.DataFrame([dict(ROW, date="2150-06-01", years=3)]), far,
                      assumptions=just_beyond, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["beyond-horizon"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(kw=st.fixed_dictionaries({}, optional={
    "measure": st.one_of(st.text(max_size=10), st.integers(), st.none()),
    "quantity": st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.booleans()),
    "unit": st.one_of(st.text(max_size=10), st.sampled_from(["FTE", "hour", "kgCO2e", "£"])),
    "region": st.one_of(st.text(max_size=8), st.sampled_from(["uk", "London"])),
    "date": st.one_of(st.dates(), st.text(max_size=12), st.integers()),
    "years": st.integers(-5, 500), "confidence": st.text(max_size=3),
    "contract_value": st.floats(), "fields": st.dictionaries(st.text(max_size=5), st.floats()),
}))
def test_value_when_outcome_fields_are_garbage_raises_only_our_errors(tiny_table: Any,
                                                                      kw: dict[str, Any]) -> None:
    """Any garbage outcome gives a valuation or a SocialValueError, never another exception;
    and the same fields over a valid outcome's leave the valid ones valued (the suppression
    cannot hide a library refusing everything)."""
    with contextlib.suppress(sv.SocialValueError):
        sv.value(sv.Outcome(**kw), tiny_table)
    valid = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
             "date": "2024-06-01"}
    assert sv.value(sv.Outcome(**valid), tiny_table).amount == 18000.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({
    "measure": st.sampled_from(["jobs-local", "env-carbon", "jobs-apprentice", "x", ""]),
    "quantity": st.one_of(st.floats(), st.text(max_size=4), st.none()),
    "unit": st.one_of(st.sampled_from(["FTE", "kgCO2e", "week", "hour", "??", ""]), st.none()),
    "region": st.one_of(st.sampled_from(["uk", "london", "mars"]), st.none()),
    "date": st.one_of(st.sampled_from(["2024-06-01", "2025-01-01", "bad", ""]), st.none()),
    "years": st.one_of(st.floats(-2, 200), st.none()),
    "level": st.one_of(st.floats(), st.none()),
    "contract_value": st.one_of(st.floats(), st.none()),
}), min_size=1, max_size=20))
def test_value_frame_when_rows_are_garbage_collects_issues(tiny_table: Any,
                                                           rows: list[dict[str, Any]]) -> None:
    """Garbage rows are collected as issues; only SocialValueError may be raised."""
    df = pd.DataFrame(rows)
    out = value_frame(df, tiny_table, errors="collect")
    bad = set(out.attrs["issues"]["row"])
    for i in range(len(df)):
        assert (i in bad) == bool(pd.isna(out["value_gbp"].iloc[i]))


def test_read_outcomes_when_csv_has_bom_reads_header(tmp_path: Any) -> None:
    """A UTF-8 BOM does not end up in the first column's name."""
    from socialvalue_tom import io
    df = io.read_outcomes(BAD_INPUTS / "bom.csv")
    assert list(df.columns)[:2] == ["measure", "quantity"]


def test_read_outcomes_when_bytes_not_utf8_names_the_file() -> None:
    """Latin-1 bytes: an InputFileError (an OutcomeError) naming the file and the bytes, never
    text with replacement characters."""
    from socialvalue_tom import io
    with pytest.raises(io.InputFileError, match=r"latin1\.csv: bytes b'\\xe9' .* not UTF-8"):
        io.read_outcomes(BAD_INPUTS / "latin1.csv")


def test_read_outcomes_when_cell_is_a_formula_it_stays_text(tiny_table: Any) -> None:
    """A spreadsheet formula in a cell is plain text: an unknown measure issue."""
    from socialvalue_tom import io
    df = io.read_outcomes(BAD_INPUTS / "formula.csv")
    out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["unknown-measure"]


# -- fuzzing round: cells the two paths once read differently ------------------------------------

def _one(**cols: Any) -> pd.DataFrame:
    base: dict[str, Any] = {"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"],
                            "region": ["uk"], "date": ["2024-06-01"]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("column", ["quantity", "deadweight", "years"])
@pytest.mark.parametrize("order", ["number first", "boolean first"])
def test_value_frame_when_booleans_and_ones_share_a_column_refuses_only_the_booleans(
        tiny_table: Any, column: str, order: str) -> None:
    """pandas factorises True with 1 (False with 0): whichever came first decided both. Each
    boolean is refused and each number valued, in any order."""
    cells: list[Any] = [1, True] if column != "deadweight" else [0, False]
    if order == "boolean first":
        cells.reverse()
    df = pd.concat([_one(), _one()], ignore_index=True)
    df[column] = pd.Series(cells, dtype=object)
    out = value_frame(df, tiny_table, errors="collect")
    bad = [i for i, c in enumerate(cells) if isinstance(c, bool)]
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[bad[0], "not-a-number"]]
    assert out["value_gbp"].notna().tolist() == [i not in bad for i in range(2)]


@pytest.mark.parametrize(("field", "cell"), [("years", "2"), ("years", b"2"),
                                             ("contract_value", "1_000"), ("deadweight", "0.1")])
def test_outcome_when_numeric_field_is_text_or_bytes_raises(field: str, cell: Any) -> None:
    """The scalar Outcome is typed: text and bytes are not numbers in any numeric field (as
    for quantity), never read leniently ("1_000", b"2")."""
    with pytest.raises(sv.OutcomeError, match="not text"):
        sv.Outcome(measure="jobs-local", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", **{field: cell})


@pytest.mark.parametrize("grade", ["2", 3, 3.0])
def test_paths_when_confidence_or_ids_are_numbers_agree(grade: Any) -> None:
    """A grade or a contract id given as a number is its text ("3", "1001") on both paths,
    whatever dtype the column ends up with beside a missing cell."""
    table = sv.load_table("uk-national", version="2024")
    grade_text = grade if isinstance(grade, str) else "3"
    o = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", confidence=grade, contract_id=1001)
    assert (o.confidence, o.contract_id) == (grade_text, "1001")
    scalar = sv.value(o, table).amount
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2, "date": ["2024-06-01"] * 2,
                       "confidence": [grade, None], "contract_id": [1001.0, None]})
    assert value_frame(df, table)["value_gbp"].iloc[0] == scalar


@pytest.mark.parametrize(("column", "cell", "valued"), [
    ("unit", " " * 70 + "FTE", True), ("region", "United" + " " * 70 + "Kingdom", False)])
def test_paths_when_text_long_only_by_its_spaces_agree(tiny_table: Any, column: str, cell: str,
                                                        valued: bool) -> None:
    """Length limits count the text as both paths read it (stripped)."""
    fields = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
              "date": "2024-06-01", column: cell}
    try:
        sv.value(sv.Outcome(**fields), tiny_table)
        scalar_ok = True
    except sv.SocialValueError:
        scalar_ok = False
    bulk = value_frame(pd.DataFrame([fields]), tiny_table, errors="collect")
    assert scalar_ok == valued == bool(bulk["value_gbp"].notna().iloc[0])


def test_value_file_when_key_text_holds_the_label_separator_keeps_groups_apart(
        tmp_path: Any) -> None:
    """Streamed claims are matched by text labels: ("a\\x1fb", "c") and ("a", "b\\x1fc") are two
    groups, as in memory."""
    from socialvalue_tom.streaming import value_file

    df = pd.DataFrame({"contract_id": ["a\x1fb", "a"], "supplier_id": ["c", "b\x1fc"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [1.0, 4.0], "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2024-06-01"] * 2})
    want = value_frame(df, "uk-national")["value_gbp"].tolist()
    df.to_parquet(tmp_path / "o.parquet")
    value_file(tmp_path / "o.parquet", tmp_path / "v.parquet", chunksize=1)
    assert pd.read_parquet(tmp_path / "v.parquet")["value_gbp"].tolist() == want


@pytest.mark.parametrize(("column", "cell"), [
    ("quantity", __import__("decimal").Decimal("sNaN")),
    ("contract_id", __import__("numpy").timedelta64(5, "D")),
    ("measure", {"a": 1}),
])
def test_value_frame_and_reports_when_cell_is_exotic_raise_only_our_errors(
        tiny_table: Any, column: str, cell: Any) -> None:
    """A signalling NaN, a timedelta as an id, a dict as a measure: row issues or values, and
    the reports of the result work, never a Python exception."""
    df = pd.concat([_one(contract_id=["C1"]), _one(contract_id=["C2"])], ignore_index=True)
    df[column] = pd.Series([cell, df[column].iloc[1]], dtype=object)
    out = value_frame(df, tiny_table, errors="collect")
    assert out["value_gbp"].iloc[1] == 18000.0
    for by in ("theme", "measure", "contract"):
        # Each report works: the valued row counts, the exotic one is a row not valued.
        summary = sv.summarise(out, by=by, tables=tiny_table)
        assert summary["rows"].sum() == 1 and summary["rows_not_valued"].sum() == 1
        assert money.total(summary["net_gbp"].dropna()) >= Decimal("18000.00")


def test_outcome_when_datetime64_past_year_9999_raises() -> None:
    """numpy gives a day count, not a date, past year 9999: never read as a 1970 date."""
    with pytest.raises(sv.OutcomeError, match="years 1-9999"):
        sv.Outcome(measure="jobs-local", quantity=1, unit="FTE", region="uk",
                   date=__import__("numpy").datetime64(34 * 86400, "D"))


def test_value_frame_when_datetime64_past_year_9999_in_an_object_column_says_so(
        tiny_table: Any) -> None:
    """The row issue gives the scalar reason (no such year), not an ISO-format complaint."""
    import numpy as np

    df = pd.concat([_one(), _one()], ignore_index=True)
    df["date"] = pd.Series([np.datetime64("10000-01-01"), df["date"].iloc[1]], dtype=object)
    issues = value_frame(df, tiny_table, errors="collect").attrs["issues"]
    assert issues["code"].tolist() == ["bad-date"]
    assert "not a date in the years 1-9999" in issues["reason"].iloc[0]


@pytest.mark.parametrize(("column", "cells"), [
    ("quantity", [__import__("decimal").Decimal(1), True]),
    ("quantity", [__import__("fractions").Fraction(1), True]),
    ("deadweight", [__import__("decimal").Decimal(0), False]),
    ("attribution", [0, 0j]), ("quantity", [1, 1 + 0j]),
])
def test_value_frame_when_equal_cells_of_other_types_share_a_column_reads_each_alone(
        tiny_table: Any, column: str, cells: list[Any]) -> None:
    """Decimal(1) == True == 1+0j to pandas' factorising; each cell is read as itself, in
    either order: the boolean or complex one refused, the number valued."""
    for order in (cells, cells[::-1]):
        df = pd.concat([_one(), _one()], ignore_index=True)
        df[column] = pd.Series(order, dtype=object)
        out = value_frame(df, tiny_table, errors="collect")
        bad = [i for i, c in enumerate(order) if isinstance(c, bool | complex)]
        assert out.attrs["issues"]["row"].tolist() == bad
        assert out["value_gbp"].notna().tolist() == [i not in bad for i in range(2)]


@pytest.mark.parametrize(("field", "cell"), [
    ("date", pd.NaT), ("measure", b"jobs-local"), ("region", b"uk"), ("unit", b"FTE"),
    ("confidence", b"A"),
])
def test_outcome_when_date_is_nat_or_text_is_bytes_raises_outcome_error(field: str,
                                                                        cell: Any) -> None:
    """pandas.NaT is a missing date and bytes are not text, as value_frame reads them."""
    fields = {"measure": "jobs-local", "quantity": 1, "unit": "FTE", "region": "uk",
              "date": "2024-06-01", field: cell}
    with pytest.raises(sv.OutcomeError):
        sv.Outcome(**fields)


@pytest.mark.parametrize("cell", [True, dt.date(2024, 1, 1), __import__("decimal").Decimal(7)])
def test_paths_when_contract_id_is_another_scalar_agree(tiny_table: Any, cell: Any) -> None:
    o = sv.Outcome(measure="jobs-local", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", contract_id=cell)
    bulk = value_frame(_one(contract_id=pd.Series([cell], dtype=object)), tiny_table)
    assert bulk["value_gbp"].iloc[0] == sv.value(o, tiny_table).amount


@pytest.mark.parametrize("column", ["contract_id", "supplier_id"])
def test_paths_when_id_is_bytes_both_refuse(tiny_table: Any, column: str) -> None:
    """Bytes are not text: the scalar Outcome refuses them, value_frame reports the row."""
    with pytest.raises(sv.OutcomeError):
        sv.Outcome(measure="jobs-local", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", **{column: b"C1"})
    df = pd.concat([_one(), _one()], ignore_index=True)
    df[column] = pd.Series([b"C1", "C2"], dtype=object)
    issues = value_frame(df, tiny_table, errors="collect").attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[0, column, "not-a-value"]]
