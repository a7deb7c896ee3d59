"""Source operators: ReadFromMergeTree (the table's pruned read path), ReadNumbers, ReadOne,
ReadBlock. Each yields Blocks."""

from __future__ import annotations

import os
import threading

import numpy as np

from mergetree import types as T
from mergetree.column import Block, FixedColumn
from mergetree.errors import CorruptedPartError

#: rows per block produced by numbers()
NUMBERS_BLOCK = 65536


#: a read task covers at least this many granules (smaller tasks cost more than they save)
MIN_TASK_MARKS = 32
#: a read of at most this many granules in all runs on the calling thread: handing a few
#: granules to workers costs more than reading them (a point lookup reads 1-2 per part)
INLINE_READ_MARKS = 16


def read_merge_tree(node, ctx, children, transform=None):
    """Blocks of a MergeTree table, one per read task (a part's selected granule ranges, split so
    that `max_threads` tasks run at once; the codecs and kernels release the GIL).

    1. Partition/minmax pruning (KeyCondition.may_match_part) and granule selection by the
       primary index (select_mark_ranges) for every part of a snapshot (pinned while reading).
    2. Each task reads its granules, drops lightweight-deleted rows and applies the exact WHERE.
    3. Blocks come out in part order; at most `max_threads` tasks run ahead, so a LIMIT that stops
       pulling stops the reading.
    4. `transform(block)` (the executor's per-block operators above the scan, and an aggregation's
       partial step) runs inside the task, on the worker thread; its result is what is yielded.

    FINAL merges rows across parts, so it goes through MergeTreeTable.read (storage/table.py)."""
    table = node.table
    if node.final:
        block, stats = table.read(columns=node.columns, where=node.where, final=True, with_stats=True)
        ctx.rows_read += stats.rows_read
        ctx.bytes_read += stats.bytes_read
        yield transform(block) if transform is not None else block
        return
    if node.key_bounds:
        yield from _read_key_bounds(node, ctx, transform)
        return
    from mergetree.exec.expression import bind
    from mergetree.planner.rewrite import identifiers
    from mergetree.storage.key_condition import KeyCondition, _columns_read
    from mergetree.storage.mutations import read_row_mask

    needed = list(node.columns)
    condition = bound = point = None
    prewhere: list = []
    if node.where is not None:
        bound = bind(node.where, dict(node.table_schema))
        read = _columns_read(bound)          # the columns the bound condition reads (no AST walk)
        where_columns = sorted(read) if read is not None else sorted(identifiers(node.where))
        needed += [c for c in where_columns if c not in needed]
        condition = KeyCondition.for_table(table.metadata, node.where, bound_where=bound)
        point = _key_point(table.metadata, bound)
        if node.prewhere and set(needed) - set(where_columns):
            prewhere = where_columns
    threads = max(1, int(ctx.settings.get("max_threads", 2)))
    with table.snapshot() as snap:
        selected = []
        for part in snap.parts:
            if part.rows == 0 or (condition is not None and not condition.may_match_part(part)):
                continue
            ranges = [(0, part.marks)] if condition is None else \
                condition.select_mark_ranges(part.primary_index, part.marks)
            if node.limit_hint is not None and read_row_mask(part) is None:
                ranges = _first_granules(ranges, part.granule_rows, node.limit_hint, node.order == "desc")
            if ranges:
                selected.append((part, ranges))
        total = sum(b - a for _, ranges in selected for a, b in ranges)
        chunk = max(MIN_TASK_MARKS, -(-total // threads))
        tasks = [(part, piece) for part, ranges in selected for piece in _split_ranges(ranges, chunk)]
        cache = _cache_for(ctx.settings, selected)

        def run(task):
            try:
                if point is not None:
                    block, rows, nbytes = _read_task_point(task[0], task[1], needed, where_columns, bound,
                                                           node.columns, cache, point)
                elif prewhere:
                    block, rows, nbytes = _read_task_prewhere(task[0], task[1], needed, prewhere, bound, node.columns,
                                                              cache, point)
                else:
                    block, rows, nbytes = _read_task(task[0], task[1], needed, bound, node.columns, cache, point)
            except CorruptedPartError as e:      # as storage/select.py: detach the part, fail this query
                table._quarantine(task[0], e)
                raise
            return (transform(block) if transform is not None else block), rows, nbytes

        if total <= INLINE_READ_MARKS:
            threads = 1
        for block, rows, nbytes in _ordered_map(run, tasks, threads):
            ctx.rows_read += rows
            ctx.bytes_read += nbytes
            yield block


def _cache_for(settings, selected):
    """The uncompressed cache when this read is small enough to use it (ClickHouse's rule: at
    most merge_tree_max_rows_to_use_cache rows / merge_tree_max_bytes_to_use_cache bytes selected
    in all; a big scan would only evict what the small queries reuse), else None."""
    from mergetree.storage.read_cache import cache_settings, uncompressed_cache

    use, max_rows, max_bytes = cache_settings(settings)
    if not use:
        return None
    rows = 0
    for part, ranges in selected:
        rows += sum(b - a for a, b in ranges) * part.index_granularity   # granules hold at most this
        if rows > max_rows:
            return None
    if rows * 64 > max_bytes:   # rough bytes bound without reading column sizes: 64 B a row
        rows_bytes = sum(sum(b - a for a, b in ranges) * part.index_granularity
                         * part.bytes_on_disk // max(1, part.rows) for part, ranges in selected)
        if rows_bytes > max_bytes:
            return None
    return uncompressed_cache


def _read_key_bounds(node, ctx, transform):
    """Per part, a two-row block of the first key column: its first and final primary-index
    entries (the part's smallest and largest value). A part with lightweight-deleted rows, or whose
    index column has another type, is read whole instead."""
    from mergetree.storage.mutations import read_row_mask

    (column,) = node.columns
    column_type = dict(node.table_schema)[column]
    with node.table.snapshot() as snap:
        for part in snap.parts:
            if part.rows == 0:
                continue
            index = list(part.primary_index.columns.values())
            if read_row_mask(part) is None and index and index[0].type == column_type \
                    and len(index[0]) == part.marks + 1:
                block = Block({column: index[0].take(np.array([0, part.marks], np.int64))})
            else:
                try:
                    block, rows, nbytes = _read_task(part, [(0, part.marks)], [column], None, [column])
                except CorruptedPartError as e:
                    node.table._quarantine(part, e)
                    raise
                ctx.rows_read += rows
                ctx.bytes_read += nbytes
            yield transform(block) if transform is not None else block


def _key_point(metadata, bound):
    """(column, value bytes, the other conjuncts, whether they read the column) when the bound
    WHERE is an AND with a conjunct
    ``c = 'constant'`` on the first sorting-key column ``c`` of type String: within a part the rows
    are sorted by it, so the rows that can match are one run, found by binary search
    (`_read_task_point`, `_where_keep`); the other conjuncts are evaluated on that run only. Else None."""
    from mergetree.exec.expression import BCall, BColumn, BConst
    from mergetree.storage.key_condition import _columns_read, _conjuncts

    name = _string_key_column(metadata)
    if name is None or not _row_wise(bound):
        return None
    conjuncts = _conjuncts(bound)
    for i, c in enumerate(conjuncts):
        if not (isinstance(c, BCall) and c.name == "equals" and len(c.args) == 2):
            continue
        x, y = c.args
        if isinstance(y, BColumn):
            x, y = y, x
        if isinstance(x, BColumn) and x.name == name and str(x.type) == "String" \
                and isinstance(y, BConst) and str(y.type) == "String":
            v = y.pyvalue
            rest = conjuncts[:i] + conjuncts[i + 1:]
            # whether the other conjuncts read the key column (then the task builds it)
            reads_key = any(r is None or name in r for r in map(_columns_read, rest))
            if isinstance(v, str):
                return name, v.encode("utf-8", "surrogateescape"), rest, reads_key
            if isinstance(v, (bytes, bytearray)):
                return name, bytes(v), rest, reads_key
    return None


_KEY_COLUMN: dict = {}


def _string_key_column(metadata):
    """The first sorting-key column when it is a plain String column, else None (remembered per
    metadata object; a stale answer only costs the optimisation: `_where_keep` checks the column)."""
    hit = _KEY_COLUMN.get(id(metadata))
    if hit is not None and hit[0] is metadata:
        return hit[1]
    from sqlparse_ch.ast import expr as E

    keys = metadata.sorting_key_asts
    name = None
    if keys and isinstance(keys[0], E.Identifier) and getattr(keys[0], "table", None) is None \
            and str(dict(metadata.schema).get(keys[0].name)) == "String":
        name = keys[0].name
    if len(_KEY_COLUMN) > 256:
        _KEY_COLUMN.clear()
    _KEY_COLUMN[id(metadata)] = (metadata, name)
    return name


#: functions whose value for a row depends on the other rows of the block
_BLOCK_DEPENDENT = frozenset({"rowNumberInBlock", "rowNumberInAllBlocks", "blockSize", "runningDifference",
                              "runningDifferenceStartingWithFirstValue", "runningAccumulate", "neighbor",
                              "blockNumber"})


def _row_wise(b) -> bool:
    """A bound expression made only of columns, constants, IN lists and functions computed row
    by row (so evaluating it on a slice of the block gives that slice of the result)."""
    from mergetree.exec.expression import BCall, BColumn, BConst, BIn

    stack = [b]
    while stack:
        b = stack.pop()
        if isinstance(b, BCall):
            if b.name in _BLOCK_DEPENDENT:
                return False
            stack.extend(b.args)
        elif isinstance(b, BIn):
            stack.append(b.arg)
        elif not isinstance(b, (BColumn, BConst)):
            return False
    return True


def _where_keep(bound, block, point):
    """Rows of `block` (one part's granules, in sorting-key order) where the bound WHERE holds.
    With a key point (`_key_point`) the condition is evaluated only on the run of rows whose
    first key column equals the constant: every other row fails that conjunct."""
    from mergetree.column import StringColumn
    from mergetree.exec.expression import execute as execute_expr
    from mergetree.exec.filter import truth

    n = block.num_rows
    if point is not None and n:
        col = block.columns.get(point[0])
        if isinstance(col, StringColumn):
            from mergetree.kernels.keyrange import string_equal_range

            lo, hi = string_equal_range(col.offsets, col.data, point[1])
            keep = np.zeros(n, np.bool_)
            if hi > lo:
                keep[lo:hi] = truth(execute_expr(bound, block.slice(lo, hi)), hi - lo)
            return keep
    return truth(execute_expr(bound, block), n)


#: comparison functions -> the numpy operator (`_compare_fast`), and the one with its arguments swapped
_COMPARE = {"equals": ("__eq__", "__eq__"), "notEquals": ("__ne__", "__ne__"), "less": ("__lt__", "__gt__"),
            "greater": ("__gt__", "__lt__"), "lessOrEquals": ("__le__", "__ge__"),
            "greaterOrEquals": ("__ge__", "__le__")}


def _compare_fast(c, block):
    """The bool mask of a conjunct ``column op constant`` (or ``constant op column``) whose column
    and constant have the same integer, Date or DateTime type (their stored integers compare as
    the values do), computed with one numpy comparison; None for any other conjunct."""
    from mergetree.exec.expression import BCall, BColumn, BConst

    if c.__class__ is not BCall or len(c.args) != 2:
        return None
    ops = _COMPARE.get(c.name)
    if ops is None:
        return None
    x, y = c.args
    op = ops[0]
    if x.__class__ is BConst:
        x, y, op = y, x, ops[1]
    if x.__class__ is not BColumn or y.__class__ is not BConst or x.type != y.type \
            or not isinstance(x.type, (T.IntType, T.DateType, T.Date32Type, T.DateTimeType)):
        return None
    col = block.columns.get(x.name)
    const = y.value.data
    if not isinstance(col, FixedColumn) or not isinstance(const, FixedColumn) or col.values.ndim != 1 \
            or col.values.dtype != const.values.dtype or col.values.dtype.kind not in "iu":
        return None
    return getattr(col.values, op)(const.values[0])


def _conjuncts_keep(conjuncts, block):
    """Rows of `block` where every bound conjunct holds (NULL counts as false, as in WHERE)."""
    from mergetree.exec.expression import execute as execute_expr
    from mergetree.exec.filter import truth

    n = block.num_rows
    keep = None
    for c in conjuncts:
        m = _compare_fast(c, block)
        if m is None:
            m = truth(execute_expr(c, block), n)
        keep = m if keep is None else keep & m
    return keep


#: a run of at most this many rows is read with the fixed-width columns outside the WHERE in the
#: first pass (cutting a few rows of them costs less than a second read)
POINT_ONE_PASS_ROWS = 256


def _read_task_point(part, ranges, needed, where_columns, bound, columns, cache, point):
    """A task of a point lookup (`_key_point`): binary search of the key value in the key column
    as stored (`DataPart.key_run`), then only the run of rows holding it is read from the other
    columns, and the WHERE's other conjuncts are evaluated on it. A long run is read in two
    passes: the WHERE's columns first, the other columns only for the rows that match. The key
    column itself is the constant repeated. Falls back to the general tasks when the part stores
    the key column otherwise."""
    from mergetree.storage.mutations import read_row_mask

    key, value, rest, rest_reads_key = point
    run = part.key_run(key, ranges, value, cache)
    if run is None:
        prewhere = where_columns if set(needed) - set(where_columns) else []
        if prewhere:
            return _read_task_prewhere(part, ranges, needed, prewhere, bound, columns, cache, point)
        return _read_task(part, ranges, needed, bound, columns, cache, point)
    lo, hi, rows, nbytes = run
    n = hi - lo
    if n <= POINT_ONE_PASS_ROWS:     # variable-width columns are decoded for the matching rows only
        first = [c for c in needed if c != key and (c in where_columns or part.fixed_width(c))]
        second = [c for c in needed if c != key and c not in first]
    else:
        first = [c for c in where_columns if c != key]
        second = [c for c in needed if c != key and c not in where_columns]
    wblock = part.read(first, ranges, cache=cache, copy=False, rows=(lo, hi))
    if n:
        nbytes += wblock.nbytes * rows // n
    cols = wblock.columns
    if rest_reads_key or key in columns:
        from mergetree.functions.values import string_const

        cols[key] = string_const(value, n).materialize()
    block = Block.trusted(cols, n)
    keep = _conjuncts_keep(rest, block) if n and rest else None
    row_mask = read_row_mask(part)
    if row_mask is not None and n:
        live = _rows_of_ranges(row_mask, part.granule_rows, ranges)[lo:hi]
        keep = live if keep is None else keep & live
    if keep is not None and keep.all():
        keep = None
    if keep is not None:
        block = block.filter(keep)
    if second:
        if block.num_rows:
            oblock = part.read(second, ranges, cache=cache, copy=False, rows=(lo, hi), mask=keep)
            nbytes += oblock.nbytes * rows // max(1, block.num_rows)
        else:
            oblock = part.read(second, ranges, cache=cache, copy=False, rows=(lo, lo))
        block = Block.trusted({**block.columns, **oblock.columns}, block.num_rows)
    return block.select(columns), rows, nbytes


def _read_task(part, ranges, needed, bound, columns, cache=None, point=None):
    from mergetree.storage.mutations import read_row_mask

    # the block is filtered below (a copy) unless there is no condition: only then copy cached bytes
    block = part.read(needed, ranges, cache=cache, copy=bound is None)
    rows, nbytes = block.num_rows, block.nbytes
    mask = read_row_mask(part)
    if mask is not None:
        block = block.filter(_rows_of_ranges(mask, part.granule_rows, ranges))
    if bound is not None and block.num_rows:
        block = block.filter(_where_keep(bound, block, point))
    return block.select(columns), rows, nbytes


def _read_task_prewhere(part, ranges, needed, prewhere, bound, columns, cache=None, point=None):
    """PREWHERE: read the condition's columns, evaluate it, then read the other columns only for
    granules that still have a matching row."""
    from mergetree.column import Block
    from mergetree.storage.mutations import read_row_mask

    wblock = part.read(prewhere, ranges, cache=cache, copy=False)   # every column is filtered below
    rows, nbytes = wblock.num_rows, wblock.nbytes
    keep = _where_keep(bound, wblock, point) if rows else np.zeros(0, np.bool_)
    row_mask = read_row_mask(part)
    if row_mask is not None:
        keep = keep & _rows_of_ranges(row_mask, part.granule_rows, ranges)
    hits = np.flatnonzero(keep)
    rest = [c for c in needed if c not in prewhere]
    if len(ranges) == 1 and ranges[0][1] - ranges[0][0] == 1:
        # one granule (a point lookup's usual task): it is live iff it has a match
        live_runs, keep_live = (list(ranges), keep) if len(hits) else ([], keep[:0])
    else:
        # granule of every matching row: row k of the block is in the granule whose cumulative
        # row count first exceeds k (no per-row granule array: the matches are usually few)
        granules = np.concatenate([np.arange(a, b) for a, b in ranges])
        ends = np.cumsum(part.granule_rows[granules], dtype=np.int64)
        hit_pos = np.unique(np.searchsorted(ends, hits, side="right"))  # positions in `granules`
        live_runs = _runs(granules[hit_pos])
        starts = ends - part.granule_rows[granules]
        # `granules` is sorted, so a run of granule numbers is a run of positions in it
        pieces = [keep[starts[np.searchsorted(granules, a)]:ends[np.searchsorted(granules, b - 1)]]
                  for a, b in live_runs]
        keep_live = np.concatenate(pieces) if pieces else np.zeros(0, np.bool_)
    # the other columns come back with only the matching rows (dictionary strings are decoded
    # for those rows only); bytes_read counts the granules read, as before
    oblock = part.read(rest, live_runs, cache=cache, copy=False, mask=keep_live)
    nbytes += oblock.nbytes * len(keep_live) // max(1, len(hits))
    # the condition's columns are filtered straight from the whole block, and only the ones the
    # query returns (user_id in `WHERE user_id = ..` usually is not)
    wcols = {c: col.filter(keep) for c, col in wblock.columns.items() if c in columns}
    merged = Block({**wcols, **oblock.columns}, len(hits))
    return merged.select(columns), rows, nbytes


def _runs(granules: np.ndarray) -> list[tuple[int, int]]:
    """Sorted granule numbers -> [begin, end) ranges of consecutive granules."""
    if len(granules) == 0:
        return []
    breaks = np.flatnonzero(np.diff(granules) != 1)
    starts = np.concatenate([[granules[0]], granules[breaks + 1]])
    ends = np.concatenate([granules[breaks], [granules[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist()))


_POOL = None
_POOL_LOCK = threading.Lock()
_IN_WORKER = threading.local()


def _pool():
    """The read tasks' worker threads, shared by every query of the process (a pool per query
    cost ~0.3 ms of thread start-up and shutdown per query). Each query keeps at most its
    `max_threads` tasks in flight, so one query cannot take every worker."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                from concurrent.futures import ThreadPoolExecutor

                _POOL = ThreadPoolExecutor(max(8, 2 * (os.cpu_count() or 2)), thread_name_prefix="mergetree-read",
                                           initializer=_mark_worker)
    return _POOL


def _mark_worker() -> None:
    _IN_WORKER.active = True


def _ordered_map(fn, items: list, threads: int):
    """fn over items with up to `threads` running ahead; results in item order.

    On a worker of the shared pool (a subquery evaluated inside a read task) the items run
    inline: a worker waiting for tasks queued behind it could wait forever."""
    if threads <= 1 or len(items) <= 1 or getattr(_IN_WORKER, "active", False):
        for item in items:
            yield fn(item)
        return
    from collections import deque

    pool = _pool()
    window: deque = deque()
    try:
        for item in items:
            window.append(pool.submit(fn, item))
            if len(window) >= threads:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for f in window:
            f.cancel()
        for f in window:            # a task already running must not outlive the snapshot it reads
            if not f.cancelled():
                try:
                    f.result()
                except BaseException:  # noqa: BLE001 - the query is over; its error was reported
                    pass


def _first_granules(ranges: list, granule_rows: np.ndarray, rows: int, from_end: bool) -> list:
    """The leading (trailing) granules of `ranges` that hold at least `rows` rows."""
    granules = np.concatenate([np.arange(a, b) for a, b in ranges])
    if from_end:
        granules = granules[::-1]
    need = int(np.searchsorted(np.cumsum(granule_rows[granules]), rows)) + 1
    return _runs(np.sort(granules[:need]))


def _split_ranges(ranges: list, max_marks: int) -> list[list]:
    """Mark ranges cut into consecutive pieces of at most max_marks granules each."""
    pieces, current, size = [], [], 0
    for a, b in ranges:
        while a < b:
            take = min(b - a, max_marks - size)
            current.append((a, a + take))
            size += take
            a += take
            if size == max_marks:
                pieces.append(current)
                current, size = [], 0
    if current:
        pieces.append(current)
    return pieces


def _rows_of_ranges(mask: np.ndarray, granule_rows: np.ndarray, ranges: list) -> np.ndarray:
    """The part of a whole-part row mask that covers the granules in `ranges`."""
    starts = np.concatenate([[0], np.cumsum(granule_rows, dtype=np.int64)])
    return np.concatenate([mask[starts[a]:starts[b]] for a, b in ranges])


def count_from_metadata(node, ctx, children):
    yield Block({node.output: FixedColumn(T.UInt64, np.array([node.table.count()], np.uint64))})


def read_numbers(node, ctx, children):
    import itertools

    start = node.start
    end = start + node.count if node.count is not None else None
    starts = range(start, end, NUMBERS_BLOCK) if end is not None else itertools.count(start, NUMBERS_BLOCK)
    for a in starts:
        b = a + NUMBERS_BLOCK if end is None else min(a + NUMBERS_BLOCK, end)
        ctx.rows_read += b - a
        ctx.bytes_read += 8 * (b - a)
        yield Block({"number": FixedColumn(T.UInt64, np.arange(a, b, dtype=np.uint64))})


def read_one(node, ctx, children):
    ctx.rows_read += 1
    ctx.bytes_read += 1
    yield Block({"dummy": FixedColumn(T.UInt8, np.zeros(1, np.uint8))})


def read_block(node, ctx, children):
    yield node.block
