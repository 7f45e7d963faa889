"""Checks on the arguments of public functions.

A wrong type is a :class:`TypeError` naming what was wanted, before any work: an
``AttributeError`` from deep inside would say nothing useful, and Python's truth test would
take the text ``"False"`` as true and quietly switch an option on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom.errors import RuleError

__all__ = ["choice", "chunk_size", "flag", "frame", "mapping", "not_text", "text"]


def choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``; else :class:`RuleError` listing them (a
    DataFrame passed by mistake too, which ``in`` would compare elementwise)."""
    if isinstance(value, str) and value in choices:
        return value
    allowed = " or ".join(repr(c) for c in choices)
    raise RuleError(f"{name} must be {allowed}, not {_shown(value)}", field=name)


def frame(value: Any, what: str) -> pd.DataFrame:
    """``value`` if it is a DataFrame; else :class:`TypeError` saying ``what`` needs one, and
    how to convert a frame of another library that says how (``to_pandas``)."""
    if not isinstance(value, pd.DataFrame):
        convert = ("; convert it with .to_pandas()"
                   if callable(getattr(value, "to_pandas", None)) else "")
        raise TypeError(f"{what} needs a pandas DataFrame, not {_type_name(value)}{convert}")
    return value


def _type_name(value: Any) -> str:
    """``value``'s type named with its library (``polars.DataFrame``, ``pandas.Series``):
    "not DataFrame" read as a contradiction for another library's DataFrame (a notebook
    analyst's review). Its top-level package, where the class is exported; builtins bare."""
    kind = type(value)
    package = str(getattr(kind, "__module__", "") or "").partition(".")[0]
    return kind.__name__ if package in ("", "builtins") else f"{package}.{kind.__name__}"


def chunk_size(value: Any) -> int:
    """``value`` if it is a positive whole number of rows (numpy's too); else
    :class:`RuleError` (a ValueError): 0, 2.5, NaN, infinity or ``True`` is no batch size."""
    if (isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer)
            or value < 1):
        raise RuleError(f"chunksize must be a positive number of rows, not {value!r}"[:200],
                        field="chunksize")
    return int(value)


def flag(value: Any, name: str) -> bool:
    """``value`` as a bool if it is ``True`` or ``False`` (numpy's too); else
    :class:`TypeError`: ``"False"``, ``0`` or a DataFrame is not a yes or no."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {_shown(value)}")


def _shown(value: Any) -> str:
    """A short way to name a wrong argument: a plain value as written, anything else (a
    DataFrame, a list) by its type, not its many-line repr."""
    if value is None or isinstance(value, str | int | float):
        return repr(value)[:60]
    return type(value).__name__


def text(value: Any, name: str) -> str:
    """``value`` if it is text; else :class:`TypeError`."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be text, not {type(value).__name__}")
    return value


def mapping(value: Any, name: str) -> Mapping[Any, Any]:
    """``value`` if it is a mapping (a dict); else :class:`TypeError`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (a dict), not {type(value).__name__}")
    return value


def not_text(value: Any, name: str) -> Any:
    """``value`` unless it is text or bytes, which iterate one character (or byte) at a
    time: ``total("12")`` would add 1 and 2. :class:`TypeError` for those."""
    if isinstance(value, str | bytes | bytearray):
        raise TypeError(f"{name} must be a list or other collection of values, not "
                        f"{type(value).__name__} ({value!r:.60})")
    return value
