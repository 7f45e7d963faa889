"""Fuzzing the expression compiler: random text and random syntax trees.

compile_expression must return an Expression or raise ProxyTableError; evaluating a compiled
expression must return float64 or raise ProxyTableError. Nothing else may escape.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialvalue_tom as sv
from socialvalue_tom.rules.expressions import compile_expression

NAMES = ["quantity", "proxy", "level", "x", "__class__", "_x", "os", "eval"]
ATOMS = st.one_of(st.sampled_from(NAMES), st.integers(-10**20, 10**20).map(str),
                  st.floats(allow_nan=False).map(repr),
                  st.sampled_from(["True", "None", "'s'", "b'x'", "1j", "...", "()", "[]"]))
OPS = ["+", "-", "*", "/", "**", "%", "//", "@", "<", "<=", "==", "!=", "and", "or", "if",
       "in", "is", "|", "&", "^", "<<"]


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(OPS), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+", "not ", "~"]), children).map("".join),
        st.tuples(st.sampled_from(["where", "min", "max", "clip", "abs", "__import__", "x.y"]),
                  st.lists(children, max_size=4)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, st.sampled_from([".real", "[0]", "[1:2]", ".__class__"])).map(
            "".join),
        children.map(lambda c: f"lambda: {c}"),
        children.map(lambda c: f"[{c} for q in x]"),
    )


trees = st.recursive(ATOMS, _expr, max_leaves=30)
texts = st.text(alphabet=st.sampled_from(list("qpx0123456789.+-*/()<>=!, _ewhrmaincl\n\t'")),
                max_size=120)
ENV = {"quantity": np.array([0.0, 1.0, -2.5, np.inf]), "proxy": 3.0, "level": np.array(
    [1.0, 3.0, np.nan, 0.0]), "x": 0.0, "os": 1.0, "eval": 2.0}


def check(text: str) -> None:
    try:
        expr = compile_expression(text, origin="fuzz")
    except sv.ProxyTableError:
        return
    try:
        out = expr.evaluate(ENV)
    except sv.ProxyTableError:
        return
    assert isinstance(out, np.ndarray) and out.dtype == np.float64


QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=10000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(text=st.one_of(trees, texts))
def test_compile_expression_when_input_random_raises_only_proxy_table_error(text: str) -> None:
    """Random trees and text compile, or raise ProxyTableError; results are float64."""
    check(text)


@pytest.mark.slow
@LONG
@given(text=st.one_of(trees, texts, st.text(max_size=1200)))
def test_compile_expression_when_input_random_at_scale(text: str) -> None:
    """The long run."""
    check(text)
