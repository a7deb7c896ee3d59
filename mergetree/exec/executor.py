"""Executor: turns a logical plan into a pipeline of operator generators (one module per
operator) and runs it. Each operator is ``run(node, ctx, child_iterators) -> iterator of Blocks``.
"""

from __future__ import annotations

from mergetree.column import Block
from mergetree.exec import aggregate, array_join, distinct, filter, join, limit, project, scan, sort, union
from mergetree.exec import fill as fill_op
from mergetree.exec import totals as totals_op
from mergetree.exec import window as window_op
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
    L.Join: join.run_join,
    L.ArrayJoin: array_join.run_array_join,
    L.Window: window_op.run_window,
    L.GroupingAggregate: totals_op.run_grouping,
    L.Fill: fill_op.run_fill,
    L.LimitWithTies: fill_op.run_limit_ties,
}


#: operators that map one block to one block (they can run inside a scan's read tasks):
#: node type -> step(node) returning the function block -> block
STEPS = {
    L.Filter: filter.filter_step,
    L.Expression: project.expression_step,
    L.Project: project.project_step,
}
PER_BLOCK = tuple(STEPS)


def _chain_to_scan(node):
    """(per-block nodes top-down, the MergeTree scan under them), or None."""
    chain = []
    while isinstance(node, PER_BLOCK):
        chain.append(node)
        node = node.child
    if isinstance(node, L.ReadFromMergeTree) and not node.final:
        return chain, node
    return None


def _per_block(chain, ctx):
    """One function applying the chain's operators (bottom-up) to a single block; their
    expressions are bound here, once."""
    steps = [STEPS[type(n)](n) for n in reversed(chain)]
    if len(steps) == 1:
        return steps[0]

    def apply(block):
        for step in steps:
            block = step(block)
        return block

    return apply


def stream(node: L.PlanNode, ctx: ExecutionContext):
    """The Blocks produced by `node`.

    Filter/Expression chains over a MergeTree scan, and the partial step of an Aggregate above
    them, run inside the scan's read tasks (on `max_threads` worker threads)."""
    if isinstance(node, L.Aggregate) and (found := _chain_to_scan(node.child)) is not None:
        chain, scan_node = found
        per_block = _per_block(chain, ctx)
        partials = scan.read_merge_tree(
            scan_node, ctx, [], transform=lambda b: aggregate.partial_block(node, per_block(b)))
        return ctx.checked(aggregate.merge_partials(node, ctx, ctx.checked(partials)))
    if isinstance(node, PER_BLOCK) and (found := _chain_to_scan(node)) is not None:
        chain, scan_node = found
        return ctx.checked(scan.read_merge_tree(scan_node, ctx, [], transform=_per_block(chain, ctx)))
    op = OPERATORS[type(node)]
    if isinstance(node, L.Union):   # reads its inputs itself (below their Project)
        return ctx.checked(op(node, ctx, []))
    # max_execution_time and the cancel handle are checked between the blocks of every operator
    return ctx.checked(op(node, ctx, [stream(c, ctx) for c in node.children]))


def run(plan: L.PlanNode, ctx: ExecutionContext | None = None) -> tuple[list, list, "ExecutionContext"]:
    """Execute a plan whose root is a Project: (output [(name, type)], result columns, ctx)."""
    ctx = ctx or ExecutionContext()
    block = aggregate.collect(stream(plan.child, ctx), lambda: plan.child.schema, "the query result")
    columns = [block[src] for _, src in plan.columns]
    return list(plan.schema), columns, ctx


__all__ = ["run", "stream", "Block"]
