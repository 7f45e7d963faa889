"""Row issues collected during bulk valuation (one per bad row: the first problem found)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom.errors import RowIssue

__all__ = ["Issues", "issue_label"]


@dataclass
class Issues:
    """Collects issues; ``bad`` marks rows that must not be valued (first issue wins).

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

    def __post_init__(self) -> None:
        if self.bad.size != self.n:
            self.bad = np.zeros(self.n, dtype=bool)

    def block(self, start: int, stop: int) -> Issues:
        """A view of rows ``start:stop`` sharing this collection's marks and items."""
        return Issues(stop - start, self.offset + start, self.index[start:stop], self.items,
                      self.start + start, self.bad[start:stop], self.marks_only)

    def add(self, mask: np.ndarray, field_name: str, code: str,
            reason: str | Callable[[int], str]) -> None:
        """Record an issue for each row where ``mask`` is true and no issue is recorded yet."""
        if not mask.any():
            return
        pos = np.flatnonzero(mask & ~self.bad)
        if pos.size == 0:
            return
        self.bad[pos] = True
        if self.marks_only:
            return
        for p in pos.tolist():
            text = reason(p) if callable(reason) else reason
            self.items.append(RowIssue(row=self.offset + p, field=field_name, code=code,
                                       reason=text, index=issue_label(self.index[p])))


def issue_label(x: Hashable) -> Any:
    """An index label as an issue records it: a numpy scalar as its Python value, also inside
    the tuple label of a MultiIndex row."""
    if isinstance(x, tuple):
        return tuple(issue_label(part) for part in x)
    return x.item() if isinstance(x, np.generic) else x
