"""``count()`` without a WHERE over a whole MergeTree table (not FINAL) comes from the parts' row
counts instead of reading a column.

Before: ``Aggregate keys=[] aggregates=[__agg0 := count()] <- ReadFromMergeTree t``;
after: ``CountFromMetadata t``.
"""

from __future__ import annotations

from mergetree.planner import logical as L


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, L.Union):
        plan.children = [apply(c) for c in plan.children]
    if (isinstance(plan, L.Aggregate) and not plan.keys and len(plan.aggregates) == 1
            and plan.aggregates[0].function.name.lower() == "count" and not plan.aggregates[0].args
            and isinstance(plan.child, L.ReadFromMergeTree) and plan.child.where is None and not plan.child.final):
        scan = plan.child
        return L.CountFromMetadata(scan.table_name, scan.table, plan.aggregates[0].output)
    return plan
