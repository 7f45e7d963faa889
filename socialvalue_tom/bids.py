"""Scoring tenderers on the social value they commit to in their bids.

Each tenderer's commitments (rows of outcomes with a ``supplier_id``) are valued with the same
rules as delivered outcomes, totalled to the penny, and scored out of ``weighting`` marks:

- ``method="proportional"`` (the usual public-sector formula): ``score = weighting x value /
  best value``, where *value* is the net committed social value (``basis="absolute"``) or the
  value per GBP of bid price (``basis="per-gbp"``). A bid with no positive value (a net
  disbenefit, or nothing) scores 0; with no positive bid at all, every bid scores 0.
- ``method="rank"``: bids are ranked (ties share the better rank) and
  ``score = weighting x (n - rank + 1) / n`` for ``n`` bids, so the best scores full marks and
  the worst ``weighting / n``.

Every step is written to an evaluation trace (``result.attrs["trace"]``, one line per step, and
a ``trace`` column per tenderer) so a moderation panel can check the arithmetic: each tenderer's
line shows the formula with the numbers used (the weighting as given, values with enough digits
that the formula gives the score shown to its two decimals), e.g.
``score = 10 x 20,000.0000 / 36,000.0000 = 5.56``,
``score = 10 x max(0, -1,864.2000) / 36,000.0000 = 0.00`` for a net disbenefit, or
``score by rank = 9 x (3 - 2 + 1) / 3 = 6.00`` (rank 2 of 3).

Examples:
    >>> import pandas as pd
    >>> scores_from_values(pd.Series({"a": 100.0, "b": 50.0}), weighting=10.0)
    a    10.0
    b     5.0
    dtype: float64

Added in 0.1.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Literal

import numpy as np
import pandas as pd

from socialvalue_tom._args import choice, frame, mapping
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import cell_codes, id_likeness, is_missing, key_text, shortened
from socialvalue_tom.engine import TablesLike
from socialvalue_tom.errors import (
    BulkValidationError,
    OutcomeError,
    RuleError,
    SocialValueWarning,
    illustrative_collected,
    outside_stacklevel,
    warn_illustrative,
)
from socialvalue_tom.money import format_gbp, to_pounds, total
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.trace import _money

__all__ = ["Basis", "Method", "score_bids", "scores_from_values"]

Method = Literal["proportional", "rank"]
Basis = Literal["absolute", "per-gbp"]
SCORE_COLUMNS = ["rank", "supplier_id", "committed_gbp", "bid_price_gbp", "value_per_gbp",
                 "score", "trace"]


#: The most marks ``weighting`` may give: tenders score out of 100 or 1,000 at most, and past
#: 2**53 a float no longer holds the marks the trace's formulas show.
MAX_WEIGHTING = 1_000_000


def scores_from_values(values: pd.Series, *, weighting: float = 10.0,
                       method: Method = "proportional") -> pd.Series:
    """Scores out of ``weighting`` for the values in ``values`` (index: tenderer).

    See the module docstring for the formulas. NaN values score 0. A bad ``method`` or
    ``weighting`` raises :class:`~socialvalue_tom.RuleError` (a ``ValueError``).
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"scores_from_values() needs a pandas Series of values (index: "
                        f"tenderer), not {type(values).__name__}")
    _check_scoring(weighting, method)
    vals = values.astype("float64")
    if np.isinf(vals.to_numpy()).any():
        # inf / inf is NaN, which scores 0: the best bid would get nothing.
        raise RuleError("values to score must be finite (NaN for a bid without one), not "
                        "infinite", field="values")
    if method == "proportional":
        best = vals.max(skipna=True)
        if not best > 0:
            return pd.Series(0.0, index=values.index)
        return (weighting * vals.clip(lower=0) / best).fillna(0.0)
    ranks = vals.rank(method="min", ascending=False)
    n = len(vals)
    return (weighting * (n - ranks + 1) / n).fillna(0.0)


def _editions_note(valued: pd.DataFrame) -> str:
    """The editions the valued rows used, with their digests (not every edition of the set):
    what a moderator needs to reproduce the scores."""
    used = _editions_used(valued)
    if not used:
        return "No row was valued."
    names = [f"{t}:{v} (digest {d[:12]})" for t, v, d in used]
    return "Valued with " + ", ".join(names) + "."


def _illustrative_note(valued: pd.DataFrame, keys: list[str | None], tables: TablesLike,
                       committed: dict[str, Decimal], prices: pd.Series, basis: str) -> str:
    """Which tenderers' committed values rest on proxy values labelled illustrative, how much
    of each, and the order the tenders would take without them where it differs (a
    supplier's review: one placeholder decided a ranking, and the note gave no amount)."""
    from socialvalue_tom.report import annotate

    flags = annotate(valued, tables)["illustrative"].astype("boolean").fillna(False).to_numpy(
        dtype=bool)
    values = valued["value_gbp"].to_numpy(dtype=np.float64)
    suppliers = list(committed)
    resting = _committed(np.where(flags, values, 0.0), keys, suppliers)
    resting_on = {k for f, k in zip(flags.tolist(), keys, strict=True) if f}  # one pass
    named = [s for s in suppliers if s in resting_on]
    shares = "; ".join(
        f"{s} {format_gbp(resting[s])} of {format_gbp(committed[s])}"
        + (f" ({float(resting[s] / committed[s]):.0%})" if committed[s] > 0 else "")
        for s in named)
    without = _committed(np.where(flags, 0.0, values), keys, suppliers)
    now, then = _standing(committed, prices, basis), _standing(without, prices, basis)
    turned = (f" Without them the order would be {_said(then)}, not {_said(now)}."
              if now != then else "")
    return (f"ILLUSTRATIVE: the commitments of {', '.join(named)} are valued in part with "
            f"proxy values labelled illustrative (placeholders, not published figures): "
            f"{shares}.{turned} Not for decisions.")


def _basis_values(committed: dict[str, Decimal], prices: pd.Series,
                  basis: str) -> tuple[pd.Series, pd.Series]:
    """Each tenderer's committed value per GBP of bid price (NaN with no price), and the
    values scored on ``basis``: the committed values, or those per GBP."""
    per_gbp = pd.Series({s: _per_gbp(s, v, float(prices[s])) for s, v in committed.items()},
                        dtype="float64")
    if basis != "absolute":
        return per_gbp, per_gbp
    return per_gbp, pd.Series({s: float(v) for s, v in committed.items()}, dtype="float64")


def _standing(committed: dict[str, Decimal], prices: pd.Series,
              basis: str) -> list[tuple[str, ...]]:
    """The tenderers best first on ``basis`` (committed value, or per GBP of bid price; no
    price last), tenderers tied on it together, by name: a tie is no order (a review: two
    tenders left at GBP 0 without placeholders read as "A, B", the order kept)."""
    values = _basis_values(committed, prices, basis)[1]
    groups: dict[float, list[str]] = {}
    for s in sorted(committed):
        v = float(values[s])
        groups.setdefault(-v if not math.isnan(v) else math.inf, []).append(s)
    return [tuple(groups[v]) for v in sorted(groups)]


def _said(standing: list[tuple[str, ...]]) -> str:
    """A standing as the note writes it: ``A, B = C`` (B and C tied)."""
    return ", ".join(" = ".join(tied) for tied in standing)


def _basis_notes(valued: pd.DataFrame, tables: TablesLike) -> list[str]:
    """What the committed values add together (``report.basis_notes``), for the trace; tenders
    valued in several price bases or discounted to several years are also warned of: a ranking
    can turn on how tenderers dated their rows, until a common ``price_year`` and
    ``discount_base_year`` put every tender on one basis."""
    from socialvalue_tom.report import basis_notes

    notes = basis_notes(valued, tables)
    mixed = [n for n in notes if n.startswith("Values are ")]
    if mixed:
        warnings.warn(SocialValueWarning(
            # The note names the options that put them on one (a contract manager's review:
            # both were always named, and a discount base year after a tender's first year
            # refuses its rows, where one-year rows need a common price year alone).
            f"tenders are compared on more than one basis. {mixed[0]}"),
            stacklevel=outside_stacklevel())
    editions = [f"{t}:{v}" for t, v, _ in _editions_used(valued)]
    if len(editions) > 1:
        # One basis of prices and discounting still leaves each row valued with the edition
        # in force at its date, whose proxies differ in real terms.
        note = (f"Commitments are valued with {len(editions)} editions "
                f"({', '.join(editions)}), each row with the one in force at its date: a "
                "tender dated in another financial year is valued with other proxies. Date "
                "every tender's rows alike (the evaluation date) to value them with one.")
        notes.append(note)
        warnings.warn(SocialValueWarning(f"tenders are compared on more than one edition. "
                                         f"{note}"), stacklevel=outside_stacklevel())
    return [f"Note: {n}" for n in notes]


#: The proxy bounds a ranking is checked against, with what each means for a tender.
_RANGE_ENDS = {
    "least-favourable": "least-favourable values (benefits at their low bound, disbenefits "
                        "at their high one)",
    "central": "central values",
    "most-favourable": "most-favourable values (benefits at their high bound, disbenefits "
                       "at their low one)",
}


def _range_notes(rows: pd.DataFrame, positions: np.ndarray, valued: pd.DataFrame,
                 tables: TablesLike, assumptions: Assumptions | Mapping[str, Any] | None,
                 keys: list[str | None], committed: dict[str, Decimal], prices: pd.Series,
                 basis: str) -> list[str]:
    """A note (and a warning) where the tenders' order is not the same across the proxies'
    recorded range: valued again at the least- and most-favourable bounds (and at the central
    values, where the scoring took a bound), the order each gives where it differs from the
    one scored. Tenders that commit to different measures can swap places within the range
    (carbon, whose value is known within a factor of three, against jobs, which record no
    bound): an appraisal review found the scores silent on it. Nothing is valued again where
    no commitment's proxy records a bound that could move it."""
    from socialvalue_tom.engine import as_assumptions
    from socialvalue_tom.report import _known_editions, _unbounded_rows

    a = as_assumptions(assumptions)
    eds = _known_editions(valued, tables)
    fixed = [_unbounded_rows(valued, eds, end) for end in ("least-favourable",
                                                             "most-favourable")]
    if len(committed) < 2 or all(f is not None and f.all() for f in fixed):
        return []
    now = _standing(committed, prices, basis)
    turned = []
    for end, words in _RANGE_ENDS.items():
        if end == a.bound:
            continue
        with illustrative_collected():  # said once, for the values scored
            other = _value(_as_commitments(rows), positions, tables,
                           a.model_copy(update={"bound": end}))
        there = _standing(_committed(other["value_gbp"].to_numpy(dtype=np.float64), keys,
                                     list(committed)), prices, basis)
        if there != now:
            turned.append(f"with {words} it would be {_said(there)}")
    if not turned:
        return []
    scored = _RANGE_ENDS.get(a.bound, f"each proxy's {a.bound} bound")
    note = (f"The order of the tenders changes within the proxies' recorded bounds: scored "
            f"with {scored}, it is {_said(now)}; {'; '.join(turned)}. The scores turn on where "
            "in its range each proxy lies: give the range beside them.")
    warnings.warn(SocialValueWarning(note), stacklevel=outside_stacklevel())
    return [f"Note: {note}"]


def _with_ungraded_named(notes: list[str], valued: pd.DataFrame,
                         keys: list[str | None]) -> list[str]:
    """``notes`` with the report's count of ungraded rows replaced by a note (and a warning)
    naming the tenderers with ungraded commitment rows where other rows are graded and grades
    apply: an ungraded row is counted in full, so leaving the grade out scores better than
    giving a modest one."""
    from socialvalue_tom.report import UNGRADED_NOTE, _assumptions_of, blank_among_filled

    a = _assumptions_of(valued)
    blank = blank_among_filled(valued, "confidence")
    if blank is None or a is None or not a.get("apply_confidence", True):
        return notes
    names = sorted({k for k, b in zip(keys, blank.tolist(), strict=True) if b and k is not None})
    note = (f"Commitment rows of {', '.join(names)} give no confidence grade where other rows "
            "are graded: an ungraded row is counted in full, as if its evidence were the best, "
            "while a graded row is reduced. Grade every tender's rows alike, or score with "
            "assumptions={'apply_confidence': False}.")
    warnings.warn(SocialValueWarning(note), stacklevel=outside_stacklevel())
    return [n for n in notes if not n.endswith(f"{UNGRADED_NOTE}.")] + [f"Note: {note}"]


#: Columns whose figure in a row replaces the tables' (and the caller's ``assumptions``).
_OWN_RULE_COLUMNS = ("deadweight", "displacement", "attribution", "drop_off")


def _tenderers_to_check(rows: pd.DataFrame, valued: pd.DataFrame,
                        keys: list[str | None]) -> list[str]:
    """Notes (and warnings) naming the tenderers whose rows could raise their score by how
    they were written, not by what they commit (a tender evaluator's review): their own
    additionality figures (a row's own displacement of 0 beat the tables' 0.25, and the
    caller's assumptions too); rows under more than one contract_id, or dated under more
    than one edition (double counting nets within one contract and one edition: a priority
    hire under 'C1-lot' was not netted against the local jobs under 'C1'); rows repeated
    exactly (each counted in full)."""
    def named(mask: np.ndarray) -> list[str]:
        return sorted({k for k, m in zip(keys, mask.tolist(), strict=True)
                       if m and k is not None})

    notes: list[str] = []
    # A figure given: not missing, nor blank text (read as missing, as value_frame reads it).
    filled = {c: cell_codes(rows[c].astype(object))[0] >= 0
              for c in _OWN_RULE_COLUMNS if c in rows.columns}
    own = [c for c, given in filled.items() if given.any()]
    if own:
        given = np.zeros(len(rows), dtype=bool)
        for c in own:
            given |= filled[c]
        notes.append(
            f"Commitment rows of {', '.join(named(given))} give their own {', '.join(own)}: "
            "a row's own figure is used in place of the tables' (and of assumptions=...), so "
            "a tender that sets a lower one scores higher for the same commitment. Drop "
            "these columns to score every tender on the same figures, or check each against "
            "its evidence.")
    by: dict[str, set[Any]] = {}
    if "contract_id" in rows.columns:
        for k, c in zip(keys, rows["contract_id"].tolist(), strict=True):
            if k is not None:
                by.setdefault(k, set()).add(key_text(c))
        spread = sorted(k for k, ids in by.items() if len(ids) > 1)
        if spread:
            notes.append(
                f"The commitments of {', '.join(spread)} name more than one contract_id (a "
                "blank one counts): double counting is netted within each, so a part under "
                "one id is not netted against its whole under another. Give a tender's rows "
                "one contract_id.")
    editions: dict[str, set[Any]] = {}
    if {"table", "version"} <= set(valued.columns):
        for k, t, v in zip(keys, valued["table"].tolist(), valued["version"].tolist(),
                           strict=True):
            if k is not None:
                editions.setdefault(k, set()).add((t, v))
        spread = sorted(k for k, eds in editions.items() if len(eds) > 1)
        if spread:
            notes.append(
                f"The commitments of {', '.join(spread)} are dated under more than one "
                "edition: double counting is netted within each, so a part dated in one "
                "financial year is not netted against its whole dated in another.")
    repeated = rows.astype(object).duplicated(keep=False).to_numpy()
    if repeated.any():
        notes.append(
            f"Commitment rows of {', '.join(named(repeated))} repeat another row exactly "
            "(every column the same): each counts in full; check each is a commitment of "
            "its own.")
    for note in notes:
        warnings.warn(SocialValueWarning(note), stacklevel=outside_stacklevel())
    return [f"Note: {n}" for n in notes]


def _priced_alike_notes(named: set[str], priced: set[str]) -> list[str]:
    """A note (and a warning) for each ``bid_prices`` key that no commitment row names but
    that reads as a row's tenderer to a reader (``"b"`` beside ``"B"``, ``"Acme  Ltd"``
    beside ``"Acme Ltd"``): it is scored as a tenderer of its own, on nothing committed, which
    also changes every rank score (one more bid)."""
    by_likeness: dict[str, list[str]] = {}
    for key in sorted(named):
        by_likeness.setdefault(id_likeness(key), []).append(key)
    notes = []
    for key in sorted(priced - named):
        rows = by_likeness.get(id_likeness(key))
        if rows:
            note = (f"bid_prices names {key!r}, which no commitment row names, beside "
                    f"{' and '.join(map(repr, rows))} of the rows (differing only by case, "
                    f"spacing or an invisible character): {key!r} is scored as a tenderer of "
                    "its own, on nothing committed; key bid_prices as the rows name the "
                    "tenderers if they are one.")
            warnings.warn(SocialValueWarning(note), stacklevel=outside_stacklevel())
            notes.append(f"Note: {note}")
    return notes


def _editions_used(valued: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The editions the valued rows used, as (name, version, digest), in order (not every
    edition of the set: what a moderator needs to reproduce the scores)."""
    used = valued[["table", "version", "digest"]].dropna().drop_duplicates()
    return sorted(used.itertuples(index=False, name=None))


def _check_scoring(weighting: float, method: str) -> None:
    choice(method, "method", ("proportional", "rank"))
    if not isinstance(weighting, float | int | np.floating | np.integer) or isinstance(
            weighting, bool | np.bool_):
        raise RuleError(f"weighting must be a number (int or float), not {weighting!r}",
                        field="weighting")
    try:
        finite = math.isfinite(weighting)
    except OverflowError:  # an int beyond any float
        finite = False
    if not (weighting > 0 and finite):
        # An infinite weighting gives every bidder an infinite score: a tie, whatever the bids.
        raise RuleError("weighting must be a positive, finite number, not "
                        f"{shortened(repr(weighting), 40)}",
                        field="weighting")
    if weighting > MAX_WEIGHTING:
        # Past it the trace's formulas stop reproducing the scores by hand (a float holds
        # whole numbers exactly only to 2**53) and proportional scores may overflow.
        raise RuleError(f"weighting {shortened(repr(weighting), 40)} is more marks than "
                        f"any tender gives: at most {MAX_WEIGHTING:,} (10 for a 10% "
                        "weighting)", field="weighting")


def _tenderer(value: Any) -> str | None:
    """The tenderer a supplier id names, read as double-counting exclusions read key cells
    (``_text.key_text``: stripped text, ``7.0`` as ``7``; ``None`` when there is none)."""
    return key_text(value)


def _tenderers(ids: Iterable[Any], where: str) -> list[str | None]:
    """The tenderer of each id; two different ids that read as one tenderer (1 and "1",
    "A" and "A ") are refused rather than merged: they may be two bidders."""
    first: dict[str, Any] = {}
    found = []
    for value in ids:
        key = _tenderer(value)
        if key is not None:
            seen = first.setdefault(key, value)
            if (isinstance(seen, str), str(seen)) != (isinstance(value, str), str(value)):
                raise RuleError(f"{where}: {seen!r} and {value!r} both read as the same tenderer "
                                f"{key!r}: give each tenderer one id", field="supplier_id",
                                supplier_id=key)
        found.append(key)
    return found


def _price_map(bid_prices: Mapping[Any, Any] | pd.Series | None) -> dict[str, float]:
    """Bid prices by tenderer (text, as supplier ids are read); each a positive number."""
    if bid_prices is None:
        return {}
    items = list(bid_prices.items())
    keys = _tenderers((k for k, _ in items), "bid_prices")
    prices: dict[str, float] = {}
    for key, (raw, price) in zip(keys, items, strict=True):
        if key is None:
            raise RuleError(f"bid_prices has a key with no supplier id: {raw!r}",
                            field="bid_prices")
        if key in prices:  # a Series may repeat a label: which price is meant?
            raise RuleError(f"bid_prices gives supplier {key} more than one price: give each "
                            "tenderer one bid price", field="bid_prices", supplier_id=key)
        prices[key] = _price(key, price)
    return prices


def _price(supplier: str, price: Any) -> float:
    if isinstance(price, bool | np.bool_) or is_missing(price):
        return math.nan  # reported as no bid price for the tenderers that need one
    if isinstance(price, str | bytes | bytearray):
        # As money refuses text: "1e6" or "1,000,000" is the caller's parsing to do.
        raise RuleError(f"bid price for supplier {supplier} is text, not a number: "
                        f"{shortened(repr(price), 40)} (give prices as numbers, in GBP)",
                        field="bid_prices", supplier_id=supplier)
    try:
        value = float(price)
    except OverflowError:  # an int past any float
        value = math.inf
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):  # not a number, inf, or past any float (Decimal('1e400'))
        raise RuleError(f"bid price for supplier {supplier} is not a number a float holds: "
                        f"{shortened(repr(price), 40)}", field="bid_prices",
                        supplier_id=supplier)
    if not 0 < value < math.inf:
        raise RuleError(f"bid price must be positive for supplier(s) {supplier}",
                        field="bid_prices", supplier_id=supplier)
    return value


def _prices(given: dict[str, float], suppliers: list[str], needed: bool,
            basis: str) -> pd.Series:
    if not needed:
        return pd.Series(np.nan, index=suppliers, dtype="float64")
    prices = pd.Series(given, dtype="float64").reindex(suppliers)
    missing = prices.index[prices.isna()].tolist()
    if missing:
        # Given, the prices are every tenderer's: one left out is more likely a supplier id
        # keyed another way than a bid without a price, and its value per GBP would be blank.
        hint = ("" if basis == "per-gbp" else
                ": bid_prices, when given, prices every tenderer (basis='absolute' does not "
                "need them: leave bid_prices out to score without)")
        raise RuleError(f"no bid price for supplier(s) {', '.join(missing)}{hint}",
                        field="bid_prices", suppliers=missing)
    return prices


def _commitment_rows(commitments: pd.DataFrame) -> np.ndarray:
    """Which rows are commitments: any but ``delivered``, read as value_frame validates the
    stage (surrounding spaces stripped; a missing stage is a commitment)."""
    if "stage" not in commitments.columns:
        return np.ones(len(commitments), dtype=bool)
    stage = commitments["stage"].astype(object)
    return np.array([not (isinstance(s, str) and s.strip() == "delivered") for s in stage],
                    dtype=bool)


def _as_commitments(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (all commitments) with a missing stage filled in as ``commitment``: the stage
    they are read as. Double-counting exclusions group claims by stage, and a missing stage
    would be a group of its own, so a priority hire with no stage would not be netted with the
    local job it is part of. Missing as value_frame reads it (None, NaN, NA or blank text); any
    other stage is left as given (a bad one is reported as written). A new frame: the caller's
    is not changed."""
    if "stage" not in rows.columns:
        return rows
    stage = rows["stage"].astype(object)
    missing = cell_codes(stage)[0] < 0
    if not missing.any():
        return rows
    return rows.assign(stage=stage.where(~missing, "commitment"))


def _committed(values: np.ndarray, keys: list[str | None],
               suppliers: list[str]) -> dict[str, Decimal]:
    """Each tenderer's committed value, summed exactly and rounded once (0 with no rows)."""
    amounts: dict[str, list[float]] = {s: [] for s in suppliers}
    for value, key in zip(values.tolist(), keys, strict=True):
        if key is not None:
            amounts[key].append(value)
    return {s: total(amounts[s]) for s in suppliers}


@own_decimal_context
def score_bids(commitments: pd.DataFrame, *, tables: TablesLike = "uk-national",
               bid_prices: Mapping[Any, float | Decimal] | pd.Series | None = None,
               weighting: float = 10.0, method: Method = "proportional",
               basis: Basis = "absolute",
               assumptions: Assumptions | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rank tenderers on their committed social value.

    Args:
        commitments: outcome rows (as :func:`~socialvalue_tom.frame.value_frame` reads) with a
            ``supplier_id`` column; rows whose ``stage`` is ``delivered`` (surrounding spaces
            stripped, as validation reads it) are ignored. Any other row is a commitment, one
            with no stage (missing or blank) included, and double-counting exclusions net it
            with the tenderer's other commitments. Every commitment must name its tenderer.
            Supplier ids are read as text, stripped: two different ids that read the same
            (``1`` and ``"1"``) are refused.
        tables: the tables to value with (family name, edition or editions).
        bid_prices: each tenderer's bid price in GBP, keyed by supplier id (matched as text);
            needed for ``basis="per-gbp"`` and otherwise used to report value per GBP; when
            given, every tenderer needs one. A bidder here with no commitment rows is scored
            on a committed value of 0.
        weighting: the marks available for social value (e.g. 10 for a 10% weighting).
        method: ``"proportional"`` or ``"rank"`` (see the module docstring).
        basis: score on ``"absolute"`` committed value or value ``"per-gbp"`` of bid price.
        assumptions: caller-level :class:`~socialvalue_tom.Assumptions`. Tenders whose values
            are in several price bases, or discounted to several first years, are compared on
            those values with a :class:`~socialvalue_tom.SocialValueWarning` (and a note in
            the trace): give one year as both ``price_year`` and ``discount_base_year`` to
            score them on one basis. Tenders whose rows fall in several editions are warned
            of alike: date every tender's rows at the evaluation date to value them with one.
            Tenders whose rows give their own deadweight, displacement, attribution or
            drop-off, name more than one contract_id or edition, or repeat a row exactly are
            named in a warning and the trace (each could raise a score by how rows are
            written, not by what they commit). Tenders whose order differs at the proxies'
            least-favourable, central or most-favourable values (``bound``) are warned of
            too, with the order each gives in the trace.

    Returns:
        One row per tenderer, best first: ``rank``, ``supplier_id``, ``committed_gbp``
        (:class:`~decimal.Decimal`), ``bid_price_gbp``, ``value_per_gbp``, ``score`` and
        ``trace`` (how the score was reached: the formula with the numbers used, whose
        arithmetic gives the score shown). ``attrs["trace"]`` holds the whole evaluation
        trace as a list of lines. Any bad commitment row raises
        :class:`~socialvalue_tom.BulkValidationError` naming the row (in ``commitments``) and
        field; a commitment with no ``supplier_id``, clashing ids and bad option values raise
        :class:`~socialvalue_tom.RuleError`; arguments of the wrong type (``commitments`` not a
        DataFrame, ``bid_prices`` not a mapping or Series) raise :class:`TypeError`.

    >>> import pandas as pd
    >>> import socialvalue_tom as sv
    >>> commitments = pd.DataFrame({
    ...     "supplier_id": ["A", "A", "B"],
    ...     "measure": ["jobs-local-fte", "env-carbon-saved", "jobs-local-fte"],
    ...     "quantity": [3, 20, 4], "unit": ["FTE", "tCO2e", "FTE"],
    ...     "region": ["england"] * 3, "date": ["2025-06-01"] * 3})
    >>> scored = sv.score_bids(commitments, bid_prices={"A": 1_000_000, "B": 1_200_000})
    >>> scored[["rank", "supplier_id", "committed_gbp", "score"]].round(2)
       rank supplier_id committed_gbp  score
    0     1           B     119589.60  10.00
    1     2           A      96000.60   8.03
    """
    from socialvalue_tom.frame import refuse_duplicated_columns

    frame(commitments, "score_bids()")
    if bid_prices is not None and not isinstance(bid_prices, pd.Series):
        mapping(bid_prices, "bid_prices")
    refuse_duplicated_columns(commitments)  # which supplier_id or stage would be read?
    if "supplier_id" not in commitments.columns:
        raise OutcomeError("commitments need a supplier_id column naming each tenderer",
                           field="supplier_id")
    choice(basis, "basis", ("absolute", "per-gbp"))
    if basis == "per-gbp" and bid_prices is None:
        raise RuleError("basis='per-gbp' needs bid_prices", field="bid_prices")
    _check_scoring(weighting, method)
    is_commitment = _commitment_rows(commitments)
    rows = commitments[is_commitment]
    keys = _tenderers(rows["supplier_id"], "supplier_id")
    _refuse_anonymous(np.flatnonzero(is_commitment), keys)
    given = _price_map(bid_prices)
    suppliers = sorted({k for k in keys if k is not None} | set(given))
    prices = _prices(given, suppliers, bid_prices is not None, basis)
    what = ("their committed social value (GBP)" if basis == "absolute"
            else "their committed social value per GBP of bid price")
    how = "in proportion to the best" if method == "proportional" else "by rank"
    trace = [f"Scoring {len(suppliers)} tenderer(s) on {what}, {how}, out of "
             f"{_exact(weighting)} marks."]
    if len(rows) < len(commitments):
        trace.append(f"Ignored {len(commitments) - len(rows)} delivered row(s).")
        # A tenderer seen only in delivered rows is not scored: said, so it is not lost.
        # Read one by one, without the check that two ids read alike: ignored rows never
        # stop an evaluation.
        only = sorted({k for k in map(_tenderer, commitments.loc[~is_commitment, "supplier_id"])
                       if k is not None} - set(suppliers))
        if only:
            trace.append(f"Not scored: {', '.join(only)}, whose rows are all delivered (a "
                         "tenderer with no commitment is scored on GBP 0.00 when it has a "
                         "commitment row or a bid price).")
    with illustrative_collected() as illustrative:  # said at the caller's line, below
        valued = _value(_as_commitments(rows), np.flatnonzero(is_commitment), tables,
                        assumptions)
    if illustrative:
        warn_illustrative(sum(illustrative))
    trace.append(_editions_note(valued))
    committed = _committed(valued["value_gbp"].to_numpy(dtype=np.float64), keys, suppliers)
    if illustrative:  # in the record of the evaluation, not only a Python warning
        trace.append(_illustrative_note(valued, keys, tables, committed, prices, basis))
    trace += _with_ungraded_named(_basis_notes(valued, tables), valued, keys)
    trace += _range_notes(rows, np.flatnonzero(is_commitment), valued, tables, assumptions,
                          keys, committed, prices, basis)
    trace += _tenderers_to_check(rows, valued, keys)
    trace += _priced_alike_notes({k for k in keys if k is not None}, set(given))
    absent = [s for s in suppliers if s not in set(keys)]
    if absent:
        trace.append(f"No commitment rows from {', '.join(absent)}: scored on "
                     f"{format_gbp(Decimal('0.00'))} committed.")
    per_gbp, basis_values = _basis_values(committed, prices, basis)
    scores = scores_from_values(basis_values, weighting=weighting, method=method)
    return _result(suppliers, committed, prices, per_gbp, basis_values, scores, trace,
                   weighting, method, basis)


def _per_gbp(supplier: str, committed: Decimal, price: float) -> float:
    """Committed value per GBP of bid price, divided in Decimal (40 digits) and then turned
    into a float, so bids whose ratios are equal (£40,000.10 for £1m, £120,000.30 for £3m)
    tie exactly, as ranking needs (float division gave 0.0400001 and 0.040000100000000004).
    NaN with no price."""
    if math.isnan(price):
        return math.nan
    with localcontext() as ctx:
        ctx.prec = 40
        ratio = float(committed / Decimal(repr(price)))
    if not math.isfinite(ratio):
        raise RuleError(f"bid price {price!r} for supplier {supplier} is too small to divide "
                        "by: give the bid price in GBP", field="bid_prices",
                        supplier_id=supplier)
    return ratio


def _value(rows: pd.DataFrame, positions: np.ndarray, tables: TablesLike,
           assumptions: Assumptions | Mapping[str, Any] | None) -> pd.DataFrame:
    """``value_frame(rows)``; a bad row is named by its row in the caller's input (``rows``
    leaves the delivered rows out, which would shift the positions value_frame reports)."""
    from socialvalue_tom.frame import value_frame

    try:
        return value_frame(rows, tables, errors="raise", assumptions=assumptions)
    except BulkValidationError as exc:
        issues = [dataclasses.replace(i, row=int(positions[i.row])) for i in exc.issues]
        raise BulkValidationError.from_issues(issues) from None


def _refuse_anonymous(positions: np.ndarray, keys: list[str | None]) -> None:
    """A commitment with no supplier_id belongs to no tenderer: refused, not dropped."""
    bad = [int(p) for p, k in zip(positions, keys, strict=True) if k is None]
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (f" (and {len(bad) - 10} more)"
                                                 if len(bad) > 10 else "")
        raise RuleError(f"commitment row(s) {shown} have no supplier_id: every commitment "
                        "must name its tenderer", field="supplier_id", rows=bad)


def _exact(x: float) -> str:
    """``x`` as short text that reads back as ``x`` exactly (``10``, ``12.3456789``): a
    weighting shown in a formula must be the one the score used."""
    text = f"{x:g}"
    return text if float(text) == x else repr(float(x))


def _decimals(x: float) -> int:
    """Decimals that show ``x`` to 4 significant digits, and 4 at least."""
    if not math.isfinite(x) or x == 0:
        return 4
    return max(4, 3 - math.floor(math.log10(abs(x))))


def _number(x: float, decimals: int | None) -> str:
    """``x`` with thousands separators and ``decimals`` decimals (None: every digit, the
    shortest text that reads back as ``x``); never ``-0``."""
    return repr(x + 0.0) if decimals is None else f"{x + 0.0:,.{decimals}f}"


def _read(text: str) -> float:
    return float(text.replace(",", ""))


def _proportional_decimals(values: pd.Series, best: float, scores: pd.Series,
                           weighting: float) -> int | None:
    """The fewest decimals (4 significant digits of the best value at least) with which every
    shown formula ``weighting x max(0, value) / best`` gives the score shown (to 2 decimals);
    None: every digit of each number (which reproduces the computation exactly)."""
    start = _decimals(best)
    w = Decimal(_exact(weighting))
    for decimals in range(start, start + 18):
        shown_best = Decimal(_number(best, decimals).replace(",", ""))
        if shown_best > 0 and all(
                _by_hand(w, Decimal(_number(v, decimals).replace(",", "")), shown_best)
                == _score_text(score) for v, score in zip(values, scores, strict=True)):
            return decimals
    return None


def _by_hand(weighting: Decimal, value: Decimal, best: Decimal) -> str:
    """``weighting x max(0, value) / best`` worked out by hand from the numbers a formula
    shows, to 2 decimals, halves away from zero (decimal arithmetic: what a moderator with a
    calculator gets), with digits enough for any weighting a float holds."""
    with localcontext() as ctx:
        ctx.prec = 60 + max(0, weighting.adjusted()) + max(0, value.adjusted())
        score = weighting * max(Decimal(0), value) / best
        return str(score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) + 0)


def _score_text(score: float) -> str:
    """A score to 2 decimals as the library rounds money: halves away from zero, a float
    within float error of a half (2.675, held as 2.67499999...) counted as that half."""
    return str(to_pounds(float(score) + 0.0))


def _line(s: str, committed: Decimal, price: float, per_gbp: str, formula: str) -> str:
    head = f"{s}: committed {format_gbp(committed)}"
    if not np.isnan(price):
        # In full where it is not whole pence (a bid of £0.003 is not "£0.00"): the value per
        # GBP beside it is divided by the price as given.
        head += f", bid {_money(price)} ({per_gbp} per GBP)"
    return f"{head}; {formula}"


def _formulas(values: pd.Series, scores: pd.Series, weighting: float, method: Method,
              trace: list[str], unit: str = " GBP") -> tuple[dict[str, str], dict[str, str]]:
    """Each tenderer's formula, ending ``= score`` (its arithmetic gives the score shown), and
    its value as the formula shows it, where it does (appends the best value, followed by
    ``unit``, to ``trace``)."""
    names: list[str] = values.index.tolist()
    w = _exact(weighting)
    shown = {s: _score_text(float(scores[s])) for s in names}
    if method == "rank":
        n = len(names)
        ranks = values.rank(method="min", ascending=False)
        return {s: f"rank {int(ranks[s])} of {n}, score by rank = {w} x ({n} - {int(ranks[s])} "
                   f"+ 1) / {n} = {shown[s]}" for s in names}, {}
    best = float(values.max()) if names else math.nan
    if not best > 0:
        if names:
            trace.append(f"Best value: {_number(best, _decimals(best))}{unit}: no bid has a "
                         "positive value, so every bid scores 0.")
        return {s: f"no bid has a positive value: score = {shown[s]}" for s in names}, {}
    decimals = _proportional_decimals(values, best, scores, weighting)
    b = _number(best, decimals)
    trace.append(f"Best value: {b}{unit}.")
    texts = {s: _number(float(values[s]), decimals) for s in names}
    formulas = {s: f"score = {w} x {texts[s]} / {b} = {shown[s]}" for s in names}
    for s in names:
        if float(values[s]) < 0:  # scored as 0, and the formula shows why
            formulas[s] = (f"a net disbenefit scores 0: score = {w} x max(0, {texts[s]}) / {b} "
                           f"= {shown[s]}")
    return formulas, texts


def _result(suppliers: list[str], committed: dict[str, Decimal], prices: pd.Series,
            per_gbp: pd.Series, basis_values: pd.Series, scores: pd.Series, trace: list[str],
            weighting: float, method: Method, basis: Basis) -> pd.DataFrame:
    formulas, shown = _formulas(basis_values, scores, weighting, method, trace,
                                " GBP" if basis == "absolute" else " per GBP of bid price")

    def per_gbp_text(s: str) -> str:
        if basis == "per-gbp" and s in shown:
            return shown[s]  # as its formula shows it
        value = float(per_gbp[s])
        return _number(value, _decimals(value))

    lines = {s: _line(s, committed[s], float(prices[s]), per_gbp_text(s), formulas[s])
             for s in suppliers}
    frame = pd.DataFrame({
        "supplier_id": suppliers,
        "committed_gbp": [committed[s] for s in suppliers],
        "bid_price_gbp": [float(prices[s]) for s in suppliers],
        "value_per_gbp": [float(per_gbp[s]) for s in suppliers],
        # To 10 decimals, never past the marks available (20/3 would round up past them).
        "score": [min(round(float(scores[s]), 10), float(weighting)) for s in suppliers],
        "trace": [lines[s] for s in suppliers],
    })
    # Ranked on the scores as computed, not as shown to 10 decimals (two bids a few pence
    # apart in millions showed one score and shared a rank), then on the values scored, which
    # order the bids whose float scores coincide; equal bids share the better rank.
    exact = {s: (float(scores[s]), float(basis_values[s]) if float(scores[s]) > 0 else 0.0)
             for s in suppliers}
    order = sorted(suppliers, key=lambda s: (-exact[s][0], -exact[s][1], s))
    ranks: dict[str, int] = {}
    for place, s in enumerate(order, 1):
        before = order[place - 2] if place > 1 else None
        ranks[s] = ranks[before] if before is not None and exact[before] == exact[s] else place
    frame = frame.set_index("supplier_id", drop=False).loc[order].reset_index(drop=True)
    frame.insert(0, "rank", [ranks[s] for s in order])
    trace += frame["trace"].tolist()
    frame.attrs["trace"] = trace
    return frame[SCORE_COLUMNS]
