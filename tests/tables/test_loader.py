"""The table loader: one malformed file per failure mode in tests/data/bad_tables/, each a
ProxyTableError whose message names the file and the line or field at fault."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BAD_TABLES, TINY, tiny_variant

import socialvalue_tom as sv
from socialvalue_tom.tables._loader import read_model, read_yaml
from socialvalue_tom.tables.schema import TableFile

#: fixture name -> words the message must contain (besides the file name).
EXPECTED: dict[str, tuple[str, ...]] = {
    "wrong_field_type": ("price_base_year", "integer"),
    "unknown_key": ("colour", "Extra inputs"),
    "missing_source": ("measures[1].proxies.uk.source", "required"),
    "missing_sources_section": ("sources", "required"),
    "duplicate_measure_code": ("field measures[1].code: duplicate measure code", "jobs-local"),
    "duplicate_yaml_key": ("duplicate key 'title'", "first at line 4"),
    "duplicate_nested_key": ("duplicate key 'uk'",),
    "negative_proxy": ("measures[3].proxies.uk.value (env-carbon-added)",
                       "greater than or equal to 0"),
    "bad_date": ("valid_from", "date"),
    "bad_date_unquoted": ("2024-02-30", "day is out of range"),
    "bad_date_format": ("valid_from", "date"),
    "valid_to_before_valid_from": ("valid_to 2024-03-31", "valid_from 2024-04-01"),
    "unknown_source_cited": ("unknown source", "nowhere-stats"),
    "missing_fallback_proxy": ("fallback region", "'uk'", "jobs-priority"),
    "illustrative_without_header": ("illustrative: true",),
    "non_illustrative_without_derivation": ("derivation",),
    "too_many_decimals": ("measures[1].proxies.uk.value (jobs-priority)", "25000.005",
                          "2 decimal places"),
    "expression_not_whitelisted": ("'%'", "not allowed", "growth-local-spend"),
    "expression_import": ("__import__", "not allowed"),
    "expression_attribute": ("attribute access",),
    "expression_lambda": ("lambda",),
    "expression_huge_exponent": ("exponent",),
    "expression_deep": ("nested too deeply",),
    "expression_unknown_name": ("secret_multiplier",),
    "expression_constant_not_finite": ("measures[4].expression", "only parameters", "inf",
                                       "not finite"),
    "expression_constant_negative": ("measures[4].expression", "gives -75", "negative"),
    "yaml_python_tag": ("python/object/apply:os.system",),
    "region_parent_cycle": ("cycle", "'uk'"),
    "top_level_list": ("mapping", "list"),
    "top_level_scalar": ("mapping", "str"),
    "empty": ("holds no table", "empty"),
    "comment_only": ("holds no table", "only comments"),
    "binary_garbage": ("utf-8", "position"),
    "null_bytes": ("#x0000", "position"),
    "derivation_formula_unsafe": ("formula", "__import__"),
    "unknown_unit": ("parsec_of_joy", "env-carbon"),
    "low_above_value": ("measures[2].proxies.uk (env-carbon)", "low 300.0", "250.0"),
    "tab_indentation": ("'\\t'",),
    "duplicate_key_spaces": ("duplicate key 'london '", "'london'", "first at line 43"),
    "offset_unit": ("'degC'", "env-carbon", "offset", "no factor converts it"),
    "logarithmic_unit_accepted": ("measures[2].accepts[1]", "'decibel'", "logarithmic"),
    "proxy_too_large": ("measures[6].proxies.uk.value", "1e+16", "below GBP 1,000,000,000,000"),
    "parameter_named_proxy": ("parameters.proxy", "'proxy'", "rename it"),
    "requires_standard_column": ("measures[5].requires", "'quantity'", "outcome column"),
    "exclusion_key_measure": ("exclusions[0].key", "'measure'", "never"),
    "yaml_float_empty": ("!!float", "''", "not a number"),
    "exponent_without_dot": ("measures[0].deadweight", "'1e-1' was read as text", "1.0e-1"),
}
#: Failures where no line can exist (the file is not text): the position is named instead.
NO_LINE = {"binary_garbage", "null_bytes"}


def test_bad_tables_when_listed_cover_every_fixture() -> None:
    """Every fixture in bad_tables/ has an expectation, and vice versa."""
    assert {p.stem for p in BAD_TABLES.glob("*.yaml")} == set(EXPECTED)


def test_control_when_tiny_table_loads() -> None:
    """The valid tiny.yaml, from which every fixture is a one-change mutation, loads."""
    assert len(sv.load_table(path=TINY).measures) == 7


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_table_when_file_malformed_raises_proxy_table_error(name: str) -> None:
    """The error is a ProxyTableError (never a yaml/pydantic/pint one) naming file and place."""
    path = BAD_TABLES / f"{name}.yaml"
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=path)
    err = info.value
    msg = str(err)
    assert path.name in msg
    for needle in EXPECTED[name]:
        assert needle in msg, (needle, msg)
    if name not in NO_LINE:
        has_line = re.search(r"\.yaml:\d+:", msg) is not None or err.details.get("line")
        has_field = (err.details.get("field") not in (None, "<file>")
                     or re.search(r"measures\[\d+\]", msg) is not None)
        assert has_line or has_field, msg


def test_error_data_of_a_cross_check_does_not_carry_the_whole_file() -> None:
    """A cross-check failure (duplicate measure code) has the whole parsed file as pydantic's
    input: ``to_dict()``, offered for a service's response, sent it back whole (80 kB for the
    shipped table). The input is quoted briefly, as a message quotes a value."""
    with pytest.raises(sv.ProxyTableError, match="duplicate measure code") as info:
        sv.load_table(path=BAD_TABLES / "duplicate_measure_code.yaml")
    data = info.value.to_dict()
    assert len(json.dumps(data)) < 2_000, len(json.dumps(data))
    given = data["details"]["errors"][0]["input"]
    assert isinstance(given, str) and given.startswith("{") and len(given) <= 250


def test_load_table_when_date_unparsable_by_yaml_names_its_line() -> None:
    """An unquoted impossible date (YAML's own timestamp) is reported at its line, 5."""
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=BAD_TABLES / "bad_date_unquoted.yaml")
    assert info.value.details.get("line") == 5
    assert ".yaml:5:" in str(info.value)


def test_load_table_when_unit_unknown_links_docs_once() -> None:
    """A wrapped error's message is not doubled: one docs link, the table's own."""
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=BAD_TABLES / "unknown_unit.yaml")
    assert str(info.value).count("[see docs/errors.md#") == 1


def test_read_yaml_when_python_tag_never_constructs_objects(tmp_path: Path) -> None:
    """The safe loader refuses every python/* tag: nothing is called or imported."""
    marker = tmp_path / "pwned"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system",
                "!!python/name:os.system", "!!python/module:os"):
        text = f"a: {tag} ['touch {marker}']\n"
        with pytest.raises(sv.ProxyTableError, match="constructor"):
            read_yaml(tmp_path / "t.yaml", text)
    assert not marker.exists()


@pytest.mark.parametrize("text", [
    "[" * 5000, "a: &a [*a]\n", "{" * 200 + "}" * 200, "a: !!binary xyz\n", "? [a, b]\n: c\n",
    "a: 1\na: 2\n", "<<: {a: 1}\n<<: {b: 2}\n", "- !!set {a, b}\n",
])
def test_read_yaml_when_text_hostile_raises_only_proxy_table_error(tmp_path: Path,
                                                                   text: str) -> None:
    """Deep nesting, recursive aliases, odd tags and keys: a ProxyTableError or plain data."""
    try:
        read_model(tmp_path / "t.yaml", TableFile, text)
    except sv.ProxyTableError as err:
        assert "t.yaml" in str(err)


def test_read_model_when_file_too_big_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """Files over the size limit are refused before parsing."""
    from socialvalue_tom.tables import _loader

    monkeypatch.setattr(_loader, "_MAX_FILE_BYTES", 10)
    path = tmp_path / "big.yaml"
    path.write_text("format: socialvalue_tom.table/v1\n", encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="byte limit"):
        read_yaml(path)
    with pytest.raises(sv.ProxyTableError, match="byte limit"):  # the path users take too
        sv.load_table(path=path)


def test_load_table_when_error_pickles_keeps_location() -> None:
    """ProxyTableError keeps path, line and field through pickle (Dask workers)."""
    import pickle

    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=BAD_TABLES / "negative_proxy.yaml")
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.path, back.line, back.field) == (info.value.path, 68,
                                                  "measures[3].proxies.uk.value")


# -- keys that differ only by spaces around them ------------------------------------------------

@pytest.mark.parametrize(("old", "new", "line", "field"), [
    ("  grades: {A: 0.0, B: 0.1, C: 0.4}", "  grades: {A: 0.0, B: 0.1, C: 0.4, 'C ': 0.9}", 29,
     "confidence_grades.grades.C "),
    ("  leakage: {value: 0.25, source: test-source}",
     "  leakage: {value: 0.25, source: test-source}\n  ' leakage': {value: 0.75}", 27,
     "parameters. leakage"),
    ("    cap_ratio: 0.5", "    cap_ratio: 0.5\n    parameters: {rate: 1.0, 'rate ': 2.0}", 79,
     "measures[4].parameters.rate "),
    ("      london: {value: 30000.00, source: test-source, illustrative: true}",
     "      \"london\\t\": {value: 99.00, source: test-source, illustrative: true}\n"
     "      london: {value: 30000.00, source: test-source, illustrative: true}", 46,
     "measures[0].proxies.london"),
])
def test_load_table_when_keys_differ_only_by_spaces_names_the_second(
        tmp_path: Path, old: str, new: str, line: int, field: str) -> None:
    """The model strips spaces from keys, so ``'C '`` would silently replace ``C``: refused, at
    the line and field of the second key, like an exact duplicate."""
    path = tiny_variant(tmp_path, (old, new))
    with pytest.raises(sv.ProxyTableError, match="duplicate key") as info:
        sv.load_table(path=path)
    assert (info.value.line, info.value.field) == (line, field)
    assert f"tiny.yaml:{line}:" in str(info.value)


# -- paths the operating system refuses ---------------------------------------------------------

def test_load_table_when_path_is_a_symlink_loop_raises_proxy_table_error(tmp_path: Path) -> None:
    loop = tmp_path / "a.yaml"
    loop.symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(loop)
    with pytest.raises(sv.ProxyTableError, match="cannot open table file") as info:
        sv.load_table(path=loop)
    assert "a.yaml" in str(info.value) and info.value.path is not None


@pytest.mark.parametrize("name", ["t\x00.yaml", "x" * 300 + ".yaml"])
def test_load_table_when_path_malformed_raises_proxy_table_error(tmp_path: Path,
                                                                 name: str) -> None:
    """A NUL in the path, or a name longer than the file system allows: a ProxyTableError
    naming the path, never ValueError or OSError."""
    with pytest.raises(sv.ProxyTableError, match="cannot open table file") as info:
        sv.load_table(path=tmp_path / name)
    assert repr(name[:20])[1:-1] in str(info.value)
    assert info.value.path is not None


# -- messages for scalars YAML cannot read as meant ----------------------------------------------

@pytest.mark.parametrize(("value", "words"), [
    ("!!float ''", ("!!float", "''", "not a number")),
    ("!!float x", ("!!float", "'x'", "not a number")),
    ("!!int ''", ("!!int", "''", "not a number")),
    ("!!bool maybe", ("!!bool", "'maybe'", "not a boolean", "true or false")),
])
def test_read_yaml_when_tagged_scalar_unreadable_names_its_line(tmp_path: Path, value: str,
                                                                words: tuple[str, ...]) -> None:
    with pytest.raises(sv.ProxyTableError) as info:
        read_yaml(tmp_path / "t.yaml", f"a: 1\nb: {value}\n")
    assert info.value.line == 2 and info.value.field == "b", str(info.value)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(("old", "new", "shown"), [
    ("    deadweight: 0.1", "    deadweight: 1e-1", "1.0e-1"),
    ("price_base_year: 2024", "price_base_year: 2024e0", None),
    ("  leakage: {value: 0.25,", "  leakage: {value: 25E-2,", "25.0E-2"),
])
def test_load_table_when_number_read_as_text_says_so(tmp_path: Path, old: str, new: str,
                                                     shown: str | None) -> None:
    """YAML 1.1 reads ``1e-1`` as text: the error says so and how to write the number."""
    written = new.split(": ")[-1].removeprefix("{value: ").rstrip(",")
    hint = re.escape(f"'{written}' was read as text")
    with pytest.raises(sv.ProxyTableError, match=hint) as info:
        sv.load_table(path=tiny_variant(tmp_path, (old, new)))
    if shown is not None:
        assert f"write it as {shown}" in str(info.value)


@pytest.mark.parametrize("written", ["1.0e-400", "25000.0e-400", "-1.0e-999"])
def test_load_table_when_number_too_small_to_read_is_refused_not_zero(tmp_path: Path,
                                                                      written: str) -> None:
    """A number that underflows was read as 0.0, so a proxy of 1.0e-400 loaded as a £0 proxy
    (while 0.001 is refused for its third decimal place); in JSON as in YAML."""
    path = tiny_variant(tmp_path, ("{value: 25000.00,", f"{{value: {written},"))
    with pytest.raises(sv.ProxyTableError, match="too small to be read") as info:
        sv.load_table(path=path)
    assert info.value.line is not None
    as_json = tmp_path / "tiny.json"
    data = read_yaml(TINY)
    as_json.write_text(json.dumps(data, default=str).replace("25000.0", written, 1),
                       encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="too small to be read") as info:
        sv.load_table(path=as_json)
    assert info.value.line == 1  # json.dumps writes one line


def test_load_table_when_text_has_a_backslash_reads_its_format_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backslash (a comment naming C:\\data) makes the catalogue parse the file to see whether
    it is an amendment: once per text, not on every load (0.2 ms became 100 ms a load)."""
    from socialvalue_tom.tables import catalogue

    path = tiny_variant(tmp_path, ("deadweight: 0.1", "deadweight: 0.1  # from C:\\data\\tom"))
    calls: list[object] = []
    real = catalogue.read_data
    monkeypatch.setattr(catalogue, "read_data", lambda *a: calls.append(a) or real(*a))
    first = sv.load_table(path=path)
    assert sv.load_table(path=path) is first
    assert len(calls) <= 1


def test_load_table_when_zero_written_with_an_exponent_still_reads_zero(tmp_path: Path) -> None:
    path = tiny_variant(tmp_path, ("    deadweight: 0.1", "    deadweight: 0.0e-400"))
    assert sv.load_table(path=path).measures["jobs-local"].deadweight == 0.0


def test_load_table_when_number_quoted_is_not_told_it_was_read_as_text(tmp_path: Path) -> None:
    """A quoted number is text as written: no hint about YAML's reading of exponents."""
    path = tiny_variant(tmp_path, ("    deadweight: 0.1", "    deadweight: '0.1'"))
    with pytest.raises(sv.ProxyTableError, match="valid number") as info:
        sv.load_table(path=path)
    assert "read as text" not in str(info.value)


@pytest.mark.parametrize(("expression", "gross"), [("'120'", 120.0), ("400 * leakage", 100.0),
                                                   ("leakage - 0.25", 0.0)])
def test_load_table_when_expression_uses_only_parameters_and_is_valuable_values_it(
        tmp_path: Path, expression: str, gross: float) -> None:
    """A fixed amount per claim is a valid custom measure: only a fixed amount that can never
    be valued (non-finite or negative) is refused with the table."""
    path = tiny_variant(tmp_path, ("    expression: quantity * proxy * (1 - leakage)\n",
                                   f"    expression: {expression}\n"))
    table = sv.load_table(path=path)
    v = sv.value(sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP",
                            region="uk", date="2024-06-01"), table)
    assert v.gross == gross


def test_error_data_quotes_a_long_list_or_text_input_briefly() -> None:
    """pydantic's input for a long list, or a 1,000-character text, is quoted in the error's
    data as a message quotes it (the whole value stays in the input)."""
    from socialvalue_tom._text import clipped_errors

    errors = [{"type": "x", "loc": ("a",), "msg": "m", "input": list(range(500))},
              {"type": "x", "loc": ("b",), "msg": "m", "input": "a" * 1000},
              {"type": "x", "loc": ("c",), "msg": "m", "input": {"k": 1}}]
    clipped = clipped_errors(errors)
    assert isinstance(clipped[0]["input"], str) and len(clipped[0]["input"]) <= 250
    assert isinstance(clipped[1]["input"], str) and len(clipped[1]["input"]) <= 250
    assert clipped[2]["input"] == {"k": 1}  # short: kept as it is
