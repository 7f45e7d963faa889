"""What an integrator writes, type-checked under ``mypy --strict`` by
``tests/test_public_api.py``: every attribute used here must be declared, with its type."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, assert_type

import numpy as np

import socialvalue_tom as sv
from socialvalue_tom import money
from socialvalue_tom.schemas import schema_text


def value_request(body: str) -> dict[str, Any]:
    """Value one outcome sent as JSON; answer the valuation or the typed error as JSON."""
    try:
        outcome = sv.Outcome.model_validate_json(body)
        valuation = sv.value(outcome, "uk-national")
    except sv.UnitError as err:
        expected: str | list[str] | None = err.expected
        return {"unit": err.unit, "expected": expected, **err.to_dict()}
    except sv.OutcomeError as err:
        where: tuple[str | None, int | None, str | None] = (err.field, err.row, err.measure)
        return {"where": list(where), **err.to_dict()}
    except sv.SocialValueError as err:
        return err.to_dict()
    steps: int = len(valuation.steps)
    pence: int = valuation.pennies
    return {"pence": pence, "steps": steps, "valuation": json.loads(valuation.model_dump_json())}


def rule_problem(err: sv.RuleError) -> tuple[int | None, str | None, list[str]]:
    columns = list(err.columns or ())
    return err.row, err.exclusion, columns


def table_problem(err: sv.UnknownMeasureError | sv.UnknownTableError) -> str | None:
    return err.version


def tonnes(kilograms: float) -> float:
    mass = sv.Quantity(kilograms, "kgCO2e").to("tCO2e")
    return assert_type(mass.magnitude, float)  # pint's types, not Any


def outcome_from_a_frame_cell(cell: np.datetime64) -> sv.Outcome:
    return sv.Outcome(measure="jobs-local-fte", quantity=1, region="uk", date=cell)


def outcome_with_no_fields_given_as_none() -> sv.Outcome:
    # The model refuses fields=None at run time, so the signature must refuse it too: were
    # it allowed, --strict would report this ignore as unused.
    return sv.Outcome(measure="jobs-local-fte", quantity=1, region="uk", date="2024-06-01",
                      fields=None)  # type: ignore[arg-type]


def asked_for(err: sv.NoTableInForceError) -> dt.date | None:
    return assert_type(err.date, dt.date | None)


def read_only_to_the_checker(table: sv.ProxyTable, outcome: sv.Outcome,
                             valuation: sv.Valuation) -> None:
    """What raises at run time is refused by the checker too (each ignore must be used)."""
    outcome.fields["level"] = 4  # type: ignore[index]
    table.digest = "0" * 64  # type: ignore[misc]
    table.measure_typo = 1  # type: ignore[attr-defined]
    outcome.quantity = 2.0  # type: ignore[misc]
    valuation.amount = 0.0  # type: ignore[misc]
    proxies = table.measure("jobs-local-fte").proxies
    proxies["london"] = proxies["uk"]  # type: ignore[index]


def pinned(digest: str) -> sv.ProxyTable:
    """A re-run pinned to the edition a valuation recorded."""
    sv.load_table(path="mine.yaml", digest=digest)
    return sv.load_table("uk-national", version="2024", digest=digest)


def wrong_calls_refused() -> None:
    sv.load_table()  # type: ignore[call-overload]
    sv.load_table("uk-national")  # type: ignore[call-overload]


def money_from_a_procurement_system(prices: list[Decimal], quantity: Decimal,
                                   row: np.int64) -> tuple[Decimal, int, str]:
    outcome = sv.Outcome(measure="jobs-local-fte", quantity=quantity, region="uk",
                         date="2024-06-01", years=np.int64(2), contract_value=prices[0])
    assert_type(outcome.fields["level"], float)
    pairs: dict[str, Any] = dict(sv.value(outcome, "uk-national"))
    text = schema_text("proxy-table") + str(pairs) + sv.explain_row(_frame(), row)
    return money.total(prices), money.to_pence(prices[0]), text + money.format_gbp(prices[0])


def _frame() -> Any:
    return None


def quantity_as_a_type(q: sv.Quantity[float]) -> float:
    return q.magnitude


def pydantic_errors(err: sv.OutcomeError | sv.RuleError) -> tuple[int, int | list[int] | None]:
    found: list[dict[str, Any]] = err.errors or []
    rows = err.rows if isinstance(err, sv.RuleError) else None
    return len(found), rows


def validated_strictly(body: str, table: sv.ProxyTable) -> tuple[bool, str | None, int | None]:
    """pydantic's own keywords are checked (a misspelt one is refused), a day may be ISO text,
    and every error has ``field`` and ``row``."""
    try:
        sv.Outcome.model_validate_json(body, strict=True)
        sv.Outcome.model_validate_json(body, strcit=True)  # type: ignore[call-arg]
    except sv.SocialValueError as err:
        return table.covers("2024-06-01"), err.field, err.row
    edition, carried = sv.TableSet([table]).select("2024-06-01")
    return carried, edition.name, None


def expression_position(err: sv.ProxyTableError) -> str:
    if err.position is None:
        return ""
    line, column = err.position
    return f"line {line}, column {column}"


def blank_header(err: sv.InputFileError) -> str:
    return ", ".join(map(str, err.positions or [])) + str(err.width or 0)


def money_module_is_found(amount: float) -> str:
    return sv.money.to_pounds(amount).to_eng_string()


def bounds_by_name(outcome: sv.Outcome) -> int:
    """The sensitivity's keys are known to the checker: a misspelt one is refused."""
    bounds = sv.sensitivity(outcome)
    bounds["hihg"]  # type: ignore[misc]
    return assert_type(bounds["high"], sv.Valuation).pennies - bounds["low"].pennies


def unknown_measures(err: sv.BulkValidationError) -> list[int]:
    """A row issue's code is one of the documented codes: a misspelt one is refused."""
    code: sv.RowIssueCode = "unknown-measure"
    wrong: sv.RowIssueCode = "unkown-measure"  # type: ignore[assignment]
    return [i.row for i in err.issues if i.code in (code, wrong)]
