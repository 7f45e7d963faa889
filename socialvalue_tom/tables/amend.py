"""Local amendments: a published edition plus values a buyer has verified, as a new edition.

The embedded tables fall back to the UK value wherever no open regional figure could be checked
(see ``docs/proxies.md``). A buyer who holds a verified figure, say the Scottish ASHE median,
should not have to copy a whole table file to use it. :func:`amend_table` (or an amendment file,
format ``socialvalue_tom.amendment/v1``, read by ``load_table(path=...)``) adds regional proxy
values and their sources to an edition and returns a new, separately labelled edition:

* it keeps the family, validity, price base, measures and rules of the edition it amends;
* it gets its own ``version`` label and digest, so no valuation made with it can be mistaken for
  one made with the published edition, and its notes name the edition and digest it amends;
* every added value passes the checks a table file does, plus two more: it carries a
  derivation, and that derivation recomputes to the stored value to the penny.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import clipped_errors
from socialvalue_tom.errors import (
    ProxyTableError,
    TableIntegrityError,
    UnknownMeasureError,
    UnknownRegionError,
    UnknownTableError,
)
from socialvalue_tom.tables.schema import (
    PUBLISHER_LABEL,
    Code,
    FieldCheckError,
    Flag,
    MeasureSpec,
    ProxyValue,
    SourceSpec,
    TableDict,
    TableFile,
    _Model,
    misthemed_prefix,
    value_region,
)
from socialvalue_tom.tables.table import ProxyTable, derived_amount

__all__ = ["AMENDMENT_FORMAT", "AmendmentFile", "amend_table", "amended_base",
           "apply_amendment"]

AMENDMENT_FORMAT = "socialvalue_tom.amendment/v1"
_VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


# The schema says what AmendmentFile._adds_something checks: some proxies, or some measures.
_ADDS_SOMETHING: dict[str, Any] = {"anyOf": [
    {"required": ["proxies"], "properties": {"proxies": {"minProperties": 1}}},
    {"required": ["measures"], "properties": {"measures": {"minItems": 1}}}]}


class AmendmentFile(_Model, frozen=True, json_schema_extra=_ADDS_SOMETHING):
    """An amendment file: which edition it amends, its own label, added sources, regional values
    for the edition's measures and whole new (local) measures."""

    format: Literal["socialvalue_tom.amendment/v1"]
    amends: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9._-]*$")
    digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # The schema says what _check_arguments checks: not a published edition's form.
    version: str = Field(min_length=1, max_length=32, pattern=_VERSION, json_schema_extra={
        "not": {"pattern": f"^{PUBLISHER_LABEL}$"}})
    notes: str | None = None
    replace: Flag = False
    sources: tuple[SourceSpec, ...] = ()
    proxies: TableDict[Code, TableDict[Code, ProxyValue]] = Field(default_factory=dict,
                                                                  validate_default=True)
    measures: tuple[MeasureSpec, ...] = ()

    @model_validator(mode="after")
    def _adds_something(self) -> AmendmentFile:
        if not self.proxies and not self.measures:
            raise ValueError("an amendment adds proxies, measures or both: it has neither")
        return self


T = TypeVar("T")


class _Context:
    """Where an amendment comes from, for error messages (a file, or a call)."""

    def __init__(self, table: ProxyTable, version: object, path: Path | None) -> None:
        self.path = path
        self.where = str(path) if path else f"amendment {version} of {table.name}:{table.version}"

    def found(self, look_up: Callable[[str], T], key: str, field: str) -> T:
        """``look_up(key)``; its unknown-measure or unknown-region error names the amendment
        file and the field at fault, as the amendment's other errors do."""
        try:
            return look_up(key)
        except (UnknownMeasureError, UnknownRegionError) as exc:
            if self.path is None:
                raise
            raise type(exc)(f"{self.where}: field {field}: {exc.message}",
                            **{**exc.details, "path": str(self.path), "field": field}) from None

    def error(self, message: str, field: str | None, **details: Any) -> ProxyTableError:
        return ProxyTableError(f"{self.where}: {message}",
                               path=str(self.path) if self.path else None, line=None, field=field,
                               **details)


@own_decimal_context
def amend_table(table: ProxyTable, *, version: str,
                proxies: Mapping[str, Mapping[str, ProxyValue | Mapping[str, Any]]] | None = None,
                measures: Iterable[MeasureSpec | Mapping[str, Any]] = (),
                sources: Iterable[SourceSpec | Mapping[str, Any]] = (),
                replace: bool = False, notes: str | None = None) -> ProxyTable:
    """A new edition: ``table`` with added regional values, local measures and their sources.

    ``proxies`` maps measure code -> region (code or name) -> proxy value (a mapping with
    ``value``, ``source`` and ``derivation``, as in a table file). ``measures`` are whole new
    measures (as in a table file, custom expressions included) with codes the edition does not
    use: a local measure set on top of the national one. ``sources`` are added to the edition's
    sources; a value may cite either. A value for a (measure, region) the edition already has is
    a correction: it is refused unless ``replace=True``. ``version`` labels the new edition: it
    may not be the label of the edition amended or of any embedded edition of the family.

    Raises :class:`UnknownMeasureError` / :class:`UnknownRegionError` for codes the edition
    lacks and :class:`ProxyTableError` for anything else malformed, including a derivation that
    does not recompute to its value.

    Examples:
        >>> import socialvalue_tom as sv
        >>> base = sv.load_table("uk-national", version="2023")
        >>> mine = sv.amend_table(base, version="2023-example.1", sources=[{
        ...     "id": "my-source", "title": "A figure I checked", "publisher": "Me",
        ...     "year": 2023, "url": "https://example.org/figure", "licence": "OGL-3.0"}],
        ...     proxies={"jobs-local-fte": {"England": {
        ...         "value": 36400.0, "source": "my-source", "derivation": {
        ...             "inputs": {"median_weekly_pay_ft": 700.0, "weeks_per_year": 52.0},
        ...             "formula": "median_weekly_pay_ft * weeks_per_year"}}}})
        >>> mine.proxy("jobs-local-fte", "england").value
        36400.0
        >>> base.proxy("jobs-local-fte", "england").region_used
        'uk'
    """
    return _amend(table, version=version, proxies={} if proxies is None else proxies,
                  measures=measures, sources=sources, replace=replace, notes=notes, path=None)


def amended_base(path: Path, amendment: AmendmentFile) -> ProxyTable:
    """The embedded edition an amendment file amends, checked against its digest pin."""
    from socialvalue_tom.tables.catalogue import _digest_pin, load_table

    name, version = amendment.amends.split(":", 1)
    try:
        # The pin loads the edition the amendment was written against, a superseded one too
        # (a table author's review: an amendment of 2025, pinned, could no longer be loaded
        # or verified once 2025.1 corrected it).
        base = load_table(name, version=version, digest=amendment.digest)
    except TableIntegrityError as exc:
        if (amendment.digest is None or exc.details.get("field") != "digest"
                or exc.details.get("expected") != _digest_pin(amendment.digest)):
            raise  # not the pin: the edition itself fails its check (a file edited in place)
        pinned, installed = str(amendment.digest), str(exc.details.get("actual") or "")
        raise ProxyTableError(
            f"{path}: amends {amendment.amends} with digest {pinned[:12]}..., but the "
            f"installed edition has digest {installed[:12]}...: the edition changed since the "
            "amendment was written; check the amendment against it and update the digest",
            path=str(path), line=None, field="digest") from None
    except UnknownTableError as exc:
        superseded = "superseded by a correction" in exc.message
        # An amendment file amends an embedded edition; a table of one's own is amended in
        # Python (sv.amend_table) or by a new version of one's own file.
        raise UnknownTableError(
            f"{path}: amends {amendment.amends}: {exc.message}"
            + ("; give the amendment's digest: the one of the edition it was written against"
               if superseded else
               "; an amendment file amends an embedded edition only: to amend a table of your "
               "own, pass it to sv.amend_table(table, ...) in Python, or issue a new version "
               "of your file"), **exc.details) from None
    return base


def apply_amendment(path: Path, amendment: AmendmentFile) -> ProxyTable:
    """The edition an amendment file describes (called by ``load_table(path=...)``)."""
    return _amend(amended_base(path, amendment), version=amendment.version,
                  proxies=amendment.proxies, measures=amendment.measures,
                  sources=amendment.sources, replace=amendment.replace, notes=amendment.notes,
                  path=path)


def _amend(table: ProxyTable, *, version: str, proxies: Any, measures: Any, sources: Any,
           replace: bool, notes: str | None, path: Path | None) -> ProxyTable:
    if not isinstance(table, ProxyTable):
        raise ProxyTableError(f"amend_table() amends a ProxyTable (from load_table), not "
                              f"{type(table).__name__}", path=None, line=None, field="table")
    ctx = _Context(table, version, path)
    _check_arguments(ctx, table, version, sources, replace, notes)
    _check_list(ctx, measures, "measures")
    data = table.spec.model_dump(mode="python")
    added_sources = [_plain(s, "sources", ctx) for s in sources]
    data["sources"] = [*data["sources"], *added_sources]
    by_code = {m["code"]: m for m in data["measures"]}
    changes: list[tuple[str, str, float | None]] = []  # (measure, region, published value)
    fields: dict[tuple[str, str], str] = {}  # where each change is written, for its errors
    for code, by_region in _plain(proxies, "proxies", ctx).items():
        ctx.found(table.measure, code, f"proxies.{code}")  # with suggestions
        measure = by_code[code]
        published = dict(measure["proxies"])
        seen: set[str] = set()
        for region_name, pv in _plain(by_region, f"proxies.{code}", ctx).items():
            field = f"proxies.{code}.{region_name}"
            region = ctx.found(table.region_code, region_name, field)
            if region in seen:
                raise ctx.error(f"{code} is given twice for {region}", field)
            seen.add(region)
            if region in published and not replace:
                raise ctx.error(
                    f"{code} already has a value for {region} in {table.name}:{table.version} "
                    f"(GBP {published[region]['value']}); set replace to correct it", field)
            old = published[region]["value"] if region in published else None
            measure["proxies"] = {**measure["proxies"], region: _plain(pv, field, ctx)}
            changes.append((code, region, old))
            fields[code, region] = field
        _drop_outdated_region_notes(measure, {r.code: r.parent for r in table.spec.regions},
                                    given=seen)
    new_measures = [_plain(m, "measures", ctx) for m in measures]
    published_codes = set(by_code)
    for i, m in enumerate(new_measures):
        if "code" not in m:
            raise ctx.error(f"local measure {i} has no code", f"measures.{i}.code")
        # Codes and region keys as validation reads them (stripped), so the checks below find
        # them in the validated edition.
        new_code = str(m.get("code")).strip()
        if new_code in published_codes:
            raise ctx.error(f"measure {new_code!r} is already in {table.name}:{table.version}: "
                            "give its regional values under proxies instead", "measures")
        if new_code in by_code:
            raise ctx.error(f"local measure {new_code!r} is given twice in this amendment",
                            f"measures.{i}.code")
        by_code[new_code] = m
        proxies = m.get("proxies")
        if proxies is None:  # left to the validation, which names the missing field
            proxies = {}
        elif isinstance(proxies, Mapping):
            proxies = m["proxies"] = dict(proxies)
        else:
            raise ctx.error(f"measure {new_code!r}: proxies must be a mapping of region to "
                            f"value, not {type(proxies).__name__}", f"measures.{new_code}.proxies")
        changes.extend((new_code, str(region).strip(), None) for region in proxies)
        fields.update({(new_code, str(region).strip()): f"measures[{i}].proxies.{region}"
                       for region in proxies})
    data["measures"] = [*data["measures"], *new_measures]
    if not changes:
        raise ctx.error("adds no value: give at least one measure and region", "proxies")
    data["version"] = version
    data["title"] = f"{table.spec.title} (amended: {version})"
    record = _record(table, version, changes,
                     [str(m.get("code")).strip() for m in new_measures])
    # The header says whether the edition holds illustrative values: it follows the values.
    illustrative = _any_illustrative(data["measures"])
    if illustrative != table.spec.illustrative:
        data["illustrative"] = illustrative
        record += ("; it adds illustrative values: the edition is illustrative" if illustrative
                   else "; every illustrative value of the base is replaced: none is left")
    data["notes"] = "\n\n".join(x for x in (table.spec.notes, record, notes) if x)
    spec = _validate(data, ctx, n_published_sources=len(table.spec.sources),
                     n_published_measures=len(table.spec.measures))
    _check_theme_prefixes(spec, len(table.spec.measures), ctx)
    position = {m.code: i for i, m in enumerate(spec.measures)}
    for code, region, _old in changes:
        _check_derivation(code, region, spec.measures[position[code]].proxies[region], ctx,
                          fields[code, region])
    try:
        return ProxyTable(spec, path=path, price_index=table.price_index)
    except ProxyTableError as exc:
        raise _as_in_amendment(exc, len(table.spec.measures)) from None


def _drop_outdated_region_notes(measure: dict[str, Any], parents: Mapping[str, str | None],
                                given: set[str]) -> None:
    """Leave out of the published values' ``applies_in`` and ``stands_in_for`` the regions
    the amendment gave a value of their own, or whose fallback now reaches another value: the
    published note on a stand-in for Wales says nothing of the Welsh figure that replaces it.
    The values the amendment gives (``given``) keep their notes, checked as a table's are."""
    proxies = measure["proxies"]
    for code, pv in list(proxies.items()):
        if code in given or not isinstance(pv, Mapping):
            continue  # the amendment's own: checked by the validation
        kept = dict(pv)
        for notes in ("applies_in", "stands_in_for"):
            if isinstance(pv.get(notes), Mapping):
                still = {r: why for r, why in pv[notes].items()
                         if value_region(r, proxies, parents) == code}
                kept[notes] = still or None
        proxies[code] = kept


def _any_illustrative(measures: list[dict[str, Any]]) -> bool:
    """Whether a value of the measures (as plain data) is labelled illustrative."""
    return any(isinstance(pv, Mapping) and pv.get("illustrative") is True
               for m in measures if isinstance(m.get("proxies"), Mapping)
               for pv in m["proxies"].values())


def _check_theme_prefixes(spec: TableFile, n_published: int, ctx: _Context) -> None:
    """An added measure's code may be the buyer's own (``local-...``), never another theme's."""
    for i, m in enumerate(spec.measures[n_published:]):
        problem = misthemed_prefix(m.code, m.theme)
        if problem is not None:
            raise ctx.error(problem, f"measures[{i}].code")


def _as_in_amendment(exc: ProxyTableError, n_published: int) -> ProxyTableError:
    """``exc`` about an added measure (an expression that does not compile, say), with the
    measure numbered as the amendment lists it (``measures[0]``), not as the merged edition
    does (``measures[41]``): the field, and so the line found for it, are the amendment's."""
    found = re.fullmatch(r"measures\[(\d+)\](.*)", exc.field or "", flags=re.S)
    if found is None or int(found[1]) < n_published:
        return exc
    merged, own = f"measures[{found[1]}]", f"measures[{int(found[1]) - n_published}]"
    return type(exc)(exc.message.replace(merged, own),
                     **{**exc.details, "field": own + found[2]})


def _check_arguments(ctx: _Context, table: ProxyTable, version: object, sources: object,
                     replace: object, notes: object) -> None:
    if not isinstance(version, str) or not re.fullmatch(_VERSION, version) or len(version) > 32:
        raise ctx.error(f"version label {version!r} must be 1-32 letters, digits, '.', '_' or "
                        "'-', starting with a letter or digit", "version")
    if re.fullmatch(PUBLISHER_LABEL, version):
        # 2025 and 2025.1 are how the publisher labels editions and their corrections: a local
        # amendment so labelled would read, in every result, as an official correction.
        raise ctx.error(
            f"an amendment's version label may not have the form of a published edition or "
            f"correction ({version!r}, digits alone, as in 2025 or 2025.1): add a name of your "
            f"own, e.g. "
            f"{table.version}-local.1", "version")
    taken = {table.version, *_embedded_versions(table.name)}
    if version in taken:
        raise ctx.error(
            f"an amendment needs a version label of its own, not {version!r} (already the label "
            f"of an edition of {table.name}: {', '.join(sorted(taken))}): its results must never "
            "be mistaken for a published edition's", "version")
    if not isinstance(replace, bool):
        raise ctx.error(f"replace must be true or false, not {replace!r}", "replace")
    if notes is not None and not isinstance(notes, str):
        raise ctx.error(f"notes must be text, not {type(notes).__name__}", "notes")
    _check_list(ctx, sources, "sources")


def _check_list(ctx: _Context, items: object, field: str) -> None:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise ctx.error(f"{field} must be a list, not {type(items).__name__}", field)


def _embedded_versions(family: str) -> set[str]:
    """Labels of the embedded editions of ``family`` (none for a user's own family)."""
    from socialvalue_tom.tables.catalogue import _family_editions

    try:
        return {t.version for t in _family_editions(family)}
    except UnknownTableError:
        return set()


def _record(table: ProxyTable, version: str, changes: list[tuple[str, str, float | None]],
            new_codes: list[str]) -> str:
    """The note an amended edition carries: what it amends, adds and replaces."""
    added = [f"{c}/{r}" for c, r, old in changes if old is None and c not in new_codes]
    replaced = [f"{c}/{r} (was GBP {old})" for c, r, old in changes if old is not None]
    parts = [f"Amendment {version} of {table.name}:{table.version} (digest {table.digest})"]
    if new_codes:
        parts.append(f"adds measure(s) {', '.join(new_codes)}")
    if added:
        parts.append(f"adds {', '.join(added)}")
    if replaced:
        parts.append(f"replaces {', '.join(replaced)}")
    return "; ".join(parts) + "."


def _plain(item: Any, field: str, ctx: _Context) -> dict[str, Any]:
    """A model or mapping as a plain dict; anything else is a typed error naming the field."""
    if isinstance(item, _Model):
        return item.model_dump(mode="python")
    if isinstance(item, Mapping):
        return dict(item)
    raise ctx.error(f"{field} must be a mapping, not {type(item).__name__}", field)


def _validate(data: dict[str, Any], ctx: _Context, n_published_sources: int,
              n_published_measures: int) -> TableFile:
    try:
        return TableFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: list[Any] = list(first["loc"])
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, FieldCheckError):  # a check that knows the field at fault
            loc += cause.loc
        # Name what the caller wrote: the measure by its code, an added source by its position
        # among the added sources (the published ones come first in the merged list).
        if (len(loc) > 2 and loc[0] == "measures" and isinstance(loc[1], int)
                and loc[1] < n_published_measures and loc[2] == "proxies"):
            # A value given for a published measure is written under proxies.<code>.
            loc = ["proxies", data["measures"][loc[1]].get("code", loc[1]), *loc[3:]]
        elif len(loc) > 1 and loc[0] == "measures" and isinstance(loc[1], int):
            loc[1] = data["measures"][loc[1]].get("code", loc[1])
        elif len(loc) > 1 and loc[0] == "sources" and isinstance(loc[1], int):
            loc[1] -= n_published_sources
        field = ".".join(str(p) for p in loc) or None
        msg = first["msg"].removeprefix("Value error, ")
        raise ctx.error(msg + (f" (field {field})" if field else ""), field,
                        errors=clipped_errors(exc.errors(include_url=False))) from exc


def _check_derivation(code: str, region: str, pv: ProxyValue, ctx: _Context,
                      where: str) -> None:
    """An added value must say how it was derived, and the derivation must give that value.
    ``where``: the value's field in the amendment (``proxies.<code>.<region>`` as written, or
    ``measures[i].proxies.<region>`` for a local measure), so errors name its line."""
    from socialvalue_tom.rules.expressions import compile_expression

    field = f"{where}.derivation"
    d = pv.derivation
    if d is None:
        raise ctx.error(
            f"{code} in {region} has no derivation: record the raw figure(s) as inputs and the "
            "formula that gives the value (e.g. formula: x, inputs: {x: 123.45})", field)
    for name, stored in (("formula", pv.value), ("low_formula", pv.low),
                         ("high_formula", pv.high)):
        text = getattr(d, name)
        if text is None:
            if stored is not None and name != "formula":
                raise ctx.error(f"{code} in {region} gives {name.removesuffix('_formula')} "
                                f"{stored} without a {name} to derive it", f"{field}.{name}")
            continue
        try:
            expr = compile_expression(text, allowed_names=set(d.inputs),
                                      origin=f"{code} in {region}: {name}")
        except ProxyTableError as exc:  # named by its field, as every amendment error is
            raise ctx.error(exc.message, f"{field}.{name}",
                            **{k: v for k, v in exc.details.items()
                               if k not in ("path", "line", "field")}) from None
        if not expr.names:
            raise ctx.error(f"{code} in {region}: {name} {text!r} uses none of its inputs",
                            f"{field}.{name}")
        got = derived_amount(expr, d.inputs)
        if isinstance(got, float):
            raise ctx.error(f"{code} in {region}: {name} {text!r} gives {got} from its inputs",
                            f"{field}.{name}")
        if stored is None or got != Decimal(str(stored)):
            raise ctx.error(f"{code} in {region}: {name} {text!r} gives {got} from its inputs, "
                            f"but the stored value is {stored}", f"{field}.{name}")
