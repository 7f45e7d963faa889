"""Outcome (one reported or committed result) and Assumptions (caller-level rule settings)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, TypeVar

import numpy as np
import pandas as pd
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from socialvalue_tom._jsonschema import NeverLooserSchema
from socialvalue_tom._text import (
    EXCEL_ROUNDED_ID,
    as_written,
    clipped_errors,
    date_hint,
    did_you_mean,
    excel_rounded_id,
    is_missing,
    key_text,
    period_day,
    period_span_hint,
    quoted,
    text_is_an_address,
)
from socialvalue_tom.errors import OutcomeError, RuleError
from socialvalue_tom.tables.schema import FrozenDict

__all__ = ["ISO_DATE", "MAX_YEARS", "Assumptions", "Outcome", "to_day"]

MAX_YEARS = 125
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: Largest quantity accepted: well above any real claim, far below float overflow.
MAX_QUANTITY = 1e12
#: Largest amount (GBP) one outcome may be valued at, at any step: a float holds the pennies
#: of amounts up to about 2**40 (1.1e12); past it a value would be a penny or more off.
MAX_AMOUNT = 1e12
#: The range of a contract's value (GBP): a penny at least (a smaller one made the social
#: value ratio infinite), and at most a thousand times the largest outcome (larger ones made
#: totals of contract values overflow).
MIN_CONTRACT_VALUE, MAX_CONTRACT_VALUE = 0.01, 1e15
#: The stages an outcome may be at (``Outcome.stage``; a column of them in bulk).
STAGES = ("commitment", "delivered")
#: Longest region code or name an outcome may give (after stripping), on both paths.
MAX_REGION_LENGTH = 64
#: Date text: ISO calendar form only (Python's fromisoformat would also take 20240401 and
#: 2024-W14-1; a bare number would be read by pydantic as a Unix timestamp).
#: ASCII digits only: ``\d`` takes any script's digits, which no date parser reads.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def to_day(value: Any) -> Any:
    """A date given as a date, a datetime (its own wall-clock date), a numpy datetime64 or
    ``YYYY-MM-DD`` text, as a :class:`datetime.date`; anything else is refused (ValueError)."""
    if isinstance(value, bool | int | float | np.number):
        raise ValueError("date must be a date or YYYY-MM-DD text, not a number")
    if isinstance(value, str):
        text = value.strip()
        if not ISO_DATE.fullmatch(text):
            raise ValueError(f"date must be an ISO date, YYYY-MM-DD{date_hint(text)}")
        return dt.date.fromisoformat(text)
    if isinstance(value, dt.datetime):
        if pd.isna(value):  # pandas.NaT is a datetime whose date() is NaT
            raise ValueError("date is missing")
        return value.date()
    if (period := period_day(value)) is not None:  # a pandas Period of one day
        return period
    if (span := period_span_hint(value)) is not None:
        raise ValueError(span)
    if isinstance(value, np.datetime64) and not np.isnat(value):
        day = value.astype("datetime64[D]").item()
        if not isinstance(day, dt.date):  # numpy gives the day count past year 9999
            raise ValueError(f"date {value} is not in the years 1-9999")
        return day
    return value


def _not_given(value: Any) -> bool:
    """Whether ``value`` is a missing marker (None, NaN, ``pd.NA``, NaT), which value_frame
    reads in an optional column as a cell left blank."""
    if isinstance(value, Decimal):
        # Asking pandas about a signalling NaN raises; value_frame refuses one as no number.
        return value.is_qnan()
    return is_missing(value)


def _no_bool(value: Any, info: ValidationInfo) -> Any:
    """A number, not a boolean (pydantic would read True as 1), bytes or text: the scalar
    models are a typed API, as for ``quantity`` (pydantic would read ``"1_000"`` or ``b"2"``).
    value_frame refuses booleans and bytes too, and reads text cells as a CSV reader does."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{info.field_name} must be a number, not a boolean")
    if isinstance(value, str | bytes):
        raise ValueError(f"{info.field_name} must be a number, not text ({value!r})")
    _refuse_time_spans(value, str(info.field_name))
    return as_written(value)  # a float32 as the decimal written, as value_frame reads it


def _refuse_time_spans(value: Any, name: str) -> None:
    """pydantic reads some numpy time spans and instants as their count (``timedelta64(5,
    'Y')`` as 5); value_frame refuses such a cell as not a number, and so do the models."""
    if isinstance(value, np.timedelta64 | np.datetime64 | dt.timedelta | dt.date):
        raise ValueError(f"{name} must be a number, not a time")


def _describe(exc: ValidationError, whole: str = "outcome") -> tuple[str, str]:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or f"<{whole}>"
    reason = first["msg"].removeprefix("Value error, ")
    return field, f"{reason} (got {quoted(first.get('input'))})"


class _TypedValidation(NeverLooserSchema):
    """pydantic's ``model_validate`` and ``model_validate_json``, raising the model's own
    typed error (``_error``) as its constructor does, never pydantic's ``ValidationError``."""

    _error: ClassVar[type[OutcomeError] | type[RuleError]]
    _what: ClassVar[str]  # how messages name a field: "outcome field 'quantity'"

    if not TYPE_CHECKING:  # type checkers see each model's own typed signature
        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                failure = self._typed_error(exc)
            else:
                return
            raise failure from None  # outside the except block: no context to pickle

    @classmethod
    def _typed_error(cls, exc: ValidationError) -> OutcomeError | RuleError:
        """The model's typed error for a pydantic failure, naming the first field at fault."""
        field, reason = _describe(exc, cls._what.removesuffix(" field"))
        first = exc.errors()[0]
        issue = cls._issue_of(field, first)
        if issue == "negative":  # as value_frame says it (a carbon lead's review)
            reason += f": {NEGATIVE_ADVICE}"
        if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
            # A name one typo from a field's (dead_weight, supplier), told as a table file's is
            reason += did_you_mean(field, cls.model_fields) or cls._extra_hint(field)
        if not first["loc"]:
            # The input as a whole (JSON that does not parse, a list where an object goes):
            # no field is at fault, and a form maps ``field`` to a control (an integrator's
            # review: "<outcome>" was given as the field).
            return cls._error(f"{cls._what.removesuffix(' field')}: {reason}", field=None,
                              errors=clipped_errors(exc.errors(include_url=False)))
        return cls._error(f"{cls._what} {field!r}: {reason}", field=field,
                          errors=clipped_errors(exc.errors(include_url=False)),
                          **({"issue": issue} if issue else {}))

    @classmethod
    def _extra_hint(cls, name: str) -> str:
        """What to do with ``name``, a keyword the model has no field for and none is close
        to; ``""`` where there is nothing to say."""
        return ""

    @classmethod
    def _issue_of(cls, field: str, error: Any) -> str | None:
        """The row-issue code bulk valuation gives the same problem, where there is one."""
        return None

    if not TYPE_CHECKING:
        # Hidden from type checkers, which then check a call against pydantic's own
        # signature (its keywords: strict, context ...): a misspelt keyword is caught there.
        @classmethod
        def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's; bad input raises the model's typed error."""
            return _unwrapped(
                lambda: super(_TypedValidation, cls).model_validate(obj, *args, **kwargs), cls)

        @classmethod
        def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's, for JSON text; bad input raises the model's typed error."""
            return _unwrapped(lambda: super(_TypedValidation, cls).model_validate_json(
                json_data, *args, **kwargs), cls)

        @classmethod
        def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
            """As pydantic's, for string values; bad input raises the model's typed error.

            The numeric fields and flags refuse text here too, as the constructor does (the
            models are a typed API): give numbers and booleans, or JSON to
            ``model_validate_json``.
            """
            return _unwrapped(
                lambda: super(_TypedValidation, cls).model_validate_strings(obj, *args, **kwargs),
                cls)

    def __setattr__(self, name: str, value: Any) -> None:
        # The models are frozen: assigning raises the model's typed error, not pydantic's.
        _unwrapped(lambda: super(_TypedValidation, self).__setattr__(name, value), type(self))

    def __delattr__(self, name: str) -> None:
        _unwrapped(lambda: super(_TypedValidation, self).__delattr__(name), type(self))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, the copy is validated as a new model would be.

        pydantic's own ``model_copy(update=...)`` skips validation, so it could build, say, an
        outcome with a negative quantity that no constructor accepts. Here bad values, and
        names that are not fields, raise the model's typed error instead.
        """
        if not update:
            return super().model_copy(deep=deep)
        fields = type(self).model_fields
        unknown = sorted(str(k) for k in update if k not in fields)
        if unknown:
            raise self._error(f"{self._what} {unknown[0]!r}: not a field of "
                              f"{type(self).__name__}, so it cannot be updated",
                              field=unknown[0])
        data = {name: getattr(self, name) for name in self.model_fields_set}
        data.update(update)
        copied = type(self).model_validate(data)
        return copied.model_copy(deep=True) if deep else copied


class Outcome(_TypedValidation, extra="forbid", frozen=True, str_strip_whitespace=True):
    """One outcome to value: a quantity of a measure, in a unit, in a region, on a date.

    Invalid input raises :class:`OutcomeError` (negative, NaN or infinite quantity, missing or
    malformed fields), never a pydantic error. ``fields`` carries extra numeric attributes that a
    measure may require or use in its expression (e.g. ``{"level": 3}``).
    """

    _error = OutcomeError
    _what = "outcome field"

    @classmethod
    def _extra_hint(cls, name: str) -> str:
        # A table's own field (level, say) is given in fields, as value_frame takes a column.
        return (f"; a field a measure requires or uses goes in fields "
                f"(fields={{{name!r}: ...}})" if re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name)
                else "")

    @classmethod
    def _issue_of(cls, field: str, error: Any) -> str | None:
        return _outcome_issue(field, error)

    # The schema patterns say in JSON Schema what the validators below check: not blank
    # (text is stripped first) and a YYYY-MM-DD date (JSON Schema's "format" is advisory).
    measure: str = Field(min_length=1, max_length=128, json_schema_extra={"pattern": r"\S"})
    quantity: float = Field(ge=0.0, le=MAX_QUANTITY, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=64)
    region: str = Field(min_length=1, max_length=MAX_REGION_LENGTH,
                        json_schema_extra={"pattern": r"\S"})
    date: dt.date = Field(json_schema_extra={"pattern": r"^\s*\d{4}-\d{2}-\d{2}\s*$"})
    years: int = Field(default=1, ge=1, le=MAX_YEARS)
    deadweight: Fraction | None = None
    displacement: Fraction | None = None
    attribution: Fraction | None = None
    drop_off: Fraction | None = None
    confidence: str | None = None
    contract_id: str | None = None
    supplier_id: str | None = None
    stage: Literal["commitment", "delivered"] | None = None
    contract_value: float | None = Field(default=None, ge=MIN_CONTRACT_VALUE,
                                         le=MAX_CONTRACT_VALUE, allow_inf_nan=False)
    #: The share of a row reported for a period that this outcome is (``sv.apportion`` sets
    #: it): the contract-value cap and the table's quantity bounds apply to the whole row, so
    #: both are scaled by it. None: the outcome is a whole row.
    period_share: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)
    fields: FrozenDict[Annotated[str, Field(min_length=1)], float] = Field(
        default_factory=dict, validate_default=True)

    if TYPE_CHECKING:
        # What type checkers see: the field names, so a misspelt one is caught, with the
        # types the validators accept (a date as ISO text, an id as a number).
        def __init__(self, *, measure: str, quantity: float | Decimal | np.number[Any],
                     region: str, date: dt.date | str | np.datetime64, unit: str | None = None,
                     years: int | np.integer[Any] = 1,
                     deadweight: float | None = None, displacement: float | None = None,
                     attribution: float | None = None, drop_off: float | None = None,
                     confidence: str | float | None = None,
                     contract_id: str | float | None = None,
                     supplier_id: str | float | None = None,
                     stage: Literal["commitment", "delivered"] | None = None,
                     contract_value: float | Decimal | np.number[Any] | None = None,
                     period_share: float | None = None,
                     fields: Mapping[str, float] = ...) -> None: ...

    @model_validator(mode="before")
    @classmethod
    def _missing_is_not_given(cls, data: Any) -> Any:
        # An optional field given a missing marker (None, NaN, pd.NA, NaT) is not given, as
        # value_frame reads such a cell: Outcome(**df.iloc[i].to_dict()) then values a row as
        # value_frame does, where pandas fills the blanks with NaN (a notebook analyst's
        # review: a NaN stage or years was refused). Required fields are left to refuse it.
        if not isinstance(data, Mapping):
            return data
        fields = cls.model_fields
        absent = {k for k, v in data.items() if k in fields and not fields[k].is_required()
                  and _not_given(v)}
        return {k: v for k, v in data.items() if k not in absent} if absent else data

    _numbers_not_bool = field_validator("years", "deadweight", "displacement", "attribution",
                                        "drop_off", "contract_value", "period_share",
                                        mode="before")(_no_bool)

    @field_validator("date", mode="before")
    @classmethod
    def _a_day(cls, v: Any) -> Any:
        return to_day(v)

    @field_validator("measure", "unit", "region", "date", "confidence", "stage", "contract_id",
                     "supplier_id", mode="before")
    @classmethod
    def _not_bytes(cls, v: Any) -> Any:
        # pydantic would decode bytes to text; value_frame refuses a bytes cell.
        if isinstance(v, bytes | bytearray):
            raise ValueError("must be text, not bytes")
        return v

    @field_validator("measure", "region", mode="before")
    @classmethod
    def _stripped_as_in_bulk(cls, v: Any) -> Any:
        # Python's strip, as value_frame reads these cells: pydantic's own stripping keeps
        # the separators U+001C to U+001F, which Python counts as whitespace.
        return v.strip() if isinstance(v, str) else v

    @field_validator("unit", "confidence", "stage", "contract_id", "supplier_id",
                     mode="before")
    @classmethod
    def _blank_is_absent(cls, v: Any) -> Any:
        # As value_frame reads cells (and a CSV reader an empty field): blank text is absent.
        # Stripped here too because str_strip_whitespace does not reach the Literal stage.
        if isinstance(v, str):
            return v.strip() or None
        return v

    @field_validator("stage", mode="before")
    @classmethod
    def _stage_in_lower_case(cls, v: Any) -> Any:
        # A stage is a code, read as written (exclusions and targets_vs_delivered group by it):
        # "Delivered" is refused, with the spelling to use.
        if isinstance(v, str) and v.strip() not in STAGES and v.strip().lower() in STAGES:
            raise ValueError(f"stage {v!r} is not commitment or delivered: stages are written "
                             f"in lower case ({v.strip().lower()!r})")
        return v

    @field_validator("confidence", "contract_id", "supplier_id", mode="before")
    @classmethod
    def _number_as_text(cls, v: Any, info: ValidationInfo) -> Any:
        # A grade or id given as a number (1001, 3.0 from a spreadsheet) is its text, as
        # value_frame reads it: "1001", "3".
        if v is None or isinstance(v, str | bytes | bytearray | list | dict | set | tuple
                                   | frozenset | complex | np.complexfloating | pd.Interval
                                   | np.timedelta64):
            return v  # text as it is; containers, bytes, intervals, complex numbers and
            # numpy time spans are refused by the field's type (value_frame: not-a-value)
        if text_is_an_address(v):  # its text would differ from run to run, as value_frame says
            raise ValueError(f"{info.field_name} {v!r} is an object whose text is its address "
                             "in memory, not one text or number value")
        try:
            hash(v)
        except TypeError:  # a Series, an array: a container, which value_frame refuses too
            return v
        return key_text(v)

    @field_validator("contract_id", "supplier_id", mode="after")
    @classmethod
    def _not_rounded_by_excel(cls, v: str | None, info: ValidationInfo) -> str | None:
        # As value_frame refuses it (rounded-id): "1.23457E+11" joins different contracts.
        if v is not None and EXCEL_ROUNDED_ID.fullmatch(v):
            raise PydanticCustomError("rounded_id", excel_rounded_id(str(info.field_name), v))
        return v

    @field_validator("quantity", mode="before")
    @classmethod
    def _no_bool_or_text(cls, v: Any) -> Any:
        if isinstance(v, bool | np.bool_ | str | bytes) or v is None:
            raise ValueError("quantity must be a number, not text or a boolean")
        if isinstance(v, np.ndarray):  # a 0-d array too: value_frame refuses such a cell
            raise ValueError("quantity must be one number, not an array")
        _refuse_time_spans(v, "quantity")
        # adjusted(): the exponent, read without the caller's decimal context (whose
        # rounding could overflow on Decimal('1e1000000'), an adversarial review found).
        if ((isinstance(v, int | np.integer) and abs(int(v)) > MAX_QUANTITY)
                or (isinstance(v, Decimal) and v.is_finite() and not v.is_zero()
                    and v.adjusted() > 12)):
            # An integer past a float's range (309 digits) failed as "not a valid number":
            # it is negative or too large, as value_frame says (an integrator's review).
            negative = v.is_signed() if isinstance(v, Decimal) else v < 0
            raise PydanticCustomError(
                "greater_than_equal" if negative else "less_than_equal",
                "Input should be {bound}", {"bound": "greater than or equal to 0" if negative
                                            else f"less than or equal to {MAX_QUANTITY:.0f}"})
        return as_written(v)

    @field_validator("fields", mode="before")
    @classmethod
    def _numeric_fields(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            seen: dict[str, Any] = {}
            for name, val in v.items():
                if isinstance(val, bool | np.bool_ | str | bytes):
                    raise ValueError(f"field {name!r} must be a number, not text or a boolean")
                _refuse_time_spans(val, f"field {name!r}")
                # Names are read stripped: 'level' and ' level' would silently be one field.
                key = name.strip() if isinstance(name, str) else name
                if key == "":  # no measure can require or use it: a figure passed over
                    raise ValueError(f"a field needs a name: fields has a blank one ({name!r})")
                if key in seen:
                    raise ValueError(f"fields {seen[key]!r} and {name!r} name the same field "
                                     f"{key!r}: give it once")
                seen[key] = name
            return {name: as_written(val) for name, val in v.items()}
        return v

    @field_validator("fields")
    @classmethod
    def _finite_fields(cls, v: dict[str, float]) -> dict[str, float]:
        for name, val in v.items():
            if not math.isfinite(val):
                raise ValueError(f"field {name!r} must be finite")
        return v


_R = TypeVar("_R")


def _unwrapped(validate: Callable[[], _R], model: type[_TypedValidation]) -> _R:
    """Run a pydantic validation; its failure is raised as the model's typed error, as the
    constructor does."""
    try:
        return validate()
    except ValidationError as exc:
        # pydantic validates through the model's __init__, whose typed error it wraps: unwrap.
        inner = next((e for d in exc.errors() if isinstance(e := (d.get("ctx") or {}).get(
            "error"), model._error)), None) or model._typed_error(exc)
    # Raised here, outside the except block: raised inside it, the error would have the
    # ValidationError that holds it as its context, a cycle that cannot be pickled (errors
    # raised on Dask workers travel pickled).
    inner.__context__ = None
    raise inner from None


#: Which of a proxy's values to use (see :class:`Assumptions`).
Bound = Literal["central", "low", "high", "least-favourable", "most-favourable"]


def proxy_bound(bound: str, disbenefit: bool) -> str:
    """The proxy value (``central``, ``low`` or ``high``) that ``bound`` takes for a benefit
    or a disbenefit: the least favourable net value counts benefits low and harms high."""
    if bound == "least-favourable":
        return "high" if disbenefit else "low"
    if bound == "most-favourable":
        return "low" if disbenefit else "high"
    return bound


#: Bulk row-issue codes by the Outcome field a pydantic check refused (see
#: :meth:`Outcome._issue_of`): what value_frame calls the same problem in that column.
_RANGE_TYPES = ("greater_than_equal", "greater_than", "less_than_equal", "less_than",
                "int_from_float", "multiple_of")
_FRACTION_OR_RANGE_FIELDS = ("years", "deadweight", "displacement", "attribution", "drop_off",
                             "contract_value", "period_share")


#: What a negative quantity is told, by the scalar and the bulk engines alike.
NEGATIVE_ADVICE = ("record a harm under its own measure, counted up from 0 (emissions added: "
                   "env-carbon-added)")


def _outcome_issue(field: str, error: Any) -> str | None:
    """The row-issue code (``RowIssue.code``) for a pydantic failure of ``Outcome`` field
    ``field``: the code value_frame gives a cell of that column with the same problem."""
    kind, given = error.get("type"), error.get("input")
    if kind == "missing" or given is None or (isinstance(given, float) and math.isnan(given)
                                              and field == "quantity"):
        return "missing"
    if isinstance(given, str) and not given.strip():  # a blank cell is a missing one in bulk
        return "missing"
    if kind == "string_too_long":  # in bulk, text past the limit is a code no table has
        return {"measure": "unknown-measure", "region": "unknown-region",
                "unit": "unit-error"}.get(field)
    if field == "quantity":
        return {"greater_than_equal": "negative", "less_than_equal": "too-large",
                "finite_number": "not-finite"}.get(kind, "not-a-number")
    if field in ("date", "period_start", "period_end"):
        return "bad-date"
    if field == "stage":
        return "bad-stage"
    if field in ("contract_id", "supplier_id"):
        return "rounded-id" if kind == "rounded_id" else "not-a-value"
    if field in _FRACTION_OR_RANGE_FIELDS:
        if kind in _RANGE_TYPES:
            return "out-of-range"
        return "not-finite" if kind == "finite_number" else "not-a-number"
    return None


class Assumptions(_TypedValidation, extra="forbid", frozen=True):
    """Caller-level settings for the rules.

    ``deadweight``/``displacement``/``attribution``/``drop_off`` override the table's measure
    defaults (an outcome's own values override these). ``discount_base_year`` (a financial year)
    turns on discounting to that year; ``None`` discounts each outcome from its own year, so a
    one-year outcome is not discounted. ``price_year`` restates values in that financial year's
    prices with the table's price index; ``None`` keeps the edition's price base.
    ``carry_forward`` allows an edition past its ``valid_to`` (strict by default).
    ``bound`` picks each proxy's ``low`` or ``high`` value (where the table records one; the
    central value otherwise) for sensitivity analysis; ``least-favourable`` takes the low value
    for benefits and the high one for disbenefits (the least favourable net value of a mixed
    portfolio), ``most-favourable`` the reverse.
    """

    _error = RuleError
    _what = "assumption"

    deadweight: Fraction | None = None
    displacement: Fraction | None = None
    attribution: Fraction | None = None
    drop_off: Fraction | None = None
    discount_base_year: int | None = Field(default=None, ge=1900, le=2200)
    discount_schedule: Literal["green-book", "health", "none"] = "green-book"
    price_year: int | None = Field(default=None, ge=1900, le=2200)
    carry_forward: bool = False
    apply_confidence: bool = True
    bound: Bound = "central"

    _fractions_not_bool = field_validator("deadweight", "displacement", "attribution",
                                          "drop_off", mode="before")(_no_bool)
    _years_not_bool = field_validator("discount_base_year", "price_year",
                                      mode="before")(_no_bool)

    @field_validator("carry_forward", "apply_confidence", mode="before")
    @classmethod
    def _a_flag(cls, value: Any, info: ValidationInfo) -> Any:
        """True or false: pydantic would read "yes", "off" or 1 as a flag."""
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{info.field_name} must be true or false, not {value!r}")
        return bool(value)

    if TYPE_CHECKING:
        def __init__(self, *, deadweight: float | None = None,
                     displacement: float | None = None, attribution: float | None = None,
                     drop_off: float | None = None, discount_base_year: int | None = None,
                     discount_schedule: Literal["green-book", "health", "none"] = "green-book",
                     price_year: int | None = None, carry_forward: bool = False,
                     apply_confidence: bool = True,
                     bound: Bound = "central") -> None: ...


def financial_year(day: dt.date) -> int:
    """UK financial year starting in April: 2024-04-01..2025-03-31 is 2024."""
    return day.year if day.month >= 4 else day.year - 1
