"""A built wheel carries the embedded tables, the manifest and py.typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:  # pragma: no cover - CI has git
        pytest.fail("git is needed to copy the source tree")
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("dist")
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "socialvalue_tom",
                 "proxies", "examples"):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    (src / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "errors.md", src / "docs" / "errors.md")
    # What a run leaves beside its input in a working tree: never shipped (a release review).
    (src / "examples" / "portfolio.issues.csv").write_text("row,line\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(src)], check=True)
    return next(out.glob("socialvalue_tom-*.whl"))


def test_wheel_contains_embedded_tables_and_manifest(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("uk-national/2023.yaml", "uk-national/2024.yaml", "uk-national/2025.yaml",
                "indices/uk-gdp-deflator.yaml", "manifest.json"):
        assert f"socialvalue_tom/_proxies/{rel}" in names, rel
    assert "socialvalue_tom/py.typed" in names
    # The examples the README and the tutorial use, for `socialvalue-tom examples`.
    for rel in ("portfolio.csv", "cases.yaml"):
        assert f"socialvalue_tom/_examples/{rel}" in names, rel
    assert not [n for n in names if n.endswith(".issues.csv")]
    # The error reference the messages name, for `socialvalue-tom errors CODE`.
    assert "socialvalue_tom/_docs/errors.md" in names
    # MIT asks for the notice to travel with the code; the OGL and the Scottish Parliament
    # licence ask for their attribution statements to travel with the data (NOTICE).
    for kept in ("LICENSE", "NOTICE"):
        assert any(n.endswith(f".dist-info/licenses/{kept}") for n in names), sorted(names)[-8:]
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert ("License-Expression: MIT AND OGL-UK-3.0 AND OGL-UK-2.0 AND "
            "LicenseRef-Scottish-Parliament-Copyright-Licence") in text
    assert "socialvalue-tom = socialvalue_tom.__main__:main" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()


def test_installed_wheel_loads_its_own_tables(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    code = ("import socialvalue_tom as sv, socialvalue_tom.tables.catalogue as c; "
            "print(c.embedded_dir()); print(len(sv.available_tables())); "
            "print(sv.example_path().parent); "
            "from socialvalue_tom._errordoc import errors_page; print(errors_page())")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=True)
    where, count, examples, errors = out.stdout.split()
    assert where.startswith(str(target)) and where.endswith("_proxies")
    assert int(count) >= 3
    assert examples.startswith(str(target)) and examples.endswith("_examples")
    assert errors.startswith(str(target)) and errors.endswith("_docs/errors.md")


def test_sdist_includes_what_its_tests_and_docs_use() -> None:
    """The sdist's include list names the files its tests and docs need (scripts/ for the
    report screenshot test, the licence, the contributing guide)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = set(config["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    for name in ("socialvalue_tom", "proxies", "tests", "scripts", "LICENSE", "README.md",
                 "CHANGELOG.md", "CONTRIBUTING.md", "Makefile"):
        assert name in include, name
        assert (ROOT / name).exists(), name
