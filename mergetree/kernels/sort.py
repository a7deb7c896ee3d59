"""Sorting helpers over order keys.

``Column.order_key(descending)`` returns one numeric array or a tuple of them (most significant
first) whose ascending order is ClickHouse's order of the column (NaN and NULL last in both
directions). These helpers turn such keys into permutations and dense ranks.

- ``sort_permutation(keys)``: stable permutation for several key columns (first = primary);
  packs integer keys + row number into one uint64 when they fit (twin: np.lexsort); when the
  keys alone fit in RADIX_MAX_BITS, ``radix_argsort`` (an LSD radix sort, numba) sorts them.
- ``dense_rank_keys(keys)``: int64 dense rank of rows under several keys.
- ``ranks_from_sorted(order, keys)``: numba kernel giving dense ranks once rows are sorted;
  twin ``ranks_from_sorted_numpy``.
"""

from __future__ import annotations

from typing import Sequence

import numba
import numpy as np


def flatten_keys(keys) -> list[np.ndarray]:
    """A key or a nested sequence of keys -> flat list of 1-D arrays, most significant first."""
    if isinstance(keys, np.ndarray):
        return [keys]
    out: list[np.ndarray] = []
    for k in keys:
        out.extend(flatten_keys(k))
    return out


def _packed_permutation(flat: list[np.ndarray]) -> np.ndarray | None:
    """Sort by packing all keys and the row number into one uint64 per row, or None if they
    do not fit in 64 bits (or a key is not an integer array).

    Each key contributes ``bit_length(max - min)`` bits, most significant first; the row number
    in the low bits makes every packed value unique, so an unstable value sort (numpy's SIMD
    sort) yields the stable permutation. About 3-4x faster than np.lexsort on two keys.
    """
    n = len(flat[0])
    idx_bits = max(int(n - 1).bit_length(), 1)
    parts = []
    total = idx_bits
    for k in flat:
        if k.dtype.kind not in "iub" or len(k) != n:
            return None
        lo, hi = int(k.min()), int(k.max())
        width = (hi - lo).bit_length()
        total += width
        if total > 64:
            return None
        parts.append((k, lo, width))
    packed = np.zeros(n, np.uint64)
    for k, lo, width in parts:
        if width == 0:
            continue
        packed <<= np.uint64(width)
        # wrap-around uint64 arithmetic gives k - lo exactly for any integer dtype
        packed |= k.astype(np.uint64) - np.uint64(lo % (1 << 64))
    key_bits = total - idx_bits
    if n >= RADIX_MIN_ROWS and key_bits <= RADIX_MAX_BITS:
        # a stable LSD radix sort of the key bits alone (the row number is implicit)
        return radix_argsort(packed, key_bits)
    packed <<= np.uint64(idx_bits)
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    return (packed & np.uint64((1 << idx_bits) - 1)).astype(np.int64)


RADIX_DIGIT_BITS = 11          # 2048 buckets: the counts stay in L1
RADIX_MAX_BITS = 44            # up to 4 passes; beyond that numpy's sort of packed values wins
RADIX_MIN_ROWS = 4096


@numba.njit(nogil=True, cache=True)
def _radix_pass(keys, rows, shift, mask, keys_out, rows_out):
    counts = np.zeros(mask + 2, np.int64)
    for i in range(keys.shape[0]):
        counts[((keys[i] >> shift) & mask) + 1] += 1
    if counts.max() == keys.shape[0]:        # every row has the same digit: nothing moves
        return False
    for d in range(1, counts.shape[0]):
        counts[d] += counts[d - 1]
    for i in range(keys.shape[0]):
        d = (keys[i] >> shift) & mask
        j = counts[d]
        counts[d] = j + 1
        keys_out[j] = keys[i]
        rows_out[j] = rows[i]
    return True


def radix_argsort(keys: np.ndarray, bits: int) -> np.ndarray:
    """Stable int64 permutation sorting the uint64 ``keys`` whose values fit in ``bits`` bits:
    LSD radix sort, RADIX_DIGIT_BITS per pass, moving (key, row) pairs sequentially; passes over
    a digit that is the same in every row are skipped. Twin: ``np.argsort(keys, kind="stable")``."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)     # read only: never written
    n = len(keys)
    rows = np.arange(n, dtype=np.int64)
    bufs = [(np.empty(n, np.uint64), np.empty(n, np.int64)) for _ in range(2)]
    mask = np.uint64((1 << RADIX_DIGIT_BITS) - 1)
    turn = 0
    for shift in range(0, max(bits, 1), RADIX_DIGIT_BITS):
        keys_out, rows_out = bufs[turn]       # never the input keys, never the current source
        if _radix_pass(keys, rows, np.uint64(shift), mask, keys_out, rows_out):
            keys, rows = keys_out, rows_out
            turn = 1 - turn
    return rows


def sort_permutation(keys: Sequence) -> np.ndarray:
    """Stable int64 permutation sorting rows by ``keys`` (first key is the most significant)."""
    flat = [np.asarray(k) for k in flatten_keys(keys)]
    if not flat:
        raise ValueError("sort_permutation needs at least one key")
    if len(flat[0]) < 2:
        return np.arange(len(flat[0]), dtype=np.int64)
    packed = _packed_permutation(flat)
    if packed is not None:
        return packed
    if len(flat) == 1:
        return np.argsort(flat[0], kind="stable").astype(np.int64, copy=False)
    return np.lexsort(flat[::-1]).astype(np.int64, copy=False)


def sort_permutation_numpy(keys: Sequence) -> np.ndarray:
    """Twin of sort_permutation: plain np.lexsort."""
    flat = flatten_keys(keys)
    return np.lexsort(flat[::-1]).astype(np.int64, copy=False)


@numba.njit(nogil=True, cache=True)
def _mark_changes(order, key, changed):
    for k in range(1, order.shape[0]):
        if key[order[k]] != key[order[k - 1]]:
            changed[k] = True


def ranks_from_sorted(order: np.ndarray, keys: Sequence) -> np.ndarray:
    """Dense ranks of rows given a permutation that sorts them by ``keys``."""
    flat = flatten_keys(keys)
    n = len(order)
    changed = np.zeros(n, np.bool_)
    for key in flat:
        _mark_changes(order, np.ascontiguousarray(key), changed)
    if n:
        changed[0] = False
    sorted_ranks = np.cumsum(changed, dtype=np.int64)
    ranks = np.empty(n, np.int64)
    ranks[order] = sorted_ranks
    return ranks


def ranks_from_sorted_numpy(order: np.ndarray, keys: Sequence) -> np.ndarray:
    flat = flatten_keys(keys)
    n = len(order)
    changed = np.zeros(n, bool)
    for key in flat:
        s = key[order]
        changed[1:] |= s[1:] != s[:-1]
    ranks = np.empty(n, np.int64)
    ranks[order] = np.cumsum(changed)
    return ranks


def dense_rank_keys(keys: Sequence) -> np.ndarray:
    """int64 dense rank (0 = smallest) of each row under the given keys."""
    flat = flatten_keys(keys)
    if len(flat) == 1:
        _, inverse = np.unique(flat[0], return_inverse=True)
        return inverse.astype(np.int64, copy=False).reshape(-1)
    order = sort_permutation(flat)
    return ranks_from_sorted(order, flat)
