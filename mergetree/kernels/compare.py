"""String comparison kernels over (offsets, data) columns: bytewise, like memcmp.

ClickHouse compares String values as unsigned bytes, a shorter string that is a prefix
of a longer one sorting first ('ab' < 'abc'). The kernels write a 3-way result (-1, 0, 1)
into a caller-allocated int8 array; the comparison functions turn it into 0/1 with numpy.

Kernels (numba, ``nogil=True, cache=True``), each with a plain-numpy twin ``*_numpy``:
1. `compare_with_const(offsets, data, const, out)`: row i vs one byte string.
2. `compare_columns(a_offsets, a_data, b_offsets, b_data, out)`: row i vs row i.
3. `equals_const(offsets, data, const, out)`: bool, checks lengths first (the common
   ``col = 'x'`` fast path).
4. `in_sorted_set(offsets, data, set_offsets, set_data, out)`: is row i one of the strings of
   a sorted set (binary search with byte comparisons; ``x IN ('a', 'b', ...)`` with many values).
"""

from __future__ import annotations

import numpy as np

_compiled: dict = {}


def _jit(fn):
    f = _compiled.get(fn.__name__)
    if f is None:
        import numba

        f = numba.njit(nogil=True, cache=True)(fn)
        _compiled[fn.__name__] = f
    return f


def _compare_with_const(offsets, data, const, out):
    lc = const.shape[0]
    for i in range(offsets.shape[0] - 1):
        a0 = offsets[i]
        la = offsets[i + 1] - a0
        m = la if la < lc else lc
        r = 0
        for k in range(m):
            x = data[a0 + k]
            y = const[k]
            if x != y:
                r = -1 if x < y else 1
                break
        if r == 0 and la != lc:
            r = -1 if la < lc else 1
        out[i] = r


def _compare_columns(a_offsets, a_data, b_offsets, b_data, out):
    for i in range(a_offsets.shape[0] - 1):
        a0 = a_offsets[i]
        la = a_offsets[i + 1] - a0
        b0 = b_offsets[i]
        lb = b_offsets[i + 1] - b0
        m = la if la < lb else lb
        r = 0
        for k in range(m):
            x = a_data[a0 + k]
            y = b_data[b0 + k]
            if x != y:
                r = -1 if x < y else 1
                break
        if r == 0 and la != lb:
            r = -1 if la < lb else 1
        out[i] = r


def _equals_const(offsets, data, const, out):
    lc = const.shape[0]
    for i in range(offsets.shape[0] - 1):
        a0 = offsets[i]
        if offsets[i + 1] - a0 != lc:
            out[i] = False
            continue
        eq = True
        for k in range(lc):
            if data[a0 + k] != const[k]:
                eq = False
                break
        out[i] = eq


def _in_sorted_set(offsets, data, set_offsets, set_data, out):
    m = set_offsets.shape[0] - 1
    for i in range(offsets.shape[0] - 1):
        a0 = offsets[i]
        la = offsets[i + 1] - a0
        lo = 0
        hi = m
        found = False
        while lo < hi:
            mid = (lo + hi) // 2
            b0 = set_offsets[mid]
            lb = set_offsets[mid + 1] - b0
            k = la if la < lb else lb
            r = 0
            for j in range(k):
                x = data[a0 + j]
                y = set_data[b0 + j]
                if x != y:
                    r = -1 if x < y else 1
                    break
            if r == 0 and la != lb:
                r = -1 if la < lb else 1
            if r == 0:
                found = True
                break
            if r < 0:
                hi = mid
            else:
                lo = mid + 1
        out[i] = found


# --------------------------------------------------------------------------- numpy twins


def _padded(offsets: np.ndarray, data: np.ndarray, width: int) -> np.ndarray:
    """(n, width) int16 matrix of the bytes, -1 after the end of each string."""
    n = offsets.shape[0] - 1
    lens = np.diff(offsets)
    out = np.full((n, width), -1, np.int16)
    cols = np.arange(width)
    mask = cols[None, :] < lens[:, None]
    pos = offsets[:-1, None] + cols[None, :]
    out[mask] = data[pos[mask]]
    return out


def _cmp_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a != b
    any_diff = diff.any(axis=1)
    first = diff.argmax(axis=1)
    rows = np.arange(a.shape[0])
    av = a[rows, first]
    bv = b[rows, first] if b.shape[0] == a.shape[0] else b[0, first]
    return np.where(any_diff, np.where(av < bv, -1, 1), 0).astype(np.int8)


def compare_with_const_numpy(offsets, data, const) -> np.ndarray:
    lens = np.diff(offsets)
    width = int(max(lens.max(initial=0), len(const))) + 1
    a = _padded(offsets, data, width)
    b = _padded(np.array([0, len(const)], np.int64), np.frombuffer(bytes(const), np.uint8), width)
    return _cmp_rows(a, b)


def compare_columns_numpy(a_offsets, a_data, b_offsets, b_data) -> np.ndarray:
    width = int(max(np.diff(a_offsets).max(initial=0), np.diff(b_offsets).max(initial=0))) + 1
    return _cmp_rows(_padded(a_offsets, a_data, width), _padded(b_offsets, b_data, width))


def equals_const_numpy(offsets, data, const) -> np.ndarray:
    return compare_with_const_numpy(offsets, data, const) == 0


def in_sorted_set_numpy(offsets, data, set_offsets, set_data) -> np.ndarray:
    out = np.zeros(offsets.shape[0] - 1, np.bool_)
    for k in range(set_offsets.shape[0] - 1):
        out |= equals_const_numpy(offsets, data, bytes(set_data[set_offsets[k]:set_offsets[k + 1]]))
    return out


# --------------------------------------------------------------------------- wrappers
# tiny inputs (constants) take the numpy twins: no numba first-call cost for a one-row query

SMALL = 16


def compare_with_const(offsets: np.ndarray, data: np.ndarray, const: bytes) -> np.ndarray:
    if offsets.shape[0] - 1 <= SMALL:
        return compare_with_const_numpy(offsets, data, bytes(const))
    out = np.empty(offsets.shape[0] - 1, np.int8)
    _jit(_compare_with_const)(offsets, data, np.frombuffer(bytes(const), np.uint8), out)
    return out


def compare_columns(a_offsets, a_data, b_offsets, b_data) -> np.ndarray:
    if a_offsets.shape[0] - 1 <= SMALL:
        return compare_columns_numpy(a_offsets, a_data, b_offsets, b_data)
    out = np.empty(a_offsets.shape[0] - 1, np.int8)
    _jit(_compare_columns)(a_offsets, a_data, b_offsets, b_data, out)
    return out


def equals_const(offsets: np.ndarray, data: np.ndarray, const: bytes) -> np.ndarray:
    if offsets.shape[0] - 1 <= SMALL:
        return equals_const_numpy(offsets, data, bytes(const))
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_equals_const)(offsets, data, np.frombuffer(bytes(const), np.uint8), out)
    return out


def in_sorted_set(offsets: np.ndarray, data: np.ndarray, values: list[bytes]) -> np.ndarray:
    """Bool per row: the row equals one of `values` (any order, duplicates allowed)."""
    uniq = sorted(set(values))
    set_offsets = np.zeros(len(uniq) + 1, np.int64)
    set_offsets[1:] = np.cumsum([len(v) for v in uniq])
    set_data = np.frombuffer(b"".join(uniq), np.uint8)
    if offsets.shape[0] - 1 <= SMALL:
        return in_sorted_set_numpy(offsets, data, set_offsets, set_data)
    out = np.empty(offsets.shape[0] - 1, np.bool_)
    _jit(_in_sorted_set)(offsets, data, set_offsets, set_data, out)
    return out
