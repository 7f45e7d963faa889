"""Row issues collected during bulk valuation: each problem a row's cells show by themselves
(a quantity that is no number, a date that is no date, a region the row's edition does not
have...), one per field, and of the checks that need a row valid in every other respect (a
bound, a requirement of the measure) the first, where the row has no other problem."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom.errors import RowIssue, RowIssueCode

__all__ = ["CellKey", "Issues", "issue_label"]


@dataclass
class Issues:
    """Collects issues; ``bad`` marks rows that must not be valued.

    ``add`` records an issue only for rows with none yet (the first wins), unless asked to
    record ``also`` for rows with other issues: for checks that read only the row's own cell,
    or cells already found valid, so that a row with several such problems is told them all
    at once. A field gets at most one issue per row. An issue added ``alone`` (a measure no
    edition knows: a TOTAL line, no outcome at all) is its row's only one: its other cells
    are not read as an outcome's.

    ``block(start, stop)`` gives a view over some rows: masks and the reason callbacks' row
    positions are then local to the block, while recorded rows stay global.
    """

    n: int
    offset: int
    index: pd.Index
    items: list[RowIssue] = field(default_factory=list)
    start: int = 0
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: Only mark bad rows, recording no issue: for a pass whose issues nobody reads (the
    #: claims of double-counting exclusions), which need not build a message per bad row.
    marks_only: bool = False
    #: (row, field) of each issue recorded, shared by the blocks: a field is told once.
    recorded: set[tuple[int, str]] = field(default_factory=set)
    #: Rows whose issue was added ``alone``: no other is added to them.
    alone: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if self.bad.size != self.n:
            self.bad = np.zeros(self.n, dtype=bool)
        if self.alone.size != self.n:
            self.alone = np.zeros(self.n, dtype=bool)

    def block(self, start: int, stop: int) -> Issues:
        """A view of rows ``start:stop`` sharing this collection's marks and items."""
        return Issues(stop - start, self.offset + start, self.index[start:stop], self.items,
                      self.start + start, self.bad[start:stop], self.marks_only, self.recorded,
                      self.alone[start:stop])

    def add(self, mask: np.ndarray, field_name: str, code: RowIssueCode,
            reason: str | Callable[[int], str], *, also: bool = False,
            alone: bool = False, key: Key | None = None) -> None:
        """Record an issue for each row where ``mask`` is true and no issue is recorded yet;
        ``also``: for rows with issues of other fields too; ``alone``: as the row's only
        issue, added before any other (see the class).

        ``key``: per row, what a callable ``reason`` depends on (the code of the row's
        distinct cell, or a :class:`CellKey`, with its edition where the words name it): the
        reason is then worked out once per distinct key, not once per row. A column of a
        million rows holding one unknown measure asked difflib for its near matches a
        million times.
        """
        if not mask.any():
            return
        pos = np.flatnonzero(mask & ~self.alone if also else mask & ~self.bad)
        if pos.size == 0:
            return
        self.bad[pos] = True
        if alone:
            self.alone[pos] = True
        if self.marks_only:
            return
        words = _memoised(reason, key) if callable(reason) else _always(reason)
        for p in pos.tolist():
            row = self.offset + p
            if also and (row, field_name) in self.recorded:
                continue
            self.recorded.add((row, field_name))
            self.items.append(RowIssue(row=row, field=field_name, code=code,
                                       reason=words(p), index=issue_label(self.index[p])))


def _always(text: str) -> Callable[[int], str]:
    return lambda _p: text


#: What a reason depends on, per row: an array (a code per row) or a function of the row.
Key = np.ndarray | Callable[[int], Hashable]


def _memoised(reason: Callable[[int], str], key: Key | None) -> Callable[[int], str]:
    """``reason``, worked out once per distinct key (each row's own without a key).

    A key that cannot be hashed, or whose working out fails, is worked out for its row
    alone: the reason is then the row's own, as without a key."""
    if key is None:
        return reason
    found: dict[Hashable, str] = {}
    of_row = key if callable(key) else key.__getitem__

    def words(p: int) -> str:
        try:
            k = of_row(p)
            hash(k)
        except Exception:  # unhashable (a list), or not hashable at all (numpy's generic
            return reason(p)  # timedelta64 raises ValueError)
        if k not in found:
            found[k] = reason(p)
        return found[k]
    return words


class CellKey:
    """The key of a reason that quotes a row's cell from an object column: the cell's type
    and repr, so that cells that compare equal but read differently (``1`` and
    ``Decimal("1")``, ``(1,)`` and ``(1.0,)``), which factorising merges, each get their own
    words; ``extra`` (the row's edition, say) is part of it where the words name it. The cells
    are read when the first key is asked for, so a clean block costs nothing."""

    def __init__(self, series: pd.Series, extra: np.ndarray | None = None) -> None:
        self._series = series
        self._cells: np.ndarray | None = None
        self._extra = extra

    def __call__(self, p: int) -> Hashable:
        if self._cells is None:
            self._cells = self._series.to_numpy(dtype=object)
        cell = self._cells[p]
        key = (type(cell), repr(cell))
        return key if self._extra is None else (key, int(self._extra[p]))


def issue_label(x: Hashable) -> Any:
    """An index label as an issue records it: a numpy scalar as its Python value, also inside
    the tuple label of a MultiIndex row."""
    if isinstance(x, tuple):
        return tuple(issue_label(part) for part in x)
    return x.item() if isinstance(x, np.generic) else x
