"""Bid scoring on committed social value (hand-computed from tiny.yaml).

A commits 2 FTE jobs-local in uk: 2 x 20,000 x 0.9 = 36,000; B 40 tCO2e: 10,000;
C 80 tCO2e: 20,000.
"""

from __future__ import annotations

import re
import warnings
from decimal import Decimal

import numpy as np
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
    assert trace[0] == ("Scoring 3 tenderer(s) on their committed social value (GBP), in "
                        "proportion to the best, out of 10 marks.")
    assert "Best value: 36,000.0000 GBP." in trace
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
    ({"bid_prices": {"A": 1.0, "B": 1.0}}, "no bid price for supplier(s) C: bid_prices, when "
     "given, prices every tenderer (basis='absolute' does not need them"),
    ({"bid_prices": {"A": 1.0, "B": 1.0}, "basis": "per-gbp"}, "no bid price for supplier(s) C"),
    ({"bid_prices": {"A": 1.0, "B": 1.0, "C": 0.0}}, "must be positive"),
    # A boolean is not a price (True would have been read as £1.00).
    ({"bid_prices": {"A": True, "B": 1e6, "C": 1e6}}, "no bid price for supplier(s) A"),
    ({"bid_prices": {"A": np.True_, "B": 1e6, "C": 1e6}}, "no bid price for supplier(s) A"),
    ({"method": "median"}, "method"),
    ({"weighting": 0}, "weighting"),
    ({"weighting": float("inf")}, "positive, finite"),
    ({"weighting": float("nan")}, "positive, finite"),
    ({"weighting": True}, "weighting must be a number"),
    ({"weighting": __import__("numpy").True_}, "weighting must be a number"),
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


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, "", "   "])
def test_score_bids_when_some_stages_missing_then_exclusions_net_them_as_commitments(
        tiny: sv.ProxyTable, missing: object) -> None:
    """A missing (or blank) stage is a commitment, so a priority hire and the local job it is
    part of are netted as when both rows say "commitment": 25,000 + max(0, 18,000 - 1 FTE
    claimed by the part) = 25,000, not 43,000. The caller's frame is left as it was."""
    row = {"supplier_id": "A", "unit": "FTE", "region": "uk", "date": "2024-06-01",
           "quantity": 1}
    given = pd.DataFrame([dict(row, measure="jobs-priority", stage="commitment"),
                          dict(row, measure="jobs-local", stage=missing)])
    before = given.copy()
    r = score_bids(given, tables=tiny)
    assert r["committed_gbp"].tolist() == [Decimal("25000.00")]
    same = score_bids(given.assign(stage="commitment"), tables=tiny)
    assert r["committed_gbp"].tolist() == same["committed_gbp"].tolist()
    pd.testing.assert_frame_equal(given, before)


def test_score_bids_when_stage_column_mixes_missing_and_bad_then_bad_row_named(
        tiny: sv.ProxyTable, commitments: pd.DataFrame) -> None:
    """Filling in missing stages does not hide a bad one: it is named by the caller's row,
    as the caller wrote it."""
    given = commitments.assign(stage=[None, "promised", " "])
    with pytest.raises(BulkValidationError, match="row 1 field 'stage'") as err:
        score_bids(given, tables=tiny)
    assert "'promised'" in str(err.value)
    assert [i.row for i in err.value.issues] == [1]


_FORMULA = re.compile(r"score(?: by rank)? = (?:(?P<expr>[^=]+) = )?(?P<score>-?\d+\.\d\d)$")


def _trace_checks(r: pd.DataFrame) -> None:
    """Each tenderer's trace line shows arithmetic that gives the score it shows (and that score
    is the one in the result), evaluated from the text alone: ``x`` is times, thousands
    separators are dropped. A line with no formula must say why the score is 0."""
    assert r["trace"].tolist() == r.attrs["trace"][-len(r):]
    for line, score in zip(r["trace"], r["score"], strict=True):
        found = _FORMULA.search(line)
        assert found, line
        if found["expr"] is None:  # proportional with no positive bid: no formula, 0
            assert "no bid has a positive value" in line and found["score"] == "0.00", line
            assert score == 0.0
            continue
        expr = re.sub(r",(?=\d)", "", found["expr"]).replace(" x ", " * ")
        assert re.fullmatch(r"(?:max|[\d.\s*/()+\-,])+", expr), line
        shown = eval(expr, {"__builtins__": {}, "max": max})  # our own trace text
        assert f"{shown + 0.0:.2f}" == found["score"], line
        assert f"{score + 0.0:.2f}" == found["score"], line


def test_score_bids_trace_when_net_disbenefit_then_shown_formula_gives_zero(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A bid whose disbenefits outweigh its benefits scores 0, and its trace line says so in
    arithmetic that gives 0 (not 10 x -X / best, which would be negative)."""
    c = commitments.assign(measure=["jobs-local", "env-carbon", "env-carbon-added"])
    r = score_bids(c, tables=tiny, weighting=10)
    line = r.set_index("supplier_id").loc["C", "trace"]
    assert "committed -£20,000.00" in line
    assert "net disbenefit" in line
    assert "max(0, -20,000.0000)" in line
    _trace_checks(r)


def test_score_bids_when_bids_score_zero_then_they_share_a_rank_whatever_their_harm(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """Every bid scoring 0 shares one rank: a larger net disbenefit does not rank a bid below
    another scoring 0 too (the scores tie; the values only order bids whose positive float
    scores coincide). Bids are listed best first, then by supplier."""
    c = commitments.assign(measure=["jobs-local", "env-carbon-added", "env-carbon-added"],
                           quantity=[2, 80, 40])
    r = score_bids(c, tables=tiny, weighting=10)
    assert r[["rank", "supplier_id", "score"]].values.tolist() == [
        [1, "A", 10.0], [2, "B", 0.0], [2, "C", 0.0]]


def test_score_bids_trace_when_a_bid_commits_nothing_then_scored_by_the_formula(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A bid of exactly £0 is not a net disbenefit: its line is the proportional formula,
    giving 0."""
    c = commitments.assign(quantity=[2, 0, 1], measure="jobs-local", unit="FTE")
    r = score_bids(c, tables=tiny, weighting=10)
    line = r.set_index("supplier_id").loc["B", "trace"]
    assert "net disbenefit" not in line
    assert "10 x 0.0000 / 36,000.0000 = 0.00" in line
    _trace_checks(r)


@pytest.mark.parametrize("method", ["proportional", "rank"])
@pytest.mark.parametrize("basis", ["absolute", "per-gbp"])
def test_score_bids_trace_when_no_positive_value_then_no_division_by_zero_shown(
        commitments: pd.DataFrame, tiny: sv.ProxyTable, method: str, basis: str) -> None:
    """With no positive bid everyone scores 0 under proportional scoring: the trace says so
    rather than showing a division by a best value of 0 or less."""
    c = commitments.assign(measure="env-carbon-added", unit="tCO2e")
    prices = {"A": 1e6, "B": 1e6, "C": 1e6, "D": 1e6}
    r = score_bids(c, tables=tiny, method=method, basis=basis,  # type: ignore[arg-type]
                   bid_prices=prices)
    _trace_checks(r)
    if method == "proportional":
        assert r["score"].tolist() == [0.0] * 4
        assert any("no bid has a positive value" in line for line in r.attrs["trace"])


@pytest.mark.parametrize("method", ["proportional", "rank"])
def test_score_bids_trace_when_per_gbp_values_are_small_then_enough_digits_shown(
        commitments: pd.DataFrame, tiny: sv.ProxyTable, method: str) -> None:
    """Values per GBP of a large bid are far below 0.0001: the trace shows enough digits for
    its arithmetic to give the scores (not 10 x 0.0000 / 0.0000 = 10.00), and the per-GBP
    figures in each line agree with the formula."""
    prices = {"A": 3e9, "B": 7e9, "C": 2.5e9}
    r = score_bids(commitments, tables=tiny, bid_prices=prices, basis="per-gbp",
                   method=method)  # type: ignore[arg-type]
    _trace_checks(r)
    assert not any("0.0000 " in line for line in r["trace"])
    for line in r["trace"]:
        assert "(0.000" in line  # 3.6e-05 per GBP and the like, with significant digits


def test_score_bids_trace_when_a_bid_is_not_whole_pence_shows_it_in_full(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A bid of £0.003 was shown as "bid £0.00" beside its value per GBP, which a moderator
    could not check by hand; whole-pence bids keep their pounds-and-pence form."""
    prices = {"A": 0.003, "B": 7e6, "C": 1234.5}
    r = score_bids(commitments, tables=tiny, bid_prices=prices, basis="per-gbp")
    _trace_checks(r)
    line = {t.split(":")[0]: t for t in r["trace"]}
    assert ", bid £0.003 (12,000,000.0000 per GBP)" in line["A"]
    assert ", bid £7,000,000.00 (" in line["B"] and ", bid £1,234.50 (" in line["C"]


def test_score_bids_trace_when_weighting_has_many_digits_then_shown_exactly(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """The weighting in each formula is the one used, not rounded to six digits."""
    r = score_bids(commitments, tables=tiny, weighting=12.3456789)
    assert "out of 12.3456789 marks" in r.attrs["trace"][0]
    _trace_checks(r)
    ranked = score_bids(commitments, tables=tiny, weighting=12.3456789, method="rank")
    _trace_checks(ranked)


def test_score_bids_trace_when_random_bids_then_arithmetic_always_gives_the_score(
        commitments: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """Seeded random bid prices and weightings: every trace line's arithmetic reproduces its
    score to the 2 decimals shown, by either basis and method."""
    rng = np.random.default_rng(20240930)
    c = commitments.assign(quantity=[3, 41, 77])
    for _ in range(25):
        prices = dict(zip("ABCD", (10 ** rng.uniform(2, 10, size=4)).tolist(), strict=True))
        weighting = float(rng.uniform(0.5, 100))
        for basis in ("absolute", "per-gbp"):
            for method in ("proportional", "rank"):
                _trace_checks(score_bids(c, tables=tiny, bid_prices=prices, basis=basis,
                                         method=method, weighting=weighting))


def test_score_bids_when_a_score_is_a_half_then_shown_rounded_away_from_zero(
        tiny: sv.ProxyTable) -> None:
    """10 x 2,675 / 10,000 is 2.675 exactly by hand (a float holds 2.67499999...): the trace
    shows 2.68, as a moderator rounds it and as the library rounds money, not Python's 2.67."""
    bids = pd.DataFrame({"supplier_id": ["A", "B", "C"], "measure": "env-carbon",
                         "quantity": [10.7, 40, 0.5], "unit": "tCO2e", "region": "uk",
                         "date": "2024-05-01"})
    scored = score_bids(bids, tables=tiny, weighting=10)
    lines = "\n".join(scored.attrs["trace"])
    assert "score = 10 x 2,675.0000 / 10,000.0000 = 2.68" in lines
    assert "score = 10 x 125.0000 / 10,000.0000 = 0.13" in lines


@pytest.mark.parametrize("weighting", [1_000_000, 1e6, 20 / 3, 0.001])
def test_score_bids_when_the_weighting_is_large_or_odd_then_scores_and_trace_without_error(
        tiny: sv.ProxyTable, weighting: float) -> None:
    """Any weighting up to a million marks is accepted, and the best bid scores it exactly:
    20/3 (a third of 20%) rounded to 10 decimals went past the marks available."""
    bids = pd.DataFrame({"supplier_id": ["A", "B"], "measure": "env-carbon",
                         "quantity": [1.0, 2.0], "unit": "tCO2e", "region": "uk",
                         "date": "2024-05-01"})
    scored = score_bids(bids, tables=tiny, weighting=weighting)
    assert scored["score"].tolist() == pytest.approx([weighting, weighting / 2], rel=1e-9)
    assert scored["score"].max() <= weighting
    assert len(scored["trace"]) == 2


@pytest.mark.parametrize("weighting", [1_000_001, 1e20, 1e300, 2**80])
def test_score_bids_when_the_weighting_is_beyond_any_tender_then_refused(
        tiny: sv.ProxyTable, weighting: float) -> None:
    """A bid-scoring review: 1e300 overflowed proportional scores (a RuleError about an
    infinite amount) and 2**80 printed formulas no one could reproduce by hand."""
    bids = _carbon_bids({"A": 40.0, "B": 80.0})
    with pytest.raises(sv.RuleError, match="at most 1,000,000") as info:
        score_bids(bids, tables=tiny, weighting=weighting)
    assert info.value.field == "weighting"


@pytest.mark.parametrize(("price", "words"), [
    (10**400, "not a number a float holds"), (Decimal("1e400"), "not a number a float holds"),
    (float("inf"), "not a number a float holds"), ("1e6", "is text, not a number"),
    ("1,000,000", "is text, not a number")])
def test_score_bids_when_a_bid_price_is_text_or_beyond_a_float_then_refused(
        tiny: sv.ProxyTable, price: object, words: str) -> None:
    """A bid-scoring review: 10**400 raised a bare OverflowError, and "1e6" was read as a
    million pounds, where money refuses text."""
    with pytest.raises(sv.RuleError, match=words) as info:
        score_bids(_carbon_bids({"A": 40.0, "B": 80.0}), tables=tiny,
                   bid_prices={"A": price, "B": 1e6}, basis="per-gbp")
    assert info.value.field == "bid_prices"


def test_scores_from_values_when_a_value_is_infinite_then_refused() -> None:
    """inf / inf is NaN, which scored 0: the best bid got nothing, and every other bid too."""
    from socialvalue_tom.bids import scores_from_values

    with pytest.raises(sv.RuleError, match="finite"):
        scores_from_values(pd.Series({"a": float("inf"), "b": 5.0}))
    assert scores_from_values(pd.Series({"a": float("nan"), "b": 5.0})).tolist() == [0.0, 10.0]


def test_score_bids_when_a_bid_price_key_reads_as_a_rows_tenderer_says_so(
        tiny: sv.ProxyTable) -> None:
    """A bid-scoring review: bid_prices keyed 'b' beside rows of 'B' added a tenderer on
    nothing committed without a word, moving every rank score (A's from 5.00 to 6.67)."""
    bids = _carbon_bids({"A": 40.0, "B": 80.0})
    with pytest.warns(sv.SocialValueWarning, match="bid_prices names 'b'"):
        scored = score_bids(bids, tables=tiny, method="rank",
                            bid_prices={"A": 1e6, "B": 1e6, "b": 1e6})
    assert scored["supplier_id"].tolist() == ["B", "A", "b"]
    assert any(line.startswith("Note: bid_prices names 'b', which no commitment row names, "
                               "beside 'B' of the rows") for line in scored.attrs["trace"])
    spaced = _carbon_bids({"Acme Ltd": 40.0, "B": 80.0})
    with pytest.warns(sv.SocialValueWarning, match="'Acme  Ltd'"):
        score_bids(spaced, tables=tiny, bid_prices={"Acme  Ltd": 1e6, "Acme Ltd": 1e6,
                                                    "B": 1e6})


def test_score_bids_when_one_tender_leaves_its_grades_out_names_it(
        tiny: sv.ProxyTable) -> None:
    """A bid-scoring review: A graded C (reduced by 40%) lost to the same commitment left
    ungraded by B, counted in full, and the trace named no tenderer. It names B, with a
    warning; with grades not applied there is nothing to say."""
    bids = _carbon_bids({"A": 40.0, "B": 40.0}).assign(confidence=["C", None])
    with pytest.warns(sv.SocialValueWarning, match="Commitment rows of B give no confidence"):
        scored = score_bids(bids, tables=tiny)
    assert scored["supplier_id"].tolist() == ["B", "A"]
    assert any(line.startswith("Note: Commitment rows of B give no confidence grade")
               for line in scored.attrs["trace"])
    # Said once: in place of the report's count of ungraded rows (a diff re-read).
    assert not any("row(s) give no confidence grade" in line for line in scored.attrs["trace"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)  # tiny's values
        off = score_bids(bids, tables=tiny, assumptions={"apply_confidence": False})
        graded = score_bids(bids.assign(confidence=["C", "C"]), tables=tiny)
    assert off["score"].tolist() == [10.0, 10.0]
    assert graded["score"].tolist() == [10.0, 10.0]


def _carbon_bids(quantities: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"supplier_id": list(quantities), "measure": "env-carbon",
                         "quantity": list(quantities.values()), "unit": "tCO2e",
                         "region": "uk", "date": "2024-06-01"})


@pytest.mark.parametrize(("quantities", "prices"), [
    ({"A": 160.0004, "B": 480.0012}, {"A": 1_000_000, "B": 3_000_000}),  # £40,000.10 : £1m
    ({"A": 0.0004, "B": 0.0012}, {"A": 1, "B": 3}),  # £0.10 : £1 and £0.30 : £3
])
def test_score_bids_per_gbp_when_ratios_equal_then_bids_tie(
        tiny: sv.ProxyTable, quantities: dict[str, float], prices: dict[str, float]) -> None:
    """Equal value per GBP is a tie under either method: the ratio is divided exactly (float
    division gave 0.0400001 and 0.040000100000000004, ranked 1 and 2, scored 10 and 5)."""
    for method in ("rank", "proportional"):
        r = score_bids(_carbon_bids(quantities), tables=tiny, bid_prices=prices,
                       basis="per-gbp", method=method)  # type: ignore[arg-type]
        assert r["rank"].tolist() == [1, 1] and r["score"].tolist() == [10.0, 10.0], method
        assert r["value_per_gbp"].iloc[0] == r["value_per_gbp"].iloc[1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bid_prices": pd.Series([100_000.0, 900_000.0, 200_000.0], index=["A", "A", "B"])},
     "bid_prices gives supplier A more than one price"),
    ({"bid_prices": {"A": 1e-310, "B": 1.0}, "basis": "per-gbp"},
     "bid price 1e-310 for supplier A is too small"),
    ({"weighting": Decimal("10")}, "weighting must be a number"),
    ({"weighting": "10"}, "weighting must be a number"),
    ({"weighting": 10**400}, "weighting must be a positive, finite number"),
])
def test_score_bids_when_prices_or_weighting_unusable_then_rule_error(
        tiny: sv.ProxyTable, kwargs: dict[str, object], message: str) -> None:
    """A repeated price label was read as its last price, silently; the others raised bare
    TypeError, OverflowError or decimal.InvalidOperation."""
    with pytest.raises(RuleError, match=re.escape(message)):
        score_bids(_carbon_bids({"A": 40, "B": 80}), tables=tiny, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("column", ["supplier_id", "stage"])
def test_score_bids_when_a_column_is_given_twice_then_outcome_error(
        tiny: sv.ProxyTable, column: str) -> None:
    df = _carbon_bids({"A": 40, "B": 80}).assign(stage="commitment")
    with pytest.raises(sv.OutcomeError, match=f"duplicated column.*{column}"):
        score_bids(pd.concat([df, df[[column]]], axis=1), tables=tiny)


@pytest.mark.parametrize(("weighting", "pounds"), [(0.01, 40_000_000.0), (10.0, 1e11)])
def test_bids_a_few_pence_apart_are_ranked_apart(weighting: float, pounds: float) -> None:
    """Ranks were taken from the scores shown (10 decimals): 0.01 x 14,999,999.97 / 15,000,000
    shows as 0.01, so the lower bid shared rank 1 and was listed first (by its id)."""
    rows = pd.DataFrame({"supplier_id": ["Z", "A"], "measure": ["growth-local-spend"] * 2,
                         "quantity": [pounds, pounds - 0.08], "unit": ["GBP"] * 2,
                         "region": ["uk"] * 2, "date": ["2024-05-01"] * 2})
    with pytest.warns(sv.IllustrativeValueWarning):
        out = score_bids(rows, weighting=weighting)
    assert out[["rank", "supplier_id"]].values.tolist() == [[1, "Z"], [2, "A"]]
    assert out["committed_gbp"].iloc[0] > out["committed_gbp"].iloc[1]
    with pytest.warns(sv.IllustrativeValueWarning):
        equal = score_bids(rows.assign(quantity=pounds), weighting=weighting)
    assert equal[["rank", "supplier_id"]].values.tolist() == [[1, "A"], [1, "Z"]]


def test_a_tenderer_with_only_delivered_rows_is_named_in_the_trace() -> None:
    rows = pd.DataFrame({"supplier_id": ["A", "B", "C"], "measure": ["jobs-local-fte"] * 3,
                         "quantity": [1.0] * 3, "unit": ["FTE"] * 3, "region": ["uk"] * 3,
                         "date": ["2024-05-01"] * 3,
                         "stage": ["commitment", "commitment", "delivered"]})
    out = score_bids(rows, method="rank")
    assert out["supplier_id"].tolist() == ["A", "B"]
    assert any(line.startswith("Not scored: C, whose rows are all delivered")
               for line in out.attrs["trace"])


def test_delivered_rows_never_stop_an_evaluation() -> None:
    """Ids of ignored rows that read alike (1 and "1") are not refused: delivered rows are
    ignored, as documented, and only named in the trace."""
    rows = pd.DataFrame({"supplier_id": pd.Series(["A", 1, "1"], dtype=object),
                         "measure": ["jobs-local-fte"] * 3, "quantity": [1.0] * 3,
                         "unit": ["FTE"] * 3, "region": ["uk"] * 3, "date": ["2024-05-01"] * 3,
                         "stage": ["commitment", "delivered", "delivered"]})
    out = score_bids(rows)
    assert out["supplier_id"].tolist() == ["A"]
    assert any(line.startswith("Not scored: 1,") for line in out.attrs["trace"])


def test_score_bids_when_tenders_are_dated_into_two_editions_warns_and_notes_the_basis(
        ) -> None:
    """The same 1 FTE for 3 years, dated at tender (2024/25 prices) by A and at contract
    start (2025/26) by B: B won on basis alone (£86,693.32 against £82,328.12); the trace and
    a warning say so, and a common price year and discount base year reverse the ranking."""
    import warnings

    bids = pd.DataFrame({"supplier_id": ["A", "B"], "measure": "jobs-local-fte",
                         "quantity": 1, "unit": "FTE", "region": "uk", "years": 3,
                         "date": ["2024-10-01", "2025-04-01"]})
    with pytest.warns(sv.SocialValueWarning) as both:
        mixed = score_bids(bids)
    said = [str(w.message) for w in both]
    assert any(re.search("more than one basis.*price_year", m) for m in said), said
    assert any("more than one edition" in m for m in said), said
    assert mixed["supplier_id"].tolist() == ["B", "A"]
    assert mixed["committed_gbp"].tolist() == [Decimal("86693.32"), Decimal("82328.12")]
    assert any(line.startswith("Note: Values are in the prices of each edition's own year "
                               "(2024/25, 2025/26)") for line in mixed.attrs["trace"])
    # One year for prices and discounting (as the notes ask): one basis, but still two
    # editions, which a bid-scoring review found went unsaid; the ranking is reversed.
    with pytest.warns(sv.SocialValueWarning, match="more than one edition") as caught:
        common = score_bids(bids, assumptions={"price_year": 2024, "discount_base_year": 2024})
    assert not any("more than one basis" in str(w.message) for w in caught)
    assert common["supplier_id"].tolist() == ["A", "B"]
    assert common["committed_gbp"].tolist() == [Decimal("82328.12"), Decimal("81133.90")]
    assert not any("Values are" in line for line in common.attrs["trace"])
    assert any(line.startswith("Note: Commitments are valued with 2 editions (uk-national:2024, "
                               "uk-national:2025)") for line in common.attrs["trace"])
    # Dated alike, at the evaluation date: one edition and one basis, nothing to warn of.
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        alike = score_bids(bids.assign(date="2024-10-01"))
    assert alike["committed_gbp"].tolist() == [Decimal("82328.12")] * 2


def test_score_bids_when_a_commitment_uses_an_illustrative_value_the_trace_says_whose(
        commitments: pd.DataFrame) -> None:
    """The evaluation record named no placeholder: only a Python warning did."""
    tiny = sv.load_table(path="tests/data/tables/tiny.yaml")
    with pytest.warns(sv.IllustrativeValueWarning):
        scores = score_bids(commitments, tables=tiny)
    notes = [line for line in scores.attrs["trace"] if line.startswith("ILLUSTRATIVE")]
    assert len(notes) == 1 and notes[0].startswith(
        "ILLUSTRATIVE: the commitments of A, B, C are valued in part with proxy values labelled "
        "illustrative (placeholders, not published figures): A £")
    assert notes[0].endswith(" Not for decisions.")
    # Each tenderer's amount resting on them, of its committed total (a supplier's review).
    for r in scores.itertuples():
        assert f"{r.supplier_id} £" in notes[0] and f"of {sv.money.format_gbp(r.committed_gbp)}" \
            in notes[0]


def test_score_bids_with_prices_keyed_as_the_rows_and_all_rows_ungraded_says_nothing(
        tiny: sv.ProxyTable) -> None:
    """Mutation review: the notes must not fire where nothing is amiss."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        priced = score_bids(_carbon_bids({"A": 40.0, "B": 80.0}), tables=tiny,
                            bid_prices={"A": 1e6, "B": 2e6})
        ungraded = score_bids(_carbon_bids({"A": 40.0, "B": 80.0}).assign(
            confidence=[None, None]), tables=tiny)
    assert not any("bid_prices names" in line for line in priced.attrs["trace"])
    assert not any("confidence grade" in line for line in ungraded.attrs["trace"])


def test_score_bids_illustrative_note_says_when_placeholders_alone_decide_the_order(
        tiny: sv.ProxyTable) -> None:
    """A review: two tenders resting wholly on placeholder values tie at GBP 0 without them,
    and the note, ordering ties by name, said nothing; a tender at GBP 0 beside one resting on
    placeholders was said to lead without them. Tied tenderers are written together."""
    import warnings

    def note(rows: list[tuple[str, str, float]]) -> str:
        df = pd.DataFrame([{"supplier_id": s, "stage": "commitment", "measure": m,
                            "quantity": q, "unit": "GBP" if "spend" in m else "FTE",
                            "region": "uk", "date": "2024-06-01"} for s, m, q in rows])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sv.SocialValueWarning)
            scored = score_bids(df)
        return next(x for x in scored.attrs["trace"] if x.startswith("ILLUSTRATIVE"))

    both = note([("A", "growth-local-spend", 200_000.0), ("B", "growth-local-spend", 100_000.0)])
    assert "Without them the order would be A = B, not A, B." in both
    zero = note([("A", "jobs-local-fte", 0.0), ("B", "growth-local-spend", 100_000.0)])
    assert "Without them the order would be A = B, not B, A." in zero
    kept = note([("A", "jobs-local-fte", 5.0), ("B", "growth-local-spend", 100_000.0)])
    assert "Without them" not in kept  # A leads either way


def test_score_bids_names_tenderers_whose_rows_could_raise_their_score() -> None:
    """A tender evaluator's review: a tenderer's own displacement of 0 beat the tables' 0.25
    (and the caller's assumptions) silently; a priority hire under another contract_id, or
    dated in another financial year, was not netted against its local jobs; a row repeated
    counted twice. Each is warned of, naming the tenderer, and noted in the trace."""
    def rows(**changes: list[object]) -> pd.DataFrame:
        base: dict[str, list[object]] = {
            "supplier_id": ["A", "A", "B"], "contract_id": ["C1", "C1", "C1"],
            "measure": ["jobs-local-fte", "jobs-priority-ltu", "jobs-local-fte"],
            "quantity": [3, 3, 4], "unit": ["FTE"] * 3, "region": ["england"] * 3,
            "date": ["2025-06-01"] * 3}
        return pd.DataFrame({**base, **changes})

    cases = {
        "give their own displacement": rows(displacement=[0.0, None, None]),
        "name more than one contract_id": rows(contract_id=["C1", "C1-lot", "C1"]),
        "are dated under more than one edition": rows(date=["2025-03-31", "2025-04-01",
                                                            "2025-06-01"]),
        "repeat another row exactly": rows(measure=["jobs-local-fte"] * 3,
                                           quantity=[3, 3, 4]),
    }
    for words, frame in cases.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scored = score_bids(frame)
        assert any(isinstance(w.message, sv.SocialValueWarning)
                   and f"of A {words}" in str(w.message) for w in caught), words
        assert any(words in line and " A " in line for line in scored.attrs["trace"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        score_bids(rows())  # written alike: nothing to say


def _carbon_against_jobs(tonnes: float) -> pd.DataFrame:
    """A commits carbon saved (DESNZ 2024: low £150.41, central £300.82, high £451.23 a
    tonne), B one local FTE (£28,392.00, no recorded bound)."""
    return pd.DataFrame({"supplier_id": ["A", "B"],
                         "measure": ["env-carbon-saved", "jobs-local-fte"],
                         "quantity": [tonnes, 1], "unit": ["tCO2e", "FTE"],
                         "region": ["uk", "uk"], "date": ["2024-09-30"] * 2})


def test_score_bids_when_the_order_turns_within_the_proxy_range_then_noted_and_warned() -> None:
    """100 t is £30,082.00 central, above B's £28,392.00, but £15,041.00 at the low bound: the
    order is A, B at central and most-favourable values and B, A at least-favourable ones, and
    the record says so (an appraisal review: a ranking that flips within the range was scored
    without a word); scored at a bound, the note names the central order too."""
    with pytest.warns(sv.SocialValueWarning, match="order of the tenders changes"):
        scored = score_bids(_carbon_against_jobs(100))
    assert scored["supplier_id"].tolist() == ["A", "B"]
    assert scored["committed_gbp"].tolist() == [Decimal("30082.00"), Decimal("28392.00")]
    (note,) = [x for x in scored.attrs["trace"] if "order of the tenders" in x]
    assert note == (
        "Note: The order of the tenders changes within the proxies' recorded bounds: scored "
        "with central values, it is A, B; with least-favourable values (benefits at their low "
        "bound, disbenefits at their high one) it would be B, A. The scores turn on where in "
        "its range each proxy lies: give the range beside them.")
    with pytest.warns(sv.SocialValueWarning, match="order of the tenders changes"):
        low = score_bids(_carbon_against_jobs(100), assumptions={"bound": "least-favourable"})
    assert low["supplier_id"].tolist() == ["B", "A"]
    (note,) = [x for x in low.attrs["trace"] if "order of the tenders" in x]
    assert "scored with least-favourable values (benefits at their low bound, disbenefits " \
        "at their high one), it is B, A; with central values it would be A, B; with " \
        "most-favourable values" in note


@pytest.mark.parametrize("tonnes", [200, 50])
def test_score_bids_when_the_order_holds_across_the_range_then_no_note(tonnes: float) -> None:
    """200 t (£30,082.00 even at the low bound) wins everywhere, 50 t (£22,561.50 at the high
    bound) loses everywhere: no note, no warning; nor where no proxy records a bound."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        scored = score_bids(_carbon_against_jobs(tonnes))
        jobs = score_bids(_carbon_against_jobs(1).assign(measure="jobs-local-fte", unit="FTE",
                                                         quantity=[1, 2]))
    assert not [x for x in scored.attrs["trace"] + jobs.attrs["trace"]
                if "order of the tenders" in x]
