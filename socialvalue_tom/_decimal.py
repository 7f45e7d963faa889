"""The library's own decimal context, whatever the caller's.

Money and traces are worked out with :class:`~decimal.Decimal`, whose arithmetic follows the
*thread's* context: a caller's ``getcontext().prec = 3`` would round a shortfall of 249.88 to
250, and a caller that traps ``FloatOperation`` (a common guard in finance code) would see
``decimal.FloatOperation`` from building a Decimal of a float. Public entry points run inside
:func:`own_decimal_context`: Python's default context (28 digits, half-even, the usual traps),
entered as a copy so that no flag set inside leaks into the caller's context.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Context, localcontext
from typing import ParamSpec, TypeVar

__all__ = ["LIBRARY_CONTEXT", "own_decimal_context"]

P = ParamSpec("P")
R = TypeVar("R")

#: Python's default decimal context, as the library's arithmetic was written for it.
LIBRARY_CONTEXT = Context()


def own_decimal_context(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run in a copy of :data:`LIBRARY_CONTEXT` (the caller's context restored
    after, its flags untouched)."""

    @functools.wraps(func)
    def in_own_context(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(LIBRARY_CONTEXT):
            return func(*args, **kwargs)

    return in_own_context
