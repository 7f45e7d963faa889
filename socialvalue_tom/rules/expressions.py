"""Safe arithmetic expressions for custom measures declared as data.

A council's YAML may define a measure's value as a formula over named inputs, for example::

    where(level >= 3, proxy_high, proxy_low) * quantity

:func:`compile_expression` parses such text with :func:`ast.parse` (``mode="eval"``), checks
every node against a small whitelist and turns the tree, once, into nested closures that call
numpy ufuncs. No user text is ever handed to ``eval``, ``exec`` or ``compile`` to make code.
Evaluation is vectorised: every operator works on whole arrays at once.

The language
------------
* numbers: decimal ``int`` and ``float`` literals (``3``, ``0.5``, ``1e6``, ``1_000``) with an
  absolute value of at most ``1e15``; not hexadecimal, octal or binary, nor so small they read
  as 0 (``1e-400``), nor run into a name (``1or x``); no strings, booleans, ``None`` or complex
  numbers;
* names: ASCII identifiers that do not start with ``_`` and, when ``allowed_names`` is given,
  are in it (Python would read ``ｑuantity`` as ``quantity``: refused);
* arithmetic: ``+ - * / **`` and unary ``+ -``; a constant exponent must lie in ``[-64, 64]``;
* comparisons: ``< <= > >= == !=``, chained as in Python (``0 < x <= 1``); they give ``1.0`` for
  true and ``0.0`` for false;
* logic: ``and``, ``or``, ``not``, elementwise, giving ``1.0``/``0.0`` (any non-zero value,
  NaN included, counts as true); both sides are always evaluated;
* functions: ``where(cond, a, b)``, ``min(a, b, ...)`` and ``max(a, b, ...)`` (elementwise, two or
  more arguments, NaN propagates), ``clip(x, lo, hi)`` (``min(max(x, lo), hi)``: ``hi`` wins
  when ``lo > hi``; bounds written as numbers the wrong way round are refused on compiling).

Conditional expressions (``a if c else b``) are refused: write ``where(c, a, b)``. Whitespace
around the text is ignored; line breaks are allowed only inside parentheses (as in Python).

Limits: at most :data:`MAX_LENGTH` characters, :data:`MAX_NODES` expression nodes and a nesting
depth of :data:`MAX_DEPTH`. Anything outside the language or over a limit raises
:class:`~socialvalue_tom.errors.ProxyTableError` naming the origin, the expression and what is at
fault.
"""

from __future__ import annotations

import ast
import math
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from socialvalue_tom._text import shortened
from socialvalue_tom.errors import ProxyTableError

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_LITERAL",
    "MAX_NODES",
    "Expression",
    "compile_expression",
]

MAX_LENGTH: Final = 1000
"""Longest expression text accepted, in characters."""

MAX_NODES: Final = 200
"""Most expression nodes (names, literals, operators, calls ...) in one expression."""

MAX_DEPTH: Final = 32
"""Deepest nesting of expression nodes (the outermost node is at depth 1)."""

MAX_EXPONENT: Final = 64.0
"""Largest absolute value of a constant exponent in ``a ** b``."""

MAX_LITERAL: Final = 1e15
"""Largest absolute value of a numeric literal."""

FUNCTIONS: Final = frozenset({"where", "min", "max", "clip"})
"""The functions an expression may call."""

_SHOWN_CHARS: Final = 80

# A compiled node: takes the evaluation environment (name -> float64 array, already converted)
# and returns a float64 array or numpy scalar.
_Env = Mapping[str, NDArray[np.float64]]
_Fn = Callable[[_Env], Any]

_BINARY_UFUNCS: Final[dict[type[ast.operator], np.ufunc]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}

_OPERATOR_SYMBOLS: Final[dict[type[ast.AST], str]] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
}

_COMPARE_UFUNCS: Final[dict[type[ast.cmpop], np.ufunc]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

_COMPARE_SYMBOLS: Final[dict[type[ast.cmpop], str]] = {
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}

_REJECTED_NODES: Final[dict[type[ast.AST], str]] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripting and indexing are not allowed",
    ast.Slice: "slicing is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions and generator expressions are not allowed",
    ast.IfExp: (
        "conditional expressions (a if c else b) are not allowed; use where(c, a, b) instead"
    ),
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "argument unpacking (*args) is not allowed",
    ast.NamedExpr: "assignment expressions (:=, walrus) are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
}


def _shorten(text: str) -> str:
    """``text`` cut to a length fit for an error message."""
    return shortened(text, _SHOWN_CHARS)


def _error(
    origin: str, text: str, reason: str, position: tuple[int, int] | None = None
) -> ProxyTableError:
    """The error for an expression that cannot be compiled."""
    where = f" at line {position[0]}, column {position[1]}" if position else ""
    return ProxyTableError(
        f"{origin}: expression {_shorten(text)!r} is rejected: {reason}{where}",
        origin=origin,
        expression=text,
        reason=reason,
        position=position,
    )


def _as_float64(value: Any) -> NDArray[np.float64]:
    """``value`` as a float64 array; raises ``TypeError`` for non-numeric data."""
    if value is None:
        raise TypeError("got None")
    arr = np.asarray(value)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "O":
        try:
            return np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(f"non-numeric values ({exc})") from None
    raise TypeError(f"non-numeric dtype {arr.dtype}")


def _to_bool_float(value: Any) -> NDArray[np.float64]:
    """A boolean result as ``1.0``/``0.0`` float64."""
    return np.asarray(value, dtype=np.float64)


# --- closure builders (module level so that each closure captures only what it needs) ---------


def _constant(value: float) -> _Fn:
    const = np.float64(value)

    def run(env: _Env) -> Any:
        return const

    return run


def _name(name: str) -> _Fn:
    def run(env: _Env) -> Any:
        return env[name]

    return run


def _unary(ufunc: np.ufunc, operand: _Fn) -> _Fn:
    def run(env: _Env) -> Any:
        return ufunc(operand(env))

    return run


def _not(operand: _Fn) -> _Fn:
    def run(env: _Env) -> Any:
        return _to_bool_float(np.logical_not(operand(env)))

    return run


def _binary(ufunc: np.ufunc, left: _Fn, right: _Fn) -> _Fn:
    op: Callable[[Any, Any], Any] = _power if ufunc is np.power else ufunc

    def run(env: _Env) -> Any:
        return op(left(env), right(env))

    return run


def _power(base: Any, exponent: Any) -> NDArray[np.float64]:
    """``base ** exponent`` elementwise, each element with the C library's ``pow``.

    ``np.power`` on float64 arrays may use a vectorised (SIMD) ``pow`` for whole vectors and the
    C library's for the remainder and for single values, and the two can differ in the last
    bit: a value would then depend on its position in the array and on the path (scalar or
    bulk) that valued it. Raising is rare in tables, so exactness wins over speed here.
    """
    b, e = np.broadcast_arrays(np.asarray(base, dtype=np.float64),
                               np.asarray(exponent, dtype=np.float64))
    values = [_pow(x, y) for x, y in zip(b.ravel().tolist(), e.ravel().tolist(), strict=True)]
    return np.array(values, dtype=np.float64).reshape(b.shape)


def _pow(x: float, y: float) -> float:
    """``math.pow`` with numpy's results where it raises: overflow is an infinity (negative for
    a negative base and an odd integer exponent), zero to a negative power an infinity, and a
    negative base to a fractional power NaN."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _odd_integer(y) else math.inf
    except ValueError:
        if x == 0.0:
            return -math.inf if math.copysign(1.0, x) < 0 and _odd_integer(y) else math.inf
        return math.nan


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def _logical(ufunc: np.ufunc, operands: tuple[_Fn, ...]) -> _Fn:
    def run(env: _Env) -> Any:
        result = operands[0](env)
        for operand in operands[1:]:
            result = ufunc(result, operand(env))
        return _to_bool_float(result)

    return run


def _compare(ufuncs: tuple[np.ufunc, ...], operands: tuple[_Fn, ...]) -> _Fn:
    def run(env: _Env) -> Any:
        left = operands[0](env)
        result: Any = None
        for ufunc, operand in zip(ufuncs, operands[1:], strict=True):
            right = operand(env)
            step = ufunc(left, right)
            result = step if result is None else np.logical_and(result, step)
            left = right
        return _to_bool_float(result)

    return run


def _where(cond: _Fn, if_true: _Fn, if_false: _Fn) -> _Fn:
    def run(env: _Env) -> Any:
        return np.where(cond(env), if_true(env), if_false(env))

    return run


def _fold(ufunc: np.ufunc, operands: tuple[_Fn, ...]) -> _Fn:
    def run(env: _Env) -> Any:
        result = operands[0](env)
        for operand in operands[1:]:
            result = ufunc(result, operand(env))
        return result

    return run


def _clip(x: _Fn, lo: _Fn, hi: _Fn) -> _Fn:
    def run(env: _Env) -> Any:
        # Not ``np.clip``: its 0-d and array code paths disagree on the sign of zero results.
        return np.minimum(np.maximum(x(env), lo(env)), hi(env))

    return run


# --- validation and compilation -----------------------------------------------------------------


class _Compiler:
    """Walks a validated-size AST once, checking each node and building its closure."""

    def __init__(self, text: str, origin: str, allowed: frozenset[str] | None, lead: str) -> None:
        self.text = text
        self.origin = origin
        self.allowed = allowed
        self.lead = lead
        self.names: set[str] = set()

    def position(self, line: int | None, col: int | None) -> tuple[int, int] | None:
        """1-based (line, column) in the original text of a position in the stripped text."""
        if line is None or col is None:
            return None
        lead_lines = self.lead.count("\n")
        if line == 1:
            col += len(self.lead) - (self.lead.rfind("\n") + 1)
        return (line + lead_lines, col)

    def fail(self, reason: str, node: ast.AST | None = None) -> ProxyTableError:
        """The error for ``node`` (its position is reported when it has one)."""
        pos: tuple[int, int] | None = None
        if isinstance(node, ast.expr):
            stripped_lines = self.text[len(self.lead) :].split("\n")
            line = node.lineno
            # ``col_offset`` counts UTF-8 bytes; report characters.
            raw = stripped_lines[line - 1] if 0 < line <= len(stripped_lines) else ""
            col = len(raw.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
            pos = self.position(line, col)
        return _error(self.origin, self.text, reason, pos)

    def compile(self, node: ast.expr) -> _Fn:
        """The closure for ``node``; raises :class:`ProxyTableError` for anything not allowed."""
        if isinstance(node, ast.Constant):
            return _constant(self.literal(node))
        if isinstance(node, ast.Name):
            return _name(self.name(node))
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            operand = self.compile(node.operand)
            if isinstance(node.op, ast.USub):
                return _unary(np.negative, operand)
            if isinstance(node.op, ast.UAdd):
                return _unary(np.positive, operand)
            if isinstance(node.op, ast.Not):
                return _not(operand)
            raise self.fail(self.operator_reason(node.op), node)
        if isinstance(node, ast.BoolOp):
            operands = tuple(self.compile(v) for v in node.values)
            ufunc = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return _logical(ufunc, operands)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        reason = _REJECTED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        raise self.fail(reason, node)

    def literal(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool):
            raise self.fail("boolean literals (True/False) are not allowed; use 1 and 0", node)
        if isinstance(value, str):
            raise self.fail("string literals are not allowed", node)
        if isinstance(value, bytes):
            raise self.fail("bytes literals are not allowed", node)
        if isinstance(value, complex):
            raise self.fail("complex numbers are not allowed", node)
        if value is None:
            raise self.fail("None is not allowed", node)
        if not isinstance(value, int | float):
            raise self.fail(f"literal {value!r} is not allowed", node)
        if not abs(value) <= MAX_LITERAL:
            raise self.fail(
                f"numeric literal {_shorten(repr(value))} is too large "
                f"(absolute value over {MAX_LITERAL:g})",
                node,
            )
        return float(value)

    def name(self, node: ast.Name) -> str:
        name = node.id
        if name.startswith("_"):
            raise self.fail(f"name {name!r} is not allowed: names may not start with '_'", node)
        if self.allowed is not None and name not in self.allowed:
            listed = ", ".join(sorted(self.allowed)) if self.allowed else "(none)"
            raise self.fail(f"unknown name {name!r}; allowed names: {listed}", node)
        self.names.add(name)
        return name

    @staticmethod
    def operator_reason(op: ast.AST) -> str:
        symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
        return f"operator {symbol!r} is not allowed; only + - * / ** and unary + - are"

    def binop(self, node: ast.BinOp) -> _Fn:
        ufunc = _BINARY_UFUNCS.get(type(node.op))
        if ufunc is None:
            raise self.fail(self.operator_reason(node.op), node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        if ufunc is np.divide and not _uses_names(node.right):
            with np.errstate(all="ignore"):
                divisor = float(np.asarray(right({}), dtype=np.float64))
            if divisor == 0.0:  # a typo, and an error at every claim: refused with the table
                raise self.fail("division by zero: the divisor is 0 whatever the inputs", node)
        if ufunc is np.power and not _uses_names(node.right):
            with np.errstate(all="ignore"):
                exponent = float(np.asarray(right({}), dtype=np.float64))
            if not abs(exponent) <= MAX_EXPONENT:
                raise self.fail(
                    f"exponent too large: constant exponent {exponent:g} is outside "
                    f"[-{MAX_EXPONENT:g}, {MAX_EXPONENT:g}]",
                    node,
                )
        return _binary(ufunc, left, right)

    def compare(self, node: ast.Compare) -> _Fn:
        ufuncs: list[np.ufunc] = []
        for op in node.ops:
            ufunc = _COMPARE_UFUNCS.get(type(op))
            if ufunc is None:
                symbol = _COMPARE_SYMBOLS.get(type(op), type(op).__name__)
                raise self.fail(
                    f"comparison {symbol!r} is not allowed; only < <= > >= == != are", node
                )
            ufuncs.append(ufunc)
        operands = tuple(self.compile(v) for v in (node.left, *node.comparators))
        return _compare(tuple(ufuncs), operands)

    def call(self, node: ast.Call) -> _Fn:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise self.fail("attribute access is not allowed (method calls included)", func)
        if not isinstance(func, ast.Name):
            raise self.fail(
                "only calls to the functions " + ", ".join(sorted(FUNCTIONS)) + " are allowed",
                node,
            )
        fname = func.id
        if fname not in FUNCTIONS:
            raise self.fail(
                f"unknown function {fname!r}; allowed functions: " + ", ".join(sorted(FUNCTIONS)),
                node,
            )
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail("argument unpacking (**kwargs) is not allowed", node)
            raise self.fail(f"keyword arguments are not allowed ({fname}(..., {kw.arg}=...))", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("argument unpacking (*args) is not allowed", arg)
        nargs = len(node.args)
        if fname in ("where", "clip") and nargs != 3:
            sig = "where(cond, a, b)" if fname == "where" else "clip(x, lo, hi)"
            raise self.fail(
                f"wrong number of arguments: {fname} takes exactly 3 ({sig}), got {nargs}", node
            )
        if fname in ("min", "max") and nargs < 2:
            raise self.fail(
                f"wrong number of arguments: {fname} takes 2 or more arguments, got {nargs}", node
            )
        if fname == "clip":
            lo, hi = (_number_written(a) for a in node.args[1:])
            if lo is not None and hi is not None and lo > hi:  # a table author's review
                raise self.fail(
                    f"clip's bounds are the wrong way round (lo {lo:g} is above hi {hi:g}): "
                    f"every result would be {hi:g}; write clip(x, {hi:g}, {lo:g})", node)
        args = tuple(self.compile(a) for a in node.args)
        if fname == "where":
            return _where(*args)
        if fname == "clip":
            return _clip(*args)
        return _fold(np.minimum if fname == "min" else np.maximum, args)


def _number_written(node: ast.AST) -> float | None:
    """The number ``node`` writes (``100``, ``-0.5``), or None where it is not a bare number."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)):
        try:
            return sign * float(node.value)
        except OverflowError:  # a literal too large: refused as such when compiled
            return None
    return None


def _uses_names(node: ast.AST) -> bool:
    """Whether ``node`` refers to any name (calls' function names excepted)."""
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name):
            return True
        if isinstance(current, ast.Call):
            stack.extend(current.args)
            stack.extend(current.keywords)
        else:
            stack.extend(ast.iter_child_nodes(current))
    return False


def _check_size(compiler: _Compiler, tree: ast.Expression) -> None:
    """Enforce :data:`MAX_NODES` and :data:`MAX_DEPTH` without recursion."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            count += 1
            if count > MAX_NODES:
                raise compiler.fail(f"expression too large: more than {MAX_NODES} nodes")
            if depth > MAX_DEPTH:
                raise compiler.fail(
                    f"expression nested too deeply: more than {MAX_DEPTH} levels", node
                )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _compile(
    text: str, origin: str, allowed: frozenset[str] | None
) -> tuple[_Fn, frozenset[str], ast.expr]:
    """Parse, check and compile ``text``.

    Returns the root closure, the names used and the root node.
    """
    if not isinstance(text, str):
        raise ProxyTableError(
            f"{origin}: an expression must be a string, got {type(text).__name__} {text!r:.80}",
            origin=origin,
            expression=text,
            reason="not a string",
            position=None,
        )
    if len(text) > MAX_LENGTH:
        raise _error(
            origin, text, f"expression too long: {len(text)} characters (at most {MAX_LENGTH})"
        )
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    compiler = _Compiler(text, origin, allowed, lead)
    if not stripped:
        raise _error(origin, text, "the expression is empty")
    _refuse_before_parsing(compiler, stripped, origin, text)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        reason = f"invalid syntax: {exc.msg}"
        line, col = exc.lineno, exc.offset
        lines = stripped.split("\n")
        if line is not None and 0 < line <= len(lines) and (col is None or col < 1):
            col = len(lines[line - 1]) + 1  # reported at the end of the input
        raise _error(origin, text, reason, compiler.position(line, col)) from None
    except (RecursionError, MemoryError):
        raise _error(origin, text, "expression nested too deeply to parse") from None
    except ValueError as exc:  # null bytes, bad surrogates
        raise _error(origin, text, f"invalid syntax: {exc}") from None
    _check_size(compiler, tree)
    fn = compiler.compile(tree.body)
    return fn, frozenset(compiler.names), tree.body


_NUMBER = re.compile(tokenize.Number)
_NAME_CHAR = re.compile(r"\w")
_LINE_END = re.compile(r"[\r\n]")


def _refuse_before_parsing(compiler: _Compiler, stripped: str, origin: str, text: str) -> None:
    """Refuse, from the text, what Python's parser would only warn about or read silently.

    Python's tokenizer warns (a SyntaxWarning or DeprecationWarning, printed, not raised) on a
    number run into a name (``1or x``) and on escapes in strings; turning those warnings into
    errors means changing the process's warning filters, which are shared by every thread
    (before Python 3.14) and could be left changed for the host program. So they are found
    here, with the other literals outside the language, and no warning filter is touched:

    * a backslash in quotes (the escape warnings: a string is refused anyway, when parsed);
    * a number run into a name or keyword (``1or x``, ``2if``);
    * hexadecimal, octal and binary literals, and a literal so small it reads as 0
      (``1e-400``): the language has decimal numbers, as they read;
    * non-ASCII names (Python folds ``ｑuantity`` into ``quantity``: the text would not say
      the name it uses).
    """
    i, line, col0 = 0, 1, 0  # position in ``stripped``; col0: index where the line starts

    def fail(reason: str, at: int) -> ProxyTableError:
        return _error(origin, text, reason, compiler.position(line, at - col0 + 1))

    while i < len(stripped):
        ch = stripped[i]
        if ch in "\r\n":  # a line ends at \n, \r\n or a lone \r, as Python reads text
            i += 2 if stripped.startswith("\r\n", i) else 1
            line, col0 = line + 1, i
        elif ch == "#":  # a comment runs to the end of the line
            line_end = _LINE_END.search(stripped, i)
            i = len(stripped) if line_end is None else line_end.start()
        elif ch in "'\"":  # a string: refused when parsed, unless it holds an escape
            end = stripped.find(ch, i + 1)
            end = len(stripped) if end < 0 else end
            if "\\" in stripped[i:end]:
                raise fail("text in quotes with a backslash: an expression has no strings", i)
            i = end + 1
        elif ch.isdigit() or (ch == "." and stripped[i + 1:i + 2].isdigit()):
            found = _NUMBER.match(stripped, i)
            end = found.end() if found else i + 1
            literal = stripped[i:end]
            if _NAME_CHAR.match(stripped, end):
                raise fail(f"the number {literal!r} runs into a name: put a space or an "
                           "operator between them", i)
            if literal[:2].lower() in ("0x", "0o", "0b"):
                raise fail(f"literal {literal!r}: write numbers in decimal", i)
            mantissa = re.split("[eE]", literal)[0]
            if not literal.endswith(("j", "J")) and any(c in "123456789" for c in mantissa) \
                    and float(literal.replace("_", "")) == 0.0:
                raise fail(f"literal {literal!r} is too small to be told from 0", i)
            i = end
        elif _NAME_CHAR.match(ch):
            end = i + 1
            while end < len(stripped) and _NAME_CHAR.match(stripped, end):
                end += 1
            if not stripped[i:end].isascii():
                raise fail(f"name {stripped[i:end]!r} is not ASCII: names are written in "
                           "ASCII letters, digits and '_'", i)
            i = end
        else:
            i += 1


def _freeze_names(names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise TypeError("allowed_names must be a collection of names, not a single string")
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled, immutable, thread-safe arithmetic expression.

    Build one with :func:`compile_expression` (or ``Expression(text, allowed_names, origin)``,
    which does the same). ``text`` is the text as given, ``names`` the variable names it uses,
    ``allowed_names`` the names it was allowed to use (``None``: any name not starting with
    ``_``) and ``origin`` where it came from (used in error messages).

    ``gives_truth`` says whether the result is a truth value (1 or 0: a comparison, or
    ``and``/``or``/``not`` at the top), which a table refuses as a measure's gross amount.

    Instances compare and hash by ``text``, ``allowed_names`` and ``origin``, and pickle by
    recompiling their text.
    """

    text: str
    allowed_names: frozenset[str] | None = None
    origin: str = "<expression>"
    names: frozenset[str] = field(init=False, compare=False)
    _fn: _Fn = field(init=False, repr=False, compare=False)
    _root_is_name: bool = field(init=False, repr=False, compare=False)
    #: Whether the result is a truth value (a comparison, ``and``/``or``/``not``): 1 or 0.
    gives_truth: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allowed = _freeze_names(self.allowed_names)
        fn, names, root = _compile(self.text, self.origin, allowed)
        object.__setattr__(self, "allowed_names", allowed)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_root_is_name", isinstance(root, ast.Name))
        object.__setattr__(self, "gives_truth", isinstance(root, ast.Compare | ast.BoolOp) or (
            isinstance(root, ast.UnaryOp) and isinstance(root.op, ast.Not)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Expression, (self.text, self.allowed_names, self.origin))

    def _error(self, reason: str, **details: Any) -> ProxyTableError:
        return ProxyTableError(
            f"{self.origin}: cannot evaluate expression {_shorten(self.text)!r}: {reason}",
            origin=self.origin,
            expression=self.text,
            reason=reason,
            **details,
        )

    def evaluate(self, env: Mapping[str, ArrayLike]) -> NDArray[np.float64]:
        """Evaluate on scalars and/or arrays, elementwise.

        ``env`` maps each name in :attr:`names` to a number or an array (anything numpy can turn
        into a numeric array; names not used are ignored). Values are converted to float64 and
        broadcast together with numpy's rules.

        Returns a new float64 ``numpy.ndarray`` of the broadcast shape of the values used: a 0-d
        array when they are all scalars (or the expression uses no name). Arithmetic is done
        under ``np.errstate(all="ignore")``: division by zero and the like give ``inf`` or
        ``nan`` silently, so the caller should check finiteness.

        Raises :class:`ProxyTableError` when a name is missing from ``env``, a value is not
        numeric, or the values' shapes cannot be broadcast together.
        """
        missing = sorted(n for n in self.names if n not in env)
        if missing:
            shown = ", ".join(repr(n) for n in missing)
            raise self._error(f"no value for name(s) {shown}", missing=tuple(missing))
        values: dict[str, NDArray[np.float64]] = {}
        for name in self.names:
            try:
                values[name] = _as_float64(env[name])
            except (TypeError, ValueError, OverflowError) as exc:  # 10**400 overflows float64
                raise self._error(f"the value for {name!r} is not numeric: {exc}") from None
        try:
            shape = np.broadcast_shapes(*(v.shape for v in values.values()))
        except ValueError:
            shapes = ", ".join(f"{n} {values[n].shape}" for n in sorted(values))
            raise self._error(
                f"the values' shapes cannot be broadcast together: {shapes}"
            ) from None
        with np.errstate(all="ignore"):
            result = np.asarray(self._fn(values), dtype=np.float64)
        if self._root_is_name:  # never hand back (a view of) the caller's own array
            result = result.copy()
        if result.shape != shape:
            result = np.broadcast_to(result, shape).copy()
        return result

    def evaluate_scalar(self, env: Mapping[str, float]) -> float:
        """Evaluate on scalar values; returns a Python ``float``.

        Goes through the same numpy code as :meth:`evaluate`, so the result is bit-identical to
        the corresponding element of an array evaluation. Raises :class:`ProxyTableError` as
        :meth:`evaluate` does, and when a value is not a scalar.
        """
        result = self.evaluate(env)
        if result.ndim != 0:
            raise self._error(
                f"evaluate_scalar needs scalar values, but the result has shape {result.shape}"
            )
        return float(result.item())


def compile_expression(
    text: str,
    allowed_names: Iterable[str] | None = None,
    origin: str = "<expression>",
) -> Expression:
    """Parse, check and compile ``text`` into an :class:`Expression`.

    ``allowed_names``: the names the expression may use (``None``: any identifier not starting
    with ``_``). ``origin``: where the text came from, e.g.
    ``"my_council/2025.yaml: measures[3].expression"``; it starts every error message.

    Raises :class:`~socialvalue_tom.errors.ProxyTableError` (with ``origin``, ``expression``,
    ``reason`` and ``position`` attributes) for syntax errors and anything outside the language
    described in this module's docstring.
    """
    return Expression(text, _freeze_names(allowed_names), origin)
