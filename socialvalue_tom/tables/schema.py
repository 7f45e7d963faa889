"""Pydantic models of the proxy-table file format (``socialvalue_tom.table/v1``).

These models are the single definition of the format: the loader validates files with them and
``docs/schemas/proxy-table.schema.json`` is generated from them. They are frozen and forbid
unknown keys, so a typo in a table file is an error, not an ignored field.
"""

from __future__ import annotations

import datetime as dt
import itertools
import keyword
import math
import re
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from socialvalue_tom._jsonschema import NeverLooserSchema
from socialvalue_tom._text import grouped_digits, name_key
from socialvalue_tom.errors import ProxyTableError, SocialValueError
from socialvalue_tom.units import as_written_or_lower, canonical_unit, conversion_factor, scale_of

__all__ = [
    "ENGINE_NAMES",
    "GSS_REGION_CODES",
    "MAX_INDEX_RATIO",
    "MAX_MEASURES",
    "MAX_PROXY",
    "MAX_REGIONS",
    "MAX_TABLE_CELLS",
    "MAX_YEAR_STEP",
    "NEVER_GROUPING_COLUMNS",
    "STANDARD_COLUMNS",
    "ConfidenceGrades",
    "Derivation",
    "Exclusion",
    "FieldCheckError",
    "IndexFile",
    "MeasureSpec",
    "Parameter",
    "ProxyValue",
    "QuantityBounds",
    "Region",
    "SourceSpec",
    "TableFile",
    "normalise_region",
    "table_cells_problem",
    "value_region",
]

TABLE_FORMAT = "socialvalue_tom.table/v1"
INDEX_FORMAT = "socialvalue_tom.index/v1"
THEMES = ("jobs", "growth", "social", "environment", "innovation")
#: The prefix of each theme's codes. A code may be one of its own (``nt1``, ``local-x``), but a
#: code with a theme's prefix must be of that theme (:func:`misthemed_prefix`).
THEME_PREFIXES = {"jobs": "jobs-", "growth": "growth-", "social": "social-",
                  "environment": "env-", "innovation": "innov-"}
VALUE_TYPES = ("economic", "fiscal", "social", "environmental")
#: A proxy (and its ``low`` and ``high``) must be below this many GBP per unit. A float holds
#: pennies exactly only up to about 9e13, and after arithmetic (uplift, discounting) to about
#: 9e12; no real proxy comes near a trillion pounds per unit, so a larger one is a typo.
MAX_PROXY = 1e12
#: Most measures, and most regions, in one table: the bulk engine indexes them with 16-bit
#: integers.
MAX_MEASURES = 32_767
MAX_REGIONS = 32_767
#: Most measures x regions in one table: a table is compiled into dense arrays of one cell per
#: measure and region (real tables have about 41 x 16). 4,000,000 cells are about 100 MB of
#: arrays; 32,767 x 32,767 would be tens of gigabytes.
MAX_TABLE_CELLS = 4_000_000
#: A parameter's name, and a derivation input's: lowercase ASCII snake_case. Expressions are
#: parsed as Python, which reads names in Unicode NFKC form: two inputs whose names differed
#: only in compatibility characters ("median" and a full-width "ｍedian") would be one name to
#: the formula, silently the wrong figure.
_NAME = r"[a-z][a-z0-9_]{0,63}"
#: An index value may be at most this many times, or this fraction of, the reference year's:
#: the factor between any two years is then within 1e-12..1e12, and a value typed a thousand
#: million times too large or small is an error, not an uplift.
MAX_INDEX_RATIO = 1e6
#: The most a price index may move in one year, up (x 1.5) or down (/ 1.5): the UK GDP deflator's
#: largest rise since 1955 was under 30% (1974-75). A value past it is a typo: a growth rate
#: written for the index (3.1 for 103.1), or a digit dropped or added.
MAX_YEAR_STEP = 1.5
#: Names the engine gives every expression (``engine.PROXY_NAMES``): a parameter, or an outcome
#: field a measure ``requires``, of one of these names would never be seen.
ENGINE_NAMES = ("quantity", "proxy", "proxy_low", "proxy_high")
#: Outcome fields and standard input columns. A measure's ``requires`` names extra fields
#: (``Outcome.fields``, extra columns of a frame): one of these would be read as the outcome's
#: own field by the bulk engine but looked for among the extra fields by the scalar one.
STANDARD_COLUMNS = (
    "measure", "quantity", "unit", "region", "date", "years", "deadweight", "displacement",
    "attribution", "drop_off", "confidence", "contract_id", "supplier_id", "stage",
    "contract_value", "period_share", "period_row", "fields",
)
#: The fields written as fractions of one (0.25 for 25%), in a table file and an outcome alike.
FRACTION_COLUMNS = ("deadweight", "displacement", "attribution", "drop_off")
#: Version labels of the publisher's form (``2025``, ``2025.1``, ``2025-1``: digits and
#: separators, no name in them): an embedded family's editions and corrections, which an
#: amendment or a user's file of that family may not take.
PUBLISHER_LABEL = r"[0-9][0-9._-]*"
#: The columns a bulk valuation writes beside the input's (``frame.OUTPUT_COLUMNS`` and the
#: double-counting ones): an outcome field of one of these names would be overwritten by the
#: valuation, and the row's trace could not be rebuilt from it.
WRITTEN_COLUMNS = ("value_gbp", "gross_gbp", "proxy_gbp", "canonical_quantity", "region_used",
                   "table", "version", "digest", "claim_share", "exclusion", "carried_forward")
#: Columns an exclusion's ``key`` may not name: what is claimed (measure, quantity, unit), when,
#: and the columns a valuation writes. Grouping by one of them would never put a part and its
#: whole in one group, so the exclusion would silently never apply.
NEVER_GROUPING_COLUMNS = ("measure", "quantity", "unit", "date", *WRITTEN_COLUMNS)

#: A JSON Schema pattern for text with a character that is not space (as ``str.strip`` and
#: pydantic read space: U+001C..U+001F and U+0085 too). For an optional text field the
#: expression parser refuses blank: the schema says it beside the field's ``anyOf``, where it
#: applies to text only.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
#: Lower-case Python keywords: no expression can use one as a name.
_KEYWORDS = tuple(k for k in keyword.kwlist if k.islower())
#: Map keys checked by validators (derivation inputs, parameters), told to the JSON Schema too
#: (the schema takes such a map's keys as its propertyNames; validation is the validators').
InputName = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^{_NAME}$"})]
ParameterName = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": f"^{_NAME}$",
    "not": {"enum": sorted({*_KEYWORDS, *ENGINE_NAMES})}})]

K = TypeVar("K")
V = TypeVar("V")
def _one_line(note: str) -> str:
    if re.search(r"[\x00-\x1f\x7f-\x9f]", note):
        raise ValueError("a note is one line of text, shown inside a trace step: no line "
                         "breaks, tabs or other control characters")
    return note


#: A note on a region's value, shown in traces and report notes: a sentence on one line, not
#: an essay (its schema refuses control characters anywhere, the loader once stripped).
RegionNote = Annotated[str, Field(min_length=1, max_length=400, json_schema_extra={
    "pattern": NOT_BLANK, "not": {"pattern": "[\u0000-\u001f\u007f-\u009f]"}}),
                       AfterValidator(_one_line)]


class FrozenMapping(dict[Any, Any]):
    """A dict that refuses changes after construction (and still pickles, serialises and, with
    hashable values, hashes).

    Frozen pydantic models still hold mutable dicts; storing them read-only keeps a loaded
    table, and so its digest, from being changed in place, and an outcome's ``fields`` from
    changing under a valuation.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("this mapping is read-only: build a new table or outcome instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (dict(self),))


def _freeze(value: dict[Any, Any]) -> Mapping[Any, Any]:
    return FrozenMapping(value)


if TYPE_CHECKING:  # read-only to a type checker too: item assignment raises at run time
    FrozenDict = Annotated[Mapping[K, V], AfterValidator(_freeze)]
else:
    #: A dict validated as usual, then stored read-only.
    FrozenDict = Annotated[dict[K, V], AfterValidator(_freeze)]


def _keys_distinct_once_stripped(value: Any) -> Any:
    """Refuse text keys that are one key once the spaces around them are removed: the models
    strip them, so the later entry would silently replace the earlier."""
    if isinstance(value, Mapping):
        seen: dict[str, str] = {}
        for key in value:
            if not isinstance(key, str):
                continue
            other = seen.setdefault(key.strip(), key)
            if other is not key:
                raise FieldCheckError(
                    f"the keys {other!r} and {key!r} are one key once the spaces around them "
                    "are removed (as they are when read): give it once", key)
    return value


#: A table file's mapping: text keys that read alike once stripped are refused, and the dict is
#: stored read-only.
if TYPE_CHECKING:
    TableDict = Annotated[Mapping[K, V], BeforeValidator(_keys_distinct_once_stripped),
                          AfterValidator(_freeze)]
else:
    TableDict = Annotated[dict[K, V], BeforeValidator(_keys_distinct_once_stripped),
                          AfterValidator(_freeze)]

class FieldCheckError(ValueError):
    """A check that fails at a place below the model running it.

    ``loc`` (field names and list positions) is appended to the model's own location, so the
    loader names the field at fault (``regions[3].code``) and its line, not just the model.
    """

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


_REGION_GAPS = re.compile(r"[\s_]+")


def normalise_region(region: str) -> str:
    """Lower-case, trim, and turn spaces and underscores into hyphens ("Northern Ireland")."""
    return _REGION_GAPS.sub("-", region.strip().lower())


#: The Government Statistical Service codes of the UK, its nations and London (as ONS-coded
#: data writes an area: ``W92000004``), normalised: a table's region named by one of them
#: where the table gives the code no meaning of its own (:meth:`ProxyTable.region_code`).
GSS_REGION_CODES: Mapping[str, str] = MappingProxyType({
    "k02000001": "uk", "e92000001": "england", "e12000007": "london",
    "s92000003": "scotland", "w92000004": "wales", "n92000002": "northern-ireland"})


def _iso_date(value: Any) -> Any:
    """A date as YAML writes it, or ISO ``YYYY-MM-DD`` text; never a number or a time of day."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"{value.isoformat(sep=' ')} is a date and time: give the date only "
                         "(YYYY-MM-DD)")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date: {exc}") from None
    shown = f"{value!r}" if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    raise ValueError(f"{shown} is not a date: write it as YYYY-MM-DD")


_CODE = r"^[a-z0-9][a-z0-9._-]{0,63}$"
Code = Annotated[str, Field(pattern=_CODE)]
# Numbers, flags, years and dates are strict: a YAML boolean is not 1.0, text is not a number, a
# number is not a date, 2024.0 is not a year. A YAML integer is still a valid float (stored as a
# float, so the canonical JSON, and with it the digest, is the same as for 2024.0 written out).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Fraction = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Money = Annotated[float, Strict(), Field(ge=0.0, allow_inf_nan=False)]
ProxyAmount = Annotated[float, Strict(), Field(ge=0.0, lt=MAX_PROXY, allow_inf_nan=False)]
Flag = Annotated[bool, Strict()]
Year = Annotated[int, Strict(), Field(ge=1900, le=2200)]
Day = Annotated[dt.date, BeforeValidator(_iso_date), Strict()]
Theme = Literal["jobs", "growth", "social", "environment", "innovation"]
ValueType = Literal["economic", "fiscal", "social", "environmental"]


# The settings as class keywords, not model_config: type checkers read them there (a frozen
# model's fields are read-only to mypy and pyright), and each subclass repeats frozen=True.
class _Model(NeverLooserSchema, extra="forbid", frozen=True, str_strip_whitespace=True):
    if not TYPE_CHECKING:  # a checker sees pydantic's frozen fields, not "any name goes"
        def __setattr__(self, name: str, value: Any) -> None:
            # Frozen: pydantic would raise its ValidationError, where a loaded table's other
            # parts (ProxyTable, ResolvedProxy) raise AttributeError, as docs/errors.md says.
            raise AttributeError(
                f"{type(self).__name__} is immutable (part of a table's content): cannot set "
                f"{name!r}; build a new one with model_copy(update=...) or amend the table "
                "with amend_table")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")


class _Built(_Model, frozen=True):
    """A part of a table a caller may build in Python (``sv.Source``, ``sv.Measure``, a
    :class:`ProxyValue` for ``amend_table``): bad input raises :class:`ProxyTableError` naming
    the field, never pydantic's ``ValidationError``, which a caller catching
    :class:`SocialValueError` missed (an API review). Still a ``ValueError``, as pydantic's
    is. In a table file these are validated as parts of the file (the loader's own errors,
    with lines): pydantic does not call the methods below for a nested model."""

    #: How a message names the model ("measure field 'code': ...").
    _what: ClassVar[str]

    if not TYPE_CHECKING:  # type checkers see pydantic's own signatures
        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                failure = self._table_error(exc)
            else:
                return
            raise failure from None  # outside the except block: no context to pickle

        # pydantic's mark of its own __init__ (RootModel's carries it too): without it,
        # pydantic would validate a nested part (a measure's proxy values, a table file's
        # measures) through this __init__, and a table file's error would be this one's,
        # wrapped, instead of the loader's naming the file and line.
        __init__.__pydantic_base_init__ = True

        @classmethod
        def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's; bad input raises :class:`ProxyTableError`."""
            return cls._typed(lambda: super(_Built, cls).model_validate(obj, *args, **kwargs))

        @classmethod
        def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's, for JSON text; bad input raises :class:`ProxyTableError`."""
            return cls._typed(
                lambda: super(_Built, cls).model_validate_json(json_data, *args, **kwargs))

        @classmethod
        def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's, for string values; bad input raises :class:`ProxyTableError`."""
            return cls._typed(
                lambda: super(_Built, cls).model_validate_strings(obj, *args, **kwargs))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, validated as a new one is (pydantic's own skips it, so
        it built a measure no constructor accepts): bad values, or names that are not
        fields, raise :class:`ProxyTableError`."""
        if not update:
            return super().model_copy(deep=deep)
        unknown = sorted(str(k) for k in update if k not in type(self).model_fields)
        if unknown:
            raise ProxyTableError(f"{self._what} field {unknown[0]!r}: not a field of "
                                  f"{type(self).__name__}, so it cannot be updated",
                                  path=None, line=None, field=unknown[0])
        data = {name: getattr(self, name) for name in self.model_fields_set}
        copied = type(self).model_validate({**data, **update})
        return copied.model_copy(deep=True) if deep else copied

    @classmethod
    def _typed(cls, validate: Callable[[], _B]) -> _B:
        try:
            return validate()
        except ValidationError as exc:
            failure = cls._table_error(exc)
        raise failure from None

    @classmethod
    def _table_error(cls, exc: ValidationError) -> ProxyTableError:
        """The typed error for a pydantic failure: the first field at fault, as a table
        file's error names it (``proxies.uk.value``), and pydantic's list in ``errors``."""
        from socialvalue_tom._text import clipped_errors, quoted
        from socialvalue_tom.tables._loader import _field_path  # the loader imports this

        first = exc.errors(include_url=False)[0]
        loc = [part for part in first["loc"]
               if not isinstance(part, str) or not part.startswith("function-")]
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, FieldCheckError):  # a check that knows the field at fault
            loc += cause.loc
        reason = str(first["msg"]).removeprefix("Value error, ")
        errors = clipped_errors(exc.errors(include_url=False))
        if not loc:  # the input as a whole (a cross-field check, JSON that does not parse)
            return ProxyTableError(f"{cls._what}: {reason}", path=None, line=None, field=None,
                                   errors=errors)
        field = _field_path(loc)
        return ProxyTableError(f"{cls._what} field {field!r}: {reason} "
                               f"(got {quoted(first.get('input'))})",
                               path=None, line=None, field=field, errors=errors)


_B = TypeVar("_B")


class SourceSpec(_Built, frozen=True):
    """A public source that proxy values cite."""

    _what = "source"

    id: Code
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    year: Year
    url: str = Field(pattern=r"^https?://\S+$")
    licence: str = Field(min_length=1)
    published: Day | None = None
    notes: str | None = None
    #: What of the figures taken from this source was not checked against the publication
    #: (recalled, or read from an unofficial copy): said in the trace of every step that uses
    #: them and in the notes under totals, as an illustrative value is.
    unverified: str | None = Field(default=None, min_length=1, max_length=500)


class Region(_Model, frozen=True):
    """A region code, its display name and its parent in the fallback tree."""

    code: Code
    name: str = Field(min_length=1)
    parent: Code | None = None


class Derivation(_Model, frozen=True):
    """How a proxy was derived: raw published figures and a safe formula over them."""

    inputs: TableDict[InputName, Number] = Field(min_length=1)
    formula: str = Field(min_length=1, max_length=1000)
    low_formula: str | None = Field(default=None, max_length=1000,
                                    json_schema_extra={"pattern": NOT_BLANK})
    high_formula: str | None = Field(default=None, max_length=1000,
                                     json_schema_extra={"pattern": NOT_BLANK})
    #: Inputs published by another source than the value's own ``source`` (a benefit rate
    #: beside a wage, a deflator beside a carbon value): input name -> source id.
    input_sources: TableDict[InputName, Code] | None = None

    @model_validator(mode="after")
    def _input_sources_name_inputs(self) -> Derivation:
        for name in self.input_sources or {}:
            if name not in self.inputs:
                raise FieldCheckError(
                    f"input_sources names {name!r}, which is not one of the derivation's "
                    f"inputs ({', '.join(self.inputs)})", "input_sources", name)
        return self

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, v: Mapping[str, float]) -> Mapping[str, float]:
        for name in v:
            if not re.fullmatch(_NAME, name):
                raise FieldCheckError(
                    f"derivation input name {name!r} must be lowercase snake_case in ASCII "
                    "letters, digits and '_' (a formula reads names in Unicode NFKC form, so "
                    "look-alike letters could make two inputs one name)", name)
        return v


# The schema says what ProxyValue._bounds_and_derivation checks of the fields together: a
# value that is not illustrative needs a derivation.
_NOT_ILLUSTRATIVE_NEEDS_A_DERIVATION: dict[str, Any] = {
    "if": {"not": {"required": ["illustrative"],
                   "properties": {"illustrative": {"const": True}}}},
    "then": {"required": ["derivation"]}}


class ProxyValue(_Built, frozen=True, json_schema_extra=_NOT_ILLUSTRATIVE_NEEDS_A_DERIVATION):
    """A proxy in GBP per canonical unit for one region, with its source and derivation."""

    _what = "proxy value"

    value: ProxyAmount
    low: ProxyAmount | None = None
    high: ProxyAmount | None = None
    source: Code
    illustrative: Flag = False
    derivation: Derivation | None = None
    #: Regions below this one, with no value of their own for the measure, whose own figure
    #: this is (region -> why: the UK Landfill Tax is charged in England and Northern
    #: Ireland): the trace says it applies there, and reports do not count those rows as
    #: valued with another region's proxy.
    applies_in: TableDict[Code, RegionNote] | None = None
    #: Regions below this one, with no value of their own, for which this one stands in
    #: (region -> what that is known to cost: a median of their own some 7% lower): the
    #: trace and the reports' note on fallbacks say it.
    stands_in_for: TableDict[Code, RegionNote] | None = None

    @field_validator("value", "low", "high", mode="before")
    @classmethod
    def _below_the_cap(cls, v: Any) -> Any:
        # Before the type's own bound, for a message that says why there is one.
        if isinstance(v, int | float) and not isinstance(v, bool) and v >= MAX_PROXY:
            raise ValueError(
                f"proxy {v!r} is too large: a proxy must be below GBP {MAX_PROXY:,.0f} per unit "
                "(no real one comes near, and a float cannot hold the pennies of much larger "
                "amounts)")
        return v

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


class QuantityBounds(_Model, frozen=True):
    """Inclusive bounds on an outcome's quantity in the measure's canonical unit."""

    # The schema says what _ordered checks of each alone (a JSON Schema minimum applies to
    # numbers only, so null still passes).
    min: Number | None = Field(default=None, json_schema_extra={"minimum": 0})
    max: Number | None = Field(default=None, json_schema_extra={"minimum": 0})

    @model_validator(mode="after")
    def _ordered(self) -> QuantityBounds:
        # Bounds the wrong way round would refuse every quantity, blaming the supplier; so
        # would a negative max, as quantities are never negative.
        if self.max is not None and self.max < 0:
            raise FieldCheckError(f"max {self.max} is below 0: quantities are never negative, "
                                  "so every quantity would be refused", "max")
        if self.min is not None and self.min < 0:  # a table author's review: it loaded
            raise FieldCheckError(f"min {self.min} is below 0: quantities are never negative "
                                  "(a negative one is refused anyway), so it bounds nothing; "
                                  "write 0", "min")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def refusal(self, quantity: float, unit: str, code: str) -> str:
        """Why a ``quantity`` (in the measure's ``unit``) of measure ``code`` is refused (one
        wording for the scalar and bulk engines, which add a part's period share)."""
        return (f"quantity {grouped_digits(quantity)} {unit} of {code!r} is outside the "
                f"table's bounds {bounds_text(self.min, self.max)}")


class FieldBounds(_Model, frozen=True):
    """Inclusive bounds on a field a measure requires (``level`` from 1 to 8, a share from 0
    to 1): an outcome's figure outside them is refused, never valued."""

    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FieldBounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def holds(self, value: float) -> bool:
        """Whether ``value`` is within the bounds."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def refusal(self, name: str, value: float, code: str) -> str:
        """Why the field ``name``'s ``value`` on a row of measure ``code`` is refused (one
        wording for the scalar and bulk engines)."""
        return (f"field {name!r} {grouped_digits(value)} of {code!r} is outside the table's bounds "
                f"{bounds_text(self.min, self.max)}")


def bounds_text(low: float | None, high: float | None) -> str:
    """Inclusive bounds as a refusal writes them, ``[1, 8]``; an open side is ``-inf`` or
    ``inf`` (one wording for the scalar and bulk engines)."""
    return (f"[{'-inf' if low is None else format(low, 'g')}, "
            f"{'inf' if high is None else format(high, 'g')}]")


class Parameter(_Model, frozen=True):
    """A named constant a table or measure declares for use in expressions."""

    value: Number
    unit: str | None = None
    source: Code | None = None
    notes: str | None = None


def _case_hint(unit: str) -> str:
    """A hint for a table's unit that is a unit only in lower case ('Hour'): a table writes
    units as the registry spells them (an outcome's 'Hours' is read in lower case)."""
    lower = as_written_or_lower(unit)
    if lower == unit:
        return ""
    return f" (a table writes units as the registry spells them: {lower!r})"


class MeasureSpec(_Built, frozen=True):
    """One measure: what is counted, in which unit, and its proxy per region."""

    _what = "measure"

    code: Code
    theme: Theme
    outcome: str = Field(min_length=1)
    title: str = Field(min_length=1)
    unit: str = Field(min_length=1, max_length=64)
    accepts: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    value_type: ValueType
    disbenefit: Flag = False
    methodology: str | None = None
    deadweight: Fraction = 0.0
    displacement: Fraction = 0.0
    attribution: Fraction = 0.0
    drop_off: Fraction = 0.0
    additionality_source: Code | None = None
    health: Flag = False
    evidence: str | None = None
    requires: tuple[Annotated[str, Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        json_schema_extra={"not": {"enum": sorted({*STANDARD_COLUMNS, *ENGINE_NAMES,
                                                   *WRITTEN_COLUMNS, *_KEYWORDS})}})],
        ...] = ()
    quantity_bounds: QuantityBounds | None = None
    #: Bounds on the fields in ``requires``, by name (left out of the digest when none).
    field_bounds: TableDict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")],
                            FieldBounds] = Field(default_factory=dict, validate_default=True)
    cap_ratio: Annotated[float, Strict(), Field(gt=0.0, allow_inf_nan=False)] | None = None
    expression: str | None = Field(default=None, max_length=1000,
                                   json_schema_extra={"pattern": NOT_BLANK})
    parameters: TableDict[ParameterName, Number] = Field(default_factory=dict,
                                                         validate_default=True)
    notes: str | None = None
    proxies: TableDict[Code, ProxyValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _units(self) -> MeasureSpec:
        """The canonical unit parses, every unit in ``accepts`` converts to it, and each is a
        multiple of a base unit (no offset or logarithmic scale, which no factor converts)."""
        try:
            canonical_unit(self.unit)
        except Exception as exc:  # pint raises many types; the unit is the measure's fault
            raise FieldCheckError(f"measure {self.code!r}: {_reason(exc)}"
                                  f"{_case_hint(self.unit)}", "unit") from None
        _refuse_scale_unit(self.code, self.unit, "unit")
        for j, unit in enumerate(self.accepts or ()):
            try:
                canonical_unit(unit)
            except Exception:
                pass  # not a unit at all: said below, as a unit that does not convert
            else:
                _refuse_scale_unit(self.code, unit, "accepts", j)
            try:
                conversion_factor(unit, self.unit, self.code)
            except Exception as exc:
                raise FieldCheckError(
                    f"measure {self.code!r} accepts {unit!r}, which does not convert to its "
                    f"unit {self.unit!r}: {_reason(exc)}{_case_hint(unit)}", "accepts",
                    j) from None
        return self

    @model_validator(mode="after")
    def _no_cap_on_a_harm(self) -> MeasureSpec:
        """A cap limits a benefit claimed against the contract's value: on a disbenefit it
        would shrink the harm counted (an economist's review: 10 tCO2e added, -GBP 2,500,
        came out as -GBP 500 under a cap of half a GBP 1,000 contract)."""
        if self.disbenefit and self.cap_ratio is not None:
            raise FieldCheckError(
                f"measure {self.code!r} is a disbenefit and has a cap_ratio: a cap limits a "
                "benefit claimed, and would make the harm counted smaller; remove cap_ratio",
                "cap_ratio")
        return self

    @field_validator("requires")
    @classmethod
    def _requires_extra_fields(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for j, name in enumerate(v):
            if name in WRITTEN_COLUMNS:
                raise FieldCheckError(
                    f"requires names {name!r}, a column a valuation writes: the valuation "
                    "would overwrite the field, and its trace could not be rebuilt; give the "
                    "field another name", j)
            if name in STANDARD_COLUMNS or name in ENGINE_NAMES:
                what = ("a standard outcome column" if name in STANDARD_COLUMNS
                        else "a name the engine gives every expression")
                raise FieldCheckError(
                    f"requires names {name!r}, {what}: requires lists extra fields an outcome "
                    "must carry (such as 'level'), and an expression may use the quantity and "
                    "proxies without requiring them", j)
        return v


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, SocialValueError) else f"{exc}"


@lru_cache(maxsize=1024)
def _refuse_scale_unit(code: str, unit: str, *loc: str | int) -> None:
    scale = scale_of(unit)
    if scale is None:
        return
    example = ("10 degC is 283.15 K, not 10 times what 1 degC is in kelvin" if scale == "offset"
               else "a level in decibels, nepers or octaves is the logarithm of a ratio, and 2 "
               "octaves are not twice 1 octave of anything")
    raise FieldCheckError(
        f"measure {code!r}: unit {unit!r} has {'an' if scale == 'offset' else 'a'} {scale} scale, "
        "so no factor converts it "
        f"({example}): units with an offset or logarithmic scale (degC, degF, decibel, neper, "
        "octave...) are refused. Use a unit that is a multiple of its base unit (kelvin or "
        "delta_degC for temperatures, a plain ratio for levels)", *loc)


class Exclusion(_Model, frozen=True):
    """A double-counting rule: ``measures`` lists parts first and the whole they belong to last.

    ``count_once``: within a group of claims, each part counts in full and the whole counts only
    what the parts do not cover. ``reject``: the whole claimed with a part is an issue. ``key``
    names the columns that group claims (``contract_id`` by default); ``stage`` and
    ``supplier_id`` also separate groups whenever the input has them. A key may not name a column
    in which a part and its whole differ (``measure``, ``quantity``, ``unit``, ``date``) or one a
    valuation writes (``value_gbp``...).
    """

    id: Code
    measures: tuple[Code, ...] = Field(min_length=2)
    mode: Literal["count_once", "reject"]
    reason: str = Field(min_length=1)
    key: tuple[Annotated[str, Field(json_schema_extra={
        "minLength": 1, "not": {"enum": list(NEVER_GROUPING_COLUMNS)}})], ...] = ("contract_id",)

    @field_validator("key")
    @classmethod
    def _grouping_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for j, name in enumerate(v):
            if not name:
                raise FieldCheckError(f"key column {name!r} is blank: give a column name", j)
            if name in NEVER_GROUPING_COLUMNS:
                why = ("a part and the whole it belongs to are different measures"
                       if name == "measure" else
                       "a part and its whole claimed together may differ in it"
                       if name in ("quantity", "unit", "date") else
                       "it is a column a valuation writes, not one of the claims'")
                raise FieldCheckError(
                    f"key names {name!r}, which can never group claims ({why}), so the "
                    "exclusion would not apply as meant: name columns that say who claims, "
                    "such as contract_id (stage and supplier_id always separate groups)", j)
            standard = {name_key(c): c for c in STANDARD_COLUMNS}.get(name_key(name))
            if standard is not None and standard != name:
                raise FieldCheckError(
                    f"key names {name!r}: the column is {standard!r} (column names are lower "
                    "case, words joined by _), so the exclusion would not find it", j)
        return v


class ConfidenceGrades(_Model, frozen=True):
    """Confidence grades and the fractional reduction (optimism bias) each applies."""

    source: Code | None = None
    grades: TableDict[str, Fraction] = Field(min_length=1)


class TableFile(_Model, frozen=True):
    """A whole proxy-table file: header, sources, rules and measures."""

    format: Literal["socialvalue_tom.table/v1"]
    family: Code
    version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1)
    valid_from: Day
    valid_to: Day
    review_by: Day | None = None
    currency: Literal["GBP"]
    price_base_year: Year
    price_index: Code | None = None
    illustrative: Flag = False
    regions: tuple[Region, ...] = Field(min_length=1,
                                        json_schema_extra={"maxItems": MAX_REGIONS})
    fallback_region: Code
    sources: tuple[SourceSpec, ...] = Field(min_length=1)
    parameters: TableDict[ParameterName, Parameter] = Field(default_factory=dict,
                                                            validate_default=True)
    confidence_grades: ConfidenceGrades | None = None
    exclusions: tuple[Exclusion, ...] = ()
    notes: str | None = None
    measures: tuple[MeasureSpec, ...] = Field(min_length=1,
                                              json_schema_extra={"maxItems": MAX_MEASURES})

    @field_validator("regions", "measures")
    @classmethod
    def _fit_the_bulk_engine(cls, v: tuple[Any, ...], info: ValidationInfo) -> tuple[Any, ...]:
        limit = MAX_REGIONS if info.field_name == "regions" else MAX_MEASURES
        if len(v) > limit:
            raise ValueError(
                f"the table has {len(v):,} {info.field_name}: at most {limit:,} are allowed "
                "(the bulk engine indexes them with 16-bit integers)")
        return v

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, v: Mapping[str, Parameter]) -> Mapping[str, Parameter]:
        for name in v:
            _check_parameter_name(name, name)
        return v

    @model_validator(mode="after")
    def _cross_references(self) -> TableFile:
        problem = table_cells_problem(len(self.measures), len(self.regions))
        if problem is not None:  # before any check or array that grows with the two together
            raise FieldCheckError(f"the table {problem}", "measures")
        _check_cross_references(self)
        return self


def misthemed_prefix(code: str, theme: str) -> str | None:
    """Why ``code`` may not be a measure of ``theme``, or None: a code starting with another
    theme's prefix (``jobs-x`` of theme innovation) would be reported under one theme and read
    as another. A code of one's own (``nt1``, ``local-x``) is the author's choice."""
    own = THEME_PREFIXES[theme]
    other = next((p for p in THEME_PREFIXES.values() if p != own and code.startswith(p)), None)
    if other is None:
        return None
    return (f"measure {code!r} has theme {theme!r}, but its code starts with {other!r}: start it "
            f"with {own!r}, or with a prefix of your own such as 'local-'")


def table_cells_problem(n_measures: int, n_regions: int) -> str | None:
    """Why a table of ``n_measures`` and ``n_regions`` is too large to compile (None: it is
    not): its dense arrays hold one cell per measure and region."""
    cells = n_measures * n_regions
    if cells <= MAX_TABLE_CELLS:
        return None
    return (f"has {n_measures:,} measures and {n_regions:,} regions: {cells:,} measure-region "
            f"cells, over the {MAX_TABLE_CELLS:,} allowed (a table is compiled into arrays of "
            "one cell per measure and region): split it into tables of fewer measures or "
            "regions")


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({x for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]


def _check_cross_references(t: TableFile) -> None:
    if t.valid_to < t.valid_from:
        raise FieldCheckError(f"valid_to {t.valid_to} is before valid_from {t.valid_from}",
                              "valid_to")
    if t.review_by is not None and t.review_by < t.valid_from:
        raise FieldCheckError(
            f"review_by {t.review_by} is before valid_from {t.valid_from}: the edition would "
            "be overdue for review before it came into force (a typo in the year?)",
            "review_by")
    for what, part, key, codes in (
        ("source id", "sources", "id", [s.id for s in t.sources]),
        ("region code", "regions", "code", [r.code for r in t.regions]),
        ("measure code", "measures", "code", [m.code for m in t.measures]),
        ("exclusion id", "exclusions", "id", [e.id for e in t.exclusions]),
    ):
        dup = _duplicates(codes)
        if dup:
            # At the second of the first code given twice: the one to rename or delete.
            second = [i for i, c in enumerate(codes) if c == dup[0]][1]
            raise FieldCheckError(f"duplicate {what}: {', '.join(dup)}", part, second, key)
    sources = {s.id for s in t.sources}
    regions = {r.code for r in t.regions}
    measures = {m.code for m in t.measures}
    unit_of = {m.code: m.unit for m in t.measures}
    if t.fallback_region not in regions:
        raise FieldCheckError(f"fallback_region {t.fallback_region!r} is not among the regions",
                              "fallback_region")
    for j, r in enumerate(t.regions):
        if r.parent is not None and r.parent not in regions:
            raise FieldCheckError(f"region {r.code!r} has unknown parent {r.parent!r}",
                                  "regions", j, "parent")
    _check_region_tree(t)
    _check_region_aliases(t)
    _check_region_notes(t)
    for name, p in t.parameters.items():
        if p.source is not None and p.source not in sources:
            raise FieldCheckError(f"parameter {name!r} cites unknown source {p.source!r}",
                                  "parameters", name, "source")
    if t.confidence_grades and t.confidence_grades.source not in (None, *sources):
        raise FieldCheckError(
            f"confidence_grades cite unknown source {t.confidence_grades.source!r}",
            "confidence_grades", "source")
    governed: dict[str, str] = {}
    for i, e in enumerate(t.exclusions):
        unknown = [c for c in e.measures if c not in measures]
        if unknown:
            raise FieldCheckError(f"exclusion {e.id!r} names unknown measures {unknown}",
                                  "exclusions", i, "measures")
        dup = _duplicates(list(e.measures))
        if dup:
            raise FieldCheckError(f"exclusion {e.id!r} names {', '.join(dup)} more than once",
                                  "exclusions", i, "measures")
        for code in e.measures:
            # One exclusion per measure: two would each scale the same rows, and which one won
            # would depend on the order they are declared in. Merge them into one instead.
            if code in governed:
                raise FieldCheckError(
                    f"measure {code!r} is in exclusions {governed[code]!r} and {e.id!r}: a "
                    "measure may be in one exclusion only (merge them)",
                    "exclusions", i, "measures")
            governed[code] = e.id
        units = sorted({unit_of[c] for c in e.measures})
        if len(units) > 1 and not _one_unit(units):
            # Claims are compared in the measures' canonical unit: FTE cannot cover tCO2e, and
            # kg cannot cover tonnes (a claim in one is a thousand times the other's). Two
            # spellings of one unit (FTE and fte, hour and hours) are one unit.
            raise FieldCheckError(f"exclusion {e.id!r} mixes canonical units {units}: its "
                                  "measures must share one unit", "exclusions", i, "measures")
    for i, m in enumerate(t.measures):
        _check_measure(i, m, t, sources, regions)


def _one_unit(units: list[str]) -> bool:
    """Whether every spelling in ``units`` is the first's unit (a factor of exactly one)."""
    try:
        return all(conversion_factor(u, units[0]) == 1.0 for u in units[1:])
    except SocialValueError:
        return False


def _check_region_tree(t: TableFile) -> None:
    parents = {r.code: r.parent for r in t.regions}
    # One pass, linear in the regions: each region's chain of parents is climbed until it
    # reaches a region already known to end at a root, and every region climbed is then known
    # too. Meeting a region of the chain being climbed is a cycle, named (as before) by the
    # first region, in the file's order, whose chain runs into one.
    rooted: set[str] = set()
    for code in parents:
        chain: set[str] = set()
        cur: str | None = code
        while cur is not None and cur not in rooted:
            if cur in chain:
                at = next(i for i, r in enumerate(t.regions) if r.code == code)
                raise FieldCheckError(f"region {code!r} is in a parent cycle", "regions", at,
                                      "parent")
            chain.add(cur)
            cur = parents[cur]
        rooted |= chain
    # Without cycles, every chain of parents ends at a root: the fallback region must be the
    # only one, so a lookup climbs to it rather than jumping there from another root, and no
    # region falls back down to a child.
    fallback = t.fallback_region
    if parents[fallback] is not None:
        raise FieldCheckError(
            f"fallback_region {fallback!r} has parent {parents[fallback]!r}: the fallback region "
            "must be the root of the region tree, the region every other one falls back to",
            "fallback_region")
    for i, r in enumerate(t.regions):
        if r.parent is None and r.code != fallback:
            raise FieldCheckError(
                f"region {r.code!r} has no parent: every region but the fallback region "
                f"{fallback!r} needs one, so that its lookups fall back up the tree to "
                f"{fallback!r}", "regions", i)


def value_region(region: str, proxies: Mapping[str, Any],
                 parents: Mapping[str, str | None]) -> str | None:
    """The region whose value ``region`` takes among ``proxies`` (a measure's values by
    region): its own where it has one, else its nearest ancestor's in ``parents`` (region ->
    parent); None where no region on the way up has one, or the region is not named."""
    if region in proxies:
        return region
    reached = parents.get(region)
    while reached is not None and reached not in proxies:
        reached = parents.get(reached)
    return reached


def _check_region_notes(t: TableFile) -> None:
    """Each region a value ``applies_in`` or ``stands_in_for`` is a region of the table with no
    value of its own for the measure, whose fallback reaches that value, named once."""
    parents = {r.code: r.parent for r in t.regions}
    for i, m in enumerate(t.measures):
        for code, p in m.proxies.items():
            applies, stands = dict(p.applies_in or {}), dict(p.stands_in_for or {})
            for field, named in (("applies_in", applies), ("stands_in_for", stands)):
                for region in named:
                    at = ("measures", i, "proxies", code, field, region)
                    if region not in parents:
                        raise FieldCheckError(f"{field} names unknown region {region!r}", *at)
                    if region in m.proxies:
                        raise FieldCheckError(
                            f"{field} names {region!r}, which has a value of its own for "
                            f"{m.code}", *at)
                    if field == "stands_in_for" and region in applies:
                        raise FieldCheckError(
                            f"{region!r} is named in both applies_in and stands_in_for", *at)
                    reached = value_region(region, m.proxies, parents)
                    if reached != code:
                        raise FieldCheckError(
                            f"{field} names {region!r}, whose fallback for {m.code} is "
                            f"{reached!r}, not {code!r}", *at)


def _check_region_aliases(t: TableFile) -> None:
    """Codes and names are matched ignoring case, spaces and '_' (``normalise_region``): two
    regions that read alike would leave one of them unreachable."""
    taken: dict[str, tuple[str, str, str]] = {}  # normalised -> (region code, "code"/"name", text)
    for i, r in enumerate(t.regions):
        for what, text in (("code", r.code), ("name", r.name)):
            key = normalise_region(text)
            other = taken.get(key)
            if other is not None and other[0] != r.code:
                raise FieldCheckError(
                    f"region {r.code!r} {what} {text!r} reads the same as the {other[1]} "
                    f"{other[2]!r} of region {other[0]!r}: region codes and names are matched "
                    "ignoring case, spaces and '_', so each must differ from every other",
                    "regions", i, what)
            taken.setdefault(key, (r.code, what, text))


def _check_measure(i: int, m: MeasureSpec, t: TableFile, sources: set[str],
                   regions: set[str]) -> None:
    where = f"measure {m.code!r}"
    at = ("measures", i)
    if t.fallback_region not in m.proxies:
        raise FieldCheckError(
            f"{where} has no proxy for the fallback region {t.fallback_region!r}", *at,
            "proxies")
    for region, proxy in m.proxies.items():
        if region not in regions:
            raise FieldCheckError(f"{where} has a proxy for unknown region {region!r}", *at,
                                  "proxies", region)
        if proxy.source not in sources:
            raise FieldCheckError(
                f"{where} region {region!r} cites unknown source {proxy.source!r}", *at,
                "proxies", region, "source")
        cited = (proxy.derivation.input_sources if proxy.derivation is not None else None) or {}
        for name, source in cited.items():
            if source not in sources:
                raise FieldCheckError(
                    f"{where} region {region!r}: derivation input {name!r} cites unknown "
                    f"source {source!r}", *at, "proxies", region, "derivation",
                    "input_sources", name)
        if proxy.illustrative and not t.illustrative:
            raise FieldCheckError(
                f"{where} region {region!r} is illustrative: the table header must say "
                "illustrative: true", *at, "proxies", region, "illustrative")
    if m.additionality_source is not None and m.additionality_source not in sources:
        raise FieldCheckError(
            f"{where} cites unknown additionality_source {m.additionality_source!r}", *at,
            "additionality_source")
    for name in m.parameters:
        _check_parameter_name(name, *at, "parameters", name, where=f"{where} ")
    for j, name in enumerate(m.requires):
        if name in m.requires[:j]:
            raise FieldCheckError(f"{where} requires {name!r} twice: list each field once",
                                  *at, "requires", j)
        if name in m.parameters or name in t.parameters:
            # The outcome's field would take the parameter's place in the expression: a
            # supplier's figure silently replacing the table's.
            whose = "its own" if name in m.parameters else "a table"
            raise FieldCheckError(
                f"{where} requires {name!r}, the name of {whose} parameter: an outcome field "
                "of that name would replace the parameter's value; rename one of them",
                *at, "requires", j)
        if keyword.iskeyword(name):
            raise FieldCheckError(f"{where} requires {name!r}, a Python keyword no expression "
                                  "can use as a name: rename it", *at, "requires", j)
    for name in m.field_bounds:
        if name not in m.requires:
            raise FieldCheckError(
                f"{where} bounds the field {name!r}, which it does not require: field_bounds "
                f"are for the fields in requires ({', '.join(m.requires) or 'none'})", *at,
                "field_bounds", name)


def _check_parameter_name(name: str, *loc: str | int, where: str = "") -> None:
    if not re.fullmatch(_NAME, name):
        raise FieldCheckError(f"{where}parameter name {name!r} must be lowercase snake_case",
                              *loc)
    if keyword.iskeyword(name):
        raise FieldCheckError(f"{where}parameter name {name!r} is a Python keyword no "
                              "expression can use as a name: rename it", *loc)
    if name in ENGINE_NAMES:
        raise FieldCheckError(
            f"{where}parameter name {name!r} is a name the engine gives every expression "
            f"({', '.join(ENGINE_NAMES)}), so the expression would never see the parameter: "
            "rename it", *loc)


class IndexSource(SourceSpec):
    """The source of a price index series."""

    _what = "price index source"


def _years_as_numbers(value: Any) -> Any:
    """A map's keys written as years in decimal text (``"2023"``, as every JSON key is text)
    read as those years, as the schema's key pattern allows; a year given twice, once as a
    number and once as text, is refused rather than one silently replacing the other."""
    if not isinstance(value, Mapping):
        return value
    years: dict[Any, Any] = {}
    for key, item in value.items():
        year = int(key) if isinstance(key, str) and re.fullmatch(_YEAR_TEXT, key) else key
        if year in years:
            raise FieldCheckError(f"the year {year} is given twice (as {key!r} and as a number "
                                  "or other text): give it once", key)
        years[year] = item
    return years


#: A year as decimal text: the schema's pattern for year keys (1900 to 2200).
_YEAR_TEXT = r"(?:19[0-9][0-9]|2[0-1][0-9]{2}|2200)"


class IndexFile(_Model, frozen=True):
    """A price index series (e.g. GDP deflators) used for price-base uplift."""

    format: Literal["socialvalue_tom.index/v1"]
    name: Code
    title: str = Field(min_length=1)
    basis: Literal["financial-year", "calendar-year"]
    reference_year: Year
    published: Day
    source: SourceSpec
    values: Annotated[
        FrozenDict[Year, Annotated[float, Strict(), Field(gt=0.0, allow_inf_nan=False)]],
        BeforeValidator(_years_as_numbers)] = Field(min_length=1)
    projected_from: Year | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _years(self) -> IndexFile:
        """Years run without a gap, and the reference and first forecast years are among them;
        the reference year's value is 100; every value is a normal float within a factor of
        :data:`MAX_INDEX_RATIO` of the reference year's and of :data:`MAX_YEAR_STEP` of the
        year before's."""
        years = sorted(self.values)
        missing = sorted(set(range(years[0], years[-1] + 1)) - set(years))
        if missing:
            raise FieldCheckError(
                f"values must give every year from {years[0]} to {years[-1]}: no value for "
                f"{_spans(missing)}", "values")
        if self.reference_year not in self.values:
            raise FieldCheckError(
                f"reference_year {self.reference_year} has no value: values cover "
                f"{years[0]}..{years[-1]}", "reference_year")
        if self.projected_from is not None and self.projected_from not in self.values:
            raise FieldCheckError(
                f"projected_from {self.projected_from} has no value: values cover "
                f"{years[0]}..{years[-1]}", "projected_from")
        for year in years:
            if self.values[year] < sys.float_info.min:
                raise FieldCheckError(
                    f"the value {self.values[year]!r} for {year} is too small for a float to "
                    "hold to its full precision (it is subnormal): give the series in a larger "
                    "unit", "values", year)
        reference = self.values[self.reference_year]
        for year in years:
            value = self.values[year]
            if not 1 / MAX_INDEX_RATIO <= value / reference <= MAX_INDEX_RATIO:
                raise FieldCheckError(
                    f"the value {value!r} for {year} is {value / reference:.3g} times the "
                    f"reference year {self.reference_year}'s ({reference!r}): values must be "
                    f"within a factor of {MAX_INDEX_RATIO:,.0f} of it (a typo in the "
                    "magnitude?)", "values", year)
        if reference != 100:
            raise FieldCheckError(
                f"the reference year {self.reference_year}'s value is {reference!r}, not 100: "
                "the reference year is the year the index is 100 in; name that year as "
                f"reference_year, or rebase the series (each value x 100 / {reference!r})",
                "values", self.reference_year)
        for before, year in itertools.pairwise(years):
            step = self.values[year] / self.values[before]
            if not 1 / MAX_YEAR_STEP <= step <= MAX_YEAR_STEP:
                raise FieldCheckError(
                    f"the value {self.values[year]!r} for {year} is {step:.3g} times "
                    f"{before}'s ({self.values[before]!r}): a price index moves by less than "
                    f"a factor of {MAX_YEAR_STEP} in a year (a growth rate written for the "
                    "index, 3.1 for 103.1, or a digit dropped or added?)", "values", year)
        return self


def _spans(years: list[int]) -> str:
    """Sorted years as ranges: ``2021..2023, 2026``."""
    spans: list[list[int]] = []
    for y in years:
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in spans)
