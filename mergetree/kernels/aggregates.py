"""Grouped aggregate kernels over (ids, values): ids are group labels 0..G-1, -1 = skip the row.

Each kernel writes one value per group; its plain-numpy twin (``*_numpy``) computes the same with
ufunc.at / bincount and is compared with it on random arrays in the tests.

1. `grouped_count(ids, G)`: rows per group (uint64).
2. `grouped_sum(ids, values, G, acc_dtype)`: sum per group in int64 / uint64 (wrapping, as ClickHouse)
   or float64.
3. `grouped_arg_extreme(ids, keys, G, is_max)`: row index of the first minimum (maximum) key per
   group, -1 for an empty group; min/max/argMin/argMax of any type gather by these rows.
4. `grouped_first_last(ids, G, last)`: first (any) or last (anyLast) row of each group, -1 if none.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def _grouped_count(ids, n_groups):
    out = np.zeros(n_groups, np.uint64)
    for i in range(ids.shape[0]):
        g = ids[i]
        if g >= 0:
            out[g] += np.uint64(1)
    return out


def grouped_count(ids: np.ndarray, n_groups: int) -> np.ndarray:
    return _grouped_count(np.ascontiguousarray(ids, np.int64), int(n_groups))


def grouped_count_numpy(ids: np.ndarray, n_groups: int) -> np.ndarray:
    ids = np.asarray(ids, np.int64)
    return np.bincount(ids[ids >= 0], minlength=n_groups).astype(np.uint64)


@numba.njit(nogil=True, cache=True)
def _grouped_sum(ids, values, out):
    for i in range(ids.shape[0]):
        g = ids[i]
        if g >= 0:
            out[g] += values[i]
    return out


def grouped_sum(ids: np.ndarray, values: np.ndarray, n_groups: int, acc_dtype) -> np.ndarray:
    """Sum of values per group accumulated in acc_dtype (int64, uint64 or float64)."""
    out = np.zeros(n_groups, acc_dtype)
    return _grouped_sum(np.ascontiguousarray(ids, np.int64), np.ascontiguousarray(values).astype(acc_dtype, copy=False),
                        out)


def grouped_sum_numpy(ids: np.ndarray, values: np.ndarray, n_groups: int, acc_dtype) -> np.ndarray:
    ids = np.asarray(ids, np.int64)
    keep = ids >= 0
    out = np.zeros(n_groups, acc_dtype)
    np.add.at(out, ids[keep], np.asarray(values)[keep].astype(acc_dtype))
    return out


@numba.njit(nogil=True, cache=True)
def _grouped_arg_extreme(ids, keys, n_groups, is_max):
    rows = np.full(n_groups, -1, np.int64)
    for i in range(ids.shape[0]):
        g = ids[i]
        if g < 0:
            continue
        r = rows[g]
        if r == -1:
            rows[g] = i
        elif is_max:
            if keys[i] > keys[r]:
                rows[g] = i
        elif keys[i] < keys[r]:
            rows[g] = i
    return rows


def grouped_arg_extreme(ids: np.ndarray, keys: np.ndarray, n_groups: int, is_max: bool) -> np.ndarray:
    """Row of the first minimum (is_max: maximum) key of each group; -1 for an empty group."""
    return _grouped_arg_extreme(np.ascontiguousarray(ids, np.int64), np.ascontiguousarray(keys), int(n_groups),
                                bool(is_max))


def grouped_arg_extreme_numpy(ids: np.ndarray, keys: np.ndarray, n_groups: int, is_max: bool) -> np.ndarray:
    ids = np.asarray(ids, np.int64)
    keys = np.asarray(keys)
    rows = np.flatnonzero(ids >= 0)
    k = keys[rows]
    # sort by (group, key, row) with the key reversed for max; the first row per group wins
    order = np.lexsort((rows, -k.astype(np.float64) if is_max and k.dtype.kind == "f" else
                        (~k if is_max else k), ids[rows]))
    out = np.full(n_groups, -1, np.int64)
    g_sorted = ids[rows][order]
    first = np.ones(len(order), bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    out[g_sorted[first]] = rows[order][first]
    return out


@numba.njit(nogil=True, cache=True)
def _grouped_first_last(ids, n_groups, last):
    rows = np.full(n_groups, -1, np.int64)
    for i in range(ids.shape[0]):
        g = ids[i]
        if g >= 0 and (last or rows[g] == -1):
            rows[g] = i
    return rows


def grouped_first_last(ids: np.ndarray, n_groups: int, last: bool) -> np.ndarray:
    """First (last) row of each group, -1 for an empty group."""
    return _grouped_first_last(np.ascontiguousarray(ids, np.int64), int(n_groups), bool(last))


def grouped_first_last_numpy(ids: np.ndarray, n_groups: int, last: bool) -> np.ndarray:
    ids = np.asarray(ids, np.int64)
    out = np.full(n_groups, -1, np.int64)
    rows = np.flatnonzero(ids >= 0)
    if last:
        out[ids[rows]] = rows               # later assignments win
    else:
        out[ids[rows[::-1]]] = rows[::-1]
    return out
