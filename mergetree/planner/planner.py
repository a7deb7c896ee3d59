"""Planner: a SELECT AST -> logical plan (see logical.py), using the binder for names.

Life of a SELECT (see also mergetree/sql.py):
1. `Planner.plan_query` picks the source (`_source`: table, numbers(), system.one, subquery, CTE).
2. `SelectBinder.bind` resolves names, aliases, positions and aggregates into a BoundSelect.
3. `_build` stacks nodes: Filter(WHERE) -> Expression(keys, aggregate args) -> Aggregate ->
   Filter(HAVING) -> Expression(outputs, sort keys) -> Distinct -> Sort -> LimitBy -> Limit -> Project.
4. `optimizer.optimize` rewrites the tree (filter into scan, top-N, column pruning).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast import query as Q

from mergetree.errors import (IllegalTypeOfArgumentError, MergeTreeError, NotImplementedSQLError, UnknownFunctionError,
                              UnknownTableError)
from mergetree.exec.expression import evaluate_constant, infer_type
from mergetree.planner import logical as L
from mergetree.planner.binder import SelectBinder, at, expr_type, with_position
from mergetree.planner.rewrite import _field_names, and_all, children, has_call, walk


class Planner:
    def __init__(self, db, params: dict | None = None, row_policies: dict | None = None):
        from mergetree.planner import row_policy

        self.db = db
        self.params = params or {}
        #: {table: condition} ANDed into every scan of the table (planner/row_policy.py)
        self.row_policies = row_policies if row_policies is not None else row_policy.current()
        #: a subquery ran while planning (its result is in the plan)
        self.ran_subquery = False

    # ---- sources

    def _source(self, te, ctes: dict):
        if te is None:
            return L.ReadOne(), set()
        src = te.source
        alias = {te.alias} if te.alias else set()
        if te.final:
            _check_final(self.db, src, ctes)
        if isinstance(src, Q.TableName):
            if src.database == "system" and src.name == "one":
                return L.ReadOne(), {"one"} | alias
            if src.database == "system" and src.name in ("numbers", "numbers_mt"):
                return L.ReadNumbers(0, None), {src.name} | alias    # endless: needs a LIMIT
            if src.database is None and src.name in ctes:
                # ClickHouse: a CTE is not visible inside its own body (nor, through a chain, inside
                # the bodies it expands), so `WITH t AS (SELECT .. FROM t)` reads the table t
                sub = self.plan_query(ctes[src.name], {k: v for k, v in ctes.items() if k != src.name})
                sub.check_unique()
                return sub, {src.name} | alias
            if src.database == "system":
                from mergetree.planner.system_tables import system_table

                return L.ReadBlock(system_table(self.db, src.name)), {src.name} | alias
            blocks = getattr(self.db, "block_sources", None)   # views.py: a view's SELECT over one insert
            if blocks and src.database is None and src.name in blocks:
                read = L.ReadBlock(blocks[src.name])
                read.star_hidden = _star_hidden(self.db.table(src.name), getattr(self, "settings", None))
                return read, {src.name} | alias
            # `tinybird.X`: a Tinybird service data source, stored as table `tinybird__X` (server/service_ds.py)
            name = src.name if src.database != "tinybird" else "tinybird__" + src.name
            table = self.db.table(name)
            schema = table.metadata.schema
            scan = L.ReadFromMergeTree(name, table, [n for n, _ in schema], schema, final=te.final)
            if self.row_policies:
                from mergetree.planner.row_policy import apply as apply_row_policy

                scan = apply_row_policy(self, scan, src.name, self.row_policies)
            scan.star_hidden = _star_hidden(table, getattr(self, "settings", None))
            return scan, {src.name} | alias
        if isinstance(src, E.FunctionCall) and src.name.lower() == "numbers":
            args = [evaluate_constant(a)[0] for a in src.args]
            if len(args) == 1:
                return L.ReadNumbers(0, int(args[0])), alias
            if len(args) == 2:
                return L.ReadNumbers(int(args[0]), int(args[1])), alias
            raise IllegalTypeOfArgumentError(f"Table function numbers takes 1 or 2 arguments{at(src)}")
        if isinstance(src, E.Subquery):
            sub = self.plan_query(src.query, ctes)
            sub.check_unique()
            return sub, alias
        if isinstance(src, E.FunctionCall):
            raise UnknownTableError(f"Unknown table function {src.name}{at(src)}")
        raise NotImplementedSQLError(f"FROM {type(src).__name__} is not supported yet")

    # ---- queries

    def plan_query(self, q, ctes: dict | None = None) -> L.PlanNode:
        ctes = dict(ctes or {})
        if isinstance(q, Q.SetOperation):
            return self._set_operation(q, ctes)
        # WITH expressions of enclosing queries are visible in subqueries (ClickHouse's
        # enable_global_with_statement), below the subquery's own columns: kept in `ctes` under
        # ("with", name) keys, which never match a table name
        outer = {k[1]: v for k, v in ctes.items() if isinstance(k, tuple)}
        with_aliases = {}
        for w in q.with_:
            if isinstance(w, Q.CTE):
                ctes[w.name] = w.query
            elif isinstance(w, E.Alias):
                with_aliases[w.name] = w.expr
                ctes[("with", w.name)] = w.expr

        def visible(schema):
            columns = {n.rsplit(".", 1)[-1] for n, _ in schema} | {n for n, _ in schema}
            return {**{k: v for k, v in outer.items() if k not in columns}, **with_aliases}
        if any(has_call(s, "arrayJoin") for s in (*q.select, q.where, q.prewhere) if s is not None):
            from mergetree.planner.array_join import rewrite_array_join_calls

            q = rewrite_array_join_calls(q)
        if q.joins or q.array_join is not None:     # planner/joins.py: joined tables and their names
            from mergetree.planner.joins import plan_from

            def binder_for(schema, scope):
                return SelectBinder(schema, set(), self.params, visible(schema), scope=scope,
                                    run_subquery=lambda sub: self.run_subquery(sub, ctes))

            settings = {**getattr(self, "settings", {}), **{s.name: getattr(s.value, "value", s.value)
                                                            for s in (q.settings or ())}}
            source, scope = plan_from(self, q, ctes, binder_for, settings)
            return self._build(source, binder_for(source.schema, scope).bind(q))
        source, qualifiers = self._source(q.from_, ctes)
        schema = source.schema          # computed down the whole source plan: once
        with_aliases = visible(schema)
        binder = SelectBinder(schema, qualifiers, self.params, with_aliases,
                              run_subquery=lambda sub: self.run_subquery(sub, ctes))
        binder.star_hidden = getattr(source, "star_hidden", ())
        return self._build(source, bind_select(binder, q, schema, qualifiers, with_aliases))

    def _set_operation(self, q, ctes: dict) -> L.PlanNode:
        if q.op not in ("UNION ALL", "UNION DISTINCT", "UNION"):
            raise NotImplementedSQLError(f"{q.op} is not supported yet")
        q = _global_with(q)
        left, right = self.plan_query(q.left, ctes), self.plan_query(q.right, ctes)
        if len(left.columns) != len(right.columns):
            from mergetree.errors import UnionStructuresMismatchError

            raise UnionStructuresMismatchError(
                f"Different number of columns in UNION elements: {len(left.columns)} and {len(right.columns)}")
        names = [f"__u{i}" for i in range(len(left.columns))]
        types = [_common_type(a, b) for (_, a), (_, b) in zip(left.schema, right.schema)]
        plan = L.Union([left, right], names, types)
        if q.op != "UNION ALL":
            plan = L.Distinct(plan, names)
        return L.Project(plan, [(out, n) for (out, _), n in zip(left.columns, names)])

    def run_subquery(self, q, ctes: dict):
        """Execute a scalar / IN subquery now: (schema, columns)."""
        from mergetree.exec.executor import run

        self.ran_subquery = True
        from mergetree.planner.optimizer import optimize

        schema, columns, _ = run(optimize(self.plan_query(q, ctes)))
        return schema, columns

    def _expression(self, child: L.PlanNode, exprs: list) -> L.Expression:
        types = child.types()
        out = {}
        for n, e in exprs:
            try:
                out[n] = expr_type(e, types)
            except UnknownFunctionError as err:   # suggest aggregate names too
                from mergetree.functions.aggregate import aggregate_names
                from mergetree.functions.registry import function_names, suggest

                bad = next((x for x in walk(e) if isinstance(x, E.FunctionCall) and x.name == err.name), e)
                raise with_position(UnknownFunctionError(err.name, suggest(err.name, function_names() +
                                                                           aggregate_names(True))), bad) from None
            except MergeTreeError as err:
                raise with_position(err, e)
        return L.Expression(child, exprs, out)

    def _build(self, source: L.PlanNode, b) -> L.PlanNode:
        plan = source
        where = and_all([b.prewhere, b.where])
        if where is not None:
            _check_filter(where, plan.types(), "WHERE")
            plan = L.Filter(plan, where)
        if b.aggregating:
            exprs = [(f"__key{i}", k) for i, k in enumerate(b.keys)]
            calls = []
            for i, slot in enumerate(b.aggregates):
                names = []
                for j, a in enumerate(slot.args):
                    exprs.append((f"__arg{i}_{j}", a))
                    names.append(f"__arg{i}_{j}")
                calls.append(L.AggregateCall(slot.output, slot.function, names, slot.text))
            if exprs:
                plan = self._expression(plan, exprs)
            plan = L.Aggregate(plan, [f"__key{i}" for i in range(len(b.keys))], calls)
            if b.grouping_sets is not None or b.totals:   # ROLLUP/CUBE/GROUPING SETS/WITH TOTALS (+ HAVING)
                from mergetree.planner.grouping import plan_grouping

                plan = plan_grouping(plan, b, getattr(self, "settings", None))
            elif b.having is not None:
                _check_filter(b.having, plan.types(), "HAVING")
                plan = L.Filter(plan, b.having)
        if b.windows:
            from mergetree.planner.windows import plan_windows

            plan = plan_windows(self, plan, b)
        elif b.qualify is not None:
            from mergetree.planner.windows import plan_qualify

            plan = plan_qualify(plan, b)
        exprs = [(f"__out{i}", e) for i, (_, e) in enumerate(b.outputs)]
        exprs += [(f"__ord{i}", e) for i, (e, _, _) in enumerate(b.order)]
        if b.limit_by is not None:
            exprs += [(f"__lb{i}", e) for i, e in enumerate(b.limit_by[2])]
        plan = self._expression(plan, exprs)
        if b.distinct:
            plan = L.Distinct(plan, [f"__out{i}" for i in range(len(b.outputs))])
        if b.order:
            plan = L.Sort(plan, [L.SortItem(f"__ord{i}", d, nf) for i, (_, d, nf) in enumerate(b.order)])
        if b.limit_by is not None:
            n, off, by = b.limit_by
            plan = L.LimitBy(plan, [f"__lb{i}" for i in range(len(by))], n, off)
        if b.fill:                      # ORDER BY .. WITH FILL after LIMIT BY (planner/ordering.py, exec/fill.py)
            from mergetree.planner.ordering import plan_fill

            plan = plan_fill(plan, b)
        if b.limit is not None or b.offset:
            from mergetree.planner.ordering import plan_limit   # Limit, or LimitWithTies

            plan = plan_limit(plan, b)
        return L.Project(plan, [(name, f"__out{i}") for i, (name, _) in enumerate(b.outputs)])


def _common_type(a, b):
    """ClickHouse's least common supertype (the one `if(cond, a, b)` resolves to)."""
    if a == b:
        return a
    return infer_type(E.FunctionCall("if", (E.Literal(1), E.Identifier("a"), E.Identifier("b"))), {"a": a, "b": b})


def _check_filter(predicate, types: dict, clause: str) -> None:
    """A filter must be a number, Bool, or a Nullable/LowCardinality of one (as ClickHouse)."""
    from mergetree import types as T
    from mergetree.errors import IllegalTypeOfColumnForFilterError
    from mergetree.functions import values as V

    t = predicate_type(predicate, types)
    if V.is_null_type(V.strip_lc(t)):
        return
    if not isinstance(V.strip(t), (T.IntType, T.FloatType, T.BoolType)):
        raise with_position(IllegalTypeOfColumnForFilterError(f"Invalid type for filter in {clause}: {t}"),
                            predicate)


_TYPE_CACHE: OrderedDict = OrderedDict()
_TYPE_CACHE_SIZE = 4096
_type_lock = threading.Lock()
#: functions whose value differs between calls with the same arguments
_VOLATILE = {"now", "now64", "nowinblock", "today", "yesterday", "current_timestamp", "current_date",
             "localtimestamp", "uptime", "serveruuid", "rownumberinblock", "rownumberinallblocks", "blocknumber",
             "blocksize"}
#: functions whose result type depends on their argument types only (never on a constant argument's
#: value): a volatile call (``now()``) may sit below them in a cached expression
_TYPE_ONLY = {"equals", "notequals", "less", "greater", "lessorequals", "greaterorequals", "and", "or", "not"}
_SHIFTS = None       # addDays, subtractDays, ...: x +/- INTERVAL n unit
_TYPE_ONLY_OPS = {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "AND", "OR", "NOT"}


def predicate_type(predicate, types: dict):
    """``infer_type(predicate, types)``, with the type of each AND-ed part cached by the part itself.

    A WHERE binds (and constant-folds: ``now() - INTERVAL toInt32('30') DAY``) only to learn its
    type here, and pipe requests repeat most parts with only a literal changed, so each conjunct's
    type is kept by (conjunct AST, column types); ``and``'s type depends on its argument types only
    (functions/logical.py), so the AND of the cached types is the predicate's type. The parts are
    bound in order, so the first failing part raises the error the whole predicate would. A part
    with a volatile call (``now()``) is cached only where its value cannot reach a type (every call
    above it is a comparison or an interval shift: their types ignore constant values)."""
    if isinstance(predicate, E.BinaryOp) and predicate.op.upper() == "AND":
        parts = _flatten_and(predicate, predicate.op)
        ptypes = [_cached_type(_type_shape(p, types), types) for p in parts]
        try:
            hit = _AND_TYPES.get(tuple(ptypes))     # and()'s type is a function of its argument types
        except TypeError:
            hit = None
        if hit is not None:
            return hit
        names = [f"__p{i}" for i in range(len(parts))]
        t = infer_type(E.FunctionCall("and", tuple(E.Identifier(n) for n in names)), dict(zip(names, ptypes)))
        if len(_AND_TYPES) < 1024:
            _AND_TYPES[tuple(ptypes)] = t
        return t
    return _cached_type(_type_shape(predicate, types), types)


_CMP_OPS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}
_AND_TYPES: dict = {}


def _type_shape(e, types: dict):
    """``col op 'text'`` with `col` a String column has type UInt8 whatever the text (String
    compares with String without conversion, so no value can fail or change the type): typed as
    ``col op ''``, so a pipe's ``user_id = {{String(user_id)}}`` hits the type cache for every user.
    Anything else is returned as is."""
    if e.__class__ is not E.BinaryOp or e.op not in _CMP_OPS:
        return e
    left, right = e.left, e.right
    if left.__class__ is E.Literal and right.__class__ is E.Identifier:
        left, right = right, left
        swap = True
    else:
        swap = False
    if left.__class__ is not E.Identifier or left.table is not None or right.__class__ is not E.Literal \
            or right.value.__class__ is not str or right.value == "":
        return e
    from mergetree import types as T

    if types.get(left.name) != T.String:
        return e
    import dataclasses

    blank = dataclasses.replace(right, value="")
    return dataclasses.replace(e, left=blank) if swap else dataclasses.replace(e, right=blank)


def _flatten_and(e, op):       # as exec/expression.py's _Binder._flatten
    if isinstance(e, E.BinaryOp) and e.op == op:
        return _flatten_and(e.left, op) + _flatten_and(e.right, op)
    return [e]


def _cached_type(e, types: dict):
    key = (e, tuple(types.items()))
    try:
        with _type_lock:
            t = _TYPE_CACHE.get(key)
            if t is not None:
                _TYPE_CACHE.move_to_end(key)
                return t
    except TypeError:            # unhashable (a list somewhere in the tree)
        return infer_type(e, types)
    t = infer_type(e, types)
    if _cacheable(e, True):      # only cacheable parts are ever stored: a hit above is one of them
        with _type_lock:
            _TYPE_CACHE[key] = t
            if len(_TYPE_CACHE) > _TYPE_CACHE_SIZE:
                _TYPE_CACHE.popitem(last=False)
    return t


def _cacheable(e, type_only_above: bool) -> bool:
    """False when a volatile call sits below a call whose type may depend on a constant's value."""
    from mergetree.exec.expression import _TO_INTERVAL
    from mergetree.functions.datetime import INTERVAL_UNITS, interval_function

    global _SHIFTS
    if _SHIFTS is None:
        _SHIFTS = {interval_function(u, s) for u in INTERVAL_UNITS for s in (False, True)}
    if isinstance(e, E.FunctionCall):
        name = e.name.lower()
        if name in _VOLATILE or name.startswith(("rand", "generate")):
            if not type_only_above:
                return False
        above = type_only_above and (name in _TYPE_ONLY or e.name in _TO_INTERVAL or e.name in _SHIFTS)
    elif isinstance(e, E.BinaryOp):
        op = e.op.upper()
        above = type_only_above and (op in _TYPE_ONLY_OPS or (op in ("+", "-") and (
            isinstance(e.right, E.Interval) or isinstance(e.left, E.Interval))))
    elif isinstance(e, E.UnaryOp):
        above = type_only_above and e.op.upper() == "NOT"
    else:
        above = type_only_above and isinstance(e, E.Interval)
    return all(_cacheable(c, above) for c in children(e))


_BIND_CACHE: OrderedDict = OrderedDict()
_BIND_CACHE_SIZE = 1024
_bind_lock = threading.Lock()


def _star_hidden(table, settings=None) -> frozenset:
    """A table's columns that `*` leaves out: MATERIALIZED ones (ClickHouse's
    asterisk_include_materialized_columns = 0); `SELECT *, m` and `t.m` still read them."""
    if settings and str(settings.get("asterisk_include_materialized_columns", 0)).lower() in ("1", "true"):
        return frozenset()
    return frozenset([c.name for c in table.metadata.columns if c.default_kind == "MATERIALIZED"])


def bind_select(binder, q, schema, qualifiers, with_aliases: dict):
    """``binder.bind(q)``, reused for the same SELECT over the same subquery columns.

    A pipe's later nodes (``SELECT .. FROM earlier_node GROUP BY ..``) are the same text on every
    request while only the subquery below them changes, and binding does not look at the FROM
    source beyond its columns: the key is the SELECT without its FROM, the source's (name, type)
    list and the table qualifiers. Only SELECTs whose binding depends on nothing else are stored
    (checked on a miss, so a hit is one of them): no query parameters, subqueries (they run while
    binding), ``IN table``, CTEs, outer WITH aliases or volatile calls; and only results without
    windows, grouping sets, totals or WITH FILL. A hit returns a copy (lists and aggregate slots
    new; ASTs and resolved aggregate functions, which are immutable, shared). SELECTs straight
    from a table are not looked up: their WHERE usually carries the request's values."""
    if with_aliases or not isinstance(q, Q.Select) or q.from_ is None or not isinstance(q.from_.source, E.Subquery) \
            or q.with_ or q.joins or q.array_join is not None:
        return binder.bind(q)
    global _SELECT_FIELDS
    if _SELECT_FIELDS is None:
        _SELECT_FIELDS = tuple(n for n in _field_names(Q.Select) if n != "from_")
    key = (tuple([getattr(q, n) for n in _SELECT_FIELDS]), tuple(schema), frozenset(qualifiers),
           frozenset(getattr(binder, "star_hidden", ()) or ()))     # columns `*` leaves out
    try:
        with _bind_lock:
            b = _BIND_CACHE.get(key)
            if b is not None:
                _BIND_CACHE.move_to_end(key)
    except TypeError:          # unhashable (a list somewhere in the tree)
        return binder.bind(q)
    if b is not None:
        return _copy_bound(b)
    b = binder.bind(q)
    if _bind_depends_on_select_only(q) and not (b.windows or b.grouping_sets is not None or b.grouping_calls
                                                or b.fill or b.totals):
        with _bind_lock:
            _BIND_CACHE[key] = _copy_bound(b)
            if len(_BIND_CACHE) > _BIND_CACHE_SIZE:
                _BIND_CACHE.popitem(last=False)
    return b


_SELECT_FIELDS = None


def _bind_depends_on_select_only(q) -> bool:
    import dataclasses

    for n in walk(dataclasses.replace(q, from_=None)):
        if isinstance(n, (E.QueryParameter, E.Subquery, Q.CTE)):
            return False
        if isinstance(n, E.InList) and not isinstance(n.values, tuple):
            return False
        if isinstance(n, E.FunctionCall):
            name = n.name.lower()
            if name in _VOLATILE or name.startswith(("rand", "generate")):
                return False
    return True


def _copy_bound(b):
    import copy
    import dataclasses

    out = copy.copy(b)
    out.source_names = list(b.source_names)
    out.keys = list(b.keys)
    out.aggregates = [dataclasses.replace(a, args=list(a.args)) for a in b.aggregates]
    out.outputs = list(b.outputs)
    out.order = list(b.order)
    out.limit_by = (b.limit_by[0], b.limit_by[1], list(b.limit_by[2])) if b.limit_by is not None else None
    out.windows, out.grouping_calls, out.fill = [], [], []
    return out


def plan_select(db, q, params: dict | None = None, disabled_rules=(), settings: dict | None = None) -> L.PlanNode:
    """Plan and optimize a Select / SetOperation AST (`settings`: those that change the plan, such
    as join_use_nulls)."""
    from mergetree.planner.optimizer import optimize
    from mergetree.planner.prepared import plan_prepared

    def plan_full(stmt):
        planner = Planner(db, params)
        planner.settings = dict(settings or {})
        plan = optimize(planner.plan_query(stmt), disabled_rules)
        if planner.ran_subquery:          # its result is in the plan: never prepared (planner/prepared.py)
            plan._ran_subquery = True
        return L.freeze(plan)

    return plan_prepared(db, q, params, disabled_rules, settings, plan_full)


def _global_with(q):
    """ClickHouse's ``enable_global_with_statement`` (on by default): the WITH of a union's first
    SELECT applies to every SELECT of the union (``WITH t AS (..) SELECT .. FROM t UNION ALL SELECT
    .. FROM t`` reads the CTE twice); a later SELECT's own WITH items come after, so they win."""
    import dataclasses

    first = q.left
    while isinstance(first, Q.SetOperation):
        first = first.left
    if not first.with_:
        return q

    def apply(node):
        if isinstance(node, Q.SetOperation):
            return dataclasses.replace(node, left=apply(node.left), right=apply(node.right))
        return dataclasses.replace(node, with_=(*first.with_, *node.with_))

    return dataclasses.replace(q, right=apply(q.right))


def _check_final(db, src, ctes: dict) -> None:
    """`FROM x FINAL` as ClickHouse checks it: only a merging engine (Replacing/Summing/Aggregating/
    Collapsing...) takes FINAL; a plain MergeTree or a table function is ILLEGAL_FINAL, a subquery or
    CTE is UNSUPPORTED_METHOD (the `final` setting, by contrast, skips such tables silently)."""
    from mergetree.errors import IllegalFinalError, UnsupportedMethodError

    if isinstance(src, E.Subquery) or (isinstance(src, Q.TableName) and src.database is None
                                       and src.name in ctes):
        raise UnsupportedMethodError(f"Table expression modifiers FINAL are not supported for subquery{at(src)}")
    if isinstance(src, E.FunctionCall):
        raise IllegalFinalError(f"Table function {src.name} doesn't support FINAL{at(src)}")
    if not isinstance(src, Q.TableName):
        return
    if src.database == "system":
        raise IllegalFinalError(f"Storage system.{src.name} doesn't support FINAL{at(src)}")
    blocks = getattr(db, "block_sources", None)
    if blocks and src.database is None and src.name in blocks:
        return
    try:
        engine = db.table(src.name).metadata.engine_name
    except MergeTreeError:
        return  # the unknown table is reported where it is read
    if engine == "MergeTree":
        raise IllegalFinalError(f"Storage MergeTree doesn't support FINAL (table {src.name}){at(src)}")
