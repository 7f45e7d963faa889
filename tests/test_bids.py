"""Bid scoring on committed social value (hand-computed from tiny.yaml).

A commits 2 FTE jobs-local in uk: 2 x 20,000 x 0.9 = 36,000; B 40 tCO2e: 10,000;
C 80 tCO2e: 20,000.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom.bids import score_bids, scores_from_values
from socialvalue_tom.errors import BulkValidationError


@pytest.fixture
def commitments() -> pd.DataFrame:
    return pd.DataFrame({
        "supplier_id": ["A", "B", "C"], "measure": ["jobs-local", "env-carbon", "env-carbon"],
        "quantity": [2, 40, 80], "unit": ["FTE", "tCO2e", "tCO2e"], "region": ["uk"] * 3,
        "date": ["2024-06-01"] * 3})


def test_score_bids_when_proportional_then_weight_times_value_over_best(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """score = 10 x value / best value; best first."""
    r = score_bids(commitments, tables=tiny, weighting=10)
    assert r["supplier_id"].tolist() == ["A", "C", "B"]
    assert r["rank"].tolist() == [1, 2, 3]
    assert r["committed_gbp"].tolist() == [Decimal("36000.00"), Decimal("20000.00"),
                                           Decimal("10000.00")]
    assert r["score"].tolist() == pytest.approx([10.0, 10 * 20 / 36, 10 * 10 / 36])
    trace = r.attrs["trace"]
    assert trace[0].startswith("Scoring 3 tenderer(s) by proportional")
    assert any("tiny:2024" in line for line in trace)
    assert "score = 10 x 20,000.0000 / 36,000.0000 = 5.56" in r.loc[1, "trace"]


def test_score_bids_when_per_gbp_then_cheaper_bid_can_win(commitments: pd.DataFrame,
                                                          tiny: sv.ProxyTable) -> None:
    """Per GBP of bid price: B 10,000 / 100,000 = 0.1 beats C 0.05 and A 0.036."""
    prices = {"A": 1_000_000, "B": 100_000, "C": 400_000}
    r = score_bids(commitments, tables=tiny, bid_prices=prices, basis="per-gbp", weighting=20)
    assert r["supplier_id"].tolist() == ["B", "C", "A"]
    assert r["value_per_gbp"].tolist() == pytest.approx([0.1, 0.05, 0.036])
    assert r["score"].tolist() == pytest.approx([20.0, 10.0, 7.2])


def test_score_bids_when_rank_method_then_linear_by_rank(commitments: pd.DataFrame,
                                                         tiny: sv.ProxyTable) -> None:
    """Rank: weight x (n - rank + 1) / n."""
    r = score_bids(commitments, tables=tiny, method="rank", weighting=9)
    assert r["score"].tolist() == pytest.approx([9.0, 6.0, 3.0])
    assert "score by rank" in r.loc[0, "trace"]


def test_score_bids_when_delivered_rows_then_ignored(commitments: pd.DataFrame,
                                                     tiny: sv.ProxyTable) -> None:
    """Only commitments count; delivered rows are noted in the trace."""
    extra = commitments.iloc[[1]].assign(stage="delivered", quantity=1000)
    both = pd.concat([commitments.assign(stage="commitment"), extra], ignore_index=True)
    r = score_bids(both, tables=tiny)
    assert r.set_index("supplier_id").loc["B", "committed_gbp"] == Decimal("10000.00")
    assert "Ignored 1 delivered row(s)." in r.attrs["trace"]


def test_score_bids_when_bad_row_then_bulk_error_names_row(commitments: pd.DataFrame,
                                                           tiny: sv.ProxyTable) -> None:
    """A bad commitment stops the evaluation and is named by row and field."""
    commitments.loc[2, "unit"] = "hour"
    with pytest.raises(BulkValidationError, match="row 2 field 'unit'"):
        score_bids(commitments, tables=tiny)


@pytest.mark.parametrize("kwargs, message", [
    ({"basis": "per-gbp"}, "needs bid_prices"),
    ({"bid_prices": {"A": 1.0, "B": 1.0}}, "no bid price for supplier(s) C"),
    ({"bid_prices": {"A": 1.0, "B": 1.0, "C": 0.0}}, "must be positive"),
    ({"method": "median"}, "method"),
    ({"weighting": 0}, "weighting"),
])
def test_score_bids_when_misconfigured_then_value_error(commitments: pd.DataFrame,
                                                        tiny: sv.ProxyTable, kwargs: dict,
                                                        message: str) -> None:
    """Configuration mistakes are named."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score_bids(commitments, tables=tiny, **kwargs)


def test_scores_from_values_when_no_positive_value_then_zero() -> None:
    """Proportional scoring with no positive value gives everyone 0; ties share a rank."""
    assert scores_from_values(pd.Series({"a": -5.0, "b": 0.0})).tolist() == [0.0, 0.0]
    tied = scores_from_values(pd.Series({"a": 5.0, "b": 5.0, "c": 1.0}), method="rank",
                              weighting=3)
    assert tied.tolist() == [3.0, 3.0, 1.0]
