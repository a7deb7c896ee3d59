"""Group-by kernels: rows -> dense group ids numbered in order of first appearance.

Conventions (as numbagg/pandas kernels): group ids are int64 labels 0..G-1, ``-1`` means "skip this
row" for the aggregate kernels. Every kernel has a plain-numpy twin (``*_numpy``) the tests compare
it with on random arrays.

1. `group_u64(keys)`: open-addressing hash table over uint64 keys (fmix64 hash, linear probing,
   grows at 1/2 load) -> (ids, first_rows).
2. `group_dense(codes, size)`: keys already in ``0..size-1`` (dictionary codes, small integer
   ranges): one lookup table instead of a hash table.
3. `occurrence_index(ids, G)`: 0-based position of each row among the earlier rows of its group
   (LIMIT n BY).
4. `same_as_first(offsets, data, ids, first)`: every string equals the first string of its group
   (checks the hash grouping of String keys: group by the 64-bit hash of each string, then verify
   there was no collision; a collision falls back to grouping the bytes themselves).

Column dispatch (which kernel for which column layout) lives in ``factorize`` / ``group_rows``.
"""

from __future__ import annotations

import numba
import numpy as np

from mergetree.kernels.hashing import fmix64, key_bits

#: integer key ranges up to this many slots per row use the dense lookup table
_DENSE_FACTOR = 4


@numba.njit(nogil=True, cache=True)
def _group_u64(keys):
    n = keys.shape[0]
    ids = np.empty(n, np.int64)
    first = np.empty(max(n, 1), np.int64)
    cap = 16
    while cap < 2 * min(n, 1 << 16):
        cap *= 2
    slots = np.full(cap, -1, np.int64)
    stored = np.empty(max(n, 1), np.uint64)
    count = 0
    mask = np.uint64(cap - 1)
    for i in range(n):
        k = keys[i]
        pos = np.int64(fmix64(k) & mask)
        while True:
            g = slots[pos]
            if g == -1:
                slots[pos] = count
                stored[count] = k
                first[count] = i
                ids[i] = count
                count += 1
                if 2 * count > cap:
                    cap *= 2
                    mask = np.uint64(cap - 1)
                    slots = np.full(cap, -1, np.int64)
                    for gg in range(count):
                        p = np.int64(fmix64(stored[gg]) & mask)
                        while slots[p] != -1:
                            p = (p + 1) & (cap - 1)
                        slots[p] = gg
                break
            if stored[g] == k:
                ids[i] = g
                break
            pos = (pos + 1) & (cap - 1)
    return ids, first[:count]


def group_u64(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group id per row, first row of each group) of uint64 keys, ids in first-appearance order."""
    return _group_u64(np.ascontiguousarray(keys, dtype=np.uint64))


def _first_appearance(inverse: np.ndarray, first_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber np.unique's sorted group ids into first-appearance order."""
    order = np.argsort(first_sorted, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], first_sorted[order].astype(np.int64)


def group_u64_numpy(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Twin of group_u64 (sort-based)."""
    _, first, inverse = np.unique(np.asarray(keys, np.uint64), return_index=True, return_inverse=True)
    return _first_appearance(inverse, first)


@numba.njit(nogil=True, cache=True)
def _group_dense(codes, size):
    n = codes.shape[0]
    table = np.full(size, -1, np.int64)
    ids = np.empty(n, np.int64)
    first = np.empty(min(n, size) if n > 0 else 0, np.int64)
    count = 0
    for i in range(n):
        c = codes[i]
        g = table[c]
        if g == -1:
            g = count
            table[c] = g
            first[g] = i
            count += 1
        ids[i] = g
    return ids, first[:count]


def group_dense(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Like group_u64 for integer codes in 0..size-1."""
    return _group_dense(np.ascontiguousarray(codes, dtype=np.int64), int(size))


def group_dense_numpy(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    _, first, inverse = np.unique(np.asarray(codes, np.int64), return_index=True, return_inverse=True)
    return _first_appearance(inverse, first)


@numba.njit(nogil=True, cache=True)
def _occurrence_index(ids, n_groups):
    seen = np.zeros(n_groups, np.int64)
    out = np.empty(ids.shape[0], np.int64)
    for i in range(ids.shape[0]):
        g = ids[i]
        out[i] = seen[g]
        seen[g] += 1
    return out


def occurrence_index(ids: np.ndarray, n_groups: int) -> np.ndarray:
    """For each row, how many earlier rows share its group id."""
    return _occurrence_index(np.ascontiguousarray(ids, dtype=np.int64), int(n_groups))


def occurrence_index_numpy(ids: np.ndarray, n_groups: int) -> np.ndarray:
    ids = np.asarray(ids, np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.searchsorted(sorted_ids, sorted_ids, side="left")
    out = np.empty(len(ids), np.int64)
    out[order] = np.arange(len(ids)) - starts
    return out


@numba.njit(nogil=True, cache=True)
def _same_as_first(offsets, data, ids, first):
    for i in range(ids.shape[0]):
        r = first[ids[i]]
        if r == i:
            continue
        a, b = offsets[i], offsets[r]
        length = offsets[i + 1] - a
        if offsets[r + 1] - b != length:
            return False
        for k in range(length):
            if data[a + k] != data[b + k]:
                return False
    return True


def same_as_first(offsets, data, ids, first) -> bool:
    return bool(_same_as_first(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8),
                               np.ascontiguousarray(ids, np.int64), np.ascontiguousarray(first, np.int64)))


def same_as_first_numpy(offsets, data, ids, first) -> bool:
    offsets = np.asarray(offsets, np.int64)
    rows = [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)]
    return all(rows[i] == rows[first[g]] for i, g in enumerate(np.asarray(ids).tolist()))


#: above this many distinct strings, equality within a group is checked with a second 64-bit hash
#: and the length (a 128-bit identity, as ClickHouse's uniqExact uses) instead of byte by byte
BYTEWISE_CHECK_MAX_GROUPS = 4096


def group_strings_by_hash(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, first rows) of a String column: grouped by a 64-bit hash, then checked: byte by byte
    for few groups (the first rows stay in cache), else by a second independent 64-bit hash plus
    the length; a detected collision falls back to grouping the bytes."""
    from mergetree.kernels.hashing import hash_strings_mix
    from mergetree.kernels.strings import group_strings, hash_strings

    ids, first = group_u64(hash_strings(offsets, data))
    if len(first) <= BYTEWISE_CHECK_MAX_GROUPS:
        ok = same_as_first(offsets, data, ids, first)
    else:
        second = hash_strings_mix(offsets, data)
        lengths = np.diff(offsets)
        ok = bool(np.array_equal(second, second[first][ids]) and np.array_equal(lengths, lengths[first][ids]))
    if ok:
        return ids, first
    return group_strings(offsets, data)          # a hash collision: group the bytes


# --------------------------------------------------------------------------- column dispatch


def group_integers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of a 1-D numeric array: dense table for small ranges, else the hash table."""
    n = len(values)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if values.dtype.kind in "iub":
        lo, hi = int(values.min()), int(values.max())
        if lo == hi:                       # one value (uniqExact's group ids without GROUP BY)
            return np.zeros(n, np.int64), np.zeros(1, np.int64)
        if hi - lo < _DENSE_FACTOR * n + 1024:
            return group_dense(values.astype(np.int64) - lo, hi - lo + 1)
    return group_u64(key_bits(values))


def factorize(col) -> tuple[np.ndarray, int, np.ndarray]:
    """(ids, number of groups, first row of each group) of one Column (any layout)."""
    from mergetree.column import FixedColumn, LowCardinalityColumn, NullableColumn, StringColumn

    if isinstance(col, LowCardinalityColumn):
        d_ids, d_g, _ = factorize(col.dictionary)   # dictionaries are unique, but be safe
        ids, first = group_dense(d_ids[col.codes.astype(np.int64)], max(d_g, 1))
    elif isinstance(col, StringColumn):
        ids, first = group_strings_by_hash(col.offsets, col.data)
    elif isinstance(col, NullableColumn):
        inner, g, _ = factorize(col.values)
        ids, first = group_dense(np.where(col.nulls, g, inner), g + 1)
    elif isinstance(col, FixedColumn) and col.values.ndim == 1:
        ids, first = group_integers(col.values)
    elif isinstance(col, FixedColumn):   # UUID, FixedString: combine the byte/word columns
        v = col.values.reshape(len(col), -1)
        ids, first = group_integers(v[:, 0]) if v.shape[1] else (np.zeros(len(col), np.int64), np.zeros(1, np.int64))
        for j in range(1, v.shape[1]):
            ids, first = combine(ids, len(first), *group_integers(v[:, j]))
    else:                                 # arrays and anything else: ClickHouse order ranks
        ids, first = group_integers(col.dense_ranks())
    return ids, len(first), first


def combine(ids_a: np.ndarray, g_a: int, ids_b: np.ndarray, first_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of the pair (a, b) from the ids of a and of b (both < number of rows, so the
    packed key a * G_b + b fits in int64 for any column shorter than 2**31 rows)."""
    g_b = max(len(first_b), 1)
    return group_integers(ids_a * g_b + ids_b)


def group_rows(columns: list) -> tuple[np.ndarray, int, np.ndarray]:
    """(ids, G, first rows) of the rows of several key columns (all of equal length)."""
    if not columns:
        raise ValueError("group_rows needs at least one column")
    ids, g, first = factorize(columns[0])
    for col in columns[1:]:
        ids_b, g_b, first_b = factorize(col)
        if g_b == 1:                       # a constant key splits no group
            continue
        if g == 1:                         # one group so far: the other key's groups are the pairs'
            ids, first = ids_b, first_b    # (both numbered in order of first appearance)
        else:
            ids, first = combine(ids, g, ids_b, first_b)
        g = len(first)
    return ids, g, first


# --------------------------------------------------------------------------- two threads

#: below this many rows one thread is faster than splitting
PARALLEL_MIN_ROWS = 262_144


def group_rows_parallel(columns: list, threads: int = 2) -> tuple[np.ndarray, int, np.ndarray]:
    """group_rows on `threads` row ranges at once (the kernels release the GIL), then one small
    group_rows over the first row of every partial group to merge their numbering. Same result
    as group_rows (ids in first-appearance order)."""
    n = len(columns[0])
    if threads < 2 or n < PARALLEL_MIN_ROWS:
        return group_rows(columns)
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, n, threads + 1).astype(np.int64)
    ranges = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda r: group_rows([c.slice(r[0], r[1]) for c in columns]), ranges))
    # global row of each partial group's first row, in range order = first-appearance order
    firsts = np.concatenate([first + a for (_, _, first), (a, _) in zip(parts, ranges)])
    merged_ids, g, merged_first = group_rows([c.take(firsts) for c in columns])
    ids = np.empty(n, np.int64)
    offset = 0
    for (part_ids, part_g, _), (a, b) in zip(parts, ranges):
        ids[a:b] = merged_ids[offset:offset + part_g][part_ids]
        offset += part_g
    return ids, g, firsts[merged_first]
