"""A table's derivations must give the values they derive, at load (user tables included)."""

from __future__ import annotations

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
])
def test_a_derivation_that_drifted_from_its_value_is_refused_naming_the_field(
        tmp_path: Path, proxy: str, match: str) -> None:
    with pytest.raises(sv.ProxyTableError, match=match) as err:
        sv.load_table(path=_with_london(tmp_path, proxy))
    assert err.value.field.startswith("measures[0].proxies.london.derivation")
    assert f"field {err.value.field} (jobs-local):" in str(err.value)  # named by its code
