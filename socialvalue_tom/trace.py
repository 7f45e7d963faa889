"""The trace: readable lines for each rule that fired, with inputs, units and sources."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from socialvalue_tom.valuation import TraceStep, _gbp

if TYPE_CHECKING:
    from socialvalue_tom.engine import RowContext
    from socialvalue_tom.outcome import Outcome
    from socialvalue_tom.rules.expressions import Expression
    from socialvalue_tom.rules.pipeline import RuleInputs, Stages

__all__ = ["build_steps"]


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.2f}"


def build_steps(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                s: Stages[float]) -> list[TraceStep]:
    """One :class:`TraceStep` per rule that fired, in pipeline order."""
    t, spec = ctx.table, ctx.measure
    steps = [_edition_step(o, ctx)]
    steps.append(TraceStep(rule="convert", detail=(
        f"{_num(o.quantity)} {ctx.unit} x {_num(x.factor)} = {_num(s.canonical)} {spec.unit}"
        f" (canonical unit of {spec.code}: {spec.title})")))
    pv = spec.proxies[ctx.region_used]
    src = t.sources[pv.source]
    where = (ctx.region if ctx.region_used == ctx.region
             else f"{ctx.region_used} (fallback: {ctx.region} has no value of its own)")
    label = " [ILLUSTRATIVE]" if pv.illustrative else ""
    steps.append(TraceStep(rule="proxy", detail=(
        f"{_gbp(x.proxy)} per {spec.unit} for {where}{label}; source {src.id}: {src.title} "
        f"({src.publisher}, {src.year}, {src.licence})")))
    expr = t.expressions.get(spec.code)
    gross_detail = (_expression_detail(o, x, ctx, expr) if expr is not None
                    else f"{_num(s.canonical)} {spec.unit} x {_gbp(x.proxy)}")
    steps.append(TraceStep(rule="gross", detail=gross_detail, amount=float(s.gross)))
    if (x.deadweight, x.displacement, x.attribution) != (0.0, 0.0, 0.0):
        basis = (f"; table defaults from {spec.additionality_source}"
                 if spec.additionality_source else "")
        steps.append(TraceStep(rule="additionality", detail=(
            f"x (1 - deadweight {x.deadweight:g}) x (1 - displacement {x.displacement:g}) "
            f"x (1 - attribution {x.attribution:g}){basis}"), amount=float(s.net)))
    if x.reduction != 0.0 or o.confidence is not None:
        applied = ("" if x.sign > 0 or x.reduction == 0.0
                   else " not applied: a disbenefit is counted in full")
        steps.append(TraceStep(rule="confidence", detail=(
            f"confidence grade {o.confidence!r}: optimism-bias reduction {x.reduction:g}"
            f"{applied}"), amount=float(s.confident)))
    if x.years != 1 or x.offset != 0:
        steps.append(TraceStep(rule="duration", detail=_duration_detail(x, ctx, s),
                               amount=float(s.discounted)))
    if x.uplift != 1.0:
        idx = t.price_index
        assert idx is not None
        base = t.spec.price_base_year
        steps.append(TraceStep(rule="uplift", detail=(
            f"{base} -> {ctx.price_year} prices with {idx.name} (index {base} = "
            f"{idx.values[base]:g}{idx.projected_mark(base)}, {ctx.price_year} = "
            f"{idx.values[ctx.price_year]:g}{idx.projected_mark(ctx.price_year)}; "
            f"source {idx.spec.source.id}): x {_num(x.uplift)}"), amount=float(s.uplifted)))
    if not math.isinf(x.cap):
        fired = s.capped < s.uplifted
        steps.append(TraceStep(rule="cap", detail=(
            f"cap {spec.cap_ratio:g} x contract value {_gbp(o.contract_value or 0.0)}"
            + ("" if o.period_share in (None, 1.0) else f" x period share {_num(o.period_share)}")
            + f" = {_gbp(x.cap)}: {'applied' if fired else 'not reached'}"),
            amount=float(s.capped)))
    elif spec.cap_ratio is not None:
        steps.append(TraceStep(rule="cap", detail=(
            f"cap {spec.cap_ratio:g} x contract value not applied: the outcome gives no "
            "contract_value"), amount=float(s.capped)))
    if x.sign < 0:
        steps.append(TraceStep(rule="disbenefit", detail="a disbenefit: counted as negative",
                               amount=float(s.value)))
    return steps


def _expression_detail(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                       expr: Expression) -> str:
    """The expression and the value of each name it uses, in the order they appear, with
    where each came from: ``quantity = 10 week, proxy_high = £300.00, leakage = 0.25 (table
    parameter)``."""
    from socialvalue_tom.engine import PROXY_NAMES, expression_env

    env = expression_env(o, ctx, x)
    spec = ctx.measure

    def shown(name: str) -> str:
        val = env[name]
        if name == "quantity":
            return f"quantity = {_num(val)} {spec.unit}"
        if name in PROXY_NAMES:
            return f"{name} = {_gbp(val)}"
        if name in spec.requires and name in o.fields:
            return f"{name} = {_num(val)} (outcome field)"
        where = "measure parameter" if name in spec.parameters else "table parameter"
        return f"{name} = {_num(val)} ({where})"

    def position(name: str) -> int:
        found = re.search(rf"\b{re.escape(name)}\b", expr.text)
        return found.start() if found else len(expr.text)

    names = sorted(expr.names, key=lambda n: (position(n), n))
    inputs = ", ".join(shown(n) for n in names if n in env)
    return f"expression {expr.text!r}" + (f" with {inputs}" if inputs else "")


def _edition_step(o: Outcome, ctx: RowContext) -> TraceStep:
    t = ctx.table
    carried = (f"; CARRIED FORWARD past its valid_to {t.valid_to} (carry_forward=True)"
               if ctx.carried else "")
    return TraceStep(rule="edition", detail=(
        f"{t.name}:{t.version} valid {t.valid_from}..{t.valid_to} for date {o.date}, "
        f"prices of {t.spec.price_base_year}, digest {t.digest[:16]}{carried}"))


def _duration_detail(x: RuleInputs[float], ctx: RowContext, s: Stages[float]) -> str:
    base = "its own first year" if ctx.base_year is None else f"base year {ctx.base_year}"
    each = (f"; every year at the {ctx.table.version} proxy (constant in real terms)"
            if x.years > 1 else "")
    return (f"{x.years:g} year(s) from year offset {x.offset:g}, drop-off {x.drop_off:g}/year, "
            f"discounted ({ctx.schedule} schedule) to {base}{each}: x {_num(s.duration)}")
