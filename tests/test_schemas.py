"""JSON Schemas for procurement systems."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

import socialvalue_tom as sv
from socialvalue_tom.cases import CaseFile
from socialvalue_tom.schemas import (
    ISO_DATE_PATTERN,
    SCHEMA_FILES,
    json_schema,
    main,
    schema_text,
    write_schemas,
)
from socialvalue_tom.tables.amend import AmendmentFile
from socialvalue_tom.tables.schema import IndexFile, TableFile, Year

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "schemas"
TINY = Path(__file__).parent / "data" / "tables" / "tiny.yaml"
TINY_INDEX = Path(__file__).parent / "data" / "tables" / "tiny-deflator.index.yaml"


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_committed_schema_when_regenerated_then_identical(kind: str) -> None:
    """docs/schemas/ holds exactly what `make schemas` generates (regenerate after a change)."""
    committed = (DOCS / SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    assert committed == schema_text(kind), f"run `make schemas`: {SCHEMA_FILES[kind]} is stale"


_KIND_MODELS = {"outcome": sv.Outcome, "valuation": sv.Valuation, "assumptions": sv.Assumptions,
                "table": TableFile, "index": IndexFile, "amendment": AmendmentFile,
                "cases": CaseFile}


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_model_json_schema_is_the_published_schema(kind: str) -> None:
    """A procurement-developer review: ``sv.Outcome.model_json_schema()``, which a service asks
    pydantic for, was pydantic's looser schema (any dddd-dd-dd date, 1e400): it is
    ``json_schema(kind)`` less the dialect and id."""
    published = {k: v for k, v in json_schema(kind).items()  # type: ignore[arg-type]
                 if k not in ("$schema", "$id")}
    assert _KIND_MODELS[kind].model_json_schema() == published


def test_schema_of_a_model_holding_outcomes_checks_them_as_published() -> None:
    """A request body of the caller's own (``list[sv.Outcome]``, as a web framework makes its
    schema): an outcome on a day that does not exist, or a quantity no float holds, is refused
    by the schema as by the model, and a good one passes."""
    import jsonschema

    check = jsonschema.Draft202012Validator(TypeAdapter(list[sv.Outcome]).json_schema())
    good = {"measure": "jobs-local-fte", "quantity": 1, "region": "wales", "date": "2024-02-29"}
    assert check.is_valid([good])
    for bad in ({"date": "2024-02-30"}, {"date": "2024-13-01"}, {"quantity": 1e400},
                {"measure": "   "}):
        assert not check.is_valid([{**good, **bad}]), bad
        with pytest.raises(sv.OutcomeError):
            sv.Outcome.model_validate({**good, **bad})


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
    # The field names the argument, as for any option given a value outside its choices
    # (docs/errors.md): a service maps it into its response.
    assert info.value.field == "kind" and info.value.to_dict()["field"] == "kind"


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


def _validator(kind: str, formats: bool = True) -> Any:
    """A real validator for ``kind``; ``formats=False``: draft 2020-12's default, where a
    "format" is an annotation only, so the schema's own patterns must refuse bad dates."""
    import jsonschema  # a dev dependency: the schemas are checked by a real validator
    schema = json_schema(kind)  # type: ignore[arg-type]
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)


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
    {"fields": {"level": 3, " level": 4}}, {"fields": {"level": 3, "level\n": 4}},
    {"fields": {" level": 4}}, {"date": "2024-13-45"}, {"date": "2023-02-29"},
    {"date": "2024-02-29"}, {"date": "0000-01-01"}, {"date": "2024-06-01\n"},
    {"date": "\u0662\u0660\u0662\u0664-06-01"}, {"measure": "\x85"}, {"region": "\u3000"},
]


@pytest.mark.parametrize("formats", [True, False], ids=["format-asserted", "format-annotation"])
@pytest.mark.parametrize("change", _OUTCOME_VARIANTS, ids=lambda c: repr(c)[:40])
def test_outcome_schema_when_it_accepts_a_document_then_the_model_does(
        change: dict[str, Any], formats: bool) -> None:
    """The schema is never looser than the model: a document it accepts, Outcome reads (the
    model may forgive more, e.g. surrounding spaces; see docs/cli.md, JSON Schemas), whether
    the validator asserts "format" or not."""
    doc = {**_OUTCOME, **change}
    if _validator("outcome", formats).is_valid(doc):
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


def test_valuation_schema_when_digest_has_a_final_newline_then_refused_as_by_the_model(
        ) -> None:
    """Python's re lets a final ``$`` match before a last newline (ECMA-262 and the model do
    not): the schema must refuse the digest with "\n" after it that the model refuses."""
    table = sv.load_table(path=TINY)
    v = sv.value(sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="london",
                            date="2024-06-01"), table)
    doc = json.loads(v.model_dump_json())
    assert _validator("valuation").is_valid(doc)
    doc["digest"] += "\n"
    assert not _validator("valuation").is_valid(doc)
    with pytest.raises(sv.OutcomeError, match="digest"):
        sv.Valuation.model_validate_json(json.dumps(doc))


def _as_json(data: Any) -> Any:
    """YAML data as a JSON document holds it: dates as ISO text, integer keys as text."""
    return json.loads(json.dumps(data, default=str))


def _read_json(path: Path) -> Any:
    return _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))


def _docs_amendment() -> dict[str, Any]:
    """The amendment of docs/proxies.md, with the local measure the page adds after it."""
    text = (ROOT / "docs" / "proxies.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    head = next(b for b in blocks if b.get("format") == "socialvalue_tom.amendment/v1")
    measures = next(b for b in blocks if set(b) == {"measures"})
    return _as_json({**head, **measures})


#: How the library reads each kind of document. An index is read from JSON here as pydantic
#: reads JSON: from a dict, its strict integer years refuse keys given as text.
_READ: dict[str, Callable[[Any], Any]] = {
    "outcome": sv.Outcome.model_validate, "table": TableFile.model_validate,
    "amendment": AmendmentFile.model_validate,
    "index": lambda doc: IndexFile.model_validate_json(json.dumps(doc)),
    "cases": CaseFile.model_validate,
}


def _shipped() -> Iterator[tuple[str, str, Any]]:
    """(kind, name, document): every table and index shipped or used by the tests, and the
    amendment of the docs, as JSON documents."""
    for path in [*sorted((ROOT / "proxies").glob("uk-national/*.yaml")), TINY]:
        yield "table", path.name, _read_json(path)
    for path in [*sorted((ROOT / "proxies" / "indices").glob("*.yaml")), TINY_INDEX]:
        yield "index", path.name, _read_json(path)
    yield "amendment", "docs/proxies.md", _docs_amendment()
    yield "cases", "examples/cases.yaml", _read_json(ROOT / "examples" / "cases.yaml")
    text = (ROOT / "docs" / "proxies.md").read_text(encoding="utf-8")
    yield "cases", "docs/proxies.md", _as_json(next(
        b for b in (yaml.safe_load(t) for t in re.findall(r"```yaml\n(.*?)```", text, re.S))
        if b.get("format") == "socialvalue_tom.cases/v1"))


@pytest.mark.parametrize("formats", [True, False], ids=["format-asserted", "format-annotation"])
@pytest.mark.parametrize(("kind", "name", "doc"), list(_shipped()),
                         ids=[f"{k}:{n}" for k, n, _ in _shipped()])
def test_shipped_documents_when_validated_then_the_schema_and_model_accept(
        kind: str, name: str, doc: Any, formats: bool) -> None:
    """The tables and indices shipped in proxies/, the test tables and the docs' amendment are
    valid by their schema, and read by their model from the same JSON document."""
    errors = list(_validator(kind, formats).iter_errors(doc))
    assert errors == [], (name, [e.message[:200] for e in errors[:3]])
    _READ[kind](doc)


def _changed(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with ``value`` at ``path`` (keys and list positions, by "/")."""
    out = copy.deepcopy(doc)
    *parents, last = path.split("/")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return out


_PROXY = {"value": 10.0, "source": "example-council-check", "illustrative": True}
_TINY = _read_json(TINY)
_TINY_INDEX = _read_json(TINY_INDEX)
_AMENDMENT = _docs_amendment()
_CASES = _read_json(ROOT / "examples" / "cases.yaml")
#: Documents the model refuses, one wrong thing each: the schema must refuse them too.
_REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    # A map keyed by codes: a key that fails the pattern is refused, not let through unchecked.
    ("amendment", "region key not a code", _changed(
        _AMENDMENT, "proxies/jobs-local-fte", {"England": {"value": -5, "source": 12}})),
    ("amendment", "measure key not a code", _changed(
        _AMENDMENT, "proxies", {"Jobs-Local-FTE": {"england": _PROXY}})),
    ("amendment", "region keys one once stripped", _changed(
        _AMENDMENT, "proxies/jobs-local-fte", {"england": _PROXY, " england": _PROXY})),
    ("amendment", "region keys one once stripped (newline)", _changed(
        _AMENDMENT, "proxies/jobs-local-fte", {"england": _PROXY, "england\n": _PROXY})),
    ("amendment", "measure's region key not a code", _changed(
        _AMENDMENT, "measures/0/proxies/London", {"value": -1, "source": 12})),
    ("amendment", "blank source title", _changed(_AMENDMENT, "sources/0/title", " ")),
    ("table", "region key not a code", _changed(
        _TINY, "measures/0/proxies/London", {"value": -1, "source": 12})),
    ("table", "parameter names one once stripped", _changed(
        _TINY, "parameters", {"rate": {"value": 1.0}, "rate ": {"value": 2.0}})),
    ("table", "confidence grades one once stripped", _changed(
        _TINY, "confidence_grades", {"grades": {"a": 0.1, "a\t": 0.2}})),
    ("table", "month 13", _changed(_TINY, "valid_from", "2024-13-01")),
    ("table", "30 February", _changed(_TINY, "valid_to", "2025-02-30")),
    ("table", "not a date", _changed(_TINY, "valid_from", "soon")),
    ("table", "blank title", _changed(_TINY, "title", "\u2003")),
    ("table", "blank region name", _changed(_TINY, "regions/0/name", "\x85")),
    ("table", "url with a space pydantic sees", _changed(
        _TINY, "sources/0/url", "https://example.org/a\x85b")),
    ("table", "exclusion key a valuation column once stripped", _changed(
        _TINY, "exclusions", [{"id": "x", "measures": ["jobs-local", "jobs-apprentice"],
                               "mode": "reject", "reason": "r", "key": [" measure"]}])),
    ("index", "year key not a number", _changed(_TINY_INDEX, "values/abc", 1.0)),
    ("index", "year key below the years allowed", _changed(_TINY_INDEX, "values/1899", 1.0)),
    ("index", "year key above the years allowed", _changed(_TINY_INDEX, "values/2201", 1.0)),
    ("index", "year key a fraction", _changed(_TINY_INDEX, "values/2022.5", 1.0)),
    ("index", "published 45th", _changed(_TINY_INDEX, "published", "2025-01-45")),
    ("outcome", "field names one once stripped", {**_OUTCOME, "fields": {"level": 3,
                                                                         " level": 4}}),
    ("outcome", "month 13, day 45", {**_OUTCOME, "date": "2024-13-45"}),
    ("outcome", "29 February, not a leap year", {**_OUTCOME, "date": "2023-02-29"}),
    ("outcome", "year 0", {**_OUTCOME, "date": "0000-01-01"}),
    ("outcome", "Arabic-Indic digits", {**_OUTCOME, "date": "\u0662\u0660\u0662\u0664-06-01"}),
    ("outcome", "blank measure", {**_OUTCOME, "measure": "\x85"}),
    # Names the validators check (a review found the schema let them through).
    ("amendment", "derivation input not snake_case", _changed(
        _AMENDMENT, "proxies/jobs-local-fte/england/derivation/inputs",
        {"Median Weekly Pay": 750.5, "weeks_per_year": 52})),
    ("table", "parameter name not snake_case", _changed(
        _TINY, "parameters", {"Bad Name": {"value": 0.25, "source": "test-source"}})),
    ("table", "parameter named a keyword", _changed(
        _TINY, "parameters", {"lambda": {"value": 0.25, "source": "test-source"}})),
    ("table", "parameter named as the engine names quantity", _changed(
        _TINY, "parameters", {"quantity": {"value": 0.25, "source": "test-source"}})),
    ("table", "measure parameter not snake_case", _changed(
        _TINY, "measures/0/parameters", {"Rate": 1.0})),
    ("table", "requires a keyword", _changed(_TINY, "measures/0/requires", ["lambda"])),
    # Single-field checks a review found the schema let through.
    ("table", "quantity bounds max below 0", _changed(
        _TINY, "measures/5/quantity_bounds", {"max": -1})),
    ("table", "a published value without a derivation", _changed(
        _TINY, "measures/0/proxies/uk", {"value": 10.0, "source": "test-source"})),
    ("amendment", "a published value without a derivation", _changed(
        _AMENDMENT, "proxies/jobs-local-fte", {"england": {"value": 10.0,
                                                           "source": "ons-ashe-2025"}})),
    ("outcome", "contract value beyond a float", {**_OUTCOME, "contract_value": 10**400}),
    ("outcome", "a field beyond a float", {**_OUTCOME, "fields": {"level": -(10**400)}}),
    ("amendment", "adds nothing", {k: v for k, v in _AMENDMENT.items()
                                   if k not in ("proxies", "measures")}),
    ("amendment", "adds an empty map", {**{k: v for k, v in _AMENDMENT.items()
                                           if k != "measures"}, "proxies": {}}),
    # A case file: pounds as text or beyond what one outcome may be valued at, blank names.
    ("cases", "pounds beyond the limit", _changed(_CASES, "cases/0/expect/value_gbp", 1e13)),
    ("cases", "pounds beyond the limit as text", _changed(
        _CASES, "cases/0/expect/value_gbp", "1000000000000.01")),
    ("cases", "pounds not a number", _changed(_CASES, "cases/0/expect/value_gbp", "£5")),
    ("cases", "fractions of a penny as text", _changed(
        _CASES, "cases/0/expect/value_gbp", "1.001")),
    ("cases", "a blank name", _changed(_CASES, "cases/0/name", " \x85")),
    ("cases", "a key of no case", _changed(_CASES, "cases/0/colour", "red")),
    ("cases", "another format", _changed(_CASES, "format", "socialvalue_tom.cases/v2")),
]
#: Table files the loader refuses for one field that the model leaves to the loader (the
#: expression parser): the schema must refuse them too.
_LOADER_REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("blank expression", _changed(_TINY, "measures/4/expression", " \x1c")),
    ("empty expression", _changed(_TINY, "measures/4/expression", "")),
    ("blank low formula", _changed(
        _TINY, "measures/0/proxies/uk", {"value": 10.0, "source": "test-source", "derivation": {
            "inputs": {"pay": 10.0}, "formula": "pay", "low_formula": "  "}})),
]


@pytest.mark.parametrize(("what", "doc"), _LOADER_REFUSED, ids=[w for w, _ in _LOADER_REFUSED])
def test_schema_when_the_loader_refuses_a_field_then_refuses_it(
        what: str, doc: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / TINY_INDEX.name).write_bytes(TINY_INDEX.read_bytes())
    with pytest.raises(sv.ProxyTableError):
        sv.load_table(path=path)
    assert not _validator("table", True).is_valid(doc), what


@pytest.mark.parametrize("formats", [True, False], ids=["format-asserted", "format-annotation"])
@pytest.mark.parametrize(("kind", "what", "doc"), _REFUSED,
                         ids=[f"{k}:{w}" for k, w, _ in _REFUSED])
def test_schema_when_the_model_refuses_a_document_then_refuses_it(
        kind: str, what: str, doc: dict[str, Any], formats: bool) -> None:
    """Never looser than the model: what the model refuses, the schema refuses, with or without
    a format checker (draft 2020-12 only annotates "format" unless a validator asserts it)."""
    with pytest.raises((ValueError, sv.SocialValueError)):
        _READ[kind](doc)  # the case is one the model refuses
    assert not _validator(kind, formats).is_valid(doc), what


def test_date_pattern_when_any_day_then_matches_exactly_the_dates_that_exist() -> None:
    """The date pattern takes the ISO dates datetime reads, and nothing else: month and day
    ranges, 30-day months, 29 February in leap years only (2000 and 2024, not 1900 or 2023),
    years 0001 to 9999."""
    pattern = re.compile(ISO_DATE_PATTERN)
    for year in (0, 1, 4, 100, 400, 999, 1900, 2000, 2023, 2024, 2100, 2400, 9996, 9999):
        for month in range(15):
            for day in range(34):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    dt.date.fromisoformat(text)
                    exists = True
                except ValueError:
                    exists = False
                assert bool(pattern.search(text)) == exists, text
    for text in ("2024-6-01", "24-06-01", "2024-06-1", "20240601", " 2024-06-01", "2024-06-01x",
                 "+2024-06-01", "2024-06-01T00:00", "２０２４-06-01"):
        assert not pattern.search(text), text


def test_index_year_keys_when_any_number_then_the_years_the_model_allows() -> None:
    """The index's year keys are the model's years (1900 to 2200), written as plain decimals."""
    import jsonschema
    names = json_schema("index")["properties"]["values"]["propertyNames"]
    check = jsonschema.Draft202012Validator(names)
    year = TypeAdapter(Year)
    for n in range(0, 10_000):
        try:
            year.validate_python(n)
            allowed = True
        except ValueError:
            allowed = False
        assert check.is_valid(str(n)) == allowed, n
    for text in ("02024", "2024.0", "+2024", " 2024", "2024\n", "2_024", "", "-2024"):
        assert not check.is_valid(text), text


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema inside ``schema`` (itself included)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("properties", "patternProperties", "$defs"):
        for sub in schema.get(key, {}).values():
            yield from _subschemas(sub)
    for key in ("items", "additionalProperties", "not", "propertyNames"):
        yield from _subschemas(schema.get(key))
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        for sub in schema.get(key, []):
            yield from _subschemas(sub)


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_every_schema_when_walked_then_maps_dates_and_text_are_checked(kind: str) -> None:
    """Generic checks, for models added later: no key escapes a map's checks, map keys are
    stripped (so no two are one once read), a date is its pattern, and text the model needs
    non-blank once stripped has a character that is not space."""
    import jsonschema
    for sub in _subschemas(json_schema(kind)):  # type: ignore[arg-type]
        if "patternProperties" in sub:
            assert sub.get("additionalProperties") is False, sub
        if "patternProperties" in sub or isinstance(sub.get("additionalProperties"), dict):
            names = jsonschema.Draft202012Validator(sub["propertyNames"])
            assert not any(names.is_valid(k) for k in (" a", "a ", "a\n", "\x85a", "a\x1f"))
        if sub.get("format") == "date":
            assert sub["pattern"] == ISO_DATE_PATTERN
        if sub.get("type") == "string" and str(sub.get("pattern", "")).endswith("$"):
            # Python's $ matches before a last newline too: "not" must refuse it.
            assert "not" in sub and jsonschema.Draft202012Validator(sub["not"]).is_valid(
                "a\n"), sub
        if sub.get("type") == "string" and sub.get("minLength", 0) >= 1:
            text = jsonschema.Draft202012Validator(sub)
            assert not any(text.is_valid(blank * sub["minLength"])
                           for blank in (" ", "\t", "\x85", "\u2003", "\u3000")), sub
            # As a JavaScript validator reads the pattern: its \s lacks U+001C..U+001F, which
            # Python's str.strip (measure, region) strips, and U+0085.
            if "pattern" in sub:
                ecma = re.compile(_as_ecma(sub["pattern"]))
                assert not any(ecma.search(blank * sub["minLength"])
                               for blank in ("\x1c", "\x1f", "\x85")), sub


#: ECMA-262's \s, spelt out for Python's re.
_ECMA_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _as_ecma(pattern: str) -> str:
    """``pattern`` with \\s and \\S meaning what they mean in ECMA-262, for Python's re."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        token = pattern[i:i + 2] if pattern[i] == "\\" else pattern[i]
        if token == r"\s":
            out.append(_ECMA_SPACE if in_class else f"[{_ECMA_SPACE}]")
        elif token == r"\S" and not in_class:
            out.append(f"[^{_ECMA_SPACE}]")
        else:
            out.append(token)
        in_class = (in_class or token == "[") and token != "]"
        i += len(token)
    return "".join(out)
