"""The catalogue of tables: the embedded default (``proxies/`` shipped in the wheel) and users'
own files; effective-date selection of editions; the tamper-evidence manifest."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import stat
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import overload

from socialvalue_tom._args import flag
from socialvalue_tom._decimal import own_decimal_context
from socialvalue_tom._text import quoted
from socialvalue_tom.errors import (
    NoTableInForceError,
    ProxyTableError,
    RuleError,
    SocialValueError,
    TableIntegrityError,
    UnknownTableError,
)
from socialvalue_tom.tables._loader import error_at, line_of_field, read_data, read_model, read_text
from socialvalue_tom.tables.amend import (
    AMENDMENT_FORMAT,
    AmendmentFile,
    amended_base,
    apply_amendment,
)
from socialvalue_tom.tables.schema import (
    _CODE,
    PUBLISHER_LABEL,
    IndexFile,
    TableFile,
    misthemed_prefix,
)
from socialvalue_tom.tables.table import (
    PriceIndex,
    ProxyTable,
    TableRef,
    as_day,
    canonical_digest,
)

__all__ = [
    "TableSet",
    "available_tables",
    "embedded_dir",
    "load_index",
    "load_table",
    "resolve_tables",
    "write_manifest",
]

MANIFEST = "manifest.json"
_NON_FAMILY_DIRS = {"indices", "crosswalks", "superseded"}
# Re-entrant: loading an amendment file loads the embedded edition it amends.
_lock = threading.RLock()


def embedded_dir() -> Path:
    """Folder of the embedded tables: inside the installed package, else the source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_proxies", here.parent / "proxies"):
        if (candidate / MANIFEST).is_file() or candidate.is_dir():
            return candidate
    if not here.is_dir():  # imported from a zip archive (zipimport), not a folder
        raise ProxyTableError(
            f"the embedded proxy tables cannot be read: the package is imported from {here}, "
            "which is not a folder (a zip archive?); they are read as files, so install the "
            "package into a folder (pip install socialvalue_tom)", path=str(here / "_proxies"),
            line=None, field=None)
    raise ProxyTableError("the embedded proxy tables are missing from this installation",
                          path=str(here / "_proxies"), line=None, field=None)


def _read_manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    if not path.is_file():
        raise TableIntegrityError(f"{path}: the manifest of embedded table digests is missing",
                                  path=str(path), line=None, field=None)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data["digests"].items()}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TableIntegrityError(f"{path}: the manifest of embedded table digests is unreadable "
                                  f"({type(exc).__name__}: {exc})", path=str(path), line=None,
                                  field=None) from exc


#: The folder of a family that keeps its corrected editions, outside the catalogue.
SUPERSEDED = "superseded"


def _root_of(path: Path) -> Path:
    """The embedded folder an embedded edition's file is in (``<family>/<version>.yaml``, or
    ``<family>/superseded/<version>.yaml``): where its manifest and indices are."""
    root = path.parent.parent
    return root.parent if path.parent.name == SUPERSEDED else root


def _superseded_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob(f"*/{SUPERSEDED}/*.yaml")
                  if p.parent.parent.name not in _NON_FAMILY_DIRS)


def _superseded_file(name: str, version: str) -> Path | None:
    """The superseded edition ``name:version`` the manifest records (None where none is)."""
    root = embedded_dir()
    if not (_is_name(name) and _is_name(version)):
        return None
    rel = f"{name}/{SUPERSEDED}/{version}.yaml"
    return root / rel if rel in _read_manifest(root) else None


def superseded_editions() -> list[tuple[str, str, str]]:
    """Each corrected edition the package keeps (``<family>/superseded/``, pinned by the
    manifest), as ``(family, version, digest)``: outside the catalogue, loaded only with the
    digest a valuation recorded (``load_table(name, version=..., digest=...)``), so that
    results made with it can be reproduced and checked."""
    return sorted((*label, digest) for rel, digest in _read_manifest(embedded_dir()).items()
                  if (label := _superseded_label(rel)) is not None)


def _superseded_label(rel: str) -> tuple[str, str] | None:
    """(family, version) of a manifest path ``<family>/superseded/<version>.yaml``, else
    None."""
    parts = rel.split("/")
    if len(parts) == 3 and parts[1] == SUPERSEDED and parts[2].endswith(".yaml"):
        return parts[0], parts[2].removesuffix(".yaml")
    return None


def _embedded_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yaml") if p.parent.name not in _NON_FAMILY_DIRS)


def _is_name(name: object) -> bool:
    """Whether ``name`` can name a family or index: a code, so never a path (``..``, ``a/b``)."""
    return isinstance(name, str) and re.fullmatch(_CODE, name) is not None


@lru_cache(maxsize=64)
def _load_index_file(path: Path) -> PriceIndex:
    text = read_text(path)
    index = PriceIndex(read_model(path, IndexFile, text), path)
    if index.name != path.stem:
        raise error_at(path, text, "name", f"the index in {path.name} is named {index.name!r}: "
                       f"an index file must hold the index it is named after ({path.stem!r})")
    return index


def load_index(name: str, *, root: Path | None = None) -> PriceIndex:
    """Load the price index ``name`` from ``proxies/indices/`` (checked against the manifest)."""
    root = root or embedded_dir()
    folder = root / "indices"
    path = folder / f"{name}.yaml"
    if not _is_name(name) or not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.yaml"))
        raise UnknownTableError(
            f"unknown price index {name!r} (no file {path}): available are "
            f"{', '.join(available) or '(none)'}", name=name, available=available)
    index = _load_index_file(path)
    # Resolved: an embedded table passes its folder as read from its resolved path, which a
    # symbolic link on the way to proxies/ makes another spelling of embedded_dir().
    if root.resolve() == embedded_dir().resolve():
        _check_integrity(root, path, index.digest)
    return index


def _check_integrity(root: Path, path: Path, digest: str) -> None:
    rel = path.relative_to(root).as_posix()
    expected = _read_manifest(root).get(rel)
    if expected is None:
        # A new edition added in a source checkout (a table author's review: the message
        # named no way on, and every valuation stopped): the step that records it.
        raise TableIntegrityError(
            f"{path}: embedded file is not in the manifest; adding an edition in a source "
            "checkout? Check it with socialvalue-tom tables validate, then record it with "
            "make manifest (proxies/README.md)", path=str(path), line=None, field=None)
    if expected != digest:
        raise TableIntegrityError(
            f"{path}: content digest {digest[:16]}... does not match the manifest "
            f"({expected[:16]}...): the embedded table was modified",
            path=str(path), line=None, field=None, expected=expected, actual=digest,
        )


@lru_cache(maxsize=256)
def _read_table(path: Path, text: str) -> TableFile:
    """A user's table file, parsed and validated (cached by its whole text)."""
    return read_model(path, TableFile, text)


@lru_cache(maxsize=256)
def _load_file(path: Path, embedded: bool, key: int | str,
               index_text: str | None = None) -> ProxyTable:
    """A table file, cached by ``key``: the mtime of an embedded file (its content is pinned by the
    manifest digest) or the whole text of a user's file (an edit that keeps the mtime, as
    ``cp -p`` does, is still seen), and by ``index_text``, the text of the user's local
    ``<price_index>.index.yaml`` (None: there is none), so an edit to that file is seen too."""
    if embedded:
        text = read_text(path)
        spec = read_model(path, TableFile, text)
        _check_integrity(_root_of(path), path, canonical_digest(spec))
    else:
        assert isinstance(key, str)
        text = key
        spec = _read_table(path, text)
    _check_theme_prefixes(path, text, spec)
    price_index = _price_index(path, text, spec, embedded, index_text)
    try:
        return ProxyTable(spec, path=path, price_index=price_index)
    except ProxyTableError as exc:  # an expression or unit: add the line of the field at fault
        raise _with_line(exc, path, text) from exc


def _check_theme_prefixes(path: Path, text: str, spec: TableFile) -> None:
    for i, m in enumerate(spec.measures):
        problem = misthemed_prefix(m.code, m.theme)
        if problem is not None:
            raise error_at(path, text, f"measures[{i}].code", problem)


def _price_index(path: Path, text: str, spec: TableFile, embedded: bool,
                 index_text: str | None) -> PriceIndex | None:
    """The table's price index: a user's table may keep it beside the table file, as
    ``<price_index>.index.yaml``; otherwise (and always for an embedded table) it is the embedded
    index of that name. The table's price base must be one of its years."""
    name = spec.price_index
    if name is None:
        return None
    root = _root_of(path) if embedded else embedded_dir()
    local = path.parent / f"{name}.index.yaml"
    if index_text is not None and not embedded:
        index = PriceIndex(read_model(local, IndexFile, index_text), local)
        if index.name != name:
            raise error_at(local, index_text, "name",
                           f"the index is named {index.name!r}, but {path.name} names its price "
                           f"index {name!r}: the file {local.name} must hold the index {name!r}")
    else:
        try:
            index = load_index(name, root=root)
        except UnknownTableError as exc:
            available = ", ".join(exc.details.get("available") or ()) or "(none)"
            beside = "" if embedded else f"{local} beside the table, then "
            raise error_at(path, text, "price_index",
                           f"no price index {name!r}: looked for {beside}"
                           f"{root / 'indices' / f'{name}.yaml'} among the embedded indices "
                           f"(available are {available})") from None
    if spec.price_base_year not in index.values:
        years = sorted(index.values)
        raise error_at(path, text, "price_base_year",
                       f"price_base_year {spec.price_base_year} has no value in the price index "
                       f"{name!r} ({index.path}), which covers {years[0]}..{years[-1]}")
    return index


def _with_line(exc: ProxyTableError, path: Path, text: str) -> ProxyTableError:
    """``exc`` with the line of its field in ``text`` (and in its message, after the path)."""
    line = line_of_field(text, exc.field) if exc.line is None and exc.field else None
    if line is None:
        return exc
    message = exc.message
    if message.startswith(f"{path}: "):
        message = f"{path}:{line}: {message[len(str(path)) + 2:]}"
    return type(exc)(message, **{**exc.details, "line": line})


@lru_cache(maxsize=64)
def _load_amendment(path: Path, text: str, base_digest: str) -> ProxyTable:
    """An amendment file, cached by its text and by the digest of the edition it amends, so a
    changed base edition is re-checked (digest pin) rather than served from the cache."""
    amendment = read_model(path, AmendmentFile, text)
    try:
        return apply_amendment(path, amendment)
    except ProxyTableError as exc:  # a check against the edition amended: add the field's line
        raise _with_line(exc, path, text) from exc


@lru_cache(maxsize=64)  # a text parsed for its format (a backslash in it) is parsed once
def _amendment_in(path: Path, text: str) -> AmendmentFile | None:
    """The amendment ``text`` holds, or None for a table file (decided on the parsed format)."""
    # A cheap test first, as table files are large: the format's name without its '/', which
    # JSON and YAML may write escaped ('\/'). A JSON file's strings may escape any character,
    # and so may a YAML double-quoted string ('\x61'): text with a backslash is parsed.
    if (path.suffix.lower() != ".json" and AMENDMENT_FORMAT.split("/")[0] not in text
            and "\\" not in text):
        return None
    data = read_data(path, text)
    if not isinstance(data, dict) or data.get("format") != AMENDMENT_FORMAT:
        return None
    return read_model(path, AmendmentFile, text, data)


def _load_path(path: Path, embedded: bool = False) -> ProxyTable:
    try:
        # An embedded file keeps the path it was found at, under embedded_dir(): the manifest
        # it is checked against is the one two folders up, and resolved through a symbolic link
        # that would be wherever the link points (with a manifest of its own, say).
        if not embedded:
            path = path.resolve()
        try:
            # stat, not is_file(): a symbolic link loop is an error to say (from Python 3.13
            # resolve() no longer raises one, and is_file() read it as no file at all).
            is_file = stat.S_ISREG(path.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):
            is_file = False
    except (OSError, RuntimeError, ValueError) as exc:
        # A symlink loop (RuntimeError from resolve() before Python 3.13, else ELOOP from
        # stat), a NUL in the path (ValueError), a name longer than the file system allows.
        shown = str(path) if str(path).isprintable() else repr(str(path))[1:-1]
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProxyTableError(f"{shown}: cannot open table file ({reason})", path=shown,
                              line=None, field=None) from exc
    if not is_file:
        what = ("is a folder, not a table file: give the path of a .yaml or .json file in it"
                if path.is_dir() else "no such table file")
        raise ProxyTableError(f"{path}: {what}", path=str(path), line=None, field=None)
    with _lock:
        if embedded:
            return _load_file(path, True, path.stat().st_mtime_ns)
        text = read_text(path)
        amendment = _amendment_in(path, text)
        if amendment is not None:
            try:
                base = amended_base(path, amendment)
            except ProxyTableError as exc:  # the digest pin: add its line
                raise _with_line(exc, path, text) from exc
            return _load_amendment(path, text, base.digest)
        spec = _read_table(path, text)
        index_text = None
        if spec.price_index is not None:
            local = path.parent / f"{spec.price_index}.index.yaml"
            if local.is_file():
                index_text = read_text(local)
        table = _load_file(path, False, text, index_text)
    _refuse_embedded_label(table, text)
    return table


def _version_line(text: str) -> int | None:
    """The line of a table file's top-level ``version:`` (None where there is none)."""
    return next((i for i, x in enumerate(text.splitlines(), 1) if x.startswith("version:")),
                None)


def _refuse_correction_label(table: ProxyTable, text: str, root: Path,
                             manifest: Mapping[str, str]) -> None:
    """A user's file of an embedded family may not take a label of the publisher's form
    (``2024.1``): in every result it would read as an official correction of the family, as
    an amendment so labelled would (a table author's review). A file in the embedded folder
    (a new edition validated before ``make manifest``) is the publisher's own."""
    family = f"{table.name}/"
    if (not any(key.startswith(family) for key in manifest)
            or not re.fullmatch(PUBLISHER_LABEL, table.version)):
        return
    try:
        if table.path is not None and Path(table.path).resolve().is_relative_to(
                root.resolve()):
            return
    except OSError:
        pass
    line = _version_line(text)
    raise ProxyTableError(
        f"{table.path}:{line}: field version: {table.name}:{table.version} has the form of the "
        f"publisher's editions and corrections of {table.name}, which this file is not: give "
        f"it a label with a name in it (e.g. {table.version}-local.1)",
        path=str(table.path), line=line, field="version")


def _refuse_embedded_label(table: ProxyTable, text: str) -> None:
    """A user's file may not carry an embedded edition's label (family and version) with
    other content: its results would read as the published edition's, told apart only by the
    digest. The same content (a copy of the published file) is fine.

    Published means listed in the manifest (an embedded edition is stored as
    ``<family>/<version>.yaml``): the comparison is with the manifest's digests, not with the
    embedded files, so a modified embedded file cannot switch the check off, and a new edition
    not yet in the manifest (validated before ``make manifest``) is not refused.
    """
    root = embedded_dir()
    manifest = _read_manifest(root)
    published = manifest.get(f"{table.name}/{table.version}.yaml")
    if published is None:  # a superseded edition's label: its content, or none
        published = manifest.get(f"{table.name}/{SUPERSEDED}/{table.version}.yaml")
    if published is None:
        _refuse_correction_label(table, text, root, manifest)
        return
    label = f"{table.name}:{table.version}"
    if table.digest != published:
        line = _version_line(text)
        raise ProxyTableError(
            f"{table.path}:{line}: field version: this file says it is {label}, an embedded "
            f"edition, but its content differs (digest {table.digest[:12]} against "
            f"{published[:12]}): give it a version label of its own (e.g. "
            f"{table.version}-local.1) or write an amendment of {label}"
            f"{_maintainer_hint(table.path, root)}",
            path=str(table.path), line=line, field="version")
    index = table.spec.price_index
    if table.index_digest != _read_manifest(root).get(f"indices/{index}.yaml"):
        raise ProxyTableError(
            f"{table.path}: this file is {label}, an embedded edition, but is read with another "
            f"price index ({index}.index.yaml beside it): its results would read as the "
            "published edition's. Give the table a version label of its own, or remove the "
            "local index", path=str(table.path), line=None, field="price_index")


def _maintainer_hint(path: Path | None, root: Path) -> str:
    """For the embedded file itself, edited in a source checkout: what a maintainer does."""
    try:
        own = path is not None and path.resolve().is_relative_to(root.resolve())
    except OSError:
        own = False
    return ("; editing this edition in a source checkout? A published edition gets a "
            "correction (proxies/README.md, Corrections); before a first release, record "
            "the change with make manifest ALLOW_CHANGES=1" if own else "")


def _spelling_hint(name: str) -> str:
    """What the caller may have meant by a name that is not a family: the command line's
    spellings of one edition or of a file, which the Python API takes otherwise."""
    family, sep, version = name.partition(":")
    if sep and _is_name(family) and version:
        return (f" (NAME:VERSION is the command line's spelling: in Python, "
                f"load_table({family!r}, version={version!r}))")
    if Path(name).suffix.lower() in (".yaml", ".yml", ".json"):
        return f" (a table file: load it with load_table(path={name!r}))"
    return ""


def _family_editions(name: str) -> list[ProxyTable]:
    root = embedded_dir()
    folder = root / name if _is_name(name) else None
    if folder is None or name in _NON_FAMILY_DIRS or not folder.is_dir():
        families = sorted(p.parent.name for p in _embedded_files(root))
        raise UnknownTableError(
            f"unknown table family {quoted(name)}: available are "
            f"{', '.join(sorted(set(families)))}"
            + _spelling_hint(name), name=name, available=sorted(set(families)),
        )
    _check_none_missing(root, f"{name}/")
    editions = [_load_path(p, embedded=True) for p in sorted(folder.glob("*.yaml"))]
    return TableSet(editions).editions


def _check_none_missing(root: Path, prefix: str = "") -> None:
    """Every file the manifest lists must be present: a deleted edition is tampering too."""
    missing = sorted(rel for rel in _read_manifest(root)
                     if rel.startswith(prefix) and not (root / rel).is_file())
    if missing:
        raise TableIntegrityError(
            f"{root}: embedded file(s) listed in the manifest are missing: {', '.join(missing)}",
            path=str(root), line=None, field=None, missing=missing)


def available_tables() -> list[TableRef]:
    """Every embedded table edition, as :class:`TableRef` sorted by family and start date.

    >>> import socialvalue_tom as sv
    >>> [f"{ref.name}:{ref.version} from {ref.valid_from}" for ref in sv.available_tables()]
    ['uk-national:2023 from 2023-04-01', 'uk-national:2024 from 2024-04-01', \
'uk-national:2025 from 2025-04-01']
    """
    root = embedded_dir()
    _check_none_missing(root)
    refs = [_load_path(p, embedded=True).ref for p in _embedded_files(root)]
    return sorted(refs, key=lambda r: (r.name, r.valid_from))


@overload
def load_table(name: str, *, version: str, carry_forward: bool = False,
               digest: str | None = None) -> ProxyTable: ...


@overload
def load_table(name: str, *, on: dt.date | str, carry_forward: bool = False,
               digest: str | None = None) -> ProxyTable: ...


@overload  # the edition named, checked to be in force on the day
def load_table(name: str, *, version: str, on: dt.date | str,
               carry_forward: bool = False, digest: str | None = None) -> ProxyTable: ...


@overload
def load_table(*, path: str | os.PathLike[str], digest: str | None = None) -> ProxyTable: ...


# The overloads say to a type checker what the checks below say at run time (a name with
# version= or on=, or path= alone); the implementation takes any mix, to refuse it clearly.
@own_decimal_context
def load_table(name: str | None = None, *, version: str | None = None,
               on: dt.date | str | None = None, path: str | os.PathLike[str] | None = None,
               carry_forward: bool = False, digest: str | None = None) -> ProxyTable:
    """Load a table edition.

    ``load_table("uk-national", version="2024")`` picks an edition by label;
    ``load_table("uk-national", on=date)`` the edition in force that day (a ``datetime``, or
    ``pandas.Timestamp``, counts as its date; ``YYYY-MM-DD`` text is read as that date, and
    text naming no day is a :class:`RuleError`, as for ``write_template(on=)``; strict:
    outside every edition is :class:`NoTableInForceError`, unless ``carry_forward`` takes the
    latest earlier edition);
    ``load_table(path="my/2025.yaml")`` reads a user's own file, and its price index from
    ``<price_index>.index.yaml`` beside it when there is one (else the embedded index).

    ``digest`` pins the edition loaded to the content digest a valuation recorded (its
    ``digest`` column, or :func:`socialvalue_tom.io.provenance`): the whole sha256 or its
    first 12 hex digits or more. An edition whose content differs (a later release of the
    package, an edited file) raises :class:`~socialvalue_tom.TableIntegrityError` naming both
    digests, so a valuation re-run to check last year's is run on last year's table or not at
    all.

    >>> import datetime as dt
    >>> import socialvalue_tom as sv
    >>> table = sv.load_table("uk-national", on=dt.date(2025, 6, 1))
    >>> table.version, table.valid_from, table.valid_to
    ('2025', datetime.date(2025, 4, 1), datetime.date(2026, 3, 31))
    >>> sv.load_table("uk-national", on="2026-06-01")
    Traceback (most recent call last):
    ...
    socialvalue_tom.errors.NoTableInForceError: no edition of uk-national is in force ...
    """
    carry_forward = flag(carry_forward, "carry_forward")
    pin = None if digest is None else _digest_pin(digest)
    if path is not None:
        if name is not None or version is not None:
            raise TypeError("give either a table name (with version/on) or path=, not both")
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"load_table(): path= must be a file path (str or pathlib.Path), "
                            f"not {type(path).__name__}")
        return _pinned(_load_path(Path(path)), pin)
    if name is None:
        raise TypeError("load_table() needs a table family name or path=")
    if not isinstance(name, str):
        hint = (": it is a loaded edition already, pass it as tables= where a table is wanted"
                if isinstance(name, ProxyTable) else _ref_hint(name)
                or (": load a table file with load_table(path=...)"
                    if isinstance(name, os.PathLike) else ""))
        raise TypeError(f"load_table() takes a family name (str), not "
                        f"{type(name).__name__}{hint}")
    day = None if on is None else as_day(on, "load_table(): on=")
    editions = _family_editions(name)
    if version is not None:
        for table in editions:
            if table.version == str(version):
                if day is not None and not table.covers(day):
                    raise NoTableInForceError(
                        f"{name}:{version} is valid {table.valid_from}..{table.valid_to}, "
                        f"not on {day}", name=name, date=day, field="on")
                return _pinned(table, pin)
        old = _superseded_file(name, str(version))
        if old is not None:
            if pin is None:
                raise UnknownTableError(
                    f"{name}:{version} was superseded by a correction (its file is kept at "
                    f"{old}): new valuations use the correction; to reproduce results made "
                    f"with {version}, pin the digest they recorded (load_table({name!r}, "
                    f"version={str(version)!r}, digest=...), --tables {name}:{version}@DIGEST)",
                    name=name, version=version,
                    available=[t.version for t in editions])
            table = _load_path(old, embedded=True)
            if day is not None and not table.covers(day):
                raise NoTableInForceError(
                    f"{name}:{version} is valid {table.valid_from}..{table.valid_to}, "
                    f"not on {day}", name=name, date=day, field="on")
            return _pinned(table, pin)
        years = re.fullmatch(r"\s*(\d{4})\s*[-/–]\s*\d{2,4}\s*", str(version))
        hint = (f" (editions are named by the year they start: {years[1]!r} for "
                f"{str(version).strip()})" if years else "")
        raise UnknownTableError(
            f"unknown version {quoted(version)} of {name}: available are "
            f"{', '.join(t.version for t in editions)}{hint}", name=name, version=version,
            available=[t.version for t in editions])
    if day is None:
        raise TypeError("load_table(name) needs version= or on= to pick an edition")
    try:
        chosen = TableSet(editions).select(day, carry_forward=carry_forward)[0]
    except NoTableInForceError as exc:  # the argument at fault is on=, not an outcome's date
        raise NoTableInForceError(exc.message, **{**exc.details, "field": "on"}) from None
    return _pinned(chosen, pin)


#: The fewest hex digits a digest pin may give (as an edition's repr shows it).
_PIN_DIGITS = 12


def _digest_pin(digest: object) -> str:
    """``digest`` as a pin: 12 to 64 hex digits, lower case; else :class:`RuleError`."""
    if not isinstance(digest, str):
        raise TypeError(f"digest must be text (a sha256 in hex), not {type(digest).__name__}")
    pin = digest.strip().lower().removeprefix("sha256:")  # as tables validate prints one
    if not re.fullmatch(rf"[0-9a-f]{{{_PIN_DIGITS},64}}", pin):
        raise RuleError(f"digest {quoted(digest)} is not a content digest: give the sha256 an "
                        f"edition records (64 hex digits), or its first {_PIN_DIGITS} or more",
                        field="digest")
    return pin


def _pinned(table: ProxyTable, pin: str | None) -> ProxyTable:
    """``table``, if its digest is the one pinned (``pin`` None: no pin)."""
    if pin is None or table.digest.startswith(pin):
        return table
    raise TableIntegrityError(
        f"{table.name}:{table.version} has content digest {table.digest[:16]}..., not the "
        f"{pin[:16]}... pinned: this is not the edition that was recorded (a later release of "
        "the package may have corrected it, or its file was edited); value with the release "
        "or file that recorded it, or leave the pin out to use this one",
        path=str(table.path) if table.path else None, line=None, field="digest",
        expected=pin, actual=table.digest)


def with_files_in_place(family: Iterable[ProxyTable],
                        files: Sequence[ProxyTable]) -> list[ProxyTable]:
    """The editions of ``family`` a file's edition does not cover, then the files' editions:
    a file given with its family (an amendment of one year) takes the place of that year's
    edition. :class:`RuleError` for a file covering only part of a family edition: dropping
    that edition would leave its other dates to no edition."""
    kept = []
    for e in family:
        over = [f for f in files if f.valid_from <= e.valid_to and e.valid_from <= f.valid_to]
        part = [f for f in over if not (f.valid_from <= e.valid_from and e.valid_to <= f.valid_to)]
        if part:
            f = part[0]
            raise RuleError(f"{f.name}:{f.version} ({f.valid_from}..{f.valid_to}) covers only "
                            f"part of {e.name}:{e.version} ({e.valid_from}..{e.valid_to}): a "
                            "table file given with a family replaces whole editions; give it "
                            "alone, or with editions (NAME:VERSION) whose dates it does not "
                            "touch", field="tables")
        if not over:
            kept.append(e)
    return [*kept, *files]


class TableSet:
    """Editions of one family, sorted by start date and checked not to overlap.

    >>> import socialvalue_tom as sv
    >>> sv.TableSet([sv.load_table("uk-national", version="2025"),
    ...              sv.load_table("uk-national", version="2024")])
    TableSet(uk-national:2024, uk-national:2025)
    """

    def __init__(self, editions: Iterable[ProxyTable]) -> None:
        given = list(editions)
        for e in given:
            if not isinstance(e, ProxyTable):
                hint = (": a family name goes alone, as a string; load one edition with "
                        "load_table(name, version=...)" if isinstance(e, str)
                        else _ref_hint(e))
                raise TypeError(f"a sequence of tables must hold editions (ProxyTable, from "
                                f"load_table), not {type(e).__name__} {e!r:.60}{hint}")
        self.editions = sorted(given, key=lambda t: t.valid_from)
        if not self.editions:
            raise UnknownTableError("no table edition given", name=None)
        names = {t.name for t in self.editions}
        if len(names) > 1:
            # Each family with where its editions came from: the files to take apart.
            where = "; ".join(
                f"{n}: " + ", ".join(f"{t.version}" + (f" ({t.path})" if t.path else "")
                                     for t in self.editions if t.name == n)
                for n in sorted(names))
            raise ProxyTableError(f"editions of several families mixed: {sorted(names)} "
                                  f"({where}): the editions valued together are one family's",
                                  path=None, line=None, field="family")
        labels = [t.version for t in self.editions]
        if len(set(labels)) < len(labels):
            twice = sorted({v for v in labels if labels.count(v) > 1})
            raise ProxyTableError(
                f"editions of {self.editions[0].name} with the same version label "
                f"{', '.join(twice)}: results name editions by label, so labels must differ",
                path=None, line=None, field="version")
        for a, b in zip(self.editions, self.editions[1:], strict=False):
            if b.valid_from <= a.valid_to:
                both = (" (two amendments of one edition: put their values in one amendment "
                        "file, or amend the amendment)"
                        if a.amends is not None and a.amends == b.amends else "")
                raise ProxyTableError(
                    f"{b.path or b.version}: validity {b.valid_from}..{b.valid_to} overlaps "
                    f"{a.name}:{a.version} ({a.valid_from}..{a.valid_to}){both}",
                    path=str(b.path), line=None, field="valid_from")

    def __repr__(self) -> str:
        # Its editions by label, in order: the default repr named only the object's address.
        return f"TableSet({', '.join(f'{t.name}:{t.version}' for t in self.editions)})"

    @property
    def name(self) -> str:
        """The family name."""
        return self.editions[0].name

    def ranges(self) -> str:
        """The editions' validity ranges, for messages."""
        return ", ".join(f"{t.version} ({t.valid_from}..{t.valid_to})" for t in self.editions)

    def select(self, day: dt.date | str, *,
               carry_forward: bool = False) -> tuple[ProxyTable, bool]:
        """The edition in force on ``day`` and whether it was carried forward past its end."""
        carry_forward = flag(carry_forward, "carry_forward")
        day = as_day(day, "select(): day")
        for table in self.editions:
            if table.covers(day):
                return table, False
        earlier = [t for t in self.editions if t.valid_to < day]
        if carry_forward and earlier:
            return earlier[-1], True
        hint = "" if carry_forward or not earlier else " (carry_forward=True would use the latest)"
        raise NoTableInForceError(
            f"no edition of {self.name} is in force on {day}: editions cover "
            f"{self.ranges()}{hint}{self.alone_hint() or self.elsewhere_hint()(day)}",
            name=self.name, date=day)

    def elsewhere_hint(self) -> Callable[[dt.date], str]:
        """For dates none of these editions covers: a function naming the family's edition
        that covers a day, where these editions leave it out (``uk-national:2024`` alone,
        for a date of 2025/26: carrying the latest forward would value it with the wrong
        year's proxies). The catalogue is read once, for every day asked about."""
        try:
            family = _family_editions(self.name)
        except SocialValueError:  # a user's own family: the catalogue does not know it
            family = []
        mine = {t.version for t in self.editions}
        left_out = [t for t in family if t.version not in mine]

        def hint(day: dt.date) -> str:
            for t in left_out:
                if t.covers(day):
                    return (f"; {t.name}:{t.version} covers that date (give the family, "
                            f"{t.name}, for every edition)")
            return ""

        return hint

    def alone_hint(self) -> str:
        """For a date no edition covers: when the only edition is a local amendment, how to
        give the family's other editions with it."""
        if len(self.editions) != 1 or self.editions[0].amends is None:
            return ""
        e = self.editions[0]
        return (f"; {e.name}:{e.version} amends one edition only: give it with the family's "
                f"other editions (on the command line --tables {e.name},FILE; in Python a "
                "list of editions)")


def resolve_tables(tables: str | ProxyTable | TableSet | Sequence[ProxyTable]) -> TableSet:
    """Turn what a caller passed as ``tables`` into a :class:`TableSet`."""
    if isinstance(tables, TableSet):
        return tables
    if isinstance(tables, ProxyTable):
        return TableSet([tables])
    if isinstance(tables, str):
        return TableSet(_family_editions(tables))
    if isinstance(tables, os.PathLike | bytes | Mapping) or not isinstance(tables, Iterable):
        hint = (": load a table file with load_table(path=...)"
                if isinstance(tables, os.PathLike) else _ref_hint(tables))
        raise TypeError(f"tables must be a family name, an edition (ProxyTable) or a sequence "
                        f"of editions, not {type(tables).__name__}{hint}")
    return TableSet(list(tables))


def _ref_hint(obj: object) -> str:
    """How to load the edition a :class:`TableRef` (from ``available_tables``) describes."""
    if not isinstance(obj, TableRef):
        return ""
    return (f": a TableRef describes an edition, load it with load_table({obj.name!r}, "
            f"version={obj.version!r}) (or pass the family name {obj.name!r})")


def _superseded_rel(rel: str) -> str:
    """Where a corrected edition recorded at ``rel`` (``<family>/<version>.yaml``) is kept."""
    family, _, name = rel.partition("/")
    return f"{family}/{SUPERSEDED}/{name}"


def _refuse_overlapping_editions(specs: list[tuple[Path, TableFile]]) -> None:
    """Two files of a family valid on the same day: a corrected edition left beside its
    correction, which belongs in ``<family>/superseded/``."""
    by_family: dict[str, list[tuple[Path, TableFile]]] = {}
    for path, spec in specs:
        by_family.setdefault(spec.family, []).append((path, spec))
    for editions in by_family.values():
        editions.sort(key=lambda e: e[1].valid_from)
        for (path_a, a), (path_b, b) in itertools.pairwise(editions):
            if b.valid_from <= a.valid_to:
                # Both causes named (a table author's review: a valid_from typo was told
                # about corrections alone).
                raise ProxyTableError(
                    f"{path_b}: {b.family}:{b.version} and {a.family}:{a.version} "
                    f"({path_a.name}, valid to {a.valid_to}) are both valid on {b.valid_from}: "
                    "editions of a family may not overlap; check the dates (valid_from, "
                    "valid_to), or, where one corrects the other, move the corrected "
                    f"edition's file to proxies/{a.family}/superseded/ (proxies/README.md, "
                    "Corrections)", path=str(path_b), line=None, field="valid_from")


def refuse_overlap_in_folder(path: Path) -> None:
    """For a table file in the embedded folder (a new edition being written in a source
    checkout): :class:`ProxyTableError` where its validity overlaps another edition of its
    family there, as ``make manifest`` would refuse it (``tables validate`` checks it
    first). Files elsewhere may cover an edition's dates: a user's file or amendment takes
    its place."""
    root = embedded_dir()
    try:
        inside = path.resolve().parent.parent == root.resolve()
    except OSError:
        return
    if not inside:
        return
    specs = [(f, read_model(f, TableFile)) for f in _embedded_files(root)
             if f.resolve() != path.resolve()]
    _refuse_overlapping_editions([*specs, (path, read_model(path, TableFile))])


def write_manifest(root: Path | None = None, *, allow_changes: bool = False) -> Path:
    """Recompute the digests of the embedded tables and indices into ``manifest.json``.

    Run by maintainers after an intended change to a table (``make manifest``). Editions are
    immutable once recorded: a table or index the manifest records with another digest is
    refused (:class:`ProxyTableError` naming them; a correction is a new version label) unless
    ``allow_changes`` (``make manifest ALLOW_CHANGES=1``: a change before a first release, or
    a format change, logged in ``proxies/CHANGELOG.md`` with the digests before and after).
    Editions of one family whose validity overlaps are refused too (a corrected edition's
    file left beside its correction).
    """
    root = root or embedded_dir()
    # None yet: written afresh. One that cannot be read (a merge's conflict markers) is an
    # error: read as empty, it would let any edit through.
    recorded = _read_manifest(root) if (root / MANIFEST).exists() else {}
    digests: dict[str, str] = {}
    specs: list[tuple[Path, TableFile]] = []
    for path in _embedded_files(root):
        spec = read_model(path, TableFile)
        if path.stem != spec.version or path.parent.name != spec.family:
            # The label check of users' files (_refuse_embedded_label) finds a published
            # edition by this path.
            raise ProxyTableError(
                f"{path}: an embedded edition is stored as <family>/<version>.yaml: the file "
                f"says {spec.family}:{spec.version}, so give it the version of its name "
                f"(a correction's own label, {path.stem!r}) or name it "
                f"{spec.family}/{spec.version}.yaml", path=str(path), line=None,
                field="version")
        digests[path.relative_to(root).as_posix()] = canonical_digest(spec)
        specs.append((path, spec))
    _refuse_overlapping_editions(specs)
    for path in _superseded_files(root):
        spec = read_model(path, TableFile)
        if path.stem != spec.version or path.parent.parent.name != spec.family:
            raise ProxyTableError(
                f"{path}: a superseded edition is stored as <family>/{SUPERSEDED}/<version>.yaml, "
                f"so this file should be {spec.family}/{SUPERSEDED}/{spec.version}.yaml",
                path=str(path), line=None, field="version")
        # Pinned as the editions are: results made with it are reproduced from it.
        digests[path.relative_to(root).as_posix()] = canonical_digest(spec)
    for path in sorted((root / "indices").glob("*.yaml")):
        digests[path.relative_to(root).as_posix()] = canonical_digest(read_model(path, IndexFile))
    current = {f"{spec.family}:{spec.version}" for _, spec in specs}
    for rel in digests:
        label = _superseded_label(rel)
        if label is not None and ":".join(label) in current:
            raise ProxyTableError(
                f"{root / rel}: {':'.join(label)} is both in the catalogue and superseded: a "
                "correction takes a label of its own (2024.1)",
                path=str(root / rel), line=None, field="version")
    changed = sorted(rel for rel, digest in digests.items()
                     if recorded.get(rel) not in (None, digest))
    # A recorded file gone: a published or superseded edition deleted (results pinned to it
    # could no longer be reproduced), unless the change is allowed.
    changed += sorted(rel for rel in recorded if rel not in digests
                      and not rel.startswith("crosswalks/")
                      and digests.get(_superseded_rel(rel)) != recorded[rel])
    if changed and not allow_changes:
        raise ProxyTableError(
            f"{', '.join(changed)}: recorded in {MANIFEST} with another digest (or deleted): "
            "a published edition (or index vintage) is never edited in place or removed; "
            "issue a correction, a new "
            "version label in its own file (proxies/README.md, Corrections). Before a first "
            "release, or for a change to the table format, pass allow_changes=True (make "
            "manifest ALLOW_CHANGES=1) and list the digests before and after in "
            "proxies/CHANGELOG.md", path=str(root / MANIFEST), line=None, field=None,
            missing=changed)
    from socialvalue_tom.tables.crosswalk import crosswalk_digest, read_crosswalk_file

    for path in sorted((root / "crosswalks").glob("*.yaml")):
        digests[path.relative_to(root).as_posix()] = crosswalk_digest(read_crosswalk_file(path))
    out = root / MANIFEST
    out.write_text(json.dumps({"format": "socialvalue_tom.manifest/v1", "digests": digests},
                              indent=2, sort_keys=True) + "\n", encoding="utf-8",
                   newline="\n")  # the same bytes on Windows: the file is under version control
    _load_file.cache_clear()
    _read_table.cache_clear()
    _load_amendment.cache_clear()
    _load_index_file.cache_clear()
    return out
