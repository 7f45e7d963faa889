"""Cells as validation reads them: text without surrounding whitespace; None, NaN, NA and
NaT all missing.

``value_frame`` validates ``" delivered"`` as ``"delivered"``; everything that later groups,
matches or looks up such cells (exclusion keys, reports, bids, streamed claims) must read them
the same way, so they share these two functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_missing", "stripped", "stripped_column"]


def is_missing(value: Any) -> bool:
    """None, NaN, NA or NaT (a list-like is not missing: its isna is per element)."""
    return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))


def stripped(value: Any) -> Any:
    """A text value without surrounding whitespace; any other value as it is."""
    return value.strip() if isinstance(value, str) else value


def stripped_column(series: pd.Series) -> pd.Series:
    """``series`` with its text cells stripped, worked out once per distinct value (missing
    values stay missing, as ``None``), as an object column on the same index."""
    codes, uniq = pd.factorize(series.astype(object), use_na_sentinel=True)
    values = np.array([*(stripped(u) for u in uniq), None], dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=object)
