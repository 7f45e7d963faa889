"""Fuzzing the table loader: random YAML-ish text and mutated copies of tiny.yaml.

Anything other than a loaded table or a SocialValueError is a bug. ``make fuzz`` runs the long
versions (``-m slow``); the quick ones run with the normal suite.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from conftest import TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialvalue_tom as sv
from socialvalue_tom.tables._loader import read_model
from socialvalue_tom.tables.schema import TableFile
from socialvalue_tom.tables.table import ProxyTable

TEXT = TINY.read_text(encoding="utf-8").replace("price_index: tiny-deflator\n", "")
LINES = TEXT.splitlines(keepends=True)
PATH = Path("fuzz/table.yaml")
TOKENS = ["{", "}", "[", "]", ":", "- ", "&a ", "*a", "!!python/object:os.system ", "!!str ",
          "~", "null", "-1", "1e400", ".nan", "'", '"', "\t", "\n", "  ", "<<: ", "? ",
          "2024-02-30", "__import__('os')", "quantity ** 99", "\x00", "\ufeff", "#"]


def load_text(text: str) -> None:
    """Parse, validate and compile ``text`` as a table (no price index)."""
    with contextlib.suppress(sv.SocialValueError):
        ProxyTable(read_model(PATH, TableFile, text), path=PATH)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "token", "char", "swap", "indent"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "token":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.sampled_from(TOKENS)) + lines[i][pos:]
        elif op == "char" and lines[i]:
            pos = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:pos] + draw(st.characters()) + lines[i][pos + 1:]
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = draw(st.sampled_from([" ", "  ", "    "])) + lines[i]
    return "".join(lines)


yamlish = st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!#'\" \n\t|>?,.0123456789")),
                  max_size=300)

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(text=mutated())
def test_loader_when_tiny_mutated_raises_only_our_errors(text: str) -> None:
    """Mutated tables load or raise a SocialValueError."""
    load_text(text)


@QUICK
@given(text=yamlish)
def test_loader_when_text_random_raises_only_our_errors(text: str) -> None:
    """Random YAML-ish text loads or raises a SocialValueError."""
    load_text(text)


@pytest.mark.slow
@LONG
@given(text=mutated())
def test_loader_when_tiny_mutated_at_scale(text: str) -> None:
    """The long run of the mutation fuzzer."""
    load_text(text)


@pytest.mark.slow
@LONG
@given(text=st.one_of(yamlish, st.text(max_size=2000)))
def test_loader_when_text_random_at_scale(text: str) -> None:
    """The long run of the random-text fuzzer."""
    load_text(text)
