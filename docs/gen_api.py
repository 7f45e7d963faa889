"""Generate docs/api.md from the docstrings of the public API (``python docs/gen_api.py``)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import socialvalue_tom as sv

#: The pint objects the package exports, described here.
_PINT = {
    "ureg": ("object", "The package's own pint `UnitRegistry` (pint's global registry is left "
                       "alone), with FTE, person, GBP and carbon as dimensions of their own. Read "
                       "it; do not define units in it: conversions are cached."),
    "Quantity": ("class", "`ureg.Quantity`, pint's quantity class bound to the package's "
                          "registry, e.g. `sv.Quantity(3500, 'kgCO2e').to('tCO2e')`."),
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
        kind = "class" if inspect.isclass(obj) else ("function" if callable(obj) else "object")
        doc = inspect.getdoc(obj) or ""
        sig = ""
        if kind == "function":
            sig = f"`sv.{name}{inspect.signature(obj)}`\n\n"
        out += [f"## `{name}` ({kind})", "", sig + doc.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("api.md")
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
