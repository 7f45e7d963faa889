"""Scoring tenderers on the social value they commit to in their bids.

Each tenderer's commitments (rows of outcomes with a ``supplier_id``) are valued with the same
rules as delivered outcomes, totalled to the penny, and scored out of ``weighting`` marks:

- ``method="proportional"`` (the usual public-sector formula): ``score = weighting x value /
  best value``, where *value* is the net committed social value (``basis="absolute"``) or the
  value per GBP of bid price (``basis="per-gbp"``). A bid with no positive value scores 0.
- ``method="rank"``: bids are ranked (ties share the better rank) and
  ``score = weighting x (n - rank + 1) / n`` for ``n`` bids, so the best scores full marks and
  the worst ``weighting / n``.

Every step is written to an evaluation trace (``result.attrs["trace"]``, one line per step, and
a ``trace`` column per tenderer) so a moderation panel can check the arithmetic.

Examples:
    >>> import pandas as pd
    >>> scores_from_values(pd.Series({"a": 100.0, "b": 50.0}), weighting=10.0)
    a    10.0
    b     5.0
    dtype: float64

Added in 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from socialvalue_tom.engine import TablesLike
from socialvalue_tom.money import format_gbp, total
from socialvalue_tom.outcome import Assumptions

__all__ = ["Basis", "Method", "score_bids", "scores_from_values"]

Method = Literal["proportional", "rank"]
Basis = Literal["absolute", "per-gbp"]
SCORE_COLUMNS = ["rank", "supplier_id", "committed_gbp", "bid_price_gbp", "value_per_gbp",
                 "score", "trace"]


def scores_from_values(values: pd.Series, *, weighting: float = 10.0,
                       method: Method = "proportional") -> pd.Series:
    """Scores out of ``weighting`` for the values in ``values`` (index: tenderer).

    See the module docstring for the formulas. NaN values score 0.
    """
    if method not in ("proportional", "rank"):
        raise ValueError(f"method must be 'proportional' or 'rank', not {method!r}")
    if not weighting > 0:
        raise ValueError(f"weighting must be positive, not {weighting!r}")
    vals = values.astype("float64")
    if method == "proportional":
        best = vals.max(skipna=True)
        if not best > 0:
            return pd.Series(0.0, index=values.index)
        return (weighting * vals.clip(lower=0) / best).fillna(0.0)
    ranks = vals.rank(method="min", ascending=False)
    n = len(vals)
    return (weighting * (n - ranks + 1) / n).fillna(0.0)


def _prices(bid_prices: Mapping[str, float] | pd.Series | None,
            suppliers: list[str]) -> pd.Series:
    if bid_prices is None:
        return pd.Series(np.nan, index=suppliers, dtype="float64")
    prices = pd.Series(dict(bid_prices), dtype="float64").reindex(suppliers)
    missing = prices.index[prices.isna()].tolist()
    if missing:
        raise ValueError(f"no bid price for supplier(s) {', '.join(map(str, missing))}")
    bad = prices.index[prices <= 0].tolist()
    if bad:
        raise ValueError(f"bid price must be positive for supplier(s) {', '.join(map(str, bad))}")
    return prices


def score_bids(commitments: pd.DataFrame, *, tables: TablesLike = "uk-national",
               bid_prices: Mapping[str, float] | pd.Series | None = None,
               weighting: float = 10.0, method: Method = "proportional",
               basis: Basis = "absolute", assumptions: Assumptions | None = None) -> pd.DataFrame:
    """Rank tenderers on their committed social value.

    Args:
        commitments: outcome rows (as :func:`~socialvalue_tom.frame.value_frame` reads) with a
            ``supplier_id`` column; rows whose ``stage`` is ``delivered`` are ignored.
        tables: the tables to value with (family name, edition or editions).
        bid_prices: each tenderer's bid price in GBP; needed for ``basis="per-gbp"`` and
            otherwise used to report value per GBP.
        weighting: the marks available for social value (e.g. 10 for a 10% weighting).
        method: ``"proportional"`` or ``"rank"`` (see the module docstring).
        basis: score on ``"absolute"`` committed value or value ``"per-gbp"`` of bid price.
        assumptions: caller-level :class:`~socialvalue_tom.Assumptions`.

    Returns:
        One row per tenderer, best first: ``rank``, ``supplier_id``, ``committed_gbp``
        (:class:`~decimal.Decimal`), ``bid_price_gbp``, ``value_per_gbp``, ``score`` and
        ``trace`` (how the score was reached). ``attrs["trace"]`` holds the whole evaluation
        trace as a list of lines. Any bad commitment row raises
        :class:`~socialvalue_tom.BulkValidationError` naming the row and field.
    """
    from socialvalue_tom.frame import value_frame

    if "supplier_id" not in commitments.columns:
        raise ValueError("commitments need a supplier_id column naming each tenderer")
    if basis not in ("absolute", "per-gbp"):
        raise ValueError(f"basis must be 'absolute' or 'per-gbp', not {basis!r}")
    rows = commitments
    trace = [f"Scoring {commitments['supplier_id'].nunique()} tenderer(s) by {method} on "
             f"{basis} committed social value, out of {weighting:g} marks."]
    if "stage" in commitments.columns:
        rows = commitments[commitments["stage"].fillna("commitment") != "delivered"]
        if len(rows) < len(commitments):
            trace.append(f"Ignored {len(commitments) - len(rows)} delivered row(s).")
    valued = value_frame(rows, tables, errors="raise", assumptions=assumptions)
    trace.append("Valued with " + ", ".join(valued.attrs["socialvalue_tom"]["editions"]) + ".")
    suppliers = sorted(str(s) for s in rows["supplier_id"].dropna().unique())
    committed = {s: total(valued.loc[valued["supplier_id"].astype(str) == s, "value_gbp"])
                 for s in suppliers}
    prices = _prices(bid_prices, suppliers)
    if basis == "per-gbp" and bid_prices is None:
        raise ValueError("basis='per-gbp' needs bid_prices")
    per_gbp = pd.Series({s: float(committed[s]) / prices[s] for s in suppliers}, dtype="float64")
    basis_values = (pd.Series({s: float(v) for s, v in committed.items()}, dtype="float64")
                    if basis == "absolute" else per_gbp)
    scores = scores_from_values(basis_values, weighting=weighting, method=method)
    return _result(suppliers, committed, prices, per_gbp, basis_values, scores, trace,
                   weighting, method)


def _line(s: str, committed: Decimal, price: float, basis_value: float, best: float,
          score: float, weighting: float, method: Method) -> str:
    head = f"{s}: committed {format_gbp(committed)}"
    if not np.isnan(price):
        head += f", bid {format_gbp(price)} ({float(committed) / price:.4f} per GBP)"
    if method == "proportional":
        return (f"{head}; score = {weighting:g} x {basis_value:,.4f} / {best:,.4f} "
                f"= {score:.2f}")
    return f"{head}; score by rank = {score:.2f}"


def _result(suppliers: list[str], committed: dict[str, Decimal], prices: pd.Series,
            per_gbp: pd.Series, basis_values: pd.Series, scores: pd.Series, trace: list[str],
            weighting: float, method: Method) -> pd.DataFrame:
    best = float(basis_values.max()) if len(basis_values) else float("nan")
    if method == "proportional":
        trace.append(f"Best value: {best:,.4f}.")
    lines = {s: _line(s, committed[s], float(prices[s]), float(basis_values[s]), best,
                      float(scores[s]), weighting, method) for s in suppliers}
    frame = pd.DataFrame({
        "supplier_id": suppliers,
        "committed_gbp": [committed[s] for s in suppliers],
        "bid_price_gbp": [float(prices[s]) for s in suppliers],
        "value_per_gbp": [float(per_gbp[s]) for s in suppliers],
        "score": [round(float(scores[s]), 10) for s in suppliers],
        "trace": [lines[s] for s in suppliers],
    })
    frame = frame.sort_values(["score", "supplier_id"], ascending=[False, True], kind="stable")
    frame.insert(0, "rank", frame["score"].rank(method="min", ascending=False).astype(int))
    frame = frame.reset_index(drop=True)
    trace += frame["trace"].tolist()
    frame.attrs["trace"] = trace
    return frame[SCORE_COLUMNS]
