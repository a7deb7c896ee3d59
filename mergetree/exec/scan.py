"""Source operators: ReadFromMergeTree (the table's pruned read path), ReadNumbers, ReadOne,
ReadBlock. Each yields Blocks."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import Block, FixedColumn

#: rows per block produced by numbers()
NUMBERS_BLOCK = 65536


def read_merge_tree(node, ctx, children):
    """Partition/minmax and primary-key granule pruning, then the exact WHERE, inside
    MergeTreeTable.read (storage/table.py)."""
    block, stats = node.table.read(columns=node.columns, where=node.where, final=node.final, with_stats=True)
    ctx.rows_read += stats.rows_read
    ctx.bytes_read += stats.bytes_read
    yield block


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
