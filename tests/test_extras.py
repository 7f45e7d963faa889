"""Optional dependencies: a missing one names its extra; a broken one says what broke."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
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


def test_value_file_when_progress_asked_without_rich_names_the_extra(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """progress=True without rich showed nothing, silently; None still falls back quietly."""
    from socialvalue_tom.streaming import value_file

    src = tmp_path / "o.csv"
    src.write_text("measure,quantity,unit,region,date\njobs-local-fte,1,FTE,uk,2024-05-01\n",
                   encoding="utf-8")
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    with pytest.raises(ImportError, match=r"socialvalue_tom\[cli\]"):
        value_file(src, progress=True)
    assert value_file(src, progress=None).valued == 1
    assert value_file(src, progress=False).valued == 1
