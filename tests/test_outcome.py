"""Outcome and Assumptions: validation raises OutcomeError / RuleError, never pydantic's."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from pydantic import ValidationError

import socialvalue_tom as sv
from socialvalue_tom.outcome import financial_year

GOOD: dict[str, Any] = {"measure": "jobs-local", "quantity": 2, "unit": "FTE",
                        "region": "london", "date": dt.date(2024, 6, 1)}


def test_outcome_when_valid_is_frozen_and_stripped() -> None:
    """A valid outcome is immutable; text fields are stripped."""
    o = sv.Outcome(**dict(GOOD, region="  london "))
    assert o.region == "london" and o.quantity == 2.0 and o.years == 1
    with pytest.raises(sv.OutcomeError):  # the typed error, as for every bad input
        o.quantity = 3  # type: ignore[misc]


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("quantity", -1, "-1"), ("quantity", -0.01, "-0.01"), ("quantity", math.nan, "nan"),
    ("quantity", math.inf, "inf"), ("quantity", -math.inf, "inf"),
    ("quantity", 1e13, "10000000000000.0"),
    ("quantity", True, "True"), ("quantity", False, "False"), ("quantity", None, "None"),
    ("quantity", "5", "'5'"), ("quantity", "five", "'five'"), ("quantity", [1], "[1]"),
    ("years", 0, "0"), ("years", 126, "126"), ("years", 2.5, "2.5"),
    ("deadweight", 1.5, "1.5"), ("deadweight", -0.1, "-0.1"), ("drop_off", math.inf, "inf"),
    ("date", "01/06/2024", "01/06/2024"), ("date", "2024-02-30", "2024-02-30"),
    ("measure", "", "''"), ("region", "", "''"), ("contract_value", 0, "0"),
    ("contract_value", -5, "-5"), ("stage", "maybe", "maybe"),
    ("fields", {"level": math.inf}, "level"), ("fields", {"level": "high"}, "high"),
    ("colour", "blue", "colour"),
])
def test_outcome_when_field_invalid_raises_outcome_error(field: str, value: Any,
                                                         needle: str) -> None:
    """Each invalid field raises OutcomeError naming the field and the offending value."""
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**dict(GOOD, **{field: value}))
    err = info.value
    assert field in str(err) and needle in str(err)
    assert err.field.split(".")[0] == field
    assert not isinstance(err, ValidationError)
    assert err.__cause__ is None  # the pydantic error is not leaked as the cause


#: The markers pandas gives a blank cell (row.to_dict() of a frame with gaps).
MISSING = [None, math.nan, np.float64("nan"), pd.NA, pd.NaT, Decimal("NaN")]
#: Every optional field of Outcome (a default to fall back on).
OPTIONAL = [name for name, f in sv.Outcome.model_fields.items() if not f.is_required()]


@pytest.mark.parametrize("missing", MISSING, ids=repr)
@pytest.mark.parametrize("field", OPTIONAL)
def test_outcome_when_optional_field_is_a_missing_marker_reads_it_as_not_given(
        tiny_table: Any, field: str, missing: Any) -> None:
    """None, NaN, pd.NA or NaT in an optional field is the field not given (its default), as
    value_frame reads a blank cell: Outcome(**row.to_dict()) values a row with gaps as
    value_frame does (a notebook analyst's review: a NaN stage or years was refused)."""
    o = sv.Outcome(**dict(GOOD, **{field: missing}))
    assert field not in o.model_fields_set
    assert getattr(o, field) == sv.Outcome.model_fields[field].get_default(
        call_default_factory=True)
    assert o.years == 1
    row = pd.DataFrame([dict(GOOD, date="2024-06-01", **{field: missing})])
    if field == "fields":
        row = row.drop(columns="fields")  # value_frame reads a measure's fields as columns
    out = sv.value_frame(row, tiny_table)
    assert out["value_gbp"].iloc[0] == sv.value(o, tiny_table).amount == 54000.0  # 2x30k x0.9


@pytest.mark.parametrize("missing", MISSING, ids=repr)
@pytest.mark.parametrize("field", ["measure", "quantity", "region", "date"])
def test_outcome_when_required_field_is_a_missing_marker_still_raises(field: str,
                                                                       missing: Any) -> None:
    """A required field has no default to fall back on: a missing marker is refused."""
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**dict(GOOD, **{field: missing}))
    assert info.value.field == field


def test_outcome_from_a_frame_row_with_gaps_equals_value_frame(tiny_table: Any) -> None:
    """The notebook's case: a row of a frame whose optional columns are partly blank."""
    df = pd.DataFrame({"measure": ["jobs-local"] * 2, "quantity": [2.0, 1.0],
                       "unit": ["FTE", None], "region": ["london", "uk"],
                       "date": ["2024-06-01"] * 2, "years": [2, None],
                       "stage": ["delivered", None], "contract_id": ["c1", None]})
    out = sv.value_frame(df, tiny_table)
    scalar = [sv.value(sv.Outcome(**r), tiny_table).amount for r in df.to_dict("records")]
    assert out["value_gbp"].tolist() == scalar


def test_outcome_when_years_is_none_json_null_or_copied_to_none_is_one_year() -> None:
    """years=None is its default, 1, however it is given."""
    assert sv.Outcome(**GOOD, years=None).years == 1
    text = '{"measure": "jobs-local", "quantity": 2, "region": "uk", "date": "2024-06-01", ' \
           '"years": null}'
    assert sv.Outcome.model_validate_json(text).years == 1
    assert sv.Outcome(**GOOD, years=3).model_copy(update={"years": None}).years == 1


def test_outcome_when_optional_field_is_a_signalling_nan_raises() -> None:
    """Decimal('sNaN') is no missing marker (value_frame refuses it as not a number)."""
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**GOOD, years=Decimal("sNaN"))
    assert info.value.field == "years"


NUMBERS = ["years", "deadweight", "displacement", "attribution", "drop_off", "contract_value"]


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
@pytest.mark.parametrize("field", NUMBERS)
def test_outcome_when_number_is_a_boolean_raises_outcome_error(field: str, value: Any) -> None:
    """True is not 1 year, nor a deadweight of 1: value_frame reports a boolean in these columns
    as an issue ('deadweight True is a boolean, not a number'), so the scalar Outcome refuses it
    too."""
    with pytest.raises(sv.OutcomeError, match=f"{field} must be a number, not a boolean") as info:
        sv.Outcome(**dict(GOOD, **{field: value}))
    assert info.value.field == field


@pytest.mark.parametrize("field", NUMBERS)
def test_outcome_when_number_is_a_boolean_value_frame_agrees(tiny_table: Any, field: str) -> None:
    row = {k: [v] for k, v in GOOD.items()} | {field: [True]}
    out = sv.value_frame(pd.DataFrame(row), tiny_table, errors="collect")
    assert out.attrs["issues"][["field", "code"]].values.tolist() == [[field, "not-a-number"]]


@pytest.mark.parametrize("value", [True, False, np.True_])
@pytest.mark.parametrize("field", ["deadweight", "displacement", "attribution", "drop_off"])
def test_assumptions_when_fraction_is_a_boolean_raise_rule_error(field: str, value: Any) -> None:
    with pytest.raises(sv.RuleError, match=f"{field} must be a number, not a boolean"):
        sv.Assumptions(**{field: value})


@pytest.mark.parametrize(("field", "value"), [("years", 3), ("deadweight", 1), ("drop_off", 0),
                                              ("contract_value", 10), ("deadweight", 0.5)])
def test_outcome_when_number_is_an_int_or_float_is_accepted(field: str, value: Any) -> None:
    assert getattr(sv.Outcome(**dict(GOOD, **{field: value})), field) == value


@pytest.mark.parametrize("missing", ["measure", "quantity", "region", "date"])
def test_outcome_when_required_field_missing_raises_outcome_error(missing: str) -> None:
    """A missing required field is named."""
    data = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(sv.OutcomeError, match=missing) as info:
        sv.Outcome(**data)
    assert info.value.field == missing
    assert "required" in str(info.value).lower()


@pytest.mark.parametrize(("field", "value"), [
    ("deadweight", 2.0), ("discount_base_year", 1800), ("price_year", 3000),
    ("discount_schedule", "cheap"), ("bound", "median"), ("carry", True),
])
def test_assumptions_when_invalid_raise_rule_error(field: str, value: Any) -> None:
    """Bad assumptions raise RuleError naming the field."""
    with pytest.raises(sv.RuleError, match=field):
        sv.Assumptions(**{field: value})


@pytest.mark.parametrize(("day", "year"), [
    (dt.date(2024, 4, 1), 2024), (dt.date(2025, 3, 31), 2024), (dt.date(2024, 3, 31), 2023),
    (dt.date(2024, 12, 31), 2024),
])
def test_financial_year_when_date_given_starts_in_april(day: dt.date, year: int) -> None:
    """The UK financial year runs April to March."""
    assert financial_year(day) == year


@pytest.mark.parametrize("date", ["20240401", "2024-W14-1", "1711929600", 1711929600, 20240401,
                                  "2024-4-1", "01/04/2024"])
def test_outcome_date_is_a_date_or_iso_text_never_a_number(date: object) -> None:
    """Only YYYY-MM-DD text (or a date object): no basic/week ISO forms, no Unix timestamps."""
    with pytest.raises(sv.OutcomeError, match="date"):
        sv.Outcome(measure="jobs-local", quantity=1, region="uk", date=date)


def test_outcome_date_from_a_datetime_is_its_own_calendar_date() -> None:
    """As value_frame reads a datetime column: the wall-clock date, time of day dropped."""
    for value in (dt.datetime(2024, 4, 1, 10, 30), np.datetime64("2024-04-01T23:59"),
                  dt.datetime(2024, 4, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))):
        o = sv.Outcome(measure="jobs-local", quantity=1, region="uk", date=value)
        assert o.date == dt.date(2024, 4, 1)


def test_value_frame_refuses_the_date_forms_the_scalar_refuses() -> None:
    df = pd.DataFrame({"measure": ["jobs-local"] * 3, "quantity": [1.0] * 3, "unit": ["FTE"] * 3,
                       "region": ["uk"] * 3, "date": ["20240401", "2024-W14-1", "2024-04-01"]})
    out = sv.value_frame(df, sv.load_table(path=TINY), errors="collect")
    issues = out.attrs["issues"]
    assert list(issues["row"]) == [0, 1] and set(issues["code"]) == {"bad-date"}


@pytest.mark.parametrize("value", [np.timedelta64(5, "Y"), np.timedelta64(5, "s"),
                                   np.timedelta64(3, "ns"), np.datetime64(5, "Y"),
                                   dt.timedelta(days=1),
                                   pd.Timedelta(1), pd.Timestamp("2024-01-01")])
@pytest.mark.parametrize("field", ["quantity", *NUMBERS, "fields"])
def test_outcome_refuses_times_where_numbers_are_expected(field: str, value: Any,
                                                          tiny_table: Any) -> None:
    """pydantic reads timedelta64(5, 'Y') as 5 (and 'ns' spans as their count): a time is not
    a number, as value_frame says of the same cell."""
    given = {"level": value} if field == "fields" else value
    with pytest.raises(sv.OutcomeError, match="must be a number, not a time") as info:
        sv.Outcome(**dict(GOOD, **{field: given}))
    assert info.value.field == field
    if field != "fields":
        row = {k: [v] for k, v in GOOD.items()} | {field: pd.Series([value], dtype=object)}
        out = sv.value_frame(pd.DataFrame(row), tiny_table, errors="collect")
        assert out.attrs["issues"]["field"].tolist() == [field]


@pytest.mark.parametrize("value", [np.timedelta64(5, "Y"), np.timedelta64(5, "s"),
                                   np.timedelta64(3, "ns")])
@pytest.mark.parametrize("field", ["contract_id", "supplier_id", "confidence"])
def test_outcome_refuses_numpy_time_spans_as_ids_as_value_frame_does(
        field: str, value: Any, tiny_table: Any) -> None:
    """value_frame reads a numpy time span in a text column as not a value (pandas cannot even
    hold timedelta64(5, 'Y') in a column it infers: it used to raise a bare ValueError)."""
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(**dict(GOOD, **{field: value}))
    assert info.value.field == field
    row = {k: [v] for k, v in GOOD.items()} | {field: pd.Series([value], dtype=object)}
    out = sv.value_frame(pd.DataFrame(row), tiny_table, errors="collect")
    assert out.attrs["issues"]["field"].tolist() == [field]


@pytest.mark.parametrize("text", ["jobs-local\x1f", "\x1cjobs-local", "jobs-local\x1e\x1d "])
def test_outcome_strips_measure_and_region_as_value_frame_does(text: str,
                                                               tiny_table: Any) -> None:
    """Python counts U+001C..U+001F as whitespace and value_frame strips them; pydantic's own
    stripping keeps them. Both paths now read the same code (and explain_row rebuilds it)."""
    o = sv.Outcome(**dict(GOOD, measure=text, region=text.replace("jobs-local", "london")))
    assert (o.measure, o.region) == ("jobs-local", "london")
    row = {k: [v] for k, v in GOOD.items()} | {"measure": [text],
                                               "region": ["london" + "\x1f" * 60]}
    out = sv.value_frame(pd.DataFrame(row), tiny_table)
    assert sv.explain_row(out, 0).startswith("Valuation of 2 FTE of jobs-local (london)")
    assert out["value_gbp"].iloc[0] == sv.value(o, tiny_table).amount


@pytest.mark.parametrize("kwargs", [{"quantity": np.bool_(True)},
                                    {"quantity": 1, "fields": {"level": True}},
                                    {"quantity": 1, "fields": {"level": "3"}}])
def test_outcome_refuses_booleans_and_text_where_numbers_are_expected(
        kwargs: dict[str, Any]) -> None:
    """As value_frame does ('not-a-number'): numpy booleans and numeric text included."""
    with pytest.raises(sv.OutcomeError, match="not text or a boolean"):
        sv.Outcome(measure="jobs-local", region="uk", date="2024-06-01", **kwargs)


def test_outcome_from_json_raises_outcome_errors_not_pydantic_ones() -> None:
    """The JSON path procurement systems use gives the same typed error as the constructor."""
    bad = '{"measure": "x", "quantity": -1, "region": "s", "date": "2024-01-01"}'
    with pytest.raises(sv.OutcomeError, match="outcome field 'quantity'"):
        sv.Outcome.model_validate_json(bad)
    with pytest.raises(sv.OutcomeError, match="date"):
        sv.Outcome.model_validate({"measure": "x", "quantity": 1, "region": "s",
                                   "date": "20240101"})
    with pytest.raises(sv.OutcomeError, match="Invalid JSON"):
        sv.Outcome.model_validate_json("not json")
    with pytest.raises(sv.RuleError, match="assumption 'deadweight'"):
        sv.Assumptions.model_validate_json('{"deadweight": 2}')
    good = '{"measure": "x", "quantity": 1, "region": "s", "date": "2024-01-01"}'
    assert sv.Outcome.model_validate_json(good).quantity == 1.0


def test_outcome_when_stage_padded_reads_it_stripped() -> None:
    """Like every other text field (and like value_frame), stage is read without surrounding
    whitespace: a Literal field is not reached by str_strip_whitespace, so it has its own."""
    assert sv.Outcome(**dict(GOOD, stage=" delivered ")).stage == "delivered"


@pytest.mark.parametrize("field", ["unit", "confidence", "stage", "contract_id", "supplier_id"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_outcome_when_optional_text_blank_reads_it_as_absent(field: str, blank: str) -> None:
    """Blank optional text is absent, as value_frame reads a blank cell (and a CSV reader an
    empty field): the two paths agree on such rows."""
    assert getattr(sv.Outcome(**dict(GOOD, **{field: blank})), field) is None


def test_outcome_fields_are_read_only_and_the_outcome_hashes() -> None:
    """A frozen outcome's fields cannot change under a valuation; equal outcomes hash alike."""
    kw = dict(measure="jobs-apprentice", quantity=1.0, unit="week", region="uk",
              date=dt.date(2024, 6, 1), fields={"level": 2.0})
    o = sv.Outcome(**kw)
    with pytest.raises(TypeError, match="read-only"):
        o.fields["level"] = 3.0  # type: ignore[index]
    assert o.fields == {"level": 2.0}
    assert hash(o) == hash(sv.Outcome(**kw)) and len({o, sv.Outcome(**kw)}) == 1
    assert sv.Outcome.model_validate_json(o.model_dump_json()) == o


def test_model_copy_with_update_validates_like_the_constructor() -> None:
    """pydantic's model_copy(update=...) skips validation; ours does not, for every model."""
    o = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01", fields={"level": 3})
    more = o.model_copy(update={"quantity": 3})
    assert more.quantity == 3.0 and more.fields == {"level": 3.0}
    assert more.model_fields_set == o.model_fields_set | {"quantity"}
    assert o.model_copy() == o and o.model_copy(deep=True) == o
    with pytest.raises(sv.OutcomeError, match="'quantity'"):
        o.model_copy(update={"quantity": -1})
    with pytest.raises(sv.OutcomeError, match="'qty': not a field of Outcome"):
        o.model_copy(update={"qty": 1})
    a = sv.Assumptions()
    assert a.model_copy(update={"bound": "low"}).bound == "low"
    with pytest.raises(sv.RuleError, match="'deadweight'"):
        a.model_copy(update={"deadweight": 2})
    v = sv.value(o)
    assert v.model_copy(update={"amount": 5.0}).amount == 5.0
    with pytest.raises(sv.OutcomeError, match="valuation field 'amount'"):
        v.model_copy(update={"amount": float("nan")})
    step = v.trace[0]
    with pytest.raises(sv.OutcomeError, match="trace step field 'amount'"):
        step.model_copy(update={"amount": float("inf")})


def test_valuation_model_copy_with_update_keeps_a_trace_not_yet_read() -> None:
    o = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01")
    unread = sv.value(o)
    assert "steps" not in unread.__dict__  # lazily built: the case under test
    copied = unread.model_copy(update={"amount": 5.0})
    assert copied.trace == sv.value(o).trace and len(copied.trace) > 0
    assert unread.model_copy(update={"steps": ()}).trace == ()


def test_assigning_to_a_frozen_model_raises_its_typed_error() -> None:
    o = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01")
    with pytest.raises(sv.OutcomeError, match="outcome field 'quantity'"):
        o.quantity = 3  # type: ignore[misc]
    with pytest.raises(sv.OutcomeError, match="outcome field 'quantity'"):
        del o.quantity
    with pytest.raises(sv.RuleError, match="assumption 'deadweight'"):
        sv.Assumptions().deadweight = 0.2  # type: ignore[misc]
    v = sv.value(o)
    with pytest.raises(sv.OutcomeError, match="valuation field 'amount'"):
        v.amount = 1.0  # type: ignore[misc]
    with pytest.raises(sv.OutcomeError, match="trace step field"):
        v.trace[0].amount = 1.0  # type: ignore[misc]
    assert o.quantity == 2.0 and v.amount == sv.value(o).amount


def test_model_validate_strings_raises_the_typed_error() -> None:
    with pytest.raises(sv.OutcomeError):
        sv.Outcome.model_validate_strings({"measure": "jobs-local-fte", "quantity": "x",
                                           "region": "uk", "date": "2024-06-01"})
    with pytest.raises(sv.RuleError):
        sv.Assumptions.model_validate_strings({"deadweight": "2"})


@pytest.mark.parametrize(("field", "value"), [
    ("price_year", "2024"), ("discount_base_year", True), ("carry_forward", "yes"),
    ("carry_forward", 1), ("apply_confidence", "off"),
])
def test_assumptions_refuse_text_and_numbers_for_years_and_flags(field: str, value: Any) -> None:
    """As the JSON Schema says: a year is a number, a flag true or false (pydantic would read
    "yes" and 1 as True, and "2024" as 2024)."""
    with pytest.raises(sv.RuleError, match=f"assumption '{field}'"):
        sv.Assumptions(**{field: value})
    assert sv.Assumptions(price_year=2024, carry_forward=True).price_year == 2024


def test_outcome_when_two_fields_differ_only_by_spaces_then_refused() -> None:
    """'level' and ' level' are one field once read: the second silently won (level 5)."""
    with pytest.raises(sv.OutcomeError, match="name the same field 'level'"):
        sv.Outcome(measure="jobs-apprentice", quantity=1, unit="week", region="uk",
                   date="2024-06-01", fields={"level": 2, " level": 5})
    o = sv.Outcome(measure="jobs-apprentice", quantity=1, unit="week", region="uk",
                   date="2024-06-01", fields={" level ": 2})
    assert dict(o.fields) == {"level": 2.0}


@pytest.mark.parametrize("stage", ["Delivered", "COMMITMENT", " Delivered "])
def test_a_stage_in_another_case_is_refused_with_the_spelling_to_use(stage: str) -> None:
    """A stage is a code (exclusions and targets group by it as written): refused in one
    outcome and in bulk alike, each saying to write it in lower case."""
    lower = stage.strip().lower()
    with pytest.raises(sv.OutcomeError, match=f"written in lower case \\('{lower}'\\)"):
        sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", stage=stage)
    row = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                        "region": ["uk"], "date": ["2024-06-01"], "stage": [stage]})
    found = sv.value_frame(row, errors="collect").attrs["issues"]
    assert found["code"].tolist() == ["bad-stage"]
    assert found["reason"].iloc[0].endswith(f"written in lower case ('{lower}')")


@pytest.mark.parametrize(("model", "given", "hint"), [
    (sv.Outcome, {"supplier": "x"}, "; did you mean supplier_id?"),
    (sv.Outcome, {"dead_weight": 0.1}, "; did you mean deadweight?"),
    (sv.Outcome, {"level": 3}, "; a field a measure requires or uses goes in fields "
                               "(fields={'level': ...})"),
    (sv.Outcome, {"Level Of Study": 3}, ""),
    (sv.Assumptions, {"dead_weight": 0.1}, "; did you mean deadweight?"),
    (sv.Assumptions, {"colour": 0.1}, ""),
])
def test_a_keyword_the_model_lacks_is_told_the_field_it_is_close_to(
        model: Any, given: dict[str, Any], hint: str) -> None:
    """A newcomer's review: 'Extra inputs are not permitted' named no field, where a table
    file's mistyped key is told the key it is close to."""
    base = ({"measure": "jobs-local-fte", "quantity": 1, "unit": "FTE", "region": "uk",
             "date": "2024-06-01"} if model is sv.Outcome else {})
    with pytest.raises(sv.SocialValueError) as info:
        model(**base, **given)
    [name] = given
    assert info.value.message == (f"{model._what} {name!r}: Extra inputs are not permitted "
                                  f"(got {given[name]!r}){hint}")


@pytest.mark.parametrize("name", ["", "  "])
def test_a_field_without_a_name_is_refused_by_the_model_and_the_schema(name: str) -> None:
    """An integrator's review: fields={"": 1} was taken and passed over (no measure can
    require a field without a name)."""
    import jsonschema

    doc = {"measure": "jobs-local-fte", "quantity": 1, "unit": "FTE", "region": "uk",
           "date": "2024-06-01", "fields": {name: 1}}
    with pytest.raises(sv.OutcomeError, match="a field needs a name") as info:
        sv.Outcome.model_validate(doc)
    assert info.value.field == "fields"
    assert not jsonschema.Draft202012Validator(sv.json_schema("outcome")).is_valid(doc)


def test_an_input_wrong_as_a_whole_names_no_field() -> None:
    """A systems integrator's review: JSON that does not parse, or a list where an object
    goes, gave field "<outcome>", which a front end mapped to a form control. No field is at
    fault: ``field`` is None."""
    for text in ("[1]", '{"measure": "a",'):
        with pytest.raises(sv.OutcomeError) as info:
            sv.Outcome.model_validate_json(text)
        assert info.value.to_dict()["field"] is None
        assert str(info.value).startswith("outcome: ")
    with pytest.raises(sv.RuleError) as rule:
        sv.Assumptions.model_validate_json("[1]")
    assert rule.value.to_dict()["field"] is None


@pytest.mark.parametrize(("quantity", "issue"), [(10**309, "too-large"), (10**30, "too-large"),
                                                 (-(10**309), "negative"),
                                                 (Decimal("1e1000000"), "too-large"),
                                                 (Decimal("-1e400"), "negative")])
def test_an_integer_past_a_floats_range_is_too_large_on_both_paths(quantity: int,
                                                                   issue: str) -> None:
    """A 309-digit quantity was "not-a-number" to Outcome and "not-finite" to value_frame:
    it is too large (or negative), the same code on both paths."""
    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(measure="jobs-local-fte", quantity=quantity, unit="FTE", region="london",
                   date="2024-09-30")
    assert info.value.to_dict()["issue"] == issue
    # Read without the caller's decimal context (Decimal('1e1000000') overflowed in it).
    with decimal.localcontext() as tight:
        tight.Emax = 10
        with pytest.raises(sv.OutcomeError):
            sv.Outcome(measure="jobs-local-fte", quantity=quantity, unit="FTE",
                       region="london", date="2024-09-30")
    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [quantity], "unit": "FTE",
                         "region": "london", "date": "2024-09-30"})
    issues = sv.value_frame(rows, errors="collect").attrs["issues"]
    assert issues["code"].tolist() == [issue]
    assert len(issues["reason"].iloc[0]) < 500  # the digits cut, as other cells are


def test_a_harm_of_nothing_is_zero_not_minus_zero() -> None:
    """A zero quantity of a disbenefit was valued -0.0, which JSON responses carried."""
    import math

    v = sv.value(sv.Outcome(measure="env-carbon-added", quantity=0, unit="tCO2e", region="uk",
                            date="2024-09-30"))
    assert math.copysign(1.0, v.amount) == 1.0 and math.copysign(1.0, v.gross) == 1.0
    assert '"amount":0.0' in v.model_dump_json()
    rows = pd.DataFrame({"measure": ["env-carbon-added"], "quantity": [0.0], "unit": "tCO2e",
                         "region": "uk", "date": "2024-09-30"})
    out = sv.value_frame(rows, detail=True)
    assert math.copysign(1.0, out["value_gbp"].iloc[0]) == 1.0
    assert math.copysign(1.0, out["gross_gbp"].iloc[0]) == 1.0
