"""Aggregate operator: two-level aggregation block by block.

1. For every input block: group ids of its rows (kernels/groupby.py, on `max_threads` row ranges
   for large blocks), the block's distinct keys, and each aggregate's partial state
   (`AggregateFunction.partial`: state rows labelled with the block's group ids).
2. At the end: the distinct keys of all blocks are grouped once more, giving every block-local
   group its final id; the states are relabelled, concatenated, and each aggregate's `final`
   computes the result (functions/aggregate/registry.py describes the state invariant).

So only the keys and the (reduced) states of earlier blocks are kept, not their rows. Without
GROUP BY there is exactly one group, also over no input (as ClickHouse).
"""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, Column, StringColumn, default_column
from mergetree.exec.context import block_nbytes, columns_nbytes, current_limits


def collect(blocks, schema, what: str = "a blocking operator") -> Block:
    """Concatenate blocks (an empty Block with the right column types if there are none; `schema`
    may be a function giving them, called only then). The blocks held count against
    max_memory_usage (exec/context.py)."""
    limits = current_limits()
    if limits is None or not limits.max_memory:
        blocks = [b for b in blocks]
    else:
        held = []
        for b in blocks:
            limits.track(block_nbytes(b), f"{what} (buffering {sum(x.num_rows for x in held) + b.num_rows} rows)")
            held.append(b)
        blocks = held
    nonempty = [b for b in blocks if b.num_rows]
    if len(nonempty) == 1:
        return nonempty[0]
    if nonempty:
        return Block.concat(nonempty)
    if callable(schema):
        schema = schema()
    return Block({n: default_column(t, 0) for n, t in schema})


#: one String key of at most this many rows is grouped by the bytes hash table kernel directly
#: (one kernel call; group_rows hashes, groups the hashes and checks for collisions: three)
SMALL_STRING_GROUP_ROWS = 4096


def _small_string_groups(col):
    """(ids, first rows, the distinct strings as a StringColumn) of a short String column: the bytes
    hash table kernel collects the distinct values in first-appearance order as it goes, which is
    the key column (no gather of the first rows)."""
    from mergetree.kernels.strings import _check, _group_strings

    offsets, data = _check(col.offsets, col.data)
    ids, first, g_offsets, g_data, _ = _group_strings(offsets, data, len(offsets) - 1, False)
    return ids, first, StringColumn(col.type, g_offsets, g_data)


def _group_columns(columns: list, threads: int = 1):
    if len(columns) == 1 and type(columns[0]) is StringColumn and len(columns[0]) <= SMALL_STRING_GROUP_ROWS:
        ids, first, _ = _small_string_groups(columns[0])
        return ids, len(first), first
    from mergetree.kernels.groupby import group_rows_parallel

    return group_rows_parallel(columns, threads)


def _group_keys(block: Block, keys: list[str], threads: int = 1):
    """(ids, number of groups, {key: its distinct values in group order})."""
    if len(keys) == 1 and type(block[keys[0]]) is StringColumn and block.num_rows <= SMALL_STRING_GROUP_ROWS:
        ids, first, distinct = _small_string_groups(block[keys[0]])
        return ids, len(first), {keys[0]: distinct}
    ids, n_groups, first = _group(block, keys, threads)
    return ids, n_groups, {k: block[k].take(first) for k in keys}


def _group(block: Block, keys: list[str], threads: int):
    if not keys:
        return np.zeros(block.num_rows, np.int64), 1, np.zeros(0, np.int64)
    return _group_columns([block[k] for k in keys], threads)


#: a block of at most this many rows is not reduced to partial states where it is read: its key and
#: argument columns are kept, and small blocks are aggregated together in one pass at the end
#: (grouping and each aggregate's `compute` once per query, instead of a partial per block plus a
#: final merge: about half the aggregation cost of a point lookup reading a few dozen rows)
RAW_BLOCK_ROWS = 1024
#: at most this many rows are kept that way; past it, the kept blocks become partial states
RAW_TOTAL_ROWS = 16384


def _needed(node) -> list:
    return list(dict.fromkeys(node.keys + [a for call in node.aggregates for a in call.args]))


def partial_block(node, block: Block, threads: int = 1):
    """Step 1 for one block: (its distinct keys as a Block, one partial state per aggregate), or,
    for a small block, (its key and argument columns, None): merge_partials aggregates those."""
    if block.num_rows == 0 and node.keys:      # no groups (merge_partials skips it): nothing to compute
        return Block.trusted({k: block[k] for k in node.keys}, 0), []
    if block.num_rows <= RAW_BLOCK_ROWS:
        return Block.trusted({n: block[n] for n in _needed(node)}, block.num_rows), None
    return _reduce(node, block, threads)


def _reduce(node, block: Block, threads: int = 1):
    ids, n_groups, key_columns = _group_keys(block, node.keys, threads)
    keys = Block(key_columns, n_groups)
    return keys, [call.function.partial(ids, n_groups, [block[a] for a in call.args]) for call in node.aggregates]


def _one_pass(node, block: Block):
    """The aggregation of all rows of `block` at once (no partial states)."""
    ids, n_groups, out = _group_keys(block, node.keys)
    for call in node.aggregates:
        out[call.output] = call.function.compute(ids, n_groups, [block[a] for a in call.args])
    return Block(out, n_groups)


def run_aggregate(node, ctx, children):
    (child,) = children
    threads = int(ctx.settings.get("max_threads", 2))
    partials = (partial_block(node, b, threads) for b in child if b.num_rows)
    return merge_partials(node, ctx, partials)


def merge_partials(node, ctx, partials):
    """Step 2: the final groups over the blocks' keys, then `final` over the relabelled states."""
    key_parts: list[Block] = []          # distinct keys of each block, in block order
    states: list[list] = [[] for _ in node.aggregates]
    entries = []                         # (keys, states) or (raw block, None), in block order
    raw_rows = 0
    reduce_raw = False
    for keys, block_states in partials:
        if keys.num_rows == 0 and node.keys:
            continue
        if block_states is None:       # a small block's rows (partial_block)
            if ctx.limits.max_memory:
                ctx.track(block_nbytes(keys), f"aggregation ({raw_rows + keys.num_rows} buffered rows)")
            raw_rows += keys.num_rows
            if reduce_raw:
                keys, block_states = _reduce(node, keys)
            elif raw_rows > RAW_TOTAL_ROWS:
                reduce_raw = True
                entries = [_reduce(node, k) if st is None else (k, st) for k, st in entries]
                keys, block_states = _reduce(node, keys)
            entries.append((keys, block_states))
            continue
        if ctx.limits.max_memory:      # the keys and partial states kept until the final merge
            ctx.track(block_nbytes(keys) + sum(len(s) * 8 + columns_nbytes(c) for s, c in block_states),
                      f"aggregation ({sum(p.num_rows for p, _ in entries) + keys.num_rows} partial groups)")
        entries.append((keys, block_states))
    if entries and all(st is None for _, st in entries):    # only small blocks: one pass over their rows
        rows = entries[0][0] if len(entries) == 1 else Block.concat([b for b, _ in entries])
        yield _one_pass(node, rows)
        return
    for keys, block_states in entries:
        if block_states is None:
            keys, block_states = _reduce(node, keys)
        key_parts.append(keys)
        for i, st in enumerate(block_states):
            states[i].append(st)
    if not key_parts:   # no input rows: states of an empty block fix the state column types
        types = node.child.types()
        empty = Block({n: default_column(types[n], 0) for n in _needed(node)})
        key_parts.append(Block({k: empty[k] for k in node.keys}, 0 if node.keys else 1))
        for i, call in enumerate(node.aggregates):
            states[i].append(call.function.partial(np.zeros(0, np.int64), 1, [empty[a] for a in call.args]))
    if node.keys and len(key_parts) == 1:      # one block: its groups are the final groups
        final_ids = np.arange(key_parts[0].num_rows, dtype=np.int64)
        n_groups, out = key_parts[0].num_rows, dict(key_parts[0].columns)
    elif node.keys:
        all_keys = collect(key_parts, lambda: [(k, node.child.types()[k]) for k in node.keys])
        if all_keys.num_rows:
            final_ids, n_groups, out = _group_keys(all_keys, node.keys)
        else:
            final_ids, n_groups = np.zeros(0, np.int64), 0
            out = {k: all_keys[k] for k in node.keys}
    else:
        final_ids, n_groups, out = np.zeros(len(key_parts), np.int64), 1, {}
    # block b's local group j is final group final_ids[offset_b + j]
    offsets = np.concatenate([[0], np.cumsum([p.num_rows for p in key_parts])]).astype(np.int64)
    for i, call in enumerate(node.aggregates):
        parts = states[i]
        if node.keys:
            sids = np.concatenate([final_ids[offsets[b] + s] for b, (s, _) in enumerate(parts)]).astype(np.int64)
        else:
            sids = np.concatenate([np.zeros(len(s), np.int64) for s, _ in parts])
        cols = [Column.concat([c[j] for _, c in parts]) for j in range(len(parts[0][1]))]
        out[call.output] = call.function.final(sids, n_groups, cols)
    yield Block(out, n_groups)
