"""Array kernels: one pass over the flattened elements of an ArrayColumn, row by row through
its offsets (``offsets[r]:offsets[r + 1]`` are the elements of row r). Each has a plain-numpy
twin in tests/test_functions_array.py.

1. `segment_sum(offsets, values, valid, out)`: sum per row of the valid elements (``out``'s
   dtype is the accumulator: int64/uint64 wrap like ClickHouse, float64).
2. `segment_product(offsets, values, valid, out)`: product per row (float64);
   `segment_product_int(offsets, values, out)` the same in int64.
3. `segment_arg_extreme(offsets, keys, valid, is_max) -> int64`: index of the first smallest
   (largest) valid key per row, -1 when the row has none.
4. `segment_cumsum(offsets, values, valid, non_negative, out)`: running sum inside each row
   (NULL elements add 0); ``non_negative`` clamps a negative running sum to 0.
5. `segment_difference(offsets, values, out)`: ``x[i] - x[i - 1]`` inside each row, 0 first.
6. `segment_first_true(offsets, mask, last) -> int64`: index of the first (last) true element
   per row, -1 if none.
7. `segment_changed(offsets, keys) -> bool`: element differs from the previous one of its row
   (the first element of a row is always "changed"): arrayCompact.
"""

from __future__ import annotations

import numpy as np

try:
    import numba

    _jit = numba.njit(nogil=True, cache=True)
except ImportError:  # pragma: no cover
    def _jit(f):
        return f


@_jit
def segment_sum(offsets, values, valid, out):
    # out arrives zeroed; its dtype is the accumulator
    for r in range(offsets.shape[0] - 1):
        for i in range(offsets[r], offsets[r + 1]):
            if valid[i]:
                out[r] += values[i]


@_jit
def segment_product(offsets, values, valid, out):
    for r in range(offsets.shape[0] - 1):
        acc = 1.0
        for i in range(offsets[r], offsets[r + 1]):
            if valid[i]:
                acc *= values[i]
        out[r] = acc


@_jit
def segment_product_int(offsets, values, out):
    """Product per row in int64 (wrapping like ClickHouse's integer arithmetic)."""
    for r in range(offsets.shape[0] - 1):
        acc = 1
        for i in range(offsets[r], offsets[r + 1]):
            acc *= values[i]
        out[r] = acc


@_jit
def segment_arg_extreme(offsets, keys, valid, is_max):
    n = offsets.shape[0] - 1
    out = np.full(n, -1, np.int64)
    for r in range(n):
        best = -1
        for i in range(offsets[r], offsets[r + 1]):
            if not valid[i]:
                continue
            if best < 0:
                best = i
            elif is_max:
                if keys[i] > keys[best]:
                    best = i
            elif keys[i] < keys[best]:
                best = i
        out[r] = best
    return out


@_jit
def segment_cumsum(offsets, values, valid, non_negative, out):
    # out arrives zeroed; its dtype is the accumulator
    for r in range(offsets.shape[0] - 1):
        s = offsets[r]
        for i in range(s, offsets[r + 1]):
            if i > s:
                out[i] = out[i - 1]
            if valid[i]:
                out[i] += values[i]
            if non_negative and out[i] < 0:
                out[i] = 0


@_jit
def segment_difference(offsets, values, out):
    for r in range(offsets.shape[0] - 1):
        s = offsets[r]
        for i in range(s, offsets[r + 1]):
            if i == s:
                out[i] = 0
            else:
                out[i] = values[i] - values[i - 1]


@_jit
def segment_first_true(offsets, mask, last):
    n = offsets.shape[0] - 1
    out = np.full(n, -1, np.int64)
    for r in range(n):
        if last:
            for i in range(offsets[r + 1] - 1, offsets[r] - 1, -1):
                if mask[i]:
                    out[r] = i
                    break
        else:
            for i in range(offsets[r], offsets[r + 1]):
                if mask[i]:
                    out[r] = i
                    break
    return out


@_jit
def segment_changed(offsets, keys):
    out = np.ones(keys.shape[0], np.bool_)
    for r in range(offsets.shape[0] - 1):
        for i in range(offsets[r] + 1, offsets[r + 1]):
            out[i] = keys[i] != keys[i - 1]
    return out


@_jit
def segment_sort(offsets, keys):
    """Element positions ordered by key inside each row (stable: equal keys keep their order)."""
    out = np.empty(keys.shape[0], np.int64)
    for r in range(offsets.shape[0] - 1):
        s = offsets[r]
        e = offsets[r + 1]
        if e - s <= 1:
            for i in range(s, e):
                out[i] = i
            continue
        if e - s <= 24:  # insertion sort (stable) of the row's positions
            for i in range(s, e):
                out[i] = i
            for i in range(s + 1, e):
                p = out[i]
                j = i - 1
                while j >= s and keys[out[j]] > keys[p]:
                    out[j + 1] = out[j]
                    j -= 1
                out[j + 1] = p
            continue
        order = np.argsort(keys[s:e], kind="mergesort")
        for i in range(e - s):
            out[s + i] = s + order[i]
    return out


@_jit
def segment_reverse(offsets):
    """Element positions of every row in reverse order."""
    out = np.empty(offsets[-1], np.int64)
    for r in range(offsets.shape[0] - 1):
        s = offsets[r]
        e = offsets[r + 1]
        for i in range(s, e):
            out[i] = s + e - 1 - i
    return out


@_jit
def segment_first_occurrence(offsets, keys):
    """True for the first element of every distinct key inside each row (row order kept);
    also the occurrence number (1-based) of every element among the equal keys of its row."""
    n = keys.shape[0]
    first = np.zeros(n, np.bool_)
    occurrence = np.zeros(n, np.int64)
    for r in range(offsets.shape[0] - 1):
        s = offsets[r]
        e = offsets[r + 1]
        k = e - s
        if k == 0:
            continue
        if k <= 16:  # small rows: compare with the earlier elements
            for i in range(s, e):
                c = 1
                for j in range(s, i):
                    if keys[j] == keys[i]:
                        c += 1
                occurrence[i] = c
                first[i] = c == 1
            continue
        order = np.argsort(keys[s:e], kind="mergesort")
        c = 0
        for t in range(k):
            i = s + order[t]
            if t > 0 and keys[s + order[t - 1]] == keys[i]:
                c += 1
            else:
                c = 1
            occurrence[i] = c
            first[i] = c == 1
    return first, occurrence


@_jit
def ranged_positions(starts, lens, offsets, pos):
    """offsets[1:] = cumsum(lens) and pos = the flat positions starts[i] .. starts[i] + lens[i] - 1
    of every row (what ArrayColumn.take and arraySlice gather)."""
    w = 0
    offsets[0] = 0
    for i in range(lens.shape[0]):
        s = starts[i]
        for j in range(lens[i]):
            pos[w] = s + j
            w += 1
        offsets[i + 1] = w


@_jit
def segment_count_true(offsets, mask):
    """Number of true elements per row."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.int64)
    for r in range(n):
        c = 0
        for i in range(offsets[r], offsets[r + 1]):
            if mask[i]:
                c += 1
        out[r] = c
    return out
