"""Expected valuations kept as data: a table author's regression tests.

A case file (YAML or JSON) lists outcomes and what each must be valued at, in pounds to the
penny, or the error it must raise, in the manner of OpenFisca's YAML tests::

    format: socialvalue_tom.cases/v1
    tables: uk-national            # a family, NAME:VERSION, or a table file beside this one
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

import datetime as dt
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialvalue_tom.engine import TablesLike, table_set, value
from socialvalue_tom.errors import IllustrativeValueWarning, OutcomeError, SocialValueError
from socialvalue_tom.frame import value_frame
from socialvalue_tom.money import to_pounds
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.tables._loader import read_model

__all__ = ["CASES_FORMAT", "CaseResult", "run_cases"]

CASES_FORMAT = "socialvalue_tom.cases/v1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Expect(_Model):
    """What a case must give: pounds to the penny (as text, ``"70668.00"``, or a number with
    at most two decimals), or the code of the error it must raise."""

    value_gbp: Decimal | None = None
    version: str | None = None
    region_used: str | None = None
    trace_contains: tuple[str, ...] = ()
    error: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_outcome(self) -> _Expect:
        if (self.value_gbp is None) == (self.error is None):
            raise ValueError("expect gives value_gbp (pounds to the penny) or error (the "
                             "code it must raise), one of the two")
        if self.value_gbp is not None and self.value_gbp != self.value_gbp.quantize(
                Decimal("0.01")):
            raise ValueError(f"value_gbp {self.value_gbp} has fractions of a penny: a total "
                             "is reported to the penny")
        if self.error is not None and (self.version or self.region_used or
                                       self.trace_contains):
            raise ValueError("a case expecting an error has no edition, region or trace")
        return self


class _Case(_Model):
    name: str = Field(min_length=1)
    outcome: dict[str, Any]
    assumptions: dict[str, Any] | None = None
    expect: _Expect


class _CaseFile(_Model):
    format: Literal["socialvalue_tom.cases/v1"]
    tables: str = Field(default="uk-national", min_length=1)
    assumptions: dict[str, Any] | None = None
    cases: tuple[_Case, ...] = Field(min_length=1)


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


def run_cases(path: str | os.PathLike[str]) -> list[CaseResult]:
    """Run the cases of a case file; one :class:`CaseResult` each, in the file's order.

    A case file (YAML or JSON, docs/proxies.md "Case files") has ``format:
    socialvalue_tom.cases/v1``, ``tables`` (a family, ``NAME:VERSION`` or a table file
    beside it; by default ``uk-national``), optional ``assumptions`` for every case, and
    ``cases``: each a ``name``, an ``outcome`` (the fields of :class:`Outcome`), optional
    ``assumptions`` of its own and ``expect``: ``value_gbp`` (pounds to the penny) with any of
    ``version``, ``region_used`` and ``trace_contains`` (texts the trace must hold), or
    ``error`` (the error's code, ``unit-error``, or its row-issue code, ``negative``). A case
    passes when the scalar engine and ``value_frame``, valuing the outcome as one row, both
    give the pennies expected and whatever else it names.

    Raises :class:`~socialvalue_tom.ProxyTableError` for a file that is not a case file
    (naming its line and field) or a table file it names that does not load, and
    :class:`~socialvalue_tom.UnknownTableError` for a table name no edition has.
    """
    p = Path(path)
    spec = read_model(p, _CaseFile)
    tables = table_set(_tables(spec.tables, p.parent))  # an unknown name stops the run here
    with warnings.catch_warnings():  # a case pins a figure, illustrative or not
        warnings.simplefilter("ignore", IllustrativeValueWarning)
        return [_run(case, tables, spec.assumptions) for case in spec.cases]


def _tables(given: str, folder: Path) -> TablesLike:
    """A family name, ``NAME:VERSION``, or a table file (relative to the case file)."""
    from socialvalue_tom.tables.catalogue import load_table

    if given.lower().endswith((".yaml", ".yml", ".json")):
        return load_table(path=folder / given)
    name, colon, version = given.partition(":")
    return load_table(name, version=version) if colon else name


def _run(case: _Case, tables: TablesLike, defaults: Mapping[str, Any] | None) -> CaseResult:
    expect = case.expect
    wanted = (f"£{expect.value_gbp:,.2f}" if expect.value_gbp is not None
              else str(expect.error))
    assumptions = {**(defaults or {}), **(case.assumptions or {})}
    try:
        outcome = Outcome(**case.outcome)
        v = value(outcome, tables, assumptions=Assumptions(**assumptions))
    except SocialValueError as exc:
        codes = {exc.code, getattr(exc, "issue", None)}
        if expect.error is not None and expect.error in codes:
            return CaseResult(case.name, True, wanted, expect.error)
        got = getattr(exc, "issue", None) or exc.code
        return CaseResult(case.name, False, wanted, str(got), exc.message)
    got = f"£{to_pounds(v.amount):,.2f}"
    if expect.error is not None:
        return CaseResult(case.name, False, wanted, got, "valued, where an error was expected")
    problems = []
    if to_pounds(v.amount) != expect.value_gbp:
        problems.append(f"valued at {got}")
    if expect.version is not None and v.version != expect.version:
        problems.append(f"edition {v.version}, not {expect.version}")
    if expect.region_used is not None and v.region_used != expect.region_used:
        problems.append(f"region used {v.region_used}, not {expect.region_used}")
    trace = v.explain()
    problems += [f"the trace does not say {text!r}" for text in expect.trace_contains
                 if text not in trace]
    bulk = _bulk_amount(outcome, tables, assumptions)
    if bulk != v.amount:
        problems.append(f"value_frame gives {bulk!r}, the scalar engine {v.amount!r}")
    return CaseResult(case.name, not problems, wanted, got, "; ".join(problems))


def _bulk_amount(outcome: Outcome, tables: TablesLike, assumptions: Mapping[str, Any]) -> Any:
    """The outcome valued as one row of a frame, as a file of returns would be."""
    row = outcome.model_dump(exclude={"fields"}, exclude_none=True)
    row.update(outcome.fields)
    if isinstance(row.get("date"), dt.date):
        row["date"] = row["date"].isoformat()
    try:
        out = value_frame(pd.DataFrame([row]), tables, assumptions=assumptions)
    except OutcomeError as exc:
        return exc.message
    return float(out["value_gbp"].iloc[0])
