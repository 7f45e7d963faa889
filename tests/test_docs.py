"""The docs' code blocks run, and the error reference covers every error code."""

from __future__ import annotations

import doctest
import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from pathlib import Path

import pytest

import socialvalue_tom as sv

D = Decimal
DOCS = Path(__file__).resolve().parent.parent / "docs"
WITH_EXAMPLES = sorted(p.name for p in DOCS.glob("*.md")  # api.md: generated
                       if ">>> " in p.read_text(encoding="utf-8") and p.name != "api.md")


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_doc_examples_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DOCS.parent)
    result = doctest.testfile(str(DOCS / name), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) failed in docs/{name}"


def test_worked_examples_and_rules_pages_have_examples() -> None:
    assert {"worked-examples.md", "rules.md"} <= set(WITH_EXAMPLES)


#: The worked examples' hand arithmetic, in Decimal, from the figures the page's first table
#: states (measure, region used, proxy): each row's value column, and the total, must be this.
_BY_HAND = {
    1: ("jobs-local-fte", "london", "47112.00", lambda p: 2 * p * D("0.75")),
    2: ("jobs-priority-ltu", "london", "51833.40", lambda p: 1 * p * D("0.75")),
    3: ("env-carbon-saved", "uk", "300.82", lambda p: D("2.5") * p * D("0.8")),
    4: ("social-volunteering-hour", "uk", "11.44", lambda p: 120 * p),
    5: ("jobs-apprenticeship-l3-week", "uk", "240.00", lambda p: 40 * p * (1 + 1 / D("1.035"))),
}


def _pounds_in(cell: str) -> Decimal:
    found = re.fullmatch(r"\**£([\d,]+\.\d\d)\**", cell.strip())
    assert found, cell
    return Decimal(found.group(1).replace(",", ""))


def test_worked_examples_tables_agree_with_hand_arithmetic_and_the_edition() -> None:
    """The page's tables, not only its code blocks: each row's value is its hand arithmetic
    (Decimal, half-up), the bold total is their sum, and each figure the page says it used is
    the 2024 edition's."""
    text = (DOCS / "worked-examples.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d) \|.*\| (£[\d,]+\.\d\d) \|$", text, flags=re.M))
    total = re.search(r"^\| \| \*\*total\*\* \| \| (\*\*£[\d,.]+\*\*) \|$", text, flags=re.M)
    assert sorted(rows) == ["1", "2", "3", "4", "5"] and total, "tables not found"
    edition = sv.load_table("uk-national", version="2024")
    with localcontext(Context(prec=40)):
        hand = {n: (f(D(proxy))).quantize(D("0.01"), rounding=ROUND_HALF_UP)
                for n, (_, _, proxy, f) in _BY_HAND.items()}
    for n, (measure, region, proxy, _) in _BY_HAND.items():
        assert _pounds_in(rows[str(n)]) == hand[n], n
        assert D(str(edition.measures[measure].proxies[region].value)) == D(proxy), measure
        assert f"{region} £{int(D(proxy)):,}.{proxy[-2:]}" in text, (measure, proxy)
    assert _pounds_in(total.group(1)) == sum(hand.values())


def _error_classes() -> list[type[sv.SocialValueError]]:
    return [getattr(sv, n) for n in sv.__all__
            if isinstance(getattr(sv, n), type) and issubclass(getattr(sv, n), sv.SocialValueError)]


def test_every_error_code_has_a_heading_in_errors_md() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## `?([a-z-]+)`?", text, flags=re.M))
    codes = {cls.code for cls in _error_classes()}
    assert codes == headings


def test_measure_catalogue_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_measures", DOCS / "gen_measures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "measures.md").read_text(encoding="utf-8") == module.render(), (
        "docs/measures.md is stale: run python docs/gen_measures.py")
    for theme in module.THEMES:  # every value, regions' own included, on its derivation page
        page = (DOCS / "derivations" / f"{theme}.md").read_text(encoding="utf-8")
        assert page == module.with_values(page, theme), (
            f"docs/derivations/{theme}.md is stale: run python docs/gen_measures.py")


def test_every_row_issue_code_is_documented() -> None:
    package = DOCS.parent / "socialvalue_tom"
    source = "".join(p.read_text(encoding="utf-8")
                     for p in (package / "frame.py", package / "periods.py",
                               *sorted((package / "_bulk").glob("*.py"))))
    pattern = (r'issues\.add\((?:[^()]|\([^()]*\))*?,\s*(?:"[a-z_]+"|name|field_name|start|end),'
               r'\s*"([a-z-]+)"')
    used = set(re.findall(pattern, source, flags=re.S)) | {"missing-field"}
    assert len(used) >= 15
    table = (DOCS / "errors.md").read_text(encoding="utf-8").split("# Row issue codes", 1)[1]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.M))
    assert used == documented


def test_readme_quickstart_runs(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(DOCS.parent)
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert readme.index("make demo") < readme.index("make test") < readme.index("## Quickstart")
    block = readme.split("## Quickstart", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own example code
    assert "valued" in namespace
    out = capsys.readouterr().out
    assert "env-carbon-saved" in out and "2024" in out


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, content) of each fenced block in Markdown text."""
    blocks, lang, lines = [], None, []
    for line in text.splitlines():
        if lang is None and line.startswith("```"):
            lang, lines = line[3:].strip(), []
        elif lang is not None and line.strip() == "```":
            blocks.append((lang, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
    return blocks


def test_tutorial_runs_end_to_end_and_its_shown_outputs_hold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    blocks = _fenced_blocks((DOCS / "tutorial.md").read_text(encoding="utf-8"))
    (tmp_path / "examples").mkdir()
    shutil.copy(DOCS.parent / "examples" / "portfolio.csv", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for lang, code in blocks:
        if lang == "python":
            exec(compile(code, "docs/tutorial.md", "exec"), namespace)  # the tutorial's code
    printed = capsys.readouterr().out
    assert (tmp_path / "portfolio.html").stat().st_size > 10_000
    checker = doctest.OutputChecker()
    shown = [code for lang, code in blocks if lang == ""]
    assert len(shown) >= 2
    for want in shown:
        assert checker.check_output("..." + want.strip() + "...", printed,
                                    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE), (
            f"the tutorial shows output its code does not print:\n{want}")


def _plain_python_blocks(text: str) -> list[str]:
    """The ```python blocks of a page that are scripts, not doctest sessions."""
    return [code for lang, code in _fenced_blocks(text) if lang == "python" and ">>> " not in code]


SCRIPT_PAGES = sorted(
    p.name for p in DOCS.glob("*.md")
    if p.name != "tutorial.md" and _plain_python_blocks(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", SCRIPT_PAGES)
def test_doc_scripts_run_in_order(name: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's script blocks run as a reader pastes them, one after another: none may lean
    on a name the page never defines (the bid-scoring example once used `commitments`)."""
    import shutil
    import warnings

    shutil.copytree(DOCS.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():  # a page may turn a warning into an error for its reader
        for code in _plain_python_blocks((DOCS / name).read_text(encoding="utf-8")):
            exec(compile(code, f"docs/{name}", "exec"), namespace)  # the page's own code


def test_doc_script_pages_are_found() -> None:
    assert {"reports.md", "errors.md", "proxies.md"} <= set(SCRIPT_PAGES)


def _overlaps(page: str) -> list[list[str]]:
    """The measure codes each bullet of the page's "Overlaps the tables do not exclude"
    names (a prefix ending in ``-*`` stands for its measures)."""
    section = page.split("## Overlaps the tables do not exclude", 1)[1].split("\n## ", 1)[0]
    return [re.findall(r"`([a-z0-9-]+\*?)`", bullet.split("**:", 1)[0])
            for bullet in section.split("\n- ")[1:]]


def test_the_jobs_page_s_overlaps_are_those_no_exclusion_covers_and_its_units_accepted() -> None:
    """A skills lead's review: docs/derivations/jobs.md names the overlaps across
    apprenticeships, training, placements and engagement that no exclusion nets, and the
    spellings the week and hour measures take. Held against every embedded edition: an
    edition that adds an exclusion for one of them, or drops a spelling, fails here until
    the page says so."""
    page = (DOCS / "derivations" / "jobs.md").read_text(encoding="utf-8")
    overlaps = _overlaps(page)
    assert len(overlaps) == 5 and all(len(codes) >= 2 for codes in overlaps)
    for version in ("2023", "2024", "2025"):
        table = sv.load_table("uk-national", version=version)

        def codes(name: str, table: sv.ProxyTable = table) -> set[str]:
            found = ({c for c in table.measure_codes if c.startswith(name[:-1])}
                     if name.endswith("*") else {name})
            assert found <= set(table.measure_codes) and found, name
            return found

        for named in overlaps:  # the first measure named overlaps each of the others
            first, *others = [codes(n) for n in named]
            for ex in table.spec.exclusions:
                covered = set(ex.measures)
                assert not any(first & covered and other & covered for other in others), (
                    version, named, ex.id)
        for unit in ("week", "weeks", "Weeks", "wk", "wks"):
            assert table.unit_factor("jobs-apprenticeship-l3-week", unit) == 1.0
        for unit in ("hour", "hours", "h", "hr", "hrs", "Hours"):
            assert table.unit_factor("jobs-training-employee-hour", unit) == 1.0
    assert "`wk`, `wks`" in page and "(`hrs`, `Hours`)" in page
