"""Source operators: ReadFromMergeTree (the table's pruned read path), ReadNumbers, ReadOne,
ReadBlock. Each yields Blocks."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import Block, FixedColumn

#: rows per block produced by numbers()
NUMBERS_BLOCK = 65536


def read_merge_tree(node, ctx, children):
    """One Block per part: partition/minmax pruning (KeyCondition.may_match_part), granule
    selection by the primary index (select_mark_ranges), lightweight-delete masks, then the exact
    WHERE. The parts are pinned by a table snapshot while the generator runs.

    FINAL merges rows across parts, so it goes through MergeTreeTable.read (storage/table.py)."""
    table = node.table
    if node.final:
        block, stats = table.read(columns=node.columns, where=node.where, final=True, with_stats=True)
        ctx.rows_read += stats.rows_read
        ctx.bytes_read += stats.bytes_read
        yield block
        return
    from mergetree.exec.expression import bind
    from mergetree.exec.expression import execute as execute_expr
    from mergetree.exec.filter import truth
    from mergetree.planner.rewrite import identifiers
    from mergetree.storage.key_condition import KeyCondition
    from mergetree.storage.mutations import read_row_mask

    needed = list(node.columns)
    condition = bound = None
    if node.where is not None:
        needed += [c for c in sorted(identifiers(node.where)) if c not in needed]
        condition = KeyCondition.for_table(table.metadata, node.where)
        bound = bind(node.where, dict(node.table_schema))
    with table.snapshot() as snap:
        for part in snap.parts:
            if part.rows == 0:
                continue
            if condition is None:
                ranges = [(0, part.marks)]
            elif not condition.may_match_part(part):
                continue
            else:
                ranges = condition.select_mark_ranges(part.primary_index, part.marks)
            if not ranges:
                continue
            block = part.read(needed, ranges)
            ctx.rows_read += block.num_rows
            ctx.bytes_read += block.nbytes
            mask = read_row_mask(part)
            if mask is not None:
                block = block.filter(_rows_of_ranges(mask, part.granule_rows, ranges))
            if bound is not None and block.num_rows:
                block = block.filter(truth(execute_expr(bound, block), block.num_rows))
            yield block.select(node.columns)


def _rows_of_ranges(mask: np.ndarray, granule_rows: np.ndarray, ranges: list) -> np.ndarray:
    """The part of a whole-part row mask that covers the granules in `ranges`."""
    starts = np.concatenate([[0], np.cumsum(granule_rows, dtype=np.int64)])
    return np.concatenate([mask[starts[a]:starts[b]] for a, b in ranges])


def count_from_metadata(node, ctx, children):
    yield Block({node.output: FixedColumn(T.UInt64, np.array([node.table.count()], np.uint64))})


def read_numbers(node, ctx, children):
    start, end = node.start, node.start + node.count
    for a in range(start, end, NUMBERS_BLOCK):
        b = min(a + NUMBERS_BLOCK, end)
        ctx.rows_read += b - a
        ctx.bytes_read += 8 * (b - a)
        yield Block({"number": FixedColumn(T.UInt64, np.arange(a, b, dtype=np.uint64))})


def read_one(node, ctx, children):
    ctx.rows_read += 1
    ctx.bytes_read += 1
    yield Block({"dummy": FixedColumn(T.UInt8, np.zeros(1, np.uint8))})


def read_block(node, ctx, children):
    yield node.block
