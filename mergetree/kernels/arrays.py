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
