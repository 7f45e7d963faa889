"""ProxyTable: lookups with declared regional fallback, dense read-only arrays, unit factors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import socialvalue_tom as sv


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


def test_unit_factor_when_accepts_declared_limits_units(tiny_table: Any) -> None:
    """`accepts` limits the spellings a measure takes; None means the canonical unit."""
    assert tiny_table.unit_factor("jobs-apprentice", "week") == 1.0
    assert tiny_table.unit_factor("jobs-apprentice", None) == 1.0
    with pytest.raises(sv.UnitError, match="expected one of week"):
        tiny_table.unit_factor("jobs-apprentice", "day")
    assert tiny_table.unit_factor("env-carbon", "kgCO2e") == pytest.approx(0.001)


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
