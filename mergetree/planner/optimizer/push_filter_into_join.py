"""Move WHERE conjuncts that read one side of a join below the join, onto that side's input
(where `push_filter_into_scan` can then turn them into the side's key condition).

Only for a side whose rows pass through the join unchanged: the left side of INNER / LEFT / CROSS
joins (any strictness), the right side of INNER / RIGHT / CROSS joins (not ASOF: the closest row
must be chosen among all). ANY INNER filters before choosing, as ClickHouse does (checked with
chDB): the one case where switching this rule off changes a result. Never for the side a LEFT / RIGHT / FULL join extends with defaults or NULLs, and only when
the column keeps its type through the join.

Before: ``Filter and(equals(a.k, 1), equals(b.v, 2)) <- Join INNER ALL <- [scan a, scan b]``;
after: ``Join <- [Filter equals(k, 1) <- scan a, Filter equals(v, 2) <- scan b]``.
Also through ARRAY JOIN (conjuncts that do not read the array elements) and through the Project
that renames a table's columns to their joined names.
"""

from __future__ import annotations

from sqlparse_ch.ast import expr as E

from mergetree.planner import logical as L
from mergetree.planner.rewrite import and_all, identifiers, transform, walk

#: functions whose value differs per call: a filter on them must stay where it is
_VOLATILE = {"rand", "rand32", "rand64", "randconstant", "generateuuidv4", "now", "now64", "arrayjoin",
             "rownumberinblock", "blocknumber", "rowNumberInAllBlocks".lower()}


def apply(plan: L.PlanNode) -> L.PlanNode:
    if isinstance(plan, (L.Join, L.Union)):
        plan.children = [apply(c) for c in plan.children]
    elif hasattr(plan, "child"):
        plan.child = apply(plan.child)
    if isinstance(plan, L.Filter) and isinstance(plan.child, L.Join):
        return _push(plan)
    if isinstance(plan, L.Filter) and isinstance(plan.child, (L.ArrayJoin, L.Project)):
        return _push_through(plan)
    return plan


def _push_through(f: L.Filter) -> L.PlanNode:
    """Filter over ARRAY JOIN (conjuncts not reading the elements) or over a renaming Project (a
    joined table's columns under their internal names): move below, then on down."""
    node = f.child
    if isinstance(node, L.ArrayJoin):
        blocked = {o for o, _ in node.arrays}
        mapping = {n: n for n in node.child.names() if n not in blocked}
    else:
        mapping = {o: s for o, s in node.columns}
    keep, below = [], []
    for c in _conjuncts(f.predicate):
        ids = identifiers(c)
        if ids and ids <= set(mapping) and not _volatile(c):
            below.append(transform(c, lambda n: E.Identifier(mapping[n.name], span=n.span)
                                   if isinstance(n, E.Identifier) and n.name in mapping else None))
        else:
            keep.append(c)
    if not below:
        return f
    node.child = _place(node.child, and_all(below))
    rest = and_all(keep)
    return L.Filter(node, rest) if rest is not None else node


def _conjuncts(e) -> list:
    if isinstance(e, E.BinaryOp) and e.op.upper() == "AND":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _pushable_sides(join: L.Join) -> tuple[bool, bool]:
    kind, strict = join.kind, join.strictness
    left = kind in ("INNER", "LEFT", "CROSS")
    right = kind in ("INNER", "RIGHT", "CROSS") and strict in ("ALL", "ANY", "SEMI", "ANTI")
    return left, right


def _volatile(e) -> bool:
    return any(isinstance(n, E.FunctionCall) and n.name.lower() in _VOLATILE for n in walk(e))


def _push(f: L.Filter) -> L.PlanNode:
    join: L.Join = f.child
    push_left, push_right = _pushable_sides(join)
    out_types = join.types()
    sides = []
    for ok, columns, child in ((push_left, join.left_columns, join.left), (push_right, join.right_columns, join.right)):
        ctypes = child.types()
        mapping = {o: s for o, s in columns if ok and out_types[o] == ctypes[s]}
        sides.append(mapping)
    keep, below = [], ([], [])
    for c in _conjuncts(f.predicate):
        ids = identifiers(c)
        for i, mapping in enumerate(sides):
            if ids and ids <= set(mapping) and not _volatile(c):
                below[i].append(transform(c, lambda n, m=mapping: E.Identifier(m[n.name], span=n.span)
                                          if isinstance(n, E.Identifier) and n.name in m else None))
                break
        else:
            keep.append(c)
    if not below[0] and not below[1]:
        return f
    for i in (0, 1):
        if below[i]:
            join.children[i] = _place(join.children[i], and_all(below[i]))
    rest = and_all(keep)
    return L.Filter(join, rest) if rest is not None else join


def _place(child: L.PlanNode, predicate) -> L.PlanNode:
    """Filter `predicate` as deep as it can go: under Expression nodes that do not define its columns
    (or only rename them), and on through joins, ARRAY JOINs and renaming Projects."""
    if isinstance(child, L.Expression):
        defined = dict(child.exprs)
        used = identifiers(predicate) & set(defined)
        if all(isinstance(defined[n], E.Identifier) for n in used):
            renamed = transform(predicate, lambda n: defined[n.name] if isinstance(n, E.Identifier)
                                and n.name in used else None)
            child.child = _place(child.child, renamed)
            return child
    if isinstance(child, L.Filter):
        child.predicate = and_all([child.predicate, predicate])
        return child
    if isinstance(child, (L.Join, L.ArrayJoin, L.Project)):
        return apply(L.Filter(child, predicate))
    return L.Filter(child, predicate)
