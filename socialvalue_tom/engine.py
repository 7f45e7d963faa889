"""Scalar valuation: one outcome in, one :class:`Valuation` with its trace out.

The arithmetic is :func:`socialvalue_tom.rules.run_pipeline`, shared with the bulk path; this
module looks up the per-outcome inputs and writes the trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

from socialvalue_tom._bulk.lookups import FRACTION_COLUMNS
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import misnamed
from socialvalue_tom._version import __version__
from socialvalue_tom.errors import (
    OutcomeError,
    RuleError,
    illustrative_collected,
    warn_illustrative,
)
from socialvalue_tom.outcome import (
    MAX_QUANTITY,
    Assumptions,
    Outcome,
    financial_year,
    proxy_bound,
)
from socialvalue_tom.rules.pipeline import (
    RuleInputs,
    Stages,
    peak_amount,
    run_pipeline,
    too_large,
)
from socialvalue_tom.rules.steps import part_limit
from socialvalue_tom.tables.catalogue import TableSet, resolve_tables
from socialvalue_tom.tables.schema import STANDARD_COLUMNS, MeasureSpec
from socialvalue_tom.tables.table import ProxyTable
from socialvalue_tom.valuation import TraceStep, Valuation

__all__ = ["DEFAULT_ASSUMPTIONS", "Sensitivity", "TablesLike", "as_assumptions", "sensitivity",
           "value"]

TablesLike = str | ProxyTable | TableSet | Sequence[ProxyTable]
DEFAULT_ASSUMPTIONS = Assumptions()


def as_assumptions(assumptions: Assumptions | Mapping[str, Any] | None) -> Assumptions:
    """The caller's assumptions: an :class:`Assumptions`, a mapping of its fields (as JSON gives
    them; validated, :class:`RuleError` on a bad value) or ``None`` for the defaults; anything
    else is a :class:`TypeError`."""
    if assumptions is None:
        return DEFAULT_ASSUMPTIONS
    if isinstance(assumptions, Assumptions):
        return assumptions
    if isinstance(assumptions, Mapping):
        return Assumptions.model_validate(dict(assumptions))
    raise TypeError(f"assumptions must be an Assumptions or a mapping of its fields, not "
                    f"{type(assumptions).__name__}")


@lru_cache(maxsize=32)
def _family(name: str) -> TableSet:
    return resolve_tables(name)


def table_set(tables: TablesLike) -> TableSet:
    """Resolve ``tables`` to a :class:`TableSet` (family names and single editions cached)."""
    if isinstance(tables, str):
        return _family(tables)
    if isinstance(tables, ProxyTable):
        # A table is immutable, so the one-edition set built for it can be kept with it.
        cached: TableSet | None = tables.__dict__.get("_as_table_set")
        if cached is None:
            cached = resolve_tables(tables)
            tables.__dict__["_as_table_set"] = cached
        return cached
    return resolve_tables(tables)


class RowContext(NamedTuple):
    """What the scalar engine looked up for one outcome (used to write the trace); a named
    tuple, built faster than a frozen dataclass (see ``RuleInputs``)."""

    table: ProxyTable
    carried: bool
    measure: MeasureSpec
    unit: str
    region: str
    region_used: str
    price_year: int
    schedule: str
    base_year: int | None
    bound: str = "central"  # which of the proxy's values was used (low, central, high)
    policy: str = "central"  # Assumptions.bound, which chose it (least-favourable...)
    assumed: Assumptions | None = None  # the run's assumptions: where each figure came from


def pick(row: float | None, call: float | None, table: float) -> float:
    """Outcome value, else caller's assumption, else the table's measure default."""
    if row is not None:
        return row
    return table if call is None else call


def _inputs(o: Outcome, tset: TableSet, a: Assumptions) -> tuple[RuleInputs[float], RowContext]:
    table, carried = tset.select(o.date, carry_forward=a.carry_forward)
    spec = table.measure(o.measure)
    m = table.measure_index[spec.code]
    r = table.region_position(o.region)
    unit = o.unit if o.unit is not None else spec.unit
    factor = table.unit_factor(spec.code, unit)
    _check_row(o, spec, o.quantity * factor)
    bound = proxy_bound(a.bound, spec.disbenefit)
    proxy_arr = {"central": table.proxy_matrix, "low": table.proxy_low,
                 "high": table.proxy_high}[bound]
    reduction = grade_reduction(table, o.confidence) if a.apply_confidence else 0.0
    fy = financial_year(o.date)
    offset = discount_offset(fy, a.discount_base_year)
    check_horizon(offset, o.years)
    schedule = measure_schedule(spec.health, a.discount_schedule)
    price_year = a.price_year if a.price_year is not None else table.spec.price_base_year
    x = RuleInputs(
        quantity=o.quantity, factor=factor, proxy=float(proxy_arr[m, r]),
        sign=float(table.sign[m]),
        deadweight=pick(o.deadweight, a.deadweight, spec.deadweight),
        displacement=pick(o.displacement, a.displacement, spec.displacement),
        attribution=pick(o.attribution, a.attribution, spec.attribution),
        reduction=reduction, years=o.years,
        drop_off=pick(o.drop_off, a.drop_off, spec.drop_off),
        offset=offset, uplift=uplift_factor(table, price_year),
        cap=cap_limit(float(table.cap_ratio[m]), o.contract_value, o.period_share),
        schedule=schedule,
    )
    ctx = RowContext(table, carried, spec, unit, table.region_codes[r],
                     table.region_codes[int(table.region_used[m, r])], price_year, schedule,
                     a.discount_base_year, bound, a.bound, a)
    return x, ctx


def _check_row(o: Outcome, spec: MeasureSpec, canonical: float) -> None:
    missing = [f for f in spec.requires if f not in o.fields]
    if missing:
        raise OutcomeError(
            f"measure {spec.code!r} requires field(s) {', '.join(missing)} on the outcome "
            f"(pass fields={{{missing[0]!r}: ...}})", field=missing[0], measure=spec.code,
            issue="missing-field")
    for name, b in spec.field_bounds.items():
        if not b.holds(o.fields[name]):
            raise OutcomeError(b.refusal(name, o.fields[name], spec.code), field=name,
                               measure=spec.code, issue="out-of-bounds")
    _refuse_rule_fields(o, spec)
    # A part of a row reported for a period is held to its share of the row's limits.
    share = 1.0 if o.period_share is None else o.period_share
    scaled = "" if share == 1.0 else f" x period share {share:g}"
    if canonical > part_limit(MAX_QUANTITY, share, upper=True):  # in the measure's unit too
        raise OutcomeError(f"quantity {float(canonical)!r} {spec.unit} of {spec.code!r} is above "
                           f"{MAX_QUANTITY:g}{scaled}", field="quantity", measure=spec.code,
                           issue="too-large")
    bounds = spec.quantity_bounds
    if bounds is not None and not (
        (bounds.min is None or canonical >= part_limit(bounds.min, share, upper=False))
        and (bounds.max is None or canonical <= part_limit(bounds.max, share, upper=True))
    ):
        raise OutcomeError(bounds.refusal(canonical, spec.unit, spec.code) + scaled,
                           field="quantity", measure=spec.code, issue="out-of-bounds")


def grade_reduction(table: ProxyTable, grade: str | None) -> float:
    """The optimism-bias reduction for a confidence grade (0 when no grade is given)."""
    if grade is None:
        return 0.0
    if grade not in table.grades:
        raise table.unknown_grade(grade)
    return table.grades[grade]


def discount_offset(year: int, base: int | None) -> int:
    """Years from the discount base year to the outcome's first year."""
    if base is None:
        return 0
    if year < base:
        raise RuleError(f"outcome year {year} is before the discount base year {base}: "
                        "choose a base year no later than the earliest outcome",
                        field="date", year=year, base=base, issue="before-discount-base")
    return year - base


def check_horizon(offset: int, years: int) -> None:
    """The discount table covers years 0..250 from the base year; beyond is an error."""
    from socialvalue_tom.rules.steps import DISCOUNT_YEARS

    if offset + years - 1 > DISCOUNT_YEARS:
        raise RuleError(f"outcome runs to year {offset + years - 1} after the discount base "
                        f"year, beyond the {DISCOUNT_YEARS}-year discount horizon: choose a "
                        "later base year", field="years", offset=offset, years=years,
                        issue="beyond-horizon")


def measure_schedule(health: bool, schedule: str) -> str:
    """Health measures use the Green Book health rates when the standard schedule is asked."""
    return "health" if health and schedule == "green-book" else schedule


def uplift_factor(table: ProxyTable, price_year: int) -> float:
    """Index ratio from the edition's price base to ``price_year`` (1.0 when they agree)."""
    base = table.spec.price_base_year
    if price_year == base:
        return 1.0
    if table.price_index is None:
        raise RuleError(f"table {table.name}:{table.version} declares no price index, so it "
                        f"cannot be restated from {base} to {price_year} prices",
                        field="price_year")
    return table.price_index.factor(base, price_year, to_field="price_year")


def cap_limit(ratio: float, contract_value: float | None,
              period_share: float | None = None) -> float:
    """The cap in GBP: ratio x contract value (x the period share of a part of a row), or
    ``inf`` when no cap or no contract value."""
    if math.isnan(ratio) or contract_value is None:
        return math.inf
    cap = ratio * contract_value
    return cap if period_share is None else cap * period_share


def _refuse_rule_fields(o: Outcome, spec: MeasureSpec) -> None:
    """:class:`OutcomeError` for an extra field that names one of the outcome's own arguments
    (``fields={"years": 3}``, ``{"Deadweight (%)": 50}``): only the fields the measure requires
    are read, so it would be passed over and the value worked out without it, as ``value_frame``
    refuses such a column. A field the measure requires is its own."""
    extra = [n for n in o.fields if n not in spec.requires]
    if not extra:
        return
    rules = [c for c in STANDARD_COLUMNS if c != "fields"]
    own = next((n for n in extra if n in rules), None)
    if own is not None:
        raise OutcomeError(f"field {own!r} is one of the outcome's own arguments, not an extra "
                           f"field: pass {own}=... to Outcome (fields= is read only for the "
                           "fields a measure requires, so it would be passed over)",
                           field="fields", columns=[own])
    alike = misnamed(extra, rules)
    if alike:
        rule, (name, _) = next(iter(alike.items()))
        raise OutcomeError(f"field {name!r} looks like the outcome's argument {rule!r}: pass "
                           f"{rule}=... to Outcome (fields= is read only for the fields a "
                           "measure requires, so it would be passed over)"
                           + (", as a fraction: 0.25 for 25%" if rule in FRACTION_COLUMNS
                              else ""),
                           field="fields", columns=[name])


#: Names every expression may use, supplied by the engine (not parameters or fields).
PROXY_NAMES = ("quantity", "proxy", "proxy_low", "proxy_high")


def expression_env(o: Outcome, ctx: RowContext, x: RuleInputs[float]) -> dict[str, float]:
    """The names a measure's expression is evaluated with: the table's and the measure's
    parameters, then the outcome fields the measure requires, then the canonical quantity and
    the proxies (later ones win)."""
    m = ctx.table.measure_index[ctx.measure.code]
    r = ctx.table.region_codes.index(ctx.region)
    env = dict(ctx.table.parameters_for(ctx.measure.code))
    # Only the fields the measure requires reach its expression (as in bulk): an outcome field
    # can never shadow a table parameter.
    env.update({k: v for k, v in o.fields.items() if k in ctx.measure.requires})
    env.update(quantity=whole_quantity(x.quantity * x.factor, o.period_share), proxy=x.proxy,
               proxy_low=float(ctx.table.proxy_low[m, r]),
               proxy_high=float(ctx.table.proxy_high[m, r]))
    return env


def whole_quantity(canonical: float, period_share: float | None) -> float:
    """The quantity a measure's expression is evaluated on: the whole row's, for a part of a
    row reported for a period (its canonical quantity over its share). The part then takes
    its share of the expression's result (:func:`part_of`), so a fixed term or a non-linear
    expression is shared out by days like the quantity, not counted again in every part."""
    return canonical if period_share is None or period_share == 1.0 else canonical / period_share


def part_of(gross: float, period_share: float | None) -> float:
    """A part's share of an expression's result on the whole row (see :func:`whole_quantity`)."""
    return gross if period_share is None or period_share == 1.0 else gross * period_share


def _expression_gross(o: Outcome, ctx: RowContext, x: RuleInputs[float]) -> float | None:
    expr = ctx.table.expressions.get(ctx.measure.code)
    if expr is None:
        return None
    return part_of(float(expr.evaluate_scalar(expression_env(o, ctx, x))), o.period_share)


@own_decimal_context
def value(outcome: Outcome, tables: TablesLike = "uk-national", *,
          assumptions: Assumptions | Mapping[str, Any] | None = None) -> Valuation:
    """Value one outcome against a table edition or family; returns a :class:`Valuation`.

    ``tables`` may be a :class:`ProxyTable`, a family name (the edition in force on the
    outcome's date is used; by default the embedded ``uk-national``, as for ``value_frame``)
    or a sequence of editions. ``assumptions``: an :class:`Assumptions` or a mapping of its
    fields.

    >>> import datetime as dt
    >>> import socialvalue_tom as sv
    >>> v = sv.value(sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE",
    ...                         region="london", date=dt.date(2024, 9, 30)))
    >>> v.version, v.region_used, sv.money.to_pounds(v.amount)
    ('2024', 'london', Decimal('70668.00'))
    """
    a = as_assumptions(assumptions)
    if not isinstance(outcome, Outcome):
        raise TypeError(f"value() needs an Outcome, not {type(outcome).__name__} (build one with "
                        "sv.Outcome(**fields) or sv.Outcome.model_validate(mapping))")
    x, ctx = _inputs(outcome, table_set(tables), a)
    stages = run_pipeline(x, _expression_gross(outcome, ctx, x))
    # The gross is checked, not only the value: a cap would turn an infinite gross into the
    # cap, and a disbenefit's sign a negative gross into a benefit.
    if not (math.isfinite(stages.value) and math.isfinite(stages.gross)):
        raise RuleError(f"measure {ctx.measure.code!r} gave a non-finite value "
                        f"({stages.gross}); check its expression", measure=ctx.measure.code,
                        issue="non-finite")
    if stages.gross < 0:
        raise RuleError(f"measure {ctx.measure.code!r} gave a negative amount "
                        f"({stages.gross:g}): its expression "
                        f"({ctx.table.expression_words(ctx.measure.code)}) gives the size of a "
                        "benefit or disbenefit, the measure's sign says which (a parameter "
                        "written as a percentage, 20 for 0.2?)", measure=ctx.measure.code,
                        issue="negative-gross")
    why = too_large(float(peak_amount(stages)))  # NaN and infinity too: a step overflowed
    if why:
        raise RuleError(why, measure=ctx.measure.code, field="quantity", issue="too-large")
    valuation = _valuation(outcome, x, ctx, stages)
    if valuation.illustrative:
        warn_illustrative(1)  # at the line calling value
    return valuation


class Sensitivity(TypedDict):
    """What :func:`sensitivity` returns: a valuation at each proxy bound, by its name (a
    plain ``dict``; the type lets a checker know its keys)."""

    low: Valuation
    central: Valuation
    high: Valuation


@own_decimal_context
def sensitivity(outcome: Outcome, tables: TablesLike = "uk-national", *,
                assumptions: Assumptions | Mapping[str, Any] | None = None
                ) -> Sensitivity:
    """Low, central and high valuations using each proxy's recorded bounds.

    The labels name the proxy bound used (``Assumptions(bound=...)``), not how favourable the
    result is: for a disbenefit the low proxy gives the smaller harm, so ``low`` is the least
    negative amount. For the least and most favourable net value of a mixed portfolio, value
    it with ``Assumptions(bound="least-favourable")`` (benefits at their low bound,
    disbenefits at their high one) and ``"most-favourable"`` (the reverse).

    >>> import datetime as dt
    >>> import socialvalue_tom as sv
    >>> carbon = sv.Outcome(measure="env-carbon-saved", quantity=10, unit="tCO2e", region="uk",
    ...                     date=dt.date(2024, 9, 30))
    >>> {bound: str(sv.money.to_pounds(v.amount))
    ...  for bound, v in sv.sensitivity(carbon).items()}
    {'low': '1504.10', 'central': '3008.20', 'high': '4512.30'}
    """
    a = as_assumptions(assumptions)
    with illustrative_collected() as illustrative:  # one outcome: one warning, not three
        low, central, high = (
            value(outcome, tables, assumptions=a.model_copy(update={"bound": b}))
            for b in ("low", "central", "high"))
    if illustrative:
        warn_illustrative(1)
    return Sensitivity(low=low, central=central, high=high)


def _valuation(o: Outcome, x: RuleInputs[float], ctx: RowContext,
               s: Stages[float]) -> Valuation:
    t, spec = ctx.table, ctx.measure
    pv = spec.proxies[ctx.region_used]
    return Valuation.from_engine(
        lambda: trace_steps(o, x, ctx, s),
        format="socialvalue_tom.trace/v1", engine_version=__version__, measure=spec.code,
        amount=float(s.value), gross=float(s.gross) * x.sign + 0.0, currency="GBP",
        quantity=o.quantity, unit=ctx.unit, canonical_quantity=float(s.canonical),
        canonical_unit=spec.unit, region_requested=ctx.region, region_used=ctx.region_used,
        table=t.name, version=t.version, digest=t.digest, carried_forward=ctx.carried,
        proxy=x.proxy, proxy_source=pv.source, price_base_year=t.spec.price_base_year,
        price_year=ctx.price_year, theme=spec.theme, value_type=spec.value_type,
        disbenefit=spec.disbenefit, illustrative=pv.illustrative,
    )


def trace_steps(o: Outcome, x: RuleInputs[float], ctx: RowContext,
                s: Stages[float]) -> list[TraceStep]:
    """The trace lines for one outcome (shared with ``explain_row``)."""
    from socialvalue_tom.trace import build_steps

    return build_steps(o, x, ctx, s)
