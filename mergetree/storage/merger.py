"""The merger (mechanism): turn several parts of one partition into one new part.

The selector (`merge_selector`) decides *which* parts; this module does the work,
outside the table's locks, into a `tmp_merge_*` directory the table renames:

1. `read_source_block`: read every column of each source part, in block-number
   order, dropping rows masked by a lightweight delete (`mutations.read_row_mask`).
2. Concatenate the blocks (older blocks first).
3. `sorting_key_block`: evaluate the sorting-key expressions (column
   references are taken as is; `toDate(ts)` is evaluated by
   `exec.expression.evaluate`), then stable-sort by their order keys
   (`np.lexsort`: rows with equal keys keep block-number order, which is what
   "last inserted wins" needs). Each source is already sorted, so a k-way merge
   would do; a lexsort over <= a few parts is simpler and runs in numpy without
   the GIL.
4. The engine's merging algorithm (`merging.algorithm_for(metadata)`) reduces
   runs of equal keys (Replacing/Summing/Collapsing; numba kernels, nogil).
5. Table TTL: rows whose TTL moment is <= `now` are dropped (`ttl.expired_mask`),
   after the engine rule, as ClickHouse's TTL transform runs on merged rows.
6. `write_merged_part`: `part_writer.write_part` with the primary-key columns,
   the sources' partition value, the union of their min/max indexes and a
   `ttl.txt` with the TTL range of the written rows. An empty result is still
   written as an empty part: it covers the sources, so the merge commits
   atomically; the table retires it once the sources are gone.

`final_block` is the read-time twin (SELECT ... FINAL): same sort, algorithm with
`final=True`, no TTL and no writing.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mergetree.errors import BadArgumentsError

SortKeyFn = Callable[[object], object]


@dataclass
class MergeResult:
    """What a merge produced. `os.fspath(result)` is the temporary part directory."""

    path: Path
    rows: int
    rows_read: int = 0
    rows_masked: int = 0          # dropped because a lightweight delete masked them
    rows_expired: int = 0         # dropped by the table TTL
    rows_collapsed: int = 0       # removed by the engine's merging rule
    source_parts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name


# --------------------------------------------------------------------------- steps

def read_source_block(parts: list):
    """All columns of `parts` (sorted by block number), masked rows removed, concatenated.

    Returns (block, rows_read, rows_masked).
    """
    from mergetree.column import Block
    from mergetree.storage.mutations import read_row_mask

    if not parts:
        raise BadArgumentsError("merge_parts: no parts to merge")
    names = [n for n, _ in parts[0].columns]
    for p in parts[1:]:
        if [n for n, _ in p.columns] != names:
            raise BadArgumentsError(f"merge_parts: part {p.name} has columns {[n for n, _ in p.columns]}, "
                                    f"part {parts[0].name} has {names}")
    blocks = []
    rows_read = masked = 0
    for p in parts:
        if p.rows == 0:
            continue
        b = p.read(names)
        rows_read += b.num_rows
        mask = read_row_mask(p)
        if mask is not None:
            masked += int(mask.shape[0] - np.count_nonzero(mask))
            b = b.filter(mask)
        blocks.append(b)
    if not blocks:
        from mergetree.column import default_column

        return Block({n: default_column(t, 0) for n, t in parts[0].columns}), 0, 0
    return (Block.concat(blocks) if len(blocks) > 1 else blocks[0]), rows_read, masked


def sorting_key_block(block, metadata):
    """The evaluated sorting-key columns of `block`, named by their expression text."""
    from mergetree.column import Block

    columns = {}
    for text, ast in zip(metadata.order_by, metadata.sorting_key_asts):
        if text in block.columns:
            col = block[text]
        else:
            from mergetree.exec.expression import evaluate

            col = evaluate(ast, block)
            if len(col) != block.num_rows:  # constant key member
                col = col.take(np.zeros(block.num_rows, dtype=np.int64))
        columns[text] = col
    return Block(columns, block.num_rows)


def _order_arrays(keys) -> list[np.ndarray]:
    from mergetree.storage.merging import _order_keys

    out = []
    for col in keys.columns.values():
        out.extend(_order_keys(col))
    return out


def sort_by_key(block, keys):
    """Stable sort of `block` and its key block by the key (identity skipped)."""
    n = block.num_rows
    arrays = _order_arrays(keys)
    if n <= 1 or not arrays:
        return block, keys
    perm = np.lexsort(arrays[::-1])
    if np.all(perm[1:] > perm[:-1]):
        return block, keys
    return block.take(perm), keys.take(perm)


def _combined_minmax(parts: list) -> dict:
    out: dict = {}
    for p in parts:
        if p.rows == 0:
            continue
        for name, (lo, hi) in (getattr(p, "minmax", None) or {}).items():
            if name in out:
                a, b = out[name]
                out[name] = (min(a, lo), max(b, hi))
            else:
                out[name] = (lo, hi)
    return out


def write_merged_part(tmp_dir: Path, block, metadata, sources: list, *, keys=None) -> None:
    """write_part for a block sorted by the key, with the sources' partition value and minmax."""
    from mergetree.column import Block
    from mergetree.storage.part_writer import write_part
    from mergetree.storage.ttl import ttl_extra_files

    if keys is None:
        keys = sorting_key_block(block, metadata)
    primary = Block({t: keys[t] for t in metadata.primary_key}, block.num_rows)
    settings = getattr(metadata, "settings", {}) or {}
    write_part(Path(tmp_dir), block, primary_key=primary, partition_value=tuple(sources[0].partition_value),
               minmax=_combined_minmax(sources) if block.num_rows else {},
               codecs=getattr(metadata, "codecs", None) or None,
               index_granularity=int(settings.get("index_granularity", 8192)),
               extra_files=ttl_extra_files(block, metadata))


# --------------------------------------------------------------------------- the merge

def merge_blocks(block, metadata, *, now: float | None = None, final: bool = False, cleanup: bool = False,
                 sort_key_fn: SortKeyFn | None = None, apply_ttl: bool = True):
    """Steps 3-5 on an already concatenated block: sort, engine rule, TTL.

    Returns (block, keys, rows_collapsed, rows_expired).
    """
    from mergetree.storage.merging import algorithm_for
    from mergetree.storage.ttl import expired_mask

    keys = sort_key_fn(block) if sort_key_fn is not None else sorting_key_block(block, metadata)
    block, keys = sort_by_key(block, keys)
    before = block.num_rows
    algorithm = algorithm_for(metadata)
    if algorithm.needs_merge_on_read and block.num_rows:
        collapsed = algorithm.collapse(block, keys, final=final, cleanup=cleanup)
        if collapsed.num_rows != before or collapsed is not block:
            block = collapsed
            keys = sort_key_fn(block) if sort_key_fn is not None else sorting_key_block(block, metadata)
    rows_collapsed = before - block.num_rows
    rows_expired = 0
    if apply_ttl and block.num_rows:
        expired = expired_mask(block, metadata, time.time() if now is None else now)
        if expired is not None and expired.any():
            rows_expired = int(np.count_nonzero(expired))
            block, keys = block.filter(~expired), keys.filter(~expired)
    return block, keys, rows_collapsed, rows_expired


def merge_parts(parts, tmp_dir=None, new_info=None, metadata=None, *, final: bool = False,
                now: float | None = None, cleanup: bool = False,
                sort_key_fn: SortKeyFn | None = None) -> MergeResult:
    """Merge `parts` (one partition, contiguous blocks) into a new part written at `tmp_dir`.

    Preferred call: ``merge_parts(parts, tmp_dir, metadata=m, final=..., now=...)``.
    Also accepted (the table's first cut): ``merge_parts(table_dir, parts, new_info, metadata,
    final=...)``, which writes into ``table_dir / f"tmp_merge_{new_info.name}"``.
    `final` marks OPTIMIZE ... FINAL (engine rule as in any merge); `cleanup` is
    OPTIMIZE ... FINAL CLEANUP (ReplacingMergeTree drops is_deleted rows for good).
    """
    if isinstance(parts, (str, os.PathLike)) and not isinstance(parts, MergeResult):
        table_dir, parts = Path(parts), tmp_dir
        tmp_dir = table_dir / f"tmp_merge_{new_info.name}"
    if metadata is None:
        raise BadArgumentsError("merge_parts needs the table metadata")
    t0 = time.perf_counter()
    parts = sorted(parts, key=lambda p: (p.info.min_block, p.info.max_block) if p.info else (0, 0))
    pids = {p.info.partition_id for p in parts if p.info is not None}
    if len(pids) > 1:
        raise BadArgumentsError(f"merge_parts: parts from different partitions {sorted(pids)}")
    block, rows_read, masked = read_source_block(parts)
    block, keys, collapsed, expired = merge_blocks(block, metadata, now=now, cleanup=cleanup,
                                                   sort_key_fn=sort_key_fn)
    tmp_dir = Path(tmp_dir)
    try:
        write_merged_part(tmp_dir, block, metadata, parts, keys=keys)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return MergeResult(tmp_dir, block.num_rows, rows_read, masked, expired, collapsed,
                       [p.name for p in parts], time.perf_counter() - t0)


def final_block(block, metadata, *, sort_key_fn: SortKeyFn | None = None):
    """SELECT ... FINAL over rows of several parts (concatenated in block-number order, masks applied)."""
    out, _, _, _ = merge_blocks(block, metadata, final=True, sort_key_fn=sort_key_fn, apply_ttl=False)
    return out
