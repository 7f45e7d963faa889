"""apportion(): reporting periods shared out across the editions they overlap, by days.

The embedded uk-national editions run 2023-04-01..2024-03-31, 2024-04-01..2025-03-31 and
2025-04-01..2026-03-31, so a calendar-year 2024 period crosses one boundary: 91 of its 366 days
(1 January to 31 March, a leap year) fall under 2023 and 275 under 2024.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import pounds, reference_value

import socialvalue_tom as sv
import socialvalue_tom.accessor  # registers df.socialvalue
from socialvalue_tom import money
from socialvalue_tom.periods import apportion

# These tests value rows whole beside their apportioned parts, to compare the two: the warning
# that period columns were not read is meant (tests/test_report.py checks it).
pytestmark = pytest.mark.filterwarnings(
    "ignore:the rows have period_start and period_end:socialvalue_tom.errors.SocialValueWarning")


def _frame(**cols: Any) -> pd.DataFrame:
    base: dict[str, Any] = {"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
                            "region": ["uk"], "period_start": ["2024-01-01"],
                            "period_end": ["2024-12-31"]}
    base.update(cols)
    return pd.DataFrame(base)


def test_a_period_crossing_a_boundary_is_split_by_days() -> None:
    out = apportion(_frame())
    assert out["period_row"].tolist() == [0, 0]
    assert out["period_share"].tolist() == [91 / 366, 275 / 366]
    assert out["quantity"].tolist() == [12 * (91 / 366), 12 * (275 / 366)]
    assert [d.date() for d in out["date"]] == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
    assert [d.date() for d in out["period_start"]] == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
    assert [d.date() for d in out["period_end"]] == [dt.date(2024, 3, 31), dt.date(2024, 12, 31)]
    valued = sv.value_frame(out)
    assert valued["version"].tolist() == ["2023", "2024"]


def test_a_row_of_nothing_is_split_as_any_other_row() -> None:
    """0 FTE over calendar 2024 is two parts dated 1 January and 1 April, each valued by its
    own edition (at £0): a zero is a quantity, not a reason to keep the row whole."""
    out = apportion(_frame(quantity=[0.0]))
    assert out["period_share"].tolist() == [91 / 366, 275 / 366]
    assert [d.date() for d in out["date"]] == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
    assert sv.value_frame(out)["version"].tolist() == ["2023", "2024"]


def test_a_period_ending_on_an_edition_s_first_day_has_a_part_for_that_day() -> None:
    """1 January..1 April 2024: the last day is 2024/25's, valued by its own edition, on the
    scalar path as on the bulk one (91 and 1 of 92 days)."""
    out = apportion(_frame(quantity=[92.0], period_end=["2024-04-01"]))
    assert out["quantity"].tolist() == [91.0, 1.0]
    one = sv.Outcome(measure="jobs-local-fte", quantity=92.0, unit="FTE", region="uk",
                     date="2024-01-01")
    parts = sv.apportion_outcome(one, "2024-01-01", "2024-04-01")
    assert [(p.date, p.quantity) for p in parts] == [
        (dt.date(2024, 1, 1), out["quantity"].iloc[0]), (dt.date(2024, 4, 1),
                                                          out["quantity"].iloc[1])]


def test_the_parts_are_valued_to_the_penny_against_a_decimal_reference() -> None:
    valued = sv.value_frame(apportion(_frame(quantity=[7.0])))
    exact = Decimal(0)
    for version, days in (("2023", 91), ("2024", 275)):
        one = reference_value({"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE",
                               "region": "uk", "date": dt.date(2024, 6, 1)},
                              sv.load_table("uk-national", version=version))
        exact += one * Decimal(7) * Decimal(days) / Decimal(366)
    assert money.total(valued["value_gbp"]) == pounds(exact)


def test_a_period_under_one_edition_is_one_part_dated_by_its_start() -> None:
    df = _frame(period_start=["2024-05-01"], period_end=["2024-06-30"])
    out = apportion(df)
    assert len(out) == 1
    assert out["period_share"].tolist() == [1.0]
    assert out["quantity"].tolist() == [12.0]
    same = sv.value_frame(df.assign(date="2024-05-01"))["value_gbp"].iloc[0]
    assert sv.value_frame(out)["value_gbp"].iloc[0] == same


def test_the_report_date_is_replaced_by_the_period() -> None:
    # Reported in April 2024 for January to March 2024: delivered under the 2023 edition.
    df = _frame(period_start=["2024-01-01"], period_end=["2024-03-31"], date=["2024-04-15"])
    assert sv.value_frame(df)["version"].iloc[0] == "2024"
    out = sv.value_frame(apportion(df))
    assert out["version"].tolist() == ["2023"]


def test_a_period_over_three_editions_and_beyond_them() -> None:
    df = _frame(period_start=["2023-01-01"], period_end=["2026-12-31"])
    out = apportion(df)
    assert [d.date() for d in out["date"]] == [dt.date(2023, 1, 1), dt.date(2023, 4, 1),
                                               dt.date(2024, 4, 1), dt.date(2025, 4, 1),
                                               dt.date(2026, 4, 1)]
    n = (dt.date(2026, 12, 31) - dt.date(2023, 1, 1)).days + 1
    assert out["period_share"].tolist() == [90 / n, 366 / n, 365 / n, 365 / n, 275 / n]
    valued = sv.value_frame(out, errors="collect")
    issues = valued.attrs["issues"]
    assert issues["row"].tolist() == [0, 4]  # the parts outside every edition
    assert set(issues["code"]) == {"no-table-in-force"}
    carried = sv.value_frame(out.iloc[1:], assumptions={"carry_forward": True})
    assert carried["version"].tolist() == ["2023", "2024", "2025", "2025"]


def test_rows_without_a_period_pass_through_unchanged() -> None:
    df = _frame(period_start=[None, "2024-01-01"], period_end=[None, "2024-12-31"],
                measure=["jobs-local-fte"] * 2, quantity=[3.0, 12.0], unit=["FTE"] * 2,
                region=["uk"] * 2, date=["2025-06-01", None])
    out = apportion(df)
    assert out["period_row"].tolist() == [0, 1, 1]
    first = out.iloc[0]
    assert first["quantity"] == 3.0 and first["date"] == pd.Timestamp("2025-06-01")
    assert pd.isna(first["period_start"]) and pd.isna(first["period_end"])
    assert sv.value_frame(out)["version"].tolist() == ["2025", "2023", "2024"]


@pytest.mark.parametrize("with_periods", [[True, True], [True, False], [False, False]])
def test_the_date_columns_are_datetime64_whatever_the_mix_of_rows(
        with_periods: list[bool]) -> None:
    """Pieces of one input apportioned apart (Dask partitions) get the same dtypes, whether
    every row, some or none has a period."""
    df = _frame(period_start=["2024-01-01" if p else None for p in with_periods],
                period_end=["2024-12-31" if p else None for p in with_periods],
                measure=["jobs-local-fte"] * 2, quantity=[12.0, 1.0], unit=["FTE"] * 2,
                region=["uk"] * 2, date=["2024-06-01", "2025-06-01"])
    out = apportion(df)
    for column in ("date", "period_start", "period_end"):
        assert out[column].dtype == np.dtype("datetime64[s]"), column
    expected = [dt.date(2024, 1, 1), dt.date(2024, 4, 1)] if with_periods[0] else [
        dt.date(2024, 6, 1)]
    assert [d.date() for d in out["date"].iloc[:len(expected)]] == expected


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside dask
@pytest.mark.parametrize("quantity", [[12, 3], ["12", "3"]])
def test_pieces_apportioned_apart_agree_on_dtypes_with_an_empty_meta(quantity: list[Any],
                                                                     tmp_path: Any) -> None:
    """An empty frame (Dask's meta), a piece with a split row and one without agree on every
    dtype, integer or text quantities included, so the pieces write to Parquet together."""
    df = _frame(period_start=["2024-01-01", None], period_end=["2024-12-31", None],
                measure=["jobs-local-fte"] * 2, quantity=quantity, unit=["FTE"] * 2,
                region=["uk"] * 2, date=[None, "2024-06-01"])
    pieces = [apportion(df.iloc[:0]), apportion(df.iloc[:1]), apportion(df.iloc[1:])]
    for piece in pieces[1:]:
        assert piece.dtypes.to_dict() == pieces[0].dtypes.to_dict()
    if isinstance(quantity[0], int):
        assert pieces[0]["quantity"].dtype == np.float64
    dd = pytest.importorskip("dask.dataframe")
    from dask.dataframe.utils import make_meta

    ddf = dd.from_pandas(df, npartitions=2)
    parts = ddf.map_partitions(apportion, "uk-national", meta=apportion(make_meta(ddf)))
    if isinstance(quantity[0], int):
        parts.to_parquet(tmp_path / "parts")
        back = pd.read_parquet(tmp_path / "parts")
        assert back["quantity"].tolist() == apportion(df)["quantity"].tolist()
    else:
        assert len(parts.compute()) == 3


def test_equal_instants_in_different_zones_are_read_on_their_own_wall_clocks() -> None:
    """23:30 UTC on 31 March and 00:30 BST on 1 April are one instant but two days, in a
    period column and in the date column alike (as value_frame reads a date)."""
    import zoneinfo

    utc = dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC)
    bst = dt.datetime(2024, 4, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("Europe/London"))
    assert utc == bst  # the case is live
    cells = pd.Series([utc, bst], dtype=object)
    df = _frame(period_start=cells, period_end=["2024-04-30"] * 2, measure=["jobs-local-fte"] * 2,
                quantity=[1.0, 1.0], unit=["FTE"] * 2, region=["uk"] * 2)
    out = apportion(df)
    assert out["period_row"].tolist() == [0, 0, 1]
    assert [d.date() for d in out["date"]] == [dt.date(2024, 3, 31), dt.date(2024, 4, 1),
                                               dt.date(2024, 4, 1)]
    o = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                   date="2024-04-01")
    assert len(sv.apportion_outcome(o, bst, "2024-04-30")) == 1
    dated = _frame(period_start=[None, None], period_end=[None, None], date=cells,
                   measure=["jobs-local-fte"] * 2, quantity=[1.0, 1.0], unit=["FTE"] * 2,
                   region=["uk"] * 2)
    assert sv.value_frame(apportion(dated))["version"].tolist() == ["2023", "2024"]
    assert sv.value_frame(dated)["version"].tolist() == ["2023", "2024"]


def test_a_bad_date_in_a_row_without_a_period_is_kept_as_given_for_value_frame() -> None:
    df = _frame(period_start=[None, "2024-01-01"], period_end=[None, "2024-12-31"],
                measure=["jobs-local-fte"] * 2, quantity=[3.0, 12.0], unit=["FTE"] * 2,
                region=["uk"] * 2, date=["1 June 2025", None])
    out = apportion(df)
    assert out["date"].tolist()[0] == "1 June 2025"
    valued = sv.value_frame(out, errors="collect")
    issues = valued.attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [[0, "date", "bad-date"]]
    assert "'1 June 2025'" in issues["reason"].iloc[0]


def test_a_missing_date_column_is_created_from_the_periods() -> None:
    out = apportion(_frame())
    assert out["date"].dtype.kind == "M"


def test_bad_periods_raise_listing_every_row() -> None:
    df = _frame(period_start=["2024-01-01", "2024-13-01", None, "2024-06-01", "2024-05-01"],
                period_end=["2024-12-31", "2024-12-31", "2024-12-31", None, "2024-04-30"],
                measure=["jobs-local-fte"] * 5, quantity=[1.0] * 5, unit=["FTE"] * 5,
                region=["uk"] * 5)
    with pytest.raises(sv.BulkValidationError) as info:
        apportion(df)
    found = {(i.row, i.field, i.code) for i in info.value.issues}
    assert found == {(1, "period_start", "bad-date"), (2, "period_start", "missing"),
                     (3, "period_end", "missing"), (4, "period_end", "bad-period")}
    reasons = {i.row: i.reason for i in info.value.issues}
    assert reasons[4] == "period_end 2024-04-30 is before period_start 2024-05-01"
    assert reasons[1] == ("period_start '2024-13-01' is no day of the calendar (there is no "
                          "month 13)")


def test_collect_leaves_bad_rows_out_and_lists_them_by_input_row() -> None:
    df = _frame(period_start=["2024-05-01", "2024-01-01", "2024-01-01"],
                period_end=["2024-04-30", "2024-12-31", "not a date"],
                measure=["jobs-local-fte"] * 3, quantity=[1.0, 2.0, 3.0], unit=["FTE"] * 3,
                region=["uk"] * 3).set_axis(["a", "b", "c"])
    out = apportion(df, errors="collect")
    assert out["period_row"].tolist() == [1, 1]
    assert out.index.tolist() == ["b", "b"]
    issues = out.attrs["issues"]
    assert issues[["row", "index", "field", "code"]].values.tolist() == [
        [0, "a", "period_end", "bad-period"], [2, "c", "period_end", "bad-date"]]
    assert isinstance(issues, sv.IssueTable)


def test_collect_without_bad_rows_gives_an_empty_issue_table() -> None:
    assert apportion(_frame(), errors="collect").attrs["issues"].empty


def test_an_unusable_quantity_is_not_split_and_value_frame_reports_it() -> None:
    df = _frame(quantity=["many"])
    out = apportion(df)
    assert out["quantity"].tolist() == ["many"] and out["period_share"].tolist() == [1.0]
    assert out["date"].iloc[0].date() == dt.date(2024, 1, 1)
    issues = sv.value_frame(out, errors="collect").attrs["issues"]
    assert issues["code"].tolist() == ["not-a-number"]


def test_integer_and_text_quantities_become_fractional_parts() -> None:
    shared = [12 * (91 / 366), 12 * (275 / 366)]
    assert apportion(_frame(quantity=[12]))["quantity"].tolist() == shared
    assert apportion(_frame(quantity=[" 12 "]))["quantity"].tolist() == shared


def test_datetime_and_timezone_aware_periods() -> None:
    start = pd.Series(pd.to_datetime(["2024-03-31 23:30"]).tz_localize("Europe/London"))
    end = pd.Series(pd.to_datetime(["2024-04-01"]))
    out = apportion(_frame(period_start=start, period_end=end))
    # The wall-clock day in London is 31 March: one day under each edition.
    assert out["period_share"].tolist() == [0.5, 0.5]
    # 00:30 on 1 April in London (BST) is 23:30 on 31 March in UTC: the wall-clock day counts.
    start = pd.Series(pd.to_datetime(["2024-04-01 00:30"]).tz_localize("Europe/London"))
    assert start.dt.tz_convert("UTC").dt.day.tolist() == [31]  # the case is live
    out = apportion(_frame(period_start=start, period_end=end))
    assert out["period_share"].tolist() == [1.0]
    assert out["date"].tolist() == [pd.Timestamp("2024-04-01")]


def test_a_datetime_date_column_is_merged_with_the_periods() -> None:
    df = _frame(period_start=[None, "2024-01-01"], period_end=[None, "2024-02-01"],
                measure=["jobs-local-fte"] * 2, quantity=[1.0, 1.0], unit=["FTE"] * 2,
                region=["uk"] * 2, date=pd.to_datetime(["2024-06-01", "2030-01-01"]))
    out = apportion(df)
    assert out["date"].dtype.kind == "M"
    assert [d.date() for d in out["date"]] == [dt.date(2024, 6, 1), dt.date(2024, 1, 1)]


def test_pyarrow_date32_columns_with_gaps() -> None:
    day32 = pd.ArrowDtype(pa.date32())
    df = _frame(period_start=pd.array([dt.date(2024, 1, 1), None], dtype=day32),
                period_end=pd.array([dt.date(2024, 12, 31), None], dtype=day32),
                date=pd.array([None, dt.date(2024, 6, 1)], dtype=day32),
                measure=["jobs-local-fte"] * 2, quantity=[12.0, 1.0], unit=["FTE"] * 2,
                region=["uk"] * 2)
    out = apportion(df)
    assert out["period_row"].tolist() == [0, 0, 1]
    assert sv.value_frame(out)["version"].tolist() == ["2023", "2024", "2024"]


def test_datetimes_no_date_can_hold_are_bad_dates() -> None:
    far = np.array(["12000-01-01"], dtype="datetime64[s]")
    with pytest.raises(sv.BulkValidationError) as info:
        apportion(_frame(period_start=far, period_end=far))
    # One issue per row, the first found.
    assert [(i.field, i.code) for i in info.value.issues] == [("period_start", "bad-date")]


@pytest.mark.parametrize(("quantity", "code"), [(-12.0, "negative"), (1.5e12, "too-large"),
                                                (1e308, "too-large"), (float("inf"), "not-finite")])
def test_a_quantity_value_frame_refuses_is_kept_whole_and_reported_once(
        quantity: float, code: str) -> None:
    out = apportion(_frame(quantity=[quantity]))
    assert len(out) == 1 and out["quantity"].tolist() == [quantity]
    issues = sv.value_frame(out, errors="collect").attrs["issues"]
    assert issues["code"].tolist() == [code]


# -- limits of the whole row: the cap and the quantity bounds -----------------------------------

CARRY = {"carry_forward": True}


def test_the_contract_value_cap_holds_for_the_row_not_for_each_part(tiny_table: Any) -> None:
    # tiny's growth-local-spend is capped at 0.5 x contract value; two years, two parts.
    row = pd.DataFrame({"measure": ["growth-local-spend"], "quantity": [1000.0],
                        "unit": ["GBP"], "region": ["uk"], "contract_value": [500.0],
                        "period_start": ["2024-04-01"], "period_end": ["2026-03-31"]})
    whole = sv.value_frame(row.assign(date="2024-04-01"), tiny_table, assumptions=CARRY)
    assert whole["value_gbp"].tolist() == [250.0]
    parts = sv.value_frame(apportion(row, tiny_table), tiny_table, assumptions=CARRY)
    assert len(parts) == 2 and parts["value_gbp"].sum() == 250.0
    text = sv.explain_row(parts, 0)
    assert "x period share 0.5 = £125.00: applied" in text  # 365 of 730 days


def test_the_parts_never_exceed_the_row_s_cap_when_editions_value_days_unequally(
        tmp_path: Any) -> None:
    """The cap is shared by days: with a 2023 edition worth twice the 2024 one, the first half
    (1.20 x 500 x 0.75 = 450) is capped at 250 and the second (225) is not: 475 in all, under
    the row's cap of 500, as docs/rules.md says."""
    from conftest import TINY, TINY_2023, tiny_variant

    older = tiny_variant(tmp_path, *TINY_2023, ("uk: {value: 0.60,", "uk: {value: 1.20,"),
                         name="t2023.yaml")
    tables = [sv.load_table(path=older), sv.load_table(path=TINY)]
    row = pd.DataFrame({"measure": ["growth-local-spend"], "quantity": [1000.0],
                        "unit": ["GBP"], "region": ["uk"], "contract_value": [1000.0],
                        "period_start": ["2023-10-01"], "period_end": ["2024-09-30"]})
    parts = sv.value_frame(apportion(row, tables), tables)
    assert parts["period_share"].tolist() == [0.5, 0.5]  # 183 days each
    assert parts["value_gbp"].tolist() == [250.0, 225.0]
    assert parts["value_gbp"].sum() < 500.0  # below the whole row's cap, never above


_FIXED_TERM = ("expression: quantity * proxy * (1 - leakage)\n    cap_ratio: 0.5",
               "expression: quantity * proxy * (1 - leakage) + 100")


@pytest.mark.parametrize("start,end", [("2023-10-01", "2024-09-30"),   # 183 + 183 days
                                       ("2024-01-01", "2024-12-31"),   # 91 + 275 days
                                       ("2024-04-01", "2025-03-31")])  # one part
def test_a_fixed_term_of_an_expression_is_counted_once_for_a_split_row(
        tmp_path: Any, start: str, end: str) -> None:
    """Two identical editions: splitting the row must not change its value. The expression
    is evaluated on the whole row's quantity and each part takes its share of the result, so
    the fixed £100 is shared out by days (it was added to every part)."""
    from conftest import TINY_2023, tiny_variant

    tables = [sv.load_table(path=tiny_variant(tmp_path, *TINY_2023, _FIXED_TERM, name="a.yaml")),
              sv.load_table(path=tiny_variant(tmp_path, _FIXED_TERM, name="b.yaml"))]
    row = pd.DataFrame({"measure": ["growth-local-spend"], "quantity": [1000.0],
                        "unit": ["GBP"], "region": ["uk"], "period_start": [start],
                        "period_end": [end]})
    parts = sv.value_frame(apportion(row, tables), tables)
    assert money.total(parts["value_gbp"]) == Decimal("550.00")  # 1000 x 0.60 x 0.75 + 100
    outcome = sv.Outcome(measure="growth-local-spend", quantity=1000.0, unit="GBP",
                         region="uk", date=start)
    pieces = sv.apportion_outcome(outcome, start, end, tables)
    scalar = [sv.value(o, tables) for o in pieces]
    assert [v.amount for v in scalar] == parts["value_gbp"].tolist()  # bit for bit
    if len(pieces) > 1:
        gross = scalar[0].explain()
        share = pieces[0].period_share
        assert share is not None
        shown = f"{share:.17g}".rstrip("0").rstrip(".")
        assert re.search(r"quantity = 1,000 GBP \(the whole row: the part's [0-9.]+ GBP / "
                         rf"period share {re.escape(shown)}\)", gross)
        assert f"(table parameter) gives £550.00, x period share {shown}  -> " in gross


def test_the_quantity_bounds_hold_for_the_row_not_for_each_part(tiny_table: Any) -> None:
    # tiny's jobs-apprentice allows at most 520 weeks on a row.
    def parts(weeks: float) -> pd.DataFrame:
        row = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [weeks],
                            "unit": ["week"], "region": ["uk"], "level": [3],
                            "period_start": ["2024-04-01"], "period_end": ["2026-03-31"]})
        return sv.value_frame(apportion(row, tiny_table), tiny_table, errors="collect",
                              assumptions=CARRY)

    over = parts(800.0)
    assert over["value_gbp"].isna().all()
    assert over.attrs["issues"]["code"].tolist() == ["out-of-bounds"] * 2
    assert "x period share" in over.attrs["issues"]["reason"].iloc[0]
    at = parts(520.0)
    assert at.attrs["issues"].empty and at["value_gbp"].notna().all()


def test_an_outcome_s_period_share_scales_its_cap_and_bounds(tiny_table: Any) -> None:
    spend = {"measure": "growth-local-spend", "quantity": 1000.0, "unit": "GBP",
             "region": "uk", "date": dt.date(2024, 6, 1), "contract_value": 500.0}
    assert sv.value(sv.Outcome(**spend), tiny_table).amount == 250.0
    half = sv.value(sv.Outcome(**spend, period_share=0.5), tiny_table)
    assert half.amount == 125.0 and "x period share 0.5 = £125.00" in half.explain()
    weeks = {"measure": "jobs-apprentice", "quantity": 300.0, "unit": "week", "region": "uk",
             "date": dt.date(2024, 6, 1), "fields": {"level": 3}}
    sv.value(sv.Outcome(**weeks), tiny_table)
    with pytest.raises(sv.OutcomeError, match=r"bounds \[0, 520\] x period share 0.5"):
        sv.value(sv.Outcome(**weeks, period_share=0.5), tiny_table)
    for bad in (0.0, 1.5, -0.1, float("inf"), True):
        with pytest.raises(sv.OutcomeError, match="period_share"):
            sv.Outcome(**weeks, period_share=bad)
    # NaN is a blank cell, as value_frame reads one: not given, the row valued whole.
    assert sv.Outcome(**weeks, period_share=float("nan")).period_share is None


def test_a_period_share_of_one_is_not_printed_in_the_trace(tiny_table: Any) -> None:
    spend = {"measure": "growth-local-spend", "quantity": 1000.0, "unit": "GBP",
             "region": "uk", "date": dt.date(2024, 6, 1), "contract_value": 500.0}
    for share in (None, 1.0):
        text = sv.value(sv.Outcome(**spend, period_share=share), tiny_table).explain()
        assert "cap 0.5 x contract value £500.00 = £250.00: applied" in text
        assert "period share" not in text


def test_a_share_of_one_does_not_widen_the_quantity_bounds(tiny_table: Any) -> None:
    """The part-limit slack is for split rows only: a row with period_share 1.0 an ulp over
    a bound is refused by both paths, as a row without the column."""
    over = float(np.nextafter(520.0, np.inf))
    row = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [over], "unit": ["week"],
                        "region": ["uk"], "level": [3], "date": ["2024-06-01"],
                        "period_share": [1.0]})
    out = sv.value_frame(row, tiny_table, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["out-of-bounds"]
    with pytest.raises(sv.OutcomeError, match="bounds"):
        sv.value(sv.Outcome(measure="jobs-apprentice", quantity=over, unit="week", region="uk",
                            date=dt.date(2024, 6, 1), fields={"level": 3},
                            period_share=1.0), tiny_table)


def test_the_bulk_too_large_limit_is_scaled_by_the_share(tiny_table: Any) -> None:
    """1.5e9 ktCO2e over two equal parts: each part's 7.5e11 tCO2e is under the library's
    1e12 maximum but over its half of it, so both parts are refused, as the whole row is."""
    row = pd.DataFrame({"measure": ["env-carbon"], "quantity": [1.5e9], "unit": ["ktCO2e"],
                        "region": ["uk"], "period_start": ["2024-04-01"],
                        "period_end": ["2026-03-31"]})
    parts = apportion(row, tiny_table)
    assert parts["period_share"].tolist() == [0.5, 0.5]
    out = sv.value_frame(parts, tiny_table, errors="collect", assumptions=CARRY)
    issues = out.attrs["issues"]
    assert issues["code"].tolist() == ["too-large"] * 2
    assert "x period share 0.5" in issues["reason"].iloc[0]
    whole = sv.value_frame(row.assign(date="2024-04-01"), tiny_table, errors="collect")
    assert whole.attrs["issues"]["code"].tolist() == ["too-large"]


def test_value_frame_checks_period_share() -> None:
    df = _frame(period_start=[None] * 3, period_end=[None] * 3, date=["2024-06-01"] * 3,
                measure=["jobs-local-fte"] * 3, quantity=[1.0] * 3, unit=["FTE"] * 3,
                region=["uk"] * 3, period_share=[0.5, 0.0, 1.5])
    issues = sv.value_frame(df, errors="collect").attrs["issues"]
    assert issues[["row", "field", "code"]].values.tolist() == [
        [1, "period_share", "out-of-range"], [2, "period_share", "out-of-range"]]


def test_the_input_is_not_mutated() -> None:
    df = _frame()
    before = df.copy()
    apportion(df)
    pd.testing.assert_frame_equal(df, before)


def test_other_columns_and_attrs_are_kept() -> None:
    df = _frame(contract_id=["C-1"], evidence=["timesheets.pdf"])
    df.attrs["note"] = "kept"
    df.attrs["request"] = {"tags": ["t"]}
    out = apportion(df)
    assert out["contract_id"].tolist() == ["C-1", "C-1"]
    assert out["evidence"].tolist() == ["timesheets.pdf"] * 2
    assert out.attrs == {"note": "kept", "request": {"tags": ["t"]},
                         # which columns hold the periods, for the notes beside a total
                         "socialvalue_tom.periods": {"start": "period_start",
                                                     "end": "period_end",
                                                     "carry_forward": False}}
    out.attrs["request"]["tags"].append("apportioned")  # a copy, as pandas makes: not the input's
    assert df.attrs["request"] == {"tags": ["t"]}


def test_custom_column_names_and_a_single_edition() -> None:
    df = _frame().rename(columns={"period_start": "from", "period_end": "to"})
    edition = sv.load_table("uk-national", version="2024")
    out = apportion(df, edition, start="from", end="to")
    # One edition: its start and the day after its end are the only boundaries.
    assert [d.date() for d in out["from"]] == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda df: apportion(df.drop(columns="period_end")), sv.OutcomeError, "period_end"),
    (lambda df: apportion(df.drop(columns="quantity")), sv.OutcomeError, "quantity"),
    (lambda df: apportion(df, errors="ignore"), sv.RuleError, "errors must be"),
    (lambda df: apportion(df, start="period_end"), sv.RuleError, "same column"),
    (lambda df: apportion(apportion(df)), sv.OutcomeError, "apportioned once"),
    (lambda df: apportion(df.to_dict()), TypeError, "needs a pandas DataFrame"),
    (lambda df: apportion(df, start=1), TypeError, "column name"),
    (lambda df: apportion(df.assign(date="2024-12-31"), end="date"), sv.RuleError,
     "cannot be the date column"),
])
def test_wrong_calls_get_typed_errors(call: Any, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        call(_frame())


def test_an_empty_frame() -> None:
    out = apportion(_frame().iloc[:0])
    assert out.empty and {"period_row", "period_share"} <= set(out.columns)


def test_the_accessor() -> None:
    pd.testing.assert_frame_equal(_frame().socialvalue.apportion(), apportion(_frame()))


# -- properties -------------------------------------------------------------------------------

FIRST, LAST = dt.date(2022, 1, 1), dt.date(2027, 6, 30)
periods = st.tuples(st.dates(FIRST, LAST), st.integers(0, 1500)).map(
    lambda p: (p[0], min(p[0] + dt.timedelta(days=p[1]), LAST)))
rows = st.lists(st.tuples(periods, st.floats(0, 1e6, allow_nan=False)), min_size=1,
                max_size=12)


def _rows_frame(drawn: list[tuple[tuple[dt.date, dt.date], float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "measure": "env-carbon-saved", "unit": "tCO2e", "region": "scotland",
        "quantity": [q for _, q in drawn],
        "period_start": [p[0].isoformat() for p, _ in drawn],
        "period_end": [p[1].isoformat() for p, _ in drawn]})


@settings(max_examples=60, deadline=None)
@given(rows)
def test_parts_add_up_to_each_row_and_lie_under_one_edition(drawn: Any) -> None:
    df = _rows_frame(drawn)
    out = apportion(df)
    grouped = out.groupby("period_row")
    # atol: a subnormal quantity (5e-324) shared out underflows; nothing else may differ.
    assert np.allclose(grouped["quantity"].sum().to_numpy(), df["quantity"].to_numpy(),
                       rtol=1e-12, atol=1e-300)
    assert np.allclose(grouped["period_share"].sum().to_numpy(), 1.0, rtol=1e-12, atol=0)
    days = (out["period_end"] - out["period_start"]).dt.days + 1
    spans = grouped.apply(lambda g: ((g["period_end"].max() - g["period_start"].min()).days + 1))
    assert (grouped.size() == grouped["period_start"].nunique()).all()
    assert (days.groupby(out["period_row"]).sum() == spans).all()  # no day lost or repeated
    edges = [dt.date(y, 4, 1) for y in (2023, 2024, 2025, 2026)]
    for first, last in zip(out["period_start"], out["period_end"], strict=True):
        assert not any(first.date() < e <= last.date() for e in edges)


@settings(max_examples=40, deadline=None)
@given(rows)
def test_apportioning_again_changes_nothing_but_the_row_numbers(drawn: Any) -> None:
    once = apportion(_rows_frame(drawn))
    twice = apportion(once.drop(columns=["period_row", "period_share"]))
    assert (twice["period_share"] == 1.0).all()
    pd.testing.assert_frame_equal(twice.drop(columns=["period_row", "period_share"]),
                                  once.drop(columns=["period_row", "period_share"]))


@settings(max_examples=40, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_row_order_does_not_change_any_row_s_parts(drawn: Any, rnd: Any) -> None:
    df = _rows_frame(drawn)
    order = list(range(len(df)))
    rnd.shuffle(order)
    straight = apportion(df).reset_index(drop=True)
    shuffled = apportion(df.iloc[order].reset_index(drop=True))
    shuffled["period_row"] = np.array(order)[shuffled["period_row"].to_numpy()]
    again = shuffled.sort_values(["period_row", "period_start"], kind="stable")
    pd.testing.assert_frame_equal(again.reset_index(drop=True), straight)


@settings(max_examples=30, deadline=None)
@given(rows)
def test_each_part_is_valued_as_the_scalar_api_values_it(drawn: Any) -> None:
    out = sv.value_frame(apportion(_rows_frame(drawn), carry_forward=True), errors="collect",
                         assumptions={"carry_forward": True})
    for i in range(len(out)):
        row = out.iloc[i]
        try:
            one = sv.value(sv.Outcome(measure=row["measure"], quantity=row["quantity"],
                                      unit=row["unit"], region=row["region"],
                                      date=row["date"].date(),
                                      period_share=row["period_share"]),
                           assumptions={"carry_forward": True})
        except sv.NoTableInForceError:
            assert np.isnan(row["value_gbp"])
            continue
        assert row["value_gbp"] == one.amount  # bit for bit, as value_frame promises


def _bounded_volunteering(tmp_path: Any) -> sv.ProxyTable:
    """tiny with volunteering hours bounded to [1, 1000] (given in minutes too)."""
    from conftest import tiny_variant

    return sv.load_table(path=tiny_variant(tmp_path, (
        "    value_type: social\n    health: true\n",
        "    value_type: social\n    health: true\n    quantity_bounds: {min: 1, max: 1000}\n")))


@pytest.mark.parametrize("minutes", [60_000.0, 60.0])  # exactly at the upper and lower bound
@pytest.mark.parametrize("days_after", [1, 10, 100, 364])
def test_a_row_exactly_at_a_bound_in_another_unit_passes_in_every_part(
        tmp_path: Any, minutes: float, days_after: int) -> None:
    """(quantity x share) x factor is a few rounding steps from quantity x factor x share: a part
    of a row at its bound must not be refused for it."""
    table = _bounded_volunteering(tmp_path)
    end = dt.date(2025, 3, 31) + dt.timedelta(days=days_after)
    row = pd.DataFrame({"measure": ["social-volunteering"], "quantity": [minutes],
                        "unit": ["minute"], "region": ["uk"], "period_start": ["2025-03-31"],
                        "period_end": [end.isoformat()]})
    whole = sv.value_frame(row.assign(date="2025-03-31"), table)
    assert whole.attrs["issues"].empty
    parts = sv.value_frame(apportion(row, table), table, assumptions=CARRY, errors="collect")
    assert parts.attrs["issues"].empty, parts.attrs["issues"]["reason"].tolist()
    for i in range(len(parts)):  # the scalar path agrees
        r = parts.iloc[i]
        one = sv.value(sv.Outcome(measure=r["measure"], quantity=r["quantity"], unit="minute",
                                  region="uk", date=r["date"].date(),
                                  period_share=r["period_share"]), table,
                       assumptions=CARRY)
        assert one.amount == r["value_gbp"]
    beyond = minutes * (1.01 if minutes > 60 else 0.99)  # just outside: every part refused
    out = sv.value_frame(apportion(row.assign(quantity=beyond), table), table,
                         assumptions=CARRY, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["out-of-bounds"] * len(out)


def test_the_scalar_too_large_message_names_the_share(tiny_table: Any) -> None:
    with pytest.raises(sv.OutcomeError, match=r"above 1e\+12 x period share 0.5"):
        sv.value(sv.Outcome(measure="env-carbon", quantity=6e8, unit="ktCO2e", region="uk",
                            date=dt.date(2024, 6, 1), period_share=0.5), tiny_table)


# -- the scalar form ------------------------------------------------------------------------------

def test_apportion_outcome_splits_as_the_bulk_path() -> None:
    o = sv.Outcome(measure="jobs-local-fte", quantity=12, unit="FTE", region="uk",
                   date="2030-01-01")  # the outcome's own date is not used
    parts = sv.apportion_outcome(o, "2024-01-01", dt.date(2024, 12, 31))
    assert [p.date for p in parts] == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
    assert [p.period_share for p in parts] == [91 / 366, 275 / 366]
    bulk = sv.value_frame(apportion(_frame()))
    assert [sv.value(p).amount for p in parts] == bulk["value_gbp"].tolist()
    one = sv.apportion_outcome(o, "2024-05-01", "2024-05-31")
    assert len(one) == 1 and one[0].period_share is None and one[0].date == dt.date(2024, 5, 1)


@settings(max_examples=60, deadline=None)
@given(periods, st.floats(0, 1e6, allow_nan=False))
def test_apportion_outcome_equals_apportion_bit_for_bit(period: Any, quantity: float) -> None:
    o = sv.Outcome(measure="env-carbon-saved", quantity=quantity, unit="tCO2e",
                   region="scotland", date=period[0])
    parts = sv.apportion_outcome(o, period[0], period[1])
    bulk = apportion(_rows_frame([(period, quantity)]))
    assert [p.quantity for p in parts] == bulk["quantity"].tolist()
    assert [p.date for p in parts] == [d.date() for d in bulk["date"]]
    assert [p.period_share or 1.0 for p in parts] == bulk["period_share"].tolist()


@pytest.mark.parametrize(("start", "end", "text"), [
    ("2024-05-01", "2024-04-30", "before its start"),
    ("2024-13-01", "2024-12-31", "period start '2024-13-01'"),
    ("2024-01-01", 20241231, "period end 20241231"),
])
def test_apportion_outcome_refuses_bad_periods(start: Any, end: Any, text: str) -> None:
    o = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01")
    with pytest.raises(sv.OutcomeError, match=text):
        sv.apportion_outcome(o, start, end)
    with pytest.raises(sv.OutcomeError, match="already a part"):
        sv.apportion_outcome(o.model_copy(update={"period_share": 0.5}), "2024-01-01",
                             "2024-12-31")
    with pytest.raises(TypeError, match="needs an Outcome"):
        sv.apportion_outcome({"measure": "x"}, "2024-01-01", "2024-12-31")  # type: ignore[arg-type]


def test_apportion_when_carrying_forward_splits_each_financial_year_after_the_last_edition(
        ) -> None:
    """With carry_forward, the years after uk-national's last edition (2025/26) are valued one
    by one: a 2026-04-01..2028-03-31 period is two parts (365 and 366 days, shares 365/731 and
    366/731), so the 2027/28 priority hire reduces the 2027/28 part of the local jobs (docs/
    rules.md, 10); apportion_outcome gives the same parts; without it, one part."""
    df = pd.DataFrame({"contract_id": ["C1", "C1"],
                       "measure": ["jobs-local-fte", "jobs-priority-ltu"],
                       "quantity": [10.0, 2.0], "unit": "FTE", "region": "uk",
                       "period_start": ["2026-04-01", "2027-04-01"],
                       "period_end": ["2028-03-31", "2028-03-31"]})
    parts = sv.apportion(df, carry_forward=True)
    assert parts["period_share"].tolist() == [365 / 731, 366 / 731, 1.0]
    assert [str(d.date()) for d in parts["date"]] == ["2026-04-01", "2027-04-01", "2027-04-01"]
    out = sv.value_frame(parts, assumptions=sv.Assumptions(carry_forward=True))
    assert out["claim_share"].tolist() == [1.0, pytest.approx(1 - 2 / (10 * 366 / 731)), 1.0]
    one = sv.Outcome(measure="jobs-local-fte", quantity=10.0, unit="FTE", region="uk",
                     date="2026-04-01")
    scalar = sv.apportion_outcome(one, "2026-04-01", "2028-03-31", carry_forward=True)
    assert [p.quantity for p in scalar] == parts["quantity"].iloc[:2].tolist()
    assert len(sv.apportion(df)) == 2  # not carrying forward: the editions' cuts only
    # One row alone is cut at each 1 April up to its own last day: 2027/28 is its second
    # part; and a period ending on a 1 April has that day as a part of its own.
    alone = sv.apportion(df.iloc[:1], carry_forward=True)
    assert alone["period_share"].tolist() == [365 / 731, 366 / 731]
    short = sv.apportion(df.iloc[:1].assign(period_start="2027-03-01",
                                            period_end="2027-04-01"), carry_forward=True)
    assert [str(d.date()) for d in short["date"]] == ["2027-03-01", "2027-04-01"]
    assert short["period_share"].tolist() == [31 / 32, 1 / 32]


def test_apportion_when_carrying_forward_across_a_gap_between_editions_splits_each_year(
        tmp_path: Any) -> None:
    """Editions for 2021/22 and 2024/25 only: a 2022-04-01..2024-03-31 period lies in the gap,
    valued with 2021/22 carried forward, one part per financial year (as their claims are
    grouped); without carry_forward, one part."""
    from conftest import tiny_variant

    old = sv.load_table(path=tiny_variant(
        tmp_path, ('version: "2024"', 'version: "2021"'),
        ("valid_from: 2024-04-01", "valid_from: 2021-04-01"),
        ("valid_to: 2025-03-31", "valid_to: 2022-03-31"), name="t2021.yaml"))
    new = sv.load_table(path=tiny_variant(tmp_path, name="t2024.yaml"))
    df = pd.DataFrame({"contract_id": ["C1"], "measure": ["jobs-local"], "quantity": [10.0],
                       "unit": "FTE", "region": "uk", "period_start": ["2022-04-01"],
                       "period_end": ["2024-03-31"]})
    parts = sv.apportion(df, [old, new], carry_forward=True)
    assert [str(d.date()) for d in parts["date"]] == ["2022-04-01", "2023-04-01"]
    assert parts["period_share"].tolist() == [365 / 731, 366 / 731]
    assert len(sv.apportion(df, [old, new])) == 1


def test_rules_md_recipe_for_whole_rows_gives_the_command_lines_total(tmp_path: Any) -> None:
    """docs/rules.md: counting a period row wholly or not at all, as the command line does,
    re-values the kept parts. Dropping the bad row's parts from the first valuation kept the
    share its good part took from the local jobs beside it (£259,696.52, not £373,620.00)."""
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    df = pd.DataFrame({"contract_id": ["K1", "K1"],
                       "measure": ["jobs-local-fte", "jobs-priority-ltu"],
                       "quantity": [10.0, 6.0], "unit": ["FTE", "FTE"],
                       "region": ["london", "london"],
                       "period_start": ["2025-06-01", "2026-03-01"],
                       "period_end": ["2025-06-30", "2026-04-30"]})  # row 1 runs past 2026
    parts = sv.apportion(df, errors="collect")
    valued = sv.value_frame(parts, errors="collect")
    bad = valued.loc[valued["value_gbp"].isna(), "period_row"]
    valued = sv.value_frame(parts[~parts["period_row"].isin(bad)])
    path = tmp_path / "per.csv"
    df.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["value", str(path), "--period", "period_start,period_end",
                                      "--errors", "collect"])
    assert result.exit_code == 1
    assert money.total(valued["value_gbp"]) == Decimal("373620.00")
    assert re.search(r"£373,620\.00\s*│\s*$", result.stdout, flags=re.M)


def test_carrying_forward_cuts_at_the_first_1_april_when_the_first_edition_starts_before_it(
        tmp_path: Any) -> None:
    """An edition for 1 January..28 February 2023 only: carried forward, a 2023-03-01..
    2023-05-31 period is two parts, cut at 1 April 2023 (the financial year turns there even
    though no edition starts or ends on it)."""
    from conftest import tiny_variant

    short = sv.load_table(path=tiny_variant(
        tmp_path, ('version: "2024"', 'version: "2023"'),
        ("valid_from: 2024-04-01", "valid_from: 2023-01-01"),
        ("valid_to: 2025-03-31", "valid_to: 2023-02-28")))
    df = pd.DataFrame({"contract_id": ["C1"], "measure": ["jobs-local"], "quantity": [92.0],
                       "unit": "FTE", "region": "uk", "period_start": ["2023-03-01"],
                       "period_end": ["2023-05-31"]})
    parts = sv.apportion(df, short, carry_forward=True)
    assert [str(d.date()) for d in parts["date"]] == ["2023-03-01", "2023-04-01"]
    assert parts["period_share"].tolist() == [31 / 92, 61 / 92]


def test_value_frame_warns_where_carried_parts_were_apportioned_without_carry_forward() -> None:
    """A contract manager's review: a period from January 2026 to June 2027, apportioned
    without carry_forward and valued with it, was one part from April 2026 valued as one
    year, with no word (the command line splits it at each 1 April). A warning names the
    setting to pass to apportion; matched settings, or a carried part within one financial
    year, draw none."""
    import warnings

    row = pd.DataFrame({"contract_id": ["C1"], "measure": ["jobs-local-fte"],
                        "quantity": [3.0], "unit": ["FTE"], "region": ["london"],
                        "period_start": ["2026-01-01"], "period_end": ["2027-06-30"]})
    carry = {"carry_forward": True}
    with pytest.warns(sv.SocialValueWarning, match="1 row\\(s\\) valued with an edition "
                      "carried forward are parts of a period that runs across 1 April"):
        sv.value_frame(sv.apportion(row), assumptions=carry)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        split = sv.value_frame(sv.apportion(row, carry_forward=True), assumptions=carry)
        within = row.assign(period_start="2026-04-01", period_end="2027-03-31")
        sv.value_frame(sv.apportion(within), assumptions=carry)
    assert len(split) == 3  # January-March 2026, 2026/27, April-June 2027
