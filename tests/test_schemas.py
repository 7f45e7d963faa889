"""JSON Schemas for procurement systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import socialvalue_tom as sv
from socialvalue_tom.schemas import SCHEMA_FILES, json_schema, main, schema_text, write_schemas

DOCS = Path(__file__).parent.parent / "docs" / "schemas"
TINY = Path(__file__).parent / "data" / "tables" / "tiny.yaml"


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_committed_schema_when_regenerated_then_identical(kind: str) -> None:
    """docs/schemas/ holds exactly what `make schemas` generates (regenerate after a change)."""
    committed = (DOCS / SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    assert committed == schema_text(kind), f"run `make schemas`: {SCHEMA_FILES[kind]} is stale"


@pytest.mark.parametrize("kind, title, field", [
    ("outcome", "Outcome", "quantity"), ("valuation", "Valuation", "digest"),
    ("table", "TableFile", "measures"), ("index", "IndexFile", "values")])
def test_json_schema_when_kind_then_model_fields(kind: str, title: str, field: str) -> None:
    """Each schema is the model's, with the 2020-12 dialect."""
    schema = json_schema(kind)  # type: ignore[arg-type]
    assert schema["title"] == title
    assert field in schema["properties"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_json_schema_when_unknown_kind_then_rule_error_lists_kinds() -> None:
    """An unknown kind is a RuleError (still a ValueError) naming the valid ones."""
    kinds = "outcome, valuation, assumptions, table, index, amendment"
    with pytest.raises(sv.RuleError, match=kinds) as info:
        json_schema("bid")
    assert info.value.kind == "bid"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("stem", "kind"), [("proxy-table", "table"), ("price-index", "index"),
                                            ("table-amendment", "amendment")])
def test_json_schema_when_file_stem_given_then_same_schema_as_kind(stem: str, kind: str) -> None:
    """The file names written by make schemas work as kinds too."""
    assert json_schema(stem) == json_schema(kind)  # type: ignore[arg-type]
    assert json_schema(stem)["$id"] == f"{stem}.schema.json"


def test_valuation_json_when_round_tripped_then_equal() -> None:
    """A Valuation (with its trace) survives JSON without loss."""
    table = sv.load_table(path=TINY)
    v = sv.value(sv.Outcome(measure="jobs-apprentice", quantity=12.5, unit="week", region="london",
                            date="2024-09-30", fields={"level": 3}), table)
    back = sv.Valuation.model_validate_json(v.model_dump_json())
    assert back == v
    assert back.amount == v.amount and back.steps == v.steps
    assert json.loads(v.model_dump_json())["digest"] == table.digest


def test_main_when_folder_then_writes_every_schema(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m socialvalue_tom.schemas FOLDER` writes one file per kind."""
    assert main([str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(SCHEMA_FILES.values())
    assert "outcome.schema.json" in capsys.readouterr().out
    assert main([]) == 2
    assert [p.name for p in write_schemas(tmp_path)] == list(SCHEMA_FILES.values())


def test_assumptions_schema_describes_what_procurement_systems_send() -> None:
    """Assumptions travel with outcomes: their schema has the rule settings and defaults."""
    schema = json_schema("assumptions")
    assert schema["title"] == "Assumptions"
    assert schema["properties"]["discount_schedule"]["default"] == "green-book"
    assert {"price_year", "carry_forward", "bound"} <= set(schema["properties"])


def _validator(kind: str) -> Any:
    import jsonschema  # a dev dependency: the schemas are checked by a real validator
    schema = json_schema(kind)  # type: ignore[arg-type]
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_OUTCOME = {"measure": "jobs-local-fte", "quantity": 2.5, "unit": "FTE", "region": "uk",
            "date": "2024-06-01"}
#: Documents a procurement system might send, right and wrong, against the outcome schema.
_OUTCOME_VARIANTS: list[dict[str, Any]] = [
    {}, {"quantity": "2.5"}, {"quantity": True}, {"quantity": -1}, {"quantity": 1e13},
    {"quantity": 0}, {"date": " 2024-06-01"}, {"date": "2024-6-1"}, {"date": "2024-02-30"},
    {"date": "2024-06-01T00:00:00"}, {"measure": ""}, {"measure": " "}, {"measure": "x" * 200},
    {"region": ""}, {"unit": ""}, {"stage": "delivered"}, {"stage": " delivered"},
    {"stage": "Delivered"}, {"stage": ""}, {"stage": "promised"}, {"contract_id": 5},
    {"contract_id": "C-1"}, {"contract_value": 0}, {"contract_value": 1e6},
    {"confidence": "3"}, {"confidence": 3}, {"years": 0}, {"years": 1.5}, {"years": 3},
    {"deadweight": 1.5}, {"deadweight": 0.2}, {"drop_off": -0.1}, {"period_share": 0},
    {"period_share": 0.5}, {"fields": {"level": 3}}, {"fields": {"level": "3"}},
    {"extra_key": 1}, {"supplier_id": "S1"},
]


@pytest.mark.parametrize("change", _OUTCOME_VARIANTS, ids=lambda c: repr(c)[:40])
def test_outcome_schema_when_it_accepts_a_document_then_the_model_does(
        change: dict[str, Any]) -> None:
    """The schema is never looser than the model: a document it accepts, Outcome reads (the
    model may forgive more, e.g. surrounding spaces; see docs/cli.md, JSON Schemas)."""
    doc = {**_OUTCOME, **change}
    if _validator("outcome").is_valid(doc):
        sv.Outcome.model_validate(doc)  # raises if the model refuses it


def test_schemas_when_documents_the_library_writes_then_valid() -> None:
    """Every valuation, outcome and assumptions the library dumps is valid by its schema."""
    table = sv.load_table(path=TINY)
    outcome = sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="london",
                         date="2024-06-01", years=3)
    assumptions = sv.Assumptions(price_year=2025)
    v = sv.value(outcome, table, assumptions=assumptions)
    for kind, model in (("outcome", outcome), ("valuation", v), ("assumptions", assumptions)):
        errors = list(_validator(kind).iter_errors(json.loads(model.model_dump_json())))
        assert errors == [], (kind, errors[:3])
