"""String search and slicing kernels over (offsets, data) columns: position, trim, substring.

Kernels (numba, ``nogil=True, cache=True``) with plain-numpy twins ``*_numpy``:
1. `find_first(offsets, data, needle, out)`: 1-based byte position of the first occurrence of
   `needle` in each row, 0 when absent (an empty needle is found at 1).
2. `trim_bounds(offsets, data, left, right, start, end)`: the row range left after removing
   leading (`left`) and/or trailing (`right`) spaces.
`gather_ranges(offsets, data, start, end)` (numpy) builds the String column of data[start:end]
per row; `substring`/`trim` use it.
"""

from __future__ import annotations

import numpy as np

_compiled: dict = {}
SMALL = 16


def _jit(fn):
    f = _compiled.get(fn.__name__)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[fn.__name__] = f
    return f


def _find_first(offsets, data, needle, out):
    k = needle.shape[0]
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        pos = 0
        if k == 0:
            pos = 1
        else:
            p = a
            while p + k <= b:
                if data[p] == needle[0]:
                    ok = True
                    for j in range(1, k):
                        if data[p + j] != needle[j]:
                            ok = False
                            break
                    if ok:
                        pos = p - a + 1
                        break
                p += 1
        out[i] = pos


def find_first_numpy(offsets, data, needle: bytes) -> np.ndarray:
    n = offsets.shape[0] - 1
    k = len(needle)
    if k == 0:
        return np.ones(n, np.int64)
    lens = np.diff(offsets)
    out = np.zeros(n, np.int64)
    nd = np.frombuffer(needle, np.uint8)
    for shift in range(int(lens.max(initial=0)) - k + 1):
        idx = np.nonzero((lens - shift >= k) & (out == 0))[0]
        if idx.size == 0:
            continue
        pos = offsets[idx][:, None] + shift + np.arange(k)[None, :]
        hit = (data[pos] == nd[None, :]).all(axis=1)
        out[idx[hit]] = shift + 1
    return out


def _trim_bounds(offsets, data, left, right, start, end):
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        if left:
            while a < b and data[a] == 32:
                a += 1
        if right:
            while b > a and data[b - 1] == 32:
                b -= 1
        start[i] = a
        end[i] = b


def trim_bounds_numpy(offsets, data, left: bool, right: bool):
    n = offsets.shape[0] - 1
    start = offsets[:-1].copy()
    end = offsets[1:].copy()
    if left:
        while True:
            m = (start < end) & (data[np.minimum(start, len(data) - 1)] == 32) if len(data) else np.zeros(n, bool)
            if not m.any():
                break
            start[m] += 1
    if right:
        while True:
            m = (end > start) & (data[np.maximum(end - 1, 0)] == 32) if len(data) else np.zeros(n, bool)
            if not m.any():
                break
            end[m] -= 1
    return start, end


def find_first(offsets, data, needle: bytes) -> np.ndarray:
    if offsets.shape[0] - 1 <= SMALL:
        return find_first_numpy(offsets, data, bytes(needle))
    out = np.empty(offsets.shape[0] - 1, np.int64)
    _jit(_find_first)(offsets, data, np.frombuffer(bytes(needle), np.uint8), out)
    return out


def trim_bounds(offsets, data, left: bool, right: bool):
    if offsets.shape[0] - 1 <= SMALL:
        return trim_bounds_numpy(offsets, data, left, right)
    n = offsets.shape[0] - 1
    start = np.empty(n, np.int64)
    end = np.empty(n, np.int64)
    _jit(_trim_bounds)(offsets, data, left, right, start, end)
    return start, end


def gather_ranges(data: np.ndarray, start: np.ndarray, end: np.ndarray):
    """(offsets, data) of the byte ranges data[start[i]:end[i]]."""
    lens = np.maximum(end - start, 0)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    src = np.arange(total, dtype=np.int64) + np.repeat(start - offsets[:-1], lens)
    return offsets, data[src]
