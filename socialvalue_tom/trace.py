"""The trace: readable lines for each rule that fired, with inputs, units and sources."""

from __future__ import annotations

import math
import re
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING

from socialvalue_tom._text import financial_year_text
from socialvalue_tom.errors import SocialValueError
from socialvalue_tom.money import (  # one rule for float noise
    _NOISE_ULPS,
    _tells_pennies_apart,
    to_pounds,
)
from socialvalue_tom.valuation import TraceStep, _gbp

if TYPE_CHECKING:
    from socialvalue_tom.engine import RowContext
    from socialvalue_tom.outcome import Outcome
    from socialvalue_tom.rules.expressions import Expression
    from socialvalue_tom.rules.pipeline import RuleInputs, Stages
    from socialvalue_tom.tables.schema import ProxyValue, SourceSpec

__all__ = ["build_steps"]

#: Float noise shows as a run of 0s or 9s: dropped only where it is at least this many digits.
_NOISE_DIGITS = 3


def _num(x: float) -> str:
    """``x`` in full, so that the trace multiplies out to the penny: every digit of its
    ``repr`` less float noise (:func:`_unrounded`), in plain decimal with thousands separators
    (``0.75``, ``1,000``, ``1.9661835748792271``, ``1.136416`` for ``1.1364159999999999``);
    never cut to a few significant figures (``1.96618`` would make £9,600.00 x 1.96618 =
    £18,875.33 where the amount is £18,875.36)."""
    x = float(x)
    if not math.isfinite(x):  # never reached by a valid row; said, not raised, if it were
        return repr(x)
    if x.is_integer() and abs(x) < 1e15:  # the common case, quickly
        return f"{int(x):,}"
    return _grouped(_unrounded(x))


def _money(amount: float) -> str:
    """``£1,234.50`` where ``amount`` is a whole number of pence, else in full
    (``£225.615``): a proxy or contract value the trace multiplies by is never rounded first."""
    full = _unrounded(float(amount))
    return _gbp(amount) if _in_pence(full) else _pounds(full)


def _input(amount: float) -> str:
    """The amount a step multiplies, where the line above shows it rounded to the penny
    (``£225.615 (unrounded) ``, followed by ``x factor``), so that amount x factor gives the
    step's amount to the penny; nothing where the line above shows it exactly."""
    full = _unrounded(float(amount))
    return "" if _in_pence(full) else f"{_pounds(full)} (unrounded) "


@lru_cache(maxsize=4096)  # factors, proxies and index values recur from trace to trace
def _unrounded(x: float) -> str:
    """``x`` as plain decimal text: its ``repr`` (the shortest text that reads back as the
    same float), less float noise: where a decimal at least :data:`_NOISE_DIGITS` digits
    shorter lies within four ulps of ``x`` (the window :mod:`socialvalue_tom.money` allows),
    the shortest such decimal: ``601.64`` for ``601.6400000000001``, ``225.615`` for
    ``225.61499999999998``, ``1.136416`` for ``113.6416 / 100``. A real sub-penny amount keeps
    its digits (``18875.36231884058``), as does a factor such as ``0.8333333333333334``."""
    if x.is_integer() and abs(x) < 1e15:  # the common case, quickly
        return str(int(x))
    text = repr(x)
    places = len(text.partition(".")[2])
    # Measured as money measures it (to_pounds: from the repr, in exact decimals), so an
    # amount shown as a half-penny is one that rounds up: float arithmetic here had shown
    # 7.304999999999996 as 7.305, which to_pounds rounds to 7.30.
    exact = Decimal(text)
    noise = Decimal(math.ulp(x) * _NOISE_ULPS)

    def rounded(n: int) -> Decimal:
        return exact.quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_EVEN)

    def near(n: int) -> bool:
        return abs(rounded(n) - exact) <= noise

    if not _tells_pennies_apart(x):
        # Money takes such a float as exactly what it is (no noise window): so does the trace,
        # in full where its shortest text would round to another penny.
        try:
            agrees = (Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                      == to_pounds(x))
        except (InvalidOperation, SocialValueError):  # beyond money's range: no penny to keep
            agrees = True
        return _plain(text) if agrees else _plain(f"{Decimal(x):f}")
    # The half-penny money rounds this to, shown as such whatever the digits it saves (the
    # window is at most a twentieth of a penny: money._MAX_WINDOW).
    half = ((exact * 100).to_integral_value(rounding=ROUND_FLOOR) + Decimal("0.5")) / 100
    if exact != half and abs(exact - half) <= noise:
        return _plain(f"{half.normalize():f}")

    cut = places - _NOISE_DIGITS
    if "e" in text or cut < 0 or not near(cut):  # no noise to drop
        return _plain(text)
    # Fewest decimal places within the noise (rounding to more places only comes closer):
    # pence are the usual answer, so try them first.
    fewest, places = (0, 2) if near(2) else (3, cut)
    while fewest < places:
        mid = (fewest + places) // 2
        if near(mid):
            places = mid
        else:
            fewest = mid + 1
    return _plain(f"{rounded(places).normalize():f}")


def _plain(text: str) -> str:
    """A float's ``repr`` as plain decimal: no exponent, no ``.0`` (``1e-05`` is
    ``0.00001``, ``2500.0`` is ``2500``)."""
    if "e" in text or "E" in text:
        text = f"{Decimal(text):f}"
    return text[:-2] if text.endswith(".0") else text


def _grouped(text: str) -> str:
    """Plain decimal text with thousands separators: ``1234567.891`` is ``1,234,567.891``."""
    whole, point, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{point}{frac}"


def _float_product(a: float, b: float, product: float) -> str:
    """`` = £3.175 at float precision`` where the shown ``a x b`` multiplied out by hand rounds
    to another penny than ``product`` (the float product, rounded once to 53 bits: 12.7
    minutes are 0.21166666666666664 hours, x £15 is 3.1749999999999996 by hand but 3.175 in
    float), so the line gives the amount the next step rounds; nothing otherwise."""
    return _by_hand_note([a, b], product)


def _by_hand_note(shown: list[float | Decimal], product: float) -> str:
    """:func:`_float_product` for any number of factors, each as the trace shows it (a float,
    shown by :func:`_unrounded`, or an exact Decimal such as ``1 - 0.15``)."""
    if not math.isfinite(product) or not all(
            isinstance(f, Decimal) or math.isfinite(f) for f in shown):
        return ""
    # Each float figure is shown within a few ulps, so the product by hand is within about
    # 1e-14 (relative) of ``product``, and only near a half-penny can the two round to
    # different pennies: elsewhere (nearly always) no Decimal work is needed. A factor
    # ``1 - x`` carries x's few ulps, which are large beside a small 1 - x: with one under
    # 1e-5 (then up to 1e-10 relative) the Decimal product is always worked out.
    cents = abs(product) * 100.0
    near_one = any(isinstance(f, Decimal) and abs(f) < _SMALL_ONE_MINUS for f in shown)
    if (math.isfinite(cents) and not near_one
            and abs(cents - math.floor(cents) - 0.5) > 1e-9 * (cents + 1.0)):
        return ""
    by_hand = Decimal(1)
    for factor in shown:
        by_hand *= factor if isinstance(factor, Decimal) else Decimal(_unrounded(factor))
    try:
        differs = (by_hand.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                   != to_pounds(product))
    except (SocialValueError, InvalidOperation):  # beyond money's range: said elsewhere
        return ""
    return f" = {_pounds(_unrounded(product))} at float precision" if differs else ""


_SMALL_ONE_MINUS = Decimal("1e-5")


def _one_minus(x: float) -> Decimal:
    """``1 - x`` as a reader works it out from the shown ``x``: exactly."""
    return Decimal(1) - Decimal(_unrounded(x))


def _in_pence(text: str) -> bool:
    """Whether plain decimal ``text`` has no more than two decimal places."""
    return len(text.partition(".")[2]) <= 2


def _pounds(text: str) -> str:
    """``£225.615`` (``-£225.615``) from plain decimal text."""
    return f"-£{_grouped(text[1:])}" if text.startswith("-") else f"£{_grouped(text)}"


def build_steps(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                s: Stages[float]) -> list[TraceStep]:
    """One :class:`TraceStep` per rule that fired, in pipeline order."""
    t, spec = ctx.table, ctx.measure
    steps = [_edition_step(o, ctx)]
    # No unit given reads the quantity in the canonical unit: said, as a blank unit cell
    # may be a supplier's omission (61,200 kg read as 61,200 t).
    given = "" if o.unit is not None else "; no unit was given, so it is read in this unit"
    share = o.period_share
    part = ("" if share is None or share == 1.0 else
            f"; a part of the row's reporting period: period share {_num(share)} of its "
            f"{_num(o.quantity / share)} {ctx.unit}")
    steps.append(TraceStep(rule="convert", detail=(
        f"{_num(o.quantity)} {ctx.unit} x {_num(x.factor)} = {_num(s.canonical)} {spec.unit}"
        f" (canonical unit of {spec.code}: {spec.title}{given}{part})")))
    pv = spec.proxies[ctx.region_used]
    src = t.sources[pv.source]
    where = _region_words(ctx.region, ctx.region_used, t.region_note(spec.code, ctx.region))
    label = " [ILLUSTRATIVE]" if pv.illustrative else ""
    expr = t.expressions.get(spec.code)
    named = set() if expr is None else expr.names & {"proxy", "proxy_low", "proxy_high"}
    shown_proxy = x.proxy
    if named and "proxy" not in named:
        # The expression picks among the proxy's bounds itself: no bound option applies.
        shown_proxy = pv.value
        label += " (central value; the expression below uses the bounds it names)"
    elif ctx.bound != "central":  # a sensitivity bound: say so, and what the central value is
        recorded = pv.low if ctx.bound == "low" else pv.high
        why = ("" if ctx.policy == ctx.bound else
               f", the {ctx.policy} value for a {'disbenefit' if spec.disbenefit else 'benefit'}")
        label += (f" ({ctx.bound} bound{why}; central value {_money(pv.value)})"
                  if recorded is not None
                  else f" ({ctx.bound} bound{why}: the table gives none, so the central value)")
    if named and "proxy" in named and named != {"proxy"}:
        label += " (the expression below uses the bounds it names too)"
    steps.append(TraceStep(rule="proxy", detail=(
        f"{_money(shown_proxy)} per {spec.unit} for {where}{label}; source {src.id}: "
        f"{src.title} ({src.publisher}, {src.year}, {src.licence})"
        f"{_unverified(src)}{_derivation_text(pv, shown_proxy)}")))
    gross_detail = (_expression_detail(o, x, ctx, expr, float(s.gross)) if expr is not None
                    else f"{_num(s.canonical)} {spec.unit} x {_money(x.proxy)}"
                    + _float_product(s.canonical, x.proxy, s.gross))
    steps.append(TraceStep(rule="gross", detail=gross_detail, amount=float(s.gross)))
    defaults = (spec.deadweight, spec.displacement, spec.attribution)
    if (x.deadweight, x.displacement, x.attribution) != (0.0, 0.0, 0.0) or any(defaults):
        # Shown also when all three are 0 by choice: setting aside a table's default is said.
        steps.append(TraceStep(rule="additionality", detail=(
            f"{_input(s.gross)}x (1 - deadweight {_num(x.deadweight)}) x (1 - displacement "
            f"{_num(x.displacement)}) x (1 - attribution {_num(x.attribution)})"
            + _by_hand_note([s.gross, _one_minus(x.deadweight), _one_minus(x.displacement),
                             _one_minus(x.attribution)], s.net)
            + _origins(o, ctx, ("deadweight", "displacement", "attribution"),
                       spec.additionality_source)),
            amount=float(s.net)))
    grades_off = ctx.assumed is not None and not ctx.assumed.apply_confidence
    if grades_off and o.confidence is not None:
        steps.append(TraceStep(rule="confidence", detail=(
            f"confidence grade {o.confidence!r} not applied: grades are turned off for this "
            "valuation (apply_confidence=False)"), amount=float(s.confident)))
    elif x.reduction != 0.0 or o.confidence is not None:
        if x.reduction == 0.0:
            applied = ""
        elif x.sign > 0:  # the factor in full, as every other step gives its own
            applied = (f": {_input(s.net)}x (1 - {_num(x.reduction)})"
                       + _by_hand_note([s.net, _one_minus(x.reduction)], s.confident))
        else:
            applied = " not applied: a disbenefit is counted in full"
        grades = t.spec.confidence_grades
        told = ("" if x.reduction == 0.0 or grades is None or grades.source is None
                else _unverified(t.sources.get(grades.source)))
        steps.append(TraceStep(rule="confidence", detail=(
            f"confidence grade {o.confidence!r}: optimism-bias reduction {_num(x.reduction)}"
            f"{told}{applied}"), amount=float(s.confident)))
    if x.years != 1 or x.offset != 0:
        steps.append(TraceStep(rule="duration", detail=_duration_detail(o, x, ctx, s),
                               amount=float(s.discounted)))
    if x.uplift != 1.0:
        idx = t.price_index
        assert idx is not None
        base, to = t.spec.price_base_year, ctx.price_year
        steps.append(TraceStep(rule="uplift", detail=(
            f"{base} -> {to} prices with {idx.name} (index {base} = "
            f"{_num(idx.values[base])}{idx.projected_mark(base)}, {to} = "
            f"{_num(idx.values[to])}{idx.projected_mark(to)}; source {idx.spec.source.id}): "
            f"{_input(s.discounted)}x {_num(x.uplift)}"
            + _by_hand_note([s.discounted, x.uplift], s.uplifted)),
            amount=float(s.uplifted)))
    if not math.isinf(x.cap):
        assert spec.cap_ratio is not None  # a finite cap is the measure's ratio x a value
        fired = s.capped < s.uplifted
        shown: list[float | Decimal] = [spec.cap_ratio, o.contract_value or 0.0]
        if o.period_share not in (None, 1.0):
            shown.append(float(o.period_share))
        # Multiplied out by hand, the factors may round to another penny than the cap used.
        note = _by_hand_note(shown, float(x.cap))
        steps.append(TraceStep(rule="cap", detail=(
            f"cap {_num(spec.cap_ratio)} x contract value {_money(o.contract_value or 0.0)}"
            + ("" if o.period_share in (None, 1.0) else f" x period share {_num(o.period_share)}")
            + (f"{note}, cap {_gbp(x.cap)}" if note else f" = {_gbp(x.cap)}")
            + f": {'applied' if fired else 'not reached'}"),
            amount=float(s.capped)))
    elif spec.cap_ratio is not None:
        steps.append(TraceStep(rule="cap", detail=(
            f"cap {_num(spec.cap_ratio)} x contract value not applied: the outcome gives no "
            "contract_value"), amount=float(s.capped)))
    if x.sign < 0:
        steps.append(TraceStep(rule="disbenefit", detail="a disbenefit: counted as negative",
                               amount=float(s.value)))
    return steps


def _unverified(source: SourceSpec | None) -> str:
    """What of ``source``'s figures was not checked against the publication, as a step says
    it (``""`` where all were)."""
    if source is None or source.unverified is None:
        return ""
    return f" [NOT CHECKED against the publication: {source.unverified}]"


def _origins(o: Outcome, ctx: RowContext, names: tuple[str, ...], source: str | None) -> str:
    """Where each figure came from, where not every one is the table's default: "; deadweight
    set for this valuation (the table's 0.1), displacement and attribution the table's
    defaults (from SRC)"."""
    spec = ctx.measure
    came = {n: _came_from(o, ctx, n) for n in names}
    own = [n for n in names if came[n] == "outcome"]
    run = [n for n in names if came[n] == "run"]
    table = [n for n in names if came[n] == "table"]
    parts = [f"{n} given by the outcome (the table's {_num(getattr(spec, n))})" for n in own]
    parts += [f"{n} set for this valuation (the table's {_num(getattr(spec, n))})"
              for n in run]
    # A caveat on the source's figures matters where a default used is one of them (not 0).
    caveat = (_unverified(ctx.table.sources.get(source))
              if source and any(getattr(spec, n) for n in table) else "")
    if table and (own or run):
        parts.append(f"{_and(table)} the table's default{'s' if len(table) > 1 else ''}"
                     + (f" (from {source}{caveat})" if source else ""))
    elif table and source:
        return f"; table defaults from {source}{caveat}"
    return "; " + ", ".join(parts) if parts else ""


def _came_from(o: Outcome, ctx: RowContext, name: str) -> str:
    """Where a figure came from, as the engine picks it (``engine.pick``): the outcome, the
    run's assumptions, or the table's default."""
    if getattr(o, name) is not None:
        return "outcome"
    return "run" if ctx.assumed is not None and getattr(ctx.assumed, name) is not None \
        else "table"


def _origin_of(o: Outcome, ctx: RowContext, name: str) -> str:
    """" (set for this valuation; the table's 0)" where a figure is not the table's default."""
    came = _came_from(o, ctx, name)
    if came == "table":
        return ""
    said = "given by the outcome" if came == "outcome" else "set for this valuation"
    return f" ({said}; the table's {_num(getattr(ctx.measure, name))})"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _derivation_text(pv: ProxyValue, shown: float) -> str:
    """How the table derived the proxy shown from its source's figures (``; derived as
    median_weekly_pay_ft * weeks_per_year with median_weekly_pay_ft = 906, weeks_per_year =
    52``), so that the trace runs back to the published figure; ``""`` for a value with no
    derivation (an illustrative one) or a bound derived by no formula of its own."""
    d = pv.derivation
    if d is None:
        return ""
    formula = (d.formula if shown == pv.value else d.low_formula if shown == pv.low
               else d.high_formula if shown == pv.high else None)
    if formula is None:
        return ""
    own = d.input_sources or {}  # an input another source published names it
    inputs = ", ".join(f"{name} = {_num(v)}" + (f" ({own[name]})" if name in own else "")
                       for name, v in d.inputs.items()
                       if re.search(rf"\b{re.escape(name)}\b", formula))
    return f"; derived as {formula}" + (f" with {inputs}" if inputs else "")


def _expression_detail(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                       expr: Expression, gross: float) -> str:
    """The expression and the value of each name it uses, in the order they appear, with
    where each came from: ``quantity = 10 week, proxy_high = £300.00, leakage = 0.25 (table
    parameter)``."""
    from socialvalue_tom.engine import PROXY_NAMES, expression_env

    env = expression_env(o, ctx, x)
    spec = ctx.measure
    share = 1.0 if o.period_share is None else o.period_share
    whole = share != 1.0  # a part: the expression's result on the whole row x its share

    def shown(name: str) -> str:
        val = env[name]
        if name == "quantity":
            part = ("" if not whole else " (the whole row: the part's "
                    f"{_num(x.quantity * x.factor)} {spec.unit} / period share {_num(share)})")
            return f"quantity = {_num(val)} {spec.unit}{part}"
        if name in PROXY_NAMES:
            return f"{name} = {_money(val)}"
        if name in spec.requires and name in o.fields:
            return f"{name} = {_num(val)} (outcome field)"
        where = "measure parameter" if name in spec.parameters else "table parameter"
        return f"{name} = {_num(val)} ({where})"

    def position(name: str) -> int:
        found = re.search(rf"\b{re.escape(name)}\b", expr.text)
        return found.start() if found else len(expr.text)

    names = sorted(expr.names, key=lambda n: (position(n), n))
    inputs = ", ".join(shown(n) for n in names if n in env)
    # The result in full, so the line can be checked by hand; for a part, times its share,
    # with the float's amount where the shown figures multiply out to another penny.
    result = float(expr.evaluate_scalar(env))
    full = _unrounded(result)
    return (f"expression {expr.text!r}" + (f" with {inputs}" if inputs else "")
            + f" gives {_money(result) if _in_pence(full) else _pounds(full)}"
            + (f", x period share {_num(share)}" + _by_hand_note([result, share], gross)
               if whole else ""))


def _edition_step(o: Outcome, ctx: RowContext) -> TraceStep:
    t = ctx.table
    carried = (f"; CARRIED FORWARD past its valid_to {t.valid_to} (carry_forward=True)"
               if ctx.carried else "")
    return TraceStep(rule="edition", detail=(
        f"{t.name}:{t.version} valid {t.valid_from}..{t.valid_to} for date {o.date}, "
        f"prices of {t.spec.price_base_year}, digest {t.digest[:16]}{carried}"))


def _duration_detail(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                     s: Stages[float]) -> str:
    from socialvalue_tom.outcome import financial_year

    first = financial_year(o.date)
    base = "its own first year" if ctx.base_year is None else "the base year"
    after = ("" if ctx.base_year is None else ", the discount base year" if x.offset == 0 else
             f", {x.offset:g} year(s) after the discount base year "
             f"{financial_year_text(ctx.base_year)}")
    each = (f"; every year at the {ctx.table.version} proxy (constant in real terms)"
            if x.years > 1 else "")
    how = ("not discounted (discount_schedule none)" if ctx.schedule == "none"
           else f"discounted ({ctx.schedule} schedule) to {base}")
    origin = _origin_of(o, ctx, "drop_off")
    # "each year": a carbon lead's review read the quantity as the whole term's total.
    return (f"{x.years:g} year(s) of the quantity each year, from financial year "
            f"{financial_year_text(first)}{after}, "
            f"drop-off {_num(x.drop_off)}/year{origin}, "
            f"{how}{each}: {_input(s.confident)}"
            f"x {_num(s.duration)}" + _by_hand_note([s.confident, s.duration], s.discounted))


def _region_words(region: str, used: str, note: tuple[str, str] | None) -> str:
    """The region a proxy was taken for, as the trace says it: the row's own, or the one its
    fallback reached, with the note the table gives for the row's region there
    (:meth:`ProxyTable.region_note`: a value that is the region's own figure, a stand-in's
    known cost)."""
    if used == region:
        return region
    if note is not None and note[0] == "applies":
        return f"{used} (its value applies in {region}: {note[1].rstrip('.')})"
    known = f"; {note[1].rstrip('.')}" if note is not None else ""
    return f"{used} (fallback: {region} has no value of its own{known})"
