"""ROLLUP, CUBE, GROUPING SETS, grouping() and WITH TOTALS in the binder and the planner.

Binder hooks (planner/binder.py):
- `group_by_items(q)`: the GROUP BY expressions of every form (the union of all grouping sets).
- `bind_sets(binder, q, items, keys)`: each grouping set as the indexes of its keys (ROLLUP(a, b) is
  (a, b), (a), (); CUBE is every subset; GROUPING SETS as written), None for a plain GROUP BY.
- `extract_grouping(b)`: ``grouping(k1, ..)`` -> column ``__grouping{i}`` (a bit per argument, most
  significant first, 1 when the key is rolled up in the row's set, as ClickHouse 26.x).

Planner hook `plan_grouping`: the Aggregate becomes a GroupingAggregate (exec/totals.py) that
aggregates every set, fills the keys missing from a set with their type's default (NULL with
``group_by_use_nulls = 1``), applies HAVING, and computes the WITH TOTALS row (``totals_mode``
'after_having_exclusive' by default: only the rows of groups that pass HAVING; 'before_having': all).
The totals row goes through the SELECT expressions after execution (`exec.totals.finish_totals`).
"""

from __future__ import annotations

import itertools

from sqlparse_ch.ast import expr as E

from mergetree.errors import BadArgumentsError, NotImplementedSQLError
from mergetree.planner.rewrite import transform

#: more sets than this is a mistake (CUBE of 13+ keys)
MAX_SETS = 4096


def group_by_items(q) -> list:
    if q.group_by_modifier == "GROUPING SETS":
        out = []
        for s in q.group_by:
            for e in (s.items if isinstance(s, E.Tuple) else (s,)):
                if e not in out:
                    out.append(e)
        return out
    return list(q.group_by)


class GroupingSets(list):
    """The sets as key index lists, remembering the clause they come from (`modifier`)."""

    modifier: str | None = None


def bind_sets(binder, q, items, keys: list) -> list | None:
    sets = _bind_sets(binder, q, items, keys)
    if sets is None:
        return None
    out = GroupingSets(sets)
    out.modifier = q.group_by_modifier
    return out


def _bind_sets(binder, q, items, keys: list) -> list | None:
    mod = q.group_by_modifier
    n = len(keys)
    if mod is None:
        return None
    if mod in ("ROLLUP", "CUBE") and q.with_totals and q.having is not None:
        raise NotImplementedSQLError("WITH TOTALS and WITH ROLLUP or CUBE are not supported together in presence "
                                     "of HAVING")
    if mod == "ROLLUP":
        return [list(range(k)) for k in range(n, -1, -1)]
    if mod == "CUBE":
        if n > 12:
            raise BadArgumentsError(f"Too many keys for CUBE: {n} (at most 12)")
        return [list(c) for k in range(n, -1, -1) for c in itertools.combinations(range(n), k)]
    if mod == "GROUPING SETS":
        if q.with_totals and len(q.group_by) > 1:     # (one set is a plain GROUP BY)
            raise NotImplementedSQLError("WITH TOTALS and GROUPING SETS are not supported together")
        sets = []
        for s in q.group_by:
            idx = []
            for e in (s.items if isinstance(s, E.Tuple) else (s,)):
                k = binder.expand(binder._positional(e, items, "GROUP BY"))
                j = keys.index(k)
                if j not in idx:
                    idx.append(j)
            sets.append(sorted(idx))
        if len(sets) > MAX_SETS:
            raise BadArgumentsError(f"Too many grouping sets: {len(sets)}")
        return sets
    raise NotImplementedSQLError(f"GROUP BY {mod} is not supported yet")


def extract_grouping(b) -> None:
    """``grouping(__key_i, ..)`` calls -> ``__grouping{j}`` columns; b.grouping_calls [(name, [key names])]."""
    calls: dict = {}

    def fn(node):
        if isinstance(node, E.FunctionCall) and node.name.lower() == "grouping" and node.over is None:
            names = []
            for a in node.args:
                if not (isinstance(a, E.Identifier) and a.name.startswith("__key")):
                    raise BadArgumentsError("Arguments of the 'grouping' function must be GROUP BY keys")
                names.append(a.name)
            if not names:
                raise BadArgumentsError("Function 'grouping' requires at least one argument")
            key = tuple(names)
            if key not in calls:
                calls[key] = f"__grouping{len(calls)}"
            return E.Identifier(calls[key], span=node.span)
        return None

    b.outputs = [(n, transform(e, fn)) for n, e in b.outputs]
    b.order = [(transform(e, fn), d, nf) for e, d, nf in b.order]
    if b.having is not None:
        b.having = transform(b.having, fn)
    if b.qualify is not None:
        b.qualify = transform(b.qualify, fn)
    if b.limit_by is not None:
        b.limit_by = (b.limit_by[0], b.limit_by[1], [transform(x, fn) for x in b.limit_by[2]])
    b.grouping_calls = [(name, list(key)) for key, name in calls.items()]
    if calls and b.grouping_sets is None:
        b.grouping_sets = [list(range(len(b.keys)))]


def check_totals(q, aggregating: bool) -> None:
    if q.with_totals and not aggregating:
        raise NotImplementedSQLError("WITH TOTALS needs GROUP BY or aggregate functions (no totals of plain rows)")


def needs_grouping(b) -> bool:
    return b.grouping_sets is not None or b.totals


def plan_grouping(plan, b, settings: dict | None = None):
    """Replace the Aggregate `plan` by a GroupingAggregate (HAVING included)."""
    from mergetree.planner import logical as L
    from mergetree.planner.planner import _check_filter

    settings = settings or {}
    keys = plan.keys
    sets = [[keys[i] for i in s] for s in (b.grouping_sets or [list(range(len(keys)))])]
    use_nulls = bool(_truthy(settings.get("group_by_use_nulls", 0))) and b.grouping_sets is not None
    mode = str(settings.get("totals_mode", "after_having_exclusive"))
    if mode not in ("after_having_exclusive", "after_having_inclusive", "after_having_auto", "before_having"):
        raise BadArgumentsError(f"Unknown totals_mode: '{mode}'")
    node = L.GroupingAggregate(plan.child, keys, plan.aggregates, sets, b.grouping_calls, None,
                               b.totals, mode, use_nulls)
    # group_by_use_nulls: ClickHouse's totals row has NULL keys after GROUPING SETS, defaults after ROLLUP/CUBE
    node.null_totals_keys = getattr(b.grouping_sets, "modifier", None) == "GROUPING SETS"
    if b.having is not None:
        _check_filter(b.having, node.types(), "HAVING")
        node.having = b.having
    return node


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true")
    return bool(v)
