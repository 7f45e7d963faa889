"""Generate docs/api.md from the docstrings of the public API (``python docs/gen_api.py``)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import socialvalue_tom as sv


def render() -> str:
    """The API reference as Markdown: one section per public name, from its docstring."""
    out = ["# API reference", "",
           "Generated from docstrings by `docs/gen_api.py`; `tests/test_public_api.py` checks it "
           "is current.", ""]
    for name in sv.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(sv, name)
        kind = "class" if inspect.isclass(obj) else ("function" if callable(obj) else "object")
        doc = inspect.getdoc(obj) or ""
        if kind == "object" and not inspect.ismodule(obj):
            doc = doc if name not in ("ureg",) else "The package's pint unit registry."
        sig = ""
        if kind == "function":
            sig = f"`sv.{name}{inspect.signature(obj)}`\n\n"
        out += [f"## `{name}` ({kind})", "", sig + doc.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("api.md")
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
