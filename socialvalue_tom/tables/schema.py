"""Pydantic models of the proxy-table file format (``socialvalue_tom.table/v1``).

These models are the single definition of the format: the loader validates files with them and
``docs/schemas/proxy-table.schema.json`` is generated from them. They are frozen and forbid
unknown keys, so a typo in a table file is an error, not an ignored field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

__all__ = [
    "ConfidenceGrades",
    "Derivation",
    "Exclusion",
    "IndexFile",
    "MeasureSpec",
    "Parameter",
    "ProxyValue",
    "QuantityBounds",
    "Region",
    "SourceSpec",
    "TableFile",
]

TABLE_FORMAT = "socialvalue_tom.table/v1"
INDEX_FORMAT = "socialvalue_tom.index/v1"
THEMES = ("jobs", "growth", "social", "environment", "innovation")
VALUE_TYPES = ("economic", "fiscal", "social", "environmental")

K = TypeVar("K")
V = TypeVar("V")


class FrozenMapping(dict[Any, Any]):
    """A dict that refuses changes after construction (and still pickles and serialises).

    Frozen pydantic models still hold mutable dicts; storing them read-only keeps a loaded
    table, and so its digest, from being changed in place.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("proxy-table mappings are read-only; build a new table instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (dict(self),))


def _freeze(value: dict[Any, Any]) -> Mapping[Any, Any]:
    return FrozenMapping(value)


#: A dict validated as usual, then stored read-only.
FrozenDict = Annotated[dict[K, V], AfterValidator(_freeze)]

_CODE = r"^[a-z0-9][a-z0-9._-]{0,63}$"
Code = Annotated[str, Field(pattern=_CODE)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Theme = Literal["jobs", "growth", "social", "environment", "innovation"]
ValueType = Literal["economic", "fiscal", "social", "environmental"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceSpec(_Model):
    """A public source that proxy values cite."""

    id: Code
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2200)
    url: str = Field(pattern=r"^https?://\S+$")
    licence: str = Field(min_length=1)
    published: dt.date | None = None
    notes: str | None = None


class Region(_Model):
    """A region code, its display name and its parent in the fallback tree."""

    code: Code
    name: str = Field(min_length=1)
    parent: Code | None = None


class Derivation(_Model):
    """How a proxy was derived: raw published figures and a safe formula over them."""

    inputs: FrozenDict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(min_length=1)
    formula: str = Field(min_length=1, max_length=1000)
    low_formula: str | None = Field(default=None, max_length=1000)
    high_formula: str | None = Field(default=None, max_length=1000)


class ProxyValue(_Model):
    """A proxy in GBP per canonical unit for one region, with its source and derivation."""

    value: Money
    low: Money | None = None
    high: Money | None = None
    source: Code
    illustrative: bool = False
    derivation: Derivation | None = None

    @field_validator("value", "low", "high")
    @classmethod
    def _at_most_pennies(cls, v: float | None) -> float | None:
        if v is not None and not math.isclose(round(v, 2), v, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(f"proxy {v!r} has more than 2 decimal places: state it in pence")
        return v

    @model_validator(mode="after")
    def _bounds_and_derivation(self) -> ProxyValue:
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low {self.low} is above the central value {self.value}")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high {self.high} is below the central value {self.value}")
        if not self.illustrative and self.derivation is None:
            raise ValueError("a value that is not illustrative needs a derivation")
        return self


class QuantityBounds(_Model):
    """Inclusive bounds on an outcome's quantity in the measure's canonical unit."""

    min: Annotated[float, Field(allow_inf_nan=False)] | None = None
    max: Annotated[float, Field(allow_inf_nan=False)] | None = None


class Parameter(_Model):
    """A named constant a table or measure declares for use in expressions."""

    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: str | None = None
    source: Code | None = None
    notes: str | None = None


class MeasureSpec(_Model):
    """One measure: what is counted, in which unit, and its proxy per region."""

    code: Code
    theme: Theme
    outcome: str = Field(min_length=1)
    title: str = Field(min_length=1)
    unit: str = Field(min_length=1, max_length=64)
    accepts: tuple[str, ...] | None = None
    value_type: ValueType
    disbenefit: bool = False
    methodology: str | None = None
    deadweight: Fraction = 0.0
    displacement: Fraction = 0.0
    attribution: Fraction = 0.0
    drop_off: Fraction = 0.0
    additionality_source: Code | None = None
    health: bool = False
    evidence: str | None = None
    requires: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")], ...] = ()
    quantity_bounds: QuantityBounds | None = None
    cap_ratio: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    expression: str | None = Field(default=None, max_length=1000)
    parameters: FrozenDict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, validate_default=True
    )
    notes: str | None = None
    proxies: FrozenDict[Code, ProxyValue] = Field(min_length=1)


class Exclusion(_Model):
    """A double-counting rule: ``measures`` lists parts first and the whole they belong to last.

    ``count_once``: within a contract (and stage and supplier), each part counts in full and the
    whole counts only what the parts do not cover. ``reject``: the whole claimed with a part is an
    issue.
    """

    id: Code
    measures: tuple[Code, ...] = Field(min_length=2)
    mode: Literal["count_once", "reject"]
    reason: str = Field(min_length=1)
    key: tuple[str, ...] = ("contract_id",)


class ConfidenceGrades(_Model):
    """Confidence grades and the fractional reduction (optimism bias) each applies."""

    source: Code | None = None
    grades: FrozenDict[str, Fraction] = Field(min_length=1)


class TableFile(_Model):
    """A whole proxy-table file: header, sources, rules and measures."""

    format: Literal["socialvalue_tom.table/v1"]
    family: Code
    version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1)
    valid_from: dt.date
    valid_to: dt.date
    review_by: dt.date | None = None
    currency: Literal["GBP"]
    price_base_year: int = Field(ge=1900, le=2200)
    price_index: Code | None = None
    illustrative: bool = False
    regions: tuple[Region, ...] = Field(min_length=1)
    fallback_region: Code
    sources: tuple[SourceSpec, ...] = Field(min_length=1)
    parameters: FrozenDict[str, Parameter] = Field(default_factory=dict, validate_default=True)
    confidence_grades: ConfidenceGrades | None = None
    exclusions: tuple[Exclusion, ...] = ()
    notes: str | None = None
    measures: tuple[MeasureSpec, ...] = Field(min_length=1)

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, v: Mapping[str, Parameter]) -> Mapping[str, Parameter]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
                raise ValueError(f"parameter name {name!r} must be lowercase snake_case")
        return v

    @model_validator(mode="after")
    def _cross_references(self) -> TableFile:
        _check_cross_references(self)
        return self


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({x for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]


def _check_cross_references(t: TableFile) -> None:
    if t.valid_to < t.valid_from:
        raise ValueError(f"valid_to {t.valid_to} is before valid_from {t.valid_from}")
    for what, codes in (
        ("source id", [s.id for s in t.sources]),
        ("region code", [r.code for r in t.regions]),
        ("measure code", [m.code for m in t.measures]),
        ("exclusion id", [e.id for e in t.exclusions]),
    ):
        dup = _duplicates(codes)
        if dup:
            raise ValueError(f"duplicate {what}: {', '.join(dup)}")
    sources = {s.id for s in t.sources}
    regions = {r.code for r in t.regions}
    measures = {m.code for m in t.measures}
    if t.fallback_region not in regions:
        raise ValueError(f"fallback_region {t.fallback_region!r} is not among the regions")
    for r in t.regions:
        if r.parent is not None and r.parent not in regions:
            raise ValueError(f"region {r.code!r} has unknown parent {r.parent!r}")
    _check_region_tree(t)
    for name, p in t.parameters.items():
        if p.source is not None and p.source not in sources:
            raise ValueError(f"parameter {name!r} cites unknown source {p.source!r}")
    if t.confidence_grades and t.confidence_grades.source not in (None, *sources):
        raise ValueError(f"confidence_grades cite unknown source {t.confidence_grades.source!r}")
    for e in t.exclusions:
        unknown = [c for c in e.measures if c not in measures]
        if unknown:
            raise ValueError(f"exclusion {e.id!r} names unknown measures {unknown}")
    for m in t.measures:
        _check_measure(m, t, sources, regions)


def _check_region_tree(t: TableFile) -> None:
    parents = {r.code: r.parent for r in t.regions}
    for code in parents:
        seen = {code}
        cur = parents[code]
        while cur is not None:
            if cur in seen:
                raise ValueError(f"region {code!r} is in a parent cycle")
            seen.add(cur)
            cur = parents[cur]


def _check_measure(m: MeasureSpec, t: TableFile, sources: set[str], regions: set[str]) -> None:
    where = f"measure {m.code!r}"
    if t.fallback_region not in m.proxies:
        raise ValueError(f"{where} has no proxy for the fallback region {t.fallback_region!r}")
    for region, proxy in m.proxies.items():
        if region not in regions:
            raise ValueError(f"{where} has a proxy for unknown region {region!r}")
        if proxy.source not in sources:
            raise ValueError(f"{where} region {region!r} cites unknown source {proxy.source!r}")
        if proxy.illustrative and not t.illustrative:
            raise ValueError(
                f"{where} region {region!r} is illustrative: the table header must say "
                "illustrative: true"
            )
    if m.additionality_source is not None and m.additionality_source not in sources:
        raise ValueError(f"{where} cites unknown additionality_source {m.additionality_source!r}")
    for name in m.parameters:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
            raise ValueError(f"{where} parameter name {name!r} must be lowercase snake_case")


class IndexSource(SourceSpec):
    """The source of a price index series."""


class IndexFile(_Model):
    """A price index series (e.g. GDP deflators) used for price-base uplift."""

    format: Literal["socialvalue_tom.index/v1"]
    name: Code
    title: str = Field(min_length=1)
    basis: Literal["financial-year", "calendar-year"]
    reference_year: int
    published: dt.date
    source: SourceSpec
    values: FrozenDict[int, Annotated[float, Field(gt=0.0, allow_inf_nan=False)]] = Field(
        min_length=1)
    projected_from: int | None = None
    notes: str | None = None
