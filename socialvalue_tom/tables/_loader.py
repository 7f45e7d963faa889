"""Safe reading of table and index files: YAML safe loader, duplicate keys rejected, errors
mapped to the file, line and field at fault."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from socialvalue_tom.errors import ProxyTableError

__all__ = ["read_model", "read_text", "read_yaml"]

M = TypeVar("M", bound=BaseModel)

_MAX_FILE_BYTES = 16 * 1024 * 1024


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (YAML's own rule, which PyYAML ignores)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable mapping key", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError (no line) for impossible dates such as 2024-02-30.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid date {node.value!r}: {exc}", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path, text: str | None = None) -> Any:
    """Parse a YAML file safely; any problem is a :class:`ProxyTableError` naming file and line."""
    if text is None:
        text = read_text(path)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ProxyTableError(
            f"{path}:{line}: {exc.problem or exc.context}",
            path=str(path), line=line, field=None,
        ) from exc
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ProxyTableError(f"{path}: not valid YAML ({type(exc).__name__}: {exc})",
                              path=str(path), line=None, field=None) from exc


def _line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """Best-effort 1-based line of the node at ``loc`` (pydantic's error location)."""
    try:
        node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == str(part)]
            if not match:
                return line
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(
            node.value
        ):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


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


def _field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<file>"


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

    ``text`` (and ``data``, the YAML already parsed from it) spare a second read or parse.
    """
    if text is None:
        text = read_text(path)
    if data is None:
        data = read_yaml(path, text)
    if not isinstance(data, dict):
        raise ProxyTableError(f"{path}: expected a mapping at the top of the file, "
                              f"got {type(data).__name__}", path=str(path), line=1, field=None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [p for p in first["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        field = _field_path(loc)
        line = _line_of(text, loc)
        if not loc:  # a whole-file cross-check: point at the line of the value it names
            line = _line_of_named(text, first["msg"]) or line
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ProxyTableError(
            f"{path}:{line}: field {field}: {msg}{more}",
            path=str(path), line=line, field=field, errors=exc.errors(include_url=False),
        ) from exc
