"""Limits on what a table, index or YAML file may make the library build: aliases that expand a
file far beyond its size, tables of more measure-region cells than their dense arrays should
hold, region trees checked in time linear in the regions, and values that would silently come
out wrong (a shared price index replaced, derivation input names that one formula reads alike,
bounds and dates the wrong way round, index values of absurd magnitude). Each is refused with a
ProxyTableError naming the file and field. Sizes are just above the limits, not attack sizes."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    DAY,
    TINY,
    TINY_2023,
    TINY_INDEX,
    CountingCode,
    counting_regions,
    fresh_tiny,
    line_of,
    sub,
    tiny_variant,
)
from pydantic import ValidationError

import socialvalue_tom as sv
from socialvalue_tom.tables import _loader, schema, stack
from socialvalue_tom.tables._loader import read_model
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.schema import IndexFile, TableFile
from socialvalue_tom.tables.stack import EditionStack
from socialvalue_tom.tables.table import ProxyTable

TEXT = TINY.read_text(encoding="utf-8")
INDEX = TINY_INDEX.read_text(encoding="utf-8")
REASON = "    reason: a priority-group hire is also a local job\n"
SCOTLAND_REGION = "  - {code: scotland, name: Scotland, parent: uk}\n"
VOLUNTEERING_UK = "      uk: {value: 15.00, source: test-source, illustrative: true}"


def write(tmp_path: Path, text: str, index: str = INDEX, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (tmp_path / TINY_INDEX.name).write_text(index, encoding="utf-8")
    return path


def load_error(path: Path, at: Path | None = None) -> sv.ProxyTableError:
    """The error loading the table ``path``; it names the file ``at`` (default: the table)."""
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_table(path=path)
    assert info.value.path == str(at or path)
    return info.value


def tiny_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEXT)
    return data


# -- 1. aliases: the expanded size counts characters, not values -----------------------------------

def _aliased_key(length: int, aliases: int) -> str:
    """tiny.yaml whose exclusion's key is one anchored text of ``length`` characters followed by
    ``aliases`` aliases of it: a small file, ``length x aliases`` characters once expanded."""
    key = "    key: [&k " + "k" * length + "".join([", *k"] * aliases) + "]\n"
    return sub(REASON, REASON + key)


def test_load_table_when_one_long_text_is_aliased_many_times_raises(tmp_path: Path) -> None:
    """A 15 KB file expanding to just over the 1,000,000-character floor (a 10,000-character
    text aliased 101 times) is refused before anything is built: the old guard counted 102
    values, and the same file with a 100,000-character text aliased 10,000 times (143 KB)
    took 8 s and 3 GB to validate into a billion characters."""
    text = _aliased_key(10_000, 101)
    assert len(text) < 16_000
    err = load_error(write(tmp_path, text))
    assert "aliases expand the document" in str(err)
    assert f"from {len(text):,} to 1,02" in str(err) and "at most 1,000,000" in str(err)
    assert err.line is None and err.field is None


def test_load_table_when_aliases_stay_within_the_floor_loads(tmp_path: Path) -> None:
    """Just under the floor (a 10,000-character text aliased 90 times) is an ordinary table."""
    table = sv.load_table(path=write(tmp_path, _aliased_key(10_000, 90)))
    assert len(table.spec.exclusions[0].key) == 91


def test_read_yaml_when_aliases_exceed_ten_times_a_large_file_raises(tmp_path: Path) -> None:
    """Above the floor the limit is ten times the file: 200,000 characters of text (so a
    2,000,000-character allowance) aliased to 2,200,000 characters are refused."""
    text = "a: &t " + "x" * 200_000 + "\nb: [" + ", ".join(["*t"] * 10) + "]\n"
    path = tmp_path / "t.yaml"
    with pytest.raises(sv.ProxyTableError, match=r"at most 2,000,\d{3} are allowed \(10 times"):
        _loader.read_yaml(path, text)
    text = "a: &t " + "x" * 200_000 + "\nb: [" + ", ".join(["*t"] * 8) + "]\n"
    assert len(_loader.read_yaml(path, text)["b"]) == 8


# -- 2. measures x regions: the dense arrays' size ------------------------------------------------

def _cells_data(n_measures: int, n_regions: int) -> dict[str, Any]:
    """tiny's data with regions (under uk) and measures (copies of jobs-priority) added."""
    data = tiny_data()
    data["regions"] += [{"code": f"r{i}", "name": f"R{i}", "parent": "uk"}
                        for i in range(n_regions - len(data["regions"]))]
    base = data["measures"][1]
    data["measures"] += [dict(base, code=f"jobs-m{i}")
                         for i in range(n_measures - len(data["measures"]))]
    return data


def test_table_when_measures_times_regions_exceed_the_cell_limit_is_refused() -> None:
    """125 measures x 32,001 regions (each within its own limit of 32,767) are 4,000,125
    cells: refused before the region checks and the arrays, naming both counts and the limit.
    (10,000 x 10,000, a 1.9 MB file, took 29 s and 3.3 GB to compile.)"""
    assert schema.MAX_TABLE_CELLS == 4_000_000
    with pytest.raises(ValidationError) as info:
        TableFile.model_validate(_cells_data(125, 32_001))
    message = str(info.value)
    assert "125 measures and 32,001 regions" in message
    assert "4,000,125 measure-region cells" in message and "4,000,000 allowed" in message


def test_table_when_cells_are_at_the_limit_validates() -> None:
    spec = TableFile.model_validate(_cells_data(125, 32_000))
    assert len(spec.measures) * len(spec.regions) == schema.MAX_TABLE_CELLS


def test_load_table_when_too_many_cells_names_the_measures_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the loader (checked with a lowered limit: tiny has 7 x 4 = 28 cells) the error
    names the file, the field and its line."""
    monkeypatch.setattr(schema, "MAX_TABLE_CELLS", 27)
    err = load_error(write(tmp_path, TEXT))
    assert err.field == "measures" and err.line == line_of(TEXT, "  - code: jobs-local")
    assert "7 measures and 4 regions: 28 measure-region cells, over the 27 allowed" in str(err)


def test_proxy_table_when_spec_has_too_many_cells_raises_before_compiling(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec that skipped validation (``model_construct``, a copy) is checked again before
    its arrays are built."""
    spec = read_model(TINY, TableFile)
    monkeypatch.setattr(schema, "MAX_TABLE_CELLS", 27)
    with pytest.raises(sv.ProxyTableError, match="over the 27 allowed") as info:
        ProxyTable(spec, path=TINY)
    assert info.value.field == "measures"


def test_stack_when_editions_stack_into_too_many_cells_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each edition is within the cell limit, but the stack is as wide as the widest and as
    tall as the tallest, once per edition: an edition of 40 regions and one of 40 measures
    stack into 2 x 40 x 40 = 3,200 cells, refused when the stack holds fewer (here 3,199; in
    use 4 x MAX_TABLE_CELLS, so one table of the largest size always stacks)."""
    assert stack._MAX_STACK_CELLS == 4 * schema.MAX_TABLE_CELLS
    regions = "".join(f"  - {{code: r{i}, name: R{i}, parent: uk}}\n" for i in range(36))
    measures = "".join(
        f"  - {{code: social-m{i}, theme: social, outcome: o, title: t, unit: hour, value_type:"
        " social, proxies: {uk: {value: 1.00, source: test-source, illustrative: true}}}\n"
        for i in range(33))
    wide = sv.load_table(path=tiny_variant(tmp_path / "a", *TINY_2023,
                                           (SCOTLAND_REGION, SCOTLAND_REGION + regions)))
    (tmp_path / "b").mkdir()
    tall = sv.load_table(path=write(tmp_path / "b", TEXT + measures))
    assert (len(wide.region_codes), len(tall.measure_codes)) == (40, 40)
    monkeypatch.setattr(stack, "_MAX_STACK_CELLS", 3_200)
    assert EditionStack(TableSet([wide, tall])).proxy["central"].shape == (2, 40, 40)
    monkeypatch.setattr(stack, "_MAX_STACK_CELLS", 3_199)
    with pytest.raises(sv.ProxyTableError) as info:
        EditionStack(TableSet([wide, tall]))
    assert "2 editions x 40 measures x 40 regions = 3,200 cells" in str(info.value)
    assert "at most 3,199" in str(info.value)


# -- 3. the region tree is checked in linear time -------------------------------------------------

def _tree_work(n: int) -> int:
    """Region-code operations of the region-tree check of a chain of ``n`` regions under uk."""
    data = tiny_data()
    data["regions"] += [{"code": f"c{i}", "name": f"C{i}",
                         "parent": "uk" if i == 0 else f"c{i - 1}"} for i in range(n)]
    schema._check_region_tree(counting_regions(TableFile.model_validate(data)))
    return CountingCode.ops


def test_region_tree_check_when_the_chain_doubles_the_work_about_doubles() -> None:
    """Counted, not timed: walking every region's chain to the root made the check quadratic
    (a chain of 16,000 regions took 30 s); each region is now climbed once."""
    small, large = _tree_work(400), _tree_work(800)
    assert large < 2.5 * small, (small, large)


def test_table_when_16000_regions_in_a_chain_validates() -> None:
    data = tiny_data()
    data["regions"] += [{"code": f"c{i}", "name": f"C{i}",
                         "parent": "uk" if i == 0 else f"c{i - 1}"} for i in range(16_000)]
    assert len(TableFile.model_validate(data).regions) == 16_004


@pytest.mark.parametrize(("regions", "named"), [
    # a chain that runs into a cycle is named by its first region, as before
    ("  - {code: a, name: A, parent: b}\n  - {code: b, name: B, parent: c}\n"
     "  - {code: c, name: C, parent: b}\n", "a"),
    ("  - {code: a, name: A, parent: london}\n  - {code: b, name: B, parent: c}\n"
     "  - {code: c, name: C, parent: b}\n", "b"),
])
def test_load_table_when_regions_run_into_a_parent_cycle_names_the_first(
        tmp_path: Path, regions: str, named: str) -> None:
    text = sub(SCOTLAND_REGION, SCOTLAND_REGION + regions)
    err = load_error(write(tmp_path, text))
    assert f"region '{named}' is in a parent cycle" in str(err)


# -- 4. a price index is shared: it cannot be changed in place -----------------------------------

def test_price_index_when_attribute_assigned_or_deleted_raises_and_valuation_unchanged() -> None:
    """Assigning ``values`` changed every valuation uplifted with the index while every digest
    stayed the same: refused like ProxyTable's attributes, with the same AttributeError."""
    table = fresh_tiny()
    index = table.price_index
    assert index is not None
    outcome = sv.Outcome(measure="jobs-priority", quantity=1.0, region="uk", date=DAY)
    before = sv.value(outcome, table, assumptions=sv.Assumptions(price_year=2025))
    with pytest.raises(AttributeError, match="immutable") as on_table:
        table.price_index = None  # type: ignore[misc]
    with pytest.raises(type(on_table.value), match=r"PriceIndex 'tiny-deflator' is immutable"):
        index.values = {2023: 1.0, 2024: 1.0, 2025: 1000.0}  # type: ignore[misc]
    for name in ("values", "digest", "spec", "name"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(index, name, None)
        with pytest.raises(AttributeError, match="immutable"):
            delattr(index, name)
    with pytest.raises(TypeError):
        index.values[2025] = 1000.0  # type: ignore[index]
    after = sv.value(outcome, table, assumptions=sv.Assumptions(price_year=2025))
    assert after.pennies == before.pennies == 2_562_500
    assert index.factor(2024, 2025) == 1.025


def test_price_index_when_pickled_is_rebuilt_sealed() -> None:
    import pickle

    index = fresh_tiny().price_index
    assert index is not None
    back = pickle.loads(pickle.dumps(index))
    assert back.digest == index.digest and dict(back.values) == dict(index.values)
    with pytest.raises(AttributeError):
        back.values = {}


# -- 5. derivation input names: ASCII, so no two read alike --------------------------------------

@pytest.mark.parametrize("name", ["ｍedian", "Median", "médiane", "_median", "2nd", "weekly pay"])
def test_load_table_when_derivation_input_name_is_not_ascii_snake_case_raises(
        tmp_path: Path, name: str) -> None:
    """``ｍedian`` (a full-width m) is ``median`` to the formula (Python reads names in NFKC
    form): with both as inputs, ``ｍedian * weeks`` was evaluated with median's 700."""
    derivation = (f'{{inputs: {{median: 700.0, "{name}": 750.5, weeks: 20}}, '
                  f'formula: "median * weeks"}}')
    text = sub(VOLUNTEERING_UK, "      uk: {value: 14000.00, source: test-source, "
               f"illustrative: true, derivation: {derivation}}}")
    err = load_error(write(tmp_path, text))
    assert err.field == f"measures[6].proxies.uk.derivation.inputs.{name}"
    assert err.line == line_of(text, "value: 14000.00")
    assert f"derivation input name {name!r} must be lowercase snake_case" in str(err)


def test_amend_table_when_derivation_input_name_is_not_ascii_raises(tiny_table: Any) -> None:
    with pytest.raises(sv.ProxyTableError, match="derivation input name 'ｗeekly'"):
        sv.amend_table(tiny_table, version="2024-x.1", proxies={"social-volunteering": {
            "london": {"value": 15.0, "source": "test-source",
                         "derivation": {"inputs": {"ｗeekly": 15.0}, "formula": "ｗeekly"}}}})


# -- 6. bounds, dates and index values that could never be meant -------------------------------

@pytest.mark.parametrize("bounds", ["{max: -1.0}", "{min: -5, max: -0.5}"])
def test_load_table_when_quantity_bounds_max_is_negative_raises(tmp_path: Path,
                                                                bounds: str) -> None:
    """A negative max refused every quantity (quantities are never negative), blaming the
    supplier's figures for the table's typo."""
    text = sub("quantity_bounds: {min: 0, max: 520}", f"quantity_bounds: {bounds}")
    err = load_error(write(tmp_path, text))
    assert err.field == "measures[5].quantity_bounds.max"
    assert err.line == line_of(text, "quantity_bounds:")
    assert "is below 0" in str(err)


def test_load_table_when_quantity_bounds_min_is_negative_raises(tmp_path: Path) -> None:
    """A table author's review: min -5 loaded, a bound on nothing (a negative quantity is
    refused anyway)."""
    text = sub("quantity_bounds: {min: 0, max: 520}", "quantity_bounds: {min: -5, max: 520}")
    err = load_error(write(tmp_path, text))
    assert err.field == "measures[5].quantity_bounds.min" and "min -5.0 is below 0" in str(err)


def test_load_table_when_quantity_bounds_max_is_zero_loads(tmp_path: Path) -> None:
    text = sub("quantity_bounds: {min: 0, max: 520}", "quantity_bounds: {max: 0}")
    assert sv.load_table(path=write(tmp_path, text)).bound_max[5] == 0.0


def test_load_table_when_review_by_is_before_valid_from_raises(tmp_path: Path) -> None:
    text = sub("valid_to: 2025-03-31\n", "valid_to: 2025-03-31\nreview_by: 2020-03-31\n")
    err = load_error(write(tmp_path, text))
    assert (err.field, err.line) == ("review_by", line_of(text, "review_by:"))
    assert "review_by 2020-03-31 is before valid_from 2024-04-01" in str(err)


@pytest.mark.parametrize("review_by", ["2024-04-01", "2024-12-31", "2026-03-31"])
def test_load_table_when_review_by_is_on_or_after_valid_from_loads(tmp_path: Path,
                                                                   review_by: str) -> None:
    text = sub("valid_to: 2025-03-31\n", f"valid_to: 2025-03-31\nreview_by: {review_by}\n")
    table = sv.load_table(path=write(tmp_path, text))
    assert table.review_by == dt.date.fromisoformat(review_by)


@pytest.mark.parametrize(("value", "words"), [
    ("980000000.0", "9.8e+06 times the reference year 2024's (100.0)"),
    ("0.0000098", "9.8e-08 times the reference year 2024's (100.0)"),
    ("1.0e-310", "subnormal"),
])
def test_load_table_when_index_value_is_of_absurd_magnitude_raises(
        tmp_path: Path, value: str, words: str) -> None:
    """A value a million times the reference year's, or a millionth of it, is a typo in its
    magnitude (a subnormal one loses precision besides): each would restate every figure."""
    index = sub("2023: 98.0", f"2023: {value}", INDEX)
    err = load_error(write(tmp_path, TEXT, index=index), at=tmp_path / TINY_INDEX.name)
    assert err.field == "values.2023" and err.line == line_of(index, "values:")
    assert words in str(err)


def test_index_when_values_within_a_factor_of_a_million_validates() -> None:
    """A long series may reach nearly a million times its reference year (each year within
    the year-on-year step): 1.45 a year for 37 years is 9.3e5."""
    data = yaml.safe_load(INDEX)
    years = {2024 + k: 100.0 * 1.45**k for k in range(38)}
    data = copy.deepcopy(data) | {"values": years}
    assert IndexFile.model_validate(data).values[2061] == pytest.approx(100 * 1.45**37)
    too_far = data | {"values": {**years, 2062: years[2061] * 1.45}}  # 1.35e6 times
    with pytest.raises(ValueError, match=r"times the reference year 2024.s"):
        IndexFile.model_validate(too_far)


@pytest.mark.parametrize(("values", "words"), [
    ("{2023: 98.0, 2024: 100.0, 2025: 3.1}", "3.1 for 2025 is 0.031 times 2024's (100.0)"),
    ("{2023: 9.8, 2024: 100.0, 2025: 102.5}", "100.0 for 2024 is 10.2 times 2023's (9.8)"),
    ("{2023: 98.0, 2024: 100.0, 2025: 1025.0}", "1025.0 for 2025 is 10.2 times"),
])
def test_index_when_a_year_moves_by_more_than_half_is_refused(
        tmp_path: Path, values: str, words: str) -> None:
    """A table-author review: 3.1 written for 103.1 (the growth rate for the index) passed,
    and every figure restated to 2025 prices was 0.031 of itself."""
    index = sub("{2023: 98.0, 2024: 100.0, 2025: 102.5}", values, INDEX)
    err = load_error(write(tmp_path, TEXT, index=index), at=tmp_path / TINY_INDEX.name)
    assert err.field.startswith("values.") and words in str(err), str(err)
    assert "growth rate written for the index" in str(err)


def test_index_when_the_reference_year_is_not_100_is_refused(tmp_path: Path) -> None:
    """proxies/README.md says the reference year is the year = 100; 101 was accepted."""
    index = sub("{2023: 98.0, 2024: 100.0, 2025: 102.5}", "{2023: 99.0, 2024: 101.0, 2025: 103.5}",
                INDEX)
    err = load_error(write(tmp_path, TEXT, index=index), at=tmp_path / TINY_INDEX.name)
    assert err.field == "values.2024"
    assert "the reference year 2024's value is 101.0, not 100" in str(err)


@pytest.mark.parametrize(("name", "text"), [("deep.yaml", "[" * 5000 + "]" * 5000),
                                            ("deep.json", "[" * 100_000 + "]" * 100_000)])
def test_load_table_when_nested_too_deeply_raises_an_error_that_pickles(
        tmp_path: Path, name: str, text: str) -> None:
    """The error was raised in the RecursionError's handler, which chained it as the context:
    with tracebacks pickled (tblib, as Dask's workers do), its thousand frames did not
    pickle. Typed errors must reach a Dask client. (At Python's default recursion limit: a
    tool run in the same process, mypy say, may have raised it, and 5,000 levels then parse.)"""
    import pickle
    import sys

    pickling_support = pytest.importorskip("tblib.pickling_support")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        with pytest.raises(sv.ProxyTableError, match="nested too deeply") as info:
            sv.load_table(path=path)
    finally:
        sys.setrecursionlimit(limit)
    err = info.value
    assert err.__context__ is None and err.__cause__ is None
    pickling_support.install(err)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.path == str(path)


def test_index_year_step_of_exactly_one_and_a_half_is_allowed() -> None:
    """Mutation review: the bound itself (1.5, inclusive) was untested."""
    data = yaml.safe_load(INDEX)
    IndexFile.model_validate(data | {"values": {2024: 100.0, 2025: 150.0}})
    IndexFile.model_validate(data | {"values": {2024: 100.0, 2025: 100 / 1.5}})
    with pytest.raises(ValueError, match=r"1\.6 times 2024's"):
        IndexFile.model_validate(data | {"values": {2024: 100.0, 2025: 160.0}})
