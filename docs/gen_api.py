"""Generate docs/api.md from the docstrings of the public API (``python docs/gen_api.py``)."""

from __future__ import annotations

import inspect
import sys
import typing
from pathlib import Path

import socialvalue_tom as sv

#: The pint objects the package exports, described here.
_PINT = {
    "ureg": ("object", "The package's own pint `UnitRegistry` (pint's global registry is left "
                       "alone), with FTE, person, GBP and carbon as dimensions of their own. Read "
                       "it; do not define units in it: conversions are cached."),
    "Quantity": ("class", "`ureg.Quantity`, pint's quantity class bound to the package's "
                          "registry, e.g. `sv.Quantity(3500, 'kgCO2e').to('tCO2e')`. In "
                          "annotations write `sv.Quantity[float]` (type checkers read it as "
                          "`pint.Quantity[float]`; it evaluates at run time too). A quantity "
                          "of pint's own registry is not an instance of it: build quantities "
                          "with `sv.Quantity` or `sv.ureg`."),
}


#: The type aliases the package exports (a ``Literal`` has no docstring of its own).
_ALIASES = {
    "RowIssueCode": "The code of a row issue (`RowIssue.code`; the codes are listed in "
                    "[errors.md](errors.md#row-issue-codes)): annotate with it and a type "
                    "checker refuses a misspelt code.",
}


def render() -> str:
    """The API reference as Markdown: one section per public name, from its docstring."""
    out = ["# API reference", "",
           "Generated from docstrings by `docs/gen_api.py`; `tests/test_public_api.py` checks it "
           "is current.", ""]
    for name in sv.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(sv, name)
        if name in _PINT:  # pint's own objects: their docstrings describe pint, not this package
            out += [f"## `{name}` ({_PINT[name][0]})", "", _PINT[name][1], ""]
            continue
        if typing.get_origin(obj) is typing.Literal:  # a type alias: its values
            out += [f"## `{name}` (type)", "", _ALIASES[name],
                    "", f"`{_type_name(obj)}`", ""]
            continue
        kind = "class" if inspect.isclass(obj) else ("function" if callable(obj) else "object")
        doc = inspect.getdoc(obj) or ""
        sig = ""
        if kind == "function":
            sig = f"`sv.{name}{inspect.signature(obj)}`\n\n"
        out += [f"## `{name}` ({kind})", "", sig + doc.strip(), ""]
        if kind == "class":
            out += _members(obj)
    out += ["## `__version__` (object)", "",
            f"The package version, a string (`{sv.__version__!r}` for this reference).", ""]
    return "\n".join(out).rstrip() + "\n"


def _type_name(annotation: object) -> str:
    """A readable type: ``float | None`` for ``Optional[Annotated[float, ...]]``, the values of
    a ``Literal`` joined by ``|``, constraints left to the docstrings and JSON Schemas."""
    import types

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if annotation is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join('...' if a is Ellipsis else _type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _cell(text: str) -> str:
    """``text`` for a Markdown table cell: a ``|`` (in a code span too) would end the cell."""
    return text.replace("|", "\\|")


def _members(cls: type) -> list[str]:
    """A class's fields (pydantic models and dataclasses: name, type, default) and its own
    public methods and properties (with the first line of each docstring)."""
    import dataclasses

    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    rows: list[str] = []
    if typing.is_typeddict(cls):
        for field, annotation in typing.get_type_hints(cls).items():
            rows.append(f"| `{field}` | `{_cell(_type_name(annotation))}` | required |")
    elif issubclass(cls, BaseModel):
        for field, info in cls.model_fields.items():
            default = ("required" if info.is_required()
                       else "a default factory" if info.default is PydanticUndefined
                       else f"`{info.default!r}`")
            rows.append(f"| `{field}` | `{_cell(_type_name(info.annotation))}` | {default} |")
    elif dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            default = ("required" if f.default is dataclasses.MISSING
                       and f.default_factory is dataclasses.MISSING
                       else f"`{f.default!r}`" if f.default is not dataclasses.MISSING
                       else "a default factory")
            rows.append(f"| `{f.name}` | `{_cell(_type_name(f.type))}` | {default} |")
    out: list[str] = []
    if rows:
        out += ["| Field | Type | Default |", "|---|---|---|", *rows, ""]
    members = []
    for attr, value in vars(cls).items():
        if (attr.startswith("_") or attr in getattr(cls, "model_fields", {})
                or attr == "model_post_init"):  # pydantic's, added to models with private state
            continue
        target = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        if isinstance(value, property):
            label = f"`{attr}` (property)"
        elif inspect.isfunction(target):
            params = list(inspect.signature(target).parameters.values())
            if params and params[0].name in ("self", "cls"):
                params = params[1:]
            names: list[str] = []
            for p in params:
                if p.kind is p.KEYWORD_ONLY and not any(n.startswith("*") for n in names):
                    names.append("*")
                names.append(("*" if p.kind is p.VAR_POSITIONAL else "**"
                              if p.kind is p.VAR_KEYWORD else "") + p.name)
            shown = ", ".join(names)
            label = f"`{attr}({shown})`"
        else:
            continue
        first = (inspect.getdoc(value.fget if isinstance(value, property) else target) or "")
        summary = " ".join(first.strip().split("\n\n")[0].split())  # the first paragraph
        members.append(f"- {label}: {summary}" if summary else f"- {label}")
    if members:
        out += ["Methods and properties:", "", *members, ""]
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("api.md")
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
