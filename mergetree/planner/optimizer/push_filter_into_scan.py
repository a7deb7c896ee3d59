"""Move a Filter that sits directly on a ReadFromMergeTree into the scan's `where`, so the table's
read path prunes partitions (minmax) and granules (primary key) before filtering rows exactly.

Before: ``Filter greater(ts, 5) <- ReadFromMergeTree t``; after: ``ReadFromMergeTree t where=greater(ts, 5)``.
With FINAL the table merges the rows first and applies `where` to the result, as ClickHouse does.
"""

from __future__ import annotations

from mergetree.planner import logical as L
from mergetree.planner.rewrite import and_all


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, (L.Union, L.Join)):
        plan.children = [apply(c) for c in plan.children]
    if isinstance(plan, L.Filter) and isinstance(plan.child, L.ReadFromMergeTree):
        scan = plan.child
        scan.where = and_all([scan.where, plan.predicate])
        return scan
    return plan
