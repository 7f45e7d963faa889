"""Crosswalks: our measure codes in the languages buyers report in.

The embedded crosswalks (``proxies/crosswalks/``) map each ``uk-national`` measure to National
TOMs measure codes (``toms``: codes only, never values), to the missions and policy outcomes of
the Social Value Model in PPN 002 (``ppn002``), and to the themes and outcomes of PPN 06/20
(``ppn0620``). :func:`load_crosswalk` reads one as a table; :func:`with_crosswalk` adds its
groups to valued rows, so that :func:`~socialvalue_tom.report.summarise` totals them in that
language (``summarise(with_crosswalk(valued, "ppn002"), by="ppn002_outcome")``).

Each measure is in one group of a crosswalk (a measure mapped to two TOMs codes is in the group
``NT12, NT13``), so totals by crosswalk group add up to the whole, never count a value twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field

from socialvalue_tom.errors import ProxyTableError
from socialvalue_tom.tables._loader import read_model

__all__ = ["CROSSWALK_GROUPS", "NOT_IN_CROSSWALK", "NO_COUNTERPART", "available_crosswalks",
           "load_crosswalk", "with_crosswalk"]

#: The columns :func:`with_crosswalk` adds for each embedded crosswalk, the group a measure is
#: reported under first (the outcome, or the TOMs codes).
CROSSWALK_GROUPS: dict[str, tuple[str, ...]] = {
    "ppn002": ("outcome", "mission"),
    "ppn0620": ("outcome", "theme"),
    "toms": ("codes",),
}
#: The group of a measure the crosswalk maps to nothing (no counterpart was identified).
NO_COUNTERPART = "(no counterpart)"
#: The group of a measure the crosswalk does not list (a measure of a user's own table).
NOT_IN_CROSSWALK = "(not in the crosswalk)"
#: What a report and the command line say beside totals by a crosswalk whose file gives no
#: ``caveat`` of its own.
DEFAULT_CAVEAT = ("codes and names only, compiled from public sources; verify it against the "
                  "current model before using it in a tender")
#: What the amounts in totals by a crosswalk are: the tables' valuation regrouped, never the
#: framework's own (a social value manager's review: a board read "NT1 £788,346.00" as a
#: TOMs-valued figure, and NT18 as all local spend where it held what the SME and VCSE spend
#: left). Said beside the caveat wherever totals by a crosswalk are shown.
_AMOUNTS = {
    "toms": ("the amounts are valued with the proxy tables named, from open sources, not with "
             "National TOMs proxy values, which this library does not hold: they are not TOMs "
             "figures and differ from a TOMs calculator's for the same codes, and a measure "
             "counted after its parts (local jobs after priority hires, local spend after "
             "local SME and VCSE spend) holds only what they leave, not the whole a TOMs "
             "return reports under its code"),
    "ppn002": ("the Social Value Model does not monetise its outcomes: the amounts are valued "
               "with the proxy tables named, from open sources, and grouped by the outcome "
               "each measure maps to"),
    "ppn0620": ("the Social Value Model does not monetise its outcomes: the amounts are valued "
                "with the proxy tables named, from open sources, and grouped by the outcome "
                "each measure maps to"),
}
#: The same for a crosswalk without a sentence of its own.
_DEFAULT_AMOUNTS = ("the amounts are valued with the proxy tables named and grouped by the "
                    "crosswalk, which holds codes and names only, no values of its own")


class _Mapping(BaseModel, extra="forbid", frozen=True):
    measure: str = Field(min_length=1)
    codes: tuple[str, ...]
    mission: str | None = None
    theme: str | None = None
    outcome: str | None = None
    note: str | None = None


class _CrosswalkFile(BaseModel, extra="forbid", frozen=True):
    format: Literal["socialvalue_tom.crosswalk/v1"]
    name: str
    family: str = Field(min_length=1)  # the tables whose measure codes it maps
    title: str
    source: dict[str, object]
    notes: str | None = None
    #: One sentence printed beside totals by the crosswalk: how far it was checked, and
    #: against what to verify it (the notes are the full account).
    caveat: str | None = Field(default=None, min_length=1, max_length=400)
    mappings: tuple[_Mapping, ...]


def _folder() -> Path:
    from socialvalue_tom.tables.catalogue import embedded_dir

    return embedded_dir() / "crosswalks"


def available_crosswalks() -> list[str]:
    """The names of the embedded crosswalks (``ppn002``, ``ppn0620``, ``toms``)."""
    return sorted(p.stem for p in _folder().glob("*.yaml"))


#: A National TOMs measure code as returns write it (NT1, NT12, nt 12).
_TOMS_CODE = re.compile(r"\s*NT\s*\d+[a-z]?\s*", re.IGNORECASE)


def framework_code_hint(text: object, codes: Iterable[str]) -> str:
    """Where a measure given is a National TOMs code (``NT12``), the measures of ``codes``
    the embedded ``toms`` crosswalk maps to it: a return copied from a TOMs calculator names
    its measures that way. ``""`` otherwise, and for tables with codes of that form of their
    own (``nt1``, a licensed TOMs table's): their codes are the ones meant, not the embedded
    crosswalk's reading of them (a near code is then suggested as for any other)."""
    if not isinstance(text, str) or not _TOMS_CODE.fullmatch(text):
        return ""
    code = re.sub(r"\s+", "", text).upper()
    known = set(codes)
    if any(_TOMS_CODE.fullmatch(c) for c in known):
        return ""
    try:
        walk = load_crosswalk("toms")
    except Exception:  # a broken embedded file is reported where it is loaded, not here
        return ""
    ours = [m for m, cs in zip(walk["measure"], walk["codes"], strict=True)
            if code in [c.strip().upper() for c in cs.split(",")] and m in known]
    found = (f": the measure{'s' if len(ours) > 1 else ''} mapped to it "
             f"{'are' if len(ours) > 1 else 'is'} {', '.join(ours)}" if ours else
             ": no measure of these tables is mapped to it")
    return (f"; {code} is a National TOMs measure code, not one of these tables' codes"
            f"{found} (crosswalk 'toms': verify against your licensed edition)")


def crosswalk_digest(spec: BaseModel) -> str:
    """sha256 of a crosswalk file's content as JSON (its layout and comments aside)."""
    text = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_crosswalk_file(path: Path) -> BaseModel:
    """A crosswalk file, parsed and checked against its schema (for the manifest)."""
    return read_model(path, _CrosswalkFile)


def load_crosswalk(name: str) -> pd.DataFrame:
    """The embedded crosswalk ``name`` as a table: one row per measure, with ``measure``,
    ``codes`` (the codes as text, ``"NT12, NT13"``; ``""`` where the measure has no
    counterpart), the crosswalk's names (``mission`` and ``outcome`` for ``ppn002``, ``theme``
    and ``outcome`` for ``ppn0620``) and ``note``. ``attrs["crosswalk"]`` holds its title,
    source, notes (what was checked), caveat (the sentence printed beside totals by it:
    :data:`DEFAULT_CAVEAT` where the file gives none) and amounts (the sentence printed with
    it: what the amounts grouped by it are, the proxy tables' values, never the framework's).

    Raises :class:`~socialvalue_tom.ProxyTableError` for an unknown name, or a file that is
    not a valid crosswalk (naming the file, line and field).
    """
    names = available_crosswalks()
    if name not in names:
        raise ProxyTableError(f"unknown crosswalk {name!r}: the embedded ones are "
                              f"{', '.join(names)}", path=None, line=None, field=None)
    path = _folder() / f"{name}.yaml"
    spec = read_model(path, _CrosswalkFile)
    # Pinned by the manifest, as the tables are (a security review: an edited crosswalk put
    # a table's totals under forged codes and title, silently).
    from socialvalue_tom.tables.catalogue import _check_integrity, embedded_dir

    root = embedded_dir()
    if path.parent.resolve() == (root / "crosswalks").resolve():
        _check_integrity(root, (root / "crosswalks" / path.name), crosswalk_digest(spec))
    if spec.name != name:
        raise ProxyTableError(f"{path}: field name: the crosswalk names itself {spec.name!r}, "
                              f"not {name!r} as its file does", path=str(path), line=None,
                              field="name")
    seen: set[str] = set()
    for i, m in enumerate(spec.mappings):
        if m.measure in seen:  # two groups for one measure would count its value twice
            raise ProxyTableError(f"{path}: field mappings[{i}].measure: {m.measure!r} is "
                                  "mapped twice", path=str(path), line=None,
                                  field=f"mappings[{i}].measure")
        seen.add(m.measure)
    extra = [f for f in CROSSWALK_GROUPS.get(name, ()) if f != "codes"]
    frame = pd.DataFrame({
        "measure": [m.measure for m in spec.mappings],
        "codes": [", ".join(m.codes) for m in spec.mappings],
        **{f: [getattr(m, f) for m in spec.mappings] for f in extra},
        "note": [m.note for m in spec.mappings],
    })
    frame.attrs["crosswalk"] = {"name": spec.name, "family": spec.family, "title": spec.title,
                                "source": dict(spec.source), "notes": spec.notes,
                                "caveat": spec.caveat or DEFAULT_CAVEAT,
                                "amounts": _AMOUNTS.get(spec.name, _DEFAULT_AMOUNTS)}
    return frame


def with_crosswalk(valued: pd.DataFrame, name: str) -> pd.DataFrame:
    """``valued`` with the groups of crosswalk ``name`` added as columns named
    ``<name>_<group>`` (``ppn002_outcome`` and ``ppn002_mission``, ``ppn0620_outcome`` and
    ``ppn0620_theme``, ``toms_codes``), matched on each row's ``measure`` (surrounding spaces
    stripped, as valuing reads it) among the measures of the family the crosswalk maps
    (``uk-national``): where ``valued`` has a ``table`` column (every valuation has), a row
    valued with another family's table (your own) is not in the crosswalk, even under a code
    the crosswalk lists, since your measure of that code is your own definition (a row with
    no table, one not valued, is matched on its measure). A measure the
    crosswalk maps to nothing is in the group :data:`NO_COUNTERPART`, one it does not list in
    :data:`NOT_IN_CROSSWALK`: every row is in one group, so the groups' totals add up to the
    whole. The columns are categoricals whose categories are in the codes' own order (NT2
    before NT10; the two groups above last), so totals by them list the groups so. Columns of
    those names in ``valued`` are replaced; the input is not changed.

    Examples:
        >>> df = pd.DataFrame({"measure": ["jobs-local-fte", "env-carbon-saved", "my-own"],
        ...                    "value_gbp": [100.0, 50.0, 5.0]})
        >>> with_crosswalk(df, "toms")["toms_codes"].tolist()
        ['NT1', 'NT31', '(not in the crosswalk)']
    """
    from socialvalue_tom.report import _need

    _need(valued, ["measure"], "with_crosswalk")
    table = load_crosswalk(name)
    fields = CROSSWALK_GROUPS.get(name, ("codes",))
    out = valued.copy(deep=False)
    code = valued["measure"].astype(object).map(
        lambda x: x.strip() if isinstance(x, str) else x)
    if "table" in valued.columns:
        family = table.attrs["crosswalk"]["family"]
        # A row with no table (not valued) is matched on its measure alone.
        ours = valued["table"].astype(object).map(
            lambda x: x.strip() == family if isinstance(x, str) else True).to_numpy(dtype=bool)
        code = code.where(ours, None)  # another family's measure: not in the crosswalk
    for field in fields:
        groups = {m: (text if isinstance(text, str) and text else NO_COUNTERPART)
                  for m, text in zip(table["measure"], table[field], strict=True)}
        cells = [groups.get(c, NOT_IN_CROSSWALK) if isinstance(c, str) else NOT_IN_CROSSWALK
                 for c in code]
        # A categorical in the codes' own order, so that totals by it list NT2 before NT10
        # (sorted as text they read NT1, NT10, NT12 ... NT3: a social value manager's
        # review), the two groups of rows without a counterpart last.
        out[f"{name}_{field}"] = pd.Categorical(
            cells, categories=sorted(set(cells), key=_in_code_order))
    return out


def _in_code_order(group: str) -> tuple[bool, list[tuple[int, Any]]]:
    """A sort key reading a group's runs of digits as numbers (NT2 before NT10; "NT12, NT13"
    after NT12), the groups of rows with no counterpart after the others."""
    runs = re.split(r"(\d+)", group)
    return (group in (NO_COUNTERPART, NOT_IN_CROSSWALK),
            [(1, int(run)) if i % 2 else (0, run) for i, run in enumerate(runs)])
