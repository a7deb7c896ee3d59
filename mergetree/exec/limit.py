"""Limit (LIMIT n OFFSET m) and LimitBy (LIMIT n BY exprs) operators."""

from __future__ import annotations

from mergetree.exec.aggregate import collect


def run_limit(node, ctx, children):
    (child,) = children
    skip, left = node.offset, node.limit
    seen = 0
    for block in child:
        seen += block.num_rows
        if left is not None and left <= 0:
            break      # stop reading: rows_before_limit is "at least" (as ClickHouse reports it)
        n = block.num_rows
        a = min(skip, n)
        skip -= a
        b = n if left is None else min(n, a + left)
        if left is not None:
            left -= b - a
        if b > a:
            yield block.slice(a, b) if (a, b) != (0, n) else block
    if ctx.rows_before_limit is None:
        ctx.rows_before_limit = seen


def run_limit_by(node, ctx, children):
    from mergetree.kernels.groupby import group_rows, occurrence_index

    (child,) = children
    block = collect(child, node.child.schema)
    if block.num_rows == 0:
        yield block
        return
    ids, n_groups, _ = group_rows([block[c] for c in node.columns])
    occ = occurrence_index(ids, n_groups)
    keep = (occ >= node.offset) & (occ < node.offset + node.limit)
    yield block.filter(keep) if not keep.all() else block
