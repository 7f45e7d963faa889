"""The error reference (``docs/errors.md``) read by error code, for ``socialvalue-tom errors``.

Every :class:`~socialvalue_tom.errors.SocialValueError` names its code, the anchor of a section
of the reference (``[see docs/errors.md#unknown-region]``). A checkout has the page under
``docs/``; a wheel carries it as ``_docs/errors.md`` inside the package, so that the command
line answers with the section wherever the library is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

#: A section heading of the reference: ``## unknown-region``.
_HEADING = re.compile(r"^## ([a-z0-9-]+)\s*$", re.MULTILINE)
#: Any heading of level 1 or 2: where a section ends (``# Warnings`` after the last error).
_ANY_HEADING = re.compile(r"^#{1,2} ", re.MULTILINE)
#: A row of the table of row issue codes: ``| `bad-date` | field | meaning |``.
_ISSUE_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (.*?) \| (.*?) \|\s*$", re.MULTILINE)


def errors_page() -> Path:
    """The error reference: ``_docs/errors.md`` in an installed package, ``docs/errors.md``
    beside the package in a checkout. :class:`FileNotFoundError` naming both where neither
    holds it (a package copied without its data files)."""
    here = Path(__file__).resolve().parent
    candidates = (here / "_docs" / "errors.md", here.parent / "docs" / "errors.md")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the error reference is missing from this installation (looked "
                            f"in {', '.join(str(c) for c in candidates)}): reinstall the "
                            "package")


def error_sections() -> dict[str, str]:
    """Each section of the reference by its code, in page order: the heading and its text,
    to the next heading of level 1 or 2 (the last error's section does not run on into the
    warnings)."""
    text = errors_page().read_text(encoding="utf-8")
    starts = [m.start() for m in _ANY_HEADING.finditer(text)] + [len(text)]
    sections = {}
    for m in _HEADING.finditer(text):
        end = next(s for s in starts if s > m.start())
        sections[m[1]] = text[m.start():end].strip()
    return sections


def issue_codes() -> dict[str, tuple[str, str]]:
    """The row issue codes (an issues file's ``code`` column), each with the fields it is
    given for and what it means, from the reference's table."""
    text = errors_page().read_text(encoding="utf-8")
    table = text[text.index("# Row issue codes"):] if "# Row issue codes" in text else ""
    return {m[1]: (m[2], m[3]) for m in _ISSUE_ROW.finditer(table)}
