"""Executor: turns a logical plan into a pipeline of operator generators (one module per
operator) and runs it. Each operator is ``run(node, ctx, child_iterators) -> iterator of Blocks``.
"""

from __future__ import annotations

from mergetree.column import Block
from mergetree.exec import aggregate, distinct, filter, limit, project, scan, sort, union
from mergetree.exec.context import ExecutionContext
from mergetree.planner import logical as L

OPERATORS = {
    L.ReadFromMergeTree: scan.read_merge_tree,
    L.CountFromMetadata: scan.count_from_metadata,
    L.ReadNumbers: scan.read_numbers,
    L.ReadOne: scan.read_one,
    L.ReadBlock: scan.read_block,
    L.Filter: filter.run_filter,
    L.Expression: project.run_expression,
    L.Project: project.run_project,
    L.Aggregate: aggregate.run_aggregate,
    L.Sort: sort.run_sort,
    L.TopN: sort.run_topn,
    L.Limit: limit.run_limit,
    L.LimitBy: limit.run_limit_by,
    L.Distinct: distinct.run_distinct,
    L.Union: union.run_union,
}


def stream(node: L.PlanNode, ctx: ExecutionContext):
    """The Blocks produced by `node`."""
    op = OPERATORS[type(node)]
    if isinstance(node, L.Union):   # reads its inputs itself (below their Project)
        return op(node, ctx, [])
    return op(node, ctx, [stream(c, ctx) for c in node.children])


def run(plan: L.PlanNode, ctx: ExecutionContext | None = None) -> tuple[list, list, "ExecutionContext"]:
    """Execute a plan whose root is a Project: (output [(name, type)], result columns, ctx)."""
    ctx = ctx or ExecutionContext()
    block = aggregate.collect(stream(plan.child, ctx), plan.child.schema)
    columns = [block[src] for _, src in plan.columns]
    return list(plan.schema), columns, ctx


__all__ = ["run", "stream", "Block"]
