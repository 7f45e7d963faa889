"""Double-counting exclusions across measures, declared by the table and enforced in bulk.

An exclusion lists parts, then the whole they belong to: the last measure is the whole (all local
employment), the earlier ones distinct parts of it (hires from each priority group). Within one
group of rows (same key columns, ``contract_id`` by default, plus ``stage`` and ``supplier_id``
when present, read as ``_text.key_text`` reads them: text stripped, ``1001.0`` the same as
``1001`` and ``"1001"``; and the same edition):

- ``count_once``: the parts count in full; the whole's claims are reduced by the sum of the
  parts' claims (each a canonical quantity over the row's years: the caller passes it as
  ``canonical``), never below zero (a priority-group hire is also a local job: count the FTE
  once). Every row of the whole is scaled by the same share, so the result does not depend on
  row order. Parts are not reduced by each other: one hire claimed under two parts is for the
  evidence rules to prevent, the engine cannot see it.
- ``reject``: when the whole is claimed alongside any of its parts, the whole's rows are
  rejected as issues (parts alongside parts are fine).

With two measures, the first is the part and the second the whole.

Measures of one exclusion must share a canonical unit (checked when the table is loaded:
``tables/schema.py``, a ``ProxyTableError`` naming the field and line).
A missing key value is a group of its own. Without ``contract_id`` (the default key, when the
exclusion declares none) the whole input is one group (the conservative reading); a key the
exclusion declares is checked instead: an input with claims the exclusion governs but without a
column of that key raises :class:`~socialvalue_tom.errors.OutcomeError` naming the exclusion and
the columns, before anything is valued (a misspelt key column would otherwise join every
contract into one group).

Totals per (group, rank) add each group's claims in ascending order of value, so the
same claims give the same bits whatever their row order. For input that arrives in pieces (file
chunks, Dask partitions), :func:`claim_rows` lists each piece's claims with a text label per
group, and the pieces' lists together give the same totals as the whole input
(``exclusion_scales(..., totals=ClaimTotals.from_claims(all_pieces, tables))``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialvalue_tom._text import cell_codes, is_missing, key_texts, near_names
from socialvalue_tom.errors import OutcomeError, RuleError
from socialvalue_tom.rules.steps import on_decimal_grid
from socialvalue_tom.tables.table import ProxyTable

if TYPE_CHECKING:
    from socialvalue_tom.tables.schema import Exclusion

__all__ = [
    "CLAIM_COLUMNS",
    "ClaimTotals",
    "ExclusionResult",
    "GroupKeys",
    "GroupTotals",
    "claim_rows",
    "claims_in_blocks",
    "exclusion_scales",
    "group_totals",
]

#: Columns that always separate groups when present: commitments are not deliveries, and one
#: supplier's hire is not another's (in bid evaluation, tenderers share a contract_id).
ALWAYS_APART = ("stage", "supplier_id")
#: Columns of :func:`claim_rows`.
CLAIM_COLUMNS = ["edition", "exclusion", "group", "rank", "quantity"]
#: The key of an exclusion that declares none (``Exclusion.key``'s default in the schema):
#: ``contract_id``, which may be absent (then the whole input is one contract). A declared
#: key's columns must all be present.
DEFAULT_KEY: tuple[str, ...] = ("contract_id",)
_MISSING = "\x00missing"
_SEP = "\x1f"


@dataclass
class ExclusionResult:
    """Per-row share of the claim counted (1.0 = all), the exclusion that fired, rejections."""

    scale: np.ndarray
    fired: np.ndarray                  # int16 code into ``ids`` (-1: none fired)
    ids: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row position, reason)

    def fired_categorical(self) -> pd.Categorical:
        """The exclusion that fired on each row, as a categorical (NaN where none)."""
        return pd.Categorical.from_codes(self.fired, categories=pd.Index(self.ids, dtype=object))


@dataclass
class _Claims:
    """The rows of one exclusion in one edition: positions, rank (the whole is the last), group."""

    edition: str
    exclusion: str
    order: tuple[str, ...]
    mode: str
    rows: np.ndarray
    rank: np.ndarray
    group: np.ndarray          # dense group id per row
    first: np.ndarray          # a row position of each group (for its label)
    cols: list[str]            # key columns that exist in the input
    quantity: np.ndarray
    #: Per key column of the input, its codes and each distinct value's escaped key text,
    #: shared by the claims of one input (every exclusion's labels read the same columns).
    texts: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def labels(self, df: pd.DataFrame) -> np.ndarray:
        """A text label per group from its key values: the same in every chunk."""
        if not self.cols:
            return np.array([""], dtype=object)
        if self.texts is not None and all(df[n].dtype != object for n in self.cols):
            # Typed columns: each distinct value's text once per input, not per exclusion.
            # (An object column is read over the groups' rows as below: its distinct values,
            # 1.5 and Fraction(3, 2) say, depend on which rows are factorised.)
            parts = []
            for name in self.cols:
                if name not in self.texts:
                    codes, uniq = cell_codes(df[name])
                    escaped = [_MISSING if t is None else _escape(t) for t in key_texts(uniq)]
                    self.texts[name] = (codes, np.array([*escaped, _MISSING], dtype=object))
                codes, table = self.texts[name]
                parts.append(table[codes[self.first]])
            label: np.ndarray = parts[0]
            for part in parts[1:]:
                label = label + _SEP + part
            return label
        # key_text once per distinct value of each column, not per group and column
        firsts = df[self.cols].iloc[self.first]
        # A fresh position index: the input's labels may repeat (a concat of two returns),
        # and the escaping below aligns on labels.
        keys = pd.DataFrame({name: _key_texts(firsts[name]) for name in self.cols})
        # Escaped so that no key text holds the separator or the missing marker: ("a\x1fb",
        # "c") and ("a", "b\x1fc") must stay two labels.
        text = keys.apply(_escaped).where(keys.notna(), _MISSING).astype(str)
        joined = text[self.cols[0]]
        for name in self.cols[1:]:
            joined = joined + _SEP + text[name]
        return joined.to_numpy(dtype=object)


def _key_texts(column: pd.Series) -> np.ndarray:
    """:func:`key_text` of every cell, worked out once per distinct value (None if missing)."""
    codes, uniq = cell_codes(column)
    texts = np.array([*key_texts(uniq), None], dtype=object)
    out: np.ndarray = texts[codes]
    return out


#: What a key text escapes, in this order (the backslash first, so no escape is escaped
#: again): ("a\x1fb", "c") and ("a", "b\x1fc") must stay two labels.
_ESCAPES = (("\\", "\\\\"), (_SEP, "\\x1f"), ("\x00", "\\x00"))


def _escape(text: str) -> str:
    """One key text escaped as :func:`_escaped` escapes a column."""
    for old, new in _ESCAPES:
        text = text.replace(old, new)
    return text


def _escaped(col: pd.Series) -> pd.Series:
    """Key texts with ``\\``, the separator and NUL escaped (missing cells stay missing)."""
    text = col.astype(object)
    present = text.notna()
    out = text[present].astype(str)
    for old, new in _ESCAPES:
        out = out.str.replace(old, new, regex=False)
    return text.where(~present, out)


class GroupKeys:
    """Group ids of a whole in-memory input, by key columns: worked out once (one factorisation
    per key column) and shared by its blocks, so no text labels are needed."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._codes: dict[tuple[str, ...], tuple[np.ndarray, int]] = {}

    def codes(self, cols: list[str]) -> tuple[np.ndarray, int]:
        """Dense group id of every row of the input, and the number of groups."""
        key = tuple(cols)
        if key not in self._codes:
            dense, uniq_ids = pd.factorize(_combined(self.df, slice(None), cols))
            self._codes[key] = (dense.astype(np.int32), len(uniq_ids))
        return self._codes[key]


@dataclass(frozen=True)
class GroupTotals:
    """Claims summed per (global group id, rank), by (edition label, exclusion id): the ids of
    the groups with a claim (ascending) and their sums, one row per group and a last row of
    zeros (for any other group). Only groups with claims are held: a row per group of the whole
    input, for every edition and exclusion, was tens of MiB at 1e6 rows."""

    by_key: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]


def _claims(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
            measure: np.ndarray, tables: list[ProxyTable], keys: GroupKeys | None = None,
            where: np.ndarray | None = None, carried: np.ndarray | None = None,
            ) -> list[_Claims]:
    """The claims of each exclusion; with ``keys``, groups are the whole input's ids (``where``
    gives the positions of ``df``'s rows in that input). ``carried``: per row, the financial
    year a row valued with an edition carried forward past its end is in (-1 otherwise): each
    such year's claims are set against that year's, as if it had an edition of its own."""
    n_m = max(len(t.measure_codes) for t in tables)
    edition, measure = edition.astype(np.intp), measure.astype(np.intp)
    ok = (edition >= 0) & (measure >= 0) & np.isfinite(canonical)
    flat = np.where(ok, edition * n_m + measure, len(tables) * n_m)  # last slot: invalid rows
    found = []
    # Key codes per column of the whole piece, worked out once and shared by its exclusions
    # (each exclusion groups a subset of the rows by the same columns).
    column_codes: dict[str, tuple[np.ndarray, int]] = {}
    column_texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for e, t in enumerate(tables):
        for ex in t.spec.exclusions:
            rank_of = np.full(len(tables) * n_m + 1, -1, dtype=np.intp)
            for k, code in enumerate(ex.measures):
                rank_of[e * n_m + t.measure_index[code]] = k
            rank = rank_of[flat]
            claimed = np.flatnonzero(rank >= 0)
            if not claimed.size:
                continue
            cols = _key_columns(df, t, ex)
            for label, rows in _by_year_carried(f"{t.name}:{t.version}", claimed, carried):
                if keys is not None and where is not None:
                    group, first = keys.codes(cols)[0][where[rows]].astype(np.intp), rows[:0]
                else:
                    group, first = _groups(df, rows, cols, column_codes)
                found.append(_Claims(label, ex.id, ex.measures, ex.mode,
                                     rows, rank[rows], group, first, cols, canonical[rows],
                                     column_texts))
    return found


#: How the ``edition`` of a claim names a financial year valued with an edition carried
#: forward past its end (``uk-national:2025 carried to 2026/27``).
_CARRIED = " carried to "


def _by_year_carried(label: str, rows: np.ndarray, carried: np.ndarray | None,
                     ) -> Iterator[tuple[str, np.ndarray]]:
    """``rows`` split by the financial year they were carried to (in force: the edition's own
    label), each with its label."""
    years = None if carried is None else carried[rows]
    if years is None or not (years >= 0).any():
        yield label, rows
        return
    for year in np.unique(years).tolist():
        name = label if year < 0 else f"{label}{_CARRIED}{year}/{(year + 1) % 100:02d}"
        yield name, rows[years == year]


def _edition_label(label: str) -> str:
    """The edition a claim's ``edition`` label names (without the year carried to)."""
    return label.split(_CARRIED, 1)[0]


def _key_columns(df: pd.DataFrame, t: ProxyTable, ex: Exclusion) -> list[str]:
    """The columns of ``df`` that group the claims of ``ex``: its key, then
    :data:`ALWAYS_APART`, those present. :class:`OutcomeError` when the exclusion declares a key
    (other than :data:`DEFAULT_KEY`) and ``df`` lacks a column of it: dropping the column would
    make every contract one group, so that one contract's parts reduce another's whole."""
    present = set(df.columns)
    if tuple(ex.key) != DEFAULT_KEY:
        missing = [c for c in dict.fromkeys(ex.key) if c not in present]
        if missing:
            near = near_names(df.columns, missing)
            hint = "".join(f"; found {name!r} for {c} (key names match columns exactly)"
                           for c, name in near.items())
            raise OutcomeError(
                f"input lacks column(s) {', '.join(missing)} of the key "
                f"[{', '.join(ex.key)}] of exclusion {ex.id!r} in table {t.name}:{t.version}: "
                f"its claims are grouped by those columns, and without them the claims of "
                f"different contracts would count against each other{hint}",
                field=missing[0], columns=missing, exclusion=ex.id, table=t.name,
                version=t.version, key=list(ex.key))
    return [c for c in dict.fromkeys((*ex.key, *ALWAYS_APART)) if c in present]


def _groups(df: pd.DataFrame, rows: np.ndarray, cols: list[str],
            column_codes: dict[str, tuple[np.ndarray, int]] | None = None,
            ) -> tuple[np.ndarray, np.ndarray]:
    """Dense group id per row (by key values) and one row position per group."""
    if not cols:
        return np.zeros(len(rows), dtype=np.intp), rows[:1]
    _, first, group = np.unique(_combined(df, rows, cols, column_codes), return_index=True,
                                return_inverse=True)
    return group.astype(np.intp).ravel(), rows[first]


def _combined(df: pd.DataFrame, rows: np.ndarray | slice, cols: list[str],
              column_codes: dict[str, tuple[np.ndarray, int]] | None = None) -> np.ndarray:
    """One int64 per row standing for its values in ``cols`` (missing is a value too);
    ``column_codes`` caches each column's codes over all of ``df``'s rows."""
    combined = np.zeros(len(df.index[rows]), dtype=np.int64)
    for i, name in enumerate(cols):
        if column_codes is None:
            codes, n_uniq = _key_codes(df[name].iloc[rows])
        else:
            if name not in column_codes:
                column_codes[name] = _key_codes(df[name])
            all_codes, n_uniq = column_codes[name]
            codes = all_codes[rows]
        combined = combined * (n_uniq + 1) + np.where(codes < 0, n_uniq, codes)
        if i < len(cols) - 1:
            # Re-number densely (below the row count) before the next column multiplies:
            # several keys of many distinct values would otherwise overflow int64 and merge
            # different contracts.
            combined = pd.factorize(combined)[0].astype(np.int64)
    return combined


def _key_codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Dense codes of a key column's values read as :func:`key_text` (-1 for missing), and the
    number of distinct values: ``"C1 "`` is ``"C1"``, ``1001.0`` is ``1001``, as in the labels
    of streamed and distributed claims."""
    codes, uniq = cell_codes(series)
    values = pd.Index(key_texts(uniq), dtype=object)
    merged, distinct = pd.factorize(values, use_na_sentinel=True)
    return np.append(merged, -1)[codes], len(distinct)  # code -1 picks the appended -1


def _sorted_sums(gid: np.ndarray, q: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``q`` per id, each group added in ascending order of value (order independent)."""
    out = np.zeros(size)
    if gid.size == 0:
        return out
    order = np.lexsort((q, gid))
    ids = gid[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    out[ids[starts]] = np.add.reduceat(q[order], starts)
    return out


def _sparse_sums(gid: np.ndarray, q: np.ndarray, n_rank: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_sorted_sums` of ``gid`` (group * n_rank + rank) held for the groups present:
    their ids, ascending, and a table of (group, rank) sums with a last row of zeros."""
    if gid.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros((1, n_rank))
    order = np.lexsort((q, gid))
    ids = gid[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    sums = np.add.reduceat(q[order], starts)
    first = ids[starts]
    group = first // n_rank
    groups = group[np.r_[True, group[1:] != group[:-1]]]
    table = np.zeros((len(groups) + 1, n_rank))
    table[np.searchsorted(groups, group), first % n_rank] = sums
    return groups, table


def claim_rows(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
               measure: np.ndarray, tables: list[ProxyTable],
               carried: np.ndarray | None = None) -> pd.DataFrame:
    """Every claim of this input that an exclusion governs, one row each (see the module doc):
    edition, exclusion, group label, rank (position in the exclusion's list) and canonical
    quantity. ``carried`` as for :func:`exclusion_scales`: the edition label of a claim in a
    year valued with an edition carried forward names that year
    (``uk-national:2025 carried to 2026/27``)."""
    parts = [pd.DataFrame({"edition": c.edition, "exclusion": c.exclusion,
                           "group": c.labels(df)[c.group], "rank": c.rank,
                           "quantity": c.quantity})
             for c in _claims(df, canonical, edition, measure, tables, carried=carried)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in CLAIM_COLUMNS[:3]
                                          else ("int64" if c == "rank" else "float64"))
                             for c in CLAIM_COLUMNS})
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class ClaimTotals:
    """Claims summed per (group, rank), by (edition label, exclusion id): built once from the
    :func:`claim_rows` of a whole input, then used for each of its pieces."""

    by_key: dict[tuple[str, str], tuple[pd.Index, np.ndarray]]
    #: The editions (content and price index digests) the totals were indexed for: they
    #: apply to pieces valued with exactly these editions, and no others.
    editions: tuple[tuple[str, str | None], ...] = ()

    @staticmethod
    def edition_ids(tables: list[ProxyTable]) -> tuple[tuple[str, str | None], ...]:
        """What :attr:`editions` records of ``tables``."""
        return tuple((t.digest, t.index_digest) for t in tables)

    @classmethod
    def from_claims(cls, claims: pd.DataFrame, tables: list[ProxyTable]) -> ClaimTotals:
        """Index the totals of ``claims`` (the same claims give the same bits, in any order).

        Raises:
            RuleError: ``claims`` is not what :func:`claim_rows` gives (a column missing, a
                rank outside its exclusion, a quantity that is not a finite number >= 0).
        """
        return cls.from_pieces([claims], tables)

    @classmethod
    def from_pieces(cls, pieces: Iterable[pd.DataFrame], tables: list[ProxyTable]
                    ) -> ClaimTotals:
        """:meth:`from_claims` of the pieces' claims put together, the same bits, without
        putting them together: each piece's group labels are kept once, and per claim a
        group code, rank and quantity (a streamed file's first pass held every claim's row,
        its group label text included, until the end).

        Raises:
            RuleError: as :meth:`from_claims`, for any piece.
        """
        ranks = {(f"{t.name}:{t.version}", ex.id): len(ex.measures)
                 for t in tables for ex in t.spec.exclusions}
        gathered: dict[tuple[str, str], tuple[_PieceClaims, int]] = {}
        for claims in pieces:
            _check_claims(claims)
            if not len(claims):
                continue
            for (edition, exclusion), grp in claims.groupby(["edition", "exclusion"],
                                                            sort=False):
                n_rank = ranks.get((_edition_label(str(edition)), str(exclusion)))
                if n_rank is None:
                    continue
                rank = _checked_ranks(grp, n_rank, exclusion)
                key = (str(edition), str(exclusion))
                gathered.setdefault(key, (_PieceClaims(), n_rank))[0].add(grp, rank, n_rank)
        by_key = {key: acc.totals(n_rank) for key, (acc, n_rank) in gathered.items()}
        return cls(by_key, cls.edition_ids(tables))

    @classmethod
    def merged(cls, parts: Iterable[ClaimTotals], tables: list[ProxyTable]) -> ClaimTotals:
        """The totals of pieces whose groups are apart (every claim of a group in one piece,
        as after a shuffle on the group label), put together: the same bits as
        :meth:`from_pieces` of all their claims, each group having been summed over all of its
        claims.

        Raises:
            RuleError: two pieces hold the same group (its claims were split between them).
        """
        gathered: dict[tuple[str, str], tuple[list[pd.Index], list[np.ndarray]]] = {}
        for part in parts:
            for key, (labels, sums) in part.by_key.items():
                got = gathered.setdefault(key, ([], []))
                got[0].append(labels)
                got[1].append(sums)
        by_key = {}
        for key, (indices, blocks) in gathered.items():
            index = indices[0].append(indices[1:]) if len(indices) > 1 else indices[0]
            if index.has_duplicates:
                raise RuleError(f"the claim totals of two pieces hold the same group of "
                                f"exclusion {key[1]!r}: each group's claims must all be in "
                                "one piece", exclusion=key[1])
            by_key[key] = (index, np.concatenate(blocks))
        return cls(by_key, cls.edition_ids(tables))


class _PieceClaims:
    """The claims of one (edition, exclusion) gathered piece by piece: the group labels once
    each, and per claim a group code, rank and quantity."""

    def __init__(self) -> None:
        self.labels: dict[Any, int] = {}
        self.ids: list[np.ndarray] = []
        self.quantities: list[np.ndarray] = []

    def add(self, grp: pd.DataFrame, rank: np.ndarray, n_rank: int) -> None:
        codes, uniq = pd.factorize(grp["group"].to_numpy(dtype=object), use_na_sentinel=False)
        # A missing label (None, NaN: never from claims_of, which marks missing keys) is one
        # label in every piece, as it is in one put-together frame (dict keys match NaN only
        # by identity).
        found = np.array([self.labels.setdefault(_NA_LABEL if is_missing(u) else u,
                                                 len(self.labels)) for u in uniq],
                         dtype=np.int64)
        self.ids.append(found[codes] * n_rank + rank.astype(np.int64))
        self.quantities.append(grp["quantity"].to_numpy(dtype=np.float64))

    def totals(self, n_rank: int) -> tuple[pd.Index, np.ndarray]:
        sums = _sorted_sums(np.concatenate(self.ids), np.concatenate(self.quantities),
                            len(self.labels) * n_rank)
        labels = [np.nan if label is _NA_LABEL else label for label in self.labels]
        return pd.Index(labels), sums.reshape(len(self.labels), n_rank)


#: The one key of missing group labels in :class:`_PieceClaims`.
_NA_LABEL = object()



def _checked_ranks(grp: pd.DataFrame, n_rank: int, exclusion: Any) -> np.ndarray:
    rank = pd.to_numeric(grp["rank"], errors="coerce").to_numpy(np.float64)
    if not ((rank >= 0) & (rank < n_rank) & (rank == np.floor(rank))).all():
        raise RuleError(f"claims hold ranks outside the {n_rank} measures of "
                        f"exclusion {exclusion!r}: pass what claims_of() returns")
    return rank


def _check_claims(claims: pd.DataFrame) -> None:
    """``claims`` has the shape :func:`claim_rows` gives, or a :class:`RuleError` says why."""
    hint = "pass what claims_of() returns, concatenated over the pieces"
    if not isinstance(claims, pd.DataFrame):
        raise RuleError(f"claims must be a DataFrame, not {type(claims).__name__}: {hint}")
    missing = [c for c in CLAIM_COLUMNS if c not in claims.columns]
    if missing:
        raise RuleError(f"claims lack column(s) {', '.join(missing)}: {hint}", columns=missing)
    if not len(claims):
        return
    quantity = pd.to_numeric(claims["quantity"], errors="coerce").to_numpy(dtype=np.float64)
    if not (np.isfinite(quantity) & (quantity >= 0)).all():
        raise RuleError(f"claims hold quantities that are not finite numbers >= 0: {hint}")


def claims_in_blocks(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
                     measure: np.ndarray, tables: list[ProxyTable], keys: GroupKeys,
                     where: np.ndarray, carried: np.ndarray | None = None) -> list[_Claims]:
    """The claims of some rows of an in-memory input (``where``: their positions in it)."""
    return _claims(df, canonical, edition, measure, tables, keys, where, carried)


def group_totals(claims: list[_Claims], keys: GroupKeys) -> GroupTotals:
    """Add up claims gathered from the blocks of one input (global group ids)."""
    parts: dict[tuple[str, str], list[_Claims]] = {}
    for c in claims:
        parts.setdefault((c.edition, c.exclusion), []).append(c)
    by_key = {}
    for key, cs in parts.items():
        n_rank = len(cs[0].order)
        ids = np.concatenate([c.group * n_rank + c.rank for c in cs])
        q = np.concatenate([c.quantity for c in cs])
        by_key[key] = _sparse_sums(ids, q, n_rank)
    return GroupTotals(by_key)


def _totals(c: _Claims, df: pd.DataFrame,
            totals: ClaimTotals | GroupTotals | None) -> tuple[np.ndarray, np.ndarray]:
    """Totals per (group, rank), and each row's position among those groups."""
    n_rank = len(c.order)
    if isinstance(totals, GroupTotals):
        groups, table = totals.by_key[(c.edition, c.exclusion)]
        pos = np.searchsorted(groups, c.group)
        if groups.size:
            found = groups[np.minimum(pos, groups.size - 1)] == c.group
            pos = np.where(found, pos, groups.size)  # no claim: the row of zeros
        return table, pos
    if totals is None:  # the input is the whole: its own claims, grouped by integer ids
        n_group = int(c.group.max(initial=-1)) + 1
        sums = _sorted_sums(c.group * n_rank + c.rank, c.quantity, n_group * n_rank)
        return sums.reshape(n_group, n_rank), c.group
    labels, per_group = totals.by_key.get((c.edition, c.exclusion),
                                          (pd.Index([]), np.zeros((0, n_rank))))
    where = labels.get_indexer(pd.Index(c.labels(df)))
    if (where < 0).any():
        raise RuleError("the claims given do not cover every double-counting group of this "
                        "input: pass the claims_of() of every piece, this one included",
                        exclusion=c.exclusion)
    return per_group, where[c.group]


def exclusion_scales(df: pd.DataFrame, canonical: np.ndarray, edition: np.ndarray,
                     measure: np.ndarray, tables: list[ProxyTable],
                     totals: ClaimTotals | GroupTotals | None = None,
                     keys: GroupKeys | None = None,
                     where: np.ndarray | None = None,
                     carried: np.ndarray | None = None) -> ExclusionResult | None:
    """Claim shares for every row; ``None`` when no edition declares exclusions.

    ``canonical`` is each row's quantity in its measure's canonical unit, ``edition`` and
    ``measure`` the row's edition and measure positions (-1 where the row is invalid: such rows
    are left alone here and reported by the caller). ``totals``: the :class:`ClaimTotals` of
    the whole input this frame is part of (its own rows included), or the
    :class:`GroupTotals` of an in-memory input this frame is a block of (then ``keys`` and
    ``where``, the block's row positions, are given too); by default, this frame's own.
    ``carried``: per row, the financial year (starting year) of a row valued with an edition
    carried forward past its end, -1 for the others (None: no row is): each carried year's
    claims are set against that year's only.
    """
    if not any(t.spec.exclusions for t in tables):
        return None
    n = len(df)
    result = ExclusionResult(scale=np.ones(n), fired=np.full(n, -1, dtype=np.int16))
    for c in _claims(df, canonical, edition, measure, tables, keys, where, carried):
        per_group, g = _totals(c, df, totals)
        # Only the groups this piece's rows are in: the totals may hold every group of the
        # whole input, and working them all out for each block of a file with a contract per
        # row made valuing quadratic (1M rows took 7 s, 2M 33 s).
        used, g = np.unique(g, return_inverse=True)
        per_group = per_group[used]
        whole = len(c.order) - 1
        parts = _parts_claimed(per_group)
        total_r, parts_r = per_group[g, c.rank], parts[g]
        remaining_r = remaining(per_group[:, whole], parts)[g]
        fires = (c.rank == whole) & (parts_r > 0) & (total_r > 0)
        if c.mode == "reject":
            first = np.argmax(per_group[:, :whole] > 0, axis=1)
            for r, gi in zip(c.rows[fires].tolist(), g[fires].tolist(), strict=True):
                result.rejected.append((r, (
                    f"double counting: {c.order[whole]!r} is also claimed as "
                    f"{c.order[first[gi]]!r} for the same contract (exclusion {c.exclusion!r})")))
            continue
        # Clamped to [0, whole]: a part far below the whole's 15th digit reads as 0 there while
        # the whole may read a hair above its float, and a part claim must never raise it.
        kept = np.minimum(np.maximum(remaining_r, 0.0), total_r)
        share = np.where(fires, kept / np.where(fires, total_r, 1.0), 1.0)
        result.scale[c.rows] = share
        if fires.any():
            if c.exclusion not in result.ids:
                result.ids.append(c.exclusion)
            result.fired[c.rows[fires]] = result.ids.index(c.exclusion)
    return result


def remaining(whole: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Per group, the whole's claim less its parts', as the decimal a reader works out: each
    claim total, and the difference, read to 15 significant digits at the scale of the larger.

    Float 89.57 - 70.09 is 19.47999999999999, about three ulps below 19.48: the floats nearest
    89.57 and 70.09 err by a fraction of their own ulps, which are larger than the
    difference's, and the multiplications after it carry an amount that is exactly a
    half-penny (19.48 x £0.50 x 0.75 = £7.305) outside the window :mod:`socialvalue_tom.money`
    reads as one (7.304999999999996, four and a half ulps below). Parts are summed in floats
    first (0.07 + 0.04 is 0.11000000000000001), so the totals are read to 15 digits too.
    Claims of decimals (pounds and pence, FTE to a few places) then give the decimal
    difference's nearest float; other claims move by at most a couple of ulps. Claims over
    1e14 or under 1e-6 are left to float arithmetic.
    """
    diff: np.ndarray = whole - parts
    size = np.maximum(np.abs(whole), np.abs(parts))
    usable = np.isfinite(diff) & (size >= 1e-6) & (size < 1e14)
    if not usable.any():
        return diff
    # 10**places is exact (places <= 20); a claim x 10**places is below 10**15 < 2**53, within
    # a fraction of the integer it stands for, so rint finds it and one division rounds once.
    places = 14 - np.floor(np.log10(np.where(usable, size, 1.0)))
    scale = 10.0 ** places

    with np.errstate(invalid="ignore", over="ignore"):
        exact = on_decimal_grid(on_decimal_grid(whole, scale) - on_decimal_grid(parts, scale),
                                scale)
    return np.where(usable, exact, diff)


def _parts_claimed(per_group: np.ndarray) -> np.ndarray:
    """Per group, the claims of the parts (every rank but the last) added in rank order: the
    quantity the whole (the last rank) must not count again."""
    parts = np.zeros(per_group.shape[0])
    for k in range(per_group.shape[1] - 1):
        parts = parts + per_group[:, k]
    return parts
