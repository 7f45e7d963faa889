"""socialvalue_tom: value social outcomes on public contracts against open, versioned proxy tables.

>>> import datetime as dt
>>> import socialvalue_tom as sv
>>> v = sv.value(sv.Outcome(measure="env-carbon-saved", quantity=3500, unit="kgCO2e",
...                         region="scotland", date=dt.date(2024, 9, 30)), "uk-national")
>>> v.version, sv.money.to_pounds(v.amount)
('2024', Decimal('1052.87'))
>>> print(v.explain().splitlines()[-1])  # the trace's last line: the total
  = £1,052.87 (2024 prices)
"""

# The money helpers the examples call as ``sv.money.to_pounds``: re-exported (``as``), so that
# a strict type checker finds the module after ``import socialvalue_tom as sv``.
from socialvalue_tom import money as money
from socialvalue_tom._version import __version__
from socialvalue_tom.bids import score_bids
from socialvalue_tom.cases import CaseResult, run_cases
from socialvalue_tom.engine import Sensitivity, sensitivity, value
from socialvalue_tom.errors import (
    BulkValidationError,
    IllustrativeValueWarning,
    InputFileError,
    MissingExtraError,
    NoTableInForceError,
    OutcomeError,
    ProxyTableError,
    RowIssue,
    RowIssueCode,
    RuleError,
    SocialValueError,
    SocialValueWarning,
    TableIntegrityError,
    UnitError,
    UnknownMeasureError,
    UnknownRegionError,
    UnknownTableError,
)
from socialvalue_tom.examples import example_path
from socialvalue_tom.frame import IssueTable, explain_row, outcomes_frame, value_frame
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.periods import apportion, apportion_outcome
from socialvalue_tom.report import summarise, targets_vs_delivered
from socialvalue_tom.schemas import json_schema
from socialvalue_tom.streaming import FileSummary, value_file
from socialvalue_tom.tables import (
    Measure,
    PriceIndex,
    ProxyTable,
    ResolvedProxy,
    Source,
    TableRef,
    TableSet,
    amend_table,
    available_crosswalks,
    available_tables,
    diff_tables,
    load_crosswalk,
    load_index,
    load_table,
    with_crosswalk,
)
from socialvalue_tom.units import Quantity, ureg
from socialvalue_tom.valuation import TraceStep, Valuation

__all__ = [
    "Assumptions",
    "BulkValidationError",
    "CaseResult",
    "FileSummary",
    "IllustrativeValueWarning",
    "InputFileError",
    "IssueTable",
    "Measure",
    "MissingExtraError",
    "NoTableInForceError",
    "Outcome",
    "OutcomeError",
    "PriceIndex",
    "ProxyTable",
    "ProxyTableError",
    "Quantity",
    "ResolvedProxy",
    "RowIssue",
    "RowIssueCode",
    "RuleError",
    "Sensitivity",
    "SocialValueError",
    "SocialValueWarning",
    "Source",
    "TableIntegrityError",
    "TableRef",
    "TableSet",
    "TraceStep",
    "UnitError",
    "UnknownMeasureError",
    "UnknownRegionError",
    "UnknownTableError",
    "Valuation",
    "__version__",
    "amend_table",
    "apportion",
    "apportion_outcome",
    "available_crosswalks",
    "available_tables",
    "diff_tables",
    "example_path",
    "explain_row",
    "json_schema",
    "load_crosswalk",
    "load_index",
    "load_table",
    "outcomes_frame",
    "run_cases",
    "score_bids",
    "sensitivity",
    "summarise",
    "targets_vs_delivered",
    "ureg",
    "value",
    "value_file",
    "value_frame",
    "with_crosswalk",
]
