"""diff_tables: what changed between two editions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import tiny_variant

import socialvalue_tom as sv
from socialvalue_tom.tables.diff import DIFF_COLUMNS, diff_tables

TINY = Path(__file__).parent.parent / "data" / "tables" / "tiny.yaml"


@pytest.fixture
def edited(tmp_path: Path) -> sv.ProxyTable:
    """tiny.yaml with jobs-local uk +10%, env-carbon's unit and source text, and changes."""
    index = TINY.with_name("tiny-deflator.index.yaml")
    (tmp_path / index.name).write_text(index.read_text(encoding="utf-8"), encoding="utf-8")
    text = TINY.read_text(encoding="utf-8")
    text = text.replace("uk: {value: 20000.00, low: 15000.00",
                        "uk: {value: 22000.00, low: 15000.00")
    text = text.replace(
        "      london: {value: 30000.00, source: test-source, illustrative: true}\n", "")
    text = text.replace("    title: Carbon saved\n    unit: tCO2e", "    title: Carbon saved\n"
                        "    unit: kgCO2e")
    text = text.replace("      scotland: {value: 14.50, source: test-source, illustrative: true}",
                        "      scotland: {value: 14.50, source: test-source, illustrative: true}\n"
                        "      london: {value: 16.00, source: test-source, illustrative: true}")
    path = tmp_path / "tiny-2.yaml"
    path.write_text(text, encoding="utf-8")
    return sv.load_table(path=path)


def test_diff_tables_when_identical_then_empty() -> None:
    """No differences: an empty frame with the documented columns."""
    t = sv.load_table(path=TINY)
    d = diff_tables(t, t)
    assert d.empty and list(d.columns) == DIFF_COLUMNS


def test_diff_tables_when_edited_then_each_change_listed(edited: sv.ProxyTable) -> None:
    """Value change with percentage, removed and added regions, a measure field change."""
    d = diff_tables(sv.load_table(path=TINY), edited).set_index(["measure", "region"])
    row = d.loc[("jobs-local", "uk")]
    assert row["change"] == "changed"
    assert (row["old_value"], row["new_value"]) == (20000.0, 22000.0)
    assert row["pct_change"] == pytest.approx(10.0)
    assert row["fields_changed"] == "value"
    assert (row["old_region_used"], row["new_region_used"]) == ("uk", "uk")
    # london loses its own value: it now gets the uk value (via england), and the diff says so
    removed = d.loc[("jobs-local", "london")]
    assert removed["change"] == "removed"
    assert (removed["old_value"], removed["new_value"]) == (30000.0, 22000.0)
    assert (removed["old_region_used"], removed["new_region_used"]) == ("london", "uk")
    assert removed["pct_change"] == pytest.approx(-26.6666667)
    added = d.loc[("social-volunteering", "london")]
    assert added["change"] == "added" and added["new_value"] == 16.0
    assert added["old_region_used"] != "london" and added["new_region_used"] == "london"
    unit = d.loc[("env-carbon", "uk")]
    assert unit["fields_changed"] == "unit"
    assert unit["pct_change"] == 0.0
    assert len(d) == 4


def test_diff_tables_when_measure_removed_then_row_per_region() -> None:
    """Diffing the other way round reports the reverse changes."""
    t = sv.load_table(path=TINY)
    uk = sv.load_table("uk-national", version="2024")
    d = diff_tables(t, uk)
    assert set(d["change"]) >= {"added", "removed"}
    gone = d[(d["measure"] == "jobs-local") & (d["change"] == "removed")]
    assert sorted(gone["region"]) == ["london", "uk"]


def test_diff_tables_when_region_value_dropped_then_fallback_value_shown() -> None:
    """Wales has its own wage proxy in 2023 only: 2024 values it at the UK median."""
    d = diff_tables(sv.load_table("uk-national", version="2023"),
                    sv.load_table("uk-national", version="2024")).set_index(["measure", "region"])
    wales = d.loc[("jobs-local-fte", "wales")]
    assert wales["change"] == "removed"
    assert (wales["old_value"], wales["new_value"]) == (32952.4, 37856.0)
    assert (wales["old_region_used"], wales["new_region_used"]) == ("wales", "uk")


def test_diff_tables_when_measure_absent_then_no_value_and_no_region_used() -> None:
    t = sv.load_table(path=TINY)
    d = diff_tables(t, sv.load_table("uk-national", version="2024"))
    gone = d[(d["measure"] == "jobs-local") & (d["region"] == "uk")].iloc[0]
    assert math.isnan(gone["new_value"]) and gone["new_region_used"] == ""
    assert math.isnan(gone["pct_change"])


def test_diff_tables_when_a_proxy_was_zero_then_changed_with_no_percentage(
        tmp_path: Path) -> None:
    """A change from 0 has no percentage (NaN, as documented), never a ZeroDivisionError."""
    zero = sv.load_table(path=tiny_variant(
        tmp_path, ("uk: {value: 250.00, source: test-source, illustrative: true}",
                   "uk: {value: 0.00, source: test-source, illustrative: true}")))
    d = diff_tables(zero, sv.load_table(path=TINY))
    assert d[["change", "measure", "region", "old_value", "new_value"]].values.tolist() == [
        ["changed", "env-carbon-added", "uk", 0.0, 250.0]]
    assert math.isnan(d["pct_change"].iloc[0])


@pytest.mark.parametrize(("old", "new", "rows"), [
    # A rule of the table: one "table" row naming it.
    ("mode: count_once", "mode: reject", [("table", "", "", "exclusions")]),
    # A field of a measure: a row per region of it, naming the field, the value unchanged.
    ("deadweight: 0.1", "deadweight: 0.2", [("changed", "jobs-local", "london", "deadweight"),
                                            ("changed", "jobs-local", "uk", "deadweight")]),
])
def test_diff_tables_when_a_rule_or_a_measure_field_changes_then_listed(
        tmp_path: Path, old: str, new: str, rows: list[tuple[str, str, str, str]]) -> None:
    d = diff_tables(sv.load_table(path=TINY),
                    sv.load_table(path=tiny_variant(tmp_path, (old, new))))
    got = d[["change", "measure", "region", "fields_changed"]].fillna("")
    assert [tuple(r) for r in got.values.tolist()] == rows
    changed = d[d["change"] == "changed"]
    assert (changed["pct_change"] == 0.0).all()


def test_a_regional_value_removed_names_proxies_beside_the_measure_fields() -> None:
    """An analyst's review: Wales's own wage values, dropped in 2024 (it falls back to the UK
    figure, £32,952.40 -> £37,856.00), listed only 'notes' as changed."""
    old, new = (sv.load_table("uk-national", version=v) for v in ("2023", "2024"))
    diff = sv.diff_tables(old, new)
    row = diff[(diff["measure"] == "jobs-local-fte") & (diff["region"] == "wales")]
    assert row[["change", "new_region_used", "fields_changed"]].values.tolist() == [
        ["removed", "uk", "notes, proxies"]]
