"""Binder: resolves the names of one SELECT with ClickHouse's rules and splits it into the parts
the planner turns into plan nodes.

Rules implemented (ClickHouse 26.x, new analyzer):
1. Aliases defined in the SELECT list (and scalar ``WITH expr AS name``) are visible in the whole
   SELECT: WHERE, GROUP BY, HAVING, ORDER BY, LIMIT BY. An alias shadows a source column of the
   same name, except inside its own definition (``SELECT x + 1 AS x``).
2. ``t.col`` resolves when ``t`` is the table name or its alias.
3. GROUP BY / ORDER BY / LIMIT BY positions (``GROUP BY 1``) refer to SELECT items.
4. Aggregates are found anywhere in SELECT / HAVING / ORDER BY; every other column reference there
   must be a GROUP BY expression (else NOT_AN_AGGREGATE). No aggregates in WHERE or GROUP BY.
5. ``{name:Type}`` query parameters become ``CAST('value', 'Type')``.

Output: a `BoundSelect`, where pre-aggregation expressions read source columns and
post-aggregation expressions read the slots ``__key{i}`` / ``__agg{i}``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from sqlparse_ch.ast import expr as E

from mergetree.errors import (IllegalAggregationError, IllegalTypeOfArgumentError, NotAnAggregateError,
                              UnknownIdentifierError, UnknownQueryParameterError)
from mergetree.functions.aggregate import get_aggregate, is_aggregate
from mergetree.functions.registry import suggest
from mergetree.planner import grouping as G
from mergetree.planner import ordering as O
from mergetree.planner import windows as W
from mergetree.planner.naming import column_name
from mergetree.planner.naming import format_literal as naming_literal
from mergetree.planner.rewrite import transform, walk


def at(node) -> str:
    """' (line L, column C)' for a node with a span, else ''."""
    span = getattr(node, "span", None)
    return f" (line {span.line}, column {span.column})" if span is not None else ""


def expr_type(e, types: dict):
    """``infer_type(e, types)``; a plain column reference is looked up without binding (most of the
    expressions a plan types are columns: keys, aggregate arguments, outputs over slots)."""
    if type(e) is E.Identifier and e.table is None:
        t = types.get(e.name)
        if t is not None and not isinstance(t, str):
            return t
    from mergetree.exec.expression import infer_type

    return infer_type(e, types)


def with_position(err: Exception, node) -> Exception:
    where = at(node)
    if where and err.args and where not in str(err.args[0]):
        err.args = (f"{err.args[0]}{where}",) + tuple(err.args[1:])
    return err


def parameter_value(e: E.QueryParameter, params: dict):
    """``{name:Type}`` -> ``CAST('value', 'Type')`` (ClickHouse parses the value as Type's text)."""
    if e.name not in params:
        raise UnknownQueryParameterError(f"Substitution `{e.name}` is not set{at(e)}")
    v = params[e.name]
    text = v if isinstance(v, str) else ("true" if v is True else "false" if v is False else str(v))
    return E.Cast(E.Literal(text), e.type_name, span=e.span)


def case_to_multi_if(e: E.Case):
    """``CASE [x] WHEN a THEN r .. [ELSE d] END`` -> ``multiIf(x = a, r, .., d)`` (ELSE NULL by default)."""
    args = []
    for cond, result in e.whens:
        args += [E.BinaryOp("=", e.operand, cond) if e.operand is not None else cond, result]
    args.append(e.else_ if e.else_ is not None else E.Literal(None))
    return E.FunctionCall("multiIf", tuple(args), span=e.span)


def substitute_params(e, params: dict):
    """Replace the query parameters of an expression (DML conditions, VALUES)."""
    if e is None:
        return None
    return transform(e, lambda n: parameter_value(n, params) if isinstance(n, E.QueryParameter) else None)


#: above this many rows, `x IN (SELECT ..)` tests membership in the result's columns (functions/in_set.py)
IN_SET_MIN_ROWS = 64

#: above this many tuples, `(a, b) IN (..)` compares one String key per row instead of OR-ing equalities
TUPLE_IN_OR_MAX = 64


def tuple_in(node: E.InList):
    """``(a, b) [NOT] IN ((1, 'x'), ..)``: OR of ANDs of equalities for short lists, else one
    ``IN`` over ``concat(toString(a), '\\0', toString(b))`` keys (the values formatted the same way)."""
    n = len(node.expr.items)
    rows = []
    values = node.values
    if len(values) == n and not any(isinstance(v, E.Tuple) for v in values):   # `(a, b) IN (1, 'x')`
        values = (E.Tuple(tuple(values)),)
    for v in values:
        items = v.items if isinstance(v, E.Tuple) else v.args if isinstance(v, E.FunctionCall) and v.name == "tuple" \
            else None
        if items is None or len(items) != n:
            raise IllegalTypeOfArgumentError(f"IN: every value must be a tuple of {n} elements{at(node)}")
        rows.append(items)
    if not rows:
        return E.Literal(1 if node.negated else 0)
    if len(rows) <= TUPLE_IN_OR_MAX:
        out = None
        for items in rows:
            conj = None
            for a, b in zip(node.expr.items, items):
                eq = E.BinaryOp("=", a, b)
                conj = eq if conj is None else E.BinaryOp("AND", conj, eq)
            out = conj if out is None else E.BinaryOp("OR", out, conj)
        return E.UnaryOp("NOT", out, span=node.span) if node.negated else out

    def key(items):
        parts = []
        for x in items:
            parts += [E.FunctionCall("toString", (x,)), E.Literal("\x00")]
        return E.FunctionCall("concat", tuple(parts[:-1]))

    from mergetree.exec.expression import evaluate_constant

    keys = tuple(E.Literal(evaluate_constant(key(items))[0]) for items in rows)
    return E.InList(key(node.expr.items), keys, node.negated, span=node.span)


@dataclass
class AggregateSlot:
    output: str
    function: Any
    args: list            # argument ASTs over source columns
    text: str


@dataclass
class BoundSelect:
    source_names: list[str]
    where: Any = None
    prewhere: Any = None
    keys: list = field(default_factory=list)           # ASTs over the source
    aggregates: list[AggregateSlot] = field(default_factory=list)
    aggregating: bool = False
    having: Any = None                                 # over __key/__agg slots
    outputs: list = field(default_factory=list)        # [(name, AST)]
    order: list = field(default_factory=list)          # [(AST, desc, nulls_first)]
    limit_by: Any = None                               # (limit, offset, [AST])
    limit: int | None = None
    offset: int = 0
    distinct: bool = False
    qualify: Any = None                                # QUALIFY, over the window outputs
    windows: list = field(default_factory=list)        # window calls, output __win{i} (planner/windows.py)
    grouping_sets: Any = None                          # [[key index]] for ROLLUP/CUBE/GROUPING SETS (planner/grouping.py)
    grouping_calls: list = field(default_factory=list)  # [(__grouping{i}, [__key names])]
    totals: bool = False                               # WITH TOTALS
    fill: list = field(default_factory=list)           # [(order index, WithFill)] (planner/ordering.py)
    with_ties: bool = False                            # LIMIT n WITH TIES


def _int_literal(e, what: str) -> int | None:
    if e is None:
        return None
    # `LIMIT toInt32('50')`: what Tinybird's `{{Int32(limit, 50)}}` renders to (a constant, as ClickHouse takes it)
    if isinstance(e, E.FunctionCall) and e.name in ("toInt8", "toInt16", "toInt32", "toInt64", "toUInt8",
                                                    "toUInt16", "toUInt32", "toUInt64") \
            and len(e.args) == 1 and isinstance(e.args[0], E.Literal) and not e.params and e.over is None:
        v = e.args[0].value
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v.strip())
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            return v
    if isinstance(e, E.Literal) and isinstance(e.value, int) and not isinstance(e.value, bool) and e.value >= 0:
        return e.value
    raise IllegalTypeOfArgumentError(f"{what} must be a non-negative integer literal, got {column_name(e)}"
                                     f"{at(e)}")


def _unsupported_clauses(q) -> None:
    """Clauses the parser accepts but the engine does not run yet: fail instead of ignoring them."""
    from mergetree.errors import NotImplementedSQLError

    found = [name for name, present in (
        ("INTERPOLATE without WITH FILL", O.interpolate_without_fill(q)),) if present]
    if found:
        raise NotImplementedSQLError(f"{found[0]} is not supported yet")


@dataclass(frozen=True, slots=True)
class _StarColumn(E.Alias):
    """A column that ``*`` expanded to: binds to the column even where a WITH or SELECT alias has
    its name (ClickHouse: ``WITH 5 AS x SELECT * FROM t`` returns t.x), and defines no alias."""


def _tuple_access_name(node, qualifiers):
    """ClickHouse names `tbl.col` `col` but a tuple element access `t.b` (`tbl.t.b`) `t.b`."""
    parts = [p for p in (node.database, node.table, node.name) if p is not None]
    if parts[0] in qualifiers:
        parts = parts[1:]
    return E.Identifier(".".join(parts), span=node.span)


class SelectBinder:
    """Bind one Select against a source schema (list of (name, type)) and table qualifiers."""

    def __init__(self, schema: list, qualifiers: set[str], params: dict | None = None,
                 with_aliases: dict | None = None, run_subquery=None, scope=None, star_hidden=()):
        self.schema = list(schema)
        #: source columns `*` leaves out: a table's MATERIALIZED columns (ClickHouse's
        #: asterisk_include_materialized_columns = 0); still readable by name
        self.star_hidden = star_hidden
        #: names of joined tables (planner/joins.py JoinScope): resolves `t.col`, USING columns, `*`
        self.scope = scope
        self.types = dict(schema)
        self.qualifiers = qualifiers
        self.params = params or {}
        self.aliases: dict[str, Any] = dict(with_aliases or {})
        self.with_names = set(with_aliases or {})
        #: query AST -> (schema, columns); runs scalar and IN subqueries
        self.run_subquery = run_subquery
        self._subquery_values: dict = {}
        self._lambda_scope: frozenset = frozenset()   # parameters of the lambdas being expanded

    # ---- subqueries

    def _number_subqueries(self, items):
        """Name subqueries ``_subquery_N`` in order of appearance, as ClickHouse does (a WITH alias
        of a subquery takes its number where it is first used)."""
        counter = [0]
        seen_with: set = set()

        def fn(node):
            if isinstance(node, E.Subquery):
                counter[0] += 1
                return E.Alias(node, f"_subquery_{counter[0]}", span=node.span)
            if isinstance(node, E.Identifier) and node.name in self.with_names and node.name not in seen_with \
                    and isinstance(self.aliases[node.name], E.Subquery):
                seen_with.add(node.name)
                counter[0] += 1
            return None

        return [transform(e, fn) for e in items]

    def _subquery_result(self, q):
        if self.run_subquery is None:
            raise IllegalTypeOfArgumentError("Subqueries are not supported here")
        key = id(q)
        if key not in self._subquery_values:
            self._subquery_values[key] = self.run_subquery(q)
        return self._subquery_values[key]

    def _scalar(self, node: E.Subquery):
        from mergetree.errors import IncorrectResultOfScalarSubqueryError
        from mergetree.functions import values as V

        schema, columns = self._subquery_result(node.query)
        if len(schema) != 1:
            raise IncorrectResultOfScalarSubqueryError(
                f"Scalar subquery must return one column, got {len(schema)}{at(node)}")
        (_, t), col = schema[0], columns[0]
        if len(col) > 1:
            raise IncorrectResultOfScalarSubqueryError(f"Scalar subquery returned more than one row{at(node)}")
        out_type = V.make_nullable(V.strip_lc(t))
        if len(col) == 0 or col.to_pylist()[0] is None:
            return E.Cast(E.Literal(None), out_type.name, span=node.span)
        value = col.to_pylist()[0]
        text = V.strip(t).format_value(value)
        return E.Cast(E.Literal(text), out_type.name, span=node.span)

    def _in_values(self, node: E.InList):
        sub = node.values.expr if isinstance(node.values, E.Alias) else node.values
        if isinstance(sub, E.ArrayLiteral) and sub.items:   # `k IN ['a', 'b']` (Tinybird's Array() params)
            return E.InList(node.expr, tuple(sub.items), node.negated, span=node.span)
        if isinstance(sub, E.Identifier) and sub.database is None:   # `x IN table`: its rows
            from sqlparse_ch.ast import query as Q

            table = Q.TableName(sub.name, sub.table)
            sub = E.Subquery(Q.Select(select=(E.Star(),), from_=Q.TableExpr(table)), span=sub.span)
        if not isinstance(sub, E.Subquery):
            raise IllegalTypeOfArgumentError(f"IN {type(sub).__name__} is not supported yet{at(node)}")
        schema, columns = self._subquery_result(sub.query)
        width = len(node.expr.items) if isinstance(node.expr, E.Tuple) and len(schema) > 1 else 1
        if width != len(schema):
            from mergetree.errors import NumberOfColumnsDoesntMatchError

            raise NumberOfColumnsDoesntMatchError(f"Number of columns in section IN doesn't match. {width} at left, "
                                                  f"{len(schema)} at right{at(node)}")
        as_set = self._in_set(node, schema, columns)
        if as_set is not None:
            return as_set
        if len(schema) > 1 and isinstance(node.expr, E.Tuple) and len(node.expr.items) == len(schema):
            return self._tuple_in_subquery(node, schema, columns)
        if len(schema) != 1:
            raise IllegalTypeOfArgumentError(f"IN subquery must return one column, got {len(schema)}{at(node)}")
        from mergetree.functions import values as V

        t = V.strip(schema[0][1])
        values = []
        for v in dict.fromkeys(columns[0].to_pylist()):
            if v is None or isinstance(v, (bool, int, float, str)):
                values.append(E.Literal(v))
            else:
                values.append(E.Literal(t.format_value(v)))
        return E.InList(node.expr, tuple(values), node.negated, span=node.span)

    def _in_set(self, node: E.InList, schema, columns):
        """A subquery result of more than IN_SET_MIN_ROWS rows: ``__inSet(x, '<set>')``
        (functions/in_set.py, a vectorized membership test) instead of a list of literals."""
        if not columns or len(columns[0]) <= IN_SET_MIN_ROWS:
            return None
        xs = list(node.expr.items) if isinstance(node.expr, E.Tuple) and len(schema) > 1 else [node.expr]
        if len(xs) != len(schema):
            return None
        from mergetree.exec.expression import infer_type
        from mergetree.functions import in_set

        try:
            xtypes = [infer_type(self.expand(x), self.types) for x in xs]
        except Exception:
            return None
        if not in_set.supported(xtypes, [t for _, t in schema]):
            return None
        key = in_set.make_set(list(columns), [t for _, t in schema])
        return E.FunctionCall("__notInSet" if node.negated else "__inSet", tuple(xs) + (E.Literal(key),),
                              span=node.span)

    def _tuple_in_subquery(self, node: E.InList, schema, columns):
        """``(a, b) IN (SELECT x, y ..)`` -> ``(a, b) IN ((x1, y1), ..)`` (see `tuple_in`)."""
        from mergetree.functions import values as V

        def lit(v, t):
            return E.Literal(v if v is None or isinstance(v, (bool, int, float, str)) else V.strip(t).format_value(v))

        rows = dict.fromkeys(zip(*[c.to_pylist() for c in columns]))
        values = tuple(E.Tuple(tuple(lit(v, t) for v, (_, t) in zip(row, schema))) for row in rows)
        return E.InList(node.expr, values, node.negated, span=node.span)

    # ---- name resolution

    def _param(self, e: E.QueryParameter):
        return parameter_value(e, self.params)

    def expand(self, e, expanding: frozenset = frozenset()):
        """Replace aliases by their expressions, resolve qualifiers and parameters."""

        def fn(node):
            if isinstance(node, E.QueryParameter):
                return self._param(node)
            if isinstance(node, E.Subquery):
                return self._scalar(node)
            if isinstance(node, E.Case):
                return self.expand(case_to_multi_if(node), expanding)
            if isinstance(node, E.InList) and not isinstance(node.values, tuple):
                return self.expand(self._in_values(node), expanding)
            if isinstance(node, E.InList) and isinstance(node.expr, E.Tuple):
                return self.expand(tuple_in(node), expanding)
            if isinstance(node, E.Alias):
                return self.expand(node.expr, expanding | {node.name})
            if isinstance(node, E.Lambda):  # its parameters shadow columns and aliases in its body
                outer = self._lambda_scope
                self._lambda_scope = outer | set(node.params)
                try:
                    return E.Lambda(node.params, self.expand(node.body, expanding), span=node.span)
                finally:
                    self._lambda_scope = outer
            if isinstance(node, E.Identifier) and node.table is None and node.name in self._lambda_scope:
                return node
            if isinstance(node, E.Identifier) and self.scope is not None:
                if node.table is None and node.name in self.aliases and node.name not in expanding:
                    return self.expand(self.aliases[node.name], expanding | {node.name})
                return self.scope.resolve(node)
            if isinstance(node, E.Identifier):
                if node.table is not None:
                    if node.table in self.qualifiers and node.name in self.types:
                        return E.Identifier(node.name, span=node.span)
                    full = f"{node.table}.{node.name}"
                    if full in self.types:
                        return E.Identifier(full, span=node.span)
                    if getattr(self.types.get(node.table), "kind", None) == "tuple" or (
                            node.table in self.aliases and node.table not in expanding):   # t.a: element a of tuple t
                        return self.expand(E.TupleElement(E.Identifier(node.table, span=node.span), node.name,
                                                          span=node.span), expanding)
                    if node.database is not None and node.database not in self.qualifiers and (
                            getattr(self.types.get(node.database), "kind", None) == "tuple" or (
                            node.database in self.aliases and node.database not in expanding)):   # t.b.c
                        inner = E.TupleElement(E.Identifier(node.database, span=node.span), node.table, span=node.span)
                        return self.expand(E.TupleElement(inner, node.name, span=node.span), expanding)
                    raise with_position(UnknownIdentifierError(full, suggest(node.name, list(self.types))), node)
                if node.name in self.aliases and node.name not in expanding:
                    return self.expand(self.aliases[node.name], expanding | {node.name})
                if node.name in self.types:
                    return node
                raise with_position(UnknownIdentifierError(
                    node.name, suggest(node.name, list(self.types) + list(self.aliases))), node)
            if isinstance(node, E.FunctionCall) and any(isinstance(a, E.Star) for a in node.args):
                return E.FunctionCall(node.name, tuple(self.expand(a, expanding) for a in node.args
                                                       if not isinstance(a, E.Star)),
                                      node.params, node.distinct, node.over, span=node.span)
            return None

        return transform(e, fn)

    def _select_items(self, items) -> list[tuple[str, Any]]:
        out = []
        for item in items:
            if isinstance(item, E.Star) and self.scope is not None:
                out += self.scope.star(item.table, item.except_)
                continue
            if isinstance(item, E.Star):
                if item.table is not None and item.table not in self.qualifiers:
                    raise UnknownIdentifierError(f"{item.table}.*")
                for name, _ in self.schema:
                    if name not in item.except_ and name not in self.star_hidden:   # the column itself, never an alias
                        out.append((name, _StarColumn(E.Identifier(name), name)))
                continue
            untupled = self._untuple(item)
            if untupled is not None:
                out += untupled
                continue
            name = item.name if isinstance(item, E.Alias) else column_name(self._for_naming(item))
            out.append((name, item))
        return out

    def _untuple(self, item):
        """``untuple(t) [AS u]`` -> one SELECT item per element (``tupleElement(t, '1')``, or ``u.1``)."""
        alias = item.name if isinstance(item, E.Alias) else None
        call = item.expr if isinstance(item, E.Alias) else item
        if not (isinstance(call, E.FunctionCall) and call.name == "untuple" and len(call.args) == 1):
            return None
        from mergetree.exec.expression import infer_type

        arg = call.args[0]
        t = infer_type(self.expand(arg), self.types)
        if getattr(t, "kind", None) != "tuple":
            raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument of function untuple: expected Tuple{at(call)}")
        keys = list(t.names) if t.names else [str(i + 1) for i in range(len(t.elements))]
        out = []
        for key in keys:
            name = f"{alias}.{key}" if alias else f"tupleElement({column_name(arg)}, {naming_literal(key)})"
            out.append((name, E.FunctionCall("tupleElement", (arg, E.Literal(key)))))
        return out

    def _for_naming(self, e):
        """ClickHouse names a String parameter by its value (``'ab'``) and others as
        ``_CAST(<internal value>, 'Type')`` (a Date by its day number)."""
        if self.scope is not None:     # joined columns are named as ClickHouse shows them (b.x, y)
            e = self.scope.display_names(e)

        def fn(node):
            if isinstance(node, E.Identifier) and node.table is not None and self.scope is None:
                return _tuple_access_name(node, self.qualifiers)   # t.b, x.t.b: named `t.b` (ClickHouse)
            if isinstance(node, E.TupleElement) and isinstance(node.index, str) and self.scope is None and \
                    isinstance(node.expr, E.Identifier) and node.expr.database is not None:   # x.t.b.c
                return E.Identifier(_tuple_access_name(node.expr, self.qualifiers).name + "." + node.index)
            if not isinstance(node, E.QueryParameter) or node.name not in self.params:
                return None
            from mergetree import types as T
            from mergetree.exec.expression import evaluate_constant
            from mergetree.functions import values as V

            value, t = evaluate_constant(parameter_value(node, self.params))
            if isinstance(V.strip(t), (T.StringType, T.FixedStringType)):
                return E.Literal(value)
            if isinstance(value, _dt.datetime):
                value = int(value.replace(tzinfo=value.tzinfo or _dt.timezone.utc).timestamp())
            elif isinstance(value, _dt.date):
                value = (value - _dt.date(1970, 1, 1)).days
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                value = str(value)
            return E.FunctionCall("_CAST", (E.Literal(value), E.Literal(node.type_name)))

        return transform(e, fn)

    def _collect_aliases(self, items) -> None:
        for _, e in items:
            for node in walk(e):
                if isinstance(node, E.Alias) and not isinstance(node, _StarColumn):
                    self.aliases[node.name] = node.expr

    def _positional(self, e, items, what):
        if isinstance(e, E.Literal) and isinstance(e.value, int) and not isinstance(e.value, bool):
            k = e.value
            if not 1 <= k <= len(items):
                raise IllegalTypeOfArgumentError(f"Positional argument {k} of {what} is out of bounds: "
                                                 f"the SELECT list has {len(items)} items{at(e)}")
            return items[k - 1][1]
        return e

    # ---- the query

    def bind(self, q) -> BoundSelect:
        items = self._select_items(self._number_subqueries(q.select))
        self._collect_aliases(items)
        for g in q.group_by:    # `GROUP BY expr AS k`: k is visible in the whole SELECT too
            for node in walk(g):
                if isinstance(node, E.Alias) and node.name not in self.aliases:
                    self.aliases[node.name] = node.expr
        b = BoundSelect(source_names=[n for n, _ in self.schema])
        b.distinct = q.distinct
        b.where = self._no_aggregates(self.expand(q.where), "WHERE") if q.where is not None else None
        b.prewhere = self._no_aggregates(self.expand(q.prewhere), "PREWHERE") if q.prewhere is not None else None
        if q.group_by_modifier not in (None, "ROLLUP", "CUBE", "GROUPING SETS"):
            raise IllegalTypeOfArgumentError(f"GROUP BY {q.group_by_modifier} is not supported yet")
        _unsupported_clauses(q)
        keys = []
        for g in G.group_by_items(q):
            k = self._no_aggregates(self.expand(self._positional(g, items, "GROUP BY")), "GROUP BY")
            if k not in keys:
                keys.append(k)
        outputs = [(name, self.expand(e)) for name, e in items]
        order = [(self.expand(self._positional(o.expr, items, "ORDER BY")), o.desc, o.nulls == "FIRST")
                 for o in q.order_by]
        having = self.expand(q.having) if q.having is not None else None
        qualify = self.expand(q.qualify) if q.qualify is not None else None
        outputs, order, qualify = W.resolve_named_windows(q, outputs, order, qualify)
        W.check_no_windows([b.where, b.prewhere, having] + keys, "WHERE, GROUP BY or HAVING")
        limit_by = None
        if q.limit_by is not None:
            limit_by = (_int_literal(q.limit_by.limit, "LIMIT BY"), _int_literal(q.limit_by.offset, "OFFSET") or 0,
                        [self.expand(self._positional(x, items, "LIMIT BY")) for x in q.limit_by.by])
        if q.distinct_on:                      # DISTINCT ON (a, b) = LIMIT 1 BY a, b
            limit_by = O.distinct_on(self, q, items, limit_by)
        b.limit = _int_literal(q.limit, "LIMIT")
        b.offset = _int_literal(q.offset, "OFFSET") or 0
        b.fill, b.with_ties = O.fill_items(q), q.with_ties

        post = [e for _, e in outputs] + [e for e, _, _ in order] + ([having] if having is not None else []) + \
            (limit_by[2] if limit_by else []) + ([qualify] if qualify is not None else [])
        slots: dict = {}
        for e in post:
            self._find_aggregates(e, slots, b)
        b.aggregating = bool(keys) or bool(slots) or having is not None
        G.check_totals(q, b.aggregating)
        if not b.aggregating:
            b.outputs, b.order = outputs, order
            b.limit_by = limit_by
            b.qualify = qualify
            return W.extract_windows(b)
        b.keys = keys
        key_slots = {k: f"__key{i}" for i, k in enumerate(keys)}
        rw = lambda e: self._post_aggregate(e, key_slots, slots)  # noqa: E731
        b.outputs = [(n, rw(e)) for n, e in outputs]
        b.order = [(rw(e), d, nf) for e, d, nf in order]
        b.having = rw(having) if having is not None else None
        b.limit_by = (limit_by[0], limit_by[1], [rw(x) for x in limit_by[2]]) if limit_by else None
        b.qualify = rw(qualify) if qualify is not None else None
        b.grouping_sets, b.totals = G.bind_sets(self, q, items, keys), q.with_totals
        G.extract_grouping(b)
        return W.extract_windows(b)

    # ---- aggregates

    def _no_aggregates(self, e, where: str):
        for node in walk(e):
            if isinstance(node, E.FunctionCall) and node.over is None and is_aggregate(node.name):
                raise IllegalAggregationError(f"Aggregate function {column_name(node)} is found in {where} "
                                              f"in query{at(node)}")
        return e

    def _find_aggregates(self, e, slots: dict, b: BoundSelect) -> None:
        for node in walk(e):
            if not (isinstance(node, E.FunctionCall) and node.over is None and is_aggregate(node.name)):
                continue
            if node in slots:
                continue
            for a in node.args + node.params:
                self._no_aggregates(a, f"argument of aggregate function {node.name}")
            name = node.name
            if node.distinct:
                name = "uniqExact" if name.lower() == "count" else name + "Distinct"
            arg_types = [expr_type(a, self.types) for a in node.args]
            params = tuple(p.value if isinstance(p, E.Literal) else p for p in node.params)
            try:
                fn = get_aggregate(name, arg_types, params)
            except Exception as err:
                raise with_position(err, node)
            slot = f"__agg{len(slots)}"
            slots[node] = slot
            b.aggregates.append(AggregateSlot(slot, fn, list(node.args), column_name(node)))

    def _post_aggregate(self, e, key_slots: dict, agg_slots: dict, scope: frozenset = frozenset()):
        def fn(node):
            if node in key_slots:
                return E.Identifier(key_slots[node], span=getattr(node, "span", None))
            if node in agg_slots:
                return E.Identifier(agg_slots[node], span=getattr(node, "span", None))
            if isinstance(node, E.Lambda):
                body = self._post_aggregate(node.body, key_slots, agg_slots, scope | set(node.params))
                return E.Lambda(node.params, body, span=node.span)
            if isinstance(node, E.Identifier) and node.table is None and node.name in scope:
                return node
            if isinstance(node, E.Identifier):
                raise with_position(NotAnAggregateError(
                    f"Column '{node.name}' is not under aggregate function and not in GROUP BY keys"), node)
            return None

        return transform(e, fn)
