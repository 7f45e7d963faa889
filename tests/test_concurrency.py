"""Shared tables under threads: results equal the serial ones; tables are read-only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import fresh_tiny
from hypothesis import HealthCheck, given, settings
from strategies import portfolios, to_frame, to_outcome

import socialvalue_tom as sv
from socialvalue_tom import units
from socialvalue_tom.frame import value_frame


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                               HealthCheck.function_scoped_fixture])
@given(rows=portfolios(min_size=20, max_size=40))
def test_value_when_eight_threads_share_a_table_equals_serial(tiny_table: Any,
                                                              rows: list[dict[str, Any]]) -> None:
    """8 threads valuing (scalar and bulk) at once give exactly the serial results."""
    outcomes = [to_outcome(r) for r in rows]
    serial = [sv.value(o, tiny_table).amount for o in outcomes]
    frame = to_frame(rows)
    serial_frame = value_frame(frame, tiny_table)["value_gbp"].tolist()
    units._parsed_or_refusal.cache_clear()
    units.conversion_factor.cache_clear()

    def work(i: int) -> tuple[list[float], list[float]]:
        mine = outcomes[i % 3:] + outcomes[:i % 3]
        got = [sv.value(o, tiny_table).amount for o in mine]
        back = got[len(outcomes) - i % 3:] + got[:len(outcomes) - i % 3]
        return back, value_frame(frame, tiny_table)["value_gbp"].tolist()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    for scalar, bulk in results:
        assert scalar == serial
        assert bulk == serial_frame


def test_load_table_when_threads_race_returns_one_table() -> None:
    """Concurrent loads of one family resolve to the same cached editions."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        tables = list(pool.map(lambda _: sv.load_table("uk-national", version="2024"),
                               range(16)))
    assert all(t is tables[0] for t in tables)


def test_table_when_shared_is_read_only(tiny_table: Any) -> None:
    """Arrays are not writeable; Measure models are frozen (an AttributeError, as for the
    table itself: pydantic's own was a ValidationError)."""
    assert tiny_table.proxy_matrix.flags.writeable is False
    assert tiny_table.region_used.flags.writeable is False
    from socialvalue_tom.tables.stack import stack_of

    stack = stack_of(sv.TableSet([tiny_table]))
    for arr in (*stack.proxy.values(), *stack.measure_arrays.values(), stack.region_used,
                stack.illustrative, stack.health, stack.requires, stack.excluded):
        with pytest.raises(ValueError):  # the edition stack value_frame shares, too
            arr.setflags(write=True)
    spec = tiny_table.measures["jobs-local"]
    with pytest.raises(AttributeError, match="MeasureSpec is immutable"):
        spec.deadweight = 0.9  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del spec.deadweight
    with pytest.raises(AttributeError):
        spec.proxies["uk"].value = 1.0  # type: ignore[misc]
    assert spec.deadweight == 0.1
    with pytest.raises(TypeError):
        tiny_table.measures["jobs-local"] = spec  # type: ignore[index]
    with pytest.raises(TypeError):
        tiny_table.grades["A"] = 0.5  # type: ignore[index]


def test_table_when_nested_mappings_mutated_is_refused() -> None:
    """The proxies and parameters inside a frozen table cannot be changed in place (they would
    change values without changing the digest that the audit trail records)."""
    t = fresh_tiny()
    with pytest.raises(TypeError):
        t.measures["jobs-local"].proxies["uk"] = t.measures["jobs-priority"].proxies["uk"]
    with pytest.raises(TypeError):
        t.spec.parameters.pop("leakage")
    with pytest.raises(TypeError):
        t.measures["growth-local-spend"].parameters["leakage"] = 0.0
