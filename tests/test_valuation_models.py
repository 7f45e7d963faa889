"""Valuation and TraceStep read back strictly, as Outcome and Assumptions do: no booleans or
text for numbers, no unknown keys, only a known ``format``, and every failure an OutcomeError
that names the field (the full path for a nested trace step) once."""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom.schemas import json_schema
from socialvalue_tom.valuation import TRACE_FORMAT

LINK = "[see docs/errors.md#outcome-error]"

#: Outcomes on the tiny table whose valuations between them use every rule of the trace:
#: expression, additionality, confidence, duration, uplift, cap, disbenefit, fallback region.
OUTCOMES: list[dict[str, Any]] = [
    {"measure": "jobs-apprentice", "quantity": 12.5, "unit": "week", "region": "london",
     "date": "2024-09-30", "fields": {"level": 3}, "years": 3, "confidence": "B"},
    {"measure": "jobs-local", "quantity": 2, "unit": "FTE", "region": "london",
     "date": "2024-06-01"},
    {"measure": "env-carbon-added", "quantity": 4, "unit": "tCO2e", "region": "scotland",
     "date": "2024-06-01"},
    {"measure": "growth-local-spend", "quantity": 1e6, "unit": "GBP", "region": "uk",
     "date": "2024-06-01", "contract_value": 100_000},
    {"measure": "social-volunteering", "quantity": 10, "unit": "hour", "region": "scotland",
     "date": "2024-06-01", "years": 2},
]
ASSUMPTIONS: list[dict[str, Any]] = [{}, {"price_year": 2025, "discount_base_year": 2024}]


def _valuation(tiny: Any, i: int = 0, assumptions: dict[str, Any] | None = None
               ) -> sv.Valuation:
    return sv.value(sv.Outcome(**OUTCOMES[i]), tiny, assumptions=assumptions or {})


def _stored(tiny: Any) -> dict[str, Any]:
    """A library valuation as stored JSON reads back: plain data."""
    data: dict[str, Any] = json.loads(_valuation(tiny).model_dump_json())
    return data


NUMBERS = ["amount", "gross", "quantity", "canonical_quantity", "proxy", "price_base_year",
           "price_year"]
NOT_NUMBERS = [True, False, np.bool_(True), "12.5", "2024", b"2"]


@pytest.mark.parametrize("field", NUMBERS)
@pytest.mark.parametrize("bad", NOT_NUMBERS, ids=repr)
def test_valuation_when_number_is_a_boolean_or_text_raises_outcome_error(
        tiny: Any, field: str, bad: Any) -> None:
    """As Outcome's numbers: pydantic would read True as 1.0 and "12.5" as 12.5."""
    data = _stored(tiny) | {field: bad}
    with pytest.raises(sv.OutcomeError, match=f"valuation field '{field}'") as info:
        sv.Valuation.model_validate(data)
    assert info.value.field == field and str(info.value).count(LINK) == 1


@pytest.mark.parametrize("field", NUMBERS)
@pytest.mark.parametrize("bad", ["true", '"12.5"', '"2024"'])
def test_valuation_json_when_number_is_a_boolean_or_text_raises_outcome_error(
        tiny: Any, field: str, bad: str) -> None:
    """The JSON path stored valuations come back by refuses them too."""
    data = _stored(tiny) | {field: json.loads(bad)}
    with pytest.raises(sv.OutcomeError, match=f"valuation field '{field}'") as info:
        sv.Valuation.model_validate_json(json.dumps(data))
    assert info.value.field == field and info.value.__context__ is None


@pytest.mark.parametrize("bad", NOT_NUMBERS, ids=repr)
def test_trace_step_when_amount_is_a_boolean_or_text_raises_outcome_error(bad: Any) -> None:
    with pytest.raises(sv.OutcomeError, match="trace step field 'amount'") as info:
        sv.TraceStep(rule="gross", detail="d", amount=bad)
    assert info.value.field == "amount"
    with pytest.raises(sv.OutcomeError, match="trace step field 'amount'"):
        sv.TraceStep.model_validate({"rule": "gross", "detail": "d", "amount": bad})
    with pytest.raises(sv.OutcomeError, match="trace step field 'amount'"):
        sv.TraceStep.model_validate_json('{"rule": "gross", "detail": "d", "amount": true}')


def test_trace_step_when_amount_is_a_number_or_absent_is_accepted() -> None:
    assert sv.TraceStep(rule="gross", detail="d", amount=3).amount == 3.0
    assert sv.TraceStep(rule="gross", detail="d", amount=np.float64(2.5)).amount == 2.5
    assert sv.TraceStep(rule="edition", detail="d").amount is None
    assert sv.TraceStep.model_validate_json('{"rule": "r", "detail": "d", "amount": null}'
                                            ).amount is None


@pytest.mark.parametrize("field", ["carried_forward", "disbenefit", "illustrative"])
@pytest.mark.parametrize("bad", [1, 0, "yes", "true", None])
def test_valuation_when_flag_is_not_true_or_false_raises_outcome_error(
        tiny: Any, field: str, bad: Any) -> None:
    """As Assumptions' flags: pydantic would read 1, "yes" and "true" as True."""
    with pytest.raises(sv.OutcomeError, match=f"valuation field '{field}'"):
        sv.Valuation.model_validate(_stored(tiny) | {field: bad})


@pytest.mark.parametrize("field", ["measure", "unit", "digest", "engine_version", "currency"])
def test_valuation_when_text_is_bytes_or_a_number_raises_outcome_error(
        tiny: Any, field: str) -> None:
    """As Outcome's text: pydantic would decode bytes."""
    for bad in (b"x", 5):
        with pytest.raises(sv.OutcomeError, match=f"valuation field '{field}'"):
            sv.Valuation.model_validate(_stored(tiny) | {field: bad})
    with pytest.raises(sv.OutcomeError, match="trace step field 'rule'"):
        sv.TraceStep(rule=b"gross", detail="d")  # type: ignore[arg-type]


def test_valuation_when_unknown_key_raises_outcome_error_naming_it(tiny: Any) -> None:
    """Unknown keys are refused, as for Outcome: a misspelt or foreign field is not lost."""
    data = _stored(tiny) | {"amount_gbp": 1.0}
    for call in (lambda: sv.Valuation.model_validate(data),
                 lambda: sv.Valuation.model_validate_json(json.dumps(data)),
                 lambda: sv.Valuation(**data)):
        with pytest.raises(sv.OutcomeError, match="valuation field 'amount_gbp'") as info:
            call()
        assert info.value.field == "amount_gbp"
    with pytest.raises(sv.OutcomeError, match="trace step field 'note'"):
        sv.TraceStep.model_validate({"rule": "r", "detail": "d", "note": "x"})


@pytest.mark.parametrize("fmt", ["other/v9", "socialvalue_tom.trace/v2", "", 1, None])
def test_valuation_when_format_unknown_raises_outcome_error(tiny: Any, fmt: Any) -> None:
    """Only the trace format this version writes is read back."""
    data = _stored(tiny) | {"format": fmt}
    with pytest.raises(sv.OutcomeError, match="valuation field 'format'") as info:
        sv.Valuation.model_validate(data)
    assert info.value.field == "format" and TRACE_FORMAT in str(info.value)
    with pytest.raises(sv.OutcomeError, match="valuation field 'format'"):
        sv.Valuation.model_validate_json(json.dumps(data))


def test_valuation_when_format_absent_or_known_is_accepted(tiny: Any) -> None:
    data = _stored(tiny)
    assert data["format"] == TRACE_FORMAT
    assert sv.Valuation.model_validate(data).format == TRACE_FORMAT
    del data["format"]
    assert sv.Valuation.model_validate(data).format == TRACE_FORMAT


@pytest.mark.parametrize(("step", "field", "got"), [
    ({"detail": "x"}, "steps.0.rule", "{'detail': 'x'}"),
    ({"rule": "r", "detail": "x", "amount": True}, "steps.0.amount", "True"),
    ({"rule": "r", "detail": "x", "amount": "1.5"}, "steps.0.amount", "'1.5'"),
    ({"rule": "r", "detail": "x", "extra": 1}, "steps.0.extra", "1"),
])
def test_valuation_when_nested_step_bad_names_the_full_path_once(
        tiny: Any, step: dict[str, Any], field: str, got: str) -> None:
    """The error reads once: the full field path, the reason, what was given, one link (not the
    step's own message, link and all, wrapped again in the valuation's)."""
    data = _stored(tiny) | {"steps": [step]}
    for call in (lambda: sv.Valuation.model_validate(data),
                 lambda: sv.Valuation.model_validate_json(json.dumps(data)),
                 lambda: sv.Valuation(**data)):
        with pytest.raises(sv.OutcomeError) as info:
            call()
        err = info.value
        text = str(err)
        assert text.startswith(f"valuation field '{field}': "), text
        assert text.endswith(f"(got {got}) {LINK}"), text
        assert text.count(LINK) == 1 and text.count("(got ") == 1, text
        assert "trace step field" not in text
        assert err.field == field and err.__context__ is None
        assert ".".join(str(p) for p in err.errors[0]["loc"]) == field
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is sv.OutcomeError and str(back) == text


def test_valuation_when_later_step_bad_names_its_index(tiny: Any) -> None:
    data = _stored(tiny)
    data["steps"][2]["amount"] = False
    with pytest.raises(sv.OutcomeError, match=r"^valuation field 'steps\.2\.amount': ") as info:
        sv.Valuation.model_validate(data)
    assert info.value.field == "steps.2.amount"


@pytest.mark.parametrize("i", range(len(OUTCOMES)))
@pytest.mark.parametrize("assumptions", ASSUMPTIONS)
def test_library_valuations_stay_valid_and_round_trip(tiny: Any, i: int,
                                                      assumptions: dict[str, Any]) -> None:
    """Everything the library itself produces reads back, equal, through JSON and dicts."""
    v = _valuation(tiny, i, assumptions)
    back = sv.Valuation.model_validate_json(v.model_dump_json())
    assert back == v and back.steps == v.trace and back.explain() == v.explain()
    assert sv.Valuation.model_validate(v.model_dump()) == v
    assert sv.Valuation.model_validate(json.loads(v.model_dump_json())) == v
    assert sv.Valuation(**v.to_dict()) == v
    for step in v.trace:
        assert sv.TraceStep.model_validate_json(step.model_dump_json()) == step


def test_lazy_trace_survives_copy_pickle_and_round_trip(tiny: Any) -> None:
    """A valuation's trace is built on first use; copies (with or without an update), pickles
    and JSON round trips of one not yet read all carry it."""
    expected = _valuation(tiny).explain()
    v = _valuation(tiny)
    assert "steps" not in v.__dict__  # not built yet: reading v.steps would build it
    plain = v.model_copy()
    assert "steps" not in plain.__dict__ and plain.explain() == expected
    assert plain.steps == v.steps
    updated = _valuation(tiny).model_copy(update={"amount": 5.0})
    assert updated.amount == 5.0 and updated.trace == _valuation(tiny).trace
    assert pickle.loads(pickle.dumps(_valuation(tiny))).explain() == expected
    assert sv.Valuation.model_validate_json(_valuation(tiny).model_dump_json()
                                            ).explain() == expected
    with pytest.raises(sv.OutcomeError, match="valuation field 'amount'"):
        _valuation(tiny).model_copy(update={"amount": True})
    with pytest.raises(sv.OutcomeError, match="valuation field 'format'"):
        _valuation(tiny).model_copy(update={"format": "other/v9"})


def test_explain_row_trace_with_an_exclusion_note_stays_valid(tiny: Any) -> None:
    """A bulk row's valuation (with explain_row's own exclusion step, added through
    model_copy(update=...)) is a valid valuation that round-trips."""
    from socialvalue_tom.explain import valuation_of_row

    df = pd.DataFrame({"contract_id": ["C1", "C1"], "measure": ["jobs-priority", "jobs-local"],
                       "quantity": [1.0, 4.0], "unit": ["FTE", "FTE"], "region": ["uk", "uk"],
                       "date": ["2024-09-30", "2024-09-30"]})
    out = sv.value_frame(df, tiny)
    v = valuation_of_row(out, 1)
    assert v.trace[0].rule == "exclusion"
    assert sv.Valuation.model_validate_json(v.model_dump_json()) == v


def test_schema_says_what_the_models_check() -> None:
    """The JSON Schema procurement systems get forbids unknown keys and fixes the format."""
    schema = json_schema("valuation")
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["TraceStep"]["additionalProperties"] is False
    assert schema["properties"]["format"]["const"] == TRACE_FORMAT
    assert schema["properties"]["format"]["default"] == TRACE_FORMAT
    assert schema["properties"]["amount"]["type"] == "number"
    assert schema["properties"]["disbenefit"]["type"] == "boolean"


@pytest.mark.parametrize(("field", "bad"), [
    ("currency", "USD"), ("quantity", -1.0), ("canonical_quantity", -0.5), ("digest", ""),
    ("digest", "9A567796C6DF"), ("steps", None),
])
def test_valuation_when_it_cannot_be_one_the_library_made_raises_outcome_error(
        tiny: Any, field: str, bad: Any) -> None:
    """A stored valuation read back is checked against what the engine writes: GBP only, no
    negative quantity (a disbenefit is a negative amount), the edition's sha256 digest, and a
    trace that is a list of steps, never null."""
    with pytest.raises(sv.OutcomeError, match=f"valuation field '{field}'"):
        sv.Valuation.model_validate(_stored(tiny) | {field: bad})
    schema = json_schema("valuation")["properties"][field]
    assert "const" in schema or "minimum" in schema or "pattern" in schema or (
        schema.get("type") == "array")


def test_valuation_without_steps_reads_as_an_empty_trace_that_stays_so(tiny: Any) -> None:
    """A stored valuation with no steps key has the trace () however it is read: reading it,
    serialising it or round-tripping it never changes it (steps were None until dumped)."""
    data = _stored(tiny)
    del data["steps"]
    read = sv.Valuation.model_validate(data)
    assert read.steps == () and read.trace == ()
    again = sv.Valuation.model_validate_json(read.model_dump_json())
    assert json.loads(read.model_dump_json())["steps"] == [] and again == read
    assert read.steps == ()


def test_the_trace_gives_an_unrounded_amount_only_past_float_noise() -> None:
    """A whole number of pence stays so at any size (above about £1e10 a float's spacing
    reaches the sixth decimal, and '£53,001,038,867.40; unrounded 53001038867.399994' was
    noise); a real part of a penny is given whatever the size."""
    from socialvalue_tom.valuation import _unrounded

    assert _unrounded(3.7515) == "; unrounded 3.7515"
    assert _unrounded(0.005) == "; unrounded 0.005"
    for whole in (1052.87, 100.0, 53001038867.399994, 98765432101.23, 0.0, -12.34):
        assert _unrounded(whole) == "", whole
    assert _unrounded(98765432101.235) != ""
