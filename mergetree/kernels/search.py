"""String search and slicing kernels over (offsets, data) columns: position, trim, substring.

Kernels (numba, ``nogil=True, cache=True``) with plain-numpy twins ``*_numpy``:
1. `find_first(offsets, data, needle, out)`: 1-based byte position of the first occurrence of
   `needle` in each row, 0 when absent (an empty needle is found at 1).
2. `trim_bounds(offsets, data, left, right, start, end)`: the row range left after removing
   leading (`left`) and/or trailing (`right`) spaces.
3. `replace(offsets, data, needle, repl, first_only)`: replaceAll / replaceOne (two passes:
   sizes, then bytes).
4. `split(offsets, data, sep)`: the byte ranges of the pieces of every row (splitByChar /
   splitByString; an empty separator splits into single bytes, as ClickHouse).
`gather_ranges(data, start, end)` (numba byte copies; twin `gather_ranges_numpy`) builds the String
column of data[start:end] per row.
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


def gather_ranges_numpy(data: np.ndarray, start: np.ndarray, end: np.ndarray):
    """Twin of `gather_ranges`: one int64 source index per output byte (repeat + arange)."""
    lens = np.maximum(end - start, 0)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    src = np.arange(total, dtype=np.int64) + np.repeat(start - offsets[:-1], lens)
    return offsets, data[src]


def _gather_ranges(data, start, offsets, out):
    for i in range(start.shape[0]):
        o = offsets[i]
        n = offsets[i + 1] - o
        s = start[i]
        for j in range(n):         # a byte loop beats slice copies for short values (JSON fields)
            out[o + j] = data[s + j]


def gather_ranges(data: np.ndarray, start: np.ndarray, end: np.ndarray):
    """(offsets, data) of the byte ranges data[start[i]:end[i]] (empty when end <= start): byte
    copies in a numba loop, without the 8-byte index per output byte of the numpy twin."""
    if len(start) <= SMALL:
        return gather_ranges_numpy(data, start, end)
    start = np.ascontiguousarray(start, np.int64)
    lens = np.maximum(np.asarray(end, np.int64) - start, 0)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    out = np.empty(int(offsets[-1]), data.dtype)
    _jit(_gather_ranges)(np.ascontiguousarray(data), start, offsets, out)
    return offsets, out


# --------------------------------------------------------------------------- replace / split
# Twins: `replace_reference` / `split_reference` (Python bytes.replace / bytes.split per row),
# used by the tests.


def _replace(offsets, data, needle, repl, first_only, out_offsets, out, count_only):
    k = needle.shape[0]
    r = repl.shape[0]
    w = 0
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        p = a
        done = False
        while p < b:
            if not done and k > 0 and p + k <= b and data[p] == needle[0]:
                same = True
                for j in range(1, k):
                    if data[p + j] != needle[j]:
                        same = False
                        break
                if same:
                    if not count_only:
                        for j in range(r):
                            out[w + j] = repl[j]
                    w += r
                    p += k
                    if first_only:
                        done = True
                    continue
            if not count_only:
                out[w] = data[p]
            w += 1
            p += 1
        out_offsets[i + 1] = w


def replace_reference(items: list[bytes], needle: bytes, repl: bytes, first_only: bool) -> list[bytes]:
    if not needle:
        return list(items)
    return [x.replace(needle, repl, 1 if first_only else -1) for x in items]


def replace(offsets, data, needle: bytes, repl: bytes, first_only: bool):
    """(offsets, data) with non-overlapping occurrences of `needle` replaced, left to right."""
    n = offsets.shape[0] - 1
    nd = np.frombuffer(bytes(needle), np.uint8)
    rp = np.frombuffer(bytes(repl), np.uint8)
    out_offsets = np.zeros(n + 1, np.int64)
    if n <= SMALL:
        items = [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(n)]
        res = replace_reference(items, bytes(needle), bytes(repl), first_only)
        out_offsets[1:] = np.cumsum([len(x) for x in res])
        return out_offsets, np.frombuffer(b"".join(res), np.uint8).copy()
    kernel = _jit(_replace)
    kernel(offsets, data, nd, rp, first_only, out_offsets, np.empty(0, np.uint8), True)
    out = np.empty(int(out_offsets[-1]), np.uint8)
    kernel(offsets, data, nd, rp, first_only, out_offsets, out, False)
    return out_offsets, out


def _split(offsets, data, sep, piece_start, piece_end, row_pieces, count_only):
    """Pieces of every row between occurrences of `sep` (empty sep: one byte each)."""
    k = sep.shape[0]
    m = 0
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        b = offsets[i + 1]
        before = m
        if k == 0:  # observed: one piece per byte
            for p in range(a, b):
                if not count_only:
                    piece_start[m] = p
                    piece_end[m] = p + 1
                m += 1
        else:
            s = a
            p = a
            while p + k <= b:
                same = True
                for j in range(k):
                    if data[p + j] != sep[j]:
                        same = False
                        break
                if same:
                    if not count_only:
                        piece_start[m] = s
                        piece_end[m] = p
                    m += 1
                    p += k
                    s = p
                else:
                    p += 1
            if not count_only:
                piece_start[m] = s
                piece_end[m] = b
            m += 1
        row_pieces[i] = m - before


def split_reference(items: list[bytes], sep: bytes) -> list[list[bytes]]:
    if not sep:
        return [[x[k:k + 1] for k in range(len(x))] for x in items]
    return [x.split(sep) for x in items]


def split(offsets, data, sep: bytes):
    """(pieces per row, piece start, piece end) byte ranges of `data`."""
    n = offsets.shape[0] - 1
    sp = np.frombuffer(bytes(sep), np.uint8)
    row_pieces = np.zeros(n, np.int64)
    kernel = _jit(_split)
    kernel(offsets, data, sp, np.empty(0, np.int64), np.empty(0, np.int64), row_pieces, True)
    total = int(row_pieces.sum())
    starts = np.empty(total, np.int64)
    ends = np.empty(total, np.int64)
    kernel(offsets, data, sp, starts, ends, row_pieces, False)
    return row_pieces, starts, ends
