"""Whole-file cross-checks point at the line that declares the value they name."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialvalue_tom as sv

BAD = Path(__file__).resolve().parent.parent / "data" / "bad_tables"


@pytest.mark.parametrize(("name", "line", "phrase"), [
    ("duplicate_measure_code", 44, "duplicate measure code: jobs-local"),  # the second one
    ("missing_fallback_proxy", 44, "measure 'jobs-priority' has no proxy"),
    ("unknown_source_cited", 44, "cites unknown source 'nowhere-stats'"),
    ("region_parent_cycle", 11, "region 'uk' is in a parent cycle"),
    ("illustrative_without_header", 34, "measure 'jobs-local' region 'uk' is illustrative"),
])
def test_cross_check_error_when_value_named_points_at_its_declaration(
        name: str, line: int, phrase: str) -> None:
    path = BAD / f"{name}.yaml"
    declared = path.read_text().splitlines()[line - 1]
    assert "code:" in declared  # the fixture line really declares the value
    with pytest.raises(sv.ProxyTableError, match=phrase) as info:
        sv.load_table(path=path)
    assert info.value.line == line
    assert f"{name}.yaml:{line}:" in str(info.value)
