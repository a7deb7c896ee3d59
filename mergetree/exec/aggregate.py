"""Aggregate operator: hash group-by (kernels/groupby.py) then one vectorized call per aggregate
(functions/aggregate) over the whole input.

This slice collects the child's blocks and aggregates them at once; on large inputs the group ids
are computed on `max_threads` row ranges and the aggregates run on a thread each (the kernels
release the GIL). Per-block partial states merged at the end (bounded memory, aggregation while
reading) are the next step.
"""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, default_column

#: aggregates over at least this many rows are computed on max_threads threads (one per aggregate)
PARALLEL_MIN_ROWS = 262_144


def collect(blocks, schema) -> Block:
    """Concatenate blocks (an empty Block with the right column types if there are none)."""
    blocks = [b for b in blocks]
    nonempty = [b for b in blocks if b.num_rows]
    if len(nonempty) == 1:
        return nonempty[0]
    if nonempty:
        return Block.concat(nonempty)
    return Block({n: default_column(t, 0) for n, t in schema})


def run_aggregate(node, ctx, children):
    (child,) = children
    needed = list(dict.fromkeys(node.keys + [a for call in node.aggregates for a in call.args]))
    block = collect((b.select(needed) for b in child), [(n, node.child.types()[n]) for n in needed])
    n = block.num_rows
    if node.keys:
        if n == 0:
            ids, n_groups, first = np.zeros(0, np.int64), 0, np.zeros(0, np.int64)
        else:
            from mergetree.kernels.groupby import group_rows_parallel

            threads = int(ctx.settings.get("max_threads", 2))
            ids, n_groups, first = group_rows_parallel([block[k] for k in node.keys], threads)
        out = {k: block[k].take(first) for k in node.keys}
    else:
        ids, n_groups, out = np.zeros(n, np.int64), 1, {}

    def compute(call):
        return call.function.compute(ids, n_groups, [block[a] for a in call.args])

    threads = int(ctx.settings.get("max_threads", 2))
    if threads > 1 and len(node.aggregates) > 1 and n >= PARALLEL_MIN_ROWS:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(threads, len(node.aggregates))) as pool:
            results = list(pool.map(compute, node.aggregates))
    else:
        results = [compute(call) for call in node.aggregates]
    for call, col in zip(node.aggregates, results):
        out[call.output] = col
    yield Block(out, n_groups)
