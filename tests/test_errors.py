"""Errors: every class is a SocialValueError, has a code, pickles with message and attributes,
and the library's messages name the offending value and what was expected."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import socialvalue_tom as sv
from socialvalue_tom import errors
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.units import conversion_factor

CLASSES = [getattr(errors, n) for n in errors.__all__
           if isinstance(getattr(errors, n), type)
           and issubclass(getattr(errors, n), Exception)
           and not issubclass(getattr(errors, n), Warning)]


def test_error_classes_when_listed_are_all_found() -> None:
    """The hierarchy of style.md 5.2 is all there."""
    names = {c.__name__ for c in CLASSES}
    assert {"SocialValueError", "ProxyTableError", "TableIntegrityError", "UnknownTableError",
            "NoTableInForceError", "UnknownMeasureError", "UnknownRegionError", "UnitError",
            "OutcomeError", "RuleError", "BulkValidationError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_error_when_pickled_keeps_message_and_attributes(cls: type[errors.SocialValueError]
                                                         ) -> None:
    """A pickle round trip keeps type, str, message, code and every detail attribute."""
    err = cls("value 'x' is wrong: expected 'y'", measure="x", expected="y", row=3)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == str(err)
    assert back.message == err.message
    assert (back.measure, back.expected, back.row) == ("x", "y", 3)
    assert back.code == cls.code
    assert isinstance(back, sv.SocialValueError)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_error_when_formatted_links_its_docs_heading(cls: type[errors.SocialValueError]) -> None:
    """str(err) ends with the docs anchor of the class's stable code."""
    assert str(cls("boom")).endswith(f"[see docs/errors.md#{cls.code}]")
    assert issubclass(cls, sv.SocialValueError)


@pytest.mark.parametrize(("cls", "builtin"), [
    (sv.ProxyTableError, ValueError), (sv.TableIntegrityError, sv.ProxyTableError),
    (sv.UnknownTableError, LookupError), (sv.NoTableInForceError, LookupError),
    (sv.UnknownMeasureError, LookupError), (sv.UnknownRegionError, LookupError),
    (sv.UnitError, ValueError), (sv.OutcomeError, ValueError), (sv.RuleError, ValueError),
    (sv.BulkValidationError, sv.OutcomeError),
])
def test_error_when_caught_as_builtin_mixes_in(cls: type, builtin: type) -> None:
    """Lookup errors are LookupError (not KeyError); value errors are ValueError."""
    assert issubclass(cls, builtin)
    assert not issubclass(cls, KeyError)


def test_bulk_validation_error_when_pickled_keeps_issues() -> None:
    """BulkValidationError keeps its RowIssue tuple through pickle; str shows count and 5."""
    issues = [sv.RowIssue(row=i, field="quantity", code="negative", reason=f"quantity -{i}")
              for i in range(7)]
    err = sv.BulkValidationError.from_issues(issues)
    back = pickle.loads(pickle.dumps(err))
    assert back.issues == tuple(issues)
    assert "7 problem(s) in 7 row(s)" in str(back)
    assert "row 4 field 'quantity'" in str(back) and "row 5" not in str(back)
    assert "(and 2 more)" in str(back)


def _raised(fn: Any) -> sv.SocialValueError:
    with pytest.raises(sv.SocialValueError) as info:
        fn()
    return info.value


def _pickles(err: sv.SocialValueError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and type(back) is type(err)


def test_library_errors_when_raised_name_value_and_expectation(tiny_table: Any,
                                                               make_outcome: Any) -> None:
    """Each real error names the offending value and what was expected, and pickles."""
    cases: list[tuple[Any, type, tuple[str, ...]]] = [
        (lambda: sv.value(make_outcome(measure="jobs-locl"), tiny_table),
         sv.UnknownMeasureError, ("'jobs-locl'", "did you mean jobs-local")),
        (lambda: sv.value(make_outcome(region="mars"), tiny_table),
         sv.UnknownRegionError, ("'mars'", "uk, england, london, scotland")),
        (lambda: sv.value(make_outcome(unit="hour"), tiny_table),
         sv.UnitError, ("'hour'", "FTE")),
        (lambda: conversion_factor("parsec_of_joy", "FTE"), sv.UnitError, ("'parsec_of_joy'",)),
        (lambda: make_outcome(quantity=-1), sv.OutcomeError, ("quantity", "-1")),
        (lambda: sv.value(make_outcome(date="2023-06-01"), tiny_table),
         sv.NoTableInForceError, ("2023-06-01", "2024-04-01..2025-03-31")),
        (lambda: sv.value(make_outcome(), tiny_table,
                          assumptions=Assumptions(price_year=2030)),
         sv.RuleError, ("2030", "2023..2025")),
        (lambda: sv.load_table("no-such-family", version="1"),
         sv.UnknownTableError, ("'no-such-family'", "uk-national")),
        (lambda: sv.load_table("uk-national", version="1999"),
         sv.UnknownTableError, ("'1999'", "2024")),
        (lambda: sv.load_table(path="/nonexistent/table.yaml"),
         sv.ProxyTableError, ("/nonexistent/table.yaml",)),
        (lambda: Assumptions(deadweight=1.5), sv.RuleError, ("deadweight", "1.5")),
    ]
    for fn, cls, needles in cases:
        err = _raised(fn)
        assert type(err) is cls, (cls, err)
        for needle in needles:
            assert needle in str(err), (needle, str(err))
        _pickles(err)


def test_errors_of_model_validate_pickle_with_their_context_as_dask_sends_them() -> None:
    """model_validate/_json raise the model's typed error with no context pointing back at it:
    with traceback pickling as Dask installs it (tblib), the error travels as itself."""
    import socialvalue_tom as sv

    pickling_support = pytest.importorskip("tblib.pickling_support")
    calls = (lambda: sv.Outcome.model_validate_json('{"measure": 1}'),
             lambda: sv.Outcome.model_validate({"measure": "m", "quantity": -1, "region": "uk",
                                                "date": "2024-06-01"}),
             lambda: sv.Assumptions.model_validate({"deadweight": 5}))
    for call in calls:
        with pytest.raises(sv.SocialValueError) as info:
            call()
        err = info.value
        assert err.__context__ is None and err.__cause__ is None
        pickling_support.install(err)
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)


def test_error_holding_an_input_that_does_not_pickle_still_pickles() -> None:
    """An API review: an error quoting the caller's input kept that input in its details
    (pydantic's ``errors``; the schema kind as given), and one that does not pickle (the
    ``memoryview`` a database driver returns for a binary column, a generator) made the error
    itself unpicklable: a worker process could not send it, and Dask or multiprocessing
    reported a pickling failure instead. The parts that do not pickle travel as their text;
    the error raised in-process keeps the values themselves."""
    cell = memoryview(b"jobs-local-fte")
    with pytest.raises(sv.OutcomeError) as outcome:
        sv.Outcome(measure=cell, quantity=1, region="uk", date="2024-06-01")  # type: ignore[arg-type]
    with pytest.raises(sv.RuleError) as schema:
        sv.json_schema(k for k in ("outcome",))  # type: ignore[arg-type]
    for err in (outcome.value, schema.value):
        with pytest.raises(TypeError):
            pickle.dumps(err.details)  # the details themselves do not pickle
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
        assert back.to_dict() == err.to_dict()
    assert outcome.value.errors is not None and outcome.value.errors[0]["input"] is cell
    back = pickle.loads(pickle.dumps(outcome.value))
    assert back.field == "measure"
    assert back.errors[0]["input"].startswith("<memory at ")
    assert back.errors[0]["loc"] == ("measure",)  # the parts that pickle are kept as they are


def test_error_pickle_keeps_notes_and_attributes_added_after_it_was_raised() -> None:
    """A note (``add_note``: "while valuing contract C1") or an attribute a caller set on an
    error was dropped by its pickle: only the message and details were sent. Checked on the
    reduction itself, as Dask's traceback pickling (tblib) keeps notes on its own."""
    err = sv.UnitError("unit 'hour' is not accepted", unit="hour", measure="jobs-local-fte")
    err.add_note("while valuing contract C1")
    err.batch = 7  # type: ignore[attr-defined]
    rebuild, args, state = err.__reduce__()
    back = rebuild(*args)
    back.__setstate__(state)
    assert back.__notes__ == ["while valuing contract C1"]
    assert back.batch == 7
    assert (back.unit, back.measure, str(back)) == ("hour", "jobs-local-fte", str(err))
    assert pickle.loads(pickle.dumps(err)).__notes__ == ["while valuing contract C1"]
    assert sv.UnitError("m", unit="x").__reduce__()[2] is None  # nothing added: no state


def test_result_models_read_back_raise_outcome_error_naming_the_field() -> None:
    """A stored valuation or trace step that is malformed raises OutcomeError (a
    SocialValueError) naming the field, through the constructor and model_validate(_json)."""
    import socialvalue_tom as sv

    cases = ((lambda: sv.Valuation.model_validate_json('{"amount": "x"}'), "engine_version"),
             (lambda: sv.Valuation.model_validate({}), "engine_version"),
             (lambda: sv.TraceStep(rule=1, detail="d"), "rule"),  # type: ignore[arg-type]
             (lambda: sv.TraceStep.model_validate_json('{"rule": "r", "detail": "d", '
                                                        '"amount": "NaN"}'), "amount"))
    for call, field in cases:
        with pytest.raises(sv.OutcomeError) as info:
            call()
        assert info.value.field == field and info.value.__context__ is None
        assert "[see docs/errors.md#outcome-error]" in str(info.value)


def test_illustrative_value_warning_when_pickled_keeps_its_rows() -> None:
    import pickle

    w = sv.IllustrativeValueWarning("placeholders used", rows=7)
    again = pickle.loads(pickle.dumps(w))
    assert (type(again), str(again), again.rows) == (sv.IllustrativeValueWarning,
                                                     "placeholders used", 7)


def test_every_error_to_dict_is_json_ready() -> None:
    """A service returns errors as JSON: dates, pydantic's error lists (which hold exception
    objects, NaN, bytes), row issues with Timestamp labels all come out as JSON data."""
    import datetime as dt
    import json

    import pandas as pd

    found: list[sv.SocialValueError] = []
    for call in (
        lambda: sv.value(sv.Outcome(measure="env-carbon-saved", quantity=1, unit="kgCO2e",
                                    region="uk", date=dt.date(1990, 1, 1))),
        lambda: sv.Outcome(measure="x", quantity=1, region="uk", date="30/09/2024"),
        lambda: sv.Outcome(measure="x", quantity=float("nan"), region="uk", date="2024-09-30"),
        lambda: sv.Assumptions(carry_forward="yes"),  # type: ignore[arg-type]
        lambda: sv.value_frame(pd.DataFrame(
            {"measure": ["nope"], "quantity": [1.0], "unit": ["FTE"], "region": ["uk"],
             "date": ["2024-06-01"]}, index=pd.DatetimeIndex(["2024-01-01"]))),
    ):
        with pytest.raises(sv.SocialValueError) as info:
            call()
        found.append(info.value)
    for err in found:
        data = json.loads(json.dumps(err.to_dict()))
        assert data["code"] == err.code and data["message"] == err.message
    assert found[0].to_dict()["details"]["date"] == "1990-01-01"
    issues = found[-1].to_dict()["details"]["issues"]
    assert issues[0]["index"].startswith("2024-01-01") and issues[0]["row"] == 0


def test_to_dict_names_the_field_at_fault_under_one_key_whatever_the_class() -> None:
    """A procurement-developer review: a service mapping errors to a 422 body had to know that
    an unknown measure carries ``measure``, a unit error ``unit``, no edition in force ``date``
    and an outcome error ``field``. ``to_dict()["field"]`` names the field for each."""
    import datetime as dt

    good = {"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE", "region": "uk",
            "date": dt.date(2024, 6, 1)}
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"measure": "jobs-local-ftee"}, "measure"), ({"region": "mars"}, "region"),
        ({"unit": "hour"}, "unit"), ({"date": dt.date(1990, 1, 1)}, "date"),
        ({"quantity": -1.0}, "quantity"), ({"date": "30/09/2024"}, "date")]
    for change, field in cases:
        with pytest.raises(sv.SocialValueError) as info:
            sv.value(sv.Outcome(**{**good, **change}), "uk-national")
        assert info.value.to_dict()["field"] == field, (change, type(info.value))
    with pytest.raises(sv.RuleError) as rule:
        sv.load_table("uk-national", on="not a date")
    assert rule.value.to_dict()["field"] == "on"
    assert sv.SocialValueError("no field").to_dict()["field"] is None
    # load_table(on=...) names its own argument (a diff re-read: it said 'date').
    for kw in ({}, {"version": "2024"}):
        with pytest.raises(sv.NoTableInForceError) as on:
            sv.load_table("uk-national", on=dt.date(1990, 1, 1), **kw)
        assert on.value.to_dict()["field"] == "on" and on.value.date == dt.date(1990, 1, 1)
    # The class default gives way to a field the raiser names.
    assert sv.UnitError("m", field="fields.level").to_dict()["field"] == "fields.level"


def test_messages_quote_at_most_a_few_hundred_characters_of_an_input() -> None:
    """A 5 MB measure code or region was repeated whole in the message and each row's reason."""
    import pandas as pd

    with pytest.raises(sv.OutcomeError) as info:
        sv.Outcome(measure="a" * 5_000_000, quantity=1, region="uk", date="2024-09-30")
    assert len(str(info.value)) < 1000 and "5,000,002 characters" in str(info.value)
    assert len(repr(info.value.details["errors"])) < 2000
    row = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                        "region": ["r" * 1_000_000], "date": ["2024-06-01"]})
    reason = sv.value_frame(row, errors="collect").attrs["issues"]["reason"].iloc[0]
    assert len(reason) < 1000 and "1,000,002 characters" in reason
    # A value nested past Python's limit (a provenance record's setting) is named, not
    # repr'd into a RecursionError (an adversarial review: `verify` crashed on one).
    from socialvalue_tom._text import quoted

    deep: dict[str, object] = {}
    for _ in range(100_000):
        deep = {"a": deep}
    assert quoted(deep) == "(a value nested too deeply to show)"
    # A review: a unit the measure does not list among those it accepts was quoted whole.
    row = row.assign(region="uk", unit="Jane Doe " * 100_000)
    reason = sv.value_frame(row, errors="collect").attrs["issues"]["reason"].iloc[0]
    assert len(reason) < 1000 and "900,002 characters" in reason


def _details_passed_by_the_library() -> dict[str, set[str]]:
    """Error class name -> the keyword details some ``raise`` in the package gives it."""
    import ast
    from pathlib import Path

    package = Path(sv.__file__).parent
    names = {c.__name__ for c in CLASSES}
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else None)
            if name in names:
                found.setdefault(name, set()).update(k.arg for k in node.keywords if k.arg)
    return found


def test_every_detail_the_library_passes_is_a_declared_attribute() -> None:
    """A client reads ``err.row`` or ``err.columns`` under ``mypy --strict`` only where the
    class declares it: every keyword detail a ``raise`` passes is annotated on its class (or
    a base), and reads as ``None`` (or the class's default) on an error raised without it."""
    import typing

    passed = _details_passed_by_the_library()
    assert {"OutcomeError", "RuleError", "UnitError"} <= set(passed)
    for name, keys in passed.items():
        cls = getattr(errors, name)
        declared = set(typing.get_type_hints(cls))
        assert keys <= declared, f"{name} is raised with undeclared {sorted(keys - declared)}"
        bare = cls("message")
        # None, or the class's own default (the field an unknown measure names: "measure").
        assert all(getattr(bare, key) is getattr(cls, key, None) for key in keys), name


def test_to_dict_field_is_text_or_none() -> None:
    assert sv.OutcomeError("x", field=("a", 1)).to_dict()["field"] is None


_GOOD = {"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE", "region": "uk",
         "date": "2024-06-01"}


@pytest.mark.parametrize("change", [
    {"quantity": -1.0}, {"quantity": float("inf")}, {"quantity": float("nan")},
    {"quantity": "abc"}, {"quantity": True}, {"quantity": 1e13},
    {"date": "2024-02-30"}, {"date": "30/06/2024"}, {"date": None},
    {"measure": None}, {"region": None},
    {"years": 0}, {"years": 1.5}, {"years": 200},
    {"deadweight": 1.5}, {"deadweight": -0.1}, {"deadweight": "x"},
    {"contract_value": -5.0}, {"stage": "Delivered"}, {"stage": "x"},
    {"contract_id": b"x"}, {"confidence": "Z"},
    {"measure": "nope"}, {"region": "mars"}, {"unit": "hour"}, {"date": "1990-01-01"},
    # An integrator's review: blank text, text past a field's length and a period share out
    # of range had no code in one outcome where bulk gives one.
    {"measure": ""}, {"measure": "   "}, {"region": ""}, {"date": ""}, {"date": "  "},
    {"region": "x" * 80}, {"unit": "x" * 80}, {"measure": "x" * 200},
    {"period_share": 0.0}, {"period_share": 2.0},
])
def test_a_scalar_error_names_the_row_issue_code_bulk_gives_the_same_problem(
        change: dict[str, Any]) -> None:
    """A procurement-developer review: a negative quantity was code 'negative' in bulk and
    'outcome-error' with pydantic's 'greater_than_equal' alone, so a service with both
    endpoints kept two maps. ``err.issue`` (and ``to_dict()["issue"]``) is the bulk code."""
    import pandas as pd

    row = {**_GOOD, **change}
    with pytest.raises(sv.SocialValueError) as info:
        sv.value(sv.Outcome(**row), "uk-national")
    issues = sv.value_frame(pd.DataFrame([row]), "uk-national",
                            errors="collect").attrs["issues"]
    assert len(issues) == 1
    assert info.value.issue == issues["code"].iloc[0], (change, info.value)
    assert info.value.to_dict()["issue"] == info.value.issue


def test_errors_with_no_row_issue_name_none() -> None:
    assert sv.SocialValueError("x").to_dict()["issue"] is None
    with pytest.raises(sv.RuleError) as info:
        sv.Assumptions(carry_forward="yes")  # type: ignore[arg-type]
    assert info.value.issue is None


@pytest.mark.parametrize(("change", "assumptions"), [
    ({"measure": "jobs-apprentice", "unit": "week", "quantity": 10.0}, {}),  # no level
    ({"measure": "jobs-apprentice", "unit": "week", "quantity": 600.0, "level": 3}, {}),
    ({}, {"discount_base_year": 2025}),
    ({"confidence": "Z"}, {}),
])
def test_engine_errors_name_the_row_issue_code_bulk_gives(
        tiny_table: sv.ProxyTable, change: dict[str, Any], assumptions: dict[str, Any]) -> None:
    import pandas as pd

    row = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
           "date": "2024-06-01", **change}
    level = row.pop("level", None)
    fields = {} if level is None else {"level": level}
    with pytest.raises(sv.SocialValueError) as info:
        sv.value(sv.Outcome(**row, fields=fields), tiny_table, assumptions=assumptions)
    frame = pd.DataFrame([{**row, **fields}])
    issues = sv.value_frame(frame, tiny_table, errors="collect",
                            assumptions=assumptions).attrs["issues"]
    assert len(issues) == 1 and info.value.issue == issues["code"].iloc[0], info.value
    # In the same words, the advice included (a base year after an outcome's said what to
    # choose in one engine only), except where each says how its own input gives a field.
    if info.value.issue != "missing-field":
        assert issues["reason"].iloc[0] == info.value.message


def test_row_issue_codes_are_the_documented_table_and_those_the_engines_give() -> None:
    """errors.ROW_ISSUE_CODES (what a case file's expected error may name) is the table of
    docs/errors.md#row-issue-codes and the codes the source records, all three in step."""
    import re
    from pathlib import Path

    from socialvalue_tom.errors import ROW_ISSUE_CODES

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "errors.md").read_text(encoding="utf-8")
    table = doc[doc.index("# Row issue codes"):]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.MULTILINE))
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (root / "socialvalue_tom").rglob("*.py"))
    recorded = set(re.findall(r'issues\.add\([^,]+, [^,]+, "([a-z-]+)"', source))
    recorded |= set(re.findall(r'issue="([a-z-]+)"', source))
    assert documented == set(ROW_ISSUE_CODES)
    assert recorded <= set(ROW_ISSUE_CODES)


@pytest.mark.parametrize("name", ["code", "details", "to_dict", "args", "add_note",
                                  "with_traceback", "__cause__", "__notes__"])
def test_a_detail_may_not_take_an_errors_own_attribute(name: str) -> None:
    """RuleError("x", code="y") pointed its str() to docs/errors.md#y and to_dict() to code y:
    a detail named as the error's own attribute is refused (an API review); so is one named
    as every exception's (add_note= made err.add_note() a TypeError)."""
    with pytest.raises(TypeError, match=f"{name} cannot be a detail"):
        errors.RuleError("x", **{name: "y"})
    assert str(errors.RuleError("x", field="y")) == "x [see docs/errors.md#rule-error]"
