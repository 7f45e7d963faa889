"""ProxyTable: lookups with declared regional fallback, dense read-only arrays, unit factors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import CountingCode, counting_regions, tiny_variant
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reference import region_used

import socialvalue_tom as sv
from socialvalue_tom.tables._loader import read_model
from socialvalue_tom.tables.catalogue import TableSet
from socialvalue_tom.tables.schema import TableFile
from socialvalue_tom.tables.stack import EditionStack, stack_of
from socialvalue_tom.tables.table import ProxyTable


def test_proxy_when_region_has_own_value_uses_it(tiny_table: Any) -> None:
    """London has its own jobs-local proxy: £30,000."""
    p = tiny_table.proxy("jobs-local", "london")
    assert (p.value, p.region_used, p.fell_back) == (30000.0, "london", False)
    assert p.source.id == "test-source" and p.illustrative


@pytest.mark.parametrize(("measure", "region", "value", "used"), [
    ("jobs-local", "england", 20000.0, "uk"), ("social-volunteering", "scotland", 14.5,
                                               "scotland"),
    ("social-volunteering", "london", 15.0, "uk"), ("env-carbon", "Scotland", 250.0, "uk"),
    ("env-carbon", " northern_ireland ".replace("northern_ireland", "united kingdom"), 250.0,
     "uk"),
])
def test_proxy_when_region_lacks_value_falls_back_up_the_tree(tiny_table: Any, measure: str,
                                                              region: str, value: float,
                                                              used: str) -> None:
    """Missing regional values come from the nearest ancestor, then the fallback region."""
    p = tiny_table.proxy(measure, region)
    assert (p.value, p.region_used) == (value, used)


def test_proxy_when_bounds_recorded_gives_low_and_high(tiny_table: Any) -> None:
    """low/high default to the central value when not recorded."""
    assert (tiny_table.proxy("env-carbon", "uk").low, tiny_table.proxy("env-carbon", "uk").high
            ) == (125.0, 375.0)
    p = tiny_table.proxy("jobs-priority", "uk")
    assert p.low == p.high == p.value == 25000.0


def test_proxy_when_unknown_measure_or_region_raises(tiny_table: Any) -> None:
    """Unknown codes raise typed errors with suggestions / the list of regions."""
    with pytest.raises(sv.UnknownMeasureError, match="did you mean env-carbon"):
        tiny_table.proxy("env-carbn", "uk")
    # Capitals are not a code (codes are exact) but are a near miss: the code is suggested.
    with pytest.raises(sv.UnknownMeasureError, match="did you mean jobs-local\\?"):
        tiny_table.proxy("JOBS-LOCAL", "uk")
    with pytest.raises(sv.UnknownMeasureError) as info:
        tiny_table.measure("zzzzzz")
    assert "did you mean" not in str(info.value) and info.value.measure == "zzzzzz"
    with pytest.raises(sv.UnknownRegionError, match=r"expected one of uk, england"):
        tiny_table.proxy("env-carbon", "wales")
    with pytest.raises(sv.UnknownRegionError):
        tiny_table.region_code(None)


def test_arrays_when_compiled_match_the_file(tiny_table: Any) -> None:
    """The dense matrices hold the resolved proxies and are read-only."""
    m = tiny_table.measure_index["jobs-local"]
    regions = tiny_table.region_codes
    assert regions == ("uk", "england", "london", "scotland")
    np.testing.assert_array_equal(tiny_table.proxy_matrix[m], [20000, 20000, 30000, 20000])
    np.testing.assert_array_equal(tiny_table.proxy_low[m], [15000, 15000, 30000, 15000])
    assert tiny_table.sign.tolist() == [1, 1, 1, -1, 1, 1, 1]
    assert tiny_table.health.tolist() == [False] * 6 + [True]
    for name in ("proxy_matrix", "proxy_low", "proxy_high", "region_used", "sign", "deadweight",
                 "displacement", "attribution", "drop_off", "health", "cap_ratio",
                 "bound_min", "bound_max"):
        arr = getattr(tiny_table, name)
        assert arr.flags.writeable is False, name
        with pytest.raises(ValueError):
            arr[0] = 0
        with pytest.raises(ValueError):  # nor made writeable again: the table is shared
            arr.setflags(write=True)
        assert arr.flags.aligned, name


def test_unit_factor_when_accepts_declared_limits_units(tiny_table: Any) -> None:
    """`accepts` limits the spellings a measure takes; None means the canonical unit."""
    assert tiny_table.unit_factor("jobs-apprentice", "week") == 1.0
    assert tiny_table.unit_factor("jobs-apprentice", None) == 1.0
    with pytest.raises(sv.UnitError, match="expected one of week"):
        tiny_table.unit_factor("jobs-apprentice", "day")
    assert tiny_table.unit_factor("env-carbon", "kgCO2e") == pytest.approx(0.001)


def test_a_unit_of_another_kind_than_the_measure_s_is_told_both_kinds_and_how_to_convert(
        ) -> None:
    """A newcomer's review: hours for an FTE measure were told only 'expected one of FTE,
    fte'. The message names both kinds, and for time given for an FTE measure the table's
    own FTE-year (never converted: the period is the supplier's to know); a unit of the same
    kind, or no unit at all, is told nothing more; both engines alike."""
    table = sv.load_table("uk-national", version="2024")
    told = {}
    for unit in ("hours", "Weeks", "kg", "FTEs per year", "bananas"):
        with pytest.raises(sv.UnitError) as info:
            table.unit_factor("jobs-local-fte", unit)
        told[unit] = info.value.message.split("expected one of FTE, fte", 1)[1]
    convert = ("; this table counts 1,950 hours of work as one FTE-year: the hours worked / "
               "1,950 is the FTE to give, for a return of any period (975 hours worked in half "
               "a year is 0.5 FTE)")
    assert told == {
        "hours": " ('hours' is time; the measure counts full-time equivalents)" + convert,
        "Weeks": " ('Weeks' is time; the measure counts full-time equivalents)" + convert,
        "kg": " ('kg' is weight; the measure counts full-time equivalents)",
        "FTEs per year": "", "bananas": ""}
    with pytest.raises(sv.UnitError) as reverse:
        table.unit_factor("social-volunteering-hour", "FTE")
    assert reverse.value.message.endswith("('FTE' is full-time equivalents; the measure "
                                          "counts time)")
    row = {"measure": "jobs-local-fte", "quantity": 75.0, "unit": "hours", "region": "uk",
           "date": "2024-06-01"}
    found = sv.value_frame(pd.DataFrame([row]), table, errors="collect").attrs["issues"]
    assert found["reason"].tolist() == [f"unit 'hours' is not accepted for measure "
                                        f"'jobs-local-fte': expected one of FTE, fte"
                                        f"{told['hours']}"]


def test_table_when_loaded_exposes_identity(tiny_table: Any) -> None:
    """name, version, validity, digest, ref and repr."""
    ref = tiny_table.ref
    assert (ref.name, ref.version, str(ref)) == ("tiny", "2024", "tiny:2024")
    assert len(tiny_table.digest) == 64 and tiny_table.digest == ref.digest
    assert "tiny:2024" in repr(tiny_table)
    assert tiny_table.grades == {"A": 0.0, "B": 0.1, "C": 0.4}
    assert tiny_table.parameters_for("growth-local-spend") == {"leakage": 0.25}
    assert set(tiny_table.expressions) == {"growth-local-spend", "jobs-apprentice"}


def test_price_index_when_year_missing_raises_rule_error(tiny_table: Any) -> None:
    """Index ratios need both years; a missing year names the covered range."""
    idx = tiny_table.price_index
    assert idx.factor(2024, 2025) == pytest.approx(1.025)
    with pytest.raises(sv.RuleError, match=r"2019.*2023\.\.2025"):
        idx.factor(2019, 2024)


def test_table_attributes_cannot_be_replaced_or_deleted() -> None:
    """A loaded table is shared by every caller: replacing its arrays (which would change later
    valuations under the same digest) is refused, as is deleting an attribute."""
    t = sv.load_table("uk-national", version="2024")
    before = t.proxy_matrix.copy()
    with pytest.raises(AttributeError, match="immutable"):
        t.proxy_matrix = t.proxy_matrix * 2
    with pytest.raises(AttributeError, match="immutable"):
        del t.sign
    assert np.array_equal(sv.load_table("uk-national", version="2024").proxy_matrix, before)


# -- region trees of many regions ---------------------------------------------------------------

_SCOTLAND = "  - {code: scotland, name: Scotland, parent: uk}\n"
_LONDON_LOCAL = "      london: {value: 30000.00, source: test-source, illustrative: true}\n"
_SCOTLAND_VOLUNTEERING = "      scotland: {value: 14.50, source: test-source, illustrative: true}\n"


def _proxy_lines(values: dict[str, float]) -> str:
    return "".join(f"      {code}: {{value: {v:.2f}, source: test-source, illustrative: true}}\n"
                   for code, v in values.items())


def _tree_variant(folder: Path, parents: dict[str, str], local: dict[str, float] | None = None,
                  volunteering: dict[str, float] | None = None) -> Path:
    """tiny.yaml with the regions ``parents`` (code: parent) added after scotland, and extra
    jobs-local / social-volunteering proxies for some of them."""
    regions = "".join(f"  - {{code: {c}, name: Region {c.upper()}, parent: {p}}}\n"
                      for c, p in parents.items())
    return tiny_variant(folder, (_SCOTLAND, _SCOTLAND + regions),
                        (_LONDON_LOCAL, _LONDON_LOCAL + _proxy_lines(local or {})),
                        (_SCOTLAND_VOLUNTEERING,
                         _SCOTLAND_VOLUNTEERING + _proxy_lines(volunteering or {})))


def _chain_and_flat(chain: int, flat: int) -> dict[str, str]:
    """``chain`` regions each under the one before (c0 under london), ``flat`` ones under uk."""
    parents = {f"c{i}": ("london" if i == 0 else f"c{i - 1}") for i in range(chain)}
    parents.update({f"f{i}": "uk" for i in range(flat)})
    return parents


def test_compile_when_random_region_tree_resolves_as_the_declared_fallback(
        tmp_path: Path) -> None:
    """Every (measure, region) of a random tree of 300 regions, some with values of their own,
    resolves to the nearest region up the tree that has a value (the fallback order), in the
    table and in its stack."""
    rng = np.random.default_rng(20240601)
    codes: list[str] = ["uk", "england", "london", "scotland"]
    parents: dict[str, str] = {}
    for i in range(300):
        parents[f"r{i}"] = codes[int(rng.integers(len(codes)))]
        codes.append(f"r{i}")
    picks = rng.choice(300, size=60, replace=False)
    local = {f"r{i}": 1000.0 + i for i in picks[:30]}
    volunteering = {f"r{i}": 10.0 + i for i in picks[30:]}
    table = sv.load_table(path=_tree_variant(tmp_path, parents, local, volunteering))
    stack = stack_of(TableSet([table]))
    for measure in table.measure_codes:
        m = table.measure_index[measure]
        for r, code in enumerate(table.region_codes):
            want = region_used(table, code, measure)  # the reference walk up the tree
            got = table.proxy(measure, code)
            assert (got.region_used, got.value) == (
                want, table.spec.measures[m].proxies[want].value), (measure, code)
            assert table.region_codes[table.region_used[m, r]] == want
            # the stack's third axis is the edition's own region order; it holds union positions
            assert stack.regions[stack.region_used[0, m, r]] == want


def test_table_when_5000_regions_in_a_chain_and_5000_flat_builds_stack_and_values(
        tmp_path: Path) -> None:
    """A deep chain (c4999 under c4998 ... under c0 under london) and a wide level of 5,000
    regions under uk build into a table, its stack and a valuation, with the fallback order
    kept: c4999 takes c2500's own value, c2499 london's, the flat regions uk's. (Compiling
    the tree once rebuilt the parent map per region, and each region's whole chain.)"""
    parents = _chain_and_flat(5000, 5000)
    table = sv.load_table(path=_tree_variant(tmp_path, parents, {"c2500": 40000.0}))
    assert len(table.region_codes) == 10004
    used = {r: table.proxy("jobs-local", r) for r in ("c4999", "c2500", "c2499", "f4999")}
    assert {r: (p.region_used, p.value) for r, p in used.items()} == {
        "c4999": ("c2500", 40000.0), "c2500": ("c2500", 40000.0),
        "c2499": ("london", 30000.0), "f4999": ("uk", 20000.0)}
    assert table.proxy("social-volunteering", "c4999").region_used == "uk"
    stack = EditionStack(TableSet([table]))
    m = table.measure_index["jobs-local"]
    assert [stack.regions[stack.region_used[0, m, table.region_position(r)]]
            for r in ("c4999", "f1")] == ["c2500", "uk"]
    rows = pd.DataFrame({"measure": "jobs-local", "quantity": 1.0, "unit": "FTE",
                         "region": ["c4999", "c2499", "f4999", "scotland"],
                         "date": "2024-09-30"})
    out = sv.value_frame(rows, table)
    assert out["value_gbp"].tolist() == [36000.0, 27000.0, 18000.0, 18000.0]  # x 0.9
    assert out["region_used"].astype(str).tolist() == ["c2500", "london", "uk", "uk"]


def _region_work(folder: Path, n: int) -> int:
    """Region-code operations to build the table of ``n`` chained and ``n`` flat regions, and
    its stack."""
    spec = read_model(_tree_variant(folder, _chain_and_flat(n, n), {f"c{n // 2}": 40000.0}),
                      TableFile)
    table = ProxyTable(counting_regions(spec))
    EditionStack(TableSet([table]))
    work = CountingCode.ops
    assert table.proxy("jobs-local", f"c{n - 1}").region_used == f"c{n // 2}"
    return work


def test_compile_when_regions_double_the_work_on_the_region_tree_about_doubles(
        tmp_path: Path) -> None:
    """Scale, counted rather than timed: the hashes and comparisons of region codes spent
    building a table and its stack grow linearly with the regions. Rebuilding the parent map
    per region, walking each region's whole chain and searching the stack's region list per
    region made them grow with the square (4x for 2x the regions)."""
    small = _region_work(tmp_path / "small", 300)
    large = _region_work(tmp_path / "large", 600)
    assert large < 2.5 * small, (small, large)


def test_stack_when_editions_have_more_regions_than_int16_holds_raises_proxy_table_error(
        tiny_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack keeps region positions in int16: more regions across the editions (checked
    with a lowered limit) is a ProxyTableError naming the count, not numpy's OverflowError
    (nor positions that wrap round)."""
    from socialvalue_tom.tables import stack

    monkeypatch.setattr(stack, "_MAX_REGIONS", 3)
    with pytest.raises(sv.ProxyTableError, match=r"4 regions between them.*at most 3") as info:
        EditionStack(TableSet([tiny_table]))
    assert info.value.field == "regions"


@settings(max_examples=300, deadline=None)
@given(region=st.one_of(
    st.text(max_size=12),
    # The table's own codes and names as people write them: in any case, with spaces or
    # underscores around and inside, which is where the lookup before normalising hits.
    st.tuples(st.sampled_from(["uk", "england", "london", "scotland", "England", "London",
                               "Scotland", "United Kingdom"]),
              st.sampled_from(["", " ", "_", "\t"]), st.booleans()).map(
        lambda t: f"{t[1]}{t[0].upper() if t[2] else t[0]}{t[1]}".replace(" ", t[1] or " "))))
@example(region="S92000003")  # a GSS code: found by the standard codes, not the aliases
def test_region_code_when_given_a_code_as_written_finds_what_normalising_finds(
        tiny_table: Any, region: str) -> None:
    """region_code looks the text up as given before normalising it: sound because a normal
    form is its own normal form (so text found as given is the code it normalises to). Text
    no alias names may be a GSS code of a region the table has."""
    from socialvalue_tom.tables.schema import GSS_REGION_CODES, normalise_region

    once = normalise_region(region)
    assert normalise_region(once) == once
    for text in (region, once, region.upper()):
        try:
            got = tiny_table.region_code(text)
        except sv.UnknownRegionError:
            got = None
        norm = normalise_region(text)
        standard = GSS_REGION_CODES.get(norm)
        expected = tiny_table._region_alias.get(norm) or (
            standard if standard in tiny_table.region_codes else None)
        assert got == expected


def test_a_listing_reads_an_edition_s_title_price_base_regions_and_units_offered() -> None:
    """An integrator's review: a UI's listing reached into undocumented attributes (the
    spec's title, price base, region names) and had no way to list a measure's units."""
    t = sv.load_table("uk-national", version="2024")
    assert (t.title, t.price_base_year) == (t.spec.title, 2024)
    wales = next(r for r in t.regions if r.code == "wales")
    assert (wales.name, wales.parent) == ("Wales", "uk")
    assert [r.code for r in t.regions] == list(t.region_codes)
    assert t.units_offered("jobs-local-fte") == ("FTE", "FTEs", "fte", "ftes")
    assert t.units_offered("env-carbon-saved") == ("tCO2e", "kgCO2e")
    for code in t.measure_codes:  # every unit offered is one the measure reads
        for unit in t.units_offered(code):
            assert t.unit_factor(code, unit) > 0, (code, unit)
