"""Valuation: the result of valuing one outcome, with a structured, readable trace."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

from pydantic import (
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from socialvalue_tom.errors import OutcomeError
from socialvalue_tom.outcome import _TypedValidation

__all__ = ["TRACE_FORMAT", "TraceStep", "Valuation"]

TRACE_FORMAT = "socialvalue_tom.trace/v1"


class TraceStep(_TypedValidation):
    """One rule applied: its name, a readable line with inputs and units, and the amount after."""

    # Finite numbers only: JSON has no NaN or infinity, so a round trip could not be lossless.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
    # Read back from a caller (stored JSON, say): invalid data is an OutcomeError naming the
    # field, never pydantic's error.
    _error = OutcomeError
    _what = "trace step field"

    rule: str
    detail: str
    amount: float | None = None


class Valuation(_TypedValidation):
    """The value of one outcome in GBP and how it was derived.

    ``amount`` is the float result (negative for a disbenefit); ``table``, ``version``,
    ``digest`` and ``proxy`` say which edition and proxy were used; ``steps`` is the trace and
    :meth:`explain` renders it. Serialises to JSON and back without loss
    (``Valuation.model_validate_json(v.model_dump_json()) == v``).
    """

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
    _error = OutcomeError
    _what = "valuation field"

    format: str = TRACE_FORMAT
    engine_version: str
    measure: str
    amount: float
    gross: float
    currency: str = "GBP"
    quantity: float
    unit: str
    canonical_quantity: float
    canonical_unit: str
    region_requested: str
    region_used: str
    table: str
    version: str
    digest: str
    carried_forward: bool = False
    proxy: float
    proxy_source: str
    price_base_year: int
    price_year: int
    theme: str
    value_type: str
    disbenefit: bool = False
    illustrative: bool = False
    steps: tuple[TraceStep, ...] | None = None

    # The trace is built on first use (explain(), .trace, serialisation), not at valuation
    # time: most bulk and API callers never read it, and building it dominates value()'s cost.
    _build_steps: Callable[[], list[TraceStep]] | None = PrivateAttr(default=None)

    @classmethod
    def from_engine(cls, build_steps: Callable[[], list[TraceStep]], **values: Any) -> Valuation:
        """A valuation from values the engine computed (already valid: no validation).

        Does what ``model_construct`` does for a model whose every field is given, without its
        per-field bookkeeping, which dominated the cost of ``value()``; the trace is built on
        first use by ``build_steps``. ``tests/test_valuation_fast.py`` checks the result equals
        ``model_construct``'s.
        """
        v = cls.__new__(cls)
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
    def trace(self) -> tuple[TraceStep, ...]:
        """The trace steps, built on first access."""
        if self.steps is None:
            built = tuple(self._build_steps()) if self._build_steps is not None else ()
            object.__setattr__(self, "steps", built)  # frozen model: fill the lazy field once
        assert self.steps is not None
        return self.steps

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
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> Any:
        _ = self.trace
        return handler(self)

    @property
    def pennies(self) -> int:
        """The amount in whole pence (rounded half away from zero at the edge)."""
        from socialvalue_tom.money import to_pence

        return to_pence(self.amount)

    def explain(self) -> str:
        """The derivation, one numbered line per rule, with units and the running amount."""
        head = (f"Valuation of {self.quantity:g} {self.unit} of {self.measure} "
                f"({self.region_requested}) with {self.table}:{self.version} "
                f"[digest {self.digest[:12]}]")
        lines = [head]
        for i, step in enumerate(self.trace, 1):
            tail = "" if step.amount is None else f"  -> {_gbp(step.amount)}"
            lines.append(f"  {i:>2}. {step.rule:<13} {step.detail}{tail}")
        lines.append(f"  = {_gbp(self.amount)} ({self.price_year} prices)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The valuation as JSON-ready data."""
        return self.model_dump(mode="json")


_FIELDS = frozenset(Valuation.model_fields)


def _gbp(x: float) -> str:
    from socialvalue_tom.money import format_gbp

    return format_gbp(x)
