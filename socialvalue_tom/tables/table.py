"""ProxyTable: one validated edition of a proxy table, compiled into dense arrays.

Regional fallback is resolved once, at load: ``proxy_matrix[m, r]`` holds the proxy for measure
``m`` in region ``r`` or, where the table has none, in the nearest ancestor region, and
``region_used[m, r]`` says which region supplied it. The hot path is then a single gather.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from socialvalue_tom._arrays import sealed
from socialvalue_tom._text import close_codes, did_you_mean, quoted, region_advice, shown
from socialvalue_tom.errors import (
    OutcomeError,
    ProxyTableError,
    RuleError,
    SocialValueError,
    UnitError,
    UnknownMeasureError,
    UnknownRegionError,
)
from socialvalue_tom.tables._loader import measure_named
from socialvalue_tom.tables.schema import (
    GSS_REGION_CODES,
    IndexFile,
    MeasureSpec,
    Region,
    SourceSpec,
    TableFile,
    table_cells_problem,
)
from socialvalue_tom.tables.schema import normalise_region as normalise_region
from socialvalue_tom.units import (
    accepted_spelling,
    as_written_or_lower,
    canonical_unit,
    conversion_factor,
    dimension_of,
    normalise_unit,
    other_kind_note,
    refused_unit_advice,
)

if TYPE_CHECKING:
    from socialvalue_tom.rules.expressions import Expression

__all__ = ["PriceIndex", "ProxyTable", "ResolvedProxy", "TableRef", "canonical_digest",
           "derived_amount"]


def canonical_digest(model: TableFile | IndexFile) -> str:
    """sha256 of the model's canonical JSON: same content, same digest, whatever the layout.
    A measure's ``field_bounds``, a derivation's ``input_sources`` and a value's
    ``applies_in`` and ``stands_in_for`` are left out when empty, as before they existed: a
    table written before them keeps its digest (and the pins recorded with its valuations)."""
    data = model.model_dump(mode="json")
    for m in data.get("measures", ()):
        if not m.get("field_bounds"):
            m.pop("field_bounds", None)
        for proxy in (m.get("proxies") or {}).values():
            derivation = proxy.get("derivation") if isinstance(proxy, dict) else None
            if isinstance(derivation, dict) and not derivation.get("input_sources"):
                derivation.pop("input_sources", None)
            for notes in ("applies_in", "stands_in_for"):
                if isinstance(proxy, dict) and not proxy.get(notes):
                    proxy.pop(notes, None)
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _review_passed(review_by: dt.date | None, today: dt.date | None = None) -> bool:
    """True when ``review_by`` is a date and ``today`` (default: the local date; a datetime,
    ``pandas.Timestamp`` or ``numpy.datetime64`` counts as its date; anything else, NaT
    included, is a :class:`TypeError`) is after it."""
    day = dt.date.today() if today is None else today
    if isinstance(day, np.datetime64) and not np.isnat(day):  # a frame cell's date
        day = day.astype("datetime64[D]").item()
    if isinstance(day, dt.datetime):
        day = day.date()
    if not isinstance(day, dt.date) or day != day:  # NaT is a datetime, unequal to itself
        raise TypeError(f"today must be a date, not {day!r:.60}")
    return review_by is not None and day > review_by


def as_day(value: object, what: str) -> dt.date:
    """``value`` as a date: a date, a datetime (``pandas.Timestamp`` too) whose own date is
    used, a ``numpy.datetime64``, or ``YYYY-MM-DD`` text, read as ``Outcome.date`` reads
    them. Text naming no day is a :class:`RuleError` naming ``what`` (the argument, as
    ``load_table(): on=``); any other type, NaT included, a :class:`TypeError`."""
    if type(value) is dt.date:  # the common case, in the engine's select of each outcome
        return value
    from socialvalue_tom.outcome import to_day  # the outcome model imports the tables

    try:
        day = to_day(value)
    except ValueError as exc:  # 2024-02-30, NaT, a number: refused below
        if isinstance(value, str):  # the right type holding no date: bad input, typed
            raise RuleError(f"{what} {quoted(value)} is not a date: {exc} (an existing day, "
                            "YYYY-MM-DD)", field=what.rsplit(" ", 1)[-1].rstrip("=")) from None
        day = None
    if isinstance(day, dt.date):
        return day
    raise TypeError(f"{what} must be a date (a datetime, whose date is used, or YYYY-MM-DD "
                    f"text), not {type(value).__name__} {value!r:.60}")


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table edition in the catalogue: family name, version, validity, digest and the date
    its publisher undertook to review it by (``None``: none declared)."""

    name: str
    version: str
    valid_from: dt.date
    valid_to: dt.date
    digest: str
    path: str = ""
    review_by: dt.date | None = None

    def review_passed(self, today: dt.date | None = None) -> bool:
        """True when a review date is declared and ``today`` (default: the local date) is after
        it: look for a correction or a newer edition. It never changes a valuation."""
        return _review_passed(self.review_by, today)

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True, slots=True)
class ResolvedProxy:
    """The proxy used for a (measure, region): the value and where it came from."""

    value: float
    low: float
    high: float
    region_requested: str
    region_used: str
    source: SourceSpec
    illustrative: bool

    @property
    def fell_back(self) -> bool:
        """True when the region used is not the region requested."""
        return self.region_used != self.region_requested


class _Sealed:
    """Read-only once built (``_seal``): the object is shared, so replacing an attribute
    would change every later valuation in the process while the digests stayed the same."""

    _ANEW = ""  # how to get a different one, for the error

    def _what(self) -> str:
        raise NotImplementedError

    def _seal(self) -> None:
        object.__setattr__(self, "_sealed", True)

    # Hidden from type checkers, which would read a __setattr__ as "any name may be set": the
    # public attributes are Final to them instead, and a misspelt name is unknown.
    if not TYPE_CHECKING:
        def __setattr__(self, name: str, value: Any) -> None:
            if getattr(self, "_sealed", False):
                raise AttributeError(f"{self._what()} is immutable: cannot set {name!r} "
                                     f"({self._ANEW})")
            object.__setattr__(self, name, value)

        def __delattr__(self, name: str) -> None:
            raise AttributeError(f"{self._what()} is immutable: cannot delete {name!r}")


class PriceIndex(_Sealed):
    """A price index series (e.g. HM Treasury GDP deflators) for price-base uplift."""

    def __init__(self, spec: IndexFile, path: Path | None = None) -> None:
        self.spec: Final[IndexFile] = spec
        self.name: Final[str] = spec.name
        self.path: Final[Path | None] = path
        self.digest: Final[str] = canonical_digest(spec)
        self.values: Final[Mapping[int, float]] = MappingProxyType(dict(spec.values))
        self._seal()

    # Shared by every edition that uplifts with it (load_index caches it).
    _ANEW = "load another index file"

    def _what(self) -> str:
        return f"PriceIndex {self.name!r}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its validated spec (mapping proxies do not pickle); same digest.
        return (PriceIndex, (self.spec, self.path))

    def is_projected(self, year: int) -> bool:
        """True when the index value for ``year`` is a forecast, not an outturn."""
        start = self.spec.projected_from
        return start is not None and year >= start

    def projected_mark(self, year: int) -> str:
        """`` (projected)`` for a forecast year, for traces; empty otherwise."""
        return " (projected)" if self.is_projected(year) else ""

    def factor(self, from_year: int, to_year: int, *, to_field: str | None = None) -> float:
        """Ratio index[to_year] / index[from_year]; :class:`RuleError` if a year is missing
        (``field``: ``to_field`` when ``to_year`` is the one missing, e.g. ``"price_year"``,
        the caller's assumption)."""
        for year, field in ((from_year, None), (to_year, to_field)):
            if year not in self.values:
                years = sorted(self.values)
                raise RuleError(
                    f"price index {self.name!r} has no value for {year}: it covers "
                    f"{years[0]}..{years[-1]}", index=self.name, year=year, field=field,
                )
        return self.values[to_year] / self.values[from_year]


#: Units a return commonly gives beside a canonical unit, for a measure that converts any
#: unit of its kind (no ``accepts``): kilograms of carbon, thousands of pounds.
_ALSO_OFFERED = {"tCO2e": ("kgCO2e",), "tonne": ("kg",), "GBP": ("kGBP",)}


def _plural(unit: str, accepts: tuple[str, ...] | None) -> list[str]:
    """``weeks`` for ``week``: the plural returns write, for a measure that lists its units
    (``accepts``), where the plural names the same unit; none for a short symbol (``h``)."""
    plural = unit + "s"
    if accepts is None or len(unit) < 3 or not unit.isalpha():  # no list: any unit converts
        return []
    return [plural] if accepted_spelling(plural, accepts) is not None else []


class ProxyTable(_Sealed):
    """One validated, immutable edition of a proxy table.

    Build it with :func:`socialvalue_tom.load_table`. ``measures`` maps codes to
    :class:`Measure`; ``digest`` identifies the content; ``proxy(measure, region)`` resolves a
    proxy with the declared regional fallback. ``spec`` is the validated file itself (a
    ``TableFile``: its ``title``, ``price_base_year``, ``currency``, ``regions`` with their
    names and parents, ``fallback_region``, ``parameters``, ``confidence_grades``, ``sources``
    and ``notes``), for a listing or a form; the properties below name the ones most asked for.
    """

    def __init__(self, spec: TableFile, *, path: Path | None = None,
                 price_index: PriceIndex | None = None) -> None:
        self.spec: Final[TableFile] = spec
        self.path: Final[Path | None] = path
        self.digest: Final[str] = canonical_digest(spec)
        self.price_index: Final[PriceIndex | None] = price_index
        self.measures: Final[Mapping[str, MeasureSpec]] = MappingProxyType(
            {m.code: m for m in spec.measures})
        self.sources: Final[Mapping[str, SourceSpec]] = MappingProxyType(
            {s.id: s for s in spec.sources})
        self.region_codes: Final[tuple[str, ...]] = tuple(r.code for r in spec.regions)
        self._region_index = {c: i for i, c in enumerate(self.region_codes)}
        self._region_alias = {normalise_region(r.name): r.code for r in spec.regions}
        self._region_alias.update({normalise_region(c): c for c in self.region_codes})
        self.measure_codes: Final[tuple[str, ...]] = tuple(self.measures)
        self.measure_index: Final[Mapping[str, int]] = MappingProxyType(
            {c: i for i, c in enumerate(self.measure_codes)})
        self._where = str(path) if path else f"{spec.family}:{spec.version}"
        self._compile()
        self._seal()

    # Shared (load_table caches tables).
    _ANEW = "build another table: load_table, amend_table"

    def _what(self) -> str:
        return f"ProxyTable {self._where}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its validated spec, so a pickled table (sent to a Dask worker, say)
        # is the same table with the same digest; the arrays are recompiled on arrival.
        return (_rebuild_table, (self.spec, self.path, self.price_index))

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The table family, e.g. ``uk-national``."""
        return self.spec.family

    @property
    def version(self) -> str:
        """The edition label, e.g. ``2024``."""
        return self.spec.version

    @property
    def valid_from(self) -> dt.date:
        """First day this edition is in force."""
        return self.spec.valid_from

    @property
    def valid_to(self) -> dt.date:
        """Last day this edition is in force (inclusive)."""
        return self.spec.valid_to

    @property
    def review_by(self) -> dt.date | None:
        """The date the publisher undertook to review this edition by (``None``: none
        declared). Past it, check for a correction (a new version such as ``2025.1``) or a
        newer edition; the date is information for people and never changes a valuation."""
        return self.spec.review_by

    def review_passed(self, today: dt.date | None = None) -> bool:
        """True when :attr:`review_by` is declared and ``today`` (default: the local date) is
        after it."""
        return _review_passed(self.review_by, today)

    @property
    def title(self) -> str:
        """The edition's title, as its file gives it."""
        return self.spec.title

    @property
    def price_base_year(self) -> int:
        """The financial year (its starting year) whose prices the proxies are in."""
        return self.spec.price_base_year

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions, each with its ``code``, display ``name`` and ``parent`` (the region
        whose figure it falls back to; ``None`` for the root), in the file's order."""
        return tuple(self.spec.regions)

    def units_offered(self, measure: str) -> tuple[str, ...]:
        """The units to offer for ``measure`` in a form (the returns template's drop-down):
        its canonical unit, the spellings it ``accepts`` with their plurals (``weeks``), or,
        for a measure that converts any unit of its kind, the ones returns commonly give
        beside the canonical (``kgCO2e`` for ``tCO2e``). Other spellings of these are read
        too (``Hours``); the list is what to offer, not all that is read."""
        spec = self.measure(measure)
        units: list[str] = []
        for unit in (spec.unit, *(spec.accepts or ())):
            units += [unit, *_plural(unit, spec.accepts)]
        if spec.accepts is None:
            units += _ALSO_OFFERED.get(spec.unit, ())
        return tuple(dict.fromkeys(units))

    @property
    def index_digest(self) -> str | None:
        """The digest of the price index this edition uplifts with (None: it has none). A
        user table's local index is not part of :attr:`digest`."""
        return self.price_index.digest if self.price_index is not None else None

    @property
    def amends(self) -> str | None:
        """``NAME:VERSION`` of the edition this one is a local amendment of (``amend_table`` or
        an amendment file records it in the notes), or ``None`` for a table as published."""
        found = re.search(rf"^Amendment {re.escape(self.version)} of (\S+:\S+) \(digest ",
                          self.spec.notes or "", flags=re.MULTILINE)
        return found.group(1) if found else None

    @property
    def ref(self) -> TableRef:
        """A :class:`TableRef` naming this edition."""
        return TableRef(self.name, self.version, self.valid_from, self.valid_to, self.digest,
                        str(self.path or ""), self.review_by)

    def __repr__(self) -> str:
        return (f"<ProxyTable {self.name}:{self.version} {self.valid_from}..{self.valid_to} "
                f"{len(self.measures)} measures digest={self.digest[:12]}>")

    def covers(self, day: dt.date | str) -> bool:
        """True when ``day`` falls within this edition's validity (a ``datetime`` or
        ``pandas.Timestamp`` counts as its own date, ``YYYY-MM-DD`` text as that day)."""
        day = as_day(day, "covers(): day")
        return self.valid_from <= day <= self.valid_to

    # -- lookups --------------------------------------------------------------------------
    def measure(self, code: str) -> MeasureSpec:
        """The measure ``code``; :class:`UnknownMeasureError` suggests close codes."""
        try:
            return self.measures[code]
        except (KeyError, TypeError):
            raise self.unknown_measure(code) from None

    def unknown_measure(self, code: object) -> UnknownMeasureError:
        """Build the error for an unknown measure code, with suggestions."""
        from socialvalue_tom.tables.crosswalk import framework_code_hint

        hint = (framework_code_hint(code, self.measure_codes)
                or did_you_mean(code, self.measure_codes))
        return UnknownMeasureError(
            f"unknown measure {shown(code)} in table {self.name}:{self.version}{hint}",
            measure=code, table=self.name, version=self.version,
            suggestions=close_codes(code, self.measure_codes),
        )

    def unknown_grade(self, grade: object) -> OutcomeError:
        """Build the error for a confidence grade the table does not declare (one wording
        for the scalar and bulk engines)."""
        known = ", ".join(self.grades) or "none (the table declares no grades)"
        return OutcomeError(f"unknown confidence grade {shown(grade)}: table "
                            f"{self.name}:{self.version} has {known}", field="confidence",
                            issue="unknown-grade")

    def region_code(self, region: str) -> str:
        """Canonical region code for ``region`` (case, spaces and names tolerated, and the
        GSS codes of the UK, its nations and London: ``W92000004`` is ``wales``)."""
        # A code as written ("uk") is its own normal form: found without normalising it.
        code = ((self._region_alias.get(region) or self._region_alias.get(normalise_region(region)))
                if isinstance(region, str) else None)
        if code is None and isinstance(region, str):  # a GSS code, "W92000004" for wales
            standard = GSS_REGION_CODES.get(normalise_region(region))
            code = standard if standard in self._region_index else None
        if code is None:
            raise UnknownRegionError(
                f"unknown region {shown(region)} in table {self.name}:{self.version}: expected "
                f"one of {', '.join(self.region_codes)}"
                f"{region_advice(region, self.region_codes)}", region=region, table=self.name,
                version=self.version, expected=list(self.region_codes),
            )
        return code

    def region_position(self, region: str) -> int:
        """Index of the region in the dense arrays (raises :class:`UnknownRegionError`)."""
        return self._region_index[self.region_code(region)]

    def region_note(self, measure: str, region: str) -> tuple[str, str] | None:
        """What the table says of the value ``region`` falls back to for ``measure``:
        ``("applies", why)`` where it is the region's own figure (``applies_in``),
        ``("stands in", what it costs)`` where it stands in for a missing one
        (``stands_in_for``); the note on the region, else on the nearest region above it that
        falls back to the same value (a note on England speaks for London under it). None
        where the region has a value of its own, or no note reaches it."""
        used = self.proxy(measure, region).region_used
        pv = self.measures[measure].proxies[used]
        parents = {r.code: r.parent for r in self.spec.regions}
        at: str | None = self.region_code(region)
        while at is not None and at != used:
            for kind, notes in (("applies", pv.applies_in), ("stands in", pv.stands_in_for)):
                if notes and at in notes:
                    return kind, notes[at]
            at = parents.get(at)
        return None

    def proxy(self, measure: str, region: str) -> ResolvedProxy:
        """Resolve the proxy for ``measure`` in ``region`` with the declared fallback."""
        m = self.measure_index.get(measure)
        if m is None:
            raise self.unknown_measure(measure)
        r = self.region_position(region)
        used = self.region_codes[int(self.region_used[m, r])]
        pv = self.measures[measure].proxies[used]
        return ResolvedProxy(
            value=float(self.proxy_matrix[m, r]), low=float(self.proxy_low[m, r]),
            high=float(self.proxy_high[m, r]), region_requested=self.region_codes[r],
            region_used=used, source=self.sources[pv.source], illustrative=pv.illustrative,
        )

    def unit_factor(self, measure: str, unit: str | None) -> float:
        """Factor from ``unit`` to the measure's canonical unit, honouring ``accepts`` (a
        spelling the unit registry reads as the same unit as an accepted one, in any case,
        ``weeks`` or ``Weeks`` for ``week``, ``hrs`` for ``hour``, is that unit). Text that
        is no unit as written is read in lower case, whether the measure lists ``accepts``
        or not (``Hours`` is ``hours``)."""
        spec = self.measure(measure)
        if unit is None:
            return 1.0
        normalise_unit(unit)  # a unit that is not text: UnitError, not AttributeError
        if spec.accepts is not None:
            spelling = accepted_spelling(unit, spec.accepts)
            if spelling is None:
                raise UnitError(
                    f"unit {quoted(unit)} is not accepted for measure {measure!r}: expected one of "
                    f"{', '.join(spec.accepts)}{other_kind_note(unit, spec.unit)}"
                    f"{self._hours_as_fte(measure, unit)}{self._unit_advice(measure, unit)}",
                    unit=unit, measure=measure,
                    expected=list(spec.accepts),
                )
            unit = spelling  # the same unit, as the table writes it ('Weeks' is 'week')
        read = as_written_or_lower(unit)  # 'Hours' as 'hours', with accepts or without
        try:
            return conversion_factor(read, spec.unit, measure)
        except UnitError as exc:
            if read == unit:
                raise
            # Said of the unit as given ('Hours' cannot be used...), not as it was read.
            raise UnitError(exc.message.replace(repr(read), repr(unit)),
                            **{**exc.details, "unit": unit}) from None

    def _hours_as_fte(self, measure: str, unit: str) -> str:
        """For time given where full-time equivalents are counted: the table's own FTE-year
        in hours, so that the supplier can convert (never converted here: hours worked over
        a quarter, or by one person, are not an FTE count without knowing the period)."""
        hours = self.parameters_for(measure).get("hours_per_fte_year")
        if (hours is None or dimension_of(unit) != "[time]"
                or dimension_of(self.measure(measure).unit) != "[fte]"):
            return ""
        # The hours as worked, not scaled to a year: a return for half a year read "hours
        # worked over a year" as a call to double its hours (a council officer's review).
        return (f"; this table counts {hours:,g} hours of work as one FTE-year: the hours "
                f"worked / {hours:,g} is the FTE to give, for a return of any period "
                f"({hours / 2:,g} hours worked in half a year is 0.5 FTE)")

    def _unit_advice(self, measure: str, unit: str) -> str:
        """What to write instead of a refused unit, from a site team's words for it
        ('apprentice weeks', 'FTE-years', 'starts', days for weeks): a refusal that named
        only the accepted spellings left the team to guess why 'person-days' or 'FTE-years'
        was wrong (a skills and apprenticeships lead's review). The table's week and year
        are quoted from its parameters, never applied."""
        params = self.parameters_for(measure)
        return refused_unit_advice(unit, self.measure(measure).unit,
                                   tuple(self.measure(measure).accepts or ()),
                                   hours_per_week=params.get("hours_per_week"),
                                   weeks_per_year=params.get("weeks_per_year"))

    # -- compilation ----------------------------------------------------------------------
    def _parents(self) -> dict[str, str | None]:
        return {r.code: r.parent for r in self.spec.regions}

    def _parents_first(self) -> tuple[list[int], list[int]]:
        """Each region's parent position (-1 for a root), and every region position in an
        order where a parent comes before its children: the tree in one pass, O(regions)."""
        parents = self._parents()  # built once: not once per region
        parent_pos: list[int] = []
        for i, code in enumerate(self.region_codes):
            parent = parents[code]
            if parent is not None and parent not in self._region_index:
                raise self._error(f"region {code!r} has unknown parent {parent!r}",
                                  f"regions[{i}].parent")
            parent_pos.append(-1 if parent is None else self._region_index[parent])
        state = [0] * len(parent_pos)  # 0: not seen, 1: on the path being climbed, 2: placed
        order: list[int] = []
        for start in range(len(parent_pos)):
            path: list[int] = []
            cur = start
            while cur >= 0 and state[cur] == 0:
                state[cur] = 1
                path.append(cur)
                cur = parent_pos[cur]
            if cur >= 0 and state[cur] == 1:
                raise self._error(f"region {self.region_codes[cur]!r} is in a parent cycle",
                                  f"regions[{cur}].parent")
            for r in reversed(path):
                state[r] = 2
                order.append(r)
        return parent_pos, order

    def _resolve(self, m: int, spec: MeasureSpec, parent_pos: list[int],
                 order: list[int]) -> np.ndarray:
        """Position of the region that supplies each region's proxy for measure ``m``: the
        region itself, else its nearest ancestor with a value, else the fallback region.
        A parent is resolved before its children, so each region takes its parent's answer."""
        fallback = self._region_index.get(self.spec.fallback_region, -1)
        if self.spec.fallback_region not in spec.proxies:
            fallback = -1
        used = np.empty(len(parent_pos), dtype=np.intp)
        for r in order:
            if self.region_codes[r] in spec.proxies:
                used[r] = r
            elif parent_pos[r] >= 0:
                used[r] = used[parent_pos[r]]
            elif fallback >= 0:
                used[r] = fallback
            else:
                raise self._error(f"measure {spec.code!r} has no proxy for region "
                                  f"{self.region_codes[r]!r} nor any region it falls back to",
                                  f"measures[{m}].proxies")
        return used

    def _compile(self) -> None:
        n_m, n_r = len(self.measure_codes), len(self.region_codes)
        problem = table_cells_problem(n_m, n_r)
        if problem is not None:  # validation refuses it; again here for a spec built otherwise
            raise self._error(f"the table {problem}", "measures")
        value = np.empty((n_m, n_r))
        low = np.empty((n_m, n_r))
        high = np.empty((n_m, n_r))
        used = np.empty((n_m, n_r), dtype=np.intp)
        illustrative = np.zeros((n_m, n_r), dtype=bool)
        parent_pos, order = self._parents_first()
        for m, spec in enumerate(self.measures.values()):
            try:  # checked when the spec is validated; again here for a spec built otherwise
                canonical_unit(spec.unit)
            except Exception as exc:
                reason = exc.message if isinstance(exc, SocialValueError) else str(exc)
                raise self._error(f"measure {spec.code!r}: {reason}",
                                  f"measures[{m}].unit") from exc
            used[m] = self._resolve(m, spec, parent_pos, order)
            # The figures of the regions that have them, gathered by the region that supplies
            # each region's proxy.
            own_value, own_low, own_high = np.zeros(n_r), np.zeros(n_r), np.zeros(n_r)
            own_illustrative = np.zeros(n_r, dtype=bool)
            for region, pv in spec.proxies.items():
                r = self._region_index.get(region)
                if r is None:
                    continue  # not a region of the table: validation refuses it
                own_value[r] = pv.value
                own_low[r] = pv.value if pv.low is None else pv.low
                own_high[r] = pv.value if pv.high is None else pv.high
                own_illustrative[r] = pv.illustrative
            value[m], low[m], high[m] = own_value[used[m]], own_low[used[m]], own_high[used[m]]
            illustrative[m] = own_illustrative[used[m]]
        self.proxy_matrix = sealed(value)
        self.proxy_low = sealed(low)
        self.proxy_high = sealed(high)
        self.region_used = sealed(used)
        #: Whether the proxy used for [measure, region] (after fallback) is illustrative.
        self.illustrative_matrix = sealed(illustrative)
        ms = list(self.measures.values())
        self.sign = sealed(np.array([-1.0 if m.disbenefit else 1.0 for m in ms]))
        self.deadweight = sealed(np.array([m.deadweight for m in ms]))
        self.displacement = sealed(np.array([m.displacement for m in ms]))
        self.attribution = sealed(np.array([m.attribution for m in ms]))
        self.drop_off = sealed(np.array([m.drop_off for m in ms]))
        self.health = sealed(np.array([m.health for m in ms]))
        self.cap_ratio = sealed(np.array([m.cap_ratio or math.nan for m in ms]))
        self.bound_min = sealed(np.array([_bound(m, "min", -math.inf) for m in ms]))
        self.bound_max = sealed(np.array([_bound(m, "max", math.inf) for m in ms]))
        self.grades: Mapping[str, float] = MappingProxyType(
            dict(self.spec.confidence_grades.grades) if self.spec.confidence_grades else {})
        self.expressions: Mapping[str, Expression] = MappingProxyType(self._compile_expressions())

    def expression_names(self, spec: MeasureSpec) -> set[str]:
        """Names an expression of ``spec`` may use."""
        return ({"quantity", "proxy", "proxy_low", "proxy_high"} | set(spec.requires)
                | set(spec.parameters) | set(self.spec.parameters))

    def _compile_expressions(self) -> dict[str, Expression]:
        from socialvalue_tom.rules.expressions import compile_expression

        out: dict[str, Expression] = {}
        for i, spec in enumerate(self.spec.measures):
            self._check_derivations(i, spec, compile_expression)
            if spec.expression is None:
                if spec.parameters:  # read by no expression: a setting with no effect
                    raise self._error(
                        f"{spec.code!r} gives parameters ({', '.join(spec.parameters)}) but no "
                        "expression: a measure's parameters are read by its expression alone, "
                        "so these would change nothing; write the expression, or remove "
                        "them", f"measures[{i}].parameters")
                continue
            field = f"measures[{i}].expression"
            expr = self._compile_field(compile_expression, spec.expression,
                                       self.expression_names(spec), field, spec.code)
            unused = [name for name in spec.parameters if name not in expr.names]
            if unused:  # a misspelt name (leakag) would leave the table's own in force
                raise self._error(
                    f"the expression of {spec.code!r} never reads its parameter(s) "
                    f"{', '.join(map(repr, unused))}: a misspelling? (a measure parameter "
                    "takes the place of the table's of the same name only where the "
                    "expression reads it)", f"measures[{i}].parameters.{unused[0]}")
            if expr.gives_truth:
                raise self._error(f"the expression gives true or false (1 or 0), not an amount "
                                  f"in GBP: {spec.code!r} would be worth £1 or £0 a claim; "
                                  "for an amount under a condition write where(condition, "
                                  "amount, 0)", field)
            self._check_fixed_result(expr, spec.code, field)
            self._check_bounds_given(expr, i, spec)
            out[spec.code] = expr
        return out

    def _check_bounds_given(self, expr: Expression, i: int, spec: MeasureSpec) -> None:
        """An expression that names ``proxy_low`` or ``proxy_high`` (a rate per level, say)
        needs that bound in every proxy of the measure: a proxy without it stands in its
        value, so ``where(level >= 3, proxy_high, proxy_low)`` would give one rate for every
        level without a word (a table-author review)."""
        for name, bound in (("proxy_low", "low"), ("proxy_high", "high")):
            if name not in expr.names:
                continue
            for region, pv in spec.proxies.items():
                if getattr(pv, bound) is None:
                    raise self._error(
                        f"the expression of {spec.code!r} uses {name}, but its proxy for "
                        f"{region!r} gives no {bound}: give {bound} in every proxy of the "
                        f"measure (a proxy without one would stand in its value for "
                        f"{name}), or write the expression without {name}",
                        f"measures[{i}].proxies.{region}")

    def _check_fixed_result(self, expr: Expression, code: str, field: str) -> None:
        """An expression of parameters alone gives the same gross for every claim: one that
        cannot be valued (non-finite or negative) is refused with the table, not at every row."""
        params = self.parameters_for(code)
        if not expr.names <= params.keys():
            return
        got = float(expr.evaluate_scalar(params))
        if not math.isfinite(got) or got < 0:
            what = "is not finite" if not math.isfinite(got) else "is negative"
            raise self._error(f"the expression uses only parameters and gives {got:g} for every "
                              f"claim, which {what}: it gives the size of a benefit or "
                              "disbenefit (the measure's sign says which)", field)

    def _check_derivations(self, i: int, spec: MeasureSpec, compile_expression: Any) -> None:
        """Derivation formulas are data too: they must pass the same safe-expression checks,
        and give the value they derive (to the penny), so a table cannot drift from the figures
        it records."""
        for region, pv in spec.proxies.items():
            d = pv.derivation
            if d is None:
                continue
            read: set[str] = set()  # the inputs some formula reads
            for name, stored in (("formula", pv.value), ("low_formula", pv.low),
                                 ("high_formula", pv.high)):
                text = getattr(d, name)
                field = f"measures[{i}].proxies.{region}.derivation.{name}"
                if text is None:
                    if stored is not None and name != "formula":
                        # A derived value's bounds are figures too: derived, or not given.
                        raise self._error(f"{name.removesuffix('_formula')} {stored} is given "
                                          f"without a {name} to derive it", field)
                    continue
                expr = self._compile_field(compile_expression, text, set(d.inputs), field,
                                           spec.code)
                if not expr.names:
                    raise self._error(f"{name} {text!r} uses none of its inputs: it derives "
                                      "nothing from the published figures", field)
                if expr.gives_truth:  # as for a measure's expression: an amount, not 1 or 0
                    raise self._error(f"{name} {text!r} gives true or false (1 or 0), not "
                                      "an amount: write the arithmetic that derives it", field)
                read |= expr.names
                self._check_derived(expr, dict(d.inputs), stored, field, name)
            unread = [n for n in d.inputs if n not in read]
            if unread:  # a figure recorded but never used: a formula that left it out?
                raise self._error(
                    f"derivation input(s) {', '.join(map(repr, unread))} are read by no "
                    "formula: derive the value from them, or leave them out",
                    f"measures[{i}].proxies.{region}.derivation.inputs.{unread[0]}")

    def _check_derived(self, expr: Expression, inputs: dict[str, float], stored: float | None,
                       field: str, name: str) -> None:
        target = "value" if name == "formula" else name.removesuffix("_formula")
        if stored is None:
            raise self._error(f"{name} is given but the proxy has no {target}", field)
        got = derived_amount(expr, inputs)
        if isinstance(got, float):
            raise self._error(f"{name} gives {got} from its inputs", field)
        if got != Decimal(str(stored)):
            raise self._error(f"{name} gives {got} from its inputs, but the {target} is "
                              f"{stored}: correct the figures or the {target}", field)

    def _compile_field(self, compile_expression: Any, text: str, names: set[str], field: str,
                       code: str) -> Expression:
        """Compile the expression at ``field``; its error names the table file and the field
        (the loader adds the line) besides the expression details."""
        origin = f"{self._where}: field {field} ({code})"
        try:
            expr: Expression = compile_expression(text, allowed_names=names, origin=origin)
        except ProxyTableError as exc:
            message = exc.message.removeprefix(f"{self._where}: ")
            if field.endswith(".expression") and "unknown name" in message:
                # What a table author most often means (a contributor's review).
                message += (": an outcome field the expression reads is listed in the "
                            "measure's requires, a figure of the table's own in its parameters")
            raise self._error(message, field,
                              **{k: v for k, v in exc.details.items()
                                 if k not in ("path", "line", "field")}) from None
        return expr

    def _error(self, message: str, field: str, **details: Any) -> ProxyTableError:
        """An error in this table's content at ``field`` (schema style: ``measures[0].unit``)."""
        if not message.startswith("field "):
            message = f"field {field}{measure_named(field, self.spec.measures, message)}: {message}"
        return ProxyTableError(f"{self._where}: {message}",
                               path=str(self.path) if self.path else None, line=None,
                               field=field, **details)

    def parameters_for(self, code: str) -> dict[str, float]:
        """Table-level then measure-level parameters visible to the measure's expression."""
        params = {k: p.value for k, p in self.spec.parameters.items()}
        params.update(self.measures[code].parameters)
        return params

    def expression_words(self, code: str) -> str:
        """The measure's expression as an error quotes it, with the parameters it uses and
        their values: ``quantity * proxy * (1 - leakage), with leakage = 20`` (a parameter
        written as a percentage is then plain to see)."""
        text = self.measures[code].expression or ""
        expr = self.expressions.get(code)
        params = self.parameters_for(code)
        used = sorted(n for n in (expr.names if expr is not None else ()) if n in params)
        given = ", ".join(f"{n} = {params[n]:g}" for n in used)
        return f"{text}, with {given}" if given else text


def derived_amount(expr: Expression, inputs: Mapping[str, float]) -> Decimal | float:
    """What a derivation formula gives from its inputs, rounded to the penny as stored values
    are; the raw float where it is not finite (NaN or infinity, never a stored value)."""
    from socialvalue_tom.money import to_pounds

    raw = float(expr.evaluate_scalar(dict(inputs)))
    return to_pounds(raw) if math.isfinite(raw) else raw


def _rebuild_table(spec: TableFile, path: Path | None,
                   price_index: PriceIndex | None) -> ProxyTable:
    return ProxyTable(spec, path=path, price_index=price_index)


def _bound(m: MeasureSpec, which: str, default: float) -> float:
    if m.quantity_bounds is None:
        return default
    val = getattr(m.quantity_bounds, which)
    return default if val is None else float(val)


