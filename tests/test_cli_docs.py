"""The command outputs shown in docs/cli.md are what the commands print."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
#: Commands whose shown output depends only on shipped files (no files written by the docs).
CHECKED = ("socialvalue-tom value examples/portfolio.csv --by theme",
           "socialvalue-tom tables list",
           "socialvalue-tom tables show tests/data/tables/tiny.yaml --measure jobs-local",
           "socialvalue-tom tables validate tests/data/tables/tiny.yaml",
           "socialvalue-tom explain examples/portfolio.csv --row 3",
           "socialvalue-tom targets examples/portfolio.csv")


def _shown(command: str) -> str:
    """The lines the doc shows after ``$ command`` up to the next prompt or fence."""
    block = DOC.split(f"$ {command}\n", 1)[1]
    return re.split(r"\n(?:\$ |```)", block, maxsplit=1)[0]


@pytest.mark.parametrize("command", CHECKED)
def test_cli_doc_shows_what_the_command_prints(command: str) -> None:
    args = shlex.split(command)[1:]
    # UTF-8 whatever the locale: the docs show the '£' and box lines a UTF-8 terminal gets.
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-m", "socialvalue_tom", *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    want = [line.rstrip() for line in _shown(command).splitlines() if line.strip()]
    got = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
    assert [re.sub(r"\s+", " ", x).strip() for x in want] == [
        re.sub(r"\s+", " ", x).strip() for x in got]


def test_cli_doc_bad_rows_example_shows_what_the_command_prints(tmp_path: Path) -> None:
    """The 'Bad rows' example: its file, printed problems, exit code and issues file (the
    shown message had kept an older wording of the unknown-measure reason)."""
    (tmp_path / "bad.csv").write_text(_shown("cat bad.csv") + "\n", encoding="utf-8")
    (tmp_path / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    command = "socialvalue-tom value bad.csv --tables tests/data/tables/tiny.yaml"
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-m", "socialvalue_tom", *shlex.split(command)[1:]],
                          cwd=tmp_path, capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=120)
    assert str(done.returncode) == _shown("echo $?").strip()
    printed = [x.rstrip() for x in (done.stdout + done.stderr).splitlines() if x.strip()]
    assert printed == [x.rstrip() for x in _shown(command).splitlines() if x.strip()]
    written = (tmp_path / "bad.issues.csv").read_text(encoding="utf-8-sig").splitlines()
    assert written == _shown("cat bad.issues.csv").splitlines()


def test_cli_doc_bids_example_shows_what_the_command_prints(tmp_path: Path) -> None:
    """The `bids` example: its file and the ranking and trace lines printed."""
    (tmp_path / "tender.csv").write_text(_shown("cat tender.csv") + "\n", encoding="utf-8")
    command = "socialvalue-tom bids tender.csv --price A=1000000 --price B=1200000"
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-m", "socialvalue_tom", *shlex.split(command)[1:]],
                          cwd=tmp_path, capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    want = [re.sub(r"\s+", " ", x).strip() for x in _shown(command).splitlines() if x.strip()]
    assert [re.sub(r"\s+", " ", x).strip() for x in done.stdout.splitlines() if x.strip()] == want
