"""Column pruning: every scan reads only the columns some node above it uses, and Expression
nodes drop computed columns nobody reads.

Before: ``ReadFromMergeTree t columns=[a, b, c, d]`` under ``Aggregate keys=[a]``;
after: ``ReadFromMergeTree t columns=[a]``.
"""

from __future__ import annotations

from mergetree.planner import logical as L
from mergetree.planner.rewrite import identifiers


def apply(plan: L.PlanNode) -> L.PlanNode:
    _prune(plan, set(plan.names()))
    return plan


def _prune(node: L.PlanNode, required: set[str]) -> None:
    if isinstance(node, L.ReadFromMergeTree):
        # `where` columns are read by the table itself; keep one column so the row count is known
        node.columns = [c for c in node.columns if c in required] or node.columns[:1]
        return
    if isinstance(node, (L.ReadNumbers, L.ReadOne, L.ReadBlock, L.CountFromMetadata)):
        return
    if isinstance(node, L.Project):
        # a Project inside the plan (subquery, joined table) keeps only what is read above it
        node.columns = [(o, s) for o, s in node.columns if o in required] or node.columns[:1]
        _prune(node.child, {src for _, src in node.columns})
    elif isinstance(node, L.Union):
        for c in node.children:
            _prune(c, set(c.names()))
    elif isinstance(node, L.Expression):
        node.exprs = [(n, e) for n, e in node.exprs if n in required]
        need = set(required) - {n for n, _ in node.exprs}
        for _, e in node.exprs:
            need |= identifiers(e)
        _prune(node.child, need)
    elif isinstance(node, L.Filter):
        _prune(node.child, required | identifiers(node.predicate))
    elif isinstance(node, L.Aggregate):
        need = set(node.keys)
        for a in node.aggregates:
            need |= set(a.args)
        _prune(node.child, need)
    elif isinstance(node, (L.Sort, L.TopN)):
        _prune(node.child, required | {i.column for i in node.items})
    elif isinstance(node, L.LimitBy):
        _prune(node.child, required | set(node.columns))
    elif isinstance(node, L.Distinct):
        _prune(node.child, required | set(node.columns))
    elif isinstance(node, L.Limit):
        _prune(node.child, required)
    elif isinstance(node, L.Join):
        _prune_join(node, required)
    elif isinstance(node, L.ArrayJoin):
        _prune(node.child, (required - {o for o, _ in node.arrays}) | {s for _, s in node.arrays})
    elif hasattr(node, "required_inputs"):      # Window, GroupingAggregate, Fill, LimitWithTies
        _prune(node.child, node.required_inputs(required))
    else:
        for c in node.children:
            _prune(c, set(c.names()))


def _prune_join(node: L.Join, required: set[str]) -> None:
    """A join keeps the output columns read above it (and by its ON residual); its inputs read those
    plus the keys."""
    need = set(required) | (identifiers(node.residual) if node.residual is not None else set())
    node.left_columns = [(o, s) for o, s in node.left_columns if o in need]
    node.right_columns = [(o, s) for o, s in node.right_columns if o in need]
    node.using_columns = [u for u in node.using_columns if u[0] in need]
    left = {s for _, s in node.left_columns} | set(node.left_keys) | {u[1] for u in node.using_columns}
    right = {s for _, s in node.right_columns} | set(node.right_keys) | {u[2] for u in node.using_columns}
    if node.asof is not None:
        left.add(node.asof[0])
        right.add(node.asof[2])
    _prune(node.children[0], left)
    _prune(node.children[1], right)
