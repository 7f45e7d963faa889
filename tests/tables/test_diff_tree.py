"""diff_tables: changes that reach a region through fallback, and table-level changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TINY, TINY_INDEX

import socialvalue_tom as sv


def _edited(tmp_path: Path, old: str, new: str) -> sv.ProxyTable:
    index = TINY.with_name("tiny-deflator.index.yaml")
    (tmp_path / index.name).write_text(index.read_text(encoding="utf-8"), encoding="utf-8")
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return sv.load_table(path=path)


@pytest.fixture
def tiny() -> sv.ProxyTable:
    return sv.load_table(path=TINY)


def test_diff_when_a_region_moves_in_the_tree_lists_its_new_fallbacks(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """Scotland re-parented under London now gets London's own values: shown per measure."""
    moved = _edited(tmp_path, "{code: scotland, name: Scotland, parent: uk}",
                    "{code: scotland, name: Scotland, parent: london}")
    d = sv.diff_tables(tiny, moved)
    assert d.iloc[0]["change"] == "table" and "regions" in d.iloc[0]["fields_changed"]
    fallback = d[d["change"] == "fallback"]
    assert not fallback.empty and set(fallback["region"]) == {"scotland"}
    row = fallback[fallback["measure"] == "jobs-local"].iloc[0]
    assert (row["old_region_used"], row["new_region_used"]) == ("uk", "london")
    assert (row["old_value"], row["new_value"]) == (20000.0, 30000.0)


def test_diff_when_only_a_table_parameter_changes_is_not_empty(
        tmp_path: Path, tiny: sv.ProxyTable) -> None:
    """A parameter used by an expression changes values with no proxy changing."""
    changed = _edited(tmp_path, "value: 0.25", "value: 0.5")
    d = sv.diff_tables(tiny, changed)
    assert list(d["change"]) == ["table"]
    assert d.iloc[0]["fields_changed"] == "parameters (changed: leakage)"


def test_diff_of_an_edition_with_itself_is_empty(tiny: sv.ProxyTable) -> None:
    assert sv.diff_tables(tiny, tiny).empty


def test_cli_diff_shows_table_and_fallback_rows_and_never_claims_sameness_wrongly(
        tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    moved = _edited(tmp_path, "{code: scotland, name: Scotland, parent: uk}",
                    "{code: scotland, name: Scotland, parent: london}")
    result = CliRunner().invoke(app, ["tables", "diff", str(TINY), str(moved.path)])
    assert result.exit_code == 0, result.output
    assert "table" in result.stdout and "fallback" in result.stdout
    assert "£30,000.00 (london)" in result.stdout
    relabelled = _edited(tmp_path, "title: ", "title: Renamed ")
    same = CliRunner().invoke(app, ["tables", "diff", str(TINY), str(relabelled.path)])
    assert "no differences in values or rules (the digests differ in labels" in same.stdout


def test_diff_tables_when_only_listing_order_differs_reports_nothing_and_sorts_rows(
        tmp_path: Path) -> None:
    """Regions or sources listed in another order change nothing; a removed measure's rows and
    fallback rows come sorted by region; a region that inherits from a parent which gained its
    own value is a fallback row citing proxies, not the (unchanged) region tree."""
    text = TINY.read_text(encoding="utf-8")
    old = sv.load_table(path=TINY)
    lines = text.splitlines(keepends=True)
    regions = [i for i, line in enumerate(lines) if line.startswith("  - {code: ")]
    reordered = lines[:regions[0]] + [lines[i] for i in reversed(regions)] + lines[
        regions[-1] + 1:]
    (tmp_path / "r.yaml").write_text("".join(reordered), encoding="utf-8")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    assert sv.diff_tables(old, sv.load_table(path=tmp_path / "r.yaml")).empty
    volunteering_uk = "      uk: {value: 15.00, source: test-source, illustrative: true}\n"
    assert volunteering_uk in text
    (tmp_path / "e.yaml").write_text(text.replace(
        volunteering_uk,
        volunteering_uk + "      england: {value: 16.00, source: test-source, "
        "illustrative: true}\n", 1), encoding="utf-8")
    diff = sv.diff_tables(old, sv.load_table(path=tmp_path / "e.yaml"))
    rows = diff[["change", "region", "fields_changed"]].values.tolist()
    assert rows == [["added", "england", "proxies"], ["fallback", "london", "proxies"]]
