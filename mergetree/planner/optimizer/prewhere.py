"""Automatic PREWHERE: a scan with a pushed-down condition reads the condition's columns first
and the other columns only for granules that still have a matching row.

Before: ``ReadFromMergeTree t columns=[payload] where=equals(user_id, 'u1')``;
after: ``ReadFromMergeTree t columns=[payload] prewhere=equals(user_id, 'u1')``.
(Skipped when the condition reads every needed column, or with FINAL.)
"""

from __future__ import annotations

from mergetree.planner import logical as L
from mergetree.planner.rewrite import identifiers


def apply(plan: L.PlanNode) -> L.PlanNode:
    if hasattr(plan, "child"):
        plan.child = apply(plan.child)
    elif isinstance(plan, (L.Union, L.Join)):
        plan.children = [apply(c) for c in plan.children]
    if isinstance(plan, L.ReadFromMergeTree) and plan.where is not None and not plan.final:
        plan.prewhere = bool(set(plan.columns) - identifiers(plan.where))
    return plan
