"""Valuing in blocks gives the same bits as one block, exclusions across blocks included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import portfolios, to_frame

import socialvalue_tom as sv
from socialvalue_tom import frame
from socialvalue_tom._bulk.arithmetic import BLOCK
from socialvalue_tom.frame import claims_of, value_frame


def _portfolio(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    kinds = [("jobs-local", "FTE"), ("jobs-priority", "FTE"), ("env-carbon", "kgCO2e"),
             ("growth-local-spend", "GBP"), ("social-volunteering", "hour")]
    k = rng.integers(0, len(kinds), n)
    return pd.DataFrame({
        "measure": [kinds[i][0] for i in k],
        "quantity": rng.uniform(0, 20, n).round(2),
        "unit": [kinds[i][1] for i in k],
        "region": rng.choice(["uk", "england", "london", "scotland"], n),
        "date": rng.choice(["2024-04-01", "2024-09-30", "2025-03-31"], n),
        "contract_id": rng.choice([f"C{i}" for i in range(13)] + [None], n),
        "stage": rng.choice(["commitment", "delivered"], n),
    })


@pytest.mark.parametrize("block", [7, 64, 1000])
def test_value_frame_when_valued_in_blocks_equals_one_block(
        tiny_table: Any, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    df = _portfolio(500)
    whole = value_frame(df, tiny_table, detail=True)
    assert (whole["claim_share"] < 1).any()  # exclusions fire across the whole input
    monkeypatch.setattr(frame, "BLOCK", block)
    blocked = value_frame(df, tiny_table, detail=True)
    for col in ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "claim_share"):
        assert blocked[col].to_numpy().tobytes() == whole[col].to_numpy().tobytes(), col
    assert blocked["exclusion"].astype(object).tolist() == whole["exclusion"].astype(
        object).tolist()


def test_value_frame_when_pieces_share_claims_equals_whole(tiny_table: Any) -> None:
    df = _portfolio(300)
    whole = value_frame(df, tiny_table)
    pieces = [df.iloc[i:i + 40] for i in range(0, len(df), 40)]
    claims = pd.concat([claims_of(p, tiny_table) for p in pieces], ignore_index=True)
    got = pd.concat([value_frame(p, tiny_table, claims=claims, row_offset=i * 40)
                     for i, p in enumerate(pieces)])
    assert got["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    alone = pd.concat([value_frame(p, tiny_table) for p in pieces])
    assert alone["value_gbp"].to_numpy().tobytes() != whole["value_gbp"].to_numpy().tobytes()


def test_value_frame_when_blocks_have_bad_rows_reports_global_rows(
        tiny_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    df = _portfolio(100)
    df.loc[[3, 57, 99], "quantity"] = -1.0
    monkeypatch.setattr(frame, "BLOCK", 16)
    with pytest.raises(sv.BulkValidationError) as info:
        value_frame(df, tiny_table, row_offset=1000)
    assert [i.row for i in info.value.issues] == [1003, 1057, 1099]
    out = value_frame(df, tiny_table, errors="collect")
    assert out["value_gbp"].isna().tolist() == [i in (3, 57, 99) for i in range(100)]
    assert out.attrs["issues"]["row"].tolist() == [3, 57, 99]


def test_value_frame_when_detail_off_adds_only_the_lean_columns(tiny_table: Any) -> None:
    out = value_frame(_portfolio(20).assign(contract_id=[f"C{i}" for i in range(20)]),
                      tiny_table)
    added = [c for c in out.columns if c not in _portfolio(1).columns]
    assert added == ["value_gbp", "proxy_gbp", "region_used", "table", "version", "digest"]


def test_exclusion_when_suppliers_share_a_contract_counts_each_supplier_apart(
        tiny_table: Any) -> None:
    """Two tenderers bid on one contract: B's local jobs are not reduced by A's priority hires
    (a hire by one supplier is not a job at another)."""
    df = pd.DataFrame({"contract_id": ["T1"] * 3, "supplier_id": ["A", "B", "A"],
                       "measure": ["jobs-priority", "jobs-local", "jobs-local"],
                       "quantity": [1.0, 4.0, 4.0], "unit": ["FTE"] * 3,
                       "region": ["uk"] * 3, "date": ["2024-09-30"] * 3})
    out = value_frame(df, tiny_table)
    # B: 4 x 20,000 x 0.9 = 72,000 (untouched); A: 3 of 4 FTE count = 54,000
    assert [round(v, 2) for v in out["value_gbp"]] == [25000.0, 72000.0, 54000.0]
    assert out["claim_share"].tolist() == [1.0, 1.0, 0.75]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=portfolios(min_size=1, max_size=30), piece=st.integers(1, 12),
       contracts=st.integers(1, 3), block=st.integers(1, 16))
def test_value_frame_when_split_anyhow_equals_whole(
        tiny_table: Any, rows: list[dict[str, Any]], piece: int, contracts: int,
        block: int) -> None:
    """Property: pieces valued with the whole input's claims, or one frame valued in blocks of
    any size, give the bits of one frame in one block (exclusions firing across pieces)."""
    df = to_frame(rows)
    df["contract_id"] = [f"C{i % contracts}" for i in range(len(df))]
    whole = value_frame(df, tiny_table, errors="collect")
    pieces = [df.iloc[i:i + piece] for i in range(0, len(df), piece)]
    claims = pd.concat([claims_of(p, tiny_table) for p in pieces], ignore_index=True)
    got = pd.concat([value_frame(p, tiny_table, errors="collect", claims=claims,
                                 row_offset=i * piece) for i, p in enumerate(pieces)])
    assert got["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    original = frame.BLOCK
    try:
        frame.BLOCK = block
        blocked = value_frame(df, tiny_table, errors="collect")
    finally:
        frame.BLOCK = original
    assert blocked["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()



def _spaced_claims(copies: int) -> pd.DataFrame:
    """Per contract: 1 priority FTE and 4 local FTE (as two rows whose measure has spaces,
    which value_frame reads as jobs-local), and carbon rows between them."""
    one = pd.DataFrame({"measure": ["env-carbon", " jobs-local", "env-carbon", "jobs-priority ",
                                    "jobs-local "],
                        "quantity": [1.0, 2.0, 1.0, 1.0, 2.0],
                        "unit": ["tCO2e", "FTE", "tCO2e", "FTE", "FTE"],
                        "region": ["uk"] * 5, "date": ["2024-09-30"] * 5})
    big = pd.concat([one] * copies, ignore_index=True)
    big["contract_id"] = [f"C{i // len(one)}" for i in range(len(big))]
    return big


@pytest.mark.parametrize(("copies", "block"), [(3, 4), (10_000, BLOCK)])
def test_value_frame_when_excluded_measure_has_spaces_in_blocks_equals_one_block(
        tiny_table: Any, monkeypatch: pytest.MonkeyPatch, copies: int, block: int) -> None:
    """'jobs-local ' is the measure jobs-local (value_frame strips it): the claims gathered for
    the blocks of a long input must see it too (no KeyError from an exclusion whose claims were
    all missed), and blocks give the bits of one block: 3 of each contract's 4 local FTE count.
    The second case is the real block size with more than one block (50,000 rows)."""
    df = _spaced_claims(copies)
    assert (len(df) > block) and (len(df) <= 4 * block)
    monkeypatch.setattr(frame, "BLOCK", block)
    blocked = value_frame(df, tiny_table, detail=True)
    assert blocked["claim_share"].tolist() == [1.0, 0.75, 1.0, 1.0, 0.75] * copies
    # 2 FTE x 20,000 x 0.9 x 0.75 = 27,000 per local row
    assert blocked["value_gbp"].round(2).tolist()[:5] == [250.0, 27000.0, 250.0, 25000.0,
                                                          27000.0]
    monkeypatch.setattr(frame, "BLOCK", len(df))
    whole = value_frame(df, tiny_table, detail=True)
    assert blocked["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    claims = claims_of(df, tiny_table)
    assert len(claims) == 3 * copies and set(claims["rank"]) == {0, 1}


def test_issues_marks_only_marks_bad_rows_without_building_messages() -> None:
    """The claims pass of the exclusions only needs to know which rows are bad: no message is
    built (they were built twice per bad row of an excluded measure), in blocks too."""
    from socialvalue_tom._bulk.issues import Issues

    calls: list[int] = []

    def reason(p: int) -> str:
        calls.append(p)
        return "bad"

    quiet = Issues(4, 0, pd.RangeIndex(4), marks_only=True)
    quiet.block(2, 4).add(np.array([True, False]), "date", "no-table-in-force", reason)
    quiet.add(np.array([True, False, False, False]), "date", "no-table-in-force", reason)
    assert quiet.bad.tolist() == [True, False, True, False]
    assert quiet.items == [] and calls == []
    loud = Issues(4, 0, pd.RangeIndex(4))
    loud.add(np.array([True, False, False, True]), "date", "no-table-in-force", reason)
    assert [i.row for i in loud.items] == [0, 3] and calls == [0, 3]


def test_claims_of_a_row_with_absurd_years_do_not_warn_of_overflow(
        tiny_table: Any) -> None:
    """1e12 FTE for 1e308 years on an excluded measure overflowed in the claims (a numpy
    RuntimeWarning reached the caller) before the row was refused for its years."""
    import warnings

    df = pd.DataFrame({"measure": ["jobs-local", "jobs-priority"], "quantity": [1e12, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2024-09-30"] * 2, "years": [1e308, 1],
                       "contract_id": ["c", "c"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = value_frame(df, tiny_table, errors="collect")
    assert out.attrs["issues"]["row"].tolist() == [0]
    assert out["value_gbp"].notna().tolist() == [False, True]
