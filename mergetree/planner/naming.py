"""Result column names as ClickHouse spells them: the expression in functional form.

``SELECT a + 1, count(*), x IN (1, 2), 'it''s'`` has columns ``plus(a, 1)``, ``count()``,
``in(x, (1, 2))`` and ``'it\\'s'`` (checked against chDB 26.9). An alias inside an expression
keeps its name (``(a + 1 AS b) * 2`` -> ``multiply(b, 2)``).
"""

from __future__ import annotations

import math

from sqlparse_ch.ast import expr as E

from mergetree.exec.expression import BINARY_FUNCTIONS

_UNARY = {"-": "negate", "NOT": "not"}


#: how ClickHouse escapes a string literal in a column name ('a\\nb'); other bytes stay as they are
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r",
                                 "\0": "\\0", "\b": "\\b", "\f": "\\f"})
_INT_MIN, _UINT_MAX = -2 ** 63, 2 ** 64 - 1


def _float_text(v: float) -> str:
    """A Float64 as ClickHouse names it: the shortest round-trip digits, written out in full for
    1e-7 < |v| < 1e21 (``1e10`` -> ``10000000000.``, a whole number ends with ``.``), else with an
    exponent (``1e21``, ``2.5e-10``); ``-0.``, ``nan``, ``inf``."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    mantissa, _, exp = repr(abs(v)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # value = 0.<digits> * 10**n
    n = len(whole) + int(exp or 0) if whole != "0" else int(exp or 0) - (len(frac) - len(frac.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    if digits == "0":
        return sign + "0."
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k) + "."
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + f"e{'-' if e < 0 else ''}{abs(e)}"


def format_literal(v, as_float: bool = False) -> str:
    """A literal's text in a column name; `as_float`: a number inside an array literal whose
    elements ClickHouse converted to Float64 (``[1.5, 2]`` -> ``[1.5, 2.]``)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        if as_float or not _INT_MIN <= v <= _UINT_MAX:   # ClickHouse parses a wider integer as Float64
            return _float_text(float(v))
        return str(v)
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, str):
        return "'" + v.translate(_STRING_ESCAPES) + "'"
    return str(v)


def _array_leaves(e):
    for i in e.items:
        if isinstance(i, E.ArrayLiteral):
            yield from _array_leaves(i)
        else:
            yield i


def _array_literal(e: E.ArrayLiteral, as_float: bool | None = None) -> str:
    """``[...]``; an array of number literals with a Float64 among them (nested arrays included) is
    converted to Float64 by ClickHouse, so its whole numbers are named ``2.``."""
    if as_float is None:
        leaves = list(_array_leaves(e))
        as_float = all(isinstance(i, E.Literal) and (i.value is None or (isinstance(i.value, (int, float))
                                                                          and not isinstance(i.value, bool)))
                       for i in leaves) and \
            any(isinstance(i.value, float) or (isinstance(i.value, int) and not _INT_MIN <= i.value <= _UINT_MAX)
                for i in leaves)
    parts = []
    for i in e.items:
        if isinstance(i, E.ArrayLiteral):
            parts.append(_array_literal(i, as_float))
        elif as_float and isinstance(i, E.Literal):
            parts.append(format_literal(i.value, True))
        else:
            parts.append(column_name(i))
    return "[" + ", ".join(parts) + "]"


def column_name(e) -> str:
    """ClickHouse's default name of the result column of expression `e`."""
    f = _NAMERS.get(type(e).__name__)
    if f is None:
        return type(e).__name__
    return f(e)


def _call(name: str, args) -> str:
    return f"{name}({', '.join(column_name(a) for a in args)})"


def _function(e: E.FunctionCall) -> str:
    if e.over is not None:      # f(x) OVER (ORDER BY y ASC)
        from mergetree.planner.windows import window_text

        return _function(E.FunctionCall(e.name, e.args, e.params, e.distinct)) + " OVER " + window_text(e.over)
    args = [a for a in e.args if not isinstance(a, E.Star)]
    name = e.name
    if e.distinct:
        name = "countDistinct" if name.lower() == "count" else name + "Distinct"
    params = f"({', '.join(column_name(p) for p in e.params)})" if e.params else ""
    if params:
        return f"{name}{params}({', '.join(column_name(a) for a in args)})"
    if name == "tuple":    # ClickHouse prints tuple(a, b) as (a, b), tuple(a) as (a), tuple() as ()
        return "(" + ", ".join(column_name(a) for a in args) + ")"
    if name == "array":    # and array(1, 2.5) as [1, 2.5] (items as written, unlike a [..] literal)
        return "[" + ", ".join(column_name(a) for a in args) + "]"
    return _call(name, args)


def _flatten(e, op):
    if isinstance(e, E.BinaryOp) and e.op.upper() == op:
        return _flatten(e.left, op) + _flatten(e.right, op)
    return [e]


def _binary(e: E.BinaryOp) -> str:
    op = e.op.upper()
    if op in ("AND", "OR"):
        return _call(op.lower(), _flatten(e, op))
    return _call(BINARY_FUNCTIONS.get(op, op), [e.left, e.right])


def _in(e: E.InList) -> str:
    name = "notIn" if e.negated else "in"
    if isinstance(e.values, tuple):
        rhs = column_name(e.values[0]) if len(e.values) == 1 else \
            "(" + ", ".join(column_name(v) for v in e.values) + ")"
    else:
        rhs = column_name(e.values)
    return f"{name}({column_name(e.expr)}, {rhs})"


def _between(e: E.Between) -> str:
    x, lo, hi = column_name(e.expr), column_name(e.low), column_name(e.high)
    if e.negated:
        return f"or(less({x}, {lo}), greater({x}, {hi}))"
    return f"and(greaterOrEquals({x}, {lo}), lessOrEquals({x}, {hi}))"


def _case(e: E.Case) -> str:
    args = [x for w in e.whens for x in w] + [e.else_ if e.else_ is not None else E.Literal(None)]
    if e.operand is not None:
        return _call("caseWithExpression", [e.operand] + args)
    return _call("multiIf", args)


_NAMERS = {
    "Literal": lambda e: format_literal(e.value),
    "Identifier": lambda e: e.name,
    "Alias": lambda e: e.name,
    "FunctionCall": _function,
    "BinaryOp": _binary,
    "UnaryOp": lambda e: _call(_UNARY.get(e.op.upper(), e.op), [e.operand]),
    "InList": _in,
    "Between": _between,
    "IsNull": lambda e: _call("isNotNull" if e.negated else "isNull", [e.expr]),
    "Tuple": lambda e: "(" + ", ".join(column_name(i) for i in e.items) + ")",
    "ArrayLiteral": _array_literal,
    "Interval": lambda e: f"toInterval{e.unit.capitalize()}({column_name(e.value)})",
    "Cast": lambda e: f"CAST({column_name(e.expr)}, {format_literal(e.type_name)})",
    "Case": _case,
    "ArrayElement": lambda e: _call("arrayElement", [e.expr, e.index]),
    "TupleElement": lambda e: f"tupleElement({column_name(e.expr)}, {format_literal(e.index)})",
    "Lambda": lambda e: f"lambda(tuple({', '.join(e.params)}), {column_name(e.body)})",
    "Star": lambda e: "*",
    "Subquery": lambda e: "_subquery",
}
