"""diff_tables: what changed between two editions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from conftest import tiny_variant

import socialvalue_tom as sv
from socialvalue_tom.tables.diff import DIFF_COLUMNS, diff_tables

TINY = Path(__file__).parent.parent / "data" / "tables" / "tiny.yaml"
ROOT = Path(__file__).resolve().parents[2]


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
    ("mode: count_once", "mode: reject",
     [("table", "", "", "exclusions (changed: priority-within-local)")]),
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


def test_diff_tables_real_change_takes_the_new_prices_back_to_the_old_ones(
        tmp_path: Path) -> None:
    """A journalist's review: between editions a year apart, pct_change is mostly inflation
    (+5.3% on the UK wage proxy, 2024 to 2025), which read as a real rise. real_pct_change
    states the new value in the old edition's prices with the index, worked here from the
    index file's own figures."""
    old, new = (sv.load_table("uk-national", version=v) for v in ("2024", "2025"))
    row = diff_tables(old, new).set_index(["measure", "region"]).loc[("jobs-local-fte", "uk")]
    index = yaml.safe_load((ROOT / "proxies" / "indices" / "uk-gdp-deflator.yaml").read_text(
        encoding="utf-8"))["values"]
    in_old_prices = 39863.20 * index[2024] / index[2025]
    assert row["pct_change"] == pytest.approx((39863.20 - 37856.0) / 37856.0 * 100)
    assert row["real_pct_change"] == pytest.approx((in_old_prices - 37856.0) / 37856.0 * 100)
    assert 1.9 < row["real_pct_change"] < 2.1 < 5.2 < row["pct_change"]
    # A value only uplifted by the index (20000 x 102.5 / 100) has not changed in real terms.
    uplifted = sv.load_table(path=tiny_variant(
        tmp_path / "uplift", ("price_base_year: 2024", "price_base_year: 2025"),
        ("uk: {value: 20000.00, low: 15000.00", "uk: {value: 20500.00, low: 15000.00")))
    row = diff_tables(sv.load_table(path=TINY), uplifted).set_index(
        ["measure", "region"]).loc[("jobs-local", "uk")]
    assert row["pct_change"] == pytest.approx(2.5) and row["real_pct_change"] == pytest.approx(0)
    # One price base: real is nominal.
    same = sv.load_table(path=tiny_variant(
        tmp_path / "same", ("uk: {value: 20000.00, low: 15000.00",
                            "uk: {value: 22000.00, low: 15000.00")))
    row = diff_tables(sv.load_table(path=TINY), same).iloc[0]
    assert row["real_pct_change"] == row["pct_change"] == pytest.approx(10.0)


def test_diff_tables_real_change_is_blank_where_no_index_has_both_years(
        tmp_path: Path) -> None:
    """No index of either edition covers 2024 and 2026: no real change is made up."""
    folder = tmp_path / "other"
    path = tiny_variant(folder, ("price_base_year: 2024", "price_base_year: 2026"),
                        ("price_index: tiny-deflator", "price_index: other"))
    (folder / "other.index.yaml").write_text(
        "format: socialvalue_tom.index/v1\nname: other\ntitle: Other\nbasis: financial-year\n"
        "reference_year: 2026\npublished: 2026-01-01\nsource: {id: s, title: S, publisher: P, "
        "year: 2026, url: 'https://example.org/s', licence: CC0-1.0}\n"
        "values: {2026: 100.0, 2027: 101.0}\n", encoding="utf-8")
    d = diff_tables(sv.load_table(path=TINY), sv.load_table(path=path))
    assert "price_base_year (2024 -> 2026)" in d.iloc[0]["fields_changed"]
    assert "price_index (tiny-deflator -> other)" in d.iloc[0]["fields_changed"]
    assert d["real_pct_change"].isna().all()


def test_diff_tables_names_the_sources_each_value_cites_and_which_came_and_went() -> None:
    """A journalist's review: 'source' was listed as changed with no word of which source,
    and the table row said 'price_base_year, sources' without the years or the ids."""
    old, new = (sv.load_table("uk-national", version=v) for v in ("2024", "2025"))
    d = diff_tables(old, new)
    table = d.iloc[0]["fields_changed"]
    assert table.startswith("price_base_year (2024 -> 2025), sources (added: ")
    assert "removed: dwp-benefit-rates-2024, " in table and "changed: desnz-carbon-values)" in table
    rows = d.set_index(["measure", "region"])
    assert tuple(rows.loc[("env-waste-recycled", "scotland"), ["old_source", "new_source"]]) == (
        "scot-slft-2024", "scot-slft-2025")
    # Wales falls back to the UK value in 2024: the source is the UK value's, as the value is.
    wales = diff_tables(sv.load_table("uk-national", version="2023"), old).set_index(
        ["measure", "region"]).loc[("jobs-local-fte", "wales")]
    assert (wales["old_source"], wales["new_source"]) == ("wg-ashe-2023", "ons-ashe-2024")


def test_diff_tables_names_what_in_a_derivation_changed(tmp_path: Path) -> None:
    """A journalist's review: every wage proxy read 'derivation' changed, whether the
    published median moved or the method did. The inputs whose figure changed are named,
    and a formula that changed."""
    old, new = (sv.load_table("uk-national", version=v) for v in ("2024", "2025"))
    rows = diff_tables(old, new).set_index(["measure", "region"])["fields_changed"]
    assert rows[("jobs-local-fte", "london")] == (
        "notes, value, source, derivation (inputs: median_weekly_pay_ft)")
    # The allowance is another source's figure: that source changed too (dwp-...-2025).
    assert ("derivation (inputs: median_weekly_pay_ft, uc_standard_allowance_monthly; "
            "input_sources)") in rows[("jobs-priority-ltu", "uk")]
    assert "derivation (inputs: central_2020_prices, gdp_deflator_price_base, " in rows[
        ("env-carbon-saved", "uk")]  # the DESNZ value and the year it is uplifted to
    # The same value by another formula: the formula is named, and no input.
    a = sv.amend_table(old, version="a.1", proxies={"jobs-local-fte": {"wales": {
        "value": 100.0, "source": "ons-ashe-2024", "derivation": {
            "inputs": {"weekly": 50, "weeks": 2}, "formula": "weekly * weeks"}}}})
    b = sv.amend_table(old, version="a.2", proxies={"jobs-local-fte": {"wales": {
        "value": 100.0, "source": "ons-ashe-2024", "derivation": {
            "inputs": {"weekly": 50, "weeks": 2}, "formula": "weeks * weekly"}}}})
    row = diff_tables(a, b).set_index(["measure", "region"]).loc[("jobs-local-fte", "wales")]
    assert row["fields_changed"] == "derivation (formula)" and row["pct_change"] == 0.0
