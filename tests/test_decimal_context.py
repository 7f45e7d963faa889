"""The library's figures do not depend on the caller's decimal context (a systems integrator's
review: a service that traps ``FloatOperation``, a common guard in finance code, got
``decimal.FloatOperation`` from ``sv.value``, and ``getcontext().prec = 3`` turned a shortfall
of 249.88 into 250)."""

from __future__ import annotations

import decimal
import warnings
from collections.abc import Callable

import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom import report
from socialvalue_tom.money import format_gbp, to_pounds, total

OUTCOME = sv.Outcome(measure="env-carbon-saved", quantity=3500, unit="kgCO2e",
                     region="scotland", date="2024-09-30")


def _calls() -> dict[str, Callable[[], object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.SocialValueWarning)
        rows = pd.read_csv(sv.example_path("portfolio.csv"))
        valued = sv.value_frame(rows)
    small = pd.DataFrame({"contract_id": ["C", "C"], "stage": ["commitment", "delivered"],
                          "value_gbp": [1000.0, 750.123]})
    return {
        "value": lambda: sv.value(OUTCOME).pounds,
        "explain": lambda: sv.value(OUTCOME).explain(),
        "sensitivity": lambda: {k: v.pounds for k, v in sv.sensitivity(OUTCOME).items()},
        "dump": lambda: sv.value(OUTCOME).model_dump_json(),
        "value_frame": lambda: sv.value_frame(rows)["value_gbp"].tolist(),
        "total": lambda: total(valued["value_gbp"]),
        "summarise": lambda: report.summarise(valued).to_dict(),
        "targets": lambda: report.targets_vs_delivered(small).to_dict(),
        "basis_notes": lambda: report.basis_notes(valued),
        "explain_row": lambda: sv.explain_row(valued, 0),
        "money": lambda: (format_gbp(1234.565), to_pounds(0.125), to_pounds(1e15 + 0.3)),
    }


@pytest.mark.parametrize("hostile", ["trap-float-operation", "three-digits"])
def test_figures_do_not_depend_on_the_callers_decimal_context(hostile: str) -> None:
    calls = _calls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.SocialValueWarning)
        expected = {name: call() for name, call in calls.items()}
        assert expected["targets"]["shortfall_gbp"][0] == decimal.Decimal("249.88")
        with decimal.localcontext() as caller:
            if hostile == "trap-float-operation":
                caller.traps[decimal.FloatOperation] = True
            else:
                caller.prec = 3
            caller.clear_flags()
            got = {name: call() for name, call in calls.items()}
            # Nothing the library did is left in the caller's context.
            assert not any(caller.flags.values())
            assert caller.prec == (3 if hostile == "three-digits" else 28)
    assert got == expected


def test_a_valuations_response_schema_lists_its_fields() -> None:
    """A web framework's response schema of a Valuation was {} (the serializer that builds
    the trace first returns Any): it is the fields', as the request schema is."""
    from pydantic import TypeAdapter

    schema = sv.Valuation.model_json_schema(mode="serialization")
    assert {"amount", "measure", "steps", "digest"} <= set(schema["properties"])
    listed = TypeAdapter(list[sv.Valuation]).json_schema(mode="serialization")
    assert listed["items"] == {"$ref": "#/$defs/Valuation"}
    assert "amount" in listed["$defs"]["Valuation"]["properties"]
