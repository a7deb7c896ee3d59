"""Logical plan nodes. Each node knows its output schema (ordered (name, DataType) pairs) and
prints as one line; `explain(plan)` prints the tree, e.g. for
``SELECT event_type, count() FROM events WHERE ts > '2024-01-01' GROUP BY event_type``::

    Project event_type := __key0, count() := __agg0
      Aggregate keys=[__key0] aggregates=[__agg0 := count()]
        Expression __key0 := event_type
          ReadFromMergeTree events columns=[event_type, ts] where=greater(ts, '2024-01-01')

Expressions are sqlparse_ch AST nodes over the column names of the child's output; the executor
binds them with ``mergetree.exec.expression.bind`` against the child schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mergetree import types as T
from mergetree.planner.naming import column_name


class PlanNode:
    children: list

    @property
    def schema(self) -> list[tuple[str, T.DataType]]:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def names(self) -> list[str]:
        return [n for n, _ in self.schema]

    def types(self) -> dict[str, T.DataType]:
        frozen = self.__dict__.get("_frozen_types")
        if frozen is not None:
            return dict(frozen)
        return dict(self.schema)


def _schema_of(node) -> list:
    """``node.schema``, the one :func:`freeze` stored when the plan is final."""
    frozen = node.__dict__.get("_frozen_schema")
    return frozen if frozen is not None else node.schema


def freeze(plan: PlanNode) -> PlanNode:
    """Store every node's schema (and types) on it: a plan that ``plan_select`` returned is not
    changed any more, and the executor asks the nodes' schemas again and again (each computed down
    the whole chain of nodes below). Nodes copied from a frozen plan keep the stored schemas (the
    prepared plans of planner/prepared.py: their schemas do not depend on the values put in)."""
    stack, order = [plan], []
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(n.children)
    for n in reversed(order):           # children first: each schema is computed from theirs
        d = n.__dict__
        if "_frozen_schema" not in d:
            schema = n.schema
            d["_frozen_schema"] = schema
            d["_frozen_types"] = dict(schema)
    return plan


class UnaryNode(PlanNode):
    """A node over one ``child`` that keeps the child's columns (filter, sort, limit, distinct)."""

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        return _schema_of(self.child)


def explain(node: PlanNode, indent: int = 0) -> str:
    lines = ["  " * indent + node.describe()]
    for c in node.children:
        lines.append(explain(c, indent + 1))
    return "\n".join(lines)


def _expr_text(e) -> str:
    return column_name(e) if e is not None else ""


@dataclass(eq=False)
class ReadFromMergeTree(PlanNode):
    """Read `columns` of a table; `where` (pushed down) prunes partitions/granules and filters rows."""

    table_name: str
    table: Any
    columns: list[str]
    table_schema: list
    where: Any = None
    final: bool = False
    prewhere: bool = False     # read the `where` columns first (optimizer rule `prewhere`)
    #: read in sorting-key order: only the first (last, when "desc") granules of each part that hold
    #: `limit_hint` rows (optimizer rule `read_in_order`, for ORDER BY key-prefix LIMIT n)
    limit_hint: int | None = None
    order: str = "asc"
    #: read only each part's first and last primary-index entry of `columns` (one key column), for
    #: min/max over it (optimizer rule `minmax_from_index`)
    key_bounds: bool = False
    children: list = field(default_factory=list)

    @property
    def schema(self):
        types = dict(self.table_schema)
        return [(c, types[c]) for c in self.columns]

    def describe(self):
        name = self.table_name
        actual = getattr(self.table, "name", name)
        if isinstance(actual, str) and actual != name:         # a materialized view reads its target
            name = f"{actual} (materialized view {self.table_name})"
        out = f"ReadFromMergeTree {name} columns=[{', '.join(self.columns)}]"
        if self.where is not None:
            out += f" {'prewhere' if self.prewhere else 'where'}={_expr_text(self.where)}"
        if self.limit_hint is not None:
            out += f" in_order={self.order} limit_hint={self.limit_hint}"
        if self.key_bounds:
            out += " key_bounds"
        return out + (" FINAL" if self.final else "")


@dataclass(eq=False)
class CountFromMetadata(PlanNode):
    """``SELECT count() FROM t`` answered from part row counts (minus lightweight deletes)."""

    table_name: str
    table: Any
    output: str
    children: list = field(default_factory=list)

    @property
    def schema(self):
        return [(self.output, T.UInt64)]

    def describe(self):
        return f"CountFromMetadata {self.table_name}"


@dataclass(eq=False)
class ReadNumbers(PlanNode):
    """numbers(start, count), or system.numbers (count None: endless, a LIMIT stops it): one UInt64
    column `number`."""

    start: int
    count: int | None
    children: list = field(default_factory=list)

    @property
    def schema(self):
        return [("number", T.UInt64)]

    def describe(self):
        return f"ReadNumbers start={self.start} count={self.count}"


@dataclass(eq=False)
class ReadOne(PlanNode):
    """system.one (also the source of a SELECT without FROM): one row, `dummy UInt8` = 0."""

    children: list = field(default_factory=list)

    @property
    def schema(self):
        return [("dummy", T.UInt8)]

    def describe(self):
        return "ReadOne"


@dataclass(eq=False)
class ReadBlock(PlanNode):
    """Rows already in memory (SHOW TABLES, DESCRIBE ...)."""

    block: Any
    children: list = field(default_factory=list)

    @property
    def schema(self):
        return list(self.block.schema)

    def describe(self):
        return f"ReadBlock rows={self.block.num_rows}"


@dataclass(eq=False)
class Filter(UnaryNode):
    child: PlanNode
    predicate: Any

    def describe(self):
        return f"Filter {_expr_text(self.predicate)}"


@dataclass(eq=False)
class Expression(PlanNode):
    """Adds computed columns [(name, expr)] to the child's columns."""

    child: PlanNode
    exprs: list
    out_types: dict = field(default_factory=dict)   # filled by the planner: name -> DataType

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        own = {n for n, _ in self.exprs}
        return [(n, t) for n, t in _schema_of(self.child) if n not in own] + \
            [(n, self.out_types[n]) for n, _ in self.exprs]

    def describe(self):
        return "Expression " + ", ".join(f"{n} := {_expr_text(e)}" for n, e in self.exprs)


@dataclass(eq=False)
class AggregateCall:
    output: str
    function: Any              # functions.aggregate.AggregateFunction
    args: list[str]            # input column names
    text: str                  # as written, for EXPLAIN


@dataclass(eq=False)
class Aggregate(PlanNode):
    """GROUP BY `keys` (child column names) computing `aggregates`; output: keys then aggregates.
    Without keys: exactly one row, even over no input (as ClickHouse)."""

    child: PlanNode
    keys: list[str]
    aggregates: list[AggregateCall]

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        types = self.child.types()
        return [(k, types[k]) for k in self.keys] + [(a.output, a.function.type) for a in self.aggregates]

    def describe(self):
        aggs = ", ".join(f"{a.output} := {a.text}" for a in self.aggregates)
        return f"Aggregate keys=[{', '.join(self.keys)}] aggregates=[{aggs}]"


@dataclass(eq=False)
class SortItem:
    column: str
    desc: bool = False
    nulls_first: bool = False


def _sort_text(items) -> str:
    return ", ".join(f"{i.column}{' DESC' if i.desc else ''}{' NULLS FIRST' if i.nulls_first else ''}"
                     for i in items)


@dataclass(eq=False)
class Sort(UnaryNode):
    child: PlanNode
    items: list[SortItem]

    def describe(self):
        return f"Sort {_sort_text(self.items)}"


@dataclass(eq=False)
class TopN(UnaryNode):
    """Sort + Limit fused: the first `limit` rows (after `offset`) in sort order."""

    child: PlanNode
    items: list[SortItem]
    limit: int
    offset: int = 0

    def describe(self):
        return f"TopN {_sort_text(self.items)} limit={self.limit} offset={self.offset}"


@dataclass(eq=False)
class Limit(UnaryNode):
    child: PlanNode
    limit: int | None
    offset: int = 0

    def describe(self):
        return f"Limit {self.limit} offset={self.offset}"


@dataclass(eq=False)
class LimitBy(UnaryNode):
    child: PlanNode
    columns: list[str]
    limit: int
    offset: int = 0

    def describe(self):
        return f"LimitBy {self.limit} offset={self.offset} by=[{', '.join(self.columns)}]"


@dataclass(eq=False)
class Distinct(UnaryNode):
    child: PlanNode
    columns: list[str]

    def describe(self):
        return f"Distinct [{', '.join(self.columns)}]"


@dataclass(eq=False)
class Union(PlanNode):
    """UNION ALL of queries (each a Project); column i of every input is cast to out_types[i]
    and named names[i]."""

    children: list
    column_names: list[str]
    out_types: list

    @property
    def schema(self):
        return list(zip(self.column_names, self.out_types))

    def describe(self):
        return f"Union {len(self.children)} inputs -> [{', '.join(f'{n} {t}' for n, t in self.schema)}]"


@dataclass(eq=False)
class Project(PlanNode):
    """The result columns: [(output name, child column)]; output names may repeat."""

    child: PlanNode
    columns: list[tuple[str, str]]

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        types = self.child.types()
        return [(out, types[src]) for out, src in self.columns]

    def check_unique(self) -> None:
        """A subquery's columns become a table's columns: their names must differ."""
        names = [out for out, _ in self.columns]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            from mergetree.errors import BadArgumentsError

            raise BadArgumentsError(f"Duplicate column {dup} in a subquery: give the columns different aliases")

    def describe(self):
        return "Project " + ", ".join(out if out == src else f"{out} := {src}" for out, src in self.columns)


@dataclass(eq=False)
class Fill(UnaryNode):
    """ORDER BY .. WITH FILL over sorted rows: `items` are planner.ordering.FillItem (exec/fill.py)."""

    child: PlanNode
    items: list

    def describe(self):
        return "Fill " + ", ".join(i.describe() for i in self.items)

    def required_inputs(self, required: set) -> set:
        from mergetree.planner.rewrite import identifiers

        need = set(required)
        for i in self.items:
            need |= {i.column, *i.mirrors, *i.keep, *i.prefix}
        for _, e in getattr(self, "interpolate", None) or []:
            need |= identifiers(e)
        return need


@dataclass(eq=False)
class LimitWithTies(UnaryNode):
    """LIMIT n WITH TIES: also the rows after the n-th equal to it in every ORDER BY column."""

    child: PlanNode
    limit: int | None
    offset: int
    columns: list

    def describe(self):
        return f"LimitWithTies {self.limit} offset={self.offset} by=[{', '.join(self.columns)}]"

    def required_inputs(self, required: set) -> set:
        return set(required) | set(self.columns)


@dataclass(eq=False)
class GroupingAggregate(PlanNode):
    """Aggregate over several grouping `sets` (lists of key names; ROLLUP, CUBE, GROUPING SETS) with
    the keys missing from a set as type defaults (NULL when `use_nulls`), the ``grouping()``
    columns [(output, [keys])], `having`, and the WITH TOTALS row (planner/grouping.py,
    exec/totals.py). Output: keys, aggregates, grouping columns."""

    child: PlanNode
    keys: list[str]
    aggregates: list
    sets: list
    grouping_calls: list
    having: Any = None
    totals: bool = False
    totals_mode: str = "after_having_exclusive"
    use_nulls: bool = False

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        from mergetree.functions import values as V

        types = self.child.types()
        keys = [(k, V.make_nullable(types[k]) if self.use_nulls else types[k]) for k in self.keys]
        return keys + [(a.output, a.function.type) for a in self.aggregates] + \
            [(name, T.UInt64) for name, _ in self.grouping_calls]

    def describe(self):
        aggs = ", ".join(f"{a.output} := {a.text}" for a in self.aggregates)
        sets = ", ".join("(" + ", ".join(s) + ")" for s in self.sets)
        out = f"GroupingAggregate keys=[{', '.join(self.keys)}] sets=[{sets}] aggregates=[{aggs}]"
        if self.having is not None:
            out += f" having={_expr_text(self.having)}"
        return out + (f" totals={self.totals_mode}" if self.totals else "")

    def required_inputs(self, required: set) -> set:
        return set(self.keys) | {a for call in self.aggregates for a in call.args}


@dataclass(eq=False)
class Window(PlanNode):
    """Window functions (planner/windows.py builds it, exec/window.py runs it): the child's columns
    plus one column per call; `groups` are planner.windows.WindowGroup (calls sharing PARTITION BY
    and ORDER BY, one sort each)."""

    child: PlanNode
    groups: list

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        return list(self.child.schema) + [(c.output, c.type) for g in self.groups for c in g.calls]

    def describe(self):
        return "Window " + "; ".join(g.describe() for g in self.groups)

    def required_inputs(self, required: set) -> set:
        need = set(required) - {c.output for g in self.groups for c in g.calls}
        for g in self.groups:
            need |= set(g.partition) | {o.column for o in g.order} | {a for c in g.calls for a in c.args}
        return need


@dataclass(eq=False)
class Join(PlanNode):
    """``left [kind] [strictness] JOIN right`` (planner/joins.py builds it, exec/join.py runs it).

    children = [left, right]. Output: ``left_columns`` then ``right_columns`` ([(out, child column)],
    out names unique, e.g. ``a.x``), then ``using_columns`` [(out, left column, right column)]: the
    USING keys merged (left value, the right one for RIGHT joins and right-only rows of FULL joins).
    ``left_keys`` / ``right_keys``: child columns compared for equality (already cast to a common
    type); ``residual``: the rest of ON, an expression over the output names, applied to the matching
    pairs; ``asof``: (left column, op, right column) for ASOF. With ``use_nulls`` (join_use_nulls = 1)
    the columns of a side that can be missing are Nullable, else a missing row reads as type defaults."""

    children: list
    kind: str                          # INNER LEFT RIGHT FULL CROSS
    strictness: str                    # ALL ANY SEMI ANTI ASOF
    left_keys: list
    right_keys: list
    left_columns: list
    right_columns: list
    using_columns: list = field(default_factory=list)
    residual: Any = None
    asof: tuple | None = None
    use_nulls: bool = False
    #: per key: NULL equals NULL (``ON isNotDistinctFrom(a.k, b.k)``)
    null_safe: list = field(default_factory=list)

    @property
    def left(self):
        return self.children[0]

    @property
    def right(self):
        return self.children[1]

    def side_nullable(self):
        """(left columns may be NULL, right columns may be NULL) under join_use_nulls."""
        if not self.use_nulls:
            return False, False
        return self.kind in ("RIGHT", "FULL"), self.kind in ("LEFT", "FULL")

    @property
    def schema(self):
        from mergetree.functions import values as V

        def nullable(t):   # LowCardinality(Nullable(..)) has no column here: Nullable of the plain type
            return V.make_nullable(V.strip_lc(t))

        nl, nr = self.side_nullable()
        lt, rt = self.left.types(), self.right.types()
        out = [(o, nullable(lt[s]) if nl else lt[s]) for o, s in self.left_columns]
        out += [(o, nullable(rt[s]) if nr else rt[s]) for o, s in self.right_columns]
        out += [(o, nullable(lt[s]) if nl and nr else lt[s]) for o, s, _ in self.using_columns]
        return out

    def describe(self):
        ns = self.null_safe or [False] * len(self.left_keys)
        keys = ", ".join(f"{a} {'<=>' if n else '='} {b}" for a, b, n in zip(self.left_keys, self.right_keys, ns))
        out = f"Join {self.kind} {self.strictness} keys=[{keys}]"
        if self.asof is not None:
            out += f" asof={self.asof[0]} {self.asof[1]} {self.asof[2]}"
        if self.residual is not None:
            out += f" filter={_expr_text(self.residual)}"
        if self.use_nulls:
            out += " join_use_nulls"
        return out + " -> [" + ", ".join(o for o, _ in self.schema) + "]"


@dataclass(eq=False)
class ArrayJoin(PlanNode):
    """``[LEFT] ARRAY JOIN`` (planner/array_join.py, exec/array_join.py): every row repeated once per
    element of the arrays in ``arrays`` [(out, child array column)] (equal lengths per row), the
    element in ``out`` (replacing a child column of that name, else added). LEFT keeps a row with
    an empty array once, with the element's type default."""

    child: PlanNode
    arrays: list
    left: bool = False

    @property
    def children(self):
        return [self.child]

    @property
    def schema(self):
        types = self.child.types()
        elem = {o: types[s].inner for o, s in self.arrays}
        out = [(n, elem.get(n, t)) for n, t in self.child.schema]
        return out + [(o, elem[o]) for o, _ in self.arrays if o not in types]

    def describe(self):
        arrays = ", ".join(f"{o} := {s}" for o, s in self.arrays)
        return f"{'Left' if self.left else ''}ArrayJoin [{arrays}]"
