"""Whole-file cross-checks point at the line that declares the value they name."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialvalue_tom as sv

BAD = Path(__file__).resolve().parent.parent / "data" / "bad_tables"


@pytest.mark.parametrize(("name", "line", "declares", "field", "phrase"), [
    ("duplicate_measure_code", 44, "code:", None, "duplicate measure code: jobs-local"),
    ("missing_fallback_proxy", 51, "london:", "measures[1].proxies",  # the proxies given
     "measure 'jobs-priority' has no proxy"),
    ("unknown_source_cited", 51, "source: nowhere-stats", "measures[1].proxies.uk.source",
     "cites unknown source 'nowhere-stats'"),
    ("region_parent_cycle", 11, "code:", "regions[0].parent", "region 'uk' is in a parent cycle"),
    ("illustrative_without_header", 42, "illustrative: true",
     "measures[0].proxies.uk.illustrative", "measure 'jobs-local' region 'uk' is illustrative"),
])
def test_cross_check_error_when_value_named_points_at_its_declaration(
        name: str, line: int, declares: str, field: str | None, phrase: str) -> None:
    """The line of the value at fault (the second duplicate, the proxy citing an unknown
    source...), and where the check knows it, the field."""
    path = BAD / f"{name}.yaml"
    declared = path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert declares in declared  # the fixture line really declares the value
    with pytest.raises(sv.ProxyTableError, match=phrase) as info:
        sv.load_table(path=path)
    assert info.value.line == line
    assert f"{name}.yaml:{line}:" in str(info.value)
    if field is not None:
        assert info.value.field == field
