"""The ordered valuation pipeline: one definition, run by the scalar engine (N = 1, floats) and
by the bulk path (float64 arrays)."""

from __future__ import annotations

import math
from typing import Generic, NamedTuple

import numpy as np

from socialvalue_tom.rules import steps
from socialvalue_tom.rules.steps import Num

__all__ = ["RuleInputs", "Stages", "run_pipeline"]


class RuleInputs(NamedTuple, Generic[Num]):
    """Everything the arithmetic needs, already looked up, per outcome (scalars or arrays).

    A named tuple rather than a frozen dataclass: as immutable, and built about two and a half
    times faster (a frozen dataclass sets each of its fields through ``object.__setattr__``:
    2.2 µs against 0.8 µs by keyword, of a scalar ``value()``'s 20 µs)."""

    quantity: Num          # as given
    factor: Num            # unit conversion factor to the canonical unit
    proxy: Num             # GBP per canonical unit (after regional fallback)
    sign: Num              # +1 benefit, -1 disbenefit
    deadweight: Num
    displacement: Num
    attribution: Num
    reduction: Num         # optimism-bias reduction for the grade (0 if none; benefits only)
    years: Num
    drop_off: Num
    offset: Num            # first year minus discount base year (>= 0)
    uplift: Num            # price index ratio (1 if no restatement)
    cap: Num               # cap on the value in GBP (inf if none)
    schedule: str          # discount schedule name


class Stages(NamedTuple, Generic[Num]):
    """The running amount after each rule, for the trace and the provenance columns."""

    canonical: Num
    gross: Num
    net: Num
    confident: Num
    duration: Num
    discounted: Num
    uplifted: Num
    capped: Num
    value: Num


def peak_amount(s: Stages[Num]) -> Num:
    """The largest amount (in size) the stages reach: the gross, or after discounting over
    several years or an uplift (deductions and the cap only lower it). Not finite where a step
    overflowed, even one a cap then brought back."""
    if isinstance(s.gross, float):  # the scalar engine: plain floats, no numpy call
        amounts = (abs(s.gross), abs(s.discounted), abs(s.uplifted))
        # max() would pass over a NaN after the first place: it is the peak, refused.
        return math.nan if any(a != a for a in amounts) else max(amounts)
    peak: Num = np.maximum(np.maximum(np.abs(s.gross), np.abs(s.discounted)),
                           np.abs(s.uplifted))
    return peak


def too_large(peak: float) -> str:
    """Why an outcome whose :func:`peak_amount` is past ``MAX_AMOUNT`` is refused ("" when it
    is not: NaN and infinity are refused too)."""
    from socialvalue_tom.outcome import MAX_AMOUNT

    if peak <= MAX_AMOUNT:
        return ""
    shown = (f"£{peak:,.2f}" if peak < 1e15 else f"£{peak:.3g}" if math.isfinite(peak)
             else "more than a float holds")
    return (f"the outcome is valued at {shown} at one of its steps, more than "
            f"£{MAX_AMOUNT:,.0f}, the most an outcome is valued at to the penny: check the "
            "quantity, its unit and the measure's expression")


def run_pipeline(x: RuleInputs[Num], gross: Num | None = None) -> Stages[Num]:
    """Apply every rule in order. ``gross`` overrides ``canonical * proxy`` (custom measures)."""
    canonical = steps.convert(x.quantity, x.factor)
    g = steps.gross(canonical, x.proxy) if gross is None else gross
    net = steps.additionality(g, x.deadweight, x.displacement, x.attribution)
    confident = steps.confidence(net, x.reduction, x.sign)
    duration = steps.duration_factor(x.years, x.drop_off, x.offset, x.schedule)
    discounted = confident * duration
    uplifted = steps.uplift(discounted, x.uplift)
    capped = steps.apply_cap(uplifted, x.cap)
    # + 0.0: a disbenefit of nothing is 0.0, not -0.0 (which a JSON response carried).
    return Stages(canonical, g, net, confident, duration, discounted, uplifted, capped,
                  capped * x.sign + 0.0)
