"""Schema checks against numbers that would come out wrong: units that are no multiple of a base
unit, proxies too large for a float to hold their pennies, names the engine supplies, keys that
read alike, and tables too large for the bulk engine's indexes. Each malformed file is a
one-change mutation of tests/data/tables/tiny.yaml, refused at load with a ProxyTableError
naming the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TINY, TINY_INDEX, line_of, sub
from pydantic import ValidationError

import socialvalue_tom as sv
from socialvalue_tom.tables import schema
from socialvalue_tom.tables.schema import TableFile

TEXT = TINY.read_text(encoding="utf-8")
VOLUNTEERING_UK = "      uk: {value: 15.00, source: test-source, illustrative: true}"
CARBON_UK = ("      uk: {value: 250.00, low: 125.00, high: 375.00, source: test-source, "
             "illustrative: true}")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / TINY_INDEX.name).write_bytes(TINY_INDEX.read_bytes())
    return path


def load_error(tmp_path: Path, text: str) -> sv.ProxyTableError:
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=write(tmp_path, text))
    return info.value


# -- units that are not a multiple of a base unit -----------------------------------------------

@pytest.mark.parametrize(("unit", "accepts", "field"), [
    ("degC", None, "measures[2].unit"),
    ("degF", None, "measures[2].unit"),
    ("decibel", None, "measures[2].unit"),
    ("neper", None, "measures[2].unit"),
    ("octave", None, "measures[2].unit"),
    ("kelvin", "[kelvin, degC]", "measures[2].accepts[1]"),
    ("kelvin", "[degF]", "measures[2].accepts[0]"),
    ("percent", "[percent, decibel]", "measures[2].accepts[1]"),
    ("dimensionless", "[neper]", "measures[2].accepts[0]"),
])
def test_load_table_when_unit_has_offset_or_log_scale_is_refused(
        tmp_path: Path, unit: str, accepts: str | None, field: str) -> None:
    """10 degC is not 10 times 1 degC in kelvin (it is 283.15 K, not 2741.5 K), and 2 octaves are
    not twice one: no factor converts such units, so they are refused, not multiplied."""
    new = f"    unit: {unit}\n" + (f"    accepts: {accepts}\n" if accepts else "")
    text = sub("    unit: tCO2e\n", new)
    err = load_error(tmp_path, text)
    assert err.field == field
    assert err.line == line_of(text, "accepts:" if "accepts" in field else f"unit: {unit}")
    assert "offset or logarithmic scale" in str(err) and "env-carbon" in str(err)


@pytest.mark.parametrize(("unit", "accepts"), [
    ("kelvin", "[kelvin, delta_degC, degR]"), ("percent", "[percent, dimensionless]"),
    ("kWh", "[kWh, MWh, joule]"), ("tCO2e", "[tCO2e, kgCO2e]"),
])
def test_load_table_when_unit_is_a_multiple_of_its_base_loads(tmp_path: Path, unit: str,
                                                              accepts: str) -> None:
    text = sub("    unit: tCO2e\n", f"    unit: {unit}\n    accepts: {accepts}\n")
    assert sv.load_table(path=write(tmp_path, text)).measure("env-carbon").unit == unit


# -- proxies a float cannot hold to the penny ---------------------------------------------------

@pytest.mark.parametrize(("old", "new", "field"), [
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "10000000000000000.07"),
     "measures[6].proxies.uk.value"),
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "1000000000000.00"),
     "measures[6].proxies.uk.value"),
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "1.0e+300"),
     "measures[6].proxies.uk.value"),
    (CARBON_UK, CARBON_UK.replace("375.00", "9007199254740993"), "measures[2].proxies.uk.high"),
])
def test_load_table_when_proxy_at_or_over_the_cap_is_refused(tmp_path: Path, old: str, new: str,
                                                             field: str) -> None:
    text = sub(old, new)
    err = load_error(tmp_path, text)
    assert err.field == field
    assert err.line == line_of(text, new.strip())
    assert f"below GBP {schema.MAX_PROXY:,.0f}" in str(err)


def test_load_table_when_proxy_just_under_the_cap_keeps_its_pennies(tmp_path: Path) -> None:
    text = sub(VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "999999999999.99"))
    t = sv.load_table(path=write(tmp_path, text))
    assert t.proxy("social-volunteering", "uk").value == 999_999_999_999.99
    assert round(999_999_999_999.99 * 100) == 99_999_999_999_999  # the pennies survive
    assert schema.MAX_PROXY * 2.0 ** -52 < 0.001  # float spacing at the cap: under 0.1p


def test_proxy_cap_is_in_the_json_schema() -> None:
    proxy = TableFile.model_json_schema()["$defs"]["ProxyValue"]["properties"]
    assert proxy["value"]["exclusiveMaximum"] == schema.MAX_PROXY
    assert all(proxy[k]["anyOf"][0]["exclusiveMaximum"] == schema.MAX_PROXY
               for k in ("low", "high"))


# -- names the engine supplies to expressions, and outcome columns ------------------------------

@pytest.mark.parametrize("name", ["quantity", "proxy", "proxy_low", "proxy_high"])
def test_load_table_when_table_parameter_named_like_an_engine_name_is_refused(
        tmp_path: Path, name: str) -> None:
    """The engine's value would win: the parameter would be silently ignored."""
    text = sub("  leakage: {value: 0.25, source: test-source}\n",
               f"  leakage: {{value: 0.25, source: test-source}}\n  {name}: {{value: 2.0}}\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == (f"parameters.{name}", 27)
    assert f"{name!r}" in str(err) and "rename it" in str(err)


@pytest.mark.parametrize("name", ["quantity", "proxy", "proxy_low", "proxy_high"])
def test_load_table_when_measure_parameter_named_like_an_engine_name_is_refused(
        tmp_path: Path, name: str) -> None:
    text = sub("    cap_ratio: 0.5\n", f"    cap_ratio: 0.5\n    parameters: {{{name}: 2.0}}\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == (f"measures[4].parameters.{name}", 79)
    assert "rename it" in str(err)


def test_engine_names_are_those_the_engine_supplies() -> None:
    from socialvalue_tom.engine import PROXY_NAMES

    assert set(schema.ENGINE_NAMES) == set(PROXY_NAMES)
    t = sv.load_table(path=TINY)
    assert set(schema.ENGINE_NAMES) <= t.expression_names(t.measure("jobs-local"))


@pytest.mark.parametrize("name", ["quantity", "measure", "unit", "region", "date", "years",
                                  "deadweight", "confidence", "contract_id", "supplier_id",
                                  "stage", "contract_value", "period_share", "proxy", "fields"])
def test_load_table_when_requires_names_a_standard_column_is_refused(tmp_path: Path,
                                                                      name: str) -> None:
    """A standard column is read as the outcome's own field by one path and as an extra field by
    the other: the scalar and bulk results would differ."""
    text = sub("    requires: [level]\n", f"    requires: [level, {name}]\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == ("measures[5].requires[1]", line_of(text, "requires:"))
    assert f"{name!r}" in str(err)


@pytest.mark.parametrize("name", ["value_gbp", "version", "table", "digest", "proxy_gbp",
                                  "claim_share", "exclusion", "region_used"])
def test_load_table_when_requires_names_a_column_a_valuation_writes_is_refused(
        tmp_path: Path, name: str) -> None:
    """A table author's review: requires: [level, value_gbp] loaded; valuing overwrote the
    field with the result and explain_row could not rebuild the trace (and 'version' was read
    back as the number 2024). Refused at load, as an exclusion key of these names is."""
    from socialvalue_tom.frame import OUTPUT_COLUMNS

    assert set(OUTPUT_COLUMNS) <= set(schema.WRITTEN_COLUMNS)
    text = sub("    requires: [level]\n", f"    requires: [level, {name}]\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == ("measures[5].requires[1]", line_of(text, "requires:"))
    assert f"requires names {name!r}, a column a valuation writes" in str(err)


@pytest.mark.parametrize(("requires", "extra", "phrase"), [
    ("[level, leakage]", "", "the name of a table parameter"),
    ("[level, k]", "    parameters: {k: 0.5}\n", "the name of its own parameter"),
    ("[level, level]", "", "requires 'level' twice"),
    ("[level, lambda]", "", "a Python keyword"),
])
def test_load_table_when_requires_names_clash_or_cannot_be_used_is_refused(
        tmp_path: Path, requires: str, extra: str, phrase: str) -> None:
    """A required field named like a parameter took the parameter's place in the expression
    (a supplier's 'leakage' 0.9 replaced the table's 0.25, silently); a keyword can never be
    used; a repeated name is a typo."""
    text = sub("    requires: [level]\n", f"    requires: {requires}\n{extra}")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == ("measures[5].requires[1]", line_of(text, "requires:"))
    assert phrase in str(err)


def test_load_table_when_parameter_is_a_python_keyword_is_refused(tmp_path: Path) -> None:
    text = sub("  leakage: {value: 0.25, source: test-source}\n",
               "  leakage: {value: 0.25, source: test-source}\n  if: {value: 0.1}\n")
    err = load_error(tmp_path, text)
    assert err.field == "parameters.if" and "Python keyword" in str(err)


def test_standard_columns_cover_the_outcome_and_input_columns() -> None:
    from socialvalue_tom.frame import REQUIRED_COLUMNS
    from socialvalue_tom.io import TEXT_COLUMNS
    from socialvalue_tom.outcome import Outcome
    from socialvalue_tom.periods import PERIOD_COLUMNS

    expected = {*Outcome.model_fields, *TEXT_COLUMNS, *REQUIRED_COLUMNS, *PERIOD_COLUMNS}
    assert expected <= set(schema.STANDARD_COLUMNS)


# -- exclusion keys -----------------------------------------------------------------------------

EXCLUSION = "    reason: a priority-group hire is also a local job\n"


@pytest.mark.parametrize("key", ["measure", "quantity", "unit", "date", "value_gbp",
                                 "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                                 "claim_share", "exclusion", "''"])
def test_load_table_when_exclusion_key_can_never_group_claims_is_refused(tmp_path: Path,
                                                                         key: str) -> None:
    text = sub(EXCLUSION, f"{EXCLUSION}    key: [contract_id, {key}]\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == ("exclusions[0].key[1]", line_of(text, "key:"))
    assert repr(key.strip("'")) in str(err)


@pytest.mark.parametrize(("key", "standard"), [("contract_ID", "contract_id"),
                                             ("'Supplier id'", "supplier_id"),
                                             ("contract-id", "contract_id"),
                                             ("ContractId", "contract_id")])
def test_load_table_when_exclusion_key_misspells_a_standard_column_is_refused(
        tmp_path: Path, key: str, standard: str) -> None:
    """Column names are lower case: 'contract_ID' would never be found, and the whole input
    would silently be one group."""
    text = sub(EXCLUSION, f"{EXCLUSION}    key: [{key}]\n")
    err = load_error(tmp_path, text)
    assert (err.field, err.line) == ("exclusions[0].key[0]", line_of(text, "key:"))
    assert f"the column is {standard!r}" in str(err)


@pytest.mark.parametrize("key", ["[contract_id]", "[contract_id, region]", "[supplier_id]",
                                 "[framework_lot]", "[]"])
def test_load_table_when_exclusion_key_names_grouping_columns_loads(tmp_path: Path,
                                                                    key: str) -> None:
    text = sub(EXCLUSION, f"{EXCLUSION}    key: {key}\n")
    t = sv.load_table(path=write(tmp_path, text))
    assert list(t.spec.exclusions[0].key) == yaml.safe_load(key)


def test_never_grouping_columns_cover_the_output_columns() -> None:
    from socialvalue_tom.frame import OUTPUT_COLUMNS, REQUIRED_COLUMNS

    assert ({*OUTPUT_COLUMNS, *REQUIRED_COLUMNS} - {"region"}
            <= set(schema.NEVER_GROUPING_COLUMNS))


# -- keys that read alike once stripped, given in Python ---------------------------------------

def _tiny_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEXT)
    return data


@pytest.mark.parametrize(("path", "key"), [
    (("confidence_grades", "grades"), "C "),
    (("parameters",), " leakage"),
    (("measures", 0, "proxies"), "london\t"),
])
def test_model_when_keys_read_alike_once_stripped_is_refused(path: tuple[Any, ...],
                                                             key: str) -> None:
    data = _tiny_data()
    node: Any = data
    for part in path:
        node = node[part]
    node[key] = next(iter(node.values()))
    with pytest.raises(ValidationError, match=re.escape(repr(key))):
        TableFile.model_validate(data)


# -- sizes the bulk engine's 16-bit indexes can hold --------------------------------------------

def test_table_with_too_many_regions_is_refused() -> None:
    """32,768 regions (4 in tiny, and more under england): one more than an int16 holds."""
    data = _tiny_data()
    data["regions"] += [{"code": f"r{i}", "name": f"R{i}", "parent": "england"}
                        for i in range(schema.MAX_REGIONS + 1 - len(data["regions"]))]
    with pytest.raises(ValidationError) as info:
        TableFile.model_validate(data)
    assert "32,768 regions" in str(info.value) and "at most 32,767" in str(info.value)


def test_load_table_when_too_many_regions_names_the_field(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_REGIONS", 3)
    err = load_error(tmp_path, TEXT)
    assert err.field == "regions" and err.line == line_of(TEXT, "  - {code: uk")
    assert "4 regions" in str(err) and "at most 3" in str(err)


def test_max_regions_and_measures_fit_the_bulk_engine_indexes() -> None:
    import numpy as np

    assert schema.MAX_REGIONS == schema.MAX_MEASURES == np.iinfo(np.int16).max


def test_load_table_when_too_many_measures_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked with a lowered limit (a table of 32,768 measures takes long to validate)."""
    monkeypatch.setattr(schema, "MAX_MEASURES", 6)
    err = load_error(tmp_path, TEXT)
    assert err.field == "measures"
    assert "7 measures" in str(err) and "at most 6" in str(err)


def test_json_schema_states_the_size_limits() -> None:
    props = TableFile.model_json_schema()["properties"]
    assert props["measures"]["maxItems"] == schema.MAX_MEASURES
    assert props["regions"]["maxItems"] == schema.MAX_REGIONS


@pytest.mark.parametrize(("old", "new", "field", "phrase"), [
    ("    expression: quantity * proxy * (1 - leakage)\n",
     "    expression: quantity * proxy * (1 - leakage)\n    parameters: {leakag: 0.9}\n",
     "measures[4].parameters.leakag", "never reads its parameter(s) 'leakag': a misspelling?"),
    ("  - code: jobs-local\n", "  - code: jobs-local\n    parameters: {leakage: 0.5}\n",
     "measures[0].parameters", "gives parameters (leakage) but no expression"),
])
def test_load_table_when_a_measure_parameter_would_change_nothing_is_refused(
        tmp_path: Path, old: str, new: str, field: str, phrase: str) -> None:
    """A table author's review: a misspelt measure parameter (leakag) left the table's leakage
    in force, and a parameter on a measure without an expression changed only the digest; the
    README promises a typo fails loudly. Both refused, naming the field."""
    text = sub(old, new)
    err = load_error(tmp_path, text)
    assert err.field == field and phrase in str(err)
    # Read by the expression, a measure parameter loads and takes the table's place.
    own = sub(old, old + "    parameters: {leakage: 0.5}\n") if "expression" in old else None
    if own is not None:
        table = sv.load_table(path=write(tmp_path, own))
        assert dict(table.measure("growth-local-spend").parameters) == {"leakage": 0.5}


# -- notes on a region's fallback (applies_in, stands_in_for) ---------------------------------

JOBS_UK = ("      uk: {value: 20000.00, low: 15000.00, high: 25000.00, source: test-source, "
           "illustrative: true}")


def _jobs_uk_with(notes: str) -> str:
    return sub(JOBS_UK, JOBS_UK[:-1] + ", " + notes + "}")


def test_region_notes_reach_the_trace_and_leave_the_value_alone(tmp_path: Path) -> None:
    """A devolved-nations review: a fallback said only that the region had no value of its
    own, where the table knows more: that the UK rate is the region's own (the UK Landfill Tax
    in Northern Ireland), or what the stand-in is known to cost (Wales's wage some 7% lower)."""
    table = sv.load_table(path=write(tmp_path, _jobs_uk_with(
        "applies_in: {england: the national rate is charged there}, "
        "stands_in_for: {scotland: its own is likely lower.}")))
    plain = sv.load_table(path=TINY)

    def proxy_line(t: sv.ProxyTable, region: str) -> str:
        v = sv.value(sv.Outcome(measure="jobs-local", quantity=1.0, unit="FTE", region=region,
                                date="2024-06-01"), t)
        assert v.amount == sv.value(sv.Outcome(measure="jobs-local", quantity=1.0, unit="FTE",
                                               region=region, date="2024-06-01"), plain).amount
        return next(s.detail for s in v.trace if s.rule == "proxy")

    assert "per FTE for uk (its value applies in england: the national rate is charged " \
           "there) [ILLUSTRATIVE]; source" in proxy_line(table, "england")
    assert "per FTE for uk (fallback: scotland has no value of its own; its own is likely " \
           "lower) [ILLUSTRATIVE]; source" in proxy_line(table, "scotland")
    assert "per FTE for london [ILLUSTRATIVE]; source" in proxy_line(table, "london")
    assert table.digest != plain.digest  # the notes are content


@pytest.mark.parametrize(("notes", "message"), [
    ("applies_in: {wales: x}", "applies_in names unknown region 'wales'"),
    ("stands_in_for: {london: x}", "stands_in_for names 'london', which has a value of its "
     "own for jobs-local"),
    ("applies_in: {england: x}, stands_in_for: {england: y}",
     "'england' is named in both applies_in and stands_in_for"),
    ("stands_in_for: {scotland: '  '}", "String should have at least 1 character"),
    ('stands_in_for: {scotland: "two\\nlines"}', "a note is one line of text"),
])
def test_region_notes_that_do_not_hold_are_refused(tmp_path: Path, notes: str,
                                                   message: str) -> None:
    err = load_error(tmp_path, _jobs_uk_with(notes))
    assert message in err.message
    assert err.field is not None and err.field.startswith("measures[0].proxies.uk")


def test_a_region_note_on_a_value_its_fallback_does_not_reach_is_refused(
        tmp_path: Path) -> None:
    """London's value is not the one Scotland falls back to: a note there would never show."""
    london = "      london: {value: 30000.00, source: test-source, illustrative: true}"
    err = load_error(tmp_path, sub(london, london[:-1] + ", stands_in_for: {scotland: x}}"))
    assert ("stands_in_for names 'scotland', whose fallback for jobs-local is 'uk', not "
            "'london'") in err.message


def test_a_region_note_speaks_for_the_regions_below_and_reaches_the_report(
        tmp_path: Path) -> None:
    """A table author's review: a note on England's stand-in said nothing for London under
    it, which falls back to the same value; and a measure with one national value and a
    stand-in note was never named in the report's note on fallbacks."""
    import pandas as pd

    from socialvalue_tom.report import basis_notes

    priority = "      uk: {value: 25000.00, source: test-source, illustrative: true}"
    table = sv.load_table(path=write(tmp_path, sub(priority, priority[:-1] + (
        ", stands_in_for: {england: England's own is likely higher}}"))))
    assert table.region_note("jobs-priority", "london") == (
        "stands in", "England's own is likely higher")
    assert table.region_note("jobs-priority", "England") == table.region_note(
        "jobs-priority", "london")
    assert table.region_note("jobs-priority", "scotland") is None
    assert table.region_note("jobs-priority", "uk") is None
    v = sv.value(sv.Outcome(measure="jobs-priority", quantity=1.0, unit="FTE",
                            region="london", date="2024-06-01"), table)
    assert "(fallback: london has no value of its own; England's own is likely higher)" in (
        v.explain())
    rows = pd.DataFrame({"measure": ["jobs-priority", "jobs-priority"], "quantity": [1.0, 1.0],
                         "unit": ["FTE", "FTE"], "region": ["london", "scotland"],
                         "date": ["2024-06-01", "2024-06-01"]})
    valued = sv.value_frame(rows, table)
    [note] = [n for n in basis_notes(valued, table) if "another region's proxy" in n]
    assert note.startswith("1 row(s) (")  # Scotland's row: no note, one national figure
    assert "(london -> uk)" in note and "london -> uk: England's own is likely higher" in note


def test_load_table_when_a_disbenefit_has_a_cap_is_refused(tmp_path: Path) -> None:
    """An economist's review: a cap on a disbenefit shrank the harm counted (10 tCO2e added,
    -GBP 2,500, came out as -GBP 500 under a cap of half a GBP 1,000 contract). A cap limits
    a benefit claimed: on a harm it is refused at load, naming the measure's cap_ratio."""
    text = sub("    disbenefit: true\n", "    disbenefit: true\n    cap_ratio: 0.5\n")
    err = load_error(tmp_path, text)
    assert err.field == "measures[3].cap_ratio"
    assert "'env-carbon-added' is a disbenefit and has a cap_ratio" in str(err)
