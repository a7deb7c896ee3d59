"""Binary search of a value in a sorted String column (offsets + bytes): the rows of a part's
granules that hold one value of the first sorting-key column (exec/scan.py narrows a point
lookup's WHERE to them instead of evaluating it on every row of the granule).

* :func:`string_equal_range` (numba, ``nogil=True, cache=True``): ``(lo, hi)`` such that rows
  ``lo..hi-1`` equal ``value`` and the column is sorted bytewise (ClickHouse's String order).
  Twin: :func:`string_equal_range_numpy` (Python bisect over the byte strings).
* :func:`sizes_equal_range` (numba): the same over a String column as stored (the row sizes and
  the bytes), without building its offsets outside the kernel; also returns the byte range of the
  run and the total of the sizes (the caller checks it against the bytes read).
  Twin: :func:`sizes_equal_range_numpy`.
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


def _sizes_equal_range(sizes, data, value):
    n = sizes.shape[0]
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    total = 0
    for i in range(n):
        total += sizes[i]
        offsets[i + 1] = total
    out = np.empty(5, np.int64)
    out[4] = total
    if total != data.shape[0]:     # the caller reports the corruption: nothing is searched
        out[0] = out[1] = out[2] = out[3] = 0
        return out
    b = _equal_range_nb(offsets, data, value)
    out[0] = b[0]
    out[1] = b[1]
    out[2] = offsets[b[0]]
    out[3] = offsets[b[1]]
    return out


#: what `_sizes_equal_range` calls: the plain function, replaced by its numba kernel before
#: `_sizes_equal_range` is compiled
_equal_range_nb = _equal_range
_kernel = None
_sizes_kernel = None


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


def _compile_sizes():
    global _sizes_kernel, _equal_range_nb
    if _sizes_kernel is None:
        import numba

        _equal_range_nb = _compile()
        _sizes_kernel = numba.njit(nogil=True, cache=True)(_sizes_equal_range)
    return _sizes_kernel


_EMPTY = np.zeros(0, np.uint8)


def sizes_equal_range(sizes: np.ndarray, data: np.ndarray, value: bytes) -> tuple[int, int, int, int, int]:
    """(lo, hi, first byte, end byte, total bytes) of the rows equal to ``value`` in a bytewise-sorted
    String column given as row sizes (unsigned ints) and bytes. When ``total`` differs from
    ``len(data)`` the column is inconsistent and the other four are 0."""
    v = np.frombuffer(value, np.uint8) if value else _EMPTY
    r = _compile_sizes()(sizes, data, v)
    return int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])


def sizes_equal_range_numpy(sizes: np.ndarray, data: np.ndarray, value: bytes) -> tuple[int, int, int, int, int]:
    """Plain twin of :func:`sizes_equal_range`."""
    offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    total = int(offsets[-1])
    if total != len(data):
        return 0, 0, 0, 0, total
    lo, hi = string_equal_range_numpy(offsets, data, value)
    return lo, hi, int(offsets[lo]), int(offsets[hi]), total


def string_equal_range_numpy(offsets: np.ndarray, data: np.ndarray, value: bytes) -> tuple[int, int]:
    """Plain twin of :func:`string_equal_range`."""
    import bisect

    rows = [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)]
    return bisect.bisect_left(rows, value), bisect.bisect_right(rows, value)
