"""Optional dependencies: a missing one names its extra; a broken one says what broke."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest

from socialvalue_tom._extras import import_extra


def test_import_extra_when_missing_then_says_not_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    want = r"not installed: pip install 'socialvalue_tom\[parquet\]'"
    with pytest.raises(ImportError, match=want):
        import_extra("pyarrow.parquet", "parquet", "this file format")


def test_import_extra_when_installed_but_broken_then_gives_the_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow built for numpy 1 under numpy 2 fails with an ImportError that is not 'no
    module': saying "not installed" would send the user to reinstall what they have."""
    real = importlib.import_module

    def broken(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow.parquet":
            raise ImportError("numpy.core.multiarray failed to import")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ImportError) as info:
        import_extra("pyarrow.parquet", "parquet", "this file format")
    text = str(info.value)
    assert "could not be imported" in text and "numpy.core.multiarray failed" in text
    assert "not installed" not in text
