"""Binary search of a value in a sorted String column (offsets + bytes): the rows of a part's
granules that hold one value of the first sorting-key column (exec/scan.py narrows a point
lookup's WHERE to them instead of evaluating it on every row of the granule).

* :func:`string_equal_range` (numba, ``nogil=True, cache=True``): ``(lo, hi)`` such that rows
  ``lo..hi-1`` equal ``value`` and the column is sorted bytewise (ClickHouse's String order).
  Twin: :func:`string_equal_range_numpy` (Python bisect over the byte strings).
"""

from __future__ import annotations

import numpy as np

def _equal_range(offsets, data, value):
    n = offsets.shape[0] - 1
    m = value.shape[0]
    bounds = np.empty(2, np.int64)
    for side in range(2):          # 0: first row >= value, 1: first row > value
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            s = offsets[mid]
            k = offsets[mid + 1] - s
            c = 0                  # row `mid` compared with value, bytewise
            for i in range(min(k, m)):
                a = data[s + i]
                b = value[i]
                if a != b:
                    c = -1 if a < b else 1
                    break
            if c == 0 and k != m:
                c = -1 if k < m else 1
            if c < 0 or (side == 1 and c == 0):
                lo = mid + 1
            else:
                hi = mid
        bounds[side] = lo
    return bounds


_kernel = None


def _compile():
    """The numba kernel, compiled (or loaded from numba's cache) on first use: importing this
    module does not import numba."""
    global _kernel
    if _kernel is None:
        import numba

        _kernel = numba.njit(nogil=True, cache=True)(_equal_range)
    return _kernel


def string_equal_range(offsets: np.ndarray, data: np.ndarray, value: bytes) -> tuple[int, int]:
    """Rows [lo, hi) of a bytewise-sorted String column equal to ``value``."""
    v = np.frombuffer(value, np.uint8) if value else np.zeros(0, np.uint8)
    lo, hi = _compile()(np.ascontiguousarray(offsets, dtype=np.int64), data, v)
    return int(lo), int(hi)


def string_equal_range_numpy(offsets: np.ndarray, data: np.ndarray, value: bytes) -> tuple[int, int]:
    """Plain twin of :func:`string_equal_range`."""
    import bisect

    rows = [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)]
    return bisect.bisect_left(rows, value), bisect.bisect_right(rows, value)
