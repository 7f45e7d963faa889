"""How a public name is changed without breaking its callers (docs/api-stability.md).

A parameter renamed keeps its old keyword working, with a :class:`DeprecationWarning` at the
caller's line naming the new one and the release that removes it: the next major release after
the one that deprecates it. The signature (``inspect.signature``, the API reference, a type
checker) shows the new name only, so new code is written with it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from socialvalue_tom.errors import outside_stacklevel

__all__ = ["renamed_parameter"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def renamed_parameter(old: str, new: str, *, removed_in: str
                      ) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A decorator: the function's parameter ``new`` may still be given as ``old=``, with a
    :class:`DeprecationWarning`; both at once is a :class:`TypeError`, as Python says of an
    argument given twice."""

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        name = getattr(func, "__name__", "function")

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{name}() got {old}= and {new}=: give {new}= alone "
                                    f"({old}= is its deprecated name)")
                warnings.warn(f"{name}({old}=...) is deprecated: the parameter is {new}= now; "
                              f"{old}= will be removed in {removed_in}",
                              DeprecationWarning, stacklevel=outside_stacklevel())
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
