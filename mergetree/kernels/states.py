"""Kernels of aggregate states (mergetree/functions/aggregate/states.py).

1. `distinct_pairs(gids, hashes)`: a keep mask marking the first occurrence of every distinct
   (group id, 64-bit hash) pair: the union of uniq states (hash sets) per group, in one pass over
   an open-addressing table (no sort). Twin: `distinct_pairs_numpy`.
2. `combine_hashes(a, b)`: the hash of a pair of hashes (uniq over several arguments).
"""

from __future__ import annotations

import numba
import numpy as np

from mergetree.kernels.hashing import fmix64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(nogil=True, cache=True)
def _distinct_pairs(gids, hashes, keep):
    n = gids.shape[0]
    size = 16
    while size < 2 * n:
        size *= 2
    mask = np.uint64(size - 1)
    tab_g = np.full(size, -1, np.int64)
    tab_h = np.zeros(size, np.uint64)
    for i in range(n):
        g = gids[i]
        h = hashes[i]
        slot = fmix64(h ^ (np.uint64(g) * _GOLDEN)) & mask
        while True:
            tg = tab_g[slot]
            if tg == -1:
                tab_g[slot] = g
                tab_h[slot] = h
                keep[i] = True
                break
            if tg == g and tab_h[slot] == h:
                break
            slot = (slot + np.uint64(1)) & mask


@numba.njit(nogil=True, cache=True)
def _distinct_by_group(gids, hashes, n_groups, keep):
    """Counting sort of the rows by group, then one small (cache-resident) hash set per group."""
    n = gids.shape[0]
    counts = np.zeros(n_groups + 1, np.int64)
    for i in range(n):
        counts[gids[i] + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    pos = counts[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        g = gids[i]
        order[pos[g]] = i
        pos[g] += 1
    biggest = 0
    for g in range(n_groups):
        biggest = max(biggest, counts[g + 1] - counts[g])
    size = 16
    while size < 2 * biggest:
        size *= 2
    table = np.zeros(size, np.uint64)
    used = np.zeros(size, np.bool_)
    for g in range(n_groups):
        a, b = counts[g], counts[g + 1]
        if b == a:
            continue
        sz = 16
        while sz < 2 * (b - a):
            sz *= 2
        mask = np.uint64(sz - 1)
        for k in range(a, b):
            i = order[k]
            h = hashes[i]
            slot = fmix64(h) & mask
            while True:
                if not used[slot]:
                    used[slot] = True
                    table[slot] = h
                    keep[i] = True
                    break
                if table[slot] == h:
                    break
                slot = (slot + np.uint64(1)) & mask
        used[:sz] = False


def distinct_pairs(gids: np.ndarray, hashes: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """Keep mask of the first row of every distinct (group, hash); `n_groups` (ids in [0, n_groups))
    selects the per-group kernel, much faster when groups are many rows each."""
    keep = np.zeros(len(gids), np.bool_)
    if len(gids):
        gids = np.ascontiguousarray(gids, np.int64)
        hashes = np.ascontiguousarray(hashes, np.uint64)
        if n_groups is not None and n_groups <= len(gids):
            _distinct_by_group(gids, hashes, n_groups, keep)
        else:
            _distinct_pairs(gids, hashes, keep)
    return keep


def distinct_pairs_numpy(gids: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    keep = np.zeros(len(gids), np.bool_)
    if len(gids):
        pairs = np.stack([np.asarray(gids, np.int64).view(np.uint64), np.asarray(hashes, np.uint64)], axis=1)
        _, first = np.unique(pairs, axis=0, return_index=True)
        keep[first] = True
    return keep


@numba.njit(nogil=True, cache=True)
def _combine(a, b, out):
    for i in range(a.shape[0]):
        out[i] = fmix64(a[i] ^ (b[i] * _GOLDEN + np.uint64(0x632BE59BD9B4E019)))


def combine_hashes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(len(a), np.uint64)
    if len(a):
        _combine(np.ascontiguousarray(a, np.uint64), np.ascontiguousarray(b, np.uint64), out)
    return out


@numba.njit(nogil=True, cache=True)
def _mixed_groups(gids, src, n_groups, mixed):
    first = np.full(n_groups, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64)
    for i in range(gids.shape[0]):
        g = gids[i]
        if first[g] == np.uint64(0xFFFFFFFFFFFFFFFF):
            first[g] = src[i]
        elif first[g] != src[i]:
            mixed[g] = True


def mixed_groups(gids: np.ndarray, src: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: True when its rows come from more than one source value (`src` ids)."""
    mixed = np.zeros(n_groups, np.bool_)
    if len(gids):
        _mixed_groups(np.ascontiguousarray(gids, np.int64), np.ascontiguousarray(src, np.uint64), n_groups, mixed)
    return mixed


def mixed_groups_numpy(gids: np.ndarray, src: np.ndarray, n_groups: int) -> np.ndarray:
    lo = np.full(n_groups, np.iinfo(np.uint64).max, np.uint64)
    hi = np.zeros(n_groups, np.uint64)
    np.minimum.at(lo, gids, src)
    np.maximum.at(hi, gids, src)
    return (hi > lo) & (hi >= lo)


@numba.njit(nogil=True, cache=True)
def _counting_order(gids, n_groups, counts, order):
    for i in range(gids.shape[0]):
        counts[gids[i] + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    pos = counts[:-1].copy()
    for i in range(gids.shape[0]):
        g = gids[i]
        order[pos[g]] = i
        pos[g] += 1


def counting_order(gids: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(stable order of the rows by group id in [0, n_groups), offsets of each group: n_groups + 1)."""
    counts = np.zeros(n_groups + 1, np.int64)
    order = np.empty(len(gids), np.int64)
    if len(gids):
        _counting_order(np.ascontiguousarray(gids, np.int64), n_groups, counts, order)
    return order, counts


def counting_order_numpy(gids: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(gids, kind="stable").astype(np.int64)
    counts = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(gids, minlength=n_groups), out=counts[1:])
    return order, counts
