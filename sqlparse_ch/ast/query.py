"""SELECT and set-operation nodes. Field names follow the clause names."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .base import Node, Span
from .expr import OrderItem, WindowSpec

_span = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TableName(Node):
    """`[database.]name`."""

    name: str
    database: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Setting(Node):
    """`name = value` in SETTINGS / SET."""

    name: str
    value: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CTE(Node):
    """`WITH name AS (query)`."""

    name: str
    query: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Sample(Node):
    """`SAMPLE ratio [OFFSET offset]`."""

    ratio: Any
    offset: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class TableExpr(Node):
    """A FROM / JOIN source: source is a TableName, a FunctionCall (table function) or a
    Subquery; `[AS alias] [FINAL] [SAMPLE ..]`."""

    source: Any
    alias: str | None = None
    final: bool = False
    sample: Sample | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Join(Node):
    """`[GLOBAL] [strictness] [kind] JOIN table [ON expr | USING (cols)]`.

    kind: 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', or 'COMMA' for `FROM a, b`;
    strictness: None, 'ANY', 'ALL', 'ASOF', 'SEMI', 'ANTI'."""

    kind: str
    table: TableExpr
    strictness: str | None = None
    global_: bool = False
    on: Any = None
    using: tuple[str, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ArrayJoin(Node):
    """`[LEFT] ARRAY JOIN expr [AS a], ..`."""

    items: tuple
    left: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class LimitBy(Node):
    """`LIMIT [offset,] limit BY exprs` (also `LIMIT n OFFSET m BY ..`)."""

    limit: Any
    by: tuple
    offset: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class NamedWindow(Node):
    """`WINDOW name AS (spec)`."""

    name: str
    spec: WindowSpec
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Select(Node):
    """One SELECT. `with_` holds Alias (scalar `expr AS name`) and CTE items.

    group_by_modifier: None, 'ROLLUP', 'CUBE' (`GROUP BY ROLLUP(a)` == `GROUP BY a WITH ROLLUP`),
    'GROUPING SETS' (group_by then holds one Tuple per set) or 'ALL' (`GROUP BY ALL`).
    `LIMIT m, n` and `OFFSET m ROWS FETCH NEXT n ROWS ONLY` normalise to limit=n, offset=m.
    `ORDER BY ALL [DESC]` is a single OrderItem whose expr is `Star()`.
    `interpolate` is None without INTERPOLATE, () for a bare INTERPOLATE, else Identifier /
    Alias(expr, column) items. `format` is only set on the outermost query of a statement.
    `array_join` holds an ARRAY JOIN written before any JOIN; one written after a JOIN
    keeps its place as an ArrayJoin element of `joins`."""

    select: tuple
    with_: tuple = ()
    distinct: bool = False
    distinct_on: tuple = ()
    from_: TableExpr | None = None
    array_join: ArrayJoin | None = None
    joins: tuple[Join, ...] = ()
    prewhere: Any = None
    where: Any = None
    group_by: tuple = ()
    group_by_modifier: str | None = None
    with_totals: bool = False
    having: Any = None
    window: tuple[NamedWindow, ...] = ()
    qualify: Any = None
    order_by: tuple[OrderItem, ...] = ()
    interpolate: tuple | None = None
    limit_by: LimitBy | None = None
    limit: Any = None
    offset: Any = None
    with_ties: bool = False
    settings: tuple[Setting, ...] = ()
    format: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class SetOperation(Node):
    """`left op right`; op: 'UNION ALL', 'UNION DISTINCT', 'UNION', 'INTERSECT',
    'INTERSECT DISTINCT', 'EXCEPT', 'EXCEPT DISTINCT'. INTERSECT binds tighter than
    UNION/EXCEPT; all are left-associative."""

    op: str
    left: Any
    right: Any
    format: str | None = None
    span: Span | None = _span


Query = Union[Select, SetOperation]
