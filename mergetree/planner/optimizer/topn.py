"""Sort followed by Limit (ORDER BY .. LIMIT n [OFFSET m]) -> TopN: select the first n + m rows with
np.argpartition on the leading key and sort only the candidates.

Before: ``Limit 10 <- Sort x DESC``; after: ``TopN x DESC limit=10``.
"""

from __future__ import annotations

from mergetree.planner import logical as L


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, L.Union):
        plan.children = [apply(c) for c in plan.children]
    if isinstance(plan, L.Limit) and plan.limit is not None and isinstance(plan.child, L.Sort):
        return L.TopN(plan.child.child, plan.child.items, plan.limit, plan.offset)
    return plan
