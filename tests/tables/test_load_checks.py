"""Load-time checks of table and index files: each malformed file (a one-change mutation of
tests/data/tables/tiny.yaml or its index) is a ProxyTableError naming file, line and field, never
a raw error and never a silently different number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import TINY, TINY_INDEX, TINY_TEXT, line_of, sub

import socialvalue_tom as sv

TEXT = TINY.read_text(encoding="utf-8")
INDEX = TINY_INDEX.read_text(encoding="utf-8")
VOLUNTEERING_UK = "      uk: {value: 15.00, source: test-source, illustrative: true}\n"
LONDON_JOBS = "      london: {value: 30000.00, source: test-source, illustrative: true}"
SCOTLAND_REGION = "  - {code: scotland, name: Scotland, parent: uk}"


def write(tmp_path: Path, text: str, index: str | None = INDEX) -> Path:
    """The table as ``t.yaml`` in ``tmp_path``, with its local index beside it."""
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    if index is not None:
        (tmp_path / "tiny-deflator.index.yaml").write_text(index, encoding="utf-8")
    return path


def load_error(path: Path) -> sv.ProxyTableError:
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=path)
    err = info.value
    assert isinstance(err.path, str) and "t" in err.path
    return err


# -- 1. region codes and names that read the same -----------------------------------------------

@pytest.mark.parametrize(("regions", "field", "words"), [
    ("  - {code: north_east, name: North East, parent: england}\n"
     "  - {code: north-east, name: NE, parent: england}", "regions[5].code",
     ("'north-east'", "'north_east'")),
    ("  - {code: north-east, name: North, parent: england}\n"
     "  - {code: north-west, name: north, parent: england}", "regions[5].name",
     ("'north'", "'North'")),
    ("  - {code: wales, name: London, parent: uk}", "regions[4].name", ("'London'", "'london'")),
])
def test_load_table_when_region_codes_or_names_collide_raises(
        tmp_path: Path, regions: str, field: str, words: tuple[str, ...]) -> None:
    """Two regions whose codes or names normalise alike would make one unreachable."""
    text = sub(SCOTLAND_REGION, SCOTLAND_REGION + "\n" + regions)
    err = load_error(write(tmp_path, text))
    assert err.field == field
    assert err.line == line_of(text, "- {code:", int(field.split("[")[1].split("]")[0]))
    for word in words:
        assert word in str(err)


# -- 2. strict numbers, flags and dates ---------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "field"), [
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "true"), "measures[6].proxies.uk.value"),
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace("15.00", "'15.00'"),
     "measures[6].proxies.uk.value"),
    ("    deadweight: 0.1\n", "    deadweight: yes\n", "measures[0].deadweight"),
    ("quantity_bounds: {min: 0, max: 520}", "quantity_bounds: {min: 0, max: on}",
     "measures[5].quantity_bounds.max"),
    ("leakage: {value: 0.25", "leakage: {value: '0.25'", "parameters.leakage.value"),
    ("valid_from: 2024-04-01", "valid_from: 1711929600", "valid_from"),
    ("valid_from: 2024-04-01", "valid_from: 1711929600.0", "valid_from"),
    ("valid_from: 2024-04-01", "valid_from: '1711929600'", "valid_from"),
    ("valid_from: 2024-04-01", "valid_from: 2024-04-01T00:00:00", "valid_from"),
    ("valid_from: 2024-04-01", "valid_from: '2024-4-1'", "valid_from"),
    ("    licence: CC0-1.0\n", "    licence: CC0-1.0\n    published: 0\n",
     "sources[0].published"),
    ("price_base_year: 2024", "price_base_year: '2024'", "price_base_year"),
    ("price_base_year: 2024", "price_base_year: 2024.0", "price_base_year"),
    ("price_base_year: 2024", "price_base_year: true", "price_base_year"),
    ("    year: 2024\n", "    year: 2024.0\n", "sources[0].year"),
    ("illustrative: true\nregions", "illustrative: 1\nregions", "illustrative"),
    ("    disbenefit: true\n", "    disbenefit: 1\n", "measures[3].disbenefit"),
])
def test_load_table_when_value_of_wrong_type_is_refused_not_coerced(
        tmp_path: Path, old: str, new: str, field: str) -> None:
    """No bool for a number, no number or text for a date, no text or float for a year."""
    text = sub(old, new)
    err = load_error(write(tmp_path, text))
    assert err.field == field
    changed = next(line for line in new.split("\n") if line not in old.split("\n"))
    assert err.line == line_of(text, changed.split(",")[0].strip())


@pytest.mark.parametrize(("old", "new"), [
    ("valid_from: 2024-04-01", "valid_from: '2024-04-01'"),
    ("uk: {value: 20000.00,", "uk: {value: 20000,"),
    ("    deadweight: 0.1\n", "    deadweight: 0.10\n"),
    ("    cap_ratio: 0.5\n", "    cap_ratio: 0.50\n"),
    ("illustrative: true\nregions", "illustrative: yes\nregions"),
])
def test_load_table_when_value_written_another_valid_way_keeps_the_digest(
        tmp_path: Path, tiny_table: Any, old: str, new: str) -> None:
    """YAML ints where floats are expected, quoted ISO dates and YAML booleans still load, to
    the same content digest."""
    assert sv.load_table(path=write(tmp_path, sub(old, new))).digest == tiny_table.digest


@pytest.mark.parametrize(("old", "new", "field"), [
    ("reference_year: 2024", "reference_year: '2024'", "reference_year"),
    ("published: 2025-01-01", "published: 0", "published"),
    ("2024: 100.0", "2024: true", "values.2024"),
])
def test_load_table_when_index_value_of_wrong_type_is_refused(
        tmp_path: Path, old: str, new: str, field: str) -> None:
    index = sub(old, new, INDEX)
    err = load_error(write(tmp_path, TEXT, index))
    assert err.path == str((tmp_path / "tiny-deflator.index.yaml").resolve())
    assert err.field == field
    assert err.line == line_of(index, new.split(",")[0])


# -- 3. YAML tags whose data is not plain -------------------------------------------------------

@pytest.mark.parametrize("tagged", [
    "!!set {week: null}", "!!omap [{week: 1}]", "!!pairs [{week: 1}]", "!!binary d2Vlaw==",
])
def test_load_table_when_yaml_tag_not_plain_data_raises_at_its_line(
        tmp_path: Path, tagged: str) -> None:
    """!!set (its order depends on PYTHONHASHSEED), !!omap, !!pairs and !!binary are refused."""
    text = sub("    accepts: [week]", f"    accepts: {tagged}")
    err = load_error(write(tmp_path, text))
    assert err.line == line_of(text, "accepts: !!")
    assert tagged.split()[0].removeprefix("!!") in str(err)


# -- 4. index files -----------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "field", "words"), [
    ("{2023: 98.0, '2024': 100.0, 2024: 101.0}", "values.2024", ("2024 is given twice",)),
    ("{2023: 98.0, '02024': 100.0, 2025: 101.0}", "values.02024", ("integer",)),
    ("{2023.0: 98.0, 2024: 100.0, 2025: 102.5}", "values.2023.0", ("integer",)),
    ("{2020: 90.0, 2024: 100.0, 2025: 102.5}", "values", ("2021", "2023", "no value")),
])
def test_load_table_when_index_years_not_unique_contiguous_integers_raises(
        tmp_path: Path, values: str, field: str, words: tuple[str, ...]) -> None:
    index = sub("{2023: 98.0, 2024: 100.0, 2025: 102.5}", values, INDEX)
    err = load_error(write(tmp_path, TEXT, index))
    assert err.path == str((tmp_path / "tiny-deflator.index.yaml").resolve())
    assert err.field == field
    assert err.line == line_of(index, "values:")
    for word in words:
        assert word in str(err)


def test_load_table_when_index_is_written_as_json_reads_its_text_years(tmp_path: Path) -> None:
    """Every JSON key is text: an index written as JSON (which YAML reads) has its years as
    "2023", as the schema's key pattern allows; the model read only numbers, so no index
    written as JSON could load."""
    import json

    import yaml

    data = yaml.safe_load(INDEX)
    as_json = json.dumps(data, default=str)  # the years become "2023"..., the date text
    assert '"2023":' in as_json
    table = sv.load_table(path=write(tmp_path, TEXT, as_json))
    assert table.price_index is not None
    assert dict(table.price_index.values) == {int(k): v for k, v in data["values"].items()}


def test_load_table_when_index_reference_year_has_no_value_raises(tmp_path: Path) -> None:
    index = sub("reference_year: 2024", "reference_year: 1999", INDEX)
    err = load_error(write(tmp_path, TEXT, index))
    assert (err.field, err.line) == ("reference_year", line_of(index, "reference_year"))
    assert "1999" in str(err)


def test_load_table_when_index_lacks_price_base_year_names_the_table(tmp_path: Path) -> None:
    """A table whose price base its index does not cover fails at load, not at uplift time."""
    index = sub("{2023: 98.0, 2024: 100.0, 2025: 102.5}", "{2020: 95.0, 2021: 100.0}", INDEX)
    index = sub("reference_year: 2024", "reference_year: 2021", index)
    path = write(tmp_path, TEXT, index)
    err = load_error(path)
    assert (err.path, err.field) == (str(path.resolve()), "price_base_year")
    assert err.line == line_of(TEXT, "price_base_year")
    assert "2020..2021" in str(err)


def test_load_table_when_local_index_has_another_name_raises(tmp_path: Path) -> None:
    index = sub("name: tiny-deflator", "name: other-deflator", INDEX)
    err = load_error(write(tmp_path, TEXT, index))
    assert err.path == str((tmp_path / "tiny-deflator.index.yaml").resolve())
    assert (err.field, err.line) == ("name", line_of(index, "name:"))
    assert "'other-deflator'" in str(err) and "'tiny-deflator'" in str(err)


def test_load_index_when_file_names_another_index_raises(tmp_path: Path) -> None:
    (tmp_path / "indices").mkdir()
    (tmp_path / "indices" / "other.yaml").write_text(INDEX, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="'tiny-deflator'") as info:
        sv.load_index("other", root=tmp_path)
    assert info.value.field == "name"


# -- 5. a price index that is nowhere -----------------------------------------------------------

def test_load_table_when_price_index_missing_names_table_field_and_both_places(
        tmp_path: Path) -> None:
    text = sub("price_index: tiny-deflator", "price_index: no-such-index")
    path = write(tmp_path, text)
    err = load_error(path)
    assert (err.path, err.field, err.line) == (str(path.resolve()), "price_index",
                                               line_of(text, "price_index"))
    assert "no-such-index.index.yaml" in str(err)
    assert "indices" in str(err) and "uk-gdp-deflator" in str(err)


# -- 6. accepts ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("accepts", "field", "word"), [
    ("[]", "measures[0].accepts", "at least 1"),
    ("[FTE, hour]", "measures[0].accepts[1]", "hour"),
    ("[FTE, bogus-unit]", "measures[0].accepts[1]", "bogus-unit"),
])
def test_load_table_when_accepts_empty_or_unconvertible_raises(
        tmp_path: Path, accepts: str, field: str, word: str) -> None:
    text = sub("    unit: FTE\n", f"    unit: FTE\n    accepts: {accepts}\n")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == (field, line_of(text, "accepts: " + accepts[:2]))
    assert word in str(err)


def test_load_table_when_accepts_other_spelling_of_the_unit_loads(tmp_path: Path) -> None:
    text = sub("    unit: FTE\n", "    unit: FTE\n    accepts: [FTE, fte]\n")
    assert sv.load_table(path=write(tmp_path, text)).unit_factor("jobs-local", "fte") == 1.0


# -- 7. every load error names path, field and line ---------------------------------------------

@pytest.mark.parametrize(("old", "new", "field", "needle"), [
    ("    expression: quantity * proxy * (1 - leakage)",
     "    expression: quantity * unknown_name", "measures[4].expression", "unknown_name"),
    ("    expression: quantity * proxy * (1 - leakage)",
     "    expression: __import__('os').system('x')", "measures[4].expression", "__import__"),
    (VOLUNTEERING_UK, VOLUNTEERING_UK.replace(
        "illustrative: true}", "illustrative: true, derivation: {inputs: {a: 1}, formula: "
        "'a.b'}}"), "measures[6].proxies.uk.derivation.formula", "formula: 'a.b'"),
    ("    expression: quantity * proxy * (1 - leakage)",
     "    expression: quantity * proxy / 0", "measures[4].expression", "/ 0"),
    ("    expression: quantity * proxy * (1 - leakage)",
     "    expression: quantity > 1", "measures[4].expression", "quantity > 1"),
    ("    unit: FTE\n", "    unit: furlong-fortnight\n", "measures[0].unit", "furlong"),
    ("    unit: FTE\n", "    unit: kg/0\n", "measures[0].unit", "kg/0"),
])
def test_load_table_when_expression_formula_or_unit_bad_names_line_and_field(
        tmp_path: Path, old: str, new: str, field: str, needle: str) -> None:
    text = sub(old, new)
    path = write(tmp_path, text)
    err = load_error(path)
    assert (err.path, err.field, err.line) == (str(path.resolve()), field, line_of(text, needle))
    assert f"t.yaml:{err.line}:" in str(err)


def test_load_table_when_expression_bad_keeps_expression_details(tmp_path: Path) -> None:
    text = sub("    expression: quantity * proxy * (1 - leakage)",
               "    expression: quantity * unknown_name")
    err = load_error(write(tmp_path, text))
    assert err.expression == "quantity * unknown_name"
    assert err.position == (1, 12)
    assert "unknown name" in err.reason
    # What a table author most often meant (a contributor's review): the message says where
    # an outcome field or a figure of the table's own is declared.
    assert "is listed in the measure's requires" in str(err)


@pytest.mark.parametrize("nested", ["[" * 500 + "]" * 500, "{a: " * 500 + "1" + "}" * 500])
def test_load_table_when_nested_too_deeply_names_the_line(tmp_path: Path, nested: str) -> None:
    text = sub("title: Tiny test table (illustrative values)\n",
               "title: Tiny test table (illustrative values)\nnotes: " + nested + "\n")
    err = load_error(write(tmp_path, text))
    assert err.line == line_of(text, "notes:")
    assert "nested" in str(err)


def test_load_table_when_nul_character_names_the_line(tmp_path: Path) -> None:
    text = sub("title: Tiny", "title: Ti\x00ny")
    err = load_error(write(tmp_path, text))
    assert err.line == line_of(text, "title: Ti")
    assert "#x0000" in str(err)


# -- 8. YAML booleans and null as mapping keys --------------------------------------------------

@pytest.mark.parametrize(("key", "words"), [
    ("no", ("'no' was read as the boolean false", "quote it")),
    ("on", ("'on' was read as the boolean true", "quote it")),
    ("~", ("'~' was read as null", "quote it")),
])
def test_load_table_when_mapping_key_read_as_boolean_or_null_says_quote_it(
        tmp_path: Path, key: str, words: tuple[str, ...]) -> None:
    text = sub(LONDON_JOBS, LONDON_JOBS.replace("london:", f"{key}:"))
    text = sub("{code: london,", f"{{code: '{key}',", text) if key != "~" else text
    err = load_error(write(tmp_path, text))
    assert err.line == line_of(text, f"      {key}: {{value: 30000.00")
    assert err.field == f"measures[0].proxies.{key}"
    for word in words:
        assert word in str(err)


def test_load_table_when_string_value_read_as_boolean_says_quote_it(tmp_path: Path) -> None:
    text = sub(SCOTLAND_REGION, "  - {code: no, name: Norway, parent: uk}")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == ("regions[3].code", line_of(text, "Norway"))
    assert "quote it" in str(err)


# -- 9. family and index names ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["..", ".", "uk-national/..", "/tmp", "UK-National", ""])
def test_load_table_when_family_name_not_a_code_raises_unknown_table(name: str) -> None:
    """Never a path outside the catalogue: the name is checked before a path is built."""
    with pytest.raises(sv.UnknownTableError, match="available are uk-national"):
        sv.load_table(name, version="x")


@pytest.mark.parametrize("name", ["..", "../uk-national/2024", "nope"])
def test_load_index_when_name_unknown_lists_available(name: str) -> None:
    with pytest.raises(sv.UnknownTableError, match="available are uk-gdp-deflator"):
        sv.load_index(name)


# -- 10. load_table(on=...) ---------------------------------------------------------------------

def test_load_table_when_on_is_a_datetime_uses_its_date() -> None:
    assert sv.load_table("uk-national", on=dt.datetime(2024, 3, 31, 23, 30)).version == "2023"
    assert sv.load_table("uk-national", on=pd.Timestamp("2024-04-01 00:30")).version == "2024"


@pytest.mark.parametrize("on", [20240401, 2024.5, b"2024-05-01"])
def test_load_table_when_on_not_a_date_raises_clear_type_error(on: Any) -> None:
    with pytest.raises(TypeError, match="on= must be a date"):
        sv.load_table("uk-national", on=on)


@pytest.mark.parametrize(("on", "why"), [("1 April 2024", "ISO date"),
                                         ("2024-13-01", "month"), ("2024-02-30", "day")])
def test_load_table_when_on_is_text_naming_no_day_raises_rule_error(on: str, why: str) -> None:
    """Text is the type on= takes: text naming no day is bad input, a typed error a service
    catches with SocialValueError (a RuleError, as write_template(on=) raises), not Python's
    TypeError."""
    with pytest.raises(sv.RuleError, match=why) as info:
        sv.load_table("uk-national", on=on)
    assert info.value.field == "on"


# -- 11. the region tree reaches the fallback region --------------------------------------------

def test_load_table_when_second_root_raises(tmp_path: Path) -> None:
    text = sub(SCOTLAND_REGION, "  - {code: scotland, name: Scotland}")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == ("regions[3]", line_of(text, "code: scotland"))
    assert "fallback region 'uk'" in str(err)


def test_load_table_when_fallback_region_not_the_root_raises(tmp_path: Path) -> None:
    text = sub("fallback_region: uk", "fallback_region: england")
    text = text.replace("      uk: {", "      england: {")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == ("fallback_region", line_of(text, "fallback_region"))
    assert "'england'" in str(err) and "root" in str(err)


def test_shipped_editions_have_the_fallback_region_as_single_root(uk_tables: Any) -> None:
    for t in uk_tables:
        roots = [r.code for r in t.spec.regions if r.parent is None]
        assert roots == [t.spec.fallback_region] == ["uk"]


# -- 12. the cache sees the local index file ----------------------------------------------------

def test_load_table_when_local_index_edited_or_deleted_sees_the_change(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT)
    first = sv.load_table(path=path)
    assert first.price_index is not None and first.price_index.values[2023] == 98.0
    assert sv.load_table(path=path) is first  # unchanged: served from the cache
    (tmp_path / "tiny-deflator.index.yaml").write_text(sub("2023: 98.0", "2023: 97.0", INDEX),
                                                       encoding="utf-8")
    second = sv.load_table(path=path)
    assert second.price_index is not None and second.price_index.values[2023] == 97.0
    (tmp_path / "tiny-deflator.index.yaml").unlink()
    with pytest.raises(sv.ProxyTableError, match=r"tiny-deflator\.index\.yaml"):
        sv.load_table(path=path)


# -- 13. YAML merge keys ------------------------------------------------------------------------

def test_load_table_when_merge_key_overridden_locally_takes_the_local_value(
        tmp_path: Path) -> None:
    text = sub(LONDON_JOBS, LONDON_JOBS.replace("london: {", "london: &lon {")
               + "\n      scotland:\n        <<: *lon\n        value: 31000.00")
    table = sv.load_table(path=write(tmp_path, text))
    assert table.proxy("jobs-local", "scotland").value == 31000.0
    assert table.proxy("jobs-local", "london").value == 30000.0


@pytest.mark.parametrize(("old", "new"), [
    (LONDON_JOBS, LONDON_JOBS + "\n" + LONDON_JOBS),
    (LONDON_JOBS, LONDON_JOBS.replace("london: {", "london: &lon {")
     + "\n      scotland: {<<: *lon, <<: *lon}"),
])
def test_load_table_when_key_given_twice_explicitly_still_raises(
        tmp_path: Path, old: str, new: str) -> None:
    text = sub(old, new)
    err = load_error(write(tmp_path, text))
    assert "duplicate key" in str(err)


# -- measure codes carry no other theme's prefix ------------------------------------------------

def test_load_table_when_measure_code_has_another_theme_s_prefix_raises(tmp_path: Path) -> None:
    text = sub("  - code: jobs-local\n", "  - code: env-local-jobs\n")
    text = text.replace("[jobs-priority, jobs-local]", "[jobs-priority, env-local-jobs]")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == ("measures[0].code", line_of(text, "code: env-local-jobs"))
    assert err.message.endswith("measure 'env-local-jobs' has theme 'jobs', but its code starts "
                             "with 'env-': start it with 'jobs-', or with a prefix of your own "
                             "such as 'local-'")


@pytest.mark.parametrize("code", ["nt1", "local-jobs", "jobs-local"])
def test_a_table_of_one_s_own_may_use_codes_of_its_own(tmp_path: Path, code: str) -> None:
    """A licensed National TOMs table keeps its own codes (``nt1``): only another theme's prefix
    is refused. A return naming the measure ``NT1`` is pointed at ``nt1``, not at the embedded
    crosswalk's reading of NT1."""
    text = sub("  - code: jobs-local\n", f"  - code: {code}\n")
    text = text.replace("[jobs-priority, jobs-local]", f"[jobs-priority, {code}]")
    table = sv.load_table(path=write(tmp_path, text))
    outcome = sv.Outcome(measure=code, quantity=2, unit="FTE", region="uk",
                         date=table.spec.valid_from)
    assert sv.value(outcome, table).amount == 36000.0  # 2 FTE x GBP 20,000 x (1 - deadweight 0.1)
    with pytest.raises(sv.UnknownMeasureError) as info:
        table.measure(code.upper())
    assert info.value.message.endswith(f"did you mean {code}?")
    if code == "nt1":  # a TOMs code the table lacks is not read through the embedded crosswalk
        with pytest.raises(sv.UnknownMeasureError) as other:
            table.measure("NT2")
        assert "National TOMs" not in other.value.message, other.value.message
    rows = pd.DataFrame({"measure": [code.upper()], "quantity": [2.0], "unit": ["FTE"],
                         "region": ["uk"], "date": [table.spec.valid_from]})
    issues = sv.value_frame(rows, table, errors="collect").attrs["issues"]
    assert issues["reason"].tolist() == [f"unknown measure {code.upper()!r}: no edition of tiny "
                                         f"has it (2024); did you mean {code}?"]


# -- exclusions: one per measure ----------------------------------------------------------------

EXCLUSION = """  - id: priority-within-local
    measures: [jobs-priority, jobs-local]
    mode: count_once
    reason: a priority-group hire is also a local job
"""


@pytest.mark.parametrize(("extra", "words"), [
    ("  - id: apprentices-within-local\n    measures: [jobs-apprentice, jobs-local]\n"
     "    mode: count_once\n    reason: an apprentice is also a local job\n",
     ("'jobs-local'", "'priority-within-local'", "'apprentices-within-local'", "one exclusion")),
    ("  - id: twice\n    measures: [env-carbon, env-carbon, env-carbon-added]\n"
     "    mode: reject\n    reason: r\n", ("'twice'", "env-carbon more than once")),
])
def test_load_table_when_measure_governed_twice_raises(tmp_path: Path, extra: str,
                                                        words: tuple[str, ...]) -> None:
    """Two exclusions scaling the same rows would make the value depend on their order in the
    file, so a measure may be in one exclusion, once."""
    err = load_error(write(tmp_path, sub(EXCLUSION, EXCLUSION + extra)))
    for w in words:
        assert w in str(err)
    assert err.field == "exclusions[1].measures"
    assert err.line is not None and err.line > line_of(TEXT, "id: priority-within-local")


# -- amendments ---------------------------------------------------------------------------------

def _amendment(tmp_path: Path, region: str, pin: str = "") -> tuple[Path, str]:
    """An amendment of uk-national:2025 adding one jobs-local-fte value for ``region`` (with a
    digest line when ``pin`` is given), written to ``amendment.yaml``; the path and its text."""
    digest = f"digest: '{pin}'\n" if pin else ""
    text = f"""format: socialvalue_tom.amendment/v1
amends: uk-national:2025
{digest}version: 2025-test.1
sources:
- {{id: my-check, title: x, publisher: me, year: 2025, url: 'https://example.org',
   licence: CC0-1.0}}
proxies:
  jobs-local-fte:
    {region}: {{value: 52.00, source: my-check, derivation: {{inputs: {{a: 52}}, formula: a}}}}
"""
    path = tmp_path / "amendment.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_load_table_when_amendment_clashes_with_its_edition_names_the_line(
        tmp_path: Path) -> None:
    """A check against the edition amended (here: a value it already has) gets a line too."""
    path, text = _amendment(tmp_path, "uk")
    err = load_error(path)
    assert (err.field, err.line) == ("proxies.jobs-local-fte.uk", line_of(text, "uk: {value"))
    assert f"amendment.yaml:{err.line}:" in str(err) and "replace" in str(err)


def test_load_table_when_amendment_digest_pin_differs_names_the_line(tmp_path: Path) -> None:
    path, _ = _amendment(tmp_path, "scotland", pin="0" * 64)
    err = load_error(path)
    assert (err.field, err.line) == ("digest", 3)
    assert "amendment.yaml:3:" in str(err)


# -- YAML aliases and odd scalars -----------------------------------------------------------------

def test_load_table_when_aliases_expand_the_file_far_beyond_its_size_raises(
        tmp_path: Path) -> None:
    """A few KB of aliases of a large mapping would validate into gigabytes: refused before
    anything is built, naming the growth."""
    regions = "".join(f"  - {{code: r{i}, name: R{i}, parent: uk}}\n" for i in range(300))
    proxies = "".join(f"      r{i}: {{value: 1.00, source: test-source, illustrative: true}}\n"
                      for i in range(300))
    text = sub(SCOTLAND_REGION, SCOTLAND_REGION + "\n" + regions.rstrip("\n"))
    text = sub(VOLUNTEERING_UK, VOLUNTEERING_UK + proxies)
    text = text.replace("    proxies:\n      uk: {value: 15.00",
                        "    proxies: &many\n      uk: {value: 15.00", 1)
    extra = "".join(f"  - code: social-copy-{i}\n    theme: social\n    outcome: o\n    title: t\n"
                    f"    unit: hour\n    value_type: social\n    proxies: *many\n"
                    for i in range(400))
    err = load_error(write(tmp_path, text + extra))
    assert "aliases expand the document" in str(err)


def test_load_table_when_alias_contains_itself_raises(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, TEXT + "notes_loop: &a [1, *a]\n"))
    assert "alias" in str(err)


@pytest.mark.parametrize(("value", "words"), [
    ("1" + ":00" * 200 + ".5", "OverflowError"), ("!!bool x", "KeyError"),
    ("!!timestamp x", "invalid date"),
])
def test_load_table_when_yaml_scalar_breaks_pyyaml_raises_proxy_table_error(
        tmp_path: Path, value: str, words: str) -> None:
    """Scalars on which PyYAML's constructors raise plain Python errors are table errors."""
    err = load_error(write(tmp_path, sub("value: 15.00,", f"value: {value},")))
    assert words in str(err)


@pytest.mark.parametrize(("old", "new", "read_as"), [
    ("uk: {value: 20000.00,", "uk: {value: 5:33:20,", "20000"),
    ("uk: {value: 20000.00,", "uk: {value: 0x4E20,", "20000"),
    ("uk: {value: 20000.00,", "uk: {value: 020000,", "8192"),
    ("uk: {value: 20000.00,", "uk: {value: 20_000,", "20000"),
    ("uk: {value: 20000.00,", "uk: {value: 20_000.0,", "20000.0"),
    ("    year: 2024\n", "    year: 0b11111101000\n", "2024"),
])
def test_load_table_when_number_not_written_in_decimal_is_refused(
        tmp_path: Path, old: str, new: str, read_as: str) -> None:
    """YAML 1.1 reads 020000 as octal 8192 and 5:33:20 as base 60: refused, naming the line,
    rather than loaded as a number the author did not write."""
    text = sub(old, new)
    err = load_error(write(tmp_path, text))
    assert "is not written in decimal" in str(err) and f"reads it as {read_as}" in str(err)
    changed = next(line for line in new.split("\n") if line not in old.split("\n"))
    assert err.line == line_of(text, changed.split(",")[0].strip())


def test_load_table_when_bounds_reversed_or_exclusion_mixes_units_is_refused_at_load(
        tmp_path: Path) -> None:
    """Both were found only when valuing (every quantity refused as out of bounds; a
    ProxyTableError with no line): now `tables validate` and load_table name the field."""
    err = load_error(write(tmp_path, sub("quantity_bounds: {min: 0, max: 520}",
                                         "quantity_bounds: {min: 600, max: 520}")))
    assert err.field == "measures[5].quantity_bounds" and "min 600.0 is above max 520.0" in str(err)
    err = load_error(write(tmp_path, sub("measures: [jobs-priority, jobs-local]",
                                         "measures: [env-carbon, jobs-local]")))
    assert err.field == "exclusions[0].measures" and "mixes canonical units" in str(err)
    assert err.line is not None
    # A table author's review: two spellings of one unit (fte, FTE) are one unit; a unit a
    # factor away (a claim in one is not a claim in the other) is not.
    head, _, tail = TINY_TEXT.partition("code: jobs-priority")
    spelt = head + "code: jobs-priority" + tail.replace("unit: FTE", "unit: fte", 1)
    assert sv.load_table(path=write(tmp_path, spelt)).measure("jobs-priority").unit == "fte"
    hundredths = head + "code: jobs-priority" + tail.replace("unit: FTE", "unit: percent", 1)
    err = load_error(write(tmp_path, hundredths))
    assert "mixes canonical units ['FTE', 'percent']" in str(err)


@pytest.mark.parametrize(("proxy", "words"), [
    ("uk: {value: 25000.00, low: 1.0, source: test-source, "
     "derivation: {inputs: {a: 12500}, formula: a * 2}}",
     "low 1.0 is given without a low_formula to derive it"),
    ("uk: {value: 25000.00, source: test-source, "
     "derivation: {inputs: {a: 12500}, formula: '25000'}}",
     "formula '25000' uses none of its inputs"),
])
def test_load_table_when_derivation_derives_nothing_is_refused_as_in_amendments(
        tmp_path: Path, proxy: str, words: str) -> None:
    """A derived value's bounds need their own formulas, and a formula must use the published
    figures it records: the rules amendments already had."""
    old = "uk: {value: 25000.00, source: test-source, illustrative: true}"
    err = load_error(write(tmp_path, sub(old, proxy)))
    assert words in str(err) and err.field is not None
    assert err.field.startswith("measures[1].proxies.uk.derivation")


@pytest.mark.parametrize(("old", "new", "field", "needle"), [
    ("valid_to: 2025-03-31", "valid_to: 2023-03-31", "valid_to", "valid_to:"),
    ("leakage: {value: 0.25, source: test-source}", "leakage: {value: 0.25, source: nowhere}",
     "parameters.leakage.source", "leakage:"),
])
def test_load_table_when_cross_check_fails_names_the_field_and_its_line(
        tmp_path: Path, old: str, new: str, field: str, needle: str) -> None:
    text = sub(old, new)
    err = load_error(write(tmp_path, text))
    assert err.field == field and err.line == line_of(text, needle)


@pytest.mark.parametrize(("expression", "reason"), [
    ("quantity * proxy / 0", "division by zero: the divisor is 0 whatever the inputs"),
    ("quantity > 1", "gives true or false (1 or 0), not an amount in GBP"),
    ("quantity > 1 and leakage < 1", "where(condition, amount, 0)"),
    ("not quantity", "gives true or false"),
])
def test_load_table_when_an_expression_cannot_give_an_amount_refuses_it(
        tmp_path: Path, expression: str, reason: str) -> None:
    """A constant divisor of 0 failed at every claim, after loading; a comparison valued a
    claim at £1 or £0. Both are refused with the table, naming the measure's field."""
    text = sub("    expression: quantity * proxy * (1 - leakage)",
               f"    expression: {expression}")
    err = load_error(write(tmp_path, text))
    assert err.field == "measures[4].expression" and reason in str(err), str(err)
    fine = sub("    expression: quantity * proxy * (1 - leakage)",
               "    expression: where(quantity > 1, quantity * proxy, 0)")
    assert sv.load_table(path=write(tmp_path, fine)).expressions["growth-local-spend"]


@pytest.mark.parametrize(("proxy", "missing"), [
    ("uk: {value: 200.00, source: test-source, illustrative: true}", "low"),
    ("uk: {value: 200.00, high: 300.00, source: test-source, illustrative: true}", "low"),
    ("uk: {value: 200.00, low: 150.00, source: test-source, illustrative: true}", "high"),
])
def test_load_table_when_an_expression_names_a_bound_no_proxy_gives_refuses_it(
        tmp_path: Path, proxy: str, missing: str) -> None:
    """A table-author review: ``where(level >= 3, proxy_high, proxy_low) * quantity`` over a
    proxy without low and high valued every level at the one rate (a missing bound stands in
    the value), and the table passed validation. The bound is now required, naming the
    proxy's field and line."""
    old = "uk: {value: 200.00, low: 150.00, high: 300.00, source: test-source, illustrative: true}"
    text = sub(old, proxy)
    err = load_error(write(tmp_path, text))
    assert err.field == "measures[5].proxies.uk", str(err)
    assert err.line == line_of(text, proxy)
    assert f"uses proxy_{missing}, but its proxy for 'uk' gives no {missing}" in str(err)
    # Without the bounds in the expression, the same proxy is fine.
    plain = sub("where(level >= 3, proxy_high, proxy_low) * quantity", "proxy * quantity")
    assert sv.load_table(path=write(tmp_path, plain.replace(old, proxy)))


@pytest.mark.parametrize("expression", ["-(quantity * proxy * (1 - leakage))",
                                        "+(quantity * proxy * (1 - leakage))"])
def test_load_table_when_an_expression_starts_with_a_sign_loads_it(tmp_path: Path,
                                                                   expression: str) -> None:
    """A sign in front is arithmetic, not a truth value: only ``not`` is refused as one."""
    text = sub("    expression: quantity * proxy * (1 - leakage)",
               f"    expression: '{expression}'")
    assert sv.load_table(path=write(tmp_path, text)).expressions["growth-local-spend"]


def test_load_table_when_a_folder_in_the_path_is_a_file_says_no_such_table_file(
        tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="no such table file"):
        sv.load_table(path=tmp_path / "a.yaml" / "b.yaml")


def test_load_table_when_a_key_is_misspelt_suggests_the_key_the_format_has(
        tmp_path: Path) -> None:
    """A table-author review: a misspelt key said only "Extra inputs are not permitted". The
    key suggested is one the format has at that place (a diff re-read found 'title', a
    measure's key, offered for 'titel' in a proxy, where it is refused too)."""
    text = sub("    deadweight: 0.1", "    deadwieght: 0.1")
    err = load_error(write(tmp_path, text))
    assert err.field == "measures[0].deadwieght" and err.line == line_of(text, "deadwieght")
    assert "did you mean 'deadweight'?" in str(err)
    far = load_error(write(tmp_path, sub("    deadweight: 0.1", "    colour: 0.1")))
    assert "did you mean" not in str(far)  # no key of the format is close
    proxy = "uk: {value: 250.00, low: 125.00"
    swapped = load_error(write(tmp_path, sub(proxy, "uk: {value: 250.00, lwo: 125.00")))
    assert "did you mean 'low'?" in str(swapped)  # letters swapped
    elsewhere = load_error(write(tmp_path, sub(proxy, proxy.replace("low", "titel: x, low"))))
    assert "did you mean" not in str(elsewhere), str(elsewhere)  # 'title' is no proxy's key
    top = load_error(write(tmp_path, sub("valid_from:", "valid_frm:")))
    assert "did you mean 'valid_from'?" in " ".join(top.details["problems"])


@pytest.mark.parametrize(("written", "words"), [
    ('"1,5"', "a decimal comma? write the number with a decimal point (1.5)"),
    ('"10%"', "deadweight is written as a fraction, 0.1 for 10%"),
    ('"0,125"', "a decimal comma? write the number with a decimal point (0.125)"),
    ('"1,000"', "write the number without a comma: 1000 if the comma separates thousands, "
     "1.000 if it is a decimal mark"),
    ('"0.1 "', None),  # plain text of a number: pydantic's own words, and no hint
])
def test_load_table_when_a_fraction_is_written_as_text_says_how_to_write_it(
        tmp_path: Path, written: str, words: str | None) -> None:
    """A diff re-read: '1,5' was told to write 15 (ten times off), and a per cent sign on a
    proxy was told to write a fraction."""
    err = load_error(write(tmp_path, sub("    deadweight: 0.1", f"    deadweight: {written}")))
    assert err.field == "measures[0].deadweight"
    if words is None:
        assert "is text;" not in str(err)
    else:
        assert words in str(err), str(err)


def test_load_table_when_a_proxy_is_written_with_pounds_or_per_cent_says_the_number(
        tmp_path: Path) -> None:
    for written, number in (('"£1,250.50"', "1250.50"), ('"GBP 1,250"', "1250")):
        err = load_error(write(tmp_path, sub("value: 0.60, source", f"value: {written}, source")))
        assert f"write the number alone, {number} (no currency sign" in str(err), str(err)
    # A per cent sign on a field that may be either: both readings, never one 100 times off
    # (a mutation review found a parameter's "25%" told to write 25).
    for old, new in (("value: 0.60, source", 'value: "25%", source'),
                     ("leakage: {value: 0.25", 'leakage: {value: "25%"')):
        err = load_error(write(tmp_path, sub(old, new)))
        assert "0.25 if it is a fraction (a rate or a share), 25 if the figure is in per cent" \
            in str(err), str(err)
    grade = load_error(write(tmp_path, sub("grades: {A: 0.0, B: 0.1", 'grades: {A: 0.0, B: "10%"')))
    assert "a confidence grade is written as a fraction, 0.1 for 10%" in str(grade), str(grade)
    several = load_error(write(tmp_path, sub("    deadweight: 0.1", '    deadweight: "1,5,3"')))
    assert str(several).endswith("write the number with a decimal point [see "
                                 "docs/errors.md#proxy-table-error]"), str(several)


def test_load_table_lists_up_to_50_problems_in_the_order_of_the_files_lines(
        tmp_path: Path) -> None:
    """Mutation review: the limit and the order were untested."""
    extra = "".join(f"  - {{code: r{i}, name: 5, parent: uk}}\n" for i in range(60))
    err = load_error(write(tmp_path, sub("fallback_region: uk\n",
                                         extra + "fallback_region: uk\n")))
    assert err.details["problem_count"] == 60 and len(err.details["problems"]) == 50
    moved = sub("title: Tiny test table (illustrative values)\n", "")
    moved = sub("    deadweight: 0.1", '    deadweight: "10%"', moved) + "title: 5\n"
    err = load_error(write(tmp_path, moved))
    lines = [int(p.split(":")[1]) for p in err.details["problems"]]
    assert len(lines) == 2 and lines == sorted(lines)
    assert "deadweight" in err.details["problems"][0]
    assert err.field == "title"  # the error itself names pydantic's first problem


def test_load_table_suggests_keys_a_few_letters_off(tmp_path: Path) -> None:
    proxy = "value: 20000.00, low: 15000.00"
    assert "did you mean 'low'?" in str(load_error(write(tmp_path, sub(
        proxy, proxy.replace("low", "wol")))))
    assert "did you mean 'deadweight'?" in str(load_error(write(tmp_path, sub(
        "    deadweight: 0.1", "    deadwt: 0.1"))))


def test_load_table_when_indented_with_a_tab_says_to_use_spaces(tmp_path: Path) -> None:
    text = sub("    deadweight: 0.1", "\tdeadweight: 0.1")
    err = load_error(write(tmp_path, text))
    assert err.line == line_of(text, "\tdeadweight")
    assert "YAML indents with spaces, never tabs" in str(err)
