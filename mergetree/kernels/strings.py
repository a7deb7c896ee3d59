"""String kernels over the (offsets, data) layout of a String column.

A string column of n rows is ``offsets`` (int64, n + 1, offsets[0] == 0) and ``data`` (uint8);
row i is ``data[offsets[i]:offsets[i + 1]]``. The same layout with int64 ``data`` describes an
Array column whose elements were replaced by their dense ranks, so the sorting kernels here are
written once for "sequences" and compile for both element types.

ClickHouse orders strings like ``memcmp`` over the common prefix, then by length
(``'a' < 'a\\0' < 'ab' < 'b' < '\\xff'``); arrays compare element-wise, then by length.

Kernels (numba, ``nogil=True, cache=True``), each with a plain-numpy twin ``*_numpy`` that the
tests compare against on random input:

- ``dense_rank_sequences(offsets, data)``: int64 rank per row, equal rows get equal ranks, rank
  order = ClickHouse order, ranks are 0..k-1.
- ``argsort_sequences(offsets, data)``: a stable sorting permutation.
- ``hash_strings(offsets, data)``: 64-bit FNV-1a hash per row (for hash tables / GROUP BY).
- ``equal_rows(offsets_a, data_a, offsets_b, data_b)``: row-wise equality of two equally long columns.
- ``gather_strings(offsets, data, indices)``: rows in the order of ``indices`` (``take``).
"""

from __future__ import annotations

import numba
import numpy as np

# --------------------------------------------------------------------------- comparison sort


@numba.njit(nogil=True, cache=True, inline="always")
def _compare(offsets, data, i, j):
    a = offsets[i]
    a_end = offsets[i + 1]
    b = offsets[j]
    b_end = offsets[j + 1]
    la = a_end - a
    lb = b_end - b
    m = la if la < lb else lb
    for k in range(m):
        x = data[a + k]
        y = data[b + k]
        if x != y:
            return -1 if x < y else 1
    if la == lb:
        return 0
    return -1 if la < lb else 1


@numba.njit(nogil=True, cache=True)
def _merge_sort_range(order, lo, hi, offsets, data, tmp):
    """Stable sort of order[lo:hi] by the sequences they point at (bottom-up merge sort)."""
    n = hi - lo
    # insertion sort runs of 16
    run = 16
    for start in range(lo, hi, run):
        end = min(start + run, hi)
        for i in range(start + 1, end):
            v = order[i]
            j = i - 1
            while j >= start and _compare(offsets, data, order[j], v) > 0:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = v
    width = run
    src = order
    dst = tmp
    swapped = False
    while width < n:
        for left in range(lo, hi, 2 * width):
            mid = min(left + width, hi)
            right = min(left + 2 * width, hi)
            i = left
            j = mid
            k = left
            while i < mid and j < right:
                if _compare(offsets, data, src[j], src[i]) < 0:
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < right:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        swapped = not swapped
        width *= 2
    if swapped:
        for i in range(lo, hi):
            order[i] = tmp[i]


@numba.njit(nogil=True, cache=True)
def _prefix_keys_bytes(offsets, data):
    """Big-endian uint64 of the first 8 bytes of each string, zero padded."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.uint64)
    for i in range(n):
        a = offsets[i]
        m = offsets[i + 1] - a
        if m > 8:
            m = 8
        key = np.uint64(0)
        for k in range(8):
            key = key << np.uint64(8)
            if k < m:
                key = key | np.uint64(data[a + k])
        out[i] = key
    return out


@numba.njit(nogil=True, cache=True)
def _prefix_keys_ints(offsets, data):
    """First element + 1 of each sequence (0 for an empty one); data holds ranks >= 0."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.uint64)
    for i in range(n):
        if offsets[i + 1] > offsets[i]:
            out[i] = np.uint64(data[offsets[i]]) + np.uint64(1)
    return out


@numba.njit(nogil=True, cache=True)
def _sort_prefix_ties(order, prefix, offsets, data):
    """order is sorted by prefix; sort every run of equal prefixes by the full sequences."""
    n = order.shape[0]
    tmp = np.empty_like(order)
    i = 0
    while i < n:
        j = i + 1
        p = prefix[order[i]]
        while j < n and prefix[order[j]] == p:
            j += 1
        if j - i > 1:
            _merge_sort_range(order, i, j, offsets, data, tmp)
        i = j


@numba.njit(nogil=True, cache=True)
def _ranks_from_order(order, offsets, data):
    n = order.shape[0]
    ranks = np.empty(n, np.int64)
    rank = -1
    for k in range(n):
        i = order[k]
        if k == 0 or _compare(offsets, data, order[k - 1], i) != 0:
            rank += 1
        ranks[i] = rank
    return ranks


def _check(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    data = np.ascontiguousarray(data)
    return offsets, data


def argsort_sequences(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Stable permutation sorting the rows in ClickHouse order."""
    offsets, data = _check(offsets, data)
    if data.dtype == np.uint8:
        prefix = _prefix_keys_bytes(offsets, data)
    else:
        prefix = _prefix_keys_ints(offsets, data.astype(np.int64, copy=False))
        data = data.astype(np.int64, copy=False)
    order = np.argsort(prefix, kind="stable").astype(np.int64, copy=False)
    _sort_prefix_ties(order, prefix, offsets, data)
    return order


def dense_rank_sequences(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """int64 dense rank of every row (0 = smallest); equal rows get the same rank."""
    offsets, data = _check(offsets, data)
    if data.dtype != np.uint8:
        data = data.astype(np.int64, copy=False)
    order = argsort_sequences(offsets, data)
    return _ranks_from_order(order, offsets, data)


# --------------------------------------------------------------------------- numpy twins


def _padded_bytes(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Fixed-width 'S' array of the strings (numpy compares it like memcmp, ignoring padding)."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    width = max(int(lengths.max()) if n else 0, 1)
    buf = np.zeros((n, width), np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(len(data)) - np.repeat(offsets[:-1], lengths) if len(data) else np.zeros(0, np.int64)
    buf[rows, cols] = data[offsets[0]:offsets[-1]] if n else data[:0]
    return buf.view(f"S{width}").reshape(n)


def argsort_sequences_numpy(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Twin of argsort_sequences for uint8 data: 'S' array order, then length (for NUL padding)."""
    offsets = np.asarray(offsets, np.int64)
    lengths = np.diff(offsets)
    if data.dtype != np.uint8:
        # sequences of ints: pad with -1 (smaller than every rank) and sort lexicographically
        n = len(lengths)
        width = int(lengths.max()) if n and len(lengths) else 0
        mat = np.full((n, max(width, 1)), -1, np.int64)
        rows = np.repeat(np.arange(n), lengths)
        cols = np.arange(int(offsets[-1] - offsets[0])) - np.repeat(offsets[:-1] - offsets[0], lengths)
        mat[rows, cols] = data[offsets[0]:offsets[-1]]
        keys = [lengths] + [mat[:, c] for c in range(mat.shape[1] - 1, -1, -1)]
        return np.lexsort(keys)
    padded = _padded_bytes(offsets, data)
    return np.lexsort((lengths, padded))


def dense_rank_sequences_numpy(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    offsets = np.asarray(offsets, np.int64)
    n = len(offsets) - 1
    if n == 0:
        return np.zeros(0, np.int64)
    order = argsort_sequences_numpy(offsets, data)
    lengths = np.diff(offsets)
    if data.dtype == np.uint8:
        padded = _padded_bytes(offsets, data)[order]
        changed = padded[1:] != padded[:-1]
    else:
        changed = np.zeros(n - 1, bool)
        seqs = [data[offsets[i]:offsets[i + 1]] for i in order]  # twin: clarity over speed
        for k in range(1, n):
            changed[k - 1] = not np.array_equal(seqs[k], seqs[k - 1])
    changed |= lengths[order][1:] != lengths[order][:-1]
    sorted_ranks = np.concatenate([[0], np.cumsum(changed)])
    ranks = np.empty(n, np.int64)
    ranks[order] = sorted_ranks
    return ranks


# --------------------------------------------------------------------------- hashing / equality / gather

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(nogil=True, cache=True)
def _hash_strings(offsets, data, out):
    for i in range(offsets.shape[0] - 1):
        h = np.uint64(0xCBF29CE484222325)
        for k in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[k])) * np.uint64(0x100000001B3)
        out[i] = h


def hash_strings(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a hash of every string."""
    offsets, data = _check(offsets, data)
    out = np.empty(len(offsets) - 1, np.uint64)
    _hash_strings(offsets, data, out)
    return out


def hash_strings_numpy(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Twin of hash_strings: one vectorised FNV step per byte position."""
    offsets = np.asarray(offsets, np.int64)
    lengths = np.diff(offsets)
    h = np.full(len(lengths), _FNV_OFFSET, np.uint64)
    for k in range(int(lengths.max()) if len(lengths) else 0):
        live = lengths > k
        byte = data[offsets[:-1][live] + k].astype(np.uint64)
        h[live] = (h[live] ^ byte) * _FNV_PRIME
    return h


def equal_rows(offsets_a, data_a, offsets_b, data_b) -> np.ndarray:
    """Bool mask: row i of a equals row i of b (numpy; no kernel needed)."""
    la = np.diff(offsets_a)
    lb = np.diff(offsets_b)
    same_len = la == lb
    if not len(data_a) or not len(data_b):
        return same_len & (la == 0) if len(la) else same_len
    # compare byte by byte through the shorter common layout: gather b's bytes at a's positions
    rows = np.repeat(np.arange(len(la)), np.where(same_len, la, 0))
    lens = np.where(same_len, la, 0)
    starts_out = np.concatenate([[0], np.cumsum(lens)])
    pos_in_row = np.arange(starts_out[-1]) - np.repeat(starts_out[:-1], lens)
    a_bytes = data_a[np.repeat(offsets_a[:-1], lens) + pos_in_row]
    b_bytes = data_b[np.repeat(offsets_b[:-1], lens) + pos_in_row]
    diff_rows = rows[a_bytes != b_bytes]
    out = same_len.copy()
    out[diff_rows] = False
    return out


def gather_strings(offsets: np.ndarray, data: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of rows ``indices`` (numpy, vectorised over bytes)."""
    indices = np.asarray(indices, np.int64)
    starts = offsets[:-1][indices]
    lens = offsets[1:][indices] - starts
    new_offsets = np.empty(len(indices) + 1, np.int64)
    new_offsets[0] = 0
    np.cumsum(lens, out=new_offsets[1:])
    total = int(new_offsets[-1])
    if total == 0:
        return new_offsets, np.zeros(0, np.uint8)
    pos = np.arange(total, dtype=np.int64)
    pos += np.repeat(starts - new_offsets[:-1], lens)
    return new_offsets, data[pos]
