"""Optional dependencies: imported when a feature needs them, with the extra that installs them.

The core install (numpy, pandas, pint, pydantic, PyYAML) stays light; Excel, Parquet, reports,
the command line and Dask each come with an extra (``pip install 'socialvalue_tom[excel]'``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from socialvalue_tom.errors import MissingExtraError

__all__ = ["import_extra"]


def import_extra(module: str, extra: str, what: str = "this feature") -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingExtraError` (an ImportError)
    naming the extra to install.

    A module that is installed but fails to import (built for another numpy, say) is not
    reported as missing: the message gives the error, so reinstalling the extra is not
    suggested in vain.

    Examples:
        >>> import_extra("math", "report").__name__
        'math'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        install = f"pip install 'socialvalue_tom[{extra}]'"
        if isinstance(exc, ModuleNotFoundError) and exc.name in (module, top, None):
            raise MissingExtraError(f"{module} is needed for {what} but is not installed: "
                                    f"{install}", module=module, extra=extra) from exc
        raise MissingExtraError(f"{module} is needed for {what} but could not be imported "
                                f"({type(exc).__name__}: {exc}); a working version comes "
                                f"with {install}", module=module, extra=extra) from exc
