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
from socialvalue_tom.errors import BulkValidationError, RuleError


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


@pytest.mark.parametrize(("delivered", "committed"), [("delivered", "commitment"),
                                                       ("delivered ", " commitment")])
def test_score_bids_when_delivered_rows_then_ignored(commitments: pd.DataFrame,
                                                     tiny: sv.ProxyTable, delivered: str,
                                                     committed: str) -> None:
    """Only commitments count; delivered rows are noted in the trace. Stage text is read as
    validation reads it: ' delivered' passes as delivered, so it is not a commitment."""
    extra = commitments.iloc[[1]].assign(stage=delivered, quantity=1000)
    both = pd.concat([commitments.assign(stage=committed), extra], ignore_index=True)
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
    ({"weighting": float("inf")}, "positive, finite"),
    ({"weighting": float("nan")}, "positive, finite"),
    ({"weighting": True}, "positive, finite"),
    ({"weighting": __import__("numpy").True_}, "positive, finite"),
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


def test_score_bids_when_numeric_ids_then_bid_prices_matched_as_text(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """Supplier ids and bid_prices keys are compared as text on both sides."""
    numeric = commitments.assign(supplier_id=[1, 2, 3])
    r = score_bids(numeric, tables=tiny, bid_prices={1: 1e6, 2: 1e5, "3": 4e5}, basis="per-gbp")
    assert r["supplier_id"].tolist() == ["2", "3", "1"]


@pytest.mark.parametrize("ids, prices", [
    ([1, "1", "C"], None),
    (["A", "A ", "C"], None),
    (["7", 7.0, "C"], None),
    (["A", "B", "C"], {"A": 1.0, "B": 1.0, "C": 1.0, " C": 2.0}),
])
def test_score_bids_when_two_ids_read_the_same_then_rule_error(
        commitments: pd.DataFrame, tiny: sv.ProxyTable, ids: list, prices: dict | None) -> None:
    """Two different ids that read as the same tenderer are refused, not merged or crashed."""
    with pytest.raises(RuleError, match="same tenderer"):
        score_bids(commitments.assign(supplier_id=ids), tables=tiny, bid_prices=prices)


def test_score_bids_when_commitment_has_no_supplier_then_rule_error(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A commitment nobody made cannot be scored nor silently dropped."""
    commitments["supplier_id"] = ["A", None, " "]
    with pytest.raises(RuleError, match=r"row\(s\) 1, 2"):
        score_bids(commitments, tables=tiny)


def test_score_bids_when_bidder_has_no_commitments_then_scored_zero(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A bidder in bid_prices with no commitment rows is scored on 0 and counts in n."""
    prices = {"A": 1.0, "B": 1.0, "C": 1.0, "D": 1.0}
    r = score_bids(commitments, tables=tiny, bid_prices=prices, method="rank", weighting=8)
    assert r["supplier_id"].tolist() == ["A", "C", "B", "D"]
    assert r["committed_gbp"].tolist()[-1] == Decimal("0.00")
    assert r["score"].tolist() == pytest.approx([8.0, 6.0, 4.0, 2.0])
    assert r.attrs["trace"][0].startswith("Scoring 4 tenderer(s)")


def test_score_bids_when_only_delivered_rows_then_not_counted_as_tenderer(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """The trace header counts the tenderers scored, not suppliers with only delivered rows."""
    extra = commitments.iloc[[1]].assign(stage="delivered", supplier_id="Z")
    r = score_bids(pd.concat([commitments, extra], ignore_index=True), tables=tiny)
    assert r["supplier_id"].tolist() == ["A", "C", "B"]
    assert r.attrs["trace"][0].startswith("Scoring 3 tenderer(s)")


def test_score_bids_when_misconfigured_then_social_value_error(commitments: pd.DataFrame,
                                                              tiny: sv.ProxyTable) -> None:
    """Configuration mistakes are typed (and still ValueErrors)."""
    with pytest.raises(RuleError):
        score_bids(commitments, tables=tiny, basis="per-gbp")
    with pytest.raises(RuleError):
        score_bids(commitments, tables=tiny, method="median")  # type: ignore[arg-type]
    with pytest.raises(sv.SocialValueError, match="supplier_id"):
        score_bids(commitments.drop(columns="supplier_id"), tables=tiny)


def test_score_bids_when_bad_row_after_delivered_rows_then_named_by_input_row(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """Row numbers in the error are the caller's, not positions among the commitments."""
    delivered = commitments.iloc[[0]].assign(stage="delivered")
    both = pd.concat([delivered, commitments.assign(stage="commitment")], ignore_index=True)
    both.loc[3, "unit"] = "hour"
    with pytest.raises(BulkValidationError, match="row 3 field 'unit'") as err:
        score_bids(both, tables=tiny)
    assert [i.row for i in err.value.issues] == [3]


def test_score_bids_trace_names_only_the_editions_the_rows_used(
        commitments: pd.DataFrame) -> None:
    """Rows dated 2024 are valued with uk-national:2024 alone: the moderation trace names that
    edition and its digest, not every edition of the family."""
    bids = commitments.assign(measure=["jobs-local-fte", "env-carbon-saved",
                                       "env-carbon-saved"])
    r = score_bids(bids, tables="uk-national", weighting=10)
    edition = sv.load_table("uk-national", version="2024")
    assert f"Valued with uk-national:2024 (digest {edition.digest[:12]})." in r.attrs["trace"]
    assert not any("2023" in line or "2025" in line for line in r.attrs["trace"][:3])
