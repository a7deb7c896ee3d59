"""AST -> canonical ClickHouse SQL, expressions.

Canonical form: upper-case keywords, one space around binary operators, `, ` between
list items, parentheses only where precedence needs them, names backquoted only when
they are not plain identifiers or could be read as a keyword. For every AST the parser
produces, `parse_expr(format_expr(e)) == e`, and printing is a fixed point.

Precedence levels (higher binds tighter) mirror the grammar's ladder.
"""
from __future__ import annotations

import math
import re

from .ast import expr as E
from .literals import quote_identifier, quote_string
from .parser import HARD_KEYWORDS, NAME_KEYWORDS, SOFT_KEYWORDS, keyword_terminals

LAMBDA, OR, AND, NOT, BETWEEN, CMP, CONCAT, ADD, MUL, UNARY, POSTFIX, ATOM = range(1, 13)

_BINARY_LEVEL = {
    "OR": OR, "AND": AND,
    "=": CMP, "!=": CMP, "<": CMP, "<=": CMP, ">": CMP, ">=": CMP, "LIKE": CMP, "ILIKE": CMP,
    "NOT LIKE": CMP, "NOT ILIKE": CMP, "REGEXP": CMP,
    "||": CONCAT, "+": ADD, "-": ADD, "*": MUL, "/": MUL, "%": MUL, "DIV": MUL, "MOD": MUL,
}

RESERVED = frozenset(
    name for name, _ in keyword_terminals() if name not in SOFT_KEYWORDS and name not in NAME_KEYWORDS
) | {"SEMI"}


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote_name(name: str) -> str:
    return quote_identifier(name, RESERVED)


def format_literal(value) -> str:
    if value is None:
        return "NULL"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def level_of(node) -> int:
    t = type(node)
    if t is E.BinaryOp:
        return _BINARY_LEVEL[node.op]
    if t is E.UnaryOp:
        return NOT if node.op == "NOT" else UNARY
    if t is E.Literal:
        v = node.value
        if type(v) in (int, float) and (v < 0 or (isinstance(v, float) and math.copysign(1, v) < 0)):
            return UNARY
        return ATOM
    if t in (E.InList, E.IsNull):
        return CMP
    if t is E.Between:
        return BETWEEN
    if t is E.Lambda:
        return LAMBDA
    if t is E.Alias:
        return LAMBDA - 1
    if t in (E.ArrayElement, E.TupleElement):
        return POSTFIX
    return ATOM


class ExprPrinter:
    """Expression printing; `QueryPrinter` (printer_stmt) extends it for queries."""

    def expr(self, node, min_level: int = 0) -> str:
        text = self._expr(node)
        if level_of(node) < min_level:
            return "(" + text + ")"
        return text

    def _expr(self, node) -> str:
        method = getattr(self, "p_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"cannot print {type(node).__name__} as an expression")
        return method(node)

    def item(self, node) -> str:
        """A list element (select item, argument, tuple item): aliases print bare."""
        if type(node) is E.Alias:
            return self.alias(node)
        return self.expr(node)

    def items(self, nodes) -> str:
        return ", ".join(self.item(n) for n in nodes)

    def alias(self, node: E.Alias) -> str:
        return f"{self.expr(node.expr)} AS {quote_name(node.name)}"

    # ---- nodes ----
    def p_Literal(self, node):
        return format_literal(node.value)

    def p_Identifier(self, node):
        parts = [node.database, node.table, node.name]
        return ".".join(quote_name(p) for p in parts if p is not None)

    def p_QueryParameter(self, node):
        name = node.name if _PLAIN.match(node.name) else quote_name(node.name)
        return "{" + name + ":" + node.type_name + "}"

    def p_Star(self, node):
        text = "*" if node.table is None else ".".join(quote_name(p) for p in node.table.split(".")) + ".*"
        if node.except_:
            text += " EXCEPT (" + ", ".join(quote_name(n) for n in node.except_) + ")"
        if node.replace:
            text += " REPLACE (" + self.items(node.replace) + ")"
        return text

    def p_ColumnsMatcher(self, node):
        if node.pattern is not None:
            inner = quote_string(node.pattern)
        else:
            inner = ", ".join(quote_name(c) for c in node.columns)
        return "COLUMNS(" + inner + ")"

    def p_FunctionCall(self, node):
        if node.name == "exists" and len(node.args) == 1 and type(node.args[0]) is E.Subquery:
            return "EXISTS " + self.expr(node.args[0])
        text = quote_identifier(node.name, HARD_KEYWORDS)
        if node.params:
            text += "(" + self.items(node.params) + ")"
        text += "(" + ("DISTINCT " if node.distinct else "") + self.items(node.args) + ")"
        if node.over is not None:
            if isinstance(node.over, str):
                text += " OVER " + quote_name(node.over)
            else:
                text += " OVER (" + self.window_spec(node.over) + ")"
        return text

    def p_BinaryOp(self, node):
        level = _BINARY_LEVEL[node.op]
        right_level = CONCAT if level == CMP else level + 1
        # Walk the left spine of same-level operators iteratively: generated conditions
        # like `a AND b AND c ...` can nest thousands deep.
        spine = []
        cur = node
        while type(cur) is E.BinaryOp and _BINARY_LEVEL[cur.op] == level:
            spine.append(cur)
            cur = cur.left
        parts = [self.expr(cur, level)]
        for n in reversed(spine):
            parts.append(f" {n.op} {self.expr(n.right, right_level)}")
        return "".join(parts)

    def p_UnaryOp(self, node):
        if node.op == "NOT":
            return "NOT " + self.expr(node.operand, NOT)
        operand = self.expr(node.operand, UNARY)
        if operand.startswith("-") or (type(node.operand) is E.Literal
                                       and type(node.operand.value) in (int, float)):
            operand = "(" + operand + ")"
        return "-" + operand

    def p_InList(self, node):
        op = ("GLOBAL " if node.global_ else "") + ("NOT IN" if node.negated else "IN")
        values = node.values
        if isinstance(values, tuple):
            rhs = "(" + self.items(values) + ")"
        elif type(values) is E.Subquery:
            rhs = self._expr(values)
        elif type(values) is E.Identifier:
            rhs = self.p_Identifier(values)
        else:
            rhs = self.expr(values, ATOM)
        return f"{self.expr(node.expr, CMP)} {op} {rhs}"

    def p_Between(self, node):
        op = "NOT BETWEEN" if node.negated else "BETWEEN"
        return (f"{self.expr(node.expr, CMP)} {op} {self.expr(node.low, CMP)} AND "
                f"{self.expr(node.high, CMP)}")

    def p_IsNull(self, node):
        return self.expr(node.expr, CMP) + (" IS NOT NULL" if node.negated else " IS NULL")

    def p_Tuple(self, node):
        if len(node.items) == 1:
            return "(" + self.item(node.items[0]) + ",)"
        return "(" + self.items(node.items) + ")"

    def p_ArrayLiteral(self, node):
        return "[" + ", ".join(self.expr(i) for i in node.items) + "]"

    def p_Interval(self, node):
        value = node.value
        if type(value) is E.Literal and type(value.value) in (int, float):
            text = format_literal(value.value)
        elif type(value) in (E.Identifier, E.FunctionCall, E.QueryParameter) and getattr(value, "over", None) is None:
            text = self._expr(value)
        else:
            text = "(" + self.item(value) + ")"
        return f"INTERVAL {text} {node.unit}"

    def p_Cast(self, node):
        return f"CAST({self.item(node.expr)} AS {node.type_name})"

    def p_Case(self, node):
        parts = ["CASE"]
        if node.operand is not None:
            parts.append(self.expr(node.operand))
        for cond, result in node.whens:
            parts.append(f"WHEN {self.expr(cond)} THEN {self.expr(result)}")
        if node.else_ is not None:
            parts.append("ELSE " + self.expr(node.else_))
        parts.append("END")
        return " ".join(parts)

    def p_Lambda(self, node):
        if len(node.params) == 1:
            params = quote_name(node.params[0])
        else:
            params = "(" + ", ".join(quote_name(p) for p in node.params) + ")"
        return f"{params} -> {self.expr(node.body, LAMBDA)}"

    def p_Alias(self, node):
        return self.alias(node)

    def p_Subquery(self, node):
        return "(" + self.query_inline(node.query) + ")"

    def _postfix_base(self, node) -> str:
        text = self.expr(node, POSTFIX)
        if type(node) is E.Literal and level_of(node) == ATOM and type(node.value) in (int, float):
            return "(" + text + ")"
        return text

    def p_ArrayElement(self, node):
        return f"{self._postfix_base(node.expr)}[{self.expr(node.index)}]"

    def p_TupleElement(self, node):
        index = node.index if isinstance(node.index, int) else quote_name(node.index)
        return f"{self._postfix_base(node.expr)}.{index}"

    # ---- windows and ordering (shared with queries) ----
    def window_spec(self, spec: E.WindowSpec) -> str:
        parts = []
        if spec.base:
            parts.append(quote_name(spec.base))
        if spec.partition_by:
            parts.append("PARTITION BY " + ", ".join(self.expr(e) for e in spec.partition_by))
        if spec.order_by:
            parts.append("ORDER BY " + self.order_items(spec.order_by))
        if spec.frame is not None:
            f = spec.frame
            if f.end is None:
                parts.append(f"{f.unit} {self.frame_bound(f.start)}")
            else:
                parts.append(f"{f.unit} BETWEEN {self.frame_bound(f.start)} AND {self.frame_bound(f.end)}")
        return " ".join(parts)

    def frame_bound(self, b: E.FrameBound) -> str:
        if b.offset is None:
            return b.kind
        return f"{self.expr(b.offset, CONCAT)} {b.kind}"

    def order_items(self, items) -> str:
        return ", ".join(self.order_item(i) for i in items)

    def order_item(self, item: E.OrderItem) -> str:
        text = self.expr(item.expr)
        if item.desc:
            text += " DESC"
        if item.nulls:
            text += " NULLS " + item.nulls
        if item.collate is not None:
            text += " COLLATE " + quote_string(item.collate)
        if item.with_fill is not None:
            f = item.with_fill
            text += " WITH FILL"
            if f.from_ is not None:
                text += " FROM " + self.expr(f.from_)
            if f.to is not None:
                text += " TO " + self.expr(f.to)
            if f.step is not None:
                text += " STEP " + self.expr(f.step)
        return text

    def query_inline(self, query) -> str:  # pragma: no cover - overridden in QueryPrinter
        raise NotImplementedError


def format_sql(node) -> str:
    """Canonical ClickHouse SQL for a statement, query or expression node."""
    from .printer_stmt import StatementPrinter
    return StatementPrinter().node(node)
