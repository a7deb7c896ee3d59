"""Read in order: ORDER BY a prefix of the table's sorting key with LIMIT n, and no WHERE, reads
only the first granules of every part (each part is sorted by the key) that hold n + offset rows
(the last granules for DESC); TopN then picks the rows from those candidates.

Before: ``TopN __ord0 limit=10 <- Expression __ord0 := ts <- ReadFromMergeTree events``;
after: the same with ``ReadFromMergeTree events in_order=asc limit_hint=10``.
Parts with lightweight-deleted rows are read whole (their first granules may hold fewer rows).
"""

from __future__ import annotations

from mergetree.planner import logical as L


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, L.Union):
        plan.children = [apply(c) for c in plan.children]
    if isinstance(plan, L.TopN) and isinstance(plan.child, L.Expression) \
            and isinstance(plan.child.child, L.ReadFromMergeTree):
        scan = plan.child.child
        if scan.where is not None or scan.final or not plan.items:
            return plan
        exprs = dict(plan.child.exprs)
        key = scan.table.metadata.sorting_key_asts
        desc = {item.desc for item in plan.items}
        if len(desc) != 1 or len(plan.items) > len(key) or any(i.nulls_first for i in plan.items):
            return plan
        if all(exprs.get(item.column) == key[i] for i, item in enumerate(plan.items)):
            scan.limit_hint = plan.limit + plan.offset
            scan.order = "desc" if desc.pop() else "asc"
    return plan
