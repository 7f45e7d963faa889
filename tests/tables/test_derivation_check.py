"""A table's derivations must give the values they derive, at load (user tables included)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import socialvalue_tom as sv

TINY = Path(__file__).parent.parent / "data" / "tables" / "tiny.yaml"
LONDON = "      london: {value: 30000.00, source: test-source, illustrative: true}"


def _with_london(tmp_path: Path, proxy: str) -> Path:
    index = TINY.with_name("tiny-deflator.index.yaml")
    (tmp_path / index.name).write_text(index.read_text(encoding="utf-8"), encoding="utf-8")
    text = TINY.read_text(encoding="utf-8")
    assert LONDON in text
    path = tmp_path / "t.yaml"
    path.write_text(text.replace(LONDON, f"      london: {proxy}"), encoding="utf-8")
    return path


def test_a_derivation_that_gives_its_value_loads(tmp_path: Path) -> None:
    path = _with_london(tmp_path, "{value: 29999.84, source: test-source, derivation: "
                                  "{inputs: {weekly: 576.92, weeks: 52}, "
                                  "formula: weekly * weeks}}")
    assert sv.load_table(path=path).proxy("jobs-local", "london").value == 29999.84


@pytest.mark.parametrize(("proxy", "match"), [
    ("{value: 30000.00, source: test-source, derivation: {inputs: {weekly: 576.92, weeks: 52}, "
     "formula: weekly * weeks}}", "formula gives 29999.84 from its inputs, but the value is"),
    ("{value: 30000.00, source: test-source, derivation: {inputs: {x: 30000, y: 0}, "
     "formula: x / y}}", "formula gives inf"),
    ("{value: 30000.00, source: test-source, derivation: {inputs: {x: 30000}, formula: x, "
     "low_formula: x / 2}}", "low_formula is given but the proxy has no low"),
    # A table author's review: both loaded (a figure recorded and never used; a comparison
    # stored as 1.00).
    ("{value: 30000.00, source: test-source, derivation: {inputs: {x: 30000, extra: 3}, "
     "formula: x}}", r"derivation input\(s\) 'extra' are read by no formula"),
    ("{value: 1.00, source: test-source, derivation: {inputs: {a: 1, b: 2}, "
     "formula: a < b}}", r"formula 'a < b' gives true or false \(1 or 0\), not an amount"),
])
def test_a_derivation_that_drifted_from_its_value_is_refused_naming_the_field(
        tmp_path: Path, proxy: str, match: str) -> None:
    with pytest.raises(sv.ProxyTableError, match=match) as err:
        sv.load_table(path=_with_london(tmp_path, proxy))
    assert err.value.field.startswith("measures[0].proxies.london.derivation")
    assert f"field {err.value.field} (jobs-local):" in str(err.value)  # named by its code


def test_input_sources_name_the_source_of_an_input_and_show_in_the_trace(
        tmp_path: Path) -> None:
    """A data audit: the Universal Credit rate in a priority hire's value and the deflator in
    a carbon value were cited in notes alone. A derivation names the source of an input
    another source published (input_sources), the trace names it beside the figure, and a
    table without input_sources keeps the digest it had before they existed."""
    proxy = ("{value: 29999.84, source: test-source, derivation: {inputs: {weekly: 576.92, "
             "weeks: 52}, formula: weekly * weeks, input_sources: {weeks: test-source}}}")
    table = sv.load_table(path=_with_london(tmp_path, proxy))
    derivation = table.measure("jobs-local").proxies["london"].derivation
    assert derivation is not None and dict(derivation.input_sources or {}) == {
        "weeks": "test-source"}
    o = sv.Outcome(measure="jobs-local", quantity=1, region="london", date="2024-06-01")
    proxy_step = next(s.detail for s in sv.value(o, table).trace if s.rule == "proxy")
    assert proxy_step.endswith("with weekly = 576.92, weeks = 52 (test-source)")
    bare = proxy.replace(", input_sources: {weeks: test-source}", "")
    empty = proxy.replace("{weeks: test-source}", "{}")
    digests = {sv.load_table(path=_with_london(tmp_path, p)).digest for p in (bare, empty)}
    assert len(digests) == 1 and table.digest not in digests


@pytest.mark.parametrize(("sources", "match", "field"), [
    ("{days: test-source}", "input_sources names 'days', which is not one of the derivation's "
     "inputs (weekly, weeks)", "measures[0].proxies.london.derivation.input_sources.days"),
    ("{weeks: nowhere-stats}", "region 'london': derivation input 'weeks' cites unknown source "
     "'nowhere-stats'", "measures[0].proxies.london.derivation.input_sources.weeks"),
])
def test_input_sources_refused_for_an_input_or_a_source_the_table_lacks(
        tmp_path: Path, sources: str, match: str, field: str) -> None:
    proxy = ("{value: 29999.84, source: test-source, derivation: {inputs: {weekly: 576.92, "
             f"weeks: 52}}, formula: weekly * weeks, input_sources: {sources}}}}}")
    with pytest.raises(sv.ProxyTableError, match=re.escape(match)) as err:
        sv.load_table(path=_with_london(tmp_path, proxy))
    assert err.value.field == field
