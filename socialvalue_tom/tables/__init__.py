"""Proxy tables: the file format, loading, the embedded catalogue and edition selection."""

from socialvalue_tom.tables.amend import AmendmentFile, amend_table
from socialvalue_tom.tables.catalogue import (
    TableSet,
    available_tables,
    load_index,
    load_table,
    write_manifest,
)
from socialvalue_tom.tables.crosswalk import available_crosswalks, load_crosswalk, with_crosswalk
from socialvalue_tom.tables.diff import diff_tables
from socialvalue_tom.tables.schema import MeasureSpec as Measure
from socialvalue_tom.tables.schema import SourceSpec as Source
from socialvalue_tom.tables.schema import TableFile
from socialvalue_tom.tables.table import PriceIndex, ProxyTable, ResolvedProxy, TableRef

__all__ = [
    "AmendmentFile",
    "Measure",
    "PriceIndex",
    "ProxyTable",
    "ResolvedProxy",
    "Source",
    "TableFile",
    "TableRef",
    "TableSet",
    "amend_table",
    "available_crosswalks",
    "available_tables",
    "diff_tables",
    "load_crosswalk",
    "load_index",
    "load_table",
    "with_crosswalk",
    "write_manifest",
]
