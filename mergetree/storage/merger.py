"""The merger (mechanism): turn several parts of one partition into one new part.

The selector (`merge_selector`) decides *which* parts; this module does the work,
outside the table's locks, into a `tmp_merge_*` directory the table renames:

1. `read_source_block`: read every column of each source part, in block-number
   order, dropping rows masked by a lightweight delete (`mutations.read_row_mask`).
2. Concatenate the blocks (older blocks first).
3. `sorting_key_block`: evaluate the sorting-key expressions (column
   references are taken as is; `toDate(ts)` is evaluated by
   `exec.expression.evaluate`), then `merge_permutation`: each source is already
   sorted, so the numba k-way merge kernel (`kernels.merge.kway_merge`, nogil)
   interleaves them with a heap of cursors, comparing String keys as bytes.
   Rows with equal keys keep block-number order, which is what "last inserted
   wins" needs. (`sort_by_key` without bounds is the stable `np.lexsort` twin.)
4. The engine's merging algorithm (`merging.algorithm_for(metadata)`) reduces
   runs of equal keys (Replacing/Summing/Collapsing; numba kernels, nogil).
5. Table TTL: rows whose TTL moment is <= `now` are dropped (`ttl.expired_mask`),
   after the engine rule, as ClickHouse's TTL transform runs on merged rows.
   When every source part has fully expired (their `ttl.txt` says so), nothing
   is read: the result is an empty part.
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

def read_source_block(parts: list, with_bounds: bool = False, metadata=None):
    """All columns of `parts` (sorted by block number), masked rows removed, concatenated.

    Returns (block, rows_read, rows_masked), plus with `with_bounds` the run bounds (rows of
    the i-th non-empty part are ``bounds[i]:bounds[i+1]``) and those parts' names.
    With `metadata`, the table's columns are read (a part written before an ALTER ... COLUMN is
    read through its schema patch: the merged part gets the table's current columns).
    """
    from mergetree.column import Block
    from mergetree.storage.mutations import read_row_mask

    if not parts:
        raise BadArgumentsError("merge_parts: no parts to merge")
    table_columns = getattr(metadata, "column_names", None)
    names = [n for n, _ in parts[0].columns] if table_columns is None else list(table_columns)
    for p in parts[1:] if table_columns is None else ():
        if [n for n, _ in p.columns] != names:
            raise BadArgumentsError(f"merge_parts: part {p.name} has columns {[n for n, _ in p.columns]}, "
                                    f"part {parts[0].name} has {names}")
    blocks = []
    bounds = [0]
    run_names = []
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
        if b.num_rows:
            blocks.append(b)
            bounds.append(bounds[-1] + b.num_rows)
            run_names.append(p.name)
    if not blocks:
        from mergetree.column import default_column

        types = parts[0].columns if table_columns is None else metadata.schema
        out = Block({n: default_column(t, 0) for n, t in types}), 0, 0
    else:
        out = (Block.concat(blocks) if len(blocks) > 1 else blocks[0]), rows_read, masked
    return (*out, np.asarray(bounds, dtype=np.int64), run_names) if with_bounds else out


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


def merge_permutation(keys, bounds: np.ndarray) -> np.ndarray:
    """Permutation merging runs already sorted by `keys` (a key Block; run p is rows
    ``bounds[p]:bounds[p+1]``), equal keys in run order: the k-way merge kernel."""
    from mergetree.kernels import merge as km
    from mergetree.storage.merging import key_parts

    n = keys.num_rows
    fixed_cols, strings, spec = [], [], []
    for column in keys.columns.values():
        for piece in key_parts(column):
            if piece[0] == "string":
                spec.append(-(len(strings) + 1))
                strings.append((piece[1], piece[2]))
            else:
                spec.append(len(fixed_cols))
                fixed_cols.append(km.to_u64_key(piece[1]))
    fixed = np.empty((n, len(fixed_cols)), dtype=np.uint64)
    for j, col in enumerate(fixed_cols):
        fixed[:, j] = col
    soff = np.empty((len(strings), n + 1), dtype=np.int64)
    sbase = np.zeros(len(strings), dtype=np.int64)
    for j, (offsets, data) in enumerate(strings):
        soff[j] = offsets
        if j + 1 < len(strings):
            sbase[j + 1] = sbase[j] + data.shape[0]
    sdata = np.concatenate([d for _, d in strings]) if strings else np.zeros(0, dtype=np.uint8)
    return km.kway_merge(bounds, fixed, np.asarray(spec, dtype=np.int64), soff, sdata, sbase)


def sort_by_key(block, keys, bounds: np.ndarray | None = None):
    """Stable sort of `block` and its key block by the key (identity skipped).

    With `bounds` (the rows of each source part, each already sorted) the k-way
    merge kernel is used; otherwise a stable `np.lexsort` of the order keys.
    """
    n = block.num_rows
    if n <= 1 or not keys.columns or (bounds is not None and len(bounds) <= 2):
        return block, keys
    if bounds is not None:
        perm = merge_permutation(keys, bounds)  # raises UnsortedRunError for an unsorted source
    else:
        arrays = _order_arrays(keys)
        perm = np.lexsort(arrays[::-1])
    if np.all(perm[1:] > perm[:-1]):
        return block, keys
    return block.take(perm), None  # keys are re-derived from the sorted block (no second gather)


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
                 sort_key_fn: SortKeyFn | None = None, apply_ttl: bool = True, bounds: np.ndarray | None = None):
    """Steps 3-5 on an already concatenated block: sort, engine rule, TTL.

    `bounds`: the block is a concatenation of runs each sorted by the key (see
    `sort_by_key`). Returns (block, keys, rows_collapsed, rows_expired).
    """
    from mergetree.storage.merging import algorithm_for
    from mergetree.storage.ttl import expired_mask

    def key_of(b):
        return sort_key_fn(b) if sort_key_fn is not None else sorting_key_block(b, metadata)

    block, keys = sort_by_key(block, key_of(block), bounds)
    if keys is None:
        keys = key_of(block)
    before = block.num_rows
    algorithm = algorithm_for(metadata)
    if algorithm.needs_merge_on_read and block.num_rows:
        collapsed = algorithm.collapse(block, keys, final=final, cleanup=cleanup)
        if collapsed is not block:
            block = collapsed
            keys = key_of(block)
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
    from mergetree.storage.ttl import part_fully_expired

    now = time.time() if now is None else now
    if all(p.rows == 0 or part_fully_expired(p, metadata, now) for p in parts) and any(p.rows for p in parts):
        # every row has expired (known from ttl.txt): write the empty result without reading
        from mergetree.column import Block, default_column

        empty = Block({n: default_column(t, 0) for n, t in getattr(metadata, "schema", parts[0].columns)})
        tmp_dir = Path(tmp_dir)
        write_merged_part(tmp_dir, empty, metadata, parts)
        total = sum(p.rows for p in parts)
        return MergeResult(tmp_dir, 0, 0, 0, total, 0, [p.name for p in parts], time.perf_counter() - t0)
    block, rows_read, masked, bounds, run_names = read_source_block(parts, with_bounds=True, metadata=metadata)
    from mergetree.kernels.merge import UnsortedRunError

    try:
        block, keys, collapsed, expired = merge_blocks(block, metadata, now=now, cleanup=cleanup,
                                                       sort_key_fn=sort_key_fn, bounds=bounds)
    except UnsortedRunError as e:
        from mergetree.errors import CorruptedPartError

        raise CorruptedPartError(run_names[e.run], "primary.idx", f"rows are not sorted by the sorting key "
                                                      f"(row {e.row} after masks); refusing to merge") from None
    tmp_dir = Path(tmp_dir)
    try:
        write_merged_part(tmp_dir, block, metadata, parts, keys=keys)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return MergeResult(tmp_dir, block.num_rows, rows_read, masked, expired, collapsed,
                       [p.name for p in parts], time.perf_counter() - t0)


def final_block(block, metadata, *, sort_key_fn: SortKeyFn | None = None, bounds=None):
    """SELECT ... FINAL over rows of several parts (concatenated in block-number order, masks applied).

    Pass `bounds` (rows of part i at ``bounds[i]:bounds[i+1]``, each part's rows still in key
    order, e.g. after granule pruning) to use the k-way merge instead of a full sort.
    """
    if bounds is not None:
        bounds = np.asarray(bounds, dtype=np.int64)
    out, _, _, _ = merge_blocks(block, metadata, final=True, sort_key_fn=sort_key_fn, apply_ttl=False,
                                bounds=bounds)
    return out
