"""The words of advice both engines give, held exactly (from a mutation review of them):
unknown grades, years, regions a council writes its own way, units, keywords, groupings."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import TINY, TINY_2023, tiny_variant

import socialvalue_tom as sv
from socialvalue_tom.frame import value_frame

ROW = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
       "date": "2024-06-01"}


def _reasons(df: pd.DataFrame, tables: Any, **kw: Any) -> list[str]:
    return value_frame(df, tables, errors="collect", **kw).attrs["issues"]["reason"].tolist()


def test_an_unknown_grade_is_told_in_one_wording_naming_the_row_s_edition(
        tmp_path: Path) -> None:
    """Each row's own edition and its grades; a grade given as a number as its text; a
    table without grades says so."""
    tiny = sv.load_table(path=TINY)
    old = sv.load_table(path=tiny_variant(tmp_path / "old", *TINY_2023,
                                          ("grades: {A: 0.0, B: 0.1, C: 0.4}",
                                           "grades: {X: 0.0}")))
    with pytest.raises(sv.OutcomeError) as one:
        sv.value(sv.Outcome(**ROW, confidence=7), tiny)
    assert one.value.message == "unknown confidence grade '7': table tiny:2024 has A, B, C"
    rows = pd.DataFrame([{**ROW, "confidence": 7},
                         {**ROW, "date": "2023-06-01", "confidence": "A"}])
    assert _reasons(rows, [old, tiny]) == [
        one.value.message, "unknown confidence grade 'A': table tiny:2023 has X"]
    bare = sv.load_table(path=tiny_variant(tmp_path / "bare", (
        "confidence_grades:\n  source: test-source\n  grades: {A: 0.0, B: 0.1, C: 0.4}\n",
        "")))
    with pytest.raises(sv.OutcomeError) as none:
        sv.value(sv.Outcome(**ROW, confidence="A"), bare)
    assert none.value.message.endswith("table tiny:2024 has none (the table declares no grades)")


def test_each_row_before_the_discount_base_year_names_its_own_year() -> None:
    rows = pd.DataFrame([{**ROW, "date": "2024-06-01"}, {**ROW, "date": "2025-06-01"}])
    tiny = sv.load_table(path=TINY)
    later = sv.ProxyTable(tiny.spec.model_copy(update={
        "version": "2025", "valid_from": pd.Timestamp("2025-04-01").date(),
        "valid_to": pd.Timestamp("2026-03-31").date()}), price_index=tiny.price_index)
    reasons = _reasons(rows, [tiny, later], assumptions=sv.Assumptions(discount_base_year=2026))
    assert [r.split(" is before")[0] for r in reasons] == ["outcome year 2024",
                                                          "outcome year 2025"]


def test_years_a_fraction_whose_float_is_whole_is_refused_as_outcome_refuses_it() -> None:
    years = Fraction(10**17 + 1, 10**17)  # float(years) == 1.0
    with pytest.raises(sv.OutcomeError):
        sv.Outcome(**ROW, years=years)
    rows = pd.DataFrame([{**ROW, "years": years}]).astype({"years": object})
    found = value_frame(rows, sv.load_table(path=TINY), errors="collect").attrs["issues"]
    assert found[["field", "code"]].values.tolist() == [["years", "out-of-range"]]


@pytest.mark.parametrize(("cell", "advice"), [
    ("3 tonnes", ": write the number alone, 3, and the unit (tonnes) in the unit column"),
    ("2 years", ""),  # only a quantity has a unit column beside it
])
def test_the_unit_column_advice_is_a_quantity_s(cell: str, advice: str) -> None:
    column = "quantity" if "tonnes" in cell else "years"
    rows = pd.DataFrame([{**ROW, column: cell}])
    assert _reasons(rows, sv.load_table(path=TINY)) == [
        f"{column} {cell!r} is not a number{advice}"]


@pytest.mark.parametrize(("region", "advice"), [
    ("North West.", "; 'North West.' is a region of England, which the table does not value "
     "apart: give england"),
    ("north_west", "; 'north_west' is a region of England, which the table does not value "
     "apart: give england"),
])
def test_an_english_region_written_with_stops_or_underscores_is_told_to_give_england(
        region: str, advice: str) -> None:
    with pytest.raises(sv.UnknownRegionError) as info:
        sv.load_table("uk-national", version="2024").region_code(region)
    assert info.value.message.endswith(advice)


def test_region_advice_names_only_codes_the_table_has() -> None:
    """tiny has no wales: Cymru is not told to give it."""
    with pytest.raises(sv.UnknownRegionError) as info:
        sv.load_table(path=TINY).region_code("Cymru")
    assert info.value.message.endswith("expected one of uk, england, london, scotland")


def test_a_user_s_own_family_is_never_told_an_embedded_edition_covers_a_date() -> None:
    with pytest.raises(sv.NoTableInForceError) as info:
        sv.value(sv.Outcome(**{**ROW, "date": "2023-06-01"}), sv.load_table(path=TINY))
    assert info.value.message.endswith("editions cover 2024 (2024-04-01..2025-03-31)")


def test_the_fte_year_hint_needs_an_fte_measure_and_the_table_s_figure(tmp_path: Path) -> None:
    with_hours = sv.load_table(path=tiny_variant(tmp_path / "h", (
        "  leakage: {value: 0.25, source: test-source}\n",
        "  leakage: {value: 0.25, source: test-source}\n"
        "  hours_per_fte_year: {value: 1950, source: test-source}\n")))
    with pytest.raises(sv.UnitError) as weeks:  # a week measure: no FTE-year to give
        with_hours.unit_factor("jobs-apprentice", "hour")
    assert "FTE-year" not in weeks.value.message
    tiny = sv.load_table(path=TINY)
    with pytest.raises(sv.UnitError) as fte:  # an FTE measure, no figure: nothing to give
        tiny.unit_factor("jobs-local", "hours")
    assert "FTE-year" not in fte.value.message


def test_a_field_error_is_not_given_a_did_you_mean() -> None:
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**{**ROW, "quantity": "abc"})
    assert info.value.message == ("outcome field 'quantity': quantity must be a number, not "
                                  "text or a boolean (got 'abc')")


@pytest.mark.parametrize("name", ["Level", "a" * 70])
def test_only_a_name_a_table_can_require_is_sent_to_fields(name: str) -> None:
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**ROW, **{name: 3})
    assert "goes in fields" not in info.value.message


def test_a_grouping_is_told_the_input_s_column_it_is_close_to_and_the_first_unknown() -> None:
    valued = value_frame(pd.DataFrame([{**ROW, "programme": "P1"}]), sv.load_table(path=TINY))
    for by, near in (("programe", "programme"), (["themes", "colour"], "theme")):
        with pytest.raises(sv.OutcomeError) as info:
            sv.summarise(valued, by=by)
        assert info.value.message.endswith(f"did you mean {near}?")


def test_waste_in_tonnes_is_offered_in_kilograms_too() -> None:
    t = sv.load_table("uk-national", version="2024")
    assert t.units_offered("env-waste-recycled") == ("tonne", "kg")
    assert t.units_offered("growth-local-spend") == ("GBP", "kGBP")


def test_one_by_with_an_unknown_grouping_is_not_told_to_split_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    src = tmp_path / "in.csv"
    src.write_text("measure,quantity,unit,region,date\njobs-local,1,FTE,uk,2024-06-01\n",
                   encoding="utf-8")
    both = CliRunner().invoke(app, ["value", str(src), "--tables", str(TINY), "--by",
                                    "theme,bogus"])
    assert both.exit_code == 2 and "one value only" not in both.output



def test_an_english_region_is_not_told_to_give_england_where_the_table_has_none(
        tmp_path: Path) -> None:
    no_england = sv.load_table(path=tiny_variant(
        tmp_path, ("  - {code: england, name: England, parent: uk}\n", ""),
        ("{code: london, name: London, parent: england}",
         "{code: london, name: London, parent: uk}")))
    with pytest.raises(sv.UnknownRegionError) as info:
        no_england.region_code("north-west")
    assert "give england" not in info.value.message


def test_a_measure_listing_its_units_is_offered_those_alone(tmp_path: Path) -> None:
    """kgCO2e is offered beside tCO2e only for a measure that converts any unit of its kind."""
    listed = sv.load_table(path=tiny_variant(
        tmp_path, ("    unit: tCO2e\n", "    unit: tCO2e\n    accepts: [tCO2e]\n")))
    assert listed.units_offered("env-carbon") == ("tCO2e",)
    assert sv.load_table(path=TINY).units_offered("env-carbon") == ("tCO2e", "kgCO2e")


# -- Units a site team writes for skills measures (a skills and apprenticeships lead's review):
# each was refused with only "expected one of week", leaving the team to guess why.

UK_2025 = sv.load_table("uk-national", version="2025")


@pytest.mark.parametrize(("measure", "unit", "advice"), [
    ("jobs-apprenticeship-l2-week", "apprentice weeks", "; write 'week': the quantity is the "
     "weeks of all of them together (3 people for 10 weeks each is 30 weeks)"),
    ("jobs-apprenticeship-l3-week", "FTE-weeks", "; write 'week': the quantity is the weeks of "
     "all of them together (3 people for 10 weeks each is 30 weeks)"),
    ("jobs-training-employee-hour", "person-hours", "; write 'hours': the quantity is the hours "
     "of all of them together (3 people for 10 hours each is 30 hours)"),
    ("jobs-training-jobseeker-hour", "Learner_Hours", "; write 'hour': the quantity is the "
     "hours of all of them together (3 people for 10 hours each is 30 hours)"),
    ("jobs-work-placement-week", "person-days", "; 'person-days' counts days; days are not "
     "converted to weeks (a working week is 5 days, a calendar week 7): give the weeks"),
    ("jobs-apprenticeship-l2-week", "days", "; days are not converted to weeks (a working week "
     "is 5 days, a calendar week 7): give the weeks"),
    ("jobs-apprenticeship-l2-week", "hours", "; hours are not converted to weeks (the table "
     "values a week at 37.5 hours of work, its hours_per_week): give the weeks from the "
     "agreement or payroll record"),
    ("jobs-apprenticeship-l4plus-week", "year", "; give the weeks: a year is 52 weeks in this "
     "table (its weeks_per_year)"),
    ("jobs-supported-internship-week", "fortnight", "; give the weeks (a fortnight is 2)"),
    ("jobs-apprenticeship-l2-week", "month", "; a month is not a whole number of weeks: give "
     "the weeks"),
    ("jobs-apprenticeship-l2-week", "starts", "; 'starts' counts people or occasions, not time: "
     "give the weeks of all of them together (3 people for 10 weeks each is 30 weeks)"),
    ("jobs-apprenticeship-l2-week", "FTE", "; one FTE for a whole year is 52 weeks in this "
     "table (its weeks_per_year); give the weeks"),
    ("jobs-training-employee-hour", "days", "; a day of training or staff time has no fixed "
     "number of hours (a working day is not 24 hours): give the hours, from the attendance "
     "record or timesheet"),
    ("jobs-school-engagement-hour", "minutes", "; give the hours (minutes / 60)"),
    # Not a day's 24 hours said of a week, nor hours said of minutes.
    ("jobs-training-employee-hour", "weeks", "; a week of training or staff time has no fixed "
     "number of hours (a working week is not 168 hours): give the hours, from the attendance "
     "record or timesheet"),
    ("jobs-apprenticeship-l2-week", "minutes", "; minutes are not converted to weeks (the "
     "table values a week at 37.5 hours of work, its hours_per_week): give the weeks from the "
     "agreement or payroll record"),
    ("jobs-local-fte", "FTE-years", "; an FTE here is already a year of full-time work, over the "
     "row's period (1 FTE employed all year is 1, for a quarter 0.25): write 'FTE'"),
    ("jobs-priority-neet", "fte years", "; an FTE here is already a year of full-time work, over "
     "the row's period (1 FTE employed all year is 1, for a quarter 0.25): write 'fte'"),
    ("jobs-local-fte", "headcount", "; 'headcount' counts people or occasions, not full-time "
     "equivalents: give the FTE-years instead, each person's contracted hours over a full-time "
     "week, pro rata for the part of the year employed (a full-time employee all year is 1)"),
    ("jobs-local-fte", "hires", "; give the FTE-years instead, each person's contracted hours "
     "over a full-time week, pro rata for the part of the year employed (a full-time employee "
     "all year is 1)"),
])
def test_a_skills_unit_a_site_team_writes_is_told_what_to_write(
        measure: str, unit: str, advice: str) -> None:
    """Refused (never read as something else), with the unit to write and why no factor was
    applied; the same words on the bulk path."""
    with pytest.raises(sv.UnitError) as info:
        UK_2025.unit_factor(measure, unit)
    assert info.value.message.endswith(advice)
    assert info.value.message.startswith(f"unit {unit!r} is not accepted for measure "
                                         f"{measure!r}: expected one of ")
    row = {"measure": measure, "quantity": 10.0, "unit": unit, "region": "uk",
           "date": "2025-06-30"}
    assert _reasons(pd.DataFrame([row]), UK_2025) == [info.value.message]


@pytest.mark.parametrize(("measure", "unit"), [
    ("jobs-apprenticeship-l2-week", "hours per week"),  # a rate, not a quantity: no reading
    ("jobs-local-fte", "person-years"), ("jobs-local-fte", "FTE-weeks"),
    ("jobs-training-employee-hour", "hour kg"), ("jobs-apprenticeship-l2-week", "widgets"),
])
def test_units_with_no_one_reading_get_no_advice(measure: str, unit: str) -> None:
    """Advice only where one unit of the measure's kind is named: a rate or an unknown word is
    refused with the accepted spellings alone, never told a conversion it does not make."""
    with pytest.raises(sv.UnitError) as info:
        UK_2025.unit_factor(measure, unit)
    accepts = ", ".join(UK_2025.measure(measure).accepts or ())
    assert info.value.message == (f"unit {unit!r} is not accepted for measure {measure!r}: "
                                  f"expected one of {accepts}")


def test_the_week_advice_quotes_the_table_s_own_week_only_where_it_has_one() -> None:
    """tiny has no hours_per_week: its apprentice week is not said to be 37.5 hours."""
    with pytest.raises(sv.UnitError) as info:
        sv.load_table(path=TINY).unit_factor("jobs-apprentice", "hours")
    assert info.value.message.endswith(
        "; hours are not converted to weeks: give the weeks from the agreement or payroll "
        "record")


@pytest.mark.parametrize("unit", ["wk", "wks", "Wks", "WK"])
def test_weeks_abbreviated_as_a_returns_form_heads_them_are_weeks(unit: str) -> None:
    """'wk' and 'wks' were unknown to the registry: refused where 'weeks' is read."""
    assert UK_2025.unit_factor("jobs-apprenticeship-l2-week", unit) == 1.0
    row = {"measure": "jobs-apprenticeship-l2-week", "quantity": 13.0, "unit": unit,
           "region": "uk", "date": "2025-06-30"}
    out = value_frame(pd.DataFrame([row]), UK_2025)
    assert round(float(out["value_gbp"].iloc[0]), 2) == 3680.69  # 13 x 283.13
    with pytest.raises(sv.UnitError):  # never hours: 'wk' is calendar time
        UK_2025.unit_factor("jobs-training-employee-hour", unit)
