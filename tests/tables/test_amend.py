"""Local amendments: an edition plus verified regional values, as a separately labelled edition."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import pytest
from conftest import amendment_yaml, line_of

import socialvalue_tom as sv
from socialvalue_tom.money import to_pounds
from socialvalue_tom.tables.amend import AMENDMENT_FORMAT

SOURCE = {"id": "buyer-ashe-check", "title": "ASHE figure checked by the buyer",
          "publisher": "Example Council", "year": 2025, "url": "https://example.org/ashe",
          "licence": "OGL-3.0"}


def _wage(weekly: float, source: str = "buyer-ashe-check") -> dict[str, Any]:
    return {"value": round(weekly * 52, 2), "source": source, "derivation": {
        "inputs": {"median_weekly_pay_ft": weekly, "weeks_per_year": 52.0},
        "formula": "median_weekly_pay_ft * weeks_per_year"}}


@pytest.fixture(scope="module")
def base() -> sv.ProxyTable:
    return sv.load_table("uk-national", version="2025")


@pytest.fixture(scope="module")
def amended(base: sv.ProxyTable) -> sv.ProxyTable:
    return sv.amend_table(base, version="2025-example.1", sources=[SOURCE],
                          proxies={"jobs-local-fte": {"England": _wage(750.5)}})


def test_amendment_gives_the_region_its_own_value_and_leaves_the_rest(
        base: sv.ProxyTable, amended: sv.ProxyTable) -> None:
    got = amended.proxy("jobs-local-fte", "england")
    assert (got.value, got.region_used, got.source.id) == (39026.0, "england", "buyer-ashe-check")
    assert base.proxy("jobs-local-fte", "england").region_used == "uk"  # base untouched
    for region in base.region_codes:
        if region != "england":
            assert amended.proxy("jobs-local-fte", region) == base.proxy("jobs-local-fte", region)
    assert (amended.proxy_matrix[base.measure_index["jobs-local-fte"] + 1:]
            == base.proxy_matrix[base.measure_index["jobs-local-fte"] + 1:]).all()


def test_amendment_is_its_own_edition_and_names_what_it_amends(
        base: sv.ProxyTable, amended: sv.ProxyTable) -> None:
    assert amended.version == "2025-example.1" and amended.name == base.name
    assert (amended.valid_from, amended.valid_to) == (base.valid_from, base.valid_to)
    assert amended.spec.price_base_year == base.spec.price_base_year
    assert amended.price_index is base.price_index
    assert amended.digest != base.digest
    assert f"uk-national:2025 (digest {base.digest})" in (amended.spec.notes or "")
    assert "jobs-local-fte/england" in (amended.spec.notes or "")


def test_valuation_with_an_amendment_uses_and_names_it(amended: sv.ProxyTable) -> None:
    outcome = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="England",
                         date=dt.date(2025, 6, 1))
    v = sv.value(outcome, amended)
    displacement = Decimal(str(amended.measure("jobs-local-fte").displacement))
    assert v.region_used == "england" and v.proxy == 39026.0
    assert Decimal(str(v.amount)).quantize(Decimal("0.01")) == Decimal("39026") * 2 * (
        1 - displacement)
    assert (v.version, v.digest) == ("2025-example.1", amended.digest)


def test_an_amended_edition_sits_beside_the_published_earlier_ones(
        amended: sv.ProxyTable) -> None:
    editions = [sv.load_table("uk-national", version=v) for v in ("2023", "2024")] + [amended]
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["england"] * 2,
                       "date": ["2024-06-01", "2025-06-01"]})
    out = sv.value_frame(df, tables=editions, detail=True)
    assert list(out["version"]) == ["2024", "2025-example.1"]
    assert out["proxy_gbp"].iloc[1] == 39026.0


def test_amendment_pickles_to_the_same_edition(amended: sv.ProxyTable) -> None:
    again = pickle.loads(pickle.dumps(amended))
    assert again.digest == amended.digest
    assert again.proxy("jobs-local-fte", "england") == amended.proxy("jobs-local-fte", "england")


def test_diff_against_the_base_shows_exactly_the_amended_value(
        base: sv.ProxyTable, amended: sv.ProxyTable) -> None:
    d = sv.diff_tables(base, amended)
    assert d[["change", "measure", "region", "old_region_used", "new_region_used"]].to_dict(
        "records") == [{"change": "table", "measure": "", "region": "", "old_region_used": "",
                        "new_region_used": ""},
                       {"change": "added", "measure": "jobs-local-fte", "region": "england",
                        "old_region_used": "uk", "new_region_used": "england"},
                       {"change": "changed", "measure": "jobs-local-fte", "region": "uk",
                        "old_region_used": "uk", "new_region_used": "uk"}]
    # the added source, named; the record
    assert d.iloc[0]["fields_changed"] == "sources (added: buyer-ashe-check), notes"
    # The UK value no longer stands in for England: its note on England goes, Wales's stays.
    assert d.iloc[2]["fields_changed"] == "stands_in_for (england)"  # whose note went
    assert d.iloc[2]["pct_change"] == 0.0
    assert set(base.measures["jobs-local-fte"].proxies["uk"].stands_in_for or {}) == {
        "england", "wales"}
    assert set(amended.measures["jobs-local-fte"].proxies["uk"].stands_in_for or {}) == {
        "wales"}
    trace = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE",
                                region="england", date="2025-06-01"), amended).explain()
    assert "stands in" not in trace and "for england" in trace


@pytest.mark.parametrize("version", ["2025", "2024", " 2025", "2025 ", "", "a" * 33, 2026])
def test_amendment_must_carry_a_version_label_of_its_own(base: sv.ProxyTable,
                                                         version: Any) -> None:
    """Not the amended edition's, not a sibling's (even padded), and a valid label."""
    with pytest.raises(sv.ProxyTableError, match="version label") as err:
        sv.amend_table(base, version=version, sources=[SOURCE],
                       proxies={"jobs-local-fte": {"england": _wage(750.5)}})
    assert err.value.field == "version"


@pytest.mark.parametrize("version", ["2025.1", "2026", "2025.1.2", "7", "2025-1", "2025_1.2"])
def test_amendment_label_may_not_look_like_a_published_edition_or_correction(
        base: sv.ProxyTable, version: str) -> None:
    """2025.1 is how a correction of the published 2025 edition is labelled: a local amendment
    so labelled would read as an official correction in every result."""
    with pytest.raises(sv.ProxyTableError, match="form of a published edition or correction"
                                                 r".*e\.g\. 2025-local\.1"):
        sv.amend_table(base, version=version, sources=[SOURCE],
                       proxies={"jobs-local-fte": {"england": _wage(750.5)}})


def test_the_amendment_schema_refuses_a_published_edition_s_label_as_the_loader_does(
        tmp_path: Path) -> None:
    import jsonschema
    import yaml

    path = _amendment_file(tmp_path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(sv.json_schema("amendment"))
    assert validator.is_valid(doc)
    for label in ("2025.1", "2026"):
        wrong = {**doc, "version": label}
        assert not validator.is_valid(wrong)
        path.write_text(json.dumps(wrong), encoding="utf-8")  # JSON is YAML too
        with pytest.raises(sv.ProxyTableError, match="form of a published edition"):
            sv.load_table(path=path)


def test_an_amendment_names_the_edition_it_amends(base: sv.ProxyTable,
                                                  amended: sv.ProxyTable) -> None:
    assert amended.amends == "uk-national:2025" and base.amends is None
    again = sv.amend_table(amended, version="2025-example.2", proxies={
        "jobs-local-fte": {"wales": _wage(700.0, "ons-ashe-2025")}})
    assert again.amends == "uk-national:2025-example.1"


def test_editions_sharing_a_label_cannot_be_used_together(amended: sv.ProxyTable) -> None:
    twin = sv.amend_table(amended, version="2025-example.2", proxies={
        "jobs-local-fte": {"wales": _wage(700.0, "ons-ashe-2025")}})
    earlier = sv.load_table("uk-national", version="2024")
    relabelled = sv.amend_table(earlier, version="2025-example.2", proxies={
        "jobs-local-fte": {"wales": _wage(690.0, "ons-ashe-2024")}})
    with pytest.raises(sv.ProxyTableError, match="same version label"):
        sv.TableSet([relabelled, twin])


def test_amendment_of_unknown_measure_or_region_is_a_typed_error(base: sv.ProxyTable) -> None:
    with pytest.raises(sv.UnknownMeasureError, match="did you mean"):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-ft": {"england": _wage(750.5)}})
    with pytest.raises(sv.UnknownRegionError):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-fte": {"Cornwall": _wage(750.5)}})


def test_correcting_a_published_value_needs_replace(base: sv.ProxyTable) -> None:
    with pytest.raises(sv.ProxyTableError, match="already has a value for london"):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-fte": {"london": _wage(960.0)}})
    fixed = sv.amend_table(base, version="x1", sources=[SOURCE], replace=True,
                           proxies={"jobs-local-fte": {"london": _wage(960.0)}})
    assert fixed.proxy("jobs-local-fte", "london").value == 49920.0


@pytest.mark.parametrize(("change", "match"), [
    (lambda p: p.pop("derivation"), "needs a derivation"),
    (lambda p: p.update(derivation={"inputs": {"x": 1.0, "y": 0.0}, "formula": "x / y"}),
     "gives inf"),
    (lambda p: p.update(derivation={"inputs": {"x": 0.0}, "formula": "x / x"}), "gives nan"),
    (lambda p: p.update(derivation={"inputs": {"x": 1.0}, "formula": "39026"}),
     "uses none of its inputs"),
    (lambda p: p.update(low=1.0), "gives low 1.0 without a low_formula"),
    (lambda p: p.update(high=1e9), "without a high_formula"),
    (lambda p: p.update(value=39000.0), "gives 39026.00 from its inputs"),
    (lambda p: p.update(source="nobody"), "unknown source 'nobody'"),
    (lambda p: p.update(value=-1.0), "greater than or equal to 0"),
    (lambda p: p["derivation"].update(formula="__import__('os')"), "unknown function"),
])
def test_a_malformed_added_value_is_refused(base: sv.ProxyTable, change: Any,
                                            match: str) -> None:
    proxy = _wage(750.5)
    change(proxy)
    with pytest.raises(sv.ProxyTableError, match=match):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-fte": {"england": proxy}})


def test_a_low_or_high_bound_must_recompute_too(base: sv.ProxyTable) -> None:
    proxy = _wage(750.5)
    proxy["low"] = 1.0
    proxy["derivation"]["low_formula"] = "median_weekly_pay_ft * weeks_per_year / 2"
    with pytest.raises(sv.ProxyTableError, match=r"low_formula .* gives 19513\.00"):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-fte": {"england": proxy}})


def test_an_added_source_may_not_reuse_a_published_id(base: sv.ProxyTable) -> None:
    with pytest.raises(sv.ProxyTableError, match="duplicate source id: ons-ashe-2025"):
        sv.amend_table(base, version="x1", sources=[{**SOURCE, "id": "ons-ashe-2025"}],
                       proxies={"jobs-local-fte": {"england": _wage(750.5, "ons-ashe-2025")}})


def test_an_added_value_may_cite_a_published_source(base: sv.ProxyTable) -> None:
    t = sv.amend_table(base, version="x1",
                       proxies={"jobs-local-fte": {"england": _wage(750.5, "ons-ashe-2025")}})
    assert t.proxy("jobs-local-fte", "england").source.id == "ons-ashe-2025"


# -- amendment files ---------------------------------------------------------------------------

def _amendment_file(tmp_path: Path, extra: str = "", digest: str | None = None) -> Path:
    path = tmp_path / "england-2025.yaml"
    path.write_text(amendment_yaml(2025, 750.5, digest, extra), encoding="utf-8")
    return path


def test_amendment_file_loads_like_a_table(tmp_path: Path, base: sv.ProxyTable,
                                           amended: sv.ProxyTable) -> None:
    t = sv.load_table(path=_amendment_file(tmp_path, digest=base.digest))
    assert t.version == "2025-example.1" and t.path == tmp_path / "england-2025.yaml"
    assert t.proxy("jobs-local-fte", "england") == amended.proxy("jobs-local-fte", "england")
    assert "checked against the publication by the buyer" in (t.spec.notes or "")


def test_amendment_file_with_its_format_escaped_in_yaml_loads_as_an_amendment(
        tmp_path: Path, base: sv.ProxyTable, amended: sv.ProxyTable) -> None:
    """YAML reads "socialvalue_tom.\\x61mendment/v1" as the amendment format, but the quick
    test before parsing looked for the name as written and read the file as a table."""
    path = _amendment_file(tmp_path)
    escaped = '"' + AMENDMENT_FORMAT.replace("amendment", "\\x61mendment") + '"'
    path.write_text(path.read_text(encoding="utf-8").replace(AMENDMENT_FORMAT, escaped, 1),
                    encoding="utf-8")
    assert "socialvalue_tom.amendment" not in path.read_text(encoding="utf-8")
    t = sv.load_table(path=path)
    assert t.proxy("jobs-local-fte", "england") == amended.proxy("jobs-local-fte", "england")


def test_amendment_file_formula_outside_the_language_names_its_field_and_line(
        tmp_path: Path) -> None:
    """It was refused with no path, line or field, and without saying which formula."""
    path = _amendment_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "formula: median_weekly_pay_ft * weeks_per_year", "formula: median_weekly_pay_ft.real")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="attribute access") as err:
        sv.load_table(path=path)
    e = err.value
    assert e.field == "proxies.jobs-local-fte.england.derivation.formula"
    assert (e.path, e.line) == (str(path), line_of(text, "formula:"))


def _local_measure_yaml(expression: str | None = None, formula: str = "x") -> str:
    """An amendment's ``measures:`` block adding one local measure (for ``extra``)."""
    line = f"  expression: {expression}\n" if expression else ""
    return f"""\
measures:
- code: social-local-thing
  theme: social
  outcome: Something local
  title: Local thing
  unit: hour
  value_type: social
{line}  proxies:
    uk:
      value: 10.0
      source: buyer-ashe-check
      derivation: {{inputs: {{x: 10.0}}, formula: {formula}}}
"""


def test_amendment_file_measure_expression_error_names_the_amendment_s_measure(
        tmp_path: Path) -> None:
    """An added measure's bad expression was named measures[41] (its place in the merged
    edition) at the line where the measure starts."""
    path = _amendment_file(tmp_path, extra=_local_measure_yaml(
        expression="quantity * proxy.real"))
    text = path.read_text(encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match=r"field measures\[0\]\.expression") as err:
        sv.load_table(path=path)
    assert (err.value.field, err.value.line) == ("measures[0].expression",
                                                 line_of(text, "expression:"))


def test_amendment_file_local_measure_derivation_error_names_its_own_field_and_line(
        tmp_path: Path) -> None:
    """A local measure's values are under measures[i].proxies, not proxies: the error named
    proxies.<code>.<region> and the line of the top-level 'proxies:'."""
    path = _amendment_file(tmp_path, extra=_local_measure_yaml(formula="x.real"))
    text = path.read_text(encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="attribute access") as err:
        sv.load_table(path=path)
    assert (err.value.field, err.value.line) == (
        "measures[0].proxies.uk.derivation.formula", line_of(text, "formula: x.real"))


def test_amendment_file_pinned_to_another_digest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(sv.ProxyTableError, match="the edition changed since"):
        sv.load_table(path=_amendment_file(tmp_path, digest="0" * 64))


def test_amendment_file_with_a_typo_names_the_line(tmp_path: Path) -> None:
    path = _amendment_file(tmp_path, extra="replcae: true\n")
    with pytest.raises(sv.ProxyTableError) as err:
        sv.load_table(path=path)
    assert err.value.line == 20 and err.value.field == "replcae"


def test_amendment_file_of_an_unknown_edition_is_a_typed_error(tmp_path: Path) -> None:
    path = _amendment_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "uk-national:2025", "uk-national:2031"), encoding="utf-8")
    with pytest.raises(sv.UnknownTableError, match="unknown version '2031'"):
        sv.load_table(path=path)


def test_amendment_json_schema_is_published() -> None:
    schema = sv.json_schema("amendment")
    assert schema["title"] == "AmendmentFile"
    assert {"amends", "version"} <= set(schema["required"])
    assert {"proxies", "measures", "sources"} <= set(schema["properties"])


def test_an_illustrative_added_value_still_needs_a_derivation(base: sv.ProxyTable) -> None:
    # The published header is illustrative (its spend placeholders), so the file format alone
    # would accept an illustrative value without a derivation; an amendment never does.
    proxy = {"value": 1.0, "source": "buyer-ashe-check", "illustrative": True}
    with pytest.raises(sv.ProxyTableError, match="has no derivation"):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"growth-local-spend": {"england": proxy}})


def test_cli_reads_amendment_files_wherever_it_reads_tables(tmp_path: Path,
                                                            base: sv.ProxyTable) -> None:
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    runner = CliRunner()
    path = _amendment_file(tmp_path, digest=base.digest)
    diff = runner.invoke(app, ["tables", "diff", "uk-national:2025", str(path)])
    assert diff.exit_code == 0, diff.output
    assert re.search(r"added\s*│\s*jobs-local-fte\s*│\s*england\s*│\s*£39,863\.20 \(uk\)\s*│"
                     r"\s*£39,026\.00", diff.stdout), diff.stdout
    check = runner.invoke(app, ["tables", "validate", str(path)])
    assert check.exit_code == 0, check.output
    assert f"digest sha256:{sv.load_table(path=path).digest}" in check.stdout
    src = tmp_path / "p.csv"
    src.write_text("measure,quantity,unit,region,date\njobs-local-fte,1,FTE,england,2025-06-01\n",
                   encoding="utf-8")
    valued = runner.invoke(app, ["value", str(src), "--tables", str(path)])
    assert valued.exit_code == 0, valued.output
    assert "2025-example.1" in valued.stdout
    assert ("(a local amendment of uk-national:2025, not a published edition)"
            in " ".join(valued.stdout.split()))


def test_the_amendment_file_shown_in_the_docs_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "proxies.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(format: socialvalue_tom\.amendment/v1\n.*?)```", doc, re.S)
    assert block is not None
    path = tmp_path / "amendment.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    t = sv.load_table(path=path)
    assert t.proxy("jobs-local-fte", "england").source.id == "example-council-check"
    local = re.search(r"```yaml\n(measures:\n.*?)```", doc, re.S)
    assert local is not None
    path.write_text(block.group(1) + local.group(1), encoding="utf-8")
    assert sv.load_table(path=path).proxy("local-care-leaver-mentoring", "wales").value == 16.5


@pytest.mark.parametrize("text", [
    f"format: {AMENDMENT_FORMAT}\namends: !!python/object/apply:os.system ['true']\n",
    f"format: {AMENDMENT_FORMAT}\nformat: {AMENDMENT_FORMAT}\n",
    f"format: {AMENDMENT_FORMAT}\namends: uk-national:2025\nversion: x1\nproxies: {{}}\n",
    f"format: {AMENDMENT_FORMAT}\namends: uk-national\nversion: x1\nproxies: {{a: {{}}}}\n",
    f"format: {AMENDMENT_FORMAT}\n- a list\n",
])
def test_a_malformed_amendment_file_is_only_ever_a_proxy_table_error(tmp_path: Path,
                                                                     text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError):
        sv.load_table(path=path)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"proxies": {"jobs-local-fte": {"england": 39026.0}}}, "proxies.jobs-local-fte.england"),
    ({"proxies": {"jobs-local-fte": ["england"]}}, "proxies.jobs-local-fte"),
    ({"proxies": ["jobs-local-fte"]}, "proxies"),
    ({"proxies": {"jobs-local-fte": {"england": _wage(750.5)}}, "sources": ["a source"]},
     "sources"),
])
def test_amend_table_given_garbage_raises_a_typed_error_naming_the_field(
        base: sv.ProxyTable, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(sv.ProxyTableError, match="must be a mapping") as err:
        sv.amend_table(base, version="x1", **kwargs)
    assert err.value.field == field


def test_a_schema_error_names_the_measure_not_its_position(base: sv.ProxyTable) -> None:
    proxy = {**_wage(750.5), "value": 1.234}
    with pytest.raises(sv.ProxyTableError) as err:
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       proxies={"jobs-local-fte": {"england": proxy}})
    assert err.value.field.startswith("proxies.jobs-local-fte.england")  # as the caller wrote


def test_an_amendment_that_adds_nothing_or_repeats_a_region_is_refused(
        base: sv.ProxyTable) -> None:
    with pytest.raises(sv.ProxyTableError, match="adds no value"):
        sv.amend_table(base, version="x1", proxies={"jobs-local-fte": {}})
    with pytest.raises(sv.ProxyTableError, match="given twice for england"):
        sv.amend_table(base, version="x1", sources=[SOURCE], replace=True, proxies={
            "jobs-local-fte": {"England": _wage(750.5), "england": _wage(751.0)}})


def test_the_notes_record_what_was_added_and_what_was_replaced(base: sv.ProxyTable) -> None:
    t = sv.amend_table(base, version="x1", sources=[SOURCE], replace=True, proxies={
        "jobs-local-fte": {"england": _wage(750.5), "london": _wage(960.0)}})
    assert ("adds jobs-local-fte/england; replaces jobs-local-fte/london (was GBP 49816.0)."
            in (t.spec.notes or ""))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"sources": None}, "sources"),
    ({"sources": 5}, "sources"),
    ({"sources": SOURCE}, "sources"),
    ({"notes": 5}, "notes"),
    ({"replace": "no"}, "replace"),
])
def test_amend_table_given_wrong_argument_types_raises_typed_errors(
        base: sv.ProxyTable, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(sv.ProxyTableError) as err:
        sv.amend_table(base, version="x1", **{
            "proxies": {"jobs-local-fte": {"england": _wage(750.5)}}, **kwargs})
    assert err.value.field == field


@pytest.mark.parametrize("table", ["uk-national", None])
def test_amend_table_needs_a_loaded_edition(table: Any) -> None:
    with pytest.raises(sv.ProxyTableError, match="amends a ProxyTable"):
        sv.amend_table(table, version="x1", proxies={"jobs-local-fte": {}})


def test_an_error_in_an_added_source_names_its_position_among_the_added(
        base: sv.ProxyTable) -> None:
    with pytest.raises(sv.ProxyTableError) as err:
        sv.amend_table(base, version="x1", sources=[SOURCE, {**SOURCE, "id": "b", "url": "x"}],
                       proxies={"jobs-local-fte": {"england": _wage(750.5)}})
    assert err.value.field == "sources.1.url"


def test_amendment_file_in_json_is_read_as_an_amendment(tmp_path: Path,
                                                        amended: sv.ProxyTable) -> None:
    import json

    import yaml

    data = yaml.safe_load(_amendment_file(tmp_path).read_text(encoding="utf-8"))
    path = tmp_path / "england-2025.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    t = sv.load_table(path=path)
    assert t.proxy("jobs-local-fte", "england") == amended.proxy("jobs-local-fte", "england")


def test_a_table_whose_notes_mention_the_amendment_format_is_still_a_table(
        tmp_path: Path) -> None:
    tiny = Path(__file__).parents[1] / "data" / "tables" / "tiny.yaml"
    index = tiny.with_name("tiny-deflator.index.yaml")
    (tmp_path / index.name).write_text(index.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text(tiny.read_text(encoding="utf-8") + (
        f'notes: "not an\n\nformat: {AMENDMENT_FORMAT} file"\n'), encoding="utf-8")
    assert sv.load_table(path=path).name == "tiny"


def test_an_edit_that_keeps_the_file_time_is_still_seen(tmp_path: Path) -> None:
    import os

    path = _amendment_file(tmp_path)
    assert sv.load_table(path=path).proxy("jobs-local-fte", "england").value == 39026.0
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("750.5", "750.0").replace(
        "39026.00", "39000.00"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p or rsync -a would
    assert sv.load_table(path=path).proxy("jobs-local-fte", "england").value == 39000.0


def test_a_changed_base_edition_is_rechecked_not_served_from_cache(
        tmp_path: Path, proxies_copy: Path) -> None:
    from socialvalue_tom.tables import write_manifest

    pinned = _amendment_file(tmp_path, digest=sv.load_table("uk-national", version="2025").digest)
    assert sv.load_table(path=pinned).version == "2025-example.1"
    edition = proxies_copy / "uk-national" / "2025.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace(
        "title: UK national", "title: Corrected UK national", 1), encoding="utf-8")
    write_manifest(proxies_copy, allow_changes=True)
    with pytest.raises(sv.ProxyTableError, match="the edition changed since"):
        sv.load_table(path=pinned)


def test_amendment_file_of_an_unknown_edition_names_the_file(tmp_path: Path) -> None:
    path = _amendment_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "uk-national:2025", "uk-national:2031"), encoding="utf-8")
    with pytest.raises(sv.UnknownTableError, match=r"england-2025\.yaml: amends uk-national:2031"):
        sv.load_table(path=path)


def test_amendment_file_of_a_family_of_ones_own_says_how_to_amend_it(tmp_path: Path) -> None:
    """A table-author review: ``amends: northshire-toms:2024`` said only that the family was
    unknown; an amendment file amends an embedded edition, and one's own table is amended with
    sv.amend_table (or a new version of the file)."""
    path = _amendment_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "uk-national:2025", "northshire-toms:2024"), encoding="utf-8")
    with pytest.raises(sv.UnknownTableError, match="northshire-toms") as info:
        sv.load_table(path=path)
    assert "amends an embedded edition only" in str(info.value)
    assert "sv.amend_table(table, ...)" in str(info.value)


def test_cli_combines_a_family_with_an_amendment_for_a_multi_year_portfolio(
        tmp_path: Path, base: sv.ProxyTable) -> None:
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    path = _amendment_file(tmp_path, digest=base.digest)
    src = tmp_path / "p.csv"
    src.write_text("measure,quantity,unit,region,date\n"
                   "jobs-local-fte,1,FTE,england,2024-06-01\n"
                   "jobs-local-fte,1,FTE,england,2025-06-01\n", encoding="utf-8")
    out = tmp_path / "v.csv"
    result = CliRunner().invoke(app, ["value", str(src), "--tables", f"uk-national,{path}",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    valued = pd.read_csv(out)
    assert list(valued["version"]) == ["2024", "2025-example.1"]
    assert list(valued["region_used"]) == ["uk", "england"]
    twice = CliRunner().invoke(app, ["value", str(src), "--tables", f"{path},{path}"])
    assert twice.exit_code == 2 and "same version label" in twice.output


# -- local measures ------------------------------------------------------------------------------

def _local_measure(**overrides: Any) -> dict[str, Any]:
    """A council's own measure: hours of mentoring for care leavers, valued at a checked wage."""
    spec: dict[str, Any] = {
        "code": "local-care-leaver-mentoring", "theme": "social",
        "outcome": "Care leavers supported into work", "title": "Mentoring hours for care leavers",
        "unit": "hour", "value_type": "social", "displacement": 0.1,
        "evidence": "Mentoring log signed by the leaving-care team.",
        "expression": "quantity * proxy * uplift", "parameters": {"uplift": 1.5},
        "proxies": {"uk": {"value": 16.5, "source": "buyer-ashe-check", "derivation": {
            "inputs": {"hourly_pay": 11.0, "on_cost": 1.5}, "formula": "hourly_pay * on_cost"}}},
    }
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def local(base: sv.ProxyTable) -> sv.ProxyTable:
    return sv.amend_table(base, version="2025-local.1", sources=[SOURCE],
                          measures=[_local_measure()],
                          proxies={"jobs-local-fte": {"england": _wage(750.5)}})


def test_a_local_measure_is_added_beside_the_national_ones(base: sv.ProxyTable,
                                                           local: sv.ProxyTable) -> None:
    assert local.measure_codes == (*base.measure_codes, "local-care-leaver-mentoring")
    assert "adds measure(s) local-care-leaver-mentoring; adds jobs-local-fte/england." in (
        local.spec.notes or "")
    d = sv.diff_tables(base, local)
    assert set(zip(d["change"], d["measure"], d["region"], strict=True)) == {
        ("table", "", ""), ("added", "local-care-leaver-mentoring", "uk"),
        ("added", "jobs-local-fte", "england"),
        ("changed", "jobs-local-fte", "uk")}  # its note on England's stand-in dropped


def test_a_local_measure_s_proxies_may_be_any_mapping(base: sv.ProxyTable,
                                                     local: sv.ProxyTable) -> None:
    """A read-only mapping of regions was refused as 'not mappingproxy', where every other
    mapping argument of amend_table takes any Mapping."""
    measure = _local_measure()
    measure["proxies"] = MappingProxyType(measure["proxies"])
    again = sv.amend_table(base, version="2025-local.1", sources=[SOURCE], measures=[measure],
                           proxies={"jobs-local-fte": {"england": _wage(750.5)}})
    assert again.digest == local.digest
    # No proxies at all is refused as such (the field is required), not as an empty mapping.
    del measure["proxies"]
    with pytest.raises(sv.ProxyTableError, match="Field required"):
        sv.amend_table(base, version="2025-local.1", sources=[SOURCE], measures=[measure],
                       proxies={"jobs-local-fte": {"england": _wage(750.5)}})


def test_a_local_measure_is_valued_alike_by_value_and_value_frame(local: sv.ProxyTable) -> None:
    rows = [("local-care-leaver-mentoring", 40.0, "hour", "wales"),
            ("jobs-local-fte", 1.0, "FTE", "england"),
            ("local-care-leaver-mentoring", 90.0, "minute", "uk")]
    df = pd.DataFrame(rows, columns=["measure", "quantity", "unit", "region"])
    df["date"] = "2025-06-01"
    out = sv.value_frame(df, tables=local)
    for i, (measure, quantity, unit, region) in enumerate(rows):
        one = sv.value(sv.Outcome(measure=measure, quantity=quantity, unit=unit, region=region,
                                  date=dt.date(2025, 6, 1)), local)
        assert out["value_gbp"].iloc[i] == one.amount  # bit for bit, as for the national set
    # 40 h x GBP 16.50 x uplift 1.5, less 10% displacement; 90 minutes are 1.5 h (33.4125).
    assert to_pounds(out["value_gbp"].iloc[0]) == Decimal("891.00")
    assert to_pounds(out["value_gbp"].iloc[2]) == Decimal("33.41")


@pytest.mark.parametrize(("overrides", "match"), [
    ({"code": "jobs-local-fte"}, "already in uk-national:2025"),
    ({"proxies": {"england": _local_measure()["proxies"]["uk"]}}, "fallback region 'uk'"),
    ({"proxies": {"uk": {"value": 16.5, "source": "buyer-ashe-check"}}}, "needs a derivation"),
    ({"expression": "quantity * proxy * bonus"}, "bonus"),
    ({"unit": "FTE-hours"}, "FTE-hours|unit"),
])
def test_a_malformed_local_measure_is_refused(base: sv.ProxyTable, overrides: dict[str, Any],
                                              match: str) -> None:
    with pytest.raises(sv.ProxyTableError, match=match):
        sv.amend_table(base, version="x1", sources=[SOURCE],
                       measures=[_local_measure(**overrides)])


def test_amendment_file_may_add_only_measures(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "local.yaml"
    path.write_text(yaml.safe_dump({
        "format": AMENDMENT_FORMAT, "amends": "uk-national:2025", "version": "2025-local.1",
        "sources": [SOURCE], "measures": [_local_measure()]}), encoding="utf-8")
    t = sv.load_table(path=path)
    assert t.proxy("local-care-leaver-mentoring", "london").value == 16.5
    empty = tmp_path / "empty.yaml"
    empty.write_text(f"format: {AMENDMENT_FORMAT}\namends: uk-national:2025\nversion: x1\n",
                     encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="adds proxies, measures or both"):
        sv.load_table(path=empty)


@pytest.mark.parametrize(("measures", "words"), [
    ([{"theme": "jobs", "proxies": {"uk": {}}}], "code"),
    ([{"code": "jobs-x", "proxies": 5}], "proxies must be a mapping"),
])
def test_amend_table_when_new_measure_malformed_raises_proxy_table_error(
        measures: list[dict[str, object]], words: str) -> None:
    """A local measure without a code, or with proxies that are not a mapping, is a table
    error naming the field, never a KeyError or TypeError."""
    base = sv.load_table("uk-national", version="2024")
    with pytest.raises(sv.ProxyTableError, match=words):
        sv.amend_table(base, version="2024-t.1", measures=measures)  # type: ignore[arg-type]


def test_amended_editions_built_per_request_are_not_kept_by_the_process(
        base: sv.ProxyTable) -> None:
    """explain_row finds an amendment while it is in use; a server building one per request
    keeps only the few the valuation caches hold (16 edition stacks), and explain_row says why
    it cannot find one that has been forgotten."""
    import gc

    from socialvalue_tom import explain

    df = pd.DataFrame([{"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE",
                        "region": "england", "date": "2025-06-01"}])
    kept = len(explain._EDITIONS)
    first = None
    for i in range(40):
        local = sv.amend_table(base, version=f"2025-request.{i}", sources=[SOURCE],
                               proxies={"jobs-local-fte": {"england": _wage(700.0 + i)}})
        out = sv.value_frame(df, local)
        assert f"2025-request.{i}" in sv.explain_row(out, 0)
        first = out if first is None else first
        del local, out
    gc.collect()
    assert len(explain._EDITIONS) <= kept + 16
    with pytest.raises(sv.RuleError, match="forgotten once nothing refers to it"):
        sv.explain_row(first, 0)


def test_amend_table_when_local_measure_twice_or_without_code_names_it(
        base: sv.ProxyTable) -> None:
    local = _local_measure()
    with pytest.raises(sv.ProxyTableError, match="given twice in this amendment") as info:
        sv.amend_table(base, version="2025-example.2", sources=[SOURCE], measures=[local, local])
    assert info.value.field == "measures.1.code"
    nameless = {k: v for k, v in local.items() if k != "code"}
    with pytest.raises(sv.ProxyTableError, match="local measure 0 has no code") as info:
        sv.amend_table(base, version="2025-example.2", sources=[SOURCE], measures=[nameless])
    assert info.value.field == "measures.0.code"


# -- JSON amendment files ----------------------------------------------------------------------

def _scaled_wage() -> dict[str, Any]:
    """39026.00 derived from a figure and a scale that json.dumps writes with an exponent."""
    return {"value": 39026.0, "source": "buyer-ashe-check", "derivation": {
        "inputs": {"annual_pay_pence_thousandths": 3902600000.0, "scale": 1e-05},
        "formula": "annual_pay_pence_thousandths * scale"}}


def _json_amendment(**changes: Any) -> dict[str, Any]:
    return {"format": AMENDMENT_FORMAT, "amends": "uk-national:2025",
            "version": "2025-example.1", "sources": [SOURCE],
            "proxies": {"jobs-local-fte": {"england": _scaled_wage()}}, **changes}


@pytest.mark.parametrize("dumps", [
    lambda d: json.dumps(d),
    lambda d: json.dumps(d, indent="\t"),
    lambda d: json.dumps(d, indent=2).replace("/", "\\/"),
    lambda d: json.dumps(d, ensure_ascii=True, separators=(",", ":")),
])
def test_amendment_file_in_json_is_read_as_json(tmp_path: Path, dumps: Any) -> None:
    """Any valid JSON, as json.dumps writes it: exponents (1e-05) are numbers, tabs indent, and
    an escaped '/' is a '/'."""
    path = tmp_path / "amendment.json"
    path.write_text(dumps(_json_amendment()), encoding="utf-8")
    assert "1e-05" in path.read_text(encoding="utf-8")
    t = sv.load_table(path=path)
    assert t.version == "2025-example.1"
    assert t.proxy("jobs-local-fte", "england").value == 39026.0


def test_amendment_file_in_json_with_a_typo_names_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "amendment.json"
    path.write_text(json.dumps(_json_amendment(replcae=True), indent="\t"), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="Extra inputs") as err:
        sv.load_table(path=path)
    assert err.value.field == "replcae"
    assert err.value.line == path.read_text(encoding="utf-8").splitlines().index(
        '\t"replcae": true') + 1


@pytest.mark.parametrize(("text", "line", "words"), [
    ('{"format": "x",\n "format": "y"}', 2, ("duplicate key 'format'", "first at line 1")),
    ('{"proxies": {"m": {"england": 1,\n  "england ": 2}}}', 2,
     ("duplicate key 'england '", "'england'")),
    ('{"format": "x",\n "amends": }', 2, ("not valid JSON", "Expecting value")),
    ('{"format": "x",\n "n": NaN}', None, ("NaN",)),
    ('{"format": "x", "n": 1}\n{}', 2, ("not valid JSON", "Extra data")),
    ('[' * 100_000 + ']' * 100_000, None, ("nested too deeply",)),
    ('{"n": ' + "1" * 5000 + "}", None, ("not valid JSON",)),
])
def test_a_malformed_json_amendment_names_the_file_and_line(tmp_path: Path, text: str,
                                                            line: int | None,
                                                            words: tuple[str, ...]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError) as err:
        sv.load_table(path=path)
    assert "bad.json" in str(err.value) and err.value.line == line, str(err.value)
    for word in words:
        assert word in str(err.value)


def test_json_amendment_with_regions_that_differ_by_spaces_is_refused(tmp_path: Path) -> None:
    """"england" and "england " are one key to the model: the later would silently win."""
    data = _json_amendment(proxies={"jobs-local-fte": {"england": _wage(750.5),
                                                      "england ": _wage(760.0)}})
    path = tmp_path / "amendment.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="duplicate key 'england '") as err:
        sv.load_table(path=path)
    assert err.value.line == next(i for i, x in enumerate(
        path.read_text(encoding="utf-8").splitlines(), 1) if '"england "' in x)


def test_yaml_amendment_with_regions_that_differ_by_spaces_is_refused(tmp_path: Path) -> None:
    path = _amendment_file(tmp_path, extra="""\
    'england ':
      value: 39520.00
      source: buyer-ashe-check
      derivation:
        inputs: {median_weekly_pay_ft: 760.0, weeks_per_year: 52}
        formula: median_weekly_pay_ft * weeks_per_year
""")
    with pytest.raises(sv.ProxyTableError, match="duplicate key 'england '") as err:
        sv.load_table(path=path)
    assert (err.value.line, err.value.field) == (20, "proxies.jobs-local-fte.england ")


def test_amend_table_when_parameter_keys_differ_by_spaces_is_refused(base: sv.ProxyTable) -> None:
    """Dicts given in Python are checked too: the model would keep one of the two."""
    measure = {"code": "local-x", "theme": "social", "outcome": "o", "title": "t",
               "unit": "hour", "value_type": "social", "expression": "quantity * proxy * rate",
               "parameters": {"rate": 1.0, "rate ": 2.0},
               "proxies": {"uk": {"value": 11.0, "source": "buyer-ashe-check", "derivation": {
                   "inputs": {"x": 11.0}, "formula": "x"}}}}
    with pytest.raises(sv.ProxyTableError, match="'rate '") as err:
        sv.amend_table(base, version="x1", sources=[SOURCE], measures=[measure])
    assert err.value.field is not None and "parameters" in err.value.field


def test_json_amendment_with_a_number_for_text_says_how_to_quote_it(tmp_path: Path) -> None:
    path = tmp_path / "amendment.json"
    path.write_text(json.dumps(_json_amendment(notes=12), indent=1), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match='quote it \\("12"\\)') as err:
        sv.load_table(path=path)
    assert err.value.field == "notes"


@pytest.mark.parametrize(("extra", "match", "field", "at"), [
    # a fixed amount that can never be valued
    (_local_measure_yaml(expression="'0 - 5'"), "negative", "measures[0].expression",
     "expression:"),
    # another theme's prefix
    (_local_measure_yaml().replace("code: social-local-thing", "code: jobs-local-thing"),
     "but its code starts with 'jobs-'", "measures[0].code", "code: jobs-local-thing"),
])
def test_amendment_file_local_measure_refused_names_its_own_field_and_line(
        tmp_path: Path, extra: str, match: str, field: str, at: str) -> None:
    """An added measure refused for its expression or its code is named as the amendment
    lists it, at its own line, as other errors in added measures are."""
    path = _amendment_file(tmp_path, extra=extra)
    text = path.read_text(encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match=match) as err:
        sv.load_table(path=path)
    assert (err.value.field, err.value.line) == (field, line_of(text, at))


def test_a_local_measure_with_padded_code_or_region_key_is_read_stripped(
        base: sv.ProxyTable) -> None:
    """' local-x' and a region key 'uk ' were stripped by validation and then looked up
    unstripped: a raw KeyError. They are read as a table file reads them."""
    for measure in (_local_measure(code=" local-care-leaver-mentoring "),
                    _local_measure(proxies={"uk ": _local_measure()["proxies"]["uk"]})):
        table = sv.amend_table(base, version="2025-local.2", sources=[SOURCE],
                               measures=[measure])
        assert table.proxy("local-care-leaver-mentoring", "uk").value == 16.5


@pytest.mark.parametrize(("code", "theme", "ok"), [
    ("local-care-leaver-mentoring", "social", True),   # a prefix of the buyer's own
    ("social-care-leaver-mentoring", "social", True),  # its theme's prefix
    ("jobs-care-leaver-mentoring", "social", False),   # another theme's prefix
    ("innov-mentoring", "jobs", False),
])
def test_a_local_measure_code_may_not_carry_another_theme_s_prefix(
        base: sv.ProxyTable, code: str, theme: str, ok: bool) -> None:
    """Table files require each code to start with its theme's prefix; a local measure may
    use a prefix of its own, but never another theme's, which would read as that theme."""
    measure = _local_measure(code=code, theme=theme)
    if ok:
        sv.amend_table(base, version="2025-local.3", sources=[SOURCE], measures=[measure])
        return
    with pytest.raises(sv.ProxyTableError, match=f"has theme '{theme}', but its code starts "
                                                 "with") as info:
        sv.amend_table(base, version="2025-local.3", sources=[SOURCE], measures=[measure])
    assert info.value.field == "measures[0].code"


def test_a_local_measure_with_padded_code_is_recorded_stripped_in_the_notes(
        base: sv.ProxyTable) -> None:
    """The notes (part of the digest) named '\\tlocal-x\\n' while the measure was 'local-x':
    two amendments differing only in such spaces had different digests."""
    plain, padded = (sv.amend_table(base, version="2025-local.4", sources=[SOURCE],
                                    measures=[_local_measure(code=code)])
                     for code in ("local-care-leaver-mentoring",
                                  "\tlocal-care-leaver-mentoring\n"))
    assert "adds measure(s) local-care-leaver-mentoring." in (padded.spec.notes or "")
    assert padded.digest == plain.digest


@pytest.mark.parametrize(("old", "new", "error", "field"), [
    ("  jobs-local-fte:\n", "  jobs-local-ftee:\n", sv.UnknownMeasureError,
     "proxies.jobs-local-ftee"),
    ("    england:\n", "    cornwall:\n", sv.UnknownRegionError,
     "proxies.jobs-local-fte.cornwall")])
def test_amendment_file_of_an_unknown_measure_or_region_names_the_file_and_field(
        tmp_path: Path, old: str, new: str, error: type, field: str) -> None:
    path = _amendment_file(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(error) as info:
        sv.load_table(path=path)
    assert str(info.value).startswith(f"{path}: field {field}: unknown ")
    assert (info.value.details["path"], info.value.details["field"]) == (str(path), field)


def test_replacing_every_placeholder_leaves_an_edition_no_longer_illustrative(
        base: sv.ProxyTable) -> None:
    """The header said illustrative: true after all four placeholders were replaced with
    derived values; it follows the values, and the record says why."""
    def derived(value: float) -> dict[str, Any]:
        return {"value": value, "source": "buyer-ashe-check", "derivation": {
            "inputs": {"multiplier": value}, "formula": "multiplier"}}

    placeholders = [code for code, spec in base.measures.items()
                    if any(pv.illustrative for pv in spec.proxies.values())]
    assert base.spec.illustrative and len(placeholders) == 4
    some = sv.amend_table(base, version="2025-x.1", sources=[SOURCE], replace=True,
                          proxies={placeholders[0]: {"uk": derived(0.3)}})
    assert some.spec.illustrative  # three are left
    every = sv.amend_table(base, version="2025-x.2", sources=[SOURCE], replace=True,
                           proxies={code: {"uk": derived(0.3)} for code in placeholders})
    assert not every.spec.illustrative
    assert "every illustrative value of the base is replaced: none is left" in (
        every.spec.notes or "")
    # And back: an amendment of it that adds a placeholder is illustrative again.
    again = sv.amend_table(every, version="2025-x.3", proxies={"jobs-local-fte": {
        "england": {"value": 1.0, "source": "buyer-ashe-check", "illustrative": True,
                    "derivation": {"inputs": {"x": 1.0}, "formula": "x"}}}})
    assert again.spec.illustrative
    assert "it adds illustrative values" in (again.spec.notes or "")


def test_two_amendments_of_one_edition_used_together_say_to_merge_them(
        amended: sv.ProxyTable) -> None:
    base = sv.load_table("uk-national", version="2025")
    other = sv.amend_table(base, version="2025-example.9", proxies={
        "jobs-local-fte": {"wales": _wage(700.0, "ons-ashe-2025")}})
    with pytest.raises(sv.ProxyTableError, match="two amendments of one edition: put their "
                                                 "values in one amendment file"):
        sv.TableSet([amended, other])


def test_amendment_file_value_citing_an_unknown_source_names_its_own_line(
        tmp_path: Path) -> None:
    """The error named the merged edition's field (measures.jobs-local-fte.proxies...) and so
    the line of another entry; it names the amendment's own field and line."""
    path = _amendment_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace("      source: buyer-ashe-check\n",
                                                    "      source: nope\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=path)
    line = text.splitlines().index("      source: nope") + 1
    assert info.value.field is not None and info.value.field.startswith(
        "proxies.jobs-local-fte.england")
    assert info.value.line == line, (info.value.line, line, str(info.value))


def test_an_amendment_alone_says_how_to_value_dates_outside_it(amended: sv.ProxyTable) -> None:
    o = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01")
    hint = "uk-national:2025-example.1 amends one edition only: give it with the family's"
    with pytest.raises(sv.NoTableInForceError, match=hint):
        sv.value(o, amended)
    row = pd.DataFrame([{"measure": "jobs-local-fte", "quantity": 1.0, "unit": "FTE",
                         "region": "uk", "date": "2024-06-01"}])
    found = sv.value_frame(row, amended, errors="collect").attrs["issues"]
    assert hint in found["reason"].iloc[0]
    published = sv.load_table("uk-national", version="2024")
    assert sv.value(o, [published, amended]).version == "2024"  # with the family: valued


def test_valuation_by_an_amended_table_does_not_keep_it_once_its_trace_is_built(
        base: sv.ProxyTable) -> None:
    """A service keeping results of per-request tables keeps the tables only while the lazy
    trace still needs them (about 0.4 MB each)."""
    import gc
    import weakref

    table = sv.amend_table(base, version="2025-example.9", sources=[SOURCE],
                           proxies={"jobs-local-fte": {"England": _wage(750.5)}})
    kept = weakref.ref(table)
    v = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE",
                            region="england", date="2025-05-01"), table)
    del table
    gc.collect()
    assert kept() is not None  # the trace is not built yet: its builder needs the edition
    assert [s.rule for s in v.trace][:2] == [s.rule for s in v.steps][:2]
    gc.collect()
    assert kept() is None
    assert v.trace and "2025-example.9" in v.explain()


@pytest.mark.parametrize(("notes", "message"), [
    ({"stands_in_for": {"london": "x"}}, "stands_in_for names 'london', which has a value of "
     "its own for jobs-local-fte"),
    ({"stands_in_for": {"mars": "x"}}, "stands_in_for names unknown region 'mars'"),
    ({"applies_in": {"scotland": "x"}}, "applies_in names 'scotland', which has a value of "
     "its own"),
])
def test_an_amendments_own_region_notes_are_checked_as_a_tables_are(
        base: sv.ProxyTable, notes: dict[str, Any], message: str) -> None:
    """A diff review and a table author's: notes the amendment gives with its own values were
    pruned with the published ones, so a wrong one vanished without a word; they are checked
    as a table file's are, and only the published values' notes are pruned."""
    with pytest.raises(sv.ProxyTableError) as err:
        sv.amend_table(base, version="2025-example.2", sources=[SOURCE], replace=True,
                       proxies={"jobs-local-fte": {"uk": {**_wage(766.6), **notes}}})
    assert message in err.value.message
    kept = sv.amend_table(base, version="2025-example.2", sources=[SOURCE], replace=True,
                          proxies={"jobs-local-fte": {"uk": {
                              **_wage(766.6), "stands_in_for": {"wales": "checked"}}}})
    assert kept.measures["jobs-local-fte"].proxies["uk"].stands_in_for == {"wales": "checked"}
