"""The package's single pint registry and unit conversion helpers.

pint runs only at the edges: each distinct unit string is parsed once and turned into a float factor
to the measure's canonical unit (cached). The hot path multiplies float64 arrays by those factors.

Domain dimensions are deliberately separate: ``FTE`` is ``[fte]`` (so hours given where FTE is
expected are an error, never a silent number), ``person`` is ``[person]``, money is ``[currency]``
with ``GBP`` as its base, and carbon is ``[carbon]`` with ``tCO2e`` as its base.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pint

from socialvalue_tom.errors import UnitError

__all__ = ["Quantity", "canonical_unit", "conversion_factor", "normalise_unit", "ureg"]

_DEFINITIONS = """
FTE = [fte] = fte = full_time_equivalent
person = [person] = persons = people = hire = hires
GBP = [currency] = gbp = pound_sterling
pence = 0.01 GBP = p = penny
tCO2e = [carbon] = t_CO2e = tonne_CO2e = tCO2 = tonnes_CO2e
kgCO2e = 0.001 tCO2e = kg_CO2e = kgCO2
MtCO2e = 1000000 tCO2e
ktCO2e = 1000 tCO2e
"""

#: Spellings that pint cannot tokenise (currency symbols) mapped to registry names.
_ALIASES = {"£": "GBP", "£k": "kGBP", "k£": "kGBP", "kgbp": "kGBP"}
_MAX_UNIT_LENGTH = 64


_Registry = pint.UnitRegistry  # pint's registry is generic in its stubs; we use the default


def _build_registry() -> Any:
    registry: Any = _Registry(on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    for line in _DEFINITIONS.strip().splitlines():
        registry.define(line)
    registry.define("kGBP = 1000 GBP")
    return registry


#: The package's unit registry. Never mutated after import; pint's global registry is untouched.
ureg: Any = _build_registry()
Quantity = ureg.Quantity


def normalise_unit(unit: str) -> str:
    """Return ``unit`` stripped and with currency symbols mapped to registry names."""
    text = unit.strip()
    return _ALIASES.get(text, _ALIASES.get(text.lower(), text))


@lru_cache(maxsize=4096)
def _parse(unit: str) -> pint.Unit:
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"unit {unit!r} is empty: give a unit such as 'FTE', 'hour' or 'tCO2e'",
                        unit=unit)
    if len(unit) > _MAX_UNIT_LENGTH:
        raise UnitError(f"unit {unit[:20]!r}... is longer than {_MAX_UNIT_LENGTH} characters",
                        unit=unit[:_MAX_UNIT_LENGTH])
    text = normalise_unit(unit)
    try:
        parsed: pint.Unit = ureg.parse_units(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"unknown unit {unit!r}", unit=unit) from exc
    except Exception as exc:  # pint's parser raises assorted errors on garbage input
        raise UnitError(f"unit {unit!r} cannot be parsed ({type(exc).__name__})",
                        unit=unit) from exc
    return parsed


def canonical_unit(unit: str) -> str:
    """Validate a measure's canonical unit and return it normalised (raises :class:`UnitError`)."""
    _parse(unit)
    return normalise_unit(unit)


@lru_cache(maxsize=4096)
def conversion_factor(unit: str, canonical: str, measure: str = "") -> float:
    """Factor that turns a quantity in ``unit`` into the measure's ``canonical`` unit.

    Raises :class:`UnitError` naming the unit, the measure and the expected dimension when the
    unit is unknown or of another dimension.
    """
    source = _parse(unit)
    target = _parse(canonical)
    try:
        factor = float(ureg.Quantity(1.0, source).to(target).magnitude)
    except pint.errors.DimensionalityError as exc:
        where = f" for measure {measure!r}" if measure else ""
        raise UnitError(
            f"unit {unit!r} ({_dimension(source)}) cannot be used{where}: expected a unit of "
            f"{_dimension(target)} such as {canonical!r}",
            unit=unit, expected=canonical, measure=measure,
        ) from exc
    return factor


def _dimension(unit: pint.Unit) -> str:
    dims = str(unit.dimensionality)
    return dims if dims != "dimensionless" else "no dimension"
