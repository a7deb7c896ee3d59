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


def format_literal(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v) and abs(v) < 1e16:
            return f"{int(v)}."
        text = repr(v)
        if "e" in text:
            text = f"{v:.17f}".rstrip("0")
        return text
    if isinstance(v, str):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(v)


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
    if name == "tuple" and len(args) > 1:    # ClickHouse prints tuple(a, b) as (a, b)
        return "(" + ", ".join(column_name(a) for a in args) + ")"
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
    "ArrayLiteral": lambda e: "[" + ", ".join(column_name(i) for i in e.items) + "]",
    "Interval": lambda e: f"toInterval{e.unit.capitalize()}({column_name(e.value)})",
    "Cast": lambda e: f"CAST({column_name(e.expr)}, {format_literal(e.type_name)})",
    "Case": _case,
    "ArrayElement": lambda e: _call("arrayElement", [e.expr, e.index]),
    "TupleElement": lambda e: f"tupleElement({column_name(e.expr)}, {format_literal(e.index)})",
    "Lambda": lambda e: f"lambda(tuple({', '.join(e.params)}), {column_name(e.body)})",
    "Star": lambda e: "*",
    "Subquery": lambda e: "_subquery",
}
