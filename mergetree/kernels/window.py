"""Window-function kernels over rows already sorted by (partition, order keys).

Frames are half-open row ranges ``[start[i], end[i])`` per row (empty when ``end <= start``).
For ROWS and RANGE frames with constant offsets both bounds are non-decreasing over the whole
sorted block (partitions are contiguous and ascending), which the streaming kernels rely on.

- ``range_scan``: RANGE ``n PRECEDING / FOLLOWING`` bounds with ClickHouse's forward-moving
  pointers and its NULL comparison (O(n) per bound). ``range_bounds`` is the binary-search form
  (the first j in ``[lo[i], hi[i])`` with ``values[j] >= values[i] + offset``, ``>`` when strict).
- ``frame_sum_float(values, start, end)``: ClickHouse's running state for float sums: while the
  frame start stays put, the rows entering the frame are added; when it moves, the state is
  reset and the frame summed again (bit-identical to ClickHouse, which has no "remove row").
- ``sliding_extreme(values, start, end, is_max)``: min/max over monotone frames with a
  monotonic deque, O(n); ``has`` is False for empty frames.

Plain-numpy twins live in tests/test_sql_window.py.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def range_bounds(values, lo, hi, offset, strict):
    n = values.shape[0]
    out = np.empty(n, np.int64)
    for i in range(n):
        a = lo[i]
        b = hi[i]
        if a >= b:
            out[i] = a
            continue
        target = values[i] + offset
        # first j in [a, b) with values[j] >= target (> target when strict)
        while a < b:
            m = (a + b) >> 1
            v = values[m]
            if v < target or (strict and v == target):
                a = m + 1
            else:
                b = m
        out[i] = a
    return out


@numba.njit(nogil=True, cache=True)
def _compare_with_offset(values, nulls, j, i, offset, add):
    """ClickHouse's compareValuesWithOffset(Nullable): row j against row i's value +/- offset;
    a NULL compares below any value and equal to NULL."""
    if nulls[j]:
        return 0 if nulls[i] else -1
    if nulls[i]:
        return 1
    ref = values[i] + offset if add else values[i] - offset
    v = values[j]
    if v < ref:
        return -1
    if v == ref:
        return 0
    return 1


@numba.njit(nogil=True, cache=True)
def range_scan(values, nulls, part_start, part_end, offset, add, direction, is_end):
    """RANGE ``n PRECEDING / FOLLOWING`` bounds the way ClickHouse's WindowTransform finds them: a
    pointer per partition that only moves forward, past rows whose comparison (times the ORDER BY
    direction) is < 0 (frame start) or <= 0 (frame end). Equal to a binary search without NULLs;
    with NULL keys it reproduces ClickHouse's results."""
    n = values.shape[0]
    out = np.empty(n, np.int64)
    pos = 0
    part = -1
    for i in range(n):
        if part_start[i] != part:
            part = part_start[i]
            pos = part
        pe = part_end[i]
        while pos < pe:
            c = _compare_with_offset(values, nulls, pos, i, offset, add) * direction
            if (is_end and c > 0) or (not is_end and c >= 0):
                break
            pos += 1
        out[i] = pos
    return out


@numba.njit(nogil=True, cache=True)
def frame_sum_float(values, start, end):
    n = start.shape[0]
    out = np.zeros(n, np.float64)
    acc = 0.0
    prev_start = -1
    prev_end = -1
    for i in range(n):
        s = start[i]
        e = end[i]
        if s == prev_start and e >= prev_end:
            for j in range(prev_end, e):
                acc += values[j]
        else:
            acc = 0.0
            for j in range(s, e):
                acc += values[j]
        if e < s:
            prev_start = -1
            prev_end = -1
            acc = 0.0
        else:
            prev_start = s
            prev_end = e
        out[i] = acc
    return out


@numba.njit(nogil=True, cache=True)
def sliding_extreme(values, start, end, is_max):
    n = start.shape[0]
    out = np.zeros(n, values.dtype)
    has = np.zeros(n, np.bool_)
    dq = np.empty(max(values.shape[0], 1), np.int64)
    head = 0
    tail = 0
    pushed = 0
    for i in range(n):
        e = end[i]
        while pushed < e:
            v = values[pushed]
            if is_max:
                while tail > head and values[dq[tail - 1]] <= v:
                    tail -= 1
            else:
                while tail > head and values[dq[tail - 1]] >= v:
                    tail -= 1
            dq[tail] = pushed
            tail += 1
            pushed += 1
        s = start[i]
        while tail > head and dq[head] < s:
            head += 1
        if tail > head and dq[head] < e:
            out[i] = values[dq[head]]
            has[i] = True
    return out, has
