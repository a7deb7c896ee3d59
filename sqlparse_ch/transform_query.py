"""Tree -> AST for SELECT and set operations (callbacks of query.lark)."""
from __future__ import annotations

from lark import Token

from .ast.expr import (
    Alias, FunctionCall, Identifier, OrderItem, QueryParameter, Star, Subquery, Tuple,
)
from .ast.query import (
    ArrayJoin, CTE, Join, LimitBy, NamedWindow, Sample, Select, SetOperation, Setting,
    TableExpr, TableName,
)
from .transform_expr import TransformError, _none, join_spans, span_of


def _query_of(node, what: str = "a query"):
    if isinstance(node, Subquery):
        return node.query
    raise TransformError(f"expected {what} in parentheses, found an expression", span_of(node))


class QueryTransformer:
    """Callbacks for query.lark. Mixed into the full transformer."""

    def query_paren(self, c):
        return _query_of(c[0])

    def union_op(self, c):
        return " ".join(str(t).upper() for t in c)

    def set_union(self, c):
        left, op, right = c
        return SetOperation(op, left, right, None, join_spans(left, right))

    def set_intersect(self, c):
        left, right = c[0], c[-1]
        op = "INTERSECT DISTINCT" if len(c) == 4 else "INTERSECT"
        return SetOperation(op, left, right, None, join_spans(left, right))

    # ---- SELECT ----
    o_with = o_distinct = o_from = o_prewhere = o_where = o_group_by = o_having = _none
    o_window = o_qualify = o_order_by = o_settings = _none

    def select_query(self, c):
        (with_, select_tok, distinct, items, from_, prewhere, where, group_by, having,
         window, qualify, order_by, limits, settings) = c
        fields = {"select": items}
        if with_:
            fields["with_"] = with_
        if distinct:
            fields["distinct"], fields["distinct_on"] = distinct
        if from_:
            fields.update(from_)
        if prewhere is not None:
            fields["prewhere"] = prewhere
        if where is not None:
            fields["where"] = where
        if group_by:
            fields["group_by"], fields["group_by_modifier"], fields["with_totals"] = group_by
        if having is not None:
            fields["having"] = having
        if window:
            fields["window"] = window
        if qualify is not None:
            fields["qualify"] = qualify
        if order_by:
            items_, fetch, interpolate = order_by
            fields["order_by"] = items_
            if interpolate is not None:
                fields["interpolate"] = interpolate
            if fetch:
                fields["offset"], fields["limit"], fields["with_ties"] = fetch
        if limits:
            limit_by, limit = limits
            if limit_by is not None:
                fields["limit_by"] = limit_by
            if limit is not None:
                if "limit" in fields or "offset" in fields:
                    raise TransformError("LIMIT after OFFSET .. FETCH", span_of(limit[0]))
                fields["limit"], fields["offset"], fields["with_ties"] = limit
        if settings:
            fields["settings"] = settings
        last = items[-1]
        return Select(**fields, span=join_spans(with_[0] if with_ else select_tok, last))

    def with_clause(self, c):
        return tuple(c[1:])

    def with_alias(self, c):
        return Alias(c[0], str(c[2]), join_spans(c[0], c[2]))

    def with_cte(self, c):
        name, sub = c[0], c[2]
        if not (isinstance(name, Identifier) and name.table is None):
            raise TransformError("a WITH subquery needs a plain name: WITH name AS (SELECT ..)",
                                 span_of(name))
        return CTE(name.name, _query_of(sub, "a subquery"), join_spans(name, sub))

    def distinct(self, c):
        return (True, ())

    def distinct_on(self, c):
        return (True, tuple(c[2:]))

    def distinct_all(self, c):
        return (False, ())

    def select_items(self, c):
        return tuple(c)

    # ---- FROM ----
    def from_clause(self, c):
        joins = []
        array_join = None
        for part in c[2:]:
            if isinstance(part, ArrayJoin) and array_join is None and all(
                    j.kind == "COMMA" for j in joins):
                array_join = part
            else:  # a later ARRAY JOIN keeps its place among the joins
                joins.append(part)
        out = {"from_": c[1]}
        if joins:
            out["joins"] = tuple(joins)
        if array_join is not None:
            out["array_join"] = array_join
        return out

    def table_expr(self, c):
        source = c[0]
        if type(source) not in (TableName, FunctionCall, Subquery, QueryParameter):
            raise TransformError("expected a table, table function or subquery", span_of(source))
        alias = None
        final = False
        sample = None
        for part in c[1:]:
            if isinstance(part, Sample):
                sample = part
            elif part is True:
                final = True
            else:
                alias = part
        return TableExpr(source, alias, final, sample, span_of(source))

    def table_alias(self, c):
        return str(c[-1])

    def final(self, c):
        return True

    def sample_clause(self, c):
        return Sample(c[1], c[3] if len(c) > 2 else None, span_of(c[0]))

    def comma_join(self, c):
        return Join("COMMA", c[0], span=span_of(c[0]))

    def array_join_clause(self, c):
        left = str(c[0]).upper() == "LEFT"
        items = tuple(c[3:] if left else c[2:])
        return ArrayJoin(items, left, span_of(c[0]))

    def join_clause(self, c):
        (kind, strictness, global_), table = c[0], c[1]
        on = None
        using: tuple = ()
        if len(c) > 2:
            key, value = c[2]
            if key == "on":
                on = value
            else:
                using = value
        if kind is None:
            kind = "INNER"
        return Join(kind, table, strictness, global_, on, using, span_of(table))

    def join_op(self, c):
        global_ = isinstance(c[0], Token) and c[0].type == "GLOBAL_JOIN"
        spec = next((x for x in c if isinstance(x, tuple)), (None, None))
        return spec + (global_,)

    def join_spec(self, c):
        kind = strictness = None
        for tok in c:
            word = str(tok).upper()
            if word == "OUTER":
                continue
            if word in ("INNER", "LEFT", "RIGHT", "FULL", "CROSS", "PASTE"):
                kind = word
            else:
                strictness = word
        return (kind, strictness)

    def join_strictness(self, c):
        return c[0]

    join_kind = join_strictness

    def join_on(self, c):
        return ("on", c[1])

    def join_using(self, c):
        return ("using", c[1])

    # ---- WHERE .. ----
    def prewhere_clause(self, c):
        return c[1]

    where_clause = having_clause = qualify_clause = prewhere_clause

    def group_by_clause(self, c):
        items, modifier = c[2]
        totals = False
        for mod in c[3:]:
            if mod == "TOTALS":
                totals = True
            elif modifier is None:
                modifier = mod
            else:
                raise TransformError(f"GROUP BY cannot have both {modifier} and {mod}", None)
        return (items, modifier, totals)

    def totals_only(self, c):
        """`SELECT count() FROM t WITH TOTALS`: totals without GROUP BY keys."""
        return ((), None, True)

    def group_exprs(self, c):
        return (tuple(c), None)

    def group_rollup(self, c):
        return (tuple(c[1:]), "ROLLUP")

    def group_cube(self, c):
        return (tuple(c[1:]), "CUBE")

    def group_sets(self, c):
        sets = []
        for item in c[2:]:
            if isinstance(item, Tuple):
                sets.append(item)
            else:
                sets.append(Tuple((item,), span_of(item)))
        return (tuple(sets), "GROUPING SETS")

    def group_all(self, c):
        return ((), "ALL")

    def group_modifier(self, c):
        return str(c[1]).upper()

    def window_clause(self, c):
        return tuple(c[1:])

    def named_window(self, c):
        return NamedWindow(str(c[0]), c[2], span_of(c[0]))

    def order_by_clause(self, c):
        interpolate = next((x[1] for x in c[3:] if x[0] == "interpolate"), None)
        fetch = next((x for x in c[3:] if x[0] != "interpolate"), None)
        return (c[2], fetch, interpolate)

    def order_by_all(self, c):
        desc = next((x[1] for x in c[3:] if x[0] == "dir"), False)
        rest = [x for x in c[3:] if x[0] != "dir"]
        item = OrderItem(Star(span=span_of(c[2])), desc, span=span_of(c[2]))
        return self.order_by_clause([c[0], c[1], (item,)] + rest)

    def interpolate(self, c):
        return ("interpolate", tuple(c[1:]))

    def interpolate_column(self, c):
        return Identifier(str(c[0]), span=span_of(c[0]))

    def interpolate_alias(self, c):
        return Alias(c[2], str(c[0]), span_of(c[0]))

    def offset_fetch(self, c):
        offset = c[1]
        limit = None
        ties = False
        rest = [x for x in c[2:] if not (isinstance(x, str) and x in ("ROW", "ROWS"))]
        if rest:
            # FETCH, FIRST|NEXT, expr, ONLY|WITH TIES
            limit = rest[2]
            ties = rest[3] == "WITH TIES"
        return (offset, limit, ties)

    def row_word(self, c):
        return str(c[0]).upper()

    def fetch_first(self, c):
        return str(c[0]).upper()

    def fetch_tail(self, c):
        return " ".join(str(t).upper() for t in c)

    def limits_none(self, c):
        return None

    def limits(self, c):
        limit_by = limit = None
        for part in c:
            if isinstance(part, LimitBy):
                limit_by = part
            else:
                limit = part
        return (limit_by, limit)

    def limit_by_clause(self, c):
        limit, offset = c[1]
        return LimitBy(limit, tuple(c[3:]), offset, span_of(c[0]))

    def limit_clause(self, c):
        limit, offset = c[1]
        return (limit, offset, len(c) > 2)

    def limit_n(self, c):
        return (c[0], None)

    def limit_offset_comma(self, c):
        return (c[1], c[0])

    def limit_offset(self, c):
        return (c[0], c[2])

    def with_ties(self, c):
        return True

    def settings_clause(self, c):
        return tuple(c[1:])

    def setting(self, c):
        return Setting(str(c[0]), c[2], span_of(c[0]))

    literal_setting = setting

    def format_clause(self, c):
        return str(c[1])

    def format_name(self, c):
        return c[0]
