"""The docs' code blocks run, and the error reference covers every error code."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import socialvalue_tom as sv

DOCS = Path(__file__).resolve().parent.parent / "docs"
WITH_EXAMPLES = sorted(p.name for p in DOCS.glob("*.md")
                       if ">>> " in p.read_text() and p.name != "api.md")  # api.md: generated


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_doc_examples_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DOCS.parent)
    result = doctest.testfile(str(DOCS / name), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) failed in docs/{name}"


def test_worked_examples_and_rules_pages_have_examples() -> None:
    assert {"worked-examples.md", "rules.md"} <= set(WITH_EXAMPLES)


def _error_classes() -> list[type[sv.SocialValueError]]:
    return [getattr(sv, n) for n in sv.__all__
            if isinstance(getattr(sv, n), type) and issubclass(getattr(sv, n), sv.SocialValueError)]


def test_every_error_code_has_a_heading_in_errors_md() -> None:
    text = (DOCS / "errors.md").read_text()
    headings = set(re.findall(r"^## `?([a-z-]+)`?", text, flags=re.M))
    codes = {cls.code for cls in _error_classes()}
    assert codes == headings


def test_measure_catalogue_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_measures", DOCS / "gen_measures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "measures.md").read_text() == module.render(), (
        "docs/measures.md is stale: run python docs/gen_measures.py")
    for theme in module.THEMES:  # every value, regions' own included, on its derivation page
        page = (DOCS / "derivations" / f"{theme}.md").read_text()
        assert page == module.with_values(page, theme), (
            f"docs/derivations/{theme}.md is stale: run python docs/gen_measures.py")


def test_every_row_issue_code_is_documented() -> None:
    package = DOCS.parent / "socialvalue_tom"
    source = "".join(p.read_text() for p in (package / "frame.py", *sorted(
        (package / "_bulk").glob("*.py"))))
    pattern = r'issues\.add\((?:[^()]|\([^()]*\))*?,\s*(?:"[a-z_]+"|name|field_name),\s*"([a-z-]+)"'
    used = set(re.findall(pattern, source, flags=re.S)) | {"missing-field"}
    assert len(used) >= 15
    table = (DOCS / "errors.md").read_text().split("# Row issue codes", 1)[1]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.M))
    assert used == documented


def test_readme_quickstart_runs(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(DOCS.parent)
    readme = (DOCS.parent / "README.md").read_text()
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

    blocks = _fenced_blocks((DOCS / "tutorial.md").read_text())
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
