"""The package's single pint registry and unit conversion helpers.

pint runs only at the edges: each distinct unit string is parsed once and turned into a float factor
to the measure's canonical unit (cached). The hot path multiplies float64 arrays by those factors.

Domain dimensions are deliberately separate: ``FTE`` is ``[fte]`` (so hours given where FTE is
expected are an error, never a silent number), ``person`` is ``[person]``, money is ``[currency]``
with ``GBP`` as its base, and carbon is ``[carbon]`` with ``tCO2e`` as its base.
"""

from __future__ import annotations

import math
import re
import types
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pint

from socialvalue_tom.errors import UnitError

__all__ = ["Quantity", "canonical_unit", "conversion_factor", "normalise_unit", "scale_of", "ureg"]

_DEFINITIONS = """
FTE = [fte] = fte = full_time_equivalent
person = [person] = persons = people = hire = hires
GBP = [currency] = gbp = pound_sterling
pence = 0.01 GBP = p = penny
tCO2e = [carbon] = t_CO2e = tonne_CO2e = tCO2 = tonnes_CO2e
kgCO2e = 0.001 tCO2e = kg_CO2e = kgCO2
MtCO2e = 1000000 tCO2e = MtCO2
ktCO2e = 1000 tCO2e = ktCO2
"""

#: Spellings that pint cannot tokenise (currency symbols) mapped to registry names.
_ALIASES = {"£": "GBP", "£k": "kGBP", "k£": "kGBP", "kgbp": "kGBP", "£000": "kGBP",
            "£'000": "kGBP", "£ 000": "kGBP",
            # As a returns form heads a column of thousands (a data-quality steward's review:
            # '£000s' was refused with advice to write '£000').
            "£000s": "kGBP", "£'000s": "kGBP"}
#: Carbon units as an outcome may give them in capitals ('TCO2E', 'KGCO2E' on a returns form),
#: found by their lower case (:func:`as_written_or_lower`); a table writes the registry's
#: spelling. 'mtco2e' is not here: metric tonnes or megatonnes, it is refused as ambiguous.
_CASE_ALIASES = {"tco2e": "tCO2e", "tco2": "tCO2e", "t_co2e": "tCO2e", "tonne_co2e": "tCO2e",
                 "tonnes_co2e": "tCO2e", "kgco2e": "kgCO2e", "kgco2": "kgCO2e",
                 "kg_co2e": "kgCO2e", "ktco2e": "ktCO2e", "ktco2": "ktCO2e"}
#: Pounds written with a multiple a unit name cannot carry ('£m', '£bn', '£ thousands').
_POUNDS = re.compile(r"(?:£\s*['’]?\s*(?:0{3}s?|k|m|mn|bn|thousands?|millions?|billions?)"
                     r"|(?:m|mn|bn)\s*£)", re.IGNORECASE)
_MAX_UNIT_LENGTH = 64
#: What a unit may be written with once aliases are mapped. pint's tokeniser silently drops
#: characters it does not know, so '€GBP' or 'FTE#x' would otherwise read as GBP and FTE.
_UNIT_TEXT = re.compile(r"[A-Za-z0-9_ .*/^()\-]+")
#: A unit is one name (optionally SI-prefixed): 'FTE', 'hours', 'kgCO2e', 'MWh'. pint would
#: read 'FTE*kg/g' or 'tCO2e*1000' as arithmetic, a silent factor a claim could carry; no
#: measure is counted in a product or ratio of units, so none is read.
_ONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: Units whose SI-prefixed forms are refused: 'mtCO2e' (metric tonnes, in many reports) would
#: be milli-tonnes and 'mGBP' (millions) milli-pounds, a silent factor of a million. Multiples
#: that are meant are defined as units of their own (kgCO2e, ktCO2e, MtCO2e, kGBP).
_NO_PREFIX = frozenset({"FTE", "person", "GBP", "kGBP", "pence", "tCO2e", "kgCO2e", "ktCO2e",
                        "MtCO2e"})
#: Prefixes allowed on the metric tonne: kilotonnes, megatonnes, gigatonnes ('mt' is refused).
_TONNE_PREFIXES = frozenset({"kilo", "mega", "giga"})


def _build_registry() -> pint.UnitRegistry[Any]:
    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(
        on_redefinition="raise", autoconvert_offset_to_baseunit=False)
    for line in _DEFINITIONS.strip().splitlines():
        registry.define(line)
    registry.define("kGBP = 1000 GBP")
    # 'wk' and 'wks' head a returns form's column of weeks (apprenticeships, placements):
    # pint knows 'week' but not its abbreviation, so they were refused as unknown units.
    registry.define("@alias week = wk")
    return registry


#: The package's unit registry. Never mutated after import; pint's global registry is untouched.
ureg: pint.UnitRegistry[Any] = _build_registry()
if TYPE_CHECKING:
    # pint's Quantity class, to a type checker: usable in annotations (``q: Quantity[float]``)
    # and generic in its magnitude, which the registry's attribute is not (mypy refuses it as
    # a type, pyright sees an unknown magnitude).
    Quantity = pint.Quantity
else:
    #: Quantities of the package's registry (``Quantity(3500, "kgCO2e").to("tCO2e")``).
    Quantity = ureg.Quantity
    # Subscriptable at run time too, as a type checker reads it (``q: Quantity[float]`` in
    # an annotation that pydantic, FastAPI or get_type_hints evaluates): typing refuses the
    # registry's class, built at run time, as "not a generic class". This registry's own.
    Quantity.__class_getitem__ = classmethod(types.GenericAlias)


def normalise_unit(unit: str) -> str:
    """Return ``unit`` stripped and with currency symbols mapped to registry names
    (:class:`~socialvalue_tom.UnitError` for a unit that is not text)."""
    if not isinstance(unit, str):
        raise UnitError(f"a unit is text, such as 'FTE' or 'tCO2e', not {unit!r:.60}",
                        unit=repr(unit)[:60])
    text = unit.strip()
    return _ALIASES.get(text, _ALIASES.get(text.lower(), text))


def _parse(unit: str) -> pint.Unit:
    """``unit`` parsed, or its :class:`UnitError` (a fresh one each time, from the cached
    reason: ``lru_cache`` keeps no raised error, so a column of thousands of distinct bad
    units went through pint's parser again at every lookup, 200 times slower than a clean
    column, a scale review found)."""
    if isinstance(unit, str) and len(unit) > _UNCACHED_LENGTH:
        return _parse_now(unit)  # refused for its length: kept in no cache (a 100 KB cell)
    got = _parsed_or_refusal(unit)
    if isinstance(got, tuple):
        message, details = got
        raise UnitError(message, **details)
    return got


@lru_cache(maxsize=1 << 16)
def _parsed_or_refusal(unit: str) -> pint.Unit | tuple[str, dict[str, Any]]:
    try:
        return _parse_now(unit)
    except UnitError as exc:
        return exc.message, dict(exc.details)


def _parse_now(unit: str) -> pint.Unit:
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"unit {unit!r} is empty: give a unit such as 'FTE', 'hour' or 'tCO2e'",
                        unit=unit)
    if len(unit.strip()) > _MAX_UNIT_LENGTH:  # as the Outcome model counts: stripped
        raise UnitError(f"unit {unit[:20]!r}... is longer than {_MAX_UNIT_LENGTH} characters",
                        unit=unit[:_MAX_UNIT_LENGTH])
    text = normalise_unit(unit)
    if _POUNDS.fullmatch(text):
        raise UnitError(f"unit {unit!r} is not an amount of money this library reads: give "
                        "the amount in pounds ('GBP' or '£'), or in thousands ('kGBP', '£k' or "
                        "'£000'); millions have no unit of their own (write the amount out in "
                        "pounds)", unit=unit)
    if not _UNIT_TEXT.fullmatch(text):
        raise UnitError(f"unit {unit!r} has characters a unit cannot have: use names such as "
                        "'GBP', 'FTE', 'tCO2e' or 'hour'", unit=unit)
    if not _ONE_NAME.fullmatch(text):
        raise UnitError(f"unit {unit!r} is not one unit name: {_one_name_hint(text)}",
                        unit=unit)
    try:
        parsed: pint.Unit = ureg.parse_units(text)
    except Exception as exc:  # UndefinedUnitError, and assorted errors on garbage ('nan')
        carbon = _carbon_hint(text)
        raise UnitError(f"unknown unit {unit!r}{f': {carbon}' if carbon else ''}",
                        unit=unit) from exc
    for name in parsed._units:  # pint keeps the names of a unit's parts here
        _refuse_ambiguous(unit, name)
    return parsed


#: The carbon units, by their size in tonnes: what a mass written out before CO2e is named.
_CARBON_BY_TONNES = {0.001: "kgCO2e", 1.0: "tCO2e", 1000.0: "ktCO2e", 1e6: "MtCO2e"}
#: A carbon unit the registry does not know: a mass, then CO2, CO2e or CO2eq.
_CARBON_TEXT = re.compile(r"(.*?)[\s_]*co2(?:-?e|eq)?", re.IGNORECASE)  # CO2-e too


def _carbon_hint(text: str) -> str:
    """How to write a carbon unit the registry does not know (``kilogram_CO2e``,
    ``MTCO2e``), or ``""`` for text that is not one. 'MT' is never guessed at: metric tonnes
    in many reports, megatonnes in others, a factor of a million between them."""
    found = _CARBON_TEXT.fullmatch(text)
    if found is None:
        return ""
    mass = found.group(1).strip(" _")
    if mass.lower() in ("mt", "mts"):
        return (f"{mass!r} stands for metric tonnes in some reports and megatonnes in others: "
                "write 'tCO2e' for tonnes, or 'MtCO2e' for megatonnes (a million tonnes)")
    tonnes = _tonnes(mass)
    for size, name in _CARBON_BY_TONNES.items():
        if math.isclose(tonnes, size, rel_tol=1e-9):
            return f"write {name!r}"
    return "carbon is written 'kgCO2e', 'tCO2e' (tonnes), 'ktCO2e' or 'MtCO2e' (megatonnes)"


def _tonnes(mass: str) -> float:
    """Tonnes in one ``mass`` (``kilogram``, ``Kg`` in a form's capitals), NaN for text that
    is no mass (``''``, ``abc``)."""
    for spelling in dict.fromkeys((mass, mass.lower())):
        try:
            return float(ureg.Quantity(1.0, _parse(spelling)).to("metric_ton").magnitude)
        except Exception:  # not a unit, or not a mass: the next spelling, else NaN
            continue
    return math.nan


def _one_name_hint(text: str) -> str:
    """What to write instead of a unit that is not one name: carbon by its own names
    (``tonnes CO2e``: ``tCO2e``), else the name its words make when joined (``full time
    equivalent``), else the rule."""
    if re.search(r"co2-e", text, re.IGNORECASE):  # 'tCO2-e', 'tonnes CO2-e'
        carbon = _carbon_hint("".join(text.split()))
        if carbon:
            return carbon
    words = text.split()
    if len(words) > 1 and all(_ONE_NAME.fullmatch(w) for w in words):
        carbon = _carbon_hint("".join(words))  # 'MT CO2e', 'tonne CO2eq', 'kg CO2e'
        if carbon:
            return carbon
        for joined in ("".join(words), "_".join(words)):
            try:
                _parse(joined)
            except UnitError:
                continue
            return f"write it as one name, without spaces: {joined!r}"
    return ("give a single unit such as 'FTE', 'hour', 'tCO2e' or 'GBP' (a name, with no "
            "spaces, *, /, ^ or number of its own)")


#: pint's plain names for these are the US customary units; in UK reports 'ton' and 'kiloton'
#: mean metric tonnes (or the long ton), 'cwt' the UK hundredweight and 'gallon' the imperial
#: gallon: each a silent 2% to 20% error. Refused, prefixed or not, unless the text names the
#: US unit itself ('short_ton', 'US_liquid_gallon'). Values: what the name reads as, and what
#: to write instead.
_US_BY_DEFAULT = {
    "ton": ("US short tons (907 kg)", "'tonne' or 't' for metric tonnes (with a prefix: "
            "'kilotonne', 'megatonne')"),
    "hundredweight": ("US hundredweights (45.4 kg)", "'UK_hundredweight' or 'kg'"),
    "gallon": ("US gallons (3.785 litres)", "'imperial_gallon' or 'litre'"),
    "pint": ("US pints (473 ml)", "'imperial_pint' or 'litre'"),
    "quart": ("US quarts (946 ml)", "'imperial_quart' or 'litre'"),
    "fluid_ounce": ("US fluid ounces (29.6 ml)", "'imperial_fluid_ounce' or 'ml'"),
    "gill": ("US gills (118 ml)", "'imperial_gill' or 'ml'"),
    "cup": ("US cups (237 ml)", "'litre' or 'ml'"),
    "teaspoon": ("US teaspoons (4.9 ml)", "'ml'"),
    "tablespoon": ("US tablespoons (14.8 ml)", "'ml'"),
    "fluid_dram": ("US fluid drams (3.7 ml)", "'ml'"),
    "shot": ("US shots (44 ml)", "'ml'"),
    "dry_pint": ("US dry pints (551 ml)", "'imperial_pint' or 'litre'"),
    "dry_quart": ("US dry quarts (1.1 litres)", "'imperial_quart' or 'litre'"),
    "dry_gallon": ("US dry gallons (4.4 litres)", "'imperial_gallon' or 'litre'"),
    "peck": ("US pecks (8.8 litres)", "'imperial_peck' or 'litre'"),
    "bushel": ("US bushels (35.2 litres)", "'imperial_bushel' or 'litre'"),
    "barrel": ("US barrels (119 litres)", "'imperial_barrel', 'oil_barrel' or 'litre'"),
}
_SAYS_US = ("US_", "short_")


def _refuse_ambiguous(unit: str, name: str) -> None:
    """Refuse unit spellings that are easily meant as something else."""
    readings = ureg.parse_unit_name(name)
    for _, base, _ in readings:
        if base in _US_BY_DEFAULT and not any(mark in unit for mark in _SAYS_US):
            reads_as, write = _US_BY_DEFAULT[base]
            raise UnitError(f"unit {unit!r} counts {reads_as} in the unit registry, which UK "
                            f"reports rarely mean: write {write}", unit=unit)
    if any(prefix == "" for prefix, _, _ in readings):
        return  # a unit of its own (kGBP, ktCO2e...), not a prefixed one
    for prefix, base, _ in readings:
        if base in _NO_PREFIX or (base == "metric_ton" and prefix not in _TONNE_PREFIXES):
            raise UnitError(
                f"unit {unit!r} reads as {prefix}-{base}, which is easily meant as something "
                "else ('mtCO2e' for metric tonnes, 'mGBP' for millions): write the unit out, "
                "e.g. 'tCO2e', 'ktCO2e', 'MtCO2e', 'kgCO2e', 'GBP', 'kGBP', 'pence', 'kg'",
                unit=unit)


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
    for name, parsed in ((unit, source), (canonical, target)):
        _refuse_scale(name, parsed, measure)
    _refuse_calendar_for_work_time(unit, source, canonical, target, measure)
    try:
        factor = float(ureg.Quantity(1.0, source).to(target).magnitude)
    except pint.errors.DimensionalityError as exc:
        where = f" for measure {measure!r}" if measure else ""
        raise UnitError(
            f"unit {unit!r} ({_reading(unit, source)}) cannot be used{where}: expected a unit "
            f"of {_dimension(target)} such as {canonical!r}{_unit_hint(source, target)}",
            unit=unit, expected=canonical, measure=measure,
        ) from exc
    return factor


def as_written_or_lower(unit: str) -> str:
    """``unit`` as written when the registry reads it, else in lower case when that is a unit
    (``Hours``, ``HOURS``: a returns form's capitals, where the registry is case-sensitive),
    else as written, so that an error names what was given. Text that is a unit as written
    keeps its meaning (``Mg`` is a megagram, never the milligram ``mg``)."""
    try:
        _parse(unit)
    except UnitError:
        lower = _CASE_ALIASES.get(unit.strip().lower(), unit.lower())
        try:
            _parse(lower)
        except UnitError:
            return unit
        return lower
    return unit


#: Text longer than this (a unit is at most 64 characters, spaces aside) is never a key of
#: the unit caches: a column of 100 KB cells, each refused, kept hundreds of MB alive.
_UNCACHED_LENGTH = 256


def accepted_spelling(unit: str, spellings: tuple[str, ...]) -> str | None:
    """:func:`_accepted_spelling`, cached unless ``unit`` is too long to be a unit."""
    if len(unit) > _UNCACHED_LENGTH:
        return _accepted_spelling.__wrapped__(unit, spellings)
    return _accepted_spelling(unit, spellings)


@lru_cache(maxsize=4096)
def _accepted_spelling(unit: str, spellings: tuple[str, ...]) -> str | None:
    """The entry of ``spellings`` that ``unit`` names, or None: the entry itself, or one the
    unit registry reads as the same unit (``weeks`` as ``week``, ``hrs`` as ``hour``,
    ``ftes`` as ``FTE``), and text that is no unit as written read in lower case (``Weeks``,
    ``HOURS``: a returns form's capitals, where the registry is case-sensitive; ``Mg`` stays a
    megagram). A unit merely convertible to an entry (``day`` for ``week``, ``Mg`` for
    ``mg``) names none, nor does text that is no unit."""
    text = unit.strip()
    if text in spellings:
        return text
    try:
        parsed = _parse(as_written_or_lower(text))
    except UnitError:
        return None
    for spelling in spellings:
        try:
            if _parse(spelling) == parsed:
                return spelling
        except UnitError:  # a table's accepts entries are validated on load
            continue
    return None


def scale_of(unit: str | pint.Unit) -> str | None:
    """None when ``unit`` is a plain multiple of its base unit (0 of it is 0, 2 of it twice 1);
    else ``"offset"`` (degC, degF) or ``"logarithmic"`` (decibel, neper, octave): no factor
    converts those, so they are refused wherever a factor would be used."""
    try:
        parsed = unit if isinstance(unit, pint.Unit) else ureg.parse_units(normalise_unit(unit))
        zero, one, two = (float(ureg.Quantity(x, parsed).to_base_units().magnitude)
                          for x in (0.0, 1.0, 2.0))
    except Exception:  # pint's errors on a scale it cannot convert: not a multiple either
        return "logarithmic"
    if zero == 0.0 and math.isclose(two, 2.0 * one, rel_tol=1e-12):
        return None
    return "offset" if math.isclose(two - one, one - zero, rel_tol=1e-12) else "logarithmic"


def _article(scale: str) -> str:
    return f"an {scale}" if scale == "offset" else f"a {scale}"


def _refuse_scale(unit: str, parsed: pint.Unit, measure: str) -> None:
    """A unit with an offset or logarithmic scale converts by no factor (10 degC is 283.15 K,
    not 10 x 274.15 K): refused, as a table refuses it."""
    scale = scale_of(parsed)
    if scale is not None:
        where = f" for measure {measure!r}" if measure else ""
        raise UnitError(f"unit {unit!r} cannot be used{where}: it has {_article(scale)} "
                        "scale, which no factor converts (use a unit that is a multiple of its "
                        "base unit)", unit=unit, measure=measure)


#: Seconds in a day: time units shorter than this measure work time (hours), longer ones
#: calendar time (days, weeks, months).
_DAY_SECONDS = 86400.0


def _refuse_calendar_for_work_time(unit: str, source: pint.Unit, canonical: str,
                                   target: pint.Unit, measure: str) -> None:
    """Days or weeks where hours are expected (or the reverse) are refused: a day of
    volunteering is a working day, not 24 hours, and no factor here could know its length."""
    time = ureg.second.dimensionality
    if source.dimensionality != time or target.dimensionality != time:
        return
    short = [float(ureg.Quantity(1.0, u).to("second").magnitude) < _DAY_SECONDS
             for u in (source, target)]
    if short[0] != short[1]:
        where = f" for measure {measure!r}" if measure else ""
        raise UnitError(
            f"unit {unit!r} cannot be used{where}: {canonical!r} counts "
            f"{'hours of work' if short[1] else 'calendar time'}, and a "
            f"{'day or week' if short[1] else 'number of hours'} has no fixed length in it "
            f"(a working day is not 24 hours): give the quantity in {canonical!r}",
            unit=unit, expected=canonical, measure=measure)


#: The dimensions a reader knows, in words (pint writes them as ``[mass] / [time] ** 2``).
_DIMENSION_WORDS = {
    "[carbon]": "carbon (tonnes of CO2 equivalent)", "[fte]": "full-time equivalents",
    "[currency]": "money", "[person]": "people", "[mass]": "weight", "[time]": "time",
    "[length]": "length", "[length] ** 2": "area", "[length] ** 3": "volume",
    "[mass] * [length] ** 2 / [time] ** 2": "energy",
    "[mass] * [length] ** 2 / [time] ** 3": "power", "dimensionless": "no dimension",
}


def _dimension(unit: pint.Unit) -> str:
    """``unit``'s dimension in words (``weight``, ``time``); one a reader would not know by
    name as pint writes it, said to be of another kind."""
    dims = str(unit.dimensionality)
    return _DIMENSION_WORDS.get(dims, f"another kind of quantity ({dims})")


def _reading(unit: str, parsed: pint.Unit) -> str:
    """What ``unit`` was read as: its dimension in words, or, for a dimension a reader would
    not know, the unit it was read as (``MT`` is a megatesla, ``kt`` a knot)."""
    dims = str(parsed.dimensionality)
    if dims in _DIMENSION_WORDS:
        return _DIMENSION_WORDS[dims]
    # Named in words, without pint's formula of its dimension (a council officer's review:
    # 'k' was "boltzmann_constant ... [mass] * [length] ** 2 / [time] ** 2 / [temperature]").
    return f"read as {str(parsed).replace('_', ' ')}, a unit of another kind"


def other_kind_note(unit: str, canonical: str) -> str:
    """Where ``unit`` (as given) is a unit of another dimension than ``canonical``: both in
    words, `` ('hours' is time; the measure counts full-time equivalents)``; else ``""``."""
    try:
        source, target = _parse(as_written_or_lower(unit)), _parse(canonical)
    except UnitError:
        return ""
    if source.dimensionality == target.dimensionality:
        return ""
    return f" ({unit!r} is {_reading(unit, source)}; the measure counts {_dimension(target)})"


def dimension_of(unit: str) -> str:
    """``unit``'s (as given) dimension as pint writes it (``[time]``, ``[fte]``), or ``""``
    when it is no unit."""
    try:
        return str(_parse(as_written_or_lower(unit)).dimensionality)
    except UnitError:
        return ""


def _unit_hint(source: pint.Unit, target: pint.Unit) -> str:
    """What to write where a weight is given for carbon (``tonnes``, ``kg``): the same word
    with CO2e."""
    if str(target.dimensionality) == "[carbon]" and str(source.dimensionality) == "[mass]":
        return (": a weight of carbon dioxide equivalent is written 'tCO2e' or 'kgCO2e' "
                "(tonnes or kilograms of CO2e)")
    return ""


#: What separates the words of a unit a returns form writes with a word of its own before or
#: after it: 'apprentice weeks', 'person-days', 'FTE-years', 'learner_hours'.
_WORD_BREAKS = re.compile(r"[\s\-_]+")
#: Words (singular) a returns form heads a column with that count people or occasions, not a
#: quantity of the measure's unit: read only to say what to give instead, never as a quantity.
_COUNT_WORDS = frozenset({
    "start", "apprentice", "apprenticeship", "placement", "intern", "internship", "headcount",
    "head", "job", "employee", "learner", "trainee", "participant", "attendee", "pupil",
    "student", "staff", "session", "course", "visit", "event", "role", "post", "number",
    "count", "no", "nr", "man", "woman", "worker", "operative"})


def _singular(word: str) -> str:
    low = word.lower()
    return low[:-1] if low.endswith("s") and low[:-1] in _COUNT_WORDS else low


def _parsed_or_none(unit: str) -> pint.Unit | None:
    try:
        return _parse(as_written_or_lower(unit))
    except UnitError:
        return None


def _per_person(canonical: str) -> str:
    """The total a row gives, shown on an example: the canonical unit over everyone counted."""
    return (f"the {canonical}s of all of them together (3 people for 10 {canonical}s each is "
            f"30 {canonical}s)")


def refused_unit_advice(unit: str, canonical: str, accepts: tuple[str, ...], *,
                        hours_per_week: float | None = None,
                        weeks_per_year: float | None = None) -> str:
    """What to write instead of ``unit``, which a measure counted in ``canonical`` (and taking
    only the spellings ``accepts``) refused: ``""`` when there is nothing to add to the
    refusal. A site team's words for the unit ('apprentice weeks', 'person-hours',
    'FTE-years'), a head count ('starts', 'apprentices'), or time of another length (days or
    hours for weeks, days for hours): each is told the unit to write and why no factor was
    applied (a working week is 5 days, not 7; a training day has no fixed hours). The table's
    own ``hours_per_week`` and ``weeks_per_year``, where it has them, are quoted, never
    applied: what a week or a year of a part-time apprentice is, the supplier knows."""
    target = _parsed_or_none(canonical)
    text = unit.strip() if isinstance(unit, str) else ""
    if target is None or not text:
        return ""
    words = [w for w in _WORD_BREAKS.split(text) if w]
    if len(words) > 1:
        return _words_advice(unit, words, canonical, target, accepts, hours_per_week,
                             weeks_per_year)
    parsed = _parsed_or_none(text)
    dims = "" if parsed is None else str(parsed.dimensionality)
    want = str(target.dimensionality)
    if dims == "[person]" or (parsed is None and _singular(text) in _COUNT_WORDS):
        # A registered head count ('hires', 'people') is already said to be people.
        said = ("; " if parsed is not None else
                f"; {unit!r} counts people or occasions, not {_dimension(target)}: ")
        if want == "[fte]":
            return (f"{said}give the FTE-years instead, each person's contracted hours over a "
                    "full-time week, pro rata for the part of the year employed (a full-time "
                    "employee all year is 1)")
        return f"{said}give {_per_person(canonical)}"
    if parsed is None:
        return ""
    if dims == "[fte]" and want == "[time]" and weeks_per_year and _is_long(target):
        return (f"; one FTE for a whole year is {weeks_per_year:g} {canonical}s in this "
                f"table (its weeks_per_year); give the {canonical}s")
    if dims == want == "[time]":
        return _time_advice(unit, parsed, canonical, target, hours_per_week, weeks_per_year)
    return ""


def _is_long(unit: pint.Unit) -> bool:
    """Calendar time (a day or longer), as against hours of work."""
    return float(ureg.Quantity(1.0, unit).to("second").magnitude) >= _DAY_SECONDS


def _time_advice(unit: str, parsed: pint.Unit, canonical: str, target: pint.Unit,
                 hours_per_week: float | None, weeks_per_year: float | None) -> str:
    """Time of another length than the measure's, refused by its ``accepts``: why it is not
    converted, and what to give."""
    factor = float(ureg.Quantity(1.0, parsed).to(target).magnitude)
    if not _is_long(target):  # hours counted
        if _is_long(parsed):
            # The calendar's hours in a day, a week or a year are not the hours worked in it.
            why = (f" (a working {parsed} is not {factor:,.0f} hours)"
                   if math.isclose(factor, round(factor)) else "")
            return (f"; a {parsed} of training or staff time has no fixed number of "
                    f"hours{why}: give the {canonical}s, from the attendance record or "
                    "timesheet")
        return f"; give the {canonical}s ({unit.strip()} / {1 / factor:g})"
    if not _is_long(parsed):  # hours (or minutes) given, weeks counted
        said = (f" (the table values a week at {hours_per_week:g} hours of work, its "
                "hours_per_week)" if hours_per_week and str(target) == "week" else "")
        return (f"; {parsed}s are not converted to {canonical}s{said}: give the {canonical}s "
                "from the agreement or payroll record")
    if str(parsed) == "day":
        return (f"; days are not converted to {canonical}s (a working week is 5 days, a "
                f"calendar week 7): give the {canonical}s")
    if str(parsed) == "year" and weeks_per_year and str(target) == "week":
        return (f"; give the {canonical}s: a year is {weeks_per_year:g} weeks in this table "
                "(its weeks_per_year)")
    if math.isclose(factor, round(factor), rel_tol=1e-12) and factor >= 1:
        return f"; give the {canonical}s (a {parsed} is {round(factor)})"
    return f"; a {parsed} is not a whole number of {canonical}s: give the {canonical}s"


def _words_advice(unit: str, words: list[str], canonical: str, target: pint.Unit,
                  accepts: tuple[str, ...], hours_per_week: float | None,
                  weeks_per_year: float | None) -> str:
    """A unit written as several words ('apprentice weeks', 'person-days', 'FTE-years'):
    the one word of the measure's kind named, with what the other words add (nothing: the
    quantity is a total over everyone counted)."""
    parsed = [(w, _parsed_or_none(w)) for w in words]
    kind = [(w, p) for w, p in parsed if p is not None
            and p.dimensionality == target.dimensionality]
    if len(kind) != 1:  # none, or 'hours per week': two of them, a rate
        return ""
    word, got = kind[0]
    others = [p for w, p in parsed if w != word]
    if str(target.dimensionality) == "[fte]":
        fte = accepted_spelling(word, accepts) or canonical
        if all(p is not None and str(p) == "year" for p in others):
            return (f"; an FTE here is already a year of full-time work, over the row's "
                    f"period (1 FTE employed all year is 1, for a quarter 0.25): write "
                    f"{fte!r}")
        return ""
    if any(p is not None and str(p.dimensionality) not in ("[person]", "[fte]")
           for p in others):
        return ""  # 'hour kg': no reading of it to offer
    spelling = accepted_spelling(word, accepts)
    if spelling is not None:
        return f"; write {spelling!r}: the quantity is {_per_person(canonical)}"
    advice = _time_advice(word, got, canonical, target, hours_per_week, weeks_per_year) \
        if str(got.dimensionality) == "[time]" else ""
    return f"; {unit!r} counts {word}{advice}" if advice else ""
