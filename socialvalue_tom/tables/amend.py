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

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.money import to_pounds
from socialvalue_tom.tables.schema import (
    Code,
    FrozenDict,
    ProxyValue,
    SourceSpec,
    TableFile,
    _Model,
)
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["AMENDMENT_FORMAT", "AmendmentFile", "amend_table", "apply_amendment"]

AMENDMENT_FORMAT = "socialvalue_tom.amendment/v1"
_VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class AmendmentFile(_Model):
    """An amendment file: which edition it amends, its own label, added sources and values."""

    format: Literal["socialvalue_tom.amendment/v1"]
    amends: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*:[A-Za-z0-9][A-Za-z0-9._-]*$")
    digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    version: str = Field(min_length=1, max_length=32, pattern=_VERSION)
    notes: str | None = None
    replace: bool = False
    sources: tuple[SourceSpec, ...] = ()
    proxies: FrozenDict[Code, FrozenDict[Code, ProxyValue]] = Field(min_length=1)


def amend_table(table: ProxyTable, *, version: str,
                proxies: Mapping[str, Mapping[str, ProxyValue | Mapping[str, Any]]],
                sources: Iterable[SourceSpec | Mapping[str, Any]] = (),
                replace: bool = False, notes: str | None = None,
                path: Path | None = None) -> ProxyTable:
    """A new edition: ``table`` with added regional proxy values and the sources they cite.

    ``proxies`` maps measure code -> region (code or name) -> proxy value (a mapping with
    ``value``, ``source`` and ``derivation``, as in a table file). ``sources`` are added to the
    edition's sources; a value may cite either. A value for a (measure, region) the edition
    already has is a correction: it is refused unless ``replace=True``. ``version`` labels the
    new edition and must differ from the edition amended.

    Raises :class:`UnknownMeasureError` / :class:`UnknownRegionError` for codes the edition
    lacks and :class:`ProxyTableError` for anything else malformed, including a derivation that
    does not recompute to its value.

    Examples:
        >>> import socialvalue_tom as sv
        >>> base = sv.load_table("uk-national", version="2023")
        >>> mine = sv.amend_table(base, version="2023-example.1", sources=[{
        ...     "id": "my-source", "title": "A figure I checked", "publisher": "Me",
        ...     "year": 2023, "url": "https://example.org/figure", "licence": "OGL-3.0"}],
        ...     proxies={"jobs-local-fte": {"Scotland": {
        ...         "value": 36400.0, "source": "my-source", "derivation": {
        ...             "inputs": {"median_weekly_pay_ft": 700.0, "weeks_per_year": 52.0},
        ...             "formula": "median_weekly_pay_ft * weeks_per_year"}}}})
        >>> mine.proxy("jobs-local-fte", "scotland").value
        36400.0
        >>> base.proxy("jobs-local-fte", "scotland").region_used
        'uk'
    """
    where = str(path) if path else f"amendment {version} of {table.name}:{table.version}"
    if version == table.version:
        raise ProxyTableError(
            f"{where}: an amendment needs its own version label, not {version!r} (the edition "
            "it amends): results must never be mistaken for the published edition",
            path=str(path) if path else None, line=None, field="version")
    data = table.spec.model_dump(mode="python")
    data["sources"] = [*data["sources"], *(_plain(s, "sources", where, path) for s in sources)]
    by_code = {m["code"]: m for m in data["measures"]}
    added: list[tuple[str, str]] = []
    for code, by_region in _plain(proxies, "proxies", where, path).items():
        table.measure(code)  # UnknownMeasureError, with suggestions
        measure = by_code[code]
        for region_name, pv in _plain(by_region, f"proxies.{code}", where, path).items():
            region = table.region_code(region_name)  # UnknownRegionError
            if region in measure["proxies"] and not replace:
                raise ProxyTableError(
                    f"{where}: {code} already has a value for {region} in "
                    f"{table.name}:{table.version}; set replace to correct it",
                    path=str(path) if path else None, line=None,
                    field=f"proxies.{code}.{region_name}")
            measure["proxies"] = {**measure["proxies"],
                                  region: _plain(pv, f"proxies.{code}.{region_name}", where, path)}
            added.append((code, region))
    data["version"] = version
    data["title"] = f"{table.spec.title} (amended: {version})"
    what = ", ".join(f"{c}/{r}" for c, r in added)
    record = (f"Amendment {version} of {table.name}:{table.version} (digest {table.digest}): "
              f"{'replaces or adds' if replace else 'adds'} {what}.")
    data["notes"] = "\n\n".join(x for x in (table.spec.notes, record, notes) if x)
    spec = _validate(data, where, path)
    for code, region in added:
        _check_derivation(code, region, spec.measures[table.measure_index[code]].proxies[region],
                          where, path)
    return ProxyTable(spec, path=path, price_index=table.price_index)


def apply_amendment(path: Path, amendment: AmendmentFile) -> ProxyTable:
    """The edition an amendment file describes (called by ``load_table(path=...)``)."""
    from socialvalue_tom.tables.catalogue import load_table

    name, version = amendment.amends.split(":", 1)
    base = load_table(name, version=version)
    if amendment.digest is not None and amendment.digest != base.digest:
        raise ProxyTableError(
            f"{path}: amends {amendment.amends} with digest {amendment.digest[:12]}..., but the "
            f"installed edition has digest {base.digest[:12]}...: the edition changed since the "
            "amendment was written; check the amendment against it and update the digest",
            path=str(path), line=None, field="digest")
    return amend_table(base, version=amendment.version, proxies=amendment.proxies,
                       sources=amendment.sources, replace=amendment.replace,
                       notes=amendment.notes, path=path)


def _plain(item: Any, field: str, where: str, path: Path | None) -> dict[str, Any]:
    """A model or mapping as a plain dict; anything else is a typed error naming the field."""
    if isinstance(item, _Model):
        return item.model_dump(mode="python")
    if isinstance(item, Mapping):
        return dict(item)
    raise ProxyTableError(f"{where}: {field} must be a mapping, not {type(item).__name__}",
                          path=str(path) if path else None, line=None, field=field)


def _validate(data: dict[str, Any], where: str, path: Path | None) -> TableFile:
    try:
        return TableFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        if len(loc) > 1 and loc[0] == "measures" and isinstance(loc[1], int):
            loc[1] = data["measures"][loc[1]]["code"]  # name the measure, not its position
        field = ".".join(str(p) for p in loc) or None
        msg = first["msg"].removeprefix("Value error, ")
        raise ProxyTableError(f"{where}: {msg}" + (f" (field {field})" if field else ""),
                              path=str(path) if path else None, line=None, field=field,
                              errors=exc.errors(include_url=False)) from exc


def _check_derivation(code: str, region: str, pv: ProxyValue, where: str,
                      path: Path | None) -> None:
    """An added value must say how it was derived, and the derivation must give that value."""
    from socialvalue_tom.rules.expressions import compile_expression

    field = f"proxies.{code}.{region}.derivation"
    d = pv.derivation
    if d is None:
        raise ProxyTableError(
            f"{where}: {code} in {region} has no derivation: record the raw figure(s) as inputs "
            "and the formula that gives the value (e.g. formula: x, inputs: {x: 123.45})",
            path=str(path) if path else None, line=None, field=field)
    for name, stored in (("formula", pv.value), ("low_formula", pv.low),
                         ("high_formula", pv.high)):
        text = getattr(d, name)
        if text is None:
            continue
        expr = compile_expression(text, allowed_names=set(d.inputs), origin=f"{where}: {field}")
        got = to_pounds(float(expr.evaluate_scalar(dict(d.inputs))))
        if stored is None or got != Decimal(str(stored)):
            raise ProxyTableError(
                f"{where}: {code} in {region}: {name} {text!r} gives {got} from its inputs, but "
                f"the stored value is {stored}", path=str(path) if path else None, line=None,
                field=f"{field}.{name}")
