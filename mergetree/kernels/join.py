"""Hash join kernels: build an open-addressing table on the right side's uint64 keys, probe it
with the left side's keys.

Keys are uint64 (one per row): a single numeric key column as `hashing.key_bits`, or for
String / multi-column / Nullable keys the group ids of both sides factorized together
(`groupby.group_rows`, which hashes strings over offsets + bytes). Rows with ``valid == False``
(a NULL key) never match, as in ClickHouse.

1. `build(keys, valid) -> HashTable`: slots hold a key and the first right row with it; `next_row`
   chains the rows of one key in increasing row order (insertion order, as ClickHouse's
   RowRefList), `slot_count` counts them.
2. `probe(table, keys, valid) -> (first, count)`: per left row the first matching right row (-1 if
   none) and the number of matches.
3. `expand(first, count, next_row) -> (left_rows, right_rows)`: every matching pair, ordered by
   left row then right row (ALL strictness).
4. `hash_join(lk, lv, rk, rv)`: 1-3 together. Twin: `hash_join_numpy` (stable sort + searchsorted).
5. `asof_match(...)`: per left row the closest right row of the same key whose asof value
   satisfies the inequality (binary search in the right rows sorted by (key, value)); among equal
   values the first row, as ClickHouse.
   Twin: `asof_match_numpy`.

All kernels are ``@njit(nogil=True, cache=True)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from mergetree.kernels.hashing import fmix64


class HashTable(NamedTuple):
    slot_key: np.ndarray     # uint64 per slot
    slot_head: np.ndarray    # int64 first right row per slot, -1 = empty slot
    slot_count: np.ndarray   # int64 rows per slot
    next_row: np.ndarray     # int64 per right row: the next row with the same key, -1 = last


@numba.njit(nogil=True, cache=True)
def _build(keys, valid, cap):
    mask = np.uint64(cap - 1)
    slot_key = np.zeros(cap, np.uint64)
    slot_head = np.full(cap, -1, np.int64)
    slot_count = np.zeros(cap, np.int64)
    next_row = np.full(keys.shape[0], -1, np.int64)
    for i in range(keys.shape[0] - 1, -1, -1):   # backwards: prepending keeps row order in chains
        if not valid[i]:
            continue
        k = keys[i]
        s = fmix64(k) & mask
        while slot_head[s] != -1 and slot_key[s] != k:
            s = (s + np.uint64(1)) & mask
        if slot_head[s] == -1:
            slot_key[s] = k
        next_row[i] = slot_head[s]
        slot_head[s] = i
        slot_count[s] += 1
    return slot_key, slot_head, slot_count, next_row


def build(keys: np.ndarray, valid: np.ndarray) -> HashTable:
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    cap = 16
    while cap < 2 * len(keys):
        cap <<= 1
    return HashTable(*_build(keys, valid, cap))


@numba.njit(nogil=True, cache=True)
def _probe(slot_key, slot_head, slot_count, keys, valid):
    mask = np.uint64(slot_key.shape[0] - 1)
    n = keys.shape[0]
    first = np.full(n, -1, np.int64)
    count = np.zeros(n, np.int64)
    for i in range(n):
        if not valid[i]:
            continue
        k = keys[i]
        s = fmix64(k) & mask
        while slot_head[s] != -1:
            if slot_key[s] == k:
                first[i] = slot_head[s]
                count[i] = slot_count[s]
                break
            s = (s + np.uint64(1)) & mask
    return first, count


def probe(table: HashTable, keys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    return _probe(table.slot_key, table.slot_head, table.slot_count, keys, valid)


@numba.njit(nogil=True, cache=True)
def _expand(first, count, next_row, total):
    li = np.empty(total, np.int64)
    ri = np.empty(total, np.int64)
    p = 0
    for i in range(first.shape[0]):
        r = first[i]
        while r != -1:
            li[p] = i
            ri[p] = r
            p += 1
            r = next_row[r]
    return li, ri


def expand(first: np.ndarray, count: np.ndarray, next_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _expand(first, count, next_row, int(count.sum()))


def hash_join(left_keys, left_valid, right_keys, right_valid) -> tuple[np.ndarray, np.ndarray]:
    """All (left row, right row) pairs with equal valid keys, by left row then right row."""
    table = build(right_keys, right_valid)
    first, count = probe(table, left_keys, left_valid)
    return expand(first, count, table.next_row)


def hash_join_numpy(left_keys, left_valid, right_keys, right_valid) -> tuple[np.ndarray, np.ndarray]:
    """Twin of hash_join."""
    rk = np.asarray(right_keys, np.uint64)
    rows = np.flatnonzero(np.asarray(right_valid, bool))
    order = rows[np.argsort(rk[rows], kind="stable")]
    sk = rk[order]
    lk = np.asarray(left_keys, np.uint64)
    lo = np.searchsorted(sk, lk, "left")
    hi = np.searchsorted(sk, lk, "right")
    cnt = np.where(np.asarray(left_valid, bool), hi - lo, 0)
    li = np.repeat(np.arange(len(lk), dtype=np.int64), cnt)
    starts = np.repeat(lo, cnt)
    within = np.arange(len(li), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return li, order[starts + within].astype(np.int64)


# --------------------------------------------------------------------------- ASOF

#: inequality codes of asof_match: left value OP right value
ASOF_OPS = {">=": 0, ">": 1, "<=": 2, "<": 3}


@numba.njit(nogil=True, cache=True)
def _asof(r_ids, r_vals, l_ids, l_vals, l_valid, op):
    """r_ids/r_vals sorted by (id, value); per left row the matching right position or -1."""
    n = l_ids.shape[0]
    out = np.full(n, -1, np.int64)
    m = r_ids.shape[0]
    for i in range(n):
        if not l_valid[i]:
            continue
        g = l_ids[i]
        # range of g in r_ids
        lo, hi = 0, m
        while lo < hi:
            mid = (lo + hi) >> 1
            if r_ids[mid] < g:
                lo = mid + 1
            else:
                hi = mid
        a = lo
        hi = m
        while lo < hi:
            mid = (lo + hi) >> 1
            if r_ids[mid] <= g:
                lo = mid + 1
            else:
                hi = mid
        b = lo
        if a == b:
            continue
        v = l_vals[i]
        # first position in [a, b) with r_vals > v (op 0: last <= v) or >= v (op 1: last < v)
        lo, hi = a, b
        if op == 0 or op == 3:
            while lo < hi:
                mid = (lo + hi) >> 1
                if r_vals[mid] <= v:
                    lo = mid + 1
                else:
                    hi = mid
        else:
            while lo < hi:
                mid = (lo + hi) >> 1
                if r_vals[mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
        if op == 0 or op == 1:      # left >= right / left > right: the largest right value below,
            if lo > a:              # its first row among equal values (ClickHouse: the first inserted)
                best = r_vals[lo - 1]
                x, y = a, lo - 1
                while x < y:
                    mid = (x + y) >> 1
                    if r_vals[mid] < best:
                        x = mid + 1
                    else:
                        y = mid
                out[i] = x
        else:                        # left <= right (lo: first >= v) / left < right (lo: first > v)
            if lo < b:
                out[i] = lo
    return out


def asof_match(left_ids, left_vals, left_valid, right_ids, right_vals, right_valid, op: str) -> np.ndarray:
    """Per left row the right row (-1: none) with the same id whose value is the closest one
    satisfying ``left_val OP right_val``. Values: int64 or float64 arrays (same dtype)."""
    rows = np.flatnonzero(np.asarray(right_valid, bool))
    order = rows[np.lexsort((right_vals[rows], right_ids[rows]))]
    pos = _asof(np.ascontiguousarray(right_ids[order], np.int64), np.ascontiguousarray(right_vals[order]),
                np.ascontiguousarray(left_ids, np.int64), np.ascontiguousarray(left_vals, right_vals.dtype),
                np.ascontiguousarray(left_valid, np.bool_), ASOF_OPS[op])
    return np.where(pos >= 0, order[np.maximum(pos, 0)] if len(order) else -1, -1).astype(np.int64)


def asof_match_numpy(left_ids, left_vals, left_valid, right_ids, right_vals, right_valid, op: str) -> np.ndarray:
    """Twin of asof_match (quadratic: for tests)."""
    out = np.full(len(left_ids), -1, np.int64)
    for i in range(len(left_ids)):
        if not left_valid[i]:
            continue
        ok = np.asarray(right_valid, bool) & (right_ids == left_ids[i])
        v = left_vals[i]
        ok &= {">=": v >= right_vals, ">": v > right_vals, "<=": v <= right_vals, "<": v < right_vals}[op]
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        vals = right_vals[cand]
        best = vals.max() if op in (">=", ">") else vals.min()
        sel = cand[vals == best]
        out[i] = sel[0]          # the first row among equal values
    return out


# --------------------------------------------------------------------------- hashed keys


@numba.njit(nogil=True, cache=True)
def _strings_equal_at(lo, ld, li, ro, rd, ri, out):
    for p in range(li.shape[0]):
        a0, a1 = lo[li[p]], lo[li[p] + 1]
        b0, b1 = ro[ri[p]], ro[ri[p] + 1]
        if a1 - a0 != b1 - b0:
            out[p] = False
            continue
        eq = True
        for k in range(a1 - a0):
            if ld[a0 + k] != rd[b0 + k]:
                eq = False
                break
        out[p] = eq


def strings_equal_at(left_offsets, left_data, li, right_offsets, right_data, ri) -> np.ndarray:
    """Per pair p: left string li[p] == right string ri[p] (byte compare; verifies hashed String keys)."""
    out = np.empty(len(li), np.bool_)
    _strings_equal_at(np.ascontiguousarray(left_offsets, np.int64), np.ascontiguousarray(left_data, np.uint8),
                      np.ascontiguousarray(li, np.int64), np.ascontiguousarray(right_offsets, np.int64),
                      np.ascontiguousarray(right_data, np.uint8), np.ascontiguousarray(ri, np.int64), out)
    return out


def strings_equal_at_numpy(left_offsets, left_data, li, right_offsets, right_data, ri) -> np.ndarray:
    """Twin of strings_equal_at."""
    def get(o, d, i):
        return bytes(d[o[i]:o[i + 1]])

    return np.array([get(left_offsets, left_data, a) == get(right_offsets, right_data, b) for a, b in zip(li, ri)],
                    np.bool_)


def combine_hashes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One 64-bit key from two (multi-column keys)."""
    from mergetree.kernels.hashing import hash_u64

    with np.errstate(over="ignore"):
        return hash_u64(a * np.uint64(0x9E3779B97F4A7C15) + b)
