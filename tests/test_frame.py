"""value_frame(): validation of every row (raise / collect), column dtypes, dates, and the
promise that the input is not mutated. Fixtures in tests/data/bad_inputs/."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import BAD_INPUTS, TINY, TINY_INDEX, tiny_variant

import socialvalue_tom as sv
from socialvalue_tom import money
from socialvalue_tom.frame import value_frame

#: mixed.csv: row -> (field, code) of the issue it must produce (rows 0 and 14 are valid).
MIXED_ISSUES = {
    1: ("quantity", "negative"), 2: ("quantity", "missing"), 3: ("quantity", "not-a-number"),
    4: ("measure", "unknown-measure"), 5: ("region", "unknown-region"), 6: ("unit", "unit-error"),
    7: ("date", "bad-date"), 8: ("quantity", "not-finite"), 9: ("quantity", "too-large"),
    10: ("unit", "unit-error"), 11: ("level", "missing-field"),
    12: ("deadweight", "out-of-range"), 13: ("years", "out-of-range"),
    15: ("date", "no-table-in-force"),
}


def _mixed() -> pd.DataFrame:
    return pd.read_csv(BAD_INPUTS / "mixed.csv", dtype={"quantity": object})


def _frame(**cols: Any) -> pd.DataFrame:
    base: dict[str, Any] = {"measure": ["jobs-local", "env-carbon", "social-volunteering"],
                            "quantity": [2.0, 3500.0, 100.0],
                            "unit": ["FTE", "kgCO2e", "hour"],
                            "region": ["london", "scotland", "scotland"],
                            "date": ["2024-06-01", "2024-06-01", "2025-03-31"]}
    base.update(cols)
    return pd.DataFrame(base)


EXPECTED = [54000.0, 875.0, 1450.0]


def test_value_frame_when_collect_values_good_rows_and_lists_bad(tiny_table: Any) -> None:
    """Good rows are valued; each bad row is NaN and listed once with field and code."""
    out = value_frame(_mixed(), tiny_table, errors="collect")
    assert out["value_gbp"].iloc[0] == 54000.0 and out["value_gbp"].iloc[14] == 875.0
    bad = sorted(MIXED_ISSUES)
    assert out["value_gbp"].iloc[bad].isna().all()
    issues = out.attrs["issues"]
    got = {int(r.row): (r.field, r.code) for r in issues.itertuples()}
    assert got == MIXED_ISSUES
    assert list(issues.columns) == ["row", "index", "field", "code", "reason"]
    reasons = dict(zip(issues["row"], issues["reason"], strict=True))
    assert "-1" in reasons[1] and "'abc'" in reasons[3] and "01/06/2024" in reasons[7]
    assert "jobs-locl" in reasons[4] and "mars" in reasons[5] and "hour" in reasons[6]
    assert "level" in reasons[11] and "1.5" in reasons[12]


def test_value_frame_when_raise_lists_every_bad_row(tiny_table: Any) -> None:
    """errors='raise': one BulkValidationError with every bad row (row, field, reason)."""
    with pytest.raises(sv.BulkValidationError) as info:
        value_frame(_mixed(), tiny_table)
    err = info.value
    assert {(i.row, i.field) for i in err.issues} == {(r, f) for r, (f, _) in
                                                      MIXED_ISSUES.items()}
    assert f"{len(MIXED_ISSUES)} problem(s) in {len(MIXED_ISSUES)} row(s)" in str(err)
    assert "row 1 field 'quantity'" in str(err)
    assert isinstance(err, sv.OutcomeError)


def test_value_frame_when_row_offset_given_shifts_row_numbers(tiny_table: Any) -> None:
    """Row numbers are offset (streaming) and index labels recorded."""
    df = _frame(quantity=[2.0, -1.0, 100.0])
    df.index = ["a", "b", "c"]
    out = value_frame(df, tiny_table, errors="collect", row_offset=1000)
    issue = out.attrs["issues"].iloc[0]
    assert (issue["row"], issue["index"], issue["field"]) == (1001, "b", "quantity")


def test_value_frame_when_required_column_missing_raises(tiny_table: Any) -> None:
    """A missing column is named, with the list of required columns."""
    df = pd.read_csv(BAD_INPUTS / "missing_region_column.csv")
    with pytest.raises(sv.OutcomeError, match=r"missing required column.*region") as info:
        value_frame(df, tiny_table, errors="collect")
    assert info.value.field == "region"


def test_value_frame_when_required_column_misspelt_suggests_it(tiny_table: Any) -> None:
    """'quantitiy' and 'units' are a typo away from missing columns: the error says which
    (case and spacing differences were suggested, typos were not); a rule column is not."""
    df = _frame().rename(columns={"quantity": "quantitiy", "unit": "units"})
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(df, tiny_table)
    assert ("found 'quantitiy': a misspelling of quantity?; found 'units': a misspelling of "
            "unit?") in str(info.value)
    renamed = _frame().rename(columns={"region": "regions"}).assign(regime="x")
    with pytest.raises(sv.OutcomeError, match="found 'regions': a misspelling of region"):
        value_frame(renamed, tiny_table)
    # One letter of four changed is another word as often as a typo: not offered.
    rated = _frame().drop(columns="date").assign(rate=1.0, quality="good")
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(rated, tiny_table)
    assert "misspelling" not in str(info.value)
    unrelated = _frame().drop(columns="unit").assign(years=1)
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(unrelated, tiny_table)
    assert "misspelling" not in str(info.value)


def test_value_frame_when_column_duplicated_raises(tiny_table: Any) -> None:
    """Duplicated columns are ambiguous: refused, naming the column."""
    df = _frame()
    df = pd.concat([df, df[["quantity"]]], axis=1)
    with pytest.raises(sv.OutcomeError, match=r"duplicated column.*quantity"):
        value_frame(df, tiny_table)


@pytest.mark.parametrize("twin", ["Quantity", " QUANTITY", "contract-id", "Contract ID"])
def test_value_frame_when_a_column_is_another_save_for_case_warns(tiny_table: Any,
                                                                  twin: str) -> None:
    """An analyst's review: 'quantity' (1) beside 'Quantity' (99) was valued from the first
    without a word. value_frame says so (a warning: a cleaned column kept beside its original,
    df["region"] = df["Region"].str.lower(), is a common pandas step, which a review of the
    first fix found refused); a copy with the same cells, or another name, says nothing. The
    command line refuses such a file (tests/test_cli.py)."""
    import warnings

    df = _frame().assign(contract_id="c1", **{twin: 99})
    with pytest.warns(sv.SocialValueWarning, match="save for case") as caught:
        out = value_frame(df, tiny_table)
    said = [str(w.message) for w in caught if "save for case" in str(w.message)]
    assert len(out) == len(df) and len(said) == 1 and repr(twin) in said[0]
    same = df.assign(**{twin: df["quantity" if "uan" in twin.lower() else "contract_id"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)  # tiny's placeholders
        value_frame(same, tiny_table)
        value_frame(df.rename(columns={twin: "notes"}), tiny_table)


@pytest.mark.parametrize("errors", ["ignore", "warn", None])
def test_value_frame_when_errors_mode_unknown_raises(tiny_table: Any, errors: Any) -> None:
    """Only 'raise' and 'collect' are accepted."""
    with pytest.raises(sv.RuleError, match=r"raise.*collect"):
        value_frame(_frame(), tiny_table, errors=errors)


@pytest.mark.parametrize("dtype", ["object", "string", "category", "string[pyarrow]"])
def test_value_frame_when_text_columns_have_any_dtype_gives_same_values(tiny_table: Any,
                                                                        dtype: str) -> None:
    """object, string, categorical and pyarrow-string text columns give identical results."""
    df = _frame()
    for col in ("measure", "unit", "region", "date"):
        df[col] = df[col].astype(dtype)
    out = value_frame(df, tiny_table)
    assert out["value_gbp"].tolist() == EXPECTED


@pytest.mark.parametrize("dates", [
    pd.to_datetime(["2024-06-01", "2024-06-01", "2025-03-31"]),
    pd.to_datetime(["2024-06-01", "2024-06-01", "2025-03-31"]).astype("datetime64[s]"),
    pd.Series(["2024-06-01", "2024-06-01", "2025-03-31"], dtype="string[pyarrow]"),
])
def test_value_frame_when_dates_are_datetime64_or_text_agree(tiny_table: Any, dates: Any) -> None:
    """datetime64 columns and ISO text give the same values."""
    out = value_frame(_frame(date=list(dates) if not hasattr(dates, "dtype") else dates),
                      tiny_table)
    assert out["value_gbp"].tolist() == EXPECTED


_WALL = ["2024-04-01 00:30", "2024-04-01 00:00", "2025-03-31 23:30"]


@pytest.mark.parametrize("tz", ["Europe/London", "Asia/Tokyo", "America/New_York"])
@pytest.mark.parametrize("kind", ["datetime64", "object", "arrow"])
def test_value_frame_when_dates_are_timezone_aware_uses_the_local_date(
        tiny_table: Any, tz: str, kind: str) -> None:
    """A timezone-aware date is read on its own wall clock: 2024-04-01 00:30 in London is
    2024-04-01 (in force: tiny 2024), not 2024-03-31 23:30 UTC (no edition in force)."""
    aware = pd.Series(pd.to_datetime(_WALL).tz_localize(tz))
    dates = {"datetime64": aware, "object": aware.astype(object),
             "arrow": aware.astype(pd.ArrowDtype(pa.timestamp("s", tz=tz)))}[kind]
    df = _frame(date=dates)
    out = value_frame(df, tiny_table)
    assert out["value_gbp"].tolist() == EXPECTED
    for i in range(3):
        assert "for date 20" in sv.explain_row(out, i)
    assert "for date 2024-04-01" in sv.explain_row(out, 0)


def test_value_frame_when_object_dates_are_one_instant_in_two_zones_uses_each_wall_date(
        tiny_table: Any) -> None:
    """The same instant is 2024-04-01 in London and 2024-03-31 in UTC: two dates, not one."""
    london = pd.Timestamp("2024-04-01 00:30", tz="Europe/London")
    out = value_frame(_frame(date=pd.Series([london, london.tz_convert("UTC"), london],
                                            dtype=object)), tiny_table, errors="collect")
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[1, "no-table-in-force"]]
    assert "2024-03-31" in out.attrs["issues"]["reason"].iloc[0]


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_value_frame_when_datetime64_holds_far_dates_reads_them_exactly(
        tiny_table: Any, unit: str) -> None:
    """2300-01-01 in a datetime64[s] column is 2300-01-01 (an [ns] cast read it as 1715-06-13):
    carried forward, it is valued as the scalar engine values it; otherwise its issue names
    it."""
    dates = pd.Series(np.array(["2024-06-01", "2300-01-01", "1900-06-01"],
                               dtype=f"datetime64[{unit}]"))
    out = value_frame(_frame(date=dates), tiny_table, errors="collect")
    reasons = out.attrs["issues"].set_index("row")["reason"]
    assert "on 2300-01-01" in reasons[1] and "on 1900-06-01" in reasons[2]
    a = sv.Assumptions(carry_forward=True)
    out = value_frame(_frame(date=dates).iloc[:2], tiny_table, assumptions=a)
    scalar = sv.value(sv.Outcome(measure="env-carbon", quantity=3500.0, unit="kgCO2e",
                                 region="scotland", date=dt.date(2300, 1, 1)), tiny_table,
                      assumptions=a)
    assert out["value_gbp"].tolist() == [EXPECTED[0], scalar.amount]
    assert "for date 2300-01-01" in sv.explain_row(out, 1)


def test_value_frame_when_carry_forward_never_carries_backwards(tiny_table: Any) -> None:
    """carry_forward uses the latest edition *before* a date: a row dated before the first
    edition is still no-table-in-force (the scalar engine raises), not valued, not carried."""
    a = sv.Assumptions(carry_forward=True)
    dates = pd.Series(["2024-03-31", "2024-04-01", "2025-04-01"])
    out = value_frame(_frame(date=dates), tiny_table, assumptions=a, errors="collect")
    assert out.attrs["issues"][["row", "field", "code"]].values.tolist() == [
        [0, "date", "no-table-in-force"]]
    assert out["value_gbp"].isna().tolist() == [True, False, False]
    early = sv.Outcome(measure="env-carbon", quantity=1.0, unit="tCO2e", region="uk",
                       date=dt.date(2024, 3, 31))
    with pytest.raises(sv.NoTableInForceError):
        sv.value(early, tiny_table, assumptions=a)


def test_value_frame_with_carry_forward_says_which_rows_were_carried(tiny_table: Any) -> None:
    """With carry_forward, a ``carried_forward`` column says, per row, what the scalar
    Valuation's ``carried_forward`` says: valued with an edition past its valid_to (False for
    a row not valued); without it the column is not written, so a frame's columns follow from
    its settings alone (a Dask meta, a streamed file's chunks)."""
    a = sv.Assumptions(carry_forward=True)
    dates = pd.Series(["2025-03-31", "2025-04-01", "2030-01-01"])
    out = value_frame(_frame(date=dates), tiny_table, assumptions=a)
    assert out["carried_forward"].tolist() == [False, True, True]
    assert out["carried_forward"].dtype == bool
    bad = value_frame(_frame(date=pd.Series(["2024-03-31", "nope", "2030-01-01"])),
                      tiny_table, assumptions=a, errors="collect")
    assert bad["carried_forward"].tolist() == [False, False, True]
    for i in range(3):
        one = sv.Outcome(measure="env-carbon", quantity=3500.0, unit="kgCO2e",
                         region="scotland", date=dt.date.fromisoformat(dates[i]))
        assert sv.value(one, tiny_table, assumptions=a).carried_forward == bool(
            out["carried_forward"][i])
    assert "carried_forward" not in value_frame(_frame(), tiny_table).columns
    # A valued frame valued again gets its own column, not a second one.
    again = value_frame(out.iloc[:3], tiny_table, assumptions=a)
    assert list(again.columns).count("carried_forward") == 1
    assert again["carried_forward"].tolist() == [False, True, True]
    # The notes count the rows the column names, as from the dates without it.
    from socialvalue_tom.report import basis_notes

    with_column = [n for n in basis_notes(out) if "carried forward" in n]
    assert with_column and with_column[0].startswith("2 row(s)")
    assert with_column == [n for n in basis_notes(out.drop(columns="carried_forward"))
                           if "carried forward" in n]


def test_value_frame_when_datetime64_date_is_past_year_9999_is_a_bad_date(
        tiny_table: Any) -> None:
    """A date no ``datetime.date`` can hold (the scalar Outcome cannot) is a bad-date issue."""
    dates = pd.Series(np.array(["2024-06-01", "12000-01-01", "2024-06-01"],
                               dtype="datetime64[s]"))
    for column in (dates, dates.astype(object)):
        out = value_frame(_frame(date=column), tiny_table, errors="collect")
        assert out.attrs["issues"][["row", "code"]].values.tolist() == [[1, "bad-date"]]


def test_value_frame_when_dates_are_arrow_dates_agree(tiny_table: Any) -> None:
    dates = pd.Series([dt.date(2024, 6, 1), dt.date(2024, 6, 1), dt.date(2025, 3, 31)],
                      dtype=pd.ArrowDtype(pa.date32()))
    assert value_frame(_frame(date=dates), tiny_table)["value_gbp"].tolist() == EXPECTED
    out = value_frame(_frame(date=dates.where(pd.Series([True, False, True]))), tiny_table,
                      errors="collect")
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[1, "missing"]]


def test_a_day_period_is_its_date_and_a_month_s_is_refused_with_why(tiny_table: Any) -> None:
    """pandas Periods were refused as "not an ISO date" (Period[D] named one day). A day's
    Period is that date, in the frame and the scalar API; a month or a quarter is many days,
    refused in both with the span it covers and what to give instead."""
    days = pd.PeriodIndex(["2024-06-01", "2024-06-01", "2025-03-31"], freq="D")
    assert value_frame(_frame(date=days), tiny_table)["value_gbp"].tolist() == EXPECTED
    outcome = sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="london",
                         date=days[0])
    assert outcome.date == dt.date(2024, 6, 1)
    assert sv.value(outcome, tiny_table).amount == Decimal("54000.00")
    months = pd.PeriodIndex(["2024-06", "2024-06", "2025-03"], freq="M")
    out = value_frame(_frame(date=months), tiny_table, errors="collect")
    assert out["value_gbp"].isna().all()
    assert out.attrs["issues"]["reason"].iloc[0] == (
        "date 2024-06 is a span of time (2024-06-01 to 2024-06-30), not a day: give the day "
        "the outcome was delivered, or the span as period_start and period_end")
    # A Period within one day (an hour) is that day (an adversarial review: it was refused
    # as "a span of time (2024-06-03 to 2024-06-03)").
    within = pd.Period("2024-06-03 10:00", freq="h")
    assert sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="london",
                      date=within).date == dt.date(2024, 6, 3)
    with pytest.raises(sv.OutcomeError, match="2024Q2 is a span of time"):
        sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="london",
                   date=pd.Period("2024Q2", freq="Q"))


def _with_unindexed_2023(tmp_path: Any, tiny_table: Any) -> list[Any]:
    """tiny 2024 (with its price index) and a 2023 edition that declares none."""
    text = TINY.read_text(encoding="utf-8").replace('version: "2024"', 'version: "2023"').replace(
        "valid_from: 2024-04-01", "valid_from: 2023-04-01").replace(
        "valid_to: 2025-03-31", "valid_to: 2024-03-31").replace(
        "price_base_year: 2024", "price_base_year: 2023").replace(
        "price_index: tiny-deflator\n", "")
    path = tmp_path / "tiny-2023.yaml"
    path.write_text(text, encoding="utf-8")
    old = sv.load_table(path=path)
    assert old.price_index is None
    return [old, tiny_table]


def test_value_frame_when_unused_edition_has_no_price_index_values_the_rest(
        tiny_table: Any, tmp_path: Any) -> None:
    """Restating 2024 rows in 2025 prices needs only the 2024 edition's index: the 2023
    edition, which no row uses, may have none (the scalar engine does not need it either)."""
    tables = _with_unindexed_2023(tmp_path, tiny_table)
    a = sv.Assumptions(price_year=2025)
    out = value_frame(_frame(), tables, assumptions=a)
    scalar = [sv.value(sv.Outcome(**{str(k): v for k, v in row.items()}), tables,
                       assumptions=a).amount
              for row in _frame().to_dict("records")]
    assert out["value_gbp"].tolist() == scalar == [v * 1.025 for v in EXPECTED]


def test_value_frame_when_used_edition_has_no_price_index_raises_like_scalar(
        tiny_table: Any, tmp_path: Any) -> None:
    tables = _with_unindexed_2023(tmp_path, tiny_table)
    a = sv.Assumptions(price_year=2025)
    df = _frame(date=["2024-06-01", "2023-06-01", "2024-06-01"])
    with pytest.raises(sv.RuleError, match="tiny:2023 declares no price index"):
        value_frame(df, tables, assumptions=a)
    with pytest.raises(sv.RuleError, match="tiny:2023 declares no price index"):
        sv.value(sv.Outcome(**{str(k): v for k, v in df.to_dict("records")[1].items()}),
                 tables, assumptions=a)


@pytest.mark.parametrize("bad_date", ["01/06/2024", "2024/06/01", "June 1 2024", "2024-13-01",
                                      "", "yesterday", "2024-06-01xyz", "2024-06-01 junk"])
def test_value_frame_when_date_format_odd_is_rejected(tiny_table: Any, bad_date: str) -> None:
    """Anything but an ISO date (optionally with an ISO time) is a bad-date issue."""
    out = value_frame(_frame(date=["2024-06-01", bad_date, "2024-06-01"]), tiny_table,
                      errors="collect")
    issues = out.attrs["issues"]
    assert issues["row"].tolist() == [1] and issues["field"].tolist() == ["date"]
    assert np.isnan(out["value_gbp"].iloc[1])


@pytest.mark.parametrize(("date", "reason"), [
    ("2024-02-30", "date '2024-02-30' is no day of the calendar (2024-02 has no day 30)"),
    ("2023-02-29", "date '2023-02-29' is no day of the calendar (2023-02 has no day 29)"),
    ("2024-13-01", "date '2024-13-01' is no day of the calendar (there is no month 13)"),
    ("0000-01-01", "date '0000-01-01' is no day of the calendar (there is no year 0)"),
    ("01/06/2024", "date '01/06/2024' is not an ISO date (YYYY-MM-DD): write 2024-06-01 if it "
                   "means 1 June 2024 (day first, as in the UK)"),
    # Digits of another script match \\d, but no date parser reads them: not ISO at all.
    ("\u0662\u0660\u0662\u0664-\u0660\u0665-\u0660\u0661",
     "date '\u0662\u0660\u0662\u0664-\u0660\u0665-\u0660\u0661' is not an ISO date (YYYY-MM-DD): "
     "write the year, month and day (31 March 2024 is 2024-03-31)"),
    ("\uff12\uff10\uff12\uff14-\uff10\uff15-\uff10\uff11",
     "date '\uff12\uff10\uff12\uff14-\uff10\uff15-\uff10\uff11' is not an ISO date (YYYY-MM-DD): "
     "write the year, month and day (31 March 2024 is 2024-03-31)"),
])
def test_value_frame_when_date_written_right_but_no_day_says_so(tiny_table: Any, date: str,
                                                                reason: str) -> None:
    """'2024-02-30' is written YYYY-MM-DD: being told it is not an ISO date sent the reader
    looking at the format, which was right."""
    out = value_frame(_frame(date=["2024-06-01", date, "2024-06-01"]), tiny_table,
                      errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [reason]


@pytest.mark.parametrize(("value", "comma"), [("2,5", True), ("-0,75", True),
                                             ("1.234,5", True), ("0,125", True),
                                             ("1,234", False), ("ten", False)])
def test_value_frame_when_quantity_has_a_decimal_comma_says_so(tiny_table: Any, value: str,
                                                               comma: bool) -> None:
    """A semicolon file from Excel with decimal commas and no grouped thousands got only
    "is not a number" per row; a decimal comma is named (1,234 may be grouped: not named)."""
    out = value_frame(_frame(quantity=["1", value, "2"]), tiny_table, errors="collect")
    reason = out.attrs["issues"]["reason"].iloc[0]
    assert reason.startswith(f"quantity '{value}' is not a number")
    assert ("decimal comma" in reason) is comma


@pytest.mark.parametrize(("column", "value", "advice"), [
    ("quantity", "£1,200", ": write the number alone, 1200 (no currency sign, per cent sign, "
     "thousands separators or spaces)"),
    ("contract_value", "GBP 1,500,000", ": write the number alone, 1500000 (no currency "
     "sign, per cent sign, thousands separators or spaces)"),
    ("quantity", "1,200", ": write the number without a comma: 1200 if the comma separates "
     "thousands, 1.200 if it is a decimal mark"),
    ("deadweight", "25%", ": deadweight is written as a fraction, 0.25 for 25%"),
    ("quantity", "12.5%", ": write it as a number: 0.125 if it is a fraction (a rate or a "
     "share), 12.5 if the figure is in per cent"),
    ("quantity", "ten", ""),
    # A unit in the quantity cell (a second newcomer's review): the number alone.
    ("quantity", "2 FTE", ": write the number alone, 2, and the unit (FTE) in the unit column"),
    ("quantity", "3.5tCO2e", ": write the number alone, 3.5, and the unit (tCO2e) in the unit "
     "column"),
    ("quantity", "1,5 FTE", ": write the number alone and the unit (FTE) in the unit column; a "
     "decimal comma? write the number with a decimal point (1.5)"),
    ("quantity", "2 x 3", ""),
    ("contract_value", "2 FTE", ""),  # only a quantity has a unit column beside it
    # An analyst's review: '0x10' was told to write 0 with the unit x10; '(2)' got no advice.
    ("quantity", "0x10", ": a hexadecimal, binary or octal number? write the number in "
     "decimal digits"),
    ("quantity", " (2) ", ": a negative number in brackets, as accounts write one? A quantity "
     "is never negative: record a harm under its own measure, counted up from 0"),
    ("quantity", "(2 FTE)", ""),
    ("quantity", "(.)", ""),
    ("quantity", "0b12", ""),  # not binary, nor 0 with a unit 'b12'
    ("quantity", "0xZZ", ""),
    ("quantity", "0b101", ": a hexadecimal, binary or octal number? write the number in "
     "decimal digits"),
    # An Excel user's review: '1.2k' was told to write 1.2 with the unit k.
    ("quantity", "1.2k", ": write the number in full, 1200 (k is not a unit)"),
    ("quantity", "2.5 million", ": write the number in full, 2500000 (million is not a unit)"),
    ("contract_value", "1.2k", ""),
    ("quantity", "1,2k", ": write the number in full, in digits with a decimal point and no "
     "commas (k is not a unit)"),
])
def test_value_frame_when_a_number_is_written_with_pounds_commas_or_per_cent_says_how(
        tiny_table: Any, column: str, value: str, advice: str) -> None:
    """A newcomer's review: '£1,200' copied from a spreadsheet was told only "is not a
    number", where dates and units say what to write; the advice is a table file's."""
    df = _frame().assign(**{column: "1"})
    df.loc[1, column] = value
    out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [f"{column} '{value}' is not a number"
                                                      f"{advice}"]


@pytest.mark.parametrize(("value", "reason"), [
    (dt.datetime(2024, 2, 1), "quantity 2024-02-01 is a date, not a number: a spreadsheet may "
     "have shown the figure as a date; format the cell as a number and check the figure"),
    (pd.Timestamp("2024-02-01"), "quantity 2024-02-01 is a date, not a number: a spreadsheet "
     "may have shown the figure as a date; format the cell as a number and check the figure"),
    # A review: numpy reads a far date as its count of days, and the row was valued so.
    (np.datetime64("30000-01-01"), "quantity 30000-01-01 is a date, not a number: a "
     "spreadsheet may have shown the figure as a date; format the cell as a number and "
     "check the figure"),
    ("#DIV/0!", "quantity '#DIV/0!' is not a number: it is a spreadsheet's error value, a "
     "formula that failed; correct the formula in the workbook"),
    (" #n/a", "quantity ' #n/a' is not a number: a spreadsheet's 'not available' (a lookup "
     "formula that found nothing, or typed for 'not applicable'); give the figure, or leave "
     "out a row with none"),
    ("#VALUE!", "quantity '#VALUE!' is not a number: it is a spreadsheet's error value, a "
     "formula that failed; correct the formula in the workbook"),
])
def test_value_frame_when_a_quantity_cell_is_a_date_or_a_formula_error_says_so(
        tiny_table: Any, value: Any, reason: str) -> None:
    """An Excel user's review: a quantity Excel had turned into a date was quoted as Python
    code (datetime.datetime(2024, 2, 1, 0, 0)), and '#DIV/0!' was "not a number" with no
    word of the formula that failed."""
    df = _frame().astype({"quantity": object})
    df.loc[1, "quantity"] = value
    out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [reason]


def test_value_frame_when_a_cell_was_shown_scaled_by_its_number_format_refuses_it(
        tiny_table: Any) -> None:
    """A data-quality review: 1234567 shown as 1,235 (labelled £k) was valued as held, 1,000
    times the figure seen; the reader's stand-in for such a cell is a row issue of its own,
    in quantity and contract_value alike, and no other issue of the field (not-finite)."""
    from socialvalue_tom._workbook import scaled_by_format

    df = _frame(contract_value=[5000.0, scaled_by_format(2500000, "#,##0,"), 5000.0])
    df = df.astype({"quantity": object})
    df.loc[0, "quantity"] = scaled_by_format(1234567, "#,##0,")
    out = value_frame(df, tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [
        [0, "quantity", "number-format"], [1, "contract_value", "number-format"]]
    assert issues["reason"][0].startswith("quantity shows 1,235 but the cell holds 1234567: ")
    assert out["value_gbp"].iloc[:2].isna().all() and out["value_gbp"].iloc[2] == EXPECTED[2]
    with pytest.raises(sv.BulkValidationError) as info:
        value_frame(df, tiny_table)
    assert [i.code for i in info.value.issues] == ["number-format", "number-format"]


def test_value_frame_when_a_required_column_carries_its_unit_in_brackets_says_rename_it(
        tiny_table: Any) -> None:
    """An Excel user's review: a 'Quantity (FTE)' header got only "missing required
    column(s) quantity", where 'Quantity' is named and told to be renamed."""
    df = _frame().rename(columns={"quantity": "Quantity (FTE)", "region": "Region [nation]"})
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(df, tiny_table)
    assert ("found 'Quantity (FTE)': rename it quantity, and give its unit (FTE) in a unit "
            "column; found 'Region [nation]': rename it region") in info.value.message
    # A diff review: the first pattern backtracked in the cube of a header's length (a
    # supplier's header of 3,000 spaces and a bracket took 31 s); this one is linear.
    spaced = _frame().rename(columns={"quantity": "a(" + " " * 20_000 + "a"})
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(spaced, tiny_table)
    assert "rename it" not in info.value.message


@pytest.mark.parametrize(("value", "reason"), [
    (np.inf, "quantity inf is not a finite number"),
    ("-inf", "quantity '-inf' is not a finite number"),
    ("NaN", "quantity 'NaN' is not a finite number"),
])
def test_value_frame_when_quantity_not_finite_quotes_it(tiny_table: Any, value: Any,
                                                        reason: str) -> None:
    out = value_frame(_frame(quantity=pd.Series([1.0, value, 2.0], dtype=object)),
                      tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [reason]


@pytest.mark.parametrize(("value", "code"), [
    ("ten", "not-a-number"), (np.nan, "missing"), (np.inf, "not-finite"),
    (-np.inf, "not-finite"), (-5.0, "negative"), (1e300, "too-large"), (None, "missing"),
])
def test_value_frame_when_quantity_bad_is_an_issue(tiny_table: Any, value: Any,
                                                   code: str) -> None:
    """Strings, NaN, inf, negative and huge quantities are issues with their own codes."""
    out = value_frame(_frame(quantity=[2.0, value, 100.0]), tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[1, "quantity", code]]
    assert out["value_gbp"].iloc[[0, 2]].tolist() == [54000.0, 1450.0]


@pytest.mark.parametrize(("value", "code"), [
    ("", "missing"), ("   ", "missing"), (b"5", "not-a-number"), (1 + 2j, "not-a-number"),
    ("1_000", "not-a-number"), ("1,000", "not-a-number"), ("\u0665", "not-a-number"),
    (10 ** 400, "too-large"), ("1e400", "too-large"), ("nan", "not-finite"),
    ("inf", "not-finite"),
    ([1.0], "not-a-number"), ({"q": 1}, "not-a-number"),
])
def test_value_frame_when_quantity_cell_is_odd_is_an_issue(tiny_table: Any, value: Any,
                                                           code: str) -> None:
    """Blank text is missing (as in a CSV file); bytes, complex numbers, containers and text
    that a CSV reader would not read as a number are not numbers; an integer (or text) too
    large for a float is too large, as Outcome says; infinity is not finite. The other rows
    are valued."""
    q = pd.Series([2.0, value, 100.0], dtype=object)
    out = value_frame(_frame(quantity=q), tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[1, "quantity", code]]
    assert out["value_gbp"].iloc[[0, 2]].tolist() == [54000.0, 1450.0]


def test_value_frame_when_quantity_is_numeric_text_reads_it_as_a_csv_reader_does(
        tiny_table: Any) -> None:
    """A text column of numbers (a CSV column with one bad cell stays text) is read as numbers,
    surrounding spaces allowed."""
    q = pd.Series(["2", " 3500 ", "1e2"], dtype=object)
    assert value_frame(_frame(quantity=q), tiny_table)["value_gbp"].tolist() == EXPECTED


@pytest.mark.parametrize("column", ["measure", "unit", "region", "date"])
@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_value_frame_when_text_cell_blank_is_missing(tiny_table: Any, column: str,
                                                     blank: str) -> None:
    """A blank cell in a DataFrame is missing, as an empty CSV field is: the required columns
    report `missing`, a blank unit means the canonical unit."""
    cells = list(_frame()[column])
    cells[1] = blank
    out = value_frame(_frame(**{column: cells}), tiny_table, errors="collect")
    issues = out.attrs["issues"]
    if column == "unit":
        assert issues.empty and out["value_gbp"].iloc[1] == 875.0 * 1000  # kgCO2e -> tCO2e
        return
    assert issues[["row", "field", "code"]].values.tolist() == [[1, column, "missing"]]


@pytest.mark.parametrize(("column", "code"), [
    ("measure", "unknown-measure"), ("unit", "unit-error"), ("region", "unknown-region"),
    ("date", "bad-date"), ("confidence", "unknown-grade"), ("stage", "bad-stage"),
    ("contract_id", "not-a-value"), ("supplier_id", "not-a-value"),
])
def test_value_frame_when_cell_holds_a_container_is_an_issue(tiny_table: Any, column: str,
                                                             code: str) -> None:
    """A list in a cell (nested JSON, a Parquet list column) is a row issue, never a crash,
    and the other rows are valued."""
    extra = {"confidence": ["A"] * 3, "stage": ["delivered"] * 3, "contract_id": ["C1"] * 3,
             "supplier_id": ["S1"] * 3}
    df = _frame(**{k: v for k, v in extra.items() if k == column})
    df[column] = pd.Series([["x"], *df[column].iloc[1:]], dtype=object)
    out = value_frame(df, tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[0, column, code]]
    assert "['x']" in issues["reason"].iloc[0]
    assert out["value_gbp"].iloc[1:].notna().all()


@pytest.mark.parametrize("cell", [(1, 2), frozenset({"C1"}), 1 + 2j, pd.Interval(0, 1),
                                  memoryview(b"C1"), object(), _frame,
                                  (c for c in "C1"), [].append],
                         ids=["tuple", "frozenset", "complex", "interval", "memoryview",
                              "object", "function", "generator", "method"])
@pytest.mark.parametrize("column", ["contract_id", "supplier_id"])
def test_value_frame_when_a_key_cell_is_not_one_value_agrees_with_the_scalar_outcome(
        tiny_table: Any, column: str, cell: Any) -> None:
    """A hashable container, an interval or a complex number is not a contract (or supplier)
    id: a not-a-value issue in bulk, an OutcomeError for one outcome, never grouped as its
    text. Nor is a memoryview (a database driver's binary column) or an object with no text
    of its own: their text is their address in memory, another key on every run (an API
    review); nor a function, method or generator, whose own text quotes its address."""
    df = _frame(**{column: pd.Series([cell, "C2", "C3"], dtype=object)})
    out = value_frame(df, tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[0, column, "not-a-value"]]
    assert out["value_gbp"].iloc[1:].notna().all()
    with pytest.raises(sv.OutcomeError):
        sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01", **{column: cell})


@pytest.mark.parametrize("cell", ["1.23457E+11", " 2E+12 ", "9.87654e+15", "1,23457E+11"])
@pytest.mark.parametrize("column", ["contract_id", "supplier_id"])
def test_an_id_excel_wrote_in_scientific_notation_is_refused_on_both_paths(
        tiny_table: Any, column: str, cell: str) -> None:
    """Excel saves a General-format id of 12 or more digits to CSV as '1.23457E+11', rounded:
    two contracts then read as one (their contract values and double counting joined) with no
    word. A rounded-id issue in bulk, an OutcomeError with the same code for one outcome; an
    id that merely holds an E ('E2024', '1E5-LOT') is an id."""
    df = _frame(**{column: pd.Series([cell, cell, "E2024"], dtype=object)})
    out = value_frame(df, tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [
        [0, column, "rounded-id"], [1, column, "rounded-id"]]
    assert "scientific notation" in issues["reason"].iloc[0]
    assert out["value_gbp"].iloc[2] > 0
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01", **{column: cell})
    assert (info.value.field, info.value.issue) == (column, "rounded-id")
    assert getattr(sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="uk",
                              date="2024-06-01", **{column: "1E5-LOT"}), column) == "1E5-LOT"


def test_value_frame_when_quantity_is_boolean_is_an_issue(tiny_table: Any) -> None:
    """True is not a quantity (the scalar Outcome refuses it too)."""
    df = _frame(quantity=[True, False, True])
    out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"]["field"].tolist() == ["quantity"] * 3


@pytest.mark.parametrize("unit", ["parsec", "hour", 7, "FTE**2"])
def test_value_frame_when_unit_unknown_or_wrong_is_an_issue(tiny_table: Any, unit: Any) -> None:
    """Unknown units and units of the wrong dimension are unit issues naming the unit."""
    out = value_frame(_frame(unit=[unit, "kgCO2e", "hour"]), tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field"]].values.tolist() == [[0, "unit"]]
    assert str(unit) in issues["reason"].iloc[0]


def test_value_frame_when_the_result_metadata_is_edited_the_input_is_not(
        tiny_table: Any) -> None:
    """The caller's attrs are carried over as pandas carries them (a deep copy): a tag added
    to the result's request metadata was added to the input's too."""
    df = _frame()
    df.attrs["request"] = {"tags": ["tender-42"]}
    out = value_frame(df, tiny_table)
    out.attrs["request"]["tags"].append("valued")
    assert out.attrs["request"] == {"tags": ["tender-42", "valued"]}
    assert df.attrs == {"request": {"tags": ["tender-42"]}}


def test_value_frame_when_valued_passes_columns_through_and_does_not_mutate(
        tiny_table: Any) -> None:
    """Extra columns come back untouched; the caller's frame is unchanged."""
    df = _frame(note=["x", None, "z"], supplier_id=["s1", "s2", "s3"])
    df.attrs["source"] = "test"
    before = df.copy(deep=True)
    out = value_frame(df, tiny_table)
    pd.testing.assert_frame_equal(df, before)
    assert df.attrs == {"source": "test"}
    pd.testing.assert_series_equal(out["note"], before["note"])
    pd.testing.assert_series_equal(out["supplier_id"], before["supplier_id"])
    assert out["value_gbp"].tolist() == EXPECTED
    assert out["region_used"].tolist() == ["london", "uk", "scotland"]
    assert set(out["version"]) == {"2024"} and set(out["digest"]) == {tiny_table.digest}


def test_value_frame_when_empty_returns_empty_result(tiny_table: Any) -> None:
    """No rows: an empty result with the output columns and no issues."""
    out = value_frame(_frame().iloc[:0], tiny_table)
    assert len(out) == 0 and "value_gbp" in out.columns and out.attrs["issues"].empty


def test_value_frame_when_not_a_dataframe_raises_type_error(tiny_table: Any) -> None:
    """A list of dicts is not accepted silently."""
    with pytest.raises(TypeError, match="DataFrame"):
        value_frame([{"measure": "jobs-local"}], tiny_table)  # type: ignore[arg-type]


def _dividing_table(tmp_path: Any) -> sv.ProxyTable:
    """tiny with an apprenticeship expression that divides by (level - 3)."""
    text = TINY.read_text(encoding="utf-8").replace(
        "where(level >= 3, proxy_high, proxy_low) * quantity", "proxy * quantity / (level - 3)")
    assert "(level - 3)" in text
    (tmp_path / "div.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_bytes(TINY_INDEX.read_bytes())
    return sv.load_table(path=tmp_path / "div.yaml")


def test_value_frame_when_raise_lists_rows_bad_only_in_the_arithmetic(tmp_path: Any) -> None:
    """errors='raise' lists every bad row, those whose custom expression is not finite
    included, even when an earlier row already failed validation: as errors='collect'."""
    table = _dividing_table(tmp_path)
    df = pd.DataFrame({"measure": ["jobs-local", "jobs-apprentice"], "quantity": [1.0, 10.0],
                       "unit": ["FTE", "week"], "region": ["atlantis", "uk"],
                       "date": ["2024-09-30"] * 2, "level": [1.0, 3.0]})
    collected = value_frame(df, table, errors="collect").attrs["issues"]
    assert collected[["row", "code"]].values.tolist() == [[0, "unknown-region"],
                                                           [1, "non-finite"]]
    with pytest.raises(sv.BulkValidationError) as info:
        value_frame(df, table)
    assert [(i.row, i.code) for i in info.value.issues] == [(0, "unknown-region"),
                                                            (1, "non-finite")]


@pytest.mark.parametrize(("level", "code"), [
    (True, "not-a-number"), ("high", "not-a-number"), (b"3", "not-a-number"),
    (None, "missing-field"), ("", "missing-field"), (math.inf, "not-finite"),
])
def test_value_frame_when_required_field_not_a_number_is_an_issue(
        tiny_table: Any, level: Any, code: str) -> None:
    """A boolean, bytes or text in a field a measure requires is not a number (the scalar
    Outcome refuses it too), never read as 1 or 0; an empty one is a missing field."""
    df = pd.DataFrame({"measure": ["jobs-apprentice"] * 2, "quantity": [10.0, 10.0],
                       "unit": ["week"] * 2, "region": ["uk"] * 2, "date": ["2024-09-30"] * 2,
                       "level": pd.Series([level, 3.0], dtype=object)})
    out = value_frame(df, tiny_table, errors="collect")
    issues = out.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[0, "level", code]]
    assert out["value_gbp"].iloc[1] > 0


@pytest.mark.parametrize("column", [" level", "Level", "LEVEL "])
def test_value_frame_when_required_field_column_is_misnamed_the_issue_says_so(
        tiny_table: Any, column: str) -> None:
    """The scalar Outcome reads fields={' level': 3} as level; a column ' level' is not read
    as level (columns are matched exactly), and the issue now names the column to rename."""
    df = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [10.0], "unit": ["week"],
                       "region": ["uk"], "date": ["2024-09-30"], column: [3.0]})
    issues = value_frame(df, tiny_table, errors="collect").attrs["issues"]
    assert issues["code"].tolist() == ["missing-field"]
    assert issues["reason"].iloc[0].endswith(f"(the input has a column {column!r}: name it "
                                             "'level')")


def test_value_frame_when_converted_quantity_exceeds_the_cap_is_an_issue(
        tiny_table: Any) -> None:
    """The 1e12 cap holds in the measure's unit: 1e10 MtCO2e is 1e16 tCO2e, too large on both
    paths."""
    df = _frame(quantity=[2.0, 1e10, 100.0], unit=["FTE", "MtCO2e", "hour"])
    issues = value_frame(df, tiny_table, errors="collect").attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[1, "quantity", "too-large"]]
    with pytest.raises(sv.OutcomeError, match="above"):
        sv.value(sv.Outcome(measure="env-carbon", quantity=1e10, unit="MtCO2e", region="uk",
                            date="2024-06-01"), tiny_table)


def _table_with(tmp_path: Any, old: str, new: str, name: str) -> sv.ProxyTable:
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / f"{name}.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_bytes(TINY_INDEX.read_bytes())
    return sv.load_table(path=tmp_path / f"{name}.yaml")


def test_value_when_expression_infinite_under_a_cap_is_refused_on_both_paths(
        tmp_path: Any) -> None:
    """An infinite gross is refused even where a contract-value cap would clip the value to
    the cap (it was valued at the cap, and its trace could not be explained)."""
    table = _table_with(tmp_path, "expression: quantity * proxy * (1 - leakage)",
                        "expression: quantity * proxy / (quantity - 1000)", "div0")
    o = sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP", region="uk",
                   date="2024-09-30", contract_value=500)
    with pytest.raises(sv.RuleError, match="non-finite"):
        sv.value(o, table)
    df = pd.DataFrame([o.model_dump(include={"measure", "quantity", "unit", "region", "date",
                                             "contract_value"})])
    out = value_frame(df, table, errors="collect", detail=True)
    assert out.attrs["issues"]["code"].tolist() == ["non-finite"]
    assert np.isnan(out["value_gbp"].iloc[0])


def test_value_when_expression_gives_a_negative_amount_is_refused_on_both_paths(
        tmp_path: Any) -> None:
    """A custom expression gives an amount; the disbenefit flag gives the sign. A negative
    amount on a disbenefit would be reported as a benefit, so it is refused."""
    table = _table_with(tmp_path, "  - code: env-carbon-added\n",
                        "  - code: env-carbon-added\n    expression: proxy * (quantity - 1000)\n",
                        "neg")
    assert table.measures["env-carbon-added"].disbenefit
    o = sv.Outcome(measure="env-carbon-added", quantity=2, unit="tCO2e", region="uk",
                   date="2024-09-30")
    with pytest.raises(sv.RuleError, match="negative amount"):
        sv.value(o, table)
    df = pd.DataFrame([o.model_dump(include={"measure", "quantity", "unit", "region", "date"}),
                       dict(o.model_dump(include={"measure", "unit", "region", "date"}),
                            quantity=1500.0)])
    out = value_frame(df, table, errors="collect")
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[0, "negative-gross"]]
    assert out["value_gbp"].iloc[1] < 0  # 500 tCO2e above the threshold is a disbenefit


def test_a_negative_amount_quotes_the_expression_and_the_parameters_it_uses(
        tmp_path: Any) -> None:
    """A table-author review: leakage: 20 (meant as 20%) in quantity * proxy * (1 - leakage)
    failed every row with "gave a negative amount", naming neither the parameter nor its
    value. Both engines now quote the expression with the parameters it uses."""
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("leakage: {value: 0.25", "leakage: {value: 20"))
    table = sv.load_table(path=path)
    o = sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP", region="uk",
                   date="2024-06-01")
    said = "(quantity * proxy * (1 - leakage), with leakage = 20)"
    with pytest.raises(sv.RuleError, match=re.escape(said)):
        sv.value(o, table)
    rows = pd.DataFrame([o.model_dump(include={"measure", "quantity", "unit", "region",
                                               "date"})] * 2)
    reasons = value_frame(rows, table, errors="collect").attrs["issues"]["reason"].tolist()
    assert len(reasons) == 2 and all(said in r and "20 for 0.2?" in r for r in reasons)


def test_value_frame_when_slices_of_a_result_are_joined_they_combine(tiny_table: Any) -> None:
    """pandas deep-copies attrs when it slices: the issue tables of two slices stay issue
    tables, so pd.concat combines the slices (dropping the attrs that differ) instead of failing
    on `==` between DataFrames."""
    out = value_frame(_frame(), tiny_table, errors="collect")
    head, tail = out.head(1), out.iloc[1:]
    assert type(head.attrs["issues"]).__name__ == "IssueTable"
    joined = pd.concat([head, tail])
    assert joined["value_gbp"].tolist() == out["value_gbp"].tolist()
    kept = pd.concat([out, out]).attrs["issues"]  # the same table on both sides: kept (a copy)
    assert type(kept).__name__ == "IssueTable"
    assert pd.DataFrame(kept).equals(pd.DataFrame(out.attrs["issues"]))


def test_value_frame_when_pieces_of_one_result_are_put_back_then_metadata_is_kept(
        tiny_table: Any) -> None:
    """pandas copies attrs with every selection: the pieces of one result (groupby, copies)
    hold equal issue tables, so pd.concat keeps the metadata explain_row and the report read;
    pieces of different results (other issues) still lose it."""
    out = value_frame(_frame(quantity=[2.0, -1.0, 100.0]), tiny_table, errors="collect")
    pieces = [g for _, g in out.groupby("region")]
    back = pd.concat(pieces).sort_index()
    assert back.attrs["socialvalue_tom"] == out.attrs["socialvalue_tom"]
    assert back.attrs["issues"]["row"].tolist() == [1]
    assert "jobs-local" in sv.explain_row(back, 0)
    assert pd.concat([out.copy(), out.copy()]).attrs.keys() == out.attrs.keys()
    other = value_frame(_frame(), tiny_table, errors="collect")
    assert pd.concat([out, other]).attrs == {}
    # Two results with the same settings and the same issues are still two results: the
    # valuation_id each records tells them apart (one issues table kept for both would name
    # one result's rows only).
    again = value_frame(_frame(quantity=[2.0, -1.0, 100.0]), tiny_table, errors="collect")
    assert again.attrs["issues"] == out.attrs["issues"]
    assert pd.concat([out, again]).attrs == {}
    # A result whose issues a selection replaced (a plain DataFrame) combines, losing them.
    narrowed = out.copy()
    narrowed.attrs["issues"] = out.attrs["issues"][["row", "reason"]]
    assert pd.concat([out, narrowed]).attrs == {}


def test_value_frame_result_without_its_issues_round_trips_through_parquet(
        tiny_table: Any, tmp_path: Any) -> None:
    """docs/errors.md: with the issues taken out, the rest of attrs is JSON, so
    DataFrame.to_parquet writes it and pd.read_parquet gives it back for explain_row."""
    out = value_frame(_frame(), tiny_table)
    out.attrs.pop("issues")
    path = tmp_path / "valued.parquet"
    out.to_parquet(path)
    back = pd.read_parquet(path)
    assert back.attrs["socialvalue_tom"]["rows"] == 3
    assert sv.explain_row(back, 1) == sv.explain_row(out, 1)


def test_issue_table_when_compared_then_equal_tables_are_one_bool(tiny_table: Any) -> None:
    """== between issue tables is one bool by content (what pd.concat needs); against a plain
    frame or a value it is elementwise, as for any DataFrame; and it is unhashable."""
    issues = value_frame(_frame(quantity=[2.0, -1.0, 100.0]), tiny_table,
                         errors="collect").attrs["issues"]
    same = copy.deepcopy(issues)
    assert type(same).__name__ == "IssueTable" and same is not issues
    # Shared until either side changes (copy-on-write): no copy of a large table on every
    # selection, and a change to the copy leaves the original as it was.
    assert np.shares_memory(same["row"].to_numpy(), issues["row"].to_numpy())
    same.loc[0, "reason"] = "changed"
    assert issues.loc[0, "reason"] != "changed"
    same = copy.deepcopy(issues)
    assert (issues == same) is True and (issues != same) is False
    emptied = sv.IssueTable(issues.iloc[:0])
    assert (issues == emptied) is False and (issues != emptied) is True
    # Any other frame is not an issue table: one bool (pd.concat of a result whose issues were
    # replaced by a selection of them compared a frame elementwise and failed).
    assert (issues == pd.DataFrame(issues)) is False and (issues != issues.head(1)) is True
    assert (issues["code"] == "negative").tolist() == [True]
    assert (issues == "x").shape == issues.shape
    with pytest.raises(TypeError, match="unhashable"):
        hash(issues)


def test_value_frame_when_quantity_just_above_the_cap_then_message_shows_its_digits(
        tiny_table: Any) -> None:
    """1.0000001e12 is refused as above 1e+12, and the message gives its digits (to 6
    significant digits it read "quantity 1e+12 is above 1e+12")."""
    df = _frame(quantity=[2.0, 1.0000001e12, 100.0], unit=["FTE", "FTE", "hour"])
    reason = value_frame(df, tiny_table, errors="collect").attrs["issues"]["reason"].iloc[0]
    assert reason == ("quantity 1,000,000,100,000 is above the limit of 1,000,000,000,000 (a "
                      "million million): check the unit and the figure")
    df = _frame(quantity=[2.0, 1e12 + 0.5, 100.0], unit=["FTE", "FTE", "hour"])
    reason = value_frame(df, tiny_table, errors="collect").attrs["issues"]["reason"].iloc[0]
    assert reason.startswith("quantity 1,000,000,000,000.5 is above")


@pytest.mark.parametrize(("given", "rule"), [
    ("Years", "years"), ("Deadweight", "deadweight"), ("CONTRACT_VALUE", "contract_value"),
    (" stage", "stage"), ("Confidence", "confidence"), ("Contract_ID", "contract_id"),
    ("Dead weight", "deadweight"), ("drop-off", "drop_off"), ("DropOff", "drop_off"),
    ("Contract ID", "contract_id"), ("supplier-id", "supplier_id"),
])
def test_value_frame_when_a_rule_column_differs_by_case_or_spaces_refuses_it(
        tiny_table: Any, given: str, rule: str) -> None:
    """An optional rule column named but for case or spaces would be passed through unread
    (no duration, no cap, no grouping): refused naming it, as the scalar Outcome refuses the
    field, whatever the errors= setting."""
    df = _frame(**{given: ["x", "y", "z"]})
    for errors in ("raise", "collect"):
        with pytest.raises(sv.OutcomeError, match=rf"'{given}' for '{rule}'") as info:
            value_frame(df, tiny_table, errors=errors)
        assert info.value.details["columns"] == [given]
    assert value_frame(_frame(note=["a", "b", "c"]), tiny_table)["note"].tolist() == [
        "a", "b", "c"]  # other columns still pass through


@pytest.mark.parametrize(("given", "rule"), [
    ("Deadweight (%)", "deadweight"), ("deadweight %", "deadweight"),
    ("attribution%", "attribution"), ("Deadweight rate", "deadweight"),
    ("deadweight_pct", "deadweight"), ("Displacement percentage", "displacement"),
    ("drop off rate", "drop_off"), ("duration_years", "years"), ("yrs", "years"),
    ("Duration", "years"), ("contract_value (£)", "contract_value"),
    ("Contract value GBP", "contract_value"), ("contract", "contract_id"),
    ("Contract Ref", "contract_id"), ("Contract No.", "contract_id"),
    ("Confidence grade", "confidence"), ("Supplier", "supplier_id"),
    ("Supplier ref", "supplier_id"),
    # A data-quality steward's review: passed over without a word before.
    ("deadweight_pc", "deadweight"), ("total_contract_value", "contract_value"),
    ("Confidence level", "confidence"),
])
def test_value_frame_when_a_rule_column_is_named_another_way_refuses_it(
        tiny_table: Any, given: str, rule: str) -> None:
    """An error review's silent wrong totals: 'Deadweight (%)' of 50 gave the full value, no
    deadweight and no word, and 'contract' or 'duration' were passed over alike (one
    double-counting group, one year); so was 'Supplier' (a newcomer's second review: the
    suppliers of one contract read as one, their claims set against each other). Refused
    naming the column and the rule it looks like; a fraction's message says how to write it."""
    df = _frame(**{given: [0.5, 0.5, 0.5]})
    for errors in ("raise", "collect"):
        with pytest.raises(sv.OutcomeError, match=rf"'{re.escape(given)}' for '{rule}'") as info:
            value_frame(df, tiny_table, errors=errors)
        assert info.value.details["columns"] == [given]
    fraction = rule in ("deadweight", "displacement", "attribution", "drop_off")
    assert ("written as a fraction: 0.25 for 25%" in str(info.value)) is fraction


@pytest.mark.parametrize("other", [
    "deadweight_justification", "displacement_source", "contract_name", "contract_title",
    "supplier_name", "notes", "Years of benefit", "rate", "percent", "contract value notes",
    "Contract (£)", "contract rate", "Lifetime", "deadweight_justification_pct",
])
def test_value_frame_passes_through_columns_that_only_share_a_word_with_a_rule(
        tiny_table: Any, other: str) -> None:
    """A column that only shares a word with a rule column (its source, its name) is the
    caller's own, passed through as before."""
    valued = value_frame(_frame(**{other: ["a", "b", "c"]}), tiny_table)
    assert valued[other].tolist() == ["a", "b", "c"]


def test_value_frame_when_a_rule_column_and_a_lookalike_are_both_given_reads_the_rule(
        tiny_table: Any) -> None:
    """With ``deadweight`` present, a 'Deadweight (%)' beside it is a column of the caller's
    (the rule reads its own): nothing is refused."""
    df = _frame(deadweight=[0.5] * 3, **{"Deadweight (%)": [50] * 3})
    half = value_frame(df, tiny_table)["value_gbp"]
    full = value_frame(_frame(), tiny_table)["value_gbp"]
    assert (half < full).all()


def test_value_frame_reads_a_lookalike_a_measure_of_the_tables_requires(
        tmp_path: Any) -> None:
    """A custom measure may require a field named like a rule column another way (a course's
    ``duration`` in weeks): that column is the measure's, valued, not refused."""
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("requires: [level]", "requires: [level, duration]"),
                        ("where(level >= 3, proxy_high, proxy_low) * quantity",
                         "where(level >= 3, proxy_high, proxy_low) * quantity * duration"))
    table = sv.load_table(path=path)
    df = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [10.0], "unit": ["week"],
                       "region": ["uk"], "date": ["2024-06-01"], "level": [3],
                       "duration": [2.0]})
    assert value_frame(df, table)["value_gbp"].tolist() == [6000.0]  # 300 x 10 x 2
    # The tables without that measure's requirement: a 'duration' column is refused.
    with pytest.raises(sv.OutcomeError, match="'duration' for 'years'"):
        value_frame(df, sv.load_table(path=TINY))


def test_value_frame_refuses_a_rule_column_with_a_direction_mark_in_its_name(
        tiny_table: Any) -> None:
    """A diff re-read: 'years' with a right-to-left mark (U+200F, pasted from a web page) was
    passed over, while ids with one were noted: one class of invisible characters for both."""
    for mark in ("\u200e", "\u200f"):
        with pytest.raises(sv.OutcomeError, match="named like rule columns"):
            value_frame(_frame(**{f"years{mark}": [3] * 3}), tiny_table)


#: tiny.yaml's jobs-apprentice requiring a field named like drop_off without its underscore.
_DROPOFF_REQUIRED = (("requires: [level]", "requires: [level, dropoff]"),
                     ("where(level >= 3, proxy_high, proxy_low) * quantity",
                      "where(level >= 3, proxy_high, proxy_low) * quantity * (1 - dropoff)"))


def _dropoff_table(folder: Any, *more: tuple[str, str]) -> sv.ProxyTable:
    from conftest import tiny_variant

    return sv.load_table(path=tiny_variant(folder, *_DROPOFF_REQUIRED, *more))


def test_value_frame_reads_a_near_name_a_measure_of_the_tables_requires(
        tmp_path: Any) -> None:
    """A custom measure may require a field that is a rule column's name without its
    underscore (``dropoff``): in bulk as in the scalar engine it is the measure's field, valued
    alike, not refused (the bulk engine refused it as a near name while ``sv.value`` read it)."""
    table = _dropoff_table(tmp_path)
    df = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [10.0], "unit": ["week"],
                       "region": ["uk"], "date": ["2024-06-01"], "level": [3],
                       "dropoff": [0.5]})
    one = sv.Outcome(measure="jobs-apprentice", quantity=10.0, unit="week", region="uk",
                     date=dt.date(2024, 6, 1), fields={"level": 3, "dropoff": 0.5})
    assert value_frame(df, table)["value_gbp"].tolist() == [1500.0]  # 300 x 10 x (1 - 0.5)
    assert sv.value(one, table).amount == 1500.0
    # A row of another measure beside it, 'dropoff' blank there: still the measure's field.
    other = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
             "date": "2024-06-01"}
    mixed = pd.concat([df, pd.DataFrame([other])], ignore_index=True)
    assert value_frame(mixed, table)["value_gbp"].iloc[0] == 1500.0
    # Filled on that row, where no rule reads it (sv.value refuses it there): refused, as
    # a diff re-read found bulk passed it over once any measure required the name.
    filled = mixed.assign(dropoff=[0.5, 0.5])
    with pytest.raises(sv.OutcomeError, match="'dropoff' is a field jobs-apprentice requires"):
        value_frame(filled, table)
    with pytest.raises(sv.OutcomeError, match=r"'dropoff' looks like .* 'drop_off'"):
        sv.value(one.model_copy(update={"measure": "jobs-local", "unit": "FTE",
                                        "fields": {"dropoff": 0.5}}), table)
    # The tables without that measure's requirement: 'dropoff' is refused, in both engines.
    with pytest.raises(sv.OutcomeError, match="'dropoff' for 'drop_off'"):
        value_frame(df, sv.load_table(path=TINY))
    with pytest.raises(sv.OutcomeError, match=r"'dropoff' looks like .* 'drop_off'"):
        sv.value(one, sv.load_table(path=TINY))


def test_value_frame_when_a_column_differs_by_case_or_spaces_then_the_error_names_it(
        tiny_table: Any) -> None:
    """'Measure' is not measure, but the error says it was found, so the fix is plain."""
    df = _frame().rename(columns={"measure": "Measure"})
    with pytest.raises(sv.OutcomeError, match=r"found 'Measure' for measure") as info:
        value_frame(df, tiny_table)
    assert info.value.columns == ["measure"]


def test_value_frame_when_required_and_rule_columns_differ_by_case_names_them_all(
        tiny_table: Any) -> None:
    """A newcomer's review: 'Measure' ... 'Date' were named, and once renamed the next run
    refused 'Contract ID' and 'Stage': one message names every column to rename."""
    df = _frame().assign(contract_id="c1", stage="delivered", supplier_id="s")
    df = df.rename(columns={"measure": "Measure", "contract_id": "Contract ID",
                            "stage": "Stage"})
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(df, tiny_table)
    assert ("found 'Measure' for measure, 'Contract ID' for contract_id, 'Stage' for stage "
            "(column names") in info.value.message
    assert "supplier_id" not in info.value.message  # present under its own name
    # As the next run's check names them ('Deadweight (%)'), but for a name a measure may
    # require ('duration': a custom measure's own field, not years).
    more = df.assign(**{"Deadweight (%)": 10, "duration": 2})
    with pytest.raises(sv.OutcomeError) as info:
        value_frame(more, tiny_table)
    assert "'Deadweight (%)' for deadweight" in info.value.message
    assert "duration" not in info.value.message


def test_value_frame_when_a_heading_has_an_invisible_character_then_the_error_names_it(
        tiny_table: Any) -> None:
    """A zero-width space pasted before 'quantity' made the column look present to a reader,
    while the error said only that quantity was missing."""
    df = _frame().rename(columns={"quantity": "\u200bquantity"})
    with pytest.raises(sv.OutcomeError, match=r"found '\\u200bquantity' for quantity"):
        value_frame(df, tiny_table)


def test_contract_id_headed_as_hand_made_returns_head_it_is_refused_not_merged(
        tiny_table: Any) -> None:
    """'Contract ID' was passed through unread, so every contract became one double-counting
    group (one contract's priority hires cancelled another's local jobs: 48% less value)."""
    df = pd.DataFrame({"Contract ID": ["A", "B"], "measure": ["jobs-local"] * 2,
                       "quantity": [1.0, 1.0], "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2024-05-01"] * 2})
    with pytest.raises(sv.OutcomeError, match="'Contract ID' for 'contract_id'"):
        value_frame(df, tiny_table)


def test_issue_reasons_quote_cells_as_given_not_as_numpy_writes_them() -> None:
    """A boolean quantity column and a period column of numbers (a CSV's 20240501, read as
    a number) were quoted as ``np.True_`` and ``np.float64(20240501.0)`` in the issues
    sent back to suppliers."""
    rows = pd.DataFrame({"measure": ["env-carbon-saved"] * 2, "quantity": [True, False],
                         "unit": ["tCO2e"] * 2, "region": ["uk"] * 2,
                         "date": ["2024-05-01"] * 2})
    found = sv.value_frame(rows, errors="collect").attrs["issues"]
    assert found["reason"].tolist() == ["quantity True is a boolean, not a number",
                                        "quantity False is a boolean, not a number"]
    periods = pd.concat([rows, rows]).drop(columns="date").assign(
        quantity=1.0,
        period_start=pd.Series([np.float64(20240501.0), "2024-05-01", np.float64(20240501.5),
                                "2024-05-01"], dtype=object).to_numpy(),
        period_end=pd.Series(["2024-05-31", np.int64(20240531), "2024-05-31", True],
                             dtype=object).to_numpy())
    found = sv.apportion(periods, errors="collect").attrs["issues"]
    assert found["reason"].tolist() == [
        "period_start 20240501 is not an ISO date (YYYY-MM-DD): write 2024-05-01",
        "period_end 20240531 is not an ISO date (YYYY-MM-DD): write 2024-05-31",
        "period_start 20240501.5 is not an ISO date (YYYY-MM-DD): write the year, month and "
        "day (31 March 2024 is 2024-03-31)",
        "period_end True is not an ISO date (YYYY-MM-DD)"]


@pytest.mark.parametrize(("cell", "quoted"), [
    (np.datetime64("10000-01-01", "s"), "numpy.datetime64('10000-01-01T00:00:00')"),
    # numpy's own
    (np.datetime64("NaT", "s"), repr(np.datetime64("NaT", "s")).replace("np.", "numpy.")),
    (10**5000, "(an integer of about 5000 digits)"),
    (np.int64(7), "7"), (np.float32(2.5), "2.5"), (np.bool_(False), "False"),
], ids=["datetime64-s", "NaT", "huge-int", "int64", "float32", "bool_"])
def test_shown_quotes_any_cell_without_raising(cell: Any, quoted: str) -> None:
    """Numbers as written; a datetime64 stays a date (its item() may be a bare integer); an
    integer too long for Python to print does not raise."""
    from socialvalue_tom._text import shown

    assert shown(cell).replace("np.", "numpy.") == quoted
    row = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                        "region": pd.Series([cell], dtype=object), "date": ["2024-05-01"]})
    found = sv.value_frame(row, errors="collect").attrs["issues"]
    assert len(found) == 1 and found["field"].iloc[0] == "region"


def test_a_standard_column_held_as_the_index_is_refused_not_passed_over() -> None:
    """``df.set_index("contract_id")`` hid the contracts from the exclusions: every contract
    became one group and C1's priority hire cut C2's local jobs. Refused, saying what to do;
    an index of another name (or beside a column of the name) is only row labels."""
    df = pd.DataFrame({"contract_id": ["C1", "C2"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [1.0, 5.0], "unit": ["FTE", "FTE"],
                       "region": ["london", "london"], "date": ["2024-09-30", "2024-09-30"]})
    with pytest.raises(sv.OutcomeError, match=r"'contract_id' is the frame's index, not a "
                                              r"column: .*df\.reset_index\(\)") as info:
        sv.value_frame(df.set_index("contract_id"))
    assert info.value.details["columns"] == ["contract_id"]
    with pytest.raises(sv.OutcomeError, match="'contract_id', 'measure' are the frame's index"):
        sv.value_frame(df.set_index(["contract_id", "measure"]))
    expected = sv.value_frame(df)["value_gbp"].tolist()
    assert sv.value_frame(df.set_index("contract_id", drop=False))["value_gbp"].tolist() == (
        expected)
    assert sv.value_frame(df.rename_axis("row"))["value_gbp"].tolist() == expected


@pytest.mark.parametrize("second", ["", "x"])
def test_columns_at_several_levels_are_refused_not_misread(second: str) -> None:
    """Columns as a MultiIndex (two header rows, ``concat(axis=1, keys=...)``): with an empty
    second level ``df["measure"]`` worked but the exclusions saw no contract_id, so C1's
    priority hire cut C2's local jobs by 40% with no word; with another one a raw pandas
    AttributeError leaked. Refused everywhere a frame of outcomes is read, saying what to do."""
    import socialvalue_tom.accessor  # noqa: F401  (registers df.socialvalue)

    df = pd.DataFrame({"contract_id": ["C1", "C2"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [2.0, 5.0], "unit": ["FTE", "FTE"],
                       "region": ["london", "london"], "date": ["2024-09-30", "2024-09-30"]})
    nested = df.copy()
    nested.columns = pd.MultiIndex.from_arrays([df.columns, [second] * df.shape[1]])
    for call in (lambda: sv.value_frame(nested), lambda: sv.value_frame(nested, errors="collect"),
                 lambda: sv.frame.claims_of(nested), lambda: sv.apportion(nested),
                 lambda: nested.socialvalue.value()):
        with pytest.raises(sv.OutcomeError, match=r"labelled at 2 levels .*"
                                                  r"get_level_values\(0\)") as info:
            call()
        assert info.value.details["field"] == "columns"
    flat = nested.copy()
    flat.columns = flat.columns.get_level_values(0)
    assert sv.value_frame(flat)["value_gbp"].tolist() == sv.value_frame(df)["value_gbp"].tolist()


def test_columns_under_one_heading_are_refused_by_value_frame_and_score_bids() -> None:
    """Columns under a common heading (``MultiIndex.from_product([["data"], cols])``): the
    frame said "missing required column(s)" and score_bids a misleading message; both say
    the columns are labelled at two levels."""
    from socialvalue_tom.bids import score_bids

    df = pd.DataFrame({"supplier_id": ["A"], "measure": ["jobs-local-fte"], "quantity": [1.0],
                       "unit": ["FTE"], "region": ["uk"], "date": ["2024-05-01"]})
    df.columns = pd.MultiIndex.from_product([["data"], df.columns])
    for call in (lambda: sv.value_frame(df), lambda: score_bids(df)):
        with pytest.raises(sv.OutcomeError, match="labelled at 2 levels"):
            call()


def test_apportion_leaves_out_issues_an_earlier_run_left_in_attrs() -> None:
    """A frame carrying an earlier run's issues in attrs: the apportioned result (errors
    raised, so none of its own) must not carry them, as if they were its own."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
                       "region": ["uk"], "period_start": ["2024-01-01"],
                       "period_end": ["2024-12-31"]})
    df.attrs["issues"] = "stale"
    df.attrs["note"] = {"kept": True}
    out = sv.apportion(df)
    assert "issues" not in out.attrs and out.attrs["note"] == {"kept": True}
    out.attrs["note"]["kept"] = False
    assert df.attrs["note"] == {"kept": True}


def test_issue_labels_of_a_multiindex_row_are_python_values() -> None:
    """A MultiIndex row label is a tuple: its numpy parts are recorded as Python values too,
    as a single label's are."""
    df = pd.DataFrame({"measure": ["nope"], "quantity": [1.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-05-01"]},
                      index=pd.MultiIndex.from_arrays([["a"], np.array([3], dtype=np.int64)]))
    label = sv.value_frame(df, errors="collect").attrs["issues"]["index"].iloc[0]
    assert label == ("a", 3) and type(label[1]) is int


def test_required_field_when_infinite_is_not_finite_not_missing(tiny_table: Any) -> None:
    """level=inf is there, but not finite: the issue says so (as the scalar path does), where
    it said the measure 'requires a numeric level', which the row has."""
    df = pd.DataFrame({"measure": ["jobs-apprentice"] * 3, "quantity": [10.0] * 3,
                       "unit": ["week"] * 3, "region": ["uk"] * 3, "date": ["2024-05-01"] * 3,
                       "level": [np.inf, -np.inf, np.nan]})
    found = value_frame(df, tiny_table, errors="collect").attrs["issues"]
    assert found["code"].tolist() == ["not-finite", "not-finite", "missing-field"]
    assert found["reason"].iloc[0] == "field 'level' must be finite"


@pytest.mark.parametrize("offset", [1.5, -5, "3", True, None])
def test_value_frame_when_row_offset_is_not_a_row_count_raises_rule_error(
        tiny_table: Any, offset: Any) -> None:
    """row_offset=1.5 numbered issues 2.5, -5 gave negative rows and "3" a bare TypeError."""
    with pytest.raises(sv.RuleError, match="row_offset must be a whole number") as info:
        value_frame(_frame(), tiny_table, row_offset=offset)
    assert info.value.field == "row_offset"
    assert value_frame(_frame(), tiny_table, row_offset=np.int64(7)).attrs["issues"].empty


def test_unknown_measure_given_as_a_number_is_quoted_as_given() -> None:
    """A numeric measure cell read 'unknown measure np.int64(1)' to a supplier."""
    df = pd.DataFrame({"measure": [1], "quantity": [1.0], "unit": ["FTE"], "region": ["uk"],
                       "date": ["2024-05-01"]})
    reason = sv.value_frame(df, errors="collect").attrs["issues"]["reason"].iloc[0]
    assert reason.startswith("unknown measure 1 in table uk-national:")


def test_value_frame_tells_each_problem_a_row_s_cells_show_at_once() -> None:
    """A newcomer's review: five problems in a row took five runs (one problem per row). Each
    cell that is wrong by itself is told; a region or unit is read where the row's date (and
    measure) give it an edition; a measure no edition knows (a TOTAL line) is told alone."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "jobs-local-fte", "TOTAL",
                                   "jobs-local-fte"],
                       "quantity": ["£1,200", "£5", "x", "2"],
                       "unit": ["hours", "hours", "FTE", "FTE"],
                       "region": ["N. Ireland", "Narnia", None, "uk"],
                       "date": ["31/03/2025", "2024-05-01", None, "2024-05-01"],
                       "stage": ["Delivered", "delivered", "delivered", "delivered"]})
    out = sv.value_frame(df, errors="collect")
    assert out.attrs["issues"][["row", "field", "code"]].values.tolist() == [
        [0, "date", "bad-date"], [0, "quantity", "not-a-number"],
        [0, "region", "unknown-region"], [0, "stage", "bad-stage"],
        [1, "quantity", "not-a-number"], [1, "region", "unknown-region"],
        [1, "unit", "unit-error"], [2, "measure", "unknown-measure"]]
    assert out["value_gbp"].isna().tolist() == [True, True, True, False]
    with pytest.raises(sv.BulkValidationError, match=r"^8 problem\(s\) in 3 row\(s\)"):
        sv.value_frame(df)
    with pytest.raises(sv.OutcomeError, match=r"row 0 was not valued: date: .*; quantity: .*; "
                                              r"region: .*; stage: "):
        sv.explain_row(out, 0)
    # A field is told once, by its first problem: an unknown measure of the row's edition is
    # not told again after 'missing', nor a quantity past the limit twice.
    once = sv.value_frame(df.assign(measure=[None, "jobs-local-fte", "jobs-local-fte",
                                             "jobs-local-fte"], quantity=["1e13", "1", "1",
                                                                          "1"]),
                          errors="collect").attrs["issues"]
    assert not once.duplicated(["row", "field"]).any()
    # A region no edition has is wrong whatever the date (a newcomer's second review: 'Londn'
    # beside a bad date took another run), and is told what it is close to.
    undated = sv.value_frame(df.iloc[[3]].assign(region="Londn", date="31/03/2025"),
                             errors="collect").attrs["issues"]
    assert undated[["field", "code"]].values.tolist() == [["date", "bad-date"],
                                                          ["region", "unknown-region"]]
    assert undated["reason"].iloc[1].endswith("; did you mean london?")
    with pytest.raises(sv.UnknownRegionError, match="did you mean northern-ireland"):
        sv.load_table("uk-national", version="2024").region_code("N. Ireland")
    graded = sv.value_frame(df.iloc[[3]].assign(quantity="x", confidence="Z"),
                            errors="collect").attrs["issues"]
    assert graded[["field", "code"]].values.tolist() == [["confidence", "unknown-grade"],
                                                         ["quantity", "not-a-number"]]
    assert once[once["row"] == 0][["field", "code"]].values.tolist() == [
        ["date", "bad-date"], ["measure", "missing"], ["quantity", "too-large"],
        ["region", "unknown-region"], ["stage", "bad-stage"]]


def test_a_row_whose_measure_no_edition_knows_is_reported_as_that_first() -> None:
    """A supplier's TOTAL row (no date) was reported as 'date is missing', sending them to
    date a line that is not an outcome; a measure some edition knows still waits for the
    row's date."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "TOTAL", "jobs-local-fte"],
                       "quantity": [1.0, 216108.5, 1.0], "unit": ["FTE", None, "FTE"],
                       "region": ["uk", None, "uk"], "date": ["2024-05-01", None, None]})
    found = sv.value_frame(df, errors="collect").attrs["issues"]
    assert found[["row", "field", "code"]].values.tolist() == [
        [1, "measure", "unknown-measure"], [2, "date", "missing"]]
    assert found["reason"].iloc[0] == ("unknown measure 'TOTAL': no edition of uk-national has "
                                        "it (2023, 2024, 2025): a row of totals? Delete it: "
                                        "totals are worked out from the rows")


def test_value_frame_restates_every_edition_when_price_year_is_one_edition_s_base() -> None:
    """price_year 2024 over rows of 2023/24 and 2024/25: the 2024 edition's factor is 1, and
    the 2023 rows must still be restated (a mutation keeping the factors only when all differ
    from 1 went unnoticed: the 2023 row came out about 4% low), as the scalar engine does."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 2, "quantity": [10.0, 10.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2023-06-01", "2024-06-01"]})
    a = sv.Assumptions(price_year=2024)
    out = value_frame(df, "uk-national", assumptions=a)
    for i, row in enumerate(df.to_dict("records")):
        one = sv.value(sv.Outcome(**{str(k): v for k, v in row.items()}), "uk-national",
                       assumptions=a)
        assert out["value_gbp"].iloc[i] == one.amount
    plain = value_frame(df.iloc[:1], "uk-national")["value_gbp"].iloc[0]
    assert out["value_gbp"].iloc[0] > plain  # 2023 prices restated up to 2024's


def test_value_frame_when_an_excluded_claim_is_too_large_it_reduces_no_other_row(
        tiny_table: Any, tmp_path: Any) -> None:
    """A priority hire of 1e8 FTE, refused as too large (over £1e12), still counted in its
    double-counting group: the contract's 10 local jobs went from £180,000 to £0. Refused,
    it claims nothing, in one frame and when a file is streamed in batches."""
    rows = pd.DataFrame({"measure": ["jobs-local", "jobs-priority"], "quantity": [10.0, 1e8],
                         "unit": "FTE", "region": "uk", "date": "2024-06-01",
                         "contract_id": "c1"})
    out = value_frame(rows, tiny_table, errors="collect")
    assert out["value_gbp"].tolist()[0] == 180_000.0 and np.isnan(out["value_gbp"].iloc[1])
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[1, "too-large"]]
    src = tmp_path / "o.csv"
    rows.to_csv(src, index=False)
    streamed = sv.value_file(src, tables=tiny_table, chunksize=1, errors="collect")
    assert str(streamed.total_gbp) == "180000.00"


@pytest.mark.parametrize(("date", "hint"), [
    ("31/03/2025", ": write 2025-03-31 (day first, as in the UK)"),
    ("01/05/2024", ": write 2024-05-01 if it means 1 May 2024 (day first, as in the UK)"),
    ("1.5.2024", ": write 2024-05-01 if it means 1 May 2024 (day first, as in the UK)"),
    ("2024/05/01", ": write 2024-05-01"),
    ("20240501", ": write 2024-05-01"),
    ("2024-05-01 00:00:00", ": give the date alone, without the time of day: 2024-05-01"),
    ("2024-05-01T09:30", ": give the date alone, without the time of day: 2024-05-01"),
    ("45413", ": it looks like an Excel date number (2024-05-01): format the column as a date"),
    ("March 2024", ": write the year, month and day (31 March 2024 is 2024-03-31)"),
    ("31/02/2024", ": write the year, month and day (31 March 2024 is 2024-03-31)"),  # no day
    # A correctness audit: '1 April 2024' was shown 2024-03-31, another edition's year.
    ("1 April 2024", ": write 2024-04-01"),
    ("1st Apr. 2024", ": write 2024-04-01"),
    ("01-Apr-2024", ": write 2024-04-01"),
    ("April 1, 2024", ": write 2024-04-01"),
    ("Sept 30 2024", ": write 2024-09-30"),
    ("31 Februar 2024", ": write the year, month and day (31 March 2024 is 2024-03-31)"),
    ("30 February 2024", ": write the year, month and day (31 March 2024 is 2024-03-31)"),
    # A Windows/Excel user's review: these common UK forms got only the generic example.
    ("01/04/2024 00:00", ": write 2024-04-01 if it means 1 April 2024 (day first, as in the UK)"),
    ("01/04/24", ": write 2024-04-01 if it means 1 April 2024 (day first, as in the UK)"),
    ("2024-4-1", ": write 2024-04-01"),
    ("2024-04-1", ": write 2024-04-01"),
])
def test_a_date_written_another_way_is_told_the_same_day_as_yyyy_mm_dd(
        tiny_table: Any, date: str, hint: str) -> None:
    """'is not an ISO date' named the rule, not the fix: the reason gives the same day
    written YYYY-MM-DD where the cell says it a common other way, and the scalar Outcome's
    error says the same."""
    out = value_frame(_frame(date=["2024-06-01", date, "2024-06-01"]), tiny_table,
                      errors="collect")
    reason = out.attrs["issues"]["reason"].tolist()
    assert len(reason) == 1 and reason[0].startswith(f"date {date!r} is not an ISO date")
    assert reason[0].endswith(hint) or hint in reason[0], reason[0]
    with pytest.raises(sv.OutcomeError, match=re.escape(hint)):
        sv.Outcome(measure="env-carbon", quantity=1, unit="tCO2e", region="uk", date=date)


def test_a_fraction_written_as_a_percentage_is_told_how_to_write_it(tiny_table: Any) -> None:
    """A deadweight of 25 meant 25%: the reason says to write 0.25; a value past 100 or below
    0 is told only the range."""
    out = value_frame(_frame(deadweight=[25.0, 150.0, -0.5]), tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [
        "deadweight 25 is not in [0, 1]: a fraction, written 0.25 for 25%",
        "deadweight 150 is not in [0, 1]", "deadweight -0.5 is not in [0, 1]"]


def test_a_negative_quantity_is_told_how_a_harm_is_recorded(tiny_table: Any) -> None:
    out = value_frame(_frame(quantity=[2.0, -5.0, 100.0]), tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [
        "quantity -5 is negative: record a harm under its own measure, counted up from 0 "
        "(emissions added: env-carbon-added)"]
    # The scalar engine says the same (a carbon lead's review: it gave only pydantic's words).
    with pytest.raises(sv.OutcomeError, match=re.escape(
            "(got -12.5): record a harm under its own measure, counted up from 0 (emissions "
            "added: env-carbon-added)")):
        sv.Outcome(measure="env-carbon", quantity=-12.5, unit="tCO2e", region="uk",
                   date="2024-09-30")


@pytest.mark.filterwarnings("ignore::socialvalue_tom.IllustrativeValueWarning")
def test_a_refused_quantity_is_quoted_with_every_digit_it_was_given(tiny_table: Any) -> None:
    """A pandas expert's review: 2**63 - 1 was quoted as ...808 (read as a float first),
    10**30 as 1,000,000,000,000,000,019,884,624,838,656, and a quantity just past a bound as
    the bound itself ('quantity 520 week ... outside the table's bounds [0, 520]')."""
    given = pd.Series([2**63 - 1, 10**30, -(2**63 - 1), Decimal("-1234567.891"), 1e13,
                       Decimal("1E+13"), -0.00001, Decimal("-5E+3")], dtype=object)
    n = len(given)
    out = value_frame(_frame(measure=["jobs-local"] * n, quantity=given, unit=["FTE"] * n,
                             region=["uk"] * n, date=["2024-06-01"] * n),
                      tiny_table, errors="collect")
    # (an adversarial review: a tiny negative read "-0", a Decimal "1E+13")
    assert [r.split(" is ")[0] for r in out.attrs["issues"]["reason"]] == [
        "quantity 9,223,372,036,854,775,807", "quantity " + "1" + ",000" * 10,
        "quantity -9,223,372,036,854,775,807", "quantity -1,234,567.891",
        "quantity 10,000,000,000,000", "quantity 10,000,000,000,000", "quantity -1e-05",
        "quantity -5,000"]
    rows = pd.DataFrame({"measure": "jobs-apprentice", "quantity": [520.0000001, 5_200_000.0],
                         "unit": "week", "region": "uk", "date": "2024-06-01", "level": 3})
    reasons = value_frame(rows, tiny_table, errors="collect").attrs["issues"]["reason"]
    assert reasons.tolist() == [
        f"quantity {q} week of 'jobs-apprentice' is outside the table's bounds [0, 520]"
        for q in ("520.0000001", "5,200,000")]
    one = sv.Outcome(measure="jobs-apprentice", quantity=520.0000001, unit="week", region="uk",
                     date="2024-06-01", fields={"level": 3})
    with pytest.raises(sv.OutcomeError, match=re.escape(reasons.iloc[0])):
        sv.value(one, tiny_table)


def test_an_unknown_measure_written_with_dashes_or_as_a_toms_code_is_told_which(
        ) -> None:
    """'env–carbon–saved' (autocorrect's en dashes) was told 'did you mean env-carbon-saved?',
    which looks the same on screen; 'NT1', a National TOMs code copied from a TOMs return,
    got no hint although the toms crosswalk maps it."""
    df = pd.DataFrame({"measure": ["env\u2013carbon\u2013saved", "NT1", " nt 3 ", "NT999"],
                       "quantity": [1.0] * 4, "unit": ["tCO2e", "FTE", "FTE", "FTE"],
                       "region": "uk", "date": "2024-05-01"})
    reasons = sv.value_frame(df, "uk-national", errors="collect").attrs["issues"]["reason"]
    assert reasons.iloc[0].endswith("did you mean env-carbon-saved? (it is written with a dash, "
                                    "U+2013, where the code has a hyphen '-')")
    assert ("NT1 is a National TOMs measure code, not one of these tables' codes: the measure "
            "mapped to it is jobs-local-fte") in reasons.iloc[1]
    assert "NT3 is a National TOMs measure code" in reasons.iloc[2]
    assert "jobs-priority-ltu" in reasons.iloc[2]
    assert "no measure of these tables is mapped to it" in reasons.iloc[3]
    with pytest.raises(sv.UnknownMeasureError, match="the measure mapped to it is "
                                                     "jobs-local-fte"):
        sv.load_table("uk-national", version="2024").measure("NT1")


def test_a_quantity_past_the_limit_is_written_in_figures(tiny_table: Any) -> None:
    out = value_frame(_frame(quantity=[2.0, 1e13, 100.0], unit=["FTE", "tCO2e", "hour"]),
                      tiny_table, errors="collect")
    assert out.attrs["issues"]["reason"].tolist() == [
        "quantity 10,000,000,000,000 is above the limit of 1,000,000,000,000 (a million "
        "million): check the unit and the figure"]


@pytest.mark.parametrize("dtype", ["float32", "Float32", "float16"])
def test_narrow_float_quantities_are_read_as_the_decimals_they_show(dtype: str) -> None:
    """A float32 2.1 is 2.0999999046325684 widened: 2.1 FTE of a priority hire in London
    (x 51,833.40 x 0.75 = 81,637.605, a half penny) was valued £81,637.60 while the output
    file showed 2.1. Read as written, on both paths, it is £81,637.61."""
    df = pd.DataFrame({"measure": ["jobs-priority-ltu"], "quantity": [2.1], "unit": ["FTE"],
                       "region": ["london"], "date": ["2024-09-30"],
                       "deadweight": [0.1]}).astype({"quantity": dtype, "deadweight": dtype})
    as_decimal = df.astype({"quantity": "float64", "deadweight": "float64"})
    as_decimal["quantity"] = [float(str(df["quantity"].iloc[0]))]
    as_decimal["deadweight"] = [float(str(df["deadweight"].iloc[0]))]
    got = value_frame(df, "uk-national")["value_gbp"].tolist()
    assert got == value_frame(as_decimal, "uk-national")["value_gbp"].tolist()
    o = sv.Outcome(measure="jobs-priority-ltu", quantity=df["quantity"].to_numpy()[0],
                   unit="FTE", region="london", date="2024-09-30",
                   deadweight=np.float32(0.1) if dtype != "float16" else np.float16(0.1))
    assert o.quantity == float(str(df["quantity"].iloc[0]))
    assert sv.value(o, "uk-national").amount == got[0]
    if dtype != "float16":  # 2.1 in float16 is 2.1 too, but 0.1 is 0.0999755859375
        assert money.total([value_frame(df.assign(deadweight=0.0), "uk-national")[
            "value_gbp"].iloc[0]]) == Decimal("81637.61")


def test_claims_of_refuses_a_lookalike_rule_column_as_value_frame_does() -> None:
    from socialvalue_tom.frame import claims_of

    df = _frame(**{"Deadweight (%)": [50, 50, 50]})
    with pytest.raises(sv.OutcomeError, match="'Deadweight \\(%\\)' for 'deadweight'"):
        claims_of(df, "uk-national")


def test_lookalikes_are_other_names_only() -> None:
    from socialvalue_tom._text import lookalike_names

    assert lookalike_names(["Deadweight"], ["deadweight"]) == {}  # a near name, not this
    assert lookalike_names(["Contract %"], ["contract_id"]) == {}  # a percentage, not an id


def test_date_hint_edges() -> None:
    from socialvalue_tom._text import date_hint

    assert date_hint("05/05/2024") == ": write 2024-05-05 (day first, as in the UK)"
    assert date_hint("25000").startswith(": it looks like an Excel date number (1968-06-11)")
    assert date_hint("19999") == ": write the year, month and day (31 March 2024 is 2024-03-31)"
    # A data-quality steward's review: a date cell with a time (noon) and a failed formula.
    assert date_hint("45473.5").startswith(": it looks like an Excel date number (2024-06-30)")
    assert date_hint(" #REF! ").startswith(": it is a spreadsheet's error value, a formula "
                                           "that failed")


def test_dashes_of_every_kind_and_spaces_around_a_code_are_pointed_out() -> None:
    from socialvalue_tom._text import did_you_mean, grouped_digits

    codes = ["env-carbon-saved"]
    assert "U+2212" in did_you_mean("env\u2212carbon-saved", codes)
    assert "U+2013" in did_you_mean(" env\u2013carbon-saved ", codes)
    assert grouped_digits(-1234.5) == "-1,234.5" and grouped_digits(1e12) == "1,000,000,000,000"
    # Below 1e-4 as repr writes it, never rounded to "0" or "-0"; past 1e16 whole.
    assert [grouped_digits(x) for x in (-1e-5, 2e-5, 1e17, float("inf"))] == [
        "-1e-05", "2e-05", "100,000,000,000,000,000", "inf"]


def _one_row(**columns: Any) -> pd.DataFrame:
    row = {"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"], "region": ["uk"],
           "date": ["2024-06-01"]}
    return pd.DataFrame({**row, **columns})


def test_value_frame_names_the_near_name_where_a_lookalike_is_there_too(
        tiny_table: Any) -> None:
    """Mutation review: with 'Years' and 'duration' both given, the near name is the one said."""
    with pytest.raises(sv.OutcomeError, match=r"but for case.*'Years' for 'years'"):
        value_frame(_one_row(Years=[3], duration=[3]), tiny_table)


def test_value_frame_reads_a_soft_hyphen_in_a_name_as_invisible(tiny_table: Any) -> None:
    with pytest.raises(sv.OutcomeError, match="named like rule columns"):
        value_frame(_one_row(**{"years\u00ad": [3]}), tiny_table)


def test_value_frame_refuses_a_numpy_boolean_quantity_beside_a_one(tiny_table: Any) -> None:
    """Mutation review of the object-column fast path: np.True_ equals 1 when factorised."""
    df = pd.concat([_one_row(), _one_row()], ignore_index=True)
    df["quantity"] = pd.Series([1, np.bool_(True)], dtype=object)
    out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"][["row", "code"]].values.tolist() == [[1, "not-a-number"]]


def test_value_frame_required_field_exemption_reads_measures_stripped_and_every_row(
        tmp_path: Any) -> None:
    table = _dropoff_table(tmp_path)
    app = {"measure": " jobs-apprentice ", "quantity": 10.0, "unit": "week", "region": "uk",
           "date": "2024-06-01", "level": 3, "dropoff": 0.5}
    other = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
             "date": "2024-06-01", "dropoff": None}
    assert value_frame(pd.DataFrame([app, other]), table)["value_gbp"].iloc[0] == 1500.0
    with pytest.raises(sv.OutcomeError, match="'dropoff' is a field jobs-apprentice requires"):
        value_frame(pd.DataFrame([app, other, {**other, "dropoff": 0.5}]), table)


@pytest.mark.parametrize("text", ["a\x1fb", "a\x00b"])
def test_claims_of_labels_alike_for_text_and_object_key_columns(tiny_table: Any,
                                                                 text: str) -> None:
    """Mutation review: the escaping of the label fast path (text columns) was untested."""
    from socialvalue_tom.frame import claims_of

    base = {"quantity": 1.0, "unit": "FTE", "region": "uk", "date": "2024-06-01",
            "contract_id": text, "supplier_id": "s"}
    df = pd.DataFrame([{**base, "measure": "jobs-local"}, {**base, "measure": "jobs-priority"}])
    typed = df.astype({"contract_id": "string", "supplier_id": "string"})
    objects = df.astype({"contract_id": object, "supplier_id": object})
    assert (claims_of(typed, tiny_table)["group"].tolist()
            == claims_of(objects, tiny_table)["group"].tolist())


def test_value_frame_names_every_measure_requiring_a_field_filled_elsewhere(
        tmp_path: Any) -> None:
    """Mutation review: with two measures requiring 'dropoff', the message names both."""
    table = _dropoff_table(
        tmp_path,
        ("    unit: tCO2e\n    value_type: environmental\n    proxies:\n"
         "      uk: {value: 250.00, low: 125.00",
         "    unit: tCO2e\n    value_type: environmental\n    requires: [dropoff]\n"
         "    expression: quantity * proxy * (1 - dropoff)\n    proxies:\n"
         "      uk: {value: 250.00, low: 125.00"))
    rows = pd.DataFrame([{"measure": "jobs-local", "quantity": 1.0, "unit": "FTE",
                          "region": "uk", "date": "2024-06-01", "dropoff": 0.5}])
    with pytest.raises(sv.OutcomeError,
                       match="'dropoff' is a field env-carbon, jobs-apprentice require,"):
        value_frame(rows, table)


def test_a_region_only_another_edition_knows_is_not_told_beside_a_bad_date(
        tmp_path: Any) -> None:
    """With no edition to read it by (a bad date), a region is told only when no edition
    has it: 'wales', known to the 2023 edition alone, may be right once the date is, and
    'Narnia' is told with the codes of every edition (a mutation keeping one edition's codes,
    or telling a region some edition lacks, went unnoticed over editions of one region set)."""
    from conftest import TINY_2023, tiny_variant

    old = sv.load_table(path=tiny_variant(
        tmp_path / "2023", *TINY_2023,
        ("  - {code: scotland, name: Scotland, parent: uk}\n",
         "  - {code: scotland, name: Scotland, parent: uk}\n"
         "  - {code: wales, name: Wales, parent: uk}\n")))
    new = sv.load_table(path=tiny_variant(tmp_path / "2024"))
    assert "wales" in old.region_codes and "wales" not in new.region_codes
    df = pd.DataFrame({"measure": ["jobs-local"] * 4, "quantity": [1.0] * 4,
                       "unit": ["FTE"] * 4, "region": ["wales", "Narnia", "wales", "wales"],
                       "date": ["31/03/2024", "31/03/2024", "2023-06-01", "2024-06-01"]})
    found = value_frame(df, [old, new], errors="collect").attrs["issues"]
    assert found[["row", "field", "code"]].values.tolist() == [
        [0, "date", "bad-date"], [1, "date", "bad-date"], [1, "region", "unknown-region"],
        [3, "region", "unknown-region"]]
    assert found["reason"].iloc[2] == ("unknown region 'Narnia': expected one of uk, england, "
                                       "london, scotland, wales")
    assert found["reason"].iloc[3].startswith("unknown region 'wales': expected one of uk, "
                                              "england, london, scotland")
    assert "wales" not in found["reason"].iloc[3].split("expected one of ")[1].split(";")[0]


@pytest.mark.parametrize("years", [Decimal("2.0000000000000001"),
                                   Decimal("125.0000000000000000001"),
                                   Decimal("0.99999999999999999999"), Fraction(5, 2)])
def test_years_an_exact_number_not_whole_is_refused_as_the_scalar_engine_refuses_it(
        years: Any) -> None:
    """An adversarial review: a Decimal cell (a Parquet decimal column) of 2.0000000000000001
    years was read as the float 2 and valued, where ``Outcome`` refuses it as no whole
    number; whole ones (Decimal("2.000"), Fraction(4, 2)) are valued by both."""
    base = {"measure": "jobs-local-fte", "quantity": 2.0, "unit": "FTE", "region": "london",
            "date": "2024-09-30"}
    with pytest.raises(sv.OutcomeError) as info:
        sv.value(sv.Outcome(**base, years=years))
    assert info.value.issue == "out-of-range"
    rows = pd.DataFrame({**{k: [v] * 3 for k, v in base.items()},
                         "years": pd.Series([years, Decimal("2.000"), Fraction(4, 2)],
                                            dtype=object)})
    out = value_frame(rows, "uk-national", errors="collect")
    assert out.attrs["issues"][["row", "field", "code"]].values.tolist() == [
        [0, "years", "out-of-range"]]
    two = sv.value(sv.Outcome(**base, years=2)).amount
    assert out["value_gbp"].iloc[1:].tolist() == [two, two]


def test_a_date_a_pinned_edition_leaves_out_names_the_family_s_edition_for_it() -> None:
    """A newcomer's review: with --tables uk-national:2024, a row of February 2026 was told
    that carrying forward would use the latest (2024's proxies for a 2025/26 outcome), not
    that the family's 2025 edition covers it. Both engines now say so, in the same words;
    a user's own family (not in the catalogue) has no such hint."""
    pinned = sv.load_table("uk-national", version="2024")
    row = {"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE", "region": "uk"}
    for day, version, carry in (("2026-02-27", "2025", True), ("2023-06-01", "2023", False)):
        with pytest.raises(sv.NoTableInForceError) as info:
            sv.value(sv.Outcome(**row, date=day), pinned)
        assert info.value.message.endswith(
            ("(carry_forward=True would use the latest)" if carry else "2025-03-31)")
            + f"; uk-national:{version} covers that date (give the family, uk-national, "
              "for every edition)")
        found = value_frame(pd.DataFrame([{**row, "date": day}]), pinned,
                            errors="collect").attrs["issues"]
        assert found["reason"].tolist() == [info.value.message]
    every = value_frame(pd.DataFrame([{**row, "date": "2030-01-01"}]), "uk-national",
                        errors="collect").attrs["issues"]["reason"].iloc[0]
    assert "covers that date" not in every
    tiny = sv.load_table(path=TINY)
    with pytest.raises(sv.NoTableInForceError) as own:
        sv.value(sv.Outcome(measure="jobs-local", quantity=1.0, unit="FTE", region="uk",
                            date="2030-01-01"), tiny)
    assert "covers that date" not in own.value.message


@pytest.mark.parametrize(("region", "advice"), [
    ("north-west", "; 'north-west' is a region of England, which the table does not value "
     "apart: give england"),
    ("Yorkshire and The Humber", "; 'Yorkshire and The Humber' is a region of England, which "
     "the table does not value apart: give england"),
    ("Cymru", "; did you mean wales?"), ("alba", "; did you mean scotland?"),
    ("Londn", "; did you mean london?"), ("Narnia", ""),
    # A devolved-nations review: statistical codes and Welsh and Irish names got no advice.
    ("TLL", "; did you mean wales?"), ("UKM", "; did you mean scotland?"),
    ("NI", "; did you mean northern-ireland?"), ("Yr Alban", "; did you mean scotland?"),
    ("Tuaisceart Éireann", "; did you mean northern-ireland?"),
    ("Gogledd Iwerddon", "; did you mean northern-ireland?"),
    ("E12000002", "; 'E12000002' is a region of England, which the table does not value "
     "apart: give england"),
    ("TLD", "; 'TLD' is a region of England, which the table does not value apart: give "
     "england"),
])
def test_a_region_a_council_writes_its_own_way_is_told_the_code_to_give(
        region: str, advice: str) -> None:
    """A newcomer's review: an English region ('North West') or a nation in its own
    language ('Cymru') got no suggestion; both engines now say which code to give."""
    table = sv.load_table("uk-national", version="2024")
    codes = "uk, england, london, scotland, wales, northern-ireland"
    with pytest.raises(sv.UnknownRegionError) as info:
        table.region_code(region)
    assert info.value.message == (f"unknown region {region!r} in table uk-national:2024: "
                                  f"expected one of {codes}{advice}")
    row = {"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE", "region": region,
           "date": "2024-06-01"}
    found = value_frame(pd.DataFrame([row]), table, errors="collect").attrs["issues"]
    assert found["reason"].tolist() == [f"unknown region {region!r}: expected one of "
                                        f"{codes}{advice}"]


@pytest.mark.parametrize(("gss", "code"), [
    ("K02000001", "uk"), ("E92000001", "england"), ("E12000007", "london"),
    ("S92000003", "scotland"), ("W92000004", "wales"), ("n92000002", "northern-ireland"),
])
def test_a_region_given_by_its_gss_code_is_that_region_in_both_engines(gss: str,
                                                                        code: str) -> None:
    """A devolved-nations review: ONS-coded data names an area by its GSS code
    ('W92000004'), which was refused; the codes of the UK, its nations and London are read
    as those regions, by one outcome and in bulk, to the same amount."""
    table = sv.load_table("uk-national", version="2024")
    assert table.region_code(gss) == code
    one = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=2.0, unit="FTE", region=gss,
                              date="2024-06-01"), table)
    same = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=2.0, unit="FTE", region=code,
                               date="2024-06-01"), table)
    assert (one.region_requested, one.amount) == (code, same.amount)
    row = {"measure": "jobs-local-fte", "quantity": 2.0, "unit": "FTE", "region": gss,
           "date": "2024-06-01"}
    bulk = value_frame(pd.DataFrame([row]), table)
    assert bulk["value_gbp"].tolist() == [same.amount]
    assert bulk["region_used"].tolist() == [same.region_used]


def test_a_tables_own_region_named_like_a_gss_code_keeps_its_meaning(tmp_path: Path) -> None:
    """A table of one's own that names a region by a GSS code means its own region by it:
    the standard reading applies only where the table gives the code no meaning."""
    own = sv.load_table(path=tiny_variant(tmp_path, (
        "  - {code: scotland, name: Scotland, parent: uk}",
        "  - {code: scotland, name: Scotland, parent: uk}\n"
        "  - {code: e92000001, name: Somewhere else, parent: uk}")))
    assert own.region_code("E92000001") == "e92000001"
    tiny = sv.load_table(path=TINY)
    assert tiny.region_code("E92000001") == "england"
    with pytest.raises(sv.UnknownRegionError):  # tiny has no wales
        tiny.region_code("W92000004")


def test_a_batch_of_outcomes_is_laid_out_for_value_frame_with_its_fields_as_columns() -> None:
    """An integrator's review: a JSON batch's fields ({"level": 3}) reached value_frame as a
    column of dicts, passed over (the row refused for a missing level, or a field used by an
    expression left out); outcomes_frame lays a batch out, and a nested column is refused."""
    tiny = sv.load_table(path=TINY)
    items: list[Any] = [
        {"measure": "jobs-apprentice", "quantity": 10, "unit": "week", "region": "uk",
         "date": "2024-09-30", "fields": {"level": 3}},
        sv.Outcome(measure="jobs-local", quantity=2, region="uk", date="2024-09-30"),
        {"measure": "jobs-local", "quantity": -1, "region": "uk", "date": "2024-09-30"},
    ]
    df = sv.outcomes_frame(items)
    assert list(df.columns[:5]) == list(sv.frame.REQUIRED_COLUMNS)
    assert df["level"].tolist()[0] == 3 and df["unit"].isna().tolist() == [False, True, True]
    out = value_frame(df, tiny, errors="collect")
    assert out["value_gbp"].iloc[0] == sv.value(sv.Outcome(**{
        **items[0], "fields": {"level": 3}}), tiny).amount
    assert out["value_gbp"].iloc[1] == sv.value(items[1], tiny).amount
    assert out.attrs["issues"][["row", "field", "code"]].values.tolist() == [
        [2, "quantity", "negative"]]
    nested = pd.DataFrame(items[:1])
    for frame in (nested, pd.json_normalize(items[:1])):
        with pytest.raises(sv.OutcomeError, match="outcomes_frame lays out a batch") as info:
            value_frame(frame, tiny, errors="collect")
        assert info.value.field in ("fields", "fields.level")
    # A column named fields that holds no mapping is any other column.
    plain = value_frame(df.assign(fields="x"), tiny, errors="collect")
    assert plain["value_gbp"].notna().sum() == 2
    for bad, words in (([{**items[0], "fields": {"unit": 1}}], "a column of the outcome"),
                       ([{**items[2], "quantity": 1, "fields": {"years": 5}}],
                        "fields names 'years', a column of the outcome"),
                       ([{**items[0], "fields": [3]}], "not a mapping"), ([3], "not an Outcome")):
        with pytest.raises(sv.OutcomeError, match=words):
            sv.outcomes_frame(bad)


def test_value_frame_explains_a_repeated_bad_cell_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reason is worked out once per distinct bad cell, not once per row: a million rows
    holding one unknown measure asked difflib for its near matches a million times (about
    0.4 ms a row). Every row still gets its issue, in the same words."""
    from socialvalue_tom._bulk import lookups

    calls: list[str] = []
    real = lookups._in_no_edition
    monkeypatch.setattr(lookups, "_in_no_edition",
                        lambda measure, s: calls.append(measure) or real(measure, s))
    n = 2_000
    df = pd.DataFrame({"measure": ["jobs-local-fte", "no-such-measure"] * (n // 2),
                       "quantity": 1.0, "unit": "FTE", "region": "uk", "date": "2024-09-30"})
    issues = value_frame(df, "uk-national", errors="collect").attrs["issues"]
    assert issues["row"].tolist() == list(range(1, n, 2))
    assert issues["reason"].nunique() == 1 and calls == ["no-such-measure"]
    one = value_frame(df.iloc[[1]], "uk-national", errors="collect").attrs["issues"]
    assert issues["reason"].iloc[0] == one["reason"].iloc[0]


def test_value_frame_keeps_each_editions_words_for_one_bad_cell() -> None:
    """The reasons shared by a cell are kept apart per edition where the words name it (an
    unknown grade lists the grades of the row's own edition), and a boolean quantity is told
    as one while the equal number 1 beside it is valued."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 4, "quantity": [1.0, 1.0, True, 1],
                       "unit": "FTE", "region": "uk",
                       "date": ["2023-09-30", "2025-09-30", "2024-09-30", "2024-09-30"],
                       "confidence": ["Z", "Z", "1", "1"]}).astype({"quantity": object})
    issues = value_frame(df, "uk-national", errors="collect").attrs["issues"]
    reasons = dict(zip(zip(issues["row"], issues["field"], strict=True), issues["reason"],
                       strict=True))
    assert "uk-national:2023" in reasons[0, "confidence"]
    assert "uk-national:2025" in reasons[1, "confidence"]
    assert "boolean" in reasons[2, "quantity"] and (3, "quantity") not in reasons


def test_value_frame_words_each_bad_cell_as_written_when_equal_cells_differ() -> None:
    """Reasons are worked out once per distinct cell as written: cells that compare equal but
    read differently (1 and Decimal("1"), (1,) and (1.0,)) keep their own words, and a cell
    that cannot be hashed (numpy's generic timedelta64 raises ValueError) is worded alone."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 3,
                       "quantity": pd.Series([np.timedelta64(5), (1,), (1.0,)], dtype=object),
                       "unit": "FTE", "region": "uk", "date": "2024-05-15",
                       "stage": pd.Series([1, Decimal("1"), 1], dtype=object)})
    issues = value_frame(df, "uk-national", errors="collect").attrs["issues"]
    reasons = dict(zip(zip(issues["row"], issues["field"], strict=True), issues["reason"],
                       strict=True))
    assert reasons[0, "quantity"] == "quantity 5 is not a number"
    assert reasons[1, "quantity"] == "quantity (1,) is not a number"
    assert reasons[2, "quantity"] == "quantity (1.0,) is not a number"
    assert "stage 1 is" in reasons[0, "stage"] and "Decimal('1')" in reasons[1, "stage"]


def test_value_frame_names_a_row_of_totals_left_at_the_bottom() -> None:
    """A council officer's review: a supplier's totals row ("Total" under contract_id, the
    sum under quantity) was refused as any row with cells missing. Its missing measure says
    what it likely is; a row with a measure, or with no such cell, is told as before."""
    df = pd.DataFrame({
        "contract_id": ["C1", "Grand total:", "C2", "C3"],
        "supplier_id": ["S1", None, "Total", "S3"],
        "measure": ["jobs-local-fte", None, "jobs-local-fte", None],
        "quantity": [2.0, 2.0, 1.0, 1.0], "unit": ["FTE", None, "FTE", "FTE"],
        "region": ["uk", None, "uk", "uk"], "date": ["2025-06-01", None, "2025-06-01",
                                                      "2025-06-01"]})
    out = value_frame(df, errors="collect")
    issues = out.attrs["issues"]
    measure = issues[issues["field"] == "measure"].set_index("row")["reason"]
    assert measure[1] == ("measure is missing: a row of totals ('Grand total:' in "
                          "contract_id)? Delete it: totals are worked out from the rows")
    assert measure[3] == "measure is missing"
    assert 2 not in measure.index and not np.isnan(out["value_gbp"].iloc[2])
    # Its other cells are still named (a blank unit is the measure's own: no issue).
    assert set(issues.loc[issues["row"] == 1, "field"]) == {"measure", "date", "region"}
    # "Total" as the measure, or the header row again (returns put together), are named as
    # rows that are no outcome (a data-quality steward's review).
    odd = value_frame(df.iloc[[0, 0]].assign(measure=["Total", " measure "]), errors="collect")
    said = odd.attrs["issues"].set_index("row")["reason"]
    assert said[0].endswith("a row of totals? Delete it: totals are worked out from the rows")
    assert said[1].endswith("the header row again (files put together, each with its "
                            "header)? Delete it")


def test_carry_forward_leaves_rows_in_their_editions_own_years_alone(tmp_path: Path) -> None:
    """A mutation audit: rows in an edition's own last financial year, marked as carried
    forward, would be netted in another group than a part claimed in its first year, and the
    whole double counted. With carry_forward as without it: 5 FTE of local jobs x £20,000 x
    (1 - 0.1) = £90,000, of which the 1 FTE of priority hires on the same contract leaves
    4/5: £72,000 (claim_share 0.8); the hire is £25,000."""
    from socialvalue_tom.frame import claims_of

    two_years = sv.load_table(path=tiny_variant(
        tmp_path, ("valid_from: 2024-04-01", "valid_from: 2023-04-01")))
    df = pd.DataFrame({"measure": ["jobs-priority", "jobs-local"], "quantity": [1.0, 5.0],
                       "unit": "FTE", "region": "uk", "date": ["2023-06-01", "2024-06-01"],
                       "contract_id": "c1"})
    for carried in (False, True):
        out = value_frame(df, two_years, assumptions={"carry_forward": carried})
        assert out["value_gbp"].tolist() == [25_000.0, 72_000.0], carried
        assert out["claim_share"].tolist() == [1.0, 0.8], carried
    claims = claims_of(df.iloc[[1]], two_years, assumptions={"carry_forward": True})
    assert claims["edition"].tolist() == ["tiny:2024"]  # in force: not "carried to"


def test_health_measure_under_no_discounting_is_not_discounted() -> None:
    """A mutation audit: the bulk path applying the health rates under
    discount_schedule="none" was caught only by randomised tests. 10 hours of a health
    measure over 2 years at £15 an hour, undiscounted: 10 x 15 x 2 = £300, on both paths."""
    table = sv.load_table(path=TINY)
    df = pd.DataFrame({"measure": ["social-volunteering"], "quantity": [10.0], "unit": "hour",
                       "region": "uk", "date": ["2024-06-01"], "years": [2]})
    for schedule, expected in (("none", 300.0), ("health", None), ("green-book", None)):
        a = {"discount_schedule": schedule}
        got = value_frame(df, table, assumptions=a)["value_gbp"].iloc[0]
        one = sv.value(sv.Outcome(measure="social-volunteering", quantity=10, unit="hour",
                                  region="uk", date="2024-06-01", years=2), table,
                       assumptions=a)
        assert got == pytest.approx(one.amount, abs=1e-9), schedule
        if expected is not None:
            assert got == expected
        else:
            assert got < 300.0, schedule  # the second year discounted
    health = value_frame(df, table, assumptions={"discount_schedule": "health"})
    green = value_frame(df, table, assumptions={"discount_schedule": "green-book"})
    # Green Book's schedule discounts a health measure at the health rate (1.5%), as the
    # health schedule does.
    assert health["value_gbp"].iloc[0] == pytest.approx(green["value_gbp"].iloc[0])


def test_a_row_dated_1_april_is_of_the_financial_year_it_starts() -> None:
    """A mutation audit: the bulk path's financial-year boundary (month >= 4) was caught only
    by the bid tests and a randomised test. A row of 1 April 2024 is of 2024/25: with
    discount_base_year 2024 it is not discounted (year 0) and not refused as before the base;
    one of 31 March 2024 is of 2023/24, before it."""
    table = sv.load_table(path=TINY)
    df = pd.DataFrame({"measure": ["social-volunteering"] * 2, "quantity": [10.0, 10.0],
                       "unit": "hour", "region": "uk", "date": ["2024-04-01", "2025-03-31"]})
    out = value_frame(df, table, assumptions={"discount_base_year": 2024})
    assert out["value_gbp"].tolist() == [150.0, 150.0]  # 10 x £15, both in 2024/25
    early = df.assign(date=["2024-03-31", "2024-04-01"])
    issues = value_frame(early, table, assumptions={"discount_base_year": 2024},
                         errors="collect").attrs["issues"]
    assert issues["row"].tolist() == [0]
    assert issues["code"].tolist() in (["before-discount-base"], ["no-table-in-force"])


def test_value_frame_warns_where_it_replaces_columns_of_the_callers_own(
        tiny: sv.ProxyTable) -> None:
    """A notebook analyst's review: a supplier's own figure in value_gbp and a template's
    version column were replaced without a word. An input that is not an earlier valuation
    draws a warning naming them; an earlier valuation, in memory or read back from a file
    (every edition column), is valued again without one."""
    import warnings

    rows = _frame()
    with pytest.warns(sv.SocialValueWarning, match=r"column\(s\) 'value_gbp', 'version', which "
                      "the valuation writes: they are replaced"):
        out = value_frame(rows.assign(value_gbp=999.0, version="template v3"), tiny)
    assert 999.0 not in out["value_gbp"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        again = value_frame(out, tiny)
        read_back = pd.DataFrame(again.to_dict("list"))  # no attrs, as a CSV read back
        value_frame(read_back, tiny)
