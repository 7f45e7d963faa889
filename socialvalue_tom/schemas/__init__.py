"""JSON Schemas of the data the library exchanges, for procurement systems.

``json_schema(kind)`` returns the JSON Schema (draft 2020-12) of an ``outcome`` (input row), a
``valuation`` (result with its trace), the caller's ``assumptions``, a proxy ``table`` file, a
price ``index`` file or a local ``amendment`` of an edition, generated
from the pydantic models that validate them. ``python -m socialvalue_tom.schemas docs/schemas``
writes them to files (``make schemas``); the committed copies are checked by the tests.

Examples:
    >>> json_schema("outcome")["title"]
    'Outcome'
    >>> sorted(SCHEMA_FILES)
    ['amendment', 'assumptions', 'index', 'outcome', 'table', 'valuation']

Added in 0.1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from socialvalue_tom.errors import RuleError
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.tables.amend import AmendmentFile
from socialvalue_tom.tables.schema import IndexFile, TableFile
from socialvalue_tom.valuation import Valuation

__all__ = ["SCHEMA_FILES", "SchemaKind", "json_schema", "main", "schema_text", "write_schemas"]

SchemaKind = Literal["outcome", "valuation", "assumptions", "table", "index", "amendment"]
_MODELS: dict[str, type[BaseModel]] = {"outcome": Outcome, "valuation": Valuation,
                                       "assumptions": Assumptions,
                                       "table": TableFile, "index": IndexFile,
                                       "amendment": AmendmentFile}
#: File name written for each kind.
SCHEMA_FILES = {"outcome": "outcome.schema.json", "valuation": "valuation.schema.json",
                "assumptions": "assumptions.schema.json",
                "table": "proxy-table.schema.json", "index": "price-index.schema.json",
                "amendment": "table-amendment.schema.json"}
#: File stems accepted as kinds: ``json_schema("proxy-table")`` is ``json_schema("table")``.
_ALIASES = {name.removesuffix(".schema.json"): kind for kind, name in SCHEMA_FILES.items()
            if name.removesuffix(".schema.json") != kind}
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: SchemaKind | str) -> dict[str, Any]:
    """The JSON Schema of ``kind``: ``"outcome"``, ``"valuation"``, ``"assumptions"``,
    ``"table"``, ``"index"`` or ``"amendment"``. The file stems (``"proxy-table"``,
    ``"price-index"``, ``"table-amendment"``) name the same schemas.

    Raises:
        RuleError: for any other kind (the message lists the valid ones).
    """
    model = _MODELS.get(_ALIASES.get(kind, kind))
    if model is None:
        raise RuleError(f"unknown schema kind {kind!r}: expected one of {', '.join(_MODELS)} "
                        f"(or a file stem: {', '.join(_ALIASES)})", kind=kind)
    canonical = _ALIASES.get(kind, kind)
    schema = model.model_json_schema(mode="validation")
    return {"$schema": _DIALECT, "$id": SCHEMA_FILES[canonical], **schema}


def schema_text(kind: SchemaKind) -> str:
    """``json_schema(kind)`` as the exact text written to its file (sorted keys, LF ending)."""
    return json.dumps(json_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into ``folder`` (created if needed); returns the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, name in SCHEMA_FILES.items():
        path = out / name
        path.write_text(schema_text(kind), encoding="utf-8")  # type: ignore[arg-type]
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m socialvalue_tom.schemas FOLDER``: write the schemas, print their paths."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m socialvalue_tom.schemas FOLDER", file=sys.stderr)
        return 2
    for path in write_schemas(args[0]):
        print(path)
    return 0

