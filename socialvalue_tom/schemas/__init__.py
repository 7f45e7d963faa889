"""JSON Schemas of the data the library exchanges, for procurement systems.

``json_schema(kind)`` returns the JSON Schema (draft 2020-12) of an ``outcome`` (input row), a
``valuation`` (result with its trace), the caller's ``assumptions``, a proxy ``table`` file, a
price ``index`` file, a local ``amendment`` of an edition or a file of expected valuations
(``cases``, for ``socialvalue-tom tables test``), generated
from the pydantic models that validate them. ``python -m socialvalue_tom.schemas docs/schemas``
writes them to files (``make schemas``); the committed copies are checked by the tests.

A schema is never looser than its model's field checks: beyond what pydantic writes, a number
is bounded by the largest float (the model refuses ``1e400``), a map's keys
are checked as the model reads them (no key escapes its pattern, none with spaces around it,
integer keys as plain decimals in range), a date is a pattern of the dates that exist (a
"format" is only an annotation unless a validator asserts it), and text the model needs non-blank
once stripped must hold a character that is not space. Checks across fields or files (a table's
cross-references, say) are the model's alone, and so are two single-field checks JSON Schema
cannot state exactly: a proxy with more than two decimal places (``multipleOf: 0.01`` fails
``0.07`` in binary floating point; a case's ``value_gbp`` given as a number likewise) and an
exclusion key naming a standard column in another case (``Contract_ID``). A case's
``outcome`` is any mapping in the schema as in the model: a case may expect the error of an
outcome that is not valid. A table, index or amendment schema describes the canonical form:
text with spaces around it, which the loader strips, is refused by it. An outcome's schema is looser
there, as ``value_frame`` is with a row's cells: text with spaces around it in ``measure``,
``region``, ``unit``, ``confidence`` and the ids is accepted (the model strips it, and reads
blank text as absent; a length limit counts the spaces in the schema, so text at the limit
with spaces around it is refused by the schema alone), while ``date``, ``stage`` and
``fields`` keys are held to their canonical form; the model also takes ids and grades given
as numbers (as their text), which the schema, describing the form to send, does not.

pydantic's own ``model_json_schema()`` of these models is the same schema (without ``$schema``
and ``$id``): the models share a base (``socialvalue_tom._jsonschema``) that tightens each
model's schema wherever pydantic makes it, so a schema of a model holding an ``Outcome`` (a web
framework's request body) checks its dates, numbers and text as here too; only the checks on a
map's keys need this module's generator (``model_json_schema`` uses it by default).

Examples:
    >>> json_schema("outcome")["title"]
    'Outcome'
    >>> sorted(SCHEMA_FILES)
    ['amendment', 'assumptions', 'cases', 'index', 'outcome', 'table', 'valuation']

Added in 0.1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from socialvalue_tom._text import quoted
from socialvalue_tom.cases import CaseFile
from socialvalue_tom.errors import RuleError
from socialvalue_tom.outcome import Assumptions, Outcome
from socialvalue_tom.tables.amend import AmendmentFile
from socialvalue_tom.tables.schema import NOT_BLANK, IndexFile, TableFile
from socialvalue_tom.valuation import Valuation

__all__ = ["SCHEMA_FILES", "SchemaKind", "json_schema", "main", "schema_text", "write_schemas"]

SchemaKind = Literal["outcome", "valuation", "assumptions", "table", "index", "amendment",
                     "cases"]
_MODELS: dict[str, type[BaseModel]] = {"outcome": Outcome, "valuation": Valuation,
                                       "assumptions": Assumptions,
                                       "table": TableFile, "index": IndexFile,
                                       "amendment": AmendmentFile, "cases": CaseFile}
#: File name written for each kind.
SCHEMA_FILES = {"outcome": "outcome.schema.json", "valuation": "valuation.schema.json",
                "assumptions": "assumptions.schema.json",
                "table": "proxy-table.schema.json", "index": "price-index.schema.json",
                "amendment": "table-amendment.schema.json", "cases": "cases.schema.json"}
#: File stems accepted as kinds: ``json_schema("proxy-table")`` is ``json_schema("table")``.
_ALIASES = {name.removesuffix(".schema.json"): kind for kind, name in SCHEMA_FILES.items()
            if name.removesuffix(".schema.json") != kind}
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: SchemaKind | str) -> dict[str, Any]:
    """The JSON Schema of ``kind``: ``"outcome"``, ``"valuation"``, ``"assumptions"``,
    ``"table"``, ``"index"``, ``"amendment"`` or ``"cases"``. The file stems (``"proxy-table"``,
    ``"price-index"``, ``"table-amendment"``) name the same schemas.

    Raises:
        RuleError: for any other kind (the message lists the valid ones).
    """
    model = _MODELS.get(_ALIASES.get(kind, kind))
    if model is None:
        raise RuleError(f"unknown schema kind {quoted(kind)}: expected one of "
                        f"{', '.join(_MODELS)} "
                        f"(or a file stem: {', '.join(_ALIASES)})", field="kind", kind=kind)
    canonical = _ALIASES.get(kind, kind)
    schema = model.model_json_schema(mode="validation")  # never looser: _jsonschema
    return {"$schema": _DIALECT, "$id": SCHEMA_FILES[canonical], **schema}


# Never looser than the model. pydantic's schema of a model leaves out checks the model makes:
# a map's keys that fail their pattern escape every check, text is checked before the model
# strips it, a date is only "format": "date" (an annotation, not an assertion, by default in
# draft 2020-12), and integer keys are any text. NeverLooser and tighten below put them back,
# in patterns that mean the same in ECMA-262 (the dialect JSON Schema names) and in Python's re
# (Python's jsonschema): [0-9], never \d (Unicode digits in Python), and whitespace spelled out
# where the two differ.

#: A character the models strip from text: Python's ``str.strip`` (map keys, once stripped, must
#: differ) and pydantic's Unicode White_Space. ECMA-262's \s lacks U+001C..U+001F and U+0085.
_SPACE = r"[\s\x1c-\x1f\x85]"
#: Text with a strippable character at either end (Python's ``$`` also matches before a final
#: newline: a pattern ending in ``$`` cannot refuse one, so this one is used under ``not``).
_PADDED = f"^{_SPACE}|{_SPACE}$"
#: A character no model strips: pydantic's White_Space is ECMA-262's \s, less U+FEFF, plus
#: U+0085; Python's ``str.strip`` (``Outcome`` strips ``measure`` and ``region`` with it) also
#: strips U+001C..U+001F, which ECMA-262's \s lacks: a JavaScript validator passed ``"\x1c"`` as
#: a region the model then read as blank. Text holding one is not blank once stripped.
_SOLID = NOT_BLANK
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # 0001..9999, as datetime
_LEAP = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
#: An ISO calendar date that exists (2024-02-29, not 2023-02-29 or 2024-13-45): the models read
#: dates with ``date.fromisoformat``, and a "format" is not checked unless a validator asks.
ISO_DATE_PATTERN = (
    f"^(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    f"|{_LEAP}-02-29)$")
#: Date patterns the models declare that ISO_DATE_PATTERN replaces (it accepts less).
_LOOSER_DATE_PATTERNS = {r"^\s*\d{4}-\d{2}-\d{2}\s*$"}


class NeverLooser(GenerateJsonSchema):
    """pydantic's generator, with maps whose keys are checked as the model checks them."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        json_schema = super().dict_schema(schema)
        keys = self.generate_inner(schema["keys_schema"]) if "keys_schema" in schema else {}
        names: dict[str, Any]
        if keys.get("type") == "integer":
            # JSON keys are text: the model reads them as integers (in its bounds), so the
            # schema takes decimal integers in those bounds, written one way only.
            low, high = keys.get("minimum"), keys.get("maximum")
            if (set(keys) - {"type", "minimum", "maximum", "title"} or not isinstance(low, int)
                    or not isinstance(high, int) or low < 0):
                raise TypeError(f"no key pattern for integer keys {keys}: give them bounds >= 0")
            names = {"pattern": _integer_range_pattern(low, high)}
        elif keys.get("type", "string") == "string":
            names = json_schema.get("propertyNames", {})
            if "patternProperties" in json_schema:
                # A key that fails the pattern would escape every check on its value.
                json_schema.setdefault("additionalProperties", False)
        else:
            raise TypeError(f"no JSON Schema for map keys {keys}")
        # Keys are read stripped, and two that are one once stripped are refused: the schema
        # takes them stripped, so no two it accepts are one.
        json_schema["propertyNames"] = _all_of(names, {"not": {"pattern": _PADDED}})
        return json_schema


def _all_of(schema: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``schema`` and ``more`` both: merged when no keyword clashes, else under ``allOf``."""
    if set(schema) & set(more):
        return {"allOf": [schema, more]}
    return {**schema, **more}


def _integer_range_pattern(low: int, high: int) -> str:
    """A pattern for the decimal integers ``low..high`` (``0 <= low <= high``), no leading
    zeros: ``_integer_range_pattern(1900, 2200)`` matches ``"1900"`` to ``"2200"`` only."""
    parts: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        first = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        last = min(high, 10 ** digits - 1)
        parts += _same_length(str(first), str(last))
    return "^(?:" + "|".join(parts) + ")$"


def _same_length(low: str, high: str) -> list[str]:
    """Patterns for the numbers ``low..high``, both written with the same number of digits."""
    if low == high:
        return [low]
    head, rest = low[0], len(low) - 1
    if head == high[0]:
        return [head + p for p in _same_length(low[1:], high[1:])]
    parts, start, end = [], int(head), int(high[0])
    if low[1:] != "0" * rest:  # low's first digit, then low's tail up to all nines
        parts += [head + p for p in _same_length(low[1:], "9" * rest)]
        start += 1
    tail = []
    if high[1:] != "9" * rest:  # high's first digit, then all zeros up to high's tail
        tail = [high[0] + p for p in _same_length("0" * rest, high[1:])]
        end -= 1
    if start <= end:  # whole runs of first digits in between: any tail
        digit = str(start) if start == end else f"[{start}-{end}]"
        parts.append(digit + (f"[0-9]{{{rest}}}" if rest > 1 else "[0-9]" * rest))
    return parts + tail


def tighten(schema: Any) -> None:
    """Tighten, in place, the text checks of ``schema`` and every schema inside it."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string":
        _tighten_text(schema)
    if schema.get("type") == "number":
        # A float holds no more: JSON's 1e400 or a 400-digit number is refused by the model.
        if "maximum" not in schema and "exclusiveMaximum" not in schema:
            schema["maximum"] = sys.float_info.max
        if "minimum" not in schema and "exclusiveMinimum" not in schema:
            schema["minimum"] = -sys.float_info.max
    for key in ("properties", "patternProperties", "$defs"):
        for sub in schema.get(key, {}).values():
            tighten(sub)
    for key in ("items", "additionalProperties", "not", "propertyNames"):
        tighten(schema.get(key))
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        for sub in schema.get(key, []):
            tighten(sub)


def _tighten_text(schema: dict[str, Any]) -> None:
    """Say of a string what the model checks of it once stripped."""
    if schema.get("format") == "date":
        pattern = schema.get("pattern")
        if pattern not in (None, ISO_DATE_PATTERN, *_LOOSER_DATE_PATTERNS):
            raise ValueError(f"a date with a pattern of its own, {pattern!r}: say how it and "
                             "ISO_DATE_PATTERN combine")
        schema["pattern"] = ISO_DATE_PATTERN
    if "pattern" in schema:
        schema["pattern"] = _solid_not_s(schema["pattern"])
    elif schema.get("minLength", 0) >= 1:
        # The length the model checks is the stripped text's: blank text is too short.
        schema["pattern"] = _SOLID + (f"[\\s\\S]{{{schema['minLength'] - 2},}}{_SOLID}"
                                      if schema["minLength"] > 1 else "")
    if "not" in schema:
        # What the model refuses, it refuses once stripped: " measure" as "measure".
        schema["not"] = {"anyOf": [schema["not"], {"pattern": _PADDED}]}
    elif _ends_anchored(schema.get("pattern")):
        # Python's re (the jsonschema package) lets a final $ match before a last newline,
        # which ECMA-262 and the models' own patterns do not: a valuation's digest with "\n"
        # after it passed a Python validator, then the model refused it.
        schema["not"] = {"pattern": _PADDED}


def _ends_anchored(pattern: Any) -> bool:
    """Whether ``pattern`` ends in an anchor ``$`` (not an escaped dollar sign)."""
    if not isinstance(pattern, str) or not pattern.endswith("$"):
        return False
    escapes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
    return escapes % 2 == 0


def _solid_not_s(pattern: str) -> str:
    """``pattern`` with each ``\\S`` as :data:`_SOLID`: in ECMA-262, U+0085 is not space, but
    pydantic's \\s and stripping treat it as one."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        token = pattern[i:i + 2] if pattern[i] == "\\" else pattern[i]
        if token == r"\S" and in_class:
            raise ValueError(f"\\S in a character class of {pattern!r}: write it out")
        out.append(_SOLID if token == r"\S" else token)
        in_class = (in_class or token == "[") and token != "]"
        i += len(token)
    return "".join(out)


def schema_text(kind: SchemaKind | str) -> str:
    """``json_schema(kind)`` as the exact text written to its file (sorted keys, LF ending);
    ``kind`` as :func:`json_schema` takes it (a file stem too)."""
    return json.dumps(json_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into ``folder`` (created if needed); returns the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, name in SCHEMA_FILES.items():
        path = out / name
        path.write_text(schema_text(kind), encoding="utf-8", newline="\n")
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

