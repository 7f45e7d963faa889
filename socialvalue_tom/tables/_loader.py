"""Safe reading of table, index and amendment files: YAML safe loader (JSON's own reader for
``.json`` files), duplicate keys rejected, errors mapped to the file, line and field at fault."""

from __future__ import annotations

import collections.abc
import functools
import json
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from socialvalue_tom._text import clipped_errors, plain_number_advice
from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.tables.schema import FRACTION_COLUMNS, FieldCheckError

__all__ = ["error_at", "line_of_field", "read_data", "read_json", "read_model", "read_text",
           "read_yaml"]

M = TypeVar("M", bound=BaseModel)

_MAX_FILE_BYTES = 16 * 1024 * 1024
#: Largest JSON text read a second time, as YAML, for the line of a duplicate key.
_MAX_LOCATE_CHARS = 2 * 1024 * 1024
#: Nesting (of lists and mappings) reported when the parser runs out of stack.
_MAX_NESTING = 100

_TAG = "tag:yaml.org,2002:"
_MERGE = object()  # stands for the merge key ``<<`` among a mapping's own keys


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (YAML's own rule, which PyYAML ignores),
    keys YAML reads as booleans or null, and the tags whose data is not plain."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    # Duplicates are looked for among the keys written in this mapping; keys merged in with
    # ``<<`` come first in the flattened mapping, so a key written here overrides them (YAML's
    # merge semantics) rather than being reported as a duplicate. Text keys are compared as the
    # models read them, stripped: 'london ' would otherwise silently replace london.
    seen: dict[Any, tuple[Any, int]] = {}
    for key_node, _ in node.value:
        if key_node.tag == f"{_TAG}merge":
            key: Any = _MERGE
        else:
            _check_key_is_text_or_number(key_node)
            key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable mapping key", key_node.start_mark
            ) from None
        read_as = key.strip() if isinstance(key, str) else key
        if read_as in seen:
            first, line = seen[read_as]
            shown = "'<<'" if key is _MERGE else repr(key)
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {shown} {_first_at(first, key, line)}",
                key_node.start_mark,
            )
        seen[read_as] = (key, key_node.start_mark.line)
    return loader.construct_mapping(node, deep=deep)


def _first_at(first: Any, key: Any, line: int) -> str:
    """Where the key a duplicate repeats was first given (0-based ``line``), and how they match
    when they differ only by spaces around them."""
    if first == key:
        return f"(first at line {line + 1})"
    return (f"(first at line {line + 1} as {first!r}: spaces around a key are removed when it "
            "is read, so these are one key)")


def _check_key_is_text_or_number(node: yaml.Node) -> None:
    """A plain ``no:``, ``on:`` or ``~:`` key is a boolean or null to YAML: never what was meant."""
    if not isinstance(node, yaml.ScalarNode) or node.style is not None:
        return
    if node.tag == f"{_TAG}bool":
        value = "true" if node.value.lower() in ("yes", "true", "on") else "false"
        raise yaml.constructor.ConstructorError(
            None, None, f"the key '{node.value}' was read as the boolean {value}: quote it "
            f"('{node.value}') to use it as text", node.start_mark)
    if node.tag == f"{_TAG}null":
        raise yaml.constructor.ConstructorError(
            None, None, f"the key '{node.value}' was read as null: quote it ('{node.value}') "
            "to use it as text, or give the key", node.start_mark)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _refuse_tag(loader: _StrictLoader, node: yaml.Node) -> Any:
    # !!set builds a Python set, whose order (and so a table's digest) depends on
    # PYTHONHASHSEED; !!omap and !!pairs build lists of pairs; !!binary builds bytes.
    raise yaml.constructor.ConstructorError(
        None, None, f"the YAML tag !!{node.tag.removeprefix(_TAG)} is not allowed in a table "
        "file: write plain mappings, lists, text, numbers, booleans and dates", node.start_mark)


for _name in ("set", "omap", "pairs", "binary"):
    _StrictLoader.add_constructor(f"{_TAG}{_name}", _refuse_tag)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError (no line) for impossible dates such as 2024-02-30.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError, AttributeError, TypeError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid date {node.value!r}: {exc}", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

#: Integers as YAML 1.2 and every reader agree on them: decimal, no leading zero.
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


def _not_decimal(node: yaml.ScalarNode, value: Any) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"the number {node.value} is not written in decimal (YAML 1.1 reads it as "
        f"{value!r}: a leading zero as octal, 0x as hexadecimal, ':' as base 60): write it in "
        "decimal, without leading zeros, underscores or ':'", node.start_mark)


def _unreadable(node: yaml.ScalarNode, kind: str, exc: Exception) -> Exception:
    """A scalar PyYAML cannot read as its tag says (``!!float ''``, a sexagesimal float too
    large): PyYAML raises a bare IndexError, ValueError, KeyError or OverflowError, with no
    line."""
    shown = repr(node.value) if len(node.value) <= 40 else f"{node.value[:37]!r}..."
    write = "true or false" if kind == "a boolean" else "a number in decimal"
    return yaml.constructor.ConstructorError(
        None, None, f"the value {shown} (!!{node.tag.removeprefix(_TAG)}) is not {kind} that "
        f"can be read ({type(exc).__name__}: {exc}): write {write}, or remove the tag",
        node.start_mark)


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML follows YAML 1.1, where 010 is 8 and 1:30 is 90: a wrong number, not an error.
    try:
        value = yaml.SafeLoader.construct_yaml_int(loader, node)
    except (ValueError, LookupError) as exc:
        raise _unreadable(node, "a number", exc) from None
    if not _DECIMAL_INT.fullmatch(node.value):
        raise _not_decimal(node, value)
    return value


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        value = yaml.SafeLoader.construct_yaml_float(loader, node)
    except (ValueError, LookupError, ArithmeticError) as exc:
        raise _unreadable(node, "a number", exc) from None
    if ":" in node.value or "_" in node.value:
        raise _not_decimal(node, value)
    if _underflows(node.value, value):
        raise yaml.constructor.ConstructorError(None, None, _underflow_message(node.value),
                                                node.start_mark)
    return value


def _underflows(written: str, value: float) -> bool:
    """Whether a number written with a non-zero digit was read as zero (``1e-400``): every
    check after reading would see a plain 0."""
    mantissa = re.split(r"[eE]", written, maxsplit=1)[0]
    return value == 0.0 and any(c in "123456789" for c in mantissa)


def _underflow_message(written: str) -> str:
    shown = written if len(written) <= 40 else f"{written[:37]}..."
    return f"the number {shown} is too small to be read: it would be read as 0"


def _construct_bool(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_bool(loader, node)
    except LookupError as exc:
        raise _unreadable(node, "a boolean", exc) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def read_data(path: Path, text: str | None = None) -> Any:
    """The data a table, index or amendment file holds: read as JSON when its name ends in
    ``.json``, else as YAML. Any problem is a :class:`ProxyTableError` naming the file."""
    if text is None:
        text = read_text(path)
    if path.suffix.lower() == ".json":
        return read_json(path, text)
    return read_yaml(path, text)


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, first: str) -> None:
        super().__init__(key, first)
        self.key, self.first = key, first


class _NotJSONNumberError(Exception):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; keys that are one once stripped (as the models read them) are
    refused, like YAML's duplicate keys (json keeps the last silently)."""
    seen: dict[str, str] = {}
    for key, _ in pairs:
        read_as = key.strip()
        if read_as in seen:
            raise _DuplicateKeyError(key, seen[read_as])
        seen[read_as] = key
    return dict(pairs)


def _json_constant(name: str) -> Any:
    raise _NotJSONNumberError(name)


class _UnderflowError(Exception):
    pass


def _json_float(written: str) -> float:
    value = float(written)
    if _underflows(written, value):
        raise _UnderflowError(written)
    return value


def read_json(path: Path, text: str | None = None) -> Any:
    """Parse a JSON file with Python's json module (any valid JSON: exponents, tabs, escaped
    ``/``); duplicate keys, ``NaN`` and ``Infinity`` are refused. Any problem is a
    :class:`ProxyTableError` naming the file and, where known, the line."""
    if text is None:
        text = read_text(path)
    try:
        return _parse_json(path, text)
    except RecursionError:
        pass
    # Raised here, outside the handler: a RecursionError chained as its context would carry a
    # traceback a thousand frames deep, which does not pickle (errors must, for Dask workers).
    raise ProxyTableError(f"{path}: lists and mappings nested too deeply", path=str(path),
                          line=None, field=None)


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant,
                          parse_float=_json_float)
    except json.JSONDecodeError as exc:
        raise ProxyTableError(
            f"{path}:{exc.lineno}: not valid JSON: {exc.msg} (line {exc.lineno}, column "
            f"{exc.colno})", path=str(path), line=exc.lineno, field=None) from exc
    except _DuplicateKeyError as exc:
        raise _json_duplicate(path, text, exc) from None
    except _NotJSONNumberError as exc:
        raise ProxyTableError(
            f"{path}: {exc.args[0]} is not a number: JSON has no {exc.args[0]} (and a table "
            "holds finite numbers only)", path=str(path), line=None, field=None) from None
    except _UnderflowError as exc:
        at = text.find(exc.args[0])  # the first place the number is written
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        where = f"{path}:{line}" if line is not None else str(path)
        raise ProxyTableError(f"{where}: {_underflow_message(exc.args[0])}", path=str(path),
                              line=line, field=None) from None
    except ValueError as exc:  # an integer of more digits than Python converts, say
        raise ProxyTableError(f"{path}: not valid JSON ({exc})", path=str(path), line=None,
                              field=None) from exc


def _json_duplicate(path: Path, text: str, dup: _DuplicateKeyError) -> ProxyTableError:
    """The error for a duplicate key in a JSON file, at its line and field where the YAML
    reader, which reads JSON too (tabs aside) and knows lines, finds it (in files small enough
    for it to read quickly)."""
    if len(text) <= _MAX_LOCATE_CHARS:
        try:
            read_yaml(path, _yaml_view(text))
        except ProxyTableError as exc:
            if "duplicate key" in exc.message:
                return exc
    same = "" if dup.first == dup.key else (
        f" (the same as {dup.first!r}: spaces around a key are removed when it is read)")
    message = f"duplicate key {dup.key!r}{same}"
    return ProxyTableError(f"{path}: {message}", path=str(path), line=None, field=None)


def _yaml_view(text: str) -> str:
    """JSON ``text`` as YAML reads it alike: a tab can only be whitespace between tokens in
    JSON (never raw inside a string), but YAML refuses it there."""
    return text.replace("\t", " ")


@functools.lru_cache(maxsize=4)
def _compose(text: str) -> Any:
    """The YAML node tree of ``text`` (a JSON file's too), or None when it does not compose.
    Kept for the last few texts: the problems of one file are each placed on its tree (a
    file of 60 bad values was composed 60 times, 5 s), and nothing changes a tree."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        if "\t" not in text:
            return None
    try:
        return yaml.compose(_yaml_view(text), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


def read_yaml(path: Path, text: str | None = None) -> Any:
    """Parse a YAML file safely; any problem is a :class:`ProxyTableError` naming file and line."""
    if text is None:
        text = read_text(path)
    try:
        return _parse_yaml(path, text)
    except RecursionError:
        pass
    # Raised outside the handler, as in read_json: the chained RecursionError does not pickle.
    line = _deep_line(text)
    raise ProxyTableError(
        f"{path}:{line}: lists and mappings nested too deeply (more than {_MAX_NESTING} "
        "levels)", path=str(path), line=line, field=None)


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            _check_alias_expansion(path, node, len(text))
            return loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except ProxyTableError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        field = None
        if isinstance(exc, yaml.constructor.ConstructorError) and mark is not None:
            field = _field_at(text, mark.line, mark.column)  # the text parsed: find the node
        at = f" field {field}:" if field else ""
        problem = str(exc.problem or exc.context)
        if "'\\t'" in problem:  # PyYAML names a tab as '\t'
            problem += ": YAML indents with spaces, never tabs (replace each tab with spaces)"
        raise ProxyTableError(
            f"{path}:{line}:{at} {problem}",
            path=str(path), line=line, field=field,
        ) from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: NUL, say
        line = text.count("\n", 0, exc.position) + 1
        raise ProxyTableError(
            f"{path}:{line}: unacceptable character #x{exc.character:04x} (position "
            f"{exc.position}): {exc.reason}", path=str(path), line=line, field=None) from exc
    except (yaml.YAMLError, ValueError, TypeError, ArithmeticError, LookupError,
            AttributeError) as exc:
        # PyYAML's constructors let plain Python errors through on odd scalars: a sexagesimal
        # float of 200 parts (OverflowError), "!!bool x" (KeyError), "!!timestamp x"
        # (AttributeError).
        raise ProxyTableError(f"{path}: not valid YAML ({type(exc).__name__}: {exc})",
                              path=str(path), line=None, field=None) from exc


#: Aliases may repeat what an anchor names (merge keys, shared lists), but a document may grow
#: to at most this many times its written size in characters (or to :data:`_ALIAS_FLOOR`
#: characters, whichever is more) when they are expanded: a few kilobytes of aliases of aliases,
#: or one long anchored text aliased thousands of times, would otherwise validate into
#: gigabytes. The expanded size counts every character of the text values reached (through
#: aliases as often as they are reached) and one for each value, list and mapping.
_MAX_ALIAS_GROWTH = 10
_ALIAS_FLOOR = 1_000_000


def _check_alias_expansion(path: Path, root: yaml.Node | None, written: int) -> None:
    """Refuse a document whose aliases expand it far beyond its ``written`` size (characters
    of its text), or refer to a node that contains them (which would never finish
    expanding)."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        kids = _children(node)
        if finished:
            own = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            sizes[id(node)] = 1 + own + sum(sizes[id(k)] for k in kids)
            open_nodes.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            line = node.start_mark.line + 1
            raise ProxyTableError(f"{path}:{line}: an alias refers to a node that contains it",
                                  path=str(path), line=line, field=None)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
    expanded = sizes[id(root)]
    limit = max(_MAX_ALIAS_GROWTH * written, _ALIAS_FLOOR)
    if expanded > limit:
        raise ProxyTableError(
            f"{path}: aliases expand the document from {written:,} to {expanded:,} characters: "
            f"at most {limit:,} are allowed ({_MAX_ALIAS_GROWTH} times the file, or "
            f"{_ALIAS_FLOOR:,}): write the repeated parts out, or share less",
            path=str(path), line=None, field=None)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _deep_line(text: str) -> int | None:
    """Line where lists and mappings first nest more than :data:`_MAX_NESTING` deep (the scanner
    does not recurse, unlike PyYAML's composer)."""
    depth = 0
    opening = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
               yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, opening):
                depth += 1
                if depth > _MAX_NESTING:
                    return int(token.start_mark.line) + 1
            elif isinstance(token, closing):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _field_at(text: str, line: int, column: int) -> str | None:
    """Field path (``measures[0].proxies.no``) of the key or value that starts at the 0-based
    ``line`` and ``column``; None when the text does not compose or nothing starts there."""
    root: Any = _compose(text)
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:  # aliases share nodes, and may be recursive
            continue
        seen.add(id(node))
        children: list[tuple[str, tuple[Any, ...]]]
        if isinstance(node, yaml.MappingNode):
            children = [(f"{where}.{_key_text(k)}" if where else _key_text(k), (k, v))
                        for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(f"{where}[{i}]", (v,)) for i, v in enumerate(node.value)]
        else:
            continue
        for sub, nodes in children:
            if any((n.start_mark.line, n.start_mark.column) == (line, column) for n in nodes):
                return sub
            stack.append((nodes[-1], sub))
    return None


def _key_text(node: Any) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "<key>"


def _node_at(text: str, loc: Sequence[int | str]) -> Any:
    """Best-effort YAML node at ``loc`` (pydantic's error location), or the nearest above it."""
    node: Any = _compose(text)
    if node is None:
        return None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == str(part)]
            if not match:
                return node
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(
            node.value
        ):
            node = node.value[part]
        else:
            return node
    return node


def _line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """Best-effort 1-based line of the node at ``loc`` (pydantic's error location)."""
    node = _node_at(text, loc)
    return int(node.start_mark.line) + 1 if node is not None else None


def line_of_field(text: str, field: str) -> int | None:
    """Best-effort 1-based line of ``field`` (``measures[4].proxies.uk.derivation.formula``).

    Mapping keys may contain dots (region codes can), so at each mapping the longest key that
    the rest of the path starts with is taken.
    """
    node: Any = _compose(text)
    rest = field
    while node is not None and rest:
        if isinstance(node, yaml.SequenceNode):
            m = re.match(r"\[(\d+)\]\.?", rest)
            if m is None or int(m.group(1)) >= len(node.value):
                break
            node, rest = node.value[int(m.group(1))], rest[m.end():]
        elif isinstance(node, yaml.MappingNode):
            keys = [(k.value, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)
                    and rest.startswith(k.value) and rest[len(k.value):][:1] in ("", ".", "[")]
            if not keys:
                break
            key, node = max(keys, key=lambda kv: len(kv[0]))
            rest = rest[len(key):].removeprefix(".")
        else:
            break
    return int(node.start_mark.line) + 1 if node is not None else None


def error_at(path: Path, text: str, field: str, message: str,
             **details: Any) -> ProxyTableError:
    """A :class:`ProxyTableError` at ``field`` of the file ``path`` (its line looked up)."""
    line = line_of_field(text, field)
    return ProxyTableError(f"{path}:{line}: field {field}: {message}", path=str(path), line=line,
                           field=field, **details)


def _line_of_named(text: str, message: str) -> int | None:
    """Best-effort line of the code or id a cross-check message names.

    ``duplicate measure code: x`` points at the second ``x``; ``measure 'x' ...`` at the first
    line that declares ``x`` as a value (``code: x``, ``id: x``, ``- x``).
    """
    dup = re.search(r"duplicate [a-z ]+: ([^,\s]+)", message)
    named = dup or re.search(r"'([^']+)'", message)
    if named is None:
        return None
    token = re.escape(named.group(1))
    # Prefer the line that declares the value (``- code: x``, ``{code: x, ...}``, ``id: x``),
    # then any line that mentions it as a value.
    patterns = (rf"(?:^|[\s{{,])(?:code|id):\s*['\"]?{token}['\"]?\s*(?:[,}}#]|$)",
                rf"(?:^|[\s{{,\[-])(?:[a-z_]+:\s*)?['\"]?{token}['\"]?\s*(?:[,}}\]#]|$)")
    for pattern in patterns:
        lines = [text.count("\n", 0, m.start() + 1) + 1
                 for m in re.finditer(pattern, text, flags=re.M)]
        if lines:
            return lines[1] if dup and len(lines) > 1 else lines[0]
    return None


_MEASURE_FIELD = re.compile(r"measures\[(\d+)\]")


def measure_named(field: str, measures: Any, message: str) -> str:
    """`` (jobs-local-fte)`` for a field of the measure at ``measures[i]`` (``measures``: the
    file's list of measures, parsed or validated), so an error names the measure by its code as
    well as its position; ``""`` for another field, a measure with no code to give, or a
    ``message`` that names the code already."""
    found = _MEASURE_FIELD.match(field)
    if found is None or not isinstance(measures, Sequence) or isinstance(measures, str):
        return ""
    i = int(found.group(1))
    item = measures[i] if i < len(measures) else None
    code = item.get("code") if isinstance(item, dict) else getattr(item, "code", None)
    return f" ({code})" if isinstance(code, str) and code and code not in message else ""


def _field_path(loc: Sequence[int | str], data: Any = None) -> str:
    """``measures[3].proxies.uk.value``: list positions in brackets, mapping keys after dots.

    ``data`` (the parsed file) tells an integer mapping key (an index year) from a position.
    """
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's mark for an error in the mapping key just named
            continue
        if isinstance(part, int) and not isinstance(data, dict):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        if isinstance(data, dict | list):
            try:
                data = data[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                data = None
        else:
            data = None
    return out or "<file>"


#: Text that is a number to JSON and YAML 1.2, which YAML 1.1 (PyYAML) reads as text: an
#: exponent without a dot in the number before it, or without a sign.
_NUMBER_TEXT = re.compile(r"([-+]?)(?=\.?[0-9])([0-9]*)(\.[0-9]*)?([eE])([-+]?)([0-9]+)")


def _read_as_text(given: str, integer: bool) -> str:
    """Why ``given`` (plain text in the file) is not a number, and how to write it."""
    m = _NUMBER_TEXT.fullmatch(given)
    assert m is not None
    sign, whole, fraction, e, exp_sign, power = m.groups()
    if integer:
        value = float(given)
        fix = f"{int(value)}" if value.is_integer() and abs(value) < 1e15 else "digits only"
    else:
        fix = f"{sign}{whole or '0'}{fraction or '.0'}{e}{exp_sign or '+'}{power}"
    return (f"'{given}' was read as text (the YAML reader reads an exponent as part of a "
            f"number only after a dot and with a sign: 1.0e-3, 2.5e+6): write it as {fix}, or "
            "without an exponent")


def read_text(path: Path) -> str:
    """The file's text (a BOM tolerated); unreadable is a :class:`ProxyTableError`."""
    try:
        size = path.stat().st_size
        if size > _MAX_FILE_BYTES:  # checked before reading: a huge file is refused, not parsed
            raise ProxyTableError(
                f"{path}: file is {size} bytes, over the {_MAX_FILE_BYTES} byte limit",
                path=str(path), line=None, field=None,
            )
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProxyTableError(f"{path}: cannot read table file ({exc})", path=str(path),
                              line=None, field=None) from exc


def read_model(path: Path, model: type[M], text: str | None = None,
               data: Any = None) -> M:
    """Read ``path`` and validate it as ``model``; errors name file, line and field.

    ``text`` (and ``data``, the data already parsed from it) spare a second read or parse. A
    ``.json`` file is read as JSON, any other as YAML.
    """
    if text is None:
        text = read_text(path)
    if data is None:
        data = read_data(path, text)
    if data is None:  # nothing but blank lines or comments
        raise ProxyTableError(f"{path}: the file holds no table (it is empty, or only "
                              "comments)", path=str(path), line=1, field=None)
    if not isinstance(data, dict):
        raise ProxyTableError(f"{path}: expected a mapping at the top of the file, "
                              f"got {type(data).__name__}", path=str(path), line=1, field=None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        described = [_described(e, path, text, data, model)
                     for e in errors[:_PROBLEMS_LISTED]]
        field, named, line, msg = described[0]
        # Listed in the order of the file's lines (pydantic's is the model's).
        described.sort(key=lambda d: (d[2] is None, d[2] or 0))
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ProxyTableError(
            f"{path}:{line}: field {field}{named}: {msg}{more}",
            path=str(path), line=line, field=field,
            errors=clipped_errors(exc.errors(include_url=False)),
            # Each problem (up to _PROBLEMS_LISTED) as its own line, for `tables validate`:
            # an author fixes them in one pass rather than one run each.
            problems=[f"{path}:{n}: field {f}{w}: {m}" for f, w, n, m in described],
            problem_count=exc.error_count(),
        ) from exc


#: The problems of a file a ProxyTableError lists one by one (``details["problems"]``).
_PROBLEMS_LISTED = 50


def _described(error: Any, path: Path, text: str, data: dict[str, Any],
               model: type[BaseModel]) -> tuple[str, str, int | None, str]:
    """One pydantic error of a table file as (field; the measure it belongs to, as the
    message names it; line; what is wrong and how to write it)."""
    loc: list[int | str] = [p for p in error["loc"]
                            if not isinstance(p, str) or not p.startswith("function-")]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldCheckError):  # a check that knows the field at fault
        loc += cause.loc
    field = _field_path(loc, data)
    node = _node_at(text, [p for p in loc if p != "[key]"])
    line = int(node.start_mark.line) + 1 if node is not None else None
    if not loc:  # a whole-file cross-check: point at the line of the value it names
        line = _line_of_named(text, error["msg"]) or line
    msg = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if loc and loc[-1] == "[key]":
        msg = f"the key {given!r} ({type(given).__name__}): {msg}"
    elif (error["type"] == "string_type" and isinstance(node, yaml.ScalarNode)
          and node.style is None and given is not None and not isinstance(given, str)):
        kind = ("boolean" if isinstance(given, bool) else "number"
                if isinstance(given, int | float) else type(given).__name__)
        read_as = f"the {kind} {str(given).lower() if isinstance(given, bool) else given}"
        q = '"' if path.suffix.lower() == ".json" else "'"
        msg = (f"{msg}: '{node.value}' was read as {read_as}; quote it ({q}{node.value}{q}) "
               "to use it as text")
    elif (error["type"] in ("float_type", "int_type") and isinstance(node, yaml.ScalarNode)
          and node.style is None and isinstance(given, str)
          and _NUMBER_TEXT.fullmatch(given)):
        msg = f"{msg}: {_read_as_text(given, error['type'] == 'int_type')}"
    elif (error["type"] in ("float_type", "float_parsing", "int_type", "int_parsing")
          and isinstance(given, str)):
        msg += _plain_number_hint(given, _field_path(loc, data))
    elif error["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
        msg += _known_key_hint(loc[-1], model, loc[:-1])
    return field, measure_named(field, data.get("measures"), msg), line, msg


def _known_key_hint(key: str, model: type[BaseModel], where: Sequence[int | str]) -> str:
    """``; did you mean 'displacement'?`` for a key a typo or two from a key the format has at
    that place (``where``: the path to the mapping holding it), or anywhere in the file where
    the place is not known. A close key is one difflib finds at 0.6, or the same letters in
    another order (``lwo`` for ``low``)."""
    import difflib

    keys = _keys_at(model, where)
    candidates = sorted(keys if keys is not None else _field_names(model))
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6 if keys else 0.8)
    if not close:
        close = [c for c in candidates if sorted(c) == sorted(key)][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def _keys_at(model: type[BaseModel], where: Sequence[int | str]) -> frozenset[str] | None:
    """The keys of the model at ``where`` within ``model`` (a measure's, a proxy's...), or
    ``None`` where no one model is there."""
    kind: Any = model
    for step in where:
        kind = _inside(kind, step)
        if kind is None:
            return None
    found = [k for k in _alternatives(kind) if isinstance(k, type) and issubclass(k, BaseModel)]
    if len(found) != 1:
        return None
    return frozenset(info.alias or name for name, info in found[0].model_fields.items())


def _alternatives(kind: Any) -> list[Any]:
    """``kind`` without ``Annotated`` and ``None``: each type a union allows."""
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        return _alternatives(typing.get_args(kind)[0])
    if origin in (typing.Union, types.UnionType):
        return [k for arg in typing.get_args(kind) for k in _alternatives(arg)]
    return [] if kind is type(None) else [kind]


def _inside(kind: Any, step: int | str) -> Any:
    """The type at ``step`` within ``kind``: a model's field, a sequence's item, a mapping's
    value; ``None`` where there is none."""
    for k in _alternatives(kind):
        if isinstance(k, type) and issubclass(k, BaseModel):
            if isinstance(step, str):
                for name, info in k.model_fields.items():
                    if step in (name, info.alias):
                        return info.annotation
            continue
        origin, args = typing.get_origin(k), typing.get_args(k)
        if origin in (tuple, list, collections.abc.Sequence) and isinstance(step, int) and args:
            return args[0]
        if origin in (dict, collections.abc.Mapping) and len(args) == 2:
            return args[1]
    return None


@functools.lru_cache(maxsize=16)
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    """The keys of ``model`` and of every model inside it (by alias where one is given)."""
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()
    todo: list[Any] = [model]
    while todo:
        kind = todo.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if kind in seen:
                continue
            seen.add(kind)
            for name, info in kind.model_fields.items():
                names.add(info.alias or name)
                todo.append(info.annotation)
        else:
            todo.extend(typing.get_args(kind))
    return frozenset(names)


def _plain_number_hint(given: str, field: str) -> str:
    """How to write a figure given as text (``"£25,000"``, ``"25%"``, ``"1,5"``) as the
    number the format takes (:func:`plain_number_advice`); ``""`` where none of these is it."""
    name = field.rsplit(".", 1)[-1]
    fraction = (name if name in FRACTION_COLUMNS else
                "a confidence grade" if ".grades." in f".{field}" else None)
    advice = plain_number_advice(given, fraction)
    return f": '{given}' is text; {advice}" if advice else ""
