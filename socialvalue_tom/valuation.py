"""Valuation: the result of valuing one outcome, with a structured, readable trace."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Self, cast

import numpy as np
from pydantic import (
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import clipped_errors, quoted
from socialvalue_tom.errors import OutcomeError
from socialvalue_tom.outcome import _no_bool, _TypedValidation

__all__ = ["TRACE_FORMAT", "TraceStep", "Valuation"]

#: The trace formats this version reads back; it writes TRACE_FORMAT.
TraceFormat = Literal["socialvalue_tom.trace/v1"]
TRACE_FORMAT: TraceFormat = "socialvalue_tom.trace/v1"

def _not_bytes(value: Any) -> Any:
    # pydantic would decode bytes to text (Outcome refuses them too).
    if isinstance(value, bytes | bytearray):
        raise ValueError("must be text, not bytes")
    return value


def _a_flag(value: Any, info: ValidationInfo) -> Any:
    # True or false: pydantic would read "yes", "true" or 1 as a flag (as Assumptions refuse).
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{info.field_name} must be true or false, not {value!r}")
    return bool(value)


# Read back strictly, as Outcome is: unknown keys refused; finite numbers only (JSON has no NaN
# or infinity, so a round trip could not be lossless).
class TraceStep(_TypedValidation, extra="forbid", frozen=True, allow_inf_nan=False):
    """One rule applied: its name, a readable line with inputs and units, and the amount after."""

    # Read back from a caller (stored JSON, say): invalid data is an OutcomeError naming the
    # field, never pydantic's error.
    _error = OutcomeError
    _what = "trace step field"

    rule: str
    detail: str
    amount: float | None = None

    _amount_a_number = field_validator("amount", mode="before")(_no_bool)
    _text_not_bytes = field_validator("rule", "detail", mode="before")(_not_bytes)


class Valuation(_TypedValidation, extra="forbid", frozen=True, allow_inf_nan=False):
    """The value of one outcome in GBP and how it was derived.

    ``amount`` is the float result (negative for a disbenefit); ``table``, ``version``,
    ``digest`` and ``proxy`` say which edition and proxy were used; ``steps`` is the trace and
    :meth:`explain` renders it. Serialises to JSON and back without loss
    (``Valuation.model_validate_json(v.model_dump_json()) == v``).

    The engine builds the trace on first use, so copy a valuation with ``model_copy``,
    ``model_dump`` or ``dict(v)``, which carry it: ``vars(v)`` (``v.__dict__``, pydantic's
    internal store) holds ``steps`` only once the trace has been read.
    """

    _error = OutcomeError
    _what = "valuation field"

    format: TraceFormat = TRACE_FORMAT
    engine_version: str
    measure: str
    amount: float
    gross: float
    currency: Literal["GBP"] = "GBP"
    quantity: float = Field(ge=0)
    unit: str
    canonical_quantity: float = Field(ge=0)
    canonical_unit: str
    region_requested: str
    region_used: str
    table: str
    version: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")  # the edition's sha256
    carried_forward: bool = False
    proxy: float
    proxy_source: str
    # As a table's price base and Assumptions.price_year are bounded (the schema then bounds
    # them too: JSON Schema counts 1e19 as an integer, which pydantic refuses).
    price_base_year: int = Field(ge=1900, le=2200)
    price_year: int = Field(ge=1900, le=2200)
    theme: str
    value_type: str
    disbenefit: bool = False
    illustrative: bool = False
    steps: tuple[TraceStep, ...] = ()

    # The trace is built on first use (explain(), .trace, serialisation), not at valuation
    # time: most bulk and API callers never read it, and building it dominates value()'s cost.
    _build_steps: Callable[[], list[TraceStep]] | None = PrivateAttr(default=None)

    _numbers_not_bool = field_validator("amount", "gross", "quantity", "canonical_quantity",
                                        "proxy", "price_base_year", "price_year",
                                        mode="before")(_no_bool)
    _flags = field_validator("carried_forward", "disbenefit", "illustrative",
                             mode="before")(_a_flag)
    _text_not_bytes = field_validator("format", "engine_version", "measure", "currency", "unit",
                                      "canonical_unit", "region_requested", "region_used",
                                      "table", "version", "digest", "proxy_source", "theme",
                                      "value_type", mode="before")(_not_bytes)

    @classmethod
    def _typed_error(cls, exc: ValidationError) -> OutcomeError:
        """The typed error naming the first field at fault; a bad trace step is named by its
        full path (``steps.0.rule``) with its own reason, read once.

        A step is validated through its own constructor, which raises its typed error already
        worded ("trace step field 'rule': ... [see ...]"): that error's pydantic details are
        taken instead, under the step's place in the valuation.
        """
        errors = clipped_errors(_flattened(exc.errors(include_url=False)))
        first = errors[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # the input as a whole (JSON that does not parse): no field
            return cls._error(f"{cls._what.removesuffix(' field')}: {reason} "
                              f"(got {quoted(first.get('input'))})", field=None, errors=errors)
        field = ".".join(str(p) for p in first["loc"])
        return cls._error(f"{cls._what} {field!r}: {reason} (got {quoted(first.get('input'))})",
                          field=field, errors=errors)

    @classmethod
    def from_engine(cls, build_steps: Callable[[], list[TraceStep]], **values: Any) -> Valuation:
        """A valuation from values the engine computed (already valid: no validation).

        Does what ``model_construct`` does for a model whose every field is given, without its
        per-field bookkeeping, which dominated the cost of ``value()``; the trace is built on
        first use by ``build_steps``. ``tests/test_valuation_fast.py`` checks the result equals
        ``model_construct``'s.
        """
        v = cls.__new__(cls)
        # Without "steps": reading the field builds the trace (__getattr__), so a new valuation's
        # steps are its trace, never a None that only fills in once .trace was read.
        values.pop("steps", None)
        object.__setattr__(v, "__dict__", values)
        object.__setattr__(v, "__pydantic_fields_set__", set(_FIELDS))
        object.__setattr__(v, "__pydantic_extra__", None)
        object.__setattr__(v, "__pydantic_private__", {"_build_steps": build_steps})
        return v

    def __getstate__(self) -> dict[Any, Any]:
        # The trace builder is a closure over engine state: pickle the built trace instead.
        _ = self.trace
        state = super().__getstate__()
        state["__pydantic_private__"] = {"_build_steps": None}
        return state

    @property
    @own_decimal_context  # built here, on first use: not inside value()'s context
    def trace(self) -> tuple[TraceStep, ...]:
        """The trace steps, built on first access (``steps`` is the same tuple)."""
        steps: tuple[TraceStep, ...] | None = self.__dict__.get("steps")
        if steps is None:
            build = self._build_steps
            if build is None:  # none, or another thread built the steps since (they come first)
                return self.__dict__.get("steps") or ()
            steps = tuple(build())
            self.__dict__["steps"] = steps  # frozen model: fill the lazy field once
            # The builder is a closure over the edition: a valuation kept (in a session, a
            # cache) must not keep a whole table alive once its trace is built.
            private = self.__pydantic_private__
            if private is not None:
                private["_build_steps"] = None
        return steps

    def __iter__(self) -> Generator[tuple[str, Any], None, None]:
        # dict(v) and iteration list every field, the trace included (built now).
        _ = self.trace
        return super().__iter__()

    def __repr_args__(self) -> Any:
        _ = self.trace  # repr(v) shows steps=..., as for a valuation read back from JSON
        return super().__repr_args__()

    if not TYPE_CHECKING:  # as pydantic's own __getattr__: attribute typing stays strict
        def __getattr__(self, name: str) -> Any:
            # A valuation from the engine has no "steps" until its trace is built.
            if name == "steps":
                return self.trace
            return super().__getattr__(name)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (validated when ``update`` is given); the trace goes with it, built first
        when it has not been read yet, unless ``update`` gives ``steps``."""
        if update and "steps" not in update:
            update = {**update, "steps": self.trace}
        return super().model_copy(update=update, deep=deep)

    def __eq__(self, other: object) -> bool:
        # Compare content only: the private lazy builder is not part of a valuation's value.
        if not isinstance(other, Valuation):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash((self.measure, self.amount, self.digest, self.quantity, self.unit))

    @model_serializer(mode="wrap")
    @own_decimal_context
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> Any:
        _ = self.trace
        return handler(self)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler, /) -> JsonSchemaValue:
        # The serializer above (which builds the trace first) gives the model's own dump: a
        # response's schema is the fields', not that of a serializer returning Any ({}, which
        # a web framework's response schema was, a systems integrator's review found).
        if handler.mode == "serialization" and "serialization" in core_schema:
            core_schema = cast(CoreSchema, {k: v for k, v in core_schema.items()
                                            if k != "serialization"})
        return super().__get_pydantic_json_schema__(core_schema, handler)

    @property
    @own_decimal_context
    def pennies(self) -> int:
        """The amount in whole pence (rounded half away from zero at the edge)."""
        from socialvalue_tom.money import to_pence

        return to_pence(self.amount)

    @property
    @own_decimal_context
    def pounds(self) -> Decimal:
        """The amount in pounds to the penny (a ``Decimal``, rounded half away from zero at
        the edge): what a report or a JSON response gives, ``str(v.pounds)`` as text."""
        from socialvalue_tom.money import to_pounds

        return to_pounds(self.amount)

    @own_decimal_context
    def explain(self) -> str:
        """The derivation, one numbered line per rule, with units and the running amount."""
        from socialvalue_tom.trace import _num  # trace builds on this module's models

        # The quantity in full, as the convert step shows it (1234.567, not 1234.57).
        # After double counting, the quantity valued is not the row's (an economist's
        # review: "10 FTE" headed a trace of a 12 FTE row): the first step says both.
        netted = " (counted after double counting)" if any(
            step.rule == "exclusion" for step in self.trace) else ""
        head = (f"Valuation of {_num(self.quantity)} {self.unit}{netted} of {self.measure} "
                f"({self.region_requested}) with {self.table}:{self.version} "
                f"[digest {self.digest[:12]}]")
        lines = [head]
        for i, step in enumerate(self.trace, 1):
            tail = "" if step.amount is None else f"  -> {_gbp(step.amount)}"
            lines.append(f"  {i:>2}. {step.rule:<13} {step.detail}{tail}")
        lines.append(f"  = {_gbp(self.amount)} ({self.price_year} prices"
                     f"{_unrounded(self.amount)})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The valuation as JSON-ready data. ``amount`` is the engine's float, unrounded (so
        that the model reads it back exactly): give :attr:`pounds` or :attr:`pennies` beside
        it where a person reads the figure."""
        return self.model_dump(mode="json")


_FIELDS = frozenset(Valuation.model_fields)


def _flattened(errors: list[Any]) -> list[dict[str, Any]]:
    """pydantic's error details with each nested model's typed error (a trace step's) replaced
    by that model's own details, their locations under the nested model's place."""
    flat: list[dict[str, Any]] = []
    for detail in errors:
        inner = (detail.get("ctx") or {}).get("error")
        nested = getattr(inner, "errors", None) if isinstance(inner, OutcomeError) else None
        if nested:
            flat.extend({**e, "loc": (*detail["loc"], *e["loc"])} for e in nested)
        else:
            flat.append(dict(detail))
    return flat


def _unrounded(amount: float) -> str:
    """Where ``amount`` is not a whole number of pence (past float noise), the
    amount before rounding, as the trace's last line gives it: a total adds these amounts and
    rounds once, so the rounded amounts of many rows need not add up to it (an auditor's
    review: 600 rows traced at £3.75 each, totalled £2,250.90, with nothing to say why)."""
    cents = amount * 100
    # Float noise grows with the amount (past about £1e10 it reaches the sixth decimal): a
    # whole number of pence within a few ulps of the amount is one.
    if abs(cents - round(cents)) <= max(1e-4, 16 * math.ulp(cents)):
        return ""
    return f"; unrounded {amount!r}"


def _gbp(x: float) -> str:
    from socialvalue_tom.money import format_gbp

    return format_gbp(x)
