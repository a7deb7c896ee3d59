"""Hashing kernels for group-by and distinct: 64-bit mixing of fixed-width keys.

1. `hash_u64(keys)`: murmur3's fmix64 finaliser over uint64 keys (every input bit reaches the low
   bits the hash tables use). Twin: `hash_u64_numpy`.
2. `key_bits(values)`: fixed-width numeric values -> uint64 keys with equal values <-> equal keys
   (ints sign-extended, floats with -0.0 == 0.0 and one NaN); numpy only, no kernel needed.

String keys are hashed by `mergetree.kernels.strings` (offsets + bytes), LowCardinality keys use
their dictionary codes directly (see `groupby.py`).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, inline="always")
def fmix64(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    h = h ^ (h >> np.uint64(33))
    return h


@numba.njit(nogil=True, cache=True)
def _hash_u64(keys, out):
    for i in range(keys.shape[0]):
        out[i] = fmix64(keys[i])


def hash_u64(keys: np.ndarray) -> np.ndarray:
    """fmix64 of every uint64 key."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    out = np.empty(len(keys), np.uint64)
    _hash_u64(keys, out)
    return out


def hash_u64_numpy(keys: np.ndarray) -> np.ndarray:
    """Twin of hash_u64."""
    h = np.asarray(keys, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return h


def key_bits(values: np.ndarray) -> np.ndarray:
    """uint64 keys of a 1-D numeric array: equal values (as ClickHouse groups them) -> equal keys."""
    v = np.asarray(values)
    if v.dtype.kind == "f":
        v = v.astype(np.float64)   # copy
        v[v == 0] = 0.0            # -0.0 groups with 0.0
        v[np.isnan(v)] = np.nan    # one NaN bit pattern
        return v.view(np.uint64)
    if v.dtype.kind == "i":
        return v.astype(np.int64).view(np.uint64)
    if v.dtype.kind in "ub":
        return v.astype(np.uint64)
    raise TypeError(f"key_bits: unsupported dtype {v.dtype}")
