"""``[LEFT] ARRAY JOIN expr [AS alias], ..`` and ``arrayJoin(expr)`` in the SELECT list.

ClickHouse's names: ``ARRAY JOIN arr`` makes ``arr`` the element in the rest of the query;
``ARRAY JOIN arr AS x`` adds ``x`` (the element) and ``arr`` stays the array; an expression needs an
alias (``ARRAY JOIN [1, 2] AS e``). ``arrayJoin(e)`` anywhere in SELECT / WHERE is rewritten to an
ARRAY JOIN of ``e`` (one per distinct call, one after the other: two calls give every combination),
keeping the item's result name.
"""

from __future__ import annotations

from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast import query as Q

from mergetree import types as T
from mergetree.errors import IllegalTypeOfArgumentError, TypeMismatchError
from mergetree.planner import logical as L
from mergetree.planner.binder import at
from mergetree.planner.naming import column_name
from mergetree.planner.rewrite import transform, walk


def plan_array_join(planner, plan, lmap: dict, scope, aj: Q.ArrayJoin, binder_factory):
    """(plan, internal name -> column of plan) after the ARRAY JOIN."""
    from mergetree.planner.joins import _rename

    types = plan.types()
    schema = [(k, types[v]) for k, v in lmap.items()]
    binder = binder_factory(schema, scope)
    exprs, arrays, lmap = [], [], dict(lmap)
    for i, item in enumerate(aj.items):
        alias = item.name if isinstance(item, E.Alias) else None
        e = item.expr if isinstance(item, E.Alias) else item
        bound = binder.expand(e)
        if alias is None and not isinstance(bound, E.Identifier):
            raise IllegalTypeOfArgumentError(f"ARRAY JOIN of an expression needs an alias: {column_name(e)}{at(item)}")
        src = f"__aj{len(scope.internal)}_{i}"
        expr = _rename(bound, lmap)
        exprs.append((src, expr))
        if alias is None:           # `ARRAY JOIN arr`: the name now reads the element
            out = bound.name
        else:
            out = scope._unique(alias)
            scope.array_join[alias] = out
            scope._display = None
        arrays.append((out, src))
    plan = planner._expression(plan, exprs)
    types = plan.types()
    for (out, src), (_, e) in zip(arrays, exprs):
        if not isinstance(types[src], T.ArrayType):
            raise TypeMismatchError(f"ARRAY JOIN requires an array argument, got {types[src]} ({column_name(e)})")
    node_arrays = []
    for out, src in arrays:
        if out in lmap:            # replaced in place: the element takes the internal name
            node_arrays.append((lmap[out], src))
        else:
            node_arrays.append((out, src))
            lmap[out] = out
    return L.ArrayJoin(plan, node_arrays, aj.left), lmap


def rewrite_array_join_calls(q):
    """Select with ``arrayJoin(e)`` calls in SELECT / WHERE / PREWHERE -> Select with an ARRAY JOIN
    (aliases ``__arrayJoin_N``), or `q` unchanged."""
    calls: dict = {}
    for part in [p for p in list(q.select) + [q.where, q.prewhere] if p is not None]:
        for node in walk(part):
            if isinstance(node, E.FunctionCall) and node.name == "arrayJoin" and len(node.args) == 1 \
                    and node not in calls:
                calls[node] = f"__arrayJoin_{len(calls)}"
    if not calls:
        return q

    def fn(node):
        if isinstance(node, E.FunctionCall) and node in calls:
            return E.Identifier(calls[node], span=node.span)
        return None

    select = []
    for item in q.select:
        new = transform(item, fn)
        if new is not item and not isinstance(item, E.Alias) and not isinstance(item, E.Star):
            new = E.Alias(new, column_name(item))
        select.append(new)
    # each call is its own ARRAY JOIN after the FROM's joins: two calls give every combination
    extra = tuple(Q.ArrayJoin((E.Alias(c.args[0], name),), False) for c, name in calls.items())
    import dataclasses

    return dataclasses.replace(q, select=tuple(select), where=transform(q.where, fn) if q.where is not None else None,
                               prewhere=transform(q.prewhere, fn) if q.prewhere is not None else None,
                               joins=tuple(q.joins) + extra)
