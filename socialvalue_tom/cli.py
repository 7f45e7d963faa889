"""The ``socialvalue-tom`` command line (also ``python -m socialvalue_tom``).

Commands: ``value`` (value an outcome file and print totals), ``report`` (HTML report),
``template`` (Excel returns template) and ``tables list|show|diff|validate``. See docs/cli.md.

Exit codes: 0 success; 1 bad rows in the input (listed in ``<stem>.issues.csv``) or an invalid
table given to ``tables validate``; 2 usage error (unknown option, missing or unreadable file,
unknown table or measure) or input the totals cannot use (a contract given two contract
values), found before anything is written.

Needs typer and rich (the ``cli`` extra).

Added in 0.1.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from enum import StrEnum
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Annotated, Any, Literal, NoReturn, TypeVar, cast

try:
    import typer
    from rich.console import Console, ConsoleOptions
    from rich.table import Table
    from rich.text import Text
except ImportError as exc:  # pragma: no cover - exercised by test_cli with sys.modules patched
    from socialvalue_tom.errors import MissingExtraError

    raise MissingExtraError("the socialvalue-tom command needs typer and rich: "
                            "pip install 'socialvalue_tom[cli]'",
                            module=getattr(exc, "name", None) or "typer", extra="cli") from exc

import numpy as np
import pandas as pd

from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import (
    control_character,
    group_labels,
    grouped_digits,
    is_missing,
    key_text,
    misnamed,
    ratio_text,
)
from socialvalue_tom.engine import TablesLike, table_set
from socialvalue_tom.errors import (
    BulkValidationError,
    IllustrativeValueWarning,
    InputFileError,
    ProxyTableError,
    SocialValueError,
    SocialValueWarning,
)
from socialvalue_tom.money import format_gbp
from socialvalue_tom.outcome import Assumptions
from socialvalue_tom.tables.catalogue import (
    TableSet,
    available_tables,
    load_table,
    with_files_in_place,
)
from socialvalue_tom.tables.table import ProxyTable, TableRef

__all__ = ["app", "main"]

#: The files ``value -o`` and ``report -o`` write.
VALUE_SUFFIXES = (".csv", ".xlsx", ".parquet")
REPORT_SUFFIXES = (".html", ".htm")
#: Rows above which ``value`` shows a progress bar (on a terminal only).
PROGRESS_ROWS = 50_000
_CHUNK = 50_000
_SHOWN_ISSUES = 20
#: Groups shown in the terminal's totals table (--by): a table of a million contracts took
#: minutes and gigabytes to draw and no one reads it there; --totals FILE writes them all.
_SHOWN_GROUPS = 50
_T = TypeVar("_T")

app = typer.Typer(name="socialvalue-tom", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None,
                  help="Value social outcomes on public contracts against open proxy tables.")
# Plain (click) help: rich's boxed layout cuts long option names short on an 80-column terminal.
tables_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="List, show, compare, validate and test tables.")
app.add_typer(tables_app, name="tables")


#: Control characters (C0, DEL, C1) and how they are shown: as Python writes them in a repr
#: (``\x1b``, ``\n``), so an ESC in a supplier id is read, never sent to the terminal.
#: Zero-width characters and bidirectional controls: invisible, they make two ids that print
#: alike ("ACME" and "ACME" with a zero-width space) or show text reversed (U+202E).
_INVISIBLE = (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
              *range(0x2066, 0x206A), 0xFEFF)
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(0x20), *range(0x7F, 0xA0), *_INVISIBLE)}


def _printable(text: str) -> str:
    """``text`` with every control character (C0 including tab, newline and carriage return,
    DEL and C1) written as a visible escape: text from users' files (supplier and contract
    ids, table titles, sources) could otherwise clear the screen, move the cursor, set the
    window title or make a hyperlink on the terminal (rich strips only a few controls).
    Zero-width and bidirectional controls are written as escapes too (``\\u200b``)."""
    return text.translate(_CONTROLS)


def _printable_lines(text: str) -> str:
    """:func:`_printable` line by line: each line of a multi-line message kept a line."""
    return "\n".join(_printable(line) for line in text.split("\n"))


def _table(title: str) -> Table:
    """A rich Table whose title and cells are shown as written: supplier names, contract ids
    and table titles come from users' files, and '[red]' or '[/x]' in them is text, not markup
    (which would be applied, or fail); control characters in them are shown escaped."""
    return _PlainTable(title=Text(_printable(title)))


class _PlainTable(Table):
    """Cells are never cut short with an ellipsis: text wraps (a long supplier id is read
    whole), and right-aligned figures (amounts, counts) are kept on one line at full width,
    since "£3,570,6…" on a narrow terminal is a wrong number, not a short one.

    A figure's header may wrap at its spaces ("Not valued" over two lines) to make room, and
    the labels beside the figures (contract ids, "Total") always keep some: rich alone narrows
    the columns without a minimum width to nothing to make room for the figures, which have
    one, and the labels vanish.
    """

    #: Characters a label column (or its widest cell, if less) gets before the figures'
    #: headers are set on one line.
    LABEL_WIDTH = 12

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        # A header can hold table text (the fallback region's code): shown as text, escaped.
        args = tuple(Text(_printable(a)) if isinstance(a, str) else a for a in args)
        super().add_column(*args, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        # Every cell as text with its control characters escaped (see _printable): cells hold
        # supplier and contract ids and table text.
        cells = [_printable_cell(r) for r in renderables]
        for column, cell in zip(self.columns, cells, strict=False):
            if column.justify == "right" and isinstance(cell, Text):
                # Never narrower than its widest figure, so a figure never wraps or is cut
                # (its header may wrap).
                column.min_width = max(column.min_width or 0, cell.cell_len)
        super().add_row(*cells, **kwargs)

    def _calculate_column_widths(self, console: Console,
                                 options: ConsoleOptions) -> list[int]:
        """Rich's widths (padding included), unless the table has figures and they leave a
        label column under LABEL_WIDTH or the table wider than the room: then each figure
        column takes its least width (its widest figure, or the longest word of its header)
        and the rest of the room goes to the labels, evenly, up to LABEL_WIDTH; then to the
        figures' headers, each set whole on one line where it fits; then to the labels'
        full widths. A label keeps one character at least; where even that is more than the
        room, the table is wider than the terminal (rather than a label or a figure lost) and
        each label takes up to 5 characters, as "Total".

        Overrides a method of rich's Table (there is no public hook for column widths);
        tests/test_cli.py renders such a table at 80 columns, so a rich that renames it fails
        a test rather than hiding labels again.
        """
        widths = list(super()._calculate_column_widths(console, options))
        room = options.max_width
        # Measured as if there were room: a figure column's least width is its own (its header
        # words whole) however narrow the terminal; no column is given more than the room.
        unbounded = options.update_width(max(room, 10_000))
        sizes = [self._measure_column(console, unbounded, c) for c in self.columns]
        labels = [i for i, c in enumerate(self.columns) if c.justify != "right"]
        figures = [i for i, c in enumerate(self.columns) if c.justify == "right"]

        def up_to(i: int, chars: int) -> int:  # a label column's width, padding included
            own = (self.columns[i].min_width or 0) + self._get_padding_width(i)
            return max(own, min(sizes[i].maximum, chars + self._get_padding_width(i)))

        want = {i: up_to(i, self.LABEL_WIDTH) for i in labels}
        if not figures or (sum(widths) <= room and all(widths[i] >= want[i] for i in labels)):
            return widths  # rich shares the room fairly among text columns
        widths = [sizes[i].minimum if i in figures else up_to(i, 1)
                  for i in range(len(self.columns))]
        if sum(widths) > room:  # wider than the terminal whatever is done: labels that read
            return [w if i in figures else up_to(i, 5) for i, w in enumerate(widths)]
        spare = _widen(widths, want, room - sum(widths))
        # A header set on one line only where it fits whole (part of the room would leave it
        # wrapped all the same), the nearest to fitting first.
        for i in sorted(figures, key=lambda i: sizes[i].maximum - widths[i]):
            if 0 < sizes[i].maximum - widths[i] <= spare:
                spare -= sizes[i].maximum - widths[i]
                widths[i] = sizes[i].maximum
        _widen(widths, {i: sizes[i].maximum for i in labels}, spare)
        return widths


def _printable_cell(cell: Any) -> Any:
    """A table cell as Text with its control characters escaped; other renderables as given."""
    if isinstance(cell, str):
        return Text(_printable(cell))
    if isinstance(cell, Text) and cell.plain != _printable(cell.plain):
        return Text(_printable(cell.plain), style=cell.style, justify=cell.justify)
    return cell


def _widen(widths: list[int], targets: dict[int, int], spare: int) -> int:
    """Widen the columns ``targets`` names toward their target widths, a character each in
    turn, within ``spare`` characters; returns the spare left."""
    while spare > 0:
        short = [i for i, target in targets.items() if widths[i] < target]
        if not short:
            break
        for i in short[:spare]:
            widths[i] += 1
        spare -= min(len(short), spare)
    return spare


def _show_version(value: bool) -> None:
    if value:
        from socialvalue_tom import __version__

        _console().print(f"socialvalue-tom {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", help="Show the version and exit.", is_eager=True,
        callback=_show_version)] = False) -> None:
    """Value social outcomes on public contracts against open proxy tables."""
    # The commands print their own caveat for rows valued with illustrative proxies; the
    # library's warning would say it again, on stderr. Restored when the command ends.
    ctx.with_resource(warnings.catch_warnings())
    warnings.simplefilter("ignore", IllustrativeValueWarning)
    # Likewise unread period columns: the notes under the totals say so, with --period.
    warnings.filterwarnings("ignore", message="the rows have .* columns, which value_frame "
                            "does not read", category=SocialValueWarning)
    # openpyxl's word that it drops a workbook's data validation or conditional formatting
    # on reading: formatting the reader never uses, shown as a warning from site-packages
    # that reads as if the supplier's file would be changed (a Windows/Excel user's review).
    warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
    # The library's other warnings (a column of the caller's replaced, a column passed over)
    # as this command's notes, in its words, not Python's "file:line: Category:" form that
    # points into the CLI's own code.
    warnings.showwarning = _warnings_as_notes(warnings.showwarning)



def _warnings_as_notes(python_show: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that shows the library's warnings as notes on stderr, in this
    command's words, and any other as ``python_show`` (Python's own) does."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, SocialValueWarning):
            _console(stderr=True).print(
                _printable(f"note: {_cli_error_words(str(message))}"), markup=False)
        else:
            python_show(message, category, filename, lineno, file, line)
    return show


def _console(stderr: bool = False) -> Console:
    """A console on stdout or stderr; 200 columns at most when not writing to a terminal.

    Rich would otherwise assume 80 columns for pipes and files and truncate table cells.
    """
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    # emoji=False: ':100:' in 'file.yaml:100:' or a supplier's ':fire:' is text, never an emoji.
    out = cast("IO[str]", _SafeStream(stream, pipe=not stderr))
    return Console(file=out, stderr=stderr,
                   highlight=False, emoji=False, soft_wrap=True, width=width)


class _SafeStream:
    """stdout (or stderr) that outlives what the terminal or reader cannot take.

    A character the stream's encoding lacks (a '£' on a cp1251 or ASCII console, or redirected
    to a file on a Windows set to such a code page) is written as text it has ('GBP ', else
    '?'): it raised UnicodeEncodeError, a traceback and no totals. On stdout (``pipe``), a
    reader who stops reading (``socialvalue-tom value ... | head``) points it at the null
    device, and the command goes on to write OUT and the issues file and exit as it would
    have (a broken pipe had stopped it with exit 1 before anything was written)."""

    def __init__(self, stream: Any, *, pipe: bool = True) -> None:
        self._stream = stream
        self._pipe = pipe

    def write(self, text: str) -> int:
        try:
            try:
                return int(self._stream.write(text))
            except UnicodeEncodeError:
                self._stream.write(_encodable(text, getattr(self._stream, "encoding", None)))
                return len(text)
        except OSError as exc:
            self._lost(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        """stdout cannot take more: a reader gone is no error; a full disk or a failing device
        is told at the end (exit 3), once the command's files are written. What stderr cannot
        take is dropped: there is nowhere left to tell it, and the exit code still says how
        the command ended (a traceback there had made every exit 1)."""
        if not self._pipe:
            return
        if not _reader_gone(exc):
            _STDOUT_LOST.append(exc.strerror or str(exc))
        _quiet_stdout()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ... as the stream's
        return getattr(self._stream, name)


#: Why stdout could not be written during this command (a full disk, a device error, a
#: closed stdout), for :func:`main` to tell, and exit 3, when the command is done.
_STDOUT_LOST: list[str] = []


def _reader_gone(exc: OSError) -> bool:
    """The reader of a pipe has closed it: a broken pipe, or on Windows the EINVAL its pipes
    raise instead (python/cpython#79935)."""
    return isinstance(exc, BrokenPipeError) or (
        sys.platform == "win32" and exc.errno == errno.EINVAL)


def _encodable(text: str, encoding: str | None) -> str:
    """``text`` with what ``encoding`` lacks written as text it has: '£' as 'GBP ', any other
    character as '?'."""
    codec = encoding or "utf-8"
    return text.replace("£", "GBP ").encode(codec, "replace").decode(codec)


@lru_cache(maxsize=16)
def _has_pound(encoding: str | None) -> bool:
    try:
        "£".encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _pound() -> str:
    """'£' where stdout can print it, else 'GBP ': tables are laid out with it, so their
    columns line up (a '£' written afterwards as 'GBP ' would push them out)."""
    return "£" if _has_pound(getattr(sys.stdout, "encoding", None)) else "GBP "


def _gbp(amount: float) -> str:
    """:func:`format_gbp`, with the pound sign as stdout can print it."""
    text = format_gbp(amount)
    return text if _pound() == "£" else text.replace("£", _pound())


def _quiet_stdout() -> None:
    """Send what stdout still holds and whatever comes next to the null device, so neither
    this command nor the interpreter's last flush meets the closed pipe again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (tests' captured stdout)
        pass


class By(StrEnum):
    """Groupings for ``value --by``."""

    theme = "theme"
    measure = "measure"
    supplier = "supplier"
    contract = "contract"
    region = "region"
    year = "year"
    quarter = "quarter"
    stage = "stage"
    value_type = "value_type"
    methodology = "methodology"
    # The embedded crosswalks: totals in the buyer's language (socialvalue_tom.tables.crosswalk).
    ppn002 = "ppn002"
    ppn0620 = "ppn0620"
    toms = "toms"
    # The crosswalks' higher groups: PPN 002 missions, PPN 06/20 themes.
    ppn002_mission = "ppn002_mission"
    ppn0620_theme = "ppn0620_theme"


class Crosswalk(StrEnum):
    """The embedded crosswalks, for ``report --crosswalk``."""

    ppn002 = "ppn002"
    ppn0620 = "ppn0620"
    toms = "toms"


class Errors(StrEnum):
    """``--errors`` modes (as ``value_frame``)."""

    raise_ = "raise"
    collect = "collect"


class BidMethod(StrEnum):
    """``--method`` values (as ``score_bids(method=...)``)."""

    proportional = "proportional"
    rank = "rank"


class BidBasis(StrEnum):
    """``--basis`` values (as ``score_bids(basis=...)``)."""

    absolute = "absolute"
    per_gbp = "per-gbp"


class Bound(StrEnum):
    """``--bound`` values (as ``Assumptions.bound``)."""

    central = "central"
    low = "low"
    high = "high"
    least_favourable = "least-favourable"
    most_favourable = "most-favourable"


def _one_of(choices: type[StrEnum]) -> Callable[[Any], Any]:
    """A callback checking an option's value(s) against ``choices``, ignoring case.

    Typer's own enum parsing words a bad value by its version ("Value error, 'x' is not one of
    ..." where pydantic does it); this gives click's plain usage error on every version.
    """
    names = [c.value for c in choices]

    def check(value: Any) -> Any:
        if value is None:
            return None
        given = value if isinstance(value, list) else [value]
        for v in given:
            if str(v).lower() not in names:
                several = ("," in str(v) and all(p.strip().lower() in names
                                                 for p in str(v).split(",")))
                raise typer.BadParameter(
                    f"{str(v)!r} is not one of {', '.join(map(repr, names))}"
                    + (": one value only (run the command once for each)" if several else "")
                    + ".")
        normalised = [choices(str(v).lower()) for v in given]
        return normalised if isinstance(value, list) else normalised[0]

    return check


#: The reference an error names, as the library writes it: ``[see docs/errors.md#code]``.
_ERROR_LINK = re.compile(r"\[see docs/errors\.md#([a-z0-9-]+)\]")


def _fail(message: str, code: int = 2) -> NoReturn:
    # Messages quote file names, column names, sheet names and table keys as written: their
    # control characters are shown escaped. The reference an error names is the command
    # that prints it: a pip install has no docs/ folder.
    message = _ERROR_LINK.sub(r"[see: socialvalue-tom errors \1]", message)
    _console(stderr=True).print(f"error: {_printable_lines(message)}", markup=False)
    raise typer.Exit(code)


def _guard(fn: Callable[[], _T], code: int = 2) -> _T:
    """Run ``fn``; a library error becomes a message on stderr and exit ``code``.

    A missing optional extra (openpyxl for ``.xlsx``, matplotlib for ``report``...) is a usage
    error too: the message names the extra to install; exit 2 whatever ``code`` is.
    """
    try:
        return fn()
    except ImportError as exc:
        _fail(exc.message if isinstance(exc, SocialValueError) else str(exc), 2)
    except (SocialValueError, ValueError, OSError) as exc:
        _fail(_cli_error_words(str(exc)), code)


def _needs_extra(module: str, extra: str, what: str) -> None:
    """Exit 2 naming the extra to install when ``module`` cannot be imported."""
    from socialvalue_tom._extras import import_extra

    _guard(lambda: import_extra(module, extra, what))


def _check_output(output: Path, suffixes: tuple[str, ...] | None = None) -> None:
    """An output path whose folder exists, which is not a folder itself and, when ``suffixes``
    are given, has one of them (exit 2): checked before any work, so a run never ends by
    refusing its output, and no file of another kind is ever touched."""
    try:
        output.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL: no file can have it
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _fail(f"cannot write {output}: {reason}")
    if output.is_dir():
        _fail(f"the output {output} is a folder: give a file name")
    from socialvalue_tom.io import _not_a_file_to_replace

    special = _not_a_file_to_replace(output)
    if special:  # a named pipe, a device: replacing it would leave its reader nothing
        _fail(f"cannot write {output}: {special}")
    if not output.parent.is_dir():
        _fail(f"cannot write {output}: the folder {output.parent} does not exist")
    if suffixes is not None and output.suffix.lower() not in suffixes:
        _fail(f"cannot write {output}: the output must be one of {', '.join(suffixes)}")


def _resolve_tables(spec: str) -> TablesLike:
    """A family name or a table file, or several of them separated by commas.

    With several, the editions of the named families are used except where a file's edition
    covers the same dates: the file's edition (an amendment of that year, say) takes its place.
    A file's edition covering only part of a family edition's dates is refused: dropping that
    edition would leave its other dates to no edition, or to another carried forward.
    """
    # A file, or a folder of table files, whose name has a comma ('Tables, 2024/'):
    path = Path(spec)
    one_path = (_names_a_file(spec) and _looks(path, Path.is_file)) or (
        _looks(path, Path.is_dir) and (_names_a_file(spec) or not _is_family_name(spec)))
    parts = [spec] if one_path else [p.strip() for p in spec.split(",")]
    if not any(parts):
        _fail("--tables needs a table family name, NAME:VERSION or a table file")
    if len(parts) == 1:
        return _resolve_one_tables(parts[0])
    resolved = [_resolve_one_tables(p) for p in parts if p]
    files = [t for t in resolved if isinstance(t, ProxyTable)]
    family = [e for t in resolved if not isinstance(t, ProxyTable)
              for e in table_set(t).editions]
    return _guard(lambda: TableSet(with_files_in_place(family, files)))


def _resolve_one_tables(spec: str) -> TablesLike:
    """A family name, ``NAME:VERSION`` (that edition alone), or a path to a table file
    (``.yaml``/``.yml``, or ``.json`` for an amendment); an edition or file may end in
    ``@DIGEST``, the content digest it must have (12 to 64 hex digits)."""
    head, at, tail = spec.rpartition("@")
    # 'sha256:' before the digits is how tables validate prints a digest: read as the digits.
    tail = re.sub(r"(?i)^\s*sha256:", "", tail)
    if at and head and re.fullmatch(r"[0-9a-fA-F]+", tail.strip()):
        # Any hex digits after '@' are a pin: too few are refused as one, with what to give.
        return _resolve_pinned(head, tail.strip())
    path = Path(spec)
    head, colon, version = spec.rpartition(":")
    if (colon and version and _names_a_file(head) and not _looks(path, Path.exists)
            and _looks(Path(head), Path.is_file)):
        _fail(f"{spec!r}: a table file is one edition and takes no :VERSION; give the file "
              f"alone ({head})")
    if _looks(path, Path.is_dir) and (_names_a_file(spec) or not _is_family_name(spec)):
        return _folder_tables(path)
    if _names_a_file(spec):
        if not _looks(path, Path.is_file):
            _fail(f"table file {spec} {_not_there(path)}")
        return _guard(lambda: load_table(path=path))
    name, sep, version = spec.partition(":")
    if sep:
        if _names_a_file(name):
            _fail(f"{spec!r}: a table file is one edition and takes no :VERSION; give the file "
                  f"alone ({name})")
        if not version:
            _fail(f"{spec!r}: give the version after the colon, e.g. {name}:2024")
        return _guard(lambda: load_table(name, version=version))
    _guard(lambda: table_set(spec))
    return spec


def _folder_tables(folder: Path) -> TablesLike:
    """The editions of the table files in ``folder`` (``.yaml``, ``.yml``, ``.json``; not the
    ``*.index.yaml`` price indices beside them), as one family's set."""
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in (".yaml", ".yml", ".json")
                   and not p.name.lower().endswith(".index.yaml") and _looks(p, Path.is_file))
    if not files:
        _fail(f"table folder {folder} holds no table files (.yaml, .yml or .json, other than "
              "*.index.yaml price indices)")
    return _guard(lambda: TableSet([load_table(path=p) for p in files]))


def _is_family_name(spec: str) -> bool:
    """Whether ``spec`` is the name of an embedded family (a folder of that name in the working
    folder does not hide it: write ``./NAME/`` for the folder)."""
    return spec in {t.name for t in available_tables()}


def _resolve_pinned(spec: str, digest: str) -> TablesLike:
    """``NAME:VERSION@DIGEST`` or ``FILE@DIGEST``: that edition, refused (exit 2) when its
    content digest is not the one pinned."""
    if _names_a_file(spec):
        path = Path(spec)
        if not _looks(path, Path.is_file):
            _fail(f"table file {spec} {_not_there(path)}")
        return _guard(lambda: load_table(path=path, digest=digest))
    name, sep, version = spec.partition(":")
    if not sep or not version:
        _fail(f"{spec}@{digest}: a digest pins one edition: give NAME:VERSION@DIGEST "
              f"(e.g. {name or 'uk-national'}:2024@{digest})")
    return _guard(lambda: load_table(name, version=version, digest=digest))


def _names_a_file(spec: str) -> bool:
    """Whether ``--tables`` text names a file: a table suffix, or a folder in it. A bare name
    is a family even where a file of that name lies in the working folder (``uk-national``
    must not become ``./uk-national``); write ``./NAME`` for such a file."""
    return (Path(spec).suffix.lower() in (".yaml", ".yml", ".json")
            or any(sep in spec for sep in ("/", os.sep)))


def _one_table(spec: str) -> ProxyTable:
    """``NAME``, ``NAME:VERSION`` or a table file path: one edition (latest when no version)."""
    found = _resolve_one_tables(spec)
    if isinstance(found, ProxyTable):
        return found
    return _guard(lambda: table_set(found).editions[-1])


def _assumptions(price_year: int | None, discount_base_year: int | None,
                 carry_forward: bool, bound: str = Bound.central.value) -> Assumptions:
    for option, year in (("--price-year", price_year),
                         ("--discount-base-year", discount_base_year)):
        if year is not None and 0 <= year < 100:  # '24' for 2024/25, as a form writes it
            _fail(f"{option} {year} is not a year: give the financial year by the year it "
                  f"starts in, in full (2024 for 2024/25)")
    return _guard(lambda: Assumptions(price_year=price_year, carry_forward=carry_forward,
                                      discount_base_year=discount_base_year,
                                      bound=Bound(bound).value))


def _check_input(path: Path) -> None:
    """An input path that is a file (exit 2)."""
    if _looks(path, Path.is_dir):
        _fail(f"input {path} is a folder, not a file")
    if not _looks(path, Path.is_file):
        _fail(f"input file {path} {_not_there(path)}")


def _check_sheet(sheet: str | None, path: Path) -> None:
    """A ``--sheet`` only for an ``.xlsx`` input (exit 2)."""
    if sheet is not None and path.suffix.lower() != ".xlsx":
        _fail(f"--sheet applies to .xlsx input only, not {path.name}")


def _not_there(path: Path) -> str:
    """Why a path that is not a folder is no file to read: absent, or not a regular file (a
    device such as /dev/null, a pipe)."""
    return "is not a regular file" if _looks(path, Path.exists) else "does not exist"


def _looks(path: Path, test: Callable[[Path], bool]) -> bool:
    """``test(path)`` (``Path.exists``, ``Path.is_file``, ``Path.is_dir``), False where the
    system refuses to look (a name too long: pathlib raises for it, as for a NUL)."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def _read(path: Path, sheet: str | None = None, *, dated: bool = True,
          dates: DateOrder | None = None,
          period: tuple[str, str] | None = None) -> pd.DataFrame:
    """The input file; ``dated=False``: the rows may be dated by their periods instead;
    ``dates``: its dates written day or month first read as the days they mean
    (``--day-first``, ``--month-first``), in the ``--period`` columns too."""
    from socialvalue_tom import io as svio
    from socialvalue_tom.frame import (
        PERIOD_COLUMNS,
        REQUIRED_COLUMNS,
        column_twins,
        missing_columns_hint,
        twins_text,
    )

    _check_input(path)
    df = _guard(lambda: svio.read_outcomes(path, sheet=sheet))
    if dates is not None:
        reader = svio.dates_read_day_first if dates == "day" else svio.dates_read_month_first
        df = _guard(lambda: reader(df, (*svio.DATE_COLUMNS, *(period or ()))))
    twins = column_twins(df)
    if twins:  # in a file, two headers for one column: which did the supplier mean?
        _fail(f"{path.name} has {twins_text(twins)}, so the other column(s) would be passed "
              "over: keep one of each (or rename a column that means something else)")
    source = df.attrs.get("socialvalue_tom.source")
    # Rows with periods are dated by them (--period), or the period check says what to do.
    dated = dated and not set(PERIOD_COLUMNS) <= set(df.columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns and (dated or c != "date")]
    if missing and isinstance(source, dict):
        from socialvalue_tom._text import near_names

        # Every missing column there but for case or spaces: the sheet is likely the right
        # one, unless another sheet has the columns as named (then it is named).
        named = set(near_names(df.columns, missing)) >= set(missing)
        alike = list(source.get("alike_sheets") or [])
        others = alike if named else [n for n in source["sheets"] if n != source["sheet"]]
        hint = ((f"; sheet(s) {', '.join(map(repr, others))} have the columns as named: "
                 if named else f"; the workbook's other sheets are "
                 f"{', '.join(map(repr, others))}: ") + "choose one with --sheet"
                if others else "")
        _fail(f"sheet {source['sheet']!r} of {path.name} is missing required column(s) "
              f"{', '.join(missing)}{missing_columns_hint(df, missing, sheets=False)}{hint}")
    if missing:  # named by the file, as a workbook's sheet is (a data-quality
        # steward's review: in a loop over 40 returns, "input is missing" named none)
        _fail(f"{path.name} is missing required column(s) {', '.join(missing)}; expected "
              f"{', '.join(REQUIRED_COLUMNS)}{missing_columns_hint(df, missing, sheets=False)}"
              " [see docs/errors.md#outcome-error]")
    for line in _read_lines(df):  # as the file is read, for every command
        _console(stderr=True).print(_printable(line), markup=False)
    return df


def _read_lines(frame: pd.DataFrame) -> list[str]:
    """How a workbook's rows were read (:func:`~socialvalue_tom.report.source_notes`: hidden
    rows, other sheets), as this command's notes: printed as the file is read, kept in a
    totals file's notes, and not printed again under a table."""
    from socialvalue_tom.report import source_notes

    return [f"Note: {_cli_words(note)}" for note in source_notes(frame)]


def _value_chunks(df: pd.DataFrame, tables: TablesLike, a: Assumptions) -> pd.DataFrame:
    """``value_frame`` with errors collected, in chunks with a progress bar on a terminal.

    The chunks share the claim totals of the whole input, so double-counting exclusions see a
    contract whole even when its rows fall in different chunks: the totals are the same with or
    without a terminal.
    """
    from socialvalue_tom.frame import claim_totals, claims_of, value_frame

    if len(df) <= PROGRESS_ROWS or not sys.stderr.isatty():  # drawn on stderr: its terminal
        return _guard(lambda: value_frame(df, tables, errors="collect", assumptions=a,
                                          detail=True))
    claims = _guard(lambda: claim_totals(claims_of(df, tables, assumptions=a), tables))

    def run(part: pd.DataFrame, offset: int) -> pd.DataFrame:
        return _guard(lambda: value_frame(part, tables, errors="collect", assumptions=a,
                                          row_offset=offset, claims=claims, detail=True))

    from rich.progress import Progress

    parts = []
    with Progress(console=_console(stderr=True), transient=True) as bar:
        task = bar.add_task("valuing", total=len(df))
        for start in range(0, len(df), _CHUNK):
            parts.append(run(df.iloc[start:start + _CHUNK], start))
            bar.update(task, advance=len(parts[-1]))
    issues = pd.concat([p.attrs["issues"] for p in parts], ignore_index=True)
    # The first chunk's record, for the whole input: its rows are every chunk's, and so are
    # the input rows its parts come from (value_frame counted the first chunk's).
    record = {**parts[0].attrs["socialvalue_tom"], "rows": len(df)}
    if "input_rows" in record:
        from socialvalue_tom.frame import _input_row_counts

        record.update(_input_row_counts(df, issues["row"].to_numpy(dtype=np.int64)))
    attrs: dict[str, Any] = {"issues": issues, "socialvalue_tom": record}
    for p in parts:
        p.attrs.clear()  # pandas compares attrs on concat, which fails on the issues DataFrame
    out = pd.concat(parts)
    if "exclusion" in out.columns and out["exclusion"].isna().all():
        # Pieces valued with claims= always carry the columns; the whole input has them only
        # when an exclusion reduced a claim: the same columns with or without a terminal.
        out = out.drop(columns=["claim_share", "exclusion"])
    out.attrs.update(attrs)
    return out


#: Where the command keeps, in a valued frame's attrs, the workbook sheet it read.
_SHEET_READ = "socialvalue_tom.sheet"
#: ... and, with --day-first or --month-first, which reading and how many date cells it read.
_DATES_READ = "socialvalue_tom.dates_read"
#: How a file's dates are read besides YYYY-MM-DD: day first (--day-first) or month first.
DateOrder = Literal["day", "month"]


def _date_order(day_first: bool, month_first: bool) -> DateOrder | None:
    """The reading ``--day-first`` or ``--month-first`` asks for; both is a usage error."""
    if day_first and month_first:
        _fail("--day-first and --month-first ask for two readings of the same dates: give one")
    return "day" if day_first else "month" if month_first else None


def _issues_path(inp: Path, out: Path | None, sheet: str | None = None) -> Path:
    """``OUT``'s or the input's ``<stem>.issues.csv``; without ``-o``, a workbook's sheet named
    with ``--sheet`` has its own (``<stem>.<sheet>.issues.csv``): valuing a workbook sheet by
    sheet must not let a clean sheet's run empty another sheet's list of problems."""
    if out is None and sheet is not None:
        named = re.sub(r"[^\w .-]", "_", sheet).strip(" .") or "sheet"
        if named != sheet:  # 'Q1+Q2' and 'Q1&Q2' must not share a file: the name's digest
            import hashlib

            named += "-" + hashlib.sha256(sheet.encode("utf-8")).hexdigest()[:6]
        return inp.with_name(f"{inp.stem}.{named}.issues.csv")
    base = out if out is not None else inp
    return base.with_name(f"{base.stem}.issues.csv")


def _refuse_totals_at_issues(totals: Path, inp: Path, out: Path | None,
                             sheet: str | None) -> None:
    """Exit 2 when ``--totals`` names the issues file, which, written after it, would replace
    the totals (a security review)."""
    from socialvalue_tom.io import same_file

    if same_file(totals, _issues_path(inp, out, sheet)):
        _fail(f"--totals {totals} is where the issues file goes: give it a name of its own")


def _check_issues_path(inp: Path, out: Path | None, sheet: str | None = None) -> None:
    """Exit 2 when the issues file would be the input: by name, or as a link (hard or
    symbolic) to it, which writing the issues would replace."""
    from socialvalue_tom.io import same_file

    path = _issues_path(inp, out, sheet)
    if same_file(path, inp):
        _fail(f"the issues file {path} would overwrite the input file: rename the input or "
              "choose another output name")


def _clear_stale_issues(inp: Path, out: Path | None, sheet: str | None = None) -> None:
    """After a run without bad rows, an issues file left by an earlier run is emptied (header
    only), so an out-of-date list of problems is never sent back to a supplier; never when
    it is the input under another name (refused before the run, and checked again here). A
    symbolic link of that name is replaced by the emptied file, its target left alone."""
    _check_issues_path(inp, out, sheet)
    path = _issues_path(inp, out, sheet)
    if (path.is_file() or path.is_symlink()) and _holds_issues(path):
        _write_issues(pd.DataFrame(columns=list(_ISSUE_HEADER)), path)
        _console(stderr=True).print(_printable(f"no problems this time: emptied {path} from "
                                               "an earlier run"), markup=False)


_ISSUE_HEADER = ("row", "line", "field", "code", "reason")


def _holds_issues(path: Path) -> bool:
    """Whether ``path`` is an issues file this command wrote with problems still listed: its
    header is the issues header and a line follows it. Anything else (valuations written
    under that name, an issues file already emptied) is left alone."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:  # with its BOM or without
            header = next(csv.reader(fh), None)
            return tuple(header or ()) == _ISSUE_HEADER and bool(fh.readline())
    except (OSError, UnicodeDecodeError, csv.Error):
        return False


def _write_issues(frame: pd.DataFrame, path: Path) -> None:
    """Write the issues file, or exit 2 saying why it cannot be written (a folder of that
    name, no permission): the problems must reach the user, never a traceback instead."""
    _write_csv(frame, path, "the issues file")


def _write_csv(frame: pd.DataFrame, path: Path, what: str,
               record: dict[str, Any] | None = None) -> None:
    """Write ``frame`` as CSV to ``path`` (through a new file renamed over it, as the library
    writes its files), or exit 2 saying why ``what`` cannot be written. These files (issues,
    totals) are for people, who open a CSV in Excel: UTF-8 with a byte order mark, without
    which Excel reads it in the Windows code page ('£' shows as 'Â£'). A totals table to a
    ``.xlsx`` path is a workbook (:func:`_write_totals`)."""
    from socialvalue_tom.io import _write_csv as write_rows  # the library's CSV rows
    from socialvalue_tom.io import write_through_temp

    if path.suffix.lower() == ".xlsx":
        _write_totals(frame, path, what, record)
        return
    safe = _formula_safe(frame)
    try:
        write_through_temp(path, lambda tmp: write_rows(safe, tmp, encoding="utf-8-sig"))
    except InputFileError as exc:
        _fail(f"cannot write {what} {path}: {exc.details.get('why', exc.message)}")


def _formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text cell a spreadsheet would read as a formula (``=``, ``+``,
    ``-``, ``@``, a tab or carriage return first: a supplier id ``=cmd|...``) behind an
    apostrophe, as OWASP advises for CSV files opened in a spreadsheet, which these are (the
    byte order mark is for Excel). Numbers, a negative amount among them, are left alone."""
    from socialvalue_tom.io import _FORMULA_STARTS

    starts = (*_FORMULA_STARTS, "\t", "\r")
    out = frame
    for j, (_, column) in enumerate(frame.items()):
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(
                column.dtype):
            continue
        cells = column.tolist()
        if any(isinstance(c, str) and c.startswith(starts) for c in cells):
            if out is frame:
                out = frame.copy()
            out.isetitem(j, np.array([f"'{c}" if isinstance(c, str) and c.startswith(starts)
                                      else c for c in cells], dtype=object))
    return out


def _write_totals(frame: pd.DataFrame, path: Path, what: str,
                  record: dict[str, Any] | None = None) -> None:
    """Write a totals table as an ``.xlsx`` workbook, as the library writes valued rows (its
    header frozen, its columns sized, text never a formula), on a sheet named ``Totals``:
    the pounds as numbers shown to the penny (``*_gbp``), which a spreadsheet adds up, not
    the text of a CSV. The lines printed under the table (its title with the prices, the
    editions, caveats and notes: ``frame.attrs["notes"]``) go on a ``Notes`` sheet, and
    ``record`` (the valuation's provenance) on a ``Provenance`` sheet."""
    from socialvalue_tom.io import _write_xlsx, write_through_temp

    typed = frame.copy(deep=False)
    for j, (name, column) in enumerate(frame.items()):
        if isinstance(name, str) and name.endswith("_gbp") and column.dtype == object:
            typed.isetitem(j, pd.to_numeric(column.map(
                lambda x: None if x is None else float(x)), errors="coerce").to_numpy())
    notes = frame.attrs.get("notes") or []
    try:
        write_through_temp(path, lambda tmp: _write_xlsx(
            typed, tmp, record, sheet="Totals",
            money=[c for c in frame.columns if isinstance(c, str) and c.endswith("_gbp")],
            notes=[str(n) for n in notes]))
    except InputFileError as exc:
        _fail(f"cannot write {what} {path}: {exc.details.get('why', exc.message)}")


def _write_provenance(valued: pd.DataFrame, path: Path, source: str | None) -> None:
    """Write ``io.provenance`` of ``valued`` as JSON to ``path`` (as the library writes its
    files), or exit 2 saying why it cannot be written."""
    import json

    from socialvalue_tom.io import provenance, write_through_temp

    record = provenance(valued, source=source)
    page = json.dumps(record, indent=2, sort_keys=False) + "\n"
    def write(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8", newline="\n")

    try:
        write_through_temp(path, write)
    except InputFileError as exc:
        _fail(f"cannot write the provenance file {path}: "
              f"{exc.details.get('why', exc.message)}")


def _with_lines(issues: pd.DataFrame, inp: Path, sheet: str | None) -> pd.DataFrame:
    """The issues as the command line gives them: row, line, field, code, reason (in this
    command's words). Row numbers are 0-based data rows; the line (CSV) or sheet row (Excel)
    is looked up in the file, because blank lines and multi-line quoted values make it more
    than row + 2 (none for Parquet)."""
    frame = issues[["row", "field", "code", "reason"]].copy()
    frame["reason"] = [_cli_error_words(str(r)) for r in frame["reason"]]
    if inp.suffix.lower() in (".csv", ".xlsx"):
        from socialvalue_tom import io as svio

        lines = _guard(lambda: svio.source_lines(inp, frame["row"].unique(), sheet=sheet))
        frame.insert(1, "line", frame["row"].map(lines).astype("Int64"))
    else:
        frame.insert(1, "line", None)
    return frame


def _report_issues(issues: pd.DataFrame, inp: Path, out: Path | None,
                   sheet: str | None = None, lined: pd.DataFrame | None = None) -> Path:
    """Write ``<stem>.issues.csv`` (row, line, field, code, reason) and print the first ones;
    ``lined``: the issues as :func:`_with_lines` gave them already (their lines looked up)."""
    _check_issues_path(inp, out, sheet)  # refused before the run too: never the input
    path = _issues_path(inp, out, sheet)
    frame = lined if lined is not None else _with_lines(issues, inp, sheet)
    header = inp.suffix.lower() in (".csv", ".xlsx")
    # A workbook's rows are sheet rows, as Excel numbers them (not lines of a file).
    line_word = ("line" if inp.suffix.lower() == ".csv" else
                 f"sheet {sheet!r} row" if sheet is not None else "sheet row")
    err = _console(stderr=True)
    shown = frame.head(_SHOWN_ISSUES)
    for row, line, field, reason in zip(shown["row"], shown["line"], shown["field"],
                                        shown["reason"], strict=True):
        where = f"row {row}" + (f" ({line_word} {int(line)})" if header and not pd.isna(line)
                                else "")
        err.print(_printable(f"{inp.name}: {where}, field {field!r}: {reason}"), markup=False)
    more = len(frame) - _SHOWN_ISSUES
    tail = f" ({more} more not shown)" if more > 0 else ""
    _write_issues(frame, path)  # after the first problems are shown: they reach the user
    err.print(_printable(f"{len(frame)} problem(s) in {frame['row'].nunique()} row(s){tail}; "
                         f"listed in {path}"), markup=False)
    uk, us = _day_first_dates_refused(frame)
    if us:  # read day first, a month-first file's 07/01/2024 would be 7 January, silently
        err.print(f"Note: {us:,} date(s) are dates only when read month first (06/30/2025, "
                  "as the US writes dates): --month-first reads the file's dates so, or write "
                  "them as YYYY-MM-DD (--day-first refuses a column holding such a date).",
                  markup=False)
    elif uk:  # a council officer's review: each such row was told alone, with no way to read all
        err.print(f"Note: {uk:,} date(s) are written day first, as in the UK: --day-first "
                  "reads such dates (30/06/2025) as the days they mean.", markup=False)
    return path


def _day_first_dates_refused(issues: pd.DataFrame) -> tuple[int, int]:
    """How many refused dates ``--day-first`` would read (cells written day first that were
    not read so, the flag not given: never a time of day other than midnight or a two-digit
    year, which the flag leaves alone), and how many are dates only when read month first
    (``06/30/2025``), as the reasons quote them."""
    from socialvalue_tom.io import _iso_day_first, _month_first_only

    reasons = issues.loc[issues["code"].isin(("bad-date", "bad-period")), "reason"].astype(str)
    quoted = reasons.str.extract(r"^(?:date|period_start|period_end|\S+) '([^']*)'",
                                 expand=False).dropna()
    return (int(sum(_iso_day_first(q) is not None for q in quoted)),
            int(sum(_month_first_only(q) is not None for q in quoted)))


def _value_input(inp: Path, tables: str, a: Assumptions, sheet: str | None,
                 period: tuple[str, str] | None,
                 given: dict[str, np.ndarray] | None = None,
                 check: Callable[[pd.DataFrame], None] | None = None,
                 dates: DateOrder | None = None,
                 ) -> tuple[pd.DataFrame, TablesLike]:
    """The input valued, and the tables used; ``given``, where asked for, gets the amounts a
    valued file already holds (its ``value_gbp``), by input row; ``check`` sees the rows read
    before any is valued (a command's own required columns: a usage error, exit 2, before a
    bad row's exit 1); ``dates`` as for :func:`_read`."""
    resolved = _resolve_tables(tables)
    df = _read(inp, sheet, dated=period is None, dates=dates, period=period)
    if check is not None:
        check(df)
    if given is not None and "value_gbp" in df.columns:
        given["value_gbp"] = pd.to_numeric(df["value_gbp"], errors="coerce").to_numpy(
            dtype=np.float64)
        for name in ("table", "version", "digest"):  # the edition each row says valued it
            if name in df.columns:
                given[name] = df[name].astype(object).to_numpy()
    if period is None:
        _check_unused_periods(df, inp)
        valued = _value_chunks(df, resolved, a)
    else:
        from socialvalue_tom.periods import apportion

        parts = _guard(lambda: apportion(df, resolved, start=period[0], end=period[1],
                                         errors="collect", carry_forward=a.carry_forward))
        valued = _with_unread_periods(_value_parts(parts, resolved, a, period), df, period)
        record = valued.attrs.get("socialvalue_tom")
        if isinstance(record, dict):  # the file's rows, bad ones too, and the rows written
            issues = valued.attrs["issues"]  # numbered by the file's rows here
            record.update(input_rows=len(df), valued_parts=len(valued),
                          input_rows_not_valued=int(issues["row"].nunique()))
    read = df.attrs.get("socialvalue_tom.source")
    if isinstance(read, dict):  # a workbook: the sheet read goes into the provenance record
        valued.attrs[_SHEET_READ] = read["sheet"]
        valued.attrs["socialvalue_tom.source"] = read  # and its notes into the outputs
    if dates is not None:  # and how its dates were read: a re-run needs the same reading
        valued.attrs[_DATES_READ] = (dates, int(df.attrs.get(
            f"socialvalue_tom.{dates}_first", 0)))
    return valued, resolved


def _day_or_none(value: Any) -> Any:
    """A cell as the day it names (as apportion reads days), or None when it names none."""
    from socialvalue_tom.report import _day_or_none as day_of  # the one reading of a day

    day = day_of(value)
    return None if day is None else pd.Timestamp(day)


def _with_unread_periods(valued: pd.DataFrame, df: pd.DataFrame,
                         period: tuple[str, str]) -> pd.DataFrame:
    """``valued`` with the input rows whose period could not be read (apportion leaves them
    out) put back in input order, with no figures, as a bad row is kept without --period: the
    output file holds every input row, and the totals count them as not valued. A period end
    that is not a date is blank there; the issues file quotes it."""
    unread = np.unique(valued.attrs["issues"]["row"].to_numpy(dtype=np.int64))
    unread = unread[~np.isin(unread, valued["period_row"].to_numpy())]
    if not unread.size:
        return valued
    attrs = dict(valued.attrs)
    rows = df.iloc[unread].assign(period_row=unread)
    for name in (*period, "date"):  # as apportion gives them: days, or blank if not days
        if name in valued.columns:
            days = [_day_or_none(v) for v in rows[name]] if name in rows.columns else None
            rows[name] = pd.Series(days, index=rows.index, dtype=valued[name].dtype)
    rows = rows.reindex(columns=valued.columns)
    rows.attrs.clear()
    kept = valued.copy(deep=False)
    kept.attrs.clear()  # pandas compares attrs on concat, which fails on the issues table
    out = pd.concat([kept, rows])
    out = out.iloc[np.argsort(out["period_row"].to_numpy(), kind="stable")]
    out.attrs.update(attrs)
    return out


def _value_parts(parts: pd.DataFrame, tables: TablesLike, a: Assumptions,
                 period: tuple[str, str]) -> pd.DataFrame:
    """The apportioned rows valued so that a bad input row adds nothing, as without --period:
    none of its parts counts, in the totals or in the double-counting exclusions of its
    contract, though some of its parts are good.

    Each part is first valued on its own terms (the tables without their double-counting
    exclusions, so no other row has a say), which finds the problems that are the part's own;
    an input row with one is bad. The parts of the other rows are then valued together; a row
    that this finds a problem with (rejected as double counting, say) is bad too, and the rest
    are valued again without it, until no new problem appears (each round drops a row, so it
    ends). Bad rows' parts are kept with no figures, as value_frame keeps a bad row.
    """
    out, found = _parts_valued(parts, tables, a)
    out.attrs["issues"] = _issues_by_input_row(
        pd.concat(found, ignore_index=True), parts, period)
    return out


def _parts_valued(parts: pd.DataFrame, tables: TablesLike, a: Assumptions,
                  ) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """:func:`_value_parts`' valuation, with the issues each round found (numbered by part):
    the amounts the command writes for apportioned rows, which ``verify`` works out again."""
    alone = _value_chunks(parts, _without_exclusions(tables), a)
    row_of = parts["period_row"].to_numpy()
    found = [alone.attrs["issues"]]
    bad_rows = set(row_of[alone.attrs["issues"]["row"].to_numpy(dtype=np.int64)].tolist())
    while True:
        keep = ~np.isin(row_of, list(bad_rows))
        # With no row kept this values no row: the columns and attrs of a valuation still come.
        valued = _value_chunks(parts[keep], tables, a)
        issues = valued.attrs["issues"]
        if issues.empty:
            break
        positions = np.flatnonzero(keep)[issues["row"].to_numpy(dtype=np.int64)]
        found.append(issues.assign(row=positions))
        dropped = set(row_of[positions].tolist()) - bad_rows
        if not dropped or any(pd.isna(x) for x in dropped):
            break  # no row to drop (a part naming no row): as valued, issues kept
        bad_rows |= dropped
    return _merge_parts(parts, valued, keep), found


def _without_exclusions(tables: TablesLike) -> TablesLike:
    """``tables`` with no double-counting exclusion: each row valued as if alone."""
    from socialvalue_tom.engine import table_set

    editions = table_set(tables).editions
    if not any(t.spec.exclusions for t in editions):
        return tables
    return TableSet([ProxyTable(t.spec.model_copy(update={"exclusions": ()}), path=t.path,
                                price_index=t.price_index) if t.spec.exclusions else t
                     for t in editions])


def _merge_parts(parts: pd.DataFrame, valued: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The parts in their order: those in ``keep`` as ``valued``, the others with their own
    cells and no figures (value, edition, digest...), as value_frame leaves a bad row."""
    attrs = dict(valued.attrs)
    valued = valued.copy()
    valued.attrs.clear()  # pandas compares attrs on concat, which fails on the issues table
    columns = [*valued.columns, *(c for c in parts.columns if c not in valued.columns)]
    dropped = parts.iloc[np.flatnonzero(~keep)].reindex(columns=columns)
    dropped.attrs.clear()
    order = np.argsort(np.concatenate([np.flatnonzero(keep), np.flatnonzero(~keep)]),
                       kind="stable")
    out = pd.concat([valued, dropped]).iloc[order][columns]
    out.attrs.update(attrs)
    return out


def _check_unused_periods(df: pd.DataFrame, inp: Path) -> None:
    """Period columns without --period would be ignored: stop when the rows have no date to be
    valued at instead (exit 2); else the notes under the totals say so."""
    from socialvalue_tom.frame import PERIOD_COLUMNS

    if not set(PERIOD_COLUMNS) <= set(df.columns):
        return
    if "date" not in df.columns:
        _fail(f"{inp.name} has period_start and period_end but no date column: value it with "
              "--period period_start,period_end")
    # Else the notes under the totals say the periods were not read (report.basis_notes).


def _issues_by_input_row(issues: pd.DataFrame, parts: pd.DataFrame,
                         period: tuple[str, str]) -> pd.DataFrame:
    """The issues of apportioned rows numbered by the input rows they come from (so the issues
    file names the file's lines), with the period issues: one per field of an input row, the
    first part's (as value_frame gives one per field of a row). A problem found in a part says
    which part: its figures are the part's, not the row's."""
    mapped = issues.copy()
    pos = issues["row"].to_numpy(dtype=np.int64)
    mapped["row"] = parts["period_row"].to_numpy()[pos]
    share = parts["period_share"].to_numpy()[pos]
    if (share != 1.0).any():
        first, last = (parts[c].to_numpy()[pos] for c in period)
        mapped["reason"] = [
            r if s == 1.0 else (f"{r} (in the part {pd.Timestamp(a).date()} to "
                                f"{pd.Timestamp(b).date()} of the row's period, share {s:.6g})")
            for r, s, a, b in zip(mapped["reason"], share, first, last, strict=True)]
    mapped = mapped.drop_duplicates(["row", "field"])
    found = pd.concat([mapped, pd.DataFrame(parts.attrs["issues"])], ignore_index=True)
    return found.sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def _period_columns(period: str | None) -> tuple[str, str] | None:
    if period is None:
        return None
    names = [p.strip() for p in period.split(",")]
    if len(names) != 2 or not all(names):
        _fail(f"--period takes two column names separated by a comma (START,END), "
              f"not {period!r}")
    if all(re.fullmatch(r"[\d/.\-]+", n) and re.search(r"\d{4}", n) for n in names):
        # Dates where column names belong: the period is each row's, read from its columns.
        _fail(f"--period takes the names of the two columns holding each row's first and last "
              f"day (e.g. --period period_start,period_end), not dates ({period!r}): add "
              "those columns to the file, one period per row")
    return names[0], names[1]


#: The figures of a totals table: its other columns are the groups' keys.
_FIGURE_COLUMNS = ("rows", "rows_not_valued", "benefits_gbp", "disbenefits_gbp", "net_gbp",
                   "contract_value_gbp", "sv_ratio")


def _labelled(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with its keys as the table shows them ("(none)" for rows with no value),
    worked out over every group, shown or not, so that two groups never read alike."""
    from socialvalue_tom.report import year_labels

    keys = [c for c in summary.columns if c not in _FIGURE_COLUMNS]
    return summary.assign(**{c: year_labels(summary[c]) if c == "year"
                             else group_labels(summary[c]) for c in keys})


#: A totals table's title names these groups in words.
_GROUP_WORDS = {"year": "financial year", "quarter": "financial quarter"}


def _totals_title(group: str | None, prices: str | None, adds: bool = False) -> str:
    """A totals table's title: the groups, whether its figures add commitments to
    deliveries (``adds``), and the prices the amounts are in."""
    return ("Social value" + (f" by {_GROUP_WORDS.get(group, group)}" if group else "")
            + (", commitments and deliveries added together" if adds else "")
            + (f" ({prices})" if prices else ""))


def _totals_table(summary: pd.DataFrame, group: str | None, hidden: int = 0,
                  prices: str | None = None, adds: bool = False) -> Table:
    """The totals table of a :func:`_labelled` summary; ``hidden``: groups left out of
    ``summary``, counted on a line of their own before its last row (the Total); ``prices``:
    the prices the amounts are in, for the title ("2024/25 prices"); ``adds``: its figures
    add commitments to deliveries, which the title says."""
    table = _table(_totals_title(group, prices, adds))
    cols = [c for c in summary.columns if c not in _FIGURE_COLUMNS]
    for c in cols:
        table.add_column(c)
    # Rows not valued get a column only when there are some: they are listed in the issues.
    rejected = bool((summary["rows_not_valued"] > 0).any())
    for c in ("Rows", *(["Not valued"] if rejected else []), "Benefits", "Disbenefits", "Net"):
        table.add_column(c, justify="right")
    ratio = "sv_ratio" in summary.columns
    if ratio:
        table.add_column(f"SV per {_pound().strip()}", justify="right")
    records = summary.to_dict("records")
    for i, row in enumerate(records):
        if hidden and i == len(records) - 1:
            table.add_row(f"({hidden:,} more)", *[""] * (len(table.columns) - 1))
        cells = [str(row[c]) for c in cols]
        cells += [str(row["rows"]), *([str(row["rows_not_valued"])] if rejected else []),
                  _gbp(row["benefits_gbp"]), _gbp(row["disbenefits_gbp"]),
                  _gbp(row["net_gbp"])]
        if ratio:
            cells.append("–" if pd.isna(row["sv_ratio"]) else ratio_text(row["sv_ratio"]))
        table.add_row(*cells)
    return table


def _file_source(path: Path, valued: pd.DataFrame | None = None,
                 period: tuple[str, str] | None = None) -> str:
    """The input as the provenance record names it: which file, exactly (name and sha256),
    and how it was read where that changes the figures: the workbook's sheet, the period
    columns its rows were apportioned by (an auditor re-running the valuation needs both)."""
    from socialvalue_tom import io as svio

    named = _guard(lambda: svio.file_source(path))
    sheet = None if valued is None else valued.attrs.get(_SHEET_READ)
    if isinstance(sheet, str):
        named += f", sheet {sheet!r}"
    if period is not None:
        named += f", rows apportioned over their periods ({period[0]} to {period[1]})"
    read = None if valued is None else valued.attrs.get(_DATES_READ)
    if isinstance(read, tuple):
        order, cells = read
        named += (f", dates written {order} first read as such (--{order}-first: {cells:,} "
                  "cell(s))")
    return named


def _grouped(frame: pd.DataFrame, groups: list[By]) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` and the summary keys of the ``--by`` groupings: a crosswalk's (``ppn002``,
    ``ppn0620``, ``toms``) adds its groups to the rows and groups by the first (the outcome,
    or the TOMs codes)."""
    from socialvalue_tom.tables.crosswalk import CROSSWALK_GROUPS, with_crosswalk

    keys = []
    added: set[str] = set()
    for by in groups:
        name = _crosswalk_of(by)
        if name is None:
            keys.append(by.value)
            continue
        keys.append(by.value if by.value != name else f"{name}_{CROSSWALK_GROUPS[name][0]}")
        # Added once per crosswalk (--by ppn002 --by ppn002_mission read one), whatever the
        # input holds: a return's own toms_codes column was grouped by, under the note that
        # the crosswalk had grouped the rows (a social value manager's review).
        if name not in added:
            frame = _guard(partial(with_crosswalk, frame, name))
            added.add(name)
    return frame, keys


def _crosswalk_of(by: By) -> str | None:
    """The crosswalk a ``--by`` groups by (``ppn002`` for ``ppn002_mission``), or None."""
    from socialvalue_tom.tables.crosswalk import CROSSWALK_GROUPS

    if by is None:
        return None
    return next((name for name in CROSSWALK_GROUPS
                 if by.value == name or by.value.startswith(f"{name}_")), None)


def _guard_contract_values(fn: Callable[[], _T], valued: pd.DataFrame, inp: Path | None,
                           sheet: str | None) -> _T:
    """``_guard(fn)``, where a contract given two contract values is named by the file's
    lines (or sheet rows), as bad rows are, rather than by 0-based row labels."""
    from socialvalue_tom.errors import RuleError

    try:
        return fn()
    except RuleError as exc:
        rows, values = exc.details.get("rows"), exc.details.get("values")
        if inp is None or exc.details.get("contract_id") is None or not rows or not values:
            raise
        found = [_input_row(valued, r) for r in rows]
        lines: dict[int, int] = {}
        if inp.suffix.lower() in (".csv", ".xlsx"):
            from socialvalue_tom import io as svio

            lines = _guard(lambda: svio.source_lines(
                inp, [r for r in found if r is not None], sheet=sheet))
        # Named as the issues are: a line of a CSV file, a row of the sheet read.
        word = ("line" if inp.suffix.lower() == ".csv" else
                f"sheet {sheet!r} row" if inp.suffix.lower() == ".xlsx" and sheet is not None
                else "sheet row" if inp.suffix.lower() == ".xlsx" else "row")
        where = [f"{word} {lines[r]}" if r in lines else f"row {r}" if r is not None
                 else "a row" for r in found]
        given = ", ".join(f"{grouped_digits(float(v))} at {w}"
                          for v, w in zip(values, where, strict=False))
        more = ", ..." if int(exc.details.get("count") or 0) > len(values) else ""
        _fail(f"{inp.name}: contract {exc.details['contract_id']!r} has more than one "
              f"contract_value ({given}{more}): give each contract one value, its "
              "whole-life value (an extension's included), which its SV per £ divides "
              f"by{_cli_error_words(exc.details.get('advice') or '')} "
              "[see docs/errors.md#rule-error]")


def _input_row(valued: pd.DataFrame, label: Any) -> int | None:
    """The input row (0-based) of ``valued``'s row ``label``: its ``period_row`` where the
    rows are parts of periods, else the label itself (the input's row number)."""
    try:
        if "period_row" in valued.columns:
            found = valued.loc[label, "period_row"]
            return int(found.iloc[0] if isinstance(found, pd.Series) else found)
        return int(label)
    except (KeyError, TypeError, ValueError):
        return None


def _print_totals(valued: pd.DataFrame, groups: list[By], tables: TablesLike,
                  inp: Path | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Print the totals (per group of the ``groups``, one or two: at most
    :data:`_SHOWN_GROUPS` of them) and their notes; return the totals table, every group and
    the Total. ``inp`` and ``sheet``: the file read, to name a contract's conflicting values
    by its lines."""
    from socialvalue_tom.report import (
        _bare,
        _price_basis,
        _rounding_note,
        _stage_totals,
        _total_label,
        _valued_rows,
        annotate,
        ratio_spread_note,
    )
    from socialvalue_tom.report import _summarise as summarise  # says the year column below
    frame, keys = _grouped(_guard(lambda: annotate(valued, tables)), groups)
    summary = _guard(lambda: _guard_contract_values(
        lambda: summarise(frame, by=keys, tables=tables), valued, inp, sheet))
    spread = ratio_spread_note(summary)
    if keys:
        label = _total_label(summary.iloc[:, 0])
        total = summarise(frame, by=[]).assign(**{str(summary.columns[0]): label},
                                               **dict.fromkeys(keys[1:]))
        summary = pd.concat([summary, total[summary.columns]], ignore_index=True)
    count = len(summary) - 1
    hidden = count - _SHOWN_GROUPS if keys and count > _SHOWN_GROUPS else 0
    labelled = _labelled(summary)
    if keys[1:]:  # the Total row is named in the first key's column, and the others blank
        labelled.loc[labelled.index[-1], keys[1:]] = ""
    shown = (pd.concat([labelled.iloc[:_SHOWN_GROUPS], labelled.iloc[-1:]]) if hidden
             else labelled)
    # A reconciliation review: the same rows read £71,812.00, £69,019.73 or £74,137.85 by
    # --price-year, under one title; the title says the prices.
    prices = _price_basis(valued, tables)
    words = " and ".join(_GROUP_WORDS.get(k, k) for k in keys) or None
    # An audit committee's review: "Social value by theme" read £2.34m for jobs here and
    # £0.99m under the report's "By theme", which counts deliveries alone; the title says
    # where a total adds targets to what met them.
    adds = "stage" not in keys and len(_stage_totals(_valued_rows(_bare(valued)))) == 2
    _console().print(_totals_table(shown, words, hidden, prices, adds))
    # What is printed under the table, kept for a totals workbook's Notes sheet (an auditor's
    # review: the file had no price basis, caveat or note of its own).
    said: list[str] = [_totals_title(words, prices, adds)]

    def say(line: str) -> None:
        _console().print(_printable(line), markup=False)
        said.append(line)

    for period in ("year", "quarter"):
        if period in keys and period in valued.columns:  # the file's own, not read
            say(f"Note: --by {period} groups by the financial {period} of each row's date; "
                f"the input's own {period} column is not read.")
    if "quarter" in keys:
        from socialvalue_tom.report import _quarters_note

        spanned = _quarters_note(valued)
        if spanned:
            say(f"Note: {spanned}.")
    if hidden:
        named = " and ".join(g.value for g in groups)
        _console().print(f"Note: {count:,} {named} groups: the first "
                         f"{_SHOWN_GROUPS} are shown; --totals FILE.csv writes them all.",
                         markup=False)
    if not len(valued):  # £0.00 from an unfilled template is not a return that delivered nothing
        say("Note: the input has no data rows, so nothing was valued.")
    note = (_rounding_note(summary.iloc[:-1], summary.iloc[-1:]) if keys
            else _rounding_note(summary))
    if note:
        say(f"Note: {note[0].lower()}{note[1:]}")
    if spread:
        say(f"Note: {spread.replace('grouped by contract', '--by contract')}")
    # Said on stderr as the workbook was read; kept with the totals (a data-quality steward's
    # review: a totals workbook had no word of the hidden rows it counted).
    said += _read_lines(valued)
    for line in _edition_lines(frame, tables):
        say(line)
    caveat = _illustrative_caveat(frame)
    if caveat:
        say(caveat)
    for line in _basis_lines(valued, tables, stages_apart=By.stage in groups):
        say(line)
    for crosswalk in dict.fromkeys(_crosswalk_of(g) for g in groups):
        if crosswalk is None:
            continue
        from socialvalue_tom.tables.crosswalk import load_crosswalk

        # As the report says it beside the same totals.
        meta = load_crosswalk(crosswalk).attrs["crosswalk"]
        say(f"Note: groups from the crosswalk {crosswalk} ({meta['title']}): "
            f"{meta['caveat']}; {meta['amounts']}.")
    summary.attrs["notes"] = said
    return summary


def _cli_words(note: str) -> str:
    """A basis note with the library's option names as this command's flags (the notes are
    the library's own text, so their option names may be replaced wherever they appear)."""
    for name, flag in (("group by stage", "use --by stage"),
                       ("one year as both price_year and discount_base_year",
                        "one year as both --price-year and --discount-base-year"),
                       ("a common price_year", "a common --price-year"),
                       ("a common discount_base_year", "a common --discount-base-year"),
                       ("discount_base_year", "--discount-base-year"),
                       ("(carry_forward)", "(--carry-forward)"),
                       ("value each with sheet=NAME", "value each with --sheet NAME"),
                       ("where the table records one (bound)",
                        "where the table records one (--bound)")):
        note = note.replace(name, flag)
    return note


#: Library phrases in errors, row issues and traces, as this command names the options. Whole
#: phrases only: the messages also quote paths and cells, which must be shown as they are.
_ERROR_PHRASES = (
    ("(carry_forward=True would use the latest)", "(--carry-forward would use the latest)"),
    ("(carry_forward=True)", "(--carry-forward)"),
    ("(carry_forward)", "(--carry-forward)"),
    (": apportion() reads quantity, ", ": --period reads quantity, "),
    ("apportion(): start and end name the same column",
     "--period names the same column twice:"),
    ("apportion(): start and end cannot be the date column: each part is dated on its own "
     "first day (copy the column to period_start or period_end first)",
     "--period cannot name the date column: each part is dated on its own first day (copy "
     "the column to period_start or period_end first)"),
    ("choose one with sheet=NAME", "choose one with --sheet"),
    ("one year as both price_year and discount_base_year",
     "one year as both --price-year and --discount-base-year"),
    ("a common price_year puts", "a common --price-year puts"),
    ("a common discount_base_year", "a common --discount-base-year"),
    ("assumption 'price_year':", "--price-year:"),
    (": bid_prices, when given, prices every tenderer (basis='absolute' does not need them: "
     "leave bid_prices out to score without)",
     ": --price, when given, prices every tenderer (--basis absolute does not need them: "
     "leave --price out to score without)"),
    ("basis='per-gbp' needs bid_prices", "--basis per-gbp needs --price for every tenderer"),
    ("A bid's price is score_bids(bid_prices=...), not contract_value",
     "A bid's price is socialvalue-tom bids --price SUPPLIER=GBP, not contract_value"),
    ("assumption 'discount_base_year':", "--discount-base-year:"),
    ("where the table records one (bound)", "where the table records one (--bound)"),
    ("(dates_read_day_first)", "(--day-first)"),
    ("(dates_read_month_first)", "(--month-first)"),
)


def _cli_error_words(message: str) -> str:
    """An error, row issue or trace with the library's option names as this command's flags."""
    for phrase, flag in _ERROR_PHRASES:
        message = message.replace(phrase, flag)
    return message


InputArg = Annotated[Path, typer.Argument(metavar="INPUT",
                                           help="Outcomes: .csv, .xlsx or .parquet.")]
TablesOpt = Annotated[str, typer.Option(
    "--tables", metavar="NAME|NAME:VERSION[@DIGEST]|FILE[@DIGEST]",
    help="Table family name (e.g. uk-national), one edition (uk-national:2024) or a table "
    "file (.yaml), or several separated by commas: a file's edition replaces the family's "
    "for its dates. An edition or file may end in @DIGEST, the content digest it must have "
    "(12 or more hex digits of the one an earlier run recorded).")]
# Options with a fixed set of values are read as text and checked by _one_of (see there).
ErrorsOpt = Annotated[str, typer.Option(
    "--errors", metavar=f"[{'|'.join(Errors)}]", callback=_one_of(Errors),
    help="raise: stop on any bad row; collect: value the good rows.")]
PriceYearOpt = Annotated[int | None, typer.Option(
    metavar="N", help="Restate values in this year's prices.")]
BaseYearOpt = Annotated[int | None, typer.Option(
    metavar="N", help="Discount to this financial year.")]
DayFirstOpt = Annotated[bool, typer.Option(
    "--day-first", help="Read dates written day first, as the UK writes them (30/06/2025, "
    "30.06.2025), as the days they mean; without it only YYYY-MM-DD is read, as 03/04/2025 "
    "is 3 April in the UK and 4 March in the US.")]
MonthFirstOpt = Annotated[bool, typer.Option(
    "--month-first", help="Read dates written month first, as the US writes them "
    "(06/30/2025), as the days they mean (as Excel saves dates where the computer's locale "
    "is the US's); not with --day-first.")]
CarryOpt = Annotated[bool, typer.Option(
    help="Value rows dated after the last edition's valid_to with that edition: its proxies "
    "and its year's prices, not a newer year's (said in each trace and under the totals).")]
BoundOpt = Annotated[str, typer.Option(
    "--bound", metavar=f"[{'|'.join(Bound)}]", callback=_one_of(Bound),
    help="Which proxy values: central, the tables' low or high bounds, or least-favourable "
    "(benefits low, disbenefits high) / most-favourable, for a net value's range.")]
SheetOpt = Annotated[str | None, typer.Option(
    metavar="NAME", help="For .xlsx input: the sheet to read (default: the first visible one).")]
PeriodOpt = Annotated[str | None, typer.Option(
    metavar="START,END",
    help="Columns holding each row's reporting period (first and last day): a period "
    "crossing an edition boundary is split by days, each part valued with its own edition.")]


@app.command("value")
def value_cmd(
    input: InputArg,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write valued rows (.csv, .xlsx or .parquet).")] = None,
    sheet: SheetOpt = None,
    period: PeriodOpt = None,
    tables: TablesOpt = "uk-national",
    # A list: given twice, a table per pair of groups; a third is refused, not dropped.
    by: Annotated[list[str] | None, typer.Option(
        metavar=f"<{'|'.join(By)}>", help="Print totals per group; given twice (--by year "
        "--by stage), per pair of groups.",
        callback=_one_of(By))] = None,
    errors: ErrorsOpt = Errors.raise_.value,
    price_year: PriceYearOpt = None,
    discount_base_year: BaseYearOpt = None,
    carry_forward: CarryOpt = False,
    day_first: DayFirstOpt = False,
    month_first: MonthFirstOpt = False,
    bound: BoundOpt = Bound.central.value,
    range_: Annotated[bool, typer.Option(
        "--range", help="Also print each net total at the least-favourable, central and "
        "most-favourable proxy values side by side (the input valued three times); not with "
        "--bound.")] = False,
    totals: Annotated[Path | None, typer.Option(
        "--totals", metavar="FILE.csv|FILE.xlsx", help="Write the totals table (every --by "
        "group, and the Total) as CSV or an Excel workbook: the terminal shows the first "
        f"{_SHOWN_GROUPS} groups.")] = None,
    provenance: Annotated[Path | None, typer.Option(
        "--provenance", metavar="FILE.json", help="Write what produced the values as JSON: "
        "the library's version, the settings, the editions and their digests, the input's "
        "sha256 (kept in .xlsx and .parquet outputs too; a CSV has no room for it).")] = None,
) -> None:
    """Value an outcome file and print totals (penny-rounded)."""
    groups = _groupings(by)
    if range_ and Bound(bound) != Bound.central:
        _fail(f"--range values at the least-favourable, central and most-favourable bounds "
              f"side by side: leave out --bound {bound}")
    from socialvalue_tom.io import same_file

    if totals is not None:
        _check_output(totals, (".csv", ".xlsx"))
        if same_file(totals, input) or (output is not None and same_file(totals, output)):
            _fail(f"--totals {totals} is the input or the output: give it a name of its own")
        _refuse_totals_at_issues(totals, input, output, sheet)
    if provenance is not None:
        _check_output(provenance, (".json",))
        if any(other is not None and same_file(provenance, other)
               for other in (input, output, totals)):
            _fail(f"--provenance {provenance} is the input or another output: give it a name "
                  "of its own")
    a = _assumptions(price_year, discount_base_year, carry_forward, bound)
    valued, resolved, issues = _value_or_stop(input, tables, a, errors, output, sheet,
                                              VALUE_SUFFIXES, _period_columns(period),
                                              dates=_date_order(day_first, month_first))
    if groups:  # a --by the input cannot give (no supplier_id): a usage error,
        # which leaves an earlier OUT alone, as an unknown --by does
        from socialvalue_tom.report import _summarise

        empty, keys = _grouped(valued.iloc[:0], groups)
        _guard(lambda: _summarise(empty, by=keys, tables=resolved))
    # Totals first: input they cannot use (a contract given two contract values) stops the
    # command before anything is written, and an earlier run's OUT is not left behind.
    try:
        summary = _print_totals(valued, groups, resolved, input, sheet)
        if range_:
            _print_range(valued, groups, resolved, lambda end: _value_input(
                input, tables, a.model_copy(update={"bound": end}), sheet,
                _period_columns(period), dates=_date_order(day_first, month_first))[0])
        source = (_file_source(input, valued, _period_columns(period))
                  if output is not None or provenance is not None or totals is not None
                  else None)
        if totals is not None:
            from socialvalue_tom.io import provenance as record_of

            _write_csv(summary, totals, "the totals file", record=record_of(valued, source=source))
        if output is not None:
            from socialvalue_tom import io as svio

            _guard(lambda: svio.write_valuations(valued, output, source=source))
        if provenance is not None:
            _write_provenance(valued, provenance, source)
    except typer.Exit:  # nothing of this run written: nothing of an earlier one left either
        if len(issues):  # the rows' own problems are still listed, with those of the totals
            _report_issues(issues, input, output, sheet)
        _remove_stale_output(input, output, issues_too=not len(issues), sheet=sheet)
        raise
    if output is not None:
        _console().print(_printable(f"Wrote {len(valued)} row(s) to {output}"), markup=False)
        settings = _settings_text(a)
        if output.suffix.lower() == ".csv" and provenance is None and (
                settings or tables != "uk-national"):
            # A CSV has no room for the record: its header reads as a default run's.
            _console().print(_printable(
                f"Note: {output.name} keeps no record of what valued it ("
                f"{settings or 'tables ' + tables}): write one beside it with --provenance "
                "FILE.json, or write .xlsx or .parquet, which keep it."), markup=False)
    if totals is not None:
        _console().print(_printable(f"Wrote the totals of {len(summary) - 1:,} group(s) and "
                                    f"the Total to {totals}"), markup=False)
    if provenance is not None:
        _console().print(_printable(f"Wrote what produced the values to {provenance}"),
                         markup=False)
    _exit_if_any(issues, input, output, sheet)


#: The ends of a net value's range, as ``Assumptions.bound`` names them, and their columns.
_RANGE_COLUMNS = {"least-favourable": "Least favourable", "central": "Central",
                  "most-favourable": "Most favourable"}


def _print_range(valued: pd.DataFrame, groups: list[By], tables: TablesLike,
                 value_at: Callable[[str], pd.DataFrame]) -> None:
    """Print the net totals (per ``--by`` group, and the Total) at the least-favourable,
    central and most-favourable proxy values side by side: the range a board is shown beside
    the central figure, from one run (an appraisal review: three runs of --bound, copied
    together by hand). ``valued``: the rows at central values; ``value_at(bound)``: the input
    valued at another bound. Under it, the rows whose proxies record no bound, which the range
    leaves at their central value."""
    from socialvalue_tom.report import (
        _known_editions,
        _price_basis,
        _summarise,
        _unbounded_rows,
        _valued_rows,
        annotate,
        input_rows,
        measures_named,
    )

    at = {end: valued if end == "central" else value_at(end) for end in _RANGE_COLUMNS}
    nets: dict[str, pd.DataFrame] = {}
    keys: list[str] = []
    for end, rows in at.items():
        frame, keys = _grouped(_guard(partial(annotate, rows, tables)), groups)
        summary = _summarise(frame, by=keys, tables=tables)
        if keys:
            named = [c for c in summary.columns if c not in _FIGURE_COLUMNS]
            whole = _summarise(frame, by=[]).assign(**dict.fromkeys(named))
            summary = pd.concat([summary, whole[summary.columns]], ignore_index=True)
        nets[end] = summary
    central = _labelled(nets["central"])
    words = " and ".join(_GROUP_WORDS.get(k, k) for k in keys)  # as the totals' title
    keys = [c for c in central.columns if c not in _FIGURE_COLUMNS] if keys else []
    if keys:
        central.loc[central.index[-1], keys] = [_total_label_of(nets["central"]), *[""] * (
            len(keys) - 1)]
    count = len(central) - 1
    hidden = count - _SHOWN_GROUPS if keys and count > _SHOWN_GROUPS else 0
    prices = _price_basis(valued, tables)
    table = _table("Net social value within the proxies' recorded bounds"
                   + (f" by {words}" if words else "") + (f" ({prices})" if prices else ""))
    for c in keys:
        table.add_column(c)
    for c in _RANGE_COLUMNS.values():
        table.add_column(c, justify="right")
    shown = [*range(min(count, _SHOWN_GROUPS) if hidden else count), count]
    for i in shown:
        if hidden and i == count:
            table.add_row(f"({hidden:,} more)", *[""] * (len(table.columns) - 1))
        table.add_row(*[str(central.iloc[i][c]) for c in keys],
                      *[_gbp(nets[end]["net_gbp"].iloc[i]) for end in _RANGE_COLUMNS])
    _console().print(table)
    ok = _valued_rows(valued)
    eds = _known_editions(ok, tables)
    ends = [_unbounded_rows(ok, eds, end) for end in ("least-favourable", "most-favourable")]
    if ends[0] is not None and ends[1] is not None and (ends[0] & ends[1]).any():
        rows = ok[ends[0] & ends[1]]
        _console().print(_printable(
            f"Note: the range moves only the proxies that record bounds: {input_rows(rows)} of "
            f"{input_rows(ok)} row(s) ({_gbp(_total_of(rows))} of {_gbp(_total_of(ok))} at "
            f"central values; {measures_named(rows)}) record none and stay at their central "
            "value at both ends, so their proxies' uncertainty is not in it."), markup=False)


def _total_of(rows: pd.DataFrame) -> Any:
    """The penny total of ``rows``' values (a ``Decimal``)."""
    from socialvalue_tom.money import total

    return total(rows["value_gbp"])


def _total_label_of(summary: pd.DataFrame) -> str:
    """The Total row's label, as the totals table names it."""
    from socialvalue_tom.report import _total_label

    return str(_total_label(summary.iloc[:-1, 0]))


def _illustrative_caveat(annotated: pd.DataFrame) -> str | None:
    """The caveat for rows valued with proxies labelled illustrative (``annotated``: rows
    :func:`~socialvalue_tom.report.annotate` gave their ``illustrative`` flag), naming their
    measures and counting input rows, as the report counts them (parts count once)."""
    from socialvalue_tom.report import input_rows, measures_named

    flags = annotated["illustrative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    illus = input_rows(annotated[flags])
    if not illus:
        return None
    return (f"Caveat: {illus} row(s) use proxy values labelled illustrative "
            f"({measures_named(annotated[flags])}): not for decisions.")


def _groupings(by: list[str] | None) -> list[By]:
    """The ``--by`` groupings given: one, or two for a table per pair of groups (a contract
    manager's review: ``--by year --by stage`` sets each year's commitments and deliveries
    apart, where ``--by year`` added them). More, or one twice, exits 2 before any work (a
    third would be dropped without a word, or grouped in a table too wide to read)."""
    if not by:
        return []
    given = " ".join(f"--by {b}" for b in by)
    if len(by) > 2:
        _fail(f"--by may be given once or twice, not {len(by)} times ({given}): run the "
              "command once per table")
    if len(set(by)) < len(by):
        _fail(f"--by names the same grouping twice ({given})")
    return [By(b) for b in by]


@app.command("explain")
def explain_cmd(
    input: InputArg,
    row: Annotated[list[int] | None, typer.Option(
        "--row", metavar="N", help="Data row to explain, 0-based as the issues file numbers "
        "rows (the first row under the header is 0); repeat for several.")] = None,
    line: Annotated[list[int] | None, typer.Option(
        "--line", metavar="N", help="Or the row at this line of a .csv file (or row of an "
        ".xlsx sheet), as messages and the issues file's line column number them (the "
        "header is 1); repeat for several.")] = None,
    sheet: SheetOpt = None,
    period: PeriodOpt = None,
    tables: TablesOpt = "uk-national",
    price_year: PriceYearOpt = None,
    discount_base_year: BaseYearOpt = None,
    carry_forward: CarryOpt = False,
    day_first: DayFirstOpt = False,
    month_first: MonthFirstOpt = False,
    bound: BoundOpt = Bound.central.value,
) -> None:
    """Print how rows of an outcome file were valued, step by step (exit 1 if one was not).

    A valued file that keeps its record (.xlsx, .parquet), explained without settings or
    tables of its own, is explained with the recorded settings and editions."""
    a = _assumptions(price_year, discount_base_year, carry_forward, bound)
    _check_input(input)
    _check_sheet(sheet, input)
    if (tables, price_year, discount_base_year, carry_forward, Bound(bound)) == (
            "uk-national", None, None, False, Bound.central):
        recorded = _recorded_settings(input)
        if recorded is not None:
            a, tables = recorded
    # The whole file is valued, so a row's double-counting share is the one its contract gives.
    held: dict[str, np.ndarray] = {}  # what a valued file says each row is worth
    valued, _ = _value_input(input, tables, a, sheet, _period_columns(period), held,
                             dates=_date_order(day_first, month_first))
    from socialvalue_tom.frame import explain_row

    issues = valued.attrs["issues"]
    numbers = (valued["period_row"].to_numpy() if "period_row" in valued.columns
               else np.arange(len(valued)))
    total_rows = int(numbers.max()) + 1 if len(numbers) else 0
    at_lines = _rows_at_lines(line or [], input, sheet, total_rows)
    where = {r: f" (line {n})" if input.suffix.lower() == ".csv" else f" (sheet row {n})"
             for n, r in at_lines}
    row = [*(row or []), *(r for _, r in at_lines)]
    if not row:
        _fail("give the row to explain: --row N (0-based data row) or --line N (the file's "
              "line, as messages give it)")
    for r in row:  # every --row checked before any is printed
        if not 0 <= r < total_rows:
            _fail(f"--row {r}: {input.name} has data rows 0 to {total_rows - 1}"
                  if total_rows else f"--row {r}: {input.name} has no data rows")
    not_valued = False
    for r in row:
        found = issues[issues["row"] == r]
        if len(found):
            not_valued = True
            reasons = "; ".join(f"{f}: {_cli_error_words(str(why))}"
                                for f, why in zip(found["field"], found["reason"], strict=True))
            _console().print(_printable(f"Row {r}{where.get(r, '')} was not valued: "
                                        f"{reasons}"), markup=False)
            continue
        positions = np.flatnonzero(numbers == r)
        for k, position in enumerate(positions, 1):
            part = (f" (part {k} of {len(positions)} of its period)"
                    if len(positions) > 1 else "")
            _console().print(f"Row {r}{where.get(r, '')}{part}:", markup=False)
            trace = _guard(partial(explain_row, valued, int(position)))
            _console().print(_printable_lines(_cli_error_words(trace)), markup=False)
            _note_held_amount(held, valued, int(position), r if period is None else None)
    if not_valued:
        raise typer.Exit(1)


def _recorded_settings(valued_file: Path) -> tuple[Assumptions, str] | None:
    """The settings and editions (pinned to their digests, as ``--tables`` text) that the
    record ``valued_file`` keeps name, said on stdout; None where it keeps none, or names an
    edition of the user's own (which ``--tables`` must give: said too)."""
    from socialvalue_tom import io as svio

    if valued_file.suffix.lower() not in (".xlsx", ".parquet"):
        return None
    try:
        record = svio.read_provenance(valued_file)
        a = (None if record is None
             else Assumptions.model_validate(record.get("assumptions")))
    except SocialValueError as exc:
        # Not asked for: a workbook's own sheet named Provenance, or a record of settings
        # this release does not know, is said and set aside (the run goes on as given).
        _console().print(_printable(
            f"Note: {valued_file.name}'s record could not be read ({exc.message}): "
            "explained with the settings given here."), markup=False)
        return None
    if record is None or a is None:
        return None
    editions = [e for e in record.get("editions", []) if e.get("edition") and e.get("digest")]
    pinned, own = _pinned_editions(editions)
    if own or not editions:
        _console().print(_printable(
            f"Note: {valued_file.name}'s record names {', '.join(own) or 'no editions'}, not "
            "embedded editions: explained with the settings and tables given here (give "
            "--tables and the settings value was given to explain it as it was valued)."),
            markup=False)
        return None
    shown = _settings_text(a)
    _console().print(_printable(
        f"Settings and editions from {valued_file.name}'s record: "
        f"{', '.join(e['edition'] for e in editions)}{'; ' + shown if shown else ''}."),
        markup=False)
    return a, pinned


def _settings_text(a: Assumptions) -> str:
    """The settings of ``a`` that differ from the defaults, as command-line options."""
    said = []
    for name, value in a.model_dump().items():
        if value != Assumptions.model_fields[name].default:
            said.append(f"{name} {value}")
    return ", ".join(said)


def _note_held_amount(held: dict[str, np.ndarray], valued: pd.DataFrame, position: int,
                      row: int | None) -> None:
    """Where the file explained is a valued file whose amount for the row differs from the
    one just worked out (other settings, or an edited cell), say so: the trace explains the
    new amount, not the file's. ``row``: the file's row of ``position`` (None for the parts
    of periods, whose file amounts are not the parts')."""
    amounts = held.get("value_gbp")
    if amounts is None or row is None or not 0 <= row < len(amounts):
        return
    file_amount = float(amounts[row])
    now = float(valued["value_gbp"].iloc[position])
    if _same_amount(file_amount, now):
        return
    said = "no amount" if np.isnan(file_amount) else _money_or_blank(file_amount)
    edition = _other_edition(held, valued, position, row)
    why = (f"the row says it was valued with {edition}, not the edition used here: "
           f"--tables {edition.replace(' digest ', '@')} explains it as it was, where "
           "that edition is installed"
           if edition else "it was valued with other settings, or the cell was edited since")
    _console().print(_printable(
        f"Note: the file says {said} for this row, not {_money_or_blank(now)}: {why} "
        "(socialvalue-tom verify checks a valued file against the record it keeps)."),
        markup=False)


def _other_edition(held: dict[str, np.ndarray], valued: pd.DataFrame, position: int,
                   row: int) -> str | None:
    """The edition a valued file's row names (its table, version and digest columns) where
    it is not the one that valued the row now, as ``uk-national:2025 digest 1a2b...``: an
    output made before a correction of its edition (a table author's review: the note
    blamed other settings or an edited cell)."""
    # As ids are read: a CSV reader reads a version 2025 as a number.
    cells = [key_text(held[name][row]) if name in held else None
             for name in ("table", "version", "digest")]
    if any(c is None for c in cells):
        return None
    table, version, digest = (str(c) for c in cells)
    if not re.fullmatch(r"[0-9a-f]{12,64}", digest) or str(
            valued["digest"].iloc[position]).startswith(digest):
        return None
    return f"{table}:{version} digest {digest[:12]}"


def _rows_at_lines(lines: list[int], inp: Path, sheet: str | None,
                   total_rows: int) -> list[tuple[int, int]]:
    """``(line, data row)`` for each of ``lines`` of a .csv file (or rows of an .xlsx sheet),
    as messages number them; exit 2 for a line that holds no data row, or a file that has no
    lines."""
    if not lines:
        return []
    if inp.suffix.lower() not in (".csv", ".xlsx"):
        _fail(f"--line applies to .csv and .xlsx input (a {inp.suffix} file has no lines): "
              "give --row N")
    from socialvalue_tom import io as svio

    at = _guard(lambda: svio.source_lines(inp, range(total_rows), sheet=sheet))
    by_line = {n: r for r, n in at.items()}
    rows = []
    for n in lines:
        if n not in by_line:
            span = (f"data rows are at lines {min(by_line)} to {max(by_line)}" if by_line
                    else "it has no data rows")
            _fail(f"--line {n}: line {n} of {inp.name} holds no data row (the header is line "
                  f"1; {span})")
        rows.append((n, by_line[n]))
    return rows


def _value_or_stop(input: Path, tables: str, a: Assumptions, errors: str,
                   output: Path | None, sheet: str | None, suffixes: tuple[str, ...],
                   period: tuple[str, str] | None = None,
                   check: Callable[[pd.DataFrame], None] | None = None,
                   dates: DateOrder | None = None,
                   ) -> tuple[pd.DataFrame, TablesLike, pd.DataFrame]:
    """Value the input file; the valued rows, the tables used and the bad-row issues
    (``check`` and ``dates`` as for :func:`_value_input`)."""
    _check_input(input)
    from socialvalue_tom.io import same_file

    if output is not None and same_file(output, input):
        _fail(f"the output {output} is the input file: write the results somewhere else")
    if output is not None:
        # Only files of the kinds this command writes are ever replaced or, when bad rows stop
        # the run, removed (never a table file or anything else named by mistake).
        _check_output(output, suffixes)
        # The writer's extra is found missing now, not after the file has been valued.
        writer = {".xlsx": ("openpyxl", "excel"), ".parquet": ("pyarrow.parquet", "parquet")}
        if output.suffix.lower() in writer:
            _needs_extra(*writer[output.suffix.lower()], f"{output.suffix.lower()} output")
    _check_issues_path(input, output, sheet)
    from socialvalue_tom.io import _not_a_file_to_replace

    issues_at = _issues_path(input, output, sheet)
    special = _not_a_file_to_replace(issues_at)  # found now, not after the output is written
    if special:
        _fail(f"cannot write the issues file {issues_at}: {special}")
    _check_sheet(sheet, input)
    valued, resolved = _value_input(input, tables, a, sheet, period, check=check, dates=dates)
    issues = valued.attrs["issues"]
    _stop_if_raising(issues, errors, input, output, sheet)
    return valued, resolved, issues


def _stop_if_raising(issues: pd.DataFrame, errors: str, input: Path,
                     output: Path | None, sheet: str | None = None) -> None:
    """With --errors raise, bad rows stop the command before anything is written (exit 1)."""
    if len(issues) and errors == Errors.raise_:
        _report_issues(issues, input, output, sheet)
        err = _console(stderr=True)
        err.print("nothing written (use --errors collect to value the good rows)")
        _remove_stale_output(input, output, sheet=sheet)
        raise typer.Exit(1)


#: Why a file cannot be replaced or removed, most often (Windows keeps a file open in Excel
#: locked).
_OPEN_ELSEWHERE = " (is it open in another program, Excel say? close it and run again)"


def _remove_stale_output(input: Path, output: Path | None, *, issues_too: bool = False,
                         sheet: str | None = None) -> None:
    """When a run stops before writing OUT, remove an existing OUT: an earlier run's results
    under the same name would be taken for this input's (OUT is never the input: refused
    before the run). ``issues_too``: the run wrote no issues file either, so an earlier run's
    list of problems under that name is removed too (only a file this command wrote)."""
    if output is not None and output.is_file():
        try:
            output.unlink()
        except OSError as exc:
            # Open in Excel on Windows, say: the run's own error (and exit status) stands;
            # this says what the file still holds, in one line rather than a second error.
            _console(stderr=True).print(_printable(
                f"could not remove the existing {output} ({exc.strerror or exc}): it still "
                f"holds an earlier run's results, not those of {input.name}"
                f"{_OPEN_ELSEWHERE if isinstance(exc, PermissionError) else ''}"),
                markup=False)
            return
        _console(stderr=True).print(_printable(f"removed the existing {output}, so it is not "
                                               f"taken for the results of {input.name}"),
                                    markup=False)
    stale = _issues_path(input, output, sheet)
    if issues_too and stale.is_file() and not stale.is_symlink() and _holds_issues(stale):
        _guard(stale.unlink)
        _console(stderr=True).print(_printable(f"removed the existing {stale}, so its problems "
                                               f"are not taken for those of {input.name}"),
                                    markup=False)


def _exit_if_any(issues: pd.DataFrame, input: Path, output: Path | None,
                 sheet: str | None = None, lined: pd.DataFrame | None = None) -> None:
    """With --errors collect, the good rows were used; bad rows still mean exit 1."""
    if len(issues):
        _report_issues(issues, input, output, sheet, lined)
        raise typer.Exit(1)
    _clear_stale_issues(input, output, sheet)


@app.command("report")
def report_cmd(
    input: InputArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    sheet: SheetOpt = None,
    period: PeriodOpt = None,
    tables: TablesOpt = "uk-national",
    errors: ErrorsOpt = Errors.raise_.value,
    title: Annotated[str, typer.Option(help="Report title.")] = "Social value report",
    crosswalk: Annotated[list[str] | None, typer.Option(
        metavar=f"<{'|'.join(Crosswalk)}>", help="Add totals by the crosswalk's outcomes or "
        "codes (PPN 002, PPN 06/20, National TOMs), and by PPN mission or theme; repeat for "
        "several.",
        callback=_one_of(Crosswalk))] = None,
    price_year: PriceYearOpt = None,
    discount_base_year: BaseYearOpt = None,
    carry_forward: CarryOpt = False,
    day_first: DayFirstOpt = False,
    month_first: MonthFirstOpt = False,
    bound: BoundOpt = Bound.central.value,
    quote_cells: Annotated[bool, typer.Option(
        "--quote-cells/--no-quote-cells", help="List the rows not valued with their reasons, "
        "which quote the cells at fault (--no-quote-cells: row, line, field and code only, "
        "for a report to publish; the issues file keeps the reasons).")] = True,
    source_name: Annotated[str | None, typer.Option(
        help="Name the input so in the report's 'Generated' line, instead of the file's "
        "name and sha256 (a file name may hold a person's name).")] = None,
) -> None:
    """Write a self-contained HTML report (totals, themes, suppliers, targets, caveats)."""
    from socialvalue_tom.report import render_report

    if output.suffix.lower() not in (".html", ".htm"):
        _fail(f"report output must be an .html file, not {output.name}")
    if not title.strip():
        _fail("--title is blank: give the report a title (it names the page)")
    if source_name is not None and not source_name.strip():
        _fail("--source-name is blank: give the name the report should use for the input")
    for option, given in (("--title", title), ("--source-name", source_name or "")):
        bad = control_character(given)
        if bad is not None:  # found before any work, as render_report would refuse it
            _fail(f"{option} has a control character ({bad!r}): give text of one line")
    _check_output(output)
    _needs_extra("matplotlib", "report", "the report's charts")  # found before any work
    a = _assumptions(price_year, discount_base_year, carry_forward, bound)
    valued, resolved, issues = _value_or_stop(input, tables, a, errors, output, sheet,
                                              REPORT_SUFFIXES, _period_columns(period),
                                              dates=_date_order(day_first, month_first))
    # The report lists the issues as the issues file does, with their lines (looked up once).
    lined = _with_lines(issues, input, sheet) if len(issues) else None
    if lined is not None:
        valued.attrs["issues"] = issues.assign(line=lined["line"].to_numpy(),
                                               reason=lined["reason"].to_numpy())[
            ["row", "line", "index", "field", "code", "reason"]]
    try:
        source = (source_name.strip() if source_name is not None
                  else _file_source(input, valued, _period_columns(period)))
        _guard(lambda: _guard_contract_values(
            lambda: render_report(valued, output, title=title, tables=resolved, source=source,
                                  crosswalks=[str(c) for c in crosswalk or ()],
                                  quote_cells=quote_cells),
            valued, input, sheet))
    except typer.Exit:  # as value does: no earlier report left under OUT's name
        if len(issues):  # the rows' own problems are still listed
            _report_issues(issues, input, output, sheet, lined)
        _remove_stale_output(input, output, issues_too=not len(issues), sheet=sheet)
        raise
    _console().print(_printable(f"Wrote report to {output}"), markup=False)
    _exit_if_any(issues, input, output, sheet, lined)


@app.command("template")
def template_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx file to write.")],
    measures: Annotated[str | None, typer.Option(
        help="Comma-separated measure codes (default: every measure of the edition).")] = None,
    tables: TablesOpt = "uk-national",
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
    periods: Annotated[bool, typer.Option(
        "--periods", help="Columns period_start and period_end instead of date (value the "
        "returns with --period period_start,period_end).")] = False,
) -> None:
    """Write an Excel returns template with drop-down lists for measure, unit, region and
    stage."""
    from socialvalue_tom.templates import template_table, write_template

    if output.suffix.lower() != ".xlsx":
        _fail(f"template output must be a .xlsx file, not {output.name}")
    _check_output(output)
    if output.exists() and not force:
        _fail(f"{output} exists (it may be a filled-in return): choose another name or --force")
    resolved = _resolve_tables(tables)
    if measures is None:  # every measure of the edition the template offers
        edition = _guard(lambda: template_table(resolved))
        codes = list(edition.measure_codes)
        what = f"all {len(codes)} measures of {edition.name}:{edition.version}"
    else:
        codes = list(dict.fromkeys(c.strip() for c in measures.split(",") if c.strip()))
        if not codes:
            _fail("--measures needs at least one measure code")
        what = ", ".join(codes)
    _guard(lambda: write_template(codes, output, resolved, periods=periods))
    _console().print(_printable(f"Wrote template for {what} to {output}"), markup=False)
    if periods:
        _console().print("Value the returns with: socialvalue-tom value FILE --period "
                         "period_start,period_end", markup=False)


@app.command("verify")
def verify_cmd(
    valued_file: Annotated[Path, typer.Argument(
        metavar="VALUED", help="A valued file (.xlsx or .parquet keep their record; a .csv "
        "needs --provenance).")],
    provenance: Annotated[Path | None, typer.Option(
        "--provenance", metavar="FILE.json", help="The record value --provenance wrote (for "
        "a .csv, or to check against a record kept apart from the file).")] = None,
    tables: Annotated[str | None, typer.Option(
        "--tables", metavar="NAME|NAME:VERSION[@DIGEST]|FILE[@DIGEST]", help="The tables, "
        "where the record names editions of your own (a table file, an amendment): as "
        "given to value, each checked against the recorded digest.")] = None,
    sheet: SheetOpt = None,
) -> None:
    """Value a valued file's rows again with the settings and editions its record names, and
    check each row's amounts (to the penny) and editions (exit 1 if any differs, or if rows
    were added or removed)."""
    from socialvalue_tom import io as svio

    _check_input(valued_file)
    if provenance is not None:
        _check_input(provenance)
    _check_sheet(sheet, valued_file)
    kept = provenance or valued_file
    record = _guard(lambda: svio.read_provenance(kept))
    if record is None:
        why = (" (a .csv keeps none)" if kept.suffix.lower() == ".csv"
               else " (it was written without one)")
        _fail(f"{kept.name} keeps no record of what valued it{why}: give the --provenance "
              "FILE.json written beside it")
    editions = [e for e in record.get("editions", []) if e.get("edition")]
    a = _guard(lambda: Assumptions.model_validate(record.get("assumptions")))
    resolved = _recorded_tables(editions, tables)
    df = _read(valued_file, sheet)
    if "value_gbp" not in df.columns:
        _fail(f"{valued_file.name} has no value_gbp column: give a file value -o wrote")
    again = _valued_again(df, resolved, a)
    apart = _differences(df, again)
    counted = record.get("valued_parts") or record.get("input_rows")
    moved = isinstance(counted, int) and counted != len(df)
    if moved:
        _console().print(f"Rows: the record counts {counted:,} row(s) valued; the file holds "
                         f"{len(df):,}: rows were added or removed since.", markup=False)
    bad, held_bad = record.get("rows_not_valued"), _rows_not_valued(df)
    if isinstance(bad, int) and bad != held_bad:
        moved = True
        _console().print(f"Rows: the record counts {bad:,} input row(s) not valued; the file "
                         f"has {held_bad:,}: rows were repaired, spoiled, added or removed "
                         "since.", markup=False)
    recorded = record.get("rows_digest")
    if recorded is not None and not moved and recorded != svio.rows_digest(df):
        # Rows relabelled (a commitment marked delivered, another supplier) or swapped for
        # copies of others value the same: only the digest of the rows as written finds them.
        moved = True
        _console().print(_printable(
            f"Rows: the file's rows are not those the record was written for: a row's "
            f"measure, region, stage, contract, supplier, date or amount was changed, rows "
            f"were swapped or reordered, or the record is another run's (its input: "
            f"{record.get('input') or 'not named'})."), markup=False)
    _note_other_release(record)
    if not apart and not moved:
        _console().print(_printable(
            f"Verified {len(df):,} row(s) of {valued_file.name}: every amount (to the penny) "
            f"and edition is what {', '.join(e['edition'] for e in editions)} give with the "
            "recorded settings."), markup=False)
        return
    if apart:
        _print_differences(apart, df, again, valued_file, sheet)
    raise typer.Exit(1)


def _note_other_release(record: dict[str, Any]) -> None:
    """Say where the record was written by another release than this one (its arithmetic
    may differ by a penny here and there), or keeps no rows digest (an earlier release's)."""
    from socialvalue_tom._version import __version__

    by, this = record.get("produced_by"), f"socialvalue_tom {__version__}"
    if by != this:
        writer = by if isinstance(by, str) and by else "an unnamed release"
        _console().print(_printable(f"Note: the record was written by {writer}; this is "
                                    f"{this}."), markup=False)
    if record.get("rows_digest") is None:
        _console().print("Note: the record keeps no digest of the rows (an earlier "
                         "release's): a row relabelled, or swapped for a copy of another, "
                         "cannot be found.", markup=False)


def _valued_again(df: pd.DataFrame, tables: TablesLike, a: Assumptions) -> pd.DataFrame:
    """A valued file's rows valued anew, as the command that wrote it valued them: the parts
    of apportioned rows as ``value --period`` does (a row whose period could not be read was
    kept unvalued, with no period share: it stays so), other rows with ``value_frame``; with
    the detail columns, so that every amount the file holds is compared."""
    from socialvalue_tom.frame import value_frame

    if "period_row" not in df.columns:
        return _guard(lambda: value_frame(df, tables, errors="collect", assumptions=a,
                                          detail=True))
    rows = pd.to_numeric(df["period_row"], errors="coerce")
    if rows.isna().any() or not (rows == rows.round()).all():
        _fail("the file's period_row column has cells that are not row numbers: not a file "
              "value --period wrote, or edited since")
    unread = (pd.to_numeric(df["period_share"], errors="coerce").isna().to_numpy()
              if "period_share" in df.columns else np.zeros(len(df), dtype=bool))
    valued, _ = _parts_valued(df[~unread], tables, a)
    return valued.reindex(df.index)


def _rows_not_valued(df: pd.DataFrame) -> int:
    """How many input rows of a valued file have no amount (the parts of an apportioned row
    counting once, as the record counts them)."""
    blank = pd.to_numeric(df["value_gbp"], errors="coerce").isna().to_numpy()
    if "period_row" not in df.columns:
        return int(blank.sum())
    return int(pd.Series(df["period_row"].to_numpy()[blank]).nunique())


def _pinned_editions(editions: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """A record's editions as ``--tables`` text, each pinned to its recorded digest, and the
    labels among them that the package does not ship (an edition of the user's own, found by
    no name): the catalogue's editions and the corrected ones it keeps (``superseded/``) are
    found by label and digest."""
    from socialvalue_tom.tables.catalogue import superseded_editions

    shipped = ({f"{r.name}:{r.version}" for r in _guard(available_tables)}
               | {f"{name}:{version}" for name, version, _ in _guard(superseded_editions)})
    return (",".join(f"{e['edition']}@{e['digest']}" for e in editions),
            [e["edition"] for e in editions if e["edition"] not in shipped])


def _recorded_tables(editions: list[dict[str, Any]], tables: str | None) -> TablesLike:
    """The tables a record names, each pinned to its digest; ``tables`` (``--tables``) where
    it names editions of the user's own, each checked against the digest recorded."""
    if tables is not None:
        resolved = _resolve_tables(tables)
        _check_recorded_editions(resolved, editions)
        return resolved
    if not editions or not all(e.get("digest") for e in editions):
        _fail("the record names no editions with their digests: give --tables")
    pinned, own = _pinned_editions(editions)
    if own:  # an edition of the user's own is not found by its name
        _fail(f"the record names {', '.join(own)}, not an embedded edition: give --tables as "
              "given to value (the table file or amendment), checked against the recorded "
              "digest")
    return _resolve_tables(pinned)


#: The columns verify compares: amounts to the penny, the figures behind them (the quantity
#: in the measure's unit, the share double counting left, a part's share of its period) as
#: the numbers they are, the rest as the text they are.
_VERIFIED_AMOUNTS = ("value_gbp", "gross_gbp", "proxy_gbp")
_VERIFIED_FIGURES = ("canonical_quantity", "claim_share", "period_share")
_VERIFIED_TEXT = ("region_used", "table", "version", "digest", "exclusion")


def _differences(df: pd.DataFrame, again: pd.DataFrame) -> dict[int, list[str]]:
    """Row -> the columns whose cell in ``df`` (a valued file) differs from ``again`` (the
    rows valued anew): amounts to the penny, the figures behind them as numbers, editions,
    regions and exclusions as text."""
    apart: dict[int, list[str]] = {}
    for column in _VERIFIED_AMOUNTS:
        if column in df.columns and column in again.columns:
            given = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
            for r in _penny_differences(given, again[column].to_numpy(dtype=np.float64)):
                apart.setdefault(int(r), []).append(column)
    for column in _VERIFIED_FIGURES:
        if column in df.columns and column in again.columns:
            given = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
            got = pd.to_numeric(again[column], errors="coerce").to_numpy(dtype=np.float64)
            # As written: a CSV, a workbook and Parquet give back a float's every digit.
            alike = np.isclose(given, got, rtol=1e-12, atol=0.0) | (np.isnan(given)
                                                                  & np.isnan(got))
            for r in np.flatnonzero(~alike).tolist():
                apart.setdefault(int(r), []).append(column)
    for column in _VERIFIED_TEXT:
        if column in df.columns and column in again.columns:
            for r, (x, y) in enumerate(zip(df[column].to_numpy(dtype=object),
                                           again[column].to_numpy(dtype=object), strict=True)):
                if not _same_text(key_text(x), key_text(y)):
                    apart.setdefault(r, []).append(column)
    return dict(sorted(apart.items()))


def _same_text(x: str | None, y: str | None) -> bool:
    """Two cells alike as text (case aside), or as numbers: a CSV reads an edition version
    "1.10" back as 1.1."""
    if (x or "").lower() == (y or "").lower():
        return True
    try:
        return x is not None and y is not None and float(x) == float(y)
    except ValueError:
        return False


def _print_differences(apart: dict[int, list[str]], df: pd.DataFrame, again: pd.DataFrame,
                       valued_file: Path, sheet: str | None) -> None:
    from socialvalue_tom import io as svio

    shown = _table(f"{len(apart):,} row(s) of {valued_file.name} differ from a new valuation")
    suffix = valued_file.suffix.lower()
    where = {".csv": "Line", ".xlsx": "Sheet row"}.get(suffix)
    for c in ("Row", *([where] if where else []), "Differs in", "value_gbp in the file",
              "Valued again"):
        shown.add_column(c, justify="left" if c == "Differs in" else "right")
    first = list(apart)[:_SHOWN_ISSUES]
    lines = _guard(lambda: svio.source_lines(valued_file, first, sheet=sheet)) if where else {}
    given = pd.to_numeric(df["value_gbp"], errors="coerce").to_numpy(dtype=np.float64)
    got = again["value_gbp"].to_numpy(dtype=np.float64)
    for r in first:
        shown.add_row(str(r), *([str(lines.get(r, ""))] if where else []),
                      ", ".join(apart[r]), _money_or_blank(given[r]), _money_or_blank(got[r]))
    _console().print(shown)
    if len(apart) > _SHOWN_ISSUES:
        _console().print(f"... and {len(apart) - _SHOWN_ISSUES:,} more", markup=False)


def _check_recorded_editions(tables: TablesLike, editions: list[dict[str, Any]]) -> None:
    """Exit 2 unless each edition the record names is among ``tables`` with the digest
    recorded: a table given by hand is checked as a pinned one is."""
    eds = {f"{t.name}:{t.version}": t for t in _guard(lambda: table_set(tables)).editions}
    given = {label: t.digest for label, t in eds.items()}
    for e in editions:
        label, digest = e.get("edition"), str(e.get("digest") or "")
        if label not in given:
            _fail(f"--tables lacks {label}, which the record names: give the tables as given "
                  "to value")
        if not digest:
            _fail(f"the record names {label} without its digest: it cannot be checked")
        index, now = e.get("price_index_digest"), eds[label].index_digest
        if index and now and now != index:
            _fail(f"the price index of {label} has digest {now[:12]}, not "
                  f"the {str(index)[:12]} recorded: the index file beside the table was "
                  "edited since (it changes values only with a price year)")
        if not given[label].startswith(digest.lower()):
            _fail(f"--tables gives {label} with digest {given[label][:12]}, not the "
                  f"{digest[:12]} recorded: this is not the edition that valued the file "
                  "[see docs/errors.md#table-integrity-error]")


def _penny_differences(given: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Rows whose amounts differ to the penny (one a number and the other not included)."""
    apart = ~((given == got) | (np.isnan(given) & np.isnan(got)))  # the many alike, at once
    rows = [r for r in np.flatnonzero(apart).tolist()
            if not _same_amount(float(given[r]), float(got[r]))]
    return np.array(rows, dtype=np.int64)


def _same_amount(x: float, y: float) -> bool:
    """Two amounts alike to the penny: both missing, or both finite and the same pennies."""
    from socialvalue_tom.money import to_pence

    if np.isnan(x) or np.isnan(y):
        return bool(np.isnan(x) and np.isnan(y))
    return bool(np.isfinite(x) and np.isfinite(y) and to_pence(x) == to_pence(y))


def _money_or_blank(amount: float) -> str:
    if np.isnan(amount):
        return "not valued"
    return _gbp(amount) if np.isfinite(amount) else str(amount)


def _basis_lines(valued: pd.DataFrame, tables: TablesLike, *, stages_apart: bool) -> list[str]:
    """:func:`~socialvalue_tom.report.basis_notes` as lines under a table, in this command's
    words; ``stages_apart``: the table sets commitments and deliveries apart, so the note on
    a total adding them is left out."""
    from socialvalue_tom.report import basis_notes

    # How a workbook was read is said as it is read (on stderr), not again under the table.
    read = set(_read_lines(valued))
    lines = [f"Note: {_cli_words(note)}" for note in _guard(lambda: basis_notes(valued, tables))
             if not (stages_apart and note.startswith("The total adds commitments"))]
    return [line for line in lines if line not in read]


def _edition_lines(annotated: pd.DataFrame, tables: TablesLike) -> list[str]:
    """A line per edition that valued ``annotated`` (rows
    :func:`~socialvalue_tom.report.annotate` gave their edition), with its digest, as the
    record pins it: what an auditor re-runs against."""
    from socialvalue_tom.report import editions_used

    amended = {e.digest: e.amends for e in _guard(lambda: table_set(tables)).editions
               if e.amends is not None}
    # A local amendment says so: its label alone could pass for a published edition's.
    return [f"Table {t}:{v} digest {d}"
            + (f" (a local amendment of {amended[d]}, not a published edition)"
               if d in amended else "")
            for t, v, d in editions_used(annotated)]


@app.command("targets")
def targets_cmd(
    input: InputArg,
    by_measure: Annotated[bool, typer.Option(
        "--by-measure", help="One row per contract and measure, with the quantities "
        "committed and delivered in the measure's unit.")] = False,
    by_supplier: Annotated[bool, typer.Option(
        "--by-supplier", help="One row per contract and supplier (each supplier's deliveries "
        "against its own commitments).")] = False,
    totals: Annotated[Path | None, typer.Option(
        "--totals", metavar="FILE.csv|FILE.xlsx", help="Write the whole table as CSV or an "
        "Excel workbook.")] = None,
    sheet: SheetOpt = None,
    period: PeriodOpt = None,
    tables: TablesOpt = "uk-national",
    errors: ErrorsOpt = Errors.raise_.value,
    price_year: PriceYearOpt = None,
    discount_base_year: BaseYearOpt = None,
    carry_forward: CarryOpt = False,
    day_first: DayFirstOpt = False,
    month_first: MonthFirstOpt = False,
) -> None:
    """Committed against delivered social value per contract, with the shortfall (rows need
    contract_id and stage columns). Exit 1 if rows were not valued."""
    from socialvalue_tom.frame import REQUIRED_COLUMNS
    from socialvalue_tom.io import same_file
    from socialvalue_tom.report import (
        _price_basis,
        _targets_and_total,
        _targets_total_note,
        annotate,
    )

    if totals is not None:
        _check_output(totals, (".csv", ".xlsx"))
        if same_file(totals, input):
            _fail(f"--totals {totals} is the input: give it a name of its own")
        _refuse_totals_at_issues(totals, input, None, sheet)
    a = _assumptions(price_year, discount_base_year, carry_forward)

    def need_columns(df: pd.DataFrame) -> None:  # before any row is valued: exit 2, not 1
        missing = [c for c in ("contract_id", "stage", *(["supplier_id"] if by_supplier
                                                         else [])) if c not in df.columns]
        if missing:
            # A header written another way ('Contract_ID', ' Stage ') is named, as valuing
            # names it (an adversarial review: checked first, it was only "has no column").
            near = "; ".join(f"the column {str(n)!r} is named like {c!r}: rename it"
                             for c, (n, _) in misnamed(df.columns, missing).items())
            _fail(f"{input.name} has no {' or '.join(missing)} column: targets set each "
                  "contract's commitments (stage commitment) against its deliveries (stage "
                  f"delivered), beside the columns {', '.join(REQUIRED_COLUMNS)}"
                  f"{' (--by-supplier reads supplier_id)' if 'supplier_id' in missing else ''}"
                  f"{f' ({near})' if near else ''}")

    valued, resolved, issues = _value_or_stop(input, tables, a, errors, None, sheet, (),
                                              _period_columns(period), check=need_columns,
                                              dates=_date_order(day_first, month_first))
    table, total_row = _guard(lambda: _targets_and_total(
        valued, by_measure=by_measure, by_supplier=by_supplier, tables=resolved))
    shown = _table("Targets vs delivered" + (" by measure" if by_measure else ""))
    keys = ["contract_id", *(["supplier_id"] if by_supplier else []),
            *(["measure"] if by_measure else [])]
    headers = {"contract_id": "Contract", "supplier_id": "Supplier", "measure": "Measure",
               "unit": "Unit", "committed_quantity": "Committed qty",
               "delivered_quantity": "Delivered qty", "committed_gbp": "Committed",
               "delivered_gbp": "Delivered", "shortfall_gbp": "Shortfall",
               "delivered_pct": "Delivered %", "uncommitted_gbp": "Not committed",
               "rows_not_valued": "Not valued", "rows_without_stage": "No stage"}
    # Rows with no stage are in neither total: their column is shown where there are some.
    columns = [c for c in headers if c in table.columns
               and (c != "rows_without_stage" or table[c].sum() > 0)]
    for c in columns:
        shown.add_column(headers[c], justify="left" if c in (*keys, "unit") else "right")
    for r in table.to_dict("records"):
        shown.add_row(*(_target_cell(c, r[c]) for c in columns))
    if len(table):  # a reconciliation review: the groups' figures had no Total to tie to
        shown.add_section()
        total = total_row.iloc[0]
        shown.add_row(*(_target_cell(c, total[c]) for c in columns))
    _console().print(shown)
    # What is printed under the table, kept for a workbook's Notes sheet: the editions and
    # the notes on the rows valued, as `value` says them under its totals (a release
    # review: the targets' own file named no edition and no figure left unchecked).
    prices = _price_basis(valued, resolved)
    said = ["Targets vs delivered" + (" by measure" if by_measure else "")
            + (" by supplier" if by_supplier else "") + (f" ({prices})" if prices else "")]

    def say(line: str) -> None:
        _console().print(_printable(line), markup=False)
        said.append(line)

    said += _read_lines(valued)  # said as it was read
    annotated = _guard(lambda: annotate(valued, resolved))
    for line in _edition_lines(annotated, resolved):
        say(line)
    caveat = _illustrative_caveat(annotated)
    if caveat:
        say(caveat)
    adding = _targets_total_note(table, total_row) if len(table) else None
    for note in ([adding] if adding else []) + table.attrs["notes"]:
        for name, words in _TARGET_WORDS:
            note = note.replace(name, words)
        say(f"Note: {_cli_words(note)}")
    if by_measure and _reduced_by_double_counting(valued) and not any(
            "quantities beside them" in n for n in table.attrs["notes"]):
        # A contract manager's review: 30 FTE committed read 24 (6 FTE of priority hires
        # counted under their own measure), the columns' names saying nothing of it.
        say("Note: “Committed qty” and “Delivered qty” are counted after double counting "
            "(claim_share): a whole's quantity is what the parts its exclusion counts first "
            "leave (30 FTE of local jobs beside 6 FTE of priority hires is 24).")
    for line in _basis_lines(valued, resolved, stages_apart=True):
        say(line)
    if totals is not None:
        rows = pd.concat([table, total_row], ignore_index=True) if len(table) else table
        rows.attrs["notes"] = said
        from socialvalue_tom.io import provenance as record_of

        source = _file_source(input, valued, _period_columns(period))
        _write_csv(rows, totals, "the targets file",
                   record=record_of(valued, source=source))
        _console().print(_printable(
            f"Wrote {len(table):,} row(s){' and their Total' if len(table) else ''} to "
            f"{totals}"), markup=False)
    _exit_if_any(issues, input, None, sheet)


def _reduced_by_double_counting(valued: pd.DataFrame) -> bool:
    """Whether double counting reduced some valued row's claim (a ``claim_share`` below 1)."""
    if "claim_share" not in valued.columns:
        return False
    share = pd.to_numeric(valued["claim_share"], errors="coerce").to_numpy(dtype=np.float64)
    return bool(((share < 1) & valued["value_gbp"].notna().to_numpy()).any())


#: The targets notes' names of result columns and arguments, as this command shows them.
_TARGET_WORDS = (("uncommitted_gbp", "“Not committed”"), ("delivered_gbp", "“Delivered”"),
                 ("delivered_pct", "“Delivered %”"), ("by_measure=True", "--by-measure"),
                 ("by_supplier=True", "--by-supplier"),
                 ("unless price_year is given", "unless --price-year is given"))


def _target_cell(column: str, value: Any) -> str:
    """A cell of the targets table as the terminal shows it."""
    if is_missing(value):
        return "n/a" if column == "delivered_pct" else ""
    if column.endswith("_gbp"):
        return _gbp(value)
    if column == "delivered_pct":
        return f"{float(value):.1f}%"
    if column.endswith("_quantity"):  # every digit of a ledger's figure, float noise aside
        x = float(value)
        if x != 0 and abs(x) < 1e-6:  # a tiny quantity is not 0
            return f"{x:.6g}"
        return f"{round(x, 6):,.6f}".rstrip("0").rstrip(".")
    return _printable(str(value))


@app.command("bids")
def bids_cmd(
    input: InputArg,
    price: Annotated[list[str] | None, typer.Option(
        "--price", metavar="SUPPLIER=GBP", help="A tenderer's bid price (repeat for each); "
        "needed for --basis per-gbp, else used to report value per £.")] = None,
    weighting: Annotated[float, typer.Option(
        help="Marks available for social value (10 for a 10% weighting).")] = 10.0,
    method: Annotated[BidMethod, typer.Option(
        help="proportional: best value gets full marks, others pro rata; rank: by place.")
    ] = BidMethod.proportional,
    basis: Annotated[BidBasis, typer.Option(
        help="Score committed value (absolute) or value per £ of bid price (per-gbp).")
    ] = BidBasis.absolute,
    sheet: SheetOpt = None,
    tables: TablesOpt = "uk-national",
    price_year: PriceYearOpt = None,
    discount_base_year: BaseYearOpt = None,
    carry_forward: CarryOpt = False,
    day_first: DayFirstOpt = False,
    month_first: MonthFirstOpt = False,
    bound: BoundOpt = Bound.central.value,
    trace: Annotated[bool, typer.Option(
        "--trace", help="Print the whole evaluation trace, line by line, for moderation.")
    ] = False,
) -> None:
    """Score tenderers on their committed social value (rows need a supplier_id column;
    delivered rows are ignored). Exit 1 if a commitment row is bad."""
    from socialvalue_tom.bids import score_bids
    from socialvalue_tom.frame import ISSUE_COLUMNS

    a = _assumptions(price_year, discount_base_year, carry_forward, bound)
    _check_sheet(sheet, input)
    prices = _bid_prices(price or [])
    resolved = _resolve_tables(tables)
    df = _read(input, sheet, dates=_date_order(day_first, month_first))
    try:
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always", SocialValueWarning)
            scored = score_bids(df, tables=resolved, bid_prices=prices, weighting=weighting,
                                method=method.value, basis=basis.value, assumptions=a)
    except BulkValidationError as exc:
        issues = pd.DataFrame([i.as_dict() for i in exc.issues], columns=ISSUE_COLUMNS)
        _report_issues(issues, input, None, sheet)
        raise typer.Exit(1) from None
    except (SocialValueError, ValueError) as exc:
        _fail(_cli_error_words(str(exc)))
    if not len(scored):
        _fail(f"{input.name} has no commitment rows to score (rows whose stage is delivered "
              "are not read): give the tenderers' commitments")
    table = _table(f"Social value scores ({method.value}, {basis.value}, out of "
                   f"{weighting:g})")
    for c in ("Rank", "Supplier", "Committed", "Bid price", "Value per £", "Score"):
        table.add_column(c, justify="left" if c == "Supplier" else "right")
    for r in scored.to_dict("records"):
        bid, per_gbp = r["bid_price_gbp"], r["value_per_gbp"]
        table.add_row(str(r["rank"]), _printable(str(r["supplier_id"])),
                      _gbp(r["committed_gbp"]), "" if is_missing(bid) else _gbp(bid),
                      "" if is_missing(per_gbp) else f"{float(per_gbp):.4f}",
                      f"{float(r['score']):.2f}")
    _console().print(table)
    whole = [str(x) for x in scored.attrs.get("trace", [])]
    # Without --trace, each tenderer's line, then what the whole trace says of the basis: the
    # editions and the notes (a council officer's review: rows valued with an edition carried
    # forward past its end, or with another region's proxy, were said only under --trace).
    lines = whole if trace else [*scored["trace"], *(x for x in whole if x.startswith(
        ("Valued with ", "Note: ")))]
    from socialvalue_tom.report import source_notes

    # How the workbook was read was said as it was read (an adversarial review: twice); the
    # trace holds the library's words, so compared before this command's are put in.
    read = {f"Note: {n}" for n in source_notes(df)}
    lines = [x for x in lines if x not in read]
    printed = [_cli_error_words(str(line)) for line in lines]
    for line in printed:
        _console().print(_printable(line), markup=False)
    told_words: set[str] = set()
    for w in told:  # the library's warnings as notes, in this command's words
        if issubclass(w.category, IllustrativeValueWarning):
            rows = getattr(w.message, "rows", 0)
            # Whose values rest on placeholders, how much, and whether the order turns on
            # them (the record's note), said here unless --trace printed it above.
            said = next((x for x in whole if x.startswith("ILLUSTRATIVE: ")), None)
            if trace and said:
                continue
            _console().print(_printable(
                f"Caveat: {rows} commitment row(s) use proxy values labelled illustrative"
                + (f"; {said.removeprefix('ILLUSTRATIVE: ')}" if said
                   else ": not for decisions.")), markup=False)
        elif issubclass(w.category, SocialValueWarning):
            words = _cli_error_words(str(w.message))
            if any(line.removeprefix("Note: ") in words for line in printed
                   if line.startswith("Note: ")):
                continue  # a trace note printed above (an adversarial review: told twice)
            if words in told_words:
                continue  # the input's own warning, again as the range is valued
            told_words.add(words)
            _console(stderr=True).print(_printable(f"note: {words}"), markup=False)
        else:  # not the library's: shown as Python would have shown it
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _bid_prices(given: list[str]) -> dict[str, float] | None:
    """``--price SUPPLIER=GBP`` options as score_bids' ``bid_prices`` (exit 2 if malformed
    or a supplier is priced twice)."""
    if not given:
        return None
    prices: dict[str, float] = {}
    for item in given:
        supplier, sep, amount = item.rpartition("=")
        supplier = supplier.strip()
        try:
            value = float(amount.replace(",", "").replace("£", "").strip()) if sep else None
        except ValueError:
            value = None
        if not supplier or value is None or not math.isfinite(value) or value <= 0:
            _fail(f"--price {item!r} is not SUPPLIER=GBP, a price above 0 (as A=1200000)")
        if supplier in prices:
            _fail(f"--price gives supplier {supplier!r} more than once")
        prices[supplier] = value
    return prices


@app.command("errors")
def errors_cmd(
    code: Annotated[str | None, typer.Argument(
        metavar="CODE", help="An error's code, as its message names it (unknown-region).")
    ] = None,
) -> None:
    """Print the reference section on an error CODE (how to read and mend it) or what a row
    issue code (an issues file's code column) means; without CODE, list the codes."""
    from socialvalue_tom._errordoc import error_sections, issue_codes
    from socialvalue_tom._text import did_you_mean

    sections = _guard(error_sections)
    issues = _guard(issue_codes)
    if code is None:
        for name, text in sections.items():  # each with its first sentence, for choosing
            body = text.partition("\n")[2].strip()  # the text under the heading
            paragraph = " ".join(body.split("\n\n")[0].split())
            first = re.split(r"(?<=[.;])\s", paragraph, maxsplit=1)[0]
            shown = first if len(first) <= 100 else first[:97] + "..."
            _console().print(_printable(f"{name}: {shown}"), markup=False)
        _console().print(f"Row issue codes (an issues file's code column): "
                         f"{', '.join(issues)}", markup=False)
        return
    key = code.strip().lower().removeprefix("#")
    if key in sections:
        _console().print(_printable_lines(sections[key]), markup=False)
    if key in issues:  # some codes are both (unknown-region): the row issue too
        fields, meaning = issues[key]
        _console().print(_printable(f"Row issue {key} (fields {fields}): {meaning}"),
                         markup=False)
    if key not in sections and key not in issues:
        _fail(f"no error code {code!r}{did_you_mean(key, [*sections, *issues])}: "
              "`socialvalue-tom errors` lists them")


@app.command("examples")
def examples_cmd(
    folder: Annotated[Path, typer.Argument(
        metavar="FOLDER", help="Where to write the examples/ folder (default: here).")
    ] = Path("."),
    force: Annotated[bool, typer.Option(help="Replace example files already there.")] = False,
) -> None:
    """Copy the example files (a portfolio, a case file) into FOLDER/examples, so the
    tutorial's commands run from a pip install as from a checkout."""
    from socialvalue_tom.examples import EXAMPLE_FILES, examples_dir

    source = _guard(examples_dir)
    target = folder / "examples"
    if not folder.is_dir():
        _fail(f"{folder} is not a folder")
    if target.is_symlink():  # its files would be written into the folder it points to
        _fail(f"{target} is a link: remove it, or give another FOLDER")
    if target.exists() and not target.is_dir():
        _fail(f"{target} exists and is not a folder")
    # A link counts as there, dangling or not: it is replaced, never written through (a
    # security review: a link planted at examples/portfolio.csv had its target overwritten).
    there = [name for name in EXAMPLE_FILES
             if (target / name).exists() or (target / name).is_symlink()]
    if there and not force:
        _fail(f"{', '.join(str(target / n) for n in there)} already there: --force replaces "
              "them")
    from socialvalue_tom.io import write_through_temp

    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}")
    def copy(name: str) -> None:
        data = (source / name).read_bytes()

        def write(tmp: Path) -> None:
            tmp.write_bytes(data)

        write_through_temp(target / name, write)

    for name in EXAMPLE_FILES:
        _guard(lambda: copy(name))  # noqa: B023 (called at once, in this iteration)
    for name, what in EXAMPLE_FILES.items():
        _console().print(_printable(f"Wrote {target / name}: {what}"), markup=False)
    _console().print(_printable(
        f"Try: socialvalue-tom value {target / 'portfolio.csv'} --by theme"), markup=False)


@tables_app.command("list")
def tables_list() -> None:
    """List the embedded table editions."""
    table = _table("Embedded tables")
    for c in ("Table", "Version", "Valid from", "Valid to", "Review by"):
        table.add_column(c)
    table.add_column("Digest", no_wrap=True, min_width=12)  # a digest is read whole or not at all
    for ref in _guard(available_tables):
        table.add_row(ref.name, ref.version, str(ref.valid_from), str(ref.valid_to),
                      _review_note(ref), ref.digest[:12])
    _console().print(table)


def _illustrative_note(t: ProxyTable) -> str:
    """``true (4 of 41 measures)``: the header flag says *some* value is illustrative, and how
    many measures hold one says how far it reaches."""
    if not t.spec.illustrative:
        return "false"
    held = sum(any(p.illustrative for p in m.proxies.values()) for m in t.measures.values())
    return f"true ({held} of {len(t.measures)} measures)"


def _review_note(t: TableRef | ProxyTable) -> str:
    """The review date, marked "(passed)" once today is after it; "-" when none is declared."""
    if t.review_by is None:
        return "-"
    return f"{t.review_by} (passed)" if t.review_passed() else str(t.review_by)


@tables_app.command("show")
def tables_show(
    name: Annotated[str, typer.Argument(metavar="NAME",
                                        help="NAME, NAME:VERSION or a table file.")],
    measure: Annotated[str | None, typer.Option(help="Show one measure's proxies.")] = None,
) -> None:
    """Show a table edition's header and measures, or one measure's proxies per region."""
    t = _one_table(name)
    shown = _measure_table(t, measure) if measure else _measures_table(t)  # fails before output
    _console().print(_printable(f"{t.name}:{t.version}  {t.spec.title}"), markup=False)
    from socialvalue_tom._text import financial_year_text

    # The financial year, as reports and totals write a price base (2024 could be read as
    # calendar 2024: a data journalist's review).
    _console().print(f"valid {t.valid_from}..{t.valid_to}, "
                     f"{financial_year_text(t.spec.price_base_year)} prices, "
                     f"illustrative: {_illustrative_note(t)}"
                     + (f", review by {_review_note(t)}" if t.review_by else ""), markup=False)
    _console().print(f"digest {t.digest}", markup=False)
    _console().print(shown)
    if measure:
        for line in _provenance_lines(t, t.measure(measure).code):
            _console().print(_printable(line), markup=False, soft_wrap=True)


def _measures_table(t: ProxyTable) -> Table:
    table = _table(f"{len(t.measures)} measures")
    for c in ("Code", "Theme", "Unit", f"Proxy ({t.spec.fallback_region})", "Title"):
        table.add_column(c, justify="right" if c.startswith("Proxy") else "left")
    fb = t.spec.fallback_region
    for code, m in t.measures.items():
        table.add_row(code, m.theme, m.unit, _gbp(m.proxies[fb].value), m.title)
    return table


def _measure_table(t: ProxyTable, code: str) -> Table:
    m = _guard(lambda: t.measure(code))
    table = _table(f"{code}: {m.title} (GBP per {m.unit})")
    notes = {region: t.region_note(code, region) for region in t.region_codes}
    columns = ["Region", "Used", "Value", "Low", "High", "Source", "Illustrative"]
    for c in (*columns, *(["Note"] if any(notes.values()) else [])):
        table.add_column(c)
    for region in t.region_codes:
        p = t.proxy(code, region)
        note = notes[region]  # what the table says of a fallback (applies_in, stands_in_for)
        said = [f"{note[0]}: {note[1]}" if note else ""] if any(notes.values()) else []
        table.add_row(region, p.region_used, _gbp(p.value), _gbp(p.low),
                      _gbp(p.high), p.source.id, "yes" if p.illustrative else "no", *said)
    return table


def _provenance_lines(t: ProxyTable, code: str) -> list[str]:
    """How each value the measure sets was derived, and every source it cites with its
    publisher, licence and address: the table above names a source by its id alone, so a
    reader re-deriving a figure had to open the table file (a journalist's review)."""
    from socialvalue_tom.trace import _derivation_text

    m = t.measures[code]
    lines = ["Derivations (the values this edition sets; the other regions take the one "
             "their Used column names):"]
    cited: list[str] = []
    for region, pv in m.proxies.items():
        for sid in (pv.source, *((pv.derivation.input_sources or {}).values()
                                  if pv.derivation else ())):
            if sid not in cited:
                cited.append(sid)
        bounds = [(word, x) for word, x in (("low", pv.low), ("high", pv.high))
                  if x is not None and x != pv.value]
        if pv.derivation is None:
            lines.append(f"  {region}: {_gbp(pv.value)}, "
                         + ("illustrative: not derived from a published figure"
                            if pv.illustrative else "no derivation"))
            continue
        said = _derivation_text(pv, pv.value).removeprefix("; derived as ")
        lines.append(f"  {region}: {_gbp(pv.value)} = {said}"
                     + (" (illustrative)" if pv.illustrative else ""))
        for word, x in bounds:
            how = _derivation_text(pv, x).removeprefix("; derived as ")
            lines.append(f"    {word} {_gbp(x)}" + (f" = {how}" if how else ""))
    lines.append("Sources:")
    for sid in cited:
        src = t.sources[sid]
        lines.append(f"  {sid}: {src.title}, {src.publisher}, {src.year}, {src.licence}, "
                     f"{src.url}"
                     + (f" [NOT CHECKED against the publication: {src.unverified}]"
                        if src.unverified else ""))
    return lines


@tables_app.command("diff")
def tables_diff(
    old: Annotated[str, typer.Argument(
        metavar="OLD", help="NAME (its latest edition), NAME:VERSION or a table file.")],
    new: Annotated[str, typer.Argument(
        metavar="NEW", help="NAME (its latest edition), NAME:VERSION or a table file.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Also write the changes to this file: .csv (a row per change, "
        "every column of diff_tables) or .json (the two editions and the rows).")] = None,
) -> None:
    """Show measures and proxies added, removed or changed from OLD to NEW."""
    from socialvalue_tom.tables.diff import diff_tables

    if output is not None:
        _check_output(output, (".csv", ".json"))  # before any work, as every command does
    a, b = _one_table(old), _one_table(new)
    diff = diff_tables(a, b)
    head = f"{a.name}:{a.version} -> {b.name}:{b.version}"
    if output is not None:
        _write_diff(diff, a, b, output)
    if diff.empty:
        same = a.digest == b.digest
        _console().print(_printable(head) + ": no differences" + ("" if same else (
            " in values or rules (the digests differ in labels such as version, title, "
            "validity or review date, or in the order entries are listed)")), markup=False)
        return
    # Editions in different prices: each one's change in its own prices is mostly a year's
    # inflation, so the change beyond it is shown beside (a reader's review: +5.3% on a wage
    # proxy read as a real rise, where about 2% of it was).
    real = a.price_base_year != b.price_base_year
    table = _table(f"{head}: {len(diff)} change(s)")
    for c in ("Change", "Measure", "Region", "Old", "New", "Change %",
              *(["Real %"] if real else []), "Fields"):
        table.add_column(c)
    for r in diff.to_dict("records"):
        pct = [_pct_text(r["pct_change"]), *([_pct_text(r["real_pct_change"])] if real else [])]
        table.add_row(str(r["change"]), str(r["measure"]), str(r["region"]),
                      _money_from(r["old_value"], r["region"], r["old_region_used"]),
                      _money_from(r["new_value"], r["region"], r["new_region_used"]), *pct,
                      str(r["fields_changed"]))
    _console().print(table)
    if real:
        _console().print(_printable(_price_base_note(a, b)), markup=False)


def _pct_text(x: Any) -> str:
    return "" if pd.isna(x) else f"{x:+.1f}%"


def _price_base_note(a: ProxyTable, b: ProxyTable) -> str:
    """What Change % and Real % compare, when the editions are in different prices."""
    from socialvalue_tom._text import financial_year_text as fy
    from socialvalue_tom.tables.diff import _to_old_prices

    old_year, new_year = a.price_base_year, b.price_base_year
    said = (f"Note: Old is in {fy(old_year)} prices and New in {fy(new_year)} prices, so "
            f"Change % includes the inflation between them; Real % is the change once New "
            f"is restated in {fy(old_year)} prices")
    factor = _to_old_prices(a, b)
    index = next((i for i in (b.price_index, a.price_index) if i is not None
                  and old_year in i.values and new_year in i.values), None)
    if factor is None or index is None:
        return (f"{said}, which neither edition's price index can give (it has no value for "
                f"one of the years): Real % is blank.")
    forecast = [fy(y) for y in (old_year, new_year) if index.is_projected(y)]
    return (f"{said} by the price index {index.name} (x {factor:.4f}: its "
            f"{fy(old_year)} value over its {fy(new_year)} value"
            + (f"; {' and '.join(forecast)} "
               f"{'is' if len(forecast) == 1 else 'are'} a forecast, not an outturn"
               if forecast else "")
            + "): the change beyond general inflation as that index measures it.")


def _write_diff(diff: pd.DataFrame, a: ProxyTable, b: ProxyTable, path: Path) -> None:
    """The diff as a file to keep or share: CSV rows (for a spreadsheet, as the other CSV
    files are written), or JSON naming the two editions (name, version, digest, prices) that
    were compared, beside the rows, with null where a cell has no number."""
    import json

    from socialvalue_tom.io import write_through_temp

    if path.suffix.lower() == ".csv":
        _write_csv(diff, path, "the diff")
        return

    def edition(t: ProxyTable) -> dict[str, Any]:
        return {"table": t.name, "version": t.version, "digest": t.digest,
                "price_base_year": t.price_base_year, "price_index": t.spec.price_index}

    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in diff.to_dict("records")]
    page = json.dumps({"old": edition(a), "new": edition(b), "rows": rows}, indent=2,
                      ensure_ascii=False) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8", newline="\n")

    try:
        write_through_temp(path, write)
    except InputFileError as exc:
        _fail(f"cannot write the diff {path}: {exc.details.get('why', exc.message)}")


def _money(x: Any) -> str:
    return "" if pd.isna(x) else _gbp(float(x))


def _money_from(x: Any, region: str, used: str) -> str:
    """Money, naming the region it comes from when that is a fallback."""
    text = _money(x)
    return f"{text} ({used})" if text and used and used != region else text


@tables_app.command("validate")
def tables_validate(
    file: Annotated[Path, typer.Argument(metavar="FILE",
                                         help="A table file (.yaml) to check.")],
) -> None:
    """Check a table file against the format; print its digest (exit 1 when invalid)."""
    if _looks(file, Path.is_dir):
        _fail(f"table file {file} is a folder, not a file")
    if not _looks(file, Path.is_file):
        _fail(f"table file {file} {_not_there(file)}")

    from socialvalue_tom.tables.catalogue import refuse_overlap_in_folder

    t = _guard(lambda: _every_problem(file, lambda: load_table(path=file), 1), code=1)
    # A new edition in the embedded folder: what make manifest would refuse, said first.
    _guard(lambda: refuse_overlap_in_folder(file), code=1)
    _console().print(_printable(f"valid: {t.name}:{t.version} ({len(t.measures)} measures, "
                                f"valid {t.valid_from}..{t.valid_to})"), markup=False)
    _console().print(f"digest sha256:{t.digest}", markup=False)


@tables_app.command("test")
def tables_test(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="A case file (.yaml or .json): outcomes and the values expected.")],
) -> None:
    """Run a case file's expected valuations; exit 1 when any case fails (docs/proxies.md)."""
    from socialvalue_tom.cases import run_cases

    if not _looks(file, Path.is_file):
        _fail(f"case file {file} {_not_there(file)}")
    results = _guard(lambda: _every_problem(file, lambda: run_cases(file), 2))
    table = _table(f"{file.name}: {len(results)} case(s)")
    for c in ("Case", "Expected", "Got", "Result"):
        table.add_column(c, justify="right" if c in ("Expected", "Got") else "left")
    for r in results:
        table.add_row(r.name, r.expected, r.got, "pass" if r.passed else f"FAIL: {r.reason}")
    _console().print(table)
    failed = [r for r in results if not r.passed]
    _console().print(f"{len(results) - len(failed)} of {len(results)} case(s) passed",
                     markup=False)
    if failed:
        raise typer.Exit(1)


def _every_problem(file: Path, read: Callable[[], _T], code: int) -> _T:
    """``read()`` of a table or case file, where it fails for several problems of the file's
    format, each on a line of its own (exit ``code``), so that the author fixes them in one
    pass; one problem is raised as it is."""
    try:
        return read()
    except ProxyTableError as exc:
        problems = exc.details.get("problems") or []
        if len(problems) > 1:
            total = int(exc.details.get("problem_count") or len(problems))
            listed = "\n".join(f"  {_cli_error_words(p)}" for p in problems)
            _fail(f"{file}: {total} problems:\n{listed}"
                  + (f"\n  (and {total - len(problems)} more)" if total > len(problems) else "")
                  + f"\n[see docs/errors.md#{exc.code}]", code)
        raise


#: The exit code of a command whose stdout could not be written (its files were written).
EXIT_STDOUT_LOST = 3
#: The exit code of a command stopped by SIGTERM (128 + 15, as a shell reports it).
EXIT_TERMINATED = 143


@own_decimal_context
def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command line (the ``socialvalue-tom`` console script).

    Exits as the command does, but 3 when it succeeded and stdout could not be written (a
    full disk, a closed stdout: its files were still written), and 143 on SIGTERM (a cancelled
    CI job), which removes a part-written output as Ctrl-C (130) does. ``sys.stdout`` and
    ``sys.stderr`` are as they were when it returns (a second call starts afresh)."""
    _STDOUT_LOST.clear()
    saved, opened = (sys.stdout, sys.stderr), []
    if sys.stdout is None:  # started with stdout closed ('>&-')
        opened.append(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (closed below)
        sys.stdout = opened[-1]
        _STDOUT_LOST.append("standard output is closed")
    if sys.stderr is None:  # '2>&-': messages have nowhere to go, the exit code still tells
        opened.append(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (closed below)
        sys.stderr = opened[-1]
    # What click prints itself (--help, usage errors) meets a full disk as the console does.
    sys.stdout = cast("IO[str]", _SafeStream(sys.stdout))
    sys.stderr = cast("IO[str]", _SafeStream(sys.stderr, pipe=False))
    try:
        with _sigterm_as_exit():
            try:
                app(args=argv, prog_name="socialvalue-tom")
                code: Any = 0
            except SystemExit as exc:
                code = exc.code
        if _STDOUT_LOST:
            _console(stderr=True).print(
                f"error: could not write to standard output ({_STDOUT_LOST[0]}): what the "
                "command printed is lost; any files it wrote are complete", markup=False)
            if code in (0, None):
                code = EXIT_STDOUT_LOST
    finally:
        sys.stdout, sys.stderr = saved
        for stream in opened:
            stream.close()
    raise SystemExit(code)


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM stops the command as Ctrl-C does, through ``finally`` and ``except
    BaseException`` blocks (which remove part-written outputs), with exit 143; the default
    handler ended the process where it stood. Only on the main thread, where signals are."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old if old is not None else signal.SIG_DFL)


def _terminated(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(EXIT_TERMINATED)


if __name__ == "__main__":  # python -m socialvalue_tom.cli runs it too (a script's guess)
    main()
