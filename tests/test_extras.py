"""Optional dependencies: a missing one names its extra; a broken one says what broke."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

import socialvalue_tom as sv
from socialvalue_tom._extras import import_extra


def test_import_extra_when_missing_then_says_not_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    want = r"not installed: pip install 'socialvalue_tom\[parquet\]'"
    with pytest.raises(ImportError, match=want) as info:
        import_extra("pyarrow.parquet", "parquet", "this file format")
    # A library error too, with what to install as data: one except clause catches it.
    assert isinstance(info.value, sv.MissingExtraError)
    assert isinstance(info.value, sv.SocialValueError)
    assert (info.value.module, info.value.extra, info.value.name) == (
        "pyarrow.parquet", "parquet", "pyarrow.parquet")
    assert info.value.to_dict()["code"] == "missing-extra"


@pytest.mark.parametrize(("call", "blocked", "extra"), [
    ("parquet", "pyarrow", "parquet"), ("arrow_table", "pyarrow", "parquet"),
    ("xlsx", "openpyxl", "excel"), ("dask", "dask", "dask"),
])
def test_features_when_their_extra_is_missing_raise_missing_extra_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, call: str, blocked: str,
        extra: str) -> None:
    """Each optional feature names its extra in a MissingExtraError (value_dask and
    io.arrow_table raised a plain ImportError, or a bare ModuleNotFoundError)."""
    import pandas as pd

    from socialvalue_tom import io as svio

    for name in [m for m in sys.modules if m == blocked or m.startswith(blocked + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, blocked, None)
    frame = pd.DataFrame({"value_gbp": [1.0]})
    with pytest.raises(sv.MissingExtraError) as info:
        if call == "parquet":
            svio.write_valuations(frame, tmp_path / "v.parquet")
        elif call == "arrow_table":
            svio.arrow_table(frame)
        elif call == "xlsx":
            svio.write_valuations(frame, tmp_path / "v.xlsx")
        else:
            from socialvalue_tom.distributed import value_dask

            value_dask(frame)
    assert info.value.extra == extra
    assert f"pip install 'socialvalue_tom[{extra}]'" in str(info.value)


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
