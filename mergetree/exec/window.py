"""Window operator: ``f(..) OVER (PARTITION BY .. ORDER BY .. frame)`` (ClickHouse 26.x).

For every WindowGroup (calls sharing PARTITION BY + ORDER BY) the block is sorted once by
(partition id, order keys) -- the output keeps that order, as ClickHouse's window step does.
Then, over the sorted rows, with vectors instead of per-row Python:

- partitions and peer groups (rows equal in all ORDER BY keys) are runs: ``part_start/part_end``,
  ``peer_start/peer_end`` per row;
- each frame becomes two row-index arrays ``[start, end)``: ROWS offsets by arithmetic, RANGE
  CURRENT ROW by the peer runs, RANGE n PRECEDING/FOLLOWING by ClickHouse's forward-moving
  pointers over the single numeric ORDER BY key (kernels/window.range_scan, NULLs as ClickHouse);
- ranking functions come from the runs; lag/lead/lagInFrame/leadInFrame/nth_value gather one
  row (or the default);
- aggregates: count from the frame lengths, integer sum/avg from prefix sums, float sum/avg with
  ClickHouse's reset-on-moving-start running state (kernels/window.frame_sum_float), min/max with
  a monotonic deque, any/anyLast (first_value/last_value) by gathering. Any other aggregate (or
  Nullable / LowCardinality / Decimal arguments) goes through the aggregate registry: whole-partition
  frames as one group per partition, other frames by expanding every frame into rows labelled with
  their output row (chunked), then ``compute`` once per chunk.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import Block, Column, FixedColumn, NullableColumn, default_column
from mergetree.errors import MergeTreeError
from mergetree.exec.aggregate import collect
from mergetree.exec.cast import cast_column

#: rows of expanded frames per generic-aggregate batch
GENERIC_BATCH_ROWS = 4_000_000
#: at most this many rows of expanded frames for one call (O(rows x frame) work): past it a clear
#: error instead of a query that runs for hours
MAX_EXPANDED_FRAME_ROWS = 50_000_000


class TooManyRowsError(MergeTreeError):
    code = "TOO_MANY_ROWS"


def run_window(node, ctx, children):
    (child,) = children
    block = collect(child, node.child.schema)
    for group in node.groups:
        block = run_group(group, block)
    yield block


class Runs:
    """Partition and peer runs of a sorted block."""

    def __init__(self, n: int, part_change: np.ndarray, peer_change: np.ndarray):
        self.n = n
        idx = np.arange(n, dtype=np.int64)
        self.idx = idx
        self.part_change = part_change
        self.peer_change = peer_change
        self.part_no = np.cumsum(part_change) - 1
        starts = np.flatnonzero(part_change)
        ends = np.append(starts[1:], n)
        self.part_start, self.part_end = starts[self.part_no], ends[self.part_no]
        self.peer_no = np.cumsum(peer_change) - 1
        pstarts = np.flatnonzero(peer_change)
        pends = np.append(pstarts[1:], n)
        self.peer_start, self.peer_end = pstarts[self.peer_no], pends[self.peer_no]
        self.n_parts = len(starts)


def _partition_ids(block: Block, columns: list) -> np.ndarray:
    if not columns:
        return np.zeros(block.num_rows, np.int64)
    from mergetree.kernels.groupby import group_rows

    return group_rows([block[c] for c in columns])[0].astype(np.int64, copy=False)


def run_group(group, block: Block) -> Block:
    from mergetree.exec.sort import sort_keys
    from mergetree.kernels.sort import sort_permutation

    n = block.num_rows
    if n == 0:
        cols = dict(block.columns)
        for call in group.calls:
            cols[call.output] = default_column(call.type, 0)
        return Block(cols, 0)
    pid = _partition_ids(block, group.partition)
    keys = ([pid] if group.partition else []) + sort_keys(block, group.order)
    if keys:
        perm = sort_permutation(keys)
        block = block.take(perm)
        pid = pid[perm]
    part_change = np.ones(n, np.bool_)
    part_change[1:] = pid[1:] != pid[:-1]
    peer_change = part_change.copy()
    if group.order:
        from mergetree.kernels.groupby import group_rows

        oid = group_rows([block[o.column] for o in group.order])[0]
        peer_change[1:] |= oid[1:] != oid[:-1]
    runs = Runs(n, part_change, peer_change)
    frames: dict = {}
    cols = dict(block.columns)
    for call in group.calls:
        key = call.frame.key()
        if key not in frames:
            frames[key] = frame_bounds(call.frame, runs, block, group.order)
        cols[call.output] = compute_call(call, block, runs, frames[key])
    return Block(cols, n)


# ---------------------------------------------------------------------------- frames


def _order_values(block: Block, item):
    """(values as int64 / float64, NULL mask) of the single RANGE ORDER BY column (sorted rows)."""
    col = block[item.column]
    if hasattr(col, "dictionary"):
        col = col.decode()
    nulls = np.zeros(len(col), np.bool_)
    if isinstance(col, NullableColumn):
        nulls = col.nulls
        col = col.values
    v = col.values
    return (v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)), nulls


def frame_bounds(frame, runs: Runs, block: Block, order: list) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) row indexes per row of the sorted block: the frame is [start, end)."""
    i = runs.idx
    if frame.unit == "ROWS":
        def bound(kind, off, is_end):
            if kind == "UNBOUNDED PRECEDING":
                return runs.part_start
            if kind == "UNBOUNDED FOLLOWING":
                return runs.part_end
            shift = {"PRECEDING": -int(off or 0), "FOLLOWING": int(off or 0), "CURRENT ROW": 0}[kind]
            return np.clip(i + shift + (1 if is_end else 0), runs.part_start, runs.part_end)
        return bound(frame.start, frame.start_offset, False), bound(frame.end, frame.end_offset, True)
    ranged = None

    def bound(kind, off, is_end):
        nonlocal ranged
        if kind == "UNBOUNDED PRECEDING":
            return runs.part_start
        if kind == "UNBOUNDED FOLLOWING":
            return runs.part_end
        if kind == "CURRENT ROW":
            return runs.peer_end if is_end else runs.peer_start
        from mergetree.kernels.window import range_scan

        if ranged is None:
            ranged = _order_values(block, order[0])
        v, nulls = ranged
        direction = -1 if order[0].desc else 1
        # ClickHouse: the offset is subtracted for PRECEDING in ASC order (added in DESC)
        subtract = (kind == "PRECEDING") == (direction > 0)
        return range_scan(v, nulls, runs.part_start, runs.part_end, v.dtype.type(off), not subtract,
                          direction, is_end)

    return bound(frame.start, frame.start_offset, False), bound(frame.end, frame.end_offset, True)


# ---------------------------------------------------------------------------- calls


def _fixed(t, values) -> Column:
    return FixedColumn(t, np.ascontiguousarray(values, dtype=t.dtype))


def _gather(col: Column, index: np.ndarray, valid: np.ndarray, default: Column | None) -> Column:
    """col[index] where valid, else the default (the type's default value or a default column)."""
    n = len(index)
    if default is None:
        default = default_column(col.type, n)
    both = Column.concat([col, default])
    return both.take(np.where(valid, index, len(col) + np.arange(n, dtype=np.int64)))


def compute_call(call, block: Block, runs: Runs, bounds) -> Column:
    start, end = bounds
    name = call.name
    i = runs.idx
    if name == "row_number":
        return _fixed(T.UInt64, i - runs.part_start + 1)
    if name in ("rank", "dense_rank") and call.frame.unit == "ROWS":   # ROWS frame: every row is its own peer
        return _fixed(T.UInt64, i - runs.part_start + 1)
    if name == "rank":
        return _fixed(T.UInt64, runs.peer_start - runs.part_start + 1)
    if name == "dense_rank":
        first_peer = runs.peer_no[runs.part_start]
        return _fixed(T.UInt64, runs.peer_no - first_peer + 1)
    if name == "percent_rank":
        size = (runs.part_end - runs.part_start).astype(np.float64)
        rank = (runs.peer_start - runs.part_start).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return _fixed(T.Float64, np.where(size > 1, rank / np.maximum(size - 1, 1), 0.0))
    if name == "cume_dist":
        size = (runs.part_end - runs.part_start).astype(np.float64)
        return _fixed(T.Float64, (runs.peer_end - runs.part_start) / size)
    if name == "ntile":
        return _fixed(T.UInt64, ntile(call.params[0], i - runs.part_start, runs.part_end - runs.part_start))
    if name in ("lag", "lead", "lagInFrame", "leadInFrame"):
        offset = call.params[0]
        j = i - offset if name.startswith("lag") else i + offset
        lo, hi = (runs.part_start, runs.part_end) if name in ("lag", "lead") else (start, end)
        valid = (j >= lo) & (j < hi)
        default = block[call.args[1]] if len(call.args) > 1 else None
        if default is not None and default.type != block[call.args[0]].type:
            default = cast_column(default, block[call.args[0]].type)
        return _gather(block[call.args[0]], np.clip(j, 0, runs.n - 1), valid, default)
    if name in ("first_value_respect_nulls", "last_value_respect_nulls"):
        j = start if name.startswith("first") else end - 1
        return _gather(block[call.args[0]], np.clip(j, 0, runs.n - 1), end > start, None)
    if name == "nth_value":
        j = start + call.params[0] - 1
        valid = j < end
        return _gather(block[call.args[0]], np.clip(j, 0, runs.n - 1), valid, None)
    return aggregate(call, block, runs, start, end)


def ntile(buckets: int, pos: np.ndarray, size: np.ndarray) -> np.ndarray:
    """1-based bucket of the row at 0-based `pos` of a partition of `size` rows (the first
    ``size % buckets`` buckets get one row more)."""
    q, r = size // buckets, size % buckets
    big = r * (q + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        small = r + (pos - big) // np.maximum(q, 1)
    return np.where(pos < big, pos // (q + 1), small) + 1


# ---------------------------------------------------------------------------- aggregates

_FAST = {"sum", "count", "avg", "min", "max", "any", "anyLast"}


def _plain_numeric(col: Column) -> bool:
    return isinstance(col, FixedColumn) and isinstance(col.type, (T.IntType, T.FloatType)) and \
        col.values.ndim == 1


def aggregate(call, block: Block, runs: Runs, start, end) -> Column:
    fn = call.function
    args = [block[a] for a in call.args]
    base = fn.name
    length = np.maximum(end - start, 0)
    t = fn.type
    if base == "count" and all(isinstance(a, FixedColumn) for a in args) and not isinstance(t, T.NullableType):
        return _fixed(t, length)
    if base in _FAST and len(args) == 1 and _plain_numeric(args[0]) and not isinstance(t, T.NullableType):
        out = _fast_aggregate(base, args[0].values, start, end, length, t)
        if out is not None:
            return out
    if base in ("uniqExact", "countDistinct") and args and np.array_equal(start, runs.part_start) \
            and not isinstance(t, T.NullableType):
        return _running_distinct(args, runs, end, t)
    if base in ("sum", "avg", "min", "max", "count") and len(args) == 1 and isinstance(args[0], NullableColumn) \
            and _plain_numeric(args[0].values):
        out = _fast_nullable(base, args[0], start, end, t)
        if out is not None:
            return out
    return generic_aggregate(fn, args, runs, start, end)


def _running_distinct(args: list, runs: Runs, end, t) -> Column:
    """uniqExact over frames starting at the partition start (running distinct counts): the
    number of first occurrences of each (partition, value) before the frame end. Rows with a
    NULL argument do not count."""
    from mergetree.kernels.groupby import group_rows

    part = FixedColumn(T.Int64, runs.part_no.astype(np.int64))
    _, _, first = group_rows([part] + args)
    flags = np.zeros(runs.n + 1, np.int64)
    first = np.asarray(first, np.int64)
    nulls = np.zeros(runs.n, np.bool_)
    for a in args:
        if isinstance(a, NullableColumn):
            nulls |= a.nulls
    first = first[~nulls[first]]
    flags[first + 1] = 1
    prefix = np.cumsum(flags)
    return _fixed(t, np.maximum(prefix[end] - prefix[runs.part_start], 0))


def _fast_nullable(base, col: NullableColumn, start, end, t):
    """sum / avg / min / max / count of a Nullable number: NULL rows skipped, NULL result for a
    frame without non-NULL rows (count: 0)."""
    valid = ~col.nulls
    s, e = np.minimum(start, end), end
    cp = np.zeros(len(valid) + 1, np.int64)
    np.cumsum(valid, out=cp[1:])
    count = cp[e] - cp[s]
    if base == "count":
        return _fixed(t, count)
    v = col.values.values
    inner = t.inner if isinstance(t, T.NullableType) else t
    if base in ("min", "max"):
        if v.dtype.kind == "f":
            if np.isnan(v[valid]).any():
                return None
            fill = -np.inf if base == "max" else np.inf
        else:
            info = np.iinfo(v.dtype)
            fill = info.min if base == "max" else info.max
        vals = np.where(valid, v, fill).astype(v.dtype)
        out = _fast_aggregate(base, vals, start, end, np.maximum(end - start, 0), inner)
    else:
        vals = np.where(valid, v, 0).astype(v.dtype)
        out = _fast_aggregate("sum", vals, start, end, np.maximum(end - start, 0),
                              inner if base == "sum" else (T.Float64 if v.dtype.kind == "f" else
                                                           (T.UInt64 if v.dtype.kind == "u" else T.Int64)))
        if base == "avg":
            with np.errstate(invalid="ignore", divide="ignore"):
                out = _fixed(inner, out.values.astype(np.float64) / count)
    if out is None:
        return None
    empty = count == 0
    if not isinstance(t, T.NullableType):
        return out
    return NullableColumn(t, out, empty)


def _prefix(v: np.ndarray) -> np.ndarray:
    acc = np.uint64 if v.dtype.kind == "u" else np.int64
    out = np.zeros(len(v) + 1, acc)
    np.cumsum(v, dtype=acc, out=out[1:])
    return out


def _fast_aggregate(base, v, start, end, length, t):
    from mergetree.kernels import window as K

    empty = length == 0
    s, e = np.minimum(start, end), end
    if base in ("sum", "avg"):
        if v.dtype.kind == "f":
            total = K.frame_sum_float(v.astype(np.float64), start, end)
        else:
            p = _prefix(v)
            total = p[e] - p[s]
        if base == "sum":
            return _fixed(t, np.where(empty, 0, total).astype(t.dtype))
        with np.errstate(invalid="ignore", divide="ignore"):
            return _fixed(t, total.astype(np.float64) / length)
    if base in ("min", "max"):
        if v.dtype.kind == "f" and np.isnan(v).any():
            return None
        out, has = K.sliding_extreme(np.ascontiguousarray(v), start, end, base == "max")
        return _fixed(t, np.where(has, out, 0).astype(t.dtype))
    if base in ("any", "anyLast"):
        j = s if base == "any" else np.maximum(e - 1, 0)
        return _fixed(t, np.where(empty, 0, v[np.clip(j, 0, max(len(v) - 1, 0))]).astype(t.dtype))
    return None


def generic_aggregate(fn, args: list, runs: Runs, start, end) -> Column:
    """Any aggregate through the registry's ``compute(ids, n_groups, args)``."""
    n = runs.n
    if np.array_equal(start, runs.part_start) and np.array_equal(end, runs.part_end):
        res = fn.compute(runs.part_no.astype(np.int64), runs.n_parts, args)
        return res.take(runs.part_no)
    length = np.maximum(end - start, 0)
    total = int(length.sum())
    if total > MAX_EXPANDED_FRAME_ROWS:
        raise TooManyRowsError(
            f"Window function {fn.name} over these frames would aggregate {total} rows ({n} rows x their "
            f"frames); only sum, avg, count, min, max, any, anyLast stream over moving frames -- use a ROWS frame "
            f"with a bounded start or PARTITION BY to make the frames smaller")
    pieces = []
    row = 0
    while row < n:
        # as many rows as fit in one batch of expanded frames (at least one row)
        cum = np.cumsum(length[row:])
        stop = row + max(1, int(np.searchsorted(cum, GENERIC_BATCH_ROWS, side="right")))
        stop = min(stop, n)
        lens = length[row:stop]
        total = int(lens.sum())
        ids = np.repeat(np.arange(stop - row, dtype=np.int64), lens)
        first = np.repeat(start[row:stop] - (np.cumsum(lens) - lens), lens)
        idx = first + np.arange(total, dtype=np.int64)
        pieces.append(fn.compute(ids, stop - row, [a.take(idx) for a in args]))
        row = stop
    return pieces[0] if len(pieces) == 1 else Column.concat(pieces)
