"""The read path of a table: ClickHouse's ``MergeTreeDataSelectExecutor``, in one function.

:func:`read_parts` turns a snapshot of parts (``MergeTreeTable.snapshot()``), a column list and
a WHERE condition into one Block plus :class:`ReadStats`:

1. ``KeyCondition.for_table`` analyses the condition once against the primary key, the partition
   key and the partition-key columns (``storage/key_condition.py``).
2. Per part, :func:`select_mark_ranges`: skip the part when its minmax index or partition value
   cannot match (``may_match_part``), else keep only the granule ranges the sparse primary index
   allows (``select_mark_ranges``: binary search or exclusion search).
3. ``DataPart.read(columns, mark_ranges)`` decodes just those granules; the lightweight-delete
   mask (``mutations.read_row_mask``) drops deleted rows; the condition is then evaluated exactly
   on the rows read (pruning is conservative: it may keep rows that do not match, never drop one
   that does).
4. ``final=True`` (SELECT ... FINAL): every column is read, parts in block-number order, and
   ``merger.final_block`` applies the engine's merging rule across parts (a k-way merge of the
   per-part sorted runs) *before* the WHERE, as ClickHouse does.

The table's part set is not touched here: the caller holds the snapshot. A part that turns out to
be corrupted while being read is handed back to the table (``table._quarantine``) and the error
propagates, naming the part and the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mergetree.errors import CorruptedPartError
from mergetree.storage.metadata import referenced_columns


@dataclass
class ReadStats:
    """What a read touched, like ClickHouse's ``rows_read`` / ``bytes_read`` + EXPLAIN indexes."""

    parts_total: int = 0
    parts_read: int = 0
    granules_total: int = 0
    granules_read: int = 0
    rows_read: int = 0
    bytes_read: int = 0             # decoded bytes of the columns read
    rows: int = 0                   # rows returned


def read_parts(table, parts: list, columns: list[str], where_ast, final: bool):
    """Read ``columns`` of ``parts`` (a snapshot of ``table``) where ``where_ast`` holds."""
    from mergetree.column import Block

    m = table.metadata
    stats = ReadStats(parts_total=len(parts), granules_total=sum(p.marks for p in parts))
    collapse = final and m.engine_name != "MergeTree"
    if collapse:
        needed = m.column_names
    else:
        needed = list(columns)
        for c in referenced_columns(where_ast) if where_ast is not None else []:
            m.column(c)
            if c not in needed:
                needed.append(c)
    condition = key_condition(m, where_ast)
    if final:   # FINAL: rows of equal keys meet in insertion (block number) order
        parts = sorted(parts, key=lambda p: (p.info.min_block, p.info.max_block))
    blocks = []
    bounds = [0]          # rows of part i are bounds[i]:bounds[i+1] of the concatenation
    selected = []
    for part in parts:
        if part.rows == 0:
            continue
        ranges = select_mark_ranges(part, condition)
        if ranges:
            selected.append((part, ranges))
    cache = _cache_for(selected)
    # the blocks are filtered (copied) by the WHERE below: only then may they view cached bytes
    copy = final or where_ast is None
    for part, ranges in selected:
        try:
            blk = part.read(needed, ranges, cache=cache, copy=copy)
        except CorruptedPartError as e:
            table._quarantine(part, e)
            raise
        stats.parts_read += 1
        stats.granules_read += sum(b - a for a, b in ranges)
        stats.rows_read += blk.num_rows
        stats.bytes_read += sum(blk[c].nbytes for c in needed)
        mask = row_mask(part)
        if mask is not None:
            blk = blk.filter(mask_for_ranges(mask, part.granule_rows, ranges))
        if not final and where_ast is not None:
            blk = blk.filter(where_mask(where_ast, blk))
        blocks.append(blk)
        bounds.append(bounds[-1] + blk.num_rows)
    if blocks:
        block = Block.concat(blocks) if len(blocks) > 1 else blocks[0]
    else:
        block = empty_block(m, needed)
    if collapse:
        from mergetree.storage.merger import final_block

        block = final_block(block, m, bounds=bounds)     # k-way merge of the sorted runs
    if final and where_ast is not None:
        block = block.filter(where_mask(where_ast, block))
    block = Block({c: block[c] for c in columns}, block.num_rows)   # columns=[]: count() reads
    stats.rows = block.num_rows
    return block, stats


def _cache_for(selected):
    """The uncompressed cache for a read of at most merge_tree_max_rows_to_use_cache rows
    (the same rule as the SQL scan, exec/scan.py), else None."""
    from mergetree.storage.read_cache import cache_settings, uncompressed_cache

    use, max_rows, _ = cache_settings(None)
    rows = sum((b - a) * part.index_granularity for part, ranges in selected for a, b in ranges)
    return uncompressed_cache if use and rows <= max_rows else None


def key_condition(metadata, where_ast):
    if where_ast is None:
        return None
    from mergetree.storage.key_condition import KeyCondition

    return KeyCondition.for_table(metadata, where_ast)


def select_mark_ranges(part, condition) -> list[tuple[int, int]]:
    """Partition/minmax pruning, then granule selection by the primary index."""
    if condition is None:
        return [(0, part.marks)]
    if not condition.may_match_part(part):
        return []
    return condition.select_mark_ranges(part.primary_index, part.marks)


def row_mask(part):
    """The lightweight-delete mask of a part (True = row exists), or None."""
    from mergetree.storage import mutations

    return mutations.read_row_mask(part)


def where_mask(where_ast, block) -> np.ndarray:
    from mergetree.exec.expression import evaluate

    return column_truth(evaluate(where_ast, block), block.num_rows)


def column_truth(col, n: int) -> np.ndarray:
    """A filter column -> bool array (NULL counts as false, as in WHERE)."""
    nulls = getattr(col, "nulls", None)
    inner = getattr(col, "values", col)
    values = np.asarray(getattr(inner, "values", inner))
    mask = values.astype(bool)
    if nulls is not None:
        mask &= ~np.asarray(nulls)
    if mask.shape == () or len(mask) != n:   # a constant condition
        mask = np.full(n, bool(mask.reshape(-1)[0]) if mask.size else False)
    return mask


def mask_for_ranges(mask: np.ndarray, granule_rows: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """Rows of a whole-part mask that correspond to the granules in ``ranges``."""
    starts = np.concatenate([[0], np.cumsum(granule_rows, dtype=np.int64)])
    return np.concatenate([mask[starts[a]:starts[b]] for a, b in ranges])


def empty_block(metadata, names: list[str]):
    """A 0-row Block of the named table columns."""
    from mergetree.column import Block, default_column

    return Block({n: default_column(metadata.column(n).type, 0) for n in names})
