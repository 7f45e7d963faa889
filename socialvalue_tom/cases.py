"""Expected valuations kept as data: a table author's regression tests.

A case file (YAML or JSON) lists outcomes and what each must be valued at, in pounds to the
penny, or the error it must raise, in the manner of OpenFisca's YAML tests::

    format: socialvalue_tom.cases/v1
    tables: uk-national            # as --tables names them (a file: beside this one)
    cases:
      - name: two local jobs in London, 2024/25
        outcome: {measure: jobs-local-fte, quantity: 2, unit: FTE, region: london,
                  date: 2024-09-01}
        expect: {value_gbp: "70668.00", version: "2024", region_used: london}
      - name: hours are no FTE
        outcome: {measure: jobs-local-fte, quantity: 2, unit: hour, region: uk,
                  date: 2024-09-01}
        expect: {error: unit-error}

:func:`run_cases` values each outcome with the scalar engine and, as one row, with
:func:`~socialvalue_tom.value_frame`, and a case passes only when both give the pennies
expected (and any edition, region used, or trace text the case names). ``socialvalue-tom
tables test FILE`` runs them from the shell. The file's problems are a
:class:`~socialvalue_tom.ProxyTableError` naming its line and field, as for a table file.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, JsonValue, WithJsonSchema, field_validator, model_validator

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._jsonschema import NeverLooserSchema
from socialvalue_tom._text import did_you_mean
from socialvalue_tom.engine import table_set, value
from socialvalue_tom.errors import (
    ROW_ISSUE_CODES,
    OutcomeError,
    RuleError,
    SocialValueError,
    UnknownRegionError,
    illustrative_collected,
)
from socialvalue_tom.frame import value_frame
from socialvalue_tom.money import to_pounds
from socialvalue_tom.outcome import MAX_AMOUNT, Assumptions, Outcome
from socialvalue_tom.tables._loader import error_at, read_model, read_text
from socialvalue_tom.tables.catalogue import TableSet, with_files_in_place
from socialvalue_tom.tables.schema import FieldCheckError, normalise_region
from socialvalue_tom.tables.table import ProxyTable

__all__ = ["CASES_FORMAT", "CaseFile", "CaseResult", "run_cases"]

CASES_FORMAT = "socialvalue_tom.cases/v1"
#: Past what one outcome may be valued at (``MAX_AMOUNT``), no case can pass.
_MONEY_LIMIT = Decimal(repr(MAX_AMOUNT))


def _every_subclass(cls: type) -> list[type]:
    found: list[type] = []
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found += [sub, *_every_subclass(sub)]
    return found


#: The codes an expected error may name: the row issues' and the error classes'.
_KNOWN_CODES = ROW_ISSUE_CODES | frozenset(
    str(getattr(c, "code", "")) for c in (SocialValueError, *_every_subclass(SocialValueError)))
#: Codes of error classes that stand for many problems: a case names the one meant.
_BROAD_CODES = frozenset({"outcome-error", "rule-error", "social-value-error",
                          "bulk-validation-error", "proxy-table-error"})


#: ``value_gbp`` as a case file writes it: pounds within what one outcome may be valued at,
#: as a number or as text with at most two decimals (the pennies of a number are the
#: model's check alone: ``multipleOf: 0.01`` fails ``0.07`` in binary floating point).
_POUNDS_SCHEMA: dict[str, Any] = {"anyOf": [
    {"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT},
    {"type": "string", "pattern": r"^[+-]?(\d{1,12}(\.\d{1,2})?|1000000000000(\.0{1,2})?)$"},
    {"type": "null"}]}


class _FreshSchema(WithJsonSchema):
    """``WithJsonSchema`` giving a copy each time: the schema generator tightens what it
    is given in place, and the shared dict would be tightened twice."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        return copy.deepcopy(super().__get_pydantic_json_schema__(core_schema, handler))


class _Model(NeverLooserSchema, extra="forbid", frozen=True, str_strip_whitespace=True):
    """The case file's models: their JSON Schema (``sv.json_schema("cases")``) never looser
    than their field checks, as the table formats'."""


class Expectation(_Model):
    """What a case must give: pounds to the penny (as text, ``"70668.00"``, or a number with
    at most two decimals), or the code of the error it must raise."""

    value_gbp: Annotated[Decimal | None, _FreshSchema(_POUNDS_SCHEMA)] = Field(
        default=None, allow_inf_nan=False)
    version: str | None = None
    region_used: str | None = None
    trace_contains: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    error: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_outcome(self) -> Expectation:
        if (self.value_gbp is None) == (self.error is None):
            raise ValueError("expect gives value_gbp (pounds to the penny) or error (the "
                             "code it must raise), one of the two")
        if self.value_gbp is not None:
            if abs(self.value_gbp) > _MONEY_LIMIT:
                raise ValueError(f"value_gbp {self.value_gbp} is beyond what a valuation can "
                                 f"give (GBP {_MONEY_LIMIT:,.0f} at most)")
            if self.value_gbp != self.value_gbp.quantize(Decimal("0.01")):
                raise ValueError(f"value_gbp {self.value_gbp} has fractions of a penny: a "
                                 "total is reported to the penny")
        if self.error is not None and self.error not in _KNOWN_CODES:
            raise FieldCheckError(
                f"error {self.error!r} is no error code"
                f"{did_you_mean(self.error, sorted(_KNOWN_CODES - _BROAD_CODES))} "
                "(docs/errors.md: a row-issue code such as unit-error, negative, bad-date)",
                "error")
        if self.error in _BROAD_CODES:
            raise ValueError(f"error {self.error!r} is the code of many problems, so a case "
                             "expecting it would pass on any of them: give the row-issue code "
                             "of the one meant (negative, bad-date, out-of-range, too-large, "
                             "negative-gross... docs/errors.md#row-issue-codes)")
        if self.error is not None and (self.version or self.region_used or
                                       self.trace_contains):
            raise ValueError("a case expecting an error has no edition, region or trace")
        return self


#: Short names an outcome's fields are often given in a return (did-you-mean misses them).
_SHORT_NAMES = {"qty": "; did you mean quantity?", "amount": "; did you mean quantity?",
                "value": "; did you mean quantity?", "units": "; did you mean unit?",
                "day": "; did you mean date?", "grade": "; did you mean confidence?"}


class Case(_Model):
    name: str = Field(min_length=1)
    # The schema names the fields an outcome has, as _outcome_keys checks.
    outcome: dict[str, Any] = Field(json_schema_extra={
        "propertyNames": {"enum": list[JsonValue](sorted(Outcome.model_fields))}})
    assumptions: dict[str, Any] | None = None
    expect: Expectation

    @field_validator("outcome")
    @classmethod
    def _outcome_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        # Checked as the file is read, naming the line (a case's other checks run with it):
        # 'qty' for quantity failed only when run, as the code 'missing', which a case
        # expecting that error would have passed on (a table author's review).
        known = set(Outcome.model_fields)
        for name in v:
            if name not in known:
                hint = (did_you_mean(name, sorted(known)) or _SHORT_NAMES.get(str(name), "")
                        or Outcome._extra_hint(str(name)))
                raise FieldCheckError(f"outcome has no field {name!r}{hint}", name)
        return v


class CaseFile(_Model):
    """A case file: outcomes kept with what each must be valued at (or the error it must
    raise), for :func:`run_cases` and ``socialvalue-tom tables test``."""

    format: Literal["socialvalue_tom.cases/v1"]
    tables: str | tuple[Annotated[str, Field(min_length=1)], ...] = "uk-national"
    assumptions: dict[str, Any] | None = None
    cases: tuple[Case, ...]

    @model_validator(mode="after")
    def _some_cases(self) -> CaseFile:
        # Here, not as the field's min_length: a case refused for its own fields would
        # otherwise also be counted as "no case at all".
        if not self.cases:
            raise ValueError("cases lists no case")
        names = [c.name for c in self.cases]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # a failure is reported by its case's name: each must name one case
            raise ValueError(f"case name(s) given twice: {', '.join(map(repr, twice))}")
        if not self.tables:
            raise ValueError("tables names no table")
        return self


@dataclass(frozen=True)
class CaseResult:
    """One case of a case file: whether it passed and, if not, what was found instead."""

    name: str
    passed: bool
    #: What was expected and what came, in words (``"£70,668.00"``, ``"unit-error"``).
    expected: str
    got: str
    #: Why the case failed, or ``""``.
    reason: str = ""


@own_decimal_context
def run_cases(path: str | os.PathLike[str]) -> list[CaseResult]:
    """Run the cases of a case file; one :class:`CaseResult` each, in the file's order.

    A case file (YAML or JSON, docs/proxies.md "Case files") has ``format:
    socialvalue_tom.cases/v1``, ``tables`` (as ``--tables`` names them: families,
    ``NAME:VERSION``, table or amendment files beside it, each with an optional ``@DIGEST``;
    by default ``uk-national``), optional ``assumptions`` for every case, and
    ``cases``: each a ``name``, an ``outcome`` (the fields of :class:`Outcome`), optional
    ``assumptions`` of its own and ``expect``: ``value_gbp`` (pounds to the penny) with any of
    ``version``, ``region_used`` and ``trace_contains`` (texts the trace must hold), or
    ``error`` (the error's code, ``unit-error``, or its row-issue code, ``negative``; not a
    code many problems share, such as ``outcome-error``). A case passes when the scalar
    engine and ``value_frame``, valuing the outcome as one row, both give what it expects.

    Raises :class:`~socialvalue_tom.ProxyTableError` for a file that is not a case file
    (naming its line and field: settings ``Assumptions`` refuses included) or a table file
    it names that does not load (:class:`~socialvalue_tom.TableIntegrityError` for a
    digest pinned that differs), and :class:`~socialvalue_tom.UnknownTableError` for a
    table name no edition has.

    >>> import socialvalue_tom as sv
    >>> results = sv.run_cases(sv.example_path("cases.yaml"))
    >>> len(results), all(r.passed for r in results)
    (9, True)
    >>> results[0].got
    '£70,668.00'
    """
    p = Path(path)
    text = read_text(p)
    spec = read_model(p, CaseFile, text)
    tables = _tables(spec.tables, p, text)
    settings = [_assumptions(p, text, spec, i) for i in range(len(spec.cases))]
    # A case pins a figure, illustrative or not: its warnings are collected and dropped, in
    # this context only (warnings.catch_warnings would change the filters of every thread).
    with illustrative_collected():
        return [_run(case, tables, a) for case, a in zip(spec.cases, settings, strict=True)]


def _assumptions(path: Path, text: str, spec: CaseFile, i: int) -> Assumptions:
    """Case ``i``'s assumptions (the file's, then its own), refused at the field that holds a
    bad one: a misspelt setting would otherwise fail every case with the same error."""
    case = spec.cases[i]
    try:
        Assumptions(**(spec.assumptions or {}))
    except SocialValueError as exc:
        raise error_at(path, text, "assumptions", exc.message) from None
    try:
        return Assumptions(**{**(spec.assumptions or {}), **(case.assumptions or {})})
    except SocialValueError as exc:
        raise error_at(path, text, f"cases[{i}].assumptions", exc.message) from None


def _tables(given: str | tuple[str, ...], path: Path, text: str) -> TableSet:
    """The tables a case file names, as ``--tables`` names them: families, ``NAME:VERSION``,
    table or amendment files (relative to the case file), each with an optional ``@DIGEST``,
    one or several (a list, or separated by commas). A file's edition takes the place of a
    family's edition of the same dates (an amendment beside its family)."""
    from socialvalue_tom.tables.catalogue import load_table

    listed = given.split(",") if isinstance(given, str) else list(given)
    entries = [e.strip() for e in listed if e.strip()]
    if not entries:
        raise error_at(path, text, "tables", "tables names no table")
    editions: list[ProxyTable] = []
    families: list[ProxyTable] = []
    for entry in entries:
        head, at, pin = entry.rpartition("@")
        pin = re.sub(r"(?i)^sha256:", "", pin)  # as tables validate prints a digest
        digest = pin if at and re.fullmatch(r"[0-9a-fA-F]{12,64}", pin) else None
        spec = head if digest else entry
        if spec.lower().endswith((".yaml", ".yml", ".json")):
            editions.append(load_table(path=path.parent / spec, digest=digest))
            continue
        name, colon, version = spec.partition(":")
        if colon:
            editions.append(load_table(name, version=version, digest=digest))
        elif digest:
            raise error_at(path, text, "tables", f"{entry!r}: a digest pins one edition: "
                           f"give NAME:VERSION@DIGEST or FILE@DIGEST")
        else:
            families.extend(table_set(name).editions)
    try:  # the command line's rule for --tables (one routine)
        return TableSet(with_files_in_place(families, editions))
    except RuleError as exc:
        raise error_at(path, text, "tables", exc.message) from None


def _run(case: Case, tables: TableSet, assumptions: Assumptions) -> CaseResult:
    expect = case.expect
    wanted = (f"£{expect.value_gbp:,.2f}" if expect.value_gbp is not None
              else str(expect.error))
    try:
        outcome = Outcome(**case.outcome)
        v = value(outcome, tables, assumptions=assumptions)
    except SocialValueError as exc:
        got = getattr(exc, "issue", None) or exc.code
        if expect.error is None or expect.error not in {exc.code, got}:
            return CaseResult(case.name, False, wanted, str(got), exc.message)
        bulk = _bulk_codes(case, tables, assumptions)
        if expect.error not in bulk:
            return CaseResult(case.name, False, wanted, str(got),
                              f"value_frame gives {', '.join(sorted(bulk)) or 'no issue'}")
        return CaseResult(case.name, True, wanted, expect.error)
    got = f"£{to_pounds(v.amount):,.2f}"
    if expect.error is not None:
        return CaseResult(case.name, False, wanted, got, "valued, where an error was expected")
    problems = []
    if to_pounds(v.amount) != expect.value_gbp:
        problems.append(f"valued at {got}")
    if expect.version is not None and v.version != expect.version:
        problems.append(f"edition {v.version}, not {expect.version}")
    # A region as the outcome names one: its code, name or GSS code, in any case ("London",
    # "Northern Ireland", "E12000007"), read as the outcome's region is read.
    if expect.region_used is not None:
        edition = next((t for t in tables.editions if t.version == v.version), None)
        try:
            said = (edition.region_code(expect.region_used) if edition is not None
                    else normalise_region(expect.region_used))
        except UnknownRegionError:
            said = None
        if said != v.region_used:
            problems.append(f"region used {v.region_used}, not {expect.region_used}")
    trace = v.explain()
    problems += [f"the trace does not say {text!r}" for text in expect.trace_contains
                 if text not in trace]
    bulk = _bulk_amount(case, tables, assumptions)
    if bulk != v.amount:  # the same float, as the two engines promise
        problems.append(f"value_frame gives {bulk!r}, the scalar engine {v.amount!r}")
    return CaseResult(case.name, not problems, wanted, got, "; ".join(problems))


def _row(case: Case) -> pd.DataFrame:
    """The case's outcome as one row of a frame, as a file of returns would give it: its
    fields as columns, and a unit column even where none is given (the canonical unit)."""
    row: dict[str, Any] = {"unit": None, **case.outcome}
    fields = row.pop("fields", None)
    if isinstance(fields, Mapping):
        row.update(fields)
    return pd.DataFrame([row])


def _bulk_amount(case: Case, tables: TableSet, assumptions: Assumptions) -> Any:
    """The case valued by ``value_frame``: its amount, or why it was refused."""
    try:
        out = value_frame(_row(case), tables, assumptions=assumptions)
    except OutcomeError as exc:
        return exc.message
    return float(out["value_gbp"].iloc[0])


def _bulk_codes(case: Case, tables: TableSet, assumptions: Assumptions) -> set[str]:
    """The codes ``value_frame`` gives the case's row: its issues, or the error it raised."""
    try:
        out = value_frame(_row(case), tables, assumptions=assumptions, errors="collect")
    except SocialValueError as exc:
        return {exc.code, getattr(exc, "issue", None) or exc.code}
    return set(out.attrs["issues"]["code"])
