"""Hypothesis strategies over tests/data/tables/tiny.yaml: units, outcomes, portfolios."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import socialvalue_tom as sv

#: Measures of tiny.yaml and units of the right dimension, with the factor to the canonical unit.
UNITS: dict[str, dict[str | None, float]] = {
    "jobs-local": {None: 1.0, "FTE": 1.0, "fte": 1.0},
    "jobs-priority": {None: 1.0, "FTE": 1.0, "full_time_equivalent": 1.0},
    "env-carbon": {None: 1.0, "tCO2e": 1.0, "kgCO2e": 0.001, "ktCO2e": 1000.0},
    "env-carbon-added": {"tCO2e": 1.0, "kgCO2e": 0.001},
    "growth-local-spend": {"GBP": 1.0, "kGBP": 1000.0, "£": 1.0, "pence": 0.01},
    "jobs-apprentice": {"week": 1.0},
    "social-volunteering": {"hour": 1.0, "minute": 1 / 60},
}
MEASURES = tuple(UNITS)
REGIONS = ("uk", "england", "london", "scotland", "Scotland", "United Kingdom")
GRADES = (None, "A", "B", "C")
FIRST_DAY = dt.date(2024, 4, 1)
LAST_DAY = dt.date(2025, 3, 31)

fractions = st.one_of(st.none(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]),
                      st.floats(0.0, 1.0, allow_nan=False))
days = st.dates(FIRST_DAY, LAST_DAY)


@st.composite
def quantities(draw: st.DrawFn, measure: str, unit: str | None) -> float:
    """A valid quantity in ``unit`` (apprenticeships stay within the 520-week bound)."""
    # 20,000 of a unit: a valid claim stays below the most an outcome is valued at (£1e12)
    # even at tiny's largest proxy (£30,000 a year) for 125 undiscounted years, uplifted and
    # scaled ten times by the linearity property (a larger one is refused, not valued).
    top = 520.0 if measure == "jobs-apprentice" else 2e4
    top = top / UNITS[measure][unit] if measure != "jobs-apprentice" else top
    return draw(st.one_of(
        st.integers(0, int(min(top, 10_000))).map(float),
        st.decimals(0, int(min(top, 1e5)), places=3, allow_nan=False,
                    allow_infinity=False).map(float),
        st.floats(0.0, min(top, 1e6), allow_nan=False, allow_infinity=False),
    ))


@st.composite
def outcome_rows(draw: st.DrawFn, measures: tuple[str, ...] = MEASURES) -> dict[str, Any]:
    """One valid outcome as a flat dict (the columns of a value_frame input)."""
    measure = draw(st.sampled_from(measures))
    unit = draw(st.sampled_from(list(UNITS[measure])))
    row: dict[str, Any] = {
        "measure": measure,
        "quantity": draw(quantities(measure, unit)),
        "unit": unit,
        "region": draw(st.sampled_from(REGIONS)),
        "date": draw(days),
        # Mostly short; now and then long enough to cross the discount bands (30, 75, 125
        # years after the base year, further with an early discount_base_year).
        "years": draw(st.one_of(st.none(), st.integers(1, 12), st.integers(1, 125))),
        "deadweight": draw(fractions),
        "displacement": draw(fractions),
        "attribution": draw(fractions),
        "drop_off": draw(fractions),
        "confidence": draw(st.sampled_from(GRADES)),
        "contract_value": draw(st.one_of(st.none(), st.floats(1.0, 1e7))),
        "level": draw(st.sampled_from([1.0, 2.0, 3.0, 4.0])) if measure == "jobs-apprentice"
        else None,
        "contract_id": None,
        "period_share": draw(st.one_of(st.none(), st.sampled_from([0.25, 1.0]),
                                       st.floats(1e-3, 1.0))),
    }
    if row["period_share"] is not None:
        # A part of a row reported for a period, as sv.apportion makes it: quantity x share,
        # held to its share of the bounds and the cap.
        row["quantity"] = row["quantity"] * row["period_share"]
    return row


def _own_contracts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # One contract per row, so no double-counting exclusion groups rows together.
    return [dict(r, contract_id=f"c{i}") for i, r in enumerate(rows)]


def portfolios(min_size: int = 1, max_size: int = 25) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of valid outcome rows, each on its own contract."""
    return st.lists(outcome_rows(), min_size=min_size, max_size=max_size).map(_own_contracts)


@st.composite
def shared_portfolios(draw: st.DrawFn, min_size: int = 2,
                      max_size: int = 25) -> list[dict[str, Any]]:
    """Lists of valid rows on a few shared contracts, so the double-counting exclusions (the
    order-sensitive part of bulk valuation) group rows together; whole rows only (no period
    shares), as a portfolio reported row by row is."""
    rows = draw(st.lists(outcome_rows(), min_size=min_size, max_size=max_size))
    ids = st.sampled_from(["c0", "c1", "c2"])
    return [dict(r, contract_id=draw(ids), period_share=None,
                 quantity=r["quantity"] / (r["period_share"] or 1.0)) for r in rows]


def with_binding_caps(rows: list[dict[str, Any]], ratio: float | None) -> list[dict[str, Any]]:
    """Rows whose contract value is ``ratio`` x the claimed spend (in GBP), so the spend
    measure's cap (half the contract value, times a part's period share) often binds; None:
    rows as drawn."""
    if ratio is None:
        return rows
    factors = UNITS["growth-local-spend"]
    return [dict(r, contract_value=max(1.0, ratio * r["quantity"] * factors[r["unit"]]))
            if r["measure"] == "growth-local-spend" else r for r in rows]


#: Fractions an assumption may set: none, the edges, a round value, any value.
assumed_fractions = st.one_of(st.none(), st.sampled_from([0.0, 0.3, 1.0]),
                              st.floats(0.0, 1.0, allow_nan=False))

assumptions = st.builds(
    sv.Assumptions,
    deadweight=assumed_fractions,
    displacement=assumed_fractions,
    attribution=assumed_fractions,
    drop_off=assumed_fractions,
    # Early base years put outcome years past the 30-, 75- and 125-year discount bands.
    discount_base_year=st.sampled_from([None, 1900, 1950, 1990, 2020, 2024]),
    discount_schedule=st.sampled_from(["green-book", "health", "none"]),
    price_year=st.sampled_from([None, 2023, 2024, 2025]),
    apply_confidence=st.booleans(),
    bound=st.sampled_from(["central", "low", "high", "least-favourable", "most-favourable"]),
)


def to_outcome(row: dict[str, Any]) -> sv.Outcome:
    """The scalar Outcome for a row (None means 'not given')."""
    kw = {k: v for k, v in row.items() if v is not None and k != "level"}
    if row.get("level") is not None:
        kw["fields"] = {"level": row["level"]}
    return sv.Outcome(**kw)


def to_frame(rows: list[dict[str, Any]], *, text_dates: bool = True) -> pd.DataFrame:
    """The rows as a value_frame input (dates as ISO text or datetime64)."""
    df = pd.DataFrame(rows, columns=list(outcome_rows_columns()))
    df["date"] = ([d.isoformat() for d in df["date"]] if text_dates
                  else pd.to_datetime(df["date"]))
    for col in ("quantity", "years", "deadweight", "displacement", "attribution", "drop_off",
                "contract_value", "level", "period_share"):
        df[col] = pd.to_numeric(df[col], errors="raise").astype("float64")
    df["confidence"] = df["confidence"].astype(object)
    df["contract_id"] = df["contract_id"].astype(object)
    df["unit"] = df["unit"].astype(object)
    return df


def outcome_rows_columns() -> tuple[str, ...]:
    """Column order of :func:`outcome_rows`."""
    return ("measure", "quantity", "unit", "region", "date", "years", "deadweight",
            "displacement", "attribution", "drop_off", "confidence", "contract_value", "level",
            "contract_id", "period_share")


#: One accepted unit per measure of tiny.yaml, for seeded (non-hypothesis) random portfolios.
SEEDED_KINDS = (("jobs-local", "FTE"), ("jobs-priority", "FTE"), ("env-carbon", "kg_CO2e"),
                ("env-carbon-added", "tCO2e"), ("growth-local-spend", "GBP"),
                ("jobs-apprentice", "week"), ("social-volunteering", "hour"))


def seeded_portfolio(n: int, *, seed: int, regions: tuple[str, ...], dates: tuple[str, ...],
                     contract_ids: list[str], contract_value: float, decimals: int = 2,
                     grades: bool = False, bad: tuple[int, ...] = ()) -> pd.DataFrame:
    """A reproducible random portfolio of n valid rows over tiny.yaml.

    For tests that need one large fixed frame (batching, partitioning) rather than
    hypothesis examples; rows listed in ``bad`` get a negative quantity.
    """
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(SEEDED_KINDS), n)
    df = pd.DataFrame({
        "measure": [SEEDED_KINDS[i][0] for i in k],
        "quantity": rng.uniform(0, 50, n).round(decimals),
        "unit": [SEEDED_KINDS[i][1] for i in k],
        "region": rng.choice(list(regions), n),
        "date": rng.choice(list(dates), n),
        "years": rng.integers(1, 4, n),
    })
    if grades:
        df["confidence"] = rng.choice(["A", "B", "C"], n)
    df["level"] = rng.integers(1, 5, n)
    df["contract_value"] = contract_value
    df["contract_id"] = contract_ids
    for i in bad:
        df.loc[i, "quantity"] = -1.0
    return df
