"""Case files: expected valuations kept as data, run by sv.run_cases and `tables test`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import TINY, TINY_INDEX

import socialvalue_tom as sv
from socialvalue_tom import cases

EXAMPLE = Path(__file__).parent.parent / "examples" / "cases.yaml"
LONDON = "{measure: jobs-local-fte, quantity: 2, unit: FTE, region: london, date: 2024-09-30}"


def _file(tmp_path: Path, body: str, head: str = "tables: uk-national\n") -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(f"format: socialvalue_tom.cases/v1\n{head}cases:\n{body}", encoding="utf-8")
    return path


def _case(expect: str, outcome: str = LONDON, extra: str = "", name: str = "c") -> str:
    return f"  - name: {name}\n    outcome: {outcome}\n{extra}    expect: {expect}\n"


def test_the_example_cases_worked_out_by_hand_all_pass() -> None:
    """examples/cases.yaml holds docs/worked-examples.md's figures, worked out by hand."""
    results = sv.run_cases(EXAMPLE)
    assert len(results) == 9
    assert [r for r in results if not r.passed] == []
    assert results[0].got == "£70,668.00" and results[6].got == "unit-error"


@pytest.mark.parametrize(("expect", "got", "reason"), [
    ('{value_gbp: "70668.01"}', "£70,668.00", "valued at £70,668.00"),
    ('{value_gbp: "70668.00", version: "2023"}', "£70,668.00", "edition 2024, not 2023"),
    ('{value_gbp: "70668.00", region_used: uk}', "£70,668.00", "region used london, not uk"),
    ('{value_gbp: "70668.00", region_used: Scotland}', "£70,668.00",
     "region used london, not Scotland"),
    ('{value_gbp: "70668.00", trace_contains: [deadweight 0.5]}', "£70,668.00",
     "the trace does not say 'deadweight 0.5'"),
    ("{error: unit-error}", "£70,668.00", "valued, where an error was expected"),
])
def test_a_case_that_does_not_hold_says_what_came_instead(
        tmp_path: Path, expect: str, got: str, reason: str) -> None:
    [result] = sv.run_cases(_file(tmp_path, _case(expect)))
    assert (result.passed, result.got, result.reason) == (False, got, reason)


def test_an_error_other_than_the_one_expected_fails_with_its_message(tmp_path: Path) -> None:
    outcome = LONDON.replace("quantity: 2", "quantity: -2")
    [wrong] = sv.run_cases(_file(tmp_path, _case("{error: unit-error}", outcome)))
    assert (wrong.passed, wrong.expected, wrong.got) == (False, "unit-error", "negative")
    assert "greater than or equal to 0" in wrong.reason
    [valued] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "1.00"}', outcome)))
    assert (valued.passed, valued.got) == (False, "negative")
    # An error's own code serves as well as the row-issue code.
    unit = LONDON.replace("unit: FTE", "unit: hour")
    [by_class] = sv.run_cases(_file(tmp_path, _case("{error: unit-error}", unit)))
    assert by_class.passed


def test_assumptions_of_the_file_and_of_a_case_apply_the_case_s_last(tmp_path: Path) -> None:
    carbon = ("{measure: env-carbon-saved, quantity: 2500, unit: kgCO2e, region: wales, "
              "date: 2024-09-30, confidence: '3'}")
    body = (_case('{value_gbp: "621.13"}', carbon)
            + _case('{value_gbp: "601.64"}', carbon, "    assumptions: {price_year: 2024}\n",
                    name="d"))
    results = sv.run_cases(_file(tmp_path, body, "assumptions: {price_year: 2025}\n"))
    assert [r.passed for r in results] == [True, True]


def test_tables_may_be_an_edition_or_a_table_file_beside_the_case_file(tmp_path: Path) -> None:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    tiny = sv.load_table(path=TINY)
    outcome = "{measure: jobs-local, quantity: 2, unit: FTE, region: uk, date: 2024-09-30}"
    want = sv.value(sv.Outcome(measure="jobs-local", quantity=2, unit="FTE", region="uk",
                               date="2024-09-30"), tiny).amount
    [own] = sv.run_cases(_file(tmp_path, _case(f'{{value_gbp: "{want:.2f}"}}', outcome),
                               "tables: tiny.yaml\n"))
    assert own.passed, own
    [pinned] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00", version: "2024"}'),
                                  "tables: uk-national:2024\n"))
    assert pinned.passed, pinned
    with pytest.raises(sv.UnknownTableError):
        sv.run_cases(_file(tmp_path, _case('{value_gbp: "1.00"}'), "tables: no-such-family\n"))


@pytest.mark.parametrize(("body", "words"), [
    (_case('{value_gbp: "70668.001"}'), "fractions of a penny"),
    (_case('{value_gbp: "1.00", error: negative}'), "one of the two"),
    (_case("{}"), "one of the two"),
    (_case("{error: negative, version: '2024'}"), "has no edition, region or trace"),
    (_case('{value_gbp: "1.00", colour: red}'), "colour"),
])
def test_a_malformed_case_file_is_refused_naming_its_line_and_field(
        tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(sv.ProxyTableError, match=words) as info:
        sv.run_cases(_file(tmp_path, body))
    assert info.value.line is not None and info.value.field.startswith("cases[0].expect")


def test_a_case_file_with_no_case_is_refused_and_fields_reach_both_engines(
        tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    path.write_text("format: socialvalue_tom.cases/v1\ncases: []\n", encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="lists no case"):
        sv.run_cases(path)
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    outcome = ("{measure: jobs-apprentice, quantity: 10, unit: week, region: uk, "
               "date: 2024-09-30, fields: {level: 3}}")
    [leveled] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "3000.00"}', outcome),
                                   "tables: tiny.yaml\n"))
    assert leveled.passed, leveled


def test_two_cases_of_one_name_are_refused(tmp_path: Path) -> None:
    body = _case('{value_gbp: "1.00"}') * 2
    with pytest.raises(sv.ProxyTableError, match="case name\\(s\\) given twice: 'c'"):
        sv.run_cases(_file(tmp_path, body))


def test_a_case_file_without_its_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("cases:\n" + _case('{value_gbp: "1.00"}'), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="format"):
        sv.run_cases(path)


def test_a_case_fails_where_the_bulk_engine_disagrees_with_the_scalar_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case is valued both ways: a file of returns must give what one outcome gives."""
    def off_by_a_penny(*args: Any, **kwargs: Any) -> pd.DataFrame:
        out = sv.value_frame(*args, **kwargs)
        return out.assign(value_gbp=out["value_gbp"] + 0.01)

    monkeypatch.setattr(cases, "value_frame", off_by_a_penny)
    [result] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}')))
    assert not result.passed
    assert result.reason == "value_frame gives 70668.01, the scalar engine 70668.0"


def test_the_case_file_shown_in_the_docs_passes(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "proxies.md").read_text(encoding="utf-8")
    block = doc.split("## Case files", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "doc.yaml"
    path.write_text(block, encoding="utf-8")
    results = sv.run_cases(path)
    assert len(results) == 2 and all(r.passed for r in results), results


AMENDMENT = """\
format: socialvalue_tom.amendment/v1
amends: uk-national:2025
version: 2025-example.1
sources:
- {id: buyer-check, title: ASHE figure checked by the buyer, publisher: Example Council,
   year: 2025, url: https://example.org/ashe, licence: OGL-3.0}
proxies:
  jobs-local-fte:
    england:
      value: 39026.00
      source: buyer-check
      derivation:
        inputs: {median_weekly_pay_ft: 750.5, weeks_per_year: 52}
        formula: median_weekly_pay_ft * weeks_per_year
"""


def test_tables_name_a_family_with_an_amendment_in_place_as_the_command_line_does(
        tmp_path: Path) -> None:
    """A case-file review: a buyer who amends an edition tests it beside its family (the
    other years' editions still in force), as `--tables uk-national,amend.yaml` values."""
    (tmp_path / "amend.yaml").write_text(AMENDMENT, encoding="utf-8")
    england = "{measure: jobs-local-fte, quantity: 1, unit: FTE, region: england, date: %s}"
    body = (_case('{value_gbp: "29269.50", version: 2025-example.1, region_used: england}',
                  england % "2025-09-30")  # 39,026.00 x (1 - 0.25)
            + _case('{value_gbp: "28392.00", version: "2024", region_used: uk}',
                    england % "2024-09-30", name="d"))  # 37,856.00 x (1 - 0.25)
    for head in ("tables: [uk-national, amend.yaml]\n", "tables: uk-national, amend.yaml\n"):
        results = sv.run_cases(_file(tmp_path, body, head))
        assert [r.passed for r in results] == [True, True], results
    pin = sv.load_table("uk-national", version="2024").digest
    [pinned] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}'),
                                  f"tables: uk-national:2024@{pin[:16]}\n"))
    assert pinned.passed
    with pytest.raises(sv.TableIntegrityError):
        sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}'),
                           f"tables: uk-national:2024@{'0' * 16}\n"))
    with pytest.raises(sv.ProxyTableError, match="a digest pins one edition") as info:
        sv.run_cases(_file(tmp_path, _case('{value_gbp: "1.00"}'),
                           f"tables: uk-national@{pin[:16]}\n"))
    assert info.value.field == "tables"


@pytest.mark.parametrize(("body", "head", "field", "words"), [
    (_case('{value_gbp: "7.0668e26"}'), "", "cases[0].expect", "beyond what a valuation"),
    (_case("{value_gbp: '1.00', trace_contains: ['  ']}"), "",
     "cases[0].expect.trace_contains[0]", "at least 1 character"),
    (_case("{error: outcome-error}"), "", "cases[0].expect", "the code of many problems"),
    (_case("{error: proxy-table-error}"), "", "cases[0].expect", "the code of many problems"),
    (_case('{value_gbp: "-7.0668e26"}'), "", "cases[0].expect", "beyond what a valuation"),
    (_case("{value_gbp: .nan}"), "", "cases[0].expect.value_gbp", "finite number"),
    (_case("{value_gbp: '-Infinity'}"), "", "cases[0].expect.value_gbp", "finite number"),
    (_case('{value_gbp: "1.00"}'), "assumptions: {price_yeer: 2025}\n", "assumptions",
     "price_yeer"),
    (_case('{value_gbp: "1.00"}', extra="    assumptions: {bound: worst}\n"), "",
     "cases[0].assumptions", "worst"),
])
def test_a_case_that_could_pass_on_anything_is_refused_with_its_field(
        tmp_path: Path, body: str, head: str, field: str, words: str) -> None:
    """A case-file review: a trace text that every trace holds, an error code many problems
    share, or a misspelt setting failing every case alike, let a case pass (or fail) for
    the wrong reason; a figure past what money holds crashed."""
    with pytest.raises(sv.ProxyTableError, match=words) as info:
        sv.run_cases(_file(tmp_path, body, "tables: uk-national\n" + head))
    assert info.value.field == field
    assert "more problem" not in info.value.message  # one problem, told once


def test_a_case_without_a_unit_is_valued_in_the_canonical_unit_both_ways(tmp_path: Path) -> None:
    outcome = "{measure: jobs-local-fte, quantity: 2, region: london, date: 2024-09-30}"
    [result] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}', outcome)))
    assert result.passed, result


def test_an_error_case_fails_where_the_bulk_engine_does_not_give_that_issue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_issues(*args: Any, **kwargs: Any) -> pd.DataFrame:
        out = sv.value_frame(*args, **kwargs)
        out.attrs["issues"] = out.attrs["issues"].iloc[:0]
        return out

    outcome = LONDON.replace("quantity: 2", "quantity: -2")
    [agreed] = sv.run_cases(_file(tmp_path, _case("{error: negative}", outcome)))
    assert agreed.passed
    monkeypatch.setattr(cases, "value_frame", no_issues)
    [result] = sv.run_cases(_file(tmp_path, _case("{error: negative}", outcome)))
    assert (result.passed, result.reason) == (False, "value_frame gives no issue")


def test_tables_test_command_exits_by_the_cases(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["tables", "test", str(EXAMPLE)])
    assert ok.exit_code == 0, ok.output
    assert "9 of 9 case(s) passed" in ok.stdout
    failing = _file(tmp_path, _case('{value_gbp: "1.00"}'))
    bad = runner.invoke(app, ["tables", "test", str(failing)])
    assert bad.exit_code == 1 and "0 of 1 case(s) passed" in bad.stdout
    assert "FAIL: valued at £70,668.00" in " ".join(bad.stdout.split())
    missing = runner.invoke(app, ["tables", "test", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    malformed = runner.invoke(app, ["tables", "test", str(_file(tmp_path, _case("{}")))])
    assert malformed.exit_code == 2 and "one of the two" in malformed.stderr
    assert "problems:" not in malformed.stderr  # one problem, told as it is
    # Every problem of the file's format on a line of its own, as tables validate lists them.
    two = _file(tmp_path, _case("{}") + _case("{value_gbp: '1.001'}", name="d"))
    both = runner.invoke(app, ["tables", "test", str(two)])
    assert both.exit_code == 2 and ": 2 problems:" in both.stderr, both.stderr
    assert "one of the two" in both.stderr and "fractions of a penny" in both.stderr
    # Past the fifty listed, the rest are counted.
    many = _file(tmp_path, "".join(_case("{}", name=f"c{i}") for i in range(53)))
    counted = runner.invoke(app, ["tables", "test", str(many)])
    assert counted.exit_code == 2 and ": 53 problems:" in counted.stderr
    assert counted.stderr.count("one of the two") == 50
    assert "\n  (and 3 more)\n" in counted.stderr, counted.stderr
    one_more = _file(tmp_path, "".join(_case("{}", name=f"c{i}") for i in range(51)))
    assert "\n  (and 1 more)\n" in runner.invoke(app, ["tables", "test", str(one_more)]).stderr


def test_the_largest_valuation_and_a_list_of_tables_with_a_stray_comma_are_accepted(
        tmp_path: Path) -> None:
    """The bounds of the format, from a mutation review: GBP 1e12 (what one outcome may be
    valued at) is a figure a case may expect, and a trailing comma in ``tables`` names
    nothing more; a ``tables`` of commas alone names nothing."""
    [largest] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "1000000000000.00"}')))
    assert (largest.passed, largest.reason) == (False, "valued at £70,668.00")
    [listed] = sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}'),
                                  'tables: "uk-national, "\n'))
    assert listed.passed, listed
    with pytest.raises(sv.ProxyTableError, match="tables names no table") as info:
        sv.run_cases(_file(tmp_path, _case('{value_gbp: "1.00"}'), 'tables: " , "\n'))
    assert info.value.field == "tables"


def test_a_table_file_covering_part_of_a_family_edition_is_refused_at_tables(
        tmp_path: Path) -> None:
    """As on the command line: a file valid 2024-10-01..2025-09-30 beside its family would
    leave part of two editions' dates to neither, so the case file is refused at ``tables``,
    naming both."""
    from socialvalue_tom.tables.catalogue import embedded_dir

    text = (embedded_dir() / "uk-national" / "2024.yaml").read_text(encoding="utf-8")
    for old, new in (("\nversion: '2024'", "\nversion: '2024h2'"),
                     ("\nvalid_from: 2024-04-01", "\nvalid_from: 2024-10-01"),
                     ("\nvalid_to: 2025-03-31", "\nvalid_to: 2025-09-30"),
                     ("\nreview_by: 2025-03-31", "\nreview_by: 2025-09-30")):
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / "shifted.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="covers only part of") as info:
        sv.run_cases(_file(tmp_path, _case('{value_gbp: "70668.00"}'),
                           "tables: [uk-national, shifted.yaml]\n"))
    assert info.value.field == "tables"
    assert "uk-national:2024 (2024-04-01..2025-03-31)" in info.value.message


def test_run_cases_leaves_the_process_warning_filters_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An integrator's review: run_cases silenced IllustrativeValueWarning with
    warnings.catch_warnings, which changes the filters of every thread while it runs (a
    service's 'error' guard let placeholders through in its other workers). The warnings of
    its cases are collected in its own context instead: an illustrative case passes under the
    guard, and the filters the run sees are the caller's."""
    import warnings

    spend = "{measure: growth-local-spend, quantity: 1000, unit: GBP, region: uk, date: 2024-06-01}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        amount = sv.value(sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP",
                                     region="uk", date="2024-06-01"), "uk-national").pounds
    path = _file(tmp_path, _case(f'{{value_gbp: "{amount}"}}', outcome=spend))
    seen: list[list[Any]] = []
    real = cases._run

    def spy(*args: Any) -> Any:
        seen.append(list(warnings.filters))
        return real(*args)

    monkeypatch.setattr(cases, "_run", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.IllustrativeValueWarning)
        guard = list(warnings.filters)
        [result] = sv.run_cases(path)
        assert result.passed, result.reason
        assert seen == [guard]
        with pytest.raises(sv.IllustrativeValueWarning):  # the guard still holds after it
            sv.value(sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP",
                                region="uk", date="2024-06-01"), "uk-national")


@pytest.mark.parametrize(("outcome", "expect", "phrase"), [
    ("{measure: jobs-local-fte, qty: 2, unit: FTE, region: london, date: 2024-09-30}",
     "{error: missing}", "outcome has no field 'qty'; did you mean quantity?"),
    ("{measure: jobs-local-fte, quantity: 2, unit: FTE, region: london, date: 2024-09-30, "
     "level: 3}", '{value_gbp: "70668.00"}', "outcome has no field 'level'; a field a measure "
     "requires or uses goes in fields"),
    (LONDON, "{error: unit_error}", "error 'unit_error' is no error code; did you mean "
     "unit-error?"),
])
def test_a_case_file_names_an_unknown_outcome_key_or_error_code_as_it_is_read(
        tmp_path: Path, outcome: str, expect: str, phrase: str) -> None:
    """A table author's review: 'qty' failed only when run, as the code 'missing' (which a case
    expecting that error passed on), 'level' beside the outcome's fields likewise, and a
    misspelt error code only failed. Refused as the file is read, with line and field; the
    schema names an outcome's fields too."""
    import jsonschema
    import yaml

    path = _file(tmp_path, _case(expect, outcome=outcome))
    with pytest.raises(sv.ProxyTableError, match=re.escape(phrase)) as info:
        sv.run_cases(path)
    assert info.value.line is not None and info.value.field == (
        "cases[0].expect.error" if "unit_error" in expect else
        f"cases[0].outcome.{phrase.split(chr(39))[1]}")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "unit_error" not in expect:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, sv.json_schema("cases"))


def test_a_case_names_the_region_used_as_an_outcome_names_a_region(tmp_path: Path) -> None:
    """A table author's review: region_used: London failed against london, where an outcome's
    region is read in any case."""
    [result] = sv.run_cases(_file(tmp_path, _case(
        '{value_gbp: "70668.00", region_used: " London "}')))
    assert result.passed, result.reason
    # By name, as a region's name reads (Wales falls back to the United Kingdom's value).
    wales = "{measure: env-carbon-saved, quantity: 2, unit: tCO2e, region: wales, date: 2024-09-30}"
    value = sv.value(sv.Outcome(measure="env-carbon-saved", quantity=2, unit="tCO2e",
                                region="wales", date="2024-09-30"), "uk-national").pounds
    for named in ("United Kingdom", "UK", "united_kingdom", "K02000001"):
        [by_name] = sv.run_cases(_file(tmp_path, _case(
            f'{{value_gbp: "{value}", region_used: "{named}"}}', outcome=wales)))
        assert by_name.passed, (named, by_name.reason)
    # By its GSS code, as an outcome may name it (a review: E12000007 failed against london).
    [by_code] = sv.run_cases(_file(tmp_path, _case(
        '{value_gbp: "70668.00", region_used: E12000007}')))
    assert by_code.passed, by_code.reason
    [wrong] = sv.run_cases(_file(tmp_path, _case(
        '{value_gbp: "70668.00", region_used: W92000004}')))
    assert not wrong.passed and "region used london, not W92000004" in wrong.reason
