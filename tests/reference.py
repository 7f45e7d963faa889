"""A Decimal reference implementation of the valuation rules, for tiny.yaml.

Independent of the library's arithmetic: it reads the figures from the table's validated spec,
walks the region tree itself, and computes quantity x factor x proxy x additionality x
confidence x duration x uplift, cap and sign in :mod:`decimal` with 50 significant digits.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.tables.table import ProxyTable

D = Decimal
PENNY = D("0.01")
ONE = D(1)
#: Exact factors to the canonical unit of each measure, for the units strategies.py uses.
FACTORS: dict[str | None, Decimal] = {
    None: ONE, "FTE": ONE, "fte": ONE, "full_time_equivalent": ONE,
    "tCO2e": ONE, "kgCO2e": D("0.001"), "ktCO2e": D(1000),
    "GBP": ONE, "kGBP": D(1000), "£": ONE, "pence": D("0.01"),
    "week": ONE, "hour": ONE,
}
#: The Green Book schedules, (last year of band, rate), written out here from the guidance
#: (annex A6 and the health schedule) rather than read from the library.
RATES = {
    "green-book": ((30, D("0.035")), (75, D("0.030")), (125, D("0.025")), (200, D("0.020")),
                   (300, D("0.015")), (None, D("0.010"))),
    "health": ((30, D("0.015")), (75, D("0.0129")), (125, D("0.0107")), (200, D("0.0086")),
               (300, D("0.0064")), (None, D("0.0043"))),
    "none": ((None, D(0)),),
}


def dec(x: float) -> Decimal:
    """The decimal a person meant when they wrote the float ``x``."""
    return D(repr(float(x)))


def factor(measure: str, unit: str | None) -> Decimal:
    """Exact unit factor (minutes are 1/60 hour for the volunteering measure)."""
    if unit == "minute":
        return ONE / D(60)
    # No calendar unit converts to hours of volunteering (the library refuses "week" there):
    # "week" here is the canonical unit of the week measures only.
    return FACTORS[unit]


def region_used(table: ProxyTable, region: str, measure: str) -> str:
    """Walk the region tree upwards to the first region with a proxy, then the fallback."""
    spec = table.spec
    parents = {r.code: r.parent for r in spec.regions}
    names = {r.name.lower(): r.code for r in spec.regions}
    code = names.get(region.lower(), region.lower())
    proxies = table.measures[measure].proxies
    cur: str | None = code
    while cur is not None:
        if cur in proxies:
            return cur
        cur = parents[cur]
    return spec.fallback_region


def rate(k: int, schedule: str) -> Decimal:
    """The annual rate of year ``k`` (1-based) in a schedule."""
    return next(r for last, r in RATES[schedule] if last is None or k <= last)


def discount(t: int, schedule: str) -> Decimal:
    """Green Book discount factor for year ``t`` (0 is undiscounted)."""
    out = ONE
    for k in range(1, t + 1):
        out = out / (ONE + rate(k, schedule))
    return out


def financial_year(day: dt.date) -> int:
    """UK financial year (April to March)."""
    return day.year if day.month >= 4 else day.year - 1


def _pick(row: Any, call: Any, table: float) -> Decimal:
    if row is not None:
        return dec(row)
    return dec(table if call is None else call)


def reference_value(row: dict[str, Any], table: ProxyTable,
                    a: Assumptions | None = None) -> Decimal:
    """The exact value in GBP of one outcome row (the dict from strategies.outcome_rows)."""
    a = a or Assumptions()
    with localcontext(Context(prec=50)):
        spec = table.measures[row["measure"]]
        used = region_used(table, row["region"], row["measure"])
        pv = spec.proxies[used]
        central = dec(pv.value)
        low = central if pv.low is None else dec(pv.low)
        high = central if pv.high is None else dec(pv.high)
        harm = spec.disbenefit  # the least favourable net counts harms high, benefits low
        proxy = {"central": central, "low": low, "high": high,
                 "least-favourable": high if harm else low,
                 "most-favourable": low if harm else high}[a.bound]
        q = dec(row["quantity"]) * factor(row["measure"], row.get("unit"))
        if row["measure"] == "growth-local-spend":
            gross = q * proxy * (ONE - dec(table.spec.parameters["leakage"].value))
        elif row["measure"] == "jobs-apprentice":
            gross = (high if row["level"] >= 3 else low) * q
        else:
            gross = q * proxy
        net = gross
        for name in ("deadweight", "displacement", "attribution"):
            net *= ONE - _pick(row.get(name), getattr(a, name), getattr(spec, name))
        grade = row.get("confidence")
        if grade is not None and a.apply_confidence and not spec.disbenefit:
            # optimism bias reduces benefits only; a harm counts in full
            net *= ONE - dec(table.spec.confidence_grades.grades[grade])
        years = row.get("years") or 1
        drop = _pick(row.get("drop_off"), a.drop_off, spec.drop_off)
        fy = financial_year(row["date"])
        offset = 0 if a.discount_base_year is None else fy - a.discount_base_year
        schedule = ("health" if spec.health and a.discount_schedule == "green-book"
                    else a.discount_schedule)
        duration, keep, factor_t = D(0), ONE, discount(offset, schedule)
        for t in range(int(years)):
            if t:  # one more year of discounting: year offset + t at its band's rate
                factor_t = factor_t / (ONE + rate(offset + t, schedule))
            duration += keep * factor_t
            keep *= ONE - drop
        value = net * duration
        base = table.spec.price_base_year
        price_year = base if a.price_year is None else a.price_year
        if price_year != base:
            values = table.price_index.spec.values
            value = value * dec(values[price_year]) / dec(values[base])
        if spec.cap_ratio is not None and row.get("contract_value") is not None:
            cap = dec(spec.cap_ratio) * dec(row["contract_value"])
            if row.get("period_share") is not None:  # a part of a row: its share of the cap
                cap *= dec(row["period_share"])
            value = min(value, cap)
        return -value if spec.disbenefit else value


def pounds(x: Decimal) -> Decimal:
    """Round half away from zero to the penny, as the library documents."""
    return x.quantize(PENNY, rounding=ROUND_HALF_UP)


#: Relative float error allowed around a half-penny: a chain of about ten float operations (a
#: duration of up to 125 terms included) is within 1e-14 of exact; 1e-13 leaves room and no
#: more (1e-10 let every penny difference on amounts over £50m through).
REL = D("1e-13")


def near_half_penny(x: Decimal, rel: Decimal = REL, *, scale: Decimal | None = None) -> bool:
    """True when ``x`` lies so close to a half-penny that float error may round it either way.

    ``scale``: the size the float error is relative to, where it is not ``x`` itself (a total
    of amounts of both signs: the sum of their sizes)."""
    cents = abs(x) * 100
    frac = cents - int(cents)
    size = cents if scale is None else abs(scale) * 100
    return abs(frac - D("0.5")) <= rel * size + D("1e-9")
