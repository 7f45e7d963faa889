"""Shared fixtures: the tiny table, the embedded tables (read-only) and an outcome factory."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# ``strategies`` and ``reference`` are imported by name from any test folder.
for _p in (str(TESTS), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import socialvalue_tom as sv  # noqa: E402
from socialvalue_tom.tables._loader import read_model  # noqa: E402
from socialvalue_tom.tables.schema import IndexFile, TableFile  # noqa: E402
from socialvalue_tom.tables.table import PriceIndex, ProxyTable  # noqa: E402

DATA = TESTS / "data"
TINY = DATA / "tables" / "tiny.yaml"
TINY_INDEX = DATA / "tables" / "tiny-deflator.index.yaml"
BAD_TABLES = DATA / "bad_tables"
BAD_INPUTS = DATA / "bad_inputs"
#: A day inside tiny:2024 (financial year 2024).
DAY = dt.date(2024, 6, 1)
TINY_TEXT = TINY.read_text(encoding="utf-8")


def sub(old: str, new: str, text: str = TINY_TEXT) -> str:
    """``text`` (tiny.yaml by default) with the first ``old`` replaced (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line of ``text`` containing ``needle``."""
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line][nth]


class CountingCode(str):
    """A region code that counts every hash and equality test made with it: the work spent on
    the region tree, whatever the algorithm (a dict built, a list searched, a chain walked)."""

    ops = 0

    def __hash__(self) -> int:
        CountingCode.ops += 1
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        CountingCode.ops += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        CountingCode.ops += 1
        return str.__ne__(self, other)


def counting_regions(spec: TableFile) -> TableFile:
    """``spec`` with its region codes (and parents and fallback) as :class:`CountingCode`, the
    count reset to 0: a scale test counts the operations of what it builds from it."""
    regions = tuple(r.model_copy(update={
        "code": CountingCode(r.code),
        "parent": None if r.parent is None else CountingCode(r.parent)})
        for r in spec.regions)
    counted = spec.model_copy(update={"regions": regions,
                                      "fallback_region": CountingCode(spec.fallback_region)})
    CountingCode.ops = 0
    return counted


#: The replacements that make tiny.yaml an earlier edition, 2023 (valid in FY 2023/24), for
#: tests over two editions of a user's table.
TINY_2023 = (('version: "2024"', 'version: "2023"'),
             ("valid_from: 2024-04-01", "valid_from: 2023-04-01"),
             ("valid_to: 2025-03-31", "valid_to: 2024-03-31"))


def tiny_variant(folder: Path, *replacements: tuple[str, str],
                 name: str = "tiny.yaml") -> Path:
    """tiny.yaml with each ``(old, new)`` replaced once (each ``old`` must be in it), written to
    ``folder/name`` with its price index beside it."""
    text = TINY.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TINY_INDEX.name).write_bytes(TINY_INDEX.read_bytes())
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def fresh_tiny() -> ProxyTable:
    """A private tiny table (not the cached one): for tests that try to mutate it."""
    return ProxyTable(read_model(TINY, TableFile), path=TINY,
                      price_index=PriceIndex(read_model(TINY_INDEX, IndexFile), TINY_INDEX))


@pytest.fixture(scope="session")
def tiny_table() -> ProxyTable:
    """tests/data/tables/tiny.yaml, loaded once. Read-only: never mutate it."""
    return sv.load_table(path=TINY)


@pytest.fixture(scope="session")
def tiny(tiny_table: ProxyTable) -> ProxyTable:
    """The same table as ``tiny_table``, under the short name most test modules use."""
    return tiny_table


@pytest.fixture(scope="session")
def uk_tables() -> list[ProxyTable]:
    """The embedded uk-national editions, loaded once. Read-only."""
    return [sv.load_table("uk-national", version=r.version)
            for r in sv.available_tables() if r.name == "uk-national"]


@pytest.fixture
def make_outcome() -> Callable[..., sv.Outcome]:
    """Factory: ``make_outcome(measure=..., quantity=...)`` with defaults for the rest."""

    def make(**kw: Any) -> sv.Outcome:
        kw.setdefault("measure", "jobs-priority")
        kw.setdefault("quantity", 1.0)
        kw.setdefault("region", "uk")
        kw.setdefault("date", DAY)
        return sv.Outcome(**kw)

    return make


@pytest.fixture
def clean_caches() -> Iterator[None]:
    """Clear the catalogue's caches before and after (for tests that repoint embedded_dir)."""
    from socialvalue_tom import engine
    from socialvalue_tom.tables import catalogue

    def clear() -> None:
        catalogue._load_file.cache_clear()
        catalogue._load_amendment.cache_clear()
        catalogue._load_index_file.cache_clear()
        engine._family.cache_clear()

    clear()
    yield
    clear()


@pytest.fixture
def proxies_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 clean_caches: None) -> Path:
    """A copy of the embedded proxies/ folder that the catalogue now reads."""
    from socialvalue_tom.tables import catalogue
    from socialvalue_tom.tables.catalogue import embedded_dir, write_manifest

    root = (tmp_path / "proxies").resolve()
    shutil.copytree(embedded_dir(), root)
    if not (root / "manifest.json").is_file():
        write_manifest(root)
    monkeypatch.setattr(catalogue, "embedded_dir", lambda: root)
    catalogue._load_file.cache_clear()
    catalogue._load_amendment.cache_clear()
    catalogue._load_index_file.cache_clear()
    return root


def one_row_workbook(title: str) -> tuple[Any, Any]:
    """An openpyxl workbook whose first sheet, named ``title``, holds the outcome columns and
    one row (2 tCO2e saved in the UK): a supplier's return to add sheets to."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(["measure", "quantity", "unit", "region", "date"])
    ws.append(["env-carbon-saved", 2, "tCO2e", "uk", "2024-06-01"])
    return wb, ws


def amendment_yaml(year: int, weekly_pay: float, digest: str | None = None,
                   extra: str = "") -> str:
    """An amendment file of uk-national:<year> giving England's local-jobs wage proxy from a
    weekly pay the buyer checked (``digest``: the pin of the edition it amends)."""
    from socialvalue_tom.tables.amend import AMENDMENT_FORMAT

    pin = f"digest: '{digest}'\n" if digest else ""
    return f"""\
format: {AMENDMENT_FORMAT}
amends: uk-national:{year}
{pin}version: {year}-example.1
notes: Scottish median checked against the publication by the buyer.
sources:
- id: buyer-ashe-check
  title: ASHE figure checked by the buyer
  publisher: Example Council
  year: {year}
  url: https://example.org/ashe
  licence: OGL-3.0
proxies:
  jobs-local-fte:
    england:
      value: {weekly_pay * 52:.2f}
      source: buyer-ashe-check
      derivation:
        inputs: {{median_weekly_pay_ft: {weekly_pay:g}, weeks_per_year: 52}}
        formula: median_weekly_pay_ft * weeks_per_year
{extra}"""
