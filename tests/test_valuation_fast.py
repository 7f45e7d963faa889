"""The engine's fast Valuation constructor builds what pydantic's model_construct builds."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any

import pytest

import socialvalue_tom as sv


def _outcome() -> sv.Outcome:
    return sv.Outcome(measure="jobs-apprentice", quantity=10, unit="week", region="london",
                      date=dt.date(2024, 9, 30), years=3, fields={"level": 3}, confidence="B")


def test_from_engine_when_built_equals_model_construct_and_validates(tiny_table: Any) -> None:
    v = sv.value(_outcome(), tiny_table)
    data = {k: getattr(v, k) for k in sv.Valuation.model_fields}
    slow = sv.Valuation.model_construct(**data)
    assert v.model_fields_set == slow.model_fields_set == set(sv.Valuation.model_fields)
    assert v.model_dump() == slow.model_dump() | {"steps": v.model_dump()["steps"]}
    # what the engine builds is valid by the model's own rules
    again = sv.Valuation.model_validate(v.model_dump())
    assert again == v and again.explain() == v.explain()


def test_from_engine_when_copied_pickled_or_dumped_keeps_its_trace(tiny_table: Any) -> None:
    v = sv.value(_outcome(), tiny_table)
    text = v.explain()
    assert pickle.loads(pickle.dumps(v)).explain() == text
    assert v.model_copy().explain() == text
    assert sv.Valuation.model_validate_json(v.model_dump_json()).explain() == text
    assert len(v.trace) == len(v.model_dump()["steps"]) >= 5


def test_steps_of_a_new_valuation_are_its_trace(tiny_table: Any) -> None:
    """``steps`` is the trace from the start (it was None until .trace or explain() was read),
    and so is a copy's."""
    v = sv.value(_outcome(), tiny_table)
    assert v.steps is not None and [s.rule for s in v.steps][:3] == ["edition", "convert",
                                                                    "proxy"]
    assert v.steps is v.trace
    copied = sv.value(_outcome(), tiny_table).model_copy()
    assert copied.steps == v.steps
    assert dict(sv.value(_outcome(), tiny_table))["steps"] == v.steps  # iteration lists it
    assert "steps=(TraceStep(rule='edition'" in repr(sv.value(_outcome(), tiny_table))
    with pytest.raises(AttributeError):
        _ = v.not_a_field  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_valuation_and_trace_step_refuse_non_finite_numbers(bad: float) -> None:
    """JSON has no NaN or infinity: a model holding one could not round-trip losslessly."""
    with pytest.raises(sv.OutcomeError, match="trace step field 'amount'"):
        sv.TraceStep(rule="gross", detail="x", amount=bad)
