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


# --------------------------------------------------------------------------- column dispatch


def group_integers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of a 1-D numeric array: dense table for small ranges, else the hash table."""
    n = len(values)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if values.dtype.kind in "iub":
        lo, hi = int(values.min()), int(values.max())
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
        from mergetree.kernels.strings import group_strings

        ids, first = group_strings(col.offsets, col.data)
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
        ids_b, _, first_b = factorize(col)
        ids, first = combine(ids, g, ids_b, first_b)
        g = len(first)
    return ids, g, first
