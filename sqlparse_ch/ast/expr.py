"""Expression nodes.

Every node is a frozen slots dataclass; `span` is excluded from equality so two trees
parsed from differently formatted text compare equal. Surface syntax that ClickHouse
itself rewrites into a plain function is normalised the same way here:
`a ? b : c` -> `if(a, b, c)`, `DATE 'x'` -> `toDate('x')`, `TIMESTAMP 'x'` -> `toDateTime('x')`,
`EXTRACT(YEAR FROM d)` -> `toYear(d)`, `SUBSTRING(s FROM a FOR b)` -> `substring(s, a, b)`,
`TRIM(BOTH c FROM s)` -> `trimBoth(s, c)`, `EXISTS (q)` -> `exists(Subquery(q))`.
`-<number literal>` folds into a negative Literal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .base import Node, Span

_span = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Node):
    """`1`, `0x1F` (-> 31), `1.5e3`, `inf`, `'text'`, `NULL` (None), `true` (True).

    Equality is by type and value (so `Literal(1) != Literal(True)`, and `nan` equals
    `nan` to keep `parse(format_sql(x)) == x` true for every literal)."""

    value: Any
    span: Span | None = _span

    def __eq__(self, other):
        if type(other) is not Literal:
            return NotImplemented
        a, b = self.value, other.value
        if type(a) is not type(b):
            return False
        return a == b or (a != a and b != b)

    def __hash__(self):
        v = self.value
        return hash((type(v), "nan" if v != v else v))


@dataclass(frozen=True, slots=True)
class Identifier(Node):
    """Column reference: `c`, `t.c` (table='t'), `db.t.c` (database='db')."""

    name: str
    table: str | None = None
    database: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class QueryParameter(Node):
    """ClickHouse query parameter `{name:Type}`."""

    name: str
    type_name: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Star(Node):
    """`*`, `t.*`, `* EXCEPT (a, b)`, `* REPLACE (expr AS c)`."""

    table: str | None = None
    except_: tuple[str, ...] = ()
    replace: tuple["Alias", ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ColumnsMatcher(Node):
    """`COLUMNS('regex')` (pattern) or `COLUMNS(a, b)` (columns), optionally `t.COLUMNS(..)`."""

    pattern: str | None = None
    columns: tuple[str, ...] = ()
    table: str | None = None
    except_: tuple[str, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class FunctionCall(Node):
    """`f(args)`, parametric `quantiles(0.5)(x)` (params=(0.5,)), `count(DISTINCT x)`,
    `f(x) OVER w` / `OVER (..)` (over is the window name or a WindowSpec)."""

    name: str
    args: tuple = ()
    params: tuple = ()
    distinct: bool = False
    over: "WindowSpec | str | None" = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    """op: + - * / % || = != < <= > >= AND OR LIKE NOT LIKE ILIKE NOT ILIKE REGEXP DIV MOD."""

    op: str
    left: Any
    right: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class UnaryOp(Node):
    """op: `-` or `NOT`."""

    op: str
    operand: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class InList(Node):
    """`expr [GLOBAL] [NOT] IN values`; values is a tuple of expressions for `(a, b)`,
    a Subquery for `(SELECT ..)`, or an expression (table name, table function, array,
    parameter) for `IN t`."""

    expr: Any
    values: Any
    negated: bool = False
    global_: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Between(Node):
    expr: Any
    low: Any
    high: Any
    negated: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    expr: Any
    negated: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Tuple(Node):
    """`(a, b)`, `(a,)`, `()`. (A call `tuple(a)` stays a FunctionCall.)"""

    items: tuple
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    """`[a, b]`."""

    items: tuple
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Interval(Node):
    """`INTERVAL 1 DAY`, `INTERVAL '2 hour'` (value=Literal(2), unit='HOUR').
    unit is upper-case singular: NANOSECOND .. SECOND MINUTE HOUR DAY WEEK MONTH QUARTER YEAR."""

    value: Any
    unit: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """`CAST(x AS T)` and `x::T`; type_name is the type's text, e.g. 'Nullable(String)'.
    (The function form `CAST(x, 'T')` stays a FunctionCall.)"""

    expr: Any
    type_name: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Case(Node):
    """`CASE [operand] WHEN c THEN r ... [ELSE e] END`; whens is a tuple of (cond, result)."""

    operand: Any
    whens: tuple
    else_: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """`x -> body`, `(x, y) -> body`."""

    params: tuple[str, ...]
    body: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Alias(Node):
    """`expr AS name` (in a select list, WITH, or nested `(expr AS name)`)."""

    expr: Any
    name: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Subquery(Node):
    """A query used as an expression: `(SELECT ..)`; query is a Select or SetOperation."""

    query: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ArrayElement(Node):
    """`arr[i]`, `map['k']`."""

    expr: Any
    index: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class TupleElement(Node):
    """`t.1` (index=1) or `f(x).name` (index='name')."""

    expr: Any
    index: int | str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class WithFill(Node):
    """`WITH FILL [FROM a] [TO b] [STEP c]` of an ORDER BY item."""

    from_: Any = None
    to: Any = None
    step: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class OrderItem(Node):
    """ORDER BY item: `expr [ASC|DESC] [NULLS FIRST|LAST] [COLLATE 'x'] [WITH FILL ..]`."""

    expr: Any
    desc: bool = False
    nulls: str | None = None
    collate: str | None = None
    with_fill: WithFill | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class FrameBound(Node):
    """kind: 'UNBOUNDED PRECEDING', 'PRECEDING', 'CURRENT ROW', 'FOLLOWING', 'UNBOUNDED FOLLOWING'."""

    kind: str
    offset: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class WindowFrame(Node):
    """`ROWS|RANGE start` or `ROWS|RANGE BETWEEN start AND end`."""

    unit: str
    start: FrameBound
    end: FrameBound | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class WindowSpec(Node):
    """`(base PARTITION BY .. ORDER BY .. frame)`."""

    base: str | None = None
    partition_by: tuple = ()
    order_by: tuple[OrderItem, ...] = ()
    frame: WindowFrame | None = None
    span: Span | None = _span


Expr = Union[
    Literal, Identifier, QueryParameter, Star, ColumnsMatcher, FunctionCall, BinaryOp, UnaryOp,
    InList, Between, IsNull, Tuple, ArrayLiteral, Interval, Cast, Case, Lambda, Alias, Subquery,
    ArrayElement, TupleElement,
]
