"""A pandas accessor: ``df.socialvalue`` (registered when this module is imported).

Examples:
    >>> import pandas as pd
    >>> import socialvalue_tom.accessor  # registers df.socialvalue
    >>> hasattr(pd.DataFrame(), "socialvalue")
    True

Typical use::

    valued = outcomes.socialvalue.value(tables="uk-national", errors="collect")
    valued.socialvalue.summarise(by=["theme"])
    print(valued.socialvalue.explain(0))

Added in 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from socialvalue_tom.engine import TablesLike
from socialvalue_tom.errors import OutcomeError, RuleError
from socialvalue_tom.outcome import Assumptions

if TYPE_CHECKING:
    from socialvalue_tom.rules.exclusions import ClaimTotals

__all__ = ["SocialValueAccessor"]


@pd.api.extensions.register_dataframe_accessor("socialvalue")
class SocialValueAccessor:
    """``df.socialvalue``: value, summarise and explain a DataFrame of outcomes."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def value(self, tables: TablesLike = "uk-national", *,
              errors: Literal["raise", "collect"] = "raise",
              assumptions: Assumptions | Mapping[str, Any] | None = None,
              row_offset: int = 0, claims: pd.DataFrame | ClaimTotals | None = None,
              detail: bool = False) -> pd.DataFrame:
        """``value_frame(df, tables, ...)``: a new, valued DataFrame (the same arguments, see
        :func:`socialvalue_tom.frame.value_frame`)."""
        from socialvalue_tom.errors import illustrative_collected, warn_illustrative
        from socialvalue_tom.frame import value_frame

        with illustrative_collected() as illustrative:  # said at the caller's line, below
            out = value_frame(self._frame, tables, errors=errors, assumptions=assumptions,
                              row_offset=row_offset, claims=claims, detail=detail)
        if illustrative:
            warn_illustrative(sum(illustrative))
        return out

    def apportion(self, tables: TablesLike = "uk-national", *, start: str = "period_start",
                  end: str = "period_end", errors: Literal["raise", "collect"] = "raise",
                  carry_forward: bool = False) -> pd.DataFrame:
        """``apportion(df, tables, ...)``: rows reported for a period split across the
        editions the period overlaps (see :func:`socialvalue_tom.periods.apportion`)."""
        from socialvalue_tom.periods import apportion

        return apportion(self._frame, tables, start=start, end=end, errors=errors,
                         carry_forward=carry_forward)

    def summarise(self, by: str | Sequence[str] = ("theme",), *,
                  tables: TablesLike | None = None) -> pd.DataFrame:
        """Totals per group of a valued DataFrame (see :func:`socialvalue_tom.report.summarise`)."""
        from socialvalue_tom.report import summarise

        self._require_valued("summarise")
        return summarise(self._frame, by=by, tables=tables)

    def explain(self, i: int) -> str:
        """The derivation of row ``i`` (0-based position) of a valued DataFrame, as text.

        A position that is not a row (negative, or past the last row) raises
        :class:`~socialvalue_tom.RuleError` naming the number of rows.
        """
        from socialvalue_tom.frame import explain_row

        self._require_valued("explain")
        n = len(self._frame)
        # Negative positions are refused too: row numbers in traces and issues count from 0.
        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < n:
            raise RuleError(f"no row {i!r} to explain: the DataFrame has {n} rows "
                            f"(positions 0 to {n - 1})", field="row", row=i, rows=n)
        return str(explain_row(self._frame, int(i)))

    def _require_valued(self, what: str) -> None:
        if "value_gbp" not in self._frame.columns:
            raise OutcomeError(f"df.socialvalue.{what}() needs a valued DataFrame: "
                               "call df.socialvalue.value() first", field="value_gbp")
